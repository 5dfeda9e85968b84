//! The double-entry journal (`crate::ledger` decides what to post; this file writes and reads
//! it). Amounts are signed ten-thousandths of the entry's currency (debit positive), so the
//! database sums them exactly. The migration's triggers refuse an unbalanced entry, a number
//! that is not the next of its period, an entry in a closed period and any change to a written
//! entry; this file writes lines first and then their entry, which is what the triggers check.
//!
//! The trait is part of [`super::Tx`]; its SQL is written once for both backends in
//! `impl_journal_records!`, expanded for each backend's transaction type by `impl_store_tx!`.

use super::Result;
use async_trait::async_trait;

/// One line of an entry: `amount_e4` > 0 is a debit, < 0 a credit.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JournalLine {
    pub account: String,
    pub amount_e4: i64,
    pub memo: Option<String>,
}

/// An entry as written and as read back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JournalEntry {
    pub period: String,
    pub number: i64,
    pub entry_date: String,
    pub event: String,
    pub source: String,
    pub currency: String,
    pub rule: String,
    pub order_id: Option<String>,
    pub invoice: Option<String>,
    pub customer: Option<String>,
    pub note: Option<String>,
    pub lines: Vec<JournalLine>,
}

/// Debit and credit totals of an account in a period and currency.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BalanceRow {
    pub period: String,
    pub account: String,
    pub currency: String,
    pub debit_e4: i64,
    pub credit_e4: i64,
}

/// Which entries `journal_entries` returns (all given filters apply).
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub period: Option<String>,
    pub account: Option<String>,
    pub order_id: Option<String>,
    pub invoice: Option<String>,
    /// At most this many entries (the first by period and number).
    pub limit: Option<i64>,
}

#[async_trait]
pub trait JournalRecords: Send {
    /// Closed periods, ascending.
    async fn closed_periods(&mut self) -> Result<Vec<String>>;
    /// Writes an entry, its lines and the balances it changes. The number must be the next of
    /// its period (taken with `next_number("journal:<period>")`, which keeps the series locked).
    async fn insert_entry(&mut self, entry: &JournalEntry, now_ms: i64) -> Result<()>;
    /// Closes a period; `false` when it was closed already. Waits for steps posting into it
    /// (their journal series row is locked until they commit).
    async fn close_period(&mut self, period: &str, by: &str, now_ms: i64) -> Result<bool>;
    /// Kept balances, of one period or all.
    async fn ledger_balances(&mut self, period: Option<&str>) -> Result<Vec<BalanceRow>>;
    /// Balances summed from the lines themselves (`ordo ledger check` compares them).
    async fn ledger_line_sums(&mut self) -> Result<Vec<BalanceRow>>;
    /// Per period: (period, number of entries, highest number). Gapless means equal.
    async fn journal_numbering(&mut self) -> Result<Vec<(String, i64, i64)>>;
    async fn journal_entries(&mut self, filter: &EntryFilter) -> Result<Vec<JournalEntry>>;
}

/// Most entries a transaction defers before writing them (bounds a long transaction's memory).
pub(crate) const MAX_DEFERRED_ENTRIES: usize = 512;
/// Rows per multi-row statement, under SQLite's 32,766 parameters (6, 12 and 5 columns).
pub(crate) const LINE_ROWS: usize = 1000;
pub(crate) const ENTRY_ROWS: usize = 500;
pub(crate) const BALANCE_ROWS: usize = 1000;

