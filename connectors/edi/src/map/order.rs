//! 850 / ORDERS → canonical [`Order`].

use chrono::NaiveDate;
use ordo_contract::{Address, Order, OrderLine, Party, PartyId};
use rust_decimal::Decimal;

use super::{edifact_scheme, role_of, x12_scheme};
use crate::envelope::{Interchange, Transaction};
use crate::error::EdiError;
use crate::segment::SegmentRef;
use crate::syntax::Standard;
use crate::values;

/// What the EDI does not carry: who the customer is in ordo's master data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapOptions {
    /// The partner's customer id (partner profile); the order id is `{customer_id}-{po}`.
    pub customer_id: String,
    /// The trading partner id, copied to `Order::partner`.
    pub partner: Option<String>,
    /// Currency when the order has no CUR / CUX.
    pub default_currency: String,
}

/// Every 850 / ORDERS of the interchange mapped to an order (other sets are skipped).
pub fn orders(ich: &Interchange<'_>, opts: &MapOptions) -> Vec<Result<Order, EdiError>> {
    ich.transactions()
        .filter(|(_, _, t)| t.set_id == "850" || t.set_id == "ORDERS")
        .map(|(_, _, t)| to_order(ich, t, opts))
        .collect()
}

/// Maps one 850 or ORDERS transaction.
pub fn to_order(
    ich: &Interchange<'_>,
    t: &Transaction,
    opts: &MapOptions,
) -> Result<Order, EdiError> {
    let fail = |reason: String| EdiError::Mapping {
        interchange: ich.control_number.clone(),
        transaction: t.control_number.clone(),
        target: "Order",
        reason,
    };
    let mut b = Builder::default();
    // one line per PO1 / LIN: size the line list once instead of growing it
    let line_tag = if ich.standard == Standard::X12 {
        "PO1"
    } else {
        "LIN"
    };
    let n_lines = ich
        .segments
        .get(t.header..t.end)
        .map_or(0, |s| s.iter().filter(|s| s.tag == line_tag).count());
    b.lines.reserve_exact(n_lines);
    let segs = ich.transaction_segments(t);
    match (ich.standard, t.set_id.as_str()) {
        (Standard::X12, "850") => {
            for s in segs {
                b.x12(&s).map_err(&fail)?;
            }
        }
        (Standard::Edifact, "ORDERS") => {
            for s in segs {
                b.edifact(&s).map_err(&fail)?;
            }
        }
        (_, other) => return Err(fail(format!("{other} is not a purchase order"))),
    }
    b.flush_line().map_err(&fail)?;
    let po =
        b.po.ok_or_else(|| fail("no purchase order number (BEG03 / BGM 1004)".into()))?;
    let order_date = b
        .date
        .ok_or_else(|| fail("no order date (BEG05 / DTM 137)".into()))?;
    if b.lines.is_empty() {
        return Err(fail("no order lines (PO1 / LIN)".into()));
    }
    Ok(Order {
        id: format!("{}-{}", opts.customer_id, po),
        customer_id: opts.customer_id.clone(),
        po_number: po,
        order_date,
        requested_date: b.requested,
        // absent: CUR (850) and CUX (ORDERS) are optional; the partner profile's currency applies.
        currency: b.currency.unwrap_or_else(|| opts.default_currency.clone()),
        parties: b.parties,
        lines: b.lines,
        channel: if ich.standard == Standard::X12 {
            "edi-x12"
        } else {
            "edifact"
        }
        .into(),
        partner: opts.partner.clone(),
        notes: (!b.notes.is_empty()).then(|| b.notes.join("\n")),
    })
}

/// The quote an 850 / ORDERS names, when it names one: X12 header `REF*PR` (price quote
/// number), EDIFACT header `RFF+AAG` (offer number). The order is then the quote's
/// (`ordo_sales::quote::accept_quote_from`).
pub fn quote_named(ich: &Interchange<'_>, t: &Transaction) -> Option<String> {
    let mut in_lines = false;
    for s in ich.transaction_segments(t) {
        match (ich.standard, s.tag()) {
            (Standard::X12, "PO1") | (Standard::Edifact, "LIN") => in_lines = true,
            (Standard::X12, "REF") if !in_lines && s.raw(1) == b"PR" => return s.opt(2),
            (Standard::Edifact, "RFF") if !in_lines && s.component(1, 1) == b"AAG" => {
                return s.comp(1, 2);
            }
            _ => {}
        }
    }
    None
}

