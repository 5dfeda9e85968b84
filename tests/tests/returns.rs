//! Returns (RMA) end to end through the built binary, on both backends: refusals that keep
//! nothing (more than shipped and not yet returned, unknown line or order, zero or negative
//! quantity, an unshipped order), a return restocked and credited, one scrapped and credited,
//! one replaced (the same goods shipped again), one late in the window credited with its
//! restocking fee charged,
//! one after the return window rejected by rules/returns.rhai (its quantity given back), a
//! receipt for a return that is not authorised; stock, the ledger (trial balance balanced,
//! `ordo ledger check` clean) and the credit notes follow.

use ordo_tests::Project;
use serde_json::{Value, json};

fn order(id: &str, lines: &[(&str, u32)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, q))| json!({ "line_no": i + 1, "sku": sku, "quantity": q }))
        .collect();
    json!({ "id": id, "customer_id": "C-ACME", "po_number": id, "order_date": "2026-11-23", "currency": "EUR", "lines": lines })
}

fn assert_ledger(p: &Project) {
    let tb = p.json(&["ledger", "trial-balance"]);
    assert_eq!(tb["balanced"], json!(true), "{tb}");
    let check = p.json(&["ledger", "check"]);
    assert_eq!(check["problems"], json!([]), "{check}");
}

/// The stock level of `sku` at `main` (`ordo summary` lists it by the item alone).
fn stock(p: &Project, sku: &str) -> String {
    let s = p.json(&["summary"]);
    let v = &s["stock"][sku];
    assert!(!v.is_null(), "no stock level for {sku}: {}", s["stock"]);
    v.to_string().trim_matches('"').to_string()
}

fn request(p: &Project, order: &str, line: &str, qty: &str, reason: &str) -> Value {
    p.json(&[
        "return", "request", order, "--line", line, "--qty", qty, "--reason", reason,
    ])
}

fn returns_of(p: &Project, order: &str) -> Value {
    p.json(&["status", order])[0]["returns"].clone()
}

