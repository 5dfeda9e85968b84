//! Quotations end to end through the built binary, on both backends: a quote priced by the
//! order's pricing rule and sent as a printable page, accepted into an order that is invoiced at
//! the quoted prices (not repriced, not discounted twice); a large quote approved by a sales
//! manager first; a quote that expires by its timer, with acceptance after the validity refused;
//! a second acceptance refused; zero quantities and unknown quotes refused; the API routes.

use ordo_tests::Project;
use serde_json::{Value, json};

fn request(p: &Project, name: &str, customer: &str, lines: &[(&str, i64)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, q))| json!({ "line_no": i + 1, "sku": sku, "quantity": q }))
        .collect();
    p.write(
        name,
        &json!({ "customer_id": customer, "currency": "EUR", "lines": lines }).to_string(),
    );
    p.json(&["quote", "request", name])
}

fn quote(p: &Project, number: &str) -> Value {
    p.json(&["quote", "show", number])
}

fn refused(p: &Project, args: &[&str], says: &str) {
    let (_, err) = p.expect_code(1, args);
    assert!(err.contains(says), "{args:?}: {err}");
}

fn flow(p: &Project) {
    p.ok(&["data", "import", "config/seed.json"]);
    // 200 widgets at 12.50 = 2500: the pricing rule's 2% volume discount applies.
    let q1 = request(p, "q1.json", "C-ACME", &[("WID-100", 200)]);
    assert_eq!(q1["number"], "Q-000001", "{q1}");
    assert_eq!(q1["status"], "requested");
    // 2000 gadgets at 149: large, a sales manager looks first.
    let q2 = request(p, "q2.json", "C-CORA", &[("GAD-200", 2000)]);
    let q3 = request(p, "q3.json", "C-BOLT", &[("BOLT-M8", 10)]);
    let q3n = q3["number"].as_str().unwrap_or_default().to_string();
    p.run_idle();
    assert_eq!(p.state_of("Q-000001"), "waiting");
    let sent = quote(p, "Q-000001");
    assert_eq!(sent["status"], "sent", "{sent}");
    // 12.50 less 2% = 12.25 a piece, 2450.00 in all.
    assert_eq!(
        sent["lines"][0]["unit_price"].to_string(),
        "12.25",
        "{sent}"
    );
    assert_eq!(sent["total"].to_string(), "2450.00", "{sent}");
    assert!(sent["valid_until"].is_string(), "{sent}");
    let page = std::fs::read_to_string(p.path("data/outbound/quotes/Q-000001.html"))
        .expect("the printable quote is in the outbound folder");
    assert!(
        page.contains("Quotation Q-000001") && page.contains("12.25"),
        "{page}"
    );

    let q2n = q2["number"].as_str().unwrap_or_default().to_string();
    assert_eq!(quote(p, &q2n)["status"], "requested");
    refused(p, &["quote", "accept", &q2n], "is not sent yet");
    let task = p.task_for(&q2n);
    p.ok(&["approve", &task.to_string(), "--note", "strategic customer"]);
    p.run_idle();
    assert_eq!(quote(p, &q2n)["status"], "sent");

    // Accepted: an order at the quoted prices through the one intake.
    let a = p.json(&["quote", "accept", "Q-000001", "--po", "PO-Q1"]);
    assert_eq!(a["status"], "accepted", "{a}");
    assert_eq!(a["order_id"], "C-ACME-PO-Q1", "{a}");
    refused(
        p,
        &["quote", "accept", "Q-000001", "--po", "PO-Q1B"],
        "accepted already (order C-ACME-PO-Q1)",
    );
    p.run_idle();
    assert_eq!(p.state_of("Q-000001"), "accepted");
    assert_eq!(p.state_of("C-ACME-PO-Q1"), "completed");
    let order = p.status("C-ACME-PO-Q1");
    let pricing = &order["instance"]["data"]["pricing"];
    assert_eq!(pricing["quote"], "Q-000001", "{pricing}");
    assert_eq!(
        pricing["lines"][0]["unit_price"].to_string(),
        "12.25",
        "{pricing}"
    );
    assert_eq!(
        pricing["total"].to_string(),
        "2450.00",
        "no second discount: {pricing}"
    );

    // Expiry: after the validity an acceptance is refused, and the timer ends the quote.
    p.ok(&["clock", "advance", "31d"]);
    refused(p, &["quote", "accept", &q3n], "can no longer be accepted");
    p.run_idle();
    assert_eq!(p.state_of(&q3n), "expired");
    assert_eq!(quote(p, &q3n)["status"], "expired");
    refused(p, &["quote", "accept", &q3n], "expired on");
    refused(
        p,
        &["status", &format!("C-BOLT-{q3n}")],
        "no order or instance",
    );

    // Hostile requests.
    p.write(
        "bad.json",
        &json!({ "customer_id": "C-ACME", "currency": "EUR", "lines": [{ "line_no": 1, "sku": "WID-100", "quantity": 0 }] })
            .to_string(),
    );
    refused(
        p,
        &["quote", "request", "bad.json"],
        "quantity 0 must be greater than 0",
    );
    p.write(
        "bad2.json",
        "{ \"customer_id\": \"C-ACME\", \"currency\": \"EUR\", \"lines\": [ }",
    );
    refused(p, &["quote", "request", "bad2.json"], "bad2.json:1:");
    p.write(
        "bad3.json",
        &json!({ "customer_id": "C-ACME", "currency": "EUR", "lines": [], "color": "red" })
            .to_string(),
    );
    refused(
        p,
        &["quote", "request", "bad3.json"],
        "unknown field `color`",
    );
    refused(p, &["quote", "accept", "Q-999999"], "no quote 'Q-999999'");
    let audit = p.json(&["audit"]).to_string();
    assert!(audit.contains("quote.requested") && audit.contains("quote.accepted"));
}

