//! RabbitMQ queue via lapin: a durable queue of persistent messages, publisher confirms, manual
//! ack with prefetch, a dead-letter exchange for poison messages, and delayed redelivery through
//! per-delay TTL queues that dead-letter back into the main queue.
//!
//! Topology for prefix `P`:
//! - `P.steps`: durable main queue, `x-dead-letter-exchange = P.dlx`;
//! - `P.dlx` (fanout) → `P.dead`: messages nacked without requeue;
//! - `P.delay.<ms>`: durable, `x-message-ttl = ms`, dead-letters to `P.steps`, expires when idle.
//!   One queue per delay value because RabbitMQ expires messages only at the head of a queue.
//!
//! Connection loss: every operation reconnects with backoff (logged) before giving up, and
//! unacked deliveries come back from the broker; the store's inbox drops the duplicates.

use super::{Delivery, Envelope, Queue, QueueError};
use async_trait::async_trait;
use futures_lite::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicGetOptions, BasicNackOptions, BasicPublishOptions,
    BasicQosOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Consumer, ExchangeKind};
use std::collections::HashSet;
use std::time::Duration;
use tokio::sync::Mutex;

fn amqp(e: impl std::fmt::Display) -> QueueError {
    QueueError::Amqp(e.to_string())
}

struct Link {
    conn: Connection,
    publish: Channel,
    /// The channel `receive` consumes on: it starts consuming on the first receive, never at
    /// connect, so a process that only publishes (`ordo submit`, `ordo approve`, a bench's
    /// driver) is no consumer the broker hands step messages to and holds them until it exits.
    consume: Channel,
    /// Delay queues declared on this connection.
    delays: HashSet<u64>,
}

pub struct AmqpQueue {
    url: String,
    prefix: String,
    prefetch: u16,
    /// How long an operation keeps reconnecting before it reports the broker as unreachable.
    reconnect_for: Duration,
    link: Mutex<Option<Link>>,
    /// The consumer of the current connection (generation, stream). Kept apart from `link` so
    /// a receive waiting for messages does not block publishes and acks from other workers.
    consumer: Mutex<Option<(u64, Consumer)>>,
    /// Bumped on every reconnect; deliveries carry the generation in the high bits of `tag`
    /// so an ack for a delivery from a dead channel is recognised and skipped.
    generation: std::sync::atomic::AtomicU64,
}

const GEN_SHIFT: u32 = 48;

impl AmqpQueue {
    pub async fn connect(
        url: &str,
        prefix: &str,
        prefetch: u16,
        reconnect_for: Duration,
    ) -> Result<Self, QueueError> {
        let q = AmqpQueue {
            url: url.to_string(),
            prefix: prefix.to_string(),
            prefetch,
            reconnect_for,
            link: Mutex::new(None),
            consumer: Mutex::new(None),
            generation: std::sync::atomic::AtomicU64::new(0),
        };
        {
            let mut guard = q.link.lock().await;
            q.ensure(&mut guard).await?;
        }
        Ok(q)
    }

    fn steps_queue(&self) -> String {
        format!("{}.steps", self.prefix)
    }

