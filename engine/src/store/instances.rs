//! Workflow instances and their history. New instances can be deferred and written as
//! multi-row inserts; instance updates and history events are buffered and written at commit
//! (one multi-row UPDATE, one multi-row INSERT), the last write of an instance winning.
//!
//! The trait is part of [`super::Tx`]; its SQL is written once for both backends in `impl_instance_records!`,
//! expanded for each backend's transaction type by `impl_store_tx!` (see `transaction.rs`).

use super::Result;
use crate::model::{HistoryEvent, Instance};
use async_trait::async_trait;

/// How many unended instances of one workflow version stand at one step in one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepCount {
    pub workflow: String,
    pub version: i64,
    pub step: String,
    pub status: String,
    pub count: i64,
}

#[async_trait]
pub trait InstanceRecords: Send {
    /// Inserts a new instance; `Err(Duplicate)` when its id or (workflow, business key) is
    /// taken. After [`InstanceRecords::defer_instance_inserts`], a clash with a row already in the database
    /// is reported when the insert is flushed (before the commit, a savepoint or a query over
    /// instances) instead of here.
    async fn insert_instance(&mut self, inst: &Instance) -> Result<()>;
    /// Buffers this transaction's instance inserts, and its journal entries (`journal.rs`), to
    /// write them as multi-row inserts. Used where a clash is an error for the whole
    /// transaction anyway (a batch of steps, which then runs again with immediate inserts and a
    /// savepoint per step; a file of orders). A journal entry the database refuses at the
    /// flush is reported as `Duplicate` too, so the same pass with savepoints finds its step.
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
    /// [`InstanceRecords::update_instance`] without the copy (the step hands its instance over).
    async fn put_instance(&mut self, inst: Instance) -> Result<()> {
        self.update_instance(&inst).await
    }
    async fn find_instances(&mut self, id_or_key: &str) -> Result<Vec<Instance>>;
    async fn list_instances(&mut self, status: Option<&str>, limit: i64) -> Result<Vec<Instance>>;
    /// Counts instances per (workflow, status, end_status).
    async fn count_instances(&mut self) -> Result<Vec<(String, String, Option<String>, i64)>>;
    /// Counts the instances that have not ended per (workflow, version, step, status): the
    /// console's live counts on each workflow's graph, one grouped query (ended instances are
    /// left out through the `status` index, so the count stays small with a large history).
    async fn count_live_by_step(&mut self) -> Result<Vec<StepCount>>;
    fn append_history(&mut self, instance_id: &str, event: HistoryEvent);
    async fn history(&mut self, instance_id: &str) -> Result<Vec<HistoryEvent>>;
    async fn next_history_seq(&mut self, instance_id: &str) -> Result<i64>;
}

/// The SQL of [`InstanceRecords`] for one backend's transaction type.
macro_rules! impl_instance_records {
    ($tx:ident, $db:ty) => {
        impl $tx {
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

        const INSTANCE_COLS: &str = "id, workflow, version, business_key, status, step, token, history_seq, attempt, data, error, end_status, created_at, updated_at";

        #[async_trait]
        impl InstanceRecords for $tx {
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

            fn defer_instance_inserts(&mut self) {
                self.defer_inserts = true;
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

            async fn count_live_by_step(&mut self) -> Result<Vec<$crate::store::StepCount>> {
                self.flush_instance_adds().await?;
                let rows = sqlx::query(
                    "SELECT workflow, version, step, status, COUNT(*) AS n FROM instances WHERE status IN ('running', 'waiting', 'failed') GROUP BY workflow, version, step, status ORDER BY workflow, version, step, status",
                )
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    out.push($crate::store::StepCount {
                        workflow: r.try_get("workflow")?,
                        version: r.try_get("version")?,
                        step: r.try_get("step")?,
                        status: r.try_get("status")?,
                        count: r.try_get("n")?,
                    });
                }
                Ok(out)
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
        }
    };
}
pub(crate) use impl_instance_records;
