//! Workflow YAML model with source spans, loader and validator (pure, no I/O).
//!
//! Callers pass `(path, source)` strings; every problem comes back as a [`Diagnostic`]
//! printed `path:line:col: message` (1-based), never as a panic. [`parse`] does every check
//! that needs no catalog, [`check`] the ones that need to know the registered connectors and
//! rules, and [`load_set`] both for a whole `workflows/` folder plus duplicate versions.
//!
//! # The file format
//!
//! ```yaml
//! workflow: order-demo          # name: lowercase letters, digits, '.', '_', '-'
//! version: 1                    # integer >= 1; (workflow, version) is unique
//! description: optional text
//! trigger: { event: order.received, key: id }
//! defaults:
//!   retry: { attempts: 5, backoff: 2s, max: 5m }
//! start: validate               # optional; default = first step in file order
//! steps:
//!   validate:
//!     connector: order.validate
//!     with: { tolerance: 0.05 }
//!     on: { ok: approve, invalid: held }
//!     retry: { attempts: 3, backoff: 500ms, max: 1m }
//!   approve:
//!     rule: approval
//!     on: { approved: confirm, review: review, rejected: rejected }
//!   review:
//!     task: { role: sales-manager, timeout: 24h }
//!     on: { approved: confirm, rejected: rejected, timeout: rejected }
//!   confirm:
//!     connector: order.confirm
//!     then: await_payment
//!   await_payment:
//!     wait: { event: payment.matched, timeout: 30d, outcomes: [paid, partial] }
//!     on: { paid: done, partial: await_payment, timeout: done }
//!   done: { end: completed }
//!   held: { end: held }
//!   rejected: { end: rejected }
//! ```
//!
//! Top-level keys: `workflow`, `version` and `steps` are required; `description`,
//! `trigger`, `defaults` and `start` are optional. Unknown keys are errors everywhere
//! (with a did-you-mean), and so are duplicate keys, including a step defined twice.
//!
//! ## Triggers
//!
//! - `trigger: { event: NAME, key: FIELD }`: an event starts an instance; `key` (default
//!   `id`) is the payload field holding the instance's business key.
//! - `trigger: { cron: EXPR, timezone: ZONE }`: a schedule in the `cron` crate's syntax, 6
//!   fields (`sec min hour day-of-month month day-of-week`) or 7 (`+ year`), or `@daily` and
//!   friends. A POSIX 5-field expression (`30 9 * * Mon-Fri`) is accepted and stored with a
//!   leading `0 ` (second 0). The day of week must be written with names (`Mon-Fri`): the
//!   `cron` crate counts 1 = Sunday, unlike POSIX, so digits there are rejected. `timezone`
//!   is an IANA name (`Europe/Berlin`), default `UTC`.
//! - no `trigger:` at all: the workflow is started by hand (`ordo submit`), [`Trigger::Manual`].
//!
//! ## Steps
//!
//! `steps` is a mapping from step name (lowercase letters, digits, `.`, `_`, `-`) to a step
//! with exactly one kind:
//!
//! | kind | outcomes it can produce |
//! |---|---|
//! | `connector: NAME` | what the registered connector declares (catalog) |
//! | `rule: NAME` (`rules/NAME.rhai`) | what the rule declares, when it does (catalog) |
//! | `task: { role, timeout?, outcomes? }` | `outcomes`, default `[approved, rejected]` |
//! | `wait: { event, timeout? or until?, outcomes? }` | `outcomes`, default `[received]` |
//! | `end: STATUS` | none: the instance ends with that status label |
//!
//! A task or wait with a `timeout` also produces the outcome `timeout`. A wait may instead
//! end on a schedule: `until: CRON` (same syntax as cron triggers, UTC) gives `timeout` at
//! the schedule's next occurrence after the step starts waiting — e.g. `until: "0 0 6 * * *"`
//! wakes every waiting invoice at the 06:00 dunning run. Transitions:
//! `on: { OUTCOME: STEP, ... }`, and `then: STEP` for every outcome not listed in `on`.
//! `with:` (connector, rule, task and wait steps) is any YAML mapping, handed over as a JSON
//! object; numbers keep their exact YAML text (`0.05` stays `0.05`).
//! `retry:` (connector and rule steps only) overrides `defaults.retry` field by field.
//! End steps take only `end:`.
//!
//! ## Retry and durations
//!
//! `retry: { attempts, backoff, max }`: `attempts` counts all tries including the first
//! (>= 1); the n-th retry waits `backoff * 2^(n-1)`, capped at `max` ([`RetryPolicy::delay`]).
//! Missing fields come from `defaults.retry`, and those from [`RetryPolicy::default`]
//! (3 attempts, 1s, 1m). Durations are `<digits><unit>` parts with units `ms`, `s`, `m`,
//! `h`, `d`, largest first, e.g. `500ms`, `2s`, `5m`, `24h`, `30d`, `1h30m`
//! ([`parse_duration`]); timeouts and backoffs must be greater than zero.
//!
//! ## Checks
//!
//! Besides shape and values: targets of `on`, `then` and `start` must be steps; every step
//! must be reachable from `start`; there must be an end step and every reachable step must
//! be able to reach one; every outcome a step can produce must be handled (by `on` or
//! `then`), and `on` must not list outcomes the step can never produce; connectors and
//! rules must be registered ([`check`]).

