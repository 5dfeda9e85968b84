//! SQLite store (the embedded default): WAL, one writer connection, `BEGIN IMMEDIATE`.
//!
//! Step messages live in `queue_messages` of the same file, so enqueueing the next step and
//! acking the consumed one are plain rows in the step transaction (no relay, no lag).

use super::{Backend, Store};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// See `transaction.rs`: whether a transaction caches the documents and stock it touched.
const CACHE_READS: bool = true;
const FOR_UPDATE: &str = "";
/// See `transaction.rs` (`take_hot_lock`): SQLite has one writer, nothing to order.
const HOT_LOCK: Option<&str> = None;
/// A rebuild of the sales aggregates needs no lock: the one writer is the rebuild.
const LOCK_SALES: &str = "";
/// A rebuild of the aging index holds off the writers of invoices until it commits
/// (`store/openitems.rs`).
const LOCK_AGING: &str = "";

/// The text at `path` (`a.b`) of the JSON column `col`, written as migration 0027's indexes
/// write it (store/sessions.rs: the console's list reads).
fn json_at(col: &str, path: &str) -> String {
    format!("json_extract({col}, '$.{path}')")
}

/// The number at `path` of the JSON column `col` (a JSON number or decimal text), as
/// migration 0027 indexes it.
fn json_num(col: &str, path: &str) -> String {
    format!("CAST(json_extract({col}, '$.{path}') AS REAL)")
}

/// Names the index a console list read must use: SQLite's planner, without statistics,
/// prefers the primary key's `kind` prefix to a partial index on an `IS NULL` or `OR`
/// condition, and would read every document of the kind.
fn indexed_by(index: &str) -> String {
    format!(" INDEXED BY {index}")
}

/// A received partner file in quarantine (the condition of migration 0027's partial index;
/// the console's `file_state` says the same of one record).
const EDI_QUARANTINED: &str = "(json_extract(body, '$.outcome.outcome') = 'rejected' \
     OR (json_extract(body, '$.outcome.outcome') = 'processed' \
     AND json_array_length(body, '$.outcome.problems') > 0))";

/// Placeholder for generated multi-row statements. SQLite gets anonymous `?`: binding a
/// numbered `$n` makes sqlx look the name up for every parameter, and SQLite's lookup is a
/// linear scan, so a 600-parameter insert spent most of its time there.
fn param(_n: usize) -> String {
    "?".to_string()
}

fn row_params(_first: usize, count: usize) -> String {
    format!("({})", vec!["?"; count].join(","))
}

fn qty_param(d: Decimal) -> String {
    d.to_string()
}

fn qty_get(r: &sqlx::sqlite::SqliteRow, col: &str) -> Result<Decimal> {
    let s: String = r.try_get(col)?;
    Decimal::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col} '{s}': {e}")))
}

async fn flush_enqueued(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    msgs: &[(StepMessage, i64)],
) -> Result<()> {
    for chunk in msgs.chunks(300) {
        let mut sql = String::from("INSERT INTO queue_messages (msg_id, body, visible_at) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&row_params(i * 3 + 1, 3));
        }
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (m, at) in chunk {
            q = q.bind(m.msg_id.as_str()).bind(m.encode()).bind(*at);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn ack_leased(tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>, seqs: &[i64]) -> Result<()> {
    for chunk in seqs.chunks(500) {
        let list = chunk
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM queue_messages WHERE seq IN ({list})"
        )))
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn queued_count(tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM queue_messages WHERE dead = 0")
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get("n")?)
}

super::transaction::impl_store_tx!(SqliteTx, sqlx::Sqlite);

/// Durability setting for commits (`synchronous` pragma).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// WAL + synchronous=NORMAL: survives process crashes (SIGKILL); the last commits can be
    /// lost on power failure.
    Normal,
    /// synchronous=FULL: also survives power failure; ~2.5x slower commits.
    Full,
}

#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) writer: SqlitePool,
    /// Committed documents shared across transactions (see `SharedDocs` for why it is exact).
    shared: super::SharedDocsRef,
}

impl SqliteStore {
    pub async fn open(path: &Path, durability: Durability) -> Result<Self> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Corrupt(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Normal => SqliteSynchronous::Normal,
                Durability::Full => SqliteSynchronous::Full,
            })
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // SQLite's default page cache is 2 MiB; a store with a few thousand orders in
            // flight outgrows it and every step then reads its index pages back from the OS.
            .pragma("cache_size", "-65536")
            .statement_cache_capacity(512);
        // One connection: SQLite has one writer anyway, and a single connection makes
        // BEGIN IMMEDIATE queue in the pool instead of spinning on SQLITE_BUSY.
        let shared = super::SharedDocsRef::default();
        let on_connect = shared.clone();
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // A new connection's `data_version` says nothing about the old one's: start over.
            .after_connect(move |_, _| {
                let shared = on_connect.clone();
                Box::pin(async move {
                    let mut c = shared.lock().unwrap_or_else(|e| e.into_inner());
                    c.clear();
                    c.version = None;
                    Ok(())
                })
            })
            // No idle reaping: the one connection lives as long as the store. (Also sidesteps
            // sqlx 0.9.0's maintenance task, which was seen spinning a core at 100% after the
            // pool's idle count wrapped around.)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let store = SqliteStore { writer, shared };
        let mut tx = store.begin().await?;
        tx.rebuild_open_items_if_marked().await?;
        tx.rebuild_sales_if_marked().await?;
        tx.rebuild_aging_if_marked().await?;
        tx.commit().await?;
        Ok(store)
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn begin(&self) -> Result<Box<dyn Tx>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        // Holding the write lock: nobody commits until this transaction ends, so what the
        // version says now holds for all of it.
        let version: i64 = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut *tx)
            .await?;
        {
            let mut c = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            if c.version != Some(version) {
                c.clear();
                c.version = Some(version);
            }
        }
        Ok(Box::new(SqliteTx::new(tx, Some(self.shared.clone()))))
    }

    async fn close(&self) {
        self.writer.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Another process writing the same file (here: a second store, which is a second
    /// connection, as `ordo approve` beside `ordo run` would be) must not leave this store's
    /// cache of documents stale.
    #[tokio::test]
    async fn cached_documents_follow_commits_of_another_connection() {
        let dir = crate::testing::TempDir::new("ordo_shared_docs");
        let path = dir.path().join("ordo.db");
        let ours = SqliteStore::open(&path, Durability::Normal).await.unwrap();
        let theirs = SqliteStore::open(&path, Durability::Normal).await.unwrap();
        let put = |store: &SqliteStore, v: i64| {
            let store = store.clone();
            async move {
                let mut tx = store.begin().await.unwrap();
                tx.put_document("customer", "C1", &json!({ "v": v }), v)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            }
        };
        let get = |store: &SqliteStore| {
            let store = store.clone();
            async move {
                let mut tx = store.begin().await.unwrap();
                let v = tx.get_document("customer", "C1").await.unwrap();
                tx.rollback().await.unwrap();
                v
            }
        };
        put(&ours, 1).await;
        assert_eq!(get(&ours).await, Some(json!({ "v": 1 })));
        put(&theirs, 2).await;
        assert_eq!(get(&ours).await, Some(json!({ "v": 2 })), "their commit");
        put(&ours, 3).await;
        assert_eq!(get(&theirs).await, Some(json!({ "v": 3 })));
        assert_eq!(get(&ours).await, Some(json!({ "v": 3 })));
        ours.close().await;
        theirs.close().await;
    }
}
