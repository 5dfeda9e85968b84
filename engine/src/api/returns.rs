//! Returns (RMA) a person asks for or records through the API or the CLI: the request for a
//! line of a shipped order and the receipt of its goods. Each is ONE library function the
//! route and the command call with the caller: the role check, the business function of
//! `ordo_sales::returns` through a `TxContext` on the caller's transaction (which starts or
//! resumes `workflows/returns.yaml`), and the audit record in that same transaction.

use super::audit::{self, Change};
use super::auth::Actor;
use super::error::{ApiError, ApiResult};
use super::finance::{refused, require};
use crate::runtime::Engine;
use crate::store::Tx;
use ordo_sales::Fulfilment;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Who may request a return (`admin` may too).
pub const SALES: &[&str] = &["sales"];
/// Who may record returned goods as received.
pub const RECEIVING: &[&str] = &["warehouse", "sales"];
/// The workflow whose instance holds an order's lines, shipments and invoices.
const ORDER_WORKFLOW: &str = "order-to-cash";

/// The order and what shipped of it, from its order-to-cash instance.
async fn shipped_order(
    tx: &mut dyn Tx,
    order_id: &str,
) -> ApiResult<(ordo_contract::Order, Fulfilment)> {
    let shown = ordo_contract::excerpt(order_id, 100);
    let inst = tx
        .find_instances(order_id)
        .await?
        .into_iter()
        .find(|i| i.workflow == ORDER_WORKFLOW && i.business_key == order_id)
        .ok_or_else(|| ApiError::not_found(format!("no order '{shown}'")))?;
    let order: ordo_contract::Order = ordo_contract::data_field(&inst.data, "order")
        .map_err(|e| ApiError::invalid(format!("order '{shown}': {e}")))?;
    let fulfilment = match inst.data.get("fulfilment") {
        None | Some(Value::Null) => {
            return Err(ApiError::new(
                super::error::Code::Conflict,
                format!("order '{shown}' has not shipped: nothing to return"),
            ));
        }
        Some(_) => ordo_contract::data_field(&inst.data, "fulfilment")
            .map_err(|e| ApiError::invalid(format!("order '{shown}': {e}")))?,
    };
    Ok((order, fulfilment))
}

/// What a return request asks for: `quantity` of order line `line_no`, why, and whether the
/// same goods should be shipped again instead of a credit note.
pub struct ReturnLine<'a> {
    pub line_no: u32,
    pub quantity: Decimal,
    pub reason: &'a str,
    pub replacement: bool,
}

/// Requests the return of `quantity` of `line_no` of `order_id` (`replacement`: the same goods
/// again instead of a credit note) as `caller` in `tx` (see
/// [`ordo_sales::returns::request_return`]): `POST /api/v1/orders/{id}/returns` and `ordo
/// return request` call this. Returns the stored RMA.
pub async fn request_return(
    engine: &Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    order_id: &str,
    want: &ReturnLine<'_>,
) -> ApiResult<Value> {
    require(caller, SALES)?;
    let rma = start_return(engine, tx, order_id, want).await?;
    let (line_no, quantity, replacement) = (want.line_no, want.quantity, want.replacement);
    let change = Change {
        action: "return.requested",
        subject: format!("order/{order_id}"),
        order_id: Some(order_id.to_string()),
        before: None,
        after: Some(json!({ "rma": rma["number"], "line_no": line_no,
                            "quantity": quantity, "reason": rma["reason"],
                            "replacement": replacement })),
    };
    audit::record(tx, caller, engine.clock.now_ms(), change).await?;
    Ok(rma)
}

/// The return request's effect without the caller's role and audit record (the complaint
/// decision that starts a return checks and records its own): the order and what shipped of
/// it, then [`ordo_sales::returns::request_return`]. Returns the stored RMA.
pub(crate) async fn start_return(
    engine: &Engine,
    tx: &mut dyn Tx,
    order_id: &str,
    want: &ReturnLine<'_>,
) -> ApiResult<Value> {
    let (order, fulfilment) = shipped_order(tx, order_id).await?;
    let r = {
        let mut ctx = crate::runtime::TxContext::command(tx, engine);
        ordo_sales::returns::request_return(
            &mut ctx,
            &order,
            &fulfilment,
            want.line_no,
            want.quantity,
            want.reason,
            want.replacement,
        )
        .await
    };
    r.map_err(|e| refused(e, "return request"))
}

/// Records the goods of return `rma` as received in `condition` as `caller` in `tx` (see
/// [`ordo_sales::returns::receive_return`]): `ordo receive-return` calls this.
pub async fn receive_return(
    engine: &Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    rma: &str,
    line_no: u32,
    quantity: Decimal,
    condition: &str,
) -> ApiResult<Value> {
    require(caller, RECEIVING)?;
    let r = {
        let mut ctx = crate::runtime::TxContext::command(tx, engine);
        ordo_sales::returns::receive_return(&mut ctx, rma, line_no, quantity, condition).await
    };
    let doc = r.map_err(|e| refused(e, "return receipt"))?;
    let change = Change {
        action: "return.received",
        subject: format!("return/{rma}"),
        order_id: doc["order_id"].as_str().map(str::to_string),
        before: None,
        after: Some(json!({ "line_no": line_no, "quantity": quantity, "condition": condition })),
    };
    audit::record(tx, caller, engine.clock.now_ms(), change).await?;
    Ok(doc)
}

/// The returns of an order (`ordo status`, the order API), oldest first.
pub async fn returns_of_order(tx: &mut dyn Tx, order_id: &str) -> ApiResult<Vec<Value>> {
    let prefix = format!("{order_id}/");
    let mut out = Vec::new();
    for id in tx
        .list_documents(ordo_sales::returns::BY_ORDER, &prefix)
        .await?
    {
        let number = &id[prefix.len()..];
        if let Some(doc) = tx.get_document("return", number).await? {
            out.push(doc);
        }
    }
    Ok(out)
}
