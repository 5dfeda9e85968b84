//! The store test suite, run against every backend (Quickwit style): [`store_suite!`] expands
//! one `#[tokio::test]` per case below into a module per backend.
//!
//! `$make` is an async expression yielding `Option<(Arc<dyn Store>, Cleanup)>`; `None` skips the
//! test (after the service policy in `crate::testing` printed why, or failed it under CI=true).
//! Every test gets a fresh store: a new SQLite file, or a new PostgreSQL schema.

use super::postgres::PgStore;
use super::sqlite::{Durability, SqliteStore};
use super::{Backend, Store, StoreError, Tx};
use crate::model::{HistoryEvent, Instance, Signal, StepMessage, Task, Timer, Waiter, status};
use crate::queue::Queue;
use crate::queue::sqlite::SqliteQueue;
use crate::testing;
use futures_lite::future::Boxed;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

mod console;
mod journal;
mod reports;
use console::console_lists;
use journal::journal;
use reports::reports;

/// Lease length of the embedded queue used to look at committed step messages.
const PROBE_VISIBILITY: Duration = Duration::from_millis(300);

/// What a test needs besides the store, and how to tear the store down.
pub(crate) struct Cleanup {
    /// Embedded backend only: a queue over the same SQLite file, to see committed step messages.
    pub(crate) embedded: Option<SqliteQueue>,
    action: Option<Boxed<()>>,
}

impl Cleanup {
    pub(crate) fn new(
        embedded: Option<SqliteQueue>,
        action: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        Cleanup {
            embedded,
            action: Some(Box::pin(action)),
        }
    }

    pub(crate) async fn run(mut self) {
        if let Some(a) = self.action.take() {
            a.await;
        }
    }
}

/// What a case receives.
pub(crate) struct Ctx {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) embedded: Option<SqliteQueue>,
}

/// Runs one case on a fresh store; tears the store down whether the case passed or panicked.
pub(crate) async fn run_case<F, Fut>(fixture: Option<(Arc<dyn Store>, Cleanup)>, case: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some((store, cleanup)) = fixture else {
        return;
    };
    let cx = Ctx {
        store: store.clone(),
        embedded: cleanup.embedded.clone(),
    };
    let outcome = tokio::spawn(case(cx)).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), store.close()).await;
    drop(store);
    cleanup.run().await;
    if let Err(e) = outcome {
        match e.try_into_panic() {
            Ok(p) => std::panic::resume_unwind(p),
            Err(e) => panic!("test task failed: {e}"),
        }
    }
}

macro_rules! store_suite {
    ($modname:ident, $make:expr) => {
        mod $modname {
            store_suite!(@cases $make;
                commit_rollback_and_drop,
                savepoint_rollback_discards_sql_and_buffers,
                nested_savepoints,
                history_read_inside_savepoint,
                inbox,
                instances,
                deferred_instance_inserts,
                history_order_and_next_seq,
                timers,
                waits,
                timer_and_wait_writes_keep_their_order,
                pending_events_fifo,
                tasks,
                documents,
                documents_in_bulk,
                documents_across_transactions,
                waiters_for_many_keys,
                pending_events_seen_within_a_transaction,
                number_series_gapless,
                number_series_concurrent,
                hot_rows_in_any_order,
                wait_and_event_at_once,
                timeout_and_event_at_once,
                claimed_documents,
                claims_race,
                stock_exact_decimals,
                business_writes_follow_savepoints,
                open_items_follow_invoice_writes,
                audit_records_follow_savepoints,
                prefetched_documents,
                outbound,
                workflow_defs,
                kv,
                enqueued_messages,
                console_sessions,
                console_lists,
                journal,
                reports,
            );
        }
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::run_case($make.await, super::$case).await;
            }
        )*
    };
}

// ---- fixtures ---------------------------------------------------------------------------------

async fn sqlite_store() -> Option<(Arc<dyn Store>, Cleanup)> {
    let dir = testing::TempDir::new("ordo_store");
    let store = SqliteStore::open(&dir.path().join("ordo.db"), Durability::Normal)
        .await
        .expect("open SQLite store");
    let probe = SqliteQueue::new(&store, PROBE_VISIBILITY);
    Some((
        Arc::new(store),
        Cleanup::new(Some(probe), async move { drop(dir) }),
    ))
}

async fn postgres_store() -> Option<(Arc<dyn Store>, Cleanup)> {
    let url = testing::postgres_url();
    if let Err(e) = testing::probe(&url, 5432).await {
        testing::service_unavailable("PostgreSQL", &url, &e);
        return None;
    }
    let schema = testing::unique_name("ordo_test");
    let opened = PgStore::open(&url, Some(&schema), 4, Duration::from_secs(5)).await;
    let store = match opened {
        Ok(s) => s,
        Err(e) => {
            // The schema may have been created before the failure.
            let _ = PgStore::drop_schema(&url, &schema).await;
            return testing::require_service("PostgreSQL", &url, Err(e));
        }
    };
    let cleanup = Cleanup::new(None, async move {
        if let Err(e) = PgStore::drop_schema(&url, &schema).await {
            eprintln!("warning: could not drop test schema {schema}: {e}");
        }
    });
    Some((Arc::new(store), cleanup))
}

store_suite!(sqlite, super::sqlite_store());
store_suite!(postgres, super::postgres_store());

// ---- helpers ----------------------------------------------------------------------------------

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

/// JSON parsed from text, so numbers keep their exact digits (arbitrary precision).
fn exact_json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn instance(id: &str, workflow: &str, key: &str, created_at: i64) -> Instance {
    Instance {
        id: id.into(),
        workflow: workflow.into(),
        version: 1,
        business_key: key.into(),
        status: status::RUNNING.into(),
        step: "start".into(),
        token: 1,
        history_seq: 0,
        attempt: 0,
        data: exact_json(
            r#"{"order": "PO-1", "total": 12345678901234567.10, "lines": [{"qty": 0.30}]}"#,
        ),
        error: None,
        end_status: None,
        created_at,
        updated_at: created_at,
    }
}

fn event(seq: i64, kind: &str) -> HistoryEvent {
    HistoryEvent {
        seq,
        at: 1_000 + seq,
        kind: kind.into(),
        step: format!("step{seq}"),
        attempt: seq as u32,
        outcome: if seq % 2 == 0 {
            Some("ok".into())
        } else {
            None
        },
        detail: json!({ "seq": seq, "note": kind }),
    }
}

