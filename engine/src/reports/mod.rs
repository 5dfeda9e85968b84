//! Business reports over the store: `sales`, `aging`, `dso`, `cycle-time`, `fulfilment`,
//! `stock`, `recon`, `edi` (`ordo report NAME`, `GET /api/v1/reports/{name}`, the console's
//! Dashboard). One module per report; each reads its rows from one store transaction
//! (`load`) and computes over typed rows (`compute`, pure, unit-tested), so the CLI, the API
//! and the console print the same figures.
//!
//! Every figure is a `Decimal` added with checked arithmetic. A ratio whose denominator is
//! zero (no orders, no payments in a statement, no revenue in a month) is [`Cell::NA`]:
//! `n/a` in tables, `null` in JSON, an empty field in CSV — never NaN and never 0. A period
//! with no data gives a report with no rows; a stored document that lacks a field a report
//! needs fails the report naming the document and the field (never counted as zero).
//! Amounts are never added across currencies: the currency is always a key column.
//!
//! Charts (`svg`) and the self-contained HTML page (`html`) draw from the same [`Report`];
//! the console's Dashboard embeds the same SVG.

mod aging;
mod cycle;
pub mod dso;
mod edi;
pub(crate) mod fulfilment;
pub mod html;
mod recon;
pub mod sales;
mod stock;
pub mod svg;

use crate::store::{StoreError, Tx};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::fmt;

pub use cycle::Milestones;

/// The reports, as `ordo report NAME` and `/api/v1/reports/{name}` name them.
pub const NAMES: [&str; 8] = [
    "sales",
    "aging",
    "dso",
    "cycle-time",
    "fulfilment",
    "stock",
    "recon",
    "edi",
];

/// The workflow whose instances are the orders (cycle time, fulfilment, failed instances).
pub const ORDER_WORKFLOW: &str = "order-to-cash";
/// The workflow that collects one invoice (its end is the order's cash).
pub const COLLECTION_WORKFLOW: &str = "invoice-collection";

/// A report that cannot be made: where (`report`, `--by`, `--from`, `--to`, or a stored
/// document and field) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportError {
    pub at: String,
    pub message: String,
    /// The report or parameter named does not exist (404 for the API), rather than a bad
    /// value (422) or bad stored data (500-free: 422 naming the document).
    pub unknown: bool,
}

impl ReportError {
    pub fn new(at: impl Into<String>, message: impl Into<String>) -> Self {
        ReportError {
            at: at.into(),
            message: message.into(),
            unknown: false,
        }
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// A report's failure: its input, or the store.
#[derive(Debug)]
pub enum Failure {
    Report(ReportError),
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl From<ReportError> for Failure {
    fn from(e: ReportError) -> Self {
        Failure::Report(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Report(e) => e.fmt(f),
            Failure::Store(e) => e.fmt(f),
        }
    }
}

/// A period a report groups dates by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
    Quarter,
}

impl Period {
    /// The period's key of `d`, sortable as text: `2026-12-07`, `2026-W49` (ISO week),
    /// `2026-12`, `2026-Q4`.
    pub fn key(self, d: NaiveDate) -> String {
        match self {
            Period::Day => d.format("%Y-%m-%d").to_string(),
            Period::Week => {
                let w = d.iso_week();
                format!("{:04}-W{:02}", w.year(), w.week())
            }
            Period::Month => format!("{:04}-{:02}", d.year(), d.month()),
            Period::Quarter => format!("{:04}-Q{}", d.year(), d.month0() / 3 + 1),
        }
    }
}

/// A key a report groups by (`--by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    Period(Period),
    Customer,
    Item,
    ItemGroup,
    Channel,
    Partner,
    Statement,
    Rule,
}

impl Dim {
    pub fn name(self) -> &'static str {
        match self {
            Dim::Period(Period::Day) => "day",
            Dim::Period(Period::Week) => "week",
            Dim::Period(Period::Month) => "month",
            Dim::Period(Period::Quarter) => "quarter",
            Dim::Customer => "customer",
            Dim::Item => "item",
            Dim::ItemGroup => "item-group",
            Dim::Channel => "channel",
            Dim::Partner => "partner",
            Dim::Statement => "statement",
            Dim::Rule => "rule",
        }
    }

