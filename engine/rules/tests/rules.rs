use std::sync::Arc;
use std::time::Duration;

use ordo_rules::{
    Decision, Diagnostic, Limits, Rule, RuleError, RuleHost, dynamic_to_json, json_to_dynamic,
};
use serde_json::{Map, Value, json};

macro_rules! fixture {
    ($name:literal) => {
        (
            concat!("rules/", $name),
            include_str!(concat!("fixtures/", $name)),
        )
    };
}

fn host() -> RuleHost {
    RuleHost::new(Limits::default())
}

fn compile(host: &RuleHost, (path, src): (&str, &str)) -> Rule {
    let name = path.trim_start_matches("rules/").trim_end_matches(".rhai");
    host.compile(name, path, src)
        .unwrap_or_else(|d| panic!("{d}"))
}

fn compile_err(host: &RuleHost, (path, src): (&str, &str)) -> Diagnostic {
    match host.compile("x", path, src) {
        Ok(_) => panic!("{path} compiled but should not"),
        Err(d) => d,
    }
}

fn inputs(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("inputs must be an object"),
    }
}

/// Parses JSON text keeping exact number text (arbitrary_precision).
fn inputs_text(text: &str) -> Map<String, Value> {
    serde_json::from_str(text).unwrap()
}

fn good_customer() -> Value {
    json!({ "credit_limit": 5000, "open_balance": 0, "overdue_invoices": 0, "blocked": false })
}

#[test]
fn approval_rule_decides() {
    let host = host();
    let rule = compile(&host, fixture!("approval.rhai"));
    assert_eq!(rule.name, "approval");
    assert_eq!(rule.inputs, ["order", "customer"]);
    assert_eq!(
        rule.outcomes.as_deref(),
        Some(&["approved".to_string(), "review".into(), "rejected".into()][..])
    );
    assert_eq!(rule.hash.len(), 64);

    let d = host
        .evaluate(
            &rule,
            &inputs(json!({ "order": { "total": 100 }, "customer": good_customer() })),
        )
        .unwrap();
    assert_eq!(
        d,
        Decision {
            outcome: "approved".into(),
            values: Map::new()
        }
    );
}

#[test]
fn map_outcome_carries_exact_values() {
    let host = host();
    let rule = compile(&host, fixture!("approval.rhai"));
    let d = host
        .evaluate(
            &rule,
            &inputs_text(
                r#"{ "order": { "total": 5000.01 },
                     "customer": { "credit_limit": 5000, "open_balance": 0, "overdue_invoices": 0, "blocked": false } }"#,
            ),
        )
        .unwrap();
    assert_eq!(d.outcome, "review");
    assert_eq!(d.values["reason"], json!("over credit by 0.01"));
    // Decimal comes back as an exact JSON number, not a float and not a string.
    assert_eq!(d.values["over"].to_string(), "0.01");
    assert!(d.values["over"].is_number());
}

