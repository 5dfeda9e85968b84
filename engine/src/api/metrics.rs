//! `GET /metrics`: the Prometheus text format (version 0.0.4). HTTP requests are counted
//! here by route and status; everything else is read from the store when scraped (instances
//! by state, failed instances, open tasks, queue depth, outbound backlog, open reconciliation
//! exceptions, quarantined files), so every process of a cluster reports the same business
//! figures.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

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
