//! The rest of the service surface, through the `ordo` binary and real TCP: the business
//! webhook events (`order.held`, `order.approved`, `order.rejected`, `shipment.created`,
//! `recon.exception`, `edi.rejected`) delivered signed to a local receiver; `ordo recon
//! reject` under the OS user's roles with its audit record; `/metrics` parsed line by line
//! with its step counters moving; the rate limit (429 + Retry-After) and the connection
//! limit; AMQP intake losing RabbitMQ mid-run (a TCP proxy that is cut) with nothing lost or
//! doubled; and the README's newcomer walkthrough run exactly as printed.

use ordo_tests::api::{Server, code, free_port, order, parse, setup, start, statement, users};
use ordo_tests::webhook_receiver::{SECRET, bind, receiver};
use ordo_tests::{Project, Proxy, Running, both, wait_until};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

// -- webhook events -----------------------------------------------------------------------------

/// The events this test subscribes to (every one the engine emits besides `order.accepted`,
/// `invoice.*` and `instance.failed`, which `api_webhooks.rs` covers).
const NEW_EVENTS: &str =
    "order.held order.approved order.rejected shipment.created recon.exception edi.rejected";

both!(business_events_reach_subscribers, |p: &Project| {
    setup(p);
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let acme = std::fs::read_to_string(repo.join("config/partners/acme.yaml")).unwrap();
    p.write("config/partners/acme.yaml", &acme);
    let (l, url) = bind(0);
    let seen = receiver(l, vec![200]);
    let cfg = std::fs::read_to_string(p.path("config/ordo.yaml")).unwrap();
    p.write(
        "config/ordo.yaml",
        &format!(
            "{cfg}webhooks:\n  - {{ name: erp, url: \"{url}\", events: [{}], secret: {SECRET}, timeout_ms: 2000, retry_ms: [100, 100] }}\n",
            NEW_EVENTS.replace(' ', ", ")
        ),
    );
    p.ok(&["check"]);
    // A partner file with no interchange in it: quarantined, told as edi.rejected.
    p.write("data/partners/acme/in/junk.edi", "this is not EDI\n");
    // One order that ships; two over Bolt's available credit, held for a sales manager.
    let orders = json!([
        order("EV-CORA-1", "C-CORA", "BOLT-M8", 3),
        order("EV-BOLT-1", "C-BOLT", "WID-100", 60),
        order("EV-BOLT-2", "C-BOLT", "WID-100", 61)
    ]);
    p.write("orders.json", &orders.to_string());
    p.ok(&["submit", "orders.json"]);
    // A payment nobody can place: a reconciliation exception.
    p.write("stmt.xml", &statement("EV-STMT-1", "1.23", "INV-999999"));
    p.ok(&["recon", "import", "stmt.xml", "--account", "main-eur"]);
    p.ok(&["recon", "run"]);
    p.run_idle();

    let t1 = p.task_for("EV-BOLT-1");
    let t2 = p.task_for("EV-BOLT-2");
    p.ok(&["approve", &t1.to_string()]);
    p.ok(&["reject", &t2.to_string(), "--reason", "no credit"]);

    // `ordo recon reject` acts as the OS user: a sales user is refused and nothing is
    // recorded; a finance user's decision commits with its audit record (os:NAME via cli).
    let ex = p.json(&["recon", "exceptions"]);
    let ex_id = ex[0]["id"].as_str().expect("an open exception").to_string();
    p.ok(&["users", "add", "sam", "--role", "sales"]);
    p.ok(&["users", "add", "fran", "--role", "finance"]);
    let refused = p
        .cmd(&["recon", "reject", &ex_id, "--reason", "refund"])
        .env("USER", "sam")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("finance"),
        "{refused:?}"
    );
    let done = p
        .cmd(&["recon", "reject", &ex_id, "--reason", "supplier refund"])
        .env("USER", "fran")
        .output()
        .unwrap();
    assert!(done.status.success(), "{done:?}");
    let audit = p.json(&["audit", "--who", "os:fran"]);
    let rec = audit
        .as_array()
        .and_then(|a| a.iter().find(|r| r["action"] == "recon.exception.rejected"))
        .unwrap_or_else(|| panic!("recon decision audited: {audit}"));
    assert_eq!(rec["via"], "cli", "{rec}");
    assert_eq!(rec["subject"], format!("bank_exception/{ex_id}"), "{rec}");
    assert_eq!(rec["before"]["status"], "open", "{rec}");
    assert_eq!(rec["after"]["status"], "rejected", "{rec}");
    let all = p.json(&["audit"]);
    let by_sam = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["actor"] == "os:sam" && r["action"] != "user.added")
        .count();
    assert_eq!(by_sam, 0, "a refused decision records nothing: {all}");
    p.run_idle();

    let seen = seen.lock().expect("log").clone();
    let mut by_type: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut ids = HashSet::new();
    for (id, valid, body) in &seen {
        assert!(valid, "bad signature on {id}: {body}");
        assert_eq!(body["id"].as_str(), Some(id.as_str()), "Ordo-Event-Id");
        assert!(ids.insert(id.clone()), "each event delivered once: {id}");
        let t = body["type"].as_str().unwrap_or_default().to_string();
        assert!(
            NEW_EVENTS.split(' ').any(|e| e == t),
            "only subscribed events: {t}"
        );
        by_type.entry(t).or_default().push(body.clone());
    }
    for e in NEW_EVENTS.split(' ') {
        assert!(by_type.contains_key(e), "{e} delivered: {by_type:?}");
    }
    let orders_of = |t: &str| -> Vec<String> {
        let mut v: Vec<String> = by_type[t]
            .iter()
            .map(|b| b["data"]["order"].as_str().unwrap_or_default().to_string())
            .collect();
        v.sort();
        v
    };
    // EV-BOLT-2 twice: rejected by the manager, it goes back to the sales rep (task
    // `amend_rejected` of order-to-cash v3), which opens a task again.
    assert_eq!(
        orders_of("order.held"),
        ["EV-BOLT-1", "EV-BOLT-2", "EV-BOLT-2"]
    );
    assert!(
        by_type["order.held"]
            .iter()
            .any(|b| b["data"]["role"] == "sales" && b["data"]["order"] == "EV-BOLT-2"),
        "{by_type:?}"
    );
    assert_eq!(orders_of("order.approved"), ["EV-BOLT-1"]);
    assert_eq!(orders_of("order.rejected"), ["EV-BOLT-2"]);
    assert_eq!(by_type["order.rejected"][0]["data"]["note"], "no credit");
    assert_eq!(by_type["order.held"][0]["data"]["role"], "sales-manager");
    let ship = by_type["shipment.created"]
        .iter()
        .find(|b| b["data"]["order_id"] == "EV-CORA-1")
        .unwrap_or_else(|| panic!("EV-CORA-1 shipped: {by_type:?}"));
    assert!(
        ship["key"].as_str().unwrap_or_default().starts_with("SH-"),
        "{ship}"
    );
    let exc = &by_type["recon.exception"];
    assert_eq!(exc.len(), 1, "{exc:?}");
    assert_eq!(exc[0]["key"], ex_id.as_str());
    assert_eq!(exc[0]["data"]["status"], "open");
    let edi = &by_type["edi.rejected"];
    assert_eq!(edi.len(), 1, "{edi:?}");
    assert_eq!(edi[0]["data"]["name"], "junk.edi");
    assert!(
        edi[0]["data"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("rejected"),
        "{edi:?}"
    );
});

