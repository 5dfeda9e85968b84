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
//! SQL (lists, counts, summaries). Every read and write of those rows goes through this file.
//! PostgreSQL reads committed data and other workers write concurrently, so it never caches.

macro_rules! impl_store_tx {
    ($tx:ident, $db:ty) => {
        use $crate::model::{HistoryEvent, Instance, Outbound, PendingEvent, StepMessage, Task, Timer, Waiter};
        use $crate::store::{json_text, parse_json, Result, Savepoint, StoreError, Tx};
        use async_trait::async_trait;
        use rust_decimal::Decimal;
        use serde_json::Value;
        use sqlx::{AssertSqlSafe, Row};

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
            fn new(tx: sqlx::Transaction<'static, $db>, shared: Option<$crate::store::SharedDocsRef>) -> Self {
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
                }
            }

            /// Keeps a document's text for the shared cache at commit (see `publish_bytes`).
            fn offer_publish(&mut self, key: (String, String), text: std::sync::Arc<str>) {
                if self.publish_full {
                    self.evict.insert(key);
                    return;
                }
                self.publish_bytes += text.len();
                if let Some(old) = self.publish.insert(key, text) {
                    self.publish_bytes -= old.len();
                }
                if self.publish_bytes > $crate::store::SharedDocs::MAX_BYTES {
                    self.publish_full = true;
                    self.forget_published();
                }
            }

            /// Turns every text this transaction would publish into an eviction.
            fn forget_published(&mut self) {
                self.publish_bytes = 0;
                let keys: Vec<(String, String)> = self.publish.drain().map(|(k, _)| k).collect();
                self.evict.extend(keys);
            }

            /// Writes the deferred instance inserts; a clash with a row in the database is
            /// `Err(Duplicate)`, naming the first instance that clashed.
            async fn flush_instance_adds(&mut self) -> Result<()> {
                let adds = std::mem::take(&mut self.instance_adds);
                self.instance_add_keys.clear();
                for chunk in adds.chunks(100) {
                    let sql = values_sql(
                        "INSERT INTO instances (id, workflow, version, business_key, status, step, token, attempt, data, error, end_status, created_at, updated_at, history_seq)",
                        chunk.len(),
                        14,
                        " ON CONFLICT DO NOTHING RETURNING id",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for i in chunk {
                        q = q
                            .bind(i.id.as_str())
                            .bind(i.workflow.as_str())
                            .bind(i.version as i64)
                            .bind(i.business_key.as_str())
                            .bind(i.status.as_str())
                            .bind(i.step.as_str())
                            .bind(i.token)
                            .bind(i.attempt as i64)
                            .bind(json_text(&i.data))
                            .bind(i.error.as_deref())
                            .bind(i.end_status.as_deref())
                            .bind(i.created_at)
                            .bind(i.updated_at)
                            .bind(i.history_seq);
                    }
                    let rows = q.fetch_all(&mut *self.tx).await?;
                    if rows.len() < chunk.len() {
                        let written: std::collections::HashSet<String> =
                            rows.iter().map(|r| r.try_get::<String, _>("id")).collect::<std::result::Result<_, _>>()?;
                        let clash = chunk.iter().find(|i| !written.contains(&i.id)).unwrap_or(&chunk[0]);
                        return Err(StoreError::Duplicate {
                            kind: "instance",
                            key: format!("{}/{}", clash.workflow, clash.business_key),
                        });
                    }
                }
                Ok(())
            }

            async fn flush_outbound(&mut self) -> Result<()> {
                let adds = std::mem::take(&mut self.outbound_adds);
                for chunk in adds.chunks(200) {
                    let sql = values_sql(
                        "INSERT INTO outbound (channel, key, instance_id, payload, created_at)",
                        chunk.len(),
                        5,
                        " ON CONFLICT (channel, key) DO NOTHING",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (channel, key, instance, payload, at) in chunk {
                        q = q.bind(channel.as_str()).bind(key.as_str()).bind(instance.as_deref()).bind(payload.as_str()).bind(*at);
                    }
                    q.execute(&mut *self.tx).await?;
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
                self.flush_timers().await?;
                self.flush_waits().await?;
                self.flush_outbound().await
            }

            /// `DELETE FROM table WHERE instance_id IN (…)`, a few hundred ids per statement.
            async fn delete_for_instances(&mut self, table: &str, ids: std::collections::BTreeSet<String>) -> Result<()> {
                let ids: Vec<String> = ids.into_iter().collect();
                for chunk in ids.chunks(300) {
                    let head = format!("DELETE FROM {table} WHERE instance_id IN");
                    let mut q = sqlx::query(AssertSqlSafe(in_list_sql(&head, chunk.len())));
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    q.execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            async fn flush_timers(&mut self) -> Result<()> {
                let cleared = std::mem::take(&mut self.timers_cleared);
                self.delete_for_instances("timers", cleared).await?;
                let adds = std::mem::take(&mut self.timer_adds);
                for chunk in adds.chunks(200) {
                    let sql = values_sql("INSERT INTO timers (instance_id, step, token, fire_at)", chunk.len(), 4, "");
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for t in chunk {
                        q = q.bind(t.instance_id.as_str()).bind(t.step.as_str()).bind(t.token).bind(t.fire_at);
                    }
                    q.execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            async fn flush_waits(&mut self) -> Result<()> {
                let cleared = std::mem::take(&mut self.waits_cleared);
                self.delete_for_instances("waits", cleared).await?;
                let adds = std::mem::take(&mut self.wait_adds);
                for chunk in adds.chunks(200) {
                    let sql = values_sql(
                        "INSERT INTO waits (instance_id, step, token, event, business_key)",
                        chunk.len(),
                        5,
                        " ON CONFLICT (instance_id) DO UPDATE SET step = excluded.step, token = excluded.token, \
                         event = excluded.event, business_key = excluded.business_key",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (event, key, w) in chunk {
                        q = q.bind(w.instance_id.as_str()).bind(w.step.as_str()).bind(w.token).bind(event.as_str()).bind(key.as_str());
                    }
                    q.execute(&mut *self.tx).await?;
                }
                Ok(())
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
                if !CACHE_READS {
                    return Ok(());
                }
                let docs = std::mem::take(&mut self.doc_writes);
                // The last write of each document wins.
                let mut rows: Vec<usize> = std::mem::take(&mut self.doc_written).into_values().collect();
                rows.sort_unstable();
                for chunk in rows.chunks(200) {
                    let sql = values_sql(
                        "INSERT INTO documents (kind, id, body, updated_at)",
                        chunk.len(),
                        4,
                        " ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for n in chunk {
                        let (kind, id, body, at) = &docs[*n];
                        q = q.bind(kind.as_str()).bind(id.as_str()).bind(body.as_str()).bind(*at);
                    }
                    q.execute(&mut *self.tx).await?;
                }
                if self.shared.is_some() {
                    let mut docs = docs;
                    for n in rows {
                        let (kind, id, body, _) = std::mem::take(&mut docs[n]);
                        self.offer_publish((kind, id), std::sync::Arc::from(body));
                    }
                }
                let dirty: Vec<(String, String)> = std::mem::take(&mut self.stock_dirty).into_iter().collect();
                for chunk in dirty.chunks(200) {
                    let sql = values_sql(
                        "INSERT INTO stock (item, location, quantity)",
                        chunk.len(),
                        3,
                        " ON CONFLICT (item, location) DO UPDATE SET quantity = excluded.quantity",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for key in chunk {
                        let level = self.stock.get(key).copied().unwrap_or_default();
                        q = q.bind(key.0.as_str()).bind(key.1.as_str()).bind(qty_param(level));
                    }
                    q.execute(&mut *self.tx).await?;
                }
                let mut used: Vec<(String, i64)> = Vec::new();
                for (name, (value, dirty)) in self.series.iter_mut() {
                    if *dirty {
                        used.push((name.clone(), *value));
                        *dirty = false;
                    }
                }
                for chunk in used.chunks(200) {
                    let sql = values_sql(
                        "INSERT INTO number_series (series, last_value)",
                        chunk.len(),
                        2,
                        " ON CONFLICT (series) DO UPDATE SET last_value = excluded.last_value",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (name, value) in chunk {
                        q = q.bind(name.as_str()).bind(*value);
                    }
                    q.execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            async fn flush_instances(&mut self) -> Result<()> {
                let writes = std::mem::take(&mut self.instances);
                let mut last: std::collections::HashMap<&str, &Instance> = std::collections::HashMap::new();
                for i in &writes {
                    last.insert(i.id.as_str(), i);
                }
                let mut rows: Vec<&Instance> = last.into_values().collect();
                rows.sort_by(|a, b| a.id.cmp(&b.id));
                for chunk in rows.chunks(200) {
                    let mut sql = String::from(
                        "UPDATE instances SET status = v.column2, step = v.column3, token = v.column4, attempt = v.column5, \
                         data = v.column6, error = v.column7, end_status = v.column8, updated_at = v.column9, history_seq = v.column10 \
                         FROM (VALUES ",
                    );
                    for i in 0..chunk.len() {
                        let b = i * 10;
                        if i > 0 {
                            sql.push(',');
                        }
                        sql.push_str(&row_params(b + 1, 10));
                    }
                    sql.push_str(") AS v WHERE instances.id = v.column1");
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for i in chunk {
                        q = q
                            .bind(i.id.as_str())
                            .bind(i.status.as_str())
                            .bind(i.step.as_str())
                            .bind(i.token)
                            .bind(i.attempt as i64)
                            .bind(json_text(&i.data))
                            .bind(i.error.as_deref())
                            .bind(i.end_status.as_deref())
                            .bind(i.updated_at)
                            .bind(i.history_seq);
                    }
                    q.execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            async fn flush_history(&mut self) -> Result<()> {
                let rows = std::mem::take(&mut self.history);
                for chunk in rows.chunks(200) {
                    let sql = values_sql(
                        "INSERT INTO history (instance_id, seq, at, kind, step, attempt, outcome, detail)",
                        chunk.len(),
                        8,
                        "",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (inst, e) in chunk {
                        q = q
                            .bind(inst.as_str())
                            .bind(e.seq)
                            .bind(e.at)
                            .bind(e.kind.as_str())
                            .bind(e.step.as_str())
                            .bind(e.attempt as i64)
                            .bind(e.outcome.as_deref())
                            .bind(json_text(&e.detail));
                    }
                    q.execute(&mut *self.tx).await?;
                }
                Ok(())
            }
        }

        fn row_instance(r: &<$db as sqlx::Database>::Row) -> Result<Instance> {
            Ok(Instance {
                id: r.try_get("id")?,
                workflow: r.try_get("workflow")?,
                version: r.try_get::<i64, _>("version")? as u32,
                business_key: r.try_get("business_key")?,
                status: r.try_get("status")?,
                step: r.try_get("step")?,
                token: r.try_get("token")?,
                history_seq: r.try_get("history_seq")?,
                attempt: r.try_get::<i64, _>("attempt")? as u32,
                data: parse_json(r.try_get::<&str, _>("data")?)?,
                error: r.try_get("error")?,
                end_status: r.try_get("end_status")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        fn row_task(r: &<$db as sqlx::Database>::Row) -> Result<Task> {
            Ok(Task {
                id: r.try_get("id")?,
                instance_id: r.try_get("instance_id")?,
                step: r.try_get("step")?,
                token: r.try_get("token")?,
                role: r.try_get("role")?,
                status: r.try_get("status")?,
                outcome: r.try_get("outcome")?,
                note: r.try_get("note")?,
                created_at: r.try_get("created_at")?,
                due_at: r.try_get("due_at")?,
                decided_at: r.try_get("decided_at")?,
            })
        }

        const INSTANCE_COLS: &str = "id, workflow, version, business_key, status, step, token, history_seq, attempt, data, error, end_status, created_at, updated_at";
        const TASK_COLS: &str = "id, instance_id, step, token, role, status, outcome, note, created_at, due_at, decided_at";

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
                sqlx::query(AssertSqlSafe(sql)).execute(&mut *self.tx).await?;
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
                sqlx::query(AssertSqlSafe(sql)).execute(&mut *self.tx).await?;
                Ok(())
            }

            async fn rollback_to(&mut self, sp: Savepoint) -> Result<()> {
                let sql = format!("ROLLBACK TO SAVEPOINT sp{}", sp.depth);
                sqlx::query(AssertSqlSafe(sql)).execute(&mut *self.tx).await?;
                let sql = format!("RELEASE SAVEPOINT sp{}", sp.depth);
                sqlx::query(AssertSqlSafe(sql)).execute(&mut *self.tx).await?;
                self.depth = sp.depth.saturating_sub(1);
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
                // What was written or read since the savepoint is gone or may be; so is what
                // this transaction would publish (rare path: read again, from the database).
                self.forget_published();
                Ok(())
            }

            async fn inbox_insert(&mut self, msg_id: &str, now: i64) -> Result<bool> {
                let r = sqlx::query("INSERT INTO inbox (msg_id, processed_at) VALUES ($1, $2) ON CONFLICT (msg_id) DO NOTHING")
                    .bind(msg_id)
                    .bind(now)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn inbox_prune(&mut self, before: i64) -> Result<u64> {
                let r = sqlx::query("DELETE FROM inbox WHERE processed_at < $1")
                    .bind(before)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(r.rows_affected())
            }

            fn enqueue(&mut self, msg: &StepMessage, visible_at: i64) {
                self.enqueued.push((msg.clone(), visible_at));
            }

            fn enqueued(&self) -> &[(StepMessage, i64)] {
                &self.enqueued
            }

            async fn ack_leased(&mut self, seqs: &[i64]) -> Result<()> {
                ack_leased(&mut self.tx, seqs).await
            }

            async fn queued_count(&mut self) -> Result<i64> {
                queued_count(&mut self.tx).await
            }

            async fn outbox_ready(&mut self, now: i64, limit: i64) -> Result<Vec<(i64, Vec<u8>, i64)>> {
                let rows = sqlx::query(
                    "SELECT id, body, deliver_at FROM outbox WHERE deliver_at <= $1 ORDER BY id LIMIT $2",
                )
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    out.push((r.try_get("id")?, r.try_get("body")?, r.try_get("deliver_at")?));
                }
                Ok(out)
            }

            async fn outbox_delete(&mut self, ids: &[i64]) -> Result<()> {
                for chunk in ids.chunks(500) {
                    let list = chunk.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
                    sqlx::query(AssertSqlSafe(format!("DELETE FROM outbox WHERE id IN ({list})")))
                        .execute(&mut *self.tx)
                        .await?;
                }
                Ok(())
            }

            async fn outbox_delete_msgs(&mut self, msg_ids: &[String]) -> Result<()> {
                for chunk in msg_ids.chunks(500) {
                    let mut q = sqlx::query(AssertSqlSafe(in_list_sql("DELETE FROM outbox WHERE msg_id IN", chunk.len())));
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    q.execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            fn defer_instance_inserts(&mut self) {
                self.defer_inserts = true;
            }

            async fn insert_instance(&mut self, i: &Instance) -> Result<()> {
                // Ids are fresh UUIDs; the business key is what can clash among the deferred.
                if !self.instance_add_keys.insert((i.workflow.clone(), i.business_key.clone())) {
                    return Err(StoreError::Duplicate {
                        kind: "instance",
                        key: format!("{}/{}", i.workflow, i.business_key),
                    });
                }
                self.instance_adds.push(i.clone());
                // Written now unless deferred; deferred ones are bounded, so a file of many
                // orders does not hold them all.
                if !self.defer_inserts || self.instance_adds.len() >= 512 {
                    self.flush_instance_adds().await?;
                }
                Ok(())
            }

            async fn load_instance(&mut self, id: &str) -> Result<Option<Instance>> {
                if let Some(i) = self.instances.iter().rev().find(|i| i.id == id) {
                    return Ok(Some(i.clone()));
                }
                // Handed over, not cloned: a step writes its instance back with `put_instance`.
                // A second load of the same id in this transaction (rare: a stale message, a
                // failed step's bookkeeping) reads the row again, which still holds what the
                // preload saw, since instance writes stay buffered until commit.
                if let Some(i) = self.loaded.remove(id) {
                    return Ok(Some(i));
                }
                if let Some(i) = self.instance_adds.iter().find(|i| i.id == id) {
                    return Ok(Some(i.clone()));
                }
                let sql = format!("SELECT {INSTANCE_COLS} FROM instances WHERE id = $1{FOR_UPDATE}");
                let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *self.tx).await?;
                row.as_ref().map(row_instance).transpose()
            }

            async fn preload_instances(&mut self, ids: &[String]) -> Result<()> {
                self.flush_instance_adds().await?;
                let mut ids: Vec<&String> = ids.iter().filter(|i| !self.loaded.contains_key(i.as_str())).collect();
                ids.sort();
                ids.dedup();
                for chunk in ids.chunks(300) {
                    let mut sql = in_list_sql(&format!("SELECT {INSTANCE_COLS} FROM instances WHERE id IN"), chunk.len());
                    // Lock in id order, so concurrent batches cannot deadlock on each other.
                    sql.push_str(" ORDER BY id");
                    sql.push_str(FOR_UPDATE);
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(id.as_str());
                    }
                    for r in q.fetch_all(&mut *self.tx).await? {
                        let inst = row_instance(&r)?;
                        self.loaded.insert(inst.id.clone(), inst);
                    }
                }
                Ok(())
            }

            async fn update_instance(&mut self, i: &Instance) -> Result<()> {
                self.instances.push(i.clone());
                Ok(())
            }

            async fn put_instance(&mut self, i: Instance) -> Result<()> {
                self.instances.push(i);
                Ok(())
            }

            async fn inbox_insert_many(&mut self, msg_ids: &[String], now: i64) -> Result<std::collections::HashSet<String>> {
                let mut fresh = std::collections::HashSet::new();
                for chunk in msg_ids.chunks(300) {
                    let mut sql = String::from("INSERT INTO inbox (msg_id, processed_at) VALUES ");
                    for i in 0..chunk.len() {
                        if i > 0 {
                            sql.push(',');
                        }
                        sql.push_str(&row_params(2 * i + 1, 2));
                    }
                    sql.push_str(" ON CONFLICT (msg_id) DO NOTHING RETURNING msg_id");
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(id.as_str()).bind(now);
                    }
                    for r in q.fetch_all(&mut *self.tx).await? {
                        fresh.insert(r.try_get::<String, _>("msg_id")?);
                    }
                }
                Ok(fresh)
            }

            async fn find_instances(&mut self, id_or_key: &str) -> Result<Vec<Instance>> {
                self.flush_instance_adds().await?;
                let sql = format!("SELECT {INSTANCE_COLS} FROM instances WHERE id = $1 OR business_key = $1 ORDER BY created_at, id");
                let rows = sqlx::query(AssertSqlSafe(sql)).bind(id_or_key).fetch_all(&mut *self.tx).await?;
                rows.iter().map(row_instance).collect()
            }

            async fn list_instances(&mut self, status: Option<&str>, limit: i64) -> Result<Vec<Instance>> {
                self.flush_instance_adds().await?;
                let sql = format!(
                    "SELECT {INSTANCE_COLS} FROM instances WHERE ($1 IS NULL OR status = $1) ORDER BY created_at, id LIMIT $2"
                );
                let rows = sqlx::query(AssertSqlSafe(sql))
                    .bind(status)
                    .bind(limit)
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter().map(row_instance).collect()
            }

            async fn count_instances(&mut self) -> Result<Vec<(String, String, Option<String>, i64)>> {
                self.flush_instance_adds().await?;
                let rows = sqlx::query(
                    "SELECT workflow, status, end_status, COUNT(*) AS n FROM instances GROUP BY workflow, status, end_status ORDER BY workflow, status, end_status",
                )
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out = Vec::new();
                for r in rows {
                    out.push((r.try_get("workflow")?, r.try_get("status")?, r.try_get("end_status")?, r.try_get("n")?));
                }
                Ok(out)
            }

            fn append_history(&mut self, instance_id: &str, event: HistoryEvent) {
                self.history.push((instance_id.to_string(), event));
            }

            async fn history(&mut self, instance_id: &str) -> Result<Vec<HistoryEvent>> {
                // Committed rows plus this transaction's buffered ones. No flush here: a flush
                // inside a savepoint would move rows buffered before it behind it, and a
                // rollback_to would then lose them.
                let rows = sqlx::query(
                    "SELECT seq, at, kind, step, attempt, outcome, detail FROM history WHERE instance_id = $1 ORDER BY seq",
                )
                .bind(instance_id)
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    out.push(HistoryEvent {
                        seq: r.try_get("seq")?,
                        at: r.try_get("at")?,
                        kind: r.try_get("kind")?,
                        step: r.try_get("step")?,
                        attempt: r.try_get::<i64, _>("attempt")? as u32,
                        outcome: r.try_get("outcome")?,
                        detail: parse_json(r.try_get::<&str, _>("detail")?)?,
                    });
                }
                out.extend(self.history.iter().filter(|(i, _)| i == instance_id).map(|(_, e)| e.clone()));
                out.sort_by_key(|e| e.seq);
                Ok(out)
            }

            async fn next_history_seq(&mut self, instance_id: &str) -> Result<i64> {
                let buffered = self.history.iter().filter(|(i, _)| i == instance_id).map(|(_, e)| e.seq).max();
                if let Some(s) = buffered {
                    return Ok(s + 1);
                }
                let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS s FROM history WHERE instance_id = $1")
                    .bind(instance_id)
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(row.try_get::<i64, _>("s")? + 1)
            }

            async fn add_timer(&mut self, t: &Timer) -> Result<()> {
                self.timer_adds.push(t.clone());
                Ok(())
            }

            async fn take_due_timers(&mut self, now: i64, limit: i64) -> Result<Vec<Timer>> {
                self.flush_timers().await?;
                let rows = sqlx::query(
                    "DELETE FROM timers WHERE id IN (SELECT id FROM timers WHERE fire_at <= $1 ORDER BY fire_at, id LIMIT $2) \
                     RETURNING id, instance_id, step, token, fire_at",
                )
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    out.push(Timer {
                        id: r.try_get("id")?,
                        instance_id: r.try_get("instance_id")?,
                        step: r.try_get("step")?,
                        token: r.try_get("token")?,
                        fire_at: r.try_get("fire_at")?,
                    });
                }
                out.sort_by_key(|t| (t.fire_at, t.id));
                Ok(out)
            }

            async fn delete_timers(&mut self, instance_id: &str) -> Result<()> {
                self.timer_adds.retain(|t| t.instance_id != instance_id);
                self.timers_cleared.insert(instance_id.to_string());
                Ok(())
            }

            async fn next_timer_at(&mut self) -> Result<Option<i64>> {
                self.flush_timers().await?;
                let row = sqlx::query("SELECT MIN(fire_at) AS t FROM timers").fetch_one(&mut *self.tx).await?;
                Ok(row.try_get("t")?)
            }

            async fn add_wait(&mut self, event: &str, key: &str, w: &Waiter) -> Result<()> {
                // An upsert per instance: a later wait of the same instance replaces this one.
                self.wait_adds.retain(|(_, _, x)| x.instance_id != w.instance_id);
                self.wait_adds.push((event.to_string(), key.to_string(), w.clone()));
                Ok(())
            }

            async fn take_waiters_many(
                &mut self,
                event: &str,
                keys: &[&str],
            ) -> Result<std::collections::HashMap<String, Vec<Waiter>>> {
                self.flush_waits().await?;
                let mut keys: Vec<&str> = keys.to_vec();
                keys.sort_unstable();
                keys.dedup();
                let mut out: std::collections::HashMap<String, Vec<Waiter>> = std::collections::HashMap::new();
                for chunk in keys.chunks(300) {
                    // The event is the last parameter: SQLite's `?` are positional.
                    let mut sql = in_list_sql("DELETE FROM waits WHERE business_key IN", chunk.len());
                    sql.push_str(&format!(" AND event = {} RETURNING business_key, instance_id, step, token", param(chunk.len() + 1)));
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for key in chunk {
                        q = q.bind(*key);
                    }
                    for r in q.bind(event).fetch_all(&mut *self.tx).await? {
                        let w = Waiter { instance_id: r.try_get("instance_id")?, step: r.try_get("step")?, token: r.try_get("token")? };
                        out.entry(r.try_get("business_key")?).or_default().push(w);
                    }
                }
                for list in out.values_mut() {
                    list.sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
                }
                Ok(out)
            }

            async fn delete_wait(&mut self, instance_id: &str) -> Result<()> {
                self.wait_adds.retain(|(_, _, x)| x.instance_id != instance_id);
                self.waits_cleared.insert(instance_id.to_string());
                Ok(())
            }

            async fn add_pending_event(&mut self, event: &str, key: &str, outcome: &str, payload: &Value, now: i64) -> Result<()> {
                if let Some(keys) = self.pending_keys.get_mut(event) {
                    keys.insert(key.to_string());
                }
                sqlx::query(
                    "INSERT INTO pending_events (event, business_key, outcome, payload, created_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(event)
                .bind(key)
                .bind(outcome)
                .bind(json_text(payload))
                .bind(now)
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn take_pending_event(&mut self, event: &str, key: &str) -> Result<Option<PendingEvent>> {
                if CACHE_READS {
                    if !self.pending_keys.contains_key(event) {
                        const KEEP_AT_MOST: usize = 10_000;
                        let rows = sqlx::query("SELECT DISTINCT business_key FROM pending_events WHERE event = $1 LIMIT $2")
                            .bind(event)
                            .bind(KEEP_AT_MOST as i64 + 1)
                            .fetch_all(&mut *self.tx)
                            .await?;
                        if rows.len() <= KEEP_AT_MOST {
                            let keys = rows.iter().map(|r| r.try_get::<String, _>("business_key")).collect::<std::result::Result<_, _>>()?;
                            self.pending_keys.insert(event.to_string(), keys);
                        }
                    }
                    if self.pending_keys.get(event).is_some_and(|keys| !keys.contains(key)) {
                        return Ok(None);
                    }
                }
                let row = sqlx::query(
                    "DELETE FROM pending_events WHERE id = (SELECT MIN(id) FROM pending_events WHERE event = $1 AND business_key = $2) \
                     RETURNING id, outcome, payload",
                )
                .bind(event)
                .bind(key)
                .fetch_optional(&mut *self.tx)
                .await?;
                match row {
                    None => {
                        if let Some(keys) = self.pending_keys.get_mut(event) {
                            keys.remove(key);
                        }
                        Ok(None)
                    }
                    Some(r) => Ok(Some(PendingEvent {
                        id: r.try_get("id")?,
                        outcome: r.try_get("outcome")?,
                        payload: parse_json(r.try_get::<&str, _>("payload")?)?,
                    })),
                }
            }

            async fn insert_task(&mut self, t: &Task) -> Result<i64> {
                let row = sqlx::query(
                    "INSERT INTO tasks (instance_id, step, token, role, status, outcome, note, created_at, due_at, decided_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(t.instance_id.as_str())
                .bind(t.step.as_str())
                .bind(t.token)
                .bind(t.role.as_str())
                .bind(t.status.as_str())
                .bind(t.outcome.as_deref())
                .bind(t.note.as_deref())
                .bind(t.created_at)
                .bind(t.due_at)
                .bind(t.decided_at)
                .fetch_one(&mut *self.tx)
                .await?;
                Ok(row.try_get("id")?)
            }

            async fn load_task(&mut self, id: i64) -> Result<Option<Task>> {
                let sql = format!("SELECT {TASK_COLS} FROM tasks WHERE id = $1{FOR_UPDATE}");
                let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *self.tx).await?;
                row.as_ref().map(row_task).transpose()
            }

            async fn update_task(&mut self, t: &Task) -> Result<()> {
                sqlx::query("UPDATE tasks SET status = $2, outcome = $3, note = $4, decided_at = $5 WHERE id = $1")
                    .bind(t.id)
                    .bind(t.status.as_str())
                    .bind(t.outcome.as_deref())
                    .bind(t.note.as_deref())
                    .bind(t.decided_at)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn open_task_for(&mut self, instance_id: &str) -> Result<Option<Task>> {
                let sql = format!("SELECT {TASK_COLS} FROM tasks WHERE instance_id = $1 AND status = 'open' ORDER BY id DESC LIMIT 1");
                let row = sqlx::query(AssertSqlSafe(sql)).bind(instance_id).fetch_optional(&mut *self.tx).await?;
                row.as_ref().map(row_task).transpose()
            }

            async fn list_tasks(&mut self, status: &str) -> Result<Vec<Task>> {
                let sql = format!("SELECT {TASK_COLS} FROM tasks WHERE status = $1 ORDER BY id");
                let rows = sqlx::query(AssertSqlSafe(sql)).bind(status).fetch_all(&mut *self.tx).await?;
                rows.iter().map(row_task).collect()
            }

            async fn get_document(&mut self, kind: &str, id: &str) -> Result<Option<Value>> {
                if CACHE_READS {
                    let key = (kind.to_string(), id.to_string());
                    if let Some(v) = self.documents.get(&key) {
                        return Ok(v.clone());
                    }
                    if let Some(&n) = self.doc_written.get(&key) {
                        let body = parse_json(&self.doc_writes[n].2)?;
                        self.documents.insert(key, Some(body.clone()));
                        return Ok(Some(body));
                    }
                    // Written by this transaction and already flushed, else as committed.
                    let text = match self.publish.get(&key) {
                        Some(t) => Some(t.clone()),
                        None if self.evict.contains(&key) => None,
                        None => self.shared.as_ref().and_then(|c| c.lock().unwrap_or_else(|e| e.into_inner()).get(&key)),
                    };
                    if let Some(text) = text {
                        let body = parse_json(&text)?;
                        self.bound_caches().await?;
                        self.documents.insert(key, Some(body.clone()));
                        return Ok(Some(body));
                    }
                }
                let row = sqlx::query("SELECT body FROM documents WHERE kind = $1 AND id = $2")
                    .bind(kind)
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                let body = match row {
                    None => None,
                    Some(r) => {
                        let text = r.try_get::<&str, _>("body")?;
                        if self.shared.is_some() {
                            self.offer_publish((kind.to_string(), id.to_string()), std::sync::Arc::from(text));
                        }
                        Some(parse_json(text)?)
                    }
                };
                if CACHE_READS {
                    self.bound_caches().await?;
                    self.documents.insert((kind.to_string(), id.to_string()), body.clone());
                }
                Ok(body)
            }

            async fn put_document(&mut self, kind: &str, id: &str, body: &Value, now: i64) -> Result<()> {
                if CACHE_READS {
                    self.bound_caches().await?;
                    let key = (kind.to_string(), id.to_string());
                    self.documents.remove(&key);
                    self.doc_written.insert(key, self.doc_writes.len());
                    self.doc_writes.push((kind.to_string(), id.to_string(), json_text(body), now));
                    return Ok(());
                }
                sqlx::query(
                    "INSERT INTO documents (kind, id, body, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (kind, id) DO UPDATE SET body = $3, updated_at = $4",
                )
                .bind(kind)
                .bind(id)
                .bind(json_text(body))
                .bind(now)
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn claim_document(&mut self, kind: &str, id: &str, body: &Value, now: i64) -> Result<Option<Value>> {
                if CACHE_READS {
                    // The only writer (`BEGIN IMMEDIATE`): what this transaction sees, its
                    // buffered writes included, is what the database will hold at commit.
                    if let Some(existing) = self.get_document(kind, id).await? {
                        return Ok(Some(existing));
                    }
                    self.put_document(kind, id, body, now).await?;
                    return Ok(None);
                }
                // READ COMMITTED: the insert waits on an uncommitted row of the same key; the
                // SELECT after a conflict is a new snapshot and sees the committed winner. A
                // winner deleted in between (no path deletes these today) means try again.
                for _ in 0..3 {
                    let won = sqlx::query(
                        "INSERT INTO documents (kind, id, body, updated_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (kind, id) DO NOTHING RETURNING id",
                    )
                    .bind(kind)
                    .bind(id)
                    .bind(json_text(body))
                    .bind(now)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                    if won.is_some() {
                        return Ok(None);
                    }
                    let row = sqlx::query("SELECT body FROM documents WHERE kind = $1 AND id = $2")
                        .bind(kind)
                        .bind(id)
                        .fetch_optional(&mut *self.tx)
                        .await?;
                    if let Some(r) = row {
                        return Ok(Some(parse_json(r.try_get::<&str, _>("body")?)?));
                    }
                }
                Err(StoreError::Corrupt(format!("document {kind} '{id}' keeps vanishing while claimed")))
            }

            async fn list_documents(&mut self, kind: &str, prefix: &str) -> Result<Vec<String>> {
                self.flush_writes().await?;
                // Prefix match without LIKE so `_`/`%` in ids are literal: [prefix, prefix + U+10FFFF).
                let upper = format!("{prefix}\u{10FFFF}");
                let rows = sqlx::query("SELECT id FROM documents WHERE kind = $1 AND id >= $2 AND id < $3 ORDER BY id")
                    .bind(kind)
                    .bind(prefix)
                    .bind(upper)
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter().map(|r| r.try_get::<String, _>("id").map_err(StoreError::from)).collect()
            }

            async fn get_documents_by_id(
                &mut self,
                kind: &str,
                ids: &[&str],
            ) -> Result<std::collections::HashMap<String, Value>> {
                self.flush_writes().await?;
                let mut ids: Vec<&str> = ids.to_vec();
                ids.sort_unstable();
                ids.dedup();
                let mut out = std::collections::HashMap::new();
                for chunk in ids.chunks(300) {
                    // The kind is the last parameter: SQLite's `?` are positional.
                    let mut sql = in_list_sql("SELECT id, body FROM documents WHERE id IN", chunk.len());
                    sql.push_str(&format!(" AND kind = {}", param(chunk.len() + 1)));
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    for r in q.bind(kind).fetch_all(&mut *self.tx).await? {
                        out.insert(r.try_get::<String, _>("id")?, parse_json(r.try_get::<&str, _>("body")?)?);
                    }
                }
                Ok(out)
            }

            async fn get_documents_text(&mut self, kind: &str, prefix: &str) -> Result<Vec<(String, String)>> {
                self.flush_writes().await?;
                let upper = format!("{prefix}\u{10FFFF}");
                let rows = sqlx::query("SELECT id, body FROM documents WHERE kind = $1 AND id >= $2 AND id < $3 ORDER BY id")
                    .bind(kind)
                    .bind(prefix)
                    .bind(upper)
                    .fetch_all(&mut *self.tx)
                    .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push((r.try_get::<String, _>("id")?, r.try_get::<String, _>("body")?));
                }
                Ok(out)
            }

            async fn count_documents(&mut self, kind: &str) -> Result<i64> {
                self.flush_writes().await?;
                let row = sqlx::query("SELECT COUNT(*) AS n FROM documents WHERE kind = $1")
                    .bind(kind)
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(row.try_get("n")?)
            }

            async fn next_number(&mut self, series: &str) -> Result<i64> {
                if CACHE_READS && let Some((value, dirty)) = self.series.get_mut(series) {
                    *value += 1;
                    *dirty = true;
                    return Ok(*value);
                }
                // The upsert locks the series row until commit: concurrent steps queue behind it and a
                // rolled-back step releases its number, so the series stays gapless.
                let row = sqlx::query(
                    "INSERT INTO number_series (series, last_value) VALUES ($1, 1) \
                     ON CONFLICT (series) DO UPDATE SET last_value = number_series.last_value + 1 RETURNING last_value",
                )
                .bind(series)
                .fetch_one(&mut *self.tx)
                .await?;
                let value: i64 = row.try_get("last_value")?;
                if CACHE_READS {
                    self.series.insert(series.to_string(), (value, false));
                }
                Ok(value)
            }

            async fn current_number(&mut self, series: &str) -> Result<i64> {
                if let Some((value, _)) = self.series.get(series) {
                    return Ok(*value);
                }
                let row = sqlx::query("SELECT last_value FROM number_series WHERE series = $1")
                    .bind(series)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                Ok(match row {
                    Some(r) => r.try_get("last_value")?,
                    None => 0,
                })
            }

            async fn stock_level(&mut self, item: &str, location: &str) -> Result<Decimal> {
                if CACHE_READS
                    && let Some(q) = self.stock.get(&(item.to_string(), location.to_string()))
                {
                    return Ok(*q);
                }
                let row = sqlx::query("SELECT quantity FROM stock WHERE item = $1 AND location = $2")
                    .bind(item)
                    .bind(location)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                let q = match row {
                    None => Decimal::ZERO,
                    Some(r) => qty_get(&r, "quantity")?,
                };
                if CACHE_READS {
                    self.stock.insert((item.to_string(), location.to_string()), q);
                }
                Ok(q)
            }

            async fn adjust_stock(&mut self, item: &str, location: &str, delta: Decimal) -> Result<Decimal> {
                // Read-modify-write under the row lock (FOR UPDATE on PG, the single writer on
                // SQLite); the arithmetic happens in Decimal, not in SQL, so SQLite never sees REAL.
                let key = (item.to_string(), location.to_string());
                let current = match self.stock.get(&key) {
                    Some(q) if CACHE_READS => *q,
                    _ => {
                        let sql = format!("SELECT quantity FROM stock WHERE item = $1 AND location = $2{FOR_UPDATE}");
                        let row = sqlx::query(AssertSqlSafe(sql))
                            .bind(item)
                            .bind(location)
                            .fetch_optional(&mut *self.tx)
                            .await?;
                        match &row {
                            None => Decimal::ZERO,
                            Some(r) => qty_get(r, "quantity")?,
                        }
                    }
                };
                let next = (current + delta).normalize();
                if CACHE_READS {
                    self.stock.insert(key.clone(), next);
                    self.stock_dirty.insert(key);
                    return Ok(next);
                }
                sqlx::query(
                    "INSERT INTO stock (item, location, quantity) VALUES ($1, $2, $3) \
                     ON CONFLICT (item, location) DO UPDATE SET quantity = $3",
                )
                .bind(item)
                .bind(location)
                .bind(qty_param(next))
                .execute(&mut *self.tx)
                .await?;
                Ok(next)
            }

            async fn add_outbound(&mut self, channel: &str, key: &str, instance_id: Option<&str>, payload: &Value, now: i64) -> Result<()> {
                // A repeated (channel, key) is left to the insert's ON CONFLICT DO NOTHING, which
                // keeps the first row of a multi-row insert on both backends.
                if self.outbound_adds.len() >= 512 {
                    self.flush_outbound().await?;
                }
                self.outbound_adds.push((channel.to_string(), key.to_string(), instance_id.map(str::to_string), json_text(payload), now));
                Ok(())
            }

            async fn unsent_outbound(&mut self, limit: i64) -> Result<Vec<Outbound>> {
                self.flush_outbound().await?;
                let rows = sqlx::query(
                    "SELECT id, channel, key, instance_id, payload, attempts FROM outbound WHERE sent_at IS NULL ORDER BY attempts, id LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    out.push(Outbound {
                        id: r.try_get("id")?,
                        channel: r.try_get("channel")?,
                        key: r.try_get("key")?,
                        instance_id: r.try_get("instance_id")?,
                        payload: parse_json(r.try_get::<&str, _>("payload")?)?,
                        attempts: r.try_get("attempts")?,
                    });
                }
                Ok(out)
            }

            async fn mark_outbound(&mut self, ids: &[i64], sent_at: Option<i64>, error: Option<&str>) -> Result<()> {
                self.flush_outbound().await?;
                for chunk in ids.chunks(500) {
                    let list = chunk.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
                    let sql = format!("UPDATE outbound SET sent_at = $1, last_error = $2, attempts = attempts + 1 WHERE id IN ({list})");
                    sqlx::query(AssertSqlSafe(sql)).bind(sent_at).bind(error).execute(&mut *self.tx).await?;
                }
                Ok(())
            }

            async fn count_outbound(&mut self, channel: &str) -> Result<i64> {
                self.flush_outbound().await?;
                let row = sqlx::query("SELECT COUNT(*) AS n FROM outbound WHERE channel = $1")
                    .bind(channel)
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(row.try_get("n")?)
            }

            async fn effects_summary(&mut self) -> Result<Value> {
                self.flush_writes().await?;
                self.flush_outbound().await?;
                let mut docs = serde_json::Map::new();
                for r in sqlx::query("SELECT kind, COUNT(*) AS n FROM documents GROUP BY kind ORDER BY kind").fetch_all(&mut *self.tx).await? {
                    docs.insert(r.try_get("kind")?, Value::from(r.try_get::<i64, _>("n")?));
                }
                let mut series = serde_json::Map::new();
                for r in sqlx::query("SELECT series, last_value FROM number_series ORDER BY series").fetch_all(&mut *self.tx).await? {
                    series.insert(r.try_get("series")?, Value::from(r.try_get::<i64, _>("last_value")?));
                }
                let mut outbound = serde_json::Map::new();
                for r in sqlx::query("SELECT channel, COUNT(*) AS n FROM outbound GROUP BY channel ORDER BY channel").fetch_all(&mut *self.tx).await? {
                    outbound.insert(r.try_get("channel")?, Value::from(r.try_get::<i64, _>("n")?));
                }
                let mut stock = serde_json::Map::new();
                for r in sqlx::query("SELECT item, location, quantity FROM stock ORDER BY item, location").fetch_all(&mut *self.tx).await? {
                    let item: String = r.try_get("item")?;
                    let loc: String = r.try_get("location")?;
                    let q = qty_get(&r, "quantity")?;
                    let key = if loc == "main" { item } else { format!("{item}@{loc}") };
                    stock.insert(key, serde_json::to_value(q).unwrap_or(Value::Null));
                }
                Ok(serde_json::json!({ "documents": docs, "series": series, "outbound": outbound, "stock": stock }))
            }

            async fn put_workflow_def(&mut self, name: &str, version: u32, hash: &str, path: &str, source: &str, now: i64) -> Result<()> {
                if let Some((old_hash, _, _)) = self.get_workflow_def(name, version).await? {
                    if old_hash == hash {
                        return Ok(());
                    }
                    return Err(StoreError::Duplicate { kind: "workflow version", key: format!("{name} v{version}") });
                }
                sqlx::query(
                    "INSERT INTO workflow_defs (name, version, source_hash, path, source, loaded_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(name)
                .bind(version as i64)
                .bind(hash)
                .bind(path)
                .bind(source)
                .bind(now)
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn get_workflow_def(&mut self, name: &str, version: u32) -> Result<Option<(String, String, String)>> {
                let row = sqlx::query("SELECT source_hash, path, source FROM workflow_defs WHERE name = $1 AND version = $2")
                    .bind(name)
                    .bind(version as i64)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                match row {
                    None => Ok(None),
                    Some(r) => Ok(Some((r.try_get("source_hash")?, r.try_get("path")?, r.try_get("source")?))),
                }
            }

            async fn kv_get(&mut self, key: &str) -> Result<Option<String>> {
                let row = sqlx::query("SELECT value FROM kv WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                match row {
                    None => Ok(None),
                    Some(r) => Ok(Some(r.try_get("value")?)),
                }
            }

            async fn kv_set(&mut self, key: &str, value: &str) -> Result<()> {
                sqlx::query("INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2")
                    .bind(key)
                    .bind(value)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_store_tx;
