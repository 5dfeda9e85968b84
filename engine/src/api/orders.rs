//! Order changes and cancellations a person (or a partner's change request) makes after
//! intake: `ordo order change|cancel`, `POST /api/v1/orders/{id}/changes` and `/cancel` call
//! these functions, each with the role check, the effect and the audit record in the caller's
//! transaction. The business decision (what may change, what the next version is) is
//! `ordo_sales::change`; this module holds the order's order-to-cash instance while it
//! applies it.
//!
//! **Race with a shipment.** The instance row is loaded locked (PostgreSQL `FOR UPDATE`;
//! SQLite has one writer) and its `token` moves on with the change, so a shipment step and a
//! change of the same order serialize: a shipment that committed first is seen in the
//! fulfilment (its lines refuse to change), and a step message queued before the change is
//! stale afterwards (it does nothing). A change is taken only while the instance holds no
//! stock (see [`holds_no_stock`]); otherwise it is refused as a conflict, never half applied.

use super::audit::{self, Change};
use super::auth::Actor;
use super::error::{ApiError, ApiResult, Code};
use super::finance::require;
use crate::model::{HistoryEvent, Instance, Signal, StepMessage, status};
use crate::runtime::Engine;
use crate::store::Tx;
use ordo_contract::Order;
use ordo_edi::map::{ChangeKind, ChangeRequest, ChangeVerdict};
use ordo_partners::Decided;
use ordo_sales::Fulfilment;
use ordo_sales::change::{OrderChange, apply_change, cancel_problem, without_shipped_lines};
use serde_json::{Value, json};

/// Who may change or cancel an order (`admin` may too).
pub const SALES: &[&str] = &["sales", "sales-manager", "integration"];
/// The workflow whose instance holds an order.
pub const ORDER_WORKFLOW: &str = "order-to-cash";
/// The end step a cancelled order goes to (workflows/order-to-cash.yaml).
pub const CANCELLED_STEP: &str = "cancelled";
/// Stored versions `order_version/<order>:<n>` (n from 1, the order as received).
pub const VERSION_KIND: &str = "order_version";
/// End states an order may still be changed (amended) or cancelled from.
const AMENDABLE_ENDS: &[&str] = &["held", "rejected"];

fn conflict(msg: impl Into<String>) -> ApiError {
    ApiError::new(Code::Conflict, msg)
}

