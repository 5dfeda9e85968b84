//! Credit notes end to end through the built binary, on both backends: a partial credit note
//! on an open invoice, refusals that change nothing (more than is left, unknown invoice or
//! line, zero quantity, no reason), cancelling the rest (the collection instance ends), a
//! credit note on a paid invoice becoming customer credit, and the API route (role,
//! idempotency, audit); credit notes and invoices printed (HTML, PDF) by the CLI and the API; after each, the ledger balances and ties to the open items.

use ordo_tests::Project;
use serde_json::{Value, json};

fn order(id: &str, customer: &str, lines: &[(&str, u32)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, q))| json!({ "line_no": i + 1, "sku": sku, "quantity": q }))
        .collect();
    json!({ "id": id, "customer_id": customer, "po_number": id, "order_date": "2026-11-23", "currency": "EUR", "lines": lines })
}

fn invoice(p: &Project, number: &str) -> Value {
    let out = p.ok(&["invoice", number]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("invoice {number}: {e}: {out}"))
}

fn dec(v: &Value) -> rust_decimal::Decimal {
    let s = v
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string());
    s.parse().unwrap_or_else(|_| panic!("not a decimal: {v}"))
}

/// The trial balance balances and `ordo ledger check` ties receivables to the open invoices
/// and the customer-credit account to the customers' credit.
fn assert_ledger(p: &Project) -> Value {
    let tb = p.json(&["ledger", "trial-balance"]);
    assert_eq!(tb["balanced"], json!(true), "{tb}");
    let check = p.json(&["ledger", "check"]);
    assert_eq!(check["problems"], json!([]), "{check}");
    check
}

/// Two invoices of Acme (19 % VAT), one per order, numbers found by order.
fn two_invoices(p: &Project) -> (String, String) {
    p.ok(&["data", "import", "config/seed.json"]);
    let orders = json!([
        order("CN-A", "C-ACME", &[("WID-100", 4), ("BOLT-M8", 10)]),
        order("CN-B", "C-ACME", &[("WID-100", 2)]),
    ]);
    p.write("orders.json", &orders.to_string());
    p.ok(&["submit", "orders.json"]);
    p.run_idle();
    let first = invoice(p, "INV-000001");
    if first["order_id"] == "CN-A" {
        ("INV-000001".into(), "INV-000002".into())
    } else {
        ("INV-000002".into(), "INV-000001".into())
    }
}

