//! What the reports (`crate::reports`) read in bulk that no other concern offers: the history
//! of every instance of a workflow started in a period, and the state of each instance of a
//! workflow. Both read through the index `instances_workflow_created` (migration 0019), so a
//! period costs its own rows, not the whole table. Reports run in a read transaction of their
//! own: history and instance updates a transaction buffers (written at its commit) are not
//! seen by these reads; deferred new instances and buffered stock levels are flushed first.
//!
//! The trait is part of [`super::Tx`]; its SQL is written once for both backends in
//! `impl_report_records!`, expanded for each backend's transaction type by `impl_store_tx!`.

use super::Result;
use async_trait::async_trait;

/// One history event with the instance it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub instance_id: String,
    pub business_key: String,
    pub seq: i64,
    pub at: i64,
    pub kind: String,
    pub step: String,
    pub outcome: Option<String>,
}

/// One instance's place: its business key, state and end state, when it started.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceState {
    pub business_key: String,
    pub status: String,
    pub end_status: Option<String>,
    pub created_at: i64,
}

#[async_trait]
pub trait ReportRecords: Send {
    /// The history of the instances of `workflow` created in `[from_ms, to_ms)`, by instance
    /// and sequence.
    async fn workflow_history(
        &mut self,
        workflow: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<HistoryRow>>;
    /// The instances of `workflow` created in `[from_ms, to_ms)`, by creation.
    async fn workflow_instances(
        &mut self,
        workflow: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<InstanceState>>;
    /// The history of the instances of `workflow` whose business key is one of `keys`, by
    /// instance and sequence (through the unique index on workflow and business key).
    async fn workflow_history_of_keys(
        &mut self,
        workflow: &str,
        keys: &[String],
    ) -> Result<Vec<HistoryRow>>;
    /// The instances of `workflow` whose business key is one of `keys`, in no set order.
    async fn workflow_instances_of_keys(
        &mut self,
        workflow: &str,
        keys: &[String],
    ) -> Result<Vec<InstanceState>>;
    /// Every stock level as (item, location, quantity), by item and location.
    async fn stock_rows(&mut self) -> Result<Vec<(String, String, rust_decimal::Decimal)>>;
}

/// The SQL of [`ReportRecords`] for one backend's transaction type.
macro_rules! impl_report_records {
    ($tx:ident, $db:ty) => {
        #[async_trait]
        impl $crate::store::reports::ReportRecords for $tx {
            async fn workflow_history(
                &mut self,
                workflow: &str,
                from_ms: i64,
                to_ms: i64,
            ) -> Result<Vec<$crate::store::reports::HistoryRow>> {
                self.flush_instance_adds().await?;
                let rows = sqlx::query(
                    "SELECT h.instance_id, i.business_key, h.seq, h.at, h.kind, h.step, h.outcome \
                     FROM instances i JOIN history h ON h.instance_id = i.id \
                     WHERE i.workflow = $1 AND i.created_at >= $2 AND i.created_at < $3 \
                     ORDER BY h.instance_id, h.seq",
                )
                .bind(workflow)
                .bind(from_ms)
                .bind(to_ms)
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    out.push($crate::store::reports::HistoryRow {
                        instance_id: r.try_get("instance_id")?,
                        business_key: r.try_get("business_key")?,
                        seq: r.try_get("seq")?,
                        at: r.try_get("at")?,
                        kind: r.try_get("kind")?,
                        step: r.try_get("step")?,
                        outcome: r.try_get("outcome")?,
                    });
                }
                Ok(out)
            }

            async fn workflow_history_of_keys(
                &mut self,
                workflow: &str,
                keys: &[String],
            ) -> Result<Vec<$crate::store::reports::HistoryRow>> {
                self.flush_instance_adds().await?;
                let mut out = Vec::new();
                for chunk in keys.chunks(300) {
                    let ps: Vec<String> = (0..chunk.len()).map(|i| param(i + 2)).collect();
                    let sql = format!(
                        "SELECT h.instance_id, i.business_key, h.seq, h.at, h.kind, h.step, h.outcome \
                         FROM instances i JOIN history h ON h.instance_id = i.id \
                         WHERE i.workflow = {} AND i.business_key IN ({})",
                        param(1),
                        ps.join(",")
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(workflow);
                    for k in chunk {
                        q = q.bind(k.as_str());
                    }
                    for r in q.fetch_all(&mut *self.tx).await? {
                        out.push($crate::store::reports::HistoryRow {
                            instance_id: r.try_get("instance_id")?,
                            business_key: r.try_get("business_key")?,
                            seq: r.try_get("seq")?,
                            at: r.try_get("at")?,
                            kind: r.try_get("kind")?,
                            step: r.try_get("step")?,
                            outcome: r.try_get("outcome")?,
                        });
                    }
                }
                out.sort_by(|a, b| (a.instance_id.as_str(), a.seq).cmp(&(b.instance_id.as_str(), b.seq)));
                Ok(out)
            }

            async fn workflow_instances_of_keys(
                &mut self,
                workflow: &str,
                keys: &[String],
            ) -> Result<Vec<$crate::store::reports::InstanceState>> {
                self.flush_instance_adds().await?;
                let mut out = Vec::new();
                for chunk in keys.chunks(300) {
                    let ps: Vec<String> = (0..chunk.len()).map(|i| param(i + 2)).collect();
                    let sql = format!(
                        "SELECT business_key, status, end_status, created_at FROM instances \
                         WHERE workflow = {} AND business_key IN ({})",
                        param(1),
                        ps.join(",")
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql)).bind(workflow);
                    for k in chunk {
                        q = q.bind(k.as_str());
                    }
                    for r in q.fetch_all(&mut *self.tx).await? {
                        out.push($crate::store::reports::InstanceState {
                            business_key: r.try_get("business_key")?,
                            status: r.try_get("status")?,
                            end_status: r.try_get("end_status")?,
                            created_at: r.try_get("created_at")?,
                        });
                    }
                }
                Ok(out)
            }

            async fn workflow_instances(
                &mut self,
                workflow: &str,
                from_ms: i64,
                to_ms: i64,
            ) -> Result<Vec<$crate::store::reports::InstanceState>> {
                self.flush_instance_adds().await?;
                let rows = sqlx::query(
                    "SELECT business_key, status, end_status, created_at FROM instances \
                     WHERE workflow = $1 AND created_at >= $2 AND created_at < $3 \
                     ORDER BY created_at, id",
                )
                .bind(workflow)
                .bind(from_ms)
                .bind(to_ms)
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    out.push($crate::store::reports::InstanceState {
                        business_key: r.try_get("business_key")?,
                        status: r.try_get("status")?,
                        end_status: r.try_get("end_status")?,
                        created_at: r.try_get("created_at")?,
                    });
                }
                Ok(out)
            }

            async fn stock_rows(&mut self) -> Result<Vec<(String, String, rust_decimal::Decimal)>> {
                // Buffered levels (SQLite) must be in the table before it is read there.
                self.flush_writes().await?;
                let rows = sqlx::query(
                    "SELECT item, location, quantity FROM stock ORDER BY item, location",
                )
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push((
                        r.try_get("item")?,
                        r.try_get("location")?,
                        qty_get(r, "quantity")?,
                    ));
                }
                Ok(out)
            }
        }
    };
}
pub(crate) use impl_report_records;
