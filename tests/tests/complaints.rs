//! Complaints end to end through the built binary, on both backends: refusals that keep
//! nothing (unknown category, order or invoice, no description, neither or both of order and
//! invoice), a complaint against an invoice decided with a credit note, one against an order
//! decided with a return (which starts the return's own workflow), one whose SLA runs out and
//! escalates to a manager's task that the decision closes, one the rule escalates at once and
//! a credit note on a named invoice settles; the API route (roles, idempotency, audit). After
//! each, the ledger balances and ties to the open items.

use ordo_tests::Project;
use serde_json::{Value, json};

fn assert_ledger(p: &Project) {
    let tb = p.json(&["ledger", "trial-balance"]);
    assert_eq!(tb["balanced"], json!(true), "{tb}");
    let check = p.json(&["ledger", "check"]);
    assert_eq!(check["problems"], json!([]), "{check}");
}

/// One shipped and invoiced order of Acme: CP-A, 4 widgets, INV-000001.
fn setup(p: &Project) {
    p.ok(&["data", "import", "config/seed.json"]);
    let orders = json!([{ "id": "CP-A", "customer_id": "C-ACME", "po_number": "CP-A",
                          "order_date": "2026-11-23", "currency": "EUR",
                          "lines": [ { "line_no": 1, "sku": "WID-100", "quantity": 4 } ] }]);
    p.write("orders.json", &orders.to_string());
    p.ok(&["submit", "orders.json"]);
    p.run_idle();
    assert_eq!(p.state_of("CP-A"), "completed");
}

fn open(p: &Project, against: &[&str], category: &str, text: &str) -> Value {
    let mut a = vec!["complaint", "open"];
    a.extend_from_slice(against);
    a.extend_from_slice(&["--category", category, "--description", text]);
    p.json(&a)
}

fn show(p: &Project, number: &str) -> Value {
    p.json(&["complaint", "show", number])
}

