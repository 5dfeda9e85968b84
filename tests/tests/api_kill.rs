//! SIGKILL `ordo run` while it accepts orders over HTTP and from an AMQP queue, restart it, and
//! check that every acknowledged order (a `201` answer; a message the broker confirmed) exists
//! exactly once: clients resend what got no answer with the same Idempotency-Key, the broker
//! redelivers what was not acked, and each order ends confirmed once with gapless numbers.
//! Meanwhile a webhook subscriber receives `order.accepted`: after the restart every accepted
//! order's event has arrived at least once, signed, with one stable event id per order.

use ordo_tests::webhook_receiver::{bind, hooks_yaml, receiver};
use ordo_tests::{Project, Running, amqp_publish, assert_confirmed_once, orders_json, wait_until};
use rand::Rng;
use reqwest::blocking::Client;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const HTTP_ORDERS: usize = 60;
const AMQP_ORDERS: usize = 60;

fn start(p: &Project, http: &Client) -> (String, std::process::Child) {
    let addr = format!("127.0.0.1:{}", ordo_tests::closed_port());
    let child = p.spawn_run(&["--listen", &addr]);
    wait_until(60, "the API answers", || {
        http.get(format!("http://{addr}/healthz"))
            .send()
            .is_ok_and(|r| r.status() == 200)
    });
    (addr, child)
}

/// Posts order `i` with its key; true when it was acknowledged (201).
fn post(http: &Client, addr: &str, token: &str, i: usize, order: &Value) -> Option<bool> {
    let r = http
        .post(format!("http://{addr}/api/v1/orders"))
        .bearer_auth(token)
        .header("Idempotency-Key", format!("order-{i}"))
        .json(order)
        .send()
        .ok()?;
    Some(r.status() == 201)
}

fn kill_while_accepting(p: &Project) {
    if !ordo_tests::cluster_available("api_kill") {
        return; // RabbitMQ is needed on the embedded backend too
    }
    p.ok(&["data", "import", "config/seed.json"]);
    let token = p.json(&["users", "add", "shop", "--role", "integration"])["token"]
        .as_str()
        .expect("token")
        .to_string();
    let queue = format!(
        "ordo-kill-{}",
        p.path("").file_name().unwrap_or_default().to_string_lossy()
    );
    let cfg = std::fs::read_to_string(p.path("config/ordo.yaml")).unwrap();
    let (hook_listener, hook_url) = bind(0);
    let hooks = receiver(hook_listener, vec![200]);
    p.write(
        "config/ordo.yaml",
        &format!(
            "{cfg}intake: {{ amqp: {{ url: \"{}\", queue: \"{queue}\" }} }}\n{}",
            ordo_tests::AMQP_URL,
            // Patient: a loaded machine must not turn a slow answer into a failed event.
            hooks_yaml(&[("shop", &hook_url)]).replace(
                "timeout_ms: 500, retry_ms: [100, 100]",
                "timeout_ms: 5000, retry_ms: [200, 500, 1000, 2000, 4000, 8000]"
            )
        ),
    );
    let queued: Vec<Value> = serde_json::from_str(&orders_json(AMQP_ORDERS, "Q")).unwrap();
    let msgs: Vec<(String, String)> = queued
        .iter()
        .enumerate()
        .map(|(i, o)| (format!("q-{i}"), o.to_string()))
        .collect();
    let refs: Vec<(&str, String)> = msgs.iter().map(|(i, b)| (i.as_str(), b.clone())).collect();
    amqp_publish(&queue, &refs);
    let orders: Vec<Value> = serde_json::from_str(&orders_json(HTTP_ORDERS, "H")).unwrap();
    let http = Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let mut acked = [false; HTTP_ORDERS];
    let mut rng = rand::rng();
    for round in 0..3 {
        let (addr, mut child) = start(p, &http);
        let pid = child.id() as i32;
        let wait = rng.random_range(200..1200);
        let killer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(wait));
            // SAFETY: kill(2) on a child we spawned and have not reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        });
        for (i, o) in orders.iter().enumerate() {
            if acked[i] {
                continue;
            }
            match post(&http, &addr, &token, i, o) {
                Some(ok) => acked[i] |= ok,
                None => break, // killed
            }
        }
        killer.join().unwrap();
        let _ = child.wait();
        let n = acked.iter().filter(|a| **a).count();
        eprintln!("round {round}: killed after {wait} ms; {n} HTTP orders acknowledged");
    }
    // After the restart: every order again with its key. An acknowledged one answers its first
    // response (replayed) and books nothing; the rest are booked now.
    let (addr, child) = start(p, &http);
    let _run = Running(child);
    for (i, o) in orders.iter().enumerate() {
        assert_eq!(post(&http, &addr, &token, i, o), Some(true), "order {i}");
    }
    let total = HTTP_ORDERS + AMQP_ORDERS;
    wait_until(180, "every order confirmed", || {
        p.count_of("confirmed") == total as i64
    });
    assert_confirmed_once(p, total);
    let summary = p.json(&["summary"]);
    assert_eq!(
        summary["documents"]["order"].as_i64(),
        Some(total as i64),
        "{summary}"
    );
    // Every committed order.accepted arrives (at least once: a kill between the POST and its
    // marking sends it again, with the same id), signed, one stable id per order. A request
    // the kill cut short arrives without a whole body: it is no delivery and is left out.
    let whole = |seen: &[(String, bool, Value)]| -> Vec<(String, bool, Value)> {
        seen.iter()
            .filter(|(_, _, b)| !b.is_null())
            .cloned()
            .collect()
    };
    let expected: BTreeSet<String> = orders
        .iter()
        .chain(&queued)
        .map(|o| o["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let received = || -> BTreeSet<String> {
        let seen = whole(&hooks.lock().unwrap());
        seen.iter()
            .map(|(_, _, b)| b["key"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while received() != expected {
        if std::time::Instant::now() > deadline {
            let got = received();
            let missing: Vec<_> = expected.difference(&got).collect();
            let extra: Vec<_> = got.difference(&expected).collect();
            let rows = p.json(&["webhooks", "deliveries", "--limit", "1000"]);
            panic!("order.accepted missing for {missing:?}, unexpected {extra:?}\n{rows}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let all = hooks.lock().unwrap().clone();
    let seen = whole(&all);
    let mut id_of: BTreeMap<String, String> = BTreeMap::new();
    for (id, valid, body) in &seen {
        assert!(valid, "signature of {id}");
        assert_eq!(body["type"], "order.accepted");
        let key = body["key"].as_str().unwrap_or_default().to_string();
        let first = id_of.entry(key.clone()).or_insert_with(|| id.clone());
        assert_eq!(first, id, "one event id for {key}");
    }
    eprintln!(
        "webhooks: {} deliveries for {} events ({} cut short by a kill)",
        seen.len(),
        expected.len(),
        all.len() - seen.len()
    );
    ordo_tests::amqp_delete(&[&queue, &format!("{queue}.dead")]);
}

#[test]
fn sigkill_while_accepting_embedded() {
    let p = Project::fixture("api_kill");
    kill_while_accepting(&p);
}

#[test]
fn sigkill_while_accepting_cluster() {
    let Some(p) = Project::cluster_fixture("api_kill") else {
        return;
    };
    kill_while_accepting(&p);
}
