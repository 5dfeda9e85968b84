//! The HTTP API tests' client side: a running `ordo run` with its API on a free port
//! ([`start`]), requests with a bearer token, the one error shape ([`code`]), a user per role,
//! and the orders and camt.053 statements the API tests post.

use crate::{Project, Running, wait_until};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

/// A running `ordo run` with its API on a free local port.
pub struct Server {
    pub base: String,
    pub http: Client,
    pub _run: Running,
}

pub fn free_port() -> u16 {
    crate::closed_port()
}

pub fn start(p: &Project) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let run = Running(p.spawn_run(&["--listen", &addr]));
    let base = format!("http://{addr}");
    let http = Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    wait_until(60, "the API answers /healthz", || {
        http.get(format!("{base}/healthz"))
            .send()
            .is_ok_and(|r| r.status() == 200)
    });
    Server {
        base,
        http,
        _run: run,
    }
}

impl Server {
    pub fn req(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::blocking::RequestBuilder {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut r = self.http.request(m, format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r
    }

    pub fn get(&self, path: &str, token: &str) -> (u16, Value) {
        parse(self.req("GET", path, Some(token)).send().expect("GET"))
    }

    pub fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        parse(
            self.req("POST", path, Some(token))
                .json(body)
                .send()
                .expect("POST"),
        )
    }
}

pub fn parse(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().unwrap_or_default();
    let v = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "text": text }));
    (status, v)
}

/// The error code of an error response, checking the one error shape on the way.
pub fn code(v: &Value) -> &str {
    let e = &v["error"];
    assert!(
        e["code"].is_string() && e["message"].is_string(),
        "error shape: {v}"
    );
    assert!(
        !e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("panicked"),
        "{v}"
    );
    e["code"].as_str().unwrap_or_default()
}

/// Users for every role the test needs; their tokens by name.
pub fn users(p: &Project) -> HashMap<&'static str, String> {
    let mut out = HashMap::new();
    for (name, role) in [
        ("admin", "admin"),
        ("mgr", "sales-manager"),
        ("sally", "sales"),
        ("fin", "finance"),
        ("view", "viewer"),
        ("integ", "integration"),
        ("edi", "edi-admin"),
    ] {
        let v = p.json(&["users", "add", name, "--role", role]);
        let token = v["token"].as_str().expect("token printed").to_string();
        assert!(token.starts_with("ordo_"), "{v}");
        out.insert(name, token);
    }
    // The token is shown once: the list never has it.
    let list = p.ok(&["--json", "users", "list"]);
    for t in out.values() {
        assert!(!list.contains(t.as_str()), "{list}");
    }
    out
}

pub fn setup(p: &Project) {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for f in ["config/banks/main-eur.yaml", "config/reconciliation.yaml"] {
        let text = std::fs::read_to_string(repo.join(f)).expect("repo config");
        p.write(f, &text);
    }
    p.ok(&["data", "import", "config/seed.json"]);
}

pub fn order(id: &str, customer: &str, sku: &str, qty: u32) -> Value {
    json!({ "id": id, "customer_id": customer, "po_number": id, "order_date": "2026-11-23",
            "currency": "EUR", "lines": [ { "line_no": 1, "sku": sku, "quantity": qty } ] })
}

/// Today's date (UTC), as the statement's booking date.
pub fn today() -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A camt.053 statement with one credit of `amount` naming `invoice`, from Bolt's account.
pub fn statement(id: &str, amount: &str, invoice: &str) -> String {
    let credit = (
        amount.to_string(),
        "Bolt Hardware Ltd".to_string(),
        "GB29NWBK60161331926819".to_string(),
        format!("Invoice {invoice}"),
    );
    crate::camt::camt053(id, &today(), &[credit], 0)
}

/// The state of an order's instance over the API: its end status, or its status.
pub fn state(s: &Server, token: &str, id: &str) -> String {
    let (code, v) = s.get(&format!("/api/v1/orders/{id}"), token);
    if code != 200 {
        return format!("HTTP {code}");
    }
    let i = &v["instances"][0];
    i["end_status"]
        .as_str()
        .or(i["status"].as_str())
        .unwrap_or_default()
        .to_string()
}
