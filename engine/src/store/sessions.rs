//! The store's part of the web console (`crate::console`): users' password hashes and the
//! sessions of signed-in browsers, and the indexed reads behind its long lists. Sessions live
//! in the store, not in a process, so several `ordo run` processes behind one load balancer
//! serve the same signed-in user.
//!
//! The list reads (order search, an invoice's or interchange's owner, a partner's files and
//! interchanges) filter and sort on JSON fields through the expression indexes of migration
//! 0027; each backend writes a field's expression with its own `json_at`/`json_num`
//! (store/sqlite.rs, store/postgres.rs), exactly as its migration indexes it, so the index is
//! used. The rest of the SQL is written once in `impl_session_records!`.

use super::Result;
use async_trait::async_trait;

/// A stored session: whose, its CSRF token, and when it stops working (epoch ms, wall time).
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub user_name: String,
    pub csrf: String,
    pub expires_at: i64,
}

/// The order search's filters applied in SQL (the API's `GET /api/v1/orders`): each through
/// an index of migration 0027. The caller checks every row it gets again, exactly (amounts
/// are compared here as floating point, widened by a cent).
#[derive(Debug, Default, Clone)]
pub struct OrderFilter {
    pub customer: Option<String>,
    /// Order dates, `YYYY-MM-DD`, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    /// The state of the order's instance.
    pub status: Option<String>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// A partner's received file as its lists show it (no raw bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct EdiFileRow {
    pub id: String,
    pub name: Option<String>,
    pub received_at: Option<String>,
    /// The `outcome` object of the record (verdicts, orders, problems).
    pub outcome: serde_json::Value,
}

/// A JSON field path (or a document kind) as the list reads take it: `a.b`, lower-case
/// letters and `_` (it is written into the SQL, so it never comes from outside).
pub(crate) fn checked_path(path: &str) -> Result<&str> {
    if !path.is_empty()
        && path
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    {
        Ok(path)
    } else {
        Err(super::StoreError::Corrupt(format!(
            "not a field path: {path:?}"
        )))
    }
}

/// The index a bulk read by a JSON field goes through ([`SessionRecords::documents_where_in`],
/// [`SessionRecords::documents_between`]): only these fields are read so, and SQLite is told
/// the index (`INDEXED BY`), since without statistics its planner prefers the primary key's
/// `kind` prefix and reads every document of the kind (EXPLAIN QUERY PLAN shows it).
pub(crate) fn field_index(kind: &str, path: &str) -> Result<&'static str> {
    match (kind, path) {
        ("order", "order_date") => Ok("documents_order_date"),
        ("invoice", "order_id") => Ok("documents_invoice_order"),
        ("shipment", "order_id") => Ok("documents_shipment_order"),
        _ => Err(super::StoreError::Corrupt(format!(
            "no index on the {kind} field {path:?}"
        ))),
    }
}

