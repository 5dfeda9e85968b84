//! From the raw YAML to a [`Workflow`]: values, names, step kinds, targets.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_saphyr::Location;

use crate::raw::{self, Node, Pos, RawDoc, RawRetry, RawStep, S, parse_raw};
use crate::{Diagnostic, RetryPolicy, Step, StepKind, Trigger, Workflow, cron_expr, graph};
use crate::{parse_duration, suggest};

/// Collects diagnostics for one file.
pub struct Ctx<'a> {
    pub path: &'a str,
    pub src: &'a str,
    pub diags: Vec<Diagnostic>,
}

impl Ctx<'_> {
    pub fn err(&mut self, at: impl Into<Pos>, message: impl Into<String>) {
        self.diags.push(diag(self.path, at, message.into()));
    }

    /// The diagnostics sorted by position, without repeats.
    pub fn finish(mut self) -> Vec<Diagnostic> {
        self.diags.sort();
        self.diags.dedup();
        self.diags
    }
}

pub fn diag(path: &str, at: impl Into<Pos>, message: String) -> Diagnostic {
    let Pos { line, col } = at.into();
    Diagnostic {
        path: path.to_string(),
        line,
        col,
        message,
    }
}

/// Where a step's parts are, for diagnostics that [`crate::check`] makes later.
#[derive(Debug, Clone)]
pub struct StepSpans {
    pub name: Pos,
    /// The value of the kind key (`connector: x` -> `x`).
    pub kind: Pos,
    /// `on:` outcomes with their positions, in file order.
    pub on: Vec<(String, Pos)>,
}

impl StepSpans {
    /// Everything at the step's name: for a step that is not in its workflow's source.
    pub fn at(step: &Step) -> StepSpans {
        let pos = Pos {
            line: step.line,
            col: step.col,
        };
        let on = step.on.keys().map(|k| (k.clone(), pos)).collect();
        StepSpans {
            name: pos,
            kind: pos,
            on,
        }
    }
}

/// Parse and check without a catalog. The workflow is there whenever the YAML had the
/// right shape, even with semantic errors, so that [`crate::load_set`] can check it too.
pub fn parse_all(path: &str, src: &str) -> (Option<Workflow>, Vec<Diagnostic>) {
    let raw = match parse_raw(src) {
        Ok(raw) => raw,
        Err((loc, mut msg)) => {
            let blank = src
                .lines()
                .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
            if blank {
                msg = "the file is empty: a workflow needs 'workflow', 'version' and 'steps'"
                    .to_string();
            }
            return (None, vec![diag(path, &loc, msg)]);
        }
    };
    let mut cx = Ctx {
        path,
        src,
        diags: Vec::new(),
    };
    let (wf, spans) = lower(&mut cx, &raw);
    graph::check_graph(&mut cx, &wf, &spans, &raw.steps.referenced);
    (Some(wf), cx.finish())
}

/// Position of the workflow name in `wf.source` (for duplicate-version diagnostics).
pub fn name_at(wf: &Workflow) -> Diagnostic {
    let pos = parse_raw(&wf.source).map_or(Pos { line: 1, col: 1 }, |raw| {
        Pos::from(&raw.workflow.referenced)
    });
    diag(&wf.path, pos, String::new())
}

/// Step spans by name (first definition wins), from `wf.source`.
pub fn spans_of(src: &str) -> BTreeMap<String, StepSpans> {
    let mut out = BTreeMap::new();
    if let Ok(raw) = parse_raw(src) {
        for (name, step) in &raw.steps.value.0 {
            out.entry(name.value.clone())
                .or_insert_with(|| step_spans(name, step));
        }
    }
    out
}

fn step_spans(name: &S<String>, step: &S<RawStep>) -> StepSpans {
    let s = &step.value;
    let kind = [
        s.rule.as_ref().map(|v| v.referenced),
        s.connector.as_ref().map(|v| v.referenced),
        s.task.as_ref().map(|v| v.referenced),
        s.wait.as_ref().map(|v| v.referenced),
        s.end.as_ref().map(|v| v.referenced),
    ]
    .into_iter()
    .flatten()
    .next()
    // Position only: a step without a kind key is placed at its name.
    .unwrap_or(name.referenced);
    let on = s.on.iter().flat_map(|on| &on.value.0);
    StepSpans {
        name: Pos::from(&name.referenced),
        kind: Pos::from(&kind),
        on: on
            .map(|(k, _)| (k.value.clone(), Pos::from(&k.referenced)))
            .collect(),
    }
}

