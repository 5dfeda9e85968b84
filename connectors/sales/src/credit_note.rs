//! Credit notes: an invoice of the opposite sign, in its own gapless series (`credit_note`,
//! `CN-000001`), that names the invoice it corrects (`corrects`) and why (`reason`).
//!
//! [`issue_credit_note`] is the one function every entry point calls (`ordo credit-note`, the
//! API's `POST /api/v1/invoices/{number}/credit-notes`, the `credit_note.issue` connector a
//! workflow step uses, and later returns and complaints). In the caller's transaction it:
//!
//! - credits whole invoice lines or part of their quantity. Amounts come from
//!   [`crate::invoice::line_amounts`], the invoice's own computation with the rate the invoice
//!   charged; a credit that brings a line to its full quantity credits exactly what is left of
//!   that line's net and tax, so the credit notes of an invoice add up to its total to the cent
//!   and never beyond. No lines: everything still uncredited (cancelling an invoice; it is
//!   never deleted or renumbered).
//! - refuses, with nothing written: an unknown invoice or line, a quantity that is not
//!   positive or exceeds what is left uncredited on the line, an empty reason, an invoice
//!   fully credited already.
//! - takes the credit off the invoice's open amount (`applied`); what exceeds it (the invoice
//!   was paid) becomes customer credit (`credit:<customer>@ledger`). An invoice brought to
//!   zero this way is `cancelled` when nothing was paid on it, else `paid`.
//! - posts the `credit_note` event (rules/posting.rhai), stores `credit_note/<number>`, queues
//!   it to outbound `credit-notes` and emits `credit_note.issued` (for partners' EDI) and, when it
//!   closed the invoice, `payment.matched` with outcome `credited` to the invoice's collection
//!   instance (workflows/invoice-collection.yaml ends it).
//!
//! Concurrent credit notes on one invoice are serialized by the store: the first write is the
//! invoice's credit-note counter (`credit-notes:<invoice>@ledger`, a row-locked
//! read-modify-write on both backends) before the invoice is read.

use crate::checked;
use crate::invoice::line_amounts;
use crate::master::{self, currency_decimals};
use async_trait::async_trait;
use ordo_contract::{
    Connector, Invoice, InvoiceCollection, InvoiceLine, StepContext, StepError, StepInput,
    StepOutput, data_field, from_doc,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const SERIES: &str = "credit_note";
pub const PREFIX: &str = "CN-";
pub const ISSUED_EVENT: &str = "credit_note.issued";
/// The outbound channel credit notes are delivered to (like `invoices`).
pub const OUTBOUND: &str = "credit-notes";
/// A reason is kept for a person and printed: bounded.
pub const MAX_REASON: usize = 500;

/// One line to credit: the invoice's line number and the quantity taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditLine {
    pub line_no: u32,
    pub quantity: Decimal,
}

/// What the credit notes of an invoice took back per line so far (`credited` in the stored
/// invoice, by line number; absent until the first credit note).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credited {
    pub quantity: Decimal,
    pub net: Decimal,
    pub tax: Decimal,
}

/// The fields of a stored invoice this module reads beside the canonical invoice and its
/// collection state.
#[derive(Debug, Default, Deserialize)]
struct CreditState {
    #[serde(default)]
    credited: BTreeMap<String, Credited>,
    #[serde(default)]
    credit_notes: Vec<String>,
    #[serde(default)]
    po_number: Option<String>,
    #[serde(default)]
    tax_note: Option<String>,
}