mod check;
mod cron_expr;
mod duration;
mod graph;
mod lower;
mod model;
mod raw;
mod suggest;

use std::collections::BTreeMap;

pub use check::check;
pub use duration::parse_duration;
pub use graph::cycle_warnings;
pub use model::{CronSchedule, RetryPolicy, Step, StepKind, Trigger, Workflow};

/// A located problem in a workflow file; displays as `path:line:col: message`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
#[error("{path}:{line}:{col}: {message}")]
pub struct Diagnostic {
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub col: usize,
    pub message: String,
}

/// What the engine has registered: needed by [`check`].
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Connector name -> outcomes it can return.
    pub connectors: BTreeMap<String, Vec<String>>,
    /// Rule name -> declared outcomes (`None`: unknown, outcome checks are skipped).
    pub rules: BTreeMap<String, Option<Vec<String>>>,
}

/// Parse one workflow file and run every check that needs no catalog.
///
/// A YAML syntax or shape error stops at the first one; semantic errors are all reported,
/// sorted by position.
pub fn parse(path: &str, src: &str) -> Result<Workflow, Vec<Diagnostic>> {
    match lower::parse_all(path, src) {
        (Some(wf), diags) if diags.is_empty() => Ok(wf),
        (_, diags) => Err(diags),
    }
}

/// Parse and check every file, then reject duplicate `(workflow, version)` pairs.
///
/// Returns all diagnostics of all files (in file order, then by position), or the
/// workflows in file order when there are none.
pub fn load_set(
    files: &[(String, String)],
    catalog: &Catalog,
) -> Result<Vec<Workflow>, Vec<Diagnostic>> {
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut workflows = Vec::new();
    for (path, src) in files {
        // A workflow with semantic errors is still checked against the catalog, so that
        // one run shows every problem.
        let (wf, parse_diags) = lower::parse_all(path, src);
        diags.extend(parse_diags);
        if let Some(wf) = wf {
            diags.extend(check(&wf, catalog));
            workflows.push(wf);
        }
    }
    let mut seen: BTreeMap<(&str, u32), &Workflow> = BTreeMap::new();
    for wf in &workflows {
        if let Some(first) = seen.get(&(wf.name.as_str(), wf.version)) {
            let (first_at, this_at) = (lower::name_at(first), lower::name_at(wf));
            let what = format!("workflow '{}' version {}", wf.name, wf.version);
            diags.push(Diagnostic {
                message: format!("{what} is also defined at {}", at(&first_at)),
                ..this_at.clone()
            });
            diags.push(Diagnostic {
                message: format!("{what} is also defined at {}", at(&this_at)),
                ..first_at
            });
        } else {
            seen.insert((wf.name.as_str(), wf.version), wf);
        }
    }
    if diags.is_empty() {
        return Ok(workflows);
    }
    let order: BTreeMap<&str, usize> = files
        .iter()
        .enumerate()
        .rev()
        .map(|(i, (p, _))| (p.as_str(), i))
        .collect();
    diags.sort_by(|a, b| {
        let key = |d: &Diagnostic| (order.get(d.path.as_str()).copied(), d.line, d.col);
        key(a).cmp(&key(b)).then_with(|| a.message.cmp(&b.message))
    });
    diags.dedup();
    Err(diags)
}