/// Names: lowercase ASCII letters, digits, '.', '_', '-', starting with a letter or digit.
pub fn is_name(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

fn check_name(cx: &mut Ctx, what: &str, name: &S<String>) {
    if !is_name(&name.value) {
        cx.err(
            &name.referenced,
            format!(
                "invalid {what} '{}': use lowercase letters, digits, '.', '_' and '-'",
                name.value
            ),
        );
    }
}

fn lower(cx: &mut Ctx, raw: &RawDoc) -> (Workflow, BTreeMap<String, StepSpans>) {
    check_name(cx, "workflow name", &raw.workflow);
    let version = if raw.version.value < 1 {
        cx.err(&raw.version.referenced, "version must be at least 1");
        0
    } else {
        u32::try_from(raw.version.value).unwrap_or_else(|_| {
            cx.err(&raw.version.referenced, "version is too large");
            0
        })
    };
    let trigger = raw
        .trigger
        .as_ref()
        .map_or(Trigger::Manual, |t| lower_trigger(cx, t));
    let default_retry = match raw.defaults.as_ref().and_then(|d| d.value.retry.as_ref()) {
        Some(r) => lower_retry(cx, r, RetryPolicy::default()),
        None => RetryPolicy::default(),
    };

    let mut steps = Vec::new();
    let mut spans = BTreeMap::new();
    for (name, step) in &raw.steps.value.0 {
        if spans.contains_key(&name.value) {
            // Unreachable with duplicate keys rejected by the parser; kept as a guard.
            cx.err(&name.referenced, format!("duplicate step '{}'", name.value));
            continue;
        }
        spans.insert(name.value.clone(), step_spans(name, step));
        steps.push(lower_step(cx, name, step, &default_retry));
    }
    if steps.is_empty() {
        cx.err(&raw.steps.referenced, "workflow has no steps");
    }

    let names: BTreeSet<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    let start = match &raw.start {
        Some(start) => {
            check_target(cx, &names, start);
            start.value.clone()
        }
        // absent: `start` is optional and means the first step; no steps was refused just above.
        None => steps.first().map(|s| s.name.clone()).unwrap_or_default(),
    };
    for (_, step) in &raw.steps.value.0 {
        for (_, target) in step.value.on.iter().flat_map(|on| &on.value.0) {
            check_target(cx, &names, target);
        }
        if let Some(then) = &step.value.then {
            check_target(cx, &names, then);
        }
    }

    let wf = Workflow {
        name: raw.workflow.value.clone(),
        version,
        description: raw.description.as_ref().map(|d| d.value.clone()),
        trigger,
        start,
        steps,
        default_retry,
        path: cx.path.to_string(),
        source: cx.src.to_string(),
        source_hash: fnv1a64_hex(cx.src),
    };
    (wf, spans)
}

fn check_target(cx: &mut Ctx, names: &BTreeSet<&str>, target: &S<String>) {
    if !names.contains(target.value.as_str()) {
        let hint = suggest::hint(&target.value, names.iter().copied());
        cx.err(
            &target.referenced,
            format!("unknown step '{}'{hint}", target.value),
        );
    }
}

fn lower_trigger(cx: &mut Ctx, t: &S<raw::RawTrigger>) -> Trigger {
    let tr = &t.value;
    match (&tr.event, &tr.cron) {
        (Some(event), None) => {
            check_name(cx, "event name", event);
            if let Some(tz) = &tr.timezone {
                cx.err(&tz.referenced, "'timezone' applies only to cron triggers");
            }
            let key = match &tr.key {
                Some(k) if k.value.is_empty() || k.value.chars().any(char::is_whitespace) => {
                    cx.err(&k.referenced, format!("invalid trigger key '{}'", k.value));
                    k.value.clone()
                }
                Some(k) => k.value.clone(),
                None => "id".to_string(),
            };
            Trigger::Event {
                event: event.value.clone(),
                key,
            }
        }
        (None, Some(expr)) => {
            if let Some(k) = &tr.key {
                cx.err(&k.referenced, "'key' applies only to event triggers");
            }
            let timezone = match &tr.timezone {
                Some(tz) => {
                    if let Err(e) = cron_expr::check_timezone(&tz.value) {
                        cx.err(&tz.referenced, e);
                    }
                    tz.value.clone()
                }
                None => "UTC".to_string(),
            };
            match cron_expr::parse_cron(&expr.value) {
                Ok((expr, schedule)) => Trigger::Cron {
                    expr,
                    timezone,
                    schedule,
                },
                Err(e) => {
                    cx.err(&expr.referenced, e);
                    Trigger::Manual
                }
            }
        }
        (Some(_), Some(expr)) => {
            cx.err(
                &expr.referenced,
                "a trigger has either 'event' or 'cron', not both",
            );
            Trigger::Manual
        }
        (None, None) => {
            cx.err(
                &t.referenced,
                "trigger needs 'event' or 'cron' (leave 'trigger' out for a workflow started by hand)",
            );
            Trigger::Manual
        }
    }
}

/// A positive duration, or a diagnostic.
fn positive_duration(cx: &mut Ctx, what: &str, d: &S<String>) -> Option<Duration> {
    match parse_duration(&d.value) {
        Ok(v) if v.is_zero() => {
            cx.err(&d.referenced, format!("{what} must be greater than zero"));
            None
        }
        Ok(v) => Some(v),
        Err(e) => {
            cx.err(&d.referenced, e);
            None
        }
    }
}

fn lower_retry(cx: &mut Ctx, r: &S<RawRetry>, base: RetryPolicy) -> RetryPolicy {
    let mut out = base;
    let raw = &r.value;
    if let Some(a) = &raw.attempts {
        match u32::try_from(a.value) {
            Ok(n) if n >= 1 => out.attempts = n,
            Ok(_) => cx.err(&a.referenced, "retry attempts must be at least 1"),
            Err(_) if a.value < 1 => cx.err(&a.referenced, "retry attempts must be at least 1"),
            Err(_) => cx.err(&a.referenced, "retry attempts is too large"),
        }
    }
    let backoff = raw
        .backoff
        .as_ref()
        .map(|b| (b, positive_duration(cx, "retry backoff", b)));
    let max = raw
        .max
        .as_ref()
        .map(|m| (m, positive_duration(cx, "retry max", m)));
    if let Some((_, Some(b))) = backoff {
        out.backoff = b;
    }
    if let Some((_, Some(m))) = max {
        out.max = m;
    }
    let all_valid = !matches!(backoff, Some((_, None))) && !matches!(max, Some((_, None)));
    if all_valid && out.max < out.backoff {
        let loc = max.map_or(r.referenced, |(m, _)| m.referenced);
        cx.err(
            &loc,
            format!(
                "retry max ({}) is less than backoff ({})",
                show_duration(out.max),
                show_duration(out.backoff)
            ),
        );
    }
    out
}

/// A duration in the file syntax (`1h30m`, `500ms`).
pub fn show_duration(d: Duration) -> String {
    let mut ms = d.as_millis();
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1_000),
    ] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    if ms > 0 {
        out.push_str(&format!("{ms}ms"));
    }
    out
}

