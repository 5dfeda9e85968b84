//! The HTTP API of `ordo run` over real TCP with a real HTTP client (reqwest), on both
//! backends: the order-to-cash path through the API (submit → approve as sales-manager →
//! paid through a statement posted to the bank route), 401/403 per route class, idempotency
//! keys, the error codes and their shape, the audit trail of each decision, the OS user's
//! roles for `ordo approve`, and the OpenAPI document and metrics.

use ordo_tests::api::*;
use ordo_tests::{Project, Running, both, wait_until};
use reqwest::blocking::Client;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::time::Duration;

both!(order_to_cash_through_the_api, |p: &Project| {
    setup(p);
    let t = users(p);
    let s = start(p);

    // Submit as the integration user: one order that completes, one held for a manager
    // (Bolt is 500 below its credit limit; 60 × 12.50 = 750).
    let body = json!([
        order("API-CORA-1", "C-CORA", "BOLT-M8", 3),
        order("API-BOLT-1", "C-BOLT", "WID-100", 60)
    ]);
    let (code, v) = parse(
        s.req("POST", "/api/v1/orders", Some(&t["integ"]))
            .header("Idempotency-Key", "submit-1")
            .json(&body)
            .send()
            .unwrap(),
    );
    assert_eq!(code, 201, "{v}");
    assert_eq!(v["accepted"].as_array().map(Vec::len), Some(2), "{v}");

    wait_until(60, "API-CORA-1 completes", || {
        state(&s, &t["view"], "API-CORA-1") == "completed"
    });
    wait_until(60, "API-BOLT-1 waits for a manager", || {
        let (_, v) = s.get("/api/v1/orders/API-BOLT-1", &t["view"]);
        v["instances"][0]["open_task"]["role"] == "sales-manager"
    });
    let (_, v) = s.get("/api/v1/orders/API-BOLT-1", &t["view"]);
    let task = v["instances"][0]["open_task"]["id"]
        .as_i64()
        .expect("task id");

    // The task list shows what the caller may decide; a wrong role is refused.
    let (_, mine) = s.get("/api/v1/tasks", &t["mgr"]);
    assert!(
        mine["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["task"]["id"] == task),
        "{mine}"
    );
    let (_, theirs) = s.get("/api/v1/tasks", &t["sally"]);
    assert_eq!(theirs["tasks"], json!([]), "{theirs}");
    let (code, v) = s.post(
        &format!("/api/v1/tasks/{task}/approve"),
        &t["sally"],
        &json!({}),
    );
    assert_eq!((code, code_of(&v)), (403, "forbidden".to_string()), "{v}");
    let (code, v) = s.post(
        &format!("/api/v1/tasks/{task}/approve"),
        &t["mgr"],
        &json!({ "note": "good customer" }),
    );
    assert_eq!(code, 200, "{v}");
    // Decided once: a second decision is a conflict.
    let (code, v) = s.post(
        &format!("/api/v1/tasks/{task}/reject"),
        &t["mgr"],
        &json!({ "note": "x" }),
    );
    assert_eq!((code, code_of(&v)), (409, "conflict".to_string()), "{v}");
    wait_until(60, "API-BOLT-1 completes after the approval", || {
        state(&s, &t["view"], "API-BOLT-1") == "completed"
    });

    // Its invoice, as JSON and as HTML.
    let (_, v) = s.get("/api/v1/orders/API-BOLT-1", &t["view"]);
    let number = find_invoice(&s, &t["fin"], "API-BOLT-1");
    assert!(v["order"]["id"] == "API-BOLT-1");
    let (code, inv) = s.get(&format!("/api/v1/invoices/{number}"), &t["fin"]);
    assert_eq!(code, 200, "{inv}");
    let html = s
        .req(
            "GET",
            &format!("/api/v1/invoices/{number}"),
            Some(&t["fin"]),
        )
        .header("Accept", "text/html")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        html.contains("<html") || html.contains("<!DOCTYPE"),
        "{html}"
    );

    // Paid through a statement posted to the bank route (finance), matched by
    // reconciliation: the invoice ends paid.
    let total = inv["total"].to_string();
    let amount = match total.split_once('.') {
        Some((a, b)) => format!("{a}.{:0<2}", &b[..b.len().min(2)]),
        None => format!("{total}.00"),
    };
    let stmt = statement("API-STMT-1", &amount, &number);
    let r = s
        .req(
            "POST",
            "/api/v1/banks/main-eur/statements?name=stmt-1.xml",
            Some(&t["fin"]),
        )
        .body(stmt.clone())
        .send()
        .unwrap();
    let (code, v) = parse(r);
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["outcome"], "imported", "{v}");
    // The same statement again is a duplicate, booked nothing.
    let (code, v) = parse(
        s.req(
            "POST",
            "/api/v1/banks/main-eur/statements?name=stmt-1b.xml",
            Some(&t["fin"]),
        )
        .body(stmt)
        .send()
        .unwrap(),
    );
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["outcome"], "duplicate", "{v}");
    p.ok(&["recon", "run"]);
    wait_until(60, "the invoice is paid", || {
        s.get(&format!("/api/v1/invoices/{number}"), &t["fin"]).1["status"] == "paid"
    });

    // The audit trail: who submitted and approved, through the API, before and after.
    let (code, a) = s.get("/api/v1/audit?order=API-BOLT-1", &t["view"]);
    assert_eq!(code, 200, "{a}");
    let recs = a["records"].as_array().unwrap();
    let approved = recs
        .iter()
        .find(|r| r["action"] == "task.approved")
        .unwrap_or_else(|| panic!("no approval in {a}"));
    assert_eq!(approved["actor"], "user:mgr");
    assert_eq!(approved["via"], "api");
    assert_eq!(approved["before"]["status"], "open");
    assert_eq!(approved["after"]["note"], "good customer");
    assert!(
        recs.iter()
            .any(|r| r["action"] == "order.submitted" && r["actor"] == "user:integ")
    );
    let cli = p.json(&["audit", "--order", "API-BOLT-1", "--who", "mgr"]);
    assert_eq!(cli.as_array().map(Vec::len), Some(1), "{cli}");
});

