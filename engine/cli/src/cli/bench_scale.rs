//! `ordo bench o2c --processes N,…`: the scaling table (N separate `ordo run` processes on
//! the cluster backend), each row beside the ceilings of the same run, the CPU of each
//! process and server, what saturated, and the cost model checked against the rows.

use super::{fail, print_json};
use ordo::config::Config;
use ordo_scenario::scaleout::{Row, ScaleOut, predict};
use ordo_scenario::table::Table;
use serde_json::json;
use std::process::ExitCode;

/// More processes than this on one machine only measure the scheduler.
const MAX_PROCESSES: usize = 16;

pub async fn run(
    cfg: &Config,
    config: &std::path::Path,
    mut args: ScaleOut,
    json_out: bool,
) -> ExitCode {
    if let Some(bad) = args
        .processes
        .iter()
        .find(|n| **n == 0 || **n > MAX_PROCESSES)
    {
        return fail(format!(
            "--processes: {bad} is not between 1 and {MAX_PROCESSES}"
        ));
    }
    if args.orders == 0 {
        return fail("--orders: at least 1");
    }
    args.exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => return fail(format!("cannot find the running ordo binary: {e}")),
    };
    args.config = config.to_path_buf();
    // Progress to stderr, so `--json` output stays one document.
    let say = |line: &str| eprintln!("{line}");
    let rows = match ordo_scenario::scaleout::run(cfg, &args, &say).await {
        Ok(r) => r,
        Err(e) => return fail(format!("bench failed: {e}")),
    };
    if json_out {
        print_json(&json!(rows.iter().map(row_json).collect::<Vec<_>>()));
    } else {
        print_rows(&rows);
    }
    ExitCode::SUCCESS
}

fn row_json(r: &Row) -> serde_json::Value {
    let (o, p, q, d) = r.cost_ms();
    json!({
        "processes": r.processes, "workers_per_process": r.workers, "orders": r.orders,
        "orders_per_s_paid": r.paid_per_s(), "orders_per_s_to_invoice": r.invoiced_per_s(),
        "flow_s": r.flow_s, "pay_s": r.pay_s, "window_s": r.window_s,
        "bare_postgres_commits_per_s": r.pg_commits_per_s, "postgres_connections": r.pg_connections,
        "bare_rabbitmq_msgs_per_s": r.amqp_msgs_per_s,
        "cpu_s": { "ordo": r.cpu.ordo, "postgres": r.cpu.postgres, "rabbitmq": r.cpu.rabbitmq,
                   "driver": r.cpu.driver, "machine": r.cpu.machine, "cores": r.cpu.cores },
        "cpu_ms_per_order": { "ordo": o, "postgres": p, "rabbitmq": q, "driver": d },
        "saturated": r.saturated(), "clean_exits": r.clean_exits,
    })
}

fn print_rows(rows: &[Row]) {
    let Some(base) = rows.iter().min_by_key(|r| r.processes) else {
        return;
    };
    let cores = |s: f64, r: &Row| format!("{:.2}", s / r.window_s.max(1e-3));
    let mut t = Table::new(&[
        "processes",
        "orders/s paid (to invoice)",
        "model",
        "bare PG commits/s (conns)",
        "bare RabbitMQ msgs/s",
        "cores: each ordo",
        "PG",
        "RabbitMQ",
        "driver",
        "machine",
    ]);
    for r in rows {
        let each: Vec<String> = r.cpu.ordo.iter().map(|s| cores(*s, r)).collect();
        t.row(vec![
            format!("{} × {} workers", r.processes, r.workers),
            format!("{:.0} ({:.0})", r.paid_per_s(), r.invoiced_per_s()),
            format!("{:.0}", predict(base, r.processes, r.cpu.cores as f64)),
            format!("{:.0} ({})", r.pg_commits_per_s, r.pg_connections),
            format!("{:.0}", r.amqp_msgs_per_s),
            each.join(" "),
            cores(r.cpu.postgres, r),
            cores(r.cpu.rabbitmq, r),
            cores(r.cpu.driver, r),
            format!("{} of {}", cores(r.cpu.machine, r), r.cpu.cores),
        ]);
    }
    print!("{}", t.render());
    for r in rows {
        let (o, p, q, d) = r.cost_ms();
        println!(
            "N = {}: saturated: {}; CPU per order paid: ordo {o:.2} ms, PostgreSQL {p:.2} ms, \
             RabbitMQ {q:.2} ms, driver {d:.2} ms; {}",
            r.processes,
            r.saturated(),
            if r.clean_exits {
                "every process exited 0 on SIGTERM"
            } else {
                "a process did NOT exit 0 on SIGTERM"
            }
        );
    }
    println!(
        "model = min(cores × 1000 / CPU ms per order, N × one process's rate), both from the \
         N = {} row; on one machine with all servers: 4 cores ≈ {:.0}, 16 cores ≈ {:.0} orders/s",
        base.processes,
        predict(base, 8, 4.0),
        predict(base, 32, 16.0)
    );
    println!(
        "orders/s paid = orders / (submission → last order completed + import + matching + \
         applying); the machine figure includes other processes (a shared machine)"
    );
}
