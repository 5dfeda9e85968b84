//! Customer credit: what a customer holds from overpayments (`payment.apply`) and from credit
//! notes on paid invoices ([`crate::credit_note`]), kept as the counter
//! `credit:<customer>@ledger` that `ordo ledger check` ties to the customer-credit account.
//!
//! - [`apply_credit`] uses it on the customer's open invoices: one named invoice (on request,
//!   `ordo customer-credit apply CUSTOMER --invoice INV`), else every open invoice oldest
//!   first (by issue date, then number). `invoice.create` calls it for each new invoice when
//!   the workflow says `apply_credit: automatic` (workflows/order-to-cash.yaml, the analysts'
//!   setting; `on_request`, the default, leaves the credit until a person applies it). Each
//!   application is numbered (`CA-000001`, series `credit_application`) and posts
//!   `credit_applied` (customer credit / receivables).
//! - [`take_for_refund`] takes an amount out of the credit for a refund (`RF-000001`, series
//!   `refund`), posting `refund` (customer credit / bank); `ordo_recon::refund` writes the
//!   SEPA transfer. A refund larger than the credit is refused by the counter itself: the
//!   decrement is a row-locked read-modify-write, and a negative result fails the step.

use crate::checked;
use crate::master::{self};
use ordo_contract::ledger::{Posting, events};
use ordo_contract::{InvoiceCollection, StepContext, StepError, from_doc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

pub const APPLIED_SERIES: &str = "credit_application";
pub const REFUND_SERIES: &str = "refund";

/// The analysts' setting of `invoice.create` (`with: { apply_credit: … }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyPolicy {
    /// Each new invoice takes what credit the customer holds.
    Automatic,
    /// Credit waits until a person applies it (the default).
    OnRequest,
}

impl std::str::FromStr for ApplyPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "automatic" => Ok(ApplyPolicy::Automatic),
            "on_request" => Ok(ApplyPolicy::OnRequest),
            other => Err(format!(
                "apply_credit must be 'automatic' or 'on_request', not '{}'",
                ordo_contract::excerpt(other, 30)
            )),
        }
    }
}

#[derive(Deserialize)]
struct CustomerName {
    name: String,
}

/// The customer's name, refusing an unknown customer.
async fn customer_name(ctx: &mut dyn StepContext, customer: &str) -> Result<String, StepError> {
    let doc = ctx
        .get_document("customer", customer)
        .await?
        .ok_or_else(|| {
            StepError::Permanent(format!(
                "no customer '{}'",
                ordo_contract::excerpt(customer, 40)
            ))
        })?;
    Ok(from_doc::<CustomerName>("customer", customer, &doc)?.name)
}

/// Applies the customer's credit to `invoice`, or to every open invoice oldest first; returns
/// `{customer, applied: [{id, invoice, amount}], credit_left}`. No credit, an unknown
/// customer, or an invoice of another customer or already closed is refused.
pub async fn apply_credit(
    ctx: &mut dyn StepContext,
    customer: &str,
    invoice: Option<&str>,
) -> Result<Value, StepError> {
    customer_name(ctx, customer).await?;
    // Row-locked until commit: concurrent applications and refunds of one customer queue here.
    let credit = ctx
        .adjust_stock(&master::credit_key(customer), master::LEDGER, Decimal::ZERO)
        .await?;
    if credit <= Decimal::ZERO {
        return Err(StepError::Permanent(format!(
            "customer {customer} has no credit to apply"
        )));
    }
    let targets: Vec<String> = match invoice {
        Some(n) => vec![n.to_string()],
        None => {
            let mut open: Vec<(chrono::NaiveDate, String)> = Vec::new();
            for (id, text) in ctx.get_documents_text("invoice", "").await? {
                let v: Value = serde_json::from_str(&text)
                    .map_err(|e| StepError::Permanent(format!("invoice {id}: {e}")))?;
                if v["customer_id"] != customer {
                    continue;
                }
                let s: InvoiceCollection = from_doc("invoice", &id, &v)?;
                if !s.is_closed() && s.open_amount > Decimal::ZERO {
                    open.push((s.issue_date, id));
                }
            }
            open.sort();
            open.into_iter().map(|(_, id)| id).collect()
        }
    };
    let mut left = credit;
    let mut applied = Vec::new();
    for number in targets {
        if left <= Decimal::ZERO {
            break;
        }
        let amount = apply_to(ctx, customer, &number, left, invoice.is_some()).await?;
        left = checked::sub(left, amount, || format!("customer {customer} credit"))?;
        applied.push(json!({ "invoice": number, "amount": amount }));
    }
    if applied.is_empty() {
        return Err(StepError::Permanent(format!(
            "customer {customer} has no open invoice to apply credit to"
        )));
    }
    ctx.adjust_stock(&master::credit_key(customer), master::LEDGER, left - credit)
        .await?;
    Ok(json!({ "customer": customer, "applied": applied, "credit_left": left }))
}

