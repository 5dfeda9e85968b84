//! Embedded durable queue: rows of `queue_messages` in the store's SQLite file.
//!
//! A receive leases rows by pushing their `visible_at` forward by the visibility timeout; a
//! crashed consumer's rows become visible again when the lease runs out. Delay = a future
//! `visible_at`. Dead letters stay in the table with `dead = 1`.

use super::{Delivery, Envelope, Queue, QueueError};
use async_trait::async_trait;
use sqlx::{AssertSqlSafe, Row, SqlitePool};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct SqliteQueue {
    pool: SqlitePool,
    visibility: Duration,
    notify: Arc<Notify>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl SqliteQueue {
    /// Shares the store's writer pool: one file, one writer.
    pub fn new(store: &crate::store::sqlite::SqliteStore, visibility: Duration) -> Self {
        SqliteQueue {
            pool: store.writer.clone(),
            visibility,
            notify: Arc::new(Notify::new()),
        }
    }

    /// Wakes receivers waiting in `receive` (after a step transaction enqueued messages).
    pub fn notify(&self) {
        self.notify.notify_waiters();
    }

    async fn lease(&self, max: usize) -> Result<Vec<Delivery>, QueueError> {
        let now = now_ms();
        let until = now + self.visibility.as_millis() as i64;
        let rows = sqlx::query(
            "UPDATE queue_messages SET visible_at = $1, deliveries = deliveries + 1 WHERE seq IN \
             (SELECT seq FROM queue_messages WHERE dead = 0 AND visible_at <= $2 ORDER BY visible_at, seq LIMIT $3) \
             RETURNING seq, msg_id, body, deliveries",
        )
        .bind(until)
        .bind(now)
        .bind(max as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(Delivery {
                tag: r.try_get::<i64, _>("seq")? as u64,
                msg_id: r.try_get("msg_id")?,
                body: r.try_get("body")?,
                redelivered: r.try_get::<i64, _>("deliveries")? > 1,
                deliveries: u32::try_from(r.try_get::<i64, _>("deliveries")?).unwrap_or(u32::MAX),
            });
        }
        out.sort_by_key(|d| d.tag);
        Ok(out)
    }

    /// Milliseconds until the next message becomes visible, if any is waiting.
    async fn next_visible_in(&self) -> Result<Option<i64>, QueueError> {
        let row = sqlx::query("SELECT MIN(visible_at) AS v FROM queue_messages WHERE dead = 0")
            .fetch_one(&self.pool)
            .await?;
        let v: Option<i64> = row.try_get("v")?;
        Ok(v.map(|v| (v - now_ms()).max(0)))
    }
}

fn id_list(ds: &[Delivery]) -> String {
    ds.iter()
        .map(|d| d.tag.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn publish(&self, msgs: &[Envelope], delay: Duration) -> Result<(), QueueError> {
        let at = now_ms() + delay.as_millis() as i64;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        for m in msgs {
            sqlx::query(
                "INSERT INTO queue_messages (msg_id, body, visible_at) VALUES ($1, $2, $3)",
            )
            .bind(m.msg_id.as_str())
            .bind(m.body.as_slice())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.notify();
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Register interest before looking, so a publish between the look and the wait
            // is not missed.
            let notified = self.notify.notified();
            let got = self.lease(max).await?;
            if !got.is_empty() {
                return Ok(got);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            // Sleep until the next delayed message is due, a publish notifies us, or the wait
            // ends; cap the nap so publishes from other processes are seen within 20 ms.
            let mut nap = (deadline - now).min(Duration::from_millis(20));
            if let Some(ms) = self.next_visible_in().await? {
                nap = nap.min(Duration::from_millis(ms.max(1) as u64));
            }
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    async fn ack(&self, deliveries: &[Delivery]) -> Result<(), QueueError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "DELETE FROM queue_messages WHERE seq IN ({})",
            id_list(deliveries)
        );
        sqlx::query(AssertSqlSafe(sql)).execute(&self.pool).await?;
        Ok(())
    }

    async fn nack(&self, d: &Delivery, requeue_after: Option<Duration>) -> Result<(), QueueError> {
        match requeue_after {
            Some(delay) => {
                sqlx::query("UPDATE queue_messages SET visible_at = $1 WHERE seq = $2")
                    .bind(now_ms() + delay.as_millis() as i64)
                    .bind(d.tag as i64)
                    .execute(&self.pool)
                    .await?;
                self.notify();
            }
            None => {
                sqlx::query(
                    "UPDATE queue_messages SET dead = 1, dead_reason = 'nacked' WHERE seq = $1",
                )
                .bind(d.tag as i64)
                .execute(&self.pool)
                .await?;
            }
        }
        Ok(())
    }

    async fn dead_letters(&self, max: usize) -> Result<Vec<Envelope>, QueueError> {
        let rows = sqlx::query(
            "SELECT msg_id, body FROM queue_messages WHERE dead = 1 ORDER BY seq LIMIT $1",
        )
        .bind(max as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            out.push(Envelope {
                msg_id: r.try_get("msg_id")?,
                body: r.try_get("body")?,
            });
        }
        Ok(out)
    }

    async fn close(&self) {}
}
