//! Outbound messages (files, partner messages, e-mails) written by steps and delivered after
//! commit by the dispatcher; the first message of a (channel, key) wins. Also the summary of
//! what the business connectors produced.
//!
//! The trait is part of [`super::Tx`]; its SQL is written once for both backends in `impl_outbound_records!`,
//! expanded for each backend's transaction type by `impl_store_tx!` (see `transaction.rs`).

use super::Result;
use crate::model::Outbound;
use async_trait::async_trait;
use serde_json::Value;

#[async_trait]
pub trait OutboundRecords: Send {
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
    ) -> Result<()> {
        self.add_outbound_text(channel, key, instance_id, super::json_text(payload), now)
            .await
    }
    /// [`OutboundRecords::add_outbound`] of a payload already serialised to JSON text (a large
    /// typed report, written without building a JSON tree of it).
    async fn add_outbound_text(
        &mut self,
        channel: &str,
        key: &str,
        instance_id: Option<&str>,
        payload: String,
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
    /// Unsent webhook messages (channels `webhook:*`, which [`Self::unsent_outbound`] leaves
    /// out: they are delivered over HTTP with their own retry schedule), with when each was
    /// queued, never-tried ones first.
    async fn unsent_webhooks(&mut self, limit: i64) -> Result<Vec<(Outbound, i64)>>;
    /// Webhook deliveries, newest first; `failed_only`: those given up after the last attempt.
    async fn webhook_deliveries(
        &mut self,
        failed_only: bool,
        limit: i64,
    ) -> Result<Vec<DeliveryState>>;
    /// One webhook delivery by id.
    async fn webhook_delivery(&mut self, id: i64) -> Result<Option<DeliveryState>>;
    /// Queues a webhook delivery again from its first attempt (`queued_at` restarts the retry
    /// schedule). False when `id` is no webhook delivery or it is still pending.
    async fn redeliver_webhook(&mut self, id: i64, queued_at: i64) -> Result<bool>;
    /// Counts of what the business connectors produced: documents per kind, number series,
    /// outbound messages per channel, stock per item and location.
    async fn effects_summary(&mut self) -> Result<Value>;
}

/// One webhook delivery as `ordo webhooks deliveries` shows it: pending (`sent_at` none),
/// delivered (`sent_at` set, no error) or failed for good (`sent_at` set with `last_error`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DeliveryState {
    pub id: i64,
    pub channel: String,
    pub key: String,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// The SQL of [`OutboundRecords`] for one backend's transaction type.
macro_rules! impl_outbound_records {
    ($tx:ident, $db:ty) => {
        impl $tx {
            /// Unsent rows whose channel is (`LIKE`) or is not (`NOT LIKE`) a webhook's, with
            /// when each was queued; never-tried ones first, then by age.
            async fn select_unsent(&mut self, like: &str, limit: i64) -> Result<Vec<(Outbound, i64)>> {
                self.flush_outbound().await?;
                let sql = format!("SELECT id, channel, key, instance_id, payload, attempts, created_at FROM outbound WHERE sent_at IS NULL AND channel {like} 'webhook:%' ORDER BY attempts, id LIMIT $1");
                let rows = sqlx::query(AssertSqlSafe(sql)).bind(limit).fetch_all(&mut *self.tx).await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let m = Outbound {
                        id: r.try_get("id")?,
                        channel: r.try_get("channel")?,
                        key: r.try_get("key")?,
                        instance_id: r.try_get("instance_id")?,
                        payload: parse_json(r.try_get::<&str, _>("payload")?)?,
                        attempts: r.try_get("attempts")?,
                    };
                    out.push((m, r.try_get("created_at")?));
                }
                Ok(out)
            }

            /// Webhook rows; `tail` adds conditions and order with one parameter, `$1`.
            async fn select_deliveries(&mut self, tail: &str, param: i64) -> Result<Vec<$crate::store::DeliveryState>> {
                self.flush_outbound().await?;
                let sql = format!("SELECT id, channel, key, created_at, sent_at, attempts, last_error FROM outbound WHERE channel LIKE 'webhook:%'{tail}");
                let rows = sqlx::query(AssertSqlSafe(sql)).bind(param).fetch_all(&mut *self.tx).await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    out.push($crate::store::DeliveryState {
                        id: r.try_get("id")?,
                        channel: r.try_get("channel")?,
                        key: r.try_get("key")?,
                        created_at: r.try_get("created_at")?,
                        sent_at: r.try_get("sent_at")?,
                        attempts: r.try_get("attempts")?,
                        last_error: r.try_get("last_error")?,
                    });
                }
                Ok(out)
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
        }

        #[async_trait]
        impl OutboundRecords for $tx {
            async fn add_outbound_text(&mut self, channel: &str, key: &str, instance_id: Option<&str>, payload: String, now: i64) -> Result<()> {
                // A repeated (channel, key) is left to the insert's ON CONFLICT DO NOTHING, which
                // keeps the first row of a multi-row insert on both backends.
                if self.outbound_adds.len() >= 512 {
                    self.flush_outbound().await?;
                }
                self.outbound_adds.push((channel.to_string(), key.to_string(), instance_id.map(str::to_string), payload, now));
                Ok(())
            }

            async fn unsent_outbound(&mut self, limit: i64) -> Result<Vec<Outbound>> {
                let rows = self.select_unsent("NOT LIKE", limit).await?;
                Ok(rows.into_iter().map(|(m, _)| m).collect())
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

            async fn unsent_webhooks(&mut self, limit: i64) -> Result<Vec<(Outbound, i64)>> {
                self.select_unsent("LIKE", limit).await
            }

            async fn webhook_deliveries(&mut self, failed_only: bool, limit: i64) -> Result<Vec<$crate::store::DeliveryState>> {
                let filter = if failed_only { " AND sent_at IS NOT NULL AND last_error IS NOT NULL" } else { "" };
                self.select_deliveries(&format!("{filter} ORDER BY id DESC LIMIT $1"), limit).await
            }

            async fn webhook_delivery(&mut self, id: i64) -> Result<Option<$crate::store::DeliveryState>> {
                Ok(self.select_deliveries(" AND id = $1", id).await?.pop())
            }

            async fn redeliver_webhook(&mut self, id: i64, queued_at: i64) -> Result<bool> {
                self.flush_outbound().await?;
                let done = sqlx::query("UPDATE outbound SET sent_at = NULL, attempts = 0, last_error = NULL, created_at = $1 WHERE id = $2 AND channel LIKE 'webhook:%' AND sent_at IS NOT NULL")
                    .bind(queued_at)
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(done.rows_affected() == 1)
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
        }
    };
}
pub(crate) use impl_outbound_records;