fn flow(p: &Project) {
    p.ok(&["data", "import", "config/seed.json"]);
    let orders = json!([
        order("RT-A", &[("WID-100", 4), ("BOLT-M8", 10)]),
        // No handbooks in stock: this order waits for its goods, nothing shipped.
        order("RT-B", &[("BOOK-HB", 1)]),
    ]);
    p.write("orders.json", &orders.to_string());
    p.ok(&["submit", "orders.json"]);
    p.run_idle();
    let series = |p: &Project| p.json(&["summary"])["series"]["rma"].clone();

    for (args, says) in [
        (vec!["RT-A", "--line", "1", "--qty", "5"], "only 4 of 4"),
        (vec!["RT-A", "--line", "9", "--qty", "1"], "has no line 9"),
        (
            vec!["RT-A", "--line", "1", "--qty", "0"],
            "must be positive",
        ),
        (
            vec!["RT-A", "--line", "1", "--qty", "-1"],
            "must be positive",
        ),
        (vec!["RT-A", "--line", "1", "--qty", "x"], "not a decimal"),
        (
            vec!["RT-NONE", "--line", "1", "--qty", "1"],
            "no order 'RT-NONE'",
        ),
        (vec!["RT-B", "--line", "1", "--qty", "1"], "not shipped"),
    ] {
        let mut a = vec!["return", "request"];
        a.extend_from_slice(&args);
        a.extend_from_slice(&["--reason", "test"]);
        let (_, err) = p.expect_code(1, &a);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let (_, err) = p.expect_code(
        1,
        &[
            "return", "request", "RT-A", "--line", "1", "--qty", "1", "--reason", " ",
        ],
    );
    assert!(err.contains("needs a reason"), "{err}");
    assert_eq!(series(p), Value::Null, "a refused return takes no number");

    // One widget back as new: restocked at cost, credited through a credit note.
    let widgets = stock(p, "WID-100");
    let r1 = request(p, "RT-A", "1", "1", "wrong colour");
    assert_eq!(r1["number"], "RMA-000001", "{r1}");
    assert_eq!(r1["status"], "requested");
    // Three more are still returnable, not four: the store counted the first request.
    let (_, err) = p.expect_code(
        1,
        &[
            "return", "request", "RT-A", "--line", "1", "--qty", "4", "--reason", "x",
        ],
    );
    assert!(err.contains("only 3 of 4"), "{err}");
    // Not authorised yet (the workflow has not run): no receipt.
    let (_, err) = p.expect_code(
        1,
        &["receive-return", "RMA-000001", "--line", "1", "--qty", "1"],
    );
    assert!(err.contains("not authorised"), "{err}");
    p.run_idle();
    assert_eq!(p.state_of("RMA-000001"), "waiting");
    for (args, says) in [
        (vec!["--line", "2", "--qty", "1"], "is for line 1"),
        (
            vec!["--line", "1", "--qty", "2"],
            "at most the 1 authorised",
        ),
        (
            vec!["--line", "1", "--qty", "1", "--condition", "shiny"],
            "condition 'shiny'",
        ),
    ] {
        let mut a = vec!["receive-return", "RMA-000001"];
        a.extend_from_slice(&args);
        let (_, err) = p.expect_code(1, &a);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    p.ok(&["receive-return", "RMA-000001", "--line", "1", "--qty", "1"]);
    let (_, err) = p.expect_code(
        1,
        &["receive-return", "RMA-000001", "--line", "1", "--qty", "1"],
    );
    assert!(err.contains("not authorised"), "{err}");
    p.run_idle();
    assert_eq!(p.state_of("RMA-000001"), "credited");
    let before: rust_decimal::Decimal = widgets.parse().unwrap();
    assert_eq!(
        stock(p, "WID-100"),
        (before + rust_decimal::Decimal::ONE).to_string()
    );
    assert_eq!(p.json(&["summary"])["series"]["credit_note"], json!(1));
    assert_ledger(p);

    // Two boxes of bolts arrive broken: written off at cost (no stock), credited.
    let bolts = stock(p, "BOLT-M8");
    request(p, "RT-A", "2", "2", "arrived broken");
    p.run_idle();
    p.ok(&[
        "receive-return",
        "RMA-000002",
        "--line",
        "2",
        "--qty",
        "2",
        "--condition",
        "damaged",
    ]);
    p.run_idle();
    assert_eq!(p.state_of("RMA-000002"), "credited");
    assert_eq!(stock(p, "BOLT-M8"), bolts);
    let entries = p
        .json(&["ledger", "entries", "--account", "4855"])
        .to_string();
    assert!(entries.contains("RMA-000002"), "{entries}");
    assert_eq!(p.json(&["summary"])["series"]["credit_note"], json!(2));
    assert_ledger(p);

    // A replacement instead of a credit note: the bolt comes back as new (restocked) and the
    // same goods go out again through the shipping rule and shipment step; stock nets to zero,
    // a shipment more, no credit note.
    let bolts = stock(p, "BOLT-M8");
    let shipments = p.json(&["summary"])["series"]["shipment"].clone();
    p.ok(&[
        "return",
        "request",
        "RT-A",
        "--line",
        "2",
        "--qty",
        "1",
        "--reason",
        "wrong size",
        "--replace",
    ]);
    p.run_idle();
    p.ok(&["receive-return", "RMA-000003", "--line", "2", "--qty", "1"]);
    p.run_idle();
    assert_eq!(p.state_of("RMA-000003"), "replaced");
    let r = &returns_of(p, "RT-A")[2];
    let shipped = r["replacement_shipment"].as_str().unwrap_or_default();
    assert!(shipped.starts_with("SH-"), "{r}");
    assert!(r["credit_note"].is_null(), "{r}");
    assert_eq!(
        stock(p, "BOLT-M8"),
        bolts,
        "one back on the shelf, one out again"
    );
    assert_eq!(
        p.json(&["summary"])["series"]["shipment"],
        json!(shipments.as_i64().unwrap_or(0) + 1)
    );
    assert_eq!(p.json(&["summary"])["series"]["credit_note"], json!(2));
    let cogs = p
        .json(&["ledger", "entries", "--account", "3400"])
        .to_string();
    assert!(
        cogs.contains(shipped),
        "the replacement's cost of goods sold: {cogs}"
    );
    assert_ledger(p);

    // Late in the window (over 14 days): rules/returns.rhai keeps a 10 % restocking fee, a
    // separate charge posted beside the credit note (fees receivable / restocking fee income).
    p.ok(&["clock", "advance", "15d"]);
    request(p, "RT-A", "1", "1", "no longer needed");
    p.run_idle();
    p.ok(&["receive-return", "RMA-000004", "--line", "1", "--qty", "1"]);
    p.run_idle();
    assert_eq!(p.state_of("RMA-000004"), "credited");
    let r = &returns_of(p, "RT-A")[3];
    let dec = |v: &Value| -> rust_decimal::Decimal {
        v.to_string()
            .trim_matches('"')
            .parse()
            .unwrap_or_else(|_| panic!("not a decimal: {v}"))
    };
    assert_eq!(
        dec(&r["restocking_fee_percent"]),
        rust_decimal::Decimal::TEN,
        "{r}"
    );
    let cn = p.json(&["invoice", r["credit_note"].as_str().unwrap_or("?")]);
    let fee = (dec(&cn["net_total"]) / rust_decimal::Decimal::TEN).round_dp(2);
    assert!(fee > rust_decimal::Decimal::ZERO, "{cn}");
    assert_eq!(dec(&r["restocking_fee"]), fee, "{r}");
    let income = p
        .json(&["ledger", "entries", "--account", "2660"])
        .to_string();
    assert!(income.contains("RMA-000004"), "{income}");
    assert_eq!(p.json(&["summary"])["series"]["credit_note"], json!(3));
    assert_ledger(p);

    // After the window: the request is taken, the rule rejects it and gives the quantity back.
    p.ok(&["clock", "advance", "31d"]);
    request(p, "RT-A", "1", "2", "changed my mind");
    p.run_idle();
    assert_eq!(p.state_of("RMA-000005"), "rejected");
    let rs = returns_of(p, "RT-A");
    let r3 = &rs[4];
    assert_eq!(r3["status"], "rejected", "{rs}");
    assert!(
        r3["decision"]
            .as_str()
            .is_some_and(|d| d.contains("return window is 30 days")),
        "{r3}"
    );
    assert_eq!(rs[0]["status"], "credited");
    assert!(
        rs[0]["credit_note"]
            .as_str()
            .is_some_and(|c| c.starts_with("CN-"))
    );
    // Two widgets are returnable again (then rejected again by the window).
    request(p, "RT-A", "1", "2", "still want to");
    assert_eq!(p.json(&["summary"])["series"]["credit_note"], json!(3));
    let audit = p.json(&["audit"]).to_string();
    assert!(audit.contains("return.requested") && audit.contains("return.received"));
    assert_ledger(p);
}

#[test]
fn returns_embedded() {
    flow(&Project::embedded("returns"));
}

#[test]
fn returns_cluster() {
    let Some(p) = Project::cluster("returns") else {
        return;
    };
    flow(&p);
}

/// `POST /api/v1/orders/{id}/returns`: role sales, idempotent replay, refusals in the one
/// error shape, and the order API listing the return.
fn api(p: &Project) {
    use ordo_tests::api::{code, start, users};
    p.ok(&["data", "import", "config/seed.json"]);
    p.write(
        "orders.json",
        &json!([order("RT-API", &[("WID-100", 3)])]).to_string(),
    );
    p.ok(&["submit", "orders.json"]);
    p.run_idle();
    let tokens = users(p);
    let s = start(p);
    let path = "/api/v1/orders/RT-API/returns";
    let body = json!({ "line_no": 1, "quantity": "2", "reason": "too many" });
    let (st, v) = s.post(path, &tokens["fin"], &body);
    assert_eq!((st, code(&v)), (403, "forbidden"), "{v}");
    let url = format!("{}{path}", s.base);
    let (st, replayed, first) =
        ordo_tests::api_post(&s.http, &url, &tokens["sally"], Some("rma-1"), &body);
    assert_eq!((st, replayed), (201, false), "{first}");
    assert_eq!(first["number"], "RMA-000001", "{first}");
    let (st, replayed, again) =
        ordo_tests::api_post(&s.http, &url, &tokens["sally"], Some("rma-1"), &body);
    assert_eq!((st, replayed), (201, true), "{again}");
    assert_eq!(again, first, "the stored answer, no second return");
    for (body, status, want) in [
        (
            json!({ "line_no": 1, "quantity": "2", "reason": "x" }),
            409,
            "conflict",
        ),
        (
            json!({ "line_no": 4, "quantity": "1", "reason": "x" }),
            409,
            "conflict",
        ),
        (
            json!({ "line_no": 1, "quantity": "0", "reason": "x" }),
            409,
            "conflict",
        ),
        (
            json!({ "line_no": 1, "quantity": "1", "reason": "" }),
            422,
            "invalid",
        ),
        (
            json!({ "line_no": 1, "qty": "1", "reason": "x" }),
            422,
            "invalid",
        ),
    ] {
        let (st, v) = s.post(path, &tokens["sally"], &body);
        assert_eq!((st, code(&v)), (status, want), "{body}: {v}");
    }
    let (st, v) = s.post(
        "/api/v1/orders/RT-404/returns",
        &tokens["sally"],
        &json!({ "line_no": 1, "quantity": "1", "reason": "x" }),
    );
    assert_eq!((st, code(&v)), (404, "not_found"), "{v}");
    let (st, order) = s.get("/api/v1/orders/RT-API", &tokens["sally"]);
    assert_eq!(st, 200, "{order}");
    assert_eq!(order["returns"][0]["number"], "RMA-000001", "{order}");
    drop(s);
    assert_eq!(p.json(&["summary"])["series"]["rma"], json!(1));
}

#[test]
fn returns_api_embedded() {
    api(&Project::embedded("returns-api"));
}

#[test]
fn returns_api_cluster() {
    let Some(p) = Project::cluster("returns-api") else {
        return;
    };
    api(&p);
}