#[derive(Default)]
struct Builder {
    po: Option<String>,
    date: Option<NaiveDate>,
    requested: Option<NaiveDate>,
    currency: Option<String>,
    parties: Vec<Party>,
    lines: Vec<OrderLine>,
    line: Option<OrderLine>,
    gtin: Option<String>,
    notes: Vec<String>,
    in_lines: bool,
    /// Whether the open line got its quantity (PO102, or a QTY after LIN).
    line_qty: bool,
}

fn dec(v: &[u8], what: &str) -> Result<Decimal, String> {
    values::decimal(v).ok_or_else(|| {
        let v = crate::issue::bounded(&String::from_utf8_lossy(v));
        format!("{what} {v:?} is not a number")
    })
}

impl Builder {
    /// Closes the open line. A line without any item number or without a quantity is refused:
    /// an empty SKU or a quantity of zero would be invented.
    fn flush_line(&mut self) -> Result<(), String> {
        if let Some(mut l) = self.line.take() {
            if l.sku.is_empty() {
                l.sku = l
                    .vendor_part
                    .clone()
                    .or_else(|| self.gtin.clone())
                    .or_else(|| l.buyer_part.clone())
                    .ok_or_else(|| {
                        format!("line {} has no item number (PO1 / LIN / PIA)", l.line_no)
                    })?;
            }
            if !self.line_qty {
                return Err(format!("line {} has no quantity (QTY)", l.line_no));
            }
            self.lines.push(l);
        }
        self.gtin = None;
        self.line_qty = false;
        Ok(())
    }

    fn address(&mut self) -> Option<&mut Address> {
        let p = self.parties.last_mut()?;
        Some(p.address.get_or_insert_with(Address::default))
    }

