//! Data-driven tests: every `fixtures/good/*.yaml` must load and match the model summary in
//! its sibling `.expected`; every `fixtures/bad/*.yaml` (or `bad/NAME/` folder of files
//! loaded together) must fail with exactly the diagnostics in `bad/NAME.expected`, one per
//! line. Set `UPDATE_EXPECT=1` to rewrite the `.expected` files (then review the diff).

mod common;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use ordo_workflow::{Step, StepKind, Trigger, Workflow, load_set};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `(name, files)` for each case in `dir`: a `.yaml` file, or a folder of them.
fn cases(dir: &str) -> Vec<(String, Vec<(String, String)>)> {
    let root = fixtures().join(dir);
    let mut entries: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.map(|e| e.path()).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    entries.sort();
    let read = |p: &Path| {
        let rel = p
            .strip_prefix(fixtures())
            .unwrap_or(p)
            .to_string_lossy()
            .replace('\\', "/");
        let src = fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        (rel, src)
    };
    let mut out = Vec::new();
    for p in entries {
        let name = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if p.is_dir() {
            let mut files: Vec<PathBuf> = fs::read_dir(&p)
                .unwrap_or_else(|e| panic!("{e}"))
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "yaml"))
                .collect();
            files.sort();
            out.push((name, files.iter().map(|f| read(f)).collect()));
        } else if p.extension().is_some_and(|x| x == "yaml") {
            out.push((name, vec![read(&p)]));
        }
    }
    out
}

fn compare(dir: &str, name: &str, actual: &str, failures: &mut Vec<String>) {
    let path = fixtures().join(dir).join(format!("{name}.expected"));
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        fs::write(&path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{dir}/{name}: expected ({}):\n{expected}\nactual:\n{actual}",
            path.display()
        ));
    }
}

#[test]
fn fixtures_good_and_bad() {
    let catalog = common::catalog();
    let mut failures = Vec::new();
    let good = cases("good");
    let bad = cases("bad");
    assert!(good.len() >= 3 && bad.len() >= 20, "fixtures missing");
    for (name, files) in &good {
        match load_set(files, &catalog) {
            Ok(wfs) => {
                let summary: String = wfs.iter().map(summarize).collect();
                compare("good", name, &summary, &mut failures);
            }
            Err(diags) => {
                let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
                failures.push(format!("good/{name} failed:\n{}", text.join("\n")));
            }
        }
    }
    for (name, files) in &bad {
        match load_set(files, &catalog) {
            Ok(_) => failures.push(format!("bad/{name} was accepted")),
            Err(diags) => {
                let text: String = diags.iter().map(|d| format!("{d}\n")).collect();
                compare("bad", name, &text, &mut failures);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A stable text form of what the engine gets.
fn summarize(wf: &Workflow) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "workflow {} v{} ({})", wf.name, wf.version, wf.path);
    if let Some(d) = &wf.description {
        let _ = writeln!(s, "description: {d}");
    }
    let trigger = match &wf.trigger {
        Trigger::Manual => "manual".to_string(),
        Trigger::Event { event, key } => format!("event {event} key {key}"),
        Trigger::Cron { expr, timezone, .. } => format!("cron '{expr}' in {timezone}"),
    };
    let _ = writeln!(s, "trigger: {trigger}");
    let _ = writeln!(s, "start: {}", wf.start);
    let r = wf.default_retry;
    let _ = writeln!(
        s,
        "default retry: {} x {:?}..{:?}",
        r.attempts, r.backoff, r.max
    );
    assert_eq!(wf.source_hash.len(), 16);
    for step in &wf.steps {
        summarize_step(&mut s, step);
    }
    s
}

fn summarize_step(s: &mut String, step: &Step) {
    let kind = match &step.kind {
        StepKind::Rule { rule } => format!("rule {rule}"),
        StepKind::Connector { connector } => format!("connector {connector}"),
        StepKind::Task {
            role,
            timeout,
            outcomes,
        } => format!("task role {role} timeout {timeout:?} outcomes {outcomes:?}"),
        StepKind::Wait {
            event,
            timeout,
            until: None,
            outcomes,
        } => format!("wait event {event} timeout {timeout:?} outcomes {outcomes:?}"),
        StepKind::Wait {
            event,
            until: Some(c),
            outcomes,
            ..
        } => format!(
            "wait event {event} until {:?} outcomes {outcomes:?}",
            c.expr
        ),
        StepKind::End { status } => format!("end {status}"),
    };
    let _ = writeln!(s, "step {} @{}:{}: {kind}", step.name, step.line, step.col);
    if !step.on.is_empty() {
        let on: Vec<String> = step.on.iter().map(|(k, v)| format!("{k} -> {v}")).collect();
        let _ = writeln!(s, "  on: {}", on.join(", "));
    }
    if let Some(t) = &step.then {
        let _ = writeln!(s, "  then: {t}");
    }
    if !matches!(step.kind, StepKind::End { .. }) {
        let r = step.retry;
        let _ = writeln!(s, "  retry: {} x {:?}..{:?}", r.attempts, r.backoff, r.max);
    }
    if step.params.as_object().is_none_or(|o| !o.is_empty()) {
        let _ = writeln!(s, "  params: {}", step.params);
    }
}
