//! Business commands a person runs outside a workflow step (`ordo receive`, `ordo pay`, the
//! API's equivalents, the scenarios): each calls the connector function it names through a
//! `TxContext` bound to one store transaction, which commits with the events it emits, or
//! rolls back whole.

use crate::app::commit_and_publish;
use crate::runtime::{Engine, EngineError, TxContext};
use chrono::NaiveDate;
use ordo_contract::StepError;
use rust_decimal::Decimal;
use serde_json::Value;
use std::sync::Arc;

fn step_err(e: StepError) -> EngineError {
    EngineError::Refused(e.to_string())
}

/// Books a goods receipt in one transaction (stock, PO, receipt, events to waiting orders).
pub async fn receive(
    engine: &Arc<Engine>,
    po: &str,
    lines: Option<Vec<(String, Decimal)>>,
    location: &str,
) -> Result<Value, EngineError> {
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let r = {
        let mut ctx = TxContext::command(tx.as_mut(), engine);
        ordo_sales::receive_goods(&mut ctx, po, lines.as_deref(), location).await
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

/// Records a payment in one transaction and emits `payment.matched`.
pub async fn pay(
    engine: &Arc<Engine>,
    invoice: &str,
    amount: Decimal,
    on: Option<NaiveDate>,
    reference: Option<&str>,
) -> Result<Value, EngineError> {
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let r = {
        let mut ctx = TxContext::command(tx.as_mut(), engine);
        ordo_sales::record_payment(&mut ctx, invoice, amount, on, reference).await
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