    fn x12(&mut self, s: &SegmentRef<'_, '_>) -> Result<(), String> {
        match s.tag() {
            "BEG" => {
                self.po = s.opt(3);
                self.date = Some(values::date(s.raw(5)).ok_or("BEG05 is not a date")?);
            }
            "CUR" => self.currency = s.opt(2),
            "DTM" if !self.in_lines => {
                let d = values::date(s.raw(2));
                match s.raw(1) {
                    b"002" => self.requested = d.or(self.requested),
                    b"010" | b"037" | b"106" => self.requested = self.requested.or(d),
                    _ => {}
                }
            }
            "MSG" if !self.in_lines => self.notes.extend(s.opt(1)),
            "N1" if !self.in_lines => {
                let code = s.text(1);
                let mut p = Party {
                    role: role_of(code.trim()),
                    name: s.opt(2),
                    ..Party::default()
                };
                if let (Some(q), Some(v)) = (s.opt(3), s.opt(4)) {
                    p.ids.push(PartyId {
                        qualifier: x12_scheme(&q),
                        value: v,
                    });
                }
                self.parties.push(p);
            }
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
            "PO1" => {
                self.flush_line()?;
                self.in_lines = true;
                let n = self.lines.len() as u32 + 1;
                // absent: PO101 is optional; it is also alphanumeric (AN 1/20), and one that is
                // not a line number is replaced by the line's position like an absent one.
                let mut l = OrderLine {
                    line_no: crate::envelope::num(s.raw(1))
                        .and_then(|v| u32::try_from(v).ok())
                        .unwrap_or(n),
                    sku: String::new(),
                    buyer_part: None,
                    vendor_part: None,
                    description: None,
                    quantity: dec(s.raw(2), "PO102 quantity")?,
                    // PO102 and PO103 are paired (syntax note P0203): a quantity needs its unit.
                    uom: s.opt(3).ok_or_else(|| {
                        "PO103 unit of measure missing (PO102 needs it)".to_string()
                    })?,
                    unit_price: if s.raw(4).is_empty() {
                        None
                    } else {
                        Some(dec(s.raw(4), "PO104 price")?)
                    },
                };
                self.line_qty = true;
                let mut i = 6;
                while i < s.len() {
                    let has_vendor = l.vendor_part.is_some();
                    let slot = match s.raw(i) {
                        b"BP" | b"IN" | b"PI" => Some(&mut l.buyer_part),
                        b"VP" | b"VN" | b"VC" | b"VA" | b"SK" => Some(&mut l.vendor_part),
                        // a GTIN is only the fallback SKU: skip it once a vendor part is known
                        b"UP" | b"UK" | b"EN" | b"UA" | b"EO" if !has_vendor => {
                            Some(&mut self.gtin)
                        }
                        _ => None,
                    };
                    if let Some(slot) = slot.filter(|s| s.is_none()) {
                        *slot = s.opt(i + 1);
                    }
                    i += 2;
                }
                self.line = Some(l);
            }
            "PID" => {
                if let Some(l) = self.line.as_mut() {
                    l.description = l.description.take().or(s.opt(5));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn edifact(&mut self, s: &SegmentRef<'_, '_>) -> Result<(), String> {
        match s.tag() {
            "BGM" => self.po = s.comp(2, 1),
            "DTM" => {
                let (q, v, f) = (s.component(1, 1), s.component(1, 2), s.component(1, 3));
                let d = values::edifact_date(v, f);
                match q {
                    b"137" | b"4" if !self.in_lines => {
                        self.date = Some(d.ok_or("DTM 137 is not a date")?);
                    }
                    b"2" if !self.in_lines => self.requested = d.or(self.requested),
                    b"64" | b"69" if !self.in_lines => self.requested = self.requested.or(d),
                    _ => {}
                }
            }
            "CUX" => self.currency = self.currency.take().or(s.comp(1, 2)),
            "FTX" if !self.in_lines => {
                let t: Vec<String> = (1..=5).filter_map(|c| s.comp(4, c)).collect();
                if !t.is_empty() {
                    self.notes.push(t.join(" "));
                }
            }
            "NAD" if !self.in_lines => {
                let mut p = Party {
                    role: role_of(s.text(1).trim()),
                    ..Party::default()
                };
                if let Some(id) = s.comp(2, 1) {
                    p.ids.push(PartyId {
                        // absent: the code list agency (3055) is optional; the id is then unqualified.
                        qualifier: edifact_scheme(&s.comp(2, 3).unwrap_or_default()),
                        value: id,
                    });
                }
                let name: Vec<String> = (1..=5).filter_map(|c| s.comp(4, c)).collect();
                p.name = (!name.is_empty()).then(|| name.join(" "));
                let lines: Vec<String> = (1..=4).filter_map(|c| s.comp(5, c)).collect();
                let a = Address {
                    lines,
                    city: s.opt(6),
                    region: s.opt(7),
                    postal_code: s.opt(8),
                    country: s.opt(9),
                };
                if a != Address::default() {
                    p.address = Some(a);
                }
                self.parties.push(p);
            }
            "LIN" => {
                self.flush_line()?;
                self.in_lines = true;
                let n = self.lines.len() as u32 + 1;
                // absent: LIN 1082 is conditional and an..6; one that is not a number is replaced
                // by the line's position like an absent one. The quantity and, when QTY gives no
                // 6411 unit, the unit EA (pieces) are set below: a line without QTY is refused.
                let mut l = OrderLine {
                    line_no: s.text(1).trim().parse().unwrap_or(n),
                    sku: String::new(),
                    buyer_part: None,
                    vendor_part: None,
                    description: None,
                    quantity: Decimal::ZERO,
                    uom: "EA".into(),
                    unit_price: None,
                };
                self.item(&mut l, s.comp(3, 1), s.comp(3, 2));
                self.line = Some(l);
            }
            "PIA" => {
                if let Some(mut l) = self.line.take() {
                    for e in 2..=6 {
                        self.item(&mut l, s.comp(e, 1), s.comp(e, 2));
                    }
                    self.line = Some(l);
                }
            }
            "IMD" => {
                if let Some(l) = self.line.as_mut() {
                    let t: Vec<String> =
                        [s.comp(3, 4), s.comp(3, 5)].into_iter().flatten().collect();
                    if l.description.is_none() && !t.is_empty() {
                        l.description = Some(t.join(" "));
                    }
                }
            }
            "QTY" => {
                if let Some(l) = self.line.as_mut() {
                    let q = s.component(1, 1);
                    if q == b"21" || !self.line_qty {
                        l.quantity = dec(s.component(1, 2), "QTY quantity")?;
                        self.line_qty = true;
                        if let Some(u) = s.comp(1, 3) {
                            l.uom = u;
                        }
                    }
                }
            }
            "PRI" => {
                if let Some(l) = self.line.as_mut() {
                    let v = s.component(1, 2);
                    if !v.is_empty() && (s.component(1, 1) == b"AAA" || l.unit_price.is_none()) {
                        l.unit_price = Some(dec(v, "PRI price")?);
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// EDIFACT 7143 item number type: SA supplier's, IN/BP buyer's, EN/UP/SRV GTIN.
    fn item(&mut self, l: &mut OrderLine, number: Option<String>, kind: Option<String>) {
        let Some(v) = number else { return };
        match kind.as_deref() {
            Some("SA") | Some("VN") | Some("VP") => {
                l.vendor_part = l.vendor_part.take().or(Some(v))
            }
            Some("IN") | Some("BP") | Some("BY") => l.buyer_part = l.buyer_part.take().or(Some(v)),
            _ => self.gtin = self.gtin.take().or(Some(v)),
        }
    }
}