fn code_of(v: &Value) -> String {
    code(v).to_string()
}

/// The number of the first invoice of `order` (INV-000001, INV-000002, …).
fn find_invoice(s: &Server, token: &str, order: &str) -> String {
    for n in 1..=9 {
        let number = format!("INV-{n:06}");
        let (code, v) = s.get(&format!("/api/v1/invoices/{number}"), token);
        if code != 200 {
            break;
        }
        if v["order_id"] == order {
            return number;
        }
    }
    panic!("no invoice for {order}");
}

both!(roles_keys_and_errors, |p: &Project| {
    setup(p);
    // A small body limit and short timeouts, to reach 413 and 408 cheaply.
    let cfg = std::fs::read_to_string(p.path("config/ordo.yaml")).unwrap();
    p.write(
        "config/ordo.yaml",
        &format!("{cfg}http: {{ body_limit_bytes: 4096, body_timeout_secs: 1, header_timeout_secs: 2 }}\n"),
    );
    let t = users(p);
    let s = start(p);

    // 401 for every route class without a token, with a malformed one, with an unknown one.
    let routes = [
        ("GET", "/api/v1/orders"),
        ("POST", "/api/v1/orders"),
        ("GET", "/api/v1/orders/X"),
        ("GET", "/api/v1/tasks"),
        ("POST", "/api/v1/tasks/1/approve"),
        ("POST", "/api/v1/tasks/1/reject"),
        ("GET", "/api/v1/invoices/INV-1"),
        ("GET", "/api/v1/recon/exceptions"),
        ("POST", "/api/v1/recon/exceptions/E/match"),
        ("POST", "/api/v1/recon/exceptions/E/reject"),
        ("GET", "/api/v1/recon/reports"),
        ("POST", "/api/v1/partners/P/files"),
        ("POST", "/api/v1/banks/main-eur/statements"),
        ("GET", "/api/v1/instances"),
        ("POST", "/api/v1/instances/X/retry"),
        ("POST", "/api/v1/events"),
        ("GET", "/api/v1/audit"),
    ];
    let forged = format!("{}x", &t["view"][..t["view"].len() - 1]);
    for (m, path) in routes {
        for token in [None, Some("Basic abc"), Some(forged.as_str())] {
            let mut r = s.req(m, path, None);
            if let Some(tok) = token {
                r = if tok.starts_with("Basic") {
                    r.header("Authorization", tok)
                } else {
                    r.bearer_auth(tok)
                };
            }
            let (code, v) = parse(r.send().unwrap());
            assert_eq!(
                (code, code_of(&v)),
                (401, "unauthenticated".to_string()),
                "{m} {path} {token:?}: {v}"
            );
        }
    }
    // 403: each route class refuses a role it does not name.
    for (m, path, who) in [
        ("GET", "/api/v1/orders", "integ"),
        ("POST", "/api/v1/orders", "view"),
        ("GET", "/api/v1/invoices/INV-1", "integ"),
        ("POST", "/api/v1/recon/exceptions/E/reject", "sally"),
        ("POST", "/api/v1/partners/P/files", "sally"),
        ("POST", "/api/v1/banks/main-eur/statements", "edi"),
        ("POST", "/api/v1/instances/X/retry", "mgr"),
        ("POST", "/api/v1/events", "sally"),
        ("GET", "/api/v1/audit", "sally"),
    ] {
        let (code, v) = parse(s.req(m, path, Some(&t[who])).body("{}").send().unwrap());
        assert_eq!(
            (code, code_of(&v)),
            (403, "forbidden".to_string()),
            "{m} {path} as {who}: {v}"
        );
    }

    // Idempotency: the same key and body answer the first response and book nothing new;
    // the same key with another body is 409.
    let one = json!(order("KEY-1", "C-CORA", "BOLT-M8", 1));
    let send = |key: &str, body: &Value| {
        s.req("POST", "/api/v1/orders", Some(&t["sally"]))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .unwrap()
    };
    let first = send("k-1", &one);
    assert_eq!(first.status(), 201);
    let first = first.text().unwrap();
    let again = send("k-1", &one);
    assert_eq!(again.status(), 201);
    assert_eq!(
        again
            .headers()
            .get("idempotent-replayed")
            .map(|h| h.to_str().unwrap()),
        Some("true")
    );
    assert_eq!(again.text().unwrap(), first);
    let (code, v) = parse(send("k-1", &json!(order("KEY-2", "C-CORA", "BOLT-M8", 1))));
    assert_eq!((code, code_of(&v)), (409, "conflict".to_string()), "{v}");
    let (code, v) = s.get("/api/v1/orders?customer=C-CORA", &t["view"]);
    assert_eq!(code, 200);
    assert_eq!(
        v["orders"].as_array().map(Vec::len),
        Some(1),
        "one order booked: {v}"
    );
    // Without a key, the same PO again is a duplicate (409), not a second order.
    let (code, v) = s.post("/api/v1/orders", &t["sally"], &one);
    assert_eq!((code, code_of(&v)), (409, "conflict".to_string()), "{v}");

    // Paging: an opaque cursor walks every order once.
    for i in 0..5 {
        let (code, v) = s.post(
            "/api/v1/orders",
            &t["sally"],
            &order(&format!("PAGE-{i}"), "C-ACME", "WID-100", 1),
        );
        assert_eq!(code, 201, "{v}");
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!(
            "/api/v1/orders?customer=C-ACME&limit=2{}",
            if cursor.is_empty() {
                String::new()
            } else {
                format!("&cursor={cursor}")
            }
        );
        let (code, v) = s.get(&path, &t["view"]);
        assert_eq!(code, 200, "{v}");
        seen.extend(
            v["orders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_string()),
        );
        match v["next"].as_str() {
            Some(n) => cursor = n.to_string(),
            None => break,
        }
    }
    assert_eq!(
        seen,
        (0..5).map(|i| format!("PAGE-{i}")).collect::<Vec<_>>()
    );

    // Error codes, each in the one shape.
    let raw = |m: &str, path: &str, body: &str| {
        parse(
            s.req(m, path, Some(&t["admin"]))
                .body(body.to_string())
                .send()
                .unwrap(),
        )
    };
    let (code, v) = raw("POST", "/api/v1/orders", "[{\"id\": ");
    assert_eq!(
        (code, code_of(&v)),
        (400, "malformed_json".to_string()),
        "{v}"
    );
    assert_eq!(v["error"]["location"], "1:8", "{v}");
    let deep = format!("{}{}", "[".repeat(1500), "]".repeat(1500));
    let (code, v) = raw("POST", "/api/v1/orders", &deep);
    assert_eq!(
        (code, code_of(&v)),
        (400, "malformed_json".to_string()),
        "deeply nested: {v}"
    );
    let mut bad = order("BAD-1", "C-CORA", "BOLT-M8", 1);
    bad["lines"][0]["colour"] = json!("red");
    let (code, v) = raw(
        "POST",
        "/api/v1/orders",
        &json!([order("OK-1", "C-CORA", "BOLT-M8", 1), bad]).to_string(),
    );
    assert_eq!(
        (code, code_of(&v)),
        (422, "invalid".to_string()),
        "unknown field: {v}"
    );
    assert_eq!(v["error"]["location"], "/1/lines/0/colour", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("colour"),
        "{v}"
    );
    let (code, v) = raw(
        "POST",
        "/api/v1/events",
        "{\"name\": \"x\", \"key\": \"k\", \"extra\": 1}",
    );
    assert_eq!((code, code_of(&v)), (422, "invalid".to_string()), "{v}");
    let (code, v) = raw("POST", "/api/v1/events", "{\"name\": 5, \"key\": \"k\"}");
    assert_eq!((code, code_of(&v)), (422, "invalid".to_string()), "{v}");
    assert_eq!(v["error"]["location"], "/name", "{v}");
    let (code, v) = raw("GET", "/api/v1/orders/NOPE", "");
    assert_eq!((code, code_of(&v)), (404, "not_found".to_string()), "{v}");
    let (code, v) = raw("GET", "/api/v1/nothing-here", "");
    assert_eq!((code, code_of(&v)), (404, "not_found".to_string()), "{v}");
    let (code, v) = raw("DELETE", "/api/v1/orders", "");
    assert_eq!(
        (code, code_of(&v)),
        (405, "method_not_allowed".to_string()),
        "{v}"
    );
    let (code, v) = raw("GET", "/api/v1/orders?limit=0", "");
    assert_eq!((code, code_of(&v)), (400, "bad_request".to_string()), "{v}");
    let (code, v) = raw("GET", "/api/v1/orders?bogus=1", "");
    assert_eq!(
        (code, code_of(&v)),
        (400, "bad_request".to_string()),
        "unknown query parameter: {v}"
    );
    let (code, v) = raw("POST", "/api/v1/orders", &"x".repeat(5000));
    assert_eq!(
        (code, code_of(&v)),
        (413, "payload_too_large".to_string()),
        "{v}"
    );
    let (code, v) = raw("POST", "/api/v1/partners/NOBODY/files", "ISA*");
    assert_eq!((code, code_of(&v)), (404, "not_found".to_string()), "{v}");
    let (code, v) = raw("POST", "/api/v1/instances/NOPE/retry", "");
    assert_eq!((code, code_of(&v)), (404, "not_found".to_string()), "{v}");
    // A slow client: headers sent, the body never finishes → 408, and the server goes on.
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        c,
        "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n[",
        t["admin"]
    )
    .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut answer = String::new();
    let _ = c.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"timeout\""), "{answer}");
    // A client that never sends its headers is dropped.
    let mut c = std::net::TcpStream::connect(&addr).unwrap();
    write!(c, "GET /healthz HTTP/1.1\r\n").unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let _ = c.read_to_end(&mut buf);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "header timeout"
    );

    // A disabled user's token is refused from then on.
    assert_eq!(s.get("/api/v1/orders", &t["view"]).0, 200);
    p.ok(&["users", "disable", "view"]);
    let (code, v) = s.get("/api/v1/orders", &t["view"]);
    assert_eq!(
        (code, code_of(&v)),
        (401, "unauthenticated".to_string()),
        "{v}"
    );
    // A rotated token replaces the old one.
    let rotated = p.json(&["users", "rotate", "sally"]);
    let new = rotated["token"].as_str().unwrap();
    assert_eq!(s.get("/api/v1/tasks", &t["sally"]).0, 401);
    assert_eq!(s.get("/api/v1/tasks", new).0, 200);

    // Service routes: readiness, metrics, the OpenAPI document.
    let (code, v) = parse(s.req("GET", "/readyz", None).send().unwrap());
    assert_eq!(code, 200, "{v}");
    let metrics = s
        .req("GET", "/metrics", None)
        .send()
        .unwrap()
        .text()
        .unwrap();
    for m in [
        "ordo_http_requests_total{",
        "ordo_instances{",
        "ordo_tasks_open ",
        "ordo_queue_depth ",
        "ordo_outbound_backlog ",
    ] {
        assert!(metrics.contains(m), "{m} in {metrics}");
    }
    assert!(
        metrics.contains("route=\"/api/v1/orders\",status=\"201\""),
        "{metrics}"
    );
    let (code, doc) = parse(s.req("GET", "/api/openapi.json", None).send().unwrap());
    assert_eq!(code, 200);
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.1"),
        "{doc}"
    );
    for path in [
        "/api/v1/orders",
        "/api/v1/orders/{id}",
        "/api/v1/tasks/{id}/approve",
        "/api/v1/banks/{account}/statements",
        "/api/v1/audit",
        "/healthz",
        "/metrics",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} in the document");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
});