// -- metrics ----------------------------------------------------------------------------------

/// Parses the Prometheus text format strictly: every line is a `# HELP`, a `# TYPE` or a
/// sample of a family typed before it, with well-formed labels and a number. Returns each
/// sample (name and labels as printed) with its value.
fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut out = BTreeMap::new();
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or_default();
            assert!(name_ok(name), "HELP name: {line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (name, t) = (it.next().unwrap_or_default(), it.next().unwrap_or_default());
            assert!(name_ok(name), "TYPE name: {line}");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&t),
                "TYPE: {line}"
            );
            assert!(it.next().is_none(), "{line}");
            types.insert(name.to_string(), t.to_string());
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "line: {line:?}");
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        let v: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value: {line}")),
        };
        let name = series.split('{').next().unwrap_or_default();
        assert!(name_ok(name), "sample name: {line}");
        if let Some(labels) = series.strip_prefix(name).filter(|l| !l.is_empty()) {
            let inner = labels
                .strip_prefix('{')
                .and_then(|l| l.strip_suffix('}'))
                .unwrap_or_else(|| panic!("labels: {line}"));
            let mut rest = inner;
            while !rest.is_empty() {
                let (k, r) = rest
                    .split_once("=\"")
                    .unwrap_or_else(|| panic!("label: {line}"));
                assert!(name_ok(k), "label name: {line}");
                // the value runs to the first quote that is not escaped
                let mut end = None;
                let mut escaped = false;
                for (i, c) in r.char_indices() {
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => {
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let end = end.unwrap_or_else(|| panic!("label value: {line}"));
                rest = r[end + 1..].strip_prefix(',').unwrap_or(&r[end + 1..]);
            }
        }
        let family = ["_bucket", "_sum", "_count", "_total"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| types.contains_key(*f)))
            .unwrap_or(name);
        assert!(
            types.contains_key(family) || types.contains_key(name),
            "sample before its TYPE: {line}"
        );
        out.insert(series.to_string(), v);
    }
    out
}

