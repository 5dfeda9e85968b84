//! The store's part of the service surface (`crate::api`): API users and token hashes,
//! idempotency keys, and the audit trail. Every method runs in the caller's [`super::Tx`], so
//! an idempotency key and an audit record commit with the effect they describe, or not at all.
//!
//! [`ServiceTx`] is a supertrait of `Tx`: every transaction has these methods. The SQL is
//! written once in [`impl_service_tx!`] and generated for both backends (the statements are
//! valid on SQLite and PostgreSQL alike). Users and idempotency keys are never cached or
//! buffered; audit records are buffered in the transaction and written as multi-row inserts
//! with its other buffers (before a savepoint, before the commit, before the trail is read),
//! in the order they were appended.

use super::Result;
use async_trait::async_trait;

/// An API user as stored (the token's secret half only as its argon2 hash).
#[derive(Debug, Clone, serde::Serialize)]
pub struct UserRow {
    pub name: String,
    /// Roles, comma-separated as stored.
    pub roles: String,
    #[serde(skip)]
    pub token_id: String,
    #[serde(skip)]
    pub token_hash: String,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What an idempotency key recorded: the request it came with and the response given.
#[derive(Debug, Clone)]
pub struct IdempotencyRow {
    pub request_hash: String,
    pub status: u16,
    pub response: String,
    pub created_at: i64,
}

/// One audit record: who did what, through what, to what, with the values before and after.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AuditRow {
    /// Position in the trail (assigned by the store; 0 before it is written).
    pub seq: i64,
    /// Epoch milliseconds (business time).
    pub at: i64,
    /// `user:NAME` (API token), `os:NAME` (a local command) or `system`.
    pub actor: String,
    /// `api`, `cli` or `channel`.
    pub via: String,
    pub action: String,
    /// What was acted on (`task/12`, `instance/…`, `user/alice`, `order/…`).
    pub subject: String,
    /// The order concerned, when there is one (`ordo audit --order`).
    pub order_id: Option<String>,
    #[schema(value_type = Object)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub after: Option<serde_json::Value>,
}

/// Filters of the audit trail (`ordo audit`, `GET /api/v1/audit`).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub since: Option<i64>,
    pub actor: Option<String>,
    pub order_id: Option<String>,
    /// Records after this position (paging).
    pub after_seq: i64,
    pub limit: i64,
}

