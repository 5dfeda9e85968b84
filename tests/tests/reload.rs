//! Hot reload under a running `ordo run`: a valid rule change applies to the next orders, an
//! invalid file is refused (located error in the log) while the old set keeps working, a new
//! workflow version applies to new instances only, and a changed workflow without a version
//! bump is refused.

use ordo_tests::{Project, Running, both, wait_until};
use serde_json::{Value, json};

const RELOADED: &str = "workflows and rules reloaded";
const REFUSED: &str = "reload refused, keeping the running version: ";

fn order(id: &str, customer: &str, widgets: u32) -> Value {
    json!({
        "id": id, "customer_id": customer, "po_number": format!("PO-{id}"),
        "order_date": "2026-11-23", "currency": "EUR",
        "lines": [ { "line_no": 1, "sku": "WID-100", "quantity": widgets } ]
    })
}

fn submit(p: &Project, orders: &[Value]) {
    p.write("orders.json", &Value::Array(orders.to_vec()).to_string());
    p.ok(&["submit", "orders.json"]);
}

fn reloads(p: &Project) -> usize {
    p.run_logs().matches(RELOADED).count()
}

/// Waits until KEY's instance is in `state` (end status, or status while not ended).
fn wait_state(p: &Project, key: &str, state: &str) {
    wait_state_in(p, key, state, "workflows");
}

/// Same, with the command reading its workflows from `workflows_dir`.
fn wait_state_in(p: &Project, key: &str, state: &str, workflows_dir: &str) {
    wait_until(60, &format!("{key} is {state}"), || {
        let out = p
            .cmd(&["--json", "status", key])
            .env("ORDO_WORKFLOWS", workflows_dir)
            .output()
            .expect("ordo runs");
        out.status.success()
            && serde_json::from_slice::<Value>(&out.stdout).is_ok_and(|v| {
                let i = &v[0]["instance"];
                i["end_status"].as_str().or(i["status"].as_str()) == Some(state)
            })
    });
}

/// The `rule_hash` recorded with KEY's approval decision.
fn approval_hash(p: &Project, key: &str) -> String {
    let s = p.status(key);
    s["history"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| h["step"] == "approve" && h["kind"] == "step.completed")
        .and_then(|h| h["detail"]["rule_hash"].as_str())
        .unwrap_or_default()
        .to_string()
}