/// The credit note's lines for `request` (None: all that is uncredited), from the invoice and
/// what earlier credit notes took (pure; the numbering and storing are the caller's). Returns
/// the lines and the updated per-line record.
pub fn credit_lines(
    inv: &Invoice,
    credited: &BTreeMap<String, Credited>,
    request: Option<&[CreditLine]>,
) -> Result<(Vec<InvoiceLine>, BTreeMap<String, Credited>), String> {
    let dp = currency_decimals(&inv.currency);
    let mut after = credited.clone();
    let wanted: Vec<CreditLine> = match request {
        Some([]) => return Err("no lines to credit".into()),
        Some(r) => r.to_vec(),
        None => inv
            .lines
            .iter()
            .filter_map(|l| {
                let done = credited
                    .get(&l.line_no.to_string())
                    .map_or(Decimal::ZERO, |c| c.quantity);
                let left = l.quantity - done;
                (left > Decimal::ZERO).then_some(CreditLine {
                    line_no: l.line_no,
                    quantity: left,
                })
            })
            .collect(),
    };
    if wanted.is_empty() {
        return Err(format!("invoice {} is fully credited already", inv.number));
    }
    let mut out = Vec::with_capacity(wanted.len());
    for w in wanted {
        let at = |f: &str| {
            format!(
                "credit note for invoice {} line {} {f}",
                inv.number, w.line_no
            )
        };
        let line = inv
            .lines
            .iter()
            .find(|l| l.line_no == w.line_no)
            .ok_or_else(|| format!("invoice {} has no line {}", inv.number, w.line_no))?;
        if w.quantity <= Decimal::ZERO {
            return Err(format!(
                "line {}: quantity to credit must be positive, got {}",
                w.line_no, w.quantity
            ));
        }
        let key = w.line_no.to_string();
        let done = after.entry(key).or_default();
        let total_qty = checked::add(done.quantity, w.quantity, || at("quantity"))
            .map_err(|e| e.to_string())?;
        if total_qty > line.quantity {
            return Err(format!(
                "line {}: {} to credit but only {} of {} left uncredited",
                w.line_no,
                w.quantity,
                line.quantity - done.quantity,
                line.quantity
            ));
        }
        let (net, tax) = if total_qty == line.quantity {
            // The last of the line: exactly what is left, so the credits add up to the line.
            (line.net_amount - done.net, line.tax_amount - done.tax)
        } else {
            let (net, tax) = line_amounts(w.quantity, line.unit_price, line.tax_rate, dp, &at)?;
            // Rounding per partial credit may never take more than the line charged.
            let left_net = line.net_amount - done.net;
            let left_tax = line.tax_amount - done.tax;
            (net.min(left_net), tax.min(left_tax))
        };
        done.quantity = total_qty;
        done.net = checked::add(done.net, net, || at("net")).map_err(|e| e.to_string())?;
        done.tax = checked::add(done.tax, tax, || at("tax")).map_err(|e| e.to_string())?;
        out.push(InvoiceLine {
            line_no: line.line_no,
            sku: line.sku.clone(),
            description: line.description.clone(),
            quantity: w.quantity,
            uom: line.uom.clone(),
            unit_price: line.unit_price,
            net_amount: net,
            tax_rate: line.tax_rate,
            tax_amount: tax,
        });
    }
    Ok((out, after))
}

