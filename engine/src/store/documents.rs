//! Business documents (orders, invoices, customers, …) by (kind, id), the connectors' data.
//! A transaction buffers its writes (one multi-row upsert per few hundred documents, in (kind,
//! id) order), reads them back from the buffer and keeps what it read until it ends; with
//! `CACHE_READS` (SQLite) it also offers the committed texts to the store's shared cache
//! (`SharedDocs`).
//!
//! The trait is part of [`super::Tx`]; its SQL is written once for both backends in `impl_document_records!`,
//! expanded for each backend's transaction type by `impl_store_tx!` (see `transaction.rs`).

use super::{Result, parse_json};
use async_trait::async_trait;
use serde_json::Value;

#[async_trait]
pub trait DocumentRecords: Send {
    async fn get_document(&mut self, kind: &str, id: &str) -> Result<Option<Value>>;
    async fn put_document(&mut self, kind: &str, id: &str, body: &Value, now: i64) -> Result<()> {
        self.put_document_text(kind, id, super::json_text(body), now)
            .await
    }
    /// [`DocumentRecords::put_document`] of the document's JSON text (an object; the caller
    /// serialised it, e.g. a large typed document without building a JSON tree).
    async fn put_document_text(
        &mut self,
        kind: &str,
        id: &str,
        text: String,
        now: i64,
    ) -> Result<()>;
    /// Inserts the document unless (kind, id) exists; then writes nothing and returns the
    /// existing body. The unique key decides: on PostgreSQL a second claimer of a key another
    /// transaction claimed waits for it to commit, then sees the conflict (or wins, if it rolled
    /// back); SQLite has one writer, so the claim reads this transaction's buffered writes and
    /// buffers its insert like `put_document`.
    async fn claim_document(
        &mut self,
        kind: &str,
        id: &str,
        body: &Value,
        now: i64,
    ) -> Result<Option<Value>>;
    /// Reads the documents `ids` of `kind` that this transaction has not seen yet, found or
    /// not, in a few queries, so the `get_document`s and `claim_document`s that follow answer
    /// from the transaction's cache (a batch of orders checks its ids once, not once each). Only
    /// where the transaction caches reads (SQLite, see `CACHE_READS`); elsewhere nothing.
    async fn prefetch_documents(&mut self, kind: &str, ids: &[&str]) -> Result<()>;
    async fn list_documents(&mut self, kind: &str, prefix: &str) -> Result<Vec<String>>;
    /// The documents of `kind` among `ids` that exist, by id, a few hundred ids per query.
    async fn get_documents_by_id(
        &mut self,
        kind: &str,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Value>>;
    /// The documents [`DocumentRecords::list_documents`] lists, with their bodies, in one query.
    async fn get_documents(&mut self, kind: &str, prefix: &str) -> Result<Vec<(String, Value)>> {
        let mut out = Vec::new();
        for (id, text) in self.get_documents_text(kind, prefix).await? {
            out.push((id, parse_json(&text)?));
        }
        Ok(out)
    }
    /// [`DocumentRecords::get_documents`] as stored JSON text, for a reader that wants a few fields of many
    /// documents without building each whole one.
    async fn get_documents_text(
        &mut self,
        kind: &str,
        prefix: &str,
    ) -> Result<Vec<(String, String)>>;
    async fn count_documents(&mut self, kind: &str) -> Result<i64>;
}

/// The SQL of [`DocumentRecords`] for one backend's transaction type.
macro_rules! impl_document_records {
    ($tx:ident, $db:ty) => {
        impl $tx {
            /// Keeps a document's text for the shared cache at commit (see `publish_bytes`).
            fn offer_publish(&mut self, key: (String, String), text: std::sync::Arc<str>) {
                if self.publish_full {
                    self.evict.insert(key);
                    return;
                }
                self.publish_bytes += text.len();
                if let Some(old) = self.publish.insert(key, text) {
                    self.publish_bytes -= old.len();
                }
                if self.publish_bytes > $crate::store::SharedDocs::MAX_BYTES {
                    self.publish_full = true;
                    self.forget_published();
                }
            }

            /// Turns every text this transaction would publish into an eviction.
            fn forget_published(&mut self) {
                self.publish_bytes = 0;
                let keys: Vec<(String, String)> = self.publish.drain().map(|(k, _)| k).collect();
                self.evict.extend(keys);
            }

            /// Writes the buffered documents (the last write of each wins) and offers their texts
            /// to the shared cache.
            async fn flush_documents(&mut self) -> Result<()> {
                let docs = std::mem::take(&mut self.doc_writes);
                // The last write of each document wins. Rows go in (kind, id) order, so two
                // transactions flushing the same documents lock them in the same order.
                let mut rows: Vec<usize> = std::mem::take(&mut self.doc_written).into_values().collect();
                rows.sort_unstable_by(|a, b| (&docs[*a].0, &docs[*a].1).cmp(&(&docs[*b].0, &docs[*b].1)));
                for chunk in rows.chunks(200) {
                    let sql = values_sql(
                        "INSERT INTO documents (kind, id, body, updated_at)",
                        chunk.len(),
                        4,
                        " ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for n in chunk {
                        let (kind, id, body, at) = &docs[*n];
                        q = q.bind(kind.as_str()).bind(id.as_str()).bind(body.as_str()).bind(*at);
                    }
                    q.execute(&mut *self.tx).await?;
                }
                // The open-items index follows every invoice written (store/openitems.rs).
                let invoices: Vec<(&str, &str)> = rows
                    .iter()
                    .map(|n| &docs[*n])
                    .filter(|d| d.0 == "invoice")
                    .map(|d| (d.1.as_str(), d.2.as_str()))
                    .collect();
                if !invoices.is_empty() {
                    self.write_open_items(&invoices).await?;
                }
                // The sales aggregates count each invoice and credit note once (store/sales.rs).
                let sales: Vec<$crate::store::sales::DocText<'_>> = rows
                    .iter()
                    .map(|n| &docs[*n])
                    .filter(|d| $crate::store::sales::KINDS.contains(&d.0.as_str()))
                    .map(|d| (d.0.as_str(), d.1.as_str(), d.2.as_str()))
                    .collect();
                if !sales.is_empty() {
                    self.count_sales_docs(&sales).await?;
                }
                if self.shared.is_some() {
                    let mut docs = docs;
                    for n in rows {
                        let (kind, id, body, _) = std::mem::take(&mut docs[n]);
                        self.offer_publish((kind, id), std::sync::Arc::from(body));
                    }
                }
                Ok(())
            }
        }

        #[async_trait]
        impl DocumentRecords for $tx {
            async fn get_document(&mut self, kind: &str, id: &str) -> Result<Option<Value>> {
                let key = (kind.to_string(), id.to_string());
                if let Some(v) = self.documents.get(&key) {
                    return Ok(v.clone());
                }
                // Written by this transaction and not flushed yet (both backends).
                if let Some(&n) = self.doc_written.get(&key) {
                    let body = parse_json(&self.doc_writes[n].2)?;
                    self.documents.insert(key, Some(body.clone()));
                    return Ok(Some(body));
                }
                if CACHE_READS {
                    // Written by this transaction and already flushed, else as committed.
                    let text = match self.publish.get(&key) {
                        Some(t) => Some(t.clone()),
                        None if self.evict.contains(&key) => None,
                        None => self.shared.as_ref().and_then(|c| c.lock().unwrap_or_else(|e| e.into_inner()).get(&key)),
                    };
                    if let Some(text) = text {
                        let body = parse_json(&text)?;
                        self.bound_caches().await?;
                        self.documents.insert(key, Some(body.clone()));
                        return Ok(Some(body));
                    }
                }
                let row = sqlx::query("SELECT body FROM documents WHERE kind = $1 AND id = $2")
                    .bind(kind)
                    .bind(id)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                let body = match row {
                    None => None,
                    Some(r) => {
                        let text = r.try_get::<&str, _>("body")?;
                        if self.shared.is_some() {
                            self.offer_publish((kind.to_string(), id.to_string()), std::sync::Arc::from(text));
                        }
                        Some(parse_json(text)?)
                    }
                };
                // Kept for the rest of the transaction on both backends. On PostgreSQL that
                // answers a second read from the first (READ COMMITTED promises nothing across
                // statements, so it is as if the second read came at once): a batch of steps
                // reads the customer, items and order once, not once per step. Whoever must see
                // other transactions' commits locks (stock, series) or claims (`claim_document`).
                self.bound_caches().await?;
                self.documents.insert((kind.to_string(), id.to_string()), body.clone());
                Ok(body)
            }

            async fn put_document_text(&mut self, kind: &str, id: &str, text: String, now: i64) -> Result<()> {
                // Buffered on both backends; `flush_documents` writes them in key order and
                // keeps the open-items index with them (store/openitems.rs).
                self.bound_caches().await?;
                let key = (kind.to_string(), id.to_string());
                self.documents.remove(&key);
                self.doc_written.insert(key, self.doc_writes.len());
                self.doc_writes.push((kind.to_string(), id.to_string(), text, now));
                Ok(())
            }

            async fn claim_document(&mut self, kind: &str, id: &str, body: &Value, now: i64) -> Result<Option<Value>> {
                if CACHE_READS {
                    // The only writer (`BEGIN IMMEDIATE`): what this transaction sees, its
                    // buffered writes included, is what the database will hold at commit.
                    if let Some(existing) = self.get_document(kind, id).await? {
                        return Ok(Some(existing));
                    }
                    self.put_document(kind, id, body, now).await?;
                    return Ok(None);
                }
                // This transaction's own buffered write of the key is the existing document.
                let key = (kind.to_string(), id.to_string());
                if let Some(&n) = self.doc_written.get(&key) {
                    return Ok(Some(parse_json(&self.doc_writes[n].2)?));
                }
                // A read cached before is no answer here (another transaction may have
                // committed the key since), and whatever the claim finds replaces it.
                self.documents.remove(&key);
                // READ COMMITTED: the insert waits on an uncommitted row of the same key; the
                // SELECT after a conflict is a new snapshot and sees the committed winner. A
                // winner deleted in between (no path deletes these today) means try again.
                for _ in 0..3 {
                    let won = sqlx::query(
                        "INSERT INTO documents (kind, id, body, updated_at) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (kind, id) DO NOTHING RETURNING id",
                    )
                    .bind(kind)
                    .bind(id)
                    .bind(json_text(body))
                    .bind(now)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                    if won.is_some() {
                        if kind == "invoice" {
                            self.write_open_items(&[(id, json_text(body).as_str())]).await?;
                        }
                        if $crate::store::sales::KINDS.contains(&kind) {
                            self.sales_pending.push((kind.to_string(), id.to_string(), json_text(body)));
                        }
                        return Ok(None);
                    }
                    let row = sqlx::query("SELECT body FROM documents WHERE kind = $1 AND id = $2")
                        .bind(kind)
                        .bind(id)
                        .fetch_optional(&mut *self.tx)
                        .await?;
                    if let Some(r) = row {
                        return Ok(Some(parse_json(r.try_get::<&str, _>("body")?)?));
                    }
                }
                Err(StoreError::Corrupt(format!("document {kind} '{id}' keeps vanishing while claimed")))
            }

            async fn list_documents(&mut self, kind: &str, prefix: &str) -> Result<Vec<String>> {
                self.flush_writes().await?;
                // Prefix match without LIKE so `_`/`%` in ids are literal: [prefix, prefix + U+10FFFF).
                let upper = format!("{prefix}\u{10FFFF}");
                let rows = sqlx::query("SELECT id FROM documents WHERE kind = $1 AND id >= $2 AND id < $3 ORDER BY id")
                    .bind(kind)
                    .bind(prefix)
                    .bind(upper)
                    .fetch_all(&mut *self.tx)
                    .await?;
                rows.iter().map(|r| r.try_get::<String, _>("id").map_err(StoreError::from)).collect()
            }

            async fn prefetch_documents(&mut self, kind: &str, ids: &[&str]) -> Result<()> {
                if !CACHE_READS {
                    return Ok(());
                }
                // Flushed first, so the database answers for every id not in the cache.
                self.flush_writes().await?;
                let mut ids: Vec<&str> = ids
                    .iter()
                    .copied()
                    .filter(|id| !self.documents.contains_key(&(kind.to_string(), id.to_string())))
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                for chunk in ids.chunks(300) {
                    self.bound_caches().await?;
                    // The kind is the last parameter: SQLite's `?` are positional.
                    let mut sql = in_list_sql("SELECT id, body FROM documents WHERE id IN", chunk.len());
                    sql.push_str(&format!(" AND kind = {}", param(chunk.len() + 1)));
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    let mut found = std::collections::HashMap::new();
                    for r in q.bind(kind).fetch_all(&mut *self.tx).await? {
                        let text = r.try_get::<&str, _>("body")?;
                        let body = parse_json(text)?;
                        let id = r.try_get::<String, _>("id")?;
                        if self.shared.is_some() {
                            self.offer_publish((kind.to_string(), id.clone()), std::sync::Arc::from(text));
                        }
                        found.insert(id, body);
                    }
                    for id in chunk {
                        let body = found.remove(*id);
                        self.documents.insert((kind.to_string(), id.to_string()), body);
                    }
                }
                Ok(())
            }

            async fn get_documents_by_id(
                &mut self,
                kind: &str,
                ids: &[&str],
            ) -> Result<std::collections::HashMap<String, Value>> {
                self.flush_writes().await?;
                let mut ids: Vec<&str> = ids.to_vec();
                ids.sort_unstable();
                ids.dedup();
                let mut out = std::collections::HashMap::new();
                for chunk in ids.chunks(300) {
                    // The kind is the last parameter: SQLite's `?` are positional.
                    let mut sql = in_list_sql("SELECT id, body FROM documents WHERE id IN", chunk.len());
                    sql.push_str(&format!(" AND kind = {}", param(chunk.len() + 1)));
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    for r in q.bind(kind).fetch_all(&mut *self.tx).await? {
                        out.insert(r.try_get::<String, _>("id")?, parse_json(r.try_get::<&str, _>("body")?)?);
                    }
                }
                Ok(out)
            }

            async fn get_documents_text(&mut self, kind: &str, prefix: &str) -> Result<Vec<(String, String)>> {
                self.flush_writes().await?;
                let upper = format!("{prefix}\u{10FFFF}");
                let rows = sqlx::query("SELECT id, body FROM documents WHERE kind = $1 AND id >= $2 AND id < $3 ORDER BY id")
                    .bind(kind)
                    .bind(prefix)
                    .bind(upper)
                    .fetch_all(&mut *self.tx)
                    .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push((r.try_get::<String, _>("id")?, r.try_get::<String, _>("body")?));
                }
                Ok(out)
            }

            async fn count_documents(&mut self, kind: &str) -> Result<i64> {
                self.flush_writes().await?;
                let row = sqlx::query("SELECT COUNT(*) AS n FROM documents WHERE kind = $1")
                    .bind(kind)
                    .fetch_one(&mut *self.tx)
                    .await?;
                Ok(row.try_get("n")?)
            }
        }
    };
}
pub(crate) use impl_document_records;