fn flow(p: &Project) {
    let (a, b) = two_invoices(p);
    let inv = invoice(p, &a);
    assert_eq!(inv["lines"].as_array().map(Vec::len), Some(2), "{inv}");
    let total = dec(&inv["total"]);
    let series = |p: &Project| p.json(&["summary"])["series"]["credit_note"].clone();

    // Refusals: each names the problem, and nothing is numbered, stored or posted.
    for (args, says) in [
        (
            vec![
                "credit-note",
                &a,
                "--line",
                "1",
                "--qty",
                "5",
                "--reason",
                "x",
            ],
            "only 4 of 4 left uncredited",
        ),
        (
            vec![
                "credit-note",
                &a,
                "--line",
                "9",
                "--qty",
                "1",
                "--reason",
                "x",
            ],
            "has no line 9",
        ),
        (
            vec![
                "credit-note",
                &a,
                "--line",
                "1",
                "--qty",
                "0",
                "--reason",
                "x",
            ],
            "must be positive",
        ),
        (
            vec![
                "credit-note",
                &a,
                "--line",
                "1",
                "--qty",
                "-1",
                "--reason",
                "x",
            ],
            "must be positive",
        ),
        (
            vec!["credit-note", &a, "--line", "1", "--reason", "x"],
            "give each --line its --qty",
        ),
        (vec!["credit-note", &a, "--reason", " "], "needs a reason"),
        (
            vec!["credit-note", "INV-999999", "--reason", "x"],
            "no invoice 'INV-999999'",
        ),
    ] {
        let (_, err) = p.expect_code(1, &args);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert_eq!(series(p), Value::Null, "no credit note numbered");
    assert_eq!(invoice(p, &a)["open_amount"], inv["open_amount"]);

    // One widget of four back: 12.50 + 19 % = 14.88 off the open amount.
    let cn = p.json(&[
        "credit-note",
        &a,
        "--line",
        "1",
        "--qty",
        "1",
        "--reason",
        "damaged in transit",
    ]);
    assert_eq!(cn["number"], "CN-000001", "{cn}");
    assert_eq!(cn["corrects"], json!(a));
    let first = dec(&cn["total"]);
    assert_eq!(dec(&cn["applied"]), first);
    let after = invoice(p, &a);
    assert_eq!(dec(&after["open_amount"]), total - first);
    assert_eq!(after["status"], "open");
    // More than is left on the line: refused, the first credit counted.
    let (_, err) = p.expect_code(
        1,
        &[
            "credit-note",
            &a,
            "--line",
            "1",
            "--qty",
            "4",
            "--reason",
            "x",
        ],
    );
    assert!(err.contains("only 3 of 4 left uncredited"), "{err}");
    assert_ledger(p);

    // Cancel the rest: the invoice is credited to zero exactly, and its collection ends.
    let cn2 = p.json(&["credit-note", &a, "--reason", "order cancelled"]);
    assert_eq!(cn2["number"], "CN-000002");
    assert_eq!(
        first + dec(&cn2["total"]),
        total,
        "the credit notes add up to the invoice"
    );
    let cancelled = invoice(p, &a);
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(dec(&cancelled["open_amount"]), rust_decimal::Decimal::ZERO);
    assert_eq!(cancelled["number"], json!(a), "never renumbered");
    p.run_idle();
    let all = p.json(&["instances", "--limit", "1000"]);
    let ended: Vec<&Value> = all["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["workflow"] == "invoice-collection" && i["business_key"] == json!(a))
        .collect();
    assert_eq!(ended.len(), 1, "{all}");
    assert_eq!(ended[0]["end_status"], "credited", "{}", ended[0]);
    let (_, err) = p.expect_code(1, &["credit-note", &a, "--reason", "again"]);
    assert!(err.contains("fully credited already"), "{err}");
    let (_, err) = p.expect_code(1, &["pay", &a, "10"]);
    assert!(err.contains("cancelled already"), "{err}");
    let check = assert_ledger(p);
    assert_eq!(check["receivables"], check["open_items"], "{check}");

    // A paid invoice: the credit note becomes customer credit.
    let paid = invoice(p, &b);
    let total_b = dec(&paid["total"]);
    p.ok(&["pay", &b, &total_b.to_string()]);
    p.run_idle();
    assert_eq!(invoice(p, &b)["status"], "paid");
    // Paid in full within the discount period: the discount came back as credit already.
    let before = dec(&assert_ledger(p)["customer_credit"]);
    let cn3 = p.json(&[
        "credit-note",
        &b,
        "--line",
        "1",
        "--qty",
        "1",
        "--reason",
        "goodwill",
    ]);
    assert_eq!(dec(&cn3["applied"]), rust_decimal::Decimal::ZERO);
    assert_eq!(dec(&cn3["credit"]), dec(&cn3["total"]));
    let check = assert_ledger(p);
    assert_eq!(
        dec(&check["customer_credit"]),
        before + dec(&cn3["credit"]),
        "{check}"
    );
    assert_eq!(check["credit_ledger"], check["customer_credit"], "{check}");
    assert_eq!(series(p), json!(3));
    assert_eq!(p.json(&["summary"])["outbound"]["credit-notes"], json!(3));
    // Each credit note is in the audit trail with who issued it.
    let audit = p.json(&["audit"]);
    let issued = audit
        .as_array()
        .or_else(|| audit["records"].as_array())
        .into_iter()
        .flatten()
        .filter(|r| r["action"] == "credit_note.issued")
        .count();
    assert_eq!(issued, 3, "{audit}");
}

#[test]
fn credit_notes_embedded() {
    flow(&Project::embedded("credit-notes"));
}

#[test]
fn credit_notes_cluster() {
    let Some(p) = Project::cluster("credit-notes") else {
        return;
    };
    flow(&p);
}

/// `POST /api/v1/invoices/{number}/credit-notes`: role finance, the idempotency key answers a
/// replay with the same credit note (no second one), refusals are `409`/`422`/`400` in the one
/// error shape, and the ledger still ties afterwards.
fn api(p: &Project) {
    use ordo_tests::api::{code, start, users};
    let (a, _) = two_invoices(p);
    let tokens = users(p);
    let s = start(p);
    let path = format!("/api/v1/invoices/{a}/credit-notes");
    let body = json!({ "reason": "short delivery", "lines": [ { "line_no": 1, "quantity": 1 } ] });
    let (st, v) = s.post(&path, &tokens["sally"], &body);
    assert_eq!((st, code(&v)), (403, "forbidden"), "{v}");
    let url = format!("{}{path}", s.base);
    let (st, replayed, first) =
        ordo_tests::api_post(&s.http, &url, &tokens["fin"], Some("cn-1"), &body);
    assert_eq!((st, replayed), (201, false), "{first}");
    assert_eq!(first["number"], "CN-000001", "{first}");
    let (st, replayed, again) =
        ordo_tests::api_post(&s.http, &url, &tokens["fin"], Some("cn-1"), &body);
    assert_eq!((st, replayed), (201, true), "{again}");
    assert_eq!(again, first, "the stored answer, no second credit note");
    for (body, status, want) in [
        (
            json!({ "reason": "x", "lines": [ { "line_no": 1, "quantity": 4 } ] }),
            409,
            "conflict",
        ),
        (
            json!({ "reason": "x", "lines": [ { "line_no": 7, "quantity": 1 } ] }),
            409,
            "conflict",
        ),
        (
            json!({ "reason": "x", "lines": [ { "line_no": 1, "quantity": 0 } ] }),
            409,
            "conflict",
        ),
        (json!({ "reason": "x", "lines": [] }), 422, "invalid"),
        (json!({ "reason": "" }), 422, "invalid"),
        (
            json!({ "reason": "x", "lines": [ { "line_no": 1, "qty": 1 } ] }),
            422,
            "invalid",
        ),
        (json!({ "reason": "x", "extra": 1 }), 422, "invalid"),
    ] {
        let (st, v) = s.post(&path, &tokens["fin"], &body);
        assert_eq!((st, code(&v)), (status, want), "{body}: {v}");
    }
    let (st, v) = s.post(
        "/api/v1/invoices/INV-404/credit-notes",
        &tokens["fin"],
        &json!({ "reason": "x" }),
    );
    assert_eq!((st, code(&v)), (409, "conflict"), "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no invoice 'INV-404'"),
        "{v}"
    );
    let (st, v) = parse_raw(&s, &path, &tokens["fin"], "{not json");
    assert_eq!((st, code(&v)), (400, "malformed_json"), "{v}");
    printed_by_the_api(&s, &tokens["view"], &a);
    drop(s);
    printed_by_the_cli(p, &a);
    assert_eq!(p.json(&["summary"])["series"]["credit_note"], json!(1));
    assert_ledger(p);
}

/// Whether a PDF answer is right: a PDF, or — where this machine has no Chromium, never in
/// CI — the clear error naming it.
fn pdf_or_clear_error(ok: bool, body: &[u8], err: &str) {
    if ok {
        assert!(body.starts_with(b"%PDF-"), "not a PDF");
    } else {
        assert!(err.contains("PDF output needs Chromium"), "{err}");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI installs chromium: {err}"
        );
    }
}

