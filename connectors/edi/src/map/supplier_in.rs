//! What a supplier sends back about ordo's purchase orders: X12 855 / EDIFACT ORDRSP (the
//! supplier's order response: accepted, with the dates it will deliver) → [`PoResponse`];
//! X12 856 / EDIFACT DESADV (the ship notice) → [`ShipNotice`].
//!
//! X12 855: BAK (BAK02 `AD`/`AC`/`AK` accepted, `RD`/`RJ` rejected, BAK03 our PO number),
//! DTM 067/068/017/002 at the header (a date for every line), per PO1 the item (the first
//! product id pair of PO106..), and each ACK (ACK02 quantity, ACK04 067/068/017/002 + ACK05
//! the date). 856: BSN (BSN02 the notice's id, BSN03 date), DTM 011 (shipped) / 017 (estimated
//! delivery), HL O with PRF01 (our PO), HL I with LIN (the item) and SN1 (SN102 quantity).
//!
//! EDIFACT ORDRSP: BGM (1225 `29` accepted, `27` rejected, else changed), RFF+ON (our PO),
//! DTM 2/17/69 (delivery) at the header or per line, LIN (item: the first component of C212),
//! QTY. DESADV: BGM 1004 (the notice's id), DTM 11/17, RFF+ON (the PO of the lines after it),
//! LIN + QTY 12 (despatched).
//!
//! Every refusal is an [`Issue`] located at its segment and element (no PO reference, a
//! quantity missing, not a number, zero or negative, a bad date, no line): the partner channel
//! adds it to the set's validation issues so the acknowledgment rejects the set, as for an 820.
//! [`issue`] lets the channel locate its own refusals (a PO ordo never sent, an item not on
//! it) the same way.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::envelope::{Interchange, Transaction};
use crate::issue::{Code, ElementAt, Issue};
use crate::segment::SegmentRef;
use crate::syntax::Standard;
use crate::values;

/// Whether `set_id` is a supplier's answer ordo maps.
pub fn is_supplier_answer(set_id: &str) -> bool {
    matches!(set_id, "855" | "856" | "ORDRSP" | "DESADV")
}

/// One line of a supplier's answer, with the segment it came from (for locating refusals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupplierLine {
    /// Our purchase order the line is about.
    pub po: String,
    pub sku: String,
    /// 855/ORDRSP: acknowledged quantity (absent: as ordered); 856/DESADV: shipped (required).
    pub quantity: Option<Decimal>,
    /// The date the supplier will deliver this line (855/ORDRSP).
    pub date: Option<NaiveDate>,
    /// Index of the segment naming the item (PO1, LIN) in the interchange.
    pub segment: usize,
}

/// A supplier's order response (855 / ORDRSP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoResponse {
    pub po: String,
    /// `accepted`, `changed` or `rejected`.
    pub status: String,
    /// Header delivery date (lines without their own date take it).
    pub date: Option<NaiveDate>,
    pub lines: Vec<SupplierLine>,
    /// Segment holding the PO reference (BAK, RFF).
    pub po_segment: usize,
}

impl PoResponse {
    /// The date the PO's goods will all have come: the latest line date (a line without one
    /// takes the header's); `None` when the response states no date.
    pub fn expected_on(&self) -> Option<NaiveDate> {
        self.lines
            .iter()
            .filter_map(|l| l.date.or(self.date))
            .max()
            .or(self.date)
    }
}

/// A supplier's ship notice (856 / DESADV).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShipNotice {
    /// BSN02 / BGM 1004: the supplier's shipment id.
    pub id: String,
    pub ship_date: Option<NaiveDate>,
    pub delivery_date: Option<NaiveDate>,
    pub lines: Vec<SupplierLine>,
}

/// A refusal of the channel's own (a PO ordo never sent, an item not on it, more than
/// ordered), located at segment `seg` of set `ti` in group `gi` like the mapping's.
pub fn issue(
    ich: &Interchange<'_>,
    gi: usize,
    ti: usize,
    seg: usize,
    element: Option<u32>,
    detail: String,
) -> Issue {
    ich.issue_at(
        Code::InvalidValue,
        Some(gi),
        Some(ti),
        Some(seg),
        element.map(|position| ElementAt {
            position,
            component: None,
        }),
        None,
        detail,
    )
}

