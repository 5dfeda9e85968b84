//! Webhooks end to end through the `ordo` binary, on both backends: orders submitted, `ordo
//! run` delivers `order.accepted` to local receivers (std TcpListener threads) that check the
//! `Ordo-Signature` with an independent HMAC (the `hmac` crate): one answers 500 twice then
//! 200 (retried), one hangs (timed out, retried), one is down (failed after the last attempt,
//! listed by `ordo webhooks deliveries --failed`, then redelivered with `ordo webhooks
//! redeliver ID` once a receiver listens on its port). `ordo check` locates config errors.

use hmac::{KeyInit, Mac};
use ordo_tests::{Project, closed_port};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "whsec-test-0123456789";

/// (event id, signature valid, body) of each request a receiver saw.
type Seen = Arc<Mutex<Vec<(String, bool, Value)>>>;

/// A receiver on `listener` answering `script[n]` to the n-th request of an event id (the
/// last entry after that); 0: read the request, then never answer.
fn receiver(listener: TcpListener, script: Vec<u16>) -> Seen {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let got = read_request(&mut conn);
            let mut log = log.lock().expect("log");
            let n = log.iter().filter(|(id, _, _)| *id == got.0).count();
            let status = script[n.min(script.len() - 1)];
            log.push(got);
            drop(log);
            if status == 0 {
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(10));
                    drop(conn);
                });
                continue;
            }
            let _ = write!(
                conn,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    seen
}

fn bind(port: u16) -> (TcpListener, String) {
    let l = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    let url = format!("http://{}/hooks", l.local_addr().expect("addr"));
    (l, url)
}

/// The signature check a receiver is told to make: `t` within five minutes, and `v1` the
/// hex HMAC-SHA256 of "<t>.<body>" under the shared secret.
fn verify(header: &str, body: &[u8]) -> bool {
    let Some((t, v1)) = header.split_once(',') else {
        return false;
    };
    let (Some(t), Some(v1)) = (t.strip_prefix("t="), v1.strip_prefix("v1=")) else {
        return false;
    };
    let Ok(ts) = t.parse::<i64>() else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (now - ts).abs() <= 300 && hex == v1
}

