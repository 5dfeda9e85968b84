//! The open-items index (`open_items`, migration 0018): one row per open receivable, so a
//! reconciliation run reads the invoices its entries can touch (by reference key, customer,
//! open amount) instead of every invoice ever issued.
//!
//! **Invariant (the index equals the documents):** every write of an `invoice` document
//! rewrites that invoice's row in the same transaction, from the text written, through the one
//! derivation `ordo_recon::openitems::index_row` — PostgreSQL in `put_document` /
//! `claim_document`, SQLite where the buffered documents are flushed (before any query of
//! this table, a savepoint or the commit, so rolling back undoes both). No other code writes the
//! table. A document that cannot be read as an open item leaves a row in
//! `open_item_problems` with its located message, which fails a run as reading it would.
//! Invoices stored before the migration are indexed once when the store opens
//! ([`OpenItemRecords::rebuild_open_items_if_marked`]). `ordo recon check-index` compares.
//!
//! The trait is part of [`super::Tx`]; its SQL is written once for both backends in
//! `impl_open_item_records!`, expanded for each backend's transaction type by `impl_store_tx!`.

use super::Result;
use async_trait::async_trait;
use ordo_contract::recon_docs::{OpenItemQuery, OpenItemsFound};

/// The `kv` key migration 0018 sets so the store indexes the invoices stored before it.
pub const REBUILD_MARK: &str = "open_items.rebuild";

#[async_trait]
pub trait OpenItemRecords: Send {
    /// The rows answering `q` (see [`OpenItemQuery`]), ordered by invoice, and every problem.
    async fn open_items(&mut self, q: &OpenItemQuery) -> Result<OpenItemsFound>;
    /// Indexes every stored invoice again when the migration's mark is set, and removes the
    /// mark; returns how many invoices were read (0: no mark).
    async fn rebuild_open_items_if_marked(&mut self) -> Result<usize>;
}

