//! The audit trail: every decision and change a person or system makes, written by
//! [`record`] in the transaction of its effect (so an effect that rolls back leaves no record,
//! and a committed one always has its record). Append-only: the store refuses updates and
//! deletes of the table (triggers in `0003_service.sql`), and no route or command changes it.

use super::auth::Actor;
use crate::store::Tx;
use crate::store::service::AuditRow;
use serde_json::Value;

/// What an audit record says, besides who and when.
pub struct Change<'a> {
    pub action: &'a str,
    pub subject: String,
    pub order_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Appends one record in `tx`; `now` is business time (epoch ms).
pub async fn record(
    tx: &mut dyn Tx,
    actor: &Actor,
    now: i64,
    change: Change<'_>,
) -> Result<(), crate::store::StoreError> {
    tx.audit_append(AuditRow {
        seq: 0,
        at: now,
        actor: actor.id.clone(),
        via: actor.via.to_string(),
        action: change.action.to_string(),
        subject: change.subject,
        order_id: change.order_id,
        before: change.before,
        after: change.after,
    })
    .await
}

/// One `order.submitted` record per accepted order (order id, the instances it started), with
/// the fields of `extra` added to each record's `after` (e.g. the AMQP message id).
pub async fn orders_submitted(
    tx: &mut dyn Tx,
    actor: &Actor,
    now: i64,
    accepted: &[(String, Vec<String>)],
    extra: Value,
) -> Result<(), crate::store::StoreError> {
    for (order, instances) in accepted {
        let mut after = serde_json::json!({ "instances": instances });
        if let (Value::Object(a), Value::Object(e)) = (&mut after, &extra) {
            a.extend(e.clone());
        }
        let change = Change {
            action: "order.submitted",
            subject: format!("order/{order}"),
            order_id: Some(order.clone()),
            before: None,
            after: Some(after),
        };
        record(tx, actor, now, change).await?;
    }
    Ok(())
}
