//! Order flows through the `ordo` command line, on the embedded backend and (where it matters)
//! on PostgreSQL + RabbitMQ: submit/run/status, duplicates, held orders, human tasks with
//! approve/reject/timeout, retries and the operator's fix-and-retry, waits and events, cron.

use ordo_tests::{Project, Running, both, wait_until};
use serde_json::{Value, json};

fn order(id: &str, customer: &str, lines: &[(&str, u32)]) -> Value {
    json!({
        "id": id, "customer_id": customer, "po_number": format!("PO-{id}"),
        "order_date": "2026-11-23", "currency": "EUR",
        "lines": lines.iter().enumerate().map(|(i, (sku, q))| json!({ "line_no": i + 1, "sku": sku, "quantity": q })).collect::<Vec<_>>()
    })
}

fn submit(p: &Project, orders: &[Value]) -> String {
    p.write("orders.json", &Value::Array(orders.to_vec()).to_string());
    p.ok(&["submit", "orders.json"])
}

fn seeded(p: &Project) {
    p.ok(&["data", "import", "config/seed.json"]);
}

fn kinds(h: &[(String, String, String)]) -> Vec<&str> {
    h.iter().map(|(k, _, _)| k.as_str()).collect()
}

fn triple(kind: &str, step: &str, outcome: &str) -> (String, String, String) {
    (kind.into(), step.into(), outcome.into())
}

both!(fixture submit_run_status, |p: &Project| {
    seeded(p);
    let out = submit(
        p,
        &[order("S-1", "C-CORA", &[("WID-100", 4), ("BOLT-M8", 2)])],
    );
    assert_eq!(out.trim(), "1 order(s) accepted, 0 rejected");
    assert_eq!(p.state_of("S-1"), "running", "not run yet");
    p.run_idle();

    let s = p.status("S-1");
    assert_eq!(s["instance"]["status"], "ended", "{s}");
    assert_eq!(s["instance"]["end_status"], "confirmed", "{s}");
    assert_eq!(s["instance"]["version"], 1, "{s}");
    assert_eq!(
        p.history_of("S-1"),
        vec![
            triple("started", "validate", ""),
            triple("step.completed", "validate", "ok"),
            triple("step.completed", "approve", "approved"),
            triple("step.completed", "reserve", "reserved"),
            triple("step.completed", "confirm", "ok"),
            triple("ended", "confirmed", "confirmed"),
        ]
    );
    assert_eq!(
        s["instance"]["data"]["confirmation"]["number"], "OC-000001",
        "{s}"
    );
    // The table form.
    let text = p.ok(&["status", "S-1"]);
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("S-1 ended: confirmed  order-intake v1  instance "),
        "{text}"
    );
    assert!(text.contains("  step: confirmed (attempt 1)"), "{text}");
    for row in ["started", "step.completed", "ended"] {
        assert!(text.contains(row), "{text}");
    }
    let summary = p.json(&["summary"]);
    assert_eq!(summary["documents"]["confirmation"], 1, "{summary}");
    assert_eq!(summary["outbound"]["order-confirmations"], 1, "{summary}");
    assert_eq!(summary["stock"]["WID-100"], json!(5000 - 4), "{summary}");
    // Unknown keys are an error, not an empty answer.
    let (_, err) = p.expect_code(1, &["status", "NO-SUCH-ORDER"]);
    assert_eq!(err.trim_end(), "no order or instance 'NO-SUCH-ORDER'");
});