    pub(crate) const ALL: [Dim; 11] = [
        Dim::Period(Period::Day),
        Dim::Period(Period::Week),
        Dim::Period(Period::Month),
        Dim::Period(Period::Quarter),
        Dim::Customer,
        Dim::Item,
        Dim::ItemGroup,
        Dim::Channel,
        Dim::Partner,
        Dim::Statement,
        Dim::Rule,
    ];
}

/// What the caller asked: the period (both ends inclusive, either open) and `--by`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Comma-separated dimensions; absent: the report's default.
    pub by: Option<String>,
}

impl Params {
    /// Reads `--from`/`--to` texts (YYYY-MM-DD); `from` after `to` is refused.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        by: Option<&str>,
    ) -> Result<Params, ReportError> {
        let date = |at: &str, t: Option<&str>| -> Result<Option<NaiveDate>, ReportError> {
            t.filter(|s| !s.is_empty())
                .map(|s| {
                    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                        ReportError::new(
                            at,
                            format!(
                                "'{}' is not a date (YYYY-MM-DD)",
                                ordo_contract::excerpt(s, 40)
                            ),
                        )
                    })
                })
                .transpose()
        };
        let p = Params {
            from: date("from", from)?,
            to: date("to", to)?,
            by: by.filter(|s| !s.is_empty()).map(str::to_string),
        };
        if let (Some(f), Some(t)) = (p.from, p.to)
            && f > t
        {
            return Err(ReportError::new("from", format!("{f} is after to {t}")));
        }
        Ok(p)
    }

    /// Whether `d` lies in the period.
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t)
    }

    /// The period as epoch milliseconds `[from, to + 1 day)`; open ends are the widest range.
    pub fn millis(&self) -> (i64, i64) {
        let ms = |d: NaiveDate| {
            d.and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp_millis())
                .unwrap_or(0)
        };
        let from = self.from.map(ms).unwrap_or(i64::MIN);
        let to = self
            .to
            .and_then(|t| t.succ_opt())
            .map(ms)
            .unwrap_or(i64::MAX);
        (from, to)
    }

    /// `--by` as dimensions, each one of `allowed`; absent: `default`. A dimension named twice
    /// or unknown is refused, naming the ones allowed.
    pub fn dims(&self, allowed: &[Dim], default: &[Dim]) -> Result<Vec<Dim>, ReportError> {
        let Some(text) = &self.by else {
            return Ok(default.to_vec());
        };
        let names: Vec<&str> = allowed.iter().map(|d| d.name()).collect();
        let mut out = Vec::new();
        for (i, part) in text.split(',').enumerate() {
            let part = part.trim();
            let Some(d) = Dim::ALL.iter().find(|d| d.name() == part) else {
                let mut e = ReportError::new(
                    format!("by[{i}]"),
                    format!(
                        "unknown dimension '{}' (one of: {})",
                        ordo_contract::excerpt(part, 40),
                        names.join(", ")
                    ),
                );
                e.unknown = true;
                return Err(e);
            };
            if !allowed.contains(d) {
                return Err(ReportError::new(
                    format!("by[{i}]"),
                    format!(
                        "this report is not kept by '{part}' (one of: {})",
                        names.join(", ")
                    ),
                ));
            }
            if out.contains(d) {
                return Err(ReportError::new(
                    format!("by[{i}]"),
                    format!("'{part}' is named twice"),
                ));
            }
            if matches!(d, Dim::Period(_)) && out.iter().any(|o| matches!(o, Dim::Period(_))) {
                return Err(ReportError::new(
                    format!("by[{i}]"),
                    "only one period (day, week, month, quarter) at a time",
                ));
            }
            out.push(*d);
        }
        if out.is_empty() {
            return Ok(default.to_vec());
        }
        Ok(out)
    }
}