struct At<'x, 'a> {
    ich: &'x Interchange<'a>,
    gi: usize,
    ti: usize,
    header: usize,
}

impl At<'_, '_> {
    fn err(
        &self,
        code: Code,
        seg: Option<usize>,
        el: Option<(u32, Option<u32>)>,
        value: &[u8],
        detail: String,
    ) -> Box<Issue> {
        Box::new(self.ich.issue_at(
            code,
            Some(self.gi),
            Some(self.ti),
            Some(seg.unwrap_or(self.header)),
            el.map(|(position, component)| ElementAt {
                position,
                component,
            }),
            (!value.is_empty()).then(|| String::from_utf8_lossy(value).into_owned()),
            detail,
        ))
    }

    /// A quantity: a positive number (never read as zero when missing: the caller decides
    /// whether one is required).
    fn quantity(
        &self,
        si: usize,
        el: (u32, Option<u32>),
        raw: &[u8],
    ) -> Result<Option<Decimal>, Box<Issue>> {
        if raw.is_empty() {
            return Ok(None);
        }
        let v = values::decimal(raw).ok_or_else(|| {
            self.err(
                Code::NotNumeric,
                Some(si),
                Some(el),
                raw,
                "quantity is not a number".into(),
            )
        })?;
        if v <= Decimal::ZERO || v > super::remit::MAX_AMOUNT {
            return Err(self.err(
                Code::InvalidValue,
                Some(si),
                Some(el),
                raw,
                format!("quantity {v} is not a positive quantity"),
            ));
        }
        Ok(Some(v))
    }

    fn date(
        &self,
        si: usize,
        el: (u32, Option<u32>),
        d: Option<NaiveDate>,
        raw: &[u8],
    ) -> Result<Option<NaiveDate>, Box<Issue>> {
        if raw.is_empty() {
            return Ok(None);
        }
        d.map(Some).ok_or_else(|| {
            self.err(
                Code::InvalidDate,
                Some(si),
                Some(el),
                raw,
                "not a date".into(),
            )
        })
    }
}

/// X12 product id: the first id pair from element `from` on (qualifier, id).
fn x12_item(s: &SegmentRef<'_, '_>, from: usize) -> Option<String> {
    let mut n = from;
    while n < s.len() {
        if let Some(id) = s.opt(n + 1) {
            return Some(id);
        }
        n += 2;
    }
    None
}

/// Delivery-date qualifiers: X12 374 (067 current schedule delivery, 068 current schedule
/// ship, 017 estimated delivery, 002 delivery requested), EDIFACT 2005 (2, 17, 69).
fn delivery_qualifier(q: &str) -> bool {
    matches!(q, "067" | "068" | "017" | "002" | "2" | "17" | "69")
}

