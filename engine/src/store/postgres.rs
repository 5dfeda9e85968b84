//! PostgreSQL store (the cluster backend). Step messages are written to `outbox` in the step
//! transaction and published to RabbitMQ after commit (see `runtime`).

use super::{Backend, Store};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// See `transaction.rs`: whether a transaction caches the documents and stock it touched.
const CACHE_READS: bool = false;
const FOR_UPDATE: &str = " FOR UPDATE";
/// See `transaction.rs` (`take_hot_lock`): every transaction takes this schema's advisory lock
/// before its first lock on a contended row (stock level, number series, ledger balance), so
/// those rows are only ever locked by one transaction at a time and two batches cannot
/// deadlock on them whatever order their steps touch them in.
const HOT_LOCK: Option<&str> =
    Some("SELECT pg_advisory_xact_lock(hashtext('ordo.hot-rows:' || current_schema()))");
/// A rebuild of the sales aggregates waits for the steps that counted documents and holds
/// off the others until it commits (`store/sales.rs`).
const LOCK_SALES: &str = "LOCK TABLE sales_counted IN EXCLUSIVE MODE";
/// A rebuild of the aging index holds off the writers of invoices until it commits
/// (`store/openitems.rs`).
const LOCK_AGING: &str = "LOCK TABLE aging_items IN EXCLUSIVE MODE";

/// The text at `path` (`a.b`) of the JSON text column `col`, written as migration 0027's
/// indexes write it (store/sessions.rs: the console's list reads): `ordo_json_at`, NULL for a
/// text PostgreSQL cannot read as JSON (one holding `\u0000`), never an error.
fn json_at(col: &str, path: &str) -> String {
    format!("ordo_json_at({col}, '{{{}}}')", path.replace('.', ","))
}

/// The number at `path` of the JSON text column `col`, as migration 0027 indexes it
/// (`ordo_number`: NULL for anything but a plain decimal, never an error).
fn json_num(col: &str, path: &str) -> String {
    format!("ordo_number({})", json_at(col, path))
}

/// A received partner file in quarantine (the condition of migration 0027's partial index;
/// the console's `file_state` says the same of one record).
const EDI_QUARANTINED: &str = "(ordo_json_at(body, '{outcome,outcome}') = 'rejected' \
     OR (ordo_json_at(body, '{outcome,outcome}') = 'processed' \
     AND ordo_json_at(body, '{outcome,problems}') LIKE '[%' \
     AND ordo_json_at(body, '{outcome,problems}') <> '[]'))";

/// PostgreSQL's planner picks the indexes of migration 0027 from its statistics: no hint.
fn indexed_by(_index: &str) -> String {
    String::new()
}

/// Placeholder for generated multi-row statements.
fn param(n: usize) -> String {
    format!("${n}")
}

fn row_params(first: usize, count: usize) -> String {
    let list: Vec<String> = (first..first + count).map(|n| format!("${n}")).collect();
    format!("({})", list.join(","))
}

fn qty_param(d: Decimal) -> Decimal {
    d
}

fn qty_get(r: &sqlx::postgres::PgRow, col: &str) -> Result<Decimal> {
    // NUMERIC keeps the scale it was given ("9700.00"); normalise so values print alike
    // on both backends.
    Ok(r.try_get::<Decimal, _>(col)?.normalize())
}

async fn flush_enqueued(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    msgs: &[(StepMessage, i64)],
) -> Result<()> {
    if msgs.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp_millis();
    let ids: Vec<&str> = msgs.iter().map(|(m, _)| m.msg_id.as_str()).collect();
    let bodies: Vec<Vec<u8>> = msgs.iter().map(|(m, _)| m.encode()).collect();
    let at: Vec<i64> = msgs.iter().map(|(_, a)| *a).collect();
    sqlx::query(
        "INSERT INTO outbox (msg_id, body, deliver_at, created_at) \
         SELECT m, b, d, $4 FROM UNNEST($1::text[], $2::bytea[], $3::bigint[]) AS t(m, b, d)",
    )
    .bind(&ids)
    .bind(&bodies)
    .bind(&at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn ack_leased(
    _tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    _seqs: &[i64],
) -> Result<()> {
    // Deliveries come from the broker and are acked there after commit.
    Ok(())
}

async fn queued_count(tx: &mut sqlx::Transaction<'static, sqlx::Postgres>) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM outbox")
        .fetch_one(&mut **tx)
        .await?;
    Ok(row.try_get("n")?)
}

super::transaction::impl_store_tx!(PgTx, sqlx::Postgres);

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects (retrying with backoff for up to `connect_for`) and applies migrations. With
    /// `schema`, everything lives in that schema (created if missing), so several deployments or
    /// test runs can share one database.
    pub async fn open(
        url: &str,
        schema: Option<&str>,
        max_connections: u32,
        connect_for: Duration,
    ) -> Result<Self> {
        let mut opts = PgConnectOptions::from_str(url)?;
        if let Some(s) = schema {
            opts = opts.options([("search_path", s)]);
        }
        // Probe with one plain connection first: the pool would silently retry a refused
        // connection until its acquire timeout and report only "pool timed out".
        let deadline = std::time::Instant::now() + connect_for;
        let mut delay = Duration::from_millis(100);
        loop {
            let probe =
                tokio::time::timeout(Duration::from_secs(5), PgConnection::connect_with(&opts))
                    .await;
            let err = match probe {
                Ok(Ok(conn)) => {
                    let _ = conn.close().await;
                    break;
                }
                Ok(Err(e)) => e.to_string(),
                Err(_) => "no answer within 5 s".to_string(),
            };
            if std::time::Instant::now() >= deadline {
                return Err(StoreError::Unavailable(format!("PostgreSQL: {err}")));
            }
            tracing::warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "PostgreSQL unreachable, retrying");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            // Broken connections are found when acquired (test_before_acquire); no idle
            // reaper (sqlx 0.9.0's maintenance task can spin a core, see sqlite.rs).
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await?;
        if let Some(s) = schema {
            let ident = s.replace('"', "");
            sqlx::query(AssertSqlSafe(format!(
                "CREATE SCHEMA IF NOT EXISTS \"{ident}\""
            )))
            .execute(&pool)
            .await?;
        }
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let store = PgStore { pool };
        let mut tx = store.begin().await?;
        tx.rebuild_open_items_if_marked().await?;
        tx.rebuild_sales_if_marked().await?;
        tx.rebuild_aging_if_marked().await?;
        tx.commit().await?;
        Ok(store)
    }

    /// Drops a schema and everything in it (tests).
    pub async fn drop_schema(url: &str, schema: &str) -> Result<()> {
        let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
        let ident = schema.replace('"', "");
        sqlx::query(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{ident}\" CASCADE"
        )))
        .execute(&pool)
        .await?;
        pool.close().await;
        Ok(())
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn begin(&self) -> Result<Box<dyn Tx>> {
        let tx = self.pool.begin().await?;
        Ok(Box::new(PgTx::new(tx, None)))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