fn scrape(s: &Server) -> BTreeMap<String, f64> {
    let r = s.req("GET", "/metrics", None).send().expect("GET /metrics");
    assert_eq!(r.status(), 200);
    parse_metrics(&r.text().unwrap_or_default())
}

both!(metrics_parse_and_move, |p: &Project| {
    setup(p);
    let t = users(p);
    // An order file that cannot be read: the inbox quarantines it.
    p.write("data/inbox/broken.json", "{ not json");
    let s = start(p);
    wait_until(30, "the broken file is quarantined", || {
        p.path("data/inbox/quarantine/broken.json").exists()
    });
    let before = scrape(&s);
    for name in [
        "ordo_instances_failed",
        "ordo_queue_depth",
        "ordo_tasks_open",
        "ordo_outbound_backlog",
        "ordo_recon_exceptions_open",
        "ordo_quarantined_files{channel=\"orders\"}",
        "ordo_quarantined_files{channel=\"edi\"}",
        "ordo_quarantined_files{channel=\"bank\"}",
        "ordo_steps_total{outcome=\"ok\"}",
        "ordo_steps_total{outcome=\"retried\"}",
        "ordo_steps_total{outcome=\"failed\"}",
        "ordo_step_latency_seconds_bucket{le=\"+Inf\"}",
        "ordo_step_latency_seconds_sum",
        "ordo_step_latency_seconds_count",
    ] {
        assert!(before.contains_key(name), "{name} in {before:?}");
    }
    assert_eq!(before["ordo_quarantined_files{channel=\"orders\"}"], 1.0);
    let ok_before = before["ordo_steps_total{outcome=\"ok\"}"];

    let body = json!([
        order("MX-CORA-1", "C-CORA", "BOLT-M8", 2),
        order("MX-BOLT-1", "C-BOLT", "WID-100", 60)
    ]);
    let (status, v) = s.post("/api/v1/orders", &t["integ"], &body);
    assert_eq!(status, 201, "{v}");
    wait_until(60, "one order completes, one waits for a manager", || {
        let m = scrape(&s);
        m.get("ordo_tasks_open").copied() == Some(1.0)
            && m.keys().any(|k| k.contains("end_status=\"completed\""))
    });
    let after = scrape(&s);
    let ok = after["ordo_steps_total{outcome=\"ok\"}"];
    assert!(ok > ok_before, "steps counted: {ok_before} → {ok}");
    let steps: f64 = ["ok", "retried", "failed"]
        .iter()
        .map(|o| after[&format!("ordo_steps_total{{outcome=\"{o}\"}}")])
        .sum();
    assert_eq!(
        after["ordo_step_latency_seconds_count"], steps,
        "every counted step has its latency"
    );
    // cumulative buckets, ending in the count
    let buckets: Vec<f64> = after
        .iter()
        .filter(|(k, _)| k.starts_with("ordo_step_latency_seconds_bucket"))
        .map(|(_, v)| *v)
        .collect();
    assert!(buckets.len() >= 10, "{buckets:?}");
    assert!(
        after["ordo_step_latency_seconds_bucket{le=\"+Inf\"}"] == steps
            && buckets.iter().all(|b| *b <= steps),
        "{buckets:?}"
    );
    assert!(after["ordo_step_latency_seconds_sum"] > 0.0);
    assert_eq!(after["ordo_tasks_open"], 1.0);
    let posted =
        "ordo_http_requests_total{method=\"POST\",route=\"/api/v1/orders\",status=\"201\"}";
    assert_eq!(after[posted], 1.0, "{after:?}");
});

