//! Finance decisions a person makes through the API or the CLI: credit notes, applying
//! customer credit, refunds. Each is ONE library function the route and the
//! command call with the caller: the role check, the business function of `ordo-sales`
//! through a `TxContext` on the caller's transaction, and the audit record in that same
//! transaction, so the effect and its record commit together or not at all.

use super::audit::{self, Change};
use super::auth::Actor;
use super::error::{ApiError, ApiResult, Code};
use crate::runtime::Engine;
use crate::store::Tx;
use ordo_sales::CreditLine;
use serde_json::{Value, json};

/// Who may issue credit notes, apply customer credit and refund it (`admin` may too).
pub const FINANCE: &[&str] = &["finance"];
/// At most this many lines in one credit-note request.
pub const MAX_LINES: usize = 1000;

pub(crate) fn require(caller: &Actor, roles: &[&str]) -> ApiResult<()> {
    if caller.has_any(roles) {
        return Ok(());
    }
    let mut need: Vec<&str> = vec!["admin"];
    need.extend_from_slice(roles);
    Err(ApiError::new(
        Code::Forbidden,
        format!("this needs one of the roles: {}", need.join(", ")),
    ))
}

/// A business refusal is `409` with the connector's words; an unreachable store `503`.
pub(crate) fn refused(e: ordo_contract::StepError, what: &str) -> ApiError {
    match e {
        ordo_contract::StepError::Transient(e) => {
            tracing::warn!(error = %e, "{what}: transient");
            ApiError::new(Code::Unavailable, "the store is unreachable; try again")
        }
        e => ApiError::new(Code::Conflict, e.to_string()),
    }
}

/// Issues a credit note for `invoice` as `caller` in `tx` (see
/// [`ordo_sales::issue_credit_note`]): `POST /api/v1/invoices/{number}/credit-notes` and
/// `ordo credit-note` call this. `lines` None credits everything uncredited (cancels the
/// invoice). Returns the stored credit note.
pub async fn issue_credit_note(
    engine: &Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    invoice: &str,
    lines: Option<&[CreditLine]>,
    reason: &str,
) -> ApiResult<Value> {
    require(caller, FINANCE)?;
    if lines.is_some_and(|l| l.len() > MAX_LINES) {
        return Err(ApiError::invalid(format!("lines: at most {MAX_LINES}")).at("/lines"));
    }
    let r = {
        let mut ctx = crate::runtime::TxContext::command(tx, engine);
        ordo_sales::issue_credit_note(&mut ctx, invoice, lines, reason).await
    };
    let cn = r.map_err(|e| refused(e, "credit note"))?;
    let change = Change {
        action: "credit_note.issued",
        subject: format!("invoice/{invoice}"),
        order_id: cn["order_id"].as_str().map(str::to_string),
        before: None,
        after: Some(json!({ "credit_note": cn["number"], "total": cn["total"],
                            "applied": cn["applied"], "credit": cn["credit"], "reason": cn["reason"] })),
    };
    audit::record(tx, caller, engine.clock.now_ms(), change).await?;
    Ok(cn)
}

/// Applies `customer`'s credit to `invoice`, or to the open invoices oldest first, as
/// `caller` in `tx` ([`ordo_sales::customer_credit::apply_credit`]): `ordo customer-credit
/// apply` calls this.
pub async fn apply_customer_credit(
    engine: &Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    customer: &str,
    invoice: Option<&str>,
) -> ApiResult<Value> {
    require(caller, FINANCE)?;
    let r = {
        let mut ctx = crate::runtime::TxContext::command(tx, engine);
        ordo_sales::customer_credit::apply_credit(&mut ctx, customer, invoice).await
    };
    let v = r.map_err(|e| refused(e, "customer credit"))?;
    let change = Change {
        action: "customer_credit.applied",
        subject: format!("customer/{customer}"),
        order_id: None,
        before: None,
        after: Some(v.clone()),
    };
    audit::record(tx, caller, engine.clock.now_ms(), change).await?;
    Ok(v)
}

/// Refunds `amount` of `customer`'s credit as `caller` in `tx` ([`ordo_recon::refund`]: the
/// pain.001 file is an outbound row, written after commit): `ordo customer-credit refund`
/// calls this.
pub async fn refund_customer_credit(
    engine: &Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    customer: &str,
    amount: rust_decimal::Decimal,
    iban: Option<&str>,
) -> ApiResult<Value> {
    require(caller, FINANCE)?;
    let r = {
        let mut ctx = crate::runtime::TxContext::command(tx, engine);
        ordo_recon::refund(&mut ctx, customer, amount, iban).await
    };
    let v = r.map_err(|e| refused(e, "refund"))?;
    let change = Change {
        action: "customer_credit.refunded",
        subject: format!("customer/{customer}"),
        order_id: None,
        before: None,
        after: Some(v.clone()),
    };
    audit::record(tx, caller, engine.clock.now_ms(), change).await?;
    Ok(v)
}
