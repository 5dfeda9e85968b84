//! The signature, the config checks, the retry schedule, and the queueing: an event is an
//! outbound row of the emitting transaction (never one of a rolled-back one), once per
//! subscriber and event. Delivery itself (retries, timeouts, failures, redelivery) is driven
//! through the binary on both backends in `tests/tests/api_webhooks.rs`.

use super::*;
use crate::queue::sqlite::SqliteQueue;
use crate::registry::Registry;
use crate::runtime::defs::Definitions;
use crate::store::sqlite::{Durability, SqliteStore};
use crate::testing::TempDir;

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
async fn queued_with_the_step_and_only_once() {
    let subs = vec![
        sub("a", "http://127.0.0.1:1/"),
        sub("b", "http://127.0.0.1:1/"),
    ];
    let dir = TempDir::new("webhooks");
    let engine = engine(&dir, subs).await;
    emit(&engine, "SO-1", true).await;
    emit(&engine, "SO-ROLLED-BACK", false).await;
    // The same event again (a step that ran twice) queues nothing new.
    emit(&engine, "SO-1", true).await;
    let rows = deliveries(&engine, false).await;
    let id = event_id("order.accepted", "SO-1");
    assert_eq!(rows.len(), 2, "one row per subscriber: {rows:?}");
    assert!(
        rows.iter().all(|r| r.key == id && r.sent_at.is_none()),
        "{rows:?}"
    );
    let mut tx = engine.store.begin().await.expect("begin");
    let pending = tx.unsent_webhooks(10).await.expect("unsent");
    assert_eq!(pending[0].0.payload["type"], "order.accepted");
    assert_eq!(pending[0].0.payload["data"]["order"], "SO-1");
    assert!(
        tx.unsent_outbound(10).await.expect("files").is_empty(),
        "not for the file writer"
    );
    assert!(
        !tx.redeliver_webhook(rows[0].id, 0)
            .await
            .expect("redeliver"),
        "still pending"
    );
    tx.rollback().await.expect("rollback");
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
