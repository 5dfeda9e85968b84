//! Purchase order → X12 850 / EDIFACT ORDERS, as ordo (the buyer) sends it to a supplier; and
//! the same purchase order as a CSV file for suppliers without EDI.
//!
//! X12 850: BEG (00 original, NE new order, BEG03 the PO number, BEG05 its date), CUR when a
//! currency is given, DTM 002 (delivery requested: the PO's expected date), N1 BY (us) and
//! SE (the supplier) with N3/N4, one PO1 per line (PO102 quantity, PO103 unit, PO106/107 `VP`
//! the SKU: our item number is what the supplier answers with in 855 ACK / 856 LIN), CTT.
//!
//! EDIFACT ORDERS: BGM 220 (order) with the PO number and 9 (original), DTM 137 (document
//! date) and 2 (delivery requested), NAD BY/SU, CUX, per line LIN (the SKU, `SA`) and QTY 21,
//! UNS, CNT 2 (number of lines).
//!
//! Both go out through [`crate::write::write`] with the supplier's envelope, so version and
//! separators are the profile's, as for what we send customers.

use chrono::NaiveDate;
use ordo_contract::{Party, PurchaseOrder};

use super::x12_out::n1_loop;
use super::{cut, edifact_agency, edifact_role, first_id};
use crate::error::EdiError;
use crate::values::fmt_decimal;
use crate::write::{Document, OutSegment};

/// What a purchase order document carries besides the stored PO.
#[derive(Debug, Clone)]
pub struct PurchaseParties<'a> {
    /// We, the buyer (the company profile's party, role `buyer`).
    pub buyer: &'a Party,
    /// The supplier (role `seller`).
    pub supplier: &'a Party,
    /// ISO 4217; absent: none stated (the supplier's price list applies).
    pub currency: Option<&'a str>,
    /// The unit of each line's SKU (master data `uom`); a SKU absent here is `EA`.
    pub units: &'a std::collections::BTreeMap<String, String>,
}

/// The line's unit as ordo writes units (`ordo_contract::master::canonical_unit`: `KGM` →
/// `KG`); absent: an item without a unit in master data is counted in pieces.
fn unit(p: &PurchaseParties<'_>, sku: &str) -> String {
    p.units
        .get(sku)
        .map(|u| ordo_contract::master::canonical_unit(u))
        .unwrap_or_else(|| "EA".into())
}

/// X12 355 codes are two characters: the one-letter canonical units get theirs.
fn x12_unit(p: &PurchaseParties<'_>, sku: &str) -> String {
    x12_unit_code(&unit(p, sku))
}

/// A unit as ordo writes units → its X12 355 code: the one-letter canonical units get their
/// two-character code, any other is written as it is (the quote's 843 uses it too).
pub(crate) fn x12_unit_code(u: &str) -> String {
    match u {
        "M" => "MR".into(),
        "L" => "LT".into(),
        "G" => "GR".into(),
        "H" => "HR".into(),
        _ => u.to_string(),
    }
}

fn check(po: &PurchaseOrder, what: &str) -> Result<(), EdiError> {
    if po.lines.is_empty() {
        return Err(EdiError::Write {
            what: format!("{what} for purchase order {}", po.number),
            reason: "no lines".into(),
        });
    }
    if let Some(l) = po
        .lines
        .iter()
        .find(|l| l.quantity <= rust_decimal::Decimal::ZERO)
    {
        return Err(EdiError::Write {
            what: format!("{what} for purchase order {}", po.number),
            reason: format!("line {} has quantity {}", l.sku, l.quantity),
        });
    }
    Ok(())
}