fn message(id: &str) -> StepMessage {
    StepMessage {
        msg_id: id.into(),
        instance: "i1".into(),
        step: "ship".into(),
        token: 7,
        attempt: 2,
        signal: Signal::Resolve {
            outcome: "paid".into(),
            payload: exact_json(r#"{"amount": 10.50}"#),
        },
        enqueued_us: 1_700_000_000_000_000,
    }
}

fn ids(msgs: &[(StepMessage, i64)]) -> Vec<&str> {
    msgs.iter().map(|(m, _)| m.msg_id.as_str()).collect()
}

fn seqs(events: &[HistoryEvent]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

async fn begin(store: &Arc<dyn Store>) -> Box<dyn Tx> {
    store.begin().await.expect("begin")
}

async fn read_kv(store: &Arc<dyn Store>, key: &str) -> Option<String> {
    let mut tx = begin(store).await;
    let v = tx.kv_get(key).await.unwrap();
    tx.rollback().await.unwrap();
    v
}

/// Step messages committed so far and not yet consumed, by msg id (embedded: receive and ack
/// from `queue_messages`; cluster: read and delete from `outbox`). Only messages visible now.
async fn take_committed_messages(cx: &Ctx) -> Vec<StepMessage> {
    let mut out = Vec::new();
    match cx.store.backend() {
        Backend::Sqlite => {
            let q = cx.embedded.as_ref().expect("embedded probe queue");
            let got = q.receive(100, Duration::from_millis(50)).await.unwrap();
            q.ack(&got).await.unwrap();
            for d in got {
                let m = StepMessage::decode(&d.body).unwrap();
                assert_eq!(m.msg_id, d.msg_id);
                out.push(m);
            }
        }
        Backend::Postgres => {
            let mut tx = begin(&cx.store).await;
            let rows = tx.outbox_ready(now_ms(), 100).await.unwrap();
            tx.outbox_delete(&rows.iter().map(|r| r.0).collect::<Vec<_>>())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            for (_, body, _) in rows {
                out.push(StepMessage::decode(&body).unwrap());
            }
        }
    }
    out
}

// ---- cases ------------------------------------------------------------------------------------

async fn commit_rollback_and_drop(cx: Ctx) {
    let s = &cx.store;
    // commit: SQL writes, buffered history and enqueued messages all land.
    let mut tx = begin(s).await;
    tx.kv_set("committed", "1").await.unwrap();
    tx.append_history("i1", event(1, "started"));
    tx.enqueue(&message("m-commit"), now_ms());
    tx.commit().await.unwrap();

    // rollback: nothing lands.
    let mut tx = begin(s).await;
    tx.kv_set("rolled_back", "1").await.unwrap();
    tx.kv_set("committed", "changed").await.unwrap();
    tx.append_history("i1", event(2, "rolled back"));
    tx.enqueue(&message("m-rollback"), now_ms());
    tx.rollback().await.unwrap();

    // drop without commit: rolled back too.
    {
        let mut tx = begin(s).await;
        tx.kv_set("dropped", "1").await.unwrap();
        tx.append_history("i1", event(2, "dropped"));
        tx.enqueue(&message("m-drop"), now_ms());
        assert_eq!(
            tx.kv_get("dropped").await.unwrap().as_deref(),
            Some("1"),
            "a tx reads its own writes"
        );
    }

    assert_eq!(read_kv(s, "committed").await.as_deref(), Some("1"));
    assert_eq!(read_kv(s, "rolled_back").await, None);
    assert_eq!(read_kv(s, "dropped").await, None);
    let mut tx = begin(s).await;
    let h = tx.history("i1").await.unwrap();
    assert_eq!(h, vec![event(1, "started")]);
    assert_eq!(tx.next_history_seq("i1").await.unwrap(), 2);
    tx.rollback().await.unwrap();
    let msgs = take_committed_messages(&cx).await;
    assert_eq!(msgs, vec![message("m-commit")]);
}

async fn savepoint_rollback_discards_sql_and_buffers(cx: Ctx) {
    let s = &cx.store;
    let now = now_ms();
    let mut tx = begin(s).await;
    tx.kv_set("before", "1").await.unwrap();
    tx.append_history("i1", event(1, "before"));
    tx.enqueue(&message("m1"), now);

    let sp = tx.savepoint().await.unwrap();
    tx.kv_set("inside", "2").await.unwrap();
    tx.kv_set("before", "overwritten").await.unwrap();
    tx.put_document("order", "o1", &json!({"x": 1}), now)
        .await
        .unwrap();
    tx.append_history("i1", event(2, "inside"));
    tx.enqueue(&message("m2"), now);
    assert_eq!(ids(tx.enqueued()), ["m1", "m2"]);
    assert_eq!(tx.next_history_seq("i1").await.unwrap(), 3);
    tx.rollback_to(sp).await.unwrap();

    assert_eq!(
        ids(tx.enqueued()),
        ["m1"],
        "enqueued rows after the savepoint are dropped"
    );
    assert_eq!(
        tx.next_history_seq("i1").await.unwrap(),
        2,
        "buffered history after the savepoint is dropped"
    );
    assert_eq!(tx.kv_get("inside").await.unwrap(), None);
    assert_eq!(tx.kv_get("before").await.unwrap().as_deref(), Some("1"));
    assert_eq!(tx.get_document("order", "o1").await.unwrap(), None);

    // A released savepoint keeps its writes; the tx goes on after a rollback_to.
    let sp = tx.savepoint().await.unwrap();
    tx.kv_set("kept", "3").await.unwrap();
    tx.append_history("i1", event(2, "kept"));
    tx.enqueue(&message("m3"), now);
    tx.release(sp).await.unwrap();
    assert_eq!(ids(tx.enqueued()), ["m1", "m3"]);
    tx.commit().await.unwrap();

    assert_eq!(read_kv(s, "before").await.as_deref(), Some("1"));
    assert_eq!(read_kv(s, "inside").await, None);
    assert_eq!(read_kv(s, "kept").await.as_deref(), Some("3"));
    let mut tx = begin(s).await;
    assert_eq!(
        tx.history("i1").await.unwrap(),
        vec![event(1, "before"), event(2, "kept")]
    );
    assert_eq!(tx.get_document("order", "o1").await.unwrap(), None);
    tx.rollback().await.unwrap();
    assert_eq!(
        take_committed_messages(&cx).await,
        vec![message("m1"), message("m3")]
    );
}

async fn nested_savepoints(cx: Ctx) {
    let s = &cx.store;
    let now = now_ms();
    let mut tx = begin(s).await;
    tx.kv_set("base", "0").await.unwrap();

    // Rolling back to the outer savepoint discards the inner one's writes too.
    let outer = tx.savepoint().await.unwrap();
    tx.kv_set("outer", "1").await.unwrap();
    tx.append_history("i1", event(1, "outer"));
    tx.enqueue(&message("m-outer"), now);
    let _inner = tx.savepoint().await.unwrap();
    tx.kv_set("inner", "2").await.unwrap();
    tx.append_history("i1", event(2, "inner"));
    tx.enqueue(&message("m-inner"), now);
    tx.rollback_to(outer).await.unwrap();
    assert_eq!(
        tx.kv_get("outer").await.unwrap(),
        None,
        "rollback_to(outer) must undo the outer savepoint's writes"
    );
    assert_eq!(tx.kv_get("inner").await.unwrap(), None);
    assert!(tx.enqueued().is_empty());
    assert_eq!(tx.next_history_seq("i1").await.unwrap(), 1);

    // Rolling back the inner one keeps the outer one's writes.
    let outer = tx.savepoint().await.unwrap();
    tx.kv_set("outer2", "1").await.unwrap();
    tx.enqueue(&message("m-outer2"), now);
    let inner = tx.savepoint().await.unwrap();
    tx.kv_set("inner2", "2").await.unwrap();
    tx.enqueue(&message("m-inner2"), now);
    tx.rollback_to(inner).await.unwrap();
    tx.release(outer).await.unwrap();
    assert_eq!(ids(tx.enqueued()), ["m-outer2"]);

    // Releasing the outer savepoint while an inner one is open releases both.
    let outer = tx.savepoint().await.unwrap();
    tx.kv_set("outer3", "1").await.unwrap();
    let _inner = tx.savepoint().await.unwrap();
    tx.kv_set("inner3", "1").await.unwrap();
    tx.release(outer).await.unwrap();
    // ... and the transaction still takes new savepoints afterwards.
    let sp = tx.savepoint().await.unwrap();
    tx.kv_set("after", "1").await.unwrap();
    tx.rollback_to(sp).await.unwrap();
    tx.commit().await.unwrap();

    for (k, want) in [
        ("base", Some("0")),
        ("outer", None),
        ("inner", None),
        ("outer2", Some("1")),
        ("inner2", None),
        ("outer3", Some("1")),
        ("inner3", Some("1")),
        ("after", None),
    ] {
        assert_eq!(read_kv(s, k).await.as_deref(), want, "key {k}");
    }
    assert_eq!(
        take_committed_messages(&cx).await,
        vec![message("m-outer2")]
    );
}

async fn history_read_inside_savepoint(cx: Ctx) {
    // Reading history inside a savepoint must not move rows buffered before it behind it.
    let s = &cx.store;
    let mut tx = begin(s).await;
    tx.append_history("i1", event(1, "before"));
    let sp = tx.savepoint().await.unwrap();
    tx.append_history("i1", event(2, "inside"));
    assert_eq!(seqs(&tx.history("i1").await.unwrap()), [1, 2]);
    tx.rollback_to(sp).await.unwrap();
    assert_eq!(tx.history("i1").await.unwrap(), vec![event(1, "before")]);
    assert_eq!(tx.next_history_seq("i1").await.unwrap(), 2);
    tx.append_history("i1", event(2, "after"));
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(
        tx.history("i1").await.unwrap(),
        vec![event(1, "before"), event(2, "after")]
    );
    tx.rollback().await.unwrap();
}

async fn inbox(cx: Ctx) {
    let s = &cx.store;
    let mut tx = begin(s).await;
    assert!(tx.inbox_insert("m1", 1_000).await.unwrap());
    assert!(
        !tx.inbox_insert("m1", 1_001).await.unwrap(),
        "duplicate in the same tx"
    );
    assert!(tx.inbox_insert("m2", 5_000).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert!(
        !tx.inbox_insert("m1", 6_000).await.unwrap(),
        "duplicate after commit"
    );
    assert!(tx.inbox_insert("m3", 6_000).await.unwrap());
    tx.rollback().await.unwrap();

    let mut tx = begin(s).await;
    assert!(
        tx.inbox_insert("m3", 6_000).await.unwrap(),
        "a rolled back insert is forgotten"
    );
    assert_eq!(
        tx.inbox_prune(5_000).await.unwrap(),
        1,
        "only m1 is older than 5000"
    );
    assert!(
        tx.inbox_insert("m1", 7_000).await.unwrap(),
        "pruned ids are forgotten"
    );
    assert!(!tx.inbox_insert("m2", 7_000).await.unwrap());
    tx.commit().await.unwrap();
}

/// Deferred inserts (a batch of steps, a file of orders): a clash among them is reported at
/// once, a clash with the database when they are flushed, and the transaction then commits
/// nothing.
async fn deferred_instance_inserts(cx: Ctx) {
    let s = &cx.store;
    let a = instance("i-a", "order", "PO-1", 1_000);
    let mut tx = begin(s).await;
    tx.defer_instance_inserts();
    tx.insert_instance(&a).await.unwrap();
    assert!(
        matches!(
            tx.insert_instance(&instance("i-x", "order", "PO-1", 1_000))
                .await,
            Err(StoreError::Duplicate { .. })
        ),
        "same key in the buffer"
    );
    assert_eq!(
        tx.load_instance("i-a").await.unwrap(),
        Some(a.clone()),
        "read from the buffer"
    );
    assert_eq!(
        tx.find_instances("PO-1").await.unwrap(),
        vec![a.clone()],
        "queries see it"
    );
    tx.commit().await.unwrap();

    // A clash with a committed instance: found when flushed, here at commit.
    let mut tx = begin(s).await;
    tx.defer_instance_inserts();
    tx.insert_instance(&instance("i-b", "order", "PO-2", 2_000))
        .await
        .unwrap();
    tx.insert_instance(&instance("i-c", "order", "PO-1", 2_000))
        .await
        .unwrap();
    match tx.commit().await {
        Err(StoreError::Duplicate { kind, key }) => {
            assert_eq!((kind, key.as_str()), ("instance", "order/PO-1"));
        }
        other => panic!("a clash at commit must be Duplicate, got {other:?}"),
    }
    let mut tx = begin(s).await;
    assert_eq!(tx.find_instances("PO-2").await.unwrap(), vec![]);
    assert_eq!(tx.find_instances("PO-1").await.unwrap(), vec![a.clone()]);

    // Rolling back to a savepoint drops what was deferred after it, not what came before.
    tx.defer_instance_inserts();
    let d = instance("i-d", "order", "PO-4", 3_000);
    tx.insert_instance(&d).await.unwrap();
    let sp = tx.savepoint().await.unwrap();
    tx.insert_instance(&instance("i-e", "order", "PO-5", 3_000))
        .await
        .unwrap();
    tx.rollback_to(sp).await.unwrap();
    assert_eq!(tx.load_instance("i-e").await.unwrap(), None);
    // Many, past the buffer's bound: flushed on the way, all there at commit.
    for n in 0..600 {
        tx.insert_instance(&instance(&format!("m-{n:03}"), "bulk", &format!("K{n}"), n))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = begin(s).await;
    assert_eq!(tx.find_instances("PO-4").await.unwrap(), vec![d]);
    assert_eq!(tx.find_instances("PO-5").await.unwrap(), vec![]);
    let bulk: i64 = tx
        .count_instances()
        .await
        .unwrap()
        .iter()
        .filter(|c| c.0 == "bulk")
        .map(|c| c.3)
        .sum();
    assert_eq!(bulk, 600);
    tx.rollback().await.unwrap();
}

async fn instances(cx: Ctx) {
    let s = &cx.store;
    let a = instance("i-a", "order", "PO-1", 1_000);
    let b = instance("i-b", "invoice", "PO-1", 2_000);
    let c = instance("i-c", "order", "PO-2", 3_000);
    let mut tx = begin(s).await;
    for i in [&a, &b, &c] {
        tx.insert_instance(i).await.unwrap();
    }
    let dup_key = instance("i-d", "order", "PO-1", 4_000);
    match tx.insert_instance(&dup_key).await {
        Err(StoreError::Duplicate { kind, key }) => {
            assert_eq!(kind, "instance");
            assert_eq!(key, "order/PO-1");
        }
        other => panic!("same workflow + business key must be Duplicate, got {other:?}"),
    }
    let dup_id = instance("i-a", "other", "PO-9", 4_000);
    assert!(
        matches!(
            tx.insert_instance(&dup_id).await,
            Err(StoreError::Duplicate { .. })
        ),
        "same id"
    );
    // The transaction is still usable after a duplicate.
    assert_eq!(tx.load_instance("i-a").await.unwrap(), Some(a.clone()));
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(
        tx.load_instance("i-a").await.unwrap(),
        Some(a.clone()),
        "exact round trip incl. JSON digits"
    );
    assert_eq!(tx.load_instance("nope").await.unwrap(), None);
    assert_eq!(
        tx.find_instances("i-b").await.unwrap(),
        vec![b.clone()],
        "by id"
    );
    assert_eq!(
        tx.find_instances("PO-1").await.unwrap(),
        vec![a.clone(), b.clone()],
        "by key, oldest first"
    );
    assert_eq!(tx.find_instances("PO-404").await.unwrap(), vec![]);

    let mut a2 = a.clone();
    a2.status = status::ENDED.into();
    a2.step = "done".into();
    a2.token = 9;
    a2.attempt = 3;
    a2.data = exact_json(r#"{"total": 0.10, "paid": true}"#);
    a2.error = Some("was: boom".into());
    a2.end_status = Some("shipped".into());
    a2.updated_at = 9_000;
    tx.update_instance(&a2).await.unwrap();
    let mut c2 = c.clone();
    c2.status = status::WAITING.into();
    tx.update_instance(&c2).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(tx.load_instance("i-a").await.unwrap(), Some(a2.clone()));
    assert_eq!(
        tx.list_instances(None, 100).await.unwrap(),
        vec![a2.clone(), b.clone(), c2.clone()]
    );
    assert_eq!(
        tx.list_instances(None, 2).await.unwrap(),
        vec![a2.clone(), b.clone()]
    );
    assert_eq!(
        tx.list_instances(Some(status::WAITING), 100).await.unwrap(),
        vec![c2.clone()]
    );
    assert_eq!(
        tx.list_instances(Some(status::FAILED), 100).await.unwrap(),
        vec![]
    );
    assert_eq!(
        tx.count_instances().await.unwrap(),
        vec![
            ("invoice".to_string(), "running".to_string(), None, 1),
            (
                "order".to_string(),
                "ended".to_string(),
                Some("shipped".to_string()),
                1
            ),
            ("order".to_string(), "waiting".to_string(), None, 1),
        ]
    );
    // the console's live counts: unended instances per workflow, version, step and status
    // (the ended order is left out)
    let live = |w: &str, st: &str| crate::store::StepCount {
        workflow: w.into(),
        version: 1,
        step: "start".into(),
        status: st.into(),
        count: 1,
    };
    assert_eq!(
        tx.count_live_by_step().await.unwrap(),
        vec![live("invoice", "running"), live("order", "waiting")]
    );
    tx.rollback().await.unwrap();
}

async fn history_order_and_next_seq(cx: Ctx) {
    let s = &cx.store;
    let mut tx = begin(s).await;
    assert_eq!(
        tx.next_history_seq("i1").await.unwrap(),
        1,
        "empty history starts at 1"
    );
    tx.append_history("i1", event(1, "started"));
    assert_eq!(
        tx.next_history_seq("i1").await.unwrap(),
        2,
        "counts buffered rows"
    );
    tx.append_history("i1", event(3, "third"));
    tx.append_history("i1", event(2, "second"));
    tx.append_history("i2", event(1, "other"));
    assert_eq!(tx.next_history_seq("i1").await.unwrap(), 4);
    assert_eq!(tx.next_history_seq("i2").await.unwrap(), 2);
    assert_eq!(
        tx.history("i1").await.unwrap(),
        vec![event(1, "started"), event(2, "second"), event(3, "third")]
    );
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(
        tx.next_history_seq("i1").await.unwrap(),
        4,
        "from committed rows"
    );
    tx.append_history("i1", event(4, "fourth"));
    assert_eq!(
        tx.next_history_seq("i1").await.unwrap(),
        5,
        "buffered on top of committed"
    );
    assert_eq!(seqs(&tx.history("i1").await.unwrap()), [1, 2, 3, 4]);
    assert_eq!(tx.history("i2").await.unwrap(), vec![event(1, "other")]);
    assert_eq!(tx.history("nobody").await.unwrap(), vec![]);
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(seqs(&tx.history("i1").await.unwrap()), [1, 2, 3, 4]);
    assert_eq!(tx.next_history_seq("i1").await.unwrap(), 5);
    tx.rollback().await.unwrap();
}

async fn timers(cx: Ctx) {
    let s = &cx.store;
    let t = |inst: &str, fire_at: i64| Timer {
        id: 0,
        instance_id: inst.into(),
        step: "wait".into(),
        token: 4,
        fire_at,
    };
    let mut tx = begin(s).await;
    assert_eq!(tx.next_timer_at().await.unwrap(), None);
    tx.add_timer(&t("i1", 300)).await.unwrap();
    tx.add_timer(&t("i2", 100)).await.unwrap();
    tx.add_timer(&t("i3", 200)).await.unwrap();
    tx.add_timer(&t("i1", 900)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(tx.next_timer_at().await.unwrap(), Some(100));
    assert_eq!(
        tx.take_due_timers(99, 10).await.unwrap(),
        vec![],
        "none due yet"
    );
    let due = tx.take_due_timers(250, 10).await.unwrap();
    assert_eq!(
        due.iter()
            .map(|t| (t.instance_id.as_str(), t.fire_at))
            .collect::<Vec<_>>(),
        [("i2", 100), ("i3", 200)]
    );
    assert!(
        due.iter()
            .all(|t| t.id > 0 && t.step == "wait" && t.token == 4)
    );
    assert_eq!(
        tx.take_due_timers(250, 10).await.unwrap(),
        vec![],
        "taken once"
    );
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(
        tx.take_due_timers(250, 10).await.unwrap(),
        vec![],
        "still taken after commit"
    );
    assert_eq!(tx.next_timer_at().await.unwrap(), Some(300));
    let one = tx.take_due_timers(10_000, 1).await.unwrap();
    assert_eq!(one.len(), 1, "limit");
    assert_eq!(one[0].fire_at, 300);
    tx.rollback().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(
        tx.next_timer_at().await.unwrap(),
        Some(300),
        "a rolled back take leaves the timer"
    );
    tx.delete_timers("i1").await.unwrap();
    assert_eq!(tx.next_timer_at().await.unwrap(), None);
    assert_eq!(tx.take_due_timers(i64::MAX, 10).await.unwrap(), vec![]);
    tx.commit().await.unwrap();
}

async fn waits(cx: Ctx) {
    let s = &cx.store;
    let w = |inst: &str, token: i64| Waiter {
        instance_id: inst.into(),
        step: "await_payment".into(),
        token,
    };
    let mut tx = begin(s).await;
    tx.add_wait("payment", "PO-1", &w("i-b", 2)).await.unwrap();
    tx.add_wait("payment", "PO-1", &w("i-a", 1)).await.unwrap();
    tx.add_wait("payment", "PO-2", &w("i-c", 1)).await.unwrap();
    tx.add_wait("shipment", "PO-1", &w("i-d", 1)).await.unwrap();
    // Re-waiting replaces the instance's previous wait.
    tx.add_wait("payment", "PO-1", &w("i-d", 5)).await.unwrap();
    tx.add_wait("payment", "PO-9", &w("i-e", 1)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(
        tx.take_waiters("payment", "PO-1").await.unwrap(),
        vec![w("i-a", 1), w("i-b", 2), w("i-d", 5)]
    );
    assert_eq!(
        tx.take_waiters("payment", "PO-1").await.unwrap(),
        vec![],
        "taken once"
    );
    assert_eq!(
        tx.take_waiters("shipment", "PO-1").await.unwrap(),
        vec![],
        "the replaced wait is gone"
    );
    tx.delete_wait("i-c").await.unwrap();
    assert_eq!(tx.take_waiters("payment", "PO-2").await.unwrap(), vec![]);
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(tx.take_waiters("payment", "PO-1").await.unwrap(), vec![]);
    assert_eq!(
        tx.take_waiters("payment", "PO-9").await.unwrap(),
        vec![w("i-e", 1)]
    );
    tx.commit().await.unwrap();
}

/// Timer and wait writes are buffered until a read, a savepoint or the commit: what a
/// transaction reads and what it commits must be what its calls said, in their order.
async fn timer_and_wait_writes_keep_their_order(cx: Ctx) {
    let s = &cx.store;
    let t = |inst: &str, token: i64, fire_at: i64| Timer {
        id: 0,
        instance_id: inst.into(),
        step: "wait".into(),
        token,
        fire_at,
    };
    let w = |inst: &str, token: i64| Waiter {
        instance_id: inst.into(),
        step: "await_payment".into(),
        token,
    };
    let mut tx = begin(s).await;
    tx.add_timer(&t("i1", 1, 100)).await.unwrap();
    tx.add_timer(&t("i2", 1, 200)).await.unwrap();
    tx.add_wait("payment", "INV-1", &w("i1", 1)).await.unwrap();
    tx.add_wait("payment", "INV-2", &w("i2", 1)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    // Deleted, then added again: the new timer and wait survive, the old ones do not.
    tx.delete_timers("i1").await.unwrap();
    tx.delete_wait("i1").await.unwrap();
    tx.add_timer(&t("i1", 2, 150)).await.unwrap();
    tx.add_wait("payment", "INV-1", &w("i1", 2)).await.unwrap();
    // Added, then deleted in the same transaction: never written.
    tx.add_timer(&t("i3", 1, 50)).await.unwrap();
    tx.add_wait("payment", "INV-3", &w("i3", 1)).await.unwrap();
    tx.delete_timers("i3").await.unwrap();
    tx.delete_wait("i3").await.unwrap();
    // Reads in the same transaction see the buffered writes.
    assert_eq!(tx.next_timer_at().await.unwrap(), Some(150));
    let sp = tx.savepoint().await.unwrap();
    tx.delete_timers("i2").await.unwrap();
    tx.delete_wait("i2").await.unwrap();
    tx.add_timer(&t("i4", 1, 10)).await.unwrap();
    tx.rollback_to(sp).await.unwrap();
    assert_eq!(
        tx.take_waiters("payment", "INV-3").await.unwrap(),
        vec![],
        "added then deleted"
    );
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    let due = tx.take_due_timers(1_000, 10).await.unwrap();
    assert_eq!(
        due.iter()
            .map(|t| (t.instance_id.as_str(), t.token, t.fire_at))
            .collect::<Vec<_>>(),
        [("i1", 2, 150), ("i2", 1, 200)],
        "the rolled-back deletion of i2 and addition of i4 are gone"
    );
    assert_eq!(
        tx.take_waiters("payment", "INV-1").await.unwrap(),
        vec![w("i1", 2)]
    );
    assert_eq!(
        tx.take_waiters("payment", "INV-2").await.unwrap(),
        vec![w("i2", 1)]
    );
    tx.commit().await.unwrap();
}

async fn pending_events_fifo(cx: Ctx) {
    let s = &cx.store;
    let mut tx = begin(s).await;
    tx.add_pending_event(
        "payment",
        "PO-1",
        "partial",
        &exact_json(r#"{"amount": 10.10}"#),
        1,
    )
    .await
    .unwrap();
    tx.add_pending_event("payment", "PO-2", "other", &json!({}), 2)
        .await
        .unwrap();
    tx.add_pending_event(
        "payment",
        "PO-1",
        "paid",
        &exact_json(r#"{"amount": 0.30}"#),
        3,
    )
    .await
    .unwrap();
    tx.add_pending_event("refund", "PO-1", "refunded", &json!({}), 4)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    let first = tx
        .take_pending_event("payment", "PO-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first.outcome.as_str(), &first.payload),
        ("partial", &exact_json(r#"{"amount": 10.10}"#))
    );
    let second = tx
        .take_pending_event("payment", "PO-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (second.outcome.as_str(), &second.payload),
        ("paid", &exact_json(r#"{"amount": 0.30}"#))
    );
    assert!(second.id > first.id);
    assert_eq!(
        tx.take_pending_event("payment", "PO-1").await.unwrap(),
        None
    );
    tx.rollback().await.unwrap();

    let mut tx = begin(s).await;
    let again = tx
        .take_pending_event("payment", "PO-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        again.outcome, "partial",
        "a rolled back take leaves the event"
    );
    assert_eq!(
        tx.take_pending_event("payment", "PO-2")
            .await
            .unwrap()
            .unwrap()
            .outcome,
        "other"
    );
    assert_eq!(
        tx.take_pending_event("refund", "PO-1")
            .await
            .unwrap()
            .unwrap()
            .outcome,
        "refunded"
    );
    assert_eq!(tx.take_pending_event("refund", "PO-1").await.unwrap(), None);
    tx.commit().await.unwrap();
}

async fn tasks(cx: Ctx) {
    let s = &cx.store;
    let task = |inst: &str, step: &str| Task {
        id: 0,
        instance_id: inst.into(),
        step: step.into(),
        token: 3,
        role: "sales".into(),
        status: "open".into(),
        outcome: None,
        note: None,
        created_at: 1_000,
        due_at: Some(5_000),
        decided_at: None,
    };
    let mut tx = begin(s).await;
    let t1 = task("i1", "approve");
    let id1 = tx.insert_task(&t1).await.unwrap();
    let t2 = Task {
        due_at: None,
        ..task("i1", "approve_again")
    };
    let id2 = tx.insert_task(&t2).await.unwrap();
    let id3 = tx.insert_task(&task("i2", "approve")).await.unwrap();
    assert!(id1 < id2 && id2 < id3, "ids increase: {id1} {id2} {id3}");
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(
        tx.load_task(id1).await.unwrap(),
        Some(Task {
            id: id1,
            ..t1.clone()
        })
    );
    assert_eq!(
        tx.load_task(id2).await.unwrap(),
        Some(Task {
            id: id2,
            ..t2.clone()
        })
    );
    assert_eq!(tx.load_task(id3 + 1000).await.unwrap(), None);
    assert_eq!(
        tx.open_task_for("i1").await.unwrap().map(|t| t.id),
        Some(id2),
        "latest open task"
    );
    assert_eq!(tx.open_task_for("nobody").await.unwrap(), None);

    let decided = Task {
        id: id2,
        status: "decided".into(),
        outcome: Some("approved".into()),
        note: Some("looks fine".into()),
        decided_at: Some(6_000),
        ..t2.clone()
    };
    tx.update_task(&decided).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(tx.load_task(id2).await.unwrap(), Some(decided.clone()));
    assert_eq!(
        tx.open_task_for("i1").await.unwrap().map(|t| t.id),
        Some(id1)
    );
    assert_eq!(
        tx.list_tasks("open")
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>(),
        [id1, id3]
    );
    assert_eq!(tx.list_tasks("decided").await.unwrap(), vec![decided]);
    assert_eq!(tx.list_tasks("expired").await.unwrap(), vec![]);
    tx.rollback().await.unwrap();
}

async fn documents(cx: Ctx) {
    let s = &cx.store;
    let body =
        exact_json(r#"{"total": 12345678901234567.10, "lines": [{"sku": "A", "qty": 0.30}]}"#);
    let mut tx = begin(s).await;
    assert_eq!(tx.get_document("order", "o1").await.unwrap(), None);
    tx.put_document("order", "o1", &body, 1).await.unwrap();
    assert_eq!(
        tx.get_document("order", "o1").await.unwrap(),
        Some(body.clone())
    );
    tx.put_document("order", "o1", &json!({"v": 2}), 2)
        .await
        .unwrap();
    assert_eq!(
        tx.get_document("order", "o1").await.unwrap(),
        Some(json!({"v": 2})),
        "overwrite"
    );
    for id in [
        "a_1", "a_b", "ab", "axb", "a%2", "a%%", "aZ", "b_1", "a_", "ä_1",
    ] {
        tx.put_document("doc", id, &json!({ "id": id }), 3)
            .await
            .unwrap();
    }
    tx.put_document("other", "a_1", &json!({}), 3)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(
        tx.get_document("order", "o1").await.unwrap(),
        Some(json!({"v": 2}))
    );
    assert_eq!(
        tx.get_document("doc", "a_b").await.unwrap(),
        Some(json!({"id": "a_b"}))
    );
    assert_eq!(
        tx.get_document("order", "a_b").await.unwrap(),
        None,
        "kinds are separate"
    );
    // `_` and `%` are literal (no LIKE): "a_" must not match "ab"/"axb", "a%" must not match "aZ".
    assert_eq!(
        tx.list_documents("doc", "a_").await.unwrap(),
        ["a_", "a_1", "a_b"]
    );
    assert_eq!(
        tx.list_documents("doc", "a%").await.unwrap(),
        ["a%%", "a%2"]
    );
    assert_eq!(tx.list_documents("doc", "a%%").await.unwrap(), ["a%%"]);
    assert_eq!(tx.list_documents("doc", "ä").await.unwrap(), ["ä_1"]);
    assert_eq!(
        tx.list_documents("doc", "c").await.unwrap(),
        Vec::<String>::new()
    );
    let all = tx.list_documents("doc", "").await.unwrap();
    assert_eq!(all.len(), 10);
    assert!(all.windows(2).all(|w| w[0] < w[1]), "sorted: {all:?}");
    assert_eq!(tx.list_documents("other", "a").await.unwrap(), ["a_1"]);
    assert_eq!(tx.count_documents("doc").await.unwrap(), 10);
    assert_eq!(tx.count_documents("order").await.unwrap(), 1);
    assert_eq!(tx.count_documents("none").await.unwrap(), 0);
    tx.rollback().await.unwrap();
}

/// `get_documents` and `get_documents_by_id` read what `get_document` would, buffered writes
/// of the same transaction included, in one query.
async fn documents_in_bulk(cx: Ctx) {
    let s = &cx.store;
    let mut tx = begin(s).await;
    for id in ["INV-1", "INV-2", "INV-10", "CN-1"] {
        tx.put_document("invoice", id, &json!({ "n": id }), 1)
            .await
            .unwrap();
    }
    tx.put_document("order", "INV-3", &json!({}), 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    // Written in this transaction, not yet flushed: bulk reads must see it, and the overwrite.
    tx.put_document("invoice", "INV-3", &exact_json(r#"{"total": 0.10}"#), 2)
        .await
        .unwrap();
    tx.put_document("invoice", "INV-2", &json!({ "n": "two" }), 2)
        .await
        .unwrap();
    let all = tx.get_documents("invoice", "INV-").await.unwrap();
    assert_eq!(
        all,
        vec![
            ("INV-1".to_string(), json!({ "n": "INV-1" })),
            ("INV-10".to_string(), json!({ "n": "INV-10" })),
            ("INV-2".to_string(), json!({ "n": "two" })),
            ("INV-3".to_string(), exact_json(r#"{"total": 0.10}"#)),
        ]
    );
    assert_eq!(tx.get_documents("invoice", "X").await.unwrap(), vec![]);
    let texts = tx.get_documents_text("invoice", "INV-3").await.unwrap();
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0].0, "INV-3");
    assert_eq!(
        exact_json(&texts[0].1),
        exact_json(r#"{"total": 0.10}"#),
        "the stored text, digits kept"
    );
    let ids: Vec<String> = (0..700).map(|i| format!("INV-{i}")).collect();
    let mut asked: Vec<&str> = ids.iter().map(String::as_str).collect();
    asked.push("INV-1");
    asked.push("CN-1");
    let found = tx.get_documents_by_id("invoice", &asked).await.unwrap();
    let mut keys: Vec<&String> = found.keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["CN-1", "INV-1", "INV-10", "INV-2", "INV-3"],
        "over several chunks, duplicates once, other kinds not"
    );
    assert_eq!(found["INV-2"], json!({ "n": "two" }));
    assert!(
        tx.get_documents_by_id("order", &[])
            .await
            .unwrap()
            .is_empty()
    );
    tx.rollback().await.unwrap();
}

/// A document read in a later transaction is what was committed last (SQLite answers it from
/// the store's shared cache): not a rolled-back write, not a write undone by `rollback_to`.
async fn documents_across_transactions(cx: Ctx) {
    let s = &cx.store;
    let v = |n: u32| json!({ "v": n });
    let mut tx = begin(s).await;
    tx.put_document("order", "o1", &v(1), 1).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(tx.get_document("order", "o1").await.unwrap(), Some(v(1)));
    tx.put_document("order", "o1", &v(2), 2).await.unwrap();
    // Flushed to the database inside the transaction, then rolled back with it.
    assert_eq!(tx.list_documents("order", "").await.unwrap(), ["o1"]);
    tx.rollback().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(tx.get_document("order", "o1").await.unwrap(), Some(v(1)));
    tx.put_document("order", "o1", &v(2), 2).await.unwrap();
    let sp = tx.savepoint().await.unwrap();
    tx.put_document("order", "o1", &v(3), 3).await.unwrap();
    assert_eq!(tx.count_documents("order").await.unwrap(), 1);
    assert_eq!(tx.get_document("order", "o1").await.unwrap(), Some(v(3)));
    tx.rollback_to(sp).await.unwrap();
    assert_eq!(
        tx.get_document("order", "o1").await.unwrap(),
        Some(v(2)),
        "the write before the savepoint stays"
    );
    assert_eq!(tx.get_document("order", "o2").await.unwrap(), None);
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(tx.get_document("order", "o1").await.unwrap(), Some(v(2)));
    tx.put_document("order", "o1", &v(4), 4).await.unwrap();
    tx.put_document("order", "o2", &v(1), 4).await.unwrap();
    drop(tx);

    let mut tx = begin(s).await;
    assert_eq!(
        tx.get_document("order", "o1").await.unwrap(),
        Some(v(2)),
        "a dropped transaction changes nothing"
    );
    assert_eq!(tx.get_document("order", "o2").await.unwrap(), None);
    tx.put_document("order", "o2", &v(5), 5).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(
        tx.get_document("order", "o2").await.unwrap(),
        Some(v(5)),
        "a document missing before is found once written"
    );
    tx.rollback().await.unwrap();

    // A transaction writing more than the shared cache holds (70 MiB): what it wrote is
    // still what the next one reads.
    let big = json!({ "pad": "x".repeat(1 << 20) });
    let mut tx = begin(s).await;
    tx.put_document("order", "o1", &v(6), 6).await.unwrap();
    for n in 0..70 {
        tx.put_document("blob", &format!("b{n}"), &big, 6)
            .await
            .unwrap();
    }
    tx.put_document("order", "o2", &v(6), 6).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(s).await;
    assert_eq!(tx.get_document("order", "o1").await.unwrap(), Some(v(6)));
    assert_eq!(tx.get_document("order", "o2").await.unwrap(), Some(v(6)));
    assert_eq!(tx.get_document("blob", "b69").await.unwrap(), Some(big));
    tx.rollback().await.unwrap();
}

async fn waiters_for_many_keys(cx: Ctx) {
    let s = &cx.store;
    let w = |inst: &str| Waiter {
        instance_id: inst.into(),
        step: "await_payment".into(),
        token: 1,
    };
    let mut tx = begin(s).await;
    for i in 0..400 {
        tx.add_wait("payment", &format!("INV-{i}"), &w(&format!("i{i:03}")))
            .await
            .unwrap();
    }
    tx.add_wait("payment", "INV-7", &w("j007")).await.unwrap();
    tx.add_wait("shipment", "INV-8", &w("k008")).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    // Buffered in this transaction: taken with the rest.
    tx.add_wait("payment", "INV-new", &w("n")).await.unwrap();
    let keys: Vec<String> = (0..350).map(|i| format!("INV-{i}")).collect();
    let mut asked: Vec<&str> = keys.iter().map(String::as_str).collect();
    asked.extend(["INV-7", "INV-new", "INV-none"]);
    let got = tx.take_waiters_many("payment", &asked).await.unwrap();
    assert_eq!(got.len(), 351, "every key with a waiter, and only those");
    assert_eq!(
        got["INV-7"],
        vec![w("i007"), w("j007")],
        "in instance order"
    );
    assert_eq!(got["INV-new"], vec![w("n")]);
    assert_eq!(got["INV-8"], vec![w("i008")], "not the shipment wait");
    assert!(!got.contains_key("INV-none"));
    assert!(
        tx.take_waiters_many("payment", &asked)
            .await
            .unwrap()
            .is_empty(),
        "taken once"
    );
    assert_eq!(
        tx.take_waiters("payment", "INV-399").await.unwrap(),
        vec![w("i399")]
    );
    assert_eq!(
        tx.take_waiters("shipment", "INV-8").await.unwrap(),
        vec![w("k008")],
        "other events untouched"
    );
    tx.commit().await.unwrap();
}

/// On SQLite a transaction remembers which keys have pending events; what it adds, takes and
/// rolls back must still be exactly what a fresh query would say.
async fn pending_events_seen_within_a_transaction(cx: Ctx) {
    let s = &cx.store;
    let mut tx = begin(s).await;
    assert_eq!(tx.take_pending_event("payment", "A").await.unwrap(), None);
    tx.add_pending_event("payment", "A", "paid", &json!({ "n": 1 }), 1)
        .await
        .unwrap();
    assert_eq!(
        tx.take_pending_event("payment", "A")
            .await
            .unwrap()
            .map(|e| e.payload),
        Some(json!({ "n": 1 })),
        "added after the first look"
    );
    assert_eq!(tx.take_pending_event("payment", "A").await.unwrap(), None);
    let sp = tx.savepoint().await.unwrap();
    tx.add_pending_event("payment", "B", "paid", &json!({ "n": 2 }), 2)
        .await
        .unwrap();
    tx.rollback_to(sp).await.unwrap();
    assert_eq!(
        tx.take_pending_event("payment", "B").await.unwrap(),
        None,
        "rolled back"
    );
    tx.add_pending_event("payment", "C", "paid", &json!({ "n": 3 }), 3)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(tx.take_pending_event("payment", "A").await.unwrap(), None);
    assert_eq!(
        tx.take_pending_event("payment", "C")
            .await
            .unwrap()
            .map(|e| e.outcome),
        Some("paid".to_string()),
        "committed in an earlier transaction"
    );
    tx.commit().await.unwrap();
}

async fn number_series_gapless(cx: Ctx) {
    let s = &cx.store;
    let mut tx = begin(s).await;
    assert_eq!(tx.current_number("INV").await.unwrap(), 0);
    assert_eq!(tx.next_number("INV").await.unwrap(), 1);
    tx.commit().await.unwrap();
    let mut tx = begin(s).await;
    assert_eq!(tx.next_number("INV").await.unwrap(), 2);
    assert_eq!(
        tx.next_number("CN").await.unwrap(),
        1,
        "series are independent"
    );
    tx.commit().await.unwrap();
    let mut tx = begin(s).await;
    assert_eq!(tx.next_number("INV").await.unwrap(), 3);
    assert_eq!(tx.current_number("INV").await.unwrap(), 3);
    tx.rollback().await.unwrap();
    {
        let mut tx = begin(s).await;
        assert_eq!(
            tx.next_number("INV").await.unwrap(),
            3,
            "the rolled back number is reused"
        );
        // dropped: rolled back as well
    }
    let mut tx = begin(s).await;
    assert_eq!(tx.current_number("INV").await.unwrap(), 2);
    assert_eq!(
        tx.next_number("INV").await.unwrap(),
        3,
        "gapless after rollback and drop"
    );
    assert_eq!(tx.next_number("INV").await.unwrap(), 4);
    tx.commit().await.unwrap();
    let mut tx = begin(s).await;
    assert_eq!(tx.current_number("INV").await.unwrap(), 4);
    assert_eq!(tx.current_number("CN").await.unwrap(), 1);
    assert_eq!(tx.current_number("new").await.unwrap(), 0);
    tx.rollback().await.unwrap();
}

/// Documents, number series and stock inside savepoints (SQLite buffers these writes in the
/// transaction and caches what it read; PostgreSQL writes through): every read sees the
/// transaction's own writes, lists and counts include unflushed ones, and rolling back to a
/// savepoint undoes exactly what followed it.
/// Audit records are buffered (`store::service`): written in append order, the ones appended
/// after a savepoint gone with it, and seen by `audit_list` in the same transaction.
async fn audit_records_follow_savepoints(cx: Ctx) {
    use super::service::{AuditFilter, AuditRow};
    let rec = |action: &str| AuditRow {
        seq: 0,
        at: 1,
        actor: "system".into(),
        via: "cli".into(),
        action: action.into(),
        subject: "test/1".into(),
        order_id: None,
        before: None,
        after: Some(json!({ "a": action })),
    };
    let all = AuditFilter {
        since: None,
        actor: None,
        order_id: None,
        after_seq: 0,
        limit: 100,
    };
    let actions = |rows: Vec<AuditRow>| rows.into_iter().map(|r| r.action).collect::<Vec<_>>();
    let mut tx = begin(&cx.store).await;
    tx.audit_append(rec("a")).await.unwrap();
    tx.audit_append(rec("b")).await.unwrap();
    let sp = tx.savepoint().await.unwrap();
    tx.audit_append(rec("gone")).await.unwrap();
    tx.rollback_to(sp).await.unwrap();
    tx.audit_append(rec("c")).await.unwrap();
    assert_eq!(actions(tx.audit_list(&all).await.unwrap()), ["a", "b", "c"]);
    tx.audit_append(rec("d")).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(&cx.store).await;
    let rows = tx.audit_list(&all).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(rows.windows(2).all(|w| w[0].seq < w[1].seq), "{rows:?}");
    assert_eq!(rows[3].after, Some(json!({ "a": "d" })));
    assert_eq!(actions(rows), ["a", "b", "c", "d"]);
}

/// `prefetch_documents` answers as `get_document` would: found, missing, and this
/// transaction's own writes, before and after the prefetch.
async fn prefetched_documents(cx: Ctx) {
    let mut tx = begin(&cx.store).await;
    tx.put_document("order", "O1", &json!({ "v": 1 }), 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(&cx.store).await;
    tx.put_document("order", "O2", &json!({ "v": 2 }), 1)
        .await
        .unwrap();
    tx.prefetch_documents("order", &["O1", "O2", "O3", "O1"])
        .await
        .unwrap();
    assert_eq!(
        tx.get_document("order", "O1").await.unwrap(),
        Some(json!({ "v": 1 }))
    );
    assert_eq!(
        tx.get_document("order", "O2").await.unwrap(),
        Some(json!({ "v": 2 }))
    );
    assert_eq!(tx.get_document("order", "O3").await.unwrap(), None);
    // a missing one claimed after the prefetch is this transaction's
    assert_eq!(
        tx.claim_document("order", "O3", &json!({ "v": 3 }), 1)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        tx.claim_document("order", "O1", &json!({ "v": 9 }), 1)
            .await
            .unwrap(),
        Some(json!({ "v": 1 }))
    );
    tx.commit().await.unwrap();
    let mut tx = begin(&cx.store).await;
    assert_eq!(
        tx.get_document("order", "O3").await.unwrap(),
        Some(json!({ "v": 3 }))
    );
    tx.rollback().await.unwrap();
}

async fn business_writes_follow_savepoints(cx: Ctx) {
    let s = &cx.store;
    let mut tx = begin(s).await;
    tx.put_document("customer", "C1", &json!({ "v": 1 }), 1)
        .await
        .unwrap();
    assert_eq!(tx.next_number("INV").await.unwrap(), 1);
    assert_eq!(
        tx.adjust_stock("W", "main", Decimal::from(5))
            .await
            .unwrap(),
        Decimal::from(5)
    );
    let sp = tx.savepoint().await.unwrap();
    tx.put_document("customer", "C1", &json!({ "v": 2 }), 2)
        .await
        .unwrap();
    tx.put_document("customer", "C2", &json!({ "v": 9 }), 2)
        .await
        .unwrap();
    assert_eq!(tx.next_number("INV").await.unwrap(), 2);
    assert_eq!(tx.next_number("INV").await.unwrap(), 3);
    assert_eq!(
        tx.adjust_stock("W", "main", Decimal::from(-2))
            .await
            .unwrap(),
        Decimal::from(3)
    );
    assert_eq!(
        tx.get_document("customer", "C1").await.unwrap(),
        Some(json!({ "v": 2 })),
        "a read sees the transaction's own write"
    );
    assert_eq!(
        tx.list_documents("customer", "").await.unwrap(),
        ["C1", "C2"],
        "a list includes writes not yet flushed"
    );
    assert_eq!(tx.count_documents("customer").await.unwrap(), 2);
    assert_eq!(tx.current_number("INV").await.unwrap(), 3);
    assert_eq!(tx.stock_level("W", "main").await.unwrap(), Decimal::from(3));
    tx.rollback_to(sp).await.unwrap();
    assert_eq!(
        tx.get_document("customer", "C1").await.unwrap(),
        Some(json!({ "v": 1 })),
        "the write after the savepoint is undone"
    );
    assert_eq!(tx.get_document("customer", "C2").await.unwrap(), None);
    assert_eq!(tx.current_number("INV").await.unwrap(), 1);
    assert_eq!(
        tx.next_number("INV").await.unwrap(),
        2,
        "numbers taken after the savepoint are given again: no gap"
    );
    assert_eq!(tx.stock_level("W", "main").await.unwrap(), Decimal::from(5));
    // A released savepoint keeps what it wrapped.
    let sp = tx.savepoint().await.unwrap();
    tx.put_document("customer", "C3", &json!({ "v": 3 }), 3)
        .await
        .unwrap();
    tx.adjust_stock("W", "main", Decimal::from(1))
        .await
        .unwrap();
    tx.release(sp).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(
        tx.get_document("customer", "C1").await.unwrap(),
        Some(json!({ "v": 1 }))
    );
    assert_eq!(
        tx.get_document("customer", "C3").await.unwrap(),
        Some(json!({ "v": 3 }))
    );
    assert_eq!(
        tx.list_documents("customer", "").await.unwrap(),
        ["C1", "C3"]
    );
    assert_eq!(tx.current_number("INV").await.unwrap(), 2);
    assert_eq!(tx.stock_level("W", "main").await.unwrap(), Decimal::from(6));
    tx.rollback().await.unwrap();
}

async fn number_series_concurrent(cx: Ctx) {
    let mut handles = Vec::new();
    for worker in 0..2 {
        let store = cx.store.clone();
        handles.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..50 {
                if i % 7 == worker {
                    // A number taken and rolled back is handed out again.
                    let mut tx = store.begin().await.unwrap();
                    tx.next_number("SO").await.unwrap();
                    tx.rollback().await.unwrap();
                }
                let mut tx = store.begin().await.unwrap();
                let n = tx.next_number("SO").await.unwrap();
                tx.commit().await.unwrap();
                got.push(n);
                tokio::task::yield_now().await;
            }
            got
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        let got = h.await.unwrap();
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "each worker sees increasing numbers: {got:?}"
        );
        all.extend(got);
    }
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=100).collect::<Vec<i64>>(),
        "exactly 1..=100, no duplicates, no gaps"
    );
    let mut tx = begin(&cx.store).await;
    assert_eq!(tx.current_number("SO").await.unwrap(), 100);
    tx.rollback().await.unwrap();
}

/// Two transactions take the same stock rows and number series in opposite orders — the
/// pattern of two step batches allocating the same items for their orders and invoicing in
/// between. Without a global lock order on PostgreSQL one of them is a deadlock victim
/// (40P01); with the hot-rows lock both commit, the second after the first, and every level
/// and number counts both. Each waits at most 300 ms for the other to lock its first row, so
/// the test does not hang when the second cannot start (SQLite's single writer, the hot lock).
async fn hot_rows_in_any_order(cx: Ctx) {
    let mut tx = begin(&cx.store).await;
    tx.adjust_stock("HOT-A", "main", dec("10")).await.unwrap();
    tx.adjust_stock("HOT-B", "main", dec("10")).await.unwrap();
    tx.commit().await.unwrap();
    let (a_locked, a_seen) = tokio::sync::oneshot::channel::<()>();
    let (b_locked, b_seen) = tokio::sync::oneshot::channel::<()>();
    let run = |store: Arc<dyn Store>,
               first: &'static str,
               second: &'static str,
               locked: tokio::sync::oneshot::Sender<()>,
               other: tokio::sync::oneshot::Receiver<()>| async move {
        let mut tx = store.begin().await?;
        let level = tx.adjust_stock(first, "main", dec("-1")).await?;
        let _ = locked.send(());
        let _ = tokio::time::timeout(Duration::from_millis(300), other).await;
        let n = tx.next_number("hot-inv").await?;
        // The cached, locked level: this transaction's own change, not yet written.
        assert_eq!(tx.stock_level(first, "main").await?, level);
        tx.adjust_stock(second, "main", dec("-1")).await?;
        tx.adjust_stock(first, "main", dec("-1")).await?;
        let m = tx.next_number("hot-inv").await?;
        assert_eq!(
            m,
            n + 1,
            "a series this transaction holds goes on from its own value"
        );
        tx.commit().await?;
        Ok::<(i64, i64), StoreError>((n, m))
    };
    let t1 = tokio::spawn(run(cx.store.clone(), "HOT-A", "HOT-B", a_locked, b_seen));
    let t2 = tokio::spawn(run(cx.store.clone(), "HOT-B", "HOT-A", b_locked, a_seen));
    let r1 = t1
        .await
        .unwrap()
        .expect("first transaction commits, no deadlock");
    let r2 = t2
        .await
        .unwrap()
        .expect("second transaction commits, no deadlock");
    let mut numbers = vec![r1.0, r1.1, r2.0, r2.1];
    numbers.sort_unstable();
    assert_eq!(numbers, vec![1, 2, 3, 4], "gapless and unique across both");
    let mut tx = begin(&cx.store).await;
    assert_eq!(tx.stock_level("HOT-A", "main").await.unwrap(), dec("7"));
    assert_eq!(tx.stock_level("HOT-B", "main").await.unwrap(), dec("7"));
    assert_eq!(tx.current_number("hot-inv").await.unwrap(), 4);
    tx.rollback().await.unwrap();
}

/// Delivers `payment.matched` for `key` as `Engine::emit_events` does: to its waiters, or
/// kept as pending when nobody waits. The waiters it resolved.
async fn deliver(tx: &mut dyn Tx, key: &str) -> Result<Vec<Waiter>, StoreError> {
    let found = tx.take_waiters("payment.matched", key).await?;
    if found.is_empty() {
        tx.add_pending_event("payment.matched", key, "received", &json!({}), 2)
            .await?;
    }
    Ok(found)
}

/// One instance reaches its `wait:` (no pending event: it registers a wait) while another
/// transaction — another process — delivers the event for the same key (no waiter: it keeps
/// the event as pending). Both read one table and write the other, after buffered writes
/// (a document each). Whichever order they run in, the event must not be lost: the second
/// must see the first's commit. Without a common lock on PostgreSQL each misses the other's
/// uncommitted row, and the wait and the pending event both stay (the cluster demo's paid
/// invoices that ended in collection). The registering side holds its transaction open up to
/// 300 ms after the other started, so the test does not hang where the other cannot start
/// before it commits (SQLite's single writer, the lock).
async fn wait_and_event_at_once(cx: Ctx) {
    let w = Waiter {
        instance_id: "i-race".into(),
        step: "await_payment".into(),
        token: 3,
    };
    let (started, started_seen) = tokio::sync::oneshot::channel::<()>();
    let (delivered, delivered_seen) = tokio::sync::oneshot::channel::<()>();
    let store = cx.store.clone();
    let waiter = w.clone();
    let registering = tokio::spawn(async move {
        let mut tx = store.begin().await?;
        tx.put_document("invoice", "INV-R", &json!({ "status": "open" }), 1)
            .await?;
        assert_eq!(
            tx.get_document("invoice", "INV-R").await?,
            Some(json!({ "status": "open" })),
            "a buffered write reads back in its transaction"
        );
        assert!(
            tx.take_pending_event("payment.matched", "INV-R")
                .await?
                .is_none()
        );
        tx.add_wait("payment.matched", "INV-R", &waiter).await?;
        let _ = started.send(());
        let _ = tokio::time::timeout(Duration::from_millis(300), delivered_seen).await;
        tx.commit().await?;
        Ok::<(), StoreError>(())
    });
    let store = cx.store.clone();
    let delivering = tokio::spawn(async move {
        let _ = started_seen.await;
        let mut tx = store.begin().await?;
        tx.put_document("payment", "PAY-R", &json!({ "invoice": "INV-R" }), 2)
            .await?;
        let found = deliver(tx.as_mut(), "INV-R").await?;
        // Read after the waits: the registering transaction's document, committed.
        let invoice = tx.get_document("invoice", "INV-R").await?;
        tx.commit().await?;
        let _ = delivered.send(());
        Ok::<_, StoreError>((found, invoice))
    });
    registering.await.unwrap().expect("the wait is registered");
    let (found, invoice) = delivering.await.unwrap().expect("the event is delivered");
    assert_eq!(
        found,
        vec![w],
        "the event reaches the wait registered just before it"
    );
    assert_eq!(invoice, Some(json!({ "status": "open" })));
    let mut tx = begin(&cx.store).await;
    assert!(
        tx.take_pending_event("payment.matched", "INV-R")
            .await
            .unwrap()
            .is_none(),
        "no pending event left over beside a resolved wait"
    );
    assert_eq!(
        tx.take_waiters("payment.matched", "INV-R").await.unwrap(),
        vec![]
    );
    assert_eq!(
        tx.get_document("payment", "PAY-R").await.unwrap(),
        Some(json!({ "invoice": "INV-R" }))
    );
    tx.rollback().await.unwrap();
}

/// A wait's timer fired while its event arrived. The timeout takes the wait (`take_wait`)
/// and moves the instance on to a new wait (a dunning round: token 4 → 5) while the event
/// is delivered at once in another transaction: the event must resolve the new wait, not the
/// taken one (whose Resolve would be stale and lost). And once an event has taken a wait, a
/// late timeout for it finds it gone and must not move the instance on.
async fn timeout_and_event_at_once(cx: Ctx) {
    let w = |token: i64| Waiter {
        instance_id: "i-dun".into(),
        step: "await_payment".into(),
        token,
    };
    let mut tx = begin(&cx.store).await;
    tx.add_wait("payment.matched", "INV-T", &w(4))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let (started, started_seen) = tokio::sync::oneshot::channel::<()>();
    let (delivered, delivered_seen) = tokio::sync::oneshot::channel::<()>();
    let store = cx.store.clone();
    let timing_out = tokio::spawn(async move {
        let mut tx = store.begin().await?;
        assert!(
            tx.take_wait("i-dun", 4).await?,
            "the timeout takes the wait first"
        );
        let _ = started.send(());
        tx.put_document("invoice", "INV-T", &json!({ "reminded": 1 }), 1)
            .await?;
        assert!(
            tx.take_pending_event("payment.matched", "INV-T")
                .await?
                .is_none()
        );
        tx.add_wait("payment.matched", "INV-T", &w(5)).await?;
        let _ = tokio::time::timeout(Duration::from_millis(300), delivered_seen).await;
        tx.commit().await?;
        Ok::<(), StoreError>(())
    });
    let store = cx.store.clone();
    let delivering = tokio::spawn(async move {
        let _ = started_seen.await;
        let mut tx = store.begin().await?;
        let found = deliver(tx.as_mut(), "INV-T").await?;
        tx.commit().await?;
        let _ = delivered.send(());
        Ok::<_, StoreError>(found)
    });
    timing_out.await.unwrap().expect("the timeout commits");
    let found = delivering.await.unwrap().expect("the event is delivered");
    assert_eq!(
        found,
        vec![w(5)],
        "the event resolves the wait of the new round"
    );

    // The event took the wait; the timeout that fired before arrives late.
    let mut tx = begin(&cx.store).await;
    tx.add_wait("payment.matched", "INV-T", &w(6))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(&cx.store).await;
    assert_eq!(
        tx.take_waiters("payment.matched", "INV-T").await.unwrap(),
        vec![w(6)]
    );
    tx.commit().await.unwrap();
    let mut tx = begin(&cx.store).await;
    assert!(
        !tx.take_wait("i-dun", 6).await.unwrap(),
        "taken by the event: the timeout loses"
    );
    // A wait registered in this transaction, not written yet, is found; another token is not.
    tx.add_wait("payment.matched", "INV-T", &w(7))
        .await
        .unwrap();
    assert!(!tx.take_wait("i-dun", 6).await.unwrap());
    assert!(tx.take_wait("i-dun", 7).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = begin(&cx.store).await;
    assert_eq!(
        tx.take_waiters("payment.matched", "INV-T").await.unwrap(),
        vec![]
    );
    assert!(
        tx.take_pending_event("payment.matched", "INV-T")
            .await
            .unwrap()
            .is_none()
    );
    tx.rollback().await.unwrap();
}

async fn claimed_documents(cx: Ctx) {
    let mut tx = begin(&cx.store).await;
    let a = json!({ "order": "A" });
    assert_eq!(
        tx.claim_document("order_po", "C:1", &a, 1).await.unwrap(),
        None
    );
    // The claim is this transaction's write: seen by a second claim and by a read.
    let b = json!({ "order": "B" });
    assert_eq!(
        tx.claim_document("order_po", "C:1", &b, 2).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        tx.get_document("order_po", "C:1").await.unwrap(),
        Some(a.clone())
    );
    // A buffered `put_document` is seen by a claim.
    tx.put_document("order", "X", &json!({ "n": 1 }), 3)
        .await
        .unwrap();
    assert_eq!(
        tx.claim_document("order", "X", &json!({ "n": 2 }), 4)
            .await
            .unwrap(),
        Some(json!({ "n": 1 }))
    );
    // A claim rolled back to a savepoint is gone, and can be made again.
    let sp = tx.savepoint().await.unwrap();
    assert_eq!(
        tx.claim_document("order", "Y", &json!(1), 5).await.unwrap(),
        None
    );
    tx.rollback_to(sp).await.unwrap();
    assert_eq!(tx.get_document("order", "Y").await.unwrap(), None);
    assert_eq!(
        tx.claim_document("order", "Y", &json!(2), 6).await.unwrap(),
        None
    );
    assert_eq!(
        tx.count_documents("order").await.unwrap(),
        2,
        "X and Y, once each"
    );
    tx.commit().await.unwrap();
    // Committed: another transaction's claim gets the first body; nothing is overwritten.
    let mut tx = begin(&cx.store).await;
    assert_eq!(
        tx.claim_document("order_po", "C:1", &b, 7).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        tx.claim_document("order", "Y", &json!(3), 8).await.unwrap(),
        Some(json!(2))
    );
    tx.commit().await.unwrap();
    let mut tx = begin(&cx.store).await;
    assert_eq!(tx.get_document("order_po", "C:1").await.unwrap(), Some(a));
    tx.rollback().await.unwrap();
}

/// Concurrent claims of one key: the database decides, exactly one wins; a claimer waiting on
/// an uncommitted claim sees it once committed, and wins when it was rolled back.
async fn claims_race(cx: Ctx) {
    for round in 0..3 {
        let key = format!("C:race-{round}");
        let mut handles = Vec::new();
        for n in 0..6 {
            let store = cx.store.clone();
            let key = key.clone();
            handles.push(tokio::spawn(async move {
                let mut tx = store.begin().await.unwrap();
                let got = tx
                    .claim_document("order_po", &key, &json!({ "order": n }), 1)
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
                tx.commit().await.unwrap();
                got
            }));
        }
        let mut winners = 0;
        let mut seen = Vec::new();
        for h in handles {
            match h.await.unwrap() {
                None => winners += 1,
                Some(v) => seen.push(v),
            }
        }
        assert_eq!(
            winners, 1,
            "round {round}: exactly one claim wins: {seen:?}"
        );
        let mut tx = begin(&cx.store).await;
        let stored = tx.get_document("order_po", &key).await.unwrap();
        tx.rollback().await.unwrap();
        assert!(
            seen.iter().all(|v| Some(v) == stored.as_ref()),
            "{seen:?} vs {stored:?}"
        );
    }
    // A claim waiting on one that is rolled back wins.
    let mut first = begin(&cx.store).await;
    assert_eq!(
        first
            .claim_document("order_po", "C:rb", &json!(1), 1)
            .await
            .unwrap(),
        None
    );
    let store = cx.store.clone();
    let second = tokio::spawn(async move {
        let mut tx = store.begin().await.unwrap();
        let got = tx
            .claim_document("order_po", "C:rb", &json!(2), 2)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        got
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    first.rollback().await.unwrap();
    assert_eq!(
        second.await.unwrap(),
        None,
        "the rolled-back claim left the key free"
    );
    let mut tx = begin(&cx.store).await;
    assert_eq!(
        tx.get_document("order_po", "C:rb").await.unwrap(),
        Some(json!(2))
    );
    tx.rollback().await.unwrap();
}

async fn stock_exact_decimals(cx: Ctx) {
    let s = &cx.store;
    let mut tx = begin(s).await;
    assert_eq!(tx.stock_level("SKU-1", "WH1").await.unwrap(), Decimal::ZERO);
    assert_eq!(
        tx.adjust_stock("SKU-1", "WH1", dec("0.1")).await.unwrap(),
        dec("0.1")
    );
    let sum = tx.adjust_stock("SKU-1", "WH1", dec("0.2")).await.unwrap();
    assert_eq!(sum, dec("0.3"));
    assert_eq!(sum.to_string(), "0.3", "exact, no binary float");
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    let level = tx.stock_level("SKU-1", "WH1").await.unwrap();
    assert_eq!(level, dec("0.3"));
    assert_eq!(level.normalize().to_string(), "0.3");
    assert_eq!(
        tx.stock_level("SKU-1", "WH2").await.unwrap(),
        Decimal::ZERO,
        "locations are separate"
    );

    let big = dec("12345678901234567.10");
    assert_eq!(tx.adjust_stock("SKU-BIG", "WH1", big).await.unwrap(), big);
    assert_eq!(
        tx.adjust_stock("SKU-BIG", "WH1", dec("0.01"))
            .await
            .unwrap(),
        dec("12345678901234567.11")
    );
    assert_eq!(
        tx.adjust_stock("SKU-BIG", "WH1", dec("-0.01"))
            .await
            .unwrap(),
        big
    );

    // Negative results are kept (oversold), not clamped.
    assert_eq!(
        tx.adjust_stock("SKU-2", "WH1", dec("-5")).await.unwrap(),
        dec("-5")
    );
    assert_eq!(
        tx.adjust_stock("SKU-2", "WH1", dec("2.25")).await.unwrap(),
        dec("-2.75")
    );
    assert_eq!(
        tx.adjust_stock("SKU-1", "WH1", dec("-0.3")).await.unwrap(),
        Decimal::ZERO
    );
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    let big_level = tx.stock_level("SKU-BIG", "WH1").await.unwrap();
    assert_eq!(big_level, big);
    assert_eq!(big_level.normalize().to_string(), "12345678901234567.1");
    assert_eq!(tx.stock_level("SKU-2", "WH1").await.unwrap(), dec("-2.75"));
    assert_eq!(tx.stock_level("SKU-1", "WH1").await.unwrap(), Decimal::ZERO);
    tx.adjust_stock("SKU-2", "WH1", dec("100")).await.unwrap();
    tx.rollback().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(
        tx.stock_level("SKU-2", "WH1").await.unwrap(),
        dec("-2.75"),
        "rolled back adjustment"
    );
    tx.rollback().await.unwrap();
}

async fn outbound(cx: Ctx) {
    let s = &cx.store;
    let payload = exact_json(r#"{"invoice": "INV-1", "total": 100.10}"#);
    let mut tx = begin(s).await;
    tx.add_outbound("edi", "INV-1", Some("i1"), &payload, 1)
        .await
        .unwrap();
    // The same (channel, key) again, in the same transaction: the first one is kept.
    tx.add_outbound("edi", "INV-1", Some("i2"), &json!({"other": true}), 2)
        .await
        .unwrap();
    tx.add_outbound("mail", "INV-1", None, &json!({}), 3)
        .await
        .unwrap();
    let sp = tx.savepoint().await.unwrap();
    tx.add_outbound("edi", "INV-9", None, &json!({}), 3)
        .await
        .unwrap();
    tx.rollback_to(sp).await.unwrap();
    tx.add_outbound("edi", "INV-2", Some("i1"), &json!({"n": 2}), 4)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    // And in a later transaction: still the first one.
    tx.add_outbound("edi", "INV-1", None, &json!({}), 5)
        .await
        .unwrap();
    let unsent = tx.unsent_outbound(10).await.unwrap();
    assert_eq!(
        unsent
            .iter()
            .map(|o| (o.channel.as_str(), o.key.as_str()))
            .collect::<Vec<_>>(),
        [("edi", "INV-1"), ("mail", "INV-1"), ("edi", "INV-2")]
    );
    let first = &unsent[0];
    assert_eq!(first.instance_id.as_deref(), Some("i1"));
    assert_eq!(first.payload, payload, "the first payload is kept");
    assert_eq!(first.attempts, 0);
    assert_eq!(unsent[1].instance_id, None);
    assert_eq!(tx.unsent_outbound(1).await.unwrap().len(), 1, "limit");

    // A failed attempt keeps it unsent and counts; a sent one leaves the unsent list.
    tx.mark_outbound(&[first.id], None, Some("connection refused"))
        .await
        .unwrap();
    tx.mark_outbound(&[unsent[1].id], Some(10), None)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    let unsent2 = tx.unsent_outbound(10).await.unwrap();
    assert_eq!(
        unsent2.iter().map(|o| o.id).collect::<Vec<_>>(),
        [unsent[2].id, unsent[0].id],
        "the failed one waits behind the never-tried ones"
    );
    assert_eq!(unsent2[1].attempts, 1);
    assert_eq!(
        tx.unsent_outbound(1).await.unwrap()[0].id,
        unsent[2].id,
        "a failing message does not block the head of the list"
    );
    tx.mark_outbound(&[unsent2[1].id], Some(20), None)
        .await
        .unwrap();
    let unsent3 = tx.unsent_outbound(10).await.unwrap();
    assert_eq!(
        unsent3.iter().map(|o| o.id).collect::<Vec<_>>(),
        [unsent[2].id]
    );
    assert_eq!(
        tx.count_outbound("edi").await.unwrap(),
        2,
        "counts sent and unsent"
    );
    assert_eq!(tx.count_outbound("mail").await.unwrap(), 1);
    assert_eq!(tx.count_outbound("fax").await.unwrap(), 0);
    tx.rollback().await.unwrap();
}

async fn workflow_defs(cx: Ctx) {
    let s = &cx.store;
    let mut tx = begin(s).await;
    assert_eq!(tx.get_workflow_def("order", 1).await.unwrap(), None);
    tx.put_workflow_def("order", 1, "h1", "workflows/order.yaml", "steps: []\n", 1)
        .await
        .unwrap();
    tx.put_workflow_def("order", 1, "h1", "elsewhere/order.yaml", "steps: []\n", 2)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    tx.put_workflow_def("order", 1, "h1", "workflows/order.yaml", "steps: []\n", 3)
        .await
        .unwrap();
    match tx
        .put_workflow_def("order", 1, "h2", "workflows/order.yaml", "steps: [x]\n", 4)
        .await
    {
        Err(StoreError::Duplicate { kind, key }) => {
            assert_eq!(kind, "workflow version");
            assert_eq!(key, "order v1");
        }
        other => {
            panic!("a changed definition under the same version must be Duplicate, got {other:?}")
        }
    }
    tx.put_workflow_def("order", 2, "h2", "workflows/order.yaml", "steps: [x]\n", 5)
        .await
        .unwrap();
    tx.put_workflow_def(
        "invoice",
        1,
        "h3",
        "workflows/invoice.yaml",
        "steps: [y]\n",
        6,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    let def = |h: &str, p: &str, src: &str| Some((h.to_string(), p.to_string(), src.to_string()));
    assert_eq!(
        tx.get_workflow_def("order", 1).await.unwrap(),
        def("h1", "workflows/order.yaml", "steps: []\n")
    );
    assert_eq!(
        tx.get_workflow_def("order", 2).await.unwrap(),
        def("h2", "workflows/order.yaml", "steps: [x]\n")
    );
    assert_eq!(
        tx.get_workflow_def("invoice", 1).await.unwrap(),
        def("h3", "workflows/invoice.yaml", "steps: [y]\n")
    );
    assert_eq!(tx.get_workflow_def("invoice", 2).await.unwrap(), None);
    tx.rollback().await.unwrap();
}

async fn kv(cx: Ctx) {
    let s = &cx.store;
    let mut tx = begin(s).await;
    assert_eq!(tx.kv_get("schema").await.unwrap(), None);
    tx.kv_set("schema", "1").await.unwrap();
    tx.kv_set("other", "x").await.unwrap();
    assert_eq!(tx.kv_get("schema").await.unwrap().as_deref(), Some("1"));
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    tx.kv_set("schema", "2").await.unwrap();
    tx.kv_set("empty", "").await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        read_kv(s, "schema").await.as_deref(),
        Some("2"),
        "overwrite"
    );
    assert_eq!(read_kv(s, "other").await.as_deref(), Some("x"));
    assert_eq!(read_kv(s, "empty").await.as_deref(), Some(""));
}

/// Console sessions and passwords: a session is found until it expires, deleted at sign-out,
/// purged when old; a session for a user who does not exist is refused by the store.
async fn console_sessions(cx: Ctx) {
    use super::service::UserRow;
    use super::sessions::SessionRow;
    let s = &cx.store;
    let now = now_ms();
    let mut tx = begin(s).await;
    let user = UserRow {
        name: "ana".into(),
        roles: "finance".into(),
        token_id: "t1".into(),
        token_hash: "h".into(),
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    assert!(tx.user_insert(&user).await.unwrap());
    assert_eq!(tx.user_password("ana").await.unwrap(), None);
    assert!(
        tx.user_set_password("ana", "$argon2id$x", now)
            .await
            .unwrap()
    );
    assert!(
        !tx.user_set_password("nobody", "$argon2id$x", now)
            .await
            .unwrap()
    );
    let row = |exp| SessionRow {
        user_name: "ana".into(),
        csrf: "c".into(),
        expires_at: exp,
    };
    tx.session_insert("live", &row(now + 60_000), now)
        .await
        .unwrap();
    tx.session_insert("old", &row(now - 1), now).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    assert_eq!(
        tx.user_password("ana").await.unwrap().as_deref(),
        Some("$argon2id$x")
    );
    let live = tx
        .session_get("live", now)
        .await
        .unwrap()
        .expect("live session");
    assert_eq!((live.user_name.as_str(), live.csrf.as_str()), ("ana", "c"));
    assert!(
        tx.session_get("old", now).await.unwrap().is_none(),
        "expired"
    );
    assert!(
        tx.session_get("live", now + 60_000)
            .await
            .unwrap()
            .is_none(),
        "expires"
    );
    assert_eq!(tx.session_purge(now).await.unwrap(), 1);
    tx.session_delete("live").await.unwrap();
    assert!(
        tx.session_get("live", now).await.unwrap().is_none(),
        "signed out"
    );
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    let orphan = SessionRow {
        user_name: "ghost".into(),
        ..row(now + 60_000)
    };
    let r = tx.session_insert("x", &orphan, now).await;
    assert!(r.is_err(), "a session needs a user (foreign key)");
    let _ = tx.rollback().await;
}

async fn enqueued_messages(cx: Ctx) {
    let s = &cx.store;
    let now = now_ms();
    let later = now + 3_600_000;
    let (m1, m2, m3) = (message("m1"), message("m2"), message("m3"));
    let mut tx = begin(s).await;
    assert!(tx.enqueued().is_empty());
    tx.enqueue(&m1, now);
    tx.enqueue(&m2, later);
    tx.enqueue(&m3, now);
    assert_eq!(
        tx.enqueued(),
        &[(m1.clone(), now), (m2.clone(), later), (m3.clone(), now)]
    );
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    tx.enqueue(&message("m-rolled-back"), now);
    tx.rollback().await.unwrap();

    match s.backend() {
        Backend::Sqlite => {
            let q = cx.embedded.as_ref().expect("embedded probe queue");
            let mut tx = begin(s).await;
            assert_eq!(
                tx.outbox_ready(i64::MAX, 10).await.unwrap(),
                vec![],
                "embedded does not use the outbox"
            );
            tx.rollback().await.unwrap();
            // Committed rows are in queue_messages; the delayed one is not visible yet.
            let got = q.receive(10, Duration::from_millis(200)).await.unwrap();
            assert_eq!(
                got.iter().map(|d| d.msg_id.as_str()).collect::<Vec<_>>(),
                ["m1", "m3"]
            );
            assert_eq!(StepMessage::decode(&got[0].body).unwrap(), m1);
            assert_eq!(StepMessage::decode(&got[1].body).unwrap(), m3);

            // ack_leased in a rolled back tx leaves the message; committed, it removes it.
            let mut tx = begin(s).await;
            tx.ack_leased(&[got[0].tag as i64]).await.unwrap();
            tx.rollback().await.unwrap();
            let mut tx = begin(s).await;
            tx.ack_leased(&[got[1].tag as i64]).await.unwrap();
            tx.commit().await.unwrap();
            let again = q.receive(10, PROBE_VISIBILITY * 4).await.unwrap();
            assert_eq!(
                again.iter().map(|d| d.msg_id.as_str()).collect::<Vec<_>>(),
                ["m1"],
                "m3 acked, m1 back after its lease"
            );
            assert!(again[0].redelivered);
        }
        Backend::Postgres => {
            let mut tx = begin(s).await;
            let ready = tx.outbox_ready(now, 10).await.unwrap();
            assert_eq!(ready.len(), 2, "the delayed message is not ready yet");
            assert_eq!(StepMessage::decode(&ready[0].1).unwrap(), m1);
            assert_eq!(StepMessage::decode(&ready[1].1).unwrap(), m3);
            assert_eq!((ready[0].2, ready[1].2), (now, now));
            assert!(ready[0].0 < ready[1].0, "oldest first");
            assert_eq!(tx.outbox_ready(now, 1).await.unwrap().len(), 1, "limit");
            let all = tx.outbox_ready(later, 10).await.unwrap();
            assert_eq!(
                all.iter()
                    .map(|r| StepMessage::decode(&r.1).unwrap().msg_id)
                    .collect::<Vec<_>>(),
                ["m1", "m2", "m3"]
            );
            assert_eq!(all[1].2, later);
            tx.outbox_delete(&[ready[0].0]).await.unwrap();
            tx.commit().await.unwrap();

            let mut tx = begin(s).await;
            let left = tx.outbox_ready(later, 10).await.unwrap();
            assert_eq!(
                left.iter().map(|r| r.0).collect::<Vec<_>>(),
                [all[1].0, all[2].0]
            );
            tx.outbox_delete_msgs(&["m2".to_string(), "m3".to_string(), "unknown".to_string()])
                .await
                .unwrap();
            tx.outbox_delete(&[]).await.unwrap();
            tx.outbox_delete_msgs(&[]).await.unwrap();
            assert_eq!(tx.outbox_ready(i64::MAX, 10).await.unwrap(), vec![]);
            tx.commit().await.unwrap();
        }
    }
}

/// An invoice document as the sales connectors write it, open for `open` (a number).
fn invoice_doc(number: &str, customer: &str, open: &str, status: &str) -> Value {
    json!({ "number": number, "status": status, "customer_id": customer, "currency": "EUR",
            "total": open, "open_amount": open, "issue_date": "2026-01-01",
            "due_date": "2026-01-31", "terms": { "net_days": 30 }, "payments": [],
            "paid_amount": 0, "discount_amount": 0, "discount_until": null,
            "discount_taken": 0, "dunning_level": 0, "overdue": false })
}

/// The open-items index (store/openitems.rs) follows every write of an invoice document in
/// the writing transaction: opened, paid in part, in transit, closed, broken; it rolls back
/// with a savepoint and with the transaction; lookups by key, customer and amount answer it.
async fn open_items_follow_invoice_writes(cx: Ctx) {
    use ordo_contract::recon_docs::OpenItemQuery;
    let s = &cx.store;
    let all = OpenItemQuery {
        all: true,
        ..OpenItemQuery::default()
    };
    let invoices = |f: &ordo_contract::recon_docs::OpenItemsFound| {
        f.rows
            .iter()
            .map(|r| (r.invoice.clone(), r.amount_open.to_string()))
            .collect::<Vec<_>>()
    };
    let mut tx = begin(s).await;
    tx.put_document(
        "invoice",
        "INV-2026-000042",
        &invoice_doc("INV-2026-000042", "C1", "100.00", "open"),
        1,
    )
    .await
    .unwrap();
    tx.put_document(
        "invoice",
        "INV-2026-000043",
        &invoice_doc("INV-2026-000043", "C2", "55.5", "open"),
        1,
    )
    .await
    .unwrap();
    tx.put_document("customer", "C1", &json!({ "name": "not an invoice" }), 1)
        .await
        .unwrap();
    let found = tx.open_items(&all).await.unwrap();
    assert_eq!(
        invoices(&found),
        [
            ("INV-2026-000042".to_string(), "100.00".to_string()),
            ("INV-2026-000043".to_string(), "55.5".to_string())
        ],
        "a transaction sees its own invoice writes in the index"
    );
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    let by = |keys: &[&str], customers: &[&str], amounts: &[&str]| OpenItemQuery {
        keys: keys.iter().map(|k| k.to_string()).collect(),
        customers: customers.iter().map(|k| k.to_string()).collect(),
        amounts: amounts
            .iter()
            .map(|a| Decimal::from_str(a).unwrap())
            .collect(),
        all: false,
    };
    // As the matcher normalises references: the full key, or the digits without zeros.
    let hit = tx
        .open_items(&by(&["INV2026000042"], &[], &[]))
        .await
        .unwrap();
    assert_eq!(
        invoices(&hit),
        [("INV-2026-000042".to_string(), "100.00".to_string())]
    );
    let hit = tx.open_items(&by(&["2026000043"], &[], &[])).await.unwrap();
    assert_eq!(
        invoices(&hit),
        [("INV-2026-000043".to_string(), "55.5".to_string())]
    );
    let hit = tx.open_items(&by(&[], &["C2"], &["100"])).await.unwrap();
    assert_eq!(hit.rows.len(), 2, "by customer or by amount (100 = 100.00)");
    assert!(
        tx.open_items(&by(&["42"], &["C9"], &["1"]))
            .await
            .unwrap()
            .rows
            .is_empty()
    );

    // A payment in transit lowers the open amount; paid closes it; a savepoint undoes both.
    let mut inv = invoice_doc("INV-2026-000042", "C1", "100.00", "open");
    inv["payments_in_transit"] = json!([{ "id": "PAY-1", "settles": "30" }]);
    tx.put_document("invoice", "INV-2026-000042", &inv, 2)
        .await
        .unwrap();
    let sp = tx.savepoint().await.unwrap();
    tx.put_document(
        "invoice",
        "INV-2026-000043",
        &invoice_doc("INV-2026-000043", "C2", "0", "paid"),
        2,
    )
    .await
    .unwrap();
    assert_eq!(
        invoices(&tx.open_items(&all).await.unwrap()),
        [("INV-2026-000042".to_string(), "70.00".to_string())]
    );
    tx.rollback_to(sp).await.unwrap();
    assert_eq!(
        invoices(&tx.open_items(&all).await.unwrap()),
        [
            ("INV-2026-000042".to_string(), "70.00".to_string()),
            ("INV-2026-000043".to_string(), "55.5".to_string())
        ],
        "the paid write after the savepoint is undone in the index too"
    );
    // A broken invoice is a located problem, not a row and not a zero.
    let mut broken = invoice_doc("INV-7", "C1", "5", "open");
    broken.as_object_mut().unwrap().remove("open_amount");
    tx.put_document("invoice", "INV-7", &broken, 3)
        .await
        .unwrap();
    let found = tx.open_items(&all).await.unwrap();
    assert_eq!(found.rows.len(), 2);
    assert_eq!(found.problems.len(), 1);
    assert!(
        found.problems[0].1.contains("INV-7") && found.problems[0].1.contains("open_amount"),
        "{:?}",
        found.problems
    );
    tx.rollback().await.unwrap();

    // The rolled-back transaction left the index as committed.
    let mut tx = begin(s).await;
    let found = tx.open_items(&all).await.unwrap();
    assert_eq!(
        invoices(&found),
        [
            ("INV-2026-000042".to_string(), "100.00".to_string()),
            ("INV-2026-000043".to_string(), "55.5".to_string())
        ]
    );
    assert!(found.problems.is_empty());
    // Invoices stored before migration 0018 are indexed when the mark is set.
    rebuild_when_marked(&mut *tx).await;
    tx.rollback().await.unwrap();
}

/// Sets the migration's rebuild mark and checks the rebuild indexes the stored invoices
/// again, once.
async fn rebuild_when_marked(tx: &mut dyn Tx) {
    use ordo_contract::recon_docs::OpenItemQuery;
    tx.kv_set(super::openitems::REBUILD_MARK, "test")
        .await
        .unwrap();
    assert_eq!(tx.rebuild_open_items_if_marked().await.unwrap(), 2);
    assert_eq!(
        tx.rebuild_open_items_if_marked().await.unwrap(),
        0,
        "the mark is gone"
    );
    let all = OpenItemQuery {
        all: true,
        ..OpenItemQuery::default()
    };
    assert_eq!(tx.open_items(&all).await.unwrap().rows.len(), 2);
}