/// The SQL of [`JournalRecords`] for one backend's transaction type.
macro_rules! impl_journal_records {
    ($tx:ident, $db:ty) => {
        fn balance_rows(rows: Vec<<$db as sqlx::Database>::Row>) -> Result<Vec<$crate::store::journal::BalanceRow>> {
            rows.iter()
                .map(|r| {
                    Ok($crate::store::journal::BalanceRow {
                        period: r.try_get("period")?,
                        account: r.try_get("account")?,
                        currency: r.try_get("currency")?,
                        debit_e4: r.try_get("debit_e4")?,
                        credit_e4: r.try_get("credit_e4")?,
                    })
                })
                .collect()
        }

        impl $tx {
            /// Writes the entries deferred by `insert_entry` (see `Tx::defer_instance_inserts`):
            /// all their lines, then the entries, then the balances they change, each as
            /// multi-row statements, so a batch of postings costs three statements, not three
            /// per posting. The database checks each entry as it would one at a time (its
            /// trigger sees the rows the same statement wrote before it). A refusal fails the
            /// batch's optimistic pass as a clash does (`Duplicate`), so the batch runs again
            /// with a savepoint per step, writing each entry at once, and only the step whose
            /// entry is refused fails, with the database's reason.
            async fn flush_journal(&mut self) -> Result<()> {
                if self.journal_adds.is_empty() {
                    return Ok(());
                }
                let adds = std::mem::take(&mut self.journal_adds);
                match self.write_entries(&adds).await {
                    Err(err @ StoreError::Db(_)) if !err.is_transient() => {
                        let first = &adds[0].0;
                        Err(StoreError::Duplicate {
                            kind: "deferred journal entries",
                            key: format!("{}/{:06} and {} more: {err}", first.period, first.number, adds.len() - 1),
                        })
                    }
                    r => r,
                }
            }

            /// Writes `entries` (numbers taken with `next_number`, in order): lines first (the
            /// entries' insert trigger checks them), then the entries, then the balances.
            async fn write_entries(
                &mut self,
                entries: &[($crate::store::journal::JournalEntry, i64)],
            ) -> Result<()> {
                let lines: Vec<(&$crate::store::journal::JournalEntry, i64, &$crate::store::journal::JournalLine)> = entries
                    .iter()
                    .flat_map(|(e, _)| e.lines.iter().enumerate().map(move |(i, l)| (e, i as i64 + 1, l)))
                    .collect();
                for chunk in lines.chunks($crate::store::journal::LINE_ROWS) {
                    let sql = values_sql(
                        "INSERT INTO ledger_lines (period, number, line_no, account, amount_e4, memo)",
                        chunk.len(),
                        6,
                        "",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (e, line_no, l) in chunk {
                        q = q
                            .bind(e.period.as_str())
                            .bind(e.number)
                            .bind(*line_no)
                            .bind(l.account.as_str())
                            .bind(l.amount_e4)
                            .bind(l.memo.as_deref());
                    }
                    q.execute(&mut *self.tx).await?;
                }
                for chunk in entries.chunks($crate::store::journal::ENTRY_ROWS) {
                    let sql = values_sql(
                        "INSERT INTO ledger_entries (period, number, entry_date, event, source, currency, rule, \
                         order_id, invoice, customer, note, created_at)",
                        chunk.len(),
                        12,
                        "",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for (e, now_ms) in chunk {
                        q = q
                            .bind(e.period.as_str())
                            .bind(e.number)
                            .bind(e.entry_date.as_str())
                            .bind(e.event.as_str())
                            .bind(e.source.as_str())
                            .bind(e.currency.as_str())
                            .bind(e.rule.as_str())
                            .bind(e.order_id.as_deref())
                            .bind(e.invoice.as_deref())
                            .bind(e.customer.as_deref())
                            .bind(e.note.as_deref())
                            .bind(*now_ms);
                    }
                    q.execute(&mut *self.tx).await?;
                }
                // One row per period, account and currency (a statement may not update a row
                // twice), in key order so concurrent posters lock the rows in the same order;
                // every poster of a period's balances holds the hot-rows lock (taken with the
                // journal number).
                self.take_hot_lock().await?;
                let mut per: std::collections::BTreeMap<(&str, &str, &str), (i64, i64)> = Default::default();
                for (e, _) in entries {
                    for l in &e.lines {
                        let t = per.entry((e.period.as_str(), l.account.as_str(), e.currency.as_str())).or_default();
                        let overflow = || StoreError::Corrupt(format!("ledger: account {} overflows", l.account));
                        if l.amount_e4 > 0 {
                            t.0 = t.0.checked_add(l.amount_e4).ok_or_else(overflow)?;
                        } else {
                            t.1 = t.1.checked_sub(l.amount_e4).ok_or_else(overflow)?;
                        }
                    }
                }
                let per: Vec<_> = per.into_iter().collect();
                for chunk in per.chunks($crate::store::journal::BALANCE_ROWS) {
                    let sql = values_sql(
                        "INSERT INTO ledger_balances (period, account, currency, debit_e4, credit_e4)",
                        chunk.len(),
                        5,
                        " ON CONFLICT (period, account, currency) DO UPDATE SET \
                         debit_e4 = ledger_balances.debit_e4 + excluded.debit_e4, \
                         credit_e4 = ledger_balances.credit_e4 + excluded.credit_e4",
                    );
                    let mut q = sqlx::query(AssertSqlSafe(sql));
                    for ((period, account, currency), (d, c)) in chunk {
                        q = q.bind(*period).bind(*account).bind(*currency).bind(*d).bind(*c);
                    }
                    q.execute(&mut *self.tx).await?;
                }
                Ok(())
            }
        }

        #[async_trait]
        impl $crate::store::JournalRecords for $tx {
            async fn closed_periods(&mut self) -> Result<Vec<String>> {
                if let Some(closed) = &self.closed_periods {
                    return Ok(closed.clone());
                }
                // PostgreSQL: a poster takes the hot-rows lock for its journal number right
                // after this read anyway; taken first, the list read here cannot change before
                // the commit, and the poster need not read it again once it holds the number.
                self.take_hot_lock().await?;
                let rows = sqlx::query("SELECT period FROM ledger_periods ORDER BY period")
                    .fetch_all(&mut *self.tx)
                    .await?;
                let closed: Vec<String> = rows.iter().map(|r| r.try_get("period")).collect::<std::result::Result<_, _>>()?;
                // The list stays true until this transaction ends: on SQLite it is the only
                // writer (`BEGIN IMMEDIATE`), on PostgreSQL it was read under the hot-rows lock
                // taken above, which `close_period` takes too. So a batch reads it once, not
                // once per posting (`close_period` and `rollback_to` forget it).
                self.closed_periods = Some(closed.clone());
                Ok(closed)
            }

            async fn insert_entry(
                &mut self,
                e: &$crate::store::journal::JournalEntry,
                now_ms: i64,
            ) -> Result<()> {
                if self.defer_inserts {
                    // A worker batch's optimistic pass: written with the batch's other entries
                    // (see `flush_journal`); past a bound they go now, as the documents do.
                    self.journal_adds.push((e.clone(), now_ms));
                    if self.journal_adds.len() >= $crate::store::journal::MAX_DEFERRED_ENTRIES {
                        self.flush_journal().await?;
                    }
                    return Ok(());
                }
                self.write_entries(&[(e.clone(), now_ms)]).await
            }

            async fn close_period(&mut self, period: &str, by: &str, now_ms: i64) -> Result<bool> {
                // The buffered series (SQLite) must be in the table before it is read there,
                // and the deferred entries of the period before it closes.
                self.flush_writes().await?;
                self.flush_journal().await?;
                // Steps posting into the period hold its series row until they commit: wait
                // for them, and keep new ones out until the close commits.
                self.take_hot_lock().await?;
                self.closed_periods = None;
                let sql = format!("SELECT last_value FROM number_series WHERE series = $1{FOR_UPDATE}");
                sqlx::query(AssertSqlSafe(sql))
                    .bind(format!("journal:{period}"))
                    .fetch_optional(&mut *self.tx)
                    .await?;
                let row = sqlx::query(
                    "INSERT INTO ledger_periods (period, closed_at, closed_by) VALUES ($1, $2, $3) \
                     ON CONFLICT (period) DO NOTHING RETURNING period",
                )
                .bind(period)
                .bind(now_ms)
                .bind(by)
                .fetch_optional(&mut *self.tx)
                .await?;
                Ok(row.is_some())
            }

            async fn ledger_balances(&mut self, period: Option<&str>) -> Result<Vec<BalanceRow>> {
                self.flush_journal().await?;
                let rows = match period {
                    Some(p) => sqlx::query(
                        "SELECT period, account, currency, debit_e4, credit_e4 FROM ledger_balances \
                         WHERE period = $1 ORDER BY account, currency",
                    )
                    .bind(p)
                    .fetch_all(&mut *self.tx)
                    .await?,
                    None => sqlx::query(
                        "SELECT period, account, currency, debit_e4, credit_e4 FROM ledger_balances \
                         ORDER BY period, account, currency",
                    )
                    .fetch_all(&mut *self.tx)
                    .await?,
                };
                balance_rows(rows)
            }

            async fn ledger_line_sums(&mut self) -> Result<Vec<BalanceRow>> {
                self.flush_journal().await?;
                let rows = sqlx::query(
                    "SELECT l.period, l.account, e.currency, \
                     CAST(COALESCE(SUM(CASE WHEN l.amount_e4 > 0 THEN l.amount_e4 ELSE 0 END), 0) AS BIGINT) AS debit_e4, \
                     CAST(COALESCE(SUM(CASE WHEN l.amount_e4 < 0 THEN -l.amount_e4 ELSE 0 END), 0) AS BIGINT) AS credit_e4 \
                     FROM ledger_lines l JOIN ledger_entries e ON e.period = l.period AND e.number = l.number \
                     GROUP BY l.period, l.account, e.currency ORDER BY l.period, l.account, e.currency",
                )
                .fetch_all(&mut *self.tx)
                .await?;
                balance_rows(rows)
            }

            async fn journal_numbering(&mut self) -> Result<Vec<(String, i64, i64)>> {
                self.flush_journal().await?;
                let rows = sqlx::query(
                    "SELECT period, COUNT(*) AS n, MAX(number) AS last FROM ledger_entries \
                     GROUP BY period ORDER BY period",
                )
                .fetch_all(&mut *self.tx)
                .await?;
                rows.iter()
                    .map(|r| Ok((r.try_get("period")?, r.try_get("n")?, r.try_get("last")?)))
                    .collect()
            }

            async fn journal_entries(
                &mut self,
                f: &$crate::store::journal::EntryFilter,
            ) -> Result<Vec<$crate::store::journal::JournalEntry>> {
                self.flush_journal().await?;
                let mut conds: Vec<String> = Vec::new();
                let mut binds: Vec<&str> = Vec::new();
                let wanted = [
                    ("x.period = ?", &f.period),
                    ("x.order_id = ?", &f.order_id),
                    ("x.invoice = ?", &f.invoice),
                    (
                        "EXISTS (SELECT 1 FROM ledger_lines y WHERE y.period = x.period AND y.number = x.number AND y.account = ?)",
                        &f.account,
                    ),
                ];
                for (cond, v) in wanted {
                    if let Some(v) = v {
                        binds.push(v.as_str());
                        conds.push(cond.replace('?', &param(binds.len())));
                    }
                }
                let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
                let limit = f.limit.unwrap_or(i64::MAX).max(0);
                let sql = format!(
                    "SELECT e.period, e.number, e.entry_date, e.event, e.source, e.currency, e.rule, e.order_id, \
                     e.invoice, e.customer, e.note, l.account, l.amount_e4, l.memo \
                     FROM ledger_entries e JOIN ledger_lines l ON l.period = e.period AND l.number = e.number \
                     WHERE (e.period, e.number) IN (SELECT x.period, x.number FROM ledger_entries x {filter} \
                     ORDER BY x.period, x.number LIMIT {limit}) \
                     ORDER BY e.period, e.number, l.line_no"
                );
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for b in binds {
                    q = q.bind(b);
                }
                let rows = q.fetch_all(&mut *self.tx).await?;
                let mut out: Vec<$crate::store::journal::JournalEntry> = Vec::new();
                for r in &rows {
                    let period: String = r.try_get("period")?;
                    let number: i64 = r.try_get("number")?;
                    let line = $crate::store::journal::JournalLine {
                        account: r.try_get("account")?,
                        amount_e4: r.try_get("amount_e4")?,
                        memo: r.try_get("memo")?,
                    };
                    match out.last_mut() {
                        Some(e) if e.period == period && e.number == number => e.lines.push(line),
                        _ => out.push($crate::store::journal::JournalEntry {
                            period,
                            number,
                            entry_date: r.try_get("entry_date")?,
                            event: r.try_get("event")?,
                            source: r.try_get("source")?,
                            currency: r.try_get("currency")?,
                            rule: r.try_get("rule")?,
                            order_id: r.try_get("order_id")?,
                            invoice: r.try_get("invoice")?,
                            customer: r.try_get("customer")?,
                            note: r.try_get("note")?,
                            lines: vec![line],
                        }),
                    }
                }
                Ok(out)
            }
        }
    };
}
pub(crate) use impl_journal_records;
