//! Checks on the step graph that need no catalog: reachability, end steps, endless
//! cycles, and the outcomes of task and wait steps.

use std::collections::{BTreeMap, VecDeque};

use serde_saphyr::Location;

use crate::lower::{Ctx, StepSpans};
use crate::raw::Pos;
use crate::{StepKind, Workflow, check};

pub fn check_graph(
    cx: &mut Ctx,
    wf: &Workflow,
    spans: &BTreeMap<String, StepSpans>,
    steps_loc: &Location,
) {
    for step in &wf.steps {
        if let (StepKind::Task { .. } | StepKind::Wait { .. }, Some(sp)) =
            (&step.kind, spans.get(&step.name))
        {
            // Task and wait steps (matched above) always list their outcomes.
            let outcomes = step.outcomes(None).unwrap_or_default();
            cx.diags
                .extend(check::outcome_diags(cx.path, step, sp, &outcomes, None));
        }
    }

    let index: BTreeMap<&str, usize> = wf
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    if index.is_empty() {
        return;
    }
    // Edges to known steps only (unknown targets are reported elsewhere).
    let edges: Vec<Vec<usize>> = wf
        .steps
        .iter()
        .map(|s| {
            let mut out: Vec<usize> =
                s.on.values()
                    .chain(s.then.iter())
                    .filter_map(|t| index.get(t.as_str()).copied())
                    .collect();
            out.sort_unstable();
            out.dedup();
            out
        })
        .collect();
    let is_end: Vec<bool> = wf
        .steps
        .iter()
        .map(|s| matches!(s.kind, StepKind::End { .. }))
        .collect();

    let at = |i: usize| {
        spans
            .get(&wf.steps[i].name)
            .map_or(Pos::from(steps_loc), |s| s.name)
    };

    if !is_end.iter().any(|&e| e) {
        cx.err(
            steps_loc,
            "workflow has no end step: add one, e.g. 'done: { end: completed }'",
        );
    }

    let Some(&start) = index.get(wf.start.as_str()) else {
        return; // unknown start: reported already
    };
    let reachable = closure(&[start], &edges);
    for (i, step) in wf.steps.iter().enumerate() {
        if !reachable[i] {
            cx.err(
                at(i),
                format!(
                    "step '{}' is unreachable from start step '{}'",
                    step.name, wf.start
                ),
            );
        }
    }

    if !is_end.iter().any(|&e| e) {
        return;
    }
    let mut reverse = vec![Vec::new(); edges.len()];
    for (from, tos) in edges.iter().enumerate() {
        for &to in tos {
            reverse[to].push(from);
        }
    }
    let ends: Vec<usize> = (0..is_end.len()).filter(|&i| is_end[i]).collect();
    let finishes = closure(&ends, &reverse);
    for (i, step) in wf.steps.iter().enumerate() {
        let unknown_target = step
            .on
            .values()
            .chain(step.then.iter())
            .any(|t| !index.contains_key(t.as_str()));
        if !reachable[i] || finishes[i] || unknown_target {
            continue;
        }
        let message = if edges[i].is_empty() && step.on.is_empty() && step.then.is_none() {
            if matches!(step.kind, StepKind::Task { .. } | StepKind::Wait { .. }) {
                continue; // its unhandled outcomes are reported
            }
            format!(
                "step '{}' has no transitions: add 'on' or 'then'",
                step.name
            )
        } else {
            format!(
                "step '{}' can never reach an end step (endless cycle)",
                step.name
            )
        };
        cx.err(at(i), message);
    }
}

/// Nodes reachable from `from` along `edges`.
fn closure(from: &[usize], edges: &[Vec<usize>]) -> Vec<bool> {
    let mut seen = vec![false; edges.len()];
    let mut queue: VecDeque<usize> = VecDeque::new();
    for &f in from {
        if let Some(s) = seen.get_mut(f)
            && !*s
        {
            *s = true;
            queue.push_back(f);
        }
    }
    while let Some(n) = queue.pop_front() {
        for &m in edges.get(n).into_iter().flatten() {
            if let Some(s) = seen.get_mut(m)
                && !*s
            {
                *s = true;
                queue.push_back(m);
            }
        }
    }
    seen
}

/// Warnings (not errors: a loop may be meant, e.g. re-allocating until stock arrives) about
/// cycles in the step graph with no `wait:` or `task:` on them. An instance that enters one
/// runs step after step without ever pausing, until the engine's per-instance step budget
/// (`limits.max_steps_per_instance`) fails it. One warning per cycle, at its first step.
pub fn cycle_warnings(wf: &Workflow) -> Vec<crate::Diagnostic> {
    let index: BTreeMap<&str, usize> = wf
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    // A task or wait pauses the instance (for a person, an event or a timer): it breaks a cycle.
    let pauses = |s: &crate::Step| matches!(s.kind, StepKind::Task { .. } | StepKind::Wait { .. });
    let edges: Vec<Vec<usize>> = wf
        .steps
        .iter()
        .map(|s| {
            if pauses(s) {
                return Vec::new();
            }
            let mut out: Vec<usize> =
                s.on.values()
                    .chain(s.then.iter())
                    .filter_map(|t| index.get(t.as_str()).copied())
                    .filter(|&t| !pauses(&wf.steps[t]))
                    .collect();
            out.sort_unstable();
            out.dedup();
            out
        })
        .collect();
    let reach: Vec<Vec<bool>> = (0..edges.len())
        .map(|i| closure(&edges[i], &edges))
        .collect();
    let mut reported = vec![false; edges.len()];
    let mut out = Vec::new();
    for i in 0..edges.len() {
        if reported[i] || !reach[i][i] {
            continue;
        }
        // The cycle's steps: those on a cycle through i, in file order.
        let members: Vec<usize> = (0..edges.len())
            .filter(|&j| reach[i][j] && reach[j][i])
            .collect();
        for &j in &members {
            reported[j] = true;
        }
        let names: Vec<&str> = members.iter().map(|&j| wf.steps[j].name.as_str()).collect();
        let first = members
            .iter()
            .map(|&j| &wf.steps[j])
            .min_by_key(|s| (s.line, s.col))
            // A cycle has members; the fallback is never taken.
            .unwrap_or(&wf.steps[i]);
        out.push(crate::Diagnostic {
            path: wf.path.clone(),
            line: first.line,
            col: first.col,
            message: format!(
                "warning: steps {} form a cycle with no `wait:` or `task:` on it; an instance that enters it runs without pause until limits.max_steps_per_instance fails it",
                names.join(", ")
            ),
        });
    }
    out
}
