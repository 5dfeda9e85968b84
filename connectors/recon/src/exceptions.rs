//! Working the exceptions queue: confirm, split or reject a payment the matcher would not
//! decide alone.
//!
//! Confirming books the entry like an automatic match (payments + `payment.matched` events)
//! with `by: manual`; `learn` remembers the payer's account for the customer, so the next
//! payment from it is identified (`recon_learned/<account>`). An entry is booked at most once:
//! a confirmed or rejected exception refuses further decisions.

use std::collections::HashMap;

use chrono::NaiveDate;
use ordo_contract::recon_docs::BankExceptionView;
use ordo_contract::{InvoiceCollection, read_doc};
use ordo_contract::{StepContext, StepError};
use ordo_sales::{PAYMENT_EVENT, checked, master};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::reconcile::{mark_in_transit, open_net_of_transit};
use crate::{normalize_account, permanent};

/// One invoice of a confirmation; `amount` None = as much as the invoice has open (the last
/// line takes the rest, an excess becomes customer credit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmLine {
    pub invoice: String,
    pub amount: Option<Decimal>,
}

/// The stored exception (kept whole, to be written back with the decision) and its typed view.
async fn open_exception(
    ctx: &mut dyn StepContext,
    id: &str,
) -> Result<(Value, BankExceptionView), StepError> {
    let ex = ctx
        .get_document("bank_exception", id)
        .await?
        .ok_or_else(|| permanent(format!("no exception '{id}' (see `ordo recon exceptions`)")))?;
    let view: BankExceptionView = read_doc("bank_exception", id, &ex).map_err(permanent)?;
    if view.status != "open" {
        return Err(permanent(format!(
            "exception {id} is {} already",
            view.status
        )));
    }
    Ok((ex, view))
}

