//! `ordo bench flow`: N orders through a 5-step workflow of no-op connectors, per backend and
//! per chaining mode, each figure beside the raw ceiling of its backend measured in the same run.

use crate::ceilings::{amqp_ceiling, sqlite_ceiling};
use ordo::queue::Queue;
use ordo::queue::amqp::AmqpQueue;
use ordo::queue::sqlite::SqliteQueue;
use ordo::registry::Registry;
use ordo::runtime::{Engine, RunOptions, defs};
use ordo::store::Store;
use ordo::store::postgres::PgStore;
use ordo::store::sqlite::{Durability, SqliteStore};
use ordo_rules::{Limits, RuleHost};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BENCH_WORKFLOW: &str = r#"workflow: bench-flow
version: 1
trigger: { event: bench.start, key: id }
steps:
  one: { connector: util.noop, then: two }
  two: { connector: util.noop, then: three }
  three: { connector: util.noop, then: four }
  four: { connector: util.noop, then: five }
  five: { connector: util.noop, then: done }
  done: { end: completed }
"#;

/// Steps per order in the bench workflow (5 connector steps + the end step).
const STEPS_PER_ORDER: usize = 6;

pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ordo-bench-{tag}-{}-{}",
        std::process::id(),
        ordo::model::new_id()
    ));
    let _ = std::fs::create_dir_all(&d);
    d
}

fn bench_defs(
    dir: &Path,
    host: &RuleHost,
    registry: &Registry,
) -> Result<defs::Definitions, String> {
    let wf = dir.join("workflows");
    let rules = dir.join("rules");
    std::fs::create_dir_all(&wf).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&rules).map_err(|e| e.to_string())?;
    std::fs::write(wf.join("bench.yaml"), BENCH_WORKFLOW).map_err(|e| e.to_string())?;
    defs::load(&wf, &rules, registry, host).map_err(|e| e.join("\n"))
}

/// One run's figures.
pub struct FlowFigures {
    pub backend: String,
    pub orders: usize,
    pub steps: usize,
    pub secs: f64,
    pub p50_us: u32,
    pub p99_us: u32,
}

/// One run: pre-queues `orders` start messages, runs the workers until idle and measures
/// throughput and each step's enqueue-to-commit latency (over 100 lines: setup, the latency
/// probe and the teardown belong to the one timed run).
async fn run_flow(
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
    dir: &Path,
    orders: usize,
    workers: usize,
    label: &str,
    chain: bool,
) -> Result<FlowFigures, String> {
    let registry = Registry::standard();
    let host = RuleHost::new(Limits::default());
    let definitions = bench_defs(dir, &host, &registry)?;
    let mut engine = Engine::new(
        store,
        queue,
        registry,
        host,
        defs::Definitions::default(),
        (
            dir.join("workflows"),
            dir.join("rules"),
            dir.join("outbound"),
        ),
        256,
    );
    engine.latencies = Some(Mutex::new(Vec::with_capacity(orders * STEPS_PER_ORDER)));
    if !chain {
        engine.max_chain = 0;
    }
    let engine = Arc::new(engine);
    engine
        .install(definitions)
        .await
        .map_err(|e| e.to_string())?;
    // Queue all orders first; the clock measures processing only.
    let mut i = 0;
    while i < orders {
        let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
        for _ in 0..1000.min(orders - i) {
            let key = format!("B{i:07}");
            engine
                .start_instance(tx.as_mut(), "bench-flow", &key, json!({ "id": key }))
                .await
                .map_err(|e| e.to_string())?;
            i += 1;
        }
        ordo::app::commit_and_publish(&engine, tx)
            .await
            .map_err(|e| e.to_string())?;
    }
    if let Some(l) = &engine.latencies
        && let Ok(mut l) = l.lock()
    {
        l.clear();
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let runner = tokio::spawn(ordo::runtime::run(
        engine.clone(),
        RunOptions {
            workers,
            exit_when_idle: false,
            hot_reload: false,
            stop: Some(stop_rx),
        },
    ));
    // Waits on the workers' own count of committed steps (in memory) and only then asks the
    // store whether every order ended: a store query every 20 ms would take SQLite's one
    // write connection from the workers it measures (`begin` is `BEGIN IMMEDIATE`) and scan
    // the instances table, which grows with the run.
    let steps = orders * STEPS_PER_ORDER;
    let committed = |e: &Engine| {
        e.latencies
            .as_ref()
            .and_then(|l| l.lock().ok().map(|l| l.len()))
            .unwrap_or(steps)
    };
    loop {
        tokio::time::sleep(Duration::from_millis(5)).await;
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!(
                "{label}: only {} of {steps} steps committed after 10 minutes",
                committed(&engine)
            ));
        }
        if committed(&engine) < steps {
            continue;
        }
        let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
        let counts = tx.count_instances().await.map_err(|e| e.to_string())?;
        tx.rollback().await.map_err(|e| e.to_string())?;
        let ended: i64 = counts
            .iter()
            .filter(|(_, s, _, _)| s == "ended")
            .map(|(_, _, _, n)| n)
            .sum();
        if ended as usize >= orders {
            break;
        }
        // Steps committed but not every order ended (a retried step counts twice): poll the
        // store as before, less often.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    let _ = stop_tx.send(true);
    let _ = runner.await;
    let mut lat = engine
        .latencies
        .as_ref()
        .and_then(|l| l.lock().ok().map(|l| l.clone()))
        .unwrap_or_default();
    lat.sort_unstable();
    engine.store.close().await;
    Ok(FlowFigures {
        backend: label.to_string(),
        orders,
        steps: orders * STEPS_PER_ORDER,
        secs,
        p50_us: percentile(&lat, 0.5),
        p99_us: percentile(&lat, 0.99),
    })
}

