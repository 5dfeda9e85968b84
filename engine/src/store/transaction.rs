//! The SQL shared by both stores, written once as a macro over the backend's transaction type.
//!
//! Every statement here is valid on SQLite and PostgreSQL alike (`$n` placeholders, `ON
//! CONFLICT`, `RETURNING`). What differs is supplied by the including module:
//! `FOR_UPDATE` (row lock suffix), `qty_param`/`qty_get` (quantity encoding),
//! `flush_enqueued` (where step messages go) and `CACHE_READS`.
//!
//! With `CACHE_READS` (SQLite: `BEGIN IMMEDIATE` makes the transaction the database's only
//! writer) a transaction keeps the documents, stock levels and number series it read or wrote,
//! so a batch of steps reading the same customer and items asks the database once, and it
//! buffers their writes: they reach the database as a few multi-row upserts (`flush_writes`)
//! before the commit, before a savepoint (so rolling back to it undoes exactly what followed
//! it, and the buffers are dropped with it), and before any query that reads those tables in
//! SQL (lists, counts, summaries). Every read and write of those rows goes through these files.
//! PostgreSQL reads committed data and other workers write concurrently, so it caches no stock
//! level or number it has not locked; it keeps the documents it read for the rest of the
//! transaction (READ COMMITTED promises no agreement between two statements anyway, see
//! `documents.rs`), buffers its document writes the same way (read back from the buffer,
//! written in (kind, id) order before the commit, so concurrent flushes take the row locks in
//! one order), and caches the rows it holds locked — a stock
//! level after its `FOR UPDATE`, a number series after its increment — since no other
//! transaction can change them before this one ends: the second order of a batch allocating
//! the same item, or taking the next invoice number, asks the database nothing. Before the
//! first lock on such a contended row a PostgreSQL transaction takes the schema's advisory
//! "hot rows" lock (`HOT_LOCK`, `take_hot_lock`): two transactions never hold stock, series or
//! ledger-balance rows at once, so they cannot deadlock on them.
//!
//! This file is the transaction itself: its state (caches and write buffers), commit, rollback
//! and savepoints, and the macro that assembles a backend's transaction from the concerns
//! (queue_records.rs, instances.rs, timers.rs, tasks.rs, documents.rs, stock.rs, numbers.rs,
//! outbound.rs, definitions.rs, journal.rs), each of which reads on its own.