/// Applies at most `available` to one invoice of `customer`; returns the amount. `named`: the
/// person asked for this invoice, so a closed or foreign one is an error, not a skip.
async fn apply_to(
    ctx: &mut dyn StepContext,
    customer: &str,
    number: &str,
    available: Decimal,
    named: bool,
) -> Result<Decimal, StepError> {
    // The invoice's serialization point (as for credit notes), before it is read.
    ctx.adjust_stock(
        &format!("credit-notes:{number}"),
        master::LEDGER,
        Decimal::ZERO,
    )
    .await?;
    let mut doc = ctx
        .get_document("invoice", number)
        .await?
        .ok_or_else(|| StepError::Permanent(format!("no invoice '{number}'")))?;
    let mut state: InvoiceCollection = from_doc("invoice", number, &doc)?;
    if state.customer_id != customer {
        return Err(StepError::Permanent(format!(
            "invoice {number} is not customer {customer}'s"
        )));
    }
    if state.is_closed() || state.open_amount <= Decimal::ZERO {
        return Err(StepError::Permanent(format!(
            "invoice {number} is {} with nothing open{}",
            state.status,
            if named { "" } else { " (skipped)" }
        )));
    }
    let amount = available.min(state.open_amount);
    let at = || format!("invoice {number} credit applied");
    state.open_amount = checked::sub(state.open_amount, amount, at)?;
    ctx.adjust_stock(&master::ar_key(customer), master::LEDGER, -amount)
        .await?;
    if state.overdue {
        ctx.adjust_stock(&master::overdue_key(customer), master::LEDGER, -amount)
            .await?;
    }
    let n = ctx.next_number(APPLIED_SERIES).await?;
    let id = format!("CA-{n:06}");
    if state.open_amount.is_zero() {
        state.status = "paid".into();
    }
    state.write_into(&mut doc).map_err(StepError::Permanent)?;
    let mut list = doc["credit_applied"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    list.push(json!({ "id": id, "amount": amount, "on": master::today(ctx) }));
    doc["credit_applied"] = Value::Array(list);
    ctx.put_document("invoice", number, &doc).await?;
    ctx.post(&Posting {
        kind: events::CREDIT_APPLIED,
        source: id.clone(),
        date: master::today(ctx),
        currency: Some(state.currency.clone()),
        order_id: None,
        invoice: Some(number.to_string()),
        customer: Some(customer.to_string()),
        facts: json!({ "amount": amount, "invoice": number }),
    })
    .await?;
    if state.is_closed() {
        // Settled by credit: its collection instance ends (workflows/invoice-collection.yaml).
        ctx.emit_event(
            crate::PAYMENT_EVENT,
            number,
            "credited",
            &json!({ "credit_applied": { "id": id, "amount": amount } }),
        )
        .await?;
    }
    Ok(amount)
}

/// What [`take_for_refund`] took: the refund's number and the customer's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundTaken {
    pub number: String,
    pub customer_name: String,
    pub credit_left: Decimal,
}