#[async_trait]
pub trait SessionRecords: Send {
    /// Order documents after `after_id` in id order (id, stored text), at most `limit`, that
    /// pass `f` as far as SQL can tell.
    async fn order_docs_matching(
        &mut self,
        after_id: &str,
        limit: i64,
        f: &OrderFilter,
    ) -> Result<Vec<(String, String)>>;
    /// Documents of `kind` whose JSON field `path` is `value`, by id, at most `limit`: fast
    /// for the fields migration 0027 indexes (an invoice's or order's `customer_id`, an
    /// interchange sent's `order_id`).
    async fn documents_where(
        &mut self,
        kind: &str,
        path: &str,
        value: &str,
        limit: i64,
    ) -> Result<Vec<(String, serde_json::Value)>>;
    /// Documents of `kind` whose JSON field `path` is one of `values`, by id: fast for the
    /// fields migration 0041 indexes (an invoice's or a shipment's `order_id`).
    async fn documents_where_in(
        &mut self,
        kind: &str,
        path: &str,
        values: &[String],
    ) -> Result<Vec<(String, serde_json::Value)>>;
    /// (id, value of `path`) of the documents of `kind` whose JSON field `path` is one of
    /// `values`, by id: read from the index alone (it holds both), no document parsed.
    async fn ids_where_in(
        &mut self,
        kind: &str,
        path: &str,
        values: &[String],
    ) -> Result<Vec<(String, String)>>;
    /// Documents of `kind` whose JSON field `path` lies in `[from, to]` compared as text, by
    /// id: fast for an order's `order_date` (migration 0027), ISO dates sorting as text.
    async fn documents_between(
        &mut self,
        kind: &str,
        path: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<(String, serde_json::Value)>>;
    /// The received files recorded for `partner` (`None`: the records from before a file's
    /// partner was kept), newest first, `offset`/`limit`; only those in quarantine when asked.
    async fn edi_files_of(
        &mut self,
        partner: Option<&str>,
        quarantined: bool,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<EdiFileRow>>;
    /// The invoice documents that are not closed (status neither `paid` nor `cancelled`), by
    /// id, through the partial index of migration 0027: what receivables aging reads.
    async fn unclosed_invoices(&mut self) -> Result<Vec<(String, serde_json::Value)>>;
    /// How many received files `partner` has: (all, in quarantine).
    async fn edi_file_counts(&mut self, partner: &str) -> Result<(i64, i64)>;
    /// The interchanges sent to `partner`, highest control number first, `offset`/`limit`,
    /// and how many there are.
    async fn edi_sent_of(
        &mut self,
        partner: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<serde_json::Value>, i64)>;
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
            async fn order_docs_matching(
                &mut self,
                after_id: &str,
                limit: i64,
                f: &$crate::store::sessions::OrderFilter,
            ) -> $crate::store::Result<Vec<(String, String)>> {
                // The SQLite transaction buffers document writes; what it reads here is what
                // others committed, which is all a read-only request needs.
                let mut sql = String::from(
                    "SELECT id, body FROM documents WHERE kind = 'order' AND id > $1",
                );
                let mut n = 2;
                let mut texts: Vec<&str> = Vec::new();
                let mut nums: Vec<f64> = Vec::new();
                if let Some(c) = &f.customer {
                    sql += &format!(" AND {} = ${n}", json_at("body", "customer_id"));
                    n += 1;
                    texts.push(c);
                }
                let date = json_at("body", "order_date");
                if let Some(d) = &f.from {
                    sql += &format!(" AND {date} >= ${n}");
                    n += 1;
                    texts.push(d);
                }
                if let Some(d) = &f.to {
                    sql += &format!(" AND {date} <= ${n}");
                    n += 1;
                    texts.push(d);
                }
                if let Some(s) = &f.status {
                    sql += &format!(
                        " AND id IN (SELECT business_key FROM instances WHERE status = ${n})"
                    );
                    n += 1;
                    texts.push(s);
                }
                if f.min.is_some() || f.max.is_some() {
                    // widened by a cent: floating point only narrows, the caller decides
                    let total = json_num("data", "pricing.total");
                    let lo = f.min.map(|m| m - 0.01).unwrap_or(f64::MIN);
                    let hi = f.max.map(|m| m + 0.01).unwrap_or(f64::MAX);
                    sql += &format!(
                        " AND id IN (SELECT business_key FROM instances WHERE {total} >= ${} AND {total} <= ${})",
                        n,
                        n + 1
                    );
                    nums.push(lo);
                    nums.push(hi);
                }
                sql += " ORDER BY id LIMIT ";
                sql += &limit.to_string();
                let mut q = sqlx::query(AssertSqlSafe(sql)).bind(after_id);
                for t in texts {
                    q = q.bind(t);
                }
                for x in nums {
                    q = q.bind(x);
                }
                let rows = q.fetch_all(&mut *self.tx).await?;
                rows.iter()
                    .map(|r| Ok((r.try_get("id")?, r.try_get("body")?)))
                    .collect()
            }

            async fn documents_where_in(
                &mut self,
                kind: &str,
                path: &str,
                values: &[String],
            ) -> $crate::store::Result<Vec<(String, Value)>> {
                self.flush_writes().await?;
                let index = indexed_by($crate::store::sessions::field_index(kind, path)?);
                // the kind as a literal, for the partial index (see `documents_where`)
                let mut out = Vec::new();
                for chunk in values.chunks(300) {
                    let sql = in_list_sql(
                        &format!("SELECT id, body FROM documents{index} WHERE kind = '{kind}' AND {} IN", json_at("body", path)),
                        chunk.len(),
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for v in chunk {
                        q = q.bind(v.as_str());
                    }
                    for r in q.fetch_all(&mut *self.tx).await? {
                        out.push((r.try_get("id")?, parse_json(r.try_get::<&str, _>("body")?)?));
                    }
                }
                out.sort_by(|a: &(String, Value), b| a.0.cmp(&b.0));
                out.dedup_by(|a, b| a.0 == b.0);
                Ok(out)
            }

            async fn ids_where_in(
                &mut self,
                kind: &str,
                path: &str,
                values: &[String],
            ) -> $crate::store::Result<Vec<(String, String)>> {
                self.flush_writes().await?;
                let index = indexed_by($crate::store::sessions::field_index(kind, path)?);
                let at = json_at("body", path);
                let mut out = Vec::new();
                for chunk in values.chunks(300) {
                    let sql = in_list_sql(&format!("SELECT id, {at} AS v FROM documents{index} WHERE kind = '{kind}' AND {at} IN"), chunk.len());
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for v in chunk {
                        q = q.bind(v.as_str());
                    }
                    for r in q.fetch_all(&mut *self.tx).await? {
                        out.push((r.try_get("id")?, r.try_get("v")?));
                    }
                }
                out.sort();
                out.dedup();
                Ok(out)
            }

            async fn documents_between(
                &mut self,
                kind: &str,
                path: &str,
                from: &str,
                to: &str,
            ) -> $crate::store::Result<Vec<(String, Value)>> {
                self.flush_writes().await?;
                let index = indexed_by($crate::store::sessions::field_index(kind, path)?);
                let at = json_at("body", path);
                let sql = format!("SELECT id, body FROM documents{index} WHERE kind = '{kind}' AND {at} >= $1 AND {at} <= $2");
                let rows = sqlx::query(AssertSqlSafe(sql)).bind(from).bind(to).fetch_all(&mut *self.tx).await?;
                let mut out = rows
                    .iter()
                    .map(|r| Ok((r.try_get("id")?, parse_json(r.try_get::<&str, _>("body")?)?)))
                    .collect::<$crate::store::Result<Vec<(String, Value)>>>()?;
                out.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(out)
            }

            async fn documents_where(
                &mut self,
                kind: &str,
                path: &str,
                value: &str,
                limit: i64,
            ) -> $crate::store::Result<Vec<(String, Value)>> {
                self.flush_writes().await?;
                let path = $crate::store::sessions::checked_path(path)?;
                // the kind as a literal: a partial index (`WHERE kind = 'invoice'`) is only
                // used when the query names its kind, not a parameter
                let kind = $crate::store::sessions::checked_path(kind)?;
                let sql = format!(
                    "SELECT id, body FROM documents WHERE kind = '{kind}' AND {} = $1 ORDER BY id LIMIT {limit}",
                    json_at("body", path)
                );
                let rows = sqlx::query(AssertSqlSafe(sql))
                    .bind(value)
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter()
                    .map(|r| Ok((r.try_get("id")?, parse_json(r.try_get::<&str, _>("body")?)?)))
                    .collect()
            }

            async fn edi_files_of(
                &mut self,
                partner: Option<&str>,
                quarantined: bool,
                offset: i64,
                limit: i64,
            ) -> $crate::store::Result<Vec<$crate::store::sessions::EdiFileRow>> {
                self.flush_writes().await?;
                let who = json_at("body", "partner");
                let at = json_at("body", "received_at");
                let index = if quarantined {
                    "documents_edi_file_quarantine"
                } else {
                    "documents_edi_file_partner"
                };
                let mut sql = format!(
                    "SELECT id, {} AS name, {at} AS received_at, {} AS outcome FROM documents{} \
                     WHERE kind = 'edi_file' AND {who} {}",
                    json_at("body", "name"),
                    json_at("body", "outcome"),
                    indexed_by(index),
                    if partner.is_some() { "= $1" } else { "IS NULL" },
                );
                if quarantined {
                    sql += " AND ";
                    sql += EDI_QUARANTINED;
                }
                // by the index's second column alone: the first is one value here
                sql += &format!(" ORDER BY {at} DESC LIMIT {limit} OFFSET {offset}");
                let mut q = sqlx::query(AssertSqlSafe(sql));
                if let Some(p) = partner {
                    q = q.bind(p);
                }
                let rows = q.fetch_all(&mut *self.tx).await?;
                rows.iter()
                    .map(|r| {
                        let outcome: Option<String> = r.try_get("outcome")?;
                        Ok($crate::store::sessions::EdiFileRow {
                            id: r.try_get("id")?,
                            name: r.try_get("name")?,
                            received_at: r.try_get("received_at")?,
                            outcome: match outcome {
                                Some(t) => parse_json(&t)?,
                                None => Value::Null,
                            },
                        })
                    })
                    .collect()
            }

            async fn unclosed_invoices(&mut self) -> $crate::store::Result<Vec<(String, Value)>> {
                self.flush_writes().await?;
                let status = json_at("body", "status");
                let sql = format!(
                    "SELECT id, body FROM documents{} WHERE kind = 'invoice' \
                     AND ({status} IS NULL OR {status} NOT IN ('paid', 'cancelled')) ORDER BY id",
                    indexed_by("documents_invoice_unclosed")
                );
                let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut *self.tx).await?;
                rows.iter()
                    .map(|r| Ok((r.try_get("id")?, parse_json(r.try_get::<&str, _>("body")?)?)))
                    .collect()
            }

            async fn edi_file_counts(&mut self, partner: &str) -> $crate::store::Result<(i64, i64)> {
                self.flush_writes().await?;
                let who = json_at("body", "partner");
                let all = format!("SELECT count(*) AS n FROM documents WHERE kind = 'edi_file' AND {who} = $1");
                let quarantined = format!("{all} AND {EDI_QUARANTINED}");
                let mut out = [0i64; 2];
                for (i, sql) in [all, quarantined].into_iter().enumerate() {
                    out[i] = sqlx::query(AssertSqlSafe(sql))
                        .bind(partner)
                        .fetch_one(&mut *self.tx)
                        .await?
                        .try_get("n")?;
                }
                Ok((out[0], out[1]))
            }

            async fn edi_sent_of(
                &mut self,
                partner: &str,
                offset: i64,
                limit: i64,
            ) -> $crate::store::Result<(Vec<Value>, i64)> {
                self.flush_writes().await?;
                let who = json_at("body", "partner");
                let count = format!("SELECT count(*) AS n FROM documents WHERE kind = 'edi_sent' AND {who} = $1");
                let n: i64 = sqlx::query(AssertSqlSafe(count))
                    .bind(partner)
                    .fetch_one(&mut *self.tx)
                    .await?
                    .try_get("n")?;
                let sql = format!(
                    "SELECT body FROM documents WHERE kind = 'edi_sent' AND {who} = $1 \
                     ORDER BY {} DESC LIMIT {limit} OFFSET {offset}",
                    json_num("body", "control_number")
                );
                let rows = sqlx::query(AssertSqlSafe(sql))
                    .bind(partner)
                    .fetch_all(&mut *self.tx)
                    .await?;
                let docs = rows
                    .iter()
                    .map(|r| parse_json(r.try_get::<&str, _>("body")?))
                    .collect::<$crate::store::Result<Vec<Value>>>()?;
                Ok((docs, n))
            }

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
