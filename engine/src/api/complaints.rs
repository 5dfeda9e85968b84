//! Complaints a person opens and decides through the API or the CLI (`ordo complaint
//! open|show|decide`, `POST /api/v1/complaints`, `POST /api/v1/complaints/{number}/decision`,
//! `GET /api/v1/complaints/{number}`). Like returns and finance decisions, each is ONE
//! function the route and the command call with the caller: the role check, the business
//! functions of `ordo_sales` through a `TxContext` on the caller's transaction, the workflow
//! resumed, and the audit record — all in that one transaction.
//!
//! A decision makes its effect with the one function for it: `return` requests the return of
//! a line of the complaint's order (`ordo_sales::returns::request_return`, which starts
//! workflows/returns.yaml), `credit` issues a credit note on the complaint's invoice (or the
//! one named) through `ordo_sales::issue_credit_note`, `close` only records the note. It then
//! records the decision on the complaint and resumes workflows/complaints.yaml: the manager's
//! task is decided when the case was escalated, else `complaint.decided` is emitted to the
//! waiting case (kept as a pending event if the case has not reached its wait yet).

use super::audit::{self, Change};
use super::auth::Actor;
use super::error::{ApiError, ApiResult, Code};
use super::finance::{refused, require};
use crate::runtime::Engine;
use crate::store::Tx;
use ordo_sales::CreditLine;
use ordo_sales::complaints::{self, Against, Decision};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};

/// Who may open a complaint (`admin` may too).
pub const OPEN: &[&str] = &["sales", "sales-manager"];
/// Who may decide one.
pub const DECIDE: &[&str] = &["sales", "sales-manager"];
/// The workflow a complaint runs in.
pub const WORKFLOW: &str = "complaints";

/// A decision on a complaint (the API's body, the CLI's flags).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// return, credit or close.
    pub outcome: String,
    /// Why (kept with the complaint, the return or the credit note): 1 to 2000 characters.
    pub note: String,
    /// return: the order line and quantity to take back.
    #[serde(default)]
    pub line_no: Option<u32>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub quantity: Option<Decimal>,
    /// credit: the invoice (default: the complaint's) and the lines (default: everything
    /// uncredited).
    #[serde(default)]
    pub invoice: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub lines: Option<Vec<CreditLine>>,
}

/// Opens a complaint against an order or an invoice as `caller` in `tx` (see
/// [`ordo_sales::complaints::open_complaint`]). Returns the stored complaint.
pub async fn open_complaint(
    engine: &Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    against: Against<'_>,
    category: &str,
    description: &str,
) -> ApiResult<Value> {
    require(caller, OPEN)?;
    let r = {
        let mut ctx = crate::runtime::TxContext::command(tx, engine);
        complaints::open_complaint(&mut ctx, against, category, description).await
    };
    let c = r.map_err(|e| refused(e, "complaint"))?;
    let number = c["number"].as_str().unwrap_or("?").to_string();
    let change = Change {
        action: "complaint.opened",
        subject: format!("complaint/{number}"),
        order_id: c["order_id"].as_str().map(str::to_string),
        before: None,
        after: Some(json!({ "invoice": c["invoice"], "category": c["category"],
                            "description": c["description"] })),
    };
    audit::record(tx, caller, engine.clock.now_ms(), change).await?;
    Ok(c)
}

/// The stored complaint `number` (404 when there is none).
pub async fn show_complaint(tx: &mut dyn Tx, number: &str) -> ApiResult<Value> {
    tx.get_document(complaints::SERIES, number)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no complaint '{}'",
                ordo_contract::excerpt(number, 100)
            ))
        })
}