macro_rules! impl_store_tx {
    ($tx:ident, $db:ty) => {
        use async_trait::async_trait;
        use rust_decimal::Decimal;
        use serde_json::Value;
        use sqlx::{AssertSqlSafe, Row};
        use $crate::model::{
            HistoryEvent, Instance, Outbound, PendingEvent, StepMessage, Task, Timer, Waiter,
        };
        use $crate::store::journal::BalanceRow;
        use $crate::store::{
            Definitions, DocumentRecords, InstanceRecords, NumberSeries, OutboundRecords,
            QueueRecords, StockLevels, TaskRecords, TimerWaitRecords,
        };
        use $crate::store::{Result, Savepoint, StoreError, Tx, json_text, parse_json};

        pub struct $tx {
            tx: sqlx::Transaction<'static, $db>,
            history: Vec<(String, HistoryEvent)>,
            enqueued: Vec<(StepMessage, i64)>,
            /// Instance writes, flushed at commit as one multi-row UPDATE; the last write of
            /// an id wins. `load_instance` reads through it.
            instances: Vec<Instance>,
            /// Rows read by `preload_instances` (and locked, on PostgreSQL).
            loaded: std::collections::HashMap<String, Instance>,
            depth: usize,
            /// Documents read or written in this transaction, by (kind, id); see `CACHE_READS`.
            documents: std::collections::HashMap<(String, String), Option<Value>>,
            /// Stock levels read or written in this transaction, by (item, location).
            stock: std::collections::HashMap<(String, String), Decimal>,
            /// Document writes not yet in the database: (kind, id, body text, updated_at).
            doc_writes: Vec<(String, String, String, i64)>,
            /// The last buffered write of each document, by (kind, id): the one row per document
            /// the flush writes, and where a written document is read back from its text (rather
            /// than copied into the cache on every write: most are not read again in the same
            /// transaction).
            doc_written: std::collections::HashMap<(String, String), usize>,
            /// Stock rows whose cached level is not yet in the database.
            stock_dirty: std::collections::BTreeSet<(String, String)>,
            /// Number series this transaction used: (last value, not yet in the database).
            series: std::collections::HashMap<String, (i64, bool)>,
            /// Instances whose timers are to be deleted, then the timers to add (both backends:
            /// a step's wait, retry and end each touch timers, and one statement per batch does
            /// what was one per step). Flushed before anything reads the table.
            timers_cleared: std::collections::BTreeSet<String>,
            timer_adds: Vec<Timer>,
            /// The same for waits: instances whose wait goes, then waits to upsert (one per
            /// instance, the last wins).
            waits_cleared: std::collections::BTreeSet<String>,
            wait_adds: Vec<(String, String, Waiter)>,
            /// Outbound messages to insert: (channel, key, instance, payload text, created_at),
            /// the first of a (channel, key) wins, as in the table.
            outbound_adds: Vec<(String, String, Option<String>, String, i64)>,
            /// See `CACHE_READS`: per event, the keys that have pending events, read once per
            /// transaction, so a batch of instances reaching their `wait:` asks once rather than
            /// once each (the table is nearly always empty). An event is absent until read, or
            /// when it has too many keys to keep.
            pending_keys: std::collections::HashMap<String, std::collections::HashSet<String>>,
            /// The store's cache of committed documents (SQLite only; see `SharedDocs`).
            shared: Option<$crate::store::SharedDocsRef>,
            /// What this transaction will put into `shared` when it commits: the text of each
            /// document it wrote to the database (the last write wins) or read from it.
            publish: std::collections::HashMap<(String, String), std::sync::Arc<str>>,
            /// Documents `shared` must forget at commit, and must not answer for meanwhile:
            /// their text in the database is not known any more (rolled back to a savepoint).
            evict: std::collections::HashSet<(String, String)>,
            /// Bytes of text in `publish`; past the shared cache's own bound (a statement of
            /// 100,000 payments in one transaction) the transaction keeps no more texts, only
            /// which documents the cache must forget (`publish_full`).
            publish_bytes: usize,
            publish_full: bool,
            /// Instances to insert, when deferred (see `Tx::defer_instance_inserts`).
            instance_adds: Vec<Instance>,
            /// (workflow, business key) of `instance_adds`, for the clash check within them.
            instance_add_keys: std::collections::HashSet<(String, String)>,
            defer_inserts: bool,
            /// Audit records to insert, in append order (see `store::service`).
            audit_adds: Vec<$crate::store::service::AuditRow>,
            /// The savepoint depth at which this transaction took `HOT_LOCK`; rolling back to
            /// a savepoint at or below it gives the lock back (PostgreSQL releases locks taken
            /// after the savepoint), so the next contended row takes it again.
            hot_depth: Option<usize>,
            /// The closed ledger periods, read while holding `HOT_LOCK` (PostgreSQL): a close
            /// takes that lock too, so they cannot change before this transaction ends, and
            /// each posting of a batch need not ask again.
            closed_periods: Option<Vec<String>>,
            /// Journal entries (with their `created_at`) whose writing is deferred to the flush,
            /// like `instance_adds` (see `journal.rs`, `flush_journal`).
            journal_adds: Vec<($crate::store::journal::JournalEntry, i64)>,
            /// Sales aggregate additions of the documents this transaction counted
            /// (`store/sales.rs`), upserted keys in order before a savepoint or the commit.
            sales_adds: $crate::store::sales::SalesBuffer,
            /// PostgreSQL: invoices and credit notes written (kind, id, text), counted at the
            /// flush like SQLite's buffered documents, so an order written after its invoice in
            /// the same transaction is found.
            sales_pending: Vec<(String, String, String)>,
        }

        /// `head (p1, p2, …)` for an `IN` list of `n` parameters.
        fn in_list_sql(head: &str, n: usize) -> String {
            let mut sql = format!("{head} (");
            for i in 0..n {
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&param(i + 1));
            }
            sql.push(')');
            sql
        }

        /// `head VALUES (…),(…) tail` for `rows` rows of `cols` parameters each.
        fn values_sql(head: &str, rows: usize, cols: usize, tail: &str) -> String {
            let mut sql = format!("{head} VALUES ");
            for i in 0..rows {
                if i > 0 {
                    sql.push(',');
                }
                sql.push_str(&row_params(i * cols + 1, cols));
            }
            sql.push_str(tail);
            sql
        }

        impl $tx {
            fn new(
                tx: sqlx::Transaction<'static, $db>,
                shared: Option<$crate::store::SharedDocsRef>,
            ) -> Self {
                $tx {
                    tx,
                    history: Vec::new(),
                    enqueued: Vec::new(),
                    instances: Vec::new(),
                    loaded: std::collections::HashMap::new(),
                    depth: 0,
                    documents: std::collections::HashMap::new(),
                    stock: std::collections::HashMap::new(),
                    doc_writes: Vec::new(),
                    doc_written: std::collections::HashMap::new(),
                    stock_dirty: std::collections::BTreeSet::new(),
                    series: std::collections::HashMap::new(),
                    timers_cleared: std::collections::BTreeSet::new(),
                    timer_adds: Vec::new(),
                    waits_cleared: std::collections::BTreeSet::new(),
                    wait_adds: Vec::new(),
                    outbound_adds: Vec::new(),
                    pending_keys: std::collections::HashMap::new(),
                    shared,
                    publish: std::collections::HashMap::new(),
                    evict: std::collections::HashSet::new(),
                    publish_bytes: 0,
                    publish_full: false,
                    instance_adds: Vec::new(),
                    instance_add_keys: std::collections::HashSet::new(),
                    defer_inserts: false,
                    audit_adds: Vec::new(),
                    hot_depth: None,
                    closed_periods: None,
                    journal_adds: Vec::new(),
                    sales_adds: $crate::store::sales::SalesBuffer::default(),
                    sales_pending: Vec::new(),
                }
            }

            /// Takes the hot-rows lock (see the module docs) once per transaction, before the
            /// first lock on a stock, number-series or ledger-balance row.
            async fn take_hot_lock(&mut self) -> Result<()> {
                if let Some(sql) = HOT_LOCK
                    && self.hot_depth.is_none()
                {
                    sqlx::query(sql).execute(&mut *self.tx).await?;
                    self.hot_depth = Some(self.depth);
                    // Documents read before the lock may be stale now: another transaction
                    // that held it may have committed them since (a purchase order read by a
                    // delivery promise, then re-read under its supplier's lock to add a line).
                    // Writers of those documents hold this lock, so a read from here on is
                    // current; this transaction's own buffered writes stay in `doc_writes`.
                    self.documents.clear();
                }
                Ok(())
            }

            /// Writes every buffer that a savepoint or the commit must see in the database.
            /// Timer and wait changes go deletions first, then additions, which is their order in
            /// the transaction (an addition made before a deletion of the same instance was
            /// dropped from the buffer by that deletion).
            async fn flush_buffers(&mut self) -> Result<()> {
                self.flush_instance_adds().await?;
                self.flush_writes().await?;
                self.flush_journal().await?;
                self.flush_timers().await?;
                self.flush_waits().await?;
                self.flush_outbound().await?;
                self.flush_audit().await?;
                // Last: the document flush above is what counts new documents.
                self.flush_sales().await
            }

            /// Keeps a long transaction (a statement of 100,000 entries imported and matched in
            /// one) from holding every document it touched: past a bound the buffered writes
            /// go to the database, and the caches are emptied once they are large.
            async fn bound_caches(&mut self) -> Result<()> {
                if self.doc_writes.len() >= 512 {
                    self.flush_writes().await?;
                }
                if self.documents.len() >= 4096 {
                    self.flush_writes().await?;
                    self.documents.clear();
                }
                Ok(())
            }

            /// Writes the buffered documents, stock levels and number series (see the module
            /// docs); the caches stay valid.
            async fn flush_writes(&mut self) -> Result<()> {
                self.flush_documents().await?;
                self.flush_stock().await?;
                self.flush_series().await
            }
        }

        #[async_trait]
        impl Tx for $tx {
            async fn commit(mut self: Box<Self>) -> Result<()> {
                self.flush_buffers().await?;
                self.flush_instances().await?;
                self.flush_history().await?;
                let enq = std::mem::take(&mut self.enqueued);
                flush_enqueued(&mut self.tx, &enq).await?;
                // Published before COMMIT, while this transaction still holds the store's one
                // connection, so no other transaction can read the cache in between; if the
                // COMMIT fails, the cache is emptied.
                let shared = self.shared.take();
                if let Some(shared) = &shared {
                    let mut c = shared.lock().unwrap_or_else(|e| e.into_inner());
                    for key in &self.evict {
                        c.remove(key);
                    }
                    for (key, text) in std::mem::take(&mut self.publish) {
                        c.insert(key, text);
                    }
                }
                if let Err(e) = self.tx.commit().await {
                    if let Some(shared) = &shared {
                        shared.lock().unwrap_or_else(|e| e.into_inner()).clear();
                    }
                    return Err(e.into());
                }
                Ok(())
            }

            async fn rollback(self: Box<Self>) -> Result<()> {
                self.tx.rollback().await?;
                Ok(())
            }

            async fn savepoint(&mut self) -> Result<Savepoint> {
                self.flush_buffers().await?;
                self.depth += 1;
                let sql = format!("SAVEPOINT sp{}", self.depth);
                sqlx::query(AssertSqlSafe(sql))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(Savepoint {
                    history: self.history.len(),
                    enqueued: self.enqueued.len(),
                    instances: self.instances.len(),
                    depth: self.depth,
                })
            }

            async fn release(&mut self, sp: Savepoint) -> Result<()> {
                // Releasing a savepoint also releases the ones opened after it.
                let sql = format!("RELEASE SAVEPOINT sp{}", sp.depth);
                self.depth = sp.depth.saturating_sub(1);
                sqlx::query(AssertSqlSafe(sql))
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn rollback_to(&mut self, sp: Savepoint) -> Result<()> {
                let sql = format!("ROLLBACK TO SAVEPOINT sp{}", sp.depth);
                sqlx::query(AssertSqlSafe(sql))
                    .execute(&mut *self.tx)
                    .await?;
                let sql = format!("RELEASE SAVEPOINT sp{}", sp.depth);
                sqlx::query(AssertSqlSafe(sql))
                    .execute(&mut *self.tx)
                    .await?;
                self.depth = sp.depth.saturating_sub(1);
                if self.hot_depth.is_some_and(|d| d >= sp.depth) {
                    self.hot_depth = None;
                }
                self.closed_periods = None;
                self.history.truncate(sp.history);
                self.enqueued.truncate(sp.enqueued);
                self.instances.truncate(sp.instances);
                // What the rolled-back statements wrote is gone from the database; so is the
                // cache (rare path: read again).
                self.documents.clear();
                self.stock.clear();
                self.series.clear();
                self.doc_writes.clear();
                self.doc_written.clear();
                self.stock_dirty.clear();
                self.timers_cleared.clear();
                self.timer_adds.clear();
                self.waits_cleared.clear();
                self.wait_adds.clear();
                self.outbound_adds.clear();
                self.pending_keys.clear();
                // Inserts deferred before the savepoint were flushed when it was taken.
                self.instance_adds.clear();
                self.instance_add_keys.clear();
                self.audit_adds.clear();
                self.journal_adds.clear();
                self.sales_adds = $crate::store::sales::SalesBuffer::default();
                self.sales_pending.clear();
                // What was written or read since the savepoint is gone or may be; so is what
                // this transaction would publish (rare path: read again, from the database).
                self.forget_published();
                Ok(())
            }
        }

        $crate::store::queue_records::impl_queue_records!($tx, $db);
        $crate::store::instances::impl_instance_records!($tx, $db);
        $crate::store::timers::impl_timer_wait_records!($tx, $db);
        $crate::store::tasks::impl_task_records!($tx, $db);
        $crate::store::documents::impl_document_records!($tx, $db);
        $crate::store::stock::impl_stock_levels!($tx, $db);
        $crate::store::numbers::impl_number_series!($tx, $db);
        $crate::store::outbound::impl_outbound_records!($tx, $db);
        $crate::store::definitions::impl_definitions!($tx, $db);
        $crate::store::journal::impl_journal_records!($tx, $db);
        $crate::store::reports::impl_report_records!($tx, $db);
        $crate::store::openitems::impl_open_item_records!($tx, $db);
        $crate::store::sales::impl_sales_records!($tx, $db);
        $crate::store::service::impl_service_tx!($tx, $db);
        $crate::store::sessions::impl_session_records!($tx, $db);
    };
}
pub(crate) use impl_store_tx;
