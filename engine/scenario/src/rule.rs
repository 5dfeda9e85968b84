//! `ordo bench rule`: the median time of one evaluation of `rules/approval.rhai` on an input
//! that passes every check (the whole rule runs, the slowest path), inputs built each time.

use ordo_rules::{Limits, RuleHost};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// What the rule bench measured.
pub struct RuleFigures {
    pub evals: usize,
    pub median_us: f64,
    pub total: Duration,
}

pub fn rule_bench(rules: &Path, evals: usize) -> Result<RuleFigures, String> {
    let host = RuleHost::new(Limits::default());
    let path = rules.join("approval.rhai");
    let src = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rule = host
        .compile("approval", &path.display().to_string(), &src)
        .map_err(|d| d.to_string())?;
    let inputs: serde_json::Map<String, Value> = serde_json::from_str(
        r#"{"pricing": {"total": 1234.56, "currency": "EUR", "margin_percent": 32.5},
            "customer": {"credit_limit": 50000.00, "open_balance": 1200.00, "overdue": 0}}"#,
    )
    .map_err(|e| e.to_string())?;
    host.evaluate(&rule, &inputs)
        .map_err(|e| format!("approval rule does not run on the bench input: {e}"))?;
    let batch = 1000;
    let mut per_batch = Vec::new();
    let started = Instant::now();
    for _ in 0..(evals / batch).max(1) {
        let t = Instant::now();
        for _ in 0..batch {
            let _ = std::hint::black_box(host.evaluate(&rule, &inputs));
        }
        per_batch.push(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    let total = started.elapsed();
    per_batch.sort_by(|a, b| a.total_cmp(b));
    Ok(RuleFigures {
        evals: per_batch.len() * batch,
        median_us: per_batch[per_batch.len() / 2] / 1000.0,
        total,
    })
}
