//! Checks that need the catalog: connectors and rules exist, and their outcomes are handled.

use crate::lower::{StepSpans, diag, spans_of};
use crate::{Catalog, Diagnostic, Step, StepKind, Workflow, suggest};

/// Catalog-dependent checks of a parsed workflow: unknown connectors and rules, outcomes
/// that are not handled, `on:` keys the connector or rule never returns. Sorted by position.
pub fn check(wf: &Workflow, catalog: &Catalog) -> Vec<Diagnostic> {
    let spans = spans_of(&wf.source);
    let mut diags = Vec::new();
    for step in &wf.steps {
        let fallback;
        let sp = match spans.get(&step.name) {
            Some(sp) => sp,
            None => {
                fallback = StepSpans::at(step);
                &fallback
            }
        };
        let (what, known) = match &step.kind {
            StepKind::Connector { connector } => (
                format!("connector '{connector}'"),
                catalog
                    .connectors
                    .contains_key(connector)
                    .then_some(())
                    .ok_or_else(|| {
                        let hint =
                            suggest::hint(connector, catalog.connectors.keys().map(String::as_str));
                        format!("unknown connector '{connector}'{hint}")
                    }),
            ),
            StepKind::Rule { rule } => (
                format!("rule '{rule}'"),
                catalog
                    .rules
                    .contains_key(rule)
                    .then_some(())
                    .ok_or_else(|| {
                        let hint = suggest::hint(rule, catalog.rules.keys().map(String::as_str));
                        format!("unknown rule '{rule}'{hint}")
                    }),
            ),
            _ => continue,
        };
        if let Err(message) = known {
            diags.push(diag(&wf.path, sp.kind, message));
            continue;
        }
        if let Some(outcomes) = step.outcomes(Some(catalog)) {
            diags.extend(outcome_diags(&wf.path, step, sp, &outcomes, Some(&what)));
        }
    }
    diags.sort();
    diags.dedup();
    diags
}

/// `on:` keys the step never produces, and produced outcomes nobody handles. `source`
/// names the producer of the outcomes (`connector 'x'`) when it is not the step itself.
pub fn outcome_diags(
    path: &str,
    step: &Step,
    sp: &StepSpans,
    outcomes: &[String],
    source: Option<&str>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (key, pos) in &sp.on {
        if !outcomes.contains(key) {
            let hint = suggest::hint(key, outcomes.iter().map(String::as_str));
            let message = match source {
                Some(src) => format!("{src} never returns outcome '{key}'{hint}"),
                None => format!("step '{}' never produces outcome '{key}'{hint}", step.name),
            };
            out.push(diag(path, *pos, message));
        }
    }
    // A step with neither `on` nor `then` gets one "no transitions" error from the graph check.
    let no_transitions = step.on.is_empty() && step.then.is_none() && source.is_some();
    if step.then.is_none() && !no_transitions {
        for o in outcomes {
            if !step.on.contains_key(o) {
                // Message text only.
                let of = source.map(|s| format!(" of {s}")).unwrap_or_default();
                out.push(diag(
                    path,
                    sp.name,
                    format!(
                        "step '{}' does not handle outcome '{o}'{of}: add it to 'on' or add 'then'",
                        step.name
                    ),
                ));
            }
        }
    }
    out
}
