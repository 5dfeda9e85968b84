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
/// The `kv` key migration 0040 sets so the store builds the aging index when it opens.
pub const AGING_REBUILD_MARK: &str = "aging.rebuild";
/// The same for the DSO index (migration 0042); either mark rebuilds both.
pub const DSO_REBUILD_MARK: &str = "dso.rebuild";

/// The aging index row of the invoice `inv` (migration 0040): `Ok(None)` when the aging leaves
/// it out (`crate::receivables::aging_entry`), else its currency, due date and open amount as
/// whole units and billionths; `Err` with a located message when its amount has more than 9
/// decimals.
pub fn aging_index_row(
    inv: &ordo_contract::InvoiceCollection,
) -> std::result::Result<Option<(String, chrono::NaiveDate, i64, i64)>, String> {
    let Some((currency, due, open)) = crate::receivables::aging_entry(inv) else {
        return Ok(None);
    };
    let (units, nanos) = crate::store::sales::split(open)
        .map_err(|e| format!("invoice {}: open_amount: {e}", inv.number))?;
    Ok(Some((currency.to_string(), due, units, nanos)))
}

/// One row of the DSO index (migration 0042): (seq, currency, day, open change and invoiced as
/// whole units and billionths, issues).
pub type DsoRow = (i64, String, chrono::NaiveDate, (i64, i64), (i64, i64), i64);

/// The DSO index rows of the invoice `inv`: its moves (`crate::reports::dso::moves`), each
/// value held exactly, or a located message.
pub fn dso_index_rows(
    inv: &ordo_contract::InvoiceCollection,
) -> std::result::Result<Vec<DsoRow>, String> {
    let split = |d: rust_decimal::Decimal, f: &str| {
        crate::store::sales::split(d).map_err(|e| format!("invoice {}: {f}: {e}", inv.number))
    };
    let moves = crate::reports::dso::moves(inv).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(moves.len());
    for (i, m) in moves.into_iter().enumerate() {
        out.push((
            i as i64,
            inv.currency.clone(),
            m.day,
            split(m.open, "open amount")?,
            split(m.invoiced, "total")?,
            m.issues,
        ));
    }
    Ok(out)
}

/// An invoice's text read once for every index the store keeps from it (open items, aging,
/// DSO): the typed invoice, or the located message every index records as its problem.
pub fn read_invoice(
    number: &str,
    text: &str,
) -> std::result::Result<ordo_contract::InvoiceCollection, String> {
    ordo_contract::read_doc_text::<ordo_contract::InvoiceCollection>("invoice", number, text)
}

/// Both receivables indexes' rows of an invoice as [`read_invoice`] read it; an invoice that
/// cannot be read is a problem of both.
#[allow(clippy::type_complexity)]
pub fn receivable_rows(
    read: &std::result::Result<ordo_contract::InvoiceCollection, String>,
) -> (
    std::result::Result<Option<(String, chrono::NaiveDate, i64, i64)>, String>,
    std::result::Result<Vec<DsoRow>, String>,
) {
    match read {
        Ok(inv) => (aging_index_row(inv), dso_index_rows(inv)),
        Err(e) => (Err(e.clone()), Err(e.clone())),
    }
}

/// The aging index as the documents give it: rows by invoice, and the problems (invoice,
/// message), for `ordo report check` and its tests.
pub type AgingIndex = (
    std::collections::BTreeMap<String, (String, chrono::NaiveDate, i64, i64)>,
    std::collections::BTreeMap<String, String>,
);

/// The DSO index as the documents give it: rows by (invoice, seq), and the problems.
pub type DsoIndex = (
    std::collections::BTreeMap<(String, i64), DsoRow>,
    std::collections::BTreeMap<String, String>,
);

/// [`AgingIndex`] and [`DsoIndex`] derived from the texts of every stored invoice.
pub fn receivable_index_of(docs: &[(String, String)]) -> (AgingIndex, DsoIndex) {
    let (mut aging, mut dso): (AgingIndex, DsoIndex) = Default::default();
    for (id, text) in docs {
        let (a, d) = receivable_rows(&read_invoice(id, text));
        match a {
            Ok(Some(r)) => {
                aging.0.insert(id.clone(), r);
            }
            Ok(None) => {}
            Err(e) => {
                aging.1.insert(id.clone(), e);
            }
        }
        match d {
            Ok(rows) => {
                for r in rows {
                    dso.0.insert((id.clone(), r.0), r);
                }
            }
            Err(e) => {
                dso.1.insert(id.clone(), e);
            }
        }
    }
    (aging, dso)
}