/// Takes `amount` out of the customer's credit for a refund and posts it; the caller writes
/// the payment file. A non-positive amount, more than 2 decimals, or more than the credit is
/// refused (nothing written: the step fails).
pub async fn take_for_refund(
    ctx: &mut dyn StepContext,
    customer: &str,
    amount: Decimal,
    currency: &str,
) -> Result<RefundTaken, StepError> {
    if amount <= Decimal::ZERO || amount.normalize().scale() > 2 {
        return Err(StepError::Permanent(format!(
            "refund amount must be positive with at most 2 decimals, got {amount}"
        )));
    }
    let customer_name = customer_name(ctx, customer).await?;
    let left = ctx
        .adjust_stock(&master::credit_key(customer), master::LEDGER, -amount)
        .await?;
    if left < Decimal::ZERO {
        return Err(StepError::Permanent(format!(
            "refund of {amount} is larger than customer {customer}'s credit of {}",
            left + amount
        )));
    }
    let n = ctx.next_number(REFUND_SERIES).await?;
    let number = format!("RF-{n:06}");
    ctx.post(&Posting {
        kind: events::REFUND,
        source: number.clone(),
        date: master::today(ctx),
        currency: Some(currency.to_string()),
        order_id: None,
        invoice: None,
        customer: Some(customer.to_string()),
        facts: json!({ "amount": amount }),
    })
    .await?;
    Ok(RefundTaken {
        number,
        customer_name,
        credit_left: left,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryContext;
    use rust_decimal::dec;

    fn invoice(ctx: &mut MemoryContext, number: &str, day: &str, open: Decimal) {
        ctx.docs.insert(
            ("invoice".into(), number.into()),
            json!({ "number": number, "customer_id": "C1", "currency": "EUR", "total": open,
                    "issue_date": day, "due_date": day, "terms": { "net_days": 30, "discount_days": 0, "discount_percent": 0 },
                    "status": "open", "open_amount": open, "paid_amount": 0, "discount_amount": 0,
                    "discount_until": null, "discount_taken": 0, "payments": [], "dunning_level": 0, "overdue": false }),
        );
        let ar = ctx
            .stock
            .entry((master::ar_key("C1"), master::LEDGER.into()))
            .or_default();
        *ar += open;
    }

    fn level(ctx: &MemoryContext, key: String) -> Decimal {
        ctx.stock
            .get(&(key, master::LEDGER.to_string()))
            .copied()
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn credit_goes_to_the_oldest_open_invoices_first() {
        let mut ctx = MemoryContext::seeded();
        invoice(&mut ctx, "INV-3", "2026-09-03", dec!(50));
        invoice(&mut ctx, "INV-1", "2026-09-01", dec!(30));
        invoice(&mut ctx, "INV-2", "2026-09-02", dec!(40));
        ctx.stock
            .insert((master::credit_key("C1"), master::LEDGER.into()), dec!(45));
        let r = apply_credit(&mut ctx, "C1", None).await.unwrap();
        assert_eq!(
            r["applied"],
            json!([ { "invoice": "INV-1", "amount": dec!(30) }, { "invoice": "INV-2", "amount": dec!(15) } ])
        );
        assert_eq!(level(&ctx, master::credit_key("C1")), dec!(0));
        assert_eq!(level(&ctx, master::ar_key("C1")), dec!(75));
        let inv1 = &ctx.docs[&("invoice".to_string(), "INV-1".to_string())];
        assert_eq!(inv1["status"], "paid");
        assert_eq!(inv1["credit_applied"][0]["id"], "CA-000001");
        assert_eq!(ctx.posted("credit_applied").len(), 2);
        // INV-1 was settled: its collection instance is told.
        assert_eq!(ctx.events.iter().filter(|e| e.2 == "credited").count(), 1);
        let e = apply_credit(&mut ctx, "C1", None)
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(e, "customer C1 has no credit to apply");
    }

    #[tokio::test]
    async fn on_request_names_the_invoice_and_refusals_say_why() {
        let mut ctx = MemoryContext::seeded();
        invoice(&mut ctx, "INV-1", "2026-09-01", dec!(30));
        invoice(&mut ctx, "INV-2", "2026-09-02", dec!(40));
        ctx.stock
            .insert((master::credit_key("C1"), master::LEDGER.into()), dec!(100));
        let r = apply_credit(&mut ctx, "C1", Some("INV-2")).await.unwrap();
        assert_eq!(r["credit_left"], json!(dec!(60)));
        let e = apply_credit(&mut ctx, "C1", Some("INV-2"))
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(e, "invoice INV-2 is paid with nothing open");
        let e = apply_credit(&mut ctx, "NOPE", None)
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(e, "no customer 'NOPE'");
        let e = apply_credit(&mut ctx, "C1", Some("INV-404"))
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(e, "no invoice 'INV-404'");
    }

    #[tokio::test]
    async fn a_refund_takes_no_more_than_the_credit() {
        let mut ctx = MemoryContext::seeded();
        ctx.stock
            .insert((master::credit_key("C1"), master::LEDGER.into()), dec!(40));
        let t = take_for_refund(&mut ctx, "C1", dec!(25.50), "EUR")
            .await
            .unwrap();
        assert_eq!(
            (t.number.as_str(), t.credit_left),
            ("RF-000001", dec!(14.50))
        );
        assert_eq!(t.customer_name, "Acme");
        assert_eq!(ctx.posted("refund")[0].facts["amount"], json!(dec!(25.50)));
        let e = take_for_refund(&mut ctx, "C1", dec!(14.51), "EUR")
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "refund of 14.51 is larger than customer C1's credit of 14.50"
        );
        for bad in [dec!(0), dec!(-1), dec!(1.001)] {
            assert!(take_for_refund(&mut ctx, "C1", bad, "EUR").await.is_err());
        }
    }
}
