//! `ordo forecast`: demand forecasts per item from the store's shipped history
//! (`ordo_sales::forecast`, the functions `forecast.refresh` uses) or from a user's history
//! file (`date,quantity` rows, [`ordo_forecast::history::parse_csv`]), rendered as a table, CSV
//! (one row per item and period, for charts) or JSON. The accuracy and speed bench is
//! [`bench`].

pub mod bench;

use crate::runtime::{Engine, EngineError, TxContext};
use chrono::NaiveDate;
use ordo_forecast::history::{Gaps, Period, bucket, parse_csv};
use ordo_sales::forecast::{ItemForecast, forecast_doc, forecast_history, item_forecasts};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// The largest history file read (about 30 million rows of `date,quantity`).
pub const MAX_HISTORY_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "table" => Some(Format::Table),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Forecasts every item in master data (or `item`) from its shipments, as of business today.
pub async fn from_store(
    engine: &Arc<Engine>,
    item: Option<&str>,
    by: Period,
    horizon: usize,
) -> Result<Vec<ItemForecast>, EngineError> {
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let today = chrono::DateTime::from_timestamp_millis(engine.clock.now_ms())
        .map(|t| t.date_naive())
        .ok_or_else(|| EngineError::Refused("business time is out of range".into()))?;
    let r = {
        let mut ctx = TxContext::command(tx.as_mut(), engine);
        if let Some(sku) = item {
            // An unknown SKU is a typo, not an item without history.
            if ordo_contract::StepContext::get_document(&mut ctx, "item", sku)
                .await
                .map_err(|e| EngineError::Refused(e.to_string()))?
                .is_none()
            {
                return Err(EngineError::Refused(format!("item '{sku}' is not in master data")));
            }
        }
        item_forecasts(&mut ctx, item, by, horizon, today).await
    };
    // Only read: nothing to commit.
    tx.rollback().await?;
    r.map_err(|e| EngineError::Refused(e.to_string()))
}

/// Forecasts the history in `path` (every period from its first to its last row must have a
/// row; each bad row is reported `path:line:col`), labelled `item`.
pub fn from_file(
    path: &Path,
    item: &str,
    by: Period,
    horizon: usize,
) -> Result<ItemForecast, EngineError> {
    let shown = path.display().to_string();
    let bytes = match crate::channels::read_bounded(path, MAX_HISTORY_BYTES) {
        Ok(Ok(b)) => b,
        Ok(Err(size)) => {
            return Err(EngineError::Refused(format!(
                "{shown}: {size} bytes is over the {MAX_HISTORY_BYTES}-byte limit of a history file"
            )));
        }
        Err(e) => return Err(EngineError::Refused(format!("{shown}: {e}"))),
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        EngineError::Refused(format!("{shown}: not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
    })?;
    let rows = parse_csv(&shown, &text).map_err(|errs| {
        let mut lines: Vec<String> = errs.iter().take(50).map(|e| e.to_string()).collect();
        if errs.len() > 50 {
            lines.push(format!("… and {} more", errs.len() - 50));
        }
        EngineError::Refused(lines.join("\n"))
    })?;
    if rows.is_empty() {
        return Err(EngineError::Refused(format!("{shown}: no rows of date,quantity")));
    }
    let history = bucket(&rows, by, Gaps::Refuse).map_err(|e| EngineError::Refused(e.to_string()))?;
    let result = forecast_history(&history, horizon);
    Ok(ItemForecast { sku: item.to_string(), history: Some(history), result })
}

/// The forecasts as JSON: per item its method, hold-out scores, σ and periods, or its error.
pub fn to_json(items: &[ItemForecast], by: Period, made: NaiveDate) -> Value {
    Value::Array(
        items
            .iter()
            .map(|f| {
                let doc = forecast_doc(f, by, made);
                let mut v = serde_json::to_value(&doc).unwrap_or(Value::Null);
                if let Ok((fc, _)) = &f.result {
                    v["holdout_periods"] = json!(fc.holdout);
                    v["holdout_mase"] = Value::Array(
                        fc.scores
                            .iter()
                            .map(|s| json!({ "method": s.method.to_string(), "mase": s.mase.map(|m| (m * 1e4).round() / 1e4) }))
                            .collect(),
                    );
                }
                v
            })
            .collect(),
    )
}

/// The forecasts as text: `Format::Table` for people, `Format::Csv` one row per item and
/// period (`sku,method,period,forecast,lo95,hi95`; items without a forecast are left out and
/// listed in the second value), `Format::Json` as [`to_json`].
pub fn render(items: &[ItemForecast], by: Period, made: NaiveDate, format: Format) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut none = Vec::new();
    match format {
        Format::Json => {
            out = serde_json::to_string_pretty(&to_json(items, by, made)).unwrap_or_default();
            out.push('\n');
        }
        Format::Csv => {
            out.push_str("sku,method,period,forecast,lo95,hi95\n");
            for f in items {
                let doc = forecast_doc(f, by, made);
                match &doc.error {
                    Some(e) => none.push(format!("{}: {e}", f.sku)),
                    None => {
                        let method = doc.method.unwrap_or_default();
                        for p in &doc.periods {
                            let _ = writeln!(out, "{},{},{},{},{},{}", csv_cell(&f.sku), method, p.start, p.mean, p.lo, p.hi);
                        }
                    }
                }
            }
        }
        Format::Table => {
            for f in items {
                let periods = f.history.as_ref().map_or(0, |h| h.quantities.len());
                match &f.result {
                    Err(e) => {
                        let _ = writeln!(out, "{}: {e}", f.sku);
                        none.push(format!("{}: {e}", f.sku));
                    }
                    Ok((fc, _)) => {
                        let scores: Vec<String> = fc
                            .scores
                            .iter()
                            .map(|s| match s.mase {
                                Some(m) => format!("{} {m:.3}", s.method),
                                None => format!("{} -", s.method),
                            })
                            .collect();
                        let _ = writeln!(
                            out,
                            "{}: {} from {periods} {}s of history (hold-out MASE over {} periods: {})",
                            f.sku,
                            fc.method,
                            by.name(),
                            fc.holdout,
                            scores.join(", ")
                        );
                        let _ = writeln!(out, "  {:<12} {:>12} {:>12} {:>12}", by.name(), "forecast", "lo 95%", "hi 95%");
                        let doc = forecast_doc(f, by, made);
                        for p in &doc.periods {
                            let _ = writeln!(
                                out,
                                "  {:<12} {:>12} {:>12} {:>12}",
                                p.start.to_string(),
                                p.mean.round_dp(2).to_string(),
                                p.lo.round_dp(2).to_string(),
                                p.hi.round_dp(2).to_string()
                            );
                        }
                    }
                }
            }
        }
    }
    (out, none)
}

/// A SKU as a CSV cell (quoted when it holds a comma, quote or line break).
fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
