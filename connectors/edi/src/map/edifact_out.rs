//! Order → ORDRSP, Shipment + Order → DESADV (CPS/PAC/PCI/GIN with the SSCC), Invoice + Order
//! → INVOIC (MOA totals equal to the invoice's, tax per rate); a credit note → INVOIC 381.

use chrono::NaiveDate;
use ordo_contract::{Invoice, Order, Party, Shipment};
use rust_decimal::Decimal;

use super::{cut, edifact_agency, edifact_role, first_id};
use crate::error::EdiError;
use crate::values::{fmt_decimal, fmt_money};
use crate::write::{Document, OutSegment};

fn dtm(q: &str, d: NaiveDate) -> OutSegment {
    OutSegment::new("DTM").comp([q.to_string(), d.format("%Y%m%d").to_string(), "102".into()])
}

pub(crate) fn nad(p: &Party) -> OutSegment {
    let (id, agency) = match first_id(p) {
        Some(i) => (cut(&i.value, 35), edifact_agency(&i.qualifier).to_string()),
        None => (String::new(), String::new()),
    };
    // Name and address are optional in NAD (C080, C059, 3164-3207): an absent part is an empty element, which the writer drops at the end of the segment.
    let name = p.name.as_deref().map(|n| cut(n, 35)).unwrap_or_default();
    let a = p.address.clone().unwrap_or_default();
    let lines: Vec<String> = a.lines.iter().take(4).map(|l| cut(l, 35)).collect();
    let has_id = !id.is_empty();
    OutSegment::new("NAD")
        .el(edifact_role(&p.role))
        .comp(if has_id {
            vec![id, String::new(), agency]
        } else {
            vec![String::new()]
        })
        .el("")
        .comp([name])
        .comp(lines)
        .el(a.city.map(|c| cut(&c, 35)).unwrap_or_default())
        .el(a.region.map(|c| cut(&c, 9)).unwrap_or_default())
        .el(a.postal_code.map(|c| cut(&c, 9)).unwrap_or_default())
        .el(a.country.unwrap_or_default())
}

fn parties(order: &Order, segs: &mut Vec<OutSegment>) {
    for p in &order.parties {
        if first_id(p).is_some() || p.name.is_some() {
            segs.push(nad(p));
        }
    }
}

/// ORDRSP: order accepted without amendment (BGM 1225 = 29), each line echoed.
pub fn order_to_ordrsp(order: &Order, date: NaiveDate) -> Document {
    order_to_ordrsp_promised(order, date, &super::x12_out::Promises::new())
}

/// ORDRSP with each promised line's date: `DTM+69` (delivery date/time, promised for) after
/// its quantity. A line with no date gets none; lines not in `promised` as
/// [`order_to_ordrsp`].
pub fn order_to_ordrsp_promised(
    order: &Order,
    date: NaiveDate,
    promised: &super::x12_out::Promises,
) -> Document {
    let mut segs = vec![
        OutSegment::new("BGM")
            .el("231")
            .el(cut(&order.po_number, 35))
            .el("29"),
        dtm("137", date),
        OutSegment::new("RFF").comp(["ON".to_string(), cut(&order.po_number, 35)]),
        dtm("171", order.order_date),
    ];
    parties(order, &mut segs);
    segs.push(OutSegment::new("CUX").comp(["2", order.currency.as_str(), "9"]));
    for l in &order.lines {
        segs.push(
            OutSegment::new("LIN")
                .el(l.line_no.to_string())
                .el("5")
                .comp([l.sku.clone(), "SA".into()]),
        );
        if let Some(bp) = &l.buyer_part {
            segs.push(
                OutSegment::new("PIA")
                    .el("1")
                    .comp([bp.clone(), "IN".into()]),
            );
        }
        if let Some(d) = &l.description {
            segs.push(
                OutSegment::new("IMD")
                    .el("F")
                    .el("")
                    .comp(["", "", "", &cut(d, 35)]),
            );
        }
        segs.push(OutSegment::new("QTY").comp([
            "21".to_string(),
            fmt_decimal(l.quantity),
            l.uom.clone(),
        ]));
        if let Some(Some(d)) = promised.get(&l.line_no) {
            segs.push(dtm("69", *d));
        }
        if let Some(p) = l.unit_price {
            segs.push(OutSegment::new("PRI").comp(["AAA".to_string(), fmt_decimal(p)]));
        }
    }
    segs.push(OutSegment::new("UNS").el("S"));
    segs.push(OutSegment::new("CNT").comp(["2".to_string(), order.lines.len().to_string()]));
    Document {
        set_id: "ORDRSP".into(),
        version: None,
        segments: segs,
    }
}