/// `GET /api/v1/credit-notes/{n}` and `/invoices/{n}`: JSON, the HTML page with `Accept:
/// text/html`, the PDF printed from it with `Accept: application/pdf`; 404 for an unknown one.
fn printed_by_the_api(s: &ordo_tests::api::Server, token: &str, invoice: &str) {
    let (st, v) = s.get("/api/v1/credit-notes/CN-000001", token);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["corrects"], invoice, "{v}");
    let (st, v) = s.get("/api/v1/credit-notes/CN-404", token);
    assert_eq!((st, ordo_tests::api::code(&v)), (404, "not_found"), "{v}");
    let get = |path: &str, accept: &str| {
        let r = s
            .req("GET", path, Some(token))
            .header("accept", accept)
            .send()
            .expect("GET");
        let status = r.status().as_u16();
        let kind = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, kind, r.bytes().expect("body").to_vec())
    };
    let (st, kind, body) = get("/api/v1/credit-notes/CN-000001", "text/html");
    let html = String::from_utf8_lossy(&body);
    assert_eq!((st, kind.starts_with("text/html")), (200, true), "{html}");
    assert!(html.contains("<h1>Credit note CN-000001</h1>"), "{html}");
    assert!(
        html.contains(&format!("<td>Corrects invoice</td><td>{invoice}</td>")),
        "{html}"
    );
    for path in [
        "/api/v1/credit-notes/CN-000001".to_string(),
        format!("/api/v1/invoices/{invoice}"),
    ] {
        let (st, kind, body) = get(&path, "application/pdf");
        let text = String::from_utf8_lossy(&body).into_owned();
        if st == 200 {
            assert_eq!(kind, "application/pdf", "{path}");
        } else {
            assert_eq!(st, 503, "{path}: {text}");
        }
        pdf_or_clear_error(st == 200, &body, &text);
    }
}

