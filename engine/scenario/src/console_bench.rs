//! `ordo bench console`: every page of the web console over a store of N orders (default
//! 100,000) with their order-to-cash instances and history, invoices (nine in ten paid, with
//! their payments), open approval tasks, failed instances, open reconciliation exceptions and
//! partner files (one order in three came by EDI; some files in quarantine).
//!
//! The store is built through the store API in transactions of [`BATCH`] orders from the
//! documents of the reports bench (`reports_bench::book_entry`), not by running N workflows:
//! the build time is printed. Then `ordo run`'s HTTP server (API and console on one listener)
//! is started on it, a console user signs in over HTTP like a browser (login page, CSRF field,
//! session cookie), and each page is requested [`ConsoleBench::rounds`] times. Each answer's
//! status is checked, and its server time read from the `Server-Timing` header the console
//! sets; the table shows server p50/p95 beside the round trip, and beside the same client's
//! round trip on the no-op route `GET /healthz` measured in the same run (the ceiling of the
//! HTTP stack). Targets: p95 ≤ 200 ms per page, ≤ 500 ms for the dashboard.

use crate::http::Client;
use crate::{demo, harness, reports_bench};
use ordo::config::{Config, HttpConfig};
use ordo::model::{HistoryEvent, Instance, Task};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

/// Orders per build transaction.
pub const BATCH: usize = 5_000;
/// The page targets of issue 14, in ms (p95 of the server time).
pub const PAGE_TARGET_MS: f64 = 200.0;
pub const DASHBOARD_TARGET_MS: f64 = 500.0;
/// The bench's console user and password.
const USER: &str = "bench-manager";
const PASSWORD: &str = "bench console password";

/// The bench's size.
pub struct ConsoleBench {
    pub orders: usize,
    /// Requests per page.
    pub rounds: usize,
    /// The embedded store's folder (recreated; the cluster backend gets its own schema).
    pub dir: PathBuf,
}

/// One page's figures, in ms.
#[derive(Debug, Clone)]
pub struct PageFigures {
    pub name: String,
    pub path: String,
    pub requests: usize,
    pub server_p50: f64,
    pub server_p95: f64,
    pub client_p50: f64,
    pub client_p95: f64,
    pub target: f64,
    /// Bytes of the last answer.
    pub bytes: usize,
}

#[derive(Debug, Clone)]
pub struct ConsoleFigures {
    pub backend: String,
    pub orders: usize,
    pub build_secs: f64,
    /// `GET /healthz`, same client, same run: round trip p50/p95 in ms.
    pub noop_p50: f64,
    pub noop_p95: f64,
    pub pages: Vec<PageFigures>,
    pub load_avg: Option<f64>,
}

/// What the built store holds that the pages link to.
struct Built {
    order: String,
    customer: String,
    task: i64,
    exception: String,
    quarantined_file: String,
}

fn e(e: ordo::store::StoreError) -> String {
    e.to_string()
}

/// Writes the partner profile the EDI records belong to (acme, folders inside `dir`).
fn partner_profile(cfg: &Config) -> Result<(), String> {
    std::fs::create_dir_all(&cfg.partners).map_err(|e| e.to_string())?;
    let text = include_str!("../../../config/partners/acme.yaml");
    let dir = cfg.data.join("partners/acme");
    let text = text.replace("data/partners/acme", &dir.display().to_string());
    std::fs::write(cfg.partners.join("acme.yaml"), text).map_err(|e| e.to_string())
}