fn lower_step(cx: &mut Ctx, name: &S<String>, step: &S<RawStep>, default: &RetryPolicy) -> Step {
    check_name(cx, "step name", name);
    let s = &step.value;
    let mut present: Vec<(&str, Location)> = [
        ("rule", s.rule.as_ref().map(|v| v.referenced)),
        ("connector", s.connector.as_ref().map(|v| v.referenced)),
        ("task", s.task.as_ref().map(|v| v.referenced)),
        ("wait", s.wait.as_ref().map(|v| v.referenced)),
        ("end", s.end.as_ref().map(|v| v.referenced)),
    ]
    .into_iter()
    .filter_map(|(k, loc)| loc.map(|l| (k, l)))
    .collect();
    present.sort_by_key(|(_, loc)| (loc.line(), loc.column()));
    match present.as_slice() {
        [] => cx.err(
            &name.referenced,
            format!(
                "step '{}' needs one of 'rule', 'connector', 'task', 'wait' or 'end'",
                name.value
            ),
        ),
        [_] => {}
        [(first, _), rest @ ..] => {
            for (other, loc) in rest {
                cx.err(
                    loc,
                    format!(
                        "step '{}' has both '{first}' and '{other}': a step does one thing",
                        name.value
                    ),
                );
            }
        }
    }
    // A step without a kind was reported above; it stands in as an end step.
    let kind = lower_kind(cx, s);
    let is_end = matches!(kind, Some(StepKind::End { .. }));
    let kind = kind.unwrap_or(StepKind::End {
        status: String::new(),
    });
    let retries = matches!(kind, StepKind::Rule { .. } | StepKind::Connector { .. });
    if is_end {
        let extra = [
            ("on", s.on.as_ref().map(|v| v.referenced)),
            ("then", s.then.as_ref().map(|v| v.referenced)),
            ("with", s.with.as_ref().map(|v| v.referenced)),
        ];
        for (key, loc) in extra {
            if let Some(loc) = loc {
                cx.err(&loc, format!("an end step takes no '{key}'"));
            }
        }
    }
    let retry = match &s.retry {
        Some(r) if !retries => {
            cx.err(
                &r.referenced,
                "'retry' applies only to rule and connector steps",
            );
            *default
        }
        Some(r) => lower_retry(cx, r, *default),
        None => *default,
    };
    let params = match &s.with {
        None => serde_json::Value::Object(serde_json::Map::new()),
        Some(w) if !matches!(w.value, Node::Map(_) | Node::Null) => {
            cx.err(&w.referenced, "'with' must be a mapping of parameters");
            serde_json::Value::Object(serde_json::Map::new())
        }
        Some(w) => match raw::to_json(cx.src, w) {
            Ok(serde_json::Value::Null) => serde_json::Value::Object(serde_json::Map::new()),
            Ok(v) => v,
            Err((loc, msg)) => {
                cx.err(&loc, msg);
                serde_json::Value::Object(serde_json::Map::new())
            }
        },
    };
    let mut on = BTreeMap::new();
    for (outcome, target) in s.on.iter().flat_map(|on| &on.value.0) {
        if outcome.value.is_empty() {
            cx.err(&outcome.referenced, "empty outcome name");
        }
        on.insert(outcome.value.clone(), target.value.clone());
    }
    let Pos { line, col } = Pos::from(&name.referenced);
    Step {
        name: name.value.clone(),
        kind,
        on,
        then: s.then.as_ref().map(|t| t.value.clone()),
        retry,
        params,
        line,
        col,
    }
}

