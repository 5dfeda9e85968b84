//! X12 860 / EDIFACT ORDCHG → [`ChangeRequest`]: a buyer's change or cancellation of an order
//! ordo received, stated as [`ordo_contract::change::OrderChange`] (the type every change
//! channel uses), for the one change path (`ordo_sales::change::apply_change`).
//!
//! - **860**: `BCH01` purpose `04` change or `01` cancellation; `BCH03` the PO number (the
//!   order is `{customer}-{PO}` as for the 850); `BCH05` the change order sequence number (the
//!   change's reference; absent: `{ISA13}-{ST02}`); `BCH06` the PO date. Header
//!   `DTM*002` a new requested date; `N1*ST` with `N3`/`N4` a new ship-to address. Each `POC`:
//!   `POC01` line number, `POC02` change type (`AI` add, `DI` delete, `CA`/`QD`/`QI`/`RZ`/`RQ`
//!   quantity, `NC` no change), `POC03` the new quantity, `POC05` its unit, product ids from
//!   `POC08` on in pairs (as `PO106`…). A price change (`PC`, `CP`, or `POC06` on a changed
//!   line) is refused: prices come from ordo's pricing rule, not from the buyer.
//! - **ORDCHG**: `BGM` 1225 `4` change / `1` cancellation, 1004 the change's reference;
//!   `RFF+ON` the order's PO number (mandatory: ordo finds the order by it); `DTM+137` the
//!   document date; `DTM+2` a new requested date; `NAD+DP`/`NAD+ST` a new delivery address;
//!   `LIN` 1229 `1` added, `2` deleted, `3` changed, `4` no action; `QTY+21` the new
//!   quantity; item numbers as in ORDERS.
//!
//! A request that cannot be read (no PO number, a purpose that is neither change nor
//! cancellation, a quantity that is not a number, a line without its number) maps to
//! [`Unreadable`], which keeps what was readable (the PO number, when there was one) so the
//! answer can still name the order.

use chrono::NaiveDate;
use ordo_contract::change::{LineChange, OrderChange};
use ordo_contract::{Address, Party};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::MapOptions;
use crate::envelope::{Interchange, Transaction};
use crate::segment::SegmentRef;
use crate::syntax::Standard;
use crate::values;

/// Most lines a change request may name (more is refused, not truncated).
pub const MAX_CHANGE_LINES: usize = 10_000;

/// What a change request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    Change { change: OrderChange },
    Cancel { reason: String },
}

/// One line as the request states it, kept to answer line by line (865 `POC`, ORDRSP `LIN`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestedLine {
    pub line_no: u32,
    /// `add`, `delete`, `quantity`.
    pub action: String,
    pub quantity: Option<Decimal>,
    pub uom: Option<String>,
    pub sku: Option<String>,
}

/// A buyer's change or cancellation of an order, mapped from an 860 or ORDCHG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequest {
    /// `{customer_id}-{po_number}`, the id the 850/ORDERS gave the order.
    pub order_id: String,
    pub po_number: String,
    /// The PO date the request states (BCH06); the answer repeats it.
    pub po_date: Option<NaiveDate>,
    /// The change's own reference (BCH05 / BGM 1004), else `{interchange}-{set}` control numbers.
    pub reference: String,
    pub request: ChangeKind,
    pub lines: Vec<RequestedLine>,
    /// What ordo refuses outright whatever the order's state (price changes), one reason each.
    pub refusals: Vec<String>,
}

/// A request that could not be read: why, and the PO number when it was readable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub po_number: Option<String>,
    pub po_date: Option<NaiveDate>,
    pub reference: Option<String>,
    pub reason: String,
}

/// Whether the set is a change request ordo maps (860, ORDCHG).
pub fn is_change(t: &Transaction) -> bool {
    t.set_id == "860" || t.set_id == "ORDCHG"
}

