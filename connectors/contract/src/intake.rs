//! Order intake: the one set of rules every channel (`ordo submit`, the inbox folder, EDI
//! 850/ORDERS) applies before an order exists in ordo.
//!
//! - [`Order::validate_bounds`]: ids bounded and printable, text fields bounded, quantities
//!   and prices within [`Bounds`] (the engine's `limits:`), every error naming the order, the
//!   line and the field.
//! - [`accept_order`]: the customer + PO number and the order id are *claimed* in the store
//!   ([`StepContext::claim_document`], an insert the database refuses when the key exists), so
//!   of concurrent intakes of the same PO exactly one wins on every backend; then the order
//!   document is stored and `order.received` sent, all in the caller's transaction.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::docs::Order;
use crate::step::{StepContext, StepError};

/// Bounds on an order at intake (the engine fills them from its `limits:` config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    /// Longest id (order id, customer, PO number, SKU, party ids), in characters.
    pub max_id_chars: usize,
    /// Longest free-text field (notes, descriptions, names, address lines), in characters.
    pub max_text_chars: usize,
    pub max_order_lines: usize,
    /// Largest quantity of a line (a quantity must also be greater than zero).
    pub max_quantity: Decimal,
    /// Largest stated unit price (a price must also not be negative).
    pub max_unit_price: Decimal,
    /// Longest excerpt of an input value quoted in an error.
    pub max_excerpt_chars: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_id_chars: 100,
            max_text_chars: 2_000,
            max_order_lines: 1_000,
            max_quantity: Decimal::from(10_000_000u32),
            max_unit_price: Decimal::from(100_000_000u32),
            max_excerpt_chars: 200,
        }
    }
}

use crate::excerpt;

