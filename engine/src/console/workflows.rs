//! The Workflows and rules page: each workflow in force drawn as a graph from its YAML (an SVG
//! made here: steps as boxes, outcomes as labelled arrows, the live count of unended instances
//! on each step from one grouped query, `Tx::count_live_by_step`), the same facts as a table
//! (the graph is never the only place they are), and each rule (`rules/*.rhai`) with its test
//! cases and their results, run by the rule test runner `ordo test rules` uses
//! (`checks::test_rules_in`).

use super::session::Viewer;
use super::view::{error_page, fragment, live, page, status, wants};
use crate::api::Api;
use crate::api::error::{ApiError, ApiResult, Code};
use crate::api::routes::roles;
use crate::checks::RuleTests;
use crate::store::StepCount;
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use ordo_workflow::{StepKind, Workflow};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

type St = State<Arc<Api>>;

const BOX_W: i64 = 170;
const BOX_H: i64 = 46;
const GAP_X: i64 = 30;
const GAP_Y: i64 = 54;
/// Longest step name or outcome drawn in full (the table has them whole).
const LABEL: usize = 22;

fn kind(k: &StepKind) -> String {
    match k {
        StepKind::Rule { rule } => format!("rule {rule}"),
        StepKind::Connector { connector } => connector.clone(),
        StepKind::Task { role, .. } => format!("task for {role}"),
        StepKind::Wait { event, .. } => format!("wait for {event}"),
        StepKind::End { status } => format!("end: {status}"),
    }
}

/// The arrows leaving a step: (outcome label, target step).
fn edges(step: &ordo_workflow::Step) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = step
        .on
        .iter()
        .map(|(o, t)| (o.clone(), t.clone()))
        .collect();
    if let Some(t) = &step.then {
        out.push((
            if step.on.is_empty() {
                "then".into()
            } else {
                "otherwise".into()
            },
            t.clone(),
        ));
    }
    out
}

fn cut(s: &str) -> String {
    if s.chars().count() > LABEL {
        let mut t: String = s.chars().take(LABEL - 1).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}

/// Each step's layer (breadth-first from the start; unreachable steps below) and place in it.
fn layout(wf: &Workflow) -> BTreeMap<String, (i64, i64)> {
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    let mut queue = VecDeque::from([(wf.start.as_str(), 0usize)]);
    while let Some((s, d)) = queue.pop_front() {
        if depth.contains_key(s) {
            continue;
        }
        depth.insert(s, d);
        if let Some(step) = wf.step(s) {
            for (_, t) in edges(step) {
                if let Some(t) = wf.step(&t) {
                    queue.push_back((t.name.as_str(), d + 1));
                }
            }
        }
    }
    let deepest = depth.values().max().copied().unwrap_or(0);
    let mut rows: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for s in &wf.steps {
        let d = depth.get(s.name.as_str()).copied().unwrap_or(deepest + 1);
        rows.entry(d).or_default().push(&s.name);
    }
    let mut at = BTreeMap::new();
    for (d, names) in rows {
        for (i, n) in names.into_iter().enumerate() {
            at.insert(n.to_string(), (i as i64, d as i64));
        }
    }
    at
}

/// The workflow as an SVG: boxes (name, what it does, live count), arrows with outcomes.
fn graph(wf: &Workflow, counts: &BTreeMap<&str, i64>) -> Markup {
    let at = layout(wf);
    let cols = at.values().map(|(c, _)| *c + 1).max().unwrap_or(1);
    let rows = at.values().map(|(_, r)| *r + 1).max().unwrap_or(1);
    let w = cols * (BOX_W + GAP_X) + GAP_X;
    let h = rows * (BOX_H + GAP_Y) + GAP_Y;
    let pos = |n: &str| {
        at.get(n)
            .map(|(c, r)| (GAP_X + c * (BOX_W + GAP_X), GAP_Y / 2 + r * (BOX_H + GAP_Y)))
    };
    let title_id = format!("wf-{}-title", wf.name);
    html! {
        svg.workflow role="img" aria-labelledby=(title_id) viewBox={ "0 0 " (w) " " (h) } width=(w) height=(h) {
            title id=(title_id) { "Workflow " (wf.name) " version " (wf.version) ": " (wf.steps.len()) " steps (the table below lists them)" }
            defs { marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse" {
                path d="M 0 0 L 10 5 L 0 10 z" fill="#1b1f24" {} } }
            @for s in &wf.steps {
                @for (label, target) in edges(s) {
                    @if let (Some((x1, y1)), Some((x2, y2))) = (pos(&s.name), pos(&target)) {
                        @let (sx, sy) = (x1 + BOX_W / 2, y1 + BOX_H);
                        @let (tx, ty) = (x2 + BOX_W / 2, y2);
                        @if ty > sy {
                            line x1=(sx) y1=(sy) x2=(tx) y2=(ty) stroke="#1b1f24" marker-end="url(#arrow)" {}
                            text x=((sx + tx) / 2 + 4) y=((sy + ty) / 2) font-size="11" fill="#1b1f24" { (cut(&label)) }
                        } @else {
                            // back (or sideways) to an earlier step: around the right side
                            @let bx = x1.max(x2) + BOX_W + GAP_X / 2;
                            path d={ "M " (x1 + BOX_W) " " (y1 + BOX_H / 2) " C " (bx) " " (y1 + BOX_H / 2) ", " (bx) " " (y2 + BOX_H / 2) ", " (x2 + BOX_W) " " (y2 + BOX_H / 2) }
                                fill="none" stroke="#1b1f24" stroke-dasharray="4 3" marker-end="url(#arrow)" {}
                            text x=(bx - GAP_X / 2) y=((y1 + y2) / 2 + BOX_H / 2) font-size="11" fill="#1b1f24" { (cut(&label)) }
                        }
                    }
                }
            }
            @for s in &wf.steps {
                @if let Some((x, y)) = pos(&s.name) {
                    @let n = counts.get(s.name.as_str()).copied().unwrap_or(0);
                    g {
                        rect x=(x) y=(y) width=(BOX_W) height=(BOX_H) rx="5" fill=(if n > 0 { "#fff4d6" } else { "#eef1f4" })
                            stroke="#1f3a5f" stroke-width=(if s.name == wf.start { "3" } else { "1" }) {}
                        text x=(x + 8) y=(y + 18) font-size="13" font-weight="600" fill="#1b1f24" { (cut(&s.name)) }
                        text x=(x + 8) y=(y + 36) font-size="11" fill="#333a42" { (cut(&kind(&s.kind))) @if n > 0 { " · " (n) " here" } }
                    }
                }
            }
        }
    }
}