fn at(d: &Diagnostic) -> String {
    format!("{}:{}:{}", d.path, d.line, d.col)
}

/// Any YAML file's serde-saphyr error as `path:line:col: message`, worded like workflow
/// errors (bank profiles, partner profiles and other config files use it).
pub fn yaml_error(path: &str, err: &serde_saphyr::Error) -> String {
    let (loc, msg) = raw::error_message(err);
    if loc.line() == 0 {
        format!("{path}: {msg}")
    } else {
        format!("{path}:{}:{}: {msg}", loc.line(), loc.column())
    }
}

/// Where a key is written in a YAML file, 1-based `(line, column)` of the key itself: `keys`
/// is a path of mapping keys from the top (`["bank", "iban"]`); a path of one key that is not
/// at the top is searched at any depth, first in document order. `None` when the text does
/// not parse or the key is not there. Config loaders use it to point at the key a person must
/// change for a problem found after parsing (a bad IBAN, a folder outside the data root).
pub fn key_position(src: &str, keys: &[&str]) -> Option<(usize, usize)> {
    use raw::{Node, Pos, S};
    fn find_anywhere(node: &S<Node>, key: &str) -> Option<Pos> {
        match &node.value {
            Node::Map(entries) => entries.iter().find_map(|(k, v)| {
                if k.value == key {
                    Some(Pos::from(&k.referenced))
                } else {
                    find_anywhere(v, key)
                }
            }),
            Node::Seq(items) => items.iter().find_map(|v| find_anywhere(v, key)),
            _ => None,
        }
    }
    let root = serde_saphyr::from_str::<S<Node>>(src).ok()?;
    let mut node = &root;
    let mut pos = None;
    for key in keys {
        let Node::Map(entries) = &node.value else {
            return None;
        };
        let Some((k, v)) = entries.iter().find(|(k, _)| k.value == *key) else {
            return match keys {
                [only] => find_anywhere(&root, only).map(|p| (p.line, p.col)),
                _ => None,
            };
        };
        pos = Some(Pos::from(&k.referenced));
        node = v;
    }
    pos.map(|p| (p.line, p.col))
}

/// [`key_position`] as `path:line:col` (`path:1:1` when the key is not found).
pub fn locate(path: &str, src: &str, keys: &[&str]) -> String {
    let (line, col) = key_position(src, keys).unwrap_or((1, 1));
    format!("{path}:{line}:{col}")
}

#[cfg(test)]
mod locate_tests {
    #[test]
    fn keys_are_located_by_path_or_anywhere() {
        let src = "legal_name: x\nbank:\n  bic: AB\n  iban: DE00 1\nlist:\n  - inbound: /etc\n";
        assert_eq!(
            super::locate("c.yaml", src, &["bank", "iban"]),
            "c.yaml:4:3"
        );
        assert_eq!(super::locate("c.yaml", src, &["legal_name"]), "c.yaml:1:1");
        assert_eq!(super::locate("c.yaml", src, &["iban"]), "c.yaml:4:3");
        assert_eq!(super::locate("c.yaml", src, &["inbound"]), "c.yaml:6:5");
        assert_eq!(super::locate("c.yaml", src, &["nope"]), "c.yaml:1:1");
        assert_eq!(
            super::locate("c.yaml", src, &["bank", "nope"]),
            "c.yaml:1:1"
        );
        assert_eq!(super::locate("c.yaml", "[: bad", &["x"]), "c.yaml:1:1");
    }
}