/// Issues a credit note for `invoice` in the caller's transaction (see the module docs).
/// Returns the stored credit note.
pub async fn issue_credit_note(
    ctx: &mut dyn StepContext,
    invoice: &str,
    lines: Option<&[CreditLine]>,
    reason: &str,
) -> Result<Value, StepError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(StepError::Permanent(
            "a credit note needs a reason (--reason)".into(),
        ));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(StepError::Permanent(format!(
            "the reason is longer than {MAX_REASON} characters"
        )));
    }
    if invoice.is_empty() || invoice.len() > 64 {
        return Err(StepError::Permanent(format!(
            "'{}' is not an invoice number",
            ordo_contract::excerpt(invoice, 40)
        )));
    }
    // The serialization point: row-locked until commit, before the invoice is read.
    ctx.adjust_stock(
        &format!("credit-notes:{invoice}"),
        master::LEDGER,
        Decimal::ONE,
    )
    .await?;
    let mut doc = ctx
        .get_document("invoice", invoice)
        .await?
        .ok_or_else(|| StepError::Permanent(format!("no invoice '{invoice}'")))?;
    let inv: Invoice = from_doc("invoice", invoice, &doc)?;
    let mut state: InvoiceCollection = from_doc("invoice", invoice, &doc)?;
    let cs: CreditState = from_doc("invoice", invoice, &doc)?;
    let (cn_lines, credited) = credit_lines(&inv, &cs.credited, lines)
        .map_err(|e| StepError::Permanent(format!("invoice {invoice}: {e}")))?;
    let at = |f: &'static str| move || format!("credit note for invoice {invoice} {f}");
    let net_total = checked::sum(cn_lines.iter().map(|l| l.net_amount), at("net_total"))?;
    let tax_total = checked::sum(cn_lines.iter().map(|l| l.tax_amount), at("tax_total"))?;
    let total = checked::add(net_total, tax_total, at("total"))?;
    let n = ctx.next_number(SERIES).await?;
    let number = format!("{PREFIX}{n:06}");
    let today = master::today(ctx);
    let cn = Invoice {
        number: number.clone(),
        order_id: inv.order_id.clone(),
        shipment_id: inv.shipment_id.clone(),
        customer_id: inv.customer_id.clone(),
        issue_date: today,
        // Nothing is due on a credit note: it is settled by being issued.
        due_date: today,
        currency: inv.currency.clone(),
        terms: inv.terms.clone(),
        lines: cn_lines,
        net_total,
        tax_total,
        total,
    };
    cn.check_totals()
        .map_err(|e| StepError::Permanent(format!("credit note {number}: {e}")))?;
    // Off the open amount first; the rest was paid and goes back to the customer as credit.
    let applied = total.min(state.open_amount.max(Decimal::ZERO));
    let credit = checked::sub(total, applied, at("credit"))?;
    let customer = inv.customer_id.clone();
    if !applied.is_zero() {
        ctx.adjust_stock(&master::ar_key(&customer), master::LEDGER, -applied)
            .await?;
        if state.overdue {
            ctx.adjust_stock(&master::overdue_key(&customer), master::LEDGER, -applied)
                .await?;
        }
    }
    if !credit.is_zero() {
        ctx.adjust_stock(&master::credit_key(&customer), master::LEDGER, credit)
            .await?;
    }
    state.open_amount = checked::sub(state.open_amount, applied, at("open_amount"))?;
    if state.open_amount.is_zero() && state.status != "paid" {
        let nothing_paid = state.paid_amount.is_zero() && state.discount_taken.is_zero();
        state.status = if nothing_paid { "cancelled" } else { "paid" }.into();
    }
    state.write_into(&mut doc).map_err(StepError::Permanent)?;
    let mut notes = cs.credit_notes;
    notes.push(number.clone());
    doc["credited"] = json!(credited);
    doc["credit_notes"] = json!(notes);
    ctx.put_document("invoice", invoice, &doc).await?;

    let mut cn_doc =
        serde_json::to_value(&cn).map_err(|e| StepError::Permanent(format!("{number}: {e}")))?;
    cn_doc["document"] = json!("credit_note");
    cn_doc["corrects"] = json!(invoice);
    cn_doc["reason"] = json!(reason);
    cn_doc["applied"] = json!(applied);
    cn_doc["credit"] = json!(credit);
    cn_doc["po_number"] = json!(cs.po_number);
    cn_doc["tax_note"] = json!(cs.tax_note);
    ctx.put_document("credit_note", &number, &cn_doc).await?;
    ctx.post(&crate::posting::credit_note(&cn, invoice, applied, credit)?)
        .await?;
    ctx.send_outbound(OUTBOUND, &number, &cn_doc).await?;
    let summary = json!({ "number": number, "corrects": invoice, "customer_id": customer,
                          "order_id": cn.order_id, "total": total, "currency": cn.currency,
                          "applied": applied, "credit": credit, "invoice_status": state.status });
    ctx.emit_event(
        ISSUED_EVENT,
        &number,
        "issued",
        &json!({ "credit_note": summary }),
    )
    .await?;
    if state.is_closed() && !applied.is_zero() {
        // This credit note closed the invoice: its collection instance (waiting for a
        // payment) ends instead of dunning.
        ctx.emit_event(
            crate::PAYMENT_EVENT,
            invoice,
            "credited",
            &json!({ "credit_note": summary }),
        )
        .await?;
    }
    Ok(cn_doc)
}

/// `credit_note.issue`: a credit note from a workflow step (returns, complaints). Params or
/// data: `invoice` (number), `reason`, optional `lines` `[{line_no, quantity}]`. Outcome
/// `issued`; sets `credit_note` to the stored credit note.
pub struct IssueCreditNote;