both!(fixture rule_reload_and_refused_files, |p: &Project| {
    p.ok(&["data", "import", "config/seed.json"]);
    // A copy of the valid workflows, for commands run while workflows/ holds a broken file.
    let src = std::fs::read_to_string(p.path("workflows/order-intake.yaml")).expect("read");
    p.write("workflows-ok/order-intake.yaml", &src);
    let _run = Running(p.spawn_run(&[]));
    submit(p, &[order("A-1", "C-CORA", 2), order("A-2", "C-CORA", 3)]);
    wait_state(p, "A-1", "confirmed");
    wait_state(p, "A-2", "confirmed");
    let old_hash = approval_hash(p, "A-1");

    // Sales operations lowers the manager threshold to zero: every order needs a manager.
    let rule = std::fs::read_to_string(p.path("rules/approval.rhai")).expect("read");
    let strict = rule
        .replace("if total >= 25000 {", "if total >= 0 {")
        .replace(
            "orders of 25000 or more need a manager",
            "every order needs a manager",
        );
    assert_ne!(rule, strict);
    let before = reloads(p);
    p.write("rules/approval.rhai", &strict);
    wait_until(30, "the rule change is reloaded", || reloads(p) > before);
    submit(p, &[order("N-1", "C-CORA", 2), order("N-2", "C-CORA", 3)]);
    for k in ["N-1", "N-2"] {
        wait_state(p, k, "waiting");
        let s = p.status(k);
        assert_eq!(s["instance"]["step"], "review", "{s}");
        assert_eq!(
            s["instance"]["data"]["reason"], "every order needs a manager",
            "{s}"
        );
    }
    let new_hash = approval_hash(p, "N-1");
    assert!(
        !new_hash.is_empty() && new_hash != old_hash,
        "the decision records the new rule"
    );

    // An invalid workflow is refused with its located error; the running set stays.
    let before_refused = p.run_logs().matches(REFUSED).count();
    p.write(
        "workflows/broken.yaml",
        "workflow: broken\nversion: 1\nsteps:\n  a:\n    connector: util.noop\n    then: dne\n  done: { end: completed }\n",
    );
    let want =
        format!("{REFUSED}workflows/broken.yaml:6:11: unknown step 'dne' (did you mean 'done'?)");
    wait_until(30, "the broken workflow is refused", || {
        p.run_logs().contains(&want)
    });
    assert!(
        p.run_logs().contains(&format!(
            "{REFUSED}workflows/broken.yaml:7:3: step 'done' is unreachable from start step 'a'"
        )),
        "{}",
        p.run_logs()
    );
    assert!(p.run_logs().matches(REFUSED).count() > before_refused);
    // Commands that load the definitions report the same location, and work on the set
    // installed last, saying so (issue 20, point 13; they used to refuse)...
    p.write(
        "more.json",
        &Value::Array(vec![order("M-1", "C-CORA", 1)]).to_string(),
    );
    let (_, err) = p.expect_code(0, &["submit", "more.json"]);
    assert!(
        err.contains("workflows/broken.yaml:6:11: unknown step 'dne'")
            && err.contains("using the definitions installed last"),
        "{err}"
    );
    // ...and the running engine keeps working: orders submitted and decided (also by commands
    // pointed at the valid copy) go through on the set it runs.
    let ok_cmd = |args: &[&str]| {
        let out = p
            .cmd(args)
            .env("ORDO_WORKFLOWS", "workflows-ok")
            .output()
            .expect("ordo runs");
        assert!(
            out.status.success(),
            "ordo {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    wait_state_in(p, "M-1", "waiting", "workflows-ok");
    let t = p
        .cmd(&["--json", "tasks"])
        .env("ORDO_WORKFLOWS", "workflows-ok")
        .output()
        .expect("tasks");
    let tasks: Value = serde_json::from_slice(&t.stdout).expect("tasks JSON");
    let n1 = tasks
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["key"] == "N-1")
        .and_then(|t| t["task"]["id"].as_i64())
        .expect("task for N-1");
    ok_cmd(&["approve", &n1.to_string()]);
    wait_state_in(p, "N-1", "confirmed", "workflows-ok");

    // Removing the broken file and restoring the original rule: the next valid set is
    // picked up again, and a small order is approved without a manager.
    let before = reloads(p);
    std::fs::remove_file(p.path("workflows/broken.yaml")).expect("rm");
    p.write("rules/approval.rhai", &rule);
    wait_until(30, "the fixed set is reloaded", || reloads(p) > before);
    submit(p, &[order("F-1", "C-CORA", 2)]);
    wait_state(p, "F-1", "confirmed");
    assert_eq!(approval_hash(p, "F-1"), old_hash);
    assert_eq!(p.state_of("N-2"), "waiting");
});

/// order-intake v2: an approved review ends as `approved-manually` instead of reserving.
fn intake_v2(v1: &str) -> String {
    let v2 = v1
        .replace("version: 1\n", "version: 2\n")
        .replace(
            "on: { approved: reserve, rejected: rejected, timeout: rejected }",
            "on: { approved: manual, rejected: rejected, timeout: rejected }",
        )
        .replace(
            "  held: { end: held }\n",
            "  held: { end: held }\n  manual: { end: approved-manually }\n",
        );
    assert!(
        v2.contains("approved: manual,") && v2.contains("manual: { end: approved-manually }"),
        "{v2}"
    );
    v2
}

both!(fixture new_version_for_new_instances, |p: &Project| {
    p.ok(&["data", "import", "config/seed.json"]);
    let _run = Running(p.spawn_run(&[]));
    // V-1 needs a manager (C-BOLT is near its credit limit) and waits on v1.
    submit(p, &[order("V-1", "C-BOLT", 50)]);
    wait_state(p, "V-1", "waiting");
    assert_eq!(p.status("V-1")["instance"]["version"], 1);

    let v1 = std::fs::read_to_string(p.path("workflows/order-intake.yaml")).expect("read");
    let v2 = intake_v2(&v1);
    let before = reloads(p);
    p.write("workflows/order-intake.yaml", &v2);
    wait_until(30, "v2 is reloaded", || reloads(p) > before);
    p.ok(&["check"]);

    submit(p, &[order("V-2", "C-BOLT", 50)]);
    wait_state(p, "V-2", "waiting");
    assert_eq!(p.status("V-2")["instance"]["version"], 2);
    p.ok(&["approve", &p.task_for("V-1").to_string()]);
    p.ok(&["approve", &p.task_for("V-2").to_string()]);

    // V-1 finishes on v1 (reserve, confirm); V-2 on v2.
    wait_state(p, "V-1", "confirmed");
    wait_state(p, "V-2", "approved-manually");
    let s1 = p.status("V-1");
    assert_eq!(s1["instance"]["version"], 1, "{s1}");
    assert_eq!(
        s1["history"][0]["detail"],
        json!({ "workflow": "order-intake", "version": 1 })
    );
    let steps1: Vec<&str> = s1["history"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|h| h["kind"] == "step.completed")
        .filter_map(|h| h["step"].as_str())
        .collect();
    assert_eq!(
        steps1,
        vec!["validate", "approve", "review", "reserve", "confirm"]
    );
    let s2 = p.status("V-2");
    assert_eq!(s2["instance"]["version"], 2, "{s2}");
    assert_eq!(
        s2["history"][0]["detail"],
        json!({ "workflow": "order-intake", "version": 2 })
    );
    assert!(
        !s2["history"].to_string().contains("\"reserve\""),
        "v2 does not reserve: {s2}"
    );

    // Changing v2 without bumping its version is refused, naming the version.
    let before_refused = p.run_logs().matches(REFUSED).count();
    let v2_changed = v2.replace("role: sales-manager", "role: credit-control");
    assert_ne!(v2, v2_changed);
    p.write("workflows/order-intake.yaml", &v2_changed);
    let line = v2
        .lines()
        .position(|l| l.starts_with("version:"))
        .map(|i| i + 1)
        .unwrap_or_default();
    let want = format!(
        "workflows/order-intake.yaml:{line}:1: workflow 'order-intake' version 2 differs from the version 2 already stored; running instances stay on the stored one, so bump `version:` to publish a change"
    );
    wait_until(30, "the unbumped change is refused", || {
        p.run_logs().matches(REFUSED).count() > before_refused
    });
    assert!(
        p.run_logs().contains(&format!("{REFUSED}{want}")),
        "{}",
        p.run_logs()
    );
    // A fresh `ordo run` refuses it as well.
    let (_, err) = p.expect_code(1, &["run", "--exit-when-idle"]);
    assert!(err.contains(&want), "{err}");
    // Bumping the version publishes it.
    let before = reloads(p);
    p.write(
        "workflows/order-intake.yaml",
        &v2_changed.replace("version: 2\n", "version: 3\n"),
    );
    wait_until(30, "v3 is reloaded", || reloads(p) > before);
    submit(p, &[order("V-3", "C-BOLT", 50)]);
    wait_state(p, "V-3", "waiting");
    let s3 = p.status("V-3");
    assert_eq!(s3["instance"]["version"], 3, "{s3}");
    assert_eq!(s3["open_task"]["role"], "credit-control", "{s3}");
});
