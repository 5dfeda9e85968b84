//! Payments and dunning on invoices.
//!
//! - [`record_payment`] (behind `ordo pay INVOICE AMOUNT`, until bank reconciliation sends the
//!   same event) stores `payment/PAY-000001` and emits `payment.matched` keyed by the invoice
//!   number; the invoice's collection instance applies it.
//! - `payment.apply`: applies a payment to its invoice. Within the discount period, paying the
//!   total less the early-payment discount settles the invoice (`discount_taken`); a partial
//!   payment keeps it open; an overpayment settles it and books the excess as customer credit
//!   (`credit:<customer>@ledger`). Outcomes `paid` / `partial`. Applying the same payment twice
//!   is a no-op. Posts the payment with its discount, written-off difference and credit.
//! - `dunning.check`: when the invoice is past due, sends the highest reminder level due that
//!   was not sent yet (`with.levels`, from the workflow) to outbound `dunning-letters`, and hands
//!   the invoice to collection after `with.collection_after_days`. Outcomes `not_due`,
//!   `reminded`, `collection`. A paid invoice never reaches it: its instance has ended.

use crate::checked;
use crate::master::data_field;
use crate::master::{self, round_money};
use async_trait::async_trait;
use chrono::NaiveDate;
use ordo_contract::ledger::{Posting, events};
use ordo_contract::{
    AppliedPayment, Connector, InvoiceCollection, Money, Payment, Reminder, StepContext, StepError,
    StepInput, StepOutput, from_doc,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

pub struct ApplyPayment;
pub struct DunningCheck;

pub const PAYMENT_EVENT: &str = "payment.matched";

/// The stored invoice and its collection state, read typed (a missing or mistyped field fails
/// the step naming the invoice and the field).
async fn invoice_doc(
    ctx: &mut dyn StepContext,
    number: &str,
) -> Result<(Value, InvoiceCollection), StepError> {
    let doc = ctx
        .get_document("invoice", number)
        .await?
        .ok_or_else(|| StepError::Permanent(format!("no invoice '{number}'")))?;
    let state = from_doc("invoice", number, &doc)?;
    Ok((doc, state))
}

/// Writes the collection state back into the stored invoice, keeping its other fields.
async fn put_invoice(
    ctx: &mut dyn StepContext,
    mut doc: Value,
    state: &InvoiceCollection,
) -> Result<(), StepError> {
    state.write_into(&mut doc).map_err(StepError::Permanent)?;
    ctx.put_document("invoice", &state.number, &doc).await?;
    Ok(())
}

/// The invoice a collection instance is about (`invoice` in its instance data: the summary
/// `invoice.issued` carries).
#[derive(Deserialize)]
struct InvoiceRef {
    number: String,
}

/// Records a payment received for an invoice and tells the invoice's collection instance.
pub async fn record_payment(
    ctx: &mut dyn StepContext,
    invoice: &str,
    amount: Decimal,
    received_on: Option<NaiveDate>,
    reference: Option<&str>,
) -> Result<Value, StepError> {
    let (_, inv) = invoice_doc(ctx, invoice).await?;
    if amount <= Decimal::ZERO {
        return Err(StepError::Permanent(format!(
            "payment amount must be positive, got {amount}"
        )));
    }
    if inv.is_closed() {
        return Err(StepError::Permanent(format!(
            "invoice {invoice} is {} already; book the money as customer credit instead",
            inv.status
        )));
    }
    let n = ctx.next_number("payment").await?;
    let id = format!("PAY-{n:06}");
    let payment = Payment {
        id: id.clone(),
        amount: Money::new(amount, inv.currency),
        // Not given (`ordo pay` without --on): received today.
        received_on: received_on.unwrap_or_else(|| master::today(ctx)),
        invoice_number: Some(invoice.to_string()),
        customer_id: Some(inv.customer_id),
        reference: reference.map(str::to_string),
        adjustment: None,
    };
    let payment =
        serde_json::to_value(&payment).map_err(|e| StepError::Permanent(format!("{id}: {e}")))?;
    ctx.put_document("payment", &id, &payment).await?;
    ctx.emit_event(
        PAYMENT_EVENT,
        invoice,
        "received",
        &json!({ "payment": payment }),
    )
    .await?;
    Ok(payment)
}

#[async_trait]
impl Connector for ApplyPayment {
    fn name(&self) -> &'static str {
        "payment.apply"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["paid", "partial"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let number = data_field::<InvoiceRef>(input.data, "invoice")?.number;
        let payment: Payment = data_field(input.data, "payment")?;
        // The invoice's serialization point shared with credit notes and credit applications
        // (crate::credit_note): taken before the invoice is read.
        ctx.adjust_stock(
            &format!("credit-notes:{number}"),
            master::LEDGER,
            Decimal::ZERO,
        )
        .await?;
        let (doc, mut inv) = invoice_doc(ctx, &number).await?;
        let customer = inv.customer_id.clone();
        let dp = master::currency_decimals(&inv.currency);
        let already = inv.payments.iter().any(|p| p.id == payment.id);
        if !already {
            let amount = payment.amount.amount;
            let at = |f: &'static str| {
                let (number, id) = (number.clone(), payment.id.clone());
                move || format!("invoice {number} payment {id} {f}")
            };
            let open = inv.open_amount;
            let discount = inv.discount_amount;
            let in_time = inv.discount_until.is_some_and(|d| payment.received_on <= d);
            let first = inv.discount_taken.is_zero();
            // A difference accepted upstream (bank reconciliation decided it under its
            // tolerance, fee or discount rule) settles exactly that much more; without one,
            // the invoice's own discount terms decide.
            let (applied, granted, written_off) = match &payment.adjustment {
                Some(adj) => {
                    let settles = checked::add(amount, adj.amount, at("adjustment"))?.min(open);
                    let applied = amount.min(settles.max(Decimal::ZERO));
                    let diff = checked::sub(settles, applied, at("adjustment"))?;
                    if adj.discount {
                        (applied, diff, Decimal::ZERO)
                    } else {
                        (applied, Decimal::ZERO, diff)
                    }
                }
                None if in_time
                    && first
                    && discount > Decimal::ZERO
                    && amount >= checked::sub(open, discount, at("discount"))? =>
                {
                    (
                        checked::sub(open, discount, at("discount"))?,
                        discount,
                        Decimal::ZERO,
                    )
                }
                None => (amount.min(open), Decimal::ZERO, Decimal::ZERO),
            };
            // A negative adjustment (paid a little too much, within tolerance) is income
            // written off, not customer credit.
            let over_written_off = match &payment.adjustment {
                Some(adj) if adj.amount < Decimal::ZERO => -adj.amount,
                _ => Decimal::ZERO,
            };
            let excess = checked::sub(amount, applied, at("excess"))
                .and_then(|x| checked::sub(x, over_written_off, at("excess")))?;
            let excess = round_money(excess, dp).max(Decimal::ZERO);
            let settled = checked::sum([applied, granted, written_off], at("settled"))?;
            let written_net = checked::sub(written_off, over_written_off, at("written_off"))?;
            if let Some(adj) = &payment.adjustment {
                let booked = if adj.amount < Decimal::ZERO {
                    adj.amount
                } else {
                    checked::add(granted, written_off, at("written_off"))?
                };
                if !booked.is_zero() {
                    ctx.adjust_stock(&format!("writeoff:{}", adj.account), master::LEDGER, booked)
                        .await?;
                }
            }
            let still_open = checked::sub(open, settled, at("open_amount"))?;
            inv.open_amount = still_open;
            inv.paid_amount = checked::add(inv.paid_amount, applied, at("paid_amount"))?;
            inv.discount_taken = checked::add(inv.discount_taken, granted, at("discount_taken"))?;
            if !written_off.is_zero() || !over_written_off.is_zero() {
                // Absent: nothing written off yet.
                let before = inv.written_off.unwrap_or(Decimal::ZERO);
                inv.written_off = Some(checked::add(before, written_net, at("written_off"))?);
            }
            ctx.adjust_stock(&master::ar_key(&customer), master::LEDGER, -settled)
                .await?;
            if inv.overdue {
                ctx.adjust_stock(&master::overdue_key(&customer), master::LEDGER, -settled)
                    .await?;
            }
            if excess > Decimal::ZERO {
                ctx.adjust_stock(&master::credit_key(&customer), master::LEDGER, excess)
                    .await?;
            }
            let posting = Posting {
                kind: events::PAYMENT,
                source: payment.id.clone(),
                date: payment.received_on,
                currency: Some(inv.currency.clone()),
                order_id: None,
                invoice: Some(number.clone()),
                customer: Some(customer.clone()),
                // received = applied + income_written_off + credit; the receivable falls by
                // settled = applied + discount + written_off.
                facts: json!({ "received": amount, "applied": applied, "settled": settled,
                               "discount": granted, "written_off": written_off,
                               "income_written_off": over_written_off, "credit": excess,
                               "adjustment_account": payment.adjustment.as_ref().map(|a| a.account.clone()) }),
            };
            ctx.post(&posting).await?;
            inv.payments.push(AppliedPayment {
                id: payment.id.clone(),
                amount,
                received_on: payment.received_on,
                applied,
                discount: granted,
                written_off: written_net,
                credit: excess,
                reference: payment.reference.clone(),
            });
            inv.status = if still_open.is_zero() {
                "paid"
            } else {
                "partially_paid"
            }
            .into();
            if excess > Decimal::ZERO {
                // Absent: no credit booked yet.
                let before = inv.credit_booked.unwrap_or(Decimal::ZERO);
                inv.credit_booked = Some(checked::add(before, excess, at("credit_booked"))?);
            }
            put_invoice(ctx, doc, &inv).await?;
        }
        let outcome = if inv.status == "paid" {
            "paid"
        } else {
            "partial"
        };
        Ok(StepOutput::outcome(outcome).with(
            "collection",
            json!({ "status": inv.status, "open_amount": inv.open_amount, "paid_amount": inv.paid_amount,
                    "discount_taken": inv.discount_taken, "credit_booked": inv.credit_booked }),
        ))
    }
}

