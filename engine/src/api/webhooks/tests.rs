//! Webhook delivery against local receivers (std TcpListener threads): signature checked,
//! 500 twice then 200 (retried), a receiver that hangs (timeout, retried), one that is down
//! (failed after the last attempt, listed, redelivered); an event of a rolled-back
//! transaction is never queued.

use super::*;
use crate::queue::sqlite::SqliteQueue;
use crate::registry::Registry;
use crate::runtime::defs::Definitions;
use crate::store::sqlite::{Durability, SqliteStore};
use crate::testing::TempDir;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Mutex;

const SECRET: &str = "a-secret-of-twenty-chars";

#[test]
fn hmac_matches_rfc_4231() {
    // RFC 4231 test case 2.
    assert_eq!(
        hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // Test case 6: a key longer than the block is hashed first.
    assert_eq!(
        hmac_sha256_hex(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First"
        ),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
    assert_eq!(
        signature("k", 12, b"{}"),
        format!("t=12,v1={}", hmac_sha256_hex(b"k", b"12.{}"))
    );
}

fn sub(name: &str, url: &str) -> WebhookConfig {
    WebhookConfig {
        name: name.into(),
        url: url.into(),
        events: vec!["order.accepted".into(), "instance.failed".into()],
        secret: SECRET.into(),
        timeout_ms: 300,
        retry_ms: vec![50, 50],
    }
}

#[test]
fn validation_names_the_place() {
    let mut bad = sub("erp", "ftp://x/y");
    bad.events.push("order.exploded".into());
    bad.secret = "short".into();
    let dup = sub("erp", "http://127.0.0.1:1/");
    let errors = validate(&[bad, dup]);
    let all = errors.join("\n");
    assert!(all.contains("webhooks[0].url: 'ftp://x/y'"), "{all}");
    assert!(
        all.contains("webhooks[0].events[2]: unknown event 'order.exploded'"),
        "{all}"
    );
    assert!(all.contains("webhooks[0].secret"), "{all}");
    assert!(
        all.contains("webhooks[1].name: 'erp' is used twice"),
        "{all}"
    );
    assert!(validate(&[sub("ok", "https://erp.example/hooks")]).is_empty());
}

#[test]
fn due_times_follow_the_schedule() {
    let s = sub("x", "http://127.0.0.1:1/");
    assert_eq!(s.due_at(1_000, 0), Some(1_000));
    assert_eq!(s.due_at(1_000, 1), Some(1_050));
    assert_eq!(s.due_at(1_000, 2), Some(1_100));
    assert_eq!(s.due_at(1_000, 3), None, "three attempts, then failed");
    assert_eq!(s.due_at(1_000, -1), None);
}

/// What a receiver saw: (event id, signature valid, status answered or 0 for no answer).
type Seen = Arc<Mutex<Vec<(String, bool, u16)>>>;

/// A receiver answering with `script[n]` to its n-th request (the last entry after that);
/// status 0: read the request, then hang without answering.
fn receiver(script: Vec<u16>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hooks", listener.local_addr().expect("addr"));
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut conn) = conn else { continue };
            let status = script[n.min(script.len() - 1)];
            let (id, valid) = read_request(&mut conn);
            log.lock().expect("log").push((id, valid, status));
            if status == 0 {
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(5));
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
    (url, seen)
}

/// Reads one request; returns its Ordo-Event-Id and whether Ordo-Signature checks out
/// (HMAC over "<t>.<body>" with the secret, `t` within five minutes of now).
fn read_request(conn: &mut std::net::TcpStream) -> (String, bool) {
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
    let valid = (|| {
        let (t, v1) = sig.split_once(',')?;
        let t: i64 = t.strip_prefix("t=")?.parse().ok()?;
        let v1 = v1.strip_prefix("v1=")?;
        let fresh = (chrono::Utc::now().timestamp() - t).abs() <= 300;
        let body_id = serde_json::from_slice::<Value>(&body).ok()?["id"].clone();
        Some(fresh && signature(SECRET, t, &body) == format!("t={t},v1={v1}") && body_id == id)
    })()
    .unwrap_or(false);
    (id, valid)
}

async fn engine(dir: &TempDir, subs: Vec<WebhookConfig>) -> Arc<Engine> {
    let store = SqliteStore::open(&dir.path().join("ordo.db"), Durability::Normal)
        .await
        .expect("store");
    let queue = SqliteQueue::new(&store, Duration::from_secs(2));
    let mut engine = Engine::new(
        Arc::new(store),
        Arc::new(queue),
        Registry::standard(),
        crate::app::rule_host(),
        Definitions::default(),
        (
            dir.path().join("workflows"),
            dir.path().join("rules"),
            dir.path().join("outbound"),
        ),
        64,
    );
    engine.webhooks = Arc::new(subs);
    Arc::new(engine)
}

async fn emit(engine: &Engine, key: &str, commit: bool) {
    let mut tx = engine.store.begin().await.expect("begin");
    engine
        .emit_event(
            tx.as_mut(),
            "order.received",
            key,
            "received",
            &json!({ "order": key }),
        )
        .await
        .expect("emit");
    if commit {
        tx.commit().await.expect("commit");
    } else {
        tx.rollback().await.expect("rollback");
    }
}

async fn deliveries(engine: &Engine, failed_only: bool) -> Vec<crate::store::DeliveryState> {
    let mut tx = engine.store.begin().await.expect("begin");
    let rows = tx.webhook_deliveries(failed_only, 100).await.expect("list");
    tx.rollback().await.expect("rollback");
    rows
}

#[tokio::test]
async fn retried_until_delivered_or_failed_and_redelivered() {
    let (flaky_url, flaky) = receiver(vec![500, 500, 200]);
    let (hang_url, hang) = receiver(vec![0, 200]);
    let down_url = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/hooks", l.local_addr().expect("addr"))
    };
    let subs = vec![
        sub("flaky", &flaky_url),
        sub("hang", &hang_url),
        sub("down", &down_url),
    ];
    let dir = TempDir::new("webhooks");
    let engine = engine(&dir, subs.clone()).await;
    emit(&engine, "SO-1", true).await;
    emit(&engine, "SO-ROLLED-BACK", false).await;
    // The same event again (a step that ran twice) queues nothing new.
    emit(&engine, "SO-1", true).await;
    assert_eq!(
        deliveries(&engine, false).await.len(),
        3,
        "one row per subscriber"
    );

    let client = client().expect("client");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        dispatch(&engine, &subs, &client).await.expect("dispatch");
        let mut tx = engine.store.begin().await.expect("begin");
        let left = tx.unsent_webhooks(10).await.expect("unsent").len();
        tx.rollback().await.expect("rollback");
        if left == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "deliveries never settled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let id = event_id("order.accepted", "SO-1");
    let flaky = flaky.lock().expect("log").clone();
    assert_eq!(flaky.len(), 3, "500, 500, then 200: {flaky:?}");
    assert!(
        flaky.iter().all(|(i, valid, _)| *i == id && *valid),
        "{flaky:?}"
    );
    let hang = hang.lock().expect("log").clone();
    assert_eq!(hang.len(), 2, "timed out once, then delivered: {hang:?}");
    assert!(
        hang.iter().all(|(i, valid, _)| *i == id && *valid),
        "{hang:?}"
    );

    let rows = deliveries(&engine, false).await;
    let by = |ch: &str| rows.iter().find(|r| r.channel == ch).expect("row").clone();
    let (f, h, d) = (by("webhook:flaky"), by("webhook:hang"), by("webhook:down"));
    assert!(
        f.sent_at.is_some() && f.last_error.is_none() && f.attempts == 3,
        "{f:?}"
    );
    assert!(
        h.sent_at.is_some() && h.last_error.is_none() && h.attempts == 2,
        "{h:?}"
    );
    let reason = d.last_error.clone().unwrap_or_default();
    assert!(d.sent_at.is_some() && d.attempts == 3, "{d:?}");
    assert!(reason.starts_with("failed after 3 attempts"), "{reason}");
    assert!(
        rows.iter().all(|r| r.key == id),
        "stable event id as key: {rows:?}"
    );

    let failed = deliveries(&engine, true).await;
    assert_eq!(failed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![d.id]);

    let mut tx = engine.store.begin().await.expect("begin");
    assert!(
        tx.redeliver_webhook(d.id, engine.clock.now_ms())
            .await
            .expect("redeliver")
    );
    assert!(
        !tx.redeliver_webhook(d.id, 0).await.expect("again"),
        "pending already"
    );
    assert!(
        !tx.redeliver_webhook(-5, 0).await.expect("none"),
        "no such delivery"
    );
    tx.commit().await.expect("commit");
    let again = deliveries(&engine, false).await;
    let d2 = again.iter().find(|r| r.id == d.id).expect("row");
    assert!(
        d2.sent_at.is_none() && d2.attempts == 0 && d2.last_error.is_none(),
        "{d2:?}"
    );
    assert!(deliveries(&engine, true).await.is_empty());
}

#[tokio::test]
async fn a_subscriber_gone_from_the_config_fails_its_rows() {
    let dir = TempDir::new("webhooks");
    let engine = engine(&dir, vec![sub("old", "http://127.0.0.1:1/")]).await;
    emit(&engine, "SO-9", true).await;
    let client = client().expect("client");
    dispatch(&engine, &[], &client).await.expect("dispatch");
    let rows = deliveries(&engine, true).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].last_error.as_deref(),
        Some("no such subscriber in webhooks:")
    );
}
