//! The runtime against steps and messages that misbehave: a connector that panics fails only
//! its instance, and a message whose batch keeps failing outside any step (here: an instance
//! row that no longer decodes) is dead-lettered after `MAX_DELIVERIES` while the rest of the
//! batch commits and `run` with `exit_when_idle` returns.

use super::defs;
use super::{Engine, RunOptions, run};
use crate::model::status;
use crate::queue::sqlite::SqliteQueue;
use crate::registry::Registry;
use crate::store::sqlite::Durability;
use crate::store::sqlite::SqliteStore;
use crate::testing::TempDir;
use async_trait::async_trait;
use ordo_contract::{Connector, StepContext, StepError, StepInput, StepOutput};
use std::sync::Arc;
use std::time::Duration;

/// Panics when the instance data says `boom`, else answers `ok`.
struct PanicIfBoom;

#[async_trait]
impl Connector for PanicIfBoom {
    fn name(&self) -> &'static str {
        "test.panic_if_boom"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["ok"]
    }
    async fn run(
        &self,
        _ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        if input.data["boom"] == true {
            panic!("boom in {}", input.instance);
        }
        Ok(StepOutput::outcome("ok"))
    }
}

const WORKFLOW: &str = "workflow: w\nversion: 1\nsteps:\n  go: { connector: test.panic_if_boom, then: done }\n  done: { end: completed }\n";

async fn engine(dir: &TempDir) -> (Arc<Engine>, SqliteStore) {
    let mut registry = Registry::standard();
    registry.add(Arc::new(PanicIfBoom));
    test_engine(
        dir,
        registry,
        vec![("workflows/w.yaml".into(), WORKFLOW.into())],
    )
    .await
}

/// An embedded engine in `dir` with `registry` and the workflow files given (path, text).
pub(crate) async fn test_engine(
    dir: &TempDir,
    registry: Registry,
    workflows: Vec<(String, String)>,
) -> (Arc<Engine>, SqliteStore) {
    let store = SqliteStore::open(&dir.path().join("ordo.db"), Durability::Normal)
        .await
        .expect("store");
    let queue = SqliteQueue::new(&store, Duration::from_secs(2));
    let host = crate::app::rule_host();
    let defs = defs::load_files(Vec::new(), workflows, &registry, &host).expect("definitions");
    let engine = Engine::new(
        Arc::new(store.clone()),
        Arc::new(queue),
        registry,
        host,
        defs::Definitions::default(),
        (
            dir.path().join("workflows"),
            dir.path().join("rules"),
            dir.path().join("outbound"),
        ),
        64,
    );
    engine.install(defs).await.expect("install");
    (Arc::new(engine), store)
}

async fn start(engine: &Engine, keys: &[(&str, bool)]) {
    let mut tx = engine.store.begin().await.expect("begin");
    for (key, boom) in keys {
        engine
            .start_instance(tx.as_mut(), "w", key, serde_json::json!({ "boom": boom }))
            .await
            .expect("start");
    }
    tx.commit().await.expect("commit");
}

pub(crate) async fn run_until_idle(engine: &Arc<Engine>) {
    let opts = RunOptions {
        workers: 1,
        exit_when_idle: true,
        hot_reload: false,
        stop: None,
    };
    tokio::time::timeout(Duration::from_secs(120), run(engine.clone(), opts))
        .await
        .expect("run --exit-when-idle returns (no worker died, nothing redelivered for ever)")
        .expect("run");
}

pub(crate) async fn instance(engine: &Engine, key: &str) -> crate::model::Instance {
    let mut tx = engine.store.begin().await.expect("begin");
    let found = tx.find_instances(key).await.expect("find");
    tx.rollback().await.expect("rollback");
    found.into_iter().next().expect("instance")
}

#[tokio::test]
async fn a_panicking_step_fails_only_its_instance() {
    let dir = TempDir::new("hostile-panic");
    let (engine, _) = engine(&dir).await;
    start(&engine, &[("a", false), ("bad", true), ("b", false)]).await;
    run_until_idle(&engine).await;
    let bad = instance(&engine, "bad").await;
    assert_eq!(bad.status, status::FAILED);
    let error = bad.error.unwrap_or_default();
    assert!(error.starts_with("step panicked: boom in"), "{error}");
    for key in ["a", "b"] {
        let i = instance(&engine, key).await;
        assert_eq!(i.end_status.as_deref(), Some("completed"), "{key}: {i:?}");
    }
}

#[tokio::test]
async fn a_message_that_keeps_failing_its_batch_is_dead_lettered() {
    let dir = TempDir::new("hostile-dead");
    let (engine, store) = engine(&dir).await;
    start(&engine, &[("a", false), ("bad", false), ("b", false)]).await;
    // An instance row that no longer decodes: loading it fails the batch (a store error, not a
    // step error), on every delivery. The JSON expression index on `instances.data` (migration
    // 0027) refuses to store malformed JSON, so the corruption (as from a disk fault or
    // another tool) goes in with that index dropped.
    sqlx::query("DROP INDEX instances_order_total")
        .execute(&store.writer)
        .await
        .expect("drop the expression index");
    sqlx::query("UPDATE instances SET data = 'not json' WHERE business_key = 'bad'")
        .execute(&store.writer)
        .await
        .expect("corrupt the row");
    run_until_idle(&engine).await;
    let dead = engine.queue.dead_letters(10).await.expect("dead letters");
    assert_eq!(dead.len(), 1, "{dead:?}");
    for key in ["a", "b"] {
        let i = instance(&engine, key).await;
        assert_eq!(i.end_status.as_deref(), Some("completed"), "{key}: {i:?}");
    }
}