/// Per currency and due date: the open amount and the invoices holding it.
pub type AgingSums = Vec<(String, chrono::NaiveDate, rust_decimal::Decimal, usize)>;

#[async_trait]
pub trait OpenItemRecords: Send {
    /// The rows answering `q` (see [`OpenItemQuery`]), ordered by invoice, and every problem.
    async fn open_items(&mut self, q: &OpenItemQuery) -> Result<OpenItemsFound>;
    /// Indexes every stored invoice again when the migration's mark is set, and removes the
    /// mark; returns how many invoices were read (0: no mark).
    async fn rebuild_open_items_if_marked(&mut self) -> Result<usize>;
    /// The aging index summed per currency and due date (ordered so), or the first invoice it
    /// could not read (its located message).
    async fn aging_sums(&mut self) -> Result<std::result::Result<AgingSums, String>>;
    /// The DSO index summed per currency and month, or the first invoice it could not read.
    async fn dso_sums(
        &mut self,
    ) -> Result<std::result::Result<crate::reports::dso::MonthSums, String>>;
    /// Recomputes the aging and DSO indexes from every stored invoice; returns how many were
    /// read.
    async fn rebuild_aging(&mut self) -> Result<usize>;
    /// [`Self::rebuild_aging`] when migration 0040's or 0042's mark is set (removing them);
    /// 0: no mark.
    async fn rebuild_aging_if_marked(&mut self) -> Result<usize>;
    /// Where the aging and DSO indexes differ from the documents (empty: they agree). Only
    /// reads.
    async fn aging_check(&mut self) -> Result<Vec<String>>;
}