/// Confirms exception `id` as payment of `lines`. Returns the updated exception document.
pub async fn confirm_exception(
    ctx: &mut dyn StepContext,
    id: &str,
    lines: &[ConfirmLine],
    learn: bool,
    note: Option<&str>,
) -> Result<Value, StepError> {
    let (mut ex, view) = open_exception(ctx, id).await?;
    if lines.is_empty() {
        return Err(permanent("name at least one invoice"));
    }
    if view.direction != "credit" {
        return Err(permanent(format!(
            "exception {id} is a debit (money out); only incoming payments pay invoices"
        )));
    }
    let amount = view.amount;
    let currency = view.currency.clone();
    let mut invoices = HashMap::new();
    let mut open = Vec::new();
    let mut customer: Option<String> = None;
    for l in lines {
        let inv = ctx
            .get_document("invoice", &l.invoice)
            .await?
            .ok_or_else(|| permanent(format!("no invoice '{}'", l.invoice)))?;
        let typed: InvoiceCollection = read_doc("invoice", &l.invoice, &inv).map_err(permanent)?;
        if typed.currency != currency {
            return Err(permanent(format!(
                "invoice {} is in {}, the payment in {currency}",
                l.invoice, typed.currency
            )));
        }
        let left = open_net_of_transit(&l.invoice, &typed)?;
        if typed.is_closed() || left <= Decimal::ZERO {
            return Err(permanent(format!("invoice {} has nothing open", l.invoice)));
        }
        let c = typed.customer_id;
        match &customer {
            None => customer = Some(c),
            Some(prev) if *prev != c => {
                return Err(permanent(format!(
                    "invoice {} belongs to {c}, invoice {} to {prev}: one payment pays one customer",
                    l.invoice, lines[0].invoice
                )));
            }
            _ => {}
        }
        if let Some(a) = l.amount
            && a <= Decimal::ZERO
        {
            return Err(permanent(format!(
                "{}: amount must be positive, got {a}",
                l.invoice
            )));
        }
        open.push(left);
        invoices.insert(l.invoice.clone(), inv);
    }
    // Split: explicit amounts must add up to the entry; otherwise fill invoices in order.
    let cash: Vec<Decimal> = if lines.iter().all(|l| l.amount.is_some()) {
        let sum = checked::sum(lines.iter().filter_map(|l| l.amount), || {
            format!("the amounts of {currency} for the invoices")
        })?;
        if sum != amount {
            return Err(permanent(format!(
                "the amounts add up to {sum}, the payment is {amount} {currency}"
            )));
        }
        lines.iter().filter_map(|l| l.amount).collect()
    } else if lines.iter().any(|l| l.amount.is_some()) {
        return Err(permanent(
            "give an amount for every invoice (a split) or for none",
        ));
    } else {
        let mut rest = amount;
        let mut out = Vec::new();
        for (i, o) in open.iter().enumerate() {
            let take = if i + 1 == open.len() {
                rest
            } else {
                rest.min(*o)
            };
            out.push(take);
            rest = checked::sub(rest, take, || format!("payment of {amount} {currency}"))?;
        }
        if out.iter().any(|c| *c <= Decimal::ZERO) {
            return Err(permanent(format!(
                "{amount} {currency} is used up before the last invoice; name fewer invoices"
            )));
        }
        out
    };
    // An entry without booking or value date (a pending camt.052 entry) is received on the
    // day finance confirms it, the business date.
    let received_on: NaiveDate = view.booking_date.unwrap_or_else(|| master::today(ctx));
    let mut ids = Vec::new();
    for (l, c) in lines.iter().zip(&cash) {
        let n = ctx.next_number("payment").await?;
        let pid = format!("PAY-{n:06}");
        let payment = json!({
            "id": pid, "amount": { "amount": c, "currency": currency }, "received_on": received_on,
            "invoice_number": l.invoice, "customer_id": customer,
            "reference": view.remittance.as_deref().or(view.bank_ref.as_deref()),
            "source": { "bank_entry": view.entry, "rule": "manual", "exception": id, "note": note },
        });
        ctx.put_document("payment", &pid, &payment).await?;
        mark_in_transit(ctx, &mut invoices, &l.invoice, &pid, *c).await?;
        ctx.emit_event(
            PAYMENT_EVENT,
            &l.invoice,
            "received",
            &json!({ "payment": payment }),
        )
        .await?;
        ids.push(pid);
    }
    let mut learned = Value::Null;
    if learn {
        let acct = view
            .counterparty_account
            .as_deref()
            .map(normalize_account)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                permanent(format!(
                    "exception {id}: the entry names no payer account to learn"
                ))
            })?;
        // At least one line was checked above, so its customer is known.
        let cust = customer
            .clone()
            .ok_or_else(|| permanent("name at least one invoice"))?;
        ctx.put_document(
            "recon_learned",
            &acct,
            &json!({ "customer_id": cust, "learned_from": format!("exception {id}") }),
        )
        .await?;
        learned = json!({ "account": acct, "customer_id": cust });
    }
    // The advice shown as the top candidate is settled by this decision: no later credit uses
    // it (one another credit used meanwhile stays as it was).
    let advice = ex["advice"].as_str().map(String::from);
    if let Some(adv) = &advice {
        let used = crate::reconcile::consume_advice(ctx, adv, &view.entry, &ids).await?;
        ex["advice_consumed"] = json!(used);
    }
    ex["status"] = json!("matched");
    ex["decided_at"] = json!(ctx.now().to_rfc3339());
    ex["decision"] = json!({
        "invoices": lines.iter().zip(&cash).map(|(l, c)| json!({ "invoice": l.invoice, "amount": c })).collect::<Vec<_>>(),
        "payments": ids, "note": note, "learned": learned,
    });
    ctx.put_document("bank_exception", id, &ex).await?;
    Ok(ex)
}

/// Closes exception `id` without booking it against invoices (not a customer payment, handled
/// elsewhere), keeping the reason.
pub async fn reject_exception(
    ctx: &mut dyn StepContext,
    id: &str,
    reason: &str,
) -> Result<Value, StepError> {
    let (mut ex, _) = open_exception(ctx, id).await?;
    if reason.trim().is_empty() {
        return Err(permanent("a rejection needs a reason"));
    }
    ex["status"] = json!("rejected");
    ex["decided_at"] = json!(ctx.now().to_rfc3339());
    ex["decision"] = json!({ "reason": reason });
    ctx.put_document("bank_exception", id, &ex).await?;
    Ok(ex)
}
