//! `ordo check`, `ordo rules test` and the exit codes, on scratch projects: every class of
//! definition error comes back as `path:line:col: message` on stderr with exit code 1, and
//! an invalid project never starts.

use ordo_tests::Project;

/// The located error lines `ordo check` prints (exit 1), without the closing count line,
/// after checking that count.
fn check_errors(p: &Project) -> Vec<String> {
    let (out, err) = p.expect_code(1, &["check"]);
    assert!(
        !out.contains("ok  "),
        "nothing is reported ok on failure: {out}"
    );
    let mut lines: Vec<String> = err.lines().map(str::to_string).collect();
    let count = lines.pop().unwrap_or_default();
    assert_eq!(count, format!("{} error(s)", lines.len()), "stderr:\n{err}");
    lines
}

/// A project with the repo's files plus `workflows/x.yaml`.
fn with_workflow(tag: &str, yaml: &str) -> Project {
    let p = Project::fixture(tag);
    p.write("workflows/x.yaml", yaml);
    p
}

#[test]
fn valid_project_passes() {
    let p = Project::fixture("chk-ok");
    let out = p.ok(&["check"]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        vec![
            "ok  company ordo Supplies GmbH (config/company.yaml)",
            // the fixture has no config/accounts.yaml: check says so (the ledger is optional)
            "--  no chart of accounts at config/accounts.yaml: no ledger is kept",
            "ok  order-intake v1 (workflows/order-intake.yaml, 9 steps)",
            "ok  1 rule(s) in rules",
        ]
    );
    let v = p.json(&["check"]);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["workflows"], serde_json::json!(["order-intake"]), "{v}");
    assert_eq!(v["rules"], 1, "{v}");
}

/// The repository's own workflows and rules (not the pinned fixtures) check and pass their
/// rule tests.
#[test]
fn repo_definitions_are_valid() {
    let p = Project::embedded("chk-repo");
    let out = p.ok(&["check"]);
    assert!(
        out.lines().all(|l| l.starts_with("ok  ")),
        "every line is ok: {out}"
    );
    assert!(out.contains("ok  order-intake v"), "{out}");
    let out = p.ok(&["rules", "test"]);
    let last = out.lines().last().unwrap_or_default();
    assert!(
        last.ends_with(" case(s), 0 failure(s)") && !out.contains("FAIL"),
        "{out}"
    );
}

#[test]
fn unknown_step_target_with_did_you_mean() {
    let p = with_workflow(
        "chk-target",
        "workflow: x
version: 1
start: frist
steps:
  first:
    connector: util.noop
    on: { ok: secnd }
  second:
    connector: util.noop
    then: finished
  done: { end: completed }
",
    );
    assert_eq!(
        check_errors(&p),
        vec![
            "workflows/x.yaml:3:8: unknown step 'frist' (did you mean 'first'?)",
            "workflows/x.yaml:7:15: unknown step 'secnd' (did you mean 'second'?)",
            "workflows/x.yaml:10:11: unknown step 'finished'",
        ]
    );
}

#[test]
fn unknown_connector() {
    let p = with_workflow(
        "chk-conn",
        "workflow: x
version: 1
steps:
  a:
    connector: util.nope
    then: b
  b:
    connector: ledger.post
    then: done
  done: { end: completed }
",
    );
    assert_eq!(
        check_errors(&p),
        vec![
            "workflows/x.yaml:5:16: unknown connector 'util.nope' (did you mean 'util.noop'?)",
            "workflows/x.yaml:8:16: unknown connector 'ledger.post'",
        ]
    );
}

#[test]
fn unknown_rule() {
    let p = with_workflow(
        "chk-rule",
        "workflow: x
version: 1
steps:
  a:
    rule: aproval
    then: b
  b:
    rule: discounts
    then: done
  done: { end: completed }
",
    );
    assert_eq!(
        check_errors(&p),
        vec![
            "workflows/x.yaml:5:11: unknown rule 'aproval' (did you mean 'approval'?)",
            "workflows/x.yaml:8:11: unknown rule 'discounts'",
        ]
    );
}

#[test]
fn unreachable_step() {
    let p = with_workflow(
        "chk-unreach",
        "workflow: x
version: 1
steps:
  a:
    connector: util.noop
    then: done
  orphan:
    connector: util.noop
    then: done
  done: { end: completed }
",
    );
    assert_eq!(
        check_errors(&p),
        vec!["workflows/x.yaml:7:3: step 'orphan' is unreachable from start step 'a'"]
    );
}

