//! Issue 20, the runtime's points: a poison order (quantity overflow) fails only its instance
//! and the run ends; rules cannot sleep or read the wall clock and `ordo run` stops on SIGTERM
//! whatever a rule does; a looping workflow is warned about by `ordo check` and failed by the
//! step budget; `ordo clock advance` refuses absurd times; a broken rule file leaves commands
//! working on the definitions installed last.

use ordo_tests::{Project, Running, both, orders_json, wait_until};
use serde_json::{Value, json};
use std::process::Child;
use std::time::{Duration, Instant};

/// Waits for a child to exit (hang detector: generous deadline); its exit code.
fn wait_exit(child: &mut Child, secs: u64, what: &str) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `ordo run --exit-when-idle`, which must end by itself; returns its exit code.
fn run_idle_bounded(p: &Project) -> i32 {
    let mut child = p.spawn_run(&["--exit-when-idle"]);
    wait_exit(&mut child, 180, "ordo run --exit-when-idle")
}

fn append_config(p: &Project, text: &str) {
    let path = p.path("config/ordo.yaml");
    let mut cfg = std::fs::read_to_string(&path).expect("config");
    cfg.push_str(text);
    std::fs::write(path, cfg).expect("config");
}

fn order(id: &str, sku: &str, qty: &str) -> String {
    format!(
        r#"{{ "id": "{id}", "customer_id": "C-CORA", "po_number": "{id}", "order_date": "2026-11-23", "currency": "EUR", "lines": [ {{ "line_no": 1, "sku": "{sku}", "quantity": {qty} }} ] }}"#
    )
}

// Point 1: 7e27 widgets at 12.50 overflow Decimal (which used to panic the worker). Intake
// bounds are set out of the way so the connector itself must be safe.
both!(poison_order, |p: &Project| {
    append_config(
        p,
        "limits: { max_quantity: \"79228162514264337593543950335\", max_unit_price: \"79228162514264337593543950335\" }\n",
    );
    p.ok(&["data", "import", "config/seed.json"]);
    let orders = [
        order("OK-1", "BOLT-M8", "3"),
        order("POISON-1", "WID-100", "7000000000000000000000000000.0"),
        order("OK-2", "WID-100", "2"),
    ];
    p.write("orders.json", &format!("[{}]", orders.join(",")));
    p.ok(&["submit", "orders.json"]);
    assert_eq!(run_idle_bounded(p), 0, "{}", p.run_logs());
    let s = p.status("POISON-1");
    assert_eq!(s["instance"]["status"], "failed", "{s}");
    let error = s["instance"]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("order POISON-1 line 1 quantity × price")
            && error.contains("out of the range"),
        "{error}"
    );
    for k in ["OK-1", "OK-2"] {
        assert_eq!(p.state_of(k), "completed", "{k}: {}", p.run_logs());
    }
    // A restart finds nothing to redo and no panic.
    assert_eq!(run_idle_bounded(p), 0);
    assert!(!p.run_logs().contains("panicked"), "{}", p.run_logs());
});

const SLEEPY: &str = "//! inputs: pricing, customer\n//! outcomes: approved, review, rejected\nlet x = 1;\nsleep(100000);\n\"approved\"\n";

// Point 2: `sleep` and `timestamp` are refused with their place; a rule that reaches `sleep`
// indirectly fails at once; `ordo rules test` applies the engine's limits.
#[test]
fn rules_cannot_sleep_or_read_the_wall_clock() {
    let p = Project::fixture("rule_sleep");
    p.write("rules/approval.rhai", SLEEPY);
    let (_, err) = p.expect_code(1, &["check"]);
    assert!(
        err.contains("rules/approval.rhai:4:1: `sleep()`: rules may not sleep"),
        "{err}"
    );
    p.write(
        "rules/approval.rhai",
        "//! inputs: pricing, customer\n//! outcomes: approved, review, rejected\nif timestamp() > 0 { \"approved\" } else { \"review\" }\n",
    );
    let (_, err) = p.expect_code(1, &["check"]);
    assert!(
        err.contains(
            "rules/approval.rhai:3:4: `timestamp()`: rules may not read the wall clock: use `now()`"
        ),
        "{err}"
    );
    // A rule looping for ever fails its test case by the operation budget, as in the engine.
    p.write(
        "rules/approval.rhai",
        "//! inputs: pricing, customer\n//! outcomes: approved, review, rejected\nloop { let a = 1; }\n\"approved\"\n",
    );
    let t0 = Instant::now();
    let (out, _) = p.expect_code(1, &["rules", "test", "approval"]);
    assert!(t0.elapsed() < Duration::from_secs(60), "rules test hung");
    assert!(out.contains("operation budget"), "{out}");
}

// Point 2: `ordo run` stops on SIGTERM while orders hit a rule that tries to sleep (reached
// through a function pointer, so it passes `ordo check`): the rule fails at once instead of
// holding the writer, and the process exits.
#[test]
fn run_stops_on_sigterm_while_a_rule_tries_to_sleep() {
    let p = Project::fixture("rule_sigterm");
    p.ok(&["data", "import", "config/seed.json"]);
    p.write(
        "rules/approval.rhai",
        "//! inputs: pricing, customer\n//! outcomes: approved, review, rejected\nlet f = Fn(\"sl\" + \"eep\");\nf.call(100000);\n\"approved\"\n",
    );
    p.ok(&["check"]);
    p.write("orders.json", &orders_json(20, "S"));
    p.ok(&["submit", "orders.json"]);
    let mut run = Running(p.spawn_run(&[]));
    wait_until(60, "orders failed by the rule", || {
        p.run_logs().matches("rules may not sleep").count() >= 1
    });
    // Other commands get the store meanwhile (the rule does not hold the writer).
    p.ok(&["instances"]);
    // SAFETY: kill(2) on a child we spawned and have not reaped.
    unsafe {
        libc::kill(run.0.id() as i32, libc::SIGTERM);
    }
    let code = wait_exit(&mut run.0, 20, "ordo run after SIGTERM");
    assert_eq!(code, 0, "{}", p.run_logs());
    let s = p.status("C-CORA-S-00000");
    assert_eq!(s["instance"]["status"], "failed", "{s}");
    assert!(
        s["instance"]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("rules may not sleep"),
        "{s}"
    );
}