/// Maps one 855 or ORDRSP (`gi`, `ti`: its group and index in the group, for locating).
pub fn to_po_response(
    ich: &Interchange<'_>,
    gi: usize,
    ti: usize,
    t: &Transaction,
) -> Result<PoResponse, Box<Issue>> {
    let at = At {
        ich,
        gi,
        ti,
        header: t.header,
    };
    let mut po: Option<(String, usize)> = None;
    let mut status = "accepted".to_string();
    let mut date = None;
    let mut lines: Vec<SupplierLine> = Vec::new();
    let x12 = ich.standard == Standard::X12;
    for si in t.header..t.end {
        let Some(s) = ich.segment(si) else { continue };
        match (x12, s.tag()) {
            (true, "BAK") => {
                status = match s.opt(2).as_deref() {
                    Some("RD" | "RJ") => "rejected",
                    Some("AC" | "AE" | "AP") => "changed",
                    _ => "accepted",
                }
                .into();
                po = s.opt(3).map(|p| (p, si));
            }
            (false, "BGM") => {
                status = match s.opt(3).as_deref() {
                    Some("27") => "rejected",
                    Some("29") | None => "accepted",
                    _ => "changed",
                }
                .into();
            }
            (false, "RFF") if s.comp(1, 1).as_deref() == Some("ON") && po.is_none() => {
                po = s.comp(1, 2).map(|p| (p, si));
            }
            (true, "DTM") if s.opt(1).as_deref().is_some_and(delivery_qualifier) => {
                let d = at.date(si, (2, None), values::date(s.raw(2)), s.raw(2))?;
                match lines.last_mut() {
                    Some(l) => l.date = d.or(l.date),
                    None => date = d.or(date),
                }
            }
            (false, "DTM") if s.comp(1, 1).as_deref().is_some_and(delivery_qualifier) => {
                let raw = s.component(1, 2);
                let d = at.date(
                    si,
                    (1, Some(2)),
                    values::edifact_date(raw, s.component(1, 3)),
                    raw,
                )?;
                match lines.last_mut() {
                    Some(l) => l.date = d.or(l.date),
                    None => date = d.or(date),
                }
            }
            (true, "PO1") => {
                let sku = x12_item(&s, 6).ok_or_else(|| {
                    at.err(
                        Code::MandatoryElementMissing,
                        Some(si),
                        Some((7, None)),
                        &[],
                        "PO1 names no item (PO106/PO107)".into(),
                    )
                })?;
                let quantity = at.quantity(si, (2, None), s.raw(2))?;
                lines.push(SupplierLine {
                    po: String::new(),
                    sku,
                    quantity,
                    date: None,
                    segment: si,
                });
            }
            (true, "ACK") => {
                let Some(l) = lines.last_mut() else { continue };
                if let Some(q) = at.quantity(si, (2, None), s.raw(2))? {
                    l.quantity = Some(q);
                }
                if s.opt(4).as_deref().is_some_and(delivery_qualifier) {
                    l.date = at
                        .date(si, (5, None), values::date(s.raw(5)), s.raw(5))?
                        .or(l.date);
                }
            }
            (false, "LIN") => {
                let sku = s.comp(3, 1).ok_or_else(|| {
                    at.err(
                        Code::MandatoryElementMissing,
                        Some(si),
                        Some((3, Some(1))),
                        &[],
                        "LIN names no item (C212 7140)".into(),
                    )
                })?;
                lines.push(SupplierLine {
                    po: String::new(),
                    sku,
                    quantity: None,
                    date: None,
                    segment: si,
                });
            }
            (false, "QTY") => {
                if let Some(l) = lines.last_mut() {
                    l.quantity = at
                        .quantity(si, (1, Some(2)), s.component(1, 2))?
                        .or(l.quantity);
                }
            }
            _ => {}
        }
    }
    let Some((po, po_segment)) = po else {
        return Err(at.err(
            Code::MandatorySegmentMissing,
            None,
            None,
            &[],
            format!(
                "{}: no purchase order reference ({})",
                t.set_id,
                if x12 { "BAK03" } else { "RFF+ON" }
            ),
        ));
    };
    for l in &mut lines {
        l.po = po.clone();
    }
    Ok(PoResponse {
        po,
        status,
        date,
        lines,
        po_segment,
    })
}

