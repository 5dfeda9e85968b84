//! Stored workflow definitions (name, version → hash and source) and the key-value settings
//! (clock offset, installed definitions).
//!
//! The trait is part of [`super::Tx`]; its SQL is written once for both backends in `impl_definitions!`,
//! expanded for each backend's transaction type by `impl_store_tx!` (see `transaction.rs`).

use super::Result;
use async_trait::async_trait;

#[async_trait]
pub trait Definitions: Send {
    /// Stores a workflow definition; Err(Duplicate) if that version exists with other content.
    async fn put_workflow_def(
        &mut self,
        name: &str,
        version: u32,
        hash: &str,
        path: &str,
        source: &str,
        now: i64,
    ) -> Result<()>;
    /// (hash, path, source) of a stored definition.
    async fn get_workflow_def(
        &mut self,
        name: &str,
        version: u32,
    ) -> Result<Option<(String, String, String)>>;
    async fn kv_get(&mut self, key: &str) -> Result<Option<String>>;
    async fn kv_set(&mut self, key: &str, value: &str) -> Result<()>;
}

/// The SQL of [`Definitions`] for one backend's transaction type.
macro_rules! impl_definitions {
    ($tx:ident, $db:ty) => {
        #[async_trait]
        impl Definitions for $tx {
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
pub(crate) use impl_definitions;