/// An edi_file record as the partner channel writes it: processed (its order) or, for one in
/// a hundred, quarantined with a located problem.
fn edi_file(i: usize, order: &str, at: &str) -> (String, Value) {
    let id = format!("{:064x}", i);
    let ctl = i + 1;
    let content = format!(
        "ISA*00*          *00*          *ZZ*ACMEBUYER      *ZZ*ORDOSELLER     *261123*1200*U*00401*{ctl:09}*0*P*>~\nGS*PO*ACMEBUYER*ORDOSELLER*20261123*1200*{ctl}*X*004010~\nST*850*0001~\nBEG*00*SA*{order}**20261123~\nPO1*1*2*EA*12.50**VP*A-1~\nCTT*1~\nSE*5*0001~\nGE*1*{ctl}~\nIEA*1*{ctl:09}~\n"
    );
    let name = format!("po-{ctl:07}.x12");
    let quarantined = i.is_multiple_of(300);
    let outcome = if quarantined {
        json!({ "outcome": "rejected", "file_id": id,
                "error": format!("{name}:5:1: PO1: unknown item 'A-1'") })
    } else {
        json!({ "outcome": "processed", "file_id": id, "orders": [order], "problems": [],
                "remittances": [],
                "interchanges": [{ "control_number": format!("{ctl:09}"), "sender": "ZZ:ACMEBUYER",
                    "partner": "acme", "status": "A",
                    "groups": [{ "functional_id": "PO", "control_number": ctl.to_string(), "status": "A",
                                 "sets": [{ "set": "850", "control_number": "0001", "status": "A" }] }],
                    "ack": { "kind": "997", "control_number": ctl } }] })
    };
    let doc = json!({ "id": id, "name": name, "size": content.len(), "received_at": at,
        "outcome": outcome, "partner": "acme", "encoding": "utf-8", "content": content });
    (id, doc)
}

