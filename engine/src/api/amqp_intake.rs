//! AMQP order intake: `intake: { amqp: { url, queue } }` makes `ordo run` consume orders from
//! a RabbitMQ queue, on either backend. A message holds what `POST /api/v1/orders` takes (one
//! order or an array) and is booked by the same intake (`channels::orders::check_orders`,
//! `intake_orders_in`), with the message id claimed in the same transaction
//! (`amqp_message/<id>`): a redelivered message books nothing, and neither does another message
//! with the same customer and PO (the intake's own claim). A message is acked only after that
//! transaction committed; a store outage leaves it unacked and it comes back.
//!
//! A malformed or invalid message is recorded (`amqp_rejected/<id>`, with the reason), then
//! published to `QUEUE.dead` with the reason in the `x-ordo-error` header (publisher
//! confirms), then acked. RabbitMQ down at start or lost while running: reconnect with
//! backoff; unacked messages are redelivered by the broker.

use super::audit;
use super::auth::Actor;
use crate::config::AmqpIntakeConfig;
use crate::runtime::{Engine, EngineError};
use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What became of one message.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Booked (orders accepted; duplicates of earlier orders skipped).
    Booked { accepted: usize, duplicates: usize },
    /// This message id was booked before (a redelivery): nothing booked.
    Redelivered,
    /// Poison: never bookable, with the reason.
    Invalid(String),
}

/// Books one message body in one transaction (see the module docs).
pub async fn intake(engine: &Engine, msg_id: &str, body: &[u8]) -> Result<Outcome, EngineError> {
    let max = engine.limits.max_order_file_bytes;
    if body.len() as u64 > max {
        return Ok(Outcome::Invalid(format!(
            "{} bytes, over limits.max_order_file_bytes ({max})",
            body.len()
        )));
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return Ok(Outcome::Invalid("not UTF-8".into()));
    };
    let t = text.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return Ok(Outcome::Invalid(
            "expected a JSON order or an array of orders".into(),
        ));
    }
    let shown = format!("amqp:{}", ordo_contract::excerpt(msg_id, 80));
    let orders = match crate::channels::orders::check_orders(engine, &shown, text) {
        Ok(o) => o,
        Err(errors) => return Ok(Outcome::Invalid(errors.join("; "))),
    };
    let array = t.starts_with('[');
    for (i, (o, raw)) in orders.iter().enumerate() {
        if let Some(at) = super::routes::unknown_field_of(o, raw) {
            let at = if array { format!("/{i}{at}") } else { at };
            return Ok(Outcome::Invalid(format!(
                "{shown}: order #{}: unknown field at {at}",
                i + 1
            )));
        }
    }
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let now = engine.clock.now_ms();
    if tx
        .claim_document("amqp_message", msg_id, &json!({ "at": now }), now)
        .await?
        .is_some()
    {
        tx.rollback().await?;
        return Ok(Outcome::Redelivered);
    }
    let done = match crate::channels::orders::intake_orders_in(engine, tx.as_mut(), &shown, &orders)
        .await
    {
        Ok(d) => d,
        Err(EngineError::Refused(m)) => {
            tx.rollback().await?;
            return Ok(Outcome::Invalid(m));
        }
        Err(e) => return Err(e),
    };
    let actor = Actor {
        id: "system".into(),
        via: "channel",
        roles: Vec::new(),
    };
    let via = json!({ "amqp_message": msg_id });
    audit::orders_submitted(tx.as_mut(), &actor, now, &done.accepted, via).await?;
    crate::app::commit_and_publish(engine, tx).await?;
    Ok(Outcome::Booked {
        accepted: done.accepted.len(),
        duplicates: done.duplicates.len(),
    })
}