fn lower_kind(cx: &mut Ctx, s: &RawStep) -> Option<StepKind> {
    if let Some(rule) = &s.rule {
        check_name(cx, "rule name", rule);
        return Some(StepKind::Rule {
            rule: rule.value.clone(),
        });
    }
    if let Some(c) = &s.connector {
        check_name(cx, "connector name", c);
        return Some(StepKind::Connector {
            connector: c.value.clone(),
        });
    }
    if let Some(task) = &s.task {
        let t = &task.value;
        check_name(cx, "role", &t.role);
        let timeout = t
            .timeout
            .as_ref()
            .and_then(|d| positive_duration(cx, "timeout", d));
        return Some(StepKind::Task {
            role: t.role.value.clone(),
            timeout,
            outcomes: lower_outcomes(cx, t.outcomes.as_ref(), &["approved", "rejected"]),
        });
    }
    if let Some(wait) = &s.wait {
        let w = &wait.value;
        check_name(cx, "event name", &w.event);
        let timeout = w
            .timeout
            .as_ref()
            .and_then(|d| positive_duration(cx, "timeout", d));
        let until = w.until.as_ref().and_then(|u| {
            if w.timeout.is_some() {
                cx.err(
                    &u.referenced,
                    "give a wait either `timeout:` or `until:`, not both",
                );
                return None;
            }
            match cron_expr::parse_cron(&u.value) {
                Ok((expr, schedule)) => {
                    Some(Box::new(crate::model::CronSchedule { expr, schedule }))
                }
                Err(e) => {
                    cx.err(&u.referenced, e);
                    None
                }
            }
        });
        return Some(StepKind::Wait {
            event: w.event.value.clone(),
            timeout,
            until,
            outcomes: lower_outcomes(cx, w.outcomes.as_ref(), &["received"]),
        });
    }
    if let Some(end) = &s.end {
        check_name(cx, "end status", end);
        return Some(StepKind::End {
            status: end.value.clone(),
        });
    }
    None
}

fn lower_outcomes(cx: &mut Ctx, list: Option<&S<Vec<S<String>>>>, default: &[&str]) -> Vec<String> {
    let Some(list) = list else {
        return default.iter().map(|s| s.to_string()).collect();
    };
    if list.value.is_empty() {
        cx.err(&list.referenced, "outcomes must not be empty");
    }
    let mut out: Vec<String> = Vec::new();
    for o in &list.value {
        check_name(cx, "outcome", o);
        if out.contains(&o.value) {
            cx.err(
                &o.referenced,
                format!("outcome '{}' is listed twice", o.value),
            );
        } else {
            out.push(o.value.clone());
        }
    }
    out
}

/// FNV-1a 64 of the text, as 16 lowercase hex digits.
pub fn fnv1a64_hex(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_known_vectors() {
        assert_eq!(fnv1a64_hex(""), "cbf29ce484222325");
        assert_eq!(fnv1a64_hex("a"), "af63dc4c8601ec8c");
        assert_eq!(fnv1a64_hex("foobar"), "85944171f73967e8");
    }

    #[test]
    fn names() {
        for ok in ["order-demo", "a", "order.validate", "await_payment", "2nd"] {
            assert!(is_name(ok), "{ok}");
        }
        for bad in ["", "Order", "-x", ".x", "a b", "ä", "x!"] {
            assert!(!is_name(bad), "{bad}");
        }
    }

    #[test]
    fn durations_print_in_file_syntax() {
        assert_eq!(show_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(show_duration(Duration::from_millis(1500)), "1s500ms");
        assert_eq!(show_duration(Duration::ZERO), "0s");
    }
}
