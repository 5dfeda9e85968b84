//! Seeded workloads for benchmarks (`ordo bench forecast`) and the speed run itself: pure
//! computation timed with `std::time::Instant`, no I/O.

use crate::{Demand, Options, forecast_many};
use serde::Serialize;
use std::time::Instant;

/// A small deterministic generator (SplitMix64): the bench's series are the same on every
/// machine and in tools/forecast-bench, which reads them from the files this bench writes.
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The speed workload: `items` weekly series of `weeks` periods.
pub fn speed_workload(items: usize, weeks: usize, seed: u64) -> Vec<Demand> {
    let mut g = SplitMix::new(seed);
    (0..items)
        .filter_map(|i| {
            let level = 5.0 + 200.0 * g.unit();
            let amp = level * 0.4 * g.unit();
            let trend = (g.unit() - 0.5) * level / weeks as f64;
            let p = 0.2 + 0.6 * g.unit();
            let values: Vec<f64> = (0..weeks)
                .map(|t| {
                    let noise = (g.unit() - 0.5) * level * 0.3;
                    if i % 4 == 3 {
                        // A quarter of the items sell intermittently.
                        if g.unit() < p {
                            (1.0 + 9.0 * g.unit()).round()
                        } else {
                            0.0
                        }
                    } else {
                        let season = amp * (2.0 * std::f64::consts::PI * t as f64 / 52.0).sin();
                        (level + trend * t as f64 + season + noise).max(0.0).round()
                    }
                })
                .collect();
            Demand::from_f64(&values).ok()
        })
        .collect()
}

/// Figures of the speed run.
#[derive(Debug, Clone, Serialize)]
pub struct Speed {
    pub items: usize,
    pub weeks: usize,
    pub seconds: f64,
    pub ceiling_seconds: f64,
    /// CPU seconds of the process (all threads) during the forecasts, when known.
    pub cpu_seconds: Option<f64>,
    pub forecasts: usize,
    pub no_forecast: usize,
    pub methods: Vec<(String, usize)>,
}

/// Runs the speed workload. `cpu` reads the process's CPU seconds (the caller's, since this
/// crate does no I/O): the CPU time of the forecasts does not depend on how loaded the host is,
/// the wall time does.
pub fn speed(items: usize, weeks: usize, cpu: &dyn Fn() -> Option<f64>) -> Speed {
    let series = speed_workload(items, weeks, 17);
    // Ceiling: one pass over the same values (summing them), the least any forecast must do.
    let t = Instant::now();
    let mut total = 0.0;
    for s in &series {
        total += s.values().iter().sum::<f64>();
    }
    std::hint::black_box(total);
    let ceiling_seconds = t.elapsed().as_secs_f64();
    let o = Options::new(12, 52);
    let t = Instant::now();
    let c0 = cpu();
    let out = forecast_many(&series, &o);
    let seconds = t.elapsed().as_secs_f64();
    let cpu_seconds = match (c0, cpu()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let mut methods: std::collections::BTreeMap<String, usize> = Default::default();
    let mut no_forecast = 0;
    for r in &out {
        match r {
            Ok(f) => *methods.entry(f.method.to_string()).or_default() += 1,
            Err(_) => no_forecast += 1,
        }
    }
    Speed {
        items: series.len(),
        weeks,
        seconds,
        ceiling_seconds,
        cpu_seconds,
        forecasts: out.len() - no_forecast,
        no_forecast,
        methods: methods.into_iter().collect(),
    }
}

/// The CPU seconds (user + system, all threads) of this process from `/proc/self/stat`'s text,
/// given as `stat` (the caller reads the file); `None` when it cannot be read.
pub fn cpu_from_stat(stat: &str, ticks_per_second: f64) -> Option<f64> {
    // Fields after the command name (which may hold spaces) in parentheses: utime is the 14th
    // field of the line, stime the 15th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ut: f64 = f.get(11)?.parse().ok()?;
    let st: f64 = f.get(12)?.parse().ok()?;
    Some((ut + st) / ticks_per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_seconds_come_from_the_stat_line() {
        let stat = "1234 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0";
        assert_eq!(cpu_from_stat(stat, 100.0), Some(3.0));
        assert_eq!(cpu_from_stat("garbage", 100.0), None);
    }

    #[test]
    fn the_speed_run_forecasts_every_item() {
        let s = speed(40, 156, &|| None);
        assert_eq!((s.items, s.forecasts, s.no_forecast), (40, 40, 0));
        assert!(s.cpu_seconds.is_none() && s.seconds > 0.0);
    }
}