#[async_trait]
impl Connector for IssueCreditNote {
    fn name(&self) -> &'static str {
        "credit_note.issue"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["issued"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        // `with:` wins over the instance data, as for the other connectors' parameters.
        let pick = |key: &str| {
            if input.params.get(key).is_some() {
                input.params
            } else {
                input.data
            }
        };
        let invoice: String = data_field(pick("invoice"), "invoice")?;
        let reason: String = data_field(pick("reason"), "reason")?;
        let lines: Option<Vec<CreditLine>> = match pick("lines").get("lines") {
            None | Some(Value::Null) => None,
            Some(_) => Some(data_field(pick("lines"), "lines")?),
        };
        let cn = issue_credit_note(ctx, &invoice, lines.as_deref(), &reason).await?;
        Ok(StepOutput::outcome("issued").with("credit_note", cn))
    }
}

/// `invoice.still_open`: after a `credited` event, whether the invoice's collection goes on.
/// Outcomes `open` (wait for payment again) and `closed` (credited to zero: cancelled or paid).
pub struct StillOpen;

#[derive(Deserialize)]
struct InvoiceRef {
    number: String,
}

#[async_trait]
impl Connector for StillOpen {
    fn name(&self) -> &'static str {
        "invoice.still_open"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["open", "closed"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let number = data_field::<InvoiceRef>(input.data, "invoice")?.number;
        let doc = ctx
            .get_document("invoice", &number)
            .await?
            .ok_or_else(|| StepError::Permanent(format!("no invoice '{number}'")))?;
        let state: InvoiceCollection = from_doc("invoice", &number, &doc)?;
        let outcome = if state.is_closed() { "closed" } else { "open" };
        Ok(StepOutput::outcome(outcome).with(
            "collection",
            json!({ "status": state.status, "open_amount": state.open_amount }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryContext, run};
    use chrono::NaiveDate;
    use ordo_contract::{Order, Package, Shipment, ShipmentLine};
    use rust_decimal::dec;

    /// INV-000001 for C1: line 1 3 × 0.335 at 7 % (1.01 + 0.07), line 2 3 × 19.99 at 19 %
    /// (59.97 + 11.39): total 72.44, stored with its collection state as `invoice.create` does.
    fn stored_invoice(ctx: &mut MemoryContext) -> Invoice {
        let order: Order = serde_json::from_value(json!({ "id": "C1-PO1", "customer_id": "C1", "po_number": "PO1", "order_date": "2026-09-21", "currency": "EUR", "lines": [] })).unwrap();
        let shipment = Shipment {
            id: "SH-000001".into(),
            order_id: "C1-PO1".into(),
            ship_date: NaiveDate::from_ymd_opt(2026, 9, 21).unwrap(),
            carrier: "DHL".into(),
            service: "parcel".into(),
            tracking_number: "T".into(),
            ship_to: None,
            packages: vec![Package {
                sscc: "x".into(),
                weight_kg: dec!(1),
                lines: [(1, "WIDGET"), (2, "GADGET")]
                    .iter()
                    .map(|(n, sku)| ShipmentLine {
                        line_no: *n,
                        sku: (*sku).into(),
                        quantity: dec!(3),
                        uom: "EA".into(),
                    })
                    .collect(),
            }],
        };
        let pricing = crate::testing::pricing(&[
            (1, "WIDGET", dec!(0.335), "reduced"),
            (2, "GADGET", dec!(19.99), "standard"),
        ]);
        let tax: crate::Tax =
            serde_json::from_value(json!({ "rates": { "standard": 19, "reduced": 7 } })).unwrap();
        let (inv, extra) = crate::build_invoice(
            "INV-000001".into(),
            &order,
            &shipment,
            &pricing,
            &tax,
            "net 30",
            NaiveDate::from_ymd_opt(2026, 9, 21).unwrap(),
        )
        .unwrap();
        let doc = crate::invoice::invoice_doc(&inv, &extra).unwrap();
        ctx.docs.insert(("invoice".into(), inv.number.clone()), doc);
        ctx.stock
            .insert((master::ar_key("C1"), master::LEDGER.into()), inv.total);
        inv
    }

    fn level(ctx: &MemoryContext, key: String) -> Decimal {
        ctx.stock
            .get(&(key, master::LEDGER.to_string()))
            .copied()
            .unwrap_or_default()
    }

    fn invoice_state(ctx: &MemoryContext) -> Value {
        ctx.docs[&("invoice".to_string(), "INV-000001".to_string())].clone()
    }

    fn line(line_no: u32, quantity: Decimal) -> CreditLine {
        CreditLine { line_no, quantity }
    }

    #[test]
    fn partial_credits_use_the_invoice_computation_and_the_last_takes_exactly_the_rest() {
        let mut ctx = MemoryContext::default();
        let inv = stored_invoice(&mut ctx);
        // 1 of 3 × 19.99 at 19 %: 19.99 + 3.80 (3.7981).
        let (l, after) = credit_lines(&inv, &BTreeMap::new(), Some(&[line(2, dec!(1))])).unwrap();
        assert_eq!(
            (l[0].net_amount, l[0].tax_amount),
            (dec!(19.99), dec!(3.80))
        );
        // The other 2: what is left of 59.97 and 11.39, not 2 × the unit re-rounded.
        let (l, after) = credit_lines(&inv, &after, Some(&[line(2, dec!(2))])).unwrap();
        assert_eq!(
            (l[0].net_amount, l[0].tax_amount),
            (dec!(39.98), dec!(7.59))
        );
        assert_eq!(
            after["2"],
            Credited {
                quantity: dec!(3),
                net: dec!(59.97),
                tax: dec!(11.39)
            }
        );
        // Everything else: line 1 only.
        let (l, _) = credit_lines(&inv, &after, None).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!((l[0].line_no, l[0].quantity), (1, dec!(3)));
        assert_eq!((l[0].net_amount, l[0].tax_amount), (dec!(1.01), dec!(0.07)));
    }

    #[test]
    fn hostile_requests_are_refused_by_name() {
        let mut ctx = MemoryContext::default();
        let inv = stored_invoice(&mut ctx);
        let none = BTreeMap::new();
        let e = |r: &[CreditLine]| credit_lines(&inv, &none, Some(r)).unwrap_err();
        assert_eq!(e(&[line(9, dec!(1))]), "invoice INV-000001 has no line 9");
        assert_eq!(
            e(&[line(2, dec!(0))]),
            "line 2: quantity to credit must be positive, got 0"
        );
        assert_eq!(
            e(&[line(2, dec!(-1))]),
            "line 2: quantity to credit must be positive, got -1"
        );
        assert_eq!(
            e(&[line(2, dec!(4))]),
            "line 2: 4 to credit but only 3 of 3 left uncredited"
        );
        // The same line twice in one request counts together.
        assert_eq!(
            e(&[line(2, dec!(2)), line(2, dec!(2))]),
            "line 2: 2 to credit but only 1 of 3 left uncredited"
        );
        assert_eq!(e(&[]), "no lines to credit");
        let (_, all) = credit_lines(&inv, &none, None).unwrap();
        assert_eq!(
            credit_lines(&inv, &all, None).unwrap_err(),
            "invoice INV-000001 is fully credited already"
        );
        assert_eq!(
            credit_lines(&inv, &all, Some(&[line(1, dec!(0.001))])).unwrap_err(),
            "line 1: 0.001 to credit but only 0 of 3 left uncredited"
        );
    }

    #[tokio::test]
    async fn cancelling_an_open_invoice_credits_it_whole_and_closes_it() {
        let mut ctx = MemoryContext::seeded();
        let inv = stored_invoice(&mut ctx);
        let cn = issue_credit_note(&mut ctx, "INV-000001", None, "cancelled: wrong customer")
            .await
            .unwrap();
        assert_eq!(cn["number"], "CN-000001");
        assert_eq!(cn["corrects"], "INV-000001");
        assert_eq!(cn["total"], json!(inv.total));
        assert_eq!(cn["applied"], json!(inv.total));
        assert_eq!(cn["credit"], json!(dec!(0.00)));
        let stored = invoice_state(&ctx);
        assert_eq!(stored["status"], "cancelled");
        assert_eq!(stored["open_amount"], json!(dec!(0.00)));
        assert_eq!(stored["number"], "INV-000001", "never renumbered");
        assert_eq!(stored["credit_notes"], json!(["CN-000001"]));
        assert_eq!(level(&ctx, master::ar_key("C1")), Decimal::ZERO);
        assert_eq!(level(&ctx, master::credit_key("C1")), Decimal::ZERO);
        let p = ctx.posted("credit_note");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].facts["applied"], json!(inv.total));
        assert_eq!(
            p[0].facts["taxes"],
            json!([ { "rate": dec!(7), "net": dec!(1.01), "tax": dec!(0.07) },
                    { "rate": dec!(19), "net": dec!(59.97), "tax": dec!(11.39) } ])
        );
        assert!(
            ctx.outbound
                .contains_key(&(OUTBOUND.to_string(), "CN-000001".to_string()))
        );
        // The collection instance is told (it ends), and partners' EDI can start.
        let told: Vec<_> = ctx
            .events
            .iter()
            .map(|e| (e.0.as_str(), e.2.as_str()))
            .collect();
        assert!(told.contains(&(ISSUED_EVENT, "issued")), "{told:?}");
        assert!(
            told.contains(&(crate::PAYMENT_EVENT, "credited")),
            "{told:?}"
        );
        assert_eq!(ctx.numbers[SERIES], 1);
        // Nothing left to credit: refused.
        let e = issue_credit_note(&mut ctx, "INV-000001", None, "again")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("fully credited already"), "{e}");
    }