/// Maps one 860 / ORDCHG.
pub fn to_change_request(
    ich: &Interchange<'_>,
    t: &Transaction,
    opts: &MapOptions,
) -> Result<ChangeRequest, Box<Unreadable>> {
    let mut b = Builder::default();
    let n_lines = ich.segments.get(t.header..t.end).map_or(0, |s| {
        s.iter()
            .filter(|s| s.tag == "POC" || s.tag == "LIN")
            .count()
    });
    let result = if n_lines > MAX_CHANGE_LINES {
        Err(format!(
            "{n_lines} lines: more than {MAX_CHANGE_LINES} in one change request"
        ))
    } else {
        let mut r = Ok(());
        for s in ich.transaction_segments(t) {
            r = match (ich.standard, t.set_id.as_str()) {
                (Standard::X12, "860") => b.x12(&s),
                (Standard::Edifact, "ORDCHG") => b.edifact(&s),
                (_, other) => Err(format!("{other} is not a change request")),
            };
            if r.is_err() {
                break;
            }
        }
        r.and_then(|()| b.flush())
    };
    let fail = |b: &Builder, reason: String| {
        Box::new(Unreadable {
            po_number: b.po.clone(),
            po_date: b.po_date,
            reference: b.reference.clone(),
            reason,
        })
    };
    if let Err(e) = result {
        return Err(fail(&b, e));
    }
    let Some(po) = b.po.clone() else {
        return Err(fail(
            &b,
            "no purchase order number (BCH03 / RFF+ON): the order cannot be found".into(),
        ));
    };
    // absent: BCH05 is optional; the interchange and set control numbers name the request
    // uniquely for this partner instead (a set number alone repeats in every interchange).
    let reference = b
        .reference
        .clone()
        .unwrap_or_else(|| format!("{}-{}", ich.control_number.trim(), t.control_number.trim()));
    let request = match b.purpose.as_deref() {
        Some("cancel") => ChangeKind::Cancel {
            reason: format!(
                "cancelled by the customer's {} {}",
                t.set_id,
                crate::issue::bounded(&reference)
            ),
        },
        Some("change") => {
            let ship_to = b
                .parties
                .iter()
                .find(|p| p.role == "ship_to")
                .and_then(|p| p.address.clone());
            ChangeKind::Change {
                change: OrderChange {
                    lines: b.changes.clone(),
                    requested_date: b.requested,
                    ship_to,
                    reason: Some(format!(
                        "{} {} from the customer",
                        t.set_id,
                        crate::issue::bounded(&reference)
                    )),
                },
            }
        }
        _ => {
            return Err(fail(
                &b,
                "no purpose: BCH01 must be 04 (change) or 01 (cancellation), BGM 1225 4 or 1"
                    .into(),
            ));
        }
    };
    Ok(ChangeRequest {
        order_id: format!("{}-{}", opts.customer_id, po),
        po_number: po,
        po_date: b.po_date,
        reference,
        request,
        lines: b.lines,
        refusals: b.refusals,
    })
}

#[derive(Default)]
struct Builder {
    purpose: Option<String>,
    po: Option<String>,
    po_date: Option<NaiveDate>,
    reference: Option<String>,
    requested: Option<NaiveDate>,
    parties: Vec<Party>,
    in_lines: bool,
    /// The open EDIFACT line (LIN until the next LIN or UNS): its state before QTY.
    open: Option<(RequestedLine, Option<String>)>,
    gtin: Option<String>,
    changes: Vec<LineChange>,
    lines: Vec<RequestedLine>,
    refusals: Vec<String>,
}

fn dec(v: &[u8], what: &str) -> Result<Decimal, String> {
    values::decimal(v).ok_or_else(|| {
        let v = crate::issue::bounded(&String::from_utf8_lossy(v));
        format!("{what} {v:?} is not a number")
    })
}

fn line_no(v: &[u8], what: &str) -> Result<u32, String> {
    crate::envelope::num(v)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            let v = crate::issue::bounded(&String::from_utf8_lossy(v));
            format!("{what} {v:?} is not a line number (the line to change must be named)")
        })
}

impl Builder {
    fn address(&mut self) -> Option<&mut Address> {
        let p = self.parties.last_mut()?;
        Some(p.address.get_or_insert_with(Address::default))
    }

    /// Records one requested line as a [`LineChange`] (and the line echoed in the answer).
    fn push(&mut self, l: RequestedLine) {
        let change = match l.action.as_str() {
            "delete" => LineChange {
                line_no: l.line_no,
                remove: true,
                ..Default::default()
            },
            "add" => LineChange {
                line_no: l.line_no,
                quantity: l.quantity,
                sku: l.sku.clone(),
                remove: false,
            },
            _ => LineChange {
                line_no: l.line_no,
                quantity: l.quantity,
                sku: None,
                remove: false,
            },
        };
        self.changes.push(change);
        self.lines.push(l);
    }

    fn flush(&mut self) -> Result<(), String> {
        if let Some((mut l, sku)) = self.open.take() {
            l.sku = sku.or_else(|| self.gtin.take());
            if l.action == "add" && l.sku.is_none() {
                return Err(format!(
                    "line {}: an added line has no item number (LIN / PIA)",
                    l.line_no
                ));
            }
            if l.action != "delete" && l.quantity.is_none() {
                return Err(format!("line {}: no quantity (QTY+21)", l.line_no));
            }
            self.push(l);
        }
        self.gtin = None;
        Ok(())
    }

