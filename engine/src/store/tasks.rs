//! Human tasks: the row a `task:` step parks its instance on, decided by approve/reject.
//!
//! The trait is part of [`super::Tx`]; its SQL is written once for both backends in `impl_task_records!`,
//! expanded for each backend's transaction type by `impl_store_tx!` (see `transaction.rs`).

use super::Result;
use crate::model::Task;
use async_trait::async_trait;

#[async_trait]
pub trait TaskRecords: Send {
    async fn insert_task(&mut self, task: &Task) -> Result<i64>;
    async fn load_task(&mut self, id: i64) -> Result<Option<Task>>;
    async fn update_task(&mut self, task: &Task) -> Result<()>;
    async fn open_task_for(&mut self, instance_id: &str) -> Result<Option<Task>>;
    async fn list_tasks(&mut self, status: &str) -> Result<Vec<Task>>;
}

/// The SQL of [`TaskRecords`] for one backend's transaction type.
macro_rules! impl_task_records {
    ($tx:ident, $db:ty) => {
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

        const TASK_COLS: &str = "id, instance_id, step, token, role, status, outcome, note, created_at, due_at, decided_at";

        #[async_trait]
        impl TaskRecords for $tx {
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
        }
    };
}
pub(crate) use impl_task_records;
