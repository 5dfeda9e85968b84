//! Business commands a person runs outside a workflow step (`ordo receive`, `ordo pay`, the
//! API's equivalents, the scenarios): each calls the connector function it names through a
//! `TxContext` bound to one store transaction, which commits with the events it emits, or
//! rolls back whole.

use crate::app::commit_and_publish;
use crate::runtime::{Engine, EngineError, TxContext};
use chrono::NaiveDate;
use ordo_contract::{StepContext, StepError};
use rust_decimal::Decimal;
use serde_json::Value;
use std::sync::Arc;

fn step_err(e: StepError) -> EngineError {
    EngineError::Refused(e.to_string())
}

/// Runs `command` through a `TxContext` bound to a new transaction: committed with the events
/// it emitted when it succeeds, rolled back whole when it fails (its error is a refusal).
async fn in_one_transaction<F>(engine: &Arc<Engine>, command: F) -> Result<Value, EngineError>
where
    F: AsyncFnOnce(&mut dyn StepContext) -> Result<Value, StepError>,
{
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let r = {
        let mut ctx = TxContext::command(tx.as_mut(), engine);
        command(&mut ctx).await
    };
    match r {
        Ok(v) => {
            commit_and_publish(engine, tx).await?;
            Ok(v)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(step_err(e))
        }
    }
}

/// Books a goods receipt in one transaction (stock, PO, receipt, events to waiting orders).
pub async fn receive(
    engine: &Arc<Engine>,
    po: &str,
    lines: Option<Vec<(String, Decimal)>>,
    location: &str,
) -> Result<Value, EngineError> {
    in_one_transaction(engine, async |ctx| {
        ordo_sales::receive_goods(ctx, po, lines.as_deref(), location).await
    })
    .await
}

/// Records a payment in one transaction and emits `payment.matched`.
pub async fn pay(
    engine: &Arc<Engine>,
    invoice: &str,
    amount: Decimal,
    on: Option<NaiveDate>,
    reference: Option<&str>,
) -> Result<Value, EngineError> {
    in_one_transaction(engine, async |ctx| {
        ordo_sales::record_payment(ctx, invoice, amount, on, reference).await
    })
    .await
}

/// The workflow of scheduled replenishment (workflows/replenishment.yaml).
pub const REPLENISHMENT: &str = "replenishment";

/// Starts a replenishment run now (`ordo replenish`), beside the nightly ones: an instance of
/// workflow `replenishment` keyed `manual@<business time>-<process>`, worked by `ordo run`.
/// Its purchases are claimed per need in the store, so it never buys what another run (a
/// scheduled one, or one in another process) already bought. Returns the instance's key.
pub async fn start_replenishment(engine: &Arc<Engine>) -> Result<String, EngineError> {
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let now = engine.clock.now();
    let key = format!(
        "manual@{}-{}",
        now.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        std::process::id()
    );
    let data = serde_json::json!({ "scheduled_at": now.to_rfc3339(), "manual": true });
    engine
        .start_instance(tx.as_mut(), REPLENISHMENT, &key, data)
        .await?;
    commit_and_publish(engine, tx).await?;
    Ok(key)
}

/// A purchase order's new expected date, in one transaction with the new promises of the
/// orders counting on it (`ordo_sales::atp::slip`).
pub async fn po_expected(
    engine: &Arc<Engine>,
    po: &str,
    on: NaiveDate,
) -> Result<Value, EngineError> {
    in_one_transaction(engine, async |ctx| ordo_sales::atp::slip(ctx, po, on).await).await
}