#[test]
fn unhandled_outcome() {
    let p = with_workflow(
        "chk-outcome",
        "workflow: x
version: 1
steps:
  approve:
    rule: approval
    on: { approved: wait, rejected: done }
  wait:
    wait: { event: x.go, timeout: 1d }
    on: { received: ship }
  ship:
    connector: util.noop
    on: { ok: done, failed: done }
  done: { end: completed }
",
    );
    assert_eq!(
        check_errors(&p),
        vec![
            "workflows/x.yaml:4:3: step 'approve' does not handle outcome 'review' of rule 'approval': add it to 'on' or add 'then'",
            "workflows/x.yaml:7:3: step 'wait' does not handle outcome 'timeout': add it to 'on' or add 'then'",
            "workflows/x.yaml:12:21: connector 'util.noop' never returns outcome 'failed'",
        ]
    );
}

#[test]
fn missing_terminal_state() {
    let p = with_workflow(
        "chk-noend",
        "workflow: x
version: 1
steps:
  a:
    connector: util.noop
    then: b
  b:
    connector: util.noop
    then: a
",
    );
    assert_eq!(
        check_errors(&p),
        vec![
            "workflows/x.yaml:4:3: workflow has no end step: add one, e.g. 'done: { end: completed }'"
        ]
    );
}

#[test]
fn bad_durations() {
    let p = with_workflow(
        "chk-dur",
        "workflow: x
version: 1
steps:
  a:
    connector: util.flaky
    retry: { attempts: 2, backoff: 5x }
    then: review
  review:
    task: { role: boss, timeout: 0s }
    on: { approved: done, rejected: done, timeout: done }
  done: { end: completed }
",
    );
    // (A rejected timeout also makes `timeout: done` an outcome the step never produces;
    // that follow-on error may or may not be reported.)
    let errors = check_errors(&p);
    for want in [
        "workflows/x.yaml:6:36: invalid duration '5x': unknown unit 'x' (units ms, s, m, h, d, e.g. 500ms, 2s, 24h, 1h30m)",
        "workflows/x.yaml:9:34: timeout must be greater than zero",
    ] {
        assert!(
            errors.iter().any(|e| e == want),
            "missing {want:?} in {errors:?}"
        );
    }
    p.write(
        "workflows/x.yaml",
        "workflow: x
version: 1
steps:
  w:
    wait: { event: x.go, timeout: 3 days }
    on: { received: done, timeout: done }
  done: { end: completed }
",
    );
    let errors = check_errors(&p);
    assert!(
        errors[0].starts_with("workflows/x.yaml:5:35: invalid duration '3 days'"),
        "{errors:?}"
    );
}