fn d8(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// X12 850 for a purchase order to its supplier.
pub fn purchase_to_850(po: &PurchaseOrder, p: &PurchaseParties<'_>) -> Result<Document, EdiError> {
    check(po, "850")?;
    let mut segs = vec![
        OutSegment::new("BEG")
            .el("00")
            .el("NE")
            .el(cut(&po.number, 22))
            .el("")
            .el(d8(po.created_on)),
    ];
    if let Some(c) = p.currency {
        segs.push(OutSegment::new("CUR").el("BY").el(c));
    }
    segs.push(OutSegment::new("DTM").el("002").el(d8(po.expected_on)));
    for party in [p.buyer, p.supplier] {
        n1_loop(party, &mut segs);
    }
    for (i, l) in po.lines.iter().enumerate() {
        segs.push(
            OutSegment::new("PO1")
                .el((i + 1).to_string())
                .el(fmt_decimal(l.quantity))
                .el(x12_unit(p, &l.sku))
                .el("")
                .el("")
                .el("VP")
                .el(cut(&l.sku, 48)),
        );
    }
    segs.push(OutSegment::new("CTT").el(po.lines.len().to_string()));
    Ok(Document {
        set_id: "850".into(),
        version: None,
        segments: segs,
    })
}

fn dtm(q: &str, d: NaiveDate) -> OutSegment {
    OutSegment::new("DTM").comp([q.to_string(), d8(d), "102".into()])
}

fn nad(p: &Party) -> OutSegment {
    let id = first_id(p)
        .map(|i| {
            vec![
                cut(&i.value, 35),
                String::new(),
                edifact_agency(&i.qualifier).to_string(),
            ]
        })
        .unwrap_or_else(|| vec![String::new()]);
    let name = p.name.as_deref().map(|n| cut(n, 35)).unwrap_or_default();
    OutSegment::new("NAD")
        .el(edifact_role(&p.role))
        .comp(id)
        .el("")
        .comp([name])
}

/// EDIFACT ORDERS for a purchase order to its supplier.
pub fn purchase_to_orders(
    po: &PurchaseOrder,
    p: &PurchaseParties<'_>,
) -> Result<Document, EdiError> {
    check(po, "ORDERS")?;
    let mut segs = vec![
        OutSegment::new("BGM")
            .el("220")
            .el(cut(&po.number, 35))
            .el("9"),
        dtm("137", po.created_on),
        dtm("2", po.expected_on),
        nad(p.buyer),
        nad(p.supplier),
    ];
    if let Some(c) = p.currency {
        segs.push(OutSegment::new("CUX").comp(["2", c, "9"]));
    }
    for (i, l) in po.lines.iter().enumerate() {
        segs.push(
            OutSegment::new("LIN")
                .el((i + 1).to_string())
                .el("")
                .comp([cut(&l.sku, 35), "SA".into()]),
        );
        segs.push(OutSegment::new("QTY").comp([
            "21".to_string(),
            fmt_decimal(l.quantity),
            unit(p, &l.sku),
        ]));
    }
    segs.push(OutSegment::new("UNS").el("S"));
    segs.push(OutSegment::new("CNT").comp(["2".to_string(), po.lines.len().to_string()]));
    Ok(Document {
        set_id: "ORDERS".into(),
        version: None,
        segments: segs,
    })
}

/// The purchase order as CSV (`po,line,sku,quantity,unit,expected_on,location`), for a
/// supplier whose profile says `format: csv`. Fields are quoted when they hold a comma, a
/// quote or a line break (RFC 4180), so a SKU cannot break the file's columns.
pub fn purchase_to_csv(po: &PurchaseOrder, p: &PurchaseParties<'_>) -> Result<String, EdiError> {
    check(po, "CSV")?;
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let mut out = String::from("po,line,sku,quantity,unit,expected_on,location\n");
    for (i, l) in po.lines.iter().enumerate() {
        let row = [
            field(&po.number),
            (i + 1).to_string(),
            field(&l.sku),
            fmt_decimal(l.quantity),
            field(&unit(p, &l.sku)),
            po.expected_on.to_string(),
            field(po.location.as_deref().unwrap_or("main")),
        ];
        out.push_str(&row.join(","));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ordo_contract::{PartyId, PurchaseLine};
    use rust_decimal::dec;

    pub(crate) fn sample() -> PurchaseOrder {
        PurchaseOrder {
            number: "PO-000007".into(),
            supplier: "S1".into(),
            status: "open".into(),
            created_on: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            expected_on: NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
            lines: vec![
                PurchaseLine {
                    sku: "GADGET".into(),
                    quantity: dec!(50),
                    received: dec!(0),
                    orders: vec!["A".into()],
                },
                PurchaseLine {
                    sku: "WID,GET".into(),
                    quantity: dec!(2.5),
                    received: dec!(0),
                    orders: vec![],
                },
            ],
            waiting: vec![],
            receipts: vec![],
            location: None,
        }
    }

    fn party(role: &str, name: &str) -> Party {
        Party {
            role: role.into(),
            name: Some(name.into()),
            ids: vec![PartyId {
                qualifier: "GLN".into(),
                value: "4012345000009".into(),
            }],
            address: None,
        }
    }

    #[test]
    fn a_purchase_order_maps_to_850_orders_and_csv() {
        let (b, s) = (party("buyer", "Ordo GmbH"), party("seller", "Supplier One"));
        let units = [("GADGET".to_string(), "PCE".to_string())].into();
        let p = PurchaseParties {
            buyer: &b,
            supplier: &s,
            currency: Some("EUR"),
            units: &units,
        };
        let po = sample();
        let d = purchase_to_850(&po, &p).unwrap();
        let tags: Vec<&str> = d.segments.iter().map(|s| s.tag).collect();
        assert_eq!(tags, ["BEG", "CUR", "DTM", "N1", "N1", "PO1", "PO1", "CTT"]);
        let d = purchase_to_orders(&po, &p).unwrap();
        assert_eq!(d.set_id, "ORDERS");
        assert_eq!(d.segments.iter().filter(|s| s.tag == "LIN").count(), 2);
        let csv = purchase_to_csv(&po, &p).unwrap();
        assert_eq!(
            csv,
            "po,line,sku,quantity,unit,expected_on,location\n\
             PO-000007,1,GADGET,50,EA,2026-12-08,main\n\
             PO-000007,2,\"WID,GET\",2.5,EA,2026-12-08,main\n"
        );
        let mut empty = po.clone();
        empty.lines.clear();
        assert!(purchase_to_850(&empty, &p).is_err());
    }
}
