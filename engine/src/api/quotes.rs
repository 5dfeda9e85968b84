//! Quotations a person requests or a customer accepts through the API or the CLI (`ordo quote
//! request|accept`, `POST /api/v1/quotes`, `POST /api/v1/quotes/{number}/accept`): the role
//! check, the business function of `ordo_sales::quote` through a `TxContext` on the caller's
//! transaction, and the audit record in that same transaction.

use super::audit::{self, Change};
use super::auth::Actor;
use super::error::{ApiError, ApiResult};
use super::finance::{refused, require};
use crate::runtime::Engine;
use crate::store::Tx;
use ordo_contract::OrderLine;
use serde::Deserialize;
use serde_json::{Value, json};

/// Who may request and accept quotes (`admin` may too); `integration` accepts for a channel.
pub const SALES: &[&str] = &["sales", "sales-manager", "integration"];

/// A quotation request (`POST /api/v1/quotes`, the file `ordo quote request` reads).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub customer_id: String,
    pub currency: String,
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<OrderLine>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Starts a quotation (`workflows/quotation.yaml`) as `caller` in `tx`. Returns the stored
/// quote (status `requested`; the workflow prices and sends it).
pub async fn request_quote(
    engine: &Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    req: &QuoteRequest,
) -> ApiResult<Value> {
    require(caller, SALES)?;
    let r = {
        let mut ctx = crate::runtime::TxContext::command(tx, engine);
        ordo_sales::quote::request_quote(
            &mut ctx,
            &req.customer_id,
            &req.currency,
            req.lines.clone(),
            req.notes.clone(),
        )
        .await
    };
    let q = r.map_err(|e| refused(e, "quote request"))?;
    let change = Change {
        action: "quote.requested",
        subject: format!("quote/{}", q["number"].as_str().unwrap_or_default()),
        order_id: None,
        before: None,
        after: Some(json!({ "customer_id": req.customer_id, "lines": req.lines.len() })),
    };
    audit::record(tx, caller, engine.clock.now_ms(), change).await?;
    Ok(q)
}

/// Accepts quote `number` as the customer's PO `po` (the quote number when none) as `caller`
/// in `tx` (see [`ordo_sales::quote::accept_quote`]). Returns the accepted quote, which names
/// its order.
pub async fn accept_quote(
    engine: &Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    number: &str,
    po: Option<&str>,
) -> ApiResult<Value> {
    require(caller, SALES)?;
    if let Some(p) = po.and_then(|p| ordo_contract::intake::id_problem(p, 100)) {
        return Err(ApiError::invalid(format!("po {p}")).at("/po"));
    }
    if tx
        .get_document(ordo_sales::quote::KIND, number)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!(
            "no quote '{}'",
            ordo_contract::excerpt(number, 100)
        )));
    }
    let r = {
        let mut ctx = crate::runtime::TxContext::command(tx, engine);
        ordo_sales::quote::accept_quote(&mut ctx, number, po).await
    };
    let q = r.map_err(|e| refused(e, "quote acceptance"))?;
    let change = Change {
        action: "quote.accepted",
        subject: format!("quote/{number}"),
        order_id: q["order_id"].as_str().map(str::to_string),
        before: None,
        after: Some(json!({ "order_id": q["order_id"], "po": po })),
    };
    audit::record(tx, caller, engine.clock.now_ms(), change).await?;
    Ok(q)
}