/// Keeps a poison message's reason in the store (`amqp_rejected/<id>`).
async fn record_rejection(
    engine: &Engine,
    queue: &str,
    msg_id: &str,
    reason: &str,
    body: &[u8],
) -> Result<(), EngineError> {
    let mut tx = engine.store.begin().await?;
    let max = engine.limits.max_excerpt_chars;
    tx.put_document(
        "amqp_rejected",
        msg_id,
        &json!({ "queue": queue, "reason": ordo_contract::excerpt(reason, 2000),
                 "excerpt": ordo_contract::excerpt(&String::from_utf8_lossy(body), max) }),
        engine.clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Consumes until `stop`, reconnecting with backoff.
pub async fn run(engine: Arc<Engine>, cfg: AmqpIntakeConfig, mut stop: watch::Receiver<bool>) {
    let mut delay = Duration::from_millis(200);
    loop {
        if *stop.borrow() {
            return;
        }
        match consume(&engine, &cfg, &mut stop).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(queue = %cfg.queue, error = %e, retry_in_ms = delay.as_millis() as u64, "AMQP intake: connection lost or refused, reconnecting");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = stop.changed() => return,
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// One connection's life: declare, consume, handle; `Ok` on stop.
async fn consume(
    engine: &Engine,
    cfg: &AmqpIntakeConfig,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), String> {
    let conn = tokio::time::timeout(
        Duration::from_secs(10),
        Connection::connect(&cfg.url, ConnectionProperties::default()),
    )
    .await
    .map_err(|_| "no answer within 10 s".to_string())?
    .map_err(err)?;
    let publish = conn.create_channel().await.map_err(err)?;
    publish
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(err)?;
    let dead = format!("{}.dead", cfg.queue);
    for q in [&cfg.queue, &dead] {
        publish
            .queue_declare(
                q.as_str().into(),
                QueueDeclareOptions::durable(),
                FieldTable::default(),
            )
            .await
            .map_err(err)?;
    }
    let channel = conn.create_channel().await.map_err(err)?;
    channel
        .basic_qos(32, BasicQosOptions::default())
        .await
        .map_err(err)?;
    let mut consumer = channel
        .basic_consume(
            cfg.queue.as_str().into(),
            "ordo-intake".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(err)?;
    tracing::info!(queue = %cfg.queue, "AMQP intake consuming");
    loop {
        let delivery = tokio::select! {
            d = consumer.next() => d,
            _ = stop.changed() => {
                let _ = conn.close(200, "stopping".into()).await;
                return Ok(());
            }
        };
        let Some(delivery) = delivery else {
            return Err("the consumer was cancelled".into());
        };
        let delivery = delivery.map_err(err)?;
        let body = delivery.data.clone();
        let msg_id = delivery
            .properties
            .message_id()
            .as_ref()
            .map(|m| m.to_string())
            .filter(|m| ordo_contract::intake::id_problem(m, 200).is_none())
            // without a usable message id, the content names the message
            .unwrap_or_else(|| format!("sha256:{}", ordo_contract::content_id(&body)));
        match intake(engine, &msg_id, &body).await {
            Ok(Outcome::Invalid(reason)) => {
                tracing::warn!(queue = %cfg.queue, message = %msg_id, "AMQP order dead-lettered: {reason}");
                if let Err(e) = record_rejection(engine, &cfg.queue, &msg_id, &reason, &body).await
                {
                    tracing::warn!(error = %e, "AMQP intake: rejection not recorded; message comes back");
                    requeue(&delivery).await;
                    continue;
                }
                let mut headers = FieldTable::default();
                headers.insert(
                    "x-ordo-error".into(),
                    AMQPValue::LongString(ordo_contract::excerpt(&reason, 2000).as_str().into()),
                );
                let props = BasicProperties::default()
                    .with_delivery_mode(2)
                    .with_message_id(msg_id.as_str().into())
                    .with_headers(headers);
                let confirm = publish
                    .basic_publish(
                        "".into(),
                        dead.as_str().into(),
                        BasicPublishOptions::default(),
                        &body,
                        props,
                    )
                    .await
                    .map_err(err)?
                    .await
                    .map_err(err)?;
                if !confirm.is_ack() {
                    return Err("the broker refused the dead-lettered message".into());
                }
                delivery
                    .ack(BasicAckOptions::default())
                    .await
                    .map_err(err)?;
            }
            Ok(outcome) => {
                tracing::info!(queue = %cfg.queue, message = %msg_id, ?outcome, "AMQP order message taken");
                delivery
                    .ack(BasicAckOptions::default())
                    .await
                    .map_err(err)?;
            }
            Err(e) => {
                // the store is unreachable: leave the message to the broker and back off
                tracing::warn!(queue = %cfg.queue, error = %e, "AMQP intake: not booked, message comes back");
                requeue(&delivery).await;
            }
        }
    }
}

/// Gives a message back to the broker (it comes again) and backs off a second.
async fn requeue(delivery: &lapin::message::Delivery) {
    let _ = delivery
        .nack(BasicNackOptions {
            requeue: true,
            ..Default::default()
        })
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
}
