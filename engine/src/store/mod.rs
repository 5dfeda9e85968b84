//! The `Store`: durable state behind every step (instances, history, inbox, outbox, timers,
//! waits, tasks, documents, number series, stock, workflow definitions).
//!
//! One trait, two implementations (SQLite, PostgreSQL) that share their SQL text through
//! [`impl_store_tx!`] and differ only in migrations, row locking and how a quantity is encoded.
//! Everything goes through a [`Tx`]: the step transaction. Invariant: a step's reads and writes,
//! its history event, the next step message(s) and its outbound messages commit together or not
//! at all.
//!
//! Writes that nothing in the step reads back (history, enqueued messages) are buffered in the
//! `Tx` and flushed as multi-row inserts just before commit; savepoints remember the buffer
//! lengths so a rolled-back step drops its buffered rows too.

mod common;
pub mod postgres;
pub mod service;
pub mod sqlite;

use crate::model::{
    HistoryEvent, Instance, Outbound, PendingEvent, StepMessage, Task, Timer, Waiter,
};
use async_trait::async_trait;
use rust_decimal::Decimal;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{kind} '{key}' already exists")]
    Duplicate { kind: &'static str, key: String },
    #[error("unreachable: {0}")]
    Unavailable(String),
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// True for errors another attempt may not hit (lost connection, lock, deadlock,
    /// serialization failure, pool timeout).
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Db(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Protocol(_) => true,
                sqlx::Error::Database(d) => {
                    let code = d.code().map(|c| c.to_string()).unwrap_or_default();
                    // PG: serialization failure, deadlock, admin shutdown, cannot connect now;
                    // SQLite: BUSY (5), LOCKED (6).
                    matches!(
                        code.as_str(),
                        "40001" | "40P01" | "57P01" | "57P03" | "5" | "6" | "517"
                    )
                }
                _ => false,
            },
            StoreError::Unavailable(_) => true,
            _ => false,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which backend a store is; decides how step messages travel (see `runtime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite: step messages are rows of `queue_messages` in the same file.
    Sqlite,
    /// PostgreSQL: step messages are `outbox` rows, published to the broker after commit.
    Postgres,
}

#[async_trait]
pub trait Store: Send + Sync {
    fn backend(&self) -> Backend;
    /// Starts a read-write transaction (SQLite: `BEGIN IMMEDIATE`, one writer at a time).
    async fn begin(&self) -> Result<Box<dyn Tx>>;
    /// Closes the pools (before the runtime shuts down).
    async fn close(&self);
}

/// Document texts as last committed, shared by the transactions of one SQLite store (see
/// `common.rs`, `CACHE_READS`): a document written by one step batch and read by the next
/// (the invoice a collection instance picks up, the customer every order reads) comes from
/// memory instead of a round trip.
///
/// Invariant: an entry is the committed text of that document. It holds because everything
/// that writes documents through this process's one connection updates the cache (before
/// COMMIT, while the connection is still held: no other transaction can read in between; a
/// failed COMMIT empties it), and every transaction starts by comparing SQLite's
/// `data_version`, which changes when another process (`ordo approve`, `ordo data import`)
/// commits; a changed version, or a new connection, empties it.
#[derive(Default)]
pub(crate) struct SharedDocs {
    /// `data_version` seen by the last transaction; `None` after a (re)connect.
    pub(crate) version: Option<i64>,
    /// Two generations: inserts go to `young`; when it outgrows half the bound it becomes
    /// `old` and the previous `old` is dropped. What was touched recently stays, at a bounded
    /// memory cost, without keeping an LRU order on every read.
    young: Generation,
    old: Generation,
}

type DocKey = (String, String);

#[derive(Default)]
struct Generation {
    docs: std::collections::HashMap<DocKey, std::sync::Arc<str>>,
    /// Sum of the texts' lengths.
    bytes: usize,
}

impl Generation {
    fn remove(&mut self, key: &DocKey) -> Option<std::sync::Arc<str>> {
        let old = self.docs.remove(key)?;
        self.bytes -= old.len();
        Some(old)
    }
}

impl SharedDocs {
    /// Bounds the cache's memory (text bytes, both generations together).
    pub(crate) const MAX_BYTES: usize = 64 << 20;

    pub(crate) fn clear(&mut self) {
        self.young = Generation::default();
        self.old = Generation::default();
    }

    pub(crate) fn get(&self, key: &DocKey) -> Option<std::sync::Arc<str>> {
        self.young
            .docs
            .get(key)
            .or_else(|| self.old.docs.get(key))
            .cloned()
    }

    pub(crate) fn insert(&mut self, key: DocKey, text: std::sync::Arc<str>) {
        self.old.remove(&key);
        self.young.remove(&key);
        self.young.bytes += text.len();
        self.young.docs.insert(key, text);
        if self.young.bytes > Self::MAX_BYTES / 2 {
            self.old = std::mem::take(&mut self.young);
        }
    }

    pub(crate) fn remove(&mut self, key: &DocKey) {
        self.young.remove(key);
        self.old.remove(key);
    }
}

pub(crate) type SharedDocsRef = std::sync::Arc<std::sync::Mutex<SharedDocs>>;

/// Identifies a savepoint: the buffered-write lengths to restore on rollback.
#[derive(Debug, Clone, Copy)]
pub struct Savepoint {
    pub(crate) history: usize,
    pub(crate) enqueued: usize,
    pub(crate) instances: usize,
    /// Nesting level (names the SQL savepoint), so rolling back to / releasing an outer
    /// savepoint while an inner one is open acts on the outer one.
    pub(crate) depth: usize,
}

/// One store transaction. Dropping it without `commit` rolls back. The service surface's
/// tables (users, idempotency keys, audit) are reached through the supertrait
/// [`service::ServiceTx`].
#[async_trait]
pub trait Tx: service::ServiceTx + Send {
    async fn commit(self: Box<Self>) -> Result<()>;
    async fn rollback(self: Box<Self>) -> Result<()>;
    async fn savepoint(&mut self) -> Result<Savepoint>;
    async fn release(&mut self, sp: Savepoint) -> Result<()>;
    async fn rollback_to(&mut self, sp: Savepoint) -> Result<()>;

    // -- inbox ---------------------------------------------------------------------------
    /// Records a message id; false when it was already recorded (a duplicate delivery).
    async fn inbox_insert(&mut self, msg_id: &str, now: i64) -> Result<bool>;
    /// Records many message ids at once; returns those that were new.
    async fn inbox_insert_many(
        &mut self,
        msg_ids: &[String],
        now: i64,
    ) -> Result<std::collections::HashSet<String>>;
    /// Deletes inbox rows older than `before` (ids are kept long enough to catch redelivery).
    async fn inbox_prune(&mut self, before: i64) -> Result<u64>;

    // -- queue ---------------------------------------------------------------------------
    /// Buffers a step message, visible at `visible_at` (epoch ms).
    fn enqueue(&mut self, msg: &StepMessage, visible_at: i64);
    /// Messages buffered so far in this transaction (the cluster runtime publishes them after
    /// commit).
    fn enqueued(&self) -> &[(StepMessage, i64)];
    /// Embedded only: deletes leased `queue_messages` rows, so the ack commits with the step.
    async fn ack_leased(&mut self, seqs: &[i64]) -> Result<()>;
    /// Cluster only: outbox rows ready to publish (`deliver_at <= now`), oldest first.
    async fn outbox_ready(&mut self, now: i64, limit: i64) -> Result<Vec<(i64, Vec<u8>, i64)>>;
    async fn outbox_delete(&mut self, ids: &[i64]) -> Result<()>;
    async fn outbox_delete_msgs(&mut self, msg_ids: &[String]) -> Result<()>;
    /// Step messages not yet consumed (embedded: live `queue_messages` rows; cluster: outbox rows).
    async fn queued_count(&mut self) -> Result<i64>;

    // -- instances and history -------------------------------------------------------------
    /// Inserts a new instance; `Err(Duplicate)` when its id or (workflow, business key) is
    /// taken. After [`Tx::defer_instance_inserts`], a clash with a row already in the database
    /// is reported when the insert is flushed (before the commit, a savepoint or a query over
    /// instances) instead of here.
    async fn insert_instance(&mut self, inst: &Instance) -> Result<()>;
    /// Buffers this transaction's instance inserts to write them as multi-row inserts. Used
    /// where a clash is an error for the whole transaction anyway (a batch of steps, which then
    /// runs again with immediate inserts and a savepoint per step; a file of orders).
    fn defer_instance_inserts(&mut self);
    /// Loads an instance and locks it for the rest of the transaction (reads this
    /// transaction's own buffered writes first).
    async fn load_instance(&mut self, id: &str) -> Result<Option<Instance>>;
    /// Loads and locks many instances in one query (in id order) so the steps of a batch do
    /// not each pay a round trip.
    async fn preload_instances(&mut self, ids: &[String]) -> Result<()>;
    /// Buffers the new state of an instance; written at commit. Queries over many instances
    /// (`find_instances`, `list_instances`, `count_instances`) see committed state only.
    async fn update_instance(&mut self, inst: &Instance) -> Result<()>;
    /// [`Tx::update_instance`] without the copy (the step hands its instance over).
    async fn put_instance(&mut self, inst: Instance) -> Result<()> {
        self.update_instance(&inst).await
    }
    async fn find_instances(&mut self, id_or_key: &str) -> Result<Vec<Instance>>;
    async fn list_instances(&mut self, status: Option<&str>, limit: i64) -> Result<Vec<Instance>>;
    /// Counts instances per (workflow, status, end_status).
    async fn count_instances(&mut self) -> Result<Vec<(String, String, Option<String>, i64)>>;
    fn append_history(&mut self, instance_id: &str, event: HistoryEvent);
    async fn history(&mut self, instance_id: &str) -> Result<Vec<HistoryEvent>>;
    async fn next_history_seq(&mut self, instance_id: &str) -> Result<i64>;

    // -- timers, waits, pending events, tasks --------------------------------------------------
    async fn add_timer(&mut self, timer: &Timer) -> Result<()>;
    /// Deletes and returns timers due at `now`, up to `limit`.
    async fn take_due_timers(&mut self, now: i64, limit: i64) -> Result<Vec<Timer>>;
    async fn delete_timers(&mut self, instance_id: &str) -> Result<()>;
    async fn next_timer_at(&mut self) -> Result<Option<i64>>;
    async fn add_wait(&mut self, event: &str, key: &str, waiter: &Waiter) -> Result<()>;
    /// Deletes and returns the waits for `event` under `key`, in instance id order.
    async fn take_waiters(&mut self, event: &str, key: &str) -> Result<Vec<Waiter>> {
        Ok(self
            .take_waiters_many(event, &[key])
            .await?
            .remove(key)
            .unwrap_or_default())
    }
    /// [`Tx::take_waiters`] for many keys in a few statements (a statement's worth of
    /// payments): waiters by key, each list in instance id order; keys nobody waits for are
    /// absent.
    async fn take_waiters_many(
        &mut self,
        event: &str,
        keys: &[&str],
    ) -> Result<std::collections::HashMap<String, Vec<Waiter>>>;
    async fn delete_wait(&mut self, instance_id: &str) -> Result<()>;
    async fn add_pending_event(
        &mut self,
        event: &str,
        key: &str,
        outcome: &str,
        payload: &Value,
        now: i64,
    ) -> Result<()>;
    async fn take_pending_event(&mut self, event: &str, key: &str) -> Result<Option<PendingEvent>>;
    async fn insert_task(&mut self, task: &Task) -> Result<i64>;
    async fn load_task(&mut self, id: i64) -> Result<Option<Task>>;
    async fn update_task(&mut self, task: &Task) -> Result<()>;
    async fn open_task_for(&mut self, instance_id: &str) -> Result<Option<Task>>;
    async fn list_tasks(&mut self, status: &str) -> Result<Vec<Task>>;

    // -- business data (the connectors' port) ---------------------------------------------------
    async fn get_document(&mut self, kind: &str, id: &str) -> Result<Option<Value>>;
    async fn put_document(&mut self, kind: &str, id: &str, body: &Value, now: i64) -> Result<()>;
    /// Inserts the document unless (kind, id) exists; then writes nothing and returns the
    /// existing body. The unique key decides: on PostgreSQL a second claimer of a key another
    /// transaction claimed waits for it to commit, then sees the conflict (or wins, if it rolled
    /// back); SQLite has one writer, so the claim reads this transaction's buffered writes and
    /// buffers its insert like `put_document`.
    async fn claim_document(
        &mut self,
        kind: &str,
        id: &str,
        body: &Value,
        now: i64,
    ) -> Result<Option<Value>>;
    async fn list_documents(&mut self, kind: &str, prefix: &str) -> Result<Vec<String>>;
    /// The documents of `kind` among `ids` that exist, by id, a few hundred ids per query.
    async fn get_documents_by_id(
        &mut self,
        kind: &str,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Value>>;
    /// The documents [`Tx::list_documents`] lists, with their bodies, in one query.
    async fn get_documents(&mut self, kind: &str, prefix: &str) -> Result<Vec<(String, Value)>> {
        let mut out = Vec::new();
        for (id, text) in self.get_documents_text(kind, prefix).await? {
            out.push((id, parse_json(&text)?));
        }
        Ok(out)
    }
    /// [`Tx::get_documents`] as stored JSON text, for a reader that wants a few fields of many
    /// documents without building each whole one.
    async fn get_documents_text(
        &mut self,
        kind: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String)>>;
    async fn count_documents(&mut self, kind: &str) -> Result<i64>;
    async fn next_number(&mut self, series: &str) -> Result<i64>;
    async fn current_number(&mut self, series: &str) -> Result<i64>;
    async fn stock_level(&mut self, item: &str, location: &str) -> Result<Decimal>;
    async fn adjust_stock(&mut self, item: &str, location: &str, delta: Decimal)
    -> Result<Decimal>;
    /// Adds an outbound message unless (channel, key) is already there (the first one wins, so
    /// a step that runs again sends nothing twice). Buffered: written before the commit, a
    /// savepoint, or a read of the outbound table in this transaction.
    async fn add_outbound(
        &mut self,
        channel: &str,
        key: &str,
        instance_id: Option<&str>,
        payload: &Value,
        now: i64,
    ) -> Result<()>;
    /// Unsent messages, never-tried ones first, then by age.
    async fn unsent_outbound(&mut self, limit: i64) -> Result<Vec<Outbound>>;
    /// Records a delivery attempt for each id: sent at `sent_at`, or failed with `error`.
    async fn mark_outbound(
        &mut self,
        ids: &[i64],
        sent_at: Option<i64>,
        error: Option<&str>,
    ) -> Result<()>;
    async fn count_outbound(&mut self, channel: &str) -> Result<i64>;

    /// Counts of what the business connectors produced: documents per kind, number series,
    /// outbound messages per channel, stock per item and location.
    async fn effects_summary(&mut self) -> Result<Value>;

    // -- definitions and settings -------------------------------------------------------------
    /// Stores a workflow definition; Err(Duplicate) if that version exists with other content.
    async fn put_workflow_def(
        &mut self,
        name: &str,
        version: u32,
        hash: &str,
        path: &str,
        source: &str,
        now: i64,
    ) -> Result<()>;
    /// (hash, path, source) of a stored definition.
    async fn get_workflow_def(
        &mut self,
        name: &str,
        version: u32,
    ) -> Result<Option<(String, String, String)>>;
    async fn kv_get(&mut self, key: &str) -> Result<Option<String>>;
    async fn kv_set(&mut self, key: &str, value: &str) -> Result<()>;
}

pub(crate) fn json_text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub(crate) fn parse_json(s: &str) -> Result<Value> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("json: {e}")))
}

#[cfg(test)]
pub(crate) mod suite;

#[cfg(test)]
mod shared_docs_tests {
    use super::SharedDocs;
    use std::sync::Arc;

    fn key(n: usize) -> (String, String) {
        ("invoice".to_string(), format!("INV-{n:06}"))
    }

    #[test]
    fn recent_documents_stay_and_memory_is_bounded() {
        let mut c = SharedDocs::default();
        let text: Arc<str> = Arc::from("x".repeat(64 << 10).as_str());
        // Four times the bound in 64 KiB texts.
        let n = 4 * SharedDocs::MAX_BYTES / text.len();
        for i in 0..n {
            c.insert(key(i), text.clone());
            assert!(c.young.bytes + c.old.bytes <= SharedDocs::MAX_BYTES + text.len());
        }
        assert!(c.get(&key(n - 1)).is_some(), "the last one");
        assert!(
            c.get(&key(n - SharedDocs::MAX_BYTES / 2 / text.len()))
                .is_some(),
            "half the bound back"
        );
        assert!(c.get(&key(0)).is_none(), "the first ones are gone");
        // A newer text replaces the older one wherever it is, and the byte count follows.
        let old_gen_key = c
            .old
            .docs
            .keys()
            .next()
            .cloned()
            .expect("an older generation");
        let before = c.young.bytes + c.old.bytes;
        c.insert(old_gen_key.clone(), Arc::from("short"));
        assert_eq!(c.get(&old_gen_key).as_deref(), Some("short"));
        assert_eq!(c.young.bytes + c.old.bytes, before - text.len() + 5);
        c.remove(&old_gen_key);
        assert!(c.get(&old_gen_key).is_none());
        c.clear();
        assert!(c.get(&key(n - 1)).is_none());
    }
}