/// A reminder level of the workflow (`with.levels`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Level {
    level: u32,
    days_overdue: i64,
    /// Absent: the reminder costs nothing.
    #[serde(default)]
    fee: Decimal,
    #[serde(default)]
    text: Option<String>,
}

#[async_trait]
impl Connector for DunningCheck {
    fn name(&self) -> &'static str {
        "dunning.check"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["not_due", "reminded", "collection"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let number = data_field::<InvoiceRef>(input.data, "invoice")?.number;
        // No levels in the workflow: no reminders, only the hand-over to collection.
        let mut levels: Vec<Level> = match input.params.get("levels") {
            None => Vec::new(),
            Some(_) => data_field(input.params, "levels")?,
        };
        levels.sort_by_key(|l| l.days_overdue);
        let collect_after: Option<i64> = match input.params.get("collection_after_days") {
            None => None,
            Some(_) => Some(data_field(input.params, "collection_after_days")?),
        };
        let (doc, mut inv) = invoice_doc(ctx, &number).await?;
        let today = master::today(ctx);
        let due = inv.due_date;
        let days = (today - due).num_days();
        // Paid or cancelled (credited to zero): nothing to remind of.
        if days <= 0 || inv.is_closed() {
            return Ok(StepOutput::outcome("not_due"));
        }
        let customer = inv.customer_id.clone();
        let open = inv.open_amount;
        let mut changed = false;
        if !inv.overdue {
            inv.overdue = true;
            ctx.adjust_stock(&master::overdue_key(&customer), master::LEDGER, open)
                .await?;
            changed = true;
        }
        let sent = inv.dunning_level;
        // No levels: nothing to send before collection.
        let top = levels.last().map_or(0, |l| l.level);
        let mut outcome = "not_due";
        if let Some(l) = levels.iter().rev().find(|l| l.days_overdue <= days)
            && l.level > sent
        {
            // A level without its own text gets the standard one.
            let text = l.text.clone().unwrap_or_else(|| {
                format!(
                    "Reminder {}: invoice {number} of {} {} was due on {due}.",
                    l.level, inv.total, inv.currency
                )
            });
            let letter = json!({
                "invoice": number, "customer_id": customer, "level": l.level, "days_overdue": days,
                "open_amount": open, "fee": l.fee, "currency": inv.currency, "due_date": inv.due_date,
                "sent_on": today, "text": text,
            });
            ctx.send_outbound(
                "dunning-letters",
                &format!("{number}-L{}", l.level),
                &letter,
            )
            .await?;
            if l.fee > Decimal::ZERO {
                let posting = Posting {
                    kind: events::DUNNING_FEE,
                    source: format!("{number}-L{}", l.level),
                    date: today,
                    currency: Some(inv.currency.clone()),
                    order_id: None,
                    invoice: Some(number.clone()),
                    customer: Some(customer.clone()),
                    facts: json!({ "fee": l.fee, "level": l.level }),
                };
                ctx.post(&posting).await?;
            }
            inv.dunning_level = l.level;
            inv.dunning.push(Reminder {
                level: l.level,
                on: today,
                fee: l.fee,
            });
            changed = true;
            outcome = "reminded";
        }
        if outcome == "not_due" && sent >= top && collect_after.is_some_and(|c| days >= c) {
            inv.status = "in_collection".into();
            changed = true;
            outcome = "collection";
        }
        if changed {
            put_invoice(ctx, doc, &inv).await?;
        }
        Ok(StepOutput::outcome(outcome).with(
            "dunning",
            json!({ "level": inv.dunning_level, "days_overdue": days }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoice::{build_invoice, invoice_doc as doc_of};
    use crate::testing::{MemoryContext, run};
    use ordo_contract::{Order, Package, Shipment, ShipmentLine};
    use rust_decimal::dec;

    /// An invoice of 119.00 (100 net + 19% tax), terms 2/10 net 30, issued on the test date.
    fn issue(ctx: &mut MemoryContext, number: &str) -> Value {
        let day = ctx_today(ctx);
        let order: Order = serde_json::from_value(json!({ "id": "O1", "customer_id": "C1", "po_number": "P", "order_date": day, "currency": "EUR", "lines": [] })).unwrap();
        let ship = Shipment {
            id: "SH".into(),
            order_id: "O1".into(),
            ship_date: day,
            carrier: "c".into(),
            service: "s".into(),
            tracking_number: "t".into(),
            ship_to: None,
            packages: vec![Package {
                sscc: "s".into(),
                weight_kg: dec!(1),
                lines: vec![ShipmentLine {
                    line_no: 1,
                    sku: "A".into(),
                    quantity: dec!(4),
                    uom: "EA".into(),
                }],
            }],
        };
        let pricing = crate::testing::pricing(&[(1, "A", dec!(25), "standard")]);
        let (inv, extra) = build_invoice(
            number.into(),
            &order,
            &ship,
            &pricing,
            &serde_json::from_value(json!({ "rates": { "standard": 19 } })).unwrap(),
            "2/10 net 30",
            day,
        )
        .unwrap();
        let d = doc_of(&inv, &extra).unwrap();
        ctx.docs
            .insert(("invoice".into(), number.into()), d.clone());
        ctx.stock
            .insert((master::ar_key("C1"), master::LEDGER.into()), inv.total);
        json!({ "invoice": { "number": number } })
    }

    fn dec(v: &Value) -> Decimal {
        serde::Deserialize::deserialize(v).unwrap()
    }

    fn ctx_today(ctx: &MemoryContext) -> NaiveDate {
        ctx.now().date_naive()
    }

    async fn pay(ctx: &mut MemoryContext, data: &mut Value, amount: Decimal) -> StepOutput {
        pay_with(ctx, data, amount, None).await
    }

    /// Records a payment (with an accepted difference, as reconciliation sends it) and applies it.
    async fn pay_with(
        ctx: &mut MemoryContext,
        data: &mut Value,
        amount: Decimal,
        adjustment: Option<Value>,
    ) -> StepOutput {
        let n = data["invoice"]["number"].as_str().unwrap().to_string();
        let mut p = record_payment(ctx, &n, amount, None, Some("bank"))
            .await
            .unwrap();
        if let Some(adj) = adjustment {
            p["adjustment"] = adj;
        }
        data["payment"] = p;
        let before = ctx.postings.len();
        let out = run(&ApplyPayment, ctx, data.clone(), json!({})).await;
        assert_balanced(&ctx.postings[before..]);
        out
    }

    /// Every payment posting adds up (the posting rule debits received, discount and written
    /// off, and credits settled, income written off and credit): what the money did equals
    /// what came in, whatever rule decided the split.
    fn assert_balanced(postings: &[ordo_contract::ledger::Posting]) {
        assert_eq!(postings.len(), 1, "one payment, one posting");
        let f = &postings[0].facts;
        const KEYS: [&str; 7] = [
            "received",
            "applied",
            "settled",
            "discount",
            "written_off",
            "income_written_off",
            "credit",
        ];
        let all = KEYS.map(|k| dec(&f[k]));
        assert!(all.iter().all(|v| *v >= Decimal::ZERO), "{f}");
        let [
            received,
            applied,
            settled,
            discount,
            written_off,
            income,
            credit,
        ] = all;
        assert_eq!(received, applied + income + credit, "{f}");
        assert_eq!(settled, applied + discount + written_off, "{f}");
    }

    fn ledger(ctx: &MemoryContext, key: String) -> Decimal {
        ctx.stock
            .get(&(key, master::LEDGER.into()))
            .copied()
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn early_payment_less_discount_settles_the_invoice() {
        let mut ctx = MemoryContext::seeded();
        let mut data = issue(&mut ctx, "INV-1");
        ctx.clock_days = 10; // the last day of the discount period
        let out = pay(&mut ctx, &mut data, dec!(116.62)).await; // 119.00 − 2% (2.38)
        assert_eq!(out.outcome, "paid");
        assert_eq!(out.set["collection"]["discount_taken"], json!(dec!(2.38)));
        assert_eq!(ledger(&ctx, master::ar_key("C1")), dec!(0));
        assert_eq!(ctx.events[0].0, PAYMENT_EVENT);
        assert_eq!(ctx.events[0].1, "INV-1", "keyed by invoice");
    }

    async fn pay_adjusted(
        ctx: &mut MemoryContext,
        data: &mut Value,
        amount: Decimal,
        account: &str,
        adj: Decimal,
        discount: bool,
    ) -> StepOutput {
        let adjustment = json!({ "account": account, "amount": adj, "discount": discount });
        pay_with(ctx, data, amount, Some(adjustment)).await
    }

    #[tokio::test]
    async fn an_accepted_short_payment_settles_and_books_the_difference() {
        // Bank fees: 119.00 invoiced, 111.50 received, 7.50 accepted as fees.
        let mut ctx = MemoryContext::seeded();
        let mut data = issue(&mut ctx, "INV-1");
        ctx.clock_days = 20;
        let out = pay_adjusted(
            &mut ctx,
            &mut data,
            dec!(111.50),
            "bank-fees",
            dec!(7.50),
            false,
        )
        .await;
        assert_eq!(out.outcome, "paid");
        assert_eq!(dec(&out.set["collection"]["open_amount"]), dec!(0));
        assert_eq!(ledger(&ctx, "writeoff:bank-fees".into()), dec!(7.50));
        assert_eq!(ledger(&ctx, master::ar_key("C1")), dec!(0));
        assert_eq!(
            ctx.docs[&("invoice".into(), "INV-1".into())]["written_off"],
            json!(dec!(7.50))
        );
        // A discount decided by reconciliation (grace days past the terms) counts as discount.
        let mut ctx = MemoryContext::seeded();
        let mut data = issue(&mut ctx, "INV-2");
        ctx.clock_days = 12;
        let out = pay_adjusted(
            &mut ctx,
            &mut data,
            dec!(116.62),
            "cash-discount",
            dec!(2.38),
            true,
        )
        .await;
        assert_eq!(out.outcome, "paid");
        assert_eq!(out.set["collection"]["discount_taken"], json!(dec!(2.38)));
    }

    #[tokio::test]
    async fn a_small_overpayment_within_tolerance_is_written_off_not_credit() {
        let mut ctx = MemoryContext::seeded();
        let mut data = issue(&mut ctx, "INV-1");
        ctx.clock_days = 20;
        let out = pay_adjusted(
            &mut ctx,
            &mut data,
            dec!(119.40),
            "payment-differences",
            dec!(-0.40),
            false,
        )
        .await;
        assert_eq!(out.outcome, "paid");
        assert_eq!(ledger(&ctx, master::credit_key("C1")), dec!(0));
        assert_eq!(
            ledger(&ctx, "writeoff:payment-differences".into()),
            dec!(-0.40)
        );
        assert_eq!(ledger(&ctx, master::ar_key("C1")), dec!(0));
    }

    #[tokio::test]
    async fn the_discount_is_not_granted_a_day_late_or_one_cent_short() {
        let mut ctx = MemoryContext::seeded();
        let mut data = issue(&mut ctx, "INV-1");
        ctx.clock_days = 11;
        let out = pay(&mut ctx, &mut data, dec!(116.62)).await;
        assert_eq!(out.outcome, "partial");
        assert_eq!(out.set["collection"]["open_amount"], json!(dec!(2.38)));
        let mut ctx = MemoryContext::seeded();
        let mut data = issue(&mut ctx, "INV-1");
        let out = pay(&mut ctx, &mut data, dec!(116.61)).await;
        assert_eq!(out.outcome, "partial");
        assert_eq!(out.set["collection"]["open_amount"], json!(dec!(2.39)));
    }

    #[tokio::test]
    async fn partial_then_rest_then_overpayment_becomes_credit() {
        let mut ctx = MemoryContext::seeded();
        let mut data = issue(&mut ctx, "INV-1");
        ctx.clock_days = 20;
        assert_eq!(pay(&mut ctx, &mut data, dec!(50)).await.outcome, "partial");
        // Applying the same payment again (a redelivered event) changes nothing.
        let again = run(&ApplyPayment, &mut ctx, data.clone(), json!({})).await;
        assert_eq!(dec(&again.set["collection"]["open_amount"]), dec!(69.00));
        let out = pay(&mut ctx, &mut data, dec!(100)).await;
        assert_eq!(out.outcome, "paid");
        assert_eq!(ledger(&ctx, master::credit_key("C1")), dec!(31.00));
        assert_eq!(ledger(&ctx, master::ar_key("C1")), dec!(0));
        let n = "INV-1";
        let e = record_payment(&mut ctx, n, dec!(1), None, None)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("paid already"));
        assert!(
            record_payment(&mut ctx, "NOPE", dec!(1), None, None)
                .await
                .is_err()
        );
        assert!(
            record_payment(&mut ctx, n, dec!(0), None, None)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn dunning_sends_each_level_once_and_then_goes_to_collection() {
        let mut ctx = MemoryContext::seeded();
        let data = issue(&mut ctx, "INV-1");
        let params = json!({ "levels": [ { "level": 1, "days_overdue": 1 }, { "level": 2, "days_overdue": 14, "fee": 5.00 }, { "level": 3, "days_overdue": 28, "fee": 10.00 } ], "collection_after_days": 42 });
        let check = |ctx: &mut MemoryContext, days: i64| {
            ctx.clock_days = 30 + days;
            let (d, p) = (data.clone(), params.clone());
            async move { (d, p) }
        };
        let (d, p) = check(&mut ctx, 0).await;
        assert_eq!(
            run(&DunningCheck, &mut ctx, d, p).await.outcome,
            "not_due",
            "due today is not overdue"
        );
        let (d, p) = check(&mut ctx, 1).await;
        assert_eq!(run(&DunningCheck, &mut ctx, d, p).await.outcome, "reminded");
        assert_eq!(ledger(&ctx, master::overdue_key("C1")), dec!(119.00));
        let (d, p) = check(&mut ctx, 13).await;
        assert_eq!(
            run(&DunningCheck, &mut ctx, d, p).await.outcome,
            "not_due",
            "level 1 is not sent twice"
        );
        let (d, p) = check(&mut ctx, 14).await;
        assert_eq!(run(&DunningCheck, &mut ctx, d, p).await.outcome, "reminded");
        let (d, p) = check(&mut ctx, 40).await;
        assert_eq!(run(&DunningCheck, &mut ctx, d, p).await.outcome, "reminded");
        let (d, p) = check(&mut ctx, 41).await;
        assert_eq!(run(&DunningCheck, &mut ctx, d, p).await.outcome, "not_due");
        let (d, p) = check(&mut ctx, 42).await;
        assert_eq!(
            run(&DunningCheck, &mut ctx, d, p).await.outcome,
            "collection"
        );
        let letters: Vec<_> = ctx
            .outbound
            .keys()
            .filter(|(c, _)| c == "dunning-letters")
            .map(|(_, k)| k.clone())
            .collect();
        assert_eq!(letters, vec!["INV-1-L1", "INV-1-L2", "INV-1-L3"]);
        // Only the levels with a fee post one, once each.
        let fees: Vec<(String, Decimal)> = ctx
            .posted("dunning_fee")
            .iter()
            .map(|p| (p.source.clone(), dec(&p.facts["fee"])))
            .collect();
        assert_eq!(
            fees,
            vec![
                ("INV-1-L2".to_string(), dec!(5)),
                ("INV-1-L3".to_string(), dec!(10))
            ]
        );
        // Paying an overdue invoice clears the customer's overdue amount.
        let mut data = data.clone();
        let p = record_payment(&mut ctx, "INV-1", dec!(119.00), None, None)
            .await
            .unwrap();
        data["payment"] = p;
        run(&ApplyPayment, &mut ctx, data, json!({})).await;
        assert_eq!(ledger(&ctx, master::overdue_key("C1")), dec!(0));
    }
}