fn read_request(conn: &mut std::net::TcpStream) -> (String, bool, Value) {
    let mut r = BufReader::new(conn);
    let (mut len, mut id, mut sig) = (0usize, String::new(), String::new());
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or(("", ""));
        let value = value.trim().to_string();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => len = value.parse().unwrap_or(0),
            "ordo-event-id" => id = value,
            "ordo-signature" => sig = value,
            _ => {}
        }
    }
    let mut body = vec![0; len];
    let _ = r.read_exact(&mut body);
    let valid = verify(&sig, &body);
    (
        id,
        valid,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

fn hooks_yaml(subs: &[(&str, &str)]) -> String {
    let mut y = String::from("webhooks:\n");
    for (name, url) in subs {
        y.push_str(&format!(
            "  - {{ name: {name}, url: \"{url}\", events: [order.accepted, instance.failed], secret: {SECRET}, timeout_ms: 500, retry_ms: [100, 100] }}\n"
        ));
    }
    y
}

fn deliveries(p: &Project, failed: bool) -> Vec<Value> {
    let mut args = vec!["webhooks", "deliveries"];
    if failed {
        args.push("--failed");
    }
    p.json(&args).as_array().cloned().unwrap_or_default()
}

fn delivered_with_retries(p: Project) {
    let (flaky_l, flaky_url) = bind(0);
    let (hang_l, hang_url) = bind(0);
    let down_port = closed_port();
    let down_url = format!("http://127.0.0.1:{down_port}/hooks");
    let flaky = receiver(flaky_l, vec![500, 500, 200]);
    let hang = receiver(hang_l, vec![0, 200]);
    let config = std::fs::read_to_string(p.path("config/ordo.yaml")).expect("config");
    p.write(
        "config/ordo.yaml",
        &format!(
            "{config}{}",
            hooks_yaml(&[
                ("flaky", &flaky_url),
                ("hang", &hang_url),
                ("down", &down_url)
            ])
        ),
    );
    p.ok(&["check"]);
    p.write("orders.json", &ordo_tests::orders_json(2, "WH"));
    p.ok(&["submit", "orders.json"]);
    // Waits for the deliveries too: an unsent webhook keeps an idle run going.
    p.run_idle();

    let ids: Vec<String> = (0..2).map(|i| format!("C-CORA-WH-{i:05}")).collect();
    for (name, seen, tries) in [("flaky", &flaky, 3), ("hang", &hang, 2)] {
        let seen = seen.lock().expect("log").clone();
        assert_eq!(seen.len(), 2 * tries, "{name}: {seen:?}");
        for (id, valid, body) in &seen {
            assert!(valid, "{name}: bad signature for {id}");
            assert_eq!(
                body["id"].as_str(),
                Some(id.as_str()),
                "{name}: Ordo-Event-Id"
            );
            assert_eq!(body["type"], "order.accepted");
            assert!(ids.iter().any(|o| body["key"] == o.as_str()), "{body}");
        }
        // Every attempt of an event carries the same id.
        let mut distinct: Vec<&String> = seen.iter().map(|(i, _, _)| i).collect();
        distinct.dedup();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 2, "{name}: one id per event");
    }

    let all = deliveries(&p, false);
    assert_eq!(all.len(), 6, "{all:?}");
    let state = |ch: &str| -> Vec<String> {
        all.iter()
            .filter(|d| d["delivery"]["channel"] == ch)
            .map(|d| d["state"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(state("webhook:flaky"), ["delivered", "delivered"]);
    assert_eq!(state("webhook:hang"), ["delivered", "delivered"]);
    assert_eq!(state("webhook:down"), ["failed", "failed"]);

    let failed = deliveries(&p, true);
    assert_eq!(failed.len(), 2, "{failed:?}");
    for d in &failed {
        let reason = d["delivery"]["last_error"].as_str().unwrap_or_default();
        assert!(reason.starts_with("failed after 3 attempts"), "{reason}");
        assert_eq!(d["delivery"]["attempts"], 3);
    }
    let text = p.ok(&["webhooks", "deliveries", "--failed"]);
    assert!(
        text.contains("down") && text.contains("failed after 3 attempts"),
        "{text}"
    );

    // The receiver comes up; one failed delivery is queued again and arrives.
    let up = receiver(bind(down_port).0, vec![200]);
    let id = failed[0]["delivery"]["id"].as_i64().expect("id");
    p.ok(&["webhooks", "redeliver", &id.to_string()]);
    let again = p.ordo(&["webhooks", "redeliver", "999999"]);
    assert!(!again.status.success(), "no such delivery");
    assert_eq!(deliveries(&p, true).len(), 1, "one still failed");
    p.run_idle();
    let up = up.lock().expect("log").clone();
    assert_eq!(up.len(), 1, "{up:?}");
    assert!(up[0].1, "signature");
    assert_eq!(
        up[0].0,
        failed[0]["delivery"]["key"].as_str().unwrap_or_default()
    );
    assert_eq!(deliveries(&p, true).len(), 1);
    let audit = p.ok(&["audit"]);
    assert!(audit.contains("webhook.redelivered"), "{audit}");
}

#[test]
fn webhooks_embedded() {
    delivered_with_retries(Project::fixture("webhooks"));
}

#[test]
fn webhooks_cluster() {
    if let Some(p) = Project::cluster_fixture("webhooks") {
        delivered_with_retries(p);
    }
}

#[test]
fn check_locates_webhook_errors() {
    let p = Project::fixture("webhooks-check");
    let config = std::fs::read_to_string(p.path("config/ordo.yaml")).expect("config");
    p.write(
        "config/ordo.yaml",
        &format!(
            "{config}webhooks:\n  - {{ name: erp, url: \"ftp://x\", events: [order.accepted, order.exploded], secret: short }}\n"
        ),
    );
    let out = p.ordo(&["check"]);
    assert!(!out.status.success());
    let err =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(err.contains("webhooks[0].url"), "{err}");
    assert!(
        err.contains("webhooks[0].events[1]: unknown event 'order.exploded'"),
        "{err}"
    );
    assert!(err.contains("webhooks[0].secret"), "{err}");
}