// -- rate and connection limits ------------------------------------------------------------------

/// One HTTP/1.1 exchange on a kept-alive connection: the status line and the body.
fn exchange(c: &mut TcpStream, path: &str) -> std::io::Result<(String, String)> {
    write!(c, "GET {path} HTTP/1.1\r\nHost: ordo\r\n\r\n")?;
    let mut r = BufReader::new(c.try_clone()?);
    let mut status = String::new();
    r.read_line(&mut status)?;
    if status.is_empty() {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let mut len = 0;
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok((
        status.trim().to_string(),
        String::from_utf8_lossy(&body).into_owned(),
    ))
}

#[test]
fn rate_and_connection_limits() {
    let p = Project::embedded("limits");
    setup(&p);
    let t = users(&p);
    let cfg = std::fs::read_to_string(p.path("config/ordo.yaml")).unwrap();
    p.write(
        "config/ordo.yaml",
        &format!(
            "{cfg}http: {{ max_connections: 2, rate_limit: {{ per_second: 1, burst: 3 }} }}\n"
        ),
    );
    let bad = Project::embedded("limits-check");
    let bcfg = std::fs::read_to_string(bad.path("config/ordo.yaml")).unwrap();
    bad.write(
        "config/ordo.yaml",
        &format!("{bcfg}http: {{ rate_limit: {{ per_second: 0, burst: 3 }} }}\n"),
    );
    let out = bad.ordo(&["check"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("http.rate_limit"),
        "{out:?}"
    );

    let addr = format!("127.0.0.1:{}", free_port());
    let run = Running(p.spawn_run(&["--listen", &addr]));
    wait_until(60, "the API answers", || {
        TcpStream::connect(&addr)
            .and_then(|mut c| exchange(&mut c, "/healthz"))
            .is_ok_and(|(s, _)| s.contains(" 200 "))
    });

    // Connections: two are admitted; a third waits in the accept queue (connected, not
    // answered) without hurting the two; when one closes, the third is served.
    let mut c1 = TcpStream::connect(&addr).unwrap();
    let mut c2 = TcpStream::connect(&addr).unwrap();
    assert!(exchange(&mut c1, "/healthz").unwrap().0.contains(" 200 "));
    assert!(exchange(&mut c2, "/healthz").unwrap().0.contains(" 200 "));
    let mut c3 = TcpStream::connect(&addr).expect("queued, not refused");
    c3.set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    let waited = exchange(&mut c3, "/healthz");
    assert!(
        waited.is_err(),
        "over the limit: not answered yet: {waited:?}"
    );
    assert!(exchange(&mut c1, "/readyz").unwrap().0.contains(" 200 "));
    assert!(exchange(&mut c2, "/healthz").unwrap().0.contains(" 200 "));
    drop(c1);
    c3.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut r = BufReader::new(c3.try_clone().unwrap());
    let mut status = String::new();
    r.read_line(&mut status).unwrap();
    assert!(
        status.contains(" 200 "),
        "served once a slot freed: {status}"
    );
    drop((c2, c3, r));

    // Rate: per token, then per client IP for requests without a usable token; health
    // probes are not limited.
    let http = reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let s = Server {
        base: format!("http://{addr}"),
        http,
        _run: run,
    };
    let view = &t["view"];
    let started = Instant::now();
    for _ in 0..3 {
        assert_eq!(s.get("/api/v1/tasks", view).0, 200);
    }
    let r = s.req("GET", "/api/v1/tasks", Some(view)).send().unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    let (_, v) = parse(r);
    assert_eq!(code(&v), "rate_limited");
    if started.elapsed() < Duration::from_millis(900) {
        // another token has its own bucket
        assert_eq!(s.get("/api/v1/tasks", &t["fin"]).0, 200);
    }
    for _ in 0..3 {
        let (st, v) = parse(s.req("GET", "/api/v1/tasks", None).send().unwrap());
        assert_eq!((st, code(&v)), (401, "unauthenticated"));
    }
    let (st, v) = parse(s.req("GET", "/api/v1/tasks", None).send().unwrap());
    assert_eq!((st, code(&v)), (429, "rate_limited"), "{v}");
    for _ in 0..10 {
        let r = s.req("GET", "/healthz", None).send().unwrap();
        assert_eq!(r.status(), 200);
    }
    std::thread::sleep(Duration::from_secs(retry));
    assert_eq!(s.get("/api/v1/tasks", view).0, 200, "after Retry-After");
    // The OpenAPI document declares the 429 on every API route, with its header.
    let (_, doc) = parse(s.req("GET", "/api/openapi.json", None).send().unwrap());
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            let declared = &op["responses"]["429"];
            if path.starts_with("/api/v1") {
                assert!(
                    declared["headers"]["Retry-After"].is_object(),
                    "{method} {path}: {op}"
                );
            } else {
                assert!(declared.is_null(), "{method} {path} is not limited");
            }
        }
    }
}

