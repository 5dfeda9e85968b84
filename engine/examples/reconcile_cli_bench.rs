//! `cargo build --release -p ordo-cli && cargo run --release -p ordo --example
//! reconcile_cli_bench [-- --payments 100000 --invoices 130000 --customers 5000 --runs 3
//! --ordo target/release/ordo]`
//!
//! The whole-process figure of issue 19 point 3: `ordo bank reconcile` on a generated camt.053
//! of `--payments` credits against `--invoices` open invoices of `--customers` customers (JSON
//! files, as finance exports them), timed from process start to its JSON report written, with
//! its peak RSS (`/usr/bin/time -f "%e %M"`). Printed beside the ceilings measured in the same
//! run over the same file: the camt parse alone in this process, and `ordo bank parse` of the
//! same file as a whole process (start, read, parse, statements JSON out). Target: ≤ 1.0 s for
//! 100,000 × 130,000 / 5,000.

// Each example uses part of the shared helpers.
#[allow(dead_code)]
#[path = "support/process.rs"]
mod process;

use std::time::Instant;

use process::{cpu_now, load_average, num, ordo_binary, timed};

use ordo_bank::workload::{GenConfig, evaluate, generate, write_camt053};
use ordo_bank::{MatchConfig, ParseOptions, reconcile};

fn main() {
    let payments = num("--payments", 100_000);
    let invoices = num("--invoices", 130_000);
    let customers = num("--customers", 5_000);
    let runs = num("--runs", 3).max(1);
    let ordo = ordo_binary();

    let t = Instant::now();
    let g = generate(&GenConfig {
        seed: 7,
        customers,
        invoices,
        payments,
        ..GenConfig::default()
    });
    let dir = std::env::temp_dir().join(format!("ordo-recon-cli-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let camt = dir.join("statement.xml");
    let inv = dir.join("invoices.json");
    let cus = dir.join("customers.json");
    let mut xml = String::new();
    write_camt053(&g.statement, &mut xml);
    std::fs::write(&camt, &xml).expect("write camt");
    std::fs::write(&inv, serde_json::to_vec(&g.items).expect("items")).expect("write invoices");
    std::fs::write(&cus, serde_json::to_vec(&g.customers).expect("customers"))
        .expect("write customers");
    println!(
        "workload: {payments} credits ({:.1} MB camt.053) x {} open invoices ({:.1} MB JSON) / {customers} customers, generated in {:.1} s",
        xml.len() as f64 / 1e6,
        g.items.len(),
        std::fs::metadata(&inv).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    // Ceiling 1: the camt parse alone, in this process.
    let opts = ParseOptions {
        allow_unbalanced: true,
        ..ParseOptions::default()
    };
    let mut parse_best = f64::MAX;
    let mut parse_cpu = f64::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        let c = cpu_now();
        let s = ordo_bank::parse(xml.as_bytes(), &opts).expect("parse");
        parse_best = parse_best.min(t.elapsed().as_secs_f64());
        parse_cpu = parse_cpu.min(cpu_now() - c);
        assert_eq!(s[0].entries.len(), g.statement.entries.len());
    }
    // Accuracy of the same matching, in process (the CLI runs the same `reconcile`).
    let t = Instant::now();
    let result = reconcile(
        std::slice::from_ref(&g.statement),
        &g.items,
        &g.customers,
        &MatchConfig::default(),
    );
    let in_process = t.elapsed().as_secs_f64();
    let score = evaluate(&result, &g.truth);

    let out = dir.join("out.json");
    let (camt_s, inv_s, cus_s) = (
        camt.to_string_lossy().into_owned(),
        inv.to_string_lossy().into_owned(),
        cus.to_string_lossy().into_owned(),
    );
    let mut parse_proc = (f64::MAX, 0.0, 0.0);
    let mut recon = Vec::new();
    for _ in 0..runs {
        let p = timed(
            &ordo,
            &[],
            &["bank", "parse", &camt_s, "--lenient"],
            Some(&out),
        );
        if p.wall_s < parse_proc.0 {
            parse_proc = (p.wall_s, p.peak_mib, p.cpu_s);
        }
        let r = timed(
            &ordo,
            &[],
            &[
                "bank",
                "reconcile",
                "--statement",
                &camt_s,
                "--invoices",
                &inv_s,
                "--customers",
                &cus_s,
                "--lenient",
            ],
            Some(&out),
        );
        recon.push((r.wall_s, r.peak_mib, r.cpu_s));
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("the report")).expect("a JSON report");
    let best = recon.iter().map(|r| r.0).fold(f64::MAX, f64::min);
    let peak = recon.iter().map(|r| r.1).fold(0.0, f64::max);
    let cpu = recon.iter().map(|r| r.2).fold(f64::MAX, f64::min);
    println!(
        "ordo bank reconcile (whole process, parse to JSON out): best {best:.2} s wall of {runs} ({}), best CPU (user + sys) {cpu:.2} s, peak RSS {peak:.0} MiB, load average {}; matched {} of {} payments — target <= 1.0 s: {}",
        recon
            .iter()
            .map(|r| format!("{:.2}", r.0))
            .collect::<Vec<_>>()
            .join(" · "),
        load_average(),
        report["summary"]["matched"],
        report["summary"]["payments"],
        if best <= 1.0 { "met" } else { "NOT met" }
    );
    println!(
        "ceilings, same file: camt parse alone in process {parse_best:.2} s wall, {parse_cpu:.2} s CPU; `ordo bank parse` whole process {:.2} s wall, {:.2} s CPU (peak {:.0} MiB)",
        parse_proc.0, parse_proc.2, parse_proc.1
    );
    println!(
        "matching in process: {in_process:.2} s, auto-match {:.2} %, wrong {} ({:.3} %)",
        score.rate(),
        score.wrong,
        score.wrong_rate()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