both!(cli_decisions_follow_the_os_users_roles, |p: &Project| {
    setup(p);
    let orders = json!([
        order("CLI-BOLT-1", "C-BOLT", "WID-100", 60),
        order("CLI-BOLT-2", "C-BOLT", "WID-100", 61)
    ]);
    p.write("orders.json", &orders.to_string());
    p.ok(&["submit", "orders.json"]);
    p.run_idle();
    let t1 = p.task_for("CLI-BOLT-1");
    let t2 = p.task_for("CLI-BOLT-2");
    // carol is registered as sales: her `ordo approve` is refused like her token would be.
    p.ok(&["users", "add", "carol", "--role", "sales"]);
    let out = p
        .cmd(&["approve", &t1.to_string()])
        .env("USER", "carol")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is for role 'sales-manager'"),
        "{out:?}"
    );
    // dave holds sales-manager: his decision goes through and is recorded as his, via the CLI.
    p.ok(&["users", "add", "dave", "--role", "sales-manager"]);
    let out = p
        .cmd(&["reject", &t2.to_string(), "--reason", "over limit"])
        .env("USER", "dave")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    p.ok(&["approve", &t1.to_string()]);
    let audit = p.json(&["audit", "--order", "CLI-BOLT-2"]);
    let rec = &audit[0];
    assert_eq!(rec["actor"], "os:dave", "{audit}");
    assert_eq!(rec["via"], "cli");
    assert_eq!(rec["action"], "task.rejected");
    assert_eq!(rec["after"]["note"], "over limit");
    // Who added and disabled users is on record too.
    p.ok(&["users", "disable", "carol"]);
    let all = p.json(&["audit"]);
    let actions: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for a in [
        "user.added",
        "user.disabled",
        "task.rejected",
        "task.approved",
        "masterdata.imported",
        "definitions.installed",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    // The definitions were installed once: the commands since found the same set.
    let installs = actions
        .iter()
        .filter(|a| **a == "definitions.installed")
        .count();
    assert_eq!(installs, 1, "{actions:?}");
    // A disabled OS user is refused outright.
    let out = p.cmd(&["tasks"]).env("USER", "carol").output().unwrap();
    assert!(out.status.success(), "reading is not a decision");
    let out = p
        .cmd(&["users", "list"])
        .env("USER", "carol")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
});