/// One value of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Num(Decimal),
    /// A ratio with a zero denominator, or a figure that cannot be known from the data.
    NA,
}

impl Cell {
    pub fn num(&self) -> Option<Decimal> {
        match self {
            Cell::Num(d) => Some(*d),
            _ => None,
        }
    }

    pub fn text(&self) -> String {
        match self {
            Cell::Text(t) => t.clone(),
            Cell::Num(d) => d.normalize().to_string(),
            Cell::NA => "n/a".into(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Text(t) => Value::String(t.clone()),
            Cell::Num(d) => serde_json::to_value(d.normalize()).unwrap_or(Value::Null),
            Cell::NA => Value::Null,
        }
    }
}

impl From<Decimal> for Cell {
    fn from(d: Decimal) -> Self {
        Cell::Num(d)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<usize> for Cell {
    fn from(n: usize) -> Self {
        Cell::Num(Decimal::from(n))
    }
}

impl From<Option<Decimal>> for Cell {
    fn from(d: Option<Decimal>) -> Self {
        d.map(Cell::Num).unwrap_or(Cell::NA)
    }
}

/// How a chart draws one value column over the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    Bar,
    Line,
}

/// A chart of a report: one value column against the rows' keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    pub kind: ChartKind,
    /// The value column (index into `columns`).
    pub column: usize,
}

/// A report's result: key columns first (`keys` of them), then figures; one row per key.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub name: String,
    pub title: String,
    pub params: Params,
    pub by: Vec<String>,
    pub columns: Vec<String>,
    pub keys: usize,
    pub rows: Vec<Vec<Cell>>,
    pub charts: Vec<Chart>,
    /// What a reader needs to read the figures (definitions, what was left out).
    pub notes: Vec<String>,
}