/// The order's order-to-cash instance, loaded with its row lock.
async fn locked_instance(tx: &mut dyn Tx, order_id: &str) -> ApiResult<Instance> {
    let shown = ordo_contract::excerpt(order_id, 100);
    let found = tx
        .find_instances(order_id)
        .await?
        .into_iter()
        .find(|i| i.workflow == ORDER_WORKFLOW && i.business_key == order_id)
        .ok_or_else(|| ApiError::not_found(format!("no order '{shown}'")))?;
    tx.load_instance(&found.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no order '{shown}'")))
}

/// Whether the instance may be re-run now: parked at a task or a wait (allocation handed its
/// stock back or shipped it), ended held or rejected, or not yet allocated. An instance between
/// allocation and shipment holds reserved stock in `to_ship`: a change then waits for it.
fn holds_no_stock(inst: &Instance) -> Result<(), String> {
    let order = &inst.business_key;
    match (inst.status.as_str(), inst.end_status.as_deref()) {
        (status::ENDED, Some(e)) if AMENDABLE_ENDS.contains(&e) => Ok(()),
        (status::ENDED, Some("cancelled")) => Err(format!("order {order} is cancelled")),
        (status::ENDED, e) => Err(format!(
            "order {order} has ended {}: nothing is left to change",
            e.unwrap_or("?")
        )),
        (status::WAITING, _) => Ok(()),
        _ if inst.data.get("to_ship").is_none_or(Value::is_null) => Ok(()),
        (s, _) => Err(format!(
            "order {order} is being shipped (step {}, {s}); try again when it waits",
            inst.step
        )),
    }
}

fn order_of(inst: &Instance) -> ApiResult<(Order, Option<Fulfilment>)> {
    let shown = ordo_contract::excerpt(&inst.business_key, 100);
    let order: Order = ordo_contract::data_field(&inst.data, "order")
        .map_err(|e| ApiError::invalid(format!("order '{shown}': {e}")))?;
    let f = match inst.data.get("fulfilment") {
        None | Some(Value::Null) => None,
        Some(_) => Some(
            ordo_contract::data_field(&inst.data, "fulfilment")
                .map_err(|e| ApiError::invalid(format!("order '{shown}': {e}")))?,
        ),
    };
    Ok((order, f))
}

/// Closes what the instance was parked on (its open task, its timers and its wait), so the
/// task leaves the inbox and a late event or timeout finds nothing to resume.
async fn unpark(tx: &mut dyn Tx, inst: &Instance, outcome: &str, now: i64) -> ApiResult<()> {
    if let Some(mut task) = tx.open_task_for(&inst.id).await? {
        task.status = "decided".into();
        task.outcome = Some(outcome.to_string());
        task.decided_at = Some(now);
        tx.update_task(&task).await?;
    }
    tx.delete_timers(&inst.id).await?;
    tx.delete_wait(&inst.id).await?;
    Ok(())
}

/// Takes the order's earlier purchases off the open purchase orders
/// (`ordo_sales::purchase::withdraw`): the re-run buys what the new version lacks, a
/// cancelled order nothing. What it did is kept with the version (or the cancellation).
async fn withdraw_purchases(
    engine: &Engine,
    tx: &mut dyn Tx,
    inst: &Instance,
) -> ApiResult<Vec<ordo_sales::purchase::Withdrawn>> {
    let placed: Vec<ordo_sales::purchase::Placed> = match inst.data.get("purchases") {
        None | Some(Value::Null) => Vec::new(),
        Some(_) => ordo_contract::data_field(&inst.data, "purchases")
            .map_err(|e| ApiError::invalid(format!("order '{}': {e}", inst.business_key)))?,
    };
    if placed.is_empty() {
        return Ok(Vec::new());
    }
    let mut ctx = crate::runtime::TxContext::command(tx, engine);
    ordo_sales::purchase::withdraw(&mut ctx, &inst.business_key, &placed)
        .await
        .map_err(|e| conflict(e.to_string()))
}

/// The order's current version (1 for an order never changed).
fn version_of(inst: &Instance) -> u64 {
    inst.data
        .get("order_versions")
        .and_then(Value::as_array)
        .map_or(1, |v| v.len() as u64 + 1)
}

/// Applies `change` to `order_id` as `caller` in `tx` (see the module docs): the next version
/// is stored (`order_version/<id>:<n>`, a claimed key: two changes of one version cannot both
/// be stored), the `order` document updated, and the instance sent back to its workflow's
/// first step with the new order (pricing, approval, allocation and reorder run again; the
/// fulfilment keeps what shipped; what the order bought before is taken off the open purchase
/// orders first, so reorder buys for the new version only). Returns `{order, version, changes}`.
pub async fn change_order(
    engine: &Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    order_id: &str,
    change: &OrderChange,
) -> ApiResult<Value> {
    require(caller, SALES)?;
    let mut inst = locked_instance(tx, order_id).await?;
    holds_no_stock(&inst).map_err(conflict)?;
    let (order, fulfilment) = order_of(&inst)?;
    let bounds = engine.limits.order_bounds();
    let changed = apply_change(&order, fulfilment.as_ref(), change, &bounds)
        .map_err(|e| conflict(e.join("; ")))?;
    let now = engine.clock.now_ms();
    let from = version_of(&inst);
    let version = from + 1;
    let mut doc = tx
        .get_document("order", order_id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no order document '{order_id}'")))?;
    let before = doc.clone();
    let new_order = serde_json::to_value(&changed.order)
        .map_err(|e| ApiError::invalid(format!("order {order_id}: {e}")))?;
    // The stored document keeps what channels added (partner details, the quote it came
    // from); the fields a change may touch are replaced.
    for k in ["lines", "requested_date", "parties"] {
        doc[k] = new_order[k].clone();
    }
    doc["version"] = json!(version);
    if from == 1 {
        // The order as received is version 1; stored before the first change replaces it.
        tx.claim_document(VERSION_KIND, &format!("{order_id}:1"), &before, now)
            .await?;
    }
    if tx
        .claim_document(VERSION_KIND, &format!("{order_id}:{version}"), &doc, now)
        .await?
        .is_some()
    {
        return Err(conflict(format!(
            "order {order_id} version {version} was stored by another change meanwhile; try again"
        )));
    }
    tx.put_document("order", order_id, &doc, now).await?;
    unpark(tx, &inst, "changed", now).await?;
    let withdrawn = withdraw_purchases(engine, tx, &inst).await?;
    let mut entry = json!({ "version": version, "at": now, "by": caller.id,
                            "changes": changed.summary, "reason": change.reason });
    if !withdrawn.is_empty() {
        entry["purchases_withdrawn"] = json!(withdrawn);
    }
    let wf = engine
        .workflow_for(tx, &inst.workflow, inst.version)
        .await
        .map_err(|e| conflict(e.to_string()))?;
    if let Some(data) = inst.data.as_object_mut() {
        data.insert("order".into(), doc);
        for k in [
            "pricing",
            "discount_percent",
            "to_ship",
            "hold_reasons",
            "reorder",
            // withdrawn above; the re-run records what it buys for the new version
            "purchases",
            "waiting_on",
        ] {
            data.remove(k);
        }
        if let Some(f) = &changed.fulfilment {
            data.insert("fulfilment".into(), json!(f));
        }
        let versions = data.entry("order_versions").or_insert_with(|| json!([]));
        if let Some(v) = versions.as_array_mut() {
            v.push(entry.clone());
        }
    }
    inst.history_seq += 1;
    tx.append_history(
        &inst.id,
        HistoryEvent {
            seq: inst.history_seq,
            at: now,
            kind: "changed".into(),
            step: wf.start.clone(),
            attempt: 1,
            outcome: None,
            detail: entry.clone(),
        },
    );
    inst.status = status::RUNNING.into();
    inst.end_status = None;
    inst.error = None;
    inst.step = wf.start.clone();
    inst.token += 1;
    inst.attempt = 1;
    inst.updated_at = now;
    tx.update_instance(&inst).await?;
    tx.enqueue(
        &StepMessage::new(&inst, Signal::Run),
        crate::clock::real_now_ms(),
    );
    audit::record(
        tx,
        caller,
        now,
        Change {
            action: "order.changed",
            subject: format!("order/{order_id}"),
            order_id: Some(order_id.to_string()),
            before: Some(json!({ "version": from })),
            after: Some(entry.clone()),
        },
    )
    .await?;
    Ok(json!({ "order": order_id, "version": version, "changes": changed.summary }))
}

/// Cancels `order_id` as `caller` in `tx`: refused once anything of it shipped (the open rest
/// is changed away instead) and for an order that is being shipped or has ended (but held or
/// rejected orders may be cancelled: the sales rep's other answer to a hold). The instance
/// ends `cancelled`; its task, timers and wait are closed; what it bought is taken off the
/// open purchase orders.
pub async fn cancel_order(
    engine: &Engine,
    tx: &mut dyn Tx,
    caller: &Actor,
    order_id: &str,
    reason: &str,
) -> ApiResult<Value> {
    require(caller, SALES)?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::invalid("reason: 1 to 500 characters").at("/reason"));
    }
    let mut inst = locked_instance(tx, order_id).await?;
    holds_no_stock(&inst).map_err(conflict)?;
    let (order, fulfilment) = order_of(&inst)?;
    if let Some(p) = cancel_problem(&order, fulfilment.as_ref()) {
        return Err(conflict(p));
    }
    let wf = engine
        .workflow_for(tx, &inst.workflow, inst.version)
        .await
        .map_err(|e| conflict(e.to_string()))?;
    let Some(ordo_workflow::StepKind::End { status: end }) =
        wf.step(CANCELLED_STEP).map(|s| s.kind.clone())
    else {
        return Err(conflict(format!(
            "workflow {} v{} has no end step '{CANCELLED_STEP}': the order cannot be cancelled",
            wf.name, wf.version
        )));
    };
    let now = engine.clock.now_ms();
    unpark(tx, &inst, "cancelled", now).await?;
    let withdrawn = withdraw_purchases(engine, tx, &inst).await?;
    let from = (
        inst.step.clone(),
        inst.status.clone(),
        inst.end_status.clone(),
    );
    inst.history_seq += 1;
    tx.append_history(
        &inst.id,
        HistoryEvent {
            seq: inst.history_seq,
            at: now,
            kind: "cancelled".into(),
            step: CANCELLED_STEP.into(),
            attempt: 1,
            outcome: Some(end.clone()),
            detail: json!({ "by": caller.id, "reason": reason, "from_step": from.0,
                            "purchases_withdrawn": withdrawn }),
        },
    );
    inst.status = status::ENDED.into();
    inst.end_status = Some(end.clone());
    inst.step = CANCELLED_STEP.into();
    inst.token += 1;
    inst.attempt = 1;
    inst.error = None;
    inst.updated_at = now;
    tx.update_instance(&inst).await?;
    audit::record(
        tx,
        caller,
        now,
        Change {
            action: "order.cancelled",
            subject: format!("order/{order_id}"),
            order_id: Some(order_id.to_string()),
            before: Some(json!({ "step": from.0, "status": from.1, "end_status": from.2 })),
            after: Some(json!({ "end_status": end, "reason": reason })),
        },
    )
    .await?;
    Ok(json!({ "order": order_id, "status": end, "reason": reason }))
}

