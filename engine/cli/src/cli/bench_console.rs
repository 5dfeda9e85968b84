//! `ordo bench console`: prints `ordo_scenario::console_bench` figures — each console page's
//! server time beside the no-op route's round trip, with the build time and load average.

use super::{fail, print_json};
use ordo::config::Config;
use ordo_scenario::console_bench::{ConsoleBench, run as bench};
use ordo_scenario::table::Table;
use serde_json::json;
use std::process::ExitCode;

/// The arguments of `ordo bench console`.
#[derive(clap::Args)]
pub struct ConsoleArgs {
    #[arg(long, default_value_t = 100_000)]
    orders: usize,
    /// Requests per page.
    #[arg(long, default_value_t = 30)]
    rounds: usize,
    /// The embedded store's folder (recreated; the cluster backend uses its own schema).
    #[arg(long, default_value = "data/bench-console")]
    dir: std::path::PathBuf,
}

impl From<ConsoleArgs> for ConsoleBench {
    fn from(a: ConsoleArgs) -> Self {
        ConsoleBench {
            orders: a.orders,
            rounds: a.rounds,
            dir: a.dir,
        }
    }
}

pub async fn run(cfg: &Config, args: ConsoleBench, json_out: bool) -> ExitCode {
    let f = match bench(cfg, &args).await {
        Ok(f) => f,
        Err(e) => return fail(format!("ordo bench console: {e}")),
    };
    let load = f.load_avg.map_or("unknown".into(), |l| format!("{l:.2}"));
    if json_out {
        let pages: Vec<_> = f.pages.iter().map(|p| json!({ "page": p.name, "path": p.path,
            "requests": p.requests, "server_p50_ms": p.server_p50, "server_p95_ms": p.server_p95,
            "round_trip_p50_ms": p.client_p50, "round_trip_p95_ms": p.client_p95,
            "target_p95_ms": p.target, "bytes": p.bytes, "within_target": p.server_p95 <= p.target })).collect();
        print_json(
            &json!({ "backend": f.backend, "orders": f.orders, "build_s": f.build_secs,
            "noop_healthz_p50_ms": f.noop_p50, "noop_healthz_p95_ms": f.noop_p95,
            "pages": pages, "load_avg_1m": f.load_avg }),
        );
        return ExitCode::SUCCESS;
    }
    println!("{}", f.backend);
    println!(
        "{} orders (with instances, history, invoices, payments, tasks, exceptions, partner files) built in {:.1} s",
        f.orders, f.build_secs
    );
    // Three decimals (µs): the no-op ceiling is well under 0.1 ms and printed as 0.0 before.
    let ms = |v: f64| format!("{v:.3} ms");
    let mut t = Table::new(&[
        "page (same run)",
        "requests",
        "server p50",
        "server p95",
        "round trip p50",
        "round trip p95",
        "target p95",
        "",
    ]);
    t.row(vec![
        "ceiling: GET /healthz (no-op)".into(),
        "-".into(),
        "-".into(),
        "-".into(),
        ms(f.noop_p50),
        ms(f.noop_p95),
        "-".into(),
        String::new(),
    ]);
    for p in &f.pages {
        t.row(vec![
            format!("{} {}", p.name, p.path),
            p.requests.to_string(),
            ms(p.server_p50),
            ms(p.server_p95),
            ms(p.client_p50),
            ms(p.client_p95),
            ms(p.target),
            if p.server_p95 <= p.target {
                "ok"
            } else {
                "OVER"
            }
            .into(),
        ]);
    }
    print!("{}", t.render());
    println!(
        "one signed-in client, pages one after another; server time from the console's \
         Server-Timing header; 1-minute load average {load}"
    );
    ExitCode::SUCCESS
}