    #[tokio::test]
    async fn a_credit_note_on_a_paid_invoice_becomes_customer_credit() {
        let mut ctx = MemoryContext::seeded();
        let inv = stored_invoice(&mut ctx);
        // Paid but for 10.00.
        let key = ("invoice".to_string(), "INV-000001".to_string());
        let paid = inv.total - dec!(10.00);
        ctx.docs.get_mut(&key).unwrap()["open_amount"] = json!(dec!(10.00));
        ctx.docs.get_mut(&key).unwrap()["paid_amount"] = json!(paid);
        ctx.docs.get_mut(&key).unwrap()["status"] = json!("partially_paid");
        ctx.stock
            .insert((master::ar_key("C1"), master::LEDGER.into()), dec!(10.00));
        // 2 × 19.99 + 19 %: 39.98 + 7.60 = 47.58: 10.00 off the invoice, 37.58 credit.
        let cn = issue_credit_note(&mut ctx, "INV-000001", Some(&[line(2, dec!(2))]), "damaged")
            .await
            .unwrap();
        assert_eq!(cn["total"], json!(dec!(47.58)));
        assert_eq!(cn["applied"], json!(dec!(10.00)));
        assert_eq!(cn["credit"], json!(dec!(37.58)));
        let stored = invoice_state(&ctx);
        assert_eq!(stored["status"], "paid");
        assert_eq!(level(&ctx, master::ar_key("C1")), Decimal::ZERO);
        assert_eq!(level(&ctx, master::credit_key("C1")), dec!(37.58));
        assert_eq!(stored["credited"]["2"]["quantity"], json!(dec!(2)));
    }

