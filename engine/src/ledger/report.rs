//! What finance reads back from the journal, as data (the command line and the API print it):
//! the trial balance (from the kept per-account balances, never a scan of lines), entries by
//! account, order or invoice, the receivables check, period close, and exports (CSV, JSON and
//! DATEV in `datev.rs`).

use super::{Chart, Role, from_e4, parse_period};
use crate::runtime::{Engine, EngineError};
use crate::store::journal::{EntryFilter, JournalEntry};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn no_ledger(engine: &Engine) -> Result<&Chart, EngineError> {
    engine.ledger.as_deref().ok_or_else(|| {
        EngineError::Refused(
            "no ledger is kept: there is no chart of accounts (`accounts:` in the config, default config/accounts.yaml)"
                .into(),
        )
    })
}

fn checked_add(a: Decimal, b: Decimal, what: &str) -> Result<Decimal, EngineError> {
    a.checked_add(b)
        .ok_or_else(|| EngineError::Refused(format!("{what}: the sum is out of range")))
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrialRow {
    pub account: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Option<super::AccountType>,
    pub currency: String,
    pub debit: Decimal,
    pub credit: Decimal,
    /// Debit minus credit.
    pub balance: Decimal,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TrialBalance {
    /// `None`: every period together.
    pub period: Option<String>,
    pub rows: Vec<TrialRow>,
    pub debit: Decimal,
    pub credit: Decimal,
    pub balanced: bool,
}

impl TrialBalance {
    /// `debit X = credit Y: balanced` (or `NOT BALANCED`), as the command line and the demo say it.
    pub fn verdict(&self) -> String {
        let state = if self.balanced {
            "balanced"
        } else {
            "NOT BALANCED"
        };
        format!("debit {} = credit {}: {state}", self.debit, self.credit)
    }
}

/// The trial balance of a period, or of all periods, from the kept balances.
pub async fn trial_balance(
    engine: &Engine,
    period: Option<&str>,
) -> Result<TrialBalance, EngineError> {
    let chart = no_ledger(engine)?;
    let period = period
        .map(parse_period)
        .transpose()
        .map_err(EngineError::Refused)?;
    let mut tx = engine.store.begin().await?;
    let rows = tx.ledger_balances(period.as_deref()).await?;
    tx.rollback().await?;
    let mut per: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for r in rows {
        let t = per.entry((r.account, r.currency)).or_default();
        let overflow = || EngineError::Refused("trial balance: a sum is out of range".into());
        t.0 = t.0.checked_add(r.debit_e4).ok_or_else(overflow)?;
        t.1 = t.1.checked_add(r.credit_e4).ok_or_else(overflow)?;
    }
    let (mut debit, mut credit) = (Decimal::ZERO, Decimal::ZERO);
    let mut out = Vec::with_capacity(per.len());
    for ((account, currency), (d, c)) in per {
        let (d, c) = (from_e4(d), from_e4(c));
        debit = checked_add(debit, d, "trial balance")?;
        credit = checked_add(credit, c, "trial balance")?;
        let a = chart.account(&account);
        out.push(TrialRow {
            name: a.map_or_else(|| "(not in the chart)".to_string(), |a| a.name.clone()),
            kind: a.map(|a| a.kind),
            account,
            currency,
            debit: d,
            credit: c,
            balance: d - c,
        });
    }
    Ok(TrialBalance {
        period,
        rows: out,
        debit,
        credit,
        balanced: debit == credit,
    })
}

/// Entries by period, account, order or invoice (all given filters apply), at most `limit`.
pub async fn entries(
    engine: &Engine,
    filter: &EntryFilter,
) -> Result<Vec<JournalEntry>, EngineError> {
    no_ledger(engine)?;
    if let Some(p) = &filter.period {
        parse_period(p).map_err(EngineError::Refused)?;
    }
    let mut tx = engine.store.begin().await?;
    let e = tx.journal_entries(filter).await?;
    tx.rollback().await?;
    Ok(e)
}

/// Closes a period (`YYYY-MM`); `false` when it was closed already. Later events of the period
/// post into the first open one after it.
pub async fn close(engine: &Engine, period: &str, by: &str) -> Result<bool, EngineError> {
    no_ledger(engine)?;
    let period = parse_period(period).map_err(EngineError::Refused)?;
    let mut tx = engine.store.begin().await?;
    let closed = tx.close_period(&period, by, engine.clock.now_ms()).await?;
    tx.commit().await?;
    Ok(closed)
}

/// What `ordo ledger check` found: the receivables tie-out and the journal's own integrity.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LedgerCheck {
    /// Balance (debit − credit) of the receivables account.
    pub receivables: Decimal,
    /// Sum of the open amounts of all invoices.
    pub open_items: Decimal,
    /// Credit balance (credit − debit) of the customer-credit account.
    pub credit_ledger: Decimal,
    /// Customer credit booked on the customers (`credit:<customer>@ledger`).
    pub customer_credit: Decimal,
    /// Entries per period, all gapless when `problems` is empty.
    pub entries: i64,
    /// Empty: everything ties to the cent.
    pub problems: Vec<String>,
}

impl LedgerCheck {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The fields of a stored invoice the check reads.
#[derive(Deserialize)]
struct OpenItem {
    open_amount: Decimal,
    currency: String,
}

/// Ties the receivables account to the open invoices and the customer-credit account to the
/// customers' credit, to the cent, and checks that every period is gapless, every kept balance
/// equals its lines, and debits equal credits.
pub async fn check(engine: &Engine) -> Result<LedgerCheck, EngineError> {
    let chart = no_ledger(engine)?;
    let mut tx = engine.store.begin().await?;
    let sums = tx.ledger_line_sums().await?;
    let kept = tx.ledger_balances(None).await?;
    let numbering = tx.journal_numbering().await?;
    let invoices = tx.get_documents_text("invoice", "").await?;
    let credits = tx.stock_at("ledger", "credit:").await?;
    tx.rollback().await?;
    let mut problems = Vec::new();
    if sums != kept {
        problems.push("the kept balances differ from the sums of the journal lines".to_string());
    }
    let (mut d, mut c) = (0i64, 0i64);
    for s in &sums {
        d = d.saturating_add(s.debit_e4);
        c = c.saturating_add(s.credit_e4);
    }
    if d != c {
        problems.push(format!("debits {} ≠ credits {}", from_e4(d), from_e4(c)));
    }
    let mut entries = 0;
    for (period, n, last) in &numbering {
        entries += n;
        if n != last {
            problems.push(format!(
                "period {period}: {n} entries but the last number is {last}: a gap"
            ));
        }
    }
    let balance_of = |role: Role| -> i64 {
        let accounts = chart.with_role(role);
        sums.iter()
            .filter(|s| accounts.contains(&s.account.as_str()) && s.currency == chart.currency)
            .map(|s| s.debit_e4 - s.credit_e4)
            .sum()
    };
    let receivables = from_e4(balance_of(Role::Receivables));
    // Negated in integer space: `-from_e4(0)` would print as "-0.00".
    let credit_ledger = from_e4(-balance_of(Role::CustomerCredit));
    let mut open_items = Decimal::ZERO;
    for (id, text) in &invoices {
        let inv: OpenItem = serde_json::from_str(text).map_err(|e| {
            EngineError::Refused(format!("invoice '{}': {e}", ordo_contract::excerpt(id, 40)))
        })?;
        if inv.currency == chart.currency {
            open_items = checked_add(open_items, inv.open_amount, "open items")?;
        }
    }
    let mut customer_credit = Decimal::ZERO;
    for (_, v) in &credits {
        customer_credit = checked_add(customer_credit, *v, "customer credit")?;
    }
    if receivables != open_items {
        problems.push(format!(
            "receivables {receivables} ≠ open invoices {open_items} (difference {})",
            receivables - open_items
        ));
    }
    if credit_ledger != customer_credit {
        problems.push(format!(
            "customer credit account {credit_ledger} ≠ customers' credit {customer_credit} (difference {})",
            credit_ledger - customer_credit
        ));
    }
    Ok(LedgerCheck {
        receivables,
        open_items,
        credit_ledger,
        customer_credit,
        entries,
        problems,
    })
}

/// One journal line as a flat record (CSV and JSON exports).
#[derive(Debug, Clone, Serialize)]
pub struct ExportLine<'a> {
    pub period: &'a str,
    pub number: i64,
    pub date: &'a str,
    pub event: &'a str,
    pub source: &'a str,
    pub account: &'a str,
    pub debit: Decimal,
    pub credit: Decimal,
    pub currency: &'a str,
    pub memo: Option<&'a str>,
    pub note: Option<&'a str>,
}

pub fn export_lines(entries: &[JournalEntry]) -> Vec<ExportLine<'_>> {
    let mut out = Vec::new();
    for e in entries {
        for l in &e.lines {
            let v = from_e4(l.amount_e4);
            out.push(ExportLine {
                period: &e.period,
                number: e.number,
                date: &e.entry_date,
                event: &e.event,
                source: &e.source,
                account: &l.account,
                debit: v.max(Decimal::ZERO),
                credit: (-v).max(Decimal::ZERO),
                currency: &e.currency,
                memo: l.memo.as_deref(),
                note: e.note.as_deref(),
            });
        }
    }
    out
}