/// Builds the store: master data, then the orders in transactions of [`BATCH`].
async fn build(engine: &ordo::runtime::Engine, cfg: &Config, n: usize) -> Result<Built, String> {
    let custs: Vec<demo::Cust> = (0..1000)
        .map(|i| demo::Cust {
            id: format!("C{i:04}"),
            tight: false,
            blocked: false,
            partial: false,
            pays: demo::Pays::OnTime,
        })
        .collect();
    demo::import_master_data(engine, &demo::master_data(&custs, 1_000_000)).await?;
    partner_profile(cfg)?;
    let version = engine
        .defs()
        .latest
        .get("order-to-cash")
        .map(|w| w.version)
        .ok_or("no order-to-cash workflow installed")?;
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).ok_or("date")?;
    let base_ms = start
        .and_hms_opt(8, 0, 0)
        .ok_or("time")?
        .and_utc()
        .timestamp_millis();
    let mut built = Built {
        order: String::new(),
        customer: "C0042".into(),
        task: 0,
        exception: "EX-000001".into(),
        quarantined_file: format!("{:064x}", 0),
    };
    let mut done = 0;
    while done < n {
        let mut tx = engine.store.begin().await.map_err(e)?;
        for i in done..(done + BATCH).min(n) {
            let (id, order, inv, mut invoice) = reports_bench::book_entry(i, start);
            let created = base_ms + (i % 730) as i64 * 86_400_000 + (i / 730) as i64 * 1_000;
            let total = invoice["total"].clone();
            let (status, step, end) = if i % 200 == 7 {
                ("waiting", "review", None)
            } else if i % 500 == 11 {
                ("failed", "ship", None)
            } else {
                ("ended", "end", Some("completed".to_string()))
            };
            let mut data = json!({ "order": order, "pricing": { "total": total } });
            if status == "ended" {
                data["invoice"] = json!({ "number": inv });
                data["shipment"] = json!({ "id": format!("SHP-{i:08}"),
                    "packages": [{ "sscc": format!("00340123450{i:07}"), "tracking": format!("TRK{i:08}") }] });
            }
            if status == "waiting" {
                data["hold_reasons"] = json!(["order value over the approval limit"]);
            }
            let inst_id = format!("bench-{i:08}");
            let steps: &[(&str, &str)] = match status {
                "waiting" => &[("validate", "ok"), ("approve", "review")],
                "failed" => &[("validate", "ok"), ("approve", "auto"), ("allocate", "ok")],
                _ => &[
                    ("validate", "ok"),
                    ("approve", "auto"),
                    ("allocate", "ok"),
                    ("ship", "ok"),
                    ("invoice", "ok"),
                ],
            };
            let inst = Instance {
                id: inst_id.clone(),
                workflow: "order-to-cash".into(),
                version,
                business_key: id.clone(),
                status: status.into(),
                step: step.into(),
                token: steps.len() as i64,
                history_seq: steps.len() as i64 + 1,
                attempt: 0,
                data,
                error: (status == "failed").then(|| "ship: carrier timed out".to_string()),
                end_status: end,
                created_at: created,
                updated_at: created + 3_600_000,
            };
            tx.insert_instance(&inst).await.map_err(e)?;
            let mut at = created;
            tx.append_history(
                &inst_id,
                HistoryEvent {
                    seq: 1,
                    at,
                    kind: "started".into(),
                    step: "validate".into(),
                    attempt: 0,
                    outcome: None,
                    detail: Value::Null,
                },
            );
            for (k, (s, o)) in steps.iter().enumerate() {
                at += 600_000 + (i % 7) as i64 * 60_000;
                tx.append_history(
                    &inst_id,
                    HistoryEvent {
                        seq: k as i64 + 2,
                        at,
                        kind: "step.completed".into(),
                        step: s.to_string(),
                        attempt: 0,
                        outcome: Some(o.to_string()),
                        detail: Value::Null,
                    },
                );
            }
            if status == "waiting" {
                let t = tx
                    .insert_task(&Task {
                        id: 0,
                        instance_id: inst_id.clone(),
                        step: "review".into(),
                        token: inst.token,
                        role: "sales-manager".into(),
                        status: "open".into(),
                        outcome: None,
                        note: None,
                        created_at: at,
                        due_at: Some(at + 86_400_000),
                        decided_at: None,
                    })
                    .await
                    .map_err(e)?;
                if built.task == 0 {
                    built.task = t;
                }
            }
            // The order before its invoice, as intake does: the sales aggregates read the
            // invoice's order when they count it.
            tx.put_document("order", &id, &order, created)
                .await
                .map_err(e)?;
            if status == "ended" {
                if i % 10 != 9 {
                    let paid = invoice["total"].as_str().unwrap_or("0").to_string();
                    invoice["status"] = json!("paid");
                    invoice["open_amount"] = json!("0");
                    invoice["paid_amount"] = json!(paid);
                    invoice["payments"] = json!([{ "id": format!("PAY-{i:08}"), "amount": paid,
                        "received_on": invoice["due_date"], "applied": paid, "discount": "0",
                        "written_off": "0", "credit": "0", "reference": format!("INV-{i:08}") }]);
                }
                tx.put_document("invoice", &inv, &invoice, created)
                    .await
                    .map_err(e)?;
            }
            if i.is_multiple_of(3) {
                let received = chrono::DateTime::from_timestamp_millis(created)
                    .ok_or("time")?
                    .to_rfc3339();
                let (fid, file) = edi_file(i, &id, &received);
                tx.put_document(ordo::channels::edi::FILE_DOC, &fid, &file, created)
                    .await
                    .map_err(e)?;
                let sent = json!({ "control_number": i + 1, "document": "855", "order_id": id,
                    "sent_at": received, "ack": { "kind": "997", "status": "A", "codes": [] } });
                tx.put_document("edi_sent", &format!("acme:{:09}", i + 1), &sent, created)
                    .await
                    .map_err(e)?;
            }
            if i == 42 {
                built.order = id.clone();
            }
        }
        tx.commit().await.map_err(e)?;
        done = (done + BATCH).min(n);
    }
    // Open reconciliation exceptions: one per 500 orders, each with scored candidates.
    let mut tx = engine.store.begin().await.map_err(e)?;
    for k in 1..=(n / 500).max(1) {
        let i = k * 500 + 3;
        let ex = json!({ "id": format!("EX-{k:06}"), "status": "open", "direction": "credit",
            "statement": format!("fp-{:04}", k / 50), "account": "demo-eur",
            "statement_id": format!("STMT-{:04}", k / 50), "queued_at": "2026-11-20T18:00:00+00:00",
            "amount": Decimal::new(1234 + k as i64, 2), "currency": "EUR",
            "entry": format!("demo-eur:STMT-{:04}/{k}", k / 50), "booking_date": "2026-11-20",
            "remittance": format!("payment ref {k} unclear"), "counterparty_account": "DE89370400440532013000",
            "customer_id": format!("C{:04}", i % 1000), "reason": "no invoice matches the amount",
            "candidates": [{ "invoice": format!("INV-{i:08}"), "customer_id": format!("C{:04}", i % 1000),
                             "amount_open": "24.68", "score": 0.62 }] });
        tx.put_document("bank_exception", &format!("EX-{k:06}"), &ex, base_ms)
            .await
            .map_err(e)?;
    }
    tx.commit().await.map_err(e)?;
    if built.order.is_empty() {
        return Err("the bench needs at least 43 orders".into());
    }
    Ok(built)
}