const SPIN: &str = "workflow: spin\nversion: 1\ntrigger: { event: spin.start, key: id }\nsteps:\n  a: { connector: util.noop, then: b }\n  b: { rule: spin, on: { again: a, stop: done } }\n  done: { end: completed }\n";

/// Could stop, never does.
const SPIN_RULE: &str =
    "//! inputs: n\n//! outcomes: again, stop\nif n > 100 { \"stop\" } else { \"again\" }\n";

// Point 4: a → b → a with no wait is warned about with its place, and at run time fails by the
// step budget while orders beside it complete.
both!(fixture looping_workflow, |p: &Project| {
    p.write("workflows/spin.yaml", SPIN);
    p.write("rules/spin.rhai", SPIN_RULE);
    append_config(p, "limits: { max_steps_per_instance: 2000 }\n");
    let (_, err) = p.expect_code(0, &["check"]);
    assert!(
        err.contains("workflows/spin.yaml:5:3: warning: steps a, b form a cycle with no `wait:` or `task:`"),
        "{err}"
    );
    p.ok(&["data", "import", "config/seed.json"]);
    p.write("orders.json", &orders_json(10, "L"));
    p.ok(&["submit", "orders.json"]);
    p.ok(&["event", "spin.start", "LOOP-1", "--data", r#"{"n": 1}"#]);
    assert_eq!(run_idle_bounded(p), 0, "{}", p.run_logs());
    let s = p.status("LOOP-1");
    assert_eq!(s["instance"]["status"], "failed", "{s}");
    let error = s["instance"]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("more than limits.max_steps_per_instance (2000); does the workflow loop?"),
        "{error}"
    );
    // Its history stopped at the budget (the database stays small).
    let events = s["history"].as_array().map_or(0, Vec::len);
    assert!(events <= 2_010, "{events} history events");
    assert_eq!(p.count_of("confirmed"), 10, "{:?}", p.counts());
});

// Point 11: durations beyond 100 years and business times beyond 2200 are refused.
both!(fixture clock_bounds, |p: &Project| {
    let (_, err) = p.expect_code(1, &["clock", "advance", "99999999999d"]);
    assert!(err.contains("longer than 100 years"), "{err}");
    let before = p.ok(&["clock", "show"]);
    p.ok(&["clock", "advance", "36000d"]);
    let (_, err) = p.expect_code(1, &["clock", "advance", "36000d"]);
    assert!(
        err.contains("business time would leave the range 2000-01-01 to 2200-01-01"),
        "{err}"
    );
    let after = p.ok(&["clock", "show"]);
    assert_ne!(before, after);
    assert!(after.contains("business time 21"), "{after}");
});

fn seeded_order(id: &str, customer: &str, qty: u32) -> Value {
    json!({ "id": id, "customer_id": customer, "po_number": id, "order_date": "2026-11-23", "currency": "EUR",
            "lines": [ { "line_no": 1, "sku": "WID-100", "quantity": qty } ] })
}

// Point 13: a syntax error saved in a rule leaves submit, approve and a restarted run working on
// the definitions installed last, each saying so.
both!(fixture broken_rule_uses_installed_definitions, |p: &Project| {
    p.ok(&["data", "import", "config/seed.json"]);
    // C-BOLT has 500.00 of credit left: 50 widgets (625.00) need a sales manager.
    p.write(
        "orders.json",
        &json!([seeded_order("B-1", "C-BOLT", 50)]).to_string(),
    );
    p.ok(&["submit", "orders.json"]);
    assert_eq!(run_idle_bounded(p), 0);
    let task = p.task_for("B-1");
    p.write(
        "rules/approval.rhai",
        "//! inputs: pricing, customer\n//! outcomes: approved, review, rejected\nlet x = ;\n",
    );
    p.expect_code(1, &["check"]);
    p.write(
        "more.json",
        &json!([seeded_order("C-1", "C-CORA", 2)]).to_string(),
    );
    let (_, err) = p.expect_code(0, &["submit", "more.json"]);
    assert!(
        err.contains("rules/approval.rhai:3:")
            && err.contains("using the definitions installed last: order-intake v1"),
        "{err}"
    );
    let (_, err) = p.expect_code(0, &["approve", &task.to_string()]);
    assert!(err.contains("using the definitions installed last"), "{err}");
    assert_eq!(run_idle_bounded(p), 0, "{}", p.run_logs());
    assert!(
        p.run_logs().contains("using the definitions installed last"),
        "{}",
        p.run_logs()
    );
    assert_eq!(p.state_of("B-1"), "confirmed");
    assert_eq!(p.state_of("C-1"), "confirmed");
});

// Point 13: with nothing installed yet, a broken file still stops the commands that need
// definitions.
#[test]
fn broken_rule_with_nothing_installed_stops_submit() {
    let p = Project::fixture("broken_first");
    p.write(
        "rules/approval.rhai",
        "//! inputs: pricing, customer\n//! outcomes: approved, review, rejected\nlet x = ;\n",
    );
    p.write("orders.json", &orders_json(1, "F"));
    let (_, err) = p.expect_code(1, &["submit", "orders.json"]);
    assert!(err.contains("rules/approval.rhai:3:"), "{err}");
}
