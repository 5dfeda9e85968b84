//! A local webhook receiver for the tests (a std TcpListener thread): it checks each
//! request's `Ordo-Signature` with an HMAC independent of the engine's (the `hmac` crate),
//! records the `Ordo-Event-Id` and body, and answers from a script per event id.

use hmac::{KeyInit, Mac};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The secret the tests' subscribers share with the receiver.
pub const SECRET: &str = "whsec-test-0123456789";

/// (event id, signature valid, body) of each request a receiver saw.
pub type Seen = Arc<Mutex<Vec<(String, bool, Value)>>>;

/// A receiver on `listener` answering `script[n]` to the n-th request of an event id (the
/// last entry after that); 0: read the request, then never answer.
pub fn receiver(listener: TcpListener, script: Vec<u16>) -> Seen {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let script = Arc::new(script);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let (log, script) = (log.clone(), script.clone());
            // A thread per connection, as a server would: one slow request delays no other.
            std::thread::spawn(move || {
                let got = read_request(&mut conn);
                let mut log = log.lock().expect("log");
                let n = log.iter().filter(|(id, _, _)| *id == got.0).count();
                let status = script[n.min(script.len() - 1)];
                log.push(got);
                drop(log);
                if status == 0 {
                    std::thread::sleep(Duration::from_secs(10));
                    return;
                }
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            });
        }
    });
    seen
}

pub fn bind(port: u16) -> (TcpListener, String) {
    let l = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    let url = format!("http://{}/hooks", l.local_addr().expect("addr"));
    (l, url)
}

/// The signature check a receiver is told to make: `t` within five minutes, and `v1` the
/// hex HMAC-SHA256 of "<t>.<body>" under the shared secret.
pub fn verify(header: &str, body: &[u8]) -> bool {
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

/// `webhooks:` for the config: each (name, url) subscribed to `order.accepted` and
/// `instance.failed`, attempts timing out after 500 ms, retried after 100 ms twice.
pub fn hooks_yaml(subs: &[(&str, &str)]) -> String {
    let mut y = String::from("webhooks:\n");
    for (name, url) in subs {
        y.push_str(&format!(
            "  - {{ name: {name}, url: \"{url}\", events: [order.accepted, instance.failed], secret: {SECRET}, timeout_ms: 500, retry_ms: [100, 100] }}\n"
        ));
    }
    y
}
