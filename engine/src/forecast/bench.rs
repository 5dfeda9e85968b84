//! `ordo bench forecast`: accuracy by rolling-origin evaluation, and speed.
//!
//! Accuracy: each series (files `NAME__mSEASON.csv` with one number per line after an optional
//! `value` header, written by tools/forecast-bench from public datasets, plus intermittent
//! series this module generates from a seed) is cut at `origins` points: the last one `horizon`
//! periods before its end, each earlier one `step` periods before the next. At each origin
//! ordo's automatic forecast and the seasonal naive baseline are made from the history before
//! it and compared with the `horizon` periods after it:
//!
//! - MASE: mean |forecast − actual| / the mean absolute seasonal difference of the history
//!   before the origin (lag 1 when that history is not longer than a season; the same scale
//!   tools/forecast-bench uses for statsforecast);
//! - bias: mean (forecast − actual) on the same scale (positive: over-forecast).
//!
//! Per series the figures are the means over its origins. The origins are written to the JSON
//! report, so the external comparison runs on exactly the same cuts.
//!
//! Speed: `items` series of `weeks` weekly periods (regular, seasonal and intermittent mixed),
//! forecast 12 weeks ahead with the automatic choice, beside the ceiling of one pass summing
//! the same values.

use ordo_forecast::workload::SplitMix;
pub use ordo_forecast::workload::{Speed, speed};
use ordo_forecast::{Demand, Method, Options, forecast, forecast_with, mase, mase_scale};
use serde::Serialize;
use std::path::Path;

/// One series to evaluate.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub name: String,
    pub season: usize,
    #[serde(skip)]
    pub values: Vec<f64>,
}

/// Accuracy figures of one method on one series (means over the origins).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Accuracy {
    pub mase: f64,
    pub bias: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesResult {
    pub name: String,
    pub season: usize,
    pub length: usize,
    pub horizon: usize,
    /// The first period after each origin (0-based index into the series).
    pub origins: Vec<usize>,
    pub ordo: Accuracy,
    pub seasonal_naive: Accuracy,
    /// The method ordo chose at each origin.
    pub methods: Vec<String>,
}

/// Reads `dir/*.csv` (name `NAME__mSEASON.csv`): located errors for bad lines.
pub fn read_series_dir(dir: &Path) -> Result<Vec<Series>, String> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        let Some(stem) = file.strip_suffix(".csv") else {
            continue;
        };
        let shown = path.display().to_string();
        let (name, season) = stem
            .rsplit_once("__m")
            .and_then(|(n, m)| Some((n.to_string(), m.parse::<usize>().ok()?)))
            .ok_or_else(|| format!("{shown}: the name is not NAME__mSEASON.csv"))?;
        let bytes = match crate::channels::read_bounded(&path, 64 * 1024 * 1024) {
            Ok(Ok(b)) => b,
            Ok(Err(size)) => return Err(format!("{shown}: {size} bytes is over 64 MiB")),
            Err(e) => return Err(format!("{shown}: {e}")),
        };
        let text = String::from_utf8(bytes).map_err(|_| format!("{shown}: not UTF-8"))?;
        let mut values = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || (i == 0 && l == "value") {
                continue;
            }
            let v: f64 = l
                .parse()
                .map_err(|_| format!("{shown}:{}:1: '{l}' is not a number", i + 1))?;
            if !v.is_finite() || v < 0.0 {
                return Err(format!(
                    "{shown}:{}:1: {v} is not a finite non-negative quantity",
                    i + 1
                ));
            }
            values.push(v);
        }
        out.push(Series {
            name,
            season,
            values,
        });
    }
    Ok(out)
}

/// `count` intermittent weekly series of `weeks` periods: a demand in a week with probability
/// 0.15–0.5 (per series), its size 1 + a geometric count of mean 2–8.
pub fn intermittent(count: usize, weeks: usize, seed: u64) -> Vec<Series> {
    let mut g = SplitMix::new(seed);
    (0..count)
        .map(|i| {
            let p = 0.15 + 0.35 * g.unit();
            let mean = 2.0 + 6.0 * g.unit();
            let q = 1.0 / (1.0 + mean);
            let values = (0..weeks)
                .map(|_| {
                    if g.unit() >= p {
                        return 0.0;
                    }
                    let mut size = 1.0;
                    while g.unit() > q && size < 1000.0 {
                        size += 1.0;
                    }
                    size
                })
                .collect();
            Series {
                name: format!("intermittent_{:02}", i + 1),
                season: 52,
                values,
            }
        })
        .collect()
}

