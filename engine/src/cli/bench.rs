//! `ordo bench`: throughput and latency figures, each printed beside the raw ceiling measured
//! in the same run on the same machine (bare SQLite commits, bare RabbitMQ publish+consume).
//! Benchmarks never run in the test suite; tests do not assert on time.

use super::table::Table;
use clap::Subcommand;
use ordo::config::Config;
use ordo::queue::amqp::AmqpQueue;
use ordo::queue::sqlite::SqliteQueue;
use ordo::queue::{Envelope, Queue};
use ordo::registry::Registry;
use ordo::runtime::{Engine, RunOptions, defs};
use ordo::store::Store;
use ordo::store::postgres::PgStore;
use ordo::store::sqlite::{Durability, SqliteStore};
use ordo_rules::{Limits, RuleHost};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// N orders through a 5-step workflow of trivial connectors, per backend.
    Flow {
        /// Orders for the embedded backend.
        #[arg(long, default_value_t = 20_000)]
        orders: usize,
        /// Orders for the cluster backend (RabbitMQ + PostgreSQL); 0 skips it.
        #[arg(long, default_value_t = 3_000)]
        cluster_orders: usize,
        /// Workers for the cluster backend.
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Workers for the embedded backend (SQLite has one writer; more only contend).
        #[arg(long, default_value_t = 1)]
        embedded_workers: usize,
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
        postgres: String,
        #[arg(long, default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
        amqp: String,
        /// `on`: a step's next step of the same instance runs in the same transaction (up to
        /// 64, what `ordo run` does); `off`: every step is its own message and commit (still
        /// batched across instances); `both` measures each.
        #[arg(long, default_value = "both", value_parser = ["on", "off", "both"])]
        chain: String,
    },
    /// Orders through the whole order-to-cash flow (embedded), with peak memory.
    O2c(super::sales::O2cArgs),
    /// Median time of one evaluation of rules/approval.rhai.
    Rule {
        #[arg(long, default_value_t = 200_000)]
        evals: usize,
    },
}

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

pub async fn run(cfg: &Config, cmd: BenchCommand, json: bool) -> ExitCode {
    match cmd {
        BenchCommand::Rule { evals } => rule_bench(cfg, evals, json),
        BenchCommand::O2c(args) => super::sales::bench(cfg, args, json).await,
        BenchCommand::Flow {
            orders,
            cluster_orders,
            workers,
            embedded_workers,
            postgres,
            amqp,
            chain,
        } => match flow_bench(
            orders,
            cluster_orders,
            (embedded_workers, workers),
            (&postgres, &amqp),
            &chain,
            json,
        )
        .await
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => super::fail(format!("bench failed: {e}")),
        },
    }
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn rule_bench(cfg: &Config, evals: usize, json: bool) -> ExitCode {
    let host = RuleHost::new(Limits::default());
    let path = cfg.rules.join("approval.rhai");
    let src = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => return super::fail(format!("{}: {e}", path.display())),
    };
    let rule = match host.compile("approval", &path.display().to_string(), &src) {
        Ok(r) => r,
        Err(d) => return super::fail(d),
    };
    let inputs: serde_json::Map<String, Value> = match serde_json::from_str(
        // Passes every check, so the whole rule runs (the slowest path).
        r#"{"pricing": {"total": 1234.56, "currency": "EUR", "margin_percent": 32.5},
            "customer": {"credit_limit": 50000.00, "open_balance": 1200.00, "overdue": 0}}"#,
    ) {
        Ok(m) => m,
        Err(e) => return super::fail(e),
    };
    if let Err(e) = host.evaluate(&rule, &inputs) {
        return super::fail(format!(
            "approval rule does not run on the bench input: {e}"
        ));
    }
    let batch = 1000;
    let mut per_batch = Vec::new();
    let started = Instant::now();
    for _ in 0..(evals / batch).max(1) {
        let t = Instant::now();
        for _ in 0..batch {
            let _ = std::hint::black_box(host.evaluate(&rule, &inputs));
        }
        per_batch.push(t.elapsed().as_nanos() as f64 / batch as f64);
    }
    let total = started.elapsed();
    per_batch.sort_by(|a, b| a.total_cmp(b));
    let median_us = per_batch[per_batch.len() / 2] / 1000.0;
    if json {
        super::print_json(
            &json!({ "rule": "approval", "evals": per_batch.len() * batch, "median_us": median_us, "total_s": total.as_secs_f64() }),
        );
    } else {
        println!(
            "approval rule: median {median_us:.2} µs per evaluation (incl. building inputs) over {} evals; target ≤ 5 µs",
            per_batch.len() * batch
        );
    }
    ExitCode::SUCCESS
}

