//! The step queue's records in the store: the inbox (ids of messages already processed, so a
//! redelivery is a no-op), the embedded queue's step messages (buffered, written at commit)
//! and the cluster's outbox (published to the broker after commit).
//!
//! The trait is part of [`super::Tx`]; its SQL is written once for both backends in `impl_queue_records!`,
//! expanded for each backend's transaction type by `impl_store_tx!` (see `transaction.rs`).

use super::Result;
use crate::model::StepMessage;
use async_trait::async_trait;

#[async_trait]
pub trait QueueRecords: Send {
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
}

/// The SQL of [`QueueRecords`] for one backend's transaction type.
macro_rules! impl_queue_records {
    ($tx:ident, $db:ty) => {
        #[async_trait]
        impl QueueRecords for $tx {
            async fn inbox_insert(&mut self, msg_id: &str, now: i64) -> Result<bool> {
                let r = sqlx::query("INSERT INTO inbox (msg_id, processed_at) VALUES ($1, $2) ON CONFLICT (msg_id) DO NOTHING")
                    .bind(msg_id)
                    .bind(now)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(r.rows_affected() == 1)
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

            async fn queued_count(&mut self) -> Result<i64> {
                queued_count(&mut self.tx).await
            }
        }
    };
}
pub(crate) use impl_queue_records;