/// `http.tls` serves HTTPS (rustls) and nothing in plain text; a certificate that does not load,
/// or a port that is taken, stops `ordo run` at start with the reason.
#[test]
fn tls_and_start_failures() {
    let p = Project::embedded("api_tls");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls");
    let cfg = std::fs::read_to_string(p.path("config/ordo.yaml")).unwrap();
    p.write(
        "config/ordo.yaml",
        &format!(
            "{cfg}http: {{ tls: {{ cert: \"{}\", key: \"{}\" }} }}\n",
            fixtures.join("cert.pem").display(),
            fixtures.join("key.pem").display()
        ),
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let _run = Running(p.spawn_run(&["--listen", &addr]));
    let https = Client::builder()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    wait_until(60, "HTTPS /healthz", || {
        https
            .get(format!("https://{addr}/healthz"))
            .send()
            .is_ok_and(|r| r.status() == 200)
    });
    let plain = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    assert!(
        plain
            .get(format!("http://{addr}/healthz"))
            .send()
            .is_err_and(|_| true)
            || plain
                .get(format!("http://{addr}/healthz"))
                .send()
                .is_ok_and(|r| r.status() != 200),
        "no plain HTTP on a TLS port"
    );

    // The same port for another store: taken.
    let q = Project::embedded("api_tls_bad");
    let (code, _, err) = q.run_cmd(&["run", "--listen", &addr, "--exit-when-idle"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("http.listen {addr}")), "{err}");

    // A certificate that does not load.
    let cfg = std::fs::read_to_string(q.path("config/ordo.yaml")).unwrap();
    q.write(
        "config/ordo.yaml",
        &format!("{cfg}http: {{ tls: {{ cert: nope.pem, key: nope.pem }} }}\n"),
    );
    let (code, _, err) = q.run_cmd(&["run", "--listen", "127.0.0.1:0", "--exit-when-idle"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("http.tls.cert nope.pem"), "{err}");
}

/// The store lost while `ordo run` serves the API: requests are `503 unavailable` (and
/// `/readyz` says why) instead of hanging or failing otherwise, and the API answers again once
/// PostgreSQL is back, without a restart.
#[test]
fn store_lost_is_503_then_recovers() {
    let Some(p) = Project::cluster("api_503") else {
        return;
    };
    let pg = ordo_tests::Proxy::start("127.0.0.1:5432");
    p.set_cluster_urls(
        &format!("postgres://postgres@127.0.0.1:{}/test", pg.port),
        ordo_tests::AMQP_URL,
        "connect_retry_secs: 20\n",
    );
    let t = p.json(&["users", "add", "view", "--role", "viewer"]);
    let token = t["token"].as_str().unwrap().to_string();
    let s = start(&p);
    assert_eq!(s.get("/api/v1/orders", &token).0, 200);
    pg.cut();
    let (code, v) = s.get("/api/v1/orders", &token);
    assert_eq!((code, code_of(&v)), (503, "unavailable".to_string()), "{v}");
    let (code, v) = parse(s.req("GET", "/readyz", None).send().unwrap());
    assert_eq!((code, code_of(&v)), (503, "unavailable".to_string()), "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().starts_with("store"),
        "{v}"
    );
    pg.restore();
    wait_until(60, "the API answers again", || {
        s.get("/api/v1/orders", &token).0 == 200
    });
}