/// The API's read role (the API has no route for these records; the rule is its own).
fn read_role(v: &Viewer) -> ApiResult<()> {
    crate::api::routes::require(&v.actor, roles::READ)
}

pub async fn page_of(State(api): St, v: Viewer) -> Response {
    let r = async {
        read_role(&v)?;
        let defs = api.engine.defs();
        let mut tx = api.engine.store.begin().await?;
        let counts: Vec<StepCount> = tx.count_live_by_step().await?;
        tx.rollback().await?;
        let dir = api.engine.rules_dir.clone();
        // rhai runs on a blocking thread: a rule's test cases are CPU work with a deadline
        let rules = tokio::task::spawn_blocking(move || crate::checks::test_rules_in(&dir, None))
            .await
            .map_err(|_| ApiError::new(Code::Internal, "internal error (logged)"))?
            .map_err(|e| ApiError::new(Code::Unavailable, format!("rules: {e}")))?;
        let list = html! {
                @for wf in defs.latest.values() {
                    @let here: BTreeMap<&str, i64> = sum_steps(&counts, &wf.name, Some(wf.version as i64));
                    @let older: i64 = counts.iter().filter(|c| c.workflow == wf.name && c.version != wf.version as i64).map(|c| c.count).sum();
                    section.card aria-label={ "Workflow " (wf.name) } {
                        h2 { (wf.name) " " small { "version " (wf.version) " in force" } }
                        @if let Some(d) = &wf.description { p { (d) } }
                        @if older > 0 { p { (older) " unended instance(s) run on older versions." } }
                        div.scroll { (graph(wf, &here)) }
                        details {
                            summary { "Steps of " (wf.name) " as a table" }
                            div.scroll { table.stack {
                                thead { tr { th { "Step" } th { "Does" } th { "Outcomes → next step" } th.num { "Running" } th.num { "Waiting" } th.num { "Failed" } } }
                                tbody { @for s in &wf.steps {
                                    @let by = |st: &str| counts.iter().filter(|c| c.workflow == wf.name && c.version == wf.version as i64 && c.step == s.name && c.status == st).map(|c| c.count).sum::<i64>();
                                    tr {
                                        td data-label="Step" { (s.name) @if s.name == wf.start { " (start)" } }
                                        td data-label="Does" { (kind(&s.kind)) }
                                        td data-label="Outcomes" { @for (o, t) in edges(s) { (o) " → " (t) br; } }
                                        td.num data-label="Running" { (by("running")) }
                                        td.num data-label="Waiting" { (by("waiting")) }
                                        td.num data-label="Failed" { (by("failed")) }
                                    }
                                } }
                            } }
                        }
                    }
                }
            };
        if wants(&v, "workflows") {
            return Ok(fragment("workflows", 30, list));
        }
        let body = html! {
            h1 { "Workflows and rules" }
            (live("workflows", 30, list))
            h2 { "Rules and their test cases" }
            @for (name, result) in &rules {
                section.card aria-label={ "Rule " (name) } {
                    h3 { (name) }
                    @match result {
                        RuleTests::Broken(d) => { p.error role="alert" { "Does not compile: " (d) } }
                        RuleTests::NoCases { test_path } => { p { "No test cases (" code { (test_path) } ")." } }
                        RuleTests::Ran(cases) => {
                            @let passed = cases.iter().filter(|c| c.passed).count();
                            p { (passed) " of " (cases.len()) " cases pass " (status(if passed == cases.len() { "passed" } else { "failed" })) }
                            div.scroll { table.stack {
                                thead { tr { th { "Case" } th { "Result" } th { "Expected" } th { "Got" } } }
                                tbody { @for c in cases {
                                    tr {
                                        td data-label="Case" { (c.name) }
                                        td data-label="Result" { (status(if c.passed { "passed" } else { "failed" })) }
                                        td data-label="Expected" { (c.expected) }
                                        td data-label="Got" { (c.actual) @for d in &c.diff { br; (d) } }
                                    }
                                } }
                            } }
                        }
                    }
                }
            }
        };
        Ok(page(Some(&v), "Workflows and rules", body))
    }
    .await;
    r.unwrap_or_else(|e| error_page(Some(&v), &e))
}