/// `ordo invoice N --html|--pdf` takes invoices and credit notes alike.
fn printed_by_the_cli(p: &Project, invoice: &str) {
    p.ok(&["invoice", "CN-000001", "--html", "--out", "cn.html"]);
    let html = std::fs::read_to_string(p.path("cn.html")).unwrap_or_default();
    assert!(
        html.contains("Credit note CN-000001") && html.contains("Reason: short delivery"),
        "{html}"
    );
    let json = p.json(&["invoice", "CN-000001"]);
    assert_eq!(json["corrects"], invoice, "{json}");
    let (_, err) = p.expect_code(1, &["invoice", "CN-404"]);
    assert!(err.contains("no invoice or credit note 'CN-404'"), "{err}");
    for (number, file) in [("CN-000001", "cn.pdf"), (invoice, "inv.pdf")] {
        let out = p.ordo(&["invoice", number, "--pdf", file]);
        let body = std::fs::read(p.path(file)).unwrap_or_default();
        pdf_or_clear_error(
            out.status.success(),
            &body,
            &String::from_utf8_lossy(&out.stderr),
        );
    }
}

fn parse_raw(s: &ordo_tests::api::Server, path: &str, token: &str, body: &str) -> (u16, Value) {
    ordo_tests::api::parse(
        s.req("POST", path, Some(token))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .expect("POST"),
    )
}

#[test]
fn credit_notes_api_embedded() {
    api(&Project::embedded("credit-notes-api"));
}

#[test]
fn credit_notes_api_cluster() {
    let Some(p) = Project::cluster("credit-notes-api") else {
        return;
    };
    api(&p);
}