fn temp_dir(tag: &str) -> PathBuf {
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

struct FlowFigures {
    backend: String,
    orders: usize,
    steps: usize,
    secs: f64,
    p50_us: u32,
    p99_us: u32,
}

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
    loop {
        tokio::time::sleep(Duration::from_millis(20)).await;
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
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!(
                "{label}: only {ended} of {orders} orders ended after 10 minutes"
            ));
        }
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

/// Bare SQLite: transactions of one insert + one update, committed one by one.
pub(super) async fn sqlite_ceiling(dir: &Path) -> Result<f64, String> {
    let store = SqliteStore::open(&dir.join("ceiling.db"), Durability::Normal)
        .await
        .map_err(|e| e.to_string())?;
    let n = 5_000;
    let started = Instant::now();
    for i in 0..n {
        let mut tx = store.begin().await.map_err(|e| e.to_string())?;
        tx.kv_set(&format!("k{i}"), "v")
            .await
            .map_err(|e| e.to_string())?;
        tx.kv_set("counter", &i.to_string())
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    Ok(rate)
}

/// Bare file writes as the outbound dispatcher makes them (temp file + rename, 1 KiB each) in a
/// folder beside the run's outbound folder: on some file systems creating a file costs far more
/// shortly after many were deleted (ext4 without a journal skips recently freed inodes), so the
/// figure belongs next to the run it explains.
pub(super) fn file_ceiling(dir: &Path) -> Result<f64, String> {
    let folder = dir.join("ceiling-files");
    let body = vec![b'x'; 1024];
    let n = 4_000;
    let started = Instant::now();
    for i in 0..n {
        ordo::runtime::write_atomically(&folder, &format!("f{i:05}.json"), &body)
            .map_err(|e| format!("{}: {e}", folder.display()))?;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// Bare RabbitMQ: persistent publish with batched confirms, consumed with manual ack.
async fn amqp_ceiling(url: &str) -> Result<f64, String> {
    let prefix = format!("ordo-ceiling-{}", ordo::model::new_id());
    let q = AmqpQueue::connect(url, &prefix, 256, Duration::from_secs(5))
        .await
        .map_err(|e| e.to_string())?;
    let n = 20_000;
    let body = vec![b'x'; 200];
    let started = Instant::now();
    let publisher = async {
        for chunk in 0..(n / 100) {
            let envs: Vec<Envelope> = (0..100)
                .map(|i| Envelope {
                    msg_id: format!("{chunk}-{i}"),
                    body: body.clone(),
                })
                .collect();
            q.publish(&envs, Duration::ZERO)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(())
    };
    let consumer = async {
        let mut got = 0;
        while got < n {
            let ds = q
                .receive(256, Duration::from_secs(5))
                .await
                .map_err(|e| e.to_string())?;
            if ds.is_empty() {
                return Err("ceiling consumer starved".to_string());
            }
            got += ds.len();
            q.ack(&ds).await.map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(())
    };
    let (p, c) = tokio::join!(publisher, consumer);
    p?;
    c?;
    let rate = n as f64 / started.elapsed().as_secs_f64();
    let _ = q.delete_topology().await;
    q.close().await;
    Ok(rate)
}

async fn flow_bench(
    orders: usize,
    cluster_orders: usize,
    (embedded_workers, workers): (usize, usize),
    (pg, amqp): (&str, &str),
    chain: &str,
    json: bool,
) -> Result<(), String> {
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
    if json {
        let v: Vec<Value> = results
            .iter()
            .map(|(f, c)| {
                json!({ "backend": f.backend, "orders": f.orders, "steps": f.steps, "seconds": f.secs,
                        "steps_per_s": f.steps as f64 / f.secs, "p50_us": f.p50_us, "p99_us": f.p99_us, "ceiling": c })
            })
            .collect();
        super::print_json(&Value::Array(v));
    } else {
        let mut t = Table::new(&[
            "backend",
            "orders",
            "steps",
            "steps/s",
            "p50 step",
            "p99 step",
            "raw ceiling (same run)",
        ]);
        for (f, c) in &results {
            t.row(vec![
                f.backend.clone(),
                f.orders.to_string(),
                f.steps.to_string(),
                format!("{:.0}", f.steps as f64 / f.secs),
                format!("{:.1} ms", f.p50_us as f64 / 1000.0),
                format!("{:.1} ms", f.p99_us as f64 / 1000.0),
                c.clone(),
            ]);
        }
        print!("{}", t.render());
        println!(
            "step latency = enqueue → commit of the step (includes queueing behind the pre-queued backlog)"
        );
    }
    Ok(())
}