/// Maps one 856 or DESADV.
pub fn to_ship_notice(
    ich: &Interchange<'_>,
    gi: usize,
    ti: usize,
    t: &Transaction,
) -> Result<ShipNotice, Box<Issue>> {
    let at = At {
        ich,
        gi,
        ti,
        header: t.header,
    };
    let x12 = ich.standard == Standard::X12;
    let mut id = None;
    let (mut ship_date, mut delivery_date) = (None, None);
    let mut po: Option<String> = None;
    let mut lines: Vec<SupplierLine> = Vec::new();
    for si in t.header..t.end {
        let Some(s) = ich.segment(si) else { continue };
        match (x12, s.tag()) {
            (true, "BSN") => {
                id = s.opt(2);
                ship_date = at.date(si, (3, None), values::date(s.raw(3)), s.raw(3))?;
            }
            (false, "BGM") => id = s.opt(2),
            (true, "DTM") => {
                let d = at.date(si, (2, None), values::date(s.raw(2)), s.raw(2))?;
                match s.opt(1).as_deref() {
                    Some("011") => ship_date = d.or(ship_date),
                    Some("017" | "067") => delivery_date = d.or(delivery_date),
                    _ => {}
                }
            }
            (false, "DTM") => {
                let raw = s.component(1, 2);
                let d = at.date(
                    si,
                    (1, Some(2)),
                    values::edifact_date(raw, s.component(1, 3)),
                    raw,
                )?;
                match s.comp(1, 1).as_deref() {
                    Some("11") => ship_date = d.or(ship_date),
                    Some("17" | "2") => delivery_date = d.or(delivery_date),
                    _ => {}
                }
            }
            (true, "PRF") => po = s.opt(1),
            (false, "RFF") if s.comp(1, 1).as_deref() == Some("ON") => po = s.comp(1, 2),
            (true, "LIN") => {
                let sku = x12_item(&s, 2).ok_or_else(|| {
                    at.err(
                        Code::MandatoryElementMissing,
                        Some(si),
                        Some((3, None)),
                        &[],
                        "LIN names no item (LIN02/LIN03)".into(),
                    )
                })?;
                lines.push(SupplierLine {
                    po: po.clone().unwrap_or_default(),
                    sku,
                    quantity: None,
                    date: None,
                    segment: si,
                });
            }
            (true, "SN1") => {
                if let Some(l) = lines.last_mut() {
                    l.quantity = at.quantity(si, (2, None), s.raw(2))?;
                }
            }
            (false, "LIN") => {
                let sku = s.comp(3, 1).ok_or_else(|| {
                    at.err(
                        Code::MandatoryElementMissing,
                        Some(si),
                        Some((3, Some(1))),
                        &[],
                        "LIN names no item (C212 7140)".into(),
                    )
                })?;
                lines.push(SupplierLine {
                    po: po.clone().unwrap_or_default(),
                    sku,
                    quantity: None,
                    date: None,
                    segment: si,
                });
            }
            (false, "QTY") if matches!(s.comp(1, 1).as_deref(), Some("12" | "21")) => {
                if let Some(l) = lines.last_mut() {
                    l.quantity = at.quantity(si, (1, Some(2)), s.component(1, 2))?;
                }
            }
            _ => {}
        }
    }
    let set = &t.set_id;
    let id = id.ok_or_else(|| {
        at.err(
            Code::MandatoryElementMissing,
            None,
            None,
            &[],
            format!(
                "{set}: no shipment id ({})",
                if x12 { "BSN02" } else { "BGM 1004" }
            ),
        )
    })?;
    if lines.is_empty() {
        return Err(at.err(
            Code::MandatorySegmentMissing,
            None,
            None,
            &[],
            format!("{set}: no item shipped (LIN)"),
        ));
    }
    // A line, also one whose PO reference came after it in a DESADV, must name its PO.
    for l in &mut lines {
        if l.po.is_empty() {
            // DESADV may give RFF+ON after the LIN: the last PO named applies.
            match &po {
                Some(p) => l.po = p.clone(),
                None => {
                    return Err(at.err(
                        Code::MandatorySegmentMissing,
                        Some(l.segment),
                        None,
                        &[],
                        format!(
                            "{set}: line {} names no purchase order ({})",
                            l.sku,
                            if x12 { "PRF01" } else { "RFF+ON" }
                        ),
                    ));
                }
            }
        }
        if l.quantity.is_none() {
            return Err(at.err(
                Code::MandatoryElementMissing,
                Some(l.segment),
                None,
                &[],
                format!(
                    "{set}: line {} states no quantity shipped (a quantity is never read as zero)",
                    l.sku
                ),
            ));
        }
    }
    Ok(ShipNotice {
        id,
        ship_date,
        delivery_date,
        lines,
    })
}

