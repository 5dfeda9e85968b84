//! Timers (retries, timeouts, cron), waits for events and events that arrived before their
//! waiter. Timer and wait changes are buffered (deletions, then additions) and reach the
//! database before anything reads those tables, a savepoint or the commit.
//!
//! The trait is part of [`super::Tx`]; its SQL is written once for both backends in `impl_timer_wait_records!`,
//! expanded for each backend's transaction type by `impl_store_tx!` (see `transaction.rs`).

use super::Result;
use crate::model::{PendingEvent, Timer, Waiter};
use async_trait::async_trait;
use serde_json::Value;

#[async_trait]
pub trait TimerWaitRecords: Send {
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
    /// [`TimerWaitRecords::take_waiters`] for many keys in a few statements (a statement's worth of
    /// payments): waiters by key, each list in instance id order; keys nobody waits for are
    /// absent.
    async fn take_waiters_many(
        &mut self,
        event: &str,
        keys: &[&str],
    ) -> Result<std::collections::HashMap<String, Vec<Waiter>>>;
    async fn delete_wait(&mut self, instance_id: &str) -> Result<()>;
    /// Deletes the wait of `instance_id` at once if it is still the one registered with
    /// `token`, and says whether it was: `false` means an event took it (its `Resolve` is on
    /// its way), so a timeout that fired meanwhile must not move the instance on.
    async fn take_wait(&mut self, instance_id: &str, token: i64) -> Result<bool>;
    async fn add_pending_event(
        &mut self,
        event: &str,
        key: &str,
        outcome: &str,
        payload: &Value,
        now: i64,
    ) -> Result<()>;
    async fn take_pending_event(&mut self, event: &str, key: &str) -> Result<Option<PendingEvent>>;
}

/// The SQL of [`TimerWaitRecords`] for one backend's transaction type.
macro_rules! impl_timer_wait_records {
    ($tx:ident, $db:ty) => {
        impl $tx {
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
                if !self.waits_cleared.is_empty() || !self.wait_adds.is_empty() {
                    // Wait rows change only under the hot-rows lock (see `take_waits_lock`).
                    self.take_waits_lock().await?;
                }
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
        }

        impl $tx {
            /// Registering a wait (`take_pending_event` then `add_wait`) and delivering an event
            /// (`take_waiters_many` then `add_pending_event`) each read one table and then write
            /// the other. Under READ COMMITTED two such transactions running at once would each
            /// miss the other's uncommitted row, and the event would be lost: a pending event
            /// nobody takes, or a waiter nobody resolves. On PostgreSQL both therefore hold the
            /// schema's hot-rows lock (one lock, so no lock-order deadlock) from their first
            /// read to the commit, and a statement after the lock sees the other's commit. On
            /// SQLite the single writer already orders them.
            async fn take_waits_lock(&mut self) -> Result<()> {
                self.take_hot_lock().await
            }
        }

        #[async_trait]
        impl TimerWaitRecords for $tx {
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
                self.take_waits_lock().await?;
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

            async fn take_wait(&mut self, instance_id: &str, token: i64) -> Result<bool> {
                self.take_waits_lock().await?;
                self.flush_waits().await?;
                let row = sqlx::query("DELETE FROM waits WHERE instance_id = $1 AND token = $2 RETURNING instance_id")
                    .bind(instance_id)
                    .bind(token)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                Ok(row.is_some())
            }

            async fn add_pending_event(&mut self, event: &str, key: &str, outcome: &str, payload: &Value, now: i64) -> Result<()> {
                self.take_waits_lock().await?;
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
                // Held until the commit that writes this instance's wait (see `take_waits_lock`).
                self.take_waits_lock().await?;
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
        }
    };
}
pub(crate) use impl_timer_wait_records;
