//! `ordo forecast` (per item from the store, or from a history file) and
//! `ordo bench forecast`: parse, call `ordo::forecast`, print.

use super::{fail, print_json};
use clap::Args;
use ordo::forecast::bench;
use ordo::forecast::{Format, from_file, from_store, render};
use ordo::runtime::{Engine, EngineError};
use ordo_forecast::history::Period;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args)]
pub struct ForecastArgs {
    /// One item (SKU); all items in master data when omitted. With --history, the label.
    #[arg(long)]
    item: Option<String>,
    /// Periods ahead.
    #[arg(long, default_value_t = 12)]
    horizon: usize,
    /// Period: week or month.
    #[arg(long, default_value = "week")]
    by: String,
    /// table, csv (one row per item and period) or json.
    #[arg(long, default_value = "table")]
    format: String,
    /// A history file of `date,quantity` rows (YYYY-MM-DD, every period present) instead of
    /// the store's shipments.
    #[arg(long)]
    history: Option<PathBuf>,
}

impl ForecastArgs {
    pub fn has_history(&self) -> bool {
        self.history.is_some()
    }
}

struct Parsed {
    by: Period,
    format: Format,
    horizon: usize,
}

fn parse(a: &ForecastArgs, json: bool) -> Result<Parsed, String> {
    let by =
        Period::parse(&a.by).ok_or_else(|| format!("--by: '{}' is not week or month", a.by))?;
    let format = if json {
        Format::Json
    } else {
        Format::parse(&a.format)
            .ok_or_else(|| format!("--format: '{}' is not table, csv or json", a.format))?
    };
    if a.horizon == 0 || a.horizon > ordo_forecast::MAX_HORIZON {
        return Err(format!(
            "--horizon: {} is not in 1..={}",
            a.horizon,
            ordo_forecast::MAX_HORIZON
        ));
    }
    Ok(Parsed {
        by,
        format,
        horizon: a.horizon,
    })
}

