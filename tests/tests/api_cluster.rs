//! Several `ordo run` processes serving one API on the cluster backend (issue 13 point 9): two
//! processes on the same PostgreSQL schema and RabbitMQ prefix, on different ports. Nothing a
//! request needs lives in one process: an `Idempotency-Key` used on A replays on B (and is a
//! conflict there with another body), a token added once works on both, a task approved
//! through B is seen decided through A (and cannot be decided again there), and nothing is
//! booked twice.

use ordo_tests::{Project, Running, wait_until};
use reqwest::blocking::Client;
use serde_json::{Value, json};
use std::time::Duration;

struct Api {
    base: String,
    http: Client,
    _run: Running,
}

impl Api {
    fn start(p: &Project) -> Api {
        let addr = format!("127.0.0.1:{}", ordo_tests::closed_port());
        let run = Running(p.spawn_run(&["--listen", &addr]));
        let http = Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        let base = format!("http://{addr}");
        wait_until(60, "the API answers /healthz", || {
            http.get(format!("{base}/healthz"))
                .send()
                .is_ok_and(|r| r.status() == 200)
        });
        Api {
            base,
            http,
            _run: run,
        }
    }

    fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .expect("GET");
        (r.status().as_u16(), r.json().unwrap_or(Value::Null))
    }

    /// (status, replayed, body)
    fn post(&self, path: &str, token: &str, key: Option<&str>, body: &Value) -> (u16, bool, Value) {
        let url = format!("{}{path}", self.base);
        ordo_tests::api_post(&self.http, &url, token, key, body)
    }
}

fn order(id: &str, customer: &str, sku: &str, qty: u32) -> Value {
    json!({ "id": id, "customer_id": customer, "po_number": id, "order_date": "2026-11-23",
            "currency": "EUR", "lines": [ { "line_no": 1, "sku": sku, "quantity": qty } ] })
}

fn token(p: &Project, name: &str, role: &str) -> String {
    p.json(&["users", "add", name, "--role", role])["token"]
        .as_str()
        .expect("token printed")
        .to_string()
}

#[test]
fn two_processes_serve_one_api() {
    let Some(p) = Project::cluster("api_two_processes") else {
        return;
    };
    p.ok(&["data", "import", "config/seed.json"]);
    // Tokens are added once, by the CLI, before either process knows them.
    let shop = token(&p, "shop", "integration");
    let mgr = token(&p, "mgr", "sales-manager");
    let view = token(&p, "view", "viewer");
    let a = Api::start(&p);
    let b = Api::start(&p);

    for api in [&a, &b] {
        for t in [&mgr, &view] {
            assert_eq!(api.get("/api/v1/tasks", t).0, 200, "{}", api.base);
        }
    }

    // A key used on A replays on B with the first answer, and is a conflict there with
    // another body.
    let first = a.post(
        "/api/v1/orders",
        &shop,
        Some("two-1"),
        &order("TWO-CORA-1", "C-CORA", "BOLT-M8", 2),
    );
    assert_eq!((first.0, first.1), (201, false), "{first:?}");
    let again = b.post(
        "/api/v1/orders",
        &shop,
        Some("two-1"),
        &order("TWO-CORA-1", "C-CORA", "BOLT-M8", 2),
    );
    assert_eq!(
        (again.0, again.1, &again.2),
        (201, true, &first.2),
        "{again:?}"
    );
    let other = b.post(
        "/api/v1/orders",
        &shop,
        Some("two-1"),
        &order("TWO-CORA-2", "C-CORA", "BOLT-M8", 2),
    );
    assert_eq!(other.0, 409, "{other:?}");
    assert_eq!(other.2["error"]["code"], "conflict", "{other:?}");
    // The same order without a key, through B: a duplicate, not a second booking.
    let dup = b.post(
        "/api/v1/orders",
        &shop,
        None,
        &order("TWO-CORA-1", "C-CORA", "BOLT-M8", 2),
    );
    assert_eq!(dup.0, 409, "{dup:?}");

    // An order held for a manager (Bolt is 500 below its credit limit; 60 × 12.50 = 750),
    // submitted through A, approved through B, seen decided through A.
    let held = a.post(
        "/api/v1/orders",
        &shop,
        Some("two-2"),
        &order("TWO-BOLT-1", "C-BOLT", "WID-100", 60),
    );
    assert_eq!(held.0, 201, "{held:?}");
    let mut task = None;
    wait_until(
        60,
        "TWO-BOLT-1 waits for a manager (seen through A)",
        || {
            let (_, v) = a.get("/api/v1/orders/TWO-BOLT-1", &view);
            task = v["instances"][0]["open_task"]["id"].as_i64();
            v["instances"][0]["open_task"]["role"] == "sales-manager"
        },
    );
    let task = task.expect("task id");
    let (code, _, v) = b.post(
        &format!("/api/v1/tasks/{task}/approve"),
        &mgr,
        Some("approve-1"),
        &json!({ "note": "approved through B" }),
    );
    assert_eq!(code, 200, "{v}");
    let (code, _, v) = a.post(
        &format!("/api/v1/tasks/{task}/reject"),
        &mgr,
        None,
        &json!({ "note": "too late, through A" }),
    );
    assert_eq!(
        (code, &v["error"]["code"]),
        (409, &json!("conflict")),
        "{v}"
    );
    wait_until(60, "TWO-BOLT-1 completes (seen through A)", || {
        let (_, v) = a.get("/api/v1/orders/TWO-BOLT-1", &view);
        v["instances"][0]["end_status"] == "completed"
    });
    let (_, tasks) = a.get("/api/v1/tasks", &mgr);
    assert!(
        !tasks["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .any(|t| t["task"]["id"] == task),
        "decided through B, no longer open through A: {tasks}"
    );
    // The decision is in the audit trail once, as B made it.
    let (_, audit) = a.get("/api/v1/audit?order=TWO-BOLT-1", &view);
    let decisions: Vec<&Value> = audit["records"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter(|x| x["action"].as_str().is_some_and(|s| s.starts_with("task.")))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(decisions.len(), 1, "{audit}");

    // Nothing booked twice: one instance per order, seen through either process.
    for api in [&a, &b] {
        for id in ["TWO-CORA-1", "TWO-BOLT-1"] {
            let (code, v) = api.get(&format!("/api/v1/orders/{id}"), &view);
            assert_eq!(code, 200, "{v}");
            assert_eq!(
                v["instances"].as_array().map(Vec::len),
                Some(1),
                "{id}: {v}"
            );
        }
        let (code, _) = api.get("/api/v1/orders/TWO-CORA-2", &view);
        assert_eq!(code, 404);
    }
}