impl Report {
    fn new(name: &str, title: &str, params: &Params, columns: &[&str], keys: usize) -> Self {
        Report {
            name: name.into(),
            title: title.into(),
            params: params.clone(),
            by: Vec::new(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            keys,
            rows: Vec::new(),
            charts: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn chart(&mut self, title: &str, kind: ChartKind, column: &str) {
        if let Some(i) = self.columns.iter().position(|c| c == column) {
            self.charts.push(Chart {
                title: title.into(),
                kind,
                column: i,
            });
        }
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// A row's key columns joined with ` · ` (a chart's label).
    pub fn label(&self, row: &[Cell]) -> String {
        row.iter()
            .take(self.keys)
            .map(Cell::text)
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// `{report, title, from, to, by, columns, rows: [{column: value}], notes}`; n/a is null.
    pub fn to_json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut m = Map::new();
                for (c, v) in self.columns.iter().zip(r) {
                    m.insert(c.clone(), v.json());
                }
                Value::Object(m)
            })
            .collect();
        json!({ "report": self.name, "title": self.title, "from": self.params.from,
                "to": self.params.to, "by": self.by, "columns": self.columns, "rows": rows,
                "notes": self.notes })
    }

    /// CSV with a header row, one row per key: chart-ready (numbers plain, n/a empty).
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        // Writing to memory cannot fail.
        let _ = w.write_record(&self.columns);
        for r in &self.rows {
            let _ = w.write_record(r.iter().map(|c| match c {
                Cell::NA => String::new(),
                c => c.text(),
            }));
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// An aligned text table (numbers right-aligned), then the notes.
    pub fn to_table(&self) -> String {
        let cells: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(Cell::text).collect())
            .collect();
        let mut width: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for r in &cells {
            for (i, c) in r.iter().enumerate() {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, r: &[String]| {
            let parts: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i < self.keys {
                        format!("{c:<w$}", w = width[i])
                    } else {
                        format!("{c:>w$}", w = width[i])
                    }
                })
                .collect();
            out.push_str(parts.join("  ").trim_end());
            out.push('\n');
        };
        line(&mut out, &self.columns);
        for r in &cells {
            line(&mut out, r);
        }
        if self.rows.is_empty() {
            out.push_str("(no data in the period)\n");
        }
        for n in &self.notes {
            out.push_str(&format!("note: {n}\n"));
        }
        out
    }
}

/// What a report needs of the engine besides the store: today (business time) and the steps
/// that ship and invoice in the order workflow.
#[derive(Debug, Clone)]
pub struct Context {
    pub today: NaiveDate,
    pub milestones: Milestones,
}

impl Context {
    /// Today by the engine's clock, and the milestone steps of the installed order workflow.
    pub fn of(engine: &crate::runtime::Engine) -> Context {
        let now = engine.clock.now_ms();
        // The clock's range is checked where its offset is set.
        let today = chrono::DateTime::from_timestamp_millis(now)
            .unwrap_or_default()
            .date_naive();
        Context {
            today,
            milestones: Milestones::of(&engine.defs()),
        }
    }
}

/// Runs report `name` in `tx` (read only; the caller rolls back).
pub async fn run(
    tx: &mut dyn Tx,
    name: &str,
    params: &Params,
    cx: &Context,
) -> Result<Report, Failure> {
    match name {
        "sales" => sales::run(tx, params).await,
        "aging" => aging::run(tx, params, cx.today).await,
        "dso" => dso::run(tx, params, cx.today).await,
        "cycle-time" => cycle::run(tx, params, &cx.milestones).await,
        "fulfilment" => fulfilment::run(tx, params).await,
        "stock" => stock::run(tx, params, cx.today).await,
        "recon" => recon::run(tx, params).await,
        "edi" => edi::run(tx, params).await,
        other => {
            let mut e = ReportError::new(
                "report",
                format!(
                    "unknown report '{}' (one of: {})",
                    ordo_contract::excerpt(other, 40),
                    NAMES.join(", ")
                ),
            );
            e.unknown = true;
            Err(e.into())
        }
    }
}

/// Runs report `name` on the engine's store in its own read transaction (rolled back).
pub async fn run_in(
    engine: &crate::runtime::Engine,
    name: &str,
    params: &Params,
) -> Result<Report, Failure> {
    let cx = Context::of(engine);
    let mut tx = engine.store.begin().await?;
    let r = run(tx.as_mut(), name, params, &cx).await;
    tx.rollback().await?;
    r
}

/// `ordo report rebuild`: recomputes the sales aggregates from the stored invoices and credit
/// notes (`store/sales.rs`) and the aging index from the invoices (`store/openitems.rs`) in one
/// transaction; returns how many documents were read and the problems left (documents that
/// could not be counted, each named).
pub async fn rebuild_in(
    engine: &crate::runtime::Engine,
) -> Result<(usize, Vec<(String, String, String)>), StoreError> {
    let mut tx = engine.store.begin().await?;
    let n = tx.rebuild_sales().await?;
    tx.rebuild_aging().await?;
    let mut problems = tx.sales_problems().await?;
    if let Err(e) = tx.aging_sums().await? {
        problems.push(("aging".into(), "aging_items".into(), e));
    }
    if let Err(e) = tx.dso_sums().await? {
        problems.push(("dso".into(), "dso_moves".into(), e));
    }
    tx.commit().await?;
    Ok((n, problems))
}

/// `ordo report check`: the rows where the sales aggregates or the aging index differ from a
/// recomputation from the documents (empty: they agree). Only reads.
pub async fn check_in(engine: &crate::runtime::Engine) -> Result<Vec<String>, StoreError> {
    let mut tx = engine.store.begin().await?;
    let out = check_tx(tx.as_mut()).await;
    tx.rollback().await?;
    out
}

/// What [`check_in`] compares, in `tx`.
pub async fn check_tx(tx: &mut dyn Tx) -> Result<Vec<String>, StoreError> {
    let mut out = tx.sales_check().await?;
    out.extend(tx.aging_check().await?);
    Ok(out)
}

/// Reads a stored document as `T`, naming it and the field on error.
fn read<T: serde::de::DeserializeOwned>(
    kind: &str,
    key: &str,
    doc: &Value,
) -> Result<T, ReportError> {
    ordo_contract::read_doc(kind, key, doc)
        .map_err(|e| ReportError::new(format!("{kind} '{key}'"), e))
}

/// The day of an RFC 3339 time stored in a document (`what` names the document and field).
fn day(at: &str, what: &str) -> Result<NaiveDate, ReportError> {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| t.date_naive())
        .map_err(|_| {
            ReportError::new(
                what,
                format!("'{}' is not a time", ordo_contract::excerpt(at, 40)),
            )
        })
}

/// `a + b`, or an error naming what overflowed.
fn add(a: Decimal, b: Decimal, what: &str) -> Result<Decimal, ReportError> {
    a.checked_add(b)
        .ok_or_else(|| ReportError::new(what, "the sum overflows"))
}

/// `num / den` rounded to `dp` places; a zero denominator is n/a.
fn ratio(num: Decimal, den: Decimal, dp: u32) -> Cell {
    if den.is_zero() {
        return Cell::NA;
    }
    num.checked_div(den)
        .map(|r| Cell::Num(r.round_dp(dp)))
        .unwrap_or(Cell::NA)
}

/// `num / den` as a percentage with one decimal; a zero denominator is n/a.
fn percent(num: Decimal, den: Decimal) -> Cell {
    match ratio(num, den, 6) {
        Cell::Num(r) => r
            .checked_mul(Decimal::ONE_HUNDRED)
            .map(|p| Cell::Num(p.round_dp(1)))
            .unwrap_or(Cell::NA),
        c => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn periods_key_dates_sortably() {
        assert_eq!(Period::Day.key(d("2026-12-07")), "2026-12-07");
        assert_eq!(Period::Week.key(d("2026-12-07")), "2026-W50");
        assert_eq!(Period::Week.key(d("2027-01-01")), "2026-W53");
        assert_eq!(Period::Month.key(d("2026-02-28")), "2026-02");
        assert_eq!(Period::Quarter.key(d("2026-10-01")), "2026-Q4");
    }

    #[test]
    fn bad_parameters_are_located() {
        let e = Params::parse(Some("2026-13-01"), None, None).unwrap_err();
        assert_eq!(e.at, "from");
        let e = Params::parse(Some("2026-12-02"), Some("2026-12-01"), None).unwrap_err();
        assert!(e.message.contains("after"), "{e}");
        let p = Params::parse(None, None, Some("month,colour")).unwrap();
        let e = p.dims(&[Dim::Period(Period::Month)], &[]).unwrap_err();
        assert_eq!((e.at.as_str(), e.unknown), ("by[1]", true));
        let p = Params::parse(None, None, Some("week,month")).unwrap();
        let all = Dim::ALL;
        assert!(
            p.dims(&all, &[])
                .unwrap_err()
                .message
                .contains("one period")
        );
        let p = Params::parse(None, None, Some("partner")).unwrap();
        let e = p.dims(&[Dim::Customer], &[]).unwrap_err();
        assert!(!e.unknown && e.message.contains("customer"), "{e}");
    }

    #[test]
    fn zero_denominators_are_not_a_number_but_na() {
        assert_eq!(ratio(Decimal::ONE, Decimal::ZERO, 2), Cell::NA);
        assert_eq!(percent(Decimal::ONE, Decimal::ZERO), Cell::NA);
        assert_eq!(
            percent(Decimal::ONE, Decimal::from(3)),
            Cell::Num(Decimal::new(333, 1))
        );
        let mut r = Report::new("x", "X", &Params::default(), &["k", "v"], 1);
        r.rows.push(vec!["a".into(), Cell::NA]);
        assert_eq!(r.to_json()["rows"][0]["v"], Value::Null);
        assert_eq!(r.to_csv(), "k,v\na,\n");
        assert!(r.to_table().contains("n/a"));
    }

    #[test]
    fn unknown_report_is_refused_with_the_names() {
        let e = ReportError::new("report", "x");
        assert!(!e.unknown);
    }
}