/// Why an id is refused: empty, too long, or with a character that is not printable. Order
/// intake and master data import (`ordo data import`) both check ids with it.
pub fn id_problem(value: &str, max: usize) -> Option<String> {
    if value.trim().is_empty() {
        return Some("is empty".into());
    }
    let n = value.chars().count();
    if n > max {
        return Some(format!(
            "is {n} characters long, more than limits.max_id_chars ({max})"
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Some(format!(
            "contains the control character {} (ids must be printable)",
            c.escape_default()
        ));
    }
    None
}

/// Why a free text is refused: too long, or a control character other than a line break or tab.
pub fn text_problem(value: &str, max: usize) -> Option<String> {
    let n = value.chars().count();
    if n > max {
        return Some(format!(
            "is {n} characters long, more than limits.max_text_chars ({max})"
        ));
    }
    value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .map(|c| format!("contains the control character {}", c.escape_default()))
}

impl Order {
    /// Every bound of [`Bounds`] checked; each error reads `order 'ID' [line N]: FIELD …`.
    pub fn validate_bounds(&self, b: &Bounds) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        let name = format!("order '{}'", excerpt(&self.id, b.max_excerpt_chars.min(60)));
        let mut id = |at: &str, field: &str, v: &str| {
            if let Some(p) = id_problem(v, b.max_id_chars) {
                errors.push(format!("{name}{at}: {field} {p}"));
            }
        };
        id("", "id", &self.id);
        id("", "customer_id", &self.customer_id);
        id("", "po_number", &self.po_number);
        id("", "currency", &self.currency);
        if !self.channel.is_empty() {
            id("", "channel", &self.channel);
        }
        if let Some(p) = &self.partner {
            id("", "partner", p);
        }
        for (i, party) in self.parties.iter().enumerate() {
            for pid in &party.ids {
                id("", &format!("parties[{i}].ids"), &pid.value);
            }
        }
        for l in &self.lines {
            let at = format!(" line {}", l.line_no);
            id(&at, "sku", &l.sku);
            id(&at, "uom", &l.uom);
            for (f, v) in [
                ("buyer_part", &l.buyer_part),
                ("vendor_part", &l.vendor_part),
            ] {
                if let Some(v) = v {
                    id(&at, f, v);
                }
            }
        }
        let mut texts: Vec<(String, &str)> = Vec::new();
        if let Some(n) = &self.notes {
            texts.push(("notes".into(), n));
        }
        for (i, party) in self.parties.iter().enumerate() {
            if let Some(n) = &party.name {
                texts.push((format!("parties[{i}].name"), n));
            }
            if let Some(a) = &party.address {
                let fields = [&a.city, &a.region, &a.postal_code, &a.country];
                for line in a.lines.iter().chain(fields.into_iter().flatten()) {
                    texts.push((format!("parties[{i}].address"), line));
                }
            }
        }
        for (f, v) in texts {
            if let Some(p) = text_problem(v, b.max_text_chars) {
                errors.push(format!("{name}: {f} {p}"));
            }
        }
        if self.lines.len() > b.max_order_lines {
            errors.push(format!(
                "{name}: {} lines, more than limits.max_order_lines ({})",
                self.lines.len(),
                b.max_order_lines
            ));
        }
        for l in &self.lines {
            let at = format!("{name} line {}", l.line_no);
            if let Some(p) = l
                .description
                .as_deref()
                .and_then(|d| text_problem(d, b.max_text_chars))
            {
                errors.push(format!("{at}: description {p}"));
            }
            if l.quantity <= Decimal::ZERO {
                errors.push(format!(
                    "{at}: quantity {} must be greater than 0",
                    l.quantity
                ));
            } else if l.quantity > b.max_quantity {
                errors.push(format!(
                    "{at}: quantity {} is more than limits.max_quantity ({})",
                    l.quantity, b.max_quantity
                ));
            }
            match l.unit_price {
                Some(p) if p < Decimal::ZERO => {
                    errors.push(format!("{at}: unit_price {p} must not be negative"))
                }
                Some(p) if p > b.max_unit_price => errors.push(format!(
                    "{at}: unit_price {p} is more than limits.max_unit_price ({})",
                    b.max_unit_price
                )),
                _ => {}
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

/// What intake did with one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    /// Stored, claimed, `order.received` sent.
    Accepted,
    /// The same customer and PO, or the same order id, was received before (as order
    /// `earlier`): nothing written. [`Intake::duplicate_reason`] words it.
    Duplicate { earlier: String },
    /// Outside the bounds: nothing written.
    Invalid(Vec<String>),
}

impl Intake {
    /// `order 'ID' (customer C, PO P) was already VERB` (the same order again; `verb` is the
    /// channel's word: submitted, received) or `… was already received as order E`.
    pub fn duplicate_reason(order: &Order, earlier: &str, verb: &str) -> String {
        let what = format!(
            "order '{}' (customer {}, PO {})",
            order.id, order.customer_id, order.po_number
        );
        if earlier == order.id {
            format!("{what} was already {verb}")
        } else {
            format!("{what} was already received as order {earlier}")
        }
    }
}

/// The documents [`accept_order`] reads before it writes (kind, id): the order itself and its
/// customer + PO claim (`order_po`). A caller booking many orders in one transaction may read
/// them all in one query first (`Tx::prefetch_documents` in the engine).
pub fn intake_reads(order: &Order) -> [(&'static str, String); 2] {
    [("order", order.id.clone()), ("order_po", po_key(order))]
}

/// The id of an order's `order_po` claim: one order per customer and PO number.
pub fn po_key(order: &Order) -> String {
    format!("{}:{}", order.customer_id, order.po_number)
}

/// Takes one order in the caller's transaction: bounds checked, customer + PO (`order_po`)
/// and order id (`order`) claimed, `doc` (the order as stored, possibly with channel details)
/// written, `order.received` sent.
///
/// A duplicate writes nothing. A concurrent intake that took the same order id with another
/// PO between the first check and the claim fails the call as `Transient` (the caller rolls
/// back and tries again, and then sees the duplicate), so no claim is left half made.
pub async fn accept_order(
    ctx: &mut dyn StepContext,
    order: &Order,
    doc: &Value,
) -> Result<Intake, StepError> {
    let bounds = ctx.intake_bounds();
    if let Err(errors) = order.validate_bounds(&bounds) {
        return Ok(Intake::Invalid(errors));
    }
    if ctx.get_document("order", &order.id).await?.is_some() {
        return Ok(Intake::Duplicate {
            earlier: order.id.clone(),
        });
    }
    let po_key = po_key(order);
    if let Some(prev) = ctx
        .claim_document("order_po", &po_key, &json!({ "order": order.id }))
        .await?
    {
        return Ok(Intake::Duplicate {
            // Only quoted in the duplicate's reason (this function writes every `order_po` claim).
            earlier: prev["order"].as_str().unwrap_or("?").to_string(),
        });
    }
    if ctx.claim_document("order", &order.id, doc).await?.is_some() {
        return Err(StepError::Transient(format!(
            "order '{}' was taken by another intake meanwhile; try again",
            order.id
        )));
    }
    ctx.emit_event(
        "order.received",
        &order.id,
        "received",
        &json!({ "order": doc }),
    )
    .await?;
    Ok(Intake::Accepted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docs::OrderLine;
    use chrono::NaiveDate;
    use rust_decimal::dec;

    fn order(id: &str, qty: Decimal, price: Option<Decimal>) -> Order {
        Order {
            id: id.into(),
            customer_id: "C1".into(),
            po_number: "PO-1".into(),
            order_date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default(),
            requested_date: None,
            currency: "EUR".into(),
            parties: Vec::new(),
            lines: vec![OrderLine {
                line_no: 1,
                sku: "A".into(),
                buyer_part: None,
                vendor_part: None,
                description: None,
                quantity: qty,
                uom: "EA".into(),
                unit_price: price,
            }],
            channel: "json".into(),
            partner: None,
            notes: None,
        }
    }

    #[test]
    fn bounds_name_the_order_the_line_and_the_field() {
        let b = Bounds::default();
        assert_eq!(
            order("O1", dec!(3), Some(dec!(1.5))).validate_bounds(&b),
            Ok(())
        );
        let e = order("O1", dec!(0), None).validate_bounds(&b).unwrap_err();
        assert_eq!(
            e,
            vec!["order 'O1' line 1: quantity 0 must be greater than 0"]
        );
        let e = order("O1", dec!(-2), Some(dec!(-1)))
            .validate_bounds(&b)
            .unwrap_err();
        assert!(
            e[1].contains("order 'O1' line 1: unit_price -1 must not be negative"),
            "{e:?}"
        );
        let e = order(
            "O1",
            dec!(7000000000000000000000000000.0),
            Some(dec!(100000001)),
        )
        .validate_bounds(&b)
        .unwrap_err();
        assert!(e[0].contains("line 1: quantity 7000000000000000000000000000.0 is more than limits.max_quantity (10000000)"), "{e:?}");
        assert!(
            e[1].contains("unit_price 100000001 is more than limits.max_unit_price"),
            "{e:?}"
        );
        let mut o = order("O1", dec!(1), None);
        o.lines = (1..=1001)
            .map(|n| OrderLine {
                line_no: n,
                ..o.lines[0].clone()
            })
            .collect();
        let e = o.validate_bounds(&b).unwrap_err();
        assert_eq!(
            e,
            vec!["order 'O1': 1001 lines, more than limits.max_order_lines (1000)"]
        );
    }

    #[test]
    fn ids_are_bounded_and_printable_and_quoted_as_excerpts() {
        let b = Bounds::default();
        let long = "X".repeat(70_000);
        let e = order(&long, dec!(1), None).validate_bounds(&b).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(
            e[0].contains("id is 70000 characters long, more than limits.max_id_chars (100)"),
            "{e:?}"
        );
        assert!(
            e[0].chars().count() < 200,
            "the id is quoted as an excerpt: {}",
            e[0]
        );
        let e = order("A\0B", dec!(1), None)
            .validate_bounds(&b)
            .unwrap_err();
        assert_eq!(
            e,
            vec![
                "order 'A\\u{0}B': id contains the control character \\u{0} (ids must be printable)"
            ]
        );
        let mut o = order("O\nX", dec!(1), None);
        o.lines[0].sku = String::new();
        o.notes = Some("n".repeat(2_001));
        let e = o.validate_bounds(&b).unwrap_err();
        assert!(
            e.iter()
                .any(|x| x.contains("id contains the control character \\n")),
            "{e:?}"
        );
        assert!(
            e.iter().any(|x| x.contains("line 1: sku is empty")),
            "{e:?}"
        );
        assert!(
            e.iter().any(|x| x
                .contains("notes is 2001 characters long, more than limits.max_text_chars (2000)")),
            "{e:?}"
        );
        assert_eq!(excerpt("ab\ncd", 10), "ab\\ncd");
        assert_eq!(excerpt("abcdef", 3), "abc… (6 characters)");
    }
}