both!(fixture duplicate_submit, |p: &Project| {
    seeded(p);
    let o = order("D-1", "C-CORA", &[("WID-100", 1)]);
    submit(p, std::slice::from_ref(&o));
    // Again, alone and within a batch with a new order: the duplicate is rejected by name,
    // the new one accepted, and the exit code says something was rejected.
    p.write("again.json", &Value::Array(vec![o.clone()]).to_string());
    let (out, err) = p.expect_code(1, &["submit", "again.json"]);
    assert_eq!(out.trim(), "0 order(s) accepted, 1 rejected");
    assert_eq!(
        err.trim_end(),
        "rejected: order 'D-1' (customer C-CORA, PO PO-D-1) was already submitted"
    );
    p.run_idle();
    p.write(
        "mixed.json",
        &Value::Array(vec![o, order("D-2", "C-CORA", &[("WID-100", 1)])]).to_string(),
    );
    let (out, err) = p.expect_code(1, &["submit", "mixed.json"]);
    assert_eq!(out.trim(), "1 order(s) accepted, 1 rejected");
    assert!(err.contains("order 'D-1'"), "{err}");
    p.run_idle();

    let all = p.json(&["instances", "--limit", "100"]);
    let keys: Vec<&str> = all["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["business_key"].as_str())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["D-1", "D-2"], "one instance per order: {all}");
    assert_eq!(p.count_of("confirmed"), 2, "{:?}", p.counts());
    let summary = p.json(&["summary"]);
    assert_eq!(summary["documents"]["confirmation"], 2, "{summary}");
    assert_eq!(summary["stock"]["WID-100"], json!(5000 - 2), "{summary}");
});

// Two operators submit the same file at once: every order gets exactly one instance and is
// confirmed once, whichever process wins each order.
both!(fixture concurrent_duplicate_submits, |p: &Project| {
    seeded(p);
    let orders: Vec<Value> = (0..40)
        .map(|i| order(&format!("CC-{i:02}"), "C-CORA", &[("WID-100", 1)]))
        .collect();
    p.write("orders.json", &Value::Array(orders).to_string());
    let a = p.cmd(&["submit", "orders.json"]).spawn().expect("submit a");
    let b = p.cmd(&["submit", "orders.json"]).spawn().expect("submit b");
    // Each may reject (or, on PostgreSQL, stop at) the orders the other got first.
    let _ = (a.wait_with_output(), b.wait_with_output());
    p.run_idle();
    let total: i64 = p.counts().iter().map(|(_, n)| n).sum();
    assert_eq!(total, 40, "one instance per order: {:?}", p.counts());
    assert_eq!(p.count_of("confirmed"), 40, "{:?}", p.counts());
    let summary = p.json(&["summary"]);
    assert_eq!(summary["documents"]["confirmation"], 40, "{summary}");
    assert_eq!(summary["stock"]["WID-100"], json!(5000 - 40), "{summary}");
});

#[test]
fn held_order_shows_its_reasons() {
    let p = Project::fixture("held");
    seeded(&p);
    submit(
        &p,
        &[order("H-1", "C-CORA", &[("WID-100", 1), ("NOPE-1", 2)])],
    );
    p.run_idle();
    assert_eq!(p.state_of("H-1"), "held");
    let text = p.ok(&["status", "H-1"]);
    assert!(
        text.contains("  held because:\n    - line 2: unknown SKU 'NOPE-1'\n"),
        "{text}"
    );
    let h = p.history_of("H-1");
    assert_eq!(
        h,
        vec![
            triple("started", "validate", ""),
            triple("step.completed", "validate", "invalid"),
            triple("ended", "held", "held"),
        ]
    );
    // Nothing was reserved or confirmed for it.
    let summary = p.json(&["summary"]);
    assert_eq!(summary["stock"]["WID-100"], json!(5000), "{summary}");
    assert!(
        summary["documents"]["confirmation"].is_null() || summary["documents"]["confirmation"] == 0,
        "{summary}"
    );
}

both!(fixture review_tasks, |p: &Project| {
    seeded(p);
    // C-BOLT has 500.00 of credit left: 50 widgets (625.00) need a sales manager.
    let orders: Vec<Value> = ["B-1", "B-2", "B-3"]
        .iter()
        .map(|k| order(k, "C-BOLT", &[("WID-100", 50)]))
        .collect();
    submit(p, &orders);
    p.run_idle();
    for k in ["B-1", "B-2", "B-3"] {
        assert_eq!(p.state_of(k), "waiting", "{k}");
        let s = p.status(k);
        assert_eq!(s["instance"]["step"], "review", "{s}");
        assert_eq!(s["open_task"]["role"], "sales-manager", "{s}");
        assert!(
            s["instance"]["data"]["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("exceeds the available credit 500"),
            "{s}"
        );
    }
    let text = p.ok(&["tasks"]);
    for k in ["B-1", "B-2", "B-3"] {
        assert!(
            text.lines()
                .any(|l| l.contains(&format!(" {k} ")) && l.contains("review  sales-manager")),
            "{text}"
        );
    }
    let (t1, t2, t3) = (p.task_for("B-1"), p.task_for("B-2"), p.task_for("B-3"));

    // Approve with a note.
    assert_eq!(
        p.ok(&["approve", &t1.to_string(), "--note", "known customer"])
            .trim(),
        format!("task {t1}: approved")
    );
    let (_, err) = p.expect_code(1, &["approve", &t1.to_string()]);
    assert_eq!(err.trim_end(), format!("task {t1} is decided already"));
    let (_, err) = p.expect_code(1, &["approve", "999999"]);
    assert_eq!(err.trim_end(), "no task 999999");
    // Reject with a reason.
    p.ok(&["reject", &t2.to_string(), "--reason", "too risky"]);
    p.run_idle();
    assert_eq!(p.state_of("B-1"), "confirmed");
    let s = p.status("B-1");
    let review = s["history"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| h["step"] == "review" && h["kind"] == "step.completed")
        .cloned()
        .unwrap_or_default();
    assert_eq!(review["outcome"], "approved", "{s}");
    assert_eq!(
        review["detail"]["resolved_by"]["decision"]["note"], "known customer",
        "{s}"
    );
    assert_eq!(p.state_of("B-2"), "rejected");
    assert!(
        p.history_of("B-2")
            .contains(&triple("step.completed", "review", "rejected"))
    );
    assert_eq!(p.state_of("B-3"), "waiting");
    assert_eq!(p.open_tasks(), vec![(t3, "B-3".to_string())]);

    // Nobody decides B-3: after the 24 h timeout it is rejected.
    p.ok(&["clock", "advance", "23h"]);
    p.run_idle();
    assert_eq!(p.state_of("B-3"), "waiting", "not due yet after 23 h");
    p.ok(&["clock", "advance", "2h"]);
    p.run_idle();
    assert_eq!(p.state_of("B-3"), "rejected");
    let h = p.history_of("B-3");
    assert_eq!(
        &h[h.len() - 2..],
        &[
            triple("step.completed", "review", "timeout"),
            triple("ended", "rejected", "rejected"),
        ]
    );
    assert!(p.open_tasks().is_empty(), "{:?}", p.open_tasks());
    // A timed-out task can no longer be decided.
    p.expect_code(1, &["approve", &t3.to_string()]);
    let summary = p.json(&["summary"]);
    assert_eq!(summary["documents"]["confirmation"], 1, "{summary}");
});

const FLAKY: &str = "workflow: flaky
version: 1
trigger: { event: flaky.go }
steps:
  try:
    connector: util.flaky
    with: { succeed_on: 9 }
    retry: { attempts: 2, backoff: 100ms }
    then: done
  done: { end: completed }
";

both!(fixture retries_exhausted, |p: &Project| {
    p.write("workflows/flaky.yaml", FLAKY);
    let out = p.ok(&["event", "flaky.go", "F-1"]);
    assert_eq!(
        out.trim(),
        "event flaky.go for F-1 sent (1 instance(s) started)"
    );
    p.run_idle();
    let s = p.status("F-1");
    assert_eq!(s["instance"]["status"], "failed", "{s}");
    assert_eq!(
        s["instance"]["error"], "util.flaky: deliberate failure on attempt 2",
        "{s}"
    );
    assert_eq!(
        kinds(&p.history_of("F-1")),
        vec!["started", "step.failed", "failed"]
    );
    let hist = s["history"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        hist[1]["detail"],
        json!({ "error": "util.flaky: deliberate failure on attempt 1", "retry_in_ms": 100 })
    );
    assert_eq!(
        hist[2]["detail"],
        json!({ "error": "util.flaky: deliberate failure on attempt 2", "why": "retries exhausted" })
    );
    let text = p.ok(&["status", "F-1"]);
    assert!(
        text.contains("F-1 failed  flaky v1")
            && text.contains("  error: util.flaky: deliberate failure on attempt 2"),
        "{text}"
    );
    let failed = p.json(&["instances", "--status", "failed"]);
    assert_eq!(failed["instances"][0]["business_key"], "F-1", "{failed}");
});

const RULED: &str = "workflow: ruled
version: 1
trigger: { event: ruled.go }
steps:
  decide:
    rule: pick
    on: { yes: done, no: done }
  done: { end: completed }
";

both!(fixture fix_and_retry, |p: &Project| {
    p.write("workflows/ruled.yaml", RULED);
    // Compiles and declares its outcomes, but returns an undeclared one at run time.
    p.write(
        "rules/pick.rhai",
        "//! inputs: amount\n//! outcomes: yes, no\nif amount > 10 { \"maybe\" } else { \"no\" }\n",
    );
    p.ok(&["check"]);
    p.ok(&["event", "ruled.go", "R-1", "--data", r#"{"amount": 50}"#]);
    p.run_idle();
    let s = p.status("R-1");
    assert_eq!(s["instance"]["status"], "failed", "{s}");
    let error = s["instance"]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(
            "the rule returned outcome 'maybe', which is not declared in its `//! outcomes:` header (yes, no)"
        ) && error.contains("rules/pick.rhai"),
        "{error}"
    );
    // A rule error is not retried: one failure, no step.failed.
    assert_eq!(kinds(&p.history_of("R-1")), vec!["started", "failed"]);

    // The operator fixes the rule and resumes the instance.
    p.write(
        "rules/pick.rhai",
        "//! inputs: amount\n//! outcomes: yes, no\nif amount > 10 { \"yes\" } else { \"no\" }\n",
    );
    let id = s["instance"]["id"].as_str().unwrap_or_default().to_string();
    let out = p.ok(&["retry", "R-1"]);
    assert_eq!(
        out.trim(),
        format!("instance {id} resumes at step 'decide'")
    );
    // Only failed instances can be retried.
    let (_, err) = p.expect_code(1, &["retry", "R-1"]);
    assert_eq!(err.trim_end(), "no failed instance 'R-1'");
    p.run_idle();
    assert_eq!(p.state_of("R-1"), "completed");
    assert_eq!(
        p.history_of("R-1"),
        vec![
            triple("started", "decide", ""),
            triple("failed", "decide", ""),
            triple("retried", "decide", ""),
            triple("step.completed", "decide", "yes"),
            triple("ended", "done", "completed"),
        ]
    );
    let (_, err) = p.expect_code(1, &["retry", "NOPE"]);
    assert_eq!(err.trim_end(), "no failed instance 'NOPE'");
});

const PAY: &str = "workflow: pay
version: 1
trigger: { event: pay.start }
steps:
  prepare:
    connector: util.noop
    then: await_payment
  await_payment:
    wait: { event: payment.matched, timeout: 30d, outcomes: [paid, partial] }
    on: { paid: done, partial: await_payment, timeout: overdue }
  done: { end: paid }
  overdue: { end: overdue }
";

both!(fixture waits_and_events, |p: &Project| {
    p.write("workflows/pay.yaml", PAY);
    for k in ["P-1", "P-2", "P-3"] {
        p.ok(&["event", "pay.start", k]);
    }
    // P-2's payment arrives before its instance reaches the wait: it is kept.
    let out = p.ok(&[
        "event",
        "payment.matched",
        "P-2",
        "--outcome",
        "paid",
        "--data",
        r#"{"amount": 5}"#,
    ]);
    assert_eq!(
        out.trim(),
        "event payment.matched for P-2 sent (0 instance(s) started)"
    );
    p.run_idle();
    assert_eq!(p.state_of("P-1"), "waiting");
    assert_eq!(p.state_of("P-3"), "waiting");
    assert_eq!(p.state_of("P-2"), "paid");
    let s = p.status("P-2");
    assert_eq!(s["instance"]["data"]["amount"], 5, "{s}");
    let consumed = s["history"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|h| h["step"] == "await_payment")
        .cloned()
        .unwrap_or_default();
    assert_eq!(consumed["outcome"], "paid", "{s}");
    assert_eq!(consumed["detail"]["arrived"], "before the wait", "{s}");

    // A partial payment loops back to the wait; then the rest arrives.
    p.ok(&["event", "payment.matched", "P-1", "--outcome", "partial"]);
    p.run_idle();
    assert_eq!(p.state_of("P-1"), "waiting");
    assert_eq!(
        kinds(&p.history_of("P-1")),
        vec![
            "started",
            "step.completed",
            "waiting",
            "step.completed",
            "waiting"
        ]
    );
    p.ok(&["event", "payment.matched", "P-1", "--outcome", "paid"]);
    p.run_idle();
    assert_eq!(p.state_of("P-1"), "paid");
    let h = p.history_of("P-1");
    assert_eq!(h[3], triple("step.completed", "await_payment", "partial"));
    assert_eq!(h[5], triple("step.completed", "await_payment", "paid"));

    // P-3 never pays: the 30-day timeout ends it.
    p.ok(&["clock", "advance", "31d"]);
    p.run_idle();
    assert_eq!(p.state_of("P-3"), "overdue");
    let h = p.history_of("P-3");
    assert_eq!(
        &h[h.len() - 2..],
        &[
            triple("step.completed", "await_payment", "timeout"),
            triple("ended", "overdue", "overdue"),
        ]
    );
    // The paid ones did not time out as well.
    assert_eq!(p.state_of("P-1"), "paid");
    assert_eq!(p.state_of("P-2"), "paid");
    assert_eq!(p.count_of("paid"), 2, "{:?}", p.counts());
});

const DAILY: &str = "workflow: daily
version: 1
trigger: { cron: \"0 0 6 * * *\" }
steps:
  tick:
    connector: util.noop
    then: done
  done: { end: completed }
";

both!(fixture cron_trigger, |p: &Project| {
    p.write("workflows/daily.yaml", DAILY);
    // A first run notes the schedule without firing for the past.
    p.run_idle();
    assert!(p.counts().is_empty(), "{:?}", p.counts());
    let _run = Running(p.spawn_run(&[]));
    wait_until(30, "ordo run is up", || {
        p.run_logs().contains("ordo running")
    });
    p.ok(&["clock", "advance", "1d"]);
    wait_until(30, "the 06:00 instance ran", || {
        p.count_of("completed") >= 1
    });
    let all = p.json(&["instances"]);
    let list = all["instances"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "one day holds one 06:00: {all}");
    let key = list[0]["business_key"].as_str().unwrap_or_default();
    assert!(
        key.starts_with("daily@") && key.ends_with("T06:00:00+00:00"),
        "{key}"
    );
    assert_eq!(list[0]["workflow"], "daily");
    assert_eq!(
        list[0]["data"]["scheduled_at"],
        key["daily@".len()..],
        "{all}"
    );
});

const SLOW_RETRY: &str = "workflow: slow
version: 1
trigger: { event: slow.go }
steps:
  try:
    connector: util.flaky
    with: { succeed_on: 2 }
    retry: { attempts: 3, backoff: 2s }
    then: done
  done: { end: completed }
";

// `run --exit-when-idle` stops when nothing is left to do now; a step waiting for its retry
// (backoff 2 s) is queued work, so the run waits for it and the instance completes. On the
// cluster backend the retry sits in RabbitMQ's `<prefix>.delay.<ms>` queues, which `is_idle`
// (engine/src/runtime/services.rs) counts through `delayed_until`, not through the outbox.
both!(fixture exit_when_idle_waits_for_a_delayed_retry, |p: &Project| {
    p.write("workflows/slow.yaml", SLOW_RETRY);
    p.ok(&["event", "slow.go", "S-1"]);
    p.run_idle();
    assert_eq!(p.state_of("S-1"), "completed", "{:?}", p.history_of("S-1"));
    assert_eq!(
        kinds(&p.history_of("S-1")),
        vec!["started", "step.failed", "step.completed", "ended"]
    );
});

const CHAIN: &str = "workflow: chain
version: 1
trigger: { event: chain.go }
steps:
  one: { connector: util.noop, then: two }
  two: { connector: util.noop, then: try }
  try:
    connector: util.flaky
    with: { succeed_on: 2 }
    retry: { attempts: 3, backoff: 100ms }
    then: three
  three: { connector: util.noop, then: done }
  done: { end: completed }
";

// A worker runs an instance's next step in the same transaction as the step before it. A
// step failing inside such a chain rolls back alone: the steps before it stay done (each once
// in the history), and it is retried on its own after its backoff.
both!(fixture a_failure_inside_a_chain_of_steps_retries_that_step_alone, |p: &Project| {
    p.write("workflows/chain.yaml", CHAIN);
    p.ok(&["event", "chain.go", "CH-1"]);
    p.run_idle();
    assert_eq!(p.state_of("CH-1"), "completed", "{:?}", p.history_of("CH-1"));
    let hist = p.status("CH-1")["history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let steps: Vec<String> = hist
        .iter()
        .map(|e| format!("{} {}", e["kind"].as_str().unwrap_or(""), e["step"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        steps,
        [
            "started one",
            "step.completed one",
            "step.completed two",
            "step.failed try",
            "step.completed try",
            "step.completed three",
            "ended done"
        ]
    );
});

// A step that starts an instance whose business key is taken: a batch defers its instance
// inserts, so the clash shows at commit; the batch then runs again one step at a time, the
// step fails with the reason, and the other steps of the batch complete.
both!(fixture a_clashing_start_fails_only_its_step, |p: &Project| {
    p.write(
        "workflows/child.yaml",
        "workflow: child\nversion: 1\ntrigger: { event: child.start }\nsteps:\n  work: { connector: util.noop, then: done }\n  done: { end: completed }\n",
    );
    p.write(
        "workflows/parent.yaml",
        "workflow: parent\nversion: 1\ntrigger: { event: parent.start }\ndefaults:\n  retry: { attempts: 1, backoff: 1s, max: 1s }\nsteps:\n  kick:\n    connector: util.emit\n    with: { event: child.start, key_from: ref }\n    then: done\n  done: { end: completed }\n",
    );
    p.ok(&["event", "child.start", "C-1"]);
    p.run_idle();
    assert_eq!(p.state_of("C-1"), "completed");
    for (k, r) in [("P-1", "C-1"), ("P-2", "C-2"), ("P-3", "C-3")] {
        p.ok(&["event", "parent.start", k, "--data", &format!("{{\"ref\": \"{r}\"}}")]);
    }
    p.run_idle();
    assert_eq!(p.state_of("P-2"), "completed", "{}", p.ok(&["status", "P-2"]));
    assert_eq!(p.state_of("P-3"), "completed");
    assert_eq!(p.state_of("C-2"), "completed");
    assert_eq!(p.state_of("C-3"), "completed");
    assert_eq!(p.state_of("P-1"), "failed", "{}", p.ok(&["status", "P-1"]));
    let status = p.ok(&["status", "P-1"]);
    assert!(status.contains("child/C-1") && status.contains("already exists"), "{status}");
});