/// The stored versions of an order, oldest first (`GET /api/v1/orders/{id}` shows them).
pub async fn versions_of_order(tx: &mut dyn Tx, order_id: &str) -> ApiResult<Vec<Value>> {
    let prefix = format!("{order_id}:");
    let mut ids = tx.list_documents(VERSION_KIND, &prefix).await?;
    // `:10` sorts before `:2` as text.
    ids.sort_by_key(|id| id[prefix.len()..].parse::<u64>().unwrap_or(u64::MAX));
    let mut out = Vec::new();
    for id in ids {
        if let Some(doc) = tx.get_document(VERSION_KIND, &id).await? {
            out.push(doc);
        }
    }
    Ok(out)
}

/// Store kind of the change requests partners sent that were applied:
/// `edi_change/<partner>:<order>:<reference>` (claimed, so the same request again is refused
/// as a repeat instead of applied twice).
pub const EDI_CHANGE_KIND: &str = "edi_change";

/// Decides a trading partner's change request (860/ORDCHG) through [`change_order`] or
/// [`cancel_order`], the path of the CLI and the API, as the partner's integration user
/// (`partner:NAME`, audited so). Everything it writes is inside a savepoint: a refused request
/// leaves nothing behind (not even its repeat claim, so the partner may send it again once the
/// reason is gone, e.g. an order that was being shipped). Lines that have shipped are split off
/// ([`without_shipped_lines`]) and refused alone when the rest can be applied: the answer is
/// then "accepted with changes". Refusals (unknown order, cancelled or ended order, shipped
/// line, a quantity the change rule refuses, a price change) are returned as a rejecting
/// decision; only store failures are errors.
pub async fn partner_change(
    engine: &Engine,
    tx: &mut dyn Tx,
    partner: &str,
    req: &ChangeRequest,
) -> Result<Decided, crate::runtime::EngineError> {
    if !req.refusals.is_empty() {
        return Ok(Decided::rejected(req.refusals.clone()));
    }
    let caller = Actor {
        id: format!("partner:{partner}"),
        via: "channel",
        roles: vec!["integration".into()],
    };
    let now = engine.clock.now_ms();
    let key = format!("{partner}:{}:{}", req.order_id, req.reference);
    let sp = tx.savepoint().await?;
    let claim = json!({ "partner": partner, "order": req.order_id, "reference": req.reference,
                        "request": req.request });
    if let Some(earlier) = tx
        .claim_document(EDI_CHANGE_KIND, &key, &claim, now)
        .await?
    {
        tx.rollback_to(sp).await?;
        let _ = earlier;
        return Ok(Decided::rejected(vec![format!(
            "change {} of order {} was applied before: a repeat, not applied twice",
            ordo_contract::excerpt(&req.reference, 40),
            ordo_contract::excerpt(&req.order_id, 80)
        )]));
    }
    let decided: ApiResult<(Value, Vec<u32>)> = match &req.request {
        ChangeKind::Cancel { reason } => cancel_order(engine, tx, &caller, &req.order_id, reason)
            .await
            .map(|v| (v, Vec::new())),
        ChangeKind::Change { change } => {
            // Only an order that exists and is readable can have shipped lines; any other
            // case is refused by change_order itself, with its reason.
            let split = match locked_instance(tx, &req.order_id).await {
                Ok(inst) => order_of(&inst)
                    .ok()
                    .map(|(_, f)| without_shipped_lines(change, f.as_ref())),
                Err(_) => None,
            };
            match split {
                Some((gone, Some(rest))) if !gone.is_empty() => {
                    change_order(engine, tx, &caller, &req.order_id, &rest)
                        .await
                        .map(|v| (v, gone))
                }
                _ => change_order(engine, tx, &caller, &req.order_id, change)
                    .await
                    .map(|v| (v, Vec::new())),
            }
        }
    };
    match decided {
        Ok((result, gone)) => {
            tx.release(sp).await?;
            let verdict = if gone.is_empty() {
                ChangeVerdict::Accepted
            } else {
                ChangeVerdict::AcceptedWithChanges
            };
            let reasons = gone
                .iter()
                .map(|n| format!("line {n}: already shipped; a shipped line cannot change"))
                .collect();
            Ok(Decided {
                verdict,
                reasons,
                refused_lines: gone,
                result,
            })
        }
        Err(e) => {
            tx.rollback_to(sp).await?;
            match e.code {
                Code::Internal | Code::Unavailable => {
                    Err(crate::runtime::EngineError::Refused(e.message))
                }
                _ => Ok(Decided::rejected(vec![e.message])),
            }
        }
    }
}