#[test]
fn quotes_embedded() {
    flow(&Project::embedded("quotes"));
}

#[test]
fn quotes_cluster() {
    let Some(p) = Project::cluster("quotes") else {
        return;
    };
    flow(&p);
}

/// `POST /api/v1/quotes`, `GET /api/v1/quotes/{number}`, `POST …/accept`: roles, replay, the
/// error shape.
fn api(p: &Project) {
    use ordo_tests::api::{code, start, users};
    p.ok(&["data", "import", "config/seed.json"]);
    let tokens = users(p);
    let s = start(p);
    let body = json!({ "customer_id": "C-ACME", "currency": "EUR",
                       "lines": [{ "line_no": 1, "sku": "WID-100", "quantity": 4 }] });
    let (st, v) = s.post("/api/v1/quotes", &tokens["fin"], &body);
    assert_eq!((st, code(&v)), (403, "forbidden"), "{v}");
    let url = format!("{}/api/v1/quotes", s.base);
    let (st, replayed, first) =
        ordo_tests::api_post(&s.http, &url, &tokens["sally"], Some("q-1"), &body);
    assert_eq!((st, replayed), (201, false), "{first}");
    let number = first["number"].as_str().unwrap_or_default().to_string();
    let (st, replayed, again) =
        ordo_tests::api_post(&s.http, &url, &tokens["sally"], Some("q-1"), &body);
    assert_eq!((st, replayed), (201, true), "{again}");
    assert_eq!(again["number"], json!(number), "no second quote");
    let (st, v) = s.post(
        "/api/v1/quotes",
        &tokens["sally"],
        &json!({ "customer_id": "C-ACME", "currency": "EUR", "lines": [{ "line_no": 1, "sku": "WID-100", "quantity": -1 }] }),
    );
    assert_eq!((st, code(&v)), (409, "conflict"), "{v}");
    ordo_tests::wait_until(60, "the quote is sent", || {
        s.get(&format!("/api/v1/quotes/{number}"), &tokens["view"])
            .1["status"]
            == "sent"
    });
    let accept = format!("/api/v1/quotes/{number}/accept");
    let (st, v) = s.post(
        &accept,
        &tokens["sally"],
        &json!({ "po": "PO-API", "x": 1 }),
    );
    assert_eq!((st, code(&v)), (422, "invalid"), "{v}");
    let (st, v) = s.post(&accept, &tokens["sally"], &json!({ "po": "PO-API" }));
    assert_eq!(st, 201, "{v}");
    assert_eq!(v["order_id"], "C-ACME-PO-API");
    let (st, v) = s.post(&accept, &tokens["sally"], &json!({ "po": "PO-API2" }));
    assert_eq!((st, code(&v)), (409, "conflict"), "{v}");
    let (st, v) = s.post("/api/v1/quotes/Q-404/accept", &tokens["sally"], &json!({}));
    assert_eq!((st, code(&v)), (404, "not_found"), "{v}");
    let (st, v) = s.get("/api/v1/quotes/Q-404", &tokens["view"]);
    assert_eq!((st, code(&v)), (404, "not_found"), "{v}");
    ordo_tests::wait_until(60, "the accepted order ships", || {
        s.get("/api/v1/orders/C-ACME-PO-API", &tokens["view"]).1["instances"][0]["end_status"]
            == "completed"
    });
}

#[test]
fn quotes_api_embedded() {
    api(&Project::embedded("quotes-api"));
}

#[test]
fn quotes_api_cluster() {
    let Some(p) = Project::cluster("quotes-api") else {
        return;
    };
    api(&p);
}
