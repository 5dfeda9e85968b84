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
                return Err(EngineError::Refused(format!(
                    "item '{sku}' is not in master data"
                )));
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
        EngineError::Refused(format!(
            "{shown}: not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let rows = parse_csv(&shown, &text).map_err(|errs| {
        let mut lines: Vec<String> = errs.iter().take(50).map(|e| e.to_string()).collect();
        if errs.len() > 50 {
            lines.push(format!("… and {} more", errs.len() - 50));
        }
        EngineError::Refused(lines.join("\n"))
    })?;
    if rows.is_empty() {
        return Err(EngineError::Refused(format!(
            "{shown}: no rows of date,quantity"
        )));
    }
    let history =
        bucket(&rows, by, Gaps::Refuse).map_err(|e| EngineError::Refused(e.to_string()))?;
    let result = forecast_history(&history, horizon);
    Ok(ItemForecast {
        sku: item.to_string(),
        history: Some(history),
        result,
    })
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
pub fn render(
    items: &[ItemForecast],
    by: Period,
    made: NaiveDate,
    format: Format,
) -> (String, Vec<String>) {
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
                            let _ = writeln!(
                                out,
                                "{},{},{},{},{},{}",
                                csv_cell(&f.sku),
                                method,
                                p.start,
                                p.mean,
                                p.lo,
                                p.hi
                            );
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
                        let _ = writeln!(
                            out,
                            "  {:<12} {:>12} {:>12} {:>12}",
                            by.name(),
                            "forecast",
                            "lo 95%",
                            "hi 95%"
                        );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ordo-forecast-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn weeks(n: usize, q: impl Fn(usize) -> i64) -> String {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let mut t = String::from("date,quantity\n");
        for k in 0..n {
            t.push_str(&format!(
                "{},{}\n",
                start + chrono::Duration::weeks(k as i64),
                q(k)
            ));
        }
        t
    }

    #[test]
    fn a_history_file_gives_the_method_and_an_interval_per_period() {
        let p = file("good.csv", &weeks(60, |k| 20 + (k % 4) as i64));
        let f = from_file(&p, "SKU-1", Period::Week, 4).unwrap();
        let made = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let (csv, none) = render(std::slice::from_ref(&f), Period::Week, made, Format::Csv);
        assert!(none.is_empty());
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "sku,method,period,forecast,lo95,hi95");
        assert_eq!(lines.len(), 5);
        // The first period after the file's last week (2024-01-01 + 59 weeks).
        assert!(
            lines[1].starts_with("SKU-1,") && lines[1].contains(",2025-02-24,"),
            "{}",
            lines[1]
        );
        let v = to_json(&[f], Period::Week, made);
        assert!(
            v[0]["method"].is_string() && v[0]["holdout_mase"].as_array().unwrap().len() >= 2,
            "{v}"
        );
        assert_eq!(v[0]["periods"].as_array().unwrap().len(), 4);
    }

    #[test]
    fn hostile_history_files_fail_located() {
        let bad = file(
            "bad.csv",
            "date,quantity\n2024-01-01,5\n2024-01-08,-1\n2024-01-15,1e999x\n",
        );
        let e = from_file(&bad, "x", Period::Week, 4)
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.csv:3:12: negative quantity -1"), "{e}");
        assert!(
            e.contains("bad.csv:4:12: '1e999x' is not a quantity"),
            "{e}"
        );
        let gap = file("gap.csv", "2024-01-01,5\n2024-01-08,5\n2024-02-05,5\n");
        let e = from_file(&gap, "x", Period::Week, 4)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!(
                "{}:3:1: no row for the week of 2024-01-15",
                gap.display()
            )),
            "{e}"
        );
        let short = file("short.csv", &weeks(5, |_| 3));
        let f = from_file(&short, "x", Period::Week, 4).unwrap();
        assert_eq!(
            f.result.unwrap_err(),
            "no forecast: fewer than 8 periods of history (has 5)"
        );
        let zeros = file("zeros.csv", &weeks(30, |_| 0));
        let f = from_file(&zeros, "x", Period::Week, 4).unwrap();
        assert_eq!(
            f.result.unwrap_err(),
            "no forecast: no demand in the 30 periods of history"
        );
        let binary = file("bin.csv", "2024-01-01,\u{0}\u{1}\n");
        assert!(from_file(&binary, "x", Period::Week, 4).is_err());
        let empty = file("empty.csv", "date,quantity\n");
        assert!(
            from_file(&empty, "x", Period::Week, 4)
                .unwrap_err()
                .to_string()
                .contains("no rows")
        );
        assert!(from_file(Path::new("/nonexistent/h.csv"), "x", Period::Week, 4).is_err());
    }
}