/// Writes each series as `dir/NAME__mSEASON.csv`.
pub fn write_series(dir: &Path, series: &[Series]) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for s in series {
        let path = dir.join(format!("{}__m{}.csv", s.name, s.season));
        let mut text = String::from("value\n");
        for v in &s.values {
            text.push_str(&format!("{v}\n"));
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// The origins of a series of `n` periods: the last `horizon` before the end, then every
/// `step` earlier, while the history before it has at least `min_train` periods.
pub fn origins(
    n: usize,
    horizon: usize,
    count: usize,
    step: usize,
    min_train: usize,
) -> Vec<usize> {
    let mut out = Vec::new();
    let mut o = match n.checked_sub(horizon) {
        Some(o) => o,
        None => return out,
    };
    while out.len() < count && o >= min_train {
        out.push(o);
        match o.checked_sub(step.max(1)) {
            Some(p) => o = p,
            None => break,
        }
    }
    out.reverse();
    out
}

fn accuracy(actual: &[f64], pred: &[f64], scale: f64) -> (f64, f64) {
    let n = actual.len().max(1) as f64;
    let bias = pred.iter().zip(actual).map(|(p, a)| p - a).sum::<f64>() / n / scale;
    (mase(actual, pred, scale), bias)
}

/// Rolling-origin evaluation of one series.
pub fn evaluate(
    s: &Series,
    horizon: usize,
    count: usize,
    step: usize,
) -> Result<SeriesResult, String> {
    let min_train = ordo_forecast::MIN_PERIODS.max(s.season + 1);
    let cuts = origins(s.values.len(), horizon, count, step, min_train);
    if cuts.is_empty() {
        return Err(format!(
            "{}: {} periods are too few for a {horizon}-period horizon",
            s.name,
            s.values.len()
        ));
    }
    let o = Options::new(horizon, s.season);
    let (mut om, mut ob, mut nm, mut nb) = (0.0, 0.0, 0.0, 0.0);
    let mut methods = Vec::new();
    for &cut in &cuts {
        let train = &s.values[..cut];
        let actual = &s.values[cut..cut + horizon];
        let d = Demand::from_f64(train).map_err(|e| format!("{}: {e}", s.name))?;
        let scale = mase_scale(train, s.season);
        let f = forecast(&d, &o).map_err(|e| format!("{} at origin {cut}: {e}", s.name))?;
        let pred: Vec<f64> = f.points.iter().map(|p| p.mean).collect();
        let (m, b) = accuracy(actual, &pred, scale);
        om += m;
        ob += b;
        methods.push(f.method.to_string());
        let base = if s.season > 1 && train.len() > s.season {
            Method::SeasonalNaive
        } else {
            Method::Naive
        };
        let n =
            forecast_with(&d, base, &o).map_err(|e| format!("{} at origin {cut}: {e}", s.name))?;
        let pred: Vec<f64> = n.points.iter().map(|p| p.mean).collect();
        let (m, b) = accuracy(actual, &pred, scale);
        nm += m;
        nb += b;
    }
    let k = cuts.len() as f64;
    Ok(SeriesResult {
        name: s.name.clone(),
        season: s.season,
        length: s.values.len(),
        horizon,
        origins: cuts,
        ordo: Accuracy {
            mase: om / k,
            bias: ob / k,
        },
        seasonal_naive: Accuracy {
            mase: nm / k,
            bias: nb / k,
        },
        methods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_step_back_from_the_end_and_keep_a_minimum_history() {
        assert_eq!(origins(100, 12, 3, 6, 24), vec![76, 82, 88]);
        assert_eq!(origins(40, 12, 5, 6, 20), vec![22, 28]);
        assert!(origins(10, 12, 3, 6, 8).is_empty());
    }

    #[test]
    fn generated_series_are_seeded_and_intermittent() {
        let a = intermittent(3, 156, 7);
        let b = intermittent(3, 156, 7);
        assert_eq!(a[2].values, b[2].values);
        for s in &a {
            assert!(ordo_forecast::is_intermittent(&s.values), "{}", s.name);
        }
    }

    #[test]
    fn the_evaluation_scores_ordo_and_the_baseline_on_the_same_cuts() {
        let pat = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0, 8.0];
        let s = Series {
            name: "s".into(),
            season: 12,
            values: (0..60).map(|t| 10.0 * pat[t % 12]).collect(),
        };
        let r = evaluate(&s, 6, 3, 3).unwrap();
        assert_eq!(r.origins, vec![48, 51, 54]);
        // A pure seasonal pattern: the baseline is exact, and ordo must be too.
        assert!(r.seasonal_naive.mase < 1e-9 && r.ordo.mase < 1e-6, "{r:?}");
    }

    #[test]
    fn bad_series_files_are_located() {
        let dir = std::env::temp_dir().join(format!("ordo-fc-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a__m12.csv"), "value\n1\n-2\n").unwrap();
        let e = read_series_dir(&dir).unwrap_err();
        assert!(
            e.ends_with("a__m12.csv:3:1: -2 is not a finite non-negative quantity"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