    async fn open(&self) -> Result<Link, QueueError> {
        // lapin's connect can hang on a peer that accepts TCP but never speaks AMQP.
        let conn = tokio::time::timeout(
            Duration::from_secs(10),
            Connection::connect(&self.url, ConnectionProperties::default()),
        )
        .await
        .map_err(|_| QueueError::Timeout(format!("connecting to {}", self.url)))?
        .map_err(amqp)?;
        let publish = conn.create_channel().await.map_err(amqp)?;
        publish
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(amqp)?;
        let dlx = format!("{}.dlx", self.prefix);
        let dead = format!("{}.dead", self.prefix);
        publish
            .exchange_declare(
                dlx.as_str().into(),
                ExchangeKind::Fanout,
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(amqp)?;
        publish
            .queue_declare(
                dead.as_str().into(),
                QueueDeclareOptions::durable(),
                FieldTable::default(),
            )
            .await
            .map_err(amqp)?;
        publish
            .queue_bind(
                dead.as_str().into(),
                dlx.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(amqp)?;
        let mut args = FieldTable::default();
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(dlx.as_str().into()),
        );
        publish
            .queue_declare(
                self.steps_queue().as_str().into(),
                QueueDeclareOptions::durable(),
                args,
            )
            .await
            .map_err(amqp)?;
        let consume = conn.create_channel().await.map_err(amqp)?;
        consume
            .basic_qos(self.prefetch, BasicQosOptions::default())
            .await
            .map_err(amqp)?;
        Ok(Link {
            conn,
            publish,
            consume,
            delays: HashSet::new(),
        })
    }

    /// Makes sure a live link exists, reconnecting with backoff for up to `reconnect_for`.
    async fn ensure<'a>(&self, guard: &'a mut Option<Link>) -> Result<&'a mut Link, QueueError> {
        let alive = guard
            .as_ref()
            .map(|l| {
                l.conn.status().connected()
                    && l.publish.status().connected()
                    && l.consume.status().connected()
            })
            .unwrap_or(false);
        if !alive {
            if let Some(old) = guard.take() {
                let _ = old.conn.close(0, "reconnecting".into()).await;
            }
            let deadline = tokio::time::Instant::now() + self.reconnect_for;
            let mut delay = Duration::from_millis(100);
            loop {
                match self.open().await {
                    Ok(link) => {
                        self.generation
                            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        *guard = Some(link);
                        break;
                    }
                    Err(e) if tokio::time::Instant::now() < deadline => {
                        tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "RabbitMQ unreachable, retrying");
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(5));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        guard
            .as_mut()
            .ok_or_else(|| QueueError::Amqp("no link".into()))
    }

    /// Drops the connection of generation `gen_` so the next operation reconnects.
    async fn mark_broken(&self, gen_: u64) {
        if self.current_gen() == gen_ {
            let mut guard = self.link.lock().await;
            if self.current_gen() == gen_ {
                *guard = None;
            }
        }
    }

    fn current_gen(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::SeqCst)
    }

    async fn publish_once(
        &self,
        link: &mut Link,
        msgs: &[Envelope],
        delay: Duration,
        deliveries: Option<u32>,
    ) -> Result<(), QueueError> {
        let routing = if delay.is_zero() {
            self.steps_queue()
        } else {
            let ms = delay.as_millis() as u64;
            let name = format!("{}.delay.{ms}", self.prefix);
            if !link.delays.contains(&ms) {
                let mut args = FieldTable::default();
                args.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ms as i64));
                args.insert(
                    "x-dead-letter-exchange".into(),
                    AMQPValue::LongString("".into()),
                );
                args.insert(
                    "x-dead-letter-routing-key".into(),
                    AMQPValue::LongString(self.steps_queue().as_str().into()),
                );
                args.insert(
                    "x-expires".into(),
                    AMQPValue::LongLongInt(ms as i64 + 600_000),
                );
                link.publish
                    .queue_declare(name.as_str().into(), QueueDeclareOptions::durable(), args)
                    .await
                    .map_err(amqp)?;
                link.delays.insert(ms);
            }
            name
        };
        let mut confirms = Vec::with_capacity(msgs.len());
        for m in msgs {
            let mut props = BasicProperties::default()
                .with_delivery_mode(2)
                .with_message_id(m.msg_id.as_str().into());
            if let Some(n) = deliveries {
                let mut headers = FieldTable::default();
                headers.insert(DELIVERIES_HEADER.into(), AMQPValue::LongUInt(n));
                props = props.with_headers(headers);
            }
            let c = link
                .publish
                .basic_publish(
                    "".into(),
                    routing.as_str().into(),
                    BasicPublishOptions::default(),
                    &m.body,
                    props,
                )
                .await
                .map_err(amqp)?;
            confirms.push(c);
        }
        let mut nacked = 0;
        for c in confirms {
            let conf = c.await.map_err(amqp)?;
            if !conf.is_ack() {
                nacked += 1;
            }
        }
        if nacked > 0 {
            return Err(QueueError::NotConfirmed(nacked));
        }
        Ok(())
    }

    /// Deletes this prefix's queues and exchange (tests).
    pub async fn delete_topology(&self) -> Result<(), QueueError> {
        let mut guard = self.link.lock().await;
        let link = self.ensure(&mut guard).await?;
        for q in [self.steps_queue(), format!("{}.dead", self.prefix)] {
            let _ = link
                .publish
                .queue_delete(q.as_str().into(), Default::default())
                .await;
        }
        for ms in link.delays.clone() {
            let q = format!("{}.delay.{ms}", self.prefix);
            let _ = link
                .publish
                .queue_delete(q.as_str().into(), Default::default())
                .await;
        }
        let _ = link
            .publish
            .exchange_delete(
                format!("{}.dlx", self.prefix).as_str().into(),
                Default::default(),
            )
            .await;
        Ok(())
    }
}

