//! The `Queue`: at-least-once delivery of step messages.
//!
//! Two implementations pass one shared suite (`queue::suite`): the embedded queue in SQLite
//! ([`sqlite::SqliteQueue`], the default) and RabbitMQ ([`amqp::AmqpQueue`]). Exactly-once
//! *effects* come from the store, not the queue: every step records its message id in the
//! inbox in the step transaction, so a redelivered message is a no-op.

pub mod amqp;
pub mod sqlite;

use async_trait::async_trait;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue store: {0}")]
    Db(#[from] sqlx::Error),
    #[error("amqp: {0}")]
    Amqp(String),
    #[error("broker did not confirm {0} message(s)")]
    NotConfirmed(usize),
    #[error("timed out: {0}")]
    Timeout(String),
}

/// A message to publish: its id (for dedupe downstream) and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub msg_id: String,
    pub body: Vec<u8>,
}

/// A received message, leased until acked or nacked (or until the lease/channel dies, after
/// which it is delivered again).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub msg_id: String,
    pub body: Vec<u8>,
    /// Backend handle: the `queue_messages.seq` or the AMQP delivery tag.
    pub tag: u64,
    /// True when this message was delivered before (lease expired, consumer died).
    pub redelivered: bool,
    /// How many times the message has been delivered, this delivery included: the embedded
    /// queue counts every lease (`queue_messages.deliveries`); on RabbitMQ it is the count
    /// carried in the `x-ordo-deliveries` header by each `nack` with a delay (a batch that
    /// failed) plus one. Workers dead-letter a message whose batch keeps failing (see
    /// `runtime::services::MAX_DELIVERIES`).
    pub deliveries: u32,
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// Publishes durably: when this returns Ok, the messages survive a crash of this process
    /// and of the broker. `delay` postpones delivery (retries with backoff).
    async fn publish(&self, msgs: &[Envelope], delay: Duration) -> Result<(), QueueError>;
    /// Waits up to `wait` for at least one message and returns up to `max`.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, QueueError>;
    /// Removes delivered messages for good.
    async fn ack(&self, deliveries: &[Delivery]) -> Result<(), QueueError>;
    /// Gives a message back: `Some(delay)` redelivers it after the delay, `None` dead-letters it.
    async fn nack(
        &self,
        delivery: &Delivery,
        requeue_after: Option<Duration>,
    ) -> Result<(), QueueError>;
    /// Messages that were dead-lettered (poison messages), oldest first, without removing them.
    async fn dead_letters(&self, max: usize) -> Result<Vec<Envelope>, QueueError>;
    async fn close(&self);
}

#[cfg(test)]
pub(crate) mod suite;