/// The SQL of [`OpenItemRecords`] for one backend's transaction type.
macro_rules! impl_open_item_records {
    ($tx:ident, $db:ty) => {
        impl $tx {
            /// Rewrites the index rows of the invoices `docs` (id, document text) as the text
            /// says: the row when open, nothing when closed, a problem when unreadable.
            async fn write_open_items(&mut self, docs: &[(&str, &str)]) -> Result<()> {
                for chunk in docs.chunks(200) {
                    for table in ["open_items", "open_item_problems"] {
                        let sql = in_list_sql(&format!("DELETE FROM {table} WHERE invoice IN"), chunk.len());
                        let mut q = sqlx::query(AssertSqlSafe(sql));
                        for (id, _) in chunk {
                            q = q.bind(*id);
                        }
                        q.execute(&mut *self.tx).await?;
                    }
                    let mut rows = Vec::new();
                    let mut problems = Vec::new();
                    for (id, text) in chunk {
                        match ordo_recon::openitems::index_row(id, text) {
                            Ok(Some(r)) => rows.push(r),
                            Ok(None) => {}
                            Err(e) => problems.push((*id, e)),
                        }
                    }
                    if !rows.is_empty() {
                        let sql = values_sql(
                            "INSERT INTO open_items (invoice, ref_key, digit_key, customer_id, amount_open, amount_key, currency, due_date, issue_date, terms)",
                            rows.len(),
                            10,
                            "",
                        );
                        let mut q = sqlx::query(AssertSqlSafe(sql));
                        for r in &rows {
                            q = q
                                .bind(r.invoice.as_str())
                                .bind(r.ref_key.as_str())
                                .bind(r.digit_key.as_deref())
                                .bind(r.customer_id.as_str())
                                .bind(r.amount_open.to_string())
                                .bind(r.amount_open.normalize().to_string())
                                .bind(r.currency.as_str())
                                .bind(r.due_date.to_string())
                                .bind(r.issue_date.to_string())
                                .bind(serde_json::to_string(&r.terms).map_err(|e| StoreError::Corrupt(e.to_string()))?);
                        }
                        q.execute(&mut *self.tx).await?;
                    }
                    if !problems.is_empty() {
                        let sql = values_sql("INSERT INTO open_item_problems (invoice, problem)", problems.len(), 2, "");
                        let mut q = sqlx::query(AssertSqlSafe(sql));
                        for (id, p) in &problems {
                            q = q.bind(*id).bind(p.as_str());
                        }
                        q.execute(&mut *self.tx).await?;
                    }
                }
                Ok(())
            }

            fn open_item_row(r: &<$db as sqlx::Database>::Row) -> Result<ordo_contract::recon_docs::OpenItemRow> {
                let invoice: String = r.try_get("invoice")?;
                let bad = |field: &str, e: &dyn std::fmt::Display| {
                    StoreError::Corrupt(format!("open_items row {invoice}: {field}: {e}"))
                };
                let date = |field: &str| -> Result<chrono::NaiveDate> {
                    let t: String = r.try_get(field)?;
                    t.parse().map_err(|e| bad(field, &e))
                };
                let amount: String = r.try_get("amount_open")?;
                let terms: String = r.try_get("terms")?;
                Ok(ordo_contract::recon_docs::OpenItemRow {
                    ref_key: r.try_get("ref_key")?,
                    digit_key: r.try_get("digit_key")?,
                    customer_id: r.try_get("customer_id")?,
                    amount_open: amount.parse().map_err(|e| bad("amount_open", &e))?,
                    currency: r.try_get("currency")?,
                    due_date: date("due_date")?,
                    issue_date: date("issue_date")?,
                    terms: serde_json::from_str(&terms).map_err(|e| bad("terms", &e))?,
                    invoice,
                })
            }
        }

        #[async_trait]
        impl $crate::store::OpenItemRecords for $tx {
            async fn open_items(
                &mut self,
                q: &ordo_contract::recon_docs::OpenItemQuery,
            ) -> Result<ordo_contract::recon_docs::OpenItemsFound> {
                self.flush_writes().await?;
                const COLS: &str = "SELECT invoice, ref_key, digit_key, customer_id, amount_open, currency, due_date, issue_date, terms FROM open_items";
                let mut found: std::collections::BTreeMap<String, ordo_contract::recon_docs::OpenItemRow> =
                    std::collections::BTreeMap::new();
                if q.all {
                    for r in sqlx::query(COLS).fetch_all(&mut *self.tx).await? {
                        let row = Self::open_item_row(&r)?;
                        found.insert(row.invoice.clone(), row);
                    }
                } else {
                    let amounts: Vec<String> = q.amounts.iter().map(|a| a.normalize().to_string()).collect();
                    for (col, vals) in [
                        ("ref_key", &q.keys),
                        ("digit_key", &q.keys),
                        ("customer_id", &q.customers),
                        ("amount_key", &amounts),
                    ] {
                        for chunk in vals.chunks(300) {
                            let sql = in_list_sql(&format!("{COLS} WHERE {col} IN"), chunk.len());
                            let mut query = sqlx::query(AssertSqlSafe(sql));
                            for v in chunk {
                                query = query.bind(v.as_str());
                            }
                            for r in query.fetch_all(&mut *self.tx).await? {
                                let row = Self::open_item_row(&r)?;
                                found.entry(row.invoice.clone()).or_insert(row);
                            }
                        }
                    }
                }
                let mut problems = Vec::new();
                for r in sqlx::query("SELECT invoice, problem FROM open_item_problems ORDER BY invoice")
                    .fetch_all(&mut *self.tx)
                    .await?
                {
                    problems.push((r.try_get("invoice")?, r.try_get("problem")?));
                }
                Ok(ordo_contract::recon_docs::OpenItemsFound {
                    rows: found.into_values().collect(),
                    problems,
                })
            }

            async fn rebuild_open_items_if_marked(&mut self) -> Result<usize> {
                // Deleting the mark first: on PostgreSQL a second process opening at the same
                // time waits on this row and then finds it gone.
                let marked = sqlx::query("DELETE FROM kv WHERE key = $1 RETURNING key")
                    .bind($crate::store::openitems::REBUILD_MARK)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                if marked.is_none() {
                    return Ok(0);
                }
                sqlx::query("DELETE FROM open_items").execute(&mut *self.tx).await?;
                sqlx::query("DELETE FROM open_item_problems").execute(&mut *self.tx).await?;
                let docs = self.get_documents_text("invoice", "").await?;
                let pairs: Vec<(&str, &str)> = docs.iter().map(|(i, t)| (i.as_str(), t.as_str())).collect();
                self.write_open_items(&pairs).await?;
                Ok(docs.len())
            }
        }
    };
}
pub(crate) use impl_open_item_records;
