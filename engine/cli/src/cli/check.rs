//! `ordo check` and `ordo rules test`: the reports of `ordo::checks`, printed.

use super::{FAIL, fail, print_json};
use ordo::checks::{self, RuleTests};
use ordo::config::Config;
use ordo::runtime::EngineError;
use serde_json::json;
use std::process::ExitCode;

pub fn check(cfg: &Config, json: bool) -> ExitCode {
    match checks::check_config(cfg) {
        Ok(r) if json => {
            let workflows: Vec<&String> = r.workflows.iter().map(|w| &w.0).collect();
            print_json(
                &json!({ "ok": true, "workflows": workflows, "rules": r.rules, "warnings": r.warnings }),
            );
            ExitCode::SUCCESS
        }
        Ok(r) => {
            for line in &r.checked {
                println!("{line}");
            }
            for w in &r.warnings {
                eprintln!("{w}");
            }
            for (name, version, path, steps) in &r.workflows {
                println!("ok  {name} v{version} ({path}, {steps} steps)");
            }
            println!("ok  {} rule(s) in {}", r.rules, cfg.rules.display());
            ExitCode::SUCCESS
        }
        Err(EngineError::Definitions(errors)) => {
            if json {
                print_json(&json!({ "ok": false, "errors": errors }));
            } else {
                for e in &errors {
                    eprintln!("{e}");
                }
                eprintln!("{} error(s)", errors.len());
            }
            ExitCode::from(FAIL)
        }
        Err(e) => fail(e),
    }
}

pub fn rules_test(cfg: &Config, only: Option<&str>, json: bool) -> ExitCode {
    let results = match checks::test_rules(cfg, only) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    let (mut ran, mut failed) = (0, 0);
    let mut report = Vec::new();
    for (name, result) in results {
        match result {
            RuleTests::Broken(d) => {
                eprintln!("{d}");
                failed += 1;
            }
            RuleTests::NoCases { test_path } => {
                if only.is_some() {
                    eprintln!("{test_path}: no test cases for rule '{name}'");
                    failed += 1;
                } else if !json {
                    println!("--  {name}: no {test_path}");
                }
            }
            RuleTests::Ran(cases) => {
                for c in cases {
                    ran += 1;
                    if !c.passed {
                        failed += 1;
                    }
                    if json {
                        report.push(json!({ "rule": name, "case": c.name, "passed": c.passed, "expected": c.expected, "actual": c.actual, "diff": c.diff }));
                    } else if c.passed {
                        println!("ok    {name}: {}", c.name);
                    } else {
                        println!("FAIL  {name}: {}", c.name);
                        for d in &c.diff {
                            println!("        {d}");
                        }
                    }
                }
            }
        }
    }
    if json {
        print_json(&json!({ "cases": ran, "failed": failed, "results": report }));
    } else {
        println!("{ran} case(s), {failed} failure(s)");
    }
    if failed > 0 {
        ExitCode::from(FAIL)
    } else {
        ExitCode::SUCCESS
    }
}