/// Decides complaint `number` as `caller` in `tx` (see the module docs). Returns the stored
/// complaint with its decision.
pub async fn decide_complaint(
    engine: &Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    number: &str,
    req: &DecisionRequest,
) -> ApiResult<Value> {
    require(caller, DECIDE)?;
    if !complaints::OUTCOMES.contains(&req.outcome.as_str()) {
        return Err(ApiError::invalid(format!(
            "outcome '{}' is not one of {}",
            ordo_contract::excerpt(&req.outcome, 40),
            complaints::OUTCOMES.join(", ")
        ))
        .at("/outcome"));
    }
    let note = complaints::text("a note", &req.note)
        .map_err(|e| ApiError::invalid(e.to_string()).at("/note"))?;
    if req
        .lines
        .as_ref()
        .is_some_and(|l| l.len() > super::finance::MAX_LINES)
    {
        return Err(
            ApiError::invalid(format!("lines: at most {}", super::finance::MAX_LINES)).at("/lines"),
        );
    }
    let c = {
        let mut ctx = crate::runtime::TxContext::command(tx, engine);
        let c = complaints::load(&mut ctx, number).await;
        c.and_then(|c| complaints::decidable(&c).map(|()| c))
    }
    .map_err(|e| match e {
        ordo_contract::StepError::Permanent(m) if m.starts_with("no complaint") => {
            ApiError::not_found(m)
        }
        e => refused(e, "complaint decision"),
    })?;
    let reason = format!("complaint {number}: {note}");
    let (mut rma, mut credit_note) = (None, None);
    match req.outcome.as_str() {
        "return" => {
            let (Some(line), Some(qty)) = (req.line_no, req.quantity) else {
                return Err(ApiError::invalid(
                    "a return needs the order line and quantity (line_no, quantity)",
                )
                .at("/line_no"));
            };
            let want = super::returns::ReturnLine {
                line_no: line,
                quantity: qty,
                reason: &reason,
                replacement: false,
            };
            let doc = super::returns::start_return(engine, tx, &c.order_id, &want).await?;
            rma = doc["number"].as_str().map(str::to_string);
        }
        "credit" => {
            let Some(invoice) = req.invoice.clone().or(c.invoice.clone()) else {
                return Err(ApiError::invalid(format!(
                    "complaint {number} is against order {}: name the invoice to credit",
                    c.order_id
                ))
                .at("/invoice"));
            };
            let r = {
                let mut ctx = crate::runtime::TxContext::command(tx, engine);
                ordo_sales::issue_credit_note(&mut ctx, &invoice, req.lines.as_deref(), &reason)
                    .await
            };
            let doc = r.map_err(|e| refused(e, "complaint credit note"))?;
            if doc["order_id"].as_str() != Some(c.order_id.as_str()) {
                // Rolled back with the request: a complaint credits its own order only.
                return Err(ApiError::new(
                    Code::Conflict,
                    format!(
                        "invoice {invoice} is not of order {}, which complaint {number} is about",
                        c.order_id
                    ),
                ));
            }
            credit_note = doc["number"].as_str().map(str::to_string);
        }
        _ => {}
    }
    let decision = Decision {
        outcome: req.outcome.clone(),
        note: note.clone(),
        by: caller.id.clone(),
        on: crate::clock::ms_to_datetime(engine.clock.now_ms()).date_naive(),
        rma: rma.clone(),
        credit_note: credit_note.clone(),
    };
    let r = {
        let mut ctx = crate::runtime::TxContext::command(tx, engine);
        complaints::record_decision(&mut ctx, number, decision).await
    };
    let after = r.map_err(|e| refused(e, "complaint decision"))?;
    resume(engine, tx, number, &req.outcome, &note, &after).await?;
    let change = Change {
        action: "complaint.decided",
        subject: format!("complaint/{number}"),
        order_id: Some(c.order_id.clone()),
        before: Some(json!({ "status": c.status })),
        after: Some(
            json!({ "status": after["status"], "outcome": req.outcome, "note": note,
                            "rma": rma, "credit_note": credit_note }),
        ),
    };
    audit::record(tx, caller, engine.clock.now_ms(), change).await?;
    Ok(after)
}

/// Moves the complaint's workflow on: the manager's open task is decided with the outcome;
/// otherwise the case is waiting (or about to wait) for `complaint.decided`.
async fn resume(
    engine: &Engine,
    tx: &mut dyn Tx,
    number: &str,
    outcome: &str,
    note: &str,
    complaint: &Value,
) -> ApiResult<()> {
    let inst = tx
        .find_instances(number)
        .await?
        .into_iter()
        .find(|i| i.workflow == WORKFLOW && i.business_key == number);
    if let Some(inst) = &inst
        && let Some(task) = tx.open_task_for(&inst.id).await?
    {
        engine.decide_task(tx, task.id, outcome, Some(note)).await?;
        return Ok(());
    }
    engine
        .emit_event(
            tx,
            complaints::DECIDED_EVENT,
            number,
            outcome,
            &json!({ "complaint": complaint }),
        )
        .await?;
    Ok(())
}