/// DESADV: CPS 1 for the consignment, then one CPS per package with PAC, MEA (gross weight),
/// PCI 33E + GIN BJ (SSCC) and its LIN/QTY 12.
pub fn shipment_to_desadv(s: &Shipment, order: &Order) -> Result<Document, EdiError> {
    if s.packages.is_empty() {
        return Err(EdiError::Write {
            what: format!("DESADV for shipment {}", s.id),
            reason: "no packages".into(),
        });
    }
    let mut segs = vec![
        OutSegment::new("BGM").el("351").el(cut(&s.id, 35)).el("9"),
        dtm("137", s.ship_date),
        dtm("11", s.ship_date),
        OutSegment::new("RFF").comp(["ON".to_string(), cut(&order.po_number, 35)]),
        OutSegment::new("RFF").comp(["CN".to_string(), cut(&s.tracking_number, 35)]),
    ];
    if let Some(p) = s.ship_to.as_ref().or_else(|| order.party("ship_to")) {
        let mut p = p.clone();
        p.role = "ship_to".into();
        segs.push(nad(&p));
    }
    segs.push(
        OutSegment::new("TDT")
            .el("20")
            .el(cut(&s.tracking_number, 17))
            .comp(["30"])
            .el("")
            .comp([
                cut(&s.carrier, 17),
                String::new(),
                String::new(),
                cut(&s.service, 35),
            ]),
    );
    segs.push(OutSegment::new("CPS").el("1"));
    let mut lin = 0u32;
    for (i, pkg) in s.packages.iter().enumerate() {
        segs.push(OutSegment::new("CPS").el((i + 2).to_string()).el("1"));
        segs.push(OutSegment::new("PAC").el("1").el("").comp(["CT"]));
        segs.push(
            OutSegment::new("MEA")
                .el("PD")
                .comp(["AAB"])
                .comp(["KGM".to_string(), fmt_decimal(pkg.weight_kg)]),
        );
        segs.push(OutSegment::new("PCI").el("33E"));
        segs.push(OutSegment::new("GIN").el("BJ").comp([pkg.sscc.clone()]));
        for l in &pkg.lines {
            lin += 1;
            segs.push(
                OutSegment::new("LIN")
                    .el(lin.to_string())
                    .el("")
                    .comp([l.sku.clone(), "SA".into()]),
            );
            segs.push(OutSegment::new("QTY").comp([
                "12".to_string(),
                fmt_decimal(l.quantity),
                l.uom.clone(),
            ]));
            segs.push(OutSegment::new("RFF").comp([
                "ON".to_string(),
                cut(&order.po_number, 35),
                l.line_no.to_string(),
            ]));
        }
    }
    segs.push(OutSegment::new("CNT").comp(["2".to_string(), lin.to_string()]));
    Ok(Document {
        set_id: "DESADV".into(),
        version: None,
        segments: segs,
    })
}

/// INVOIC: lines with MOA 203 (net), PRI AAA, TAX + MOA 124; totals MOA 77 (total), 79 (net),
/// 125 (taxable), 176 (tax); TAX/MOA 124 per rate. Refuses totals that do not add up.
pub fn invoice_to_invoic(inv: &Invoice, order: &Order) -> Result<Document, EdiError> {
    write_invoic(inv, order, None)
}

/// A credit note as INVOIC with document name code 381 (credit note) and `RFF+IV` naming the
/// invoice it corrects: the invoice's mapping, one truth. Amounts are written positive: the
/// document name gives them their sign.
pub fn credit_note_to_invoic(
    credit_note: &Invoice,
    corrects: &str,
    order: &Order,
) -> Result<Document, EdiError> {
    write_invoic(credit_note, order, Some(corrects))
}

