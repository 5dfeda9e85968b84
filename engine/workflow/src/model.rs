//! The validated workflow model handed to the engine.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::Catalog;

/// One workflow file, parsed and checked (see the crate docs for the YAML shape).
#[derive(Debug, Clone)]
pub struct Workflow {
    pub name: String,
    pub version: u32,
    pub description: Option<String>,
    pub trigger: Trigger,
    /// The first step of every instance (`start:`, or the first step in file order).
    pub start: String,
    /// Steps in file order.
    pub steps: Vec<Step>,
    /// `defaults.retry` merged over [`RetryPolicy::default`].
    pub default_retry: RetryPolicy,
    /// The path the caller passed to [`crate::parse`]; used in diagnostics.
    pub path: String,
    /// The exact source text, kept so the engine can store it and re-parse old versions.
    pub source: String,
    /// FNV-1a 64 of `source`, 16 lowercase hex digits.
    pub source_hash: String,
}

impl Workflow {
    /// The step called `name`, if any.
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }
}

/// What starts an instance.
#[derive(Debug, Clone)]
// One per workflow, and the engine matches on `schedule` directly: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum Trigger {
    /// No `trigger:` key: instances are started by hand (`ordo submit`).
    Manual,
    /// An event; `key` names the payload field that is the instance's business key.
    Event { event: String, key: String },
    /// A schedule. `expr` is the normalized 6- or 7-field expression (5-field input gets a
    /// leading `0 ` seconds field); `timezone` is an IANA name (default `UTC`).
    Cron {
        expr: String,
        timezone: String,
        schedule: cron::Schedule,
    },
}

/// One named step of a workflow.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub kind: StepKind,
    /// Outcome -> next step.
    pub on: BTreeMap<String, String>,
    /// Next step for every outcome not listed in `on`.
    pub then: Option<String>,
    /// Step `retry:` merged over the workflow's default retry policy.
    pub retry: RetryPolicy,
    /// `with:` parameters as a JSON object (`{}` when absent); numbers keep their YAML text.
    pub params: serde_json::Value,
    /// 1-based position of the step's name in the source.
    pub line: usize,
    pub col: usize,
}

impl Step {
    /// The step that follows `outcome`: `on[outcome]`, else `then`.
    pub fn next(&self, outcome: &str) -> Option<&str> {
        self.on
            .get(outcome)
            .or(self.then.as_ref())
            .map(String::as_str)
    }

    /// The outcomes this step can produce, when known.
    ///
    /// Task and wait steps know theirs (plus `timeout` when a timeout is set); an end step
    /// produces none. Connector and rule outcomes come from the catalog: `None` without a
    /// catalog, for an unknown name, or for a rule whose outcomes are not declared.
    pub fn outcomes(&self, catalog: Option<&Catalog>) -> Option<Vec<String>> {
        match &self.kind {
            StepKind::Task {
                timeout, outcomes, ..
            } => {
                let mut all = outcomes.clone();
                if timeout.is_some() && !all.iter().any(|o| o == "timeout") {
                    all.push("timeout".to_string());
                }
                Some(all)
            }
            StepKind::Wait {
                timeout,
                until,
                outcomes,
                ..
            } => {
                let mut all = outcomes.clone();
                if (timeout.is_some() || until.is_some()) && !all.iter().any(|o| o == "timeout") {
                    all.push("timeout".to_string());
                }
                Some(all)
            }
            StepKind::End { .. } => Some(Vec::new()),
            StepKind::Connector { connector } => catalog?.connectors.get(connector).cloned(),
            StepKind::Rule { rule } => catalog?.rules.get(rule).cloned().flatten(),
        }
    }
}

/// What a step does.
#[derive(Debug, Clone)]
pub enum StepKind {
    /// Evaluate `rules/<rule>.rhai`; its result is the outcome.
    Rule { rule: String },
    /// Run a registered connector; it returns the outcome.
    Connector { connector: String },
    /// A human decision by someone with `role`.
    Task {
        role: String,
        timeout: Option<Duration>,
        outcomes: Vec<String>,
    },
    /// Wait for an event addressed to the instance.
    Wait {
        event: String,
        timeout: Option<Duration>,
        /// `until:` a cron schedule (UTC): the wait ends with `timeout` at its next
        /// occurrence after the step starts waiting (a daily dunning run at 06:00, say).
        until: Option<Box<CronSchedule>>,
        outcomes: Vec<String>,
    },
    /// Terminal: the instance ends with `status`.
    End { status: String },
}

/// A cron schedule as written (normalized) and parsed.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    pub expr: String,
    pub schedule: cron::Schedule,
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr
    }
}

impl Eq for CronSchedule {}

impl CronSchedule {
    /// The first occurrence strictly after `after`.
    pub fn next_after(
        &self,
        after: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.schedule.after(&after).next()
    }
}

/// How often and how far apart a failing step is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (>= 1; 1 = no retry).
    pub attempts: u32,
    /// Delay before the first retry; doubled for each further retry.
    pub backoff: Duration,
    /// Cap on any one delay.
    pub max: Duration,
}

impl RetryPolicy {
    /// Delay before retrying after failed attempt `attempt` (1-based):
    /// `backoff * 2^(attempt-1)`, capped at `max`. Never overflows; `attempt` 0 counts as 1.
    pub fn delay(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1);
        let cap = self.max.as_nanos();
        let base = self.backoff.as_nanos();
        let nanos = if shift >= 127 {
            if base == 0 { 0 } else { cap }
        } else {
            base.checked_mul(1u128 << shift).map_or(cap, |n| n.min(cap))
        };
        nanos_to_duration(nanos)
    }
}

fn nanos_to_duration(nanos: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    // A duration beyond u64 seconds saturates (parse refuses such input before).
    let secs = u64::try_from(nanos / NANOS_PER_SEC).unwrap_or(u64::MAX);
    // The remainder is < 10^9 and always fits.
    let sub = u32::try_from(nanos % NANOS_PER_SEC).unwrap_or(0);
    Duration::new(secs, sub)
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            backoff: Duration::from_secs(1),
            max: Duration::from_secs(60),
        }
    }
}
