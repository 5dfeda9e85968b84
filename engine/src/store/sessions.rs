//! The store's part of the web console (`crate::console`): users' password hashes and the
//! sessions of signed-in browsers. Sessions live in the store, not in a process, so several
//! `ordo run` processes behind one load balancer serve the same signed-in user.
//!
//! The SQL is written once in `impl_session_records!` and is valid on both backends.

use super::Result;
use async_trait::async_trait;

/// A stored session: whose, its CSRF token, and when it stops working (epoch ms, wall time).
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user_name: String,
    pub csrf: String,
    pub expires_at: i64,
}

#[async_trait]
pub trait SessionRecords: Send {
    /// Sets a user's password hash; false when there is no such user.
    async fn user_set_password(&mut self, name: &str, hash: &str, now: i64) -> Result<bool>;
    /// A user's password hash, when one was set.
    async fn user_password(&mut self, name: &str) -> Result<Option<String>>;
    /// Stores a new session under `id` (the SHA-256 of the cookie's secret).
    async fn session_insert(&mut self, id: &str, s: &SessionRow, now: i64) -> Result<()>;
    /// The session `id` when it has not expired at `now`.
    async fn session_get(&mut self, id: &str, now: i64) -> Result<Option<SessionRow>>;
    async fn session_delete(&mut self, id: &str) -> Result<()>;
    /// Deletes the sessions that expired before `now`; how many.
    async fn session_purge(&mut self, now: i64) -> Result<u64>;
}

macro_rules! impl_session_records {
    ($tx:ident, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::sessions::SessionRecords for $tx {
            async fn user_set_password(
                &mut self,
                name: &str,
                hash: &str,
                now: i64,
            ) -> $crate::store::Result<bool> {
                let r = sqlx::query(
                    "UPDATE api_users SET password_hash = $1, updated_at = $2 WHERE name = $3",
                )
                .bind(hash)
                .bind(now)
                .bind(name)
                .execute(&mut *self.tx)
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn user_password(&mut self, name: &str) -> $crate::store::Result<Option<String>> {
                let row = sqlx::query("SELECT password_hash FROM api_users WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                match row {
                    Some(r) => Ok(r.try_get("password_hash")?),
                    None => Ok(None),
                }
            }

            async fn session_insert(
                &mut self,
                id: &str,
                s: &$crate::store::sessions::SessionRow,
                now: i64,
            ) -> $crate::store::Result<()> {
                sqlx::query(
                    "INSERT INTO console_sessions (id, user_name, csrf, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(&s.user_name)
                .bind(&s.csrf)
                .bind(now)
                .bind(s.expires_at)
                .execute(&mut *self.tx)
                .await?;
                Ok(())
            }

            async fn session_get(
                &mut self,
                id: &str,
                now: i64,
            ) -> $crate::store::Result<Option<$crate::store::sessions::SessionRow>> {
                let row = sqlx::query(
                    "SELECT user_name, csrf, expires_at FROM console_sessions \
                     WHERE id = $1 AND expires_at > $2",
                )
                .bind(id)
                .bind(now)
                .fetch_optional(&mut *self.tx)
                .await?;
                row.map(|r| {
                    Ok($crate::store::sessions::SessionRow {
                        user_name: r.try_get("user_name")?,
                        csrf: r.try_get("csrf")?,
                        expires_at: r.try_get("expires_at")?,
                    })
                })
                .transpose()
            }

            async fn session_delete(&mut self, id: &str) -> $crate::store::Result<()> {
                sqlx::query("DELETE FROM console_sessions WHERE id = $1")
                    .bind(id)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn session_purge(&mut self, now: i64) -> $crate::store::Result<u64> {
                let r = sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(r.rows_affected())
            }
        }
    };
}
pub(crate) use impl_session_records;