fn flow(p: &Project) {
    setup(p);
    let series = |p: &Project| p.json(&["summary"])["series"]["complaint"].clone();
    for (args, says) in [
        (
            vec![
                "--order",
                "CP-A",
                "--category",
                "angry",
                "--description",
                "x",
            ],
            "category 'angry'",
        ),
        (
            vec![
                "--order",
                "CP-NONE",
                "--category",
                "damaged",
                "--description",
                "x",
            ],
            "no order 'CP-NONE'",
        ),
        (
            vec![
                "--invoice",
                "INV-404",
                "--category",
                "billing",
                "--description",
                "x",
            ],
            "no invoice 'INV-404'",
        ),
        (
            vec![
                "--order",
                "CP-A",
                "--category",
                "damaged",
                "--description",
                " ",
            ],
            "needs a description",
        ),
        (
            vec!["--category", "damaged", "--description", "x"],
            "exactly one of --order and --invoice",
        ),
    ] {
        let mut a = vec!["complaint", "open"];
        a.extend_from_slice(&args);
        let (_, err) = p.expect_code(1, &a);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(
        series(p),
        Value::Null,
        "a refused complaint takes no number"
    );

    // 1. Against the invoice, damaged: sales decide within the SLA with a credit note.
    let c1 = open(
        p,
        &["--invoice", "INV-000001"],
        "damaged",
        "one widget cracked",
    );
    assert_eq!(c1["number"], "CMP-000001", "{c1}");
    assert_eq!(c1["order_id"], "CP-A");
    p.run_idle();
    assert_eq!(p.state_of("CMP-000001"), "waiting");
    let (_, err) = p.expect_code(
        1,
        &[
            "complaint",
            "decide",
            "CMP-000001",
            "--outcome",
            "refund",
            "--note",
            "x",
        ],
    );
    assert!(err.contains("outcome 'refund'"), "{err}");
    let (_, err) = p.expect_code(
        1,
        &[
            "complaint",
            "decide",
            "CMP-000001",
            "--outcome",
            "credit",
            "--note",
            "x",
            "--line",
            "1",
            "--qty",
            "5",
        ],
    );
    assert!(err.contains("only 4 of 4 left uncredited"), "{err}");
    let d = p.json(&[
        "complaint",
        "decide",
        "CMP-000001",
        "--outcome",
        "credit",
        "--note",
        "cracked on arrival",
        "--line",
        "1",
        "--qty",
        "1",
    ]);
    assert_eq!(d["status"], "credited", "{d}");
    assert_eq!(d["decision"]["credit_note"], "CN-000001", "{d}");
    p.run_idle();
    assert_eq!(p.state_of("CMP-000001"), "credited");
    let (_, err) = p.expect_code(
        1,
        &[
            "complaint",
            "decide",
            "CMP-000001",
            "--outcome",
            "close",
            "--note",
            "again",
        ],
    );
    assert!(err.contains("credited already"), "{err}");
    assert_ledger(p);

    // 2. Against the order, wrong item: decided with a return of one widget.
    open(p, &["--order", "CP-A"], "wrong_item", "blue, not red");
    p.run_idle();
    let (_, err) = p.expect_code(
        1,
        &[
            "complaint",
            "decide",
            "CMP-000002",
            "--outcome",
            "return",
            "--note",
            "x",
            "--line",
            "1",
            "--qty",
            "9",
        ],
    );
    assert!(err.contains("only 4 of 4"), "{err}");
    let d = p.json(&[
        "complaint",
        "decide",
        "CMP-000002",
        "--outcome",
        "return",
        "--note",
        "take it back",
        "--line",
        "1",
        "--qty",
        "1",
    ]);
    assert_eq!(d["decision"]["rma"], "RMA-000001", "{d}");
    p.run_idle();
    assert_eq!(p.state_of("CMP-000002"), "returned");
    assert_eq!(
        p.state_of("RMA-000001"),
        "waiting",
        "the return waits for its goods"
    );

    // 3. Late delivery: nobody decides within the SLA (48 h); escalated to a manager's task,
    // which the decision closes.
    open(p, &["--order", "CP-A"], "late_delivery", "two days late");
    p.run_idle();
    assert_eq!(p.state_of("CMP-000003"), "waiting");
    p.ok(&["clock", "advance", "49h"]);
    p.run_idle();
    assert_eq!(show(p, "CMP-000003")["status"], "escalated");
    let task = p.task_for("CMP-000003");
    assert!(task > 0);
    p.json(&[
        "complaint",
        "decide",
        "CMP-000003",
        "--outcome",
        "close",
        "--note",
        "apologised; carrier strike",
    ]);
    p.run_idle();
    assert_eq!(p.state_of("CMP-000003"), "closed");
    assert!(
        p.open_tasks().iter().all(|(_, k)| k != "CMP-000003"),
        "the task was decided"
    );

    // 4. Quality: the rule escalates at once; a complaint against an order credits the invoice
    // named.
    open(p, &["--order", "CP-A"], "quality", "paint flakes");
    p.run_idle();
    assert_eq!(show(p, "CMP-000004")["status"], "escalated");
    p.task_for("CMP-000004");
    let (_, err) = p.expect_code(
        1,
        &[
            "complaint",
            "decide",
            "CMP-000004",
            "--outcome",
            "credit",
            "--note",
            "x",
        ],
    );
    assert!(err.contains("name the invoice"), "{err}");
    p.json(&[
        "complaint",
        "decide",
        "CMP-000004",
        "--outcome",
        "credit",
        "--note",
        "goodwill",
        "--invoice",
        "INV-000001",
        "--line",
        "1",
        "--qty",
        "1",
    ]);
    p.run_idle();
    assert_eq!(p.state_of("CMP-000004"), "credited");
    assert_eq!(p.json(&["summary"])["series"]["credit_note"], json!(2));
    assert_eq!(p.json(&["summary"])["series"]["complaint"], json!(4));
    let audit = p.json(&["audit"]).to_string();
    assert!(audit.contains("complaint.opened") && audit.contains("complaint.decided"));
    assert_ledger(p);
}

#[test]
fn complaints_embedded() {
    flow(&Project::embedded("complaints"));
}

#[test]
fn complaints_cluster() {
    let Some(p) = Project::cluster("complaints") else {
        return;
    };
    flow(&p);
}

/// `POST /api/v1/complaints` and `.../decision`: roles, a replayed key answers the same case
/// (no second number), refusals in the one error shape, `GET` shows the decision.
fn api(p: &Project) {
    use ordo_tests::api::{code, start, users};
    setup(p);
    let tokens = users(p);
    let s = start(p);
    let body =
        json!({ "invoice": "INV-000001", "category": "billing", "description": "wrong price" });
    let (st, v) = s.post("/api/v1/complaints", &tokens["fin"], &body);
    assert_eq!((st, code(&v)), (403, "forbidden"), "{v}");
    let url = format!("{}/api/v1/complaints", s.base);
    let (st, replayed, first) =
        ordo_tests::api_post(&s.http, &url, &tokens["sally"], Some("cmp-1"), &body);
    assert_eq!((st, replayed), (201, false), "{first}");
    assert_eq!(first["number"], "CMP-000001", "{first}");
    let (st, replayed, again) =
        ordo_tests::api_post(&s.http, &url, &tokens["sally"], Some("cmp-1"), &body);
    assert_eq!((st, replayed), (201, true), "{again}");
    assert_eq!(again, first);
    for (body, status, want) in [
        (
            json!({ "order_id": "CP-A", "invoice": "INV-000001", "category": "billing", "description": "x" }),
            422,
            "invalid",
        ),
        (
            json!({ "order_id": "CP-A", "category": "angry", "description": "x" }),
            409,
            "conflict",
        ),
        (
            json!({ "order_id": "CP-A", "category": "damaged", "description": "x", "extra": 1 }),
            422,
            "invalid",
        ),
    ] {
        let (st, v) = s.post("/api/v1/complaints", &tokens["sally"], &body);
        assert_eq!((st, code(&v)), (status, want), "{body}: {v}");
    }
    let path = "/api/v1/complaints/CMP-000001/decision";
    let (st, v) = s.post(
        path,
        &tokens["sally"],
        &json!({ "outcome": "credit", "note": "price corrected", "lines": [ { "line_no": 1, "quantity": 1 } ] }),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["decision"]["credit_note"], "CN-000001", "{v}");
    let (st, v) = s.post(
        path,
        &tokens["sally"],
        &json!({ "outcome": "close", "note": "x" }),
    );
    assert_eq!((st, code(&v)), (409, "conflict"), "{v}");
    let (st, v) = s.post(
        "/api/v1/complaints/CMP-404/decision",
        &tokens["sally"],
        &json!({ "outcome": "close", "note": "x" }),
    );
    assert_eq!((st, code(&v)), (404, "not_found"), "{v}");
    let (st, v) = s.get("/api/v1/complaints/CMP-000001", &tokens["view"]);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "credited", "{v}");
    drop(s);
    p.run_idle();
    assert_eq!(p.state_of("CMP-000001"), "credited");
    assert_ledger(p);
}

#[test]
fn complaints_api_embedded() {
    api(&Project::embedded("complaints-api"));
}

#[test]
fn complaints_api_cluster() {
    let Some(p) = Project::cluster("complaints-api") else {
        return;
    };
    api(&p);
}
