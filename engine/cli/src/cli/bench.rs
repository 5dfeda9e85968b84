//! `ordo bench`: throughput and latency figures, each printed beside the raw ceiling measured
//! in the same run on the same machine (bare SQLite commits, bare RabbitMQ publish+consume).
//! Benchmarks never run in the test suite; tests do not assert on time.

use super::{fail, print_json};
use clap::Subcommand;
use ordo::config::Config;
use ordo_scenario::flow::FlowFigures;
use ordo_scenario::table::Table;
use serde_json::{Value, json};
use std::process::ExitCode;

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
    /// Orders through the whole order-to-cash flow (embedded, with peak memory), or worked by
    /// N `ordo run` processes on the cluster backend (`--processes 1,2,4`).
    O2c(O2cArgs),
    /// Orders posted to the HTTP API by concurrent keep-alive clients, beside the same
    /// server's no-op route and bare SQLite commits (the backend of `--config`).
    Http(HttpArgs),
    /// Webhook events delivered by the dispatcher to a local receiver, beside that receiver's
    /// no-op ceiling (the backend of `--config`).
    Webhooks {
        #[arg(long, default_value_t = 10_000)]
        events: usize,
        /// The embedded store's folder (recreated; the cluster backend uses its own schema).
        #[arg(long, default_value = "data/bench-webhooks")]
        dir: std::path::PathBuf,
    },
    /// Each report's latency over generated books of N orders (`--orders 100000,1000000`),
    /// with the time to build them, beside a bare `SELECT count(*)` of the invoices.
    Reports {
        #[arg(long, default_value = "100000,1000000", value_delimiter = ',')]
        orders: Vec<usize>,
        #[arg(long, default_value = "data/bench-reports")]
        dir: std::path::PathBuf,
    },
    /// The trial balance and `ordo ledger check` over a generated journal of N orders
    /// (invoice + payment each, posted through rules/posting.rhai), beside the line sums.
    Ledger {
        #[arg(long, default_value_t = 100_000)]
        orders: usize,
        #[arg(long, default_value = "data/bench-ledger")]
        dir: std::path::PathBuf,
    },
    /// Every web console page requested by a signed-in user over HTTP, on a generated store
    /// of N orders with their invoices and payments: server time p50/p95 per page beside the
    /// no-op route (the backend of `--config`).
    Console(super::bench_console::ConsoleArgs),
    /// Available to promise: an order of N lines over generated items and open POs (store
    /// lookups + the pure core), median/p99 beside the bare reads of the same rows.
    Atp(super::bench_atp::AtpArgs),
    /// Median time of one evaluation of rules/approval.rhai.
    Rule {
        #[arg(long, default_value_t = 200_000)]
        evals: usize,
    },
    /// Forecast accuracy (rolling origins, MASE and bias of ordo vs seasonal naive; the
    /// external comparison is tools/forecast-bench) and the speed of 10,000 weekly items.
    Forecast(super::forecast::ForecastBenchArgs),
}

pub async fn run(
    cfg: &Config,
    config: &std::path::Path,
    cmd: BenchCommand,
    json: bool,
) -> ExitCode {
    match cmd {
        BenchCommand::Rule { evals } => rule(cfg, evals, json),
        BenchCommand::Atp(args) => super::bench_atp::run(cfg, args, json).await,
        BenchCommand::Reports { orders, dir } => {
            super::bench_reports::run(&orders, &dir, json).await
        }
        BenchCommand::Console(args) => super::bench_console::run(cfg, args.into(), json).await,
        BenchCommand::Forecast(args) => super::forecast::bench_cmd(args, json),
        BenchCommand::O2c(args) => o2c(cfg, config, args, json).await,
        BenchCommand::Ledger { orders, dir } => print_figures(
            ordo_scenario::ledger_bench::run(cfg, orders, &dir).await,
            json,
        ),
        BenchCommand::Http(args) => http(cfg, args, json).await,
        BenchCommand::Webhooks { events, dir } => webhooks(cfg, events, dir, json).await,
        BenchCommand::Flow {
            orders,
            cluster_orders,
            workers,
            embedded_workers,
            postgres,
            amqp,
            chain,
        } => match ordo_scenario::flow::flow_bench(
            orders,
            cluster_orders,
            (embedded_workers, workers),
            (&postgres, &amqp),
            &chain,
        )
        .await
        {
            Ok(results) => {
                print_flow(&results, json);
                ExitCode::SUCCESS
            }
            Err(e) => fail(format!("bench failed: {e}")),
        },
    }
}