/// `ordo forecast --history FILE`: needs no store. The forecast starts after the file's last
/// period.
pub fn from_history(a: &ForecastArgs, json: bool) -> ExitCode {
    let p = match parse(a, json) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let Some(path) = &a.history else {
        return fail("--history: no file");
    };
    let label = a.item.clone().unwrap_or_else(|| "history".to_string());
    let f = match from_file(path, &label, p.by, p.horizon) {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let made = chrono::Utc::now().date_naive();
    let items = [f];
    let (out, none) = render(&items, p.by, made, p.format);
    print!("{out}");
    if none.is_empty() {
        ExitCode::SUCCESS
    } else {
        if p.format == Format::Csv {
            none.iter().for_each(|n| eprintln!("{n}"));
        }
        ExitCode::from(super::FAIL)
    }
}

/// `ordo forecast` from the store's shipments, as of business today.
pub async fn from_engine(
    engine: &Arc<Engine>,
    a: &ForecastArgs,
    json: bool,
) -> Result<ExitCode, EngineError> {
    let p = match parse(a, json) {
        Ok(p) => p,
        Err(e) => return Ok(fail(e)),
    };
    let items = from_store(engine, a.item.as_deref(), p.by, p.horizon).await?;
    let made = chrono::DateTime::from_timestamp_millis(engine.clock.now_ms())
        .map_or_else(|| chrono::Utc::now().date_naive(), |t| t.date_naive());
    let (out, none) = render(&items, p.by, made, p.format);
    print!("{out}");
    if p.format == Format::Csv {
        none.iter().for_each(|n| eprintln!("{n}"));
    }
    // One item asked for and no forecast for it: a failure; among all items, items without
    // enough history are expected and listed.
    Ok(if a.item.is_some() && !none.is_empty() {
        ExitCode::from(super::FAIL)
    } else {
        ExitCode::SUCCESS
    })
}

#[derive(Args)]
pub struct ForecastBenchArgs {
    /// Folder of series files `NAME__mSEASON.csv` (tools/forecast-bench writes the public
    /// datasets there); the generated intermittent series are written there too.
    #[arg(long)]
    series: Option<PathBuf>,
    /// Generated intermittent weekly series (seeded).
    #[arg(long, default_value_t = 6)]
    intermittent: usize,
    /// Periods ahead at each origin.
    #[arg(long, default_value_t = 12)]
    horizon: usize,
    /// Origins per series.
    #[arg(long, default_value_t = 6)]
    origins: usize,
    /// Periods between origins.
    #[arg(long, default_value_t = 3)]
    step: usize,
    /// Items of the speed run (0 skips it).
    #[arg(long, default_value_t = 10_000)]
    items: usize,
    /// Weekly periods per item in the speed run.
    #[arg(long, default_value_t = 156)]
    weeks: usize,
    /// Write the per-series results as JSON here (for tools/forecast-bench).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

pub fn bench_cmd(a: ForecastBenchArgs, json: bool) -> ExitCode {
    let mut series = match &a.series {
        Some(dir) => match bench::read_series_dir(dir) {
            Ok(s) => s
                .into_iter()
                .filter(|s| !s.name.starts_with("intermittent_"))
                .collect(),
            Err(e) => return fail(e),
        },
        None => Vec::new(),
    };
    let generated = bench::intermittent(a.intermittent, 156, 2026);
    if let Some(dir) = &a.series
        && let Err(e) = bench::write_series(dir, &generated)
    {
        return fail(e);
    }
    series.extend(generated);
    let mut results = Vec::new();
    for s in &series {
        match bench::evaluate(s, a.horizon.min(s.season.max(1)).max(1), a.origins, a.step) {
            Ok(r) => results.push(r),
            Err(e) => return fail(e),
        }
    }
    let worse: Vec<&str> = results
        .iter()
        .filter(|r| r.ordo.mase > r.seasonal_naive.mase + 1e-9)
        .map(|r| r.name.as_str())
        .collect();
    if let Some(out) = &a.out
        && let Err(e) = std::fs::write(
            out,
            serde_json::to_string_pretty(&results).unwrap_or_default(),
        )
    {
        return fail(format!("{}: {e}", out.display()));
    }
    let cpu = || {
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        ordo_forecast::workload::cpu_from_stat(&stat, 100.0)
    };
    let speed = (a.items > 0).then(|| bench::speed(a.items, a.weeks, &cpu));
    if json {
        print_json(&json!({ "accuracy": results, "speed": speed, "load_1m": load() }));
    } else {
        println!(
            "accuracy: rolling origins, MASE and bias (scaled mean error) per series, means over origins"
        );
        println!(
            "{:<22} {:>4} {:>5} {:>7} {:>10} {:>10} {:>10} {:>10}  chosen",
            "series", "m", "n", "origins", "ordo MASE", "ordo bias", "snaive", "sn. bias"
        );
        for r in &results {
            let mut chosen: Vec<String> = r.methods.clone();
            chosen.dedup();
            println!(
                "{:<22} {:>4} {:>5} {:>7} {:>10.3} {:>10.3} {:>10.3} {:>10.3}  {}",
                r.name,
                r.season,
                r.length,
                r.origins.len(),
                r.ordo.mase,
                r.ordo.bias,
                r.seasonal_naive.mase,
                r.seasonal_naive.bias,
                chosen.join(" / ")
            );
        }
        let n = results.len().max(1) as f64;
        println!(
            "mean MASE: ordo {:.3}, seasonal naive {:.3} (load {})",
            results.iter().map(|r| r.ordo.mase).sum::<f64>() / n,
            results.iter().map(|r| r.seasonal_naive.mase).sum::<f64>() / n,
            load()
        );
        if let Some(s) = &speed {
            println!(
                "speed: {} items x {} weeks forecast 12 weeks ahead in {:.3} s wall, {} CPU s ({:.0} items/s); ceiling (one pass summing the same series) {:.4} s; {} without forecast; load {}",
                s.items,
                s.weeks,
                s.seconds,
                s.cpu_seconds.map_or("?".to_string(), |c| format!("{c:.3}")),
                s.items as f64 / s.seconds.max(1e-9),
                s.ceiling_seconds,
                s.no_forecast,
                load()
            );
            let m: Vec<String> = s.methods.iter().map(|(k, v)| format!("{k} {v}")).collect();
            println!("speed: methods chosen: {}", m.join(", "));
        }
    }
    if worse.is_empty() {
        ExitCode::SUCCESS
    } else {
        fail(format!(
            "ordo is worse than seasonal naive on: {}",
            worse.join(", ")
        ))
    }
}
