//! The `Store`: durable state behind every step (instances, history, inbox, outbox, timers,
//! waits, tasks, documents, number series, stock, workflow definitions, the ledger's journal).
//!
//! One trait, two implementations (SQLite, PostgreSQL) that share their SQL text through
//! `impl_store_tx!` (transaction.rs, one file per concern) and differ only in migrations, row locking and how a quantity is encoded.
//! Everything goes through a [`Tx`]: the step transaction. Invariant: a step's reads and writes,
//! its history event, the next step message(s) and its outbound messages commit together or not
//! at all.
//!
//! Writes that nothing in the step reads back (history, enqueued messages) are buffered in the
//! `Tx` and flushed as multi-row inserts just before commit; savepoints remember the buffer
//! lengths so a rolled-back step drops its buffered rows too.

mod definitions;
mod documents;
mod instances;
pub mod journal;
mod numbers;
pub mod openitems;
mod outbound;
pub mod postgres;
mod queue_records;
pub mod reports;
pub mod sales;
pub mod service;
pub mod sessions;
pub mod sqlite;
mod stock;
mod tasks;
mod timers;
mod transaction;

pub use definitions::Definitions;
pub use documents::DocumentRecords;
pub use instances::{InstanceRecords, StepCount};
pub use journal::JournalRecords;
pub use numbers::NumberSeries;
pub use openitems::OpenItemRecords;
pub use outbound::{DeliveryState, OutboundRecords};
pub use queue_records::QueueRecords;
pub use reports::ReportRecords;
pub use sales::SalesRecords;
pub use stock::StockLevels;
pub use tasks::TaskRecords;
pub use timers::TimerWaitRecords;

use async_trait::async_trait;
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
/// `transaction.rs`, `CACHE_READS`): a document written by one step batch and read by the next
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

/// One store transaction: commit, rollback and savepoints here, the records it reads and writes
/// in one trait per concern (each in its own file; the service surface's users, idempotency keys
/// and audit in [`service::ServiceTx`]). Dropping it without `commit` rolls back.
#[async_trait]
pub trait Tx:
    QueueRecords
    + InstanceRecords
    + TimerWaitRecords
    + TaskRecords
    + DocumentRecords
    + StockLevels
    + NumberSeries
    + OutboundRecords
    + Definitions
    + JournalRecords
    + ReportRecords
    + OpenItemRecords
    + SalesRecords
    + service::ServiceTx
    + sessions::SessionRecords
    + Send
{
    async fn commit(self: Box<Self>) -> Result<()>;
    async fn rollback(self: Box<Self>) -> Result<()>;
    async fn savepoint(&mut self) -> Result<Savepoint>;
    async fn release(&mut self, sp: Savepoint) -> Result<()>;
    async fn rollback_to(&mut self, sp: Savepoint) -> Result<()>;
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