// -- AMQP intake losing its broker -----------------------------------------------------------

both!(fixture amqp_intake_survives_a_lost_broker, |p: &Project| {
    if !ordo_tests::cluster_available("amqp_lost") {
        return; // RabbitMQ is needed on the embedded backend too
    }
    let proxy = Proxy::start("127.0.0.1:5672");
    let url = format!("amqp://guest:guest@127.0.0.1:{}/%2f", proxy.port);
    let queue = ordo_tests::amqp_intake(p, &url, "lost");
    let orders: Vec<Value> =
        serde_json::from_str(&ordo_tests::orders_json(60, "LOST")).unwrap();
    let msgs: Vec<(String, String)> = orders
        .iter()
        .enumerate()
        .map(|(i, o)| (format!("lost-{i}"), o.to_string()))
        .collect();
    let batch = |r: std::ops::Range<usize>| -> Vec<(&str, String)> {
        msgs[r].iter().map(|(i, b)| (i.as_str(), b.clone())).collect()
    };
    ordo_tests::amqp_publish(&queue, &batch(0..40));
    let run = Running(p.spawn_run(&["--listen", "off"]));
    let booked = || {
        p.json(&["summary"])["documents"]["order"]
            .as_i64()
            .unwrap_or(0)
    };
    wait_until(90, "the intake books through the proxy", || booked() > 0);
    proxy.cut();
    // Published while the intake is cut off: not booked until it is back.
    ordo_tests::amqp_publish(&queue, &batch(40..60));
    std::thread::sleep(Duration::from_secs(3));
    let while_cut = booked();
    assert!(while_cut <= 40, "booked {while_cut} while disconnected");
    let connections = proxy.accepted();
    proxy.restore();
    // Generous: the file's tests run in parallel on CI's 2 cores; alone this takes seconds.
    wait_until(240, "every order booked after the reconnect", || {
        booked() >= 60
    });
    assert!(proxy.accepted() > connections, "the intake reconnected");
    wait_until(120, "every order confirmed", || p.count_of("confirmed") >= 60);
    drop(run);
    // the confirmations' outbound files, written after the commits
    p.run_idle();
    ordo_tests::assert_confirmed_once(p, 60);
    assert!(
        p.run_logs().contains("reconnecting"),
        "the loss was seen and logged"
    );
    ordo_tests::amqp_delete(&[&queue, &format!("{queue}.dead")]);
});

// -- the README walkthrough --------------------------------------------------------------------

/// The shell block of README.md between `<!-- walkthrough -->` and `<!-- /walkthrough -->`.
fn walkthrough() -> String {
    let readme = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"),
    )
    .expect("README.md");
    let start = readme
        .find("<!-- walkthrough -->")
        .expect("walkthrough start");
    let rest = &readme[start..];
    let end = rest.find("<!-- /walkthrough -->").expect("walkthrough end");
    let block = &rest[..end];
    let code = block.split("```sh\n").nth(1).expect("a sh block");
    code.split("```").next().unwrap_or_default().to_string()
}