/// Runs the bench for each chaining mode on the embedded backend and, with
/// `cluster_orders > 0` and RabbitMQ reachable, on the cluster backend: each figure with the
/// ceiling text of its backend.
pub async fn flow_bench(
    orders: usize,
    cluster_orders: usize,
    (embedded_workers, workers): (usize, usize),
    (pg, amqp): (&str, &str),
    chain: &str,
) -> Result<Vec<(FlowFigures, String)>, String> {
    let modes: Vec<bool> = match chain {
        "on" => vec![true],
        "off" => vec![false],
        _ => vec![true, false],
    };
    let mode_name = |c: bool| if c { "chained" } else { "unchained" };
    let dir = temp_dir("flow");
    eprintln!("measuring the bare SQLite commit ceiling…");
    let sqlite_tx = sqlite_ceiling(&dir).await?;
    let mut results = Vec::new();
    for &c in &modes {
        eprintln!(
            "running {orders} orders on the embedded backend ({embedded_workers} worker(s), {})…",
            mode_name(c)
        );
        let db = dir.join(format!("ordo-{}.db", mode_name(c)));
        let store = SqliteStore::open(&db, Durability::Normal)
            .await
            .map_err(|e| e.to_string())?;
        let queue = SqliteQueue::new(&store, Duration::from_secs(30));
        let figures = run_flow(
            Arc::new(store),
            Arc::new(queue),
            &dir,
            orders,
            embedded_workers,
            &format!(
                "embedded (SQLite WAL, sync=NORMAL), {embedded_workers} worker(s), {}",
                mode_name(c)
            ),
            c,
        )
        .await?;
        results.push((
            figures,
            format!("{sqlite_tx:.0} bare SQLite commits/s (1 insert + 1 update each)"),
        ));
    }
    if cluster_orders > 0 {
        eprintln!("measuring the bare RabbitMQ ceiling…");
        match amqp_ceiling(amqp).await {
            Err(e) => eprintln!("cluster bench skipped: RabbitMQ unavailable ({e})"),
            Ok(amqp_rate) => {
                for &c in &modes {
                    eprintln!(
                        "running {cluster_orders} orders on RabbitMQ + PostgreSQL ({workers} workers, {})…",
                        mode_name(c)
                    );
                    let run = format!("{}_{}", std::process::id(), mode_name(c));
                    let schema = format!("ordo_bench_{run}");
                    let prefix = format!("ordo-bench-{run}");
                    let store = PgStore::open(pg, Some(&schema), 8, Duration::from_secs(5))
                        .await
                        .map_err(|e| e.to_string())?;
                    let queue = AmqpQueue::connect(amqp, &prefix, 256, Duration::from_secs(5))
                        .await
                        .map_err(|e| e.to_string())?;
                    let queue = Arc::new(queue);
                    let dir2 = temp_dir("flow-cluster");
                    let r = run_flow(
                        Arc::new(store),
                        queue.clone(),
                        &dir2,
                        cluster_orders,
                        workers,
                        &format!(
                            "cluster (PostgreSQL + RabbitMQ), {workers} workers, {}",
                            mode_name(c)
                        ),
                        c,
                    )
                    .await;
                    let _ = queue.delete_topology().await;
                    let _ = PgStore::drop_schema(pg, &schema).await;
                    let _ = std::fs::remove_dir_all(&dir2);
                    results.push((
                        r?,
                        format!(
                            "{amqp_rate:.0} bare RabbitMQ msgs/s (persistent, confirmed, acked)"
                        ),
                    ));
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(results)
}