/// Customer credit: an overpayment's credit is taken by the customer's next invoice
/// (`apply_credit: automatic` in workflows/order-to-cash.yaml), a credit note on a paid
/// invoice is applied on request to the oldest open invoice, and the rest is refunded as a
/// pain.001 file; a refund larger than the credit changes nothing. The ledger ties after each.
fn customer_credit(p: &Project) {
    let (a, b) = two_invoices(p);
    let total_b = dec(&invoice(p, &b)["total"]);
    // 100.00 too much: settles b and leaves credit (with b's early-payment discount).
    let over = total_b + rust_decimal::Decimal::from(100);
    p.ok(&["pay", &b, &over.to_string()]);
    p.run_idle();
    let credit = dec(&assert_ledger(p)["customer_credit"]);
    assert!(credit >= rust_decimal::Decimal::from(100), "{credit}");
    // The next invoice (one widget: 14.88) takes it.
    p.write(
        "more.json",
        &json!([order("CN-C", "C-ACME", &[("WID-100", 1)])]).to_string(),
    );
    p.ok(&["submit", "more.json"]);
    p.run_idle();
    let c = invoice(p, "INV-000003");
    assert_eq!(c["status"], "paid", "{c}");
    assert_eq!(c["credit_applied"][0]["id"], "CA-000001", "{c}");
    let check = assert_ledger(p);
    let credit = dec(&check["customer_credit"]);
    assert_eq!(credit, dec(&check["credit_ledger"]));
    // On request: apply to the named invoice a.
    let open_a = dec(&invoice(p, &a)["open_amount"]);
    let r = p.json(&["customer-credit", "apply", "C-ACME", "--invoice", &a]);
    let applied = dec(&r["applied"][0]["amount"]);
    assert_eq!(applied, credit.min(open_a), "{r}");
    assert_eq!(dec(&invoice(p, &a)["open_amount"]), open_a - applied);
    let (_, err) = p.expect_code(1, &["customer-credit", "apply", "C-ACME"]);
    assert!(err.contains("no credit to apply"), "{err}");
    // A credit note on the paid invoice b becomes credit; refund part of it.
    let cn = p.json(&["credit-note", &b, "--reason", "returned"]);
    let credit = dec(&cn["credit"]);
    let too_much = (credit + rust_decimal::Decimal::new(1, 2)).to_string();
    let (_, err) = p.expect_code(1, &["customer-credit", "refund", "C-ACME", &too_much]);
    assert!(
        err.contains("is larger than customer C-ACME's credit"),
        "{err}"
    );
    let (_, err) = p.expect_code(
        1,
        &[
            "customer-credit",
            "refund",
            "C-ACME",
            "1",
            "--iban",
            "GB29NWBK60161331926819",
        ],
    );
    assert!(
        err.contains("not one of customer C-ACME's bank accounts"),
        "{err}"
    );
    let (_, err) = p.expect_code(1, &["customer-credit", "refund", "C-ACME", "0"]);
    assert!(err.contains("must be positive"), "{err}");
    assert_eq!(
        p.json(&["summary"])["series"]["refund"],
        Value::Null,
        "nothing numbered"
    );
    let r = p.json(&["customer-credit", "refund", "C-ACME", "10.00"]);
    assert_eq!(r["number"], "RF-000001", "{r}");
    assert_eq!(
        dec(&r["credit_left"]),
        credit - rust_decimal::Decimal::from(10)
    );
    p.run_idle();
    let xml = std::fs::read_to_string(p.path("data/outbound/payments/RF-000001.xml"))
        .expect("the pain.001 file is written after commit");
    assert!(
        xml.contains("urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"),
        "{xml}"
    );
    assert!(
        xml.contains("<InstdAmt Ccy=\"EUR\">10.00</InstdAmt>"),
        "{xml}"
    );
    assert!(xml.contains("<IBAN>DE89370400440532013000</IBAN>"), "{xml}");
    let check = assert_ledger(p);
    assert_eq!(
        dec(&check["customer_credit"]),
        credit - rust_decimal::Decimal::from(10),
        "{check}"
    );
    assert_eq!(check["receivables"], check["open_items"], "{check}");

    // Statement of account and aging, 45 days on: the same open items, credit and buckets.
    p.ok(&["clock", "advance", "45d"]);
    let st = p.json(&["statement", "C-ACME"]);
    assert_eq!(dec(&st["credit"]), dec(&check["customer_credit"]), "{st}");
    assert_eq!(dec(&st["open_total"]), dec(&check["open_items"]), "{st}");
    assert_eq!(
        dec(&st["balance"]),
        dec(&st["open_total"]) - dec(&st["credit"])
    );
    let kinds: Vec<&str> = st["moves"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"payment") && kinds.contains(&"credit_note"),
        "{st}"
    );
    // Due after 30 days, 45 days on: 15 days past due.
    assert_eq!(
        dec(&st["aging"][0]["buckets"][1]),
        dec(&st["open_total"]),
        "{st}"
    );
    let aging = p.json(&["report", "aging"]);
    assert_eq!(aging["customers"][0]["customer"], "C-ACME", "{aging}");
    assert_eq!(
        dec(&aging["total"][0]["total"]),
        dec(&check["open_items"]),
        "{aging}"
    );
    let before = p.json(&["report", "aging", "--as-of", "2000-01-01"]);
    assert_eq!(
        before["total"],
        json!([]),
        "nothing was issued by then: {before}"
    );
    let (_, err) = p.expect_code(1, &["report", "aging", "--as-of", "yesterday"]);
    assert!(err.contains("expected YYYY-MM-DD"), "{err}");
    let (_, err) = p.expect_code(1, &["statement", "C-NOBODY"]);
    assert!(err.contains("no customer 'C-NOBODY'"), "{err}");
    p.ok(&["statement", "C-ACME", "--html", "st.html"]);
    let html = std::fs::read_to_string(p.path("st.html")).unwrap_or_default();
    assert!(
        html.contains("Statement of account") && html.contains("Acme Retail GmbH"),
        "{html}"
    );
    // PDF from the same page through headless Chromium (installed by CI; absent: a clear error).
    let out = p.ordo(&["statement", "C-ACME", "--pdf", "st.pdf"]);
    if out.status.success() {
        let pdf = std::fs::read(p.path("st.pdf")).unwrap_or_default();
        assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("PDF output needs Chromium"), "{err}");
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI installs chromium: {err}"
        );
    }
}

#[test]
fn customer_credit_embedded() {
    customer_credit(&Project::embedded("customer-credit"));
}

#[test]
fn customer_credit_cluster() {
    let Some(p) = Project::cluster("customer-credit") else {
        return;
    };
    customer_credit(&p);
}