#[test]
fn money_as_json_decimal_compares_numerically() {
    let host = host();
    let rule = compile(&host, fixture!("threshold.rhai"));
    let eval = |text: &str| host.evaluate(&rule, &inputs_text(text)).unwrap().outcome;
    assert_eq!(eval(r#"{ "order": { "total": 1200.50 } }"#), "review");
    assert_eq!(eval(r#"{ "order": { "total": 1000.00 } }"#), "approved");
    assert_eq!(eval(r#"{ "order": { "total": 1000.01 } }"#), "review");
    assert_eq!(eval(r#"{ "order": { "total": 1e3 } }"#), "approved");
    assert_eq!(eval(r#"{ "order": { "total": 1001 } }"#), "review");
}

#[test]
fn money_as_string_is_an_error_not_a_silent_false() {
    let host = host();
    let rule = compile(&host, fixture!("threshold.rhai"));
    let err = host
        .evaluate(&rule, &inputs(json!({ "order": { "total": "1200.00" } })))
        .unwrap_err();
    match &err {
        RuleError::Runtime {
            path, line, col, ..
        } => {
            assert_eq!(path, "rules/threshold.rhai");
            assert_eq!((*line, *col), (2, 16), "{err}");
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "rules/threshold.rhai:2:16: cannot compare a string > a number: the values have different types (is a number missing or written as text?)"
    );
    let err = host
        .evaluate(&rule, &inputs(json!({ "order": { "total": null } })))
        .unwrap_err();
    assert!(err.to_string().contains("cannot compare"), "{err}");
}

#[test]
fn json_conversion_is_exact() {
    let v: Value = serde_json::from_str(
        r#"{"a": 1200.50, "b": 42, "c": 12345678901234567.10, "d": 1e3, "e": 9223372036854775808}"#,
    )
    .unwrap();
    let d = json_to_dynamic(&v);
    let m = d.clone().cast::<rhai::Map>();
    assert_eq!(m["a"].type_name(), "decimal");
    assert_eq!(m["a"].to_string(), "1200.50");
    assert_eq!(m["b"].as_int().unwrap(), 42);
    assert_eq!(m["c"].to_string(), "12345678901234567.10");
    assert_eq!(m["d"].type_name(), "decimal");
    assert_eq!(
        m["d"].as_decimal().unwrap(),
        rust_decimal::Decimal::from(1000)
    );
    assert_eq!(m["e"].type_name(), "decimal");
    let back = dynamic_to_json(&d).unwrap();
    assert_eq!(back["a"].to_string(), "1200.50");
    assert_eq!(back["c"].to_string(), "12345678901234567.10");
    assert_eq!(back["e"].to_string(), "9223372036854775808");
    assert_eq!(dynamic_to_json(&rhai::Dynamic::UNIT).unwrap(), Value::Null);
}

#[test]
fn unrepresentable_input_number_is_a_bad_input() {
    let host = host();
    let rule = compile(&host, fixture!("threshold.rhai"));
    let err = host
        .evaluate(
            &rule,
            &inputs_text(r#"{ "order": { "total": 1.00000000000000000000000000001 } }"#),
        )
        .unwrap_err();
    assert!(matches!(err, RuleError::BadInput { .. }), "{err:?}");
}

#[test]
fn missing_input_is_an_error() {
    let host = host();
    let rule = compile(&host, fixture!("approval.rhai"));
    let err = host
        .evaluate(&rule, &inputs(json!({ "order": { "total": 1 } })))
        .unwrap_err();
    assert!(
        matches!(&err, RuleError::MissingInput(name) if name == "customer"),
        "{err:?}"
    );
    assert!(err.to_string().contains("missing input `customer`"));
}

#[test]
fn syntax_error_is_located() {
    let d = compile_err(&host(), fixture!("syntax_error.rhai"));
    assert_eq!(
        (d.path.as_str(), d.line, d.col),
        ("rules/syntax_error.rhai", 5, 9),
        "{d}"
    );
    assert!(
        d.to_string().starts_with("rules/syntax_error.rhai:5:9: "),
        "{d}"
    );
}

#[test]
fn undeclared_variable_is_a_compile_error() {
    let d = compile_err(&host(), fixture!("undefined_variable.rhai"));
    assert_eq!((d.line, d.col), (2, 4), "{d}");
    assert!(d.message.contains("ordr"), "{d}");
}

#[test]
fn header_errors_are_located() {
    let host = host();
    let d = compile_err(
        &host,
        (
            "rules/h.rhai",
            "//! inputs: order\n//! outcome: a, b\n\"a\"\n",
        ),
    );
    assert_eq!((d.line, d.col), (2, 5), "{d}");
    assert!(d.message.contains("unknown header key `outcome`"), "{d}");

    let d = compile_err(
        &host,
        ("rules/h.rhai", "//! outcomes: a\n//! inputs:   \n\"a\"\n"),
    );
    assert_eq!((d.line, d.col), (2, 12), "{d}");
    assert!(d.message.contains("lists no names"), "{d}");

    let d = compile_err(&host, ("rules/h.rhai", "//! inputs: order, 2nd\n\"a\"\n"));
    assert_eq!((d.line, d.col), (1, 20), "{d}");

    let d = compile_err(&host, ("rules/h.rhai", "// no header\n\"a\"\n"));
    assert_eq!((d.line, d.col), (1, 1), "{d}");
    assert!(d.message.contains("inputs"), "{d}");

    let d = compile_err(
        &host,
        (
            "rules/h.rhai",
            "//! inputs: order\n\"a\"\n//! outcomes: a\n",
        ),
    );
    assert_eq!((d.line, d.col), (3, 1), "{d}");
}

#[test]
fn inputs_are_read_only() {
    let host = host();
    let rule = compile(&host, fixture!("modifies_input.rhai"));
    let err = host
        .evaluate(&rule, &inputs(json!({ "order": { "total": 5 } })))
        .unwrap_err();
    assert!(matches!(err, RuleError::Runtime { line: 2, .. }), "{err:?}");
}

#[test]
fn runtime_error_is_located() {
    let host = host();
    let rule = compile(&host, fixture!("missing_property.rhai"));
    let err = host
        .evaluate(
            &rule,
            &inputs(json!({ "order": { "total": 5 }, "customer": good_customer() })),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("rules/missing_property.rhai:2:"), "{text}");
    assert!(text.contains("credit_limt"), "{text}");
}

#[test]
fn infinite_loop_ends_with_an_error() {
    let host = host();
    let rule = compile(&host, fixture!("infinite_loop.rhai"));
    let err = host
        .evaluate(&rule, &inputs(json!({ "order": {} })))
        .unwrap_err();
    // The operation budget normally ends it; a slow (debug, loaded) machine may hit the wall
    // time first. Either way it is an error, never a hang.
    assert!(
        matches!(
            err,
            RuleError::TooManyOperations | RuleError::WallTimeExceeded { .. }
        ),
        "{err:?}"
    );
    // With a generous wall time, the deterministic operation budget is what stops it.
    let host = RuleHost::new(Limits {
        wall_time: Duration::from_secs(60),
        ..Limits::default()
    });
    let rule = compile(&host, fixture!("infinite_loop.rhai"));
    let err = host
        .evaluate(&rule, &inputs(json!({ "order": {} })))
        .unwrap_err();
    assert!(matches!(err, RuleError::TooManyOperations), "{err:?}");
    assert!(err.to_string().contains("operation budget"), "{err}");
}

#[test]
fn wall_time_stops_a_loop_without_an_operation_budget() {
    let host = RuleHost::new(Limits {
        max_operations: 0,
        wall_time: Duration::from_millis(20),
        ..Limits::default()
    });
    let rule = compile(&host, fixture!("infinite_loop.rhai"));
    let err = host
        .evaluate(&rule, &inputs(json!({ "order": {} })))
        .unwrap_err();
    assert!(
        matches!(err, RuleError::WallTimeExceeded { ms: 20 }),
        "{err:?}"
    );
    // The deadline belongs to that evaluation only: the next one runs normally.
    let ok = compile(&host, fixture!("threshold.rhai"));
    host.evaluate(&ok, &inputs(json!({ "order": { "total": 1 } })))
        .unwrap();
}

#[test]
fn string_doubling_hits_the_size_limit() {
    let host = host();
    let rule = compile(&host, fixture!("string_doubling.rhai"));
    let err = host
        .evaluate(&rule, &inputs(json!({ "order": {} })))
        .unwrap_err();
    assert!(
        matches!(&err, RuleError::Runtime { line: 3, message, .. } if message.contains("limit")),
        "{err:?}"
    );
}

#[test]
fn deep_recursion_is_a_runtime_error() {
    let host = host();
    let rule = compile(&host, fixture!("deep_recursion.rhai"));
    let err = host
        .evaluate(&rule, &inputs(json!({ "order": {} })))
        .unwrap_err();
    assert!(
        matches!(&err, RuleError::Runtime { message, .. } if message.contains("stack overflow")),
        "{err:?}"
    );
}

#[test]
fn eval_and_import_are_rejected_at_compile_time() {
    let host = host();
    let d = compile_err(&host, fixture!("eval.rhai"));
    assert_eq!((d.line, d.col), (2, 1), "{d}");
    assert!(d.message.contains("eval"), "{d}");
    let d = compile_err(&host, fixture!("import.rhai"));
    assert_eq!((d.line, d.col), (2, 1), "{d}");
    assert!(d.message.contains("import"), "{d}");
}

#[test]
fn undeclared_outcome_is_rejected() {
    let host = host();
    let rule = compile(&host, fixture!("undeclared_outcome.rhai"));
    let err = host
        .evaluate(&rule, &inputs(json!({ "order": { "total": 2000 } })))
        .unwrap_err();
    assert!(
        matches!(&err, RuleError::UndeclaredOutcome { outcome, .. } if outcome == "maybe"),
        "{err:?}"
    );
    assert!(err.to_string().contains("approved, review"), "{err}");
    let ok = host
        .evaluate(&rule, &inputs(json!({ "order": { "total": 20 } })))
        .unwrap();
    assert_eq!(ok.outcome, "approved");
}

#[test]
fn returning_a_number_is_a_bad_return() {
    let host = host();
    let rule = compile(&host, fixture!("returns_number.rhai"));
    let err = host
        .evaluate(&rule, &inputs(json!({ "order": { "total": 21 } })))
        .unwrap_err();
    assert!(matches!(err, RuleError::BadReturn(_)), "{err:?}");
    assert!(err.to_string().contains("outcome"), "{err}");
}

#[test]
fn rule_tests_pass() {
    let host = host();
    let rule = compile(&host, fixture!("approval.rhai"));
    let (path, src) = fixture!("approval.test.yaml");
    let results = host.run_tests(&rule, path, src).unwrap();
    assert_eq!(results.len(), 6);
    for r in &results {
        assert!(r.passed, "{}: {:?}", r.name, r.diff);
    }
}

#[test]
fn yaml_numbers_are_exact_decimals() {
    let host = host();
    let rule = compile(&host, fixture!("exact.rhai"));
    let (path, src) = fixture!("exact.test.yaml");
    let results = host.run_tests(&rule, path, src).unwrap();
    assert_eq!(results.len(), 1);
    assert!(results[0].passed, "{:?}", results[0]);
    assert!(
        results[0].actual.contains("12345678901234567.10"),
        "{}",
        results[0].actual
    );
}

#[test]
fn rule_tests_report_failures_with_a_diff() {
    let host = host();
    let rule = compile(&host, fixture!("approval.rhai"));
    let (path, src) = fixture!("approval_failing.test.yaml");
    let r = host.run_tests(&rule, path, src).unwrap();
    assert_eq!(r.len(), 4);
    assert!(r[0].passed);

    assert!(!r[1].passed);
    assert_eq!(r[1].expected, "review");
    assert_eq!(r[1].actual, "approved");
    assert_eq!(r[1].diff, ["outcome: expected 'review', got 'approved'"]);

    assert!(!r[2].passed);
    assert_eq!(
        r[2].diff,
        [
            r#"values.reason: expected "over credit by 0.01", got "over credit by 0.02""#,
            "values.missing_key: expected 1, got nothing (the rule returned no `missing_key`)",
        ]
    );

    assert!(!r[3].passed);
    assert!(
        r[3].actual.contains("missing input `customer`"),
        "{}",
        r[3].actual
    );
}

#[test]
fn bad_test_files_are_located() {
    let host = host();
    let rule = compile(&host, fixture!("approval.rhai"));
    let run = |src: &str| {
        host.run_tests(&rule, "rules/approval.test.yaml", src)
            .unwrap_err()
    };

    let d =
        run("cases:\n  - name: a\n    input: { order: {}, customer: {} }\n    expct: approved\n");
    assert_eq!((d.line, d.col), (4, 5), "{d}");
    assert!(d.message.contains("expct"), "{d}");
    assert!(
        d.to_string().starts_with("rules/approval.test.yaml:4:5: "),
        "{d}"
    );

    let d = run("cases:\n  - name: a\n    input: { ordr: {} }\n    expect: approved\n");
    assert_eq!((d.line, d.col), (3, 14), "{d}");
    assert!(d.message.contains("`ordr` is not an input"), "{d}");

    let d = run("cases:\n  - name: a\n    input: { order: {} }\n    expect: [approved]\n");
    assert_eq!((d.line, d.col), (4, 13), "{d}");

    let d = run(
        "cases:\n  - name: a\n    input: { order: {} }\n    expect: { outcome: review, valus: {} }\n",
    );
    assert_eq!((d.line, d.col), (4, 32), "{d}");
    assert!(d.message.contains("valus"), "{d}");

    let d = run("cases:\n  - name: a\n    input: { order: {} }\n    expect: aproved\n");
    assert_eq!((d.line, d.col), (4, 13), "{d}");
    assert!(d.message.contains("not declared"), "{d}");

    let d = run("cases:\n  - name: a\n    input: [1]\n    expect: approved\n");
    assert_eq!((d.line, d.col), (3, 12), "{d}");

    let d = run("");
    assert_eq!((d.line, d.col), (1, 1), "{d}");
    assert!(d.message.contains("empty"), "{d}");

    let d = run(
        "cases:\n  - name: a\n    input: { order: { total: 1.000000000000000000000000000000001 } }\n    expect: approved\n",
    );
    assert_eq!((d.line, d.col), (3, 30), "{d}");
    assert!(d.message.contains("exactly"), "{d}");

    let d = run("cases:\n  - name: a\n    input: { order: { total: 1 }\n");
    assert!(d.line >= 3, "{d}");
}

#[test]
fn concurrent_evaluations_are_isolated() {
    let host = Arc::new(host());
    let good = compile(&host, fixture!("approval.rhai"));
    let bad = compile(&host, fixture!("infinite_loop.rhai"));
    let input = inputs_text(
        r#"{ "order": { "total": 100.00 },
             "customer": { "credit_limit": 5000, "open_balance": 0, "overdue_invoices": 0, "blocked": false } }"#,
    );
    std::thread::scope(|s| {
        let looping = s.spawn(|| host.evaluate(&bad, &inputs(json!({ "order": {} }))));
        let workers: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..200 {
                        let d = host.evaluate(&good, &input).unwrap();
                        assert_eq!(d.outcome, "approved");
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        assert!(looping.join().unwrap().is_err());
    });

    // Same with the wall-time backstop only: the looping evaluation's deadline is its own.
    let host = Arc::new(RuleHost::new(Limits {
        max_operations: 0,
        wall_time: Duration::from_millis(50),
        ..Limits::default()
    }));
    let good = compile(&host, fixture!("approval.rhai"));
    let bad = compile(&host, fixture!("infinite_loop.rhai"));
    std::thread::scope(|s| {
        let looping = s.spawn(|| host.evaluate(&bad, &inputs(json!({ "order": {} }))));
        let workers: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..200 {
                        assert_eq!(host.evaluate(&good, &input).unwrap().outcome, "approved");
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let err = looping.join().unwrap().unwrap_err();
        assert!(
            matches!(err, RuleError::WallTimeExceeded { ms: 50 }),
            "{err:?}"
        );
    });
}

/// The repository's own rules/reorder.rhai against its test cases (both the forecast and the
/// fixed reorder point paths).
#[test]
fn the_reorder_rule_passes_its_cases() {
    let host = host();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../rules/");
    let src = std::fs::read_to_string(format!("{dir}reorder.rhai")).unwrap();
    let tests = std::fs::read_to_string(format!("{dir}reorder.test.yaml")).unwrap();
    let rule = compile(&host, ("rules/reorder.rhai", &src));
    let results = host
        .run_tests(&rule, "rules/reorder.test.yaml", &tests)
        .unwrap_or_else(|d| panic!("{d}"));
    assert!(results.len() >= 9);
    for r in &results {
        assert!(r.passed, "{}: {} {:?}", r.name, r.actual, r.diff);
    }
}