/// Every supplier answer of the interchange that cannot be mapped, as located issues (the
/// acknowledgment rejects those sets).
pub fn supplier_issues(ich: &Interchange<'_>) -> Vec<Issue> {
    let mut out = Vec::new();
    for (gi, ti, t) in ich.transactions() {
        let r = match t.set_id.as_str() {
            "855" | "ORDRSP" => to_po_response(ich, gi, ti, t).err(),
            "856" | "DESADV" => to_ship_notice(ich, gi, ti, t).err(),
            _ => None,
        };
        out.extend(r.map(|e| *e));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x12(set: &str, gs: &str, body: &str) -> String {
        let n = body.matches('~').count() + 2;
        format!(
            "ISA*00*          *00*          *ZZ*SUPPLIER1      *ZZ*ORDOBUYER      *261201*1200*U*00401*000000001*0*P*>~\
             GS*{gs}*SUPPLIER1*ORDOBUYER*20261201*1200*1*X*004010~ST*{set}*0001~{body}SE*{n}*0001~GE*1*1~IEA*1*000000001~"
        )
    }

    fn first<'a>(text: &'a str) -> Interchange<'a> {
        crate::read(text.as_bytes()).next().unwrap().unwrap()
    }

    #[test]
    fn an_855_gives_each_line_its_date_and_the_po_the_latest() {
        let t = x12(
            "855",
            "PR",
            "BAK*00*AC*PO-000001*20261201~DTM*068*20261210~PO1*1*50*EA***VP*GADGET~ACK*IA*50*EA*068*20261215~PO1*2*5*EA***VP*WIDGET~ACK*IA*5*EA~CTT*2~",
        );
        let ich = first(&t);
        let (gi, ti, tx) = ich.transactions().next().unwrap();
        let r = to_po_response(&ich, gi, ti, tx).unwrap();
        assert_eq!(r.po, "PO-000001");
        assert_eq!(r.status, "changed");
        assert_eq!(r.lines[0].date, NaiveDate::from_ymd_opt(2026, 12, 15));
        assert_eq!(r.lines[1].date, None);
        assert_eq!(r.expected_on(), NaiveDate::from_ymd_opt(2026, 12, 15));
        assert!(supplier_issues(&ich).is_empty());
    }

    #[test]
    fn an_856_without_quantity_or_po_is_a_located_refusal() {
        let t = x12(
            "856",
            "SH",
            "BSN*00*SHIP1*20261205*1200~HL*1**S*1~HL*2*1*O*1~PRF*PO-000001~HL*3*2*I*0~LIN**VP*GADGET~SN1**0*EA~CTT*3~",
        );
        let ich = first(&t);
        let i = supplier_issues(&ich);
        assert_eq!(i.len(), 1);
        assert!(
            i[0].detail.contains("not a positive quantity"),
            "{}",
            i[0].detail
        );
        assert_eq!(i[0].segment.as_ref().unwrap().tag, "SN1");
        let t = x12(
            "856",
            "SH",
            "BSN*00*SHIP1*20261205*1200~HL*1**S*1~HL*3*1*I*0~LIN**VP*GADGET~SN1**3*EA~CTT*2~",
        );
        let ich = first(&t);
        let i = supplier_issues(&ich);
        assert!(
            i[0].detail.contains("names no purchase order"),
            "{}",
            i[0].detail
        );
    }

    #[test]
    fn a_desadv_maps_lines_to_the_po_named_before_them() {
        let t = "UNA:+.? 'UNB+UNOC:3+SUPPLIER2:14+ORDOBUYER:14+261201:1200+7'UNH+1+DESADV:D:96A:UN'\
                 BGM+351+DN-9+9'DTM+11:20261205:102'DTM+17:20261207:102'RFF+ON:PO-000002'CPS+1'\
                 LIN+1++GADGET:SA'QTY+12:4'UNT+8+1'UNZ+1+7'";
        let ich = first(t);
        let (gi, ti, tx) = ich.transactions().next().unwrap();
        let n = to_ship_notice(&ich, gi, ti, tx).unwrap();
        assert_eq!(n.id, "DN-9");
        assert_eq!(n.lines[0].po, "PO-000002");
        assert_eq!(n.lines[0].quantity, Some(Decimal::from(4)));
        assert_eq!(n.delivery_date, NaiveDate::from_ymd_opt(2026, 12, 7));
    }
}