    #[tokio::test]
    async fn a_refused_credit_note_takes_no_number_and_a_missing_reason_or_invoice_is_named() {
        let mut ctx = MemoryContext::seeded();
        stored_invoice(&mut ctx);
        let e = issue_credit_note(&mut ctx, "INV-000001", Some(&[line(2, dec!(5))]), "x")
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invoice INV-000001: line 2: 5 to credit but only 3 of 3 left uncredited"
        );
        assert!(!ctx.numbers.contains_key(SERIES));
        let e = issue_credit_note(&mut ctx, "INV-000001", None, "  ")
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs a reason"), "{e}");
        let e = issue_credit_note(&mut ctx, "INV-404", None, "x")
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(e, "no invoice 'INV-404'");
    }

    #[tokio::test]
    async fn the_connector_issues_from_a_workflow_step() {
        let mut ctx = MemoryContext::seeded();
        stored_invoice(&mut ctx);
        let out = run(
            &IssueCreditNote,
            &mut ctx,
            json!({ "invoice": "INV-000001" }),
            json!({ "reason": "return RMA-1", "lines": [ { "line_no": 1, "quantity": 1 } ] }),
        )
        .await;
        assert_eq!(out.outcome, "issued");
        assert_eq!(
            out.set["credit_note"]["lines"][0]["quantity"],
            json!(dec!(1))
        );
        assert_eq!(invoice_state(&ctx)["status"], "open");
        let out = run(
            &StillOpen,
            &mut ctx,
            json!({ "invoice": { "number": "INV-000001" } }),
            json!({}),
        )
        .await;
        assert_eq!(out.outcome, "open");
    }
}