/// A signed-in console session over one keep-alive connection.
struct Browser {
    client: Client,
    cookie: String,
}

fn header<'a>(head: &'a str, name: &str) -> Vec<&'a str> {
    head.split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .collect()
}

/// A form value `application/x-www-form-urlencoded`: letters, digits and `-_.~` as they are,
/// space as `+`, every other byte `%XX`.
fn form_encoded(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn cookie_of(head: &str, name: &str) -> Option<String> {
    header(head, "set-cookie").into_iter().find_map(|c| {
        let pair = c.split(';').next()?;
        let (n, v) = pair.split_once('=')?;
        (n == name).then(|| format!("{n}={v}"))
    })
}

impl Browser {
    /// Signs in as a person does: the login page (its CSRF field and pre-session cookie),
    /// then the form posted with them; the session cookie it answers with.
    async fn sign_in(addr: SocketAddr) -> Result<Browser, String> {
        let mut client = Client::connect(addr, "").await?;
        let (status, head, body) = client.exchange("GET", "/login", "", b"").await?;
        if status != 200 {
            return Err(format!("GET /login: {status}"));
        }
        let login = cookie_of(&head, "ordo_login").ok_or("GET /login set no ordo_login cookie")?;
        let page = String::from_utf8_lossy(&body);
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .ok_or("the login page has no CSRF field")?
            .to_string();
        let form = [
            ("csrf", csrf.as_str()),
            ("username", USER),
            ("password", PASSWORD),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encoded(v)))
        .collect::<Vec<_>>()
        .join("&");
        let (status, head, _) = client
            .exchange(
                "POST",
                "/login",
                &format!("Cookie: {login}\r\nContent-Type: application/x-www-form-urlencoded\r\n"),
                form.as_bytes(),
            )
            .await?;
        let cookie = cookie_of(&head, ordo::console::SESSION_COOKIE)
            .ok_or_else(|| format!("POST /login: {status} without a session cookie"))?;
        Ok(Browser { client, cookie })
    }

    /// One page: round trip and server time in ms, and its size; `Err` unless 200.
    async fn get(&mut self, path: &str) -> Result<(f64, f64, usize), String> {
        let t = Instant::now();
        let (status, head, body) = self
            .client
            .exchange("GET", path, &format!("Cookie: {}\r\n", self.cookie), b"")
            .await?;
        let round = t.elapsed().as_secs_f64() * 1e3;
        if status != 200 {
            // an error page says why in its alert
            let page = String::from_utf8_lossy(&body);
            let why = page
                .split("role=\"alert\">")
                .nth(1)
                .and_then(|r| r.split('<').next())
                .unwrap_or(&page);
            return Err(format!(
                "GET {path}: status {status}: {}",
                ordo_contract::excerpt(why, 300)
            ));
        }
        let server = header(&head, "server-timing")
            .first()
            .and_then(|v| v.split("dur=").nth(1))
            .and_then(|d| d.trim().parse::<f64>().ok());
        let server = match (path, server) {
            ("/healthz", _) => round,
            (_, Some(s)) => s,
            (_, None) => return Err(format!("GET {path}: no Server-Timing header")),
        };
        Ok((round, server, body.len()))
    }
}

fn pct(sorted: &[f64], p: usize) -> f64 {
    sorted
        .get((sorted.len() * p / 100).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0.0)
}

/// Runs the bench on the backend of `cfg` (the cluster one in its own schema and prefix,
/// dropped afterwards).
pub async fn run(cfg: &Config, args: &ConsoleBench) -> Result<ConsoleFigures, String> {
    let cfg = harness::own_backend(cfg);
    let result = run_on(&cfg, args).await;
    harness::drop_backend(&cfg).await;
    result
}

