//! Order → 855, Shipment + Order → 856 (HL S/O/P/I, SSCC in MAN*GM), Invoice + Order → 810
//! (TDS in cents, equal to the invoice total); a credit note → 810 credit memo (BIG07 `CR`).

use chrono::NaiveDate;
use ordo_contract::{Invoice, Order, Party, Shipment};
use rust_decimal::Decimal;

use super::{cut, first_id, x12_qualifier, x12_role};
use crate::error::EdiError;
use crate::values::{fmt_decimal, fmt_money};
use crate::write::{Document, OutSegment};

fn d8(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// N1/N3/N4 for a party.
pub(crate) fn n1_loop(p: &Party, segs: &mut Vec<OutSegment>) {
    let mut n1 = OutSegment::new("N1")
        .el(x12_role(&p.role))
        // absent: N102 is optional when N103/N104 identify the party.
        .el(cut(p.name.as_deref().unwrap_or(""), 60));
    if let Some(id) = first_id(p) {
        n1 = n1.el(x12_qualifier(&id.qualifier)).el(cut(&id.value, 80));
    }
    segs.push(n1);
    if let Some(a) = &p.address {
        for pair in a.lines.chunks(2) {
            let mut n3 = OutSegment::new("N3");
            for l in pair {
                n3 = n3.el(cut(l, 55));
            }
            segs.push(n3);
        }
        if a.city.is_some() || a.postal_code.is_some() {
            segs.push(
                OutSegment::new("N4")
                    // absent: N401-N404 are optional elements; an empty one is written as nothing.
                    .el(a.city.clone().unwrap_or_default())
                    .el(a.region.clone().unwrap_or_default())
                    .el(a.postal_code.clone().unwrap_or_default())
                    .el(a.country.clone().unwrap_or_default()),
            );
        }
    }
}

/// 855 purchase order acknowledgment: every line acknowledged as ordered (ACK IA).
pub fn order_to_855(order: &Order, ack_date: NaiveDate) -> Document {
    order_to_855_promised(order, ack_date, &Promises::new())
}

/// The promised ship date of each order line (line number → date; `None`: no date can be
/// promised), as available-to-promise decided it.
pub type Promises = std::collections::BTreeMap<u32, Option<NaiveDate>>;

/// 855 with the promise of each line in `promised`: ACK IA with the current schedule ship
/// date (ACK04 `068`, ACK05), or ACK IB (backordered) when no date can be promised. Lines not
/// in `promised` are acknowledged as [`order_to_855`] does.
pub fn order_to_855_promised(order: &Order, ack_date: NaiveDate, promised: &Promises) -> Document {
    let mut segs = vec![
        OutSegment::new("BAK")
            .el("00")
            .el("AD")
            .el(cut(&order.po_number, 22))
            .el(d8(order.order_date))
            .skip(3)
            .el(cut(&order.id, 30))
            .el(d8(ack_date)),
        OutSegment::new("CUR").el("SE").el(order.currency.clone()),
    ];
    for p in &order.parties {
        n1_loop(p, &mut segs);
    }
    for l in &order.lines {
        let mut po1 = OutSegment::new("PO1")
            .el(l.line_no.to_string())
            .el(fmt_decimal(l.quantity))
            .el(l.uom.clone())
            // absent: PO104 is optional; the order had no price to acknowledge.
            .el(l.unit_price.map(fmt_decimal).unwrap_or_default())
            .el("")
            .el("VP")
            .el(l.sku.clone());
        if let Some(bp) = &l.buyer_part {
            po1 = po1.el("BP").el(bp.clone());
        }
        segs.push(po1);
        if let Some(d) = &l.description {
            segs.push(OutSegment::new("PID").el("F").skip(3).el(cut(d, 80)));
        }
        let ack = match promised.get(&l.line_no) {
            Some(Some(d)) => OutSegment::new("ACK")
                .el("IA")
                .el(fmt_decimal(l.quantity))
                .el(l.uom.clone())
                .el("068")
                .el(d8(*d)),
            Some(None) => OutSegment::new("ACK")
                .el("IB")
                .el(fmt_decimal(l.quantity))
                .el(l.uom.clone()),
            None => OutSegment::new("ACK")
                .el("IA")
                .el(fmt_decimal(l.quantity))
                .el(l.uom.clone()),
        };
        segs.push(ack);
    }
    segs.push(OutSegment::new("CTT").el(order.lines.len().to_string()));
    Document {
        set_id: "855".into(),
        version: None,
        segments: segs,
    }
}

/// 856 ship notice, pick-and-pack: HL S (shipment) > O (order) > P (package, SSCC) > I (item).
pub fn shipment_to_856(s: &Shipment, order: &Order) -> Result<Document, EdiError> {
    if s.packages.is_empty() {
        return Err(EdiError::Write {
            what: format!("856 for shipment {}", s.id),
            reason: "no packages".into(),
        });
    }
    let total: Decimal = s.packages.iter().map(|p| p.weight_kg).sum();
    let mut segs = vec![
        OutSegment::new("BSN")
            .el("00")
            .el(cut(&s.id, 30))
            .el(d8(s.ship_date))
            .el("0000")
            .el("0001"),
        OutSegment::new("DTM").el("011").el(d8(s.ship_date)),
        OutSegment::new("HL").el("1").el("").el("S").el("1"),
        OutSegment::new("TD1")
            .el("CTN")
            .el(s.packages.len().to_string())
            .skip(3)
            .el("G")
            .el(fmt_decimal(total))
            .el("KG"),
        OutSegment::new("TD5")
            .el("B")
            .el("2")
            .el(cut(&s.carrier, 80))
            .el("")
            .el(cut(&s.service, 35)),
        OutSegment::new("REF")
            .el("CN")
            .el(cut(&s.tracking_number, 30)),
    ];
    if let Some(p) = s.ship_to.as_ref().or_else(|| order.party("ship_to")) {
        n1_loop(p, &mut segs);
    }
    segs.push(OutSegment::new("HL").el("2").el("1").el("O").el("1"));
    segs.push(
        OutSegment::new("PRF")
            .el(cut(&order.po_number, 22))
            .skip(2)
            .el(d8(order.order_date)),
    );
    let mut hl = 2u32;
    for pkg in &s.packages {
        hl += 1;
        let parent = hl;
        segs.push(
            OutSegment::new("HL")
                .el(hl.to_string())
                .el("2")
                .el("P")
                .el(if pkg.lines.is_empty() { "0" } else { "1" }),
        );
        segs.push(
            OutSegment::new("TD1")
                .el("CTN")
                .el("1")
                .skip(3)
                .el("G")
                .el(fmt_decimal(pkg.weight_kg))
                .el("KG"),
        );
        segs.push(OutSegment::new("MAN").el("GM").el(pkg.sscc.clone()));
        for l in &pkg.lines {
            hl += 1;
            segs.push(
                OutSegment::new("HL")
                    .el(hl.to_string())
                    .el(parent.to_string())
                    .el("I")
                    .el("0"),
            );
            let mut lin = OutSegment::new("LIN")
                .el(l.line_no.to_string())
                .el("VP")
                .el(l.sku.clone());
            if let Some(bp) = order
                .lines
                .iter()
                .find(|o| o.line_no == l.line_no)
                .and_then(|o| o.buyer_part.clone())
            {
                lin = lin.el("BP").el(bp);
            }
            segs.push(lin);
            segs.push(
                OutSegment::new("SN1")
                    .el("")
                    .el(fmt_decimal(l.quantity))
                    .el(l.uom.clone()),
            );
        }
    }
    segs.push(OutSegment::new("CTT").el(hl.to_string()));
    Ok(Document {
        set_id: "856".into(),
        version: None,
        segments: segs,
    })
}

/// Cents of an amount for an N2 element; the amount must be exact to the cent.
pub(crate) fn cents(v: Decimal, what: &str) -> Result<String, EdiError> {
    let c = v * Decimal::ONE_HUNDRED;
    if c.fract() != Decimal::ZERO {
        return Err(EdiError::Write {
            what: what.into(),
            reason: format!("{v} is not a whole number of cents"),
        });
    }
    Ok(c.trunc().to_string())
}

/// 810 invoice. Refuses an invoice whose totals do not add up.
pub fn invoice_to_810(inv: &Invoice, order: &Order) -> Result<Document, EdiError> {
    write_810(inv, order, None)
}

/// A credit note as an 810 credit memo: the invoice's 810 (one mapping) with BIG07 `CR`
/// (transaction type: credit memo) and `REF*OI` naming the invoice it corrects. Amounts are
/// written positive: BIG07 gives them their sign.
pub fn credit_memo_to_810(
    credit_note: &Invoice,
    corrects: &str,
    order: &Order,
) -> Result<Document, EdiError> {
    write_810(credit_note, order, Some(corrects))
}

fn write_810(inv: &Invoice, order: &Order, corrects: Option<&str>) -> Result<Document, EdiError> {
    let what = if corrects.is_some() {
        "810 credit memo for credit note"
    } else {
        "810 for invoice"
    };
    inv.check_totals().map_err(|r| EdiError::Write {
        what: format!("{what} {}", inv.number),
        reason: r,
    })?;
    let mut big = OutSegment::new("BIG")
        .el(d8(inv.issue_date))
        .el(cut(&inv.number, 22))
        .el("")
        .el(cut(&order.po_number, 22));
    if corrects.is_some() {
        // BIG05 release number and BIG06 change sequence are not used.
        big = big.el("").el("").el("CR");
    }
    let mut segs = vec![
        big,
        OutSegment::new("CUR").el("SE").el(inv.currency.clone()),
    ];
    if let Some(original) = corrects {
        segs.push(OutSegment::new("REF").el("OI").el(cut(original, 30)));
    }
    for p in &order.parties {
        n1_loop(p, &mut segs);
    }
    let t = &inv.terms;
    let mut itd = OutSegment::new("ITD").el("01").el("3");
    if t.discount_percent > Decimal::ZERO {
        itd = itd
            .el(fmt_decimal(t.discount_percent))
            .el("")
            .el(t.discount_days.to_string());
    } else {
        itd = itd.skip(3);
    }
    segs.push(itd.el("").el(t.net_days.to_string()));
    segs.push(OutSegment::new("DTM").el("011").el(d8(inv.issue_date)));
    for l in &inv.lines {
        segs.push(
            OutSegment::new("IT1")
                .el(l.line_no.to_string())
                .el(fmt_decimal(l.quantity))
                .el(l.uom.clone())
                .el(fmt_decimal(l.unit_price))
                .el("")
                .el("VP")
                .el(l.sku.clone()),
        );
        segs.push(
            OutSegment::new("TXI")
                .el("VA")
                .el(fmt_money(l.tax_amount))
                .el(fmt_decimal(l.tax_rate)),
        );
        if let Some(d) = &l.description {
            segs.push(OutSegment::new("PID").el("F").skip(3).el(cut(d, 80)));
        }
    }
    segs.push(
        OutSegment::new("TDS")
            .el(cents(inv.total, "TDS01")?)
            .el(cents(inv.net_total, "TDS02")?),
    );
    segs.push(OutSegment::new("TXI").el("VA").el(fmt_money(inv.tax_total)));
    segs.push(OutSegment::new("CTT").el(inv.lines.len().to_string()));
    Ok(Document {
        set_id: "810".into(),
        version: None,
        segments: segs,
    })
}
