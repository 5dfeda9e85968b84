//! `ordo bench reports`: prints `ordo_scenario::reports_bench` figures with the load average.

use std::path::Path;
use std::process::ExitCode;

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

pub async fn run(sizes: &[usize], dir: &Path, json: bool) -> ExitCode {
    let mut all = Vec::new();
    for &n in sizes {
        match ordo_scenario::reports_bench::run(dir, n).await {
            Ok(f) => {
                if json {
                    all.push(serde_json::json!({ "orders": f.orders, "build_s": f.build,
                        "ceiling_count_s": f.ceiling, "load_1m": load(),
                        "reports_s": f.reports.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect::<serde_json::Map<_, _>>() }));
                    continue;
                }
                println!(
                    "{} orders: built in {:.1} s; ceiling SELECT count(*) {:.1} ms; load {}",
                    f.orders,
                    f.build,
                    f.ceiling * 1e3,
                    load()
                );
                for (name, secs) in &f.reports {
                    println!("  {name:<36} {:>9.1} ms", secs * 1e3);
                }
            }
            Err(e) => return super::fail(format!("ordo bench reports: {e}")),
        }
    }
    if json {
        super::print_json(&serde_json::Value::Array(all));
    }
    ExitCode::SUCCESS
}