async fn run_on(cfg: &Config, args: &ConsoleBench) -> Result<ConsoleFigures, String> {
    let (engine, cfg) = harness::fresh_engine(cfg, &args.dir).await?;
    let backend = harness::backend_line(&cfg);
    let t = Instant::now();
    let built = build(&engine, &cfg, args.orders).await?;
    let build_secs = t.elapsed().as_secs_f64();
    // The console user, added and given a password as `ordo users add` / `passwd` do.
    let now = engine.clock.now_ms();
    let admin = ordo::api::auth::Actor {
        id: "system:bench".into(),
        via: "cli",
        roles: vec!["admin".into()],
    };
    let refused = |e: ordo::api::users::Refused| match e {
        ordo::api::users::Refused::Invalid(m) => m,
        ordo::api::users::Refused::Store(e) => e.to_string(),
    };
    let hash = ordo::api::auth::hash_password(PASSWORD)?;
    let mut tx = engine.store.begin().await.map_err(e)?;
    for change in [
        ordo::api::users::UserChange::Add {
            roles: "sales-manager,finance,viewer",
        },
        ordo::api::users::UserChange::Password { hash: &hash },
    ] {
        ordo::api::users::change_user(tx.as_mut(), &admin, USER, change, now)
            .await
            .map_err(refused)?;
    }
    tx.commit().await.map_err(e)?;

    let listener = ordo::api::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let http = HttpConfig {
        listen: addr.to_string(),
        ..HttpConfig::default()
    };
    let api = ordo::api::Api::new(engine.clone(), http);
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(ordo::api::serve(api, listener, stop_rx));
    let pages: Vec<(&str, String, f64)> = vec![
        ("inbox", "/inbox".into(), PAGE_TARGET_MS),
        ("orders", "/orders".into(), PAGE_TARGET_MS),
        (
            "orders by customer",
            format!("/orders?customer={}", built.customer),
            PAGE_TARGET_MS,
        ),
        (
            "orders by amount",
            "/orders?min=60&max=61".into(),
            PAGE_TARGET_MS,
        ),
        (
            "orders failed",
            "/orders?status=failed".into(),
            PAGE_TARGET_MS,
        ),
        ("order", format!("/orders/{}", built.order), PAGE_TARGET_MS),
        ("task", format!("/tasks/{}", built.task), PAGE_TARGET_MS),
        ("customers", "/customers".into(), PAGE_TARGET_MS),
        (
            "customers, page 10",
            "/customers?page=10".into(),
            PAGE_TARGET_MS,
        ),
        (
            "customer",
            format!("/customers/{}", built.customer),
            PAGE_TARGET_MS,
        ),
        ("finance", "/finance".into(), PAGE_TARGET_MS),
        (
            "exception",
            format!("/finance/exceptions/{}", built.exception),
            PAGE_TARGET_MS,
        ),
        ("partners", "/partners".into(), PAGE_TARGET_MS),
        ("partner", "/partners/acme".into(), PAGE_TARGET_MS),
        (
            "partner file",
            format!("/partners/acme/files/{}", built.quarantined_file),
            PAGE_TARGET_MS,
        ),
        ("workflows", "/workflows".into(), PAGE_TARGET_MS),
        ("dashboard", "/dashboard".into(), DASHBOARD_TARGET_MS),
    ];
    let measured = async {
        let mut b = Browser::sign_in(addr).await?;
        let mut noop = Vec::new();
        for _ in 0..args.rounds.max(1) * 5 {
            noop.push(b.get("/healthz").await?.0);
        }
        let mut out = Vec::new();
        for (name, path, target) in &pages {
            // one warm-up request (caches, prepared statements), not counted
            b.get(path).await?;
            let (mut round, mut server) = (Vec::new(), Vec::new());
            let mut bytes = 0;
            for _ in 0..args.rounds.max(1) {
                let (r, s, n) = b.get(path).await?;
                round.push(r);
                server.push(s);
                bytes = n;
            }
            round.sort_by(f64::total_cmp);
            server.sort_by(f64::total_cmp);
            out.push(PageFigures {
                name: name.to_string(),
                path: path.clone(),
                requests: server.len(),
                server_p50: pct(&server, 50),
                server_p95: pct(&server, 95),
                client_p50: pct(&round, 50),
                client_p95: pct(&round, 95),
                target: *target,
                bytes,
            });
        }
        noop.sort_by(f64::total_cmp);
        Ok::<_, String>((noop, out))
    }
    .await;
    let load_avg = harness::load_avg();
    let _ = stop.send(true);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
    engine.store.close().await;
    let (noop, pages) = measured?;
    Ok(ConsoleFigures {
        backend,
        orders: args.orders,
        build_secs,
        noop_p50: pct(&noop, 50),
        noop_p95: pct(&noop, 95),
        pages,
        load_avg,
    })
}