#[async_trait]
pub trait ServiceTx: Send {
    /// Inserts a user; false when the name (or, vanishingly unlikely, the token id) exists.
    async fn user_insert(&mut self, user: &UserRow) -> Result<bool>;
    async fn user_get(&mut self, name: &str) -> Result<Option<UserRow>>;
    async fn user_by_token_id(&mut self, token_id: &str) -> Result<Option<UserRow>>;
    async fn user_list(&mut self) -> Result<Vec<UserRow>>;
    /// Sets the disabled flag; false when there is no such user.
    async fn user_set_disabled(&mut self, name: &str, disabled: bool, now: i64) -> Result<bool>;
    /// Replaces the token; false when there is no such user.
    async fn user_set_token(
        &mut self,
        name: &str,
        token_id: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<bool>;

    /// Claims (owner, key) for a request; `None` when claimed now (the caller then does the
    /// work and [`ServiceTx::idem_finish`]es it in the same transaction), else what the key
    /// recorded before. The primary key decides: on PostgreSQL a concurrent claimer of the
    /// same key waits for the first transaction and then sees its row.
    async fn idem_claim(
        &mut self,
        owner: &str,
        key: &str,
        request_hash: &str,
        now: i64,
    ) -> Result<Option<IdempotencyRow>>;
    /// Records the response of a claimed key.
    async fn idem_finish(
        &mut self,
        owner: &str,
        key: &str,
        status: u16,
        response: &str,
    ) -> Result<()>;
    /// Forgets one expired key (before it is claimed again).
    async fn idem_forget(&mut self, owner: &str, key: &str) -> Result<()>;
    /// Deletes keys created before `before`; how many.
    async fn idem_purge(&mut self, before: i64) -> Result<u64>;

    /// Appends an audit record (buffered: see the module docs; its `seq` is ignored, the store
    /// assigns positions in append order).
    async fn audit_append(&mut self, rec: AuditRow) -> Result<()>;
    async fn audit_list(&mut self, filter: &AuditFilter) -> Result<Vec<AuditRow>>;

    /// Tasks with status 'open' counted, failed instances counted, for metrics: (open tasks,
    /// unsent outbound rows).
    async fn service_counts(&mut self) -> Result<(i64, i64)>;
}

macro_rules! impl_service_tx {
    ($tx:ident, $db:ty) => {
        impl $tx {
            /// Writes the buffered audit records, in append order (multi-row inserts; the
            /// store's sequence numbers them in that order).
            async fn flush_audit(&mut self) -> $crate::store::Result<()> {
                let adds = std::mem::take(&mut self.audit_adds);
                for chunk in adds.chunks(100) {
                    let sql = values_sql(
                        "INSERT INTO audit (at, actor, via, action, subject, order_id, before, after)",
                        chunk.len(),
                        8,
                        "",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for a in chunk {
                        q = q
                            .bind(a.at)
                            .bind(a.actor.as_str())
                            .bind(a.via.as_str())
                            .bind(a.action.as_str())
                            .bind(a.subject.as_str())
                            .bind(a.order_id.as_deref())
                            .bind(a.before.as_ref().map(json_text))
                            .bind(a.after.as_ref().map(json_text));
                    }
                    q.execute(&mut *self.tx).await?;
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::service::ServiceTx for $tx {
            async fn user_insert(
                &mut self,
                u: &$crate::store::service::UserRow,
            ) -> $crate::store::Result<bool> {
                let r = sqlx::query(
                    "INSERT INTO api_users (name, roles, token_id, token_hash, disabled, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                )
                .bind(&u.name)
                .bind(&u.roles)
                .bind(&u.token_id)
                .bind(&u.token_hash)
                .bind(i64::from(u.disabled))
                .bind(u.created_at)
                .bind(u.updated_at)
                .execute(&mut *self.tx)
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn user_get(
                &mut self,
                name: &str,
            ) -> $crate::store::Result<Option<$crate::store::service::UserRow>> {
                self.user_where("name", name).await
            }

            async fn user_by_token_id(
                &mut self,
                token_id: &str,
            ) -> $crate::store::Result<Option<$crate::store::service::UserRow>> {
                self.user_where("token_id", token_id).await
            }

            async fn user_list(
                &mut self,
            ) -> $crate::store::Result<Vec<$crate::store::service::UserRow>> {
                let rows = sqlx::query(
                    "SELECT name, roles, token_id, token_hash, disabled, created_at, updated_at FROM api_users ORDER BY name",
                )
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter().map(user_row).collect()
            }

            async fn user_set_disabled(
                &mut self,
                name: &str,
                disabled: bool,
                now: i64,
            ) -> $crate::store::Result<bool> {
                let r = sqlx::query("UPDATE api_users SET disabled = $1, updated_at = $2 WHERE name = $3")
                    .bind(i64::from(disabled))
                    .bind(now)
                    .bind(name)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn user_set_token(
                &mut self,
                name: &str,
                token_id: &str,
                token_hash: &str,
                now: i64,
            ) -> $crate::store::Result<bool> {
                let r = sqlx::query(
                    "UPDATE api_users SET token_id = $1, token_hash = $2, updated_at = $3 WHERE name = $4",
                )
                .bind(token_id)
                .bind(token_hash)
                .bind(now)
                .bind(name)
                .execute(&mut *self.tx)
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn idem_claim(
                &mut self,
                owner: &str,
                key: &str,
                request_hash: &str,
                now: i64,
            ) -> $crate::store::Result<Option<$crate::store::service::IdempotencyRow>> {
                // status 0: claimed, no response yet (only ever seen inside its own transaction)
                let claimed = sqlx::query(
                    "INSERT INTO api_idempotency (owner, key, request_hash, status, response, created_at) \
                     VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT DO NOTHING RETURNING owner",
                )
                .bind(owner)
                .bind(key)
                .bind(request_hash)
                .bind(now)
                .fetch_optional(&mut *self.tx)
                .await?;
                if claimed.is_some() {
                    return Ok(None);
                }
                let r = sqlx::query(
                    "SELECT request_hash, status, response, created_at FROM api_idempotency WHERE owner = $1 AND key = $2",
                )
                .bind(owner)
                .bind(key)
                .fetch_one(&mut *self.tx)
                .await?;
                let status: i64 = r.try_get("status")?;
                Ok(Some($crate::store::service::IdempotencyRow {
                    request_hash: r.try_get("request_hash")?,
                    status: u16::try_from(status).map_err(|_| {
                        StoreError::Corrupt(format!("idempotency status {status}"))
                    })?,
                    response: r.try_get("response")?,
                    created_at: r.try_get("created_at")?,
                }))
            }

            async fn idem_finish(
                &mut self,
                owner: &str,
                key: &str,
                status: u16,
                response: &str,
            ) -> $crate::store::Result<()> {
                sqlx::query("UPDATE api_idempotency SET status = $1, response = $2 WHERE owner = $3 AND key = $4")
                    .bind(i64::from(status))
                    .bind(response)
                    .bind(owner)
                    .bind(key)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn idem_forget(&mut self, owner: &str, key: &str) -> $crate::store::Result<()> {
                sqlx::query("DELETE FROM api_idempotency WHERE owner = $1 AND key = $2")
                    .bind(owner)
                    .bind(key)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(())
            }

            async fn idem_purge(&mut self, before: i64) -> $crate::store::Result<u64> {
                let r = sqlx::query("DELETE FROM api_idempotency WHERE created_at < $1")
                    .bind(before)
                    .execute(&mut *self.tx)
                    .await?;
                Ok(r.rows_affected())
            }

            async fn audit_append(
                &mut self,
                a: $crate::store::service::AuditRow,
            ) -> $crate::store::Result<()> {
                self.audit_adds.push(a);
                Ok(())
            }

            async fn audit_list(
                &mut self,
                f: &$crate::store::service::AuditFilter,
            ) -> $crate::store::Result<Vec<$crate::store::service::AuditRow>> {
                self.flush_audit().await?;
                let rows = sqlx::query(
                    "SELECT seq, at, actor, via, action, subject, order_id, before, after FROM audit \
                     WHERE seq > $1 AND at >= $2 AND ($3 = '' OR actor = $3) AND ($4 = '' OR order_id = $4) \
                     ORDER BY seq LIMIT $5",
                )
                .bind(f.after_seq)
                .bind(f.since.unwrap_or(i64::MIN))
                .bind(f.actor.as_deref().unwrap_or(""))
                .bind(f.order_id.as_deref().unwrap_or(""))
                .bind(f.limit)
                .fetch_all(&mut *self.tx)
                .await?;
                let opt_json = |s: Option<String>| s.map(|t| parse_json(&t)).transpose();
                rows.iter()
                    .map(|r| {
                        Ok($crate::store::service::AuditRow {
                            seq: r.try_get("seq")?,
                            at: r.try_get("at")?,
                            actor: r.try_get("actor")?,
                            via: r.try_get("via")?,
                            action: r.try_get("action")?,
                            subject: r.try_get("subject")?,
                            order_id: r.try_get("order_id")?,
                            before: opt_json(r.try_get("before")?)?,
                            after: opt_json(r.try_get("after")?)?,
                        })
                    })
                    .collect()
            }

            async fn service_counts(&mut self) -> $crate::store::Result<(i64, i64)> {
                let r = sqlx::query(
                    "SELECT (SELECT COUNT(*) FROM tasks WHERE status = 'open') AS tasks, \
                     (SELECT COUNT(*) FROM outbound WHERE sent_at IS NULL) AS outbound",
                )
                .fetch_one(&mut *self.tx)
                .await?;
                Ok((r.try_get("tasks")?, r.try_get("outbound")?))
            }
        }

        impl $tx {
            /// The user whose `column` (name or token_id, both unique) is `value`.
            async fn user_where(
                &mut self,
                column: &'static str,
                value: &str,
            ) -> $crate::store::Result<Option<$crate::store::service::UserRow>> {
                let sql = format!(
                    "SELECT name, roles, token_id, token_hash, disabled, created_at, updated_at FROM api_users WHERE {column} = $1"
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(value)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                row.map(|r| user_row(&r)).transpose()
            }
        }

        fn user_row(
            r: &<$db as sqlx::Database>::Row,
        ) -> $crate::store::Result<$crate::store::service::UserRow> {
            let disabled: i64 = r.try_get("disabled")?;
            Ok($crate::store::service::UserRow {
                name: r.try_get("name")?,
                roles: r.try_get("roles")?,
                token_id: r.try_get("token_id")?,
                token_hash: r.try_get("token_hash")?,
                disabled: disabled != 0,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }
    };
}
pub(crate) use impl_service_tx;