/// The flow figures as a table (or JSON), each beside its ceiling.
fn print_flow(results: &[(FlowFigures, String)], json: bool) {
    if json {
        let v: Vec<Value> = results
            .iter()
            .map(|(f, c)| {
                json!({ "backend": f.backend, "orders": f.orders, "steps": f.steps, "seconds": f.secs,
                        "steps_per_s": f.steps as f64 / f.secs, "p50_us": f.p50_us, "p99_us": f.p99_us, "ceiling": c })
            })
            .collect();
        print_json(&Value::Array(v));
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
        for (f, c) in results {
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
}

fn rule(cfg: &Config, evals: usize, json: bool) -> ExitCode {
    match ordo_scenario::rule::rule_bench(&cfg.rules, evals) {
        Ok(f) if json => {
            print_json(
                &json!({ "rule": "approval", "evals": f.evals, "median_us": f.median_us, "total_s": f.total.as_secs_f64() }),
            );
            ExitCode::SUCCESS
        }
        Ok(f) => {
            println!(
                "approval rule: median {:.2} µs per evaluation (incl. building inputs) over {} evals; target ≤ 5 µs",
                f.median_us, f.evals
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

#[derive(clap::Args)]
pub struct O2cArgs {
    /// Orders through the whole flow (validate … invoice, then payment).
    #[arg(long, default_value_t = 10_000)]
    orders: usize,
    /// Orders per submission commit.
    #[arg(long, default_value_t = 500)]
    submit_batch: usize,
    #[arg(long, default_value = "data/bench-o2c")]
    dir: std::path::PathBuf,
    /// Credits per bank statement: the invoices are paid by statements of at most this many
    /// entries (one per banking day), each imported, matched and applied before the next.
    #[arg(long, default_value_t = 10_000)]
    statement_size: usize,
    /// Percent of the orders changed once (`ordo order change`) and cancelled right after
    /// submission, e.g. `--changes 10,2`.
    #[arg(long, value_delimiter = ',')]
    changes: Vec<u32>,
    /// Cluster backend: work the load with this many separate `ordo run` processes, measured
    /// one after the other, e.g. `1,2,4` (each 1 to 16).
    #[arg(long, value_delimiter = ',')]
    processes: Vec<usize>,
    /// With --processes: keep each run's PostgreSQL schema and RabbitMQ queues.
    #[arg(long)]
    keep: bool,
    /// Measure without the report aggregates — the sales aggregates and the aging and DSO
    /// indexes — (their cost: compare with a run without this; the bench's store then has none).
    #[arg(long)]
    no_sales_aggregates: bool,
}

async fn o2c(cfg: &Config, config: &std::path::Path, args: O2cArgs, json_out: bool) -> ExitCode {
    if !args.processes.is_empty() {
        return super::bench_scale::run(cfg, config, args_scale(args), json_out).await;
    }
    if args.keep {
        return fail("--keep goes with --processes (the embedded bench keeps its folder)");
    }
    let (change_percent, cancel_percent) = match args.changes.as_slice() {
        [] => (0, 0),
        [c, x] if c + x <= 100 => (*c, *x),
        _ => return fail("--changes takes CHANGED,CANCELLED percentages adding up to at most 100"),
    };
    if args.no_sales_aggregates {
        ordo::store::sales::count_in_this_process(false);
    }
    let args = ordo_scenario::o2c::O2c {
        orders: args.orders,
        submit_batch: args.submit_batch,
        dir: args.dir,
        statement_size: args.statement_size,
        change_percent,
        cancel_percent,
    };
    print_figures(ordo_scenario::o2c::run(cfg, &args).await, json_out)
}

/// A bench's figures, one per line (or JSON), or its failure.
fn print_figures(r: Result<serde_json::Value, String>, json_out: bool) -> ExitCode {
    match r {
        Ok(v) => {
            if json_out {
                print_json(&v);
            } else {
                for (k, x) in v.as_object().into_iter().flatten() {
                    println!("{k:<28} {x}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("bench failed: {e}")),
    }
}

fn args_scale(a: O2cArgs) -> ordo_scenario::scaleout::ScaleOut {
    ordo_scenario::scaleout::ScaleOut {
        orders: a.orders,
        submit_batch: a.submit_batch,
        statement_size: a.statement_size,
        dir: a.dir,
        processes: a.processes,
        // filled in by `bench_scale::run`
        config: std::path::PathBuf::new(),
        exe: std::path::PathBuf::new(),
        keep: a.keep,
    }
}

#[derive(clap::Args)]
pub struct HttpArgs {
    /// Orders posted, one per request.
    #[arg(long, default_value_t = 20_000)]
    orders: usize,
    /// Requests to the no-op route `GET /healthz` (the server's ceiling).
    #[arg(long, default_value_t = 50_000)]
    noop_requests: usize,
    /// Concurrent keep-alive HTTP/1.1 connections.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// The embedded store's folder (recreated; the cluster backend uses its own schema).
    #[arg(long, default_value = "data/bench-http")]
    dir: std::path::PathBuf,
}

async fn http(cfg: &Config, args: HttpArgs, json_out: bool) -> ExitCode {
    let args = ordo_scenario::http::HttpBench {
        orders: args.orders,
        noop_requests: args.noop_requests,
        clients: args.clients,
        dir: args.dir,
    };
    let f = match ordo_scenario::http::run(cfg, &args).await {
        Ok(f) => f,
        Err(e) => return fail(format!("bench failed: {e}")),
    };
    let ms = |us: u64| format!("{:.1} ms", us as f64 / 1000.0);
    if json_out {
        let load = |l: &ordo_scenario::http::Load| json!({ "requests": l.requests, "seconds": l.secs, "per_s": l.per_sec(), "p50_us": l.p50_us, "p99_us": l.p99_us });
        print_json(
            &json!({ "backend": f.backend, "clients": f.clients, "orders": load(&f.orders),
                            "noop_healthz": load(&f.noop), "bare_sqlite_commits_per_s": f.sqlite_commits_per_s,
                    "bare_postgres_commits_per_s": f.postgres_commits_per_s, "load_avg_1m": f.load_avg, "workers": 0 }),
        );
        return ExitCode::SUCCESS;
    }
    println!("{}", f.backend);
    let mut t = Table::new(&["measured (same run)", "requests", "per s", "p50", "p99"]);
    for (what, l) in [
        ("POST /api/v1/orders (201 after commit)", &f.orders),
        ("ceiling: GET /healthz (no-op)", &f.noop),
    ] {
        t.row(vec![
            what.into(),
            l.requests.to_string(),
            format!("{:.0}", l.per_sec()),
            ms(l.p50_us),
            ms(l.p99_us),
        ]);
    }
    let bare = [
        ("ceiling: bare SQLite commits", Some(f.sqlite_commits_per_s)),
        ("ceiling: bare PostgreSQL commits", f.postgres_commits_per_s),
    ];
    for (what, rate) in bare {
        if let Some(rate) = rate {
            let dash = || "-".to_string();
            t.row(vec![
                what.into(),
                dash(),
                format!("{rate:.0}"),
                dash(),
                dash(),
            ]);
        }
    }
    print!("{}", t.render());
    println!(
        "{} keep-alive clients, one order per request; every response's status checked; \
         no workers run (intake only); 1-minute load average {}; \
         target (embedded): ≥ 5,000 orders/s, p99 ≤ 50 ms",
        f.clients,
        f.load_avg.map_or("unknown".into(), |l| format!("{l:.2}"))
    );
    ExitCode::SUCCESS
}

async fn webhooks(
    cfg: &Config,
    events: usize,
    dir: std::path::PathBuf,
    json_out: bool,
) -> ExitCode {
    let args = ordo_scenario::webhook_bench::WebhookBench { events, dir };
    let f = match ordo_scenario::webhook_bench::run(cfg, &args).await {
        Ok(f) => f,
        Err(e) => return fail(format!("bench failed: {e}")),
    };
    if json_out {
        print_json(
            &json!({ "backend": f.backend, "events": f.events, "seconds": f.secs,
            "deliveries_per_s": f.per_sec(), "receiver_noop_per_s": f.noop_per_s }),
        );
        return ExitCode::SUCCESS;
    }
    println!("{}", f.backend);
    let mut t = Table::new(&["measured (same run)", "events", "per s"]);
    t.row(vec![
        "webhook deliveries (dispatcher, recorded in the store)".into(),
        f.events.to_string(),
        format!("{:.0}", f.per_sec()),
    ]);
    t.row(vec![
        "ceiling: the same POSTs straight to the receiver".into(),
        f.events.to_string(),
        format!("{:.0}", f.noop_per_s),
    ]);
    print!("{}", t.render());
    ExitCode::SUCCESS
}