fn cron_workflow(expr: &str) -> String {
    format!(
        "workflow: x
version: 1
trigger: {{ cron: \"{expr}\" }}
steps:
  a:
    connector: util.noop
    then: done
  done: {{ end: completed }}
"
    )
}

#[test]
fn bad_cron() {
    let p = with_workflow("chk-cron", &cron_workflow("every day"));
    assert_eq!(
        check_errors(&p),
        vec![
            "workflows/x.yaml:3:18: cron expression 'every day' has 2 fields; write 6 (sec min hour day month weekday), 7 (+ year) or POSIX 5 (min hour day month weekday)"
        ]
    );
    p.write("workflows/x.yaml", &cron_workflow("30 9 * * 1-5"));
    assert_eq!(
        check_errors(&p),
        vec![
            "workflows/x.yaml:3:18: numeric day of week '1-5' is ambiguous (this cron counts 1 = Sunday): use names such as Mon-Fri"
        ]
    );
    // An out-of-range field: the message after the location comes from the cron crate.
    p.write("workflows/x.yaml", &cron_workflow("0 0 25 * * *"));
    let errors = check_errors(&p);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("workflows/x.yaml:3:18: invalid cron expression '0 0 25 * * *': "),
        "{errors:?}"
    );
    // And the valid forms pass: 6 fields, POSIX 5 fields with day names.
    for ok in ["0 0 6 * * *", "30 9 * * Mon-Fri", "@daily"] {
        p.write("workflows/x.yaml", &cron_workflow(ok));
        p.ok(&["check"]);
    }
}

#[test]
fn duplicate_names() {
    let p = with_workflow(
        "chk-dup",
        "workflow: x
version: 1
steps:
  a:
    connector: util.noop
    then: done
  a:
    connector: util.noop
    then: done
  done: { end: completed }
",
    );
    assert_eq!(
        check_errors(&p),
        vec!["workflows/x.yaml:7:3: duplicate step 'a' (first defined at 4:3)"]
    );
    // The same workflow version in two files.
    p.write(
        "workflows/x.yaml",
        "workflow: order-intake
version: 1
steps:
  a:
    connector: util.noop
    then: done
  done: { end: completed }
",
    );
    assert_eq!(
        check_errors(&p),
        vec![
            "workflows/order-intake.yaml:4:11: workflow 'order-intake' version 1 is also defined at workflows/x.yaml:1:11",
            "workflows/x.yaml:1:11: workflow 'order-intake' version 1 is also defined at workflows/order-intake.yaml:4:11",
        ]
    );
}

#[test]
fn yaml_syntax_errors() {
    let p = with_workflow(
        "chk-yaml",
        "workflow: x
version: 1
steps:
  a:
    connector: util.noop
    on: { ok: done
  done: { end: completed }
",
    );
    assert_eq!(
        check_errors(&p),
        vec![
            "workflows/x.yaml:7:7: while parsing a flow mapping, did not find expected ',' or '}'"
        ]
    );
    p.write(
        "workflows/x.yaml",
        "workflow: x\nversion: 1\nsteps:\n  a:\n\tconnector: util.noop\n",
    );
    assert_eq!(
        check_errors(&p),
        vec!["workflows/x.yaml:5:2: tabs disallowed within this context (block indentation)"]
    );
}

#[test]
fn rule_syntax_errors() {
    let p = Project::fixture("chk-rhai");
    p.write(
        "rules/x.rhai",
        "//! inputs: pricing\n//! outcomes: ok, no\n\nlet t = pricing.total +;\n\"ok\"\n",
    );
    assert_eq!(check_errors(&p), vec!["rules/x.rhai:4:24: Unexpected ';'"]);
    p.write(
        "rules/x.rhai",
        "//! inputs: pricing\n//! outcomes: ok, no\n\nlet t = totl;\n\"ok\"\n",
    );
    assert_eq!(
        check_errors(&p),
        vec![
            "rules/x.rhai:4:9: unknown variable `totl`: declare it with `let`, or add it to the `//! inputs:` header if the caller provides it"
        ]
    );
    // A workflow that uses a rule that does not compile reports the rule's error, not
    // "unknown rule".
    p.write(
        "workflows/x.yaml",
        "workflow: x\nversion: 1\nsteps:\n  a:\n    rule: x\n    then: done\n  done: { end: completed }\n",
    );
    assert_eq!(
        check_errors(&p),
        vec![
            "rules/x.rhai:4:9: unknown variable `totl`: declare it with `let`, or add it to the `//! inputs:` header if the caller provides it"
        ]
    );
}

#[test]
fn json_check_lists_every_error_of_every_file() {
    let p = with_workflow(
        "chk-json",
        "workflow: x
version: 1
steps:
  a:
    connector: util.nope
    then: done
  done: { end: completed }
",
    );
    p.write(
        "rules/x.rhai",
        "//! inputs: pricing\n\nlet t = pricing.total +;\n\"ok\"\n",
    );
    let (out, err) = p.expect_code(1, &["--json", "check"]);
    assert!(
        err.is_empty(),
        "JSON mode prints the errors on stdout only: {err}"
    );
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(
        v,
        serde_json::json!({
            "ok": false,
            "errors": [
                "rules/x.rhai:3:24: Unexpected ';'",
                "workflows/x.yaml:5:16: unknown connector 'util.nope' (did you mean 'util.noop'?)",
            ]
        })
    );
}

#[test]
fn run_refuses_an_invalid_project() {
    let p = with_workflow(
        "chk-run",
        "workflow: x
version: 1
steps:
  a:
    connector: util.noop
    then: dne
  done: { end: completed }
",
    );
    p.write("orders.json", &ordo_tests::orders_json(1, "R"));
    for args in [
        &["run", "--exit-when-idle"][..],
        &["run"][..],
        &["submit", "orders.json"][..],
    ] {
        let (_, err) = p.expect_code(1, args);
        assert!(
            err.contains("workflows/x.yaml:6:11: unknown step 'dne' (did you mean 'done'?)"),
            "ordo {args:?}: {err}"
        );
        assert!(
            err.contains("workflows/x.yaml:7:3: step 'done' is unreachable from start step 'a'"),
            "ordo {args:?}: {err}"
        );
        assert!(!err.contains("ordo running"), "ordo {args:?}: {err}");
    }
    // Validation comes before the store is opened: no database, no instances.
    assert!(
        !p.path("data/ordo.db").exists(),
        "an invalid project must not touch the store"
    );
    // Once fixed it runs, and nothing was started by the refused commands.
    std::fs::remove_file(p.path("workflows/x.yaml")).expect("rm");
    p.run_idle();
    assert!(p.counts().is_empty(), "{:?}", p.counts());
}

#[test]
fn rules_test_passes_and_fails_with_the_difference() {
    let p = Project::fixture("chk-rtest");
    let out = p.ok(&["rules", "test"]);
    assert!(
        out.contains("ok    approval: small order within credit is approved"),
        "{out}"
    );
    assert!(out.ends_with("5 case(s), 0 failure(s)\n"), "{out}");
    p.ok(&["rules", "test", "approval"]);

    // One case now expects the wrong outcome.
    let src = std::fs::read_to_string(p.path("rules/approval.test.yaml")).expect("read");
    let broken = src.replacen("expect: approved", "expect: rejected", 1);
    assert_ne!(src, broken);
    p.write("rules/approval.test.yaml", &broken);
    for args in [&["rules", "test"][..], &["rules", "test", "approval"][..]] {
        let (out, _) = p.expect_code(1, args);
        let lines: Vec<&str> = out.lines().collect();
        let i = lines
            .iter()
            .position(|l| *l == "FAIL  approval: small order within credit is approved")
            .unwrap_or_else(|| panic!("no FAIL line: {out}"));
        assert_eq!(
            lines.get(i + 1).copied(),
            Some("        outcome: expected 'rejected', got 'approved'"),
            "{out}"
        );
        assert_eq!(
            lines.last().copied(),
            Some("5 case(s), 1 failure(s)"),
            "{out}"
        );
    }
    let (out, _) = p.expect_code(1, &["--json", "rules", "test", "approval"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["cases"], 5, "{v}");
    assert_eq!(v["failed"], 1, "{v}");
    assert_eq!(
        v["results"][0]["diff"],
        serde_json::json!(["outcome: expected 'rejected', got 'approved'"]),
        "{v}"
    );

    let (_, err) = p.expect_code(1, &["rules", "test", "nosuch"]);
    assert_eq!(err.trim_end(), "no rule 'nosuch' in rules");
}

#[test]
fn usage_errors_exit_2() {
    let p = Project::fixture("chk-usage");
    let (_, err) = p.expect_code(2, &["frobnicate"]);
    assert!(
        err.contains("unrecognized subcommand 'frobnicate'"),
        "{err}"
    );
    p.expect_code(2, &["run", "--no-such-flag"]);
    p.expect_code(2, &["approve", "not-a-number"]);
}

/// The seller is configuration: a company profile with a bad IBAN, BIC, VAT id and country is
/// refused by `ordo check`, each error at the line and column of its value; printing an invoice
/// with it is refused too.
#[test]
fn company_profile_errors_are_located() {
    let p = Project::fixture("chk-company");
    p.write(
        "config/company.yaml",
        "legal_name: ordo Supplies GmbH\naddress:\n  lines: [Hauptstrasse 1]\n  postal_code: \"10115\"\n  city: Berlin\n  country: Germany\nvat_id: \"123\"\nbank:\n  iban: DE88 3704 0044 0532 0130 00\n  bic: XX\n",
    );
    assert_eq!(
        check_errors(&p),
        vec![
            "config/company.yaml:6:3: country 'Germany' is not an ISO 3166 code such as DE",
            "config/company.yaml:7:1: VAT id '123' must be a country prefix and 2-14 letters or digits (e.g. DE123456789)",
            "config/company.yaml:9:3: 'DE88 3704 0044 0532 0130 00' is not a valid IBAN (country code, check digits and length per ISO 13616)",
            "config/company.yaml:10:3: BIC 'XX' is not 8 or 11 characters as ISO 9362 defines",
        ]
    );
    p.write("config/company.yaml", "legal_name: x\nbogus: 1\n");
    let errors = check_errors(&p);
    assert!(
        errors.len() == 1
            && errors[0].starts_with("config/company.yaml:2:1: ")
            && errors[0].contains("bogus"),
        "{errors:?}"
    );
}