/// Header counting how many deliveries of a message ended in a failed batch (see
/// [`Delivery::deliveries`]); RabbitMQ's own `x-delivery-count` exists only on quorum queues.
const DELIVERIES_HEADER: &str = "x-ordo-deliveries";

fn deliveries_header(props: &BasicProperties) -> u32 {
    let Some(headers) = props.headers() else {
        return 0;
    };
    match headers.inner().get(DELIVERIES_HEADER) {
        Some(AMQPValue::LongUInt(n)) => *n,
        Some(AMQPValue::LongLongInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        Some(AMQPValue::LongInt(n)) => u32::try_from(*n).unwrap_or(0),
        _ => 0,
    }
}

impl AmqpQueue {
    async fn publish_counted(
        &self,
        msgs: &[Envelope],
        delay: Duration,
        deliveries: Option<u32>,
    ) -> Result<(), QueueError> {
        if msgs.is_empty() {
            return Ok(());
        }
        let mut guard = self.link.lock().await;
        let mut last = None;
        for _ in 0..3 {
            let link = self.ensure(&mut guard).await?;
            match self.publish_once(link, msgs, delay, deliveries).await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    // Republishing after a lost confirm may duplicate; the inbox absorbs it.
                    tracing::warn!(error = %e, "publish failed, reconnecting");
                    *guard = None;
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or(QueueError::Amqp("publish failed".into())))
    }
}

#[async_trait]
impl Queue for AmqpQueue {
    async fn publish(&self, msgs: &[Envelope], delay: Duration) -> Result<(), QueueError> {
        self.publish_counted(msgs, delay, None).await
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        let mut cguard = self.consumer.lock().await;
        let stale = cguard
            .as_ref()
            .is_none_or(|(g, _)| *g != self.current_gen());
        if stale {
            let mut guard = self.link.lock().await;
            let link = self.ensure(&mut guard).await?;
            let gen_ = self.current_gen();
            let consumer = link
                .consume
                .basic_consume(
                    self.steps_queue().as_str().into(),
                    "".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(amqp)?;
            *cguard = Some((gen_, consumer));
        }
        let Some((gen_, consumer)) = cguard.as_mut() else {
            return Err(QueueError::Amqp("no consumer".into()));
        };
        let gen_ = *gen_;
        let mut out = Vec::new();
        let mut next = match tokio::time::timeout(wait, consumer.next()).await {
            Err(_) => return Ok(out),
            Ok(None) => {
                *cguard = None;
                self.mark_broken(gen_).await;
                return Err(QueueError::Amqp("consumer cancelled".into()));
            }
            Ok(Some(r)) => Some(r),
        };
        while let Some(r) = next.take() {
            match r {
                Ok(d) => {
                    // The property only labels logs and dead letters: the inbox de-duplicates
                    // on the msg_id inside the step message's body, which decoding requires.
                    let msg_id = d
                        .properties
                        .message_id()
                        .as_ref()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default();
                    let deliveries = deliveries_header(&d.properties).saturating_add(1);
                    out.push(Delivery {
                        msg_id,
                        body: d.data,
                        tag: (gen_ << GEN_SHIFT) | d.delivery_tag,
                        redelivered: d.redelivered,
                        deliveries,
                    });
                }
                Err(e) => {
                    *cguard = None;
                    self.mark_broken(gen_).await;
                    if out.is_empty() {
                        return Err(amqp(e));
                    }
                    return Ok(out);
                }
            }
            if out.len() >= max {
                break;
            }
            let Some((_, consumer)) = cguard.as_mut() else {
                break;
            };
            next = futures_lite::future::poll_once(consumer.next())
                .await
                .flatten();
        }
        Ok(out)
    }

    async fn ack(&self, deliveries: &[Delivery]) -> Result<(), QueueError> {
        let mut guard = self.link.lock().await;
        let gen_ = self.current_gen();
        let Some(link) = guard.as_mut() else {
            return Ok(());
        };
        for d in deliveries {
            if d.tag >> GEN_SHIFT != gen_ {
                // From a channel that died: the broker has requeued it already.
                continue;
            }
            let tag = d.tag & ((1 << GEN_SHIFT) - 1);
            if let Err(e) = link
                .consume
                .basic_ack(tag, BasicAckOptions::default())
                .await
            {
                tracing::warn!(error = %e, "ack failed; the message will be redelivered and deduplicated");
                *guard = None;
                return Ok(());
            }
        }
        Ok(())
    }

    async fn nack(&self, d: &Delivery, requeue_after: Option<Duration>) -> Result<(), QueueError> {
        match requeue_after {
            Some(delay) => {
                // Republish to the delay queue first, then ack: a crash in between duplicates
                // the message (harmless), never loses it. The copy carries the count of
                // deliveries so far, so a message that keeps failing can be dead-lettered.
                self.publish_counted(
                    &[Envelope {
                        msg_id: d.msg_id.clone(),
                        body: d.body.clone(),
                    }],
                    delay,
                    Some(d.deliveries),
                )
                .await?;
                self.ack(std::slice::from_ref(d)).await
            }
            None => {
                let mut guard = self.link.lock().await;
                let gen_ = self.current_gen();
                let Some(link) = guard.as_mut() else {
                    return Ok(());
                };
                if d.tag >> GEN_SHIFT != gen_ {
                    return Ok(());
                }
                let tag = d.tag & ((1 << GEN_SHIFT) - 1);
                link.consume
                    .basic_nack(
                        tag,
                        BasicNackOptions {
                            multiple: false,
                            requeue: false,
                        },
                    )
                    .await
                    .map_err(amqp)
            }
        }
    }

    async fn dead_letters(&self, max: usize) -> Result<Vec<Envelope>, QueueError> {
        let mut guard = self.link.lock().await;
        let link = self.ensure(&mut guard).await?;
        // Peek with a throwaway channel: unacked gets go back to the queue when it closes.
        let ch = link.conn.create_channel().await.map_err(amqp)?;
        let dead = format!("{}.dead", self.prefix);
        let mut out = Vec::new();
        while out.len() < max {
            match ch
                .basic_get(dead.as_str().into(), BasicGetOptions { no_ack: false })
                .await
                .map_err(amqp)?
            {
                None => break,
                Some(m) => {
                    let d = m.delivery;
                    out.push(Envelope {
                        msg_id: d
                            .properties
                            .message_id()
                            .as_ref()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        body: d.data,
                    });
                }
            }
        }
        let _ = ch.close(200, "peeked".into()).await;
        Ok(out)
    }

    async fn close(&self) {
        let mut guard = self.link.lock().await;
        if let Some(link) = guard.take() {
            let _ = link.consume.close(200, "bye".into()).await;
            let _ = link.publish.close(200, "bye".into()).await;
            let _ = link.conn.close(200, "bye".into()).await;
        }
    }
}