/// A CSV field: quoted when it holds a separator, a quote or a line break; a leading `=`, `+`,
/// `-` or `@` is prefixed with `'` so a spreadsheet does not run it as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The journal lines as CSV (UTF-8, `,`, one line per journal line, amounts with `.`).
pub fn export_csv(entries: &[JournalEntry]) -> String {
    let mut out =
        String::from("period,number,date,event,source,account,debit,credit,currency,memo,note\n");
    for l in export_lines(entries) {
        let cells = [
            csv_field(l.period),
            l.number.to_string(),
            csv_field(l.date),
            csv_field(l.event),
            csv_field(l.source),
            csv_field(l.account),
            l.debit.to_string(),
            l.credit.to_string(),
            csv_field(l.currency),
            csv_field(l.memo.unwrap_or("")),
            csv_field(l.note.unwrap_or("")),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// Export formats of `ordo ledger export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
    Datev,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "csv" => Ok(ExportFormat::Csv),
            "json" => Ok(ExportFormat::Json),
            "datev" => Ok(ExportFormat::Datev),
            other => Err(format!(
                "format '{}' is not csv, json or datev",
                ordo_contract::excerpt(other, 20)
            )),
        }
    }
}

/// A period's journal in `format`, as the bytes of the file.
pub async fn export(
    engine: &Engine,
    period: &str,
    format: ExportFormat,
) -> Result<Vec<u8>, EngineError> {
    let chart = no_ledger(engine)?;
    let period = parse_period(period).map_err(EngineError::Refused)?;
    let filter = EntryFilter {
        period: Some(period.clone()),
        ..Default::default()
    };
    let entries = entries(engine, &filter).await?;
    Ok(match format {
        ExportFormat::Csv => export_csv(&entries).into_bytes(),
        ExportFormat::Json => {
            let v = serde_json::json!({ "period": period, "currency": chart.currency, "lines": export_lines(&entries) });
            serde_json::to_vec_pretty(&v).map_err(|e| EngineError::Refused(e.to_string()))?
        }
        ExportFormat::Datev => {
            let created = crate::clock::ms_to_datetime(engine.clock.now_ms()).naive_utc();
            super::datev::export(chart, &period, &entries, created).map_err(EngineError::Refused)?
        }
    })
}