both!(readme_walkthrough_runs_as_printed, |p: &Project| {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sample = std::fs::read_to_string(repo.join("config/samples/order-review.json")).unwrap();
    p.write("config/samples/order-review.json", &sample);
    let script = walkthrough();
    let addr = format!("127.0.0.1:{}", free_port());
    // The README's port, moved to a free one (tests run in parallel on one machine).
    let script = script.replace("127.0.0.1:8080", &addr);
    assert!(script.contains("ordo run"), "{script}");
    let bin = ordo_tests::ordo_bin();
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("bash")
        .args(["-e", "-c", &script])
        .current_dir(&p.dir)
        .env("PATH", path)
        .env("USER", "walker")
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .output()
        .expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    // bob was refused, alice's approval went through, the order completed
    assert!(stdout.contains("\"code\":\"forbidden\""), "{stdout}");
    assert!(stdout.contains("\"outcome\":\"approved\""), "{stdout}");
    assert!(stdout.contains("\"end_status\":\"completed\""), "{stdout}");
    // both are in the audit trail, with who and through what
    assert!(stdout.contains("order.submitted"), "{stdout}");
    assert!(stdout.contains("user:shop"), "{stdout}");
    assert!(stdout.contains("task.approved"), "{stdout}");
    assert!(stdout.contains("user:alice"), "{stdout}");
    assert!(
        !stdout.contains("user:bob"),
        "a refusal changes nothing: {stdout}"
    );
});

// -- reprocessing a quarantined partner file ----------------------------------------------------

fn pad(s: &str, n: usize) -> String {
    format!("{s:<n$}")
}

/// An X12 850 from ACMEBUYER for one widget order `po`.
fn acme_850(ctl: u32, po: &str) -> String {
    format!(
        "ISA*00*{e}*00*{e}*ZZ*{}*ZZ*{}*261123*1200*U*00401*{ctl:09}*0*P*>~\n\
         GS*PO*ACMEBUYER*ORDOSELLER*20261123*1200*{ctl}*X*004010~\n\
         ST*850*0001~\nBEG*00*SA*{po}**20261123~\nN1*ST*ACME RETAIL DC*92*DC01~\n\
         PO1*1*2*EA*12.50**VP*WID-100~\nCTT*1~\nSE*6*0001~\nGE*1*{ctl}~\nIEA*1*{ctl:09}~\n",
        pad("ACMEBUYER", 15),
        pad("ORDOSELLER", 15),
        e = pad("", 10)
    )
}

