//! `ordo bench atp`: prints `ordo_scenario::atp_bench` figures with the load average.

use clap::Args;
use ordo::config::Config;
use std::process::ExitCode;

#[derive(Args)]
pub struct AtpArgs {
    #[arg(long, default_value_t = 100_000)]
    items: usize,
    #[arg(long, default_value_t = 10_000)]
    pos: usize,
    #[arg(long, default_value_t = 20)]
    lines: usize,
    #[arg(long, default_value_t = 2_000)]
    samples: usize,
    /// The bench store's folder (recreated; the cluster backend uses its own schema).
    #[arg(long, default_value = "data/bench-atp")]
    dir: std::path::PathBuf,
}

pub async fn run(cfg: &Config, a: AtpArgs, json: bool) -> ExitCode {
    let own = ordo_scenario::harness::own_backend(cfg);
    let engine = match ordo_scenario::harness::fresh_engine(&own, &a.dir).await {
        Ok((e, _)) => e,
        Err(e) => return super::fail(format!("ordo bench atp: {e}")),
    };
    let r = ordo_scenario::atp_bench::run(&engine, a.items, a.pos, a.lines, a.samples).await;
    ordo_scenario::harness::drop_backend(&own).await;
    let f = match r {
        Ok(f) => f,
        Err(e) => return super::fail(format!("ordo bench atp: {e}")),
    };
    let load = ordo_scenario::harness::load_avg().map_or("?".into(), |l| format!("{l:.2}"));
    if json {
        let l = |x: ordo_scenario::atp_bench::Lat| serde_json::json!({ "median_us": x.median_us, "p99_us": x.p99_us });
        super::print_json(
            &serde_json::json!({ "items": f.items, "pos": f.pos, "lines": f.lines,
            "samples": f.samples, "build_s": f.build_s, "promise": l(f.promise), "core": l(f.core),
            "ceiling_reads": l(f.ceiling), "load_1m": load }),
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "ATP: {} lines over {} items, {} open POs ({} samples; built in {:.1} s; {}; load {load})",
        f.lines,
        f.items,
        f.pos,
        f.samples,
        f.build_s,
        ordo_scenario::harness::backend_line(&own)
    );
    for (name, x) in [
        ("promise (lookups + core)", f.promise),
        ("core alone", f.core),
        ("ceiling: bare reads", f.ceiling),
    ] {
        println!(
            "  {name:<26} median {:>8.1} us   p99 {:>8.1} us",
            x.median_us, x.p99_us
        );
    }
    ExitCode::SUCCESS
}