/// Unended instances per step of one workflow version (all statuses together).
fn sum_steps<'a>(
    counts: &'a [StepCount],
    wf: &str,
    version: Option<i64>,
) -> BTreeMap<&'a str, i64> {
    let mut out = BTreeMap::new();
    for c in counts
        .iter()
        .filter(|c| c.workflow == wf && version.is_none_or(|v| v == c.version))
    {
        *out.entry(c.step.as_str()).or_insert(0) += c.count;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const WF: &str = "workflow: t\nversion: 3\nsteps:\n  check:\n    rule: approval\n    on: { approved: ship, review: review }\n  review:\n    task: { role: sales-manager }\n    on: { approved: ship, rejected: done }\n  ship:\n    connector: util.noop\n    then: done\n  done: { end: ended }\n";

    #[test]
    fn a_workflow_is_drawn_with_its_outcomes_and_counts() {
        let wf = match ordo_workflow::parse("t.yaml", WF) {
            Ok(w) => w,
            Err(e) => panic!("{e:?}"),
        };
        let counts = vec![
            StepCount {
                workflow: "t".into(),
                version: 3,
                step: "ship".into(),
                status: "failed".into(),
                count: 2,
            },
            StepCount {
                workflow: "t".into(),
                version: 3,
                step: "ship".into(),
                status: "running".into(),
                count: 5,
            },
            StepCount {
                workflow: "t".into(),
                version: 2,
                step: "ship".into(),
                status: "running".into(),
                count: 100,
            },
        ];
        let here = sum_steps(&counts, "t", Some(3));
        assert_eq!(here.get("ship"), Some(&7));
        let svg = graph(&wf, &here).into_string();
        for s in [
            "check",
            "ship",
            "done",
            "approved",
            "review",
            "then",
            "7 here",
            "version 3",
            "rule approval",
        ] {
            assert!(svg.contains(s), "{s}: {svg}");
        }
        // names are checked by the workflow parser; what is drawn is interpolated (escaped)
        assert!(svg.contains("task for sales-manager"), "{svg}");
        // four steps on three layers: check, then the task and ship, then done
        let at = layout(&wf);
        assert_eq!(at["check"].1, 0);
        assert_eq!(at["ship"].1, 1);
        assert_eq!(at["done"].1, 2);
    }
}