    fn x12(&mut self, s: &SegmentRef<'_, '_>) -> Result<(), String> {
        match s.tag() {
            "BCH" => {
                self.purpose = match s.raw(1) {
                    b"04" => Some("change".into()),
                    b"01" => Some("cancel".into()),
                    other => {
                        return Err(format!(
                            "BCH01 {:?}: ordo takes 04 (change) and 01 (cancellation)",
                            crate::issue::bounded(&String::from_utf8_lossy(other))
                        ));
                    }
                };
                self.po = s.opt(3);
                self.reference = s.opt(5);
                self.po_date = values::date(s.raw(6));
            }
            "DTM" if !self.in_lines && s.raw(1) == b"002" => {
                self.requested =
                    Some(values::date(s.raw(2)).ok_or("DTM*002 is not a date (CCYYMMDD)")?);
            }
            "N1" if !self.in_lines => self.parties.push(Party {
                role: super::role_of(s.text(1).trim()),
                name: s.opt(2),
                ..Party::default()
            }),
            "N3" if !self.in_lines => {
                let (l1, l2) = (s.opt(1), s.opt(2));
                if let Some(a) = self.address() {
                    a.lines.extend(l1);
                    a.lines.extend(l2);
                }
            }
            "N4" if !self.in_lines => {
                let (c, r, p, k) = (s.opt(1), s.opt(2), s.opt(3), s.opt(4));
                if let Some(a) = self.address() {
                    (a.city, a.region, a.postal_code, a.country) = (c, r, p, k);
                }
            }
            "POC" => {
                self.in_lines = true;
                let n = line_no(s.raw(1), "POC01")?;
                let kind = s.text(2).trim().to_string();
                let action = match kind.as_str() {
                    "AI" => "add",
                    "DI" => "delete",
                    "CA" | "QD" | "QI" | "RZ" | "RQ" => "quantity",
                    "NC" => return Ok(()),
                    "PC" | "CP" | "PQ" => {
                        self.refusals.push(format!(
                            "line {n}: a price change (POC02 {kind}) is not taken: prices come from our pricing"
                        ));
                        return Ok(());
                    }
                    other => {
                        self.refusals.push(format!(
                            "line {n}: change type POC02 {:?} is not taken (AI, DI, CA, QD, QI, RZ, RQ, NC)",
                            crate::issue::bounded(other)
                        ));
                        return Ok(());
                    }
                };
                if action != "delete" && !s.raw(6).is_empty() {
                    self.refusals.push(format!(
                        "line {n}: a unit price (POC06) is not taken: prices come from our pricing"
                    ));
                }
                let quantity = if action == "delete" {
                    None
                } else {
                    Some(dec(s.raw(3), "POC03 quantity")?)
                };
                let mut sku = None;
                let mut gtin = None;
                let mut i = 8;
                while i < s.len() {
                    match s.raw(i) {
                        b"VP" | b"VN" | b"VC" | b"VA" | b"SK" if sku.is_none() => {
                            sku = s.opt(i + 1)
                        }
                        b"UP" | b"UK" | b"EN" | b"UA" | b"EO" | b"BP" | b"IN" if gtin.is_none() => {
                            gtin = s.opt(i + 1)
                        }
                        _ => {}
                    }
                    i += 2;
                }
                let sku = sku.or(gtin);
                if action == "add" && sku.is_none() {
                    return Err(format!(
                        "line {n}: an added line (POC02 AI) has no item number (POC08/POC09)"
                    ));
                }
                self.push(RequestedLine {
                    line_no: n,
                    action: action.into(),
                    quantity,
                    uom: s.comp(5, 1),
                    sku,
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn edifact(&mut self, s: &SegmentRef<'_, '_>) -> Result<(), String> {
        match s.tag() {
            "BGM" => {
                self.reference = s.comp(2, 1);
                self.purpose = match s.component(3, 1) {
                    b"4" | b"5" => Some("change".into()),
                    b"1" => Some("cancel".into()),
                    other => {
                        return Err(format!(
                            "BGM 1225 {:?}: ordo takes 4 (change) and 1 (cancellation)",
                            crate::issue::bounded(&String::from_utf8_lossy(other))
                        ));
                    }
                };
            }
            "RFF" if !self.in_lines && s.component(1, 1) == b"ON" => {
                self.po = self.po.take().or(s.comp(1, 2));
            }
            "DTM" if !self.in_lines => {
                let (q, v, f) = (s.component(1, 1), s.component(1, 2), s.component(1, 3));
                match q {
                    b"2" => {
                        self.requested =
                            Some(values::edifact_date(v, f).ok_or("DTM+2 is not a date")?)
                    }
                    b"171" | b"4" => self.po_date = values::edifact_date(v, f),
                    _ => {}
                }
            }
            "NAD" if !self.in_lines => {
                let a = Address {
                    lines: (1..=4).filter_map(|c| s.comp(5, c)).collect(),
                    city: s.opt(6),
                    region: s.opt(7),
                    postal_code: s.opt(8),
                    country: s.opt(9),
                };
                self.parties.push(Party {
                    role: super::role_of(s.text(1).trim()),
                    address: (a != Address::default()).then_some(a),
                    ..Party::default()
                });
            }
            "LIN" => {
                self.flush()?;
                self.in_lines = true;
                let n = line_no(s.raw(1), "LIN 1082")?;
                let action = match s.raw(2) {
                    b"1" => "add",
                    b"2" => "delete",
                    b"3" | b"" => "quantity",
                    b"4" => return Ok(()),
                    other => {
                        self.refusals.push(format!(
                            "line {n}: LIN action 1229 {:?} is not taken (1, 2, 3, 4)",
                            crate::issue::bounded(&String::from_utf8_lossy(other))
                        ));
                        return Ok(());
                    }
                };
                let sku = match s.comp(3, 2).as_deref() {
                    Some("SA") | Some("VN") | Some("VP") => s.comp(3, 1),
                    _ => {
                        self.gtin = s.comp(3, 1);
                        None
                    }
                };
                self.open = Some((
                    RequestedLine {
                        line_no: n,
                        action: action.into(),
                        quantity: None,
                        uom: None,
                        sku: None,
                    },
                    sku,
                ));
            }
            "PIA" => {
                if let Some((_, sku)) = self.open.as_mut() {
                    for e in 2..=6 {
                        if matches!(
                            s.comp(e, 2).as_deref(),
                            Some("SA") | Some("VN") | Some("VP")
                        ) && sku.is_none()
                        {
                            *sku = s.comp(e, 1);
                        }
                    }
                }
            }
            "QTY" => {
                if let Some((l, _)) = self.open.as_mut()
                    && s.component(1, 1) == b"21"
                {
                    l.quantity = Some(dec(s.component(1, 2), "QTY+21 quantity")?);
                    l.uom = s.comp(1, 3);
                }
            }
            "PRI" => {
                if let Some((l, _)) = self.open.as_ref() {
                    self.refusals.push(format!(
                        "line {}: a price (PRI) is not taken: prices come from our pricing",
                        l.line_no
                    ));
                }
            }
            "UNS" => self.flush()?,
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn opts() -> MapOptions {
        MapOptions {
            customer_id: "C-ACME".into(),
            partner: Some("acme".into()),
            default_currency: "USD".into(),
        }
    }

    fn x12(body: &str) -> String {
        let n = body.matches('~').count() + 2;
        format!(
            "ISA*00*          *00*          *ZZ*ACMEBUYER      *ZZ*ORDOSELLER     *261201*1200*U*00401*000000001*0*P*>~\
             GS*PC*ACMEBUYER*ORDOSELLER*20261201*1200*1*X*004010~ST*860*0001~{body}SE*{n}*0001~GE*1*1~IEA*1*000000001~"
        )
    }

    fn edifact(body: &str) -> String {
        let n = body.matches('\'').count() + 2;
        format!(
            "UNA:+.? 'UNB+UNOC:3+ACMEBUYER:ZZ+ORDOSELLER:ZZ+261201:1200+7'UNH+1+ORDCHG:D:96A:UN'{body}UNT+{n}+1'UNZ+1+7'"
        )
    }

    fn map(text: &str) -> Result<ChangeRequest, Box<Unreadable>> {
        let ich = crate::read(text.as_bytes())
            .next()
            .expect("an interchange")
            .expect("readable");
        let (_, _, t) = ich.transactions().next().expect("a set");
        to_change_request(&ich, t, &opts())
    }

    #[test]
    fn an_860_maps_quantity_add_delete_date_and_address() {
        let r = map(&x12(
            "BCH*04*SA*PO-7**3*20261120~DTM*002*20261215~N1*ST*Dock 2~N3*Elm Street 5~N4*Springfield*IL*62701*US~\
             POC*1*QD*2**EA~POC*2*DI~POC*3*AI*4**EA***VP*BOLT~POC*4*NC*1**EA~CTT*3~",
        ))
        .unwrap();
        assert_eq!(r.order_id, "C-ACME-PO-7");
        assert_eq!(r.reference, "3");
        assert_eq!(r.po_date, NaiveDate::from_ymd_opt(2026, 11, 20));
        let ChangeKind::Change { change } = &r.request else {
            panic!("{r:?}")
        };
        assert_eq!(change.lines.len(), 3);
        assert_eq!(change.lines[0].quantity, Some(dec!(2)));
        assert!(change.lines[1].remove);
        assert_eq!(change.lines[2].sku.as_deref(), Some("BOLT"));
        assert_eq!(change.requested_date, NaiveDate::from_ymd_opt(2026, 12, 15));
        assert_eq!(
            change.ship_to.as_ref().and_then(|a| a.city.as_deref()),
            Some("Springfield")
        );
        assert!(r.refusals.is_empty());
    }

    #[test]
    fn an_860_cancellation_and_hostile_860s() {
        let r = map(&x12("BCH*01*SA*PO-7**4*20261120~")).unwrap();
        assert!(matches!(r.request, ChangeKind::Cancel { .. }));
        let price = map(&x12("BCH*04*SA*PO-7**5*20261120~POC*1*PC*2**EA*9.99~")).unwrap();
        assert!(price.refusals[0].contains("price change"), "{price:?}");
        for (body, says) in [
            ("BCH*04*SA**~POC*1*QD*2**EA~", "no purchase order number"),
            ("BCH*00*SA*PO-7**1*20261120~", "BCH01"),
            (
                "BCH*04*SA*PO-7**1*20261120~POC*1*QD*lots**EA~",
                "not a number",
            ),
            (
                "BCH*04*SA*PO-7**1*20261120~POC**QD*2**EA~",
                "not a line number",
            ),
            (
                "BCH*04*SA*PO-7**1*20261120~POC*1*AI*2**EA~",
                "no item number",
            ),
        ] {
            let e = map(&x12(body)).unwrap_err();
            assert!(e.reason.contains(says), "{body}: {e:?}");
        }
        // The PO number survives a bad line, so the answer can name the order.
        let e = map(&x12("BCH*04*SA*PO-7**1*20261120~POC*1*QD*x**EA~")).unwrap_err();
        assert_eq!(e.po_number.as_deref(), Some("PO-7"));
        // A negative quantity is a number: apply_change refuses it (a rejecting 865).
        let neg = map(&x12("BCH*04*SA*PO-7**1*20261120~POC*1*QD*-2**EA~")).unwrap();
        let ChangeKind::Change { change } = neg.request else {
            panic!()
        };
        assert_eq!(change.lines[0].quantity, Some(dec!(-2)));
    }

    #[test]
    fn an_ordchg_maps_lines_and_cancellation() {
        let r = map(&edifact(
            "BGM+230+CHG-1+4'DTM+137:20261201:102'DTM+2:20261215:102'RFF+ON:PO-7'\
             LIN+1+3+WIDGET:SA'QTY+21:5:EA'LIN+2+2+GADGET:SA'LIN+3+1+4006381333931:EN'QTY+21:1'UNS+S'CNT+2:3'",
        ))
        .unwrap();
        assert_eq!(r.order_id, "C-ACME-PO-7");
        assert_eq!(r.reference, "CHG-1");
        let ChangeKind::Change { change } = &r.request else {
            panic!("{r:?}")
        };
        let got: Vec<(u32, Option<Decimal>, bool, Option<&str>)> = change
            .lines
            .iter()
            .map(|l| (l.line_no, l.quantity, l.remove, l.sku.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, Some(dec!(5)), false, None),
                (2, None, true, None),
                (3, Some(dec!(1)), false, Some("4006381333931")),
            ]
        );
        let c = map(&edifact(
            "BGM+230+CHG-2+1'DTM+137:20261201:102'RFF+ON:PO-7'",
        ))
        .unwrap();
        assert!(matches!(c.request, ChangeKind::Cancel { .. }));
        let e = map(&edifact(
            "BGM+230+CHG-3+4'DTM+137:20261201:102'LIN+1+3+W:SA'QTY+21:2'UNS+S'",
        ))
        .unwrap_err();
        assert!(e.reason.contains("RFF+ON"), "{e:?}");
        let e = map(&edifact("BGM+230+CHG-3+4'RFF+ON:PO-7'LIN+1+3+W:SA'UNS+S'")).unwrap_err();
        assert!(e.reason.contains("no quantity"), "{e:?}");
    }
}
