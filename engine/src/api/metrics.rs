//! `GET /metrics`: the Prometheus text format (version 0.0.4). HTTP requests are counted
//! here by route and status, and steps by outcome and latency in [`StepMetrics`] (atomics the
//! workers add to after each commit: no store write per step); both are this process's. The
//! business figures are read from the store when scraped (instances by state, failed
//! instances, open tasks, queue depth, outbound backlog, open reconciliation exceptions), so
//! every process of a cluster reports the same ones; quarantined files are counted in the
//! quarantine folders.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Metrics {
    /// (method, route template, status) → count.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
}

impl Metrics {
    pub fn count(&self, method: &str, route: &str, status: u16) {
        let mut m = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        // route templates, not raw paths: the key space is bounded by the router
        *m.entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
    }

    pub fn render_requests(&self, out: &mut String) {
        let m = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        out.push_str(
            "# HELP ordo_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE ordo_http_requests_total counter\n");
        for ((method, route, status), n) in m.iter() {
            let _ = writeln!(
                out,
                "ordo_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
    }
}

/// A label value with `\`, `"` and newlines escaped.
pub fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One gauge with its help and type lines.
pub fn gauge(out: &mut String, name: &str, help: &str, samples: &[(String, i64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    for (labels, v) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {v}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
    }
}

/// Upper bounds (µs) of the step latency histogram's buckets: Prometheus' default buckets
/// from 1 ms to 10 s, plus +Inf.
const BUCKETS_US: [u64; 13] = [
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000, 10_000_000,
];

/// The step outcomes counted: `ok` (the step ran and its instance moved on, parked or ended),
/// `retried` (it failed and a retry is scheduled), `failed` (it failed for good).
pub const STEP_OUTCOMES: [&str; 3] = ["ok", "retried", "failed"];

/// Steps committed by this process's workers: by outcome, and the latency of each from when
/// its message was queued to the commit that consumed it.
#[derive(Default)]
pub struct StepMetrics {
    outcomes: [AtomicU64; 3],
    /// Per bucket (not cumulative; the last is over the largest bound).
    buckets: [AtomicU64; 14],
    sum_us: AtomicU64,
}

impl StepMetrics {
    /// Adds one committed batch: `counts` per [`STEP_OUTCOMES`], and each step's latency (µs).
    pub fn add(&self, counts: [usize; 3], latencies_us: impl Iterator<Item = u64>) {
        for (slot, n) in self.outcomes.iter().zip(counts) {
            if n > 0 {
                slot.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
        for us in latencies_us {
            let i = BUCKETS_US.partition_point(|&b| b < us);
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
            self.sum_us.fetch_add(us, Ordering::Relaxed);
        }
    }

    pub fn render(&self, out: &mut String) {
        out.push_str("# HELP ordo_steps_total Steps committed by this process, by outcome.\n");
        out.push_str("# TYPE ordo_steps_total counter\n");
        for (name, n) in STEP_OUTCOMES.iter().zip(&self.outcomes) {
            let _ = writeln!(
                out,
                "ordo_steps_total{{outcome=\"{name}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        out.push_str(
            "# HELP ordo_step_latency_seconds From a step's message queued to the commit that consumed it.\n",
        );
        out.push_str("# TYPE ordo_step_latency_seconds histogram\n");
        let mut total = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            total += b.load(Ordering::Relaxed);
            let le = match BUCKETS_US.get(i) {
                Some(us) => format!("{}", *us as f64 / 1e6),
                None => "+Inf".to_string(),
            };
            let _ = writeln!(
                out,
                "ordo_step_latency_seconds_bucket{{le=\"{le}\"}} {total}"
            );
        }
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "ordo_step_latency_seconds_sum {sum}");
        let _ = writeln!(out, "ordo_step_latency_seconds_count {total}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_every_step() {
        let m = StepMetrics::default();
        m.add([2, 1, 0], [500u64, 1_000, 30_000, 20_000_000].into_iter());
        let mut out = String::new();
        m.render(&mut out);
        assert!(
            out.contains("ordo_steps_total{outcome=\"ok\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("ordo_steps_total{outcome=\"retried\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("ordo_steps_total{outcome=\"failed\"} 0\n"),
            "{out}"
        );
        // 500 µs and 1 ms fall in le=0.001 (bounds are inclusive)
        assert!(
            out.contains("ordo_step_latency_seconds_bucket{le=\"0.001\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("ordo_step_latency_seconds_bucket{le=\"0.025\"} 2\n"),
            "{out}"
        );
        assert!(
            out.contains("ordo_step_latency_seconds_bucket{le=\"0.05\"} 3\n"),
            "{out}"
        );
        assert!(
            out.contains("ordo_step_latency_seconds_bucket{le=\"10\"} 3\n"),
            "{out}"
        );
        assert!(
            out.contains("ordo_step_latency_seconds_bucket{le=\"+Inf\"} 4\n"),
            "{out}"
        );
        assert!(out.contains("ordo_step_latency_seconds_count 4\n"), "{out}");
        assert!(
            out.contains("ordo_step_latency_seconds_sum 20.0315\n"),
            "{out}"
        );
    }
}