// A file from a sender whose profile had the wrong `their_id` is quarantined; once the
// profile is fixed, an edi-admin reprocesses it through the API (idempotent, audited) and the
// order is taken; the same file cannot be reprocessed twice, and other roles are refused.
both!(
    a_quarantined_file_is_reprocessed_after_the_profile_fix,
    |p: &Project| {
        setup(p);
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let acme = std::fs::read_to_string(repo.join("config/partners/acme.yaml")).unwrap();
        let broken = acme.replace("id: ACMEBUYER", "id: ACMEBUYR");
        assert_ne!(broken, acme);
        p.write("config/partners/acme.yaml", &broken);
        let t = users(p);
        let s = start(p);
        let send = s
            .req(
                "POST",
                "/api/v1/partners/acme/files?name=po-rp1.edi",
                Some(&t["edi"]),
            )
            .body(acme_850(41, "RP-1"))
            .send()
            .unwrap();
        let (st, first) = parse(send);
        assert_eq!(st, 200, "{first}");
        assert_eq!(
            first["interchanges"][0]["status"], "unknown_sender",
            "{first}"
        );
        let id = first["file_id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/partners/acme/files/{id}/reprocess");

        // roles: sales and integration may not; a missing file or another partner is a 404
        for who in ["sally", "integ", "view"] {
            let (st, v) = s.post(&path, &t[who], &json!(null));
            assert_eq!((st, code(&v)), (403, "forbidden"), "{who}: {v}");
        }
        let (st, v) = s.post(
            "/api/v1/partners/acme/files/nope/reprocess",
            &t["edi"],
            &json!(null),
        );
        assert_eq!((st, code(&v)), (404, "not_found"), "{v}");
        let (st, v) = s.post(
            &format!("/api/v1/partners/cora/files/{id}/reprocess"),
            &t["edi"],
            &json!(null),
        );
        assert_eq!(
            st, 404,
            "cora is no partner in this project, or not this file's: {v}"
        );

        // before the fix it stays quarantined, with the same reason
        let (st, v) = s.post(&path, &t["edi"], &json!(null));
        assert_eq!(st, 200, "{v}");
        assert!(
            v["quarantine_reason"]
                .as_str()
                .unwrap()
                .contains("unknown sender"),
            "{v}"
        );

        // the profile fixed: the order is taken, the file leaves quarantine
        p.write("config/partners/acme.yaml", &acme);
        let send = |key: &str| {
            parse(
                s.req("POST", &path, Some(&t["edi"]))
                    .header("Idempotency-Key", key)
                    .send()
                    .unwrap(),
            )
        };
        let (st, done) = send("rp-1");
        assert_eq!(st, 200, "{done}");
        assert_eq!(done["outcome"], "processed", "{done}");
        assert_eq!(done["orders"].as_array().map(Vec::len), Some(1), "{done}");
        assert!(done["quarantine_reason"].is_null(), "{done}");
        // the same key answers the same, without doing it again
        let (st, again) = send("rp-1");
        assert_eq!((st, &again), (200, &done));
        // a second reprocessing finds nothing in quarantine
        let (st, v) = s.post(&path, &t["admin"], &json!(null));
        assert_eq!((st, code(&v)), (409, "conflict"), "{v}");
        let edi_order = done["orders"][0].as_str().unwrap();
        let (st, o) = s.get(&format!("/api/v1/orders/{edi_order}"), &t["view"]);
        assert_eq!(st, 200, "{o}");
        assert_eq!(o["order"]["po_number"], "RP-1", "{o}");

        // the orders list filters by channel and by priced total (min/max, inclusive)
        let (st, v) = s.post(
            "/api/v1/orders",
            &t["sally"],
            &order("RP-J", "C-CORA", "BOLT-M8", 3),
        );
        assert_eq!(st, 201, "{v}");
        let total_of = |id: &str| -> Option<String> {
            let (_, l) = s.get("/api/v1/orders?limit=500", &t["view"]);
            let t = &l["orders"].as_array()?.iter().find(|o| o["id"] == id)?["total"];
            (!t.is_null()).then(|| t.to_string().trim_matches('"').to_string())
        };
        wait_until(120, "both orders priced", || {
            total_of(edi_order).is_some() && total_of("RP-J").is_some()
        });
        let (edi_total, json_total) = (total_of(edi_order).unwrap(), total_of("RP-J").unwrap());
        assert_ne!(edi_total, json_total);
        let ids = |q: &str| -> Vec<String> {
            let (st, l) = s.get(&format!("/api/v1/orders?{q}"), &t["view"]);
            assert_eq!(st, 200, "{q}: {l}");
            l["orders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(ids("channel=edi-x12"), vec![edi_order.to_string()]);
        assert!(!ids("channel=json").contains(&edi_order.to_string()));
        assert_eq!(
            ids(&format!("min={edi_total}&max={edi_total}")),
            vec![edi_order.to_string()]
        );
        assert_eq!(
            ids(&format!("min={json_total}&max={json_total}")),
            vec!["RP-J".to_string()]
        );
        assert!(ids("min=100000000").is_empty());
        let (st, v) = s.get("/api/v1/orders?min=12,50", &t["view"]);
        assert_eq!(
            (st, code(&v), v["error"]["location"].as_str()),
            (400, "bad_request", Some("query:min")),
            "{v}"
        );

        // the audit trail has both reprocessings by the edi-admin, the outcome before and after
        let (st, a) = s.get("/api/v1/audit?who=edi", &t["admin"]);
        assert_eq!(st, 200, "{a}");
        let recs: Vec<&Value> = a["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["action"] == "partner.file.reprocessed")
            .collect();
        assert_eq!(recs.len(), 2, "{a}");
        assert!(
            recs.iter().any(|r| r["after"]["outcome"] == "processed"
                && r["before"]["interchanges"][0]["status"] == "unknown_sender"
                && r["subject"] == format!("partner/acme/{id}")),
            "{a}"
        );
        // the OpenAPI document lists the route
        let (st, doc) = s.get("/api/openapi.json", &t["view"]);
        assert_eq!(st, 200);
        assert!(
            doc["paths"]["/api/v1/partners/{partner}/files/{id}/reprocess"]["post"].is_object()
        );
    }
);
