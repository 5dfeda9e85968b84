//! Tests of the public API beyond the fixtures.

mod common;

use std::time::Duration;

use ordo_workflow::{
    Catalog, Diagnostic, RetryPolicy, StepKind, Trigger, check, load_set, parse, parse_duration,
};

const DEMO: &str = include_str!("fixtures/good/order-demo.yaml");

fn parsed(src: &str) -> ordo_workflow::Workflow {
    match parse("workflows/t.yaml", src) {
        Ok(wf) => wf,
        Err(d) => panic!("{d:?}"),
    }
}

#[test]
fn diagnostic_displays_path_line_col_message() {
    let d = Diagnostic {
        path: "workflows/x.yaml".into(),
        line: 14,
        col: 12,
        message: "unknown step 'shpi' (did you mean 'ship'?)".into(),
    };
    assert_eq!(
        d.to_string(),
        "workflows/x.yaml:14:12: unknown step 'shpi' (did you mean 'ship'?)"
    );
}

#[test]
fn demo_model() {
    let wf = parsed(DEMO);
    assert_eq!((wf.name.as_str(), wf.version), ("order-demo", 1));
    assert_eq!(wf.start, "validate");
    assert!(
        matches!(&wf.trigger, Trigger::Event { event, key } if event == "order.received" && key == "id")
    );
    assert_eq!(wf.source, DEMO);
    assert_eq!(wf.path, "workflows/t.yaml");
    let names: Vec<&str> = wf.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "validate",
            "approve",
            "review",
            "confirm",
            "await_payment",
            "done",
            "held",
            "rejected"
        ]
    );
    let validate = wf.step("validate").unwrap_or_else(|| panic!("no validate"));
    assert_eq!(validate.next("invalid"), Some("held"));
    assert_eq!(validate.next("other"), None);
    assert_eq!(validate.params.to_string(), r#"{"tolerance":0.05}"#);
    assert_eq!(
        validate.retry,
        RetryPolicy {
            attempts: 3,
            backoff: Duration::from_millis(500),
            max: Duration::from_secs(60)
        }
    );
    let confirm = wf.step("confirm").unwrap_or_else(|| panic!("no confirm"));
    assert_eq!(confirm.next("ok"), Some("await_payment"));
    assert_eq!(confirm.next("anything"), Some("await_payment"));
    // Steps without retry: inherit defaults.retry.
    assert_eq!(confirm.retry.attempts, 5);
    assert!(wf.step("nope").is_none());
}