/// The SQL of [`OpenItemRecords`] for one backend's transaction type.
macro_rules! impl_open_item_records {
    ($tx:ident, $db:ty) => {
        impl $tx {
            /// Rewrites the index rows of the invoices `docs` (id, document text) as the text
            /// says: the row when open, nothing when closed, a problem when unreadable.
            async fn write_open_items(&mut self, docs: &[(&str, &str)]) -> Result<()> {
                // Each invoice is read once for the three indexes.
                let read: Vec<(&str, std::result::Result<ordo_contract::InvoiceCollection, String>)> =
                    docs.iter().map(|(id, text)| (*id, $crate::store::openitems::read_invoice(id, text))).collect();
                // Off only in `ordo bench o2c --no-sales-aggregates`, which measures what the
                // report aggregates cost on a store it throws away (store/sales.rs).
                if $crate::store::sales::counting() {
                    self.write_aging_items(&read).await?;
                }
                for chunk in read.chunks(200) {
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
                    for (id, inv) in chunk {
                        match inv.as_ref().map_err(String::clone).and_then(|inv| ordo_recon::openitems::index_row_of(id, inv)) {
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

            /// Rewrites the aging index rows of the invoices `docs` (id, document text), as
            /// [`aging_index_row`] derives them. One row per invoice, written only by the
            /// transaction writing that invoice: no row is shared, so no hot-rows lock is needed.
            async fn write_aging_items(
                &mut self,
                docs: &[(&str, std::result::Result<ordo_contract::InvoiceCollection, String>)],
            ) -> Result<()> {
                for chunk in docs.chunks(200) {
                    for table in ["aging_items", "aging_problems"] {
                        let sql = in_list_sql(&format!("DELETE FROM {table} WHERE invoice IN"), chunk.len());
                        let mut q = sqlx::query(AssertSqlSafe(sql));
                        for (id, _) in chunk {
                            q = q.bind(*id);
                        }
                        q.execute(&mut *self.tx).await?;
                    }
                    for table in ["dso_moves", "dso_problems"] {
                        let sql = in_list_sql(&format!("DELETE FROM {table} WHERE invoice IN"), chunk.len());
                        let mut q = sqlx::query(AssertSqlSafe(sql));
                        for (id, _) in chunk {
                            q = q.bind(*id);
                        }
                        q.execute(&mut *self.tx).await?;
                    }
                    let mut rows = Vec::new();
                    let mut problems = Vec::new();
                    let mut moves = Vec::new();
                    let mut dso_problems = Vec::new();
                    for (id, inv) in chunk {
                        let (aging, dso) = $crate::store::openitems::receivable_rows(inv);
                        match aging {
                            Ok(Some(r)) => rows.push((*id, r)),
                            Ok(None) => {}
                            Err(e) => problems.push((*id, e)),
                        }
                        match dso {
                            Ok(rs) => moves.extend(rs.into_iter().map(|r| (*id, r))),
                            Err(e) => dso_problems.push((*id, e)),
                        }
                    }
                    if !rows.is_empty() {
                        let sql = values_sql("INSERT INTO aging_items (invoice, currency, due_date, open_units, open_nanos)", rows.len(), 5, "");
                        let mut q = sqlx::query(AssertSqlSafe(sql));
                        for (id, (currency, due, units, nanos)) in &rows {
                            q = q.bind(*id).bind(currency.as_str()).bind(due.to_string()).bind(*units).bind(*nanos);
                        }
                        q.execute(&mut *self.tx).await?;
                    }
                    for part in moves.chunks(100) {
                        let sql = values_sql(
                            "INSERT INTO dso_moves (invoice, seq, currency, month, day, open_units, open_nanos, invoiced_units, invoiced_nanos, issues)",
                            part.len(),
                            10,
                            "",
                        );
                        let mut q = sqlx::query(AssertSqlSafe(sql));
                        for (id, (seq, currency, day, open, invoiced, issues)) in part {
                            q = q
                                .bind(*id)
                                .bind(*seq)
                                .bind(currency.as_str())
                                .bind($crate::reports::Period::Month.key(*day))
                                .bind(day.to_string())
                                .bind(open.0)
                                .bind(open.1)
                                .bind(invoiced.0)
                                .bind(invoiced.1)
                                .bind(*issues);
                        }
                        q.execute(&mut *self.tx).await?;
                    }
                    for (table, problems) in [("aging_problems", &problems), ("dso_problems", &dso_problems)] {
                        if problems.is_empty() {
                            continue;
                        }
                        let sql = values_sql(&format!("INSERT INTO {table} (invoice, problem)"), problems.len(), 2, "");
                        let mut q = sqlx::query(AssertSqlSafe(sql));
                        for (id, p) in problems {
                            q = q.bind(*id).bind(p.as_str());
                        }
                        q.execute(&mut *self.tx).await?;
                    }
                }
                Ok(())
            }

            /// The DSO index as stored (see [`DsoIndex`]).
            async fn dso_index_stored(&mut self) -> Result<$crate::store::openitems::DsoIndex> {
                let mut rows = std::collections::BTreeMap::new();
                for r in sqlx::query("SELECT invoice, seq, currency, day, open_units, open_nanos, invoiced_units, invoiced_nanos, issues FROM dso_moves")
                    .fetch_all(&mut *self.tx)
                    .await?
                {
                    let invoice: String = r.try_get("invoice")?;
                    let seq: i64 = r.try_get("seq")?;
                    let day: String = r.try_get("day")?;
                    let day = day.parse().map_err(|e| StoreError::Corrupt(format!("dso_moves {invoice}: day '{day}': {e}")))?;
                    let row = (
                        seq,
                        r.try_get("currency")?,
                        day,
                        (r.try_get("open_units")?, r.try_get("open_nanos")?),
                        (r.try_get("invoiced_units")?, r.try_get("invoiced_nanos")?),
                        r.try_get("issues")?,
                    );
                    rows.insert((invoice, seq), row);
                }
                let mut problems = std::collections::BTreeMap::new();
                for r in sqlx::query("SELECT invoice, problem FROM dso_problems").fetch_all(&mut *self.tx).await? {
                    problems.insert(r.try_get("invoice")?, r.try_get("problem")?);
                }
                Ok((rows, problems))
            }

            /// The aging index as stored (see [`AgingIndex`]).
            async fn aging_index_stored(&mut self) -> Result<$crate::store::openitems::AgingIndex> {
                let mut rows = std::collections::BTreeMap::new();
                for r in sqlx::query("SELECT invoice, currency, due_date, open_units, open_nanos FROM aging_items")
                    .fetch_all(&mut *self.tx)
                    .await?
                {
                    let invoice: String = r.try_get("invoice")?;
                    let due: String = r.try_get("due_date")?;
                    let due = due.parse().map_err(|e| StoreError::Corrupt(format!("aging_items {invoice}: due_date '{due}': {e}")))?;
                    rows.insert(invoice, (r.try_get("currency")?, due, r.try_get("open_units")?, r.try_get("open_nanos")?));
                }
                let mut problems = std::collections::BTreeMap::new();
                for r in sqlx::query("SELECT invoice, problem FROM aging_problems").fetch_all(&mut *self.tx).await? {
                    problems.insert(r.try_get("invoice")?, r.try_get("problem")?);
                }
                Ok((rows, problems))
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

            async fn aging_sums(&mut self) -> Result<std::result::Result<$crate::store::openitems::AgingSums, String>> {
                self.flush_buffers().await?;
                let mark = sqlx::query("SELECT value FROM kv WHERE key = $1")
                    .bind($crate::store::openitems::AGING_REBUILD_MARK)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                if mark.is_some() {
                    return Ok(Err("the aging index is not built yet: run `ordo report rebuild`".into()));
                }
                if let Some(r) = sqlx::query("SELECT problem FROM aging_problems ORDER BY invoice LIMIT 1")
                    .fetch_optional(&mut *self.tx)
                    .await?
                {
                    return Ok(Err(r.try_get("problem")?));
                }
                let rows = sqlx::query(
                    "SELECT currency, due_date, CAST(SUM(open_units) AS BIGINT) AS units, CAST(SUM(open_nanos) AS BIGINT) AS nanos, \
                     CAST(COUNT(*) AS BIGINT) AS n FROM aging_items GROUP BY currency, due_date ORDER BY currency, due_date",
                )
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let currency: String = r.try_get("currency")?;
                    let due: String = r.try_get("due_date")?;
                    let bad = |m: String| StoreError::Corrupt(format!("aging_items {currency} {due}: {m}"));
                    let day: chrono::NaiveDate = due.parse().map_err(|e: chrono::ParseError| bad(e.to_string()))?;
                    let open = $crate::store::sales::join(r.try_get("units")?, r.try_get("nanos")?)
                        .ok_or_else(|| bad("the sum overflows".into()))?;
                    let n: i64 = r.try_get("n")?;
                    let n = usize::try_from(n).map_err(|e| bad(e.to_string()))?;
                    out.push((currency, day, open, n));
                }
                Ok(Ok(out))
            }

            async fn dso_sums(&mut self) -> Result<std::result::Result<$crate::reports::dso::MonthSums, String>> {
                self.flush_buffers().await?;
                let mark = sqlx::query("SELECT value FROM kv WHERE key = $1")
                    .bind($crate::store::openitems::DSO_REBUILD_MARK)
                    .fetch_optional(&mut *self.tx)
                    .await?;
                if mark.is_some() {
                    return Ok(Err("the DSO index is not built yet: run `ordo report rebuild`".into()));
                }
                if let Some(r) = sqlx::query("SELECT problem FROM dso_problems ORDER BY invoice LIMIT 1")
                    .fetch_optional(&mut *self.tx)
                    .await?
                {
                    return Ok(Err(r.try_get("problem")?));
                }
                let rows = sqlx::query(
                    "SELECT currency, month, CAST(SUM(open_units) AS BIGINT) AS ou, CAST(SUM(open_nanos) AS BIGINT) AS onn, \
                     CAST(SUM(invoiced_units) AS BIGINT) AS iu, CAST(SUM(invoiced_nanos) AS BIGINT) AS inn, \
                     CAST(SUM(issues) AS BIGINT) AS issues FROM dso_moves GROUP BY currency, month ORDER BY currency, month",
                )
                .fetch_all(&mut *self.tx)
                .await?;
                let mut out = $crate::reports::dso::MonthSums::new();
                for r in rows {
                    let currency: String = r.try_get("currency")?;
                    let month: String = r.try_get("month")?;
                    let bad = |m: String| StoreError::Corrupt(format!("dso_moves {currency} {month}: {m}"));
                    let start: chrono::NaiveDate = format!("{month}-01").parse().map_err(|e: chrono::ParseError| bad(e.to_string()))?;
                    let open = $crate::store::sales::join(r.try_get("ou")?, r.try_get("onn")?).ok_or_else(|| bad("the sum overflows".into()))?;
                    let invoiced = $crate::store::sales::join(r.try_get("iu")?, r.try_get("inn")?).ok_or_else(|| bad("the sum overflows".into()))?;
                    let issues: i64 = r.try_get("issues")?;
                    out.insert((currency, start), (open, invoiced, issues));
                }
                Ok(Ok(out))
            }

            async fn rebuild_aging(&mut self) -> Result<usize> {
                self.flush_buffers().await?;
                // PostgreSQL: writers of invoices wait for the rebuild, then rewrite their rows.
                if !LOCK_AGING.is_empty() {
                    sqlx::query(LOCK_AGING).execute(&mut *self.tx).await?;
                }
                for t in ["aging_items", "aging_problems", "dso_moves", "dso_problems"] {
                    sqlx::query(AssertSqlSafe(format!("DELETE FROM {t}"))).execute(&mut *self.tx).await?;
                }
                let docs = self.get_documents_text("invoice", "").await?;
                let read: Vec<(&str, std::result::Result<ordo_contract::InvoiceCollection, String>)> = docs
                    .iter()
                    .map(|(i, t)| (i.as_str(), $crate::store::openitems::read_invoice(i, t)))
                    .collect();
                self.write_aging_items(&read).await?;
                Ok(docs.len())
            }

            async fn rebuild_aging_if_marked(&mut self) -> Result<usize> {
                let marked = sqlx::query("DELETE FROM kv WHERE key IN ($1, $2) RETURNING key")
                    .bind($crate::store::openitems::AGING_REBUILD_MARK)
                    .bind($crate::store::openitems::DSO_REBUILD_MARK)
                    .fetch_all(&mut *self.tx)
                    .await?;
                if marked.is_empty() {
                    return Ok(0);
                }
                $crate::store::OpenItemRecords::rebuild_aging(self).await
            }

            async fn aging_check(&mut self) -> Result<Vec<String>> {
                self.flush_buffers().await?;
                let docs = self.get_documents_text("invoice", "").await?;
                let ((want, want_problems), (want_dso, want_dso_problems)) = $crate::store::openitems::receivable_index_of(&docs);
                let (have, have_problems) = self.aging_index_stored().await?;
                let (have_dso, have_dso_problems) = self.dso_index_stored().await?;
                let mut out = Vec::new();
                for (id, w) in &want {
                    match have.get(id) {
                        Some(h) if h == w => {}
                        h => out.push(format!("aging_items {id}: the document gives {w:?}, the table has {h:?}")),
                    }
                }
                for (id, h) in &have {
                    if !want.contains_key(id) {
                        out.push(format!("aging_items {id}: the table has {h:?}, the document gives no row"));
                    }
                }
                if want_problems != have_problems {
                    out.push(format!("aging_problems: the documents give {want_problems:?}, the table has {have_problems:?}"));
                }
                for (key, w) in &want_dso {
                    match have_dso.get(key) {
                        Some(h) if h == w => {}
                        h => out.push(format!("dso_moves {key:?}: the document gives {w:?}, the table has {h:?}")),
                    }
                }
                for (key, h) in &have_dso {
                    if !want_dso.contains_key(key) {
                        out.push(format!("dso_moves {key:?}: the table has {h:?}, the document gives no row"));
                    }
                }
                if want_dso_problems != have_dso_problems {
                    out.push(format!("dso_problems: the documents give {want_dso_problems:?}, the table has {have_dso_problems:?}"));
                }
                Ok(out)
            }
        }
    };
}
pub(crate) use impl_open_item_records;