fn write_invoic(
    inv: &Invoice,
    order: &Order,
    corrects: Option<&str>,
) -> Result<Document, EdiError> {
    let (code, what) = match corrects {
        Some(_) => ("381", "INVOIC 381 for credit note"),
        None => ("380", "INVOIC for invoice"),
    };
    inv.check_totals().map_err(|r| EdiError::Write {
        what: format!("{what} {}", inv.number),
        reason: r,
    })?;
    let mut segs = vec![
        OutSegment::new("BGM")
            .el(code)
            .el(cut(&inv.number, 35))
            .el("9"),
        dtm("137", inv.issue_date),
        OutSegment::new("RFF").comp(["ON".to_string(), cut(&order.po_number, 35)]),
    ];
    if let Some(original) = corrects {
        segs.push(OutSegment::new("RFF").comp(["IV".to_string(), cut(original, 35)]));
    }
    parties(order, &mut segs);
    segs.push(OutSegment::new("CUX").comp(["2", inv.currency.as_str(), "4"]));
    let t = &inv.terms;
    segs.push(OutSegment::new("PAT").el("1").el("").comp([
        "5".to_string(),
        "3".into(),
        "D".into(),
        t.net_days.to_string(),
    ]));
    segs.push(dtm("13", inv.due_date));
    if t.discount_percent > Decimal::ZERO {
        segs.push(OutSegment::new("PAT").el("22").el("").comp([
            "5".to_string(),
            "3".into(),
            "D".into(),
            t.discount_days.to_string(),
        ]));
        segs.push(OutSegment::new("PCD").comp(["12".to_string(), fmt_decimal(t.discount_percent)]));
    }
    let mut rates: Vec<(Decimal, Decimal, Decimal)> = Vec::new();
    for l in &inv.lines {
        segs.push(
            OutSegment::new("LIN")
                .el(l.line_no.to_string())
                .el("")
                .comp([l.sku.clone(), "SA".into()]),
        );
        if let Some(d) = &l.description {
            segs.push(
                OutSegment::new("IMD")
                    .el("F")
                    .el("")
                    .comp(["", "", "", &cut(d, 35)]),
            );
        }
        segs.push(OutSegment::new("QTY").comp([
            "47".to_string(),
            fmt_decimal(l.quantity),
            l.uom.clone(),
        ]));
        segs.push(OutSegment::new("MOA").comp(["203".to_string(), fmt_money(l.net_amount)]));
        segs.push(OutSegment::new("PRI").comp(["AAA".to_string(), fmt_decimal(l.unit_price)]));
        segs.push(tax(l.tax_rate));
        segs.push(OutSegment::new("MOA").comp(["124".to_string(), fmt_money(l.tax_amount)]));
        match rates.iter_mut().find(|r| r.0 == l.tax_rate) {
            Some(r) => {
                r.1 += l.net_amount;
                r.2 += l.tax_amount;
            }
            None => rates.push((l.tax_rate, l.net_amount, l.tax_amount)),
        }
    }
    segs.push(OutSegment::new("UNS").el("S"));
    segs.push(OutSegment::new("CNT").comp(["2".to_string(), inv.lines.len().to_string()]));
    for (q, v) in [
        ("77", inv.total),
        ("79", inv.net_total),
        ("125", inv.net_total),
        ("176", inv.tax_total),
    ] {
        segs.push(OutSegment::new("MOA").comp([q.to_string(), fmt_money(v)]));
    }
    for (rate, base, amount) in rates {
        segs.push(tax(rate));
        segs.push(OutSegment::new("MOA").comp(["125".to_string(), fmt_money(base)]));
        segs.push(OutSegment::new("MOA").comp(["124".to_string(), fmt_money(amount)]));
    }
    Ok(Document {
        set_id: "INVOIC".into(),
        version: None,
        segments: segs,
    })
}

fn tax(rate: Decimal) -> OutSegment {
    OutSegment::new("TAX")
        .el("7")
        .comp(["VAT"])
        .el("")
        .el("")
        .comp(["", "", "", &fmt_decimal(rate)])
        .el("S")
}