#[test]
fn step_outcomes() {
    let wf = parsed(DEMO);
    let catalog = common::catalog();
    let outcomes = |name: &str, cat: Option<&Catalog>| {
        wf.step(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .outcomes(cat)
    };
    let v = |xs: &[&str]| Some(xs.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(outcomes("validate", Some(&catalog)), v(&["ok", "invalid"]));
    assert_eq!(outcomes("validate", None), None);
    assert_eq!(
        outcomes("approve", Some(&catalog)),
        v(&["approved", "review", "rejected"])
    );
    assert_eq!(
        outcomes("review", None),
        v(&["approved", "rejected", "timeout"])
    );
    assert_eq!(
        outcomes("await_payment", None),
        v(&["paid", "partial", "timeout"])
    );
    assert_eq!(outcomes("done", None), v(&[]));
    let mut undeclared = catalog.clone();
    undeclared.rules.insert("approval".into(), None);
    assert_eq!(outcomes("approve", Some(&undeclared)), None);
}

#[test]
fn demo_passes_check_and_load_set() {
    let wf = parsed(DEMO);
    assert_eq!(check(&wf, &common::catalog()), Vec::<Diagnostic>::new());
    let files = vec![("a.yaml".to_string(), DEMO.to_string())];
    let loaded = load_set(&files, &common::catalog()).unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(loaded.len(), 1);
}

#[test]
fn check_needs_the_catalog() {
    let wf = parsed(DEMO);
    let diags: Vec<String> = check(&wf, &Catalog::default())
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        diags,
        [
            "workflows/t.yaml:10:16: unknown connector 'order.validate'",
            "workflows/t.yaml:15:11: unknown rule 'approval'",
            "workflows/t.yaml:21:16: unknown connector 'order.confirm'",
        ]
    );
}

#[test]
fn check_works_without_source_spans() {
    // A workflow whose source no longer matches falls back to the step positions.
    let mut wf = parsed(DEMO);
    wf.source = String::new();
    let diags = check(&wf, &Catalog::default());
    assert_eq!(diags.len(), 3);
    assert_eq!((diags[0].line, diags[0].col), (9, 3));
}

#[test]
fn source_hash_is_stable_and_content_based() {
    let a = parsed(DEMO);
    let b = parsed(DEMO);
    assert_eq!(a.source_hash, b.source_hash);
    assert_eq!(a.source_hash.len(), 16);
    assert!(a.source_hash.chars().all(|c| c.is_ascii_hexdigit()));
    let changed = parsed(&DEMO.replace("tolerance: 0.05", "tolerance: 0.06"));
    assert_ne!(a.source_hash, changed.source_hash);
}

#[test]
fn with_numbers_keep_their_text() {
    let src = "workflow: w\nversion: 1\nsteps:\n  a:\n    connector: order.confirm\n    with: { t: 0.05, big: 123456789012345678901234567890, f: 1.10, list: [0.1, -2] }\n    then: done\n  done: { end: ok }\n";
    let wf = parsed(src);
    let params = &wf.steps[0].params;
    assert_eq!(
        params.to_string(),
        r#"{"t":0.05,"big":123456789012345678901234567890,"f":1.10,"list":[0.1,-2]}"#
    );
}

#[test]
fn with_anchor_and_alias_keep_text() {
    let src = "workflow: w\nversion: 1\nsteps:\n  a:\n    connector: order.confirm\n    with: { t: &tol 0.05, u: *tol }\n    then: done\n  done: { end: ok }\n";
    let wf = parsed(src);
    assert_eq!(wf.steps[0].params.to_string(), r#"{"t":0.05,"u":0.05}"#);
}

#[test]
fn retry_delays_double_and_cap() {
    let p = RetryPolicy {
        attempts: 5,
        backoff: Duration::from_secs(2),
        max: Duration::from_secs(300),
    };
    let delays: Vec<u64> = (1..=10).map(|n| p.delay(n).as_secs()).collect();
    assert_eq!(delays, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    assert_eq!(p.delay(0), Duration::from_secs(2));
    assert_eq!(p.delay(u32::MAX), Duration::from_secs(300));
    assert_eq!(p.delay(200), Duration::from_secs(300));
    assert_eq!(p.delay(65), Duration::from_secs(300));
    let huge = RetryPolicy {
        attempts: 3,
        backoff: Duration::MAX,
        max: Duration::MAX,
    };
    assert_eq!(huge.delay(1), Duration::MAX);
    assert_eq!(huge.delay(40), Duration::MAX);
    let ms = RetryPolicy {
        attempts: 3,
        backoff: Duration::from_millis(500),
        max: Duration::from_secs(60),
    };
    assert_eq!(ms.delay(2), Duration::from_secs(1));
    assert_eq!(ms.delay(8), Duration::from_secs(60));
    let zero = RetryPolicy {
        attempts: 3,
        backoff: Duration::ZERO,
        max: Duration::from_secs(60),
    };
    assert_eq!(zero.delay(u32::MAX), Duration::ZERO);
}

#[test]
fn retry_default() {
    assert_eq!(
        RetryPolicy::default(),
        RetryPolicy {
            attempts: 3,
            backoff: Duration::from_secs(1),
            max: Duration::from_secs(60)
        }
    );
}

#[test]
fn parse_duration_is_public() {
    assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
    assert!(parse_duration("5 minutes").is_err());
}

#[test]
fn cron_trigger_schedule_is_usable() {
    let src = "workflow: w\nversion: 1\ntrigger: { cron: \"0 6 * * Mon-Fri\" }\nsteps:\n  done: { end: ok }\n";
    let wf = parsed(src);
    let Trigger::Cron {
        expr,
        timezone,
        schedule,
    } = &wf.trigger
    else {
        panic!("not cron: {:?}", wf.trigger)
    };
    assert_eq!(expr, "0 0 6 * * Mon-Fri");
    assert_eq!(timezone, "UTC");
    assert!(schedule.upcoming(chrono::Utc).next().is_some());
}

#[test]
fn task_and_wait_defaults() {
    let src = "workflow: w\nversion: 1\nsteps:\n  t:\n    task: { role: clerk }\n    then: w\n  w:\n    wait: { event: paid }\n    on: { received: done }\n  done: { end: ok }\n";
    let wf = parsed(src);
    assert!(
        matches!(&wf.steps[0].kind, StepKind::Task { outcomes, timeout: None, .. } if outcomes == &["approved", "rejected"])
    );
    assert!(
        matches!(&wf.steps[1].kind, StepKind::Wait { outcomes, timeout: None, .. } if outcomes == &["received"])
    );
    assert!(wf.steps[0].params.as_object().is_some_and(|o| o.is_empty()));
}

#[test]
fn all_semantic_errors_are_collected() {
    let src = "workflow: w\nversion: 0\nsteps:\n  a:\n    connector: order.confirm\n    then: b\n  b:\n    task: { role: clerk, timeout: 0s }\n    then: nowhere\n";
    let Err(diags) = parse("w.yaml", src) else {
        panic!("accepted")
    };
    let text: Vec<String> = diags.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "w.yaml:2:10: version must be at least 1",
            "w.yaml:4:3: workflow has no end step: add one, e.g. 'done: { end: completed }'",
            "w.yaml:8:35: timeout must be greater than zero",
            "w.yaml:9:11: unknown step 'nowhere'",
        ]
    );
}

/// Feed every prefix (and some mangled variants) of valid files to `parse`: it must
/// return, never panic.
#[test]
fn truncated_and_mangled_input_never_panics() {
    let sources = [
        DEMO,
        include_str!("fixtures/good/manual-defaults.yaml"),
        include_str!("fixtures/good/cron-five-fields.yaml"),
    ];
    let mut ok = 0;
    let mut err = 0;
    for src in sources {
        let cuts = src.char_indices().map(|(i, _)| i).chain([src.len()]);
        for cut in cuts {
            let prefix = &src[..cut];
            match parse("t.yaml", prefix) {
                Ok(_) => ok += 1,
                Err(d) => {
                    assert!(!d.is_empty(), "empty error for prefix {cut}");
                    assert!(d.iter().all(|d| d.line >= 1 && d.col >= 1));
                    err += 1;
                }
            }
            if cut % 5 != 0 {
                continue;
            }
            // A stray token inserted at the cut.
            for junk in ["\t", ":", "]", "\"", "&a *a", "{", "\u{feff}"] {
                let mangled = format!("{prefix}{junk}{}", &src[cut..]);
                let _ = parse("t.yaml", &mangled);
            }
        }
    }
    assert!(ok >= 3, "the full files must parse");
    assert!(err > 100, "most prefixes are invalid");
}

#[test]
fn alias_bomb_is_rejected_not_expanded() {
    let mut src = String::from(
        "workflow: w\nversion: 1\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
    );
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        src.push_str(&format!("x{i}: &a{i} [{}]\n", vec![prev; 9].join(", ")));
    }
    src.push_str("steps:\n  done: { end: ok }\n");
    assert!(parse("bomb.yaml", &src).is_err());
}
