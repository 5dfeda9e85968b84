//! Command implementations. Each returns an exit code; errors go to stderr, results to stdout.

mod audit;
pub mod bank;
pub mod bench;
mod bench_atp;
mod bench_console;
mod bench_reports;
mod bench_scale;
mod check;
pub mod complaints;
pub mod credit;
mod demo;
pub mod edi;
mod edi_args;
pub mod forecast;
mod inspect;
pub mod ledger;
pub mod orders;
mod recon;
pub mod report;
pub mod returns;
pub mod sales;
mod statement;
pub mod users;
pub mod webhooks;

use super::{Args, ClockCommand, Command, DataCommand, RulesCommand};
use ordo::app::{self, commit_and_publish};
use ordo::config::Config;
use ordo::runtime::{Engine, EngineError, RunOptions};
use serde_json::{Value, json};
use std::process::ExitCode;
use std::sync::Arc;

pub const FAIL: u8 = 1;

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("{msg}");
    ExitCode::from(FAIL)
}

/// `ordo forecast --history` needs no store.
fn a_history(a: &forecast::ForecastArgs) -> bool {
    a.has_history()
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

pub async fn dispatch(args: Args) -> ExitCode {
    let cfg = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let json = args.json;
    match args.command {
        Command::Check => check::check(&cfg, json),
        Command::Edi { command } => edi::run(command, json),
        Command::Bank { command } => bank::run(command),
        Command::Rules {
            command: RulesCommand::Test { name },
        } => check::rules_test(&cfg, name.as_deref(), json),
        Command::Bench { command } => bench::run(&cfg, &args.config, command, json).await,
        Command::Forecast(a) if a_history(&a) => forecast::from_history(&a, json),
        Command::Demo { orders, dir, keep } => demo::run(&cfg, orders, dir, keep).await,
        command => {
            let strict = matches!(
                command,
                Command::Run { .. }
                    | Command::Submit { .. }
                    | Command::Event { .. }
                    | Command::Replenish
                    | Command::Approve { .. }
                    | Command::Reject { .. }
                    | Command::Retry { .. }
            );
            let engine = match app::open_engine(&cfg, strict).await {
                Ok(e) => e,
                Err(e) => return fail(e),
            };
            let code = with_engine(&engine, &cfg, command, json).await;
            // Bounded: a task `ordo run` abandoned at shutdown may still hold a connection.
            let close = async {
                engine.queue.close().await;
                engine.store.close().await;
            };
            let _ = tokio::time::timeout(std::time::Duration::from_secs(3), close).await;
            code
        }
    }
}

/// The commands that need an open engine: one match arm per command (long, and flat on purpose).
async fn with_engine(engine: &Arc<Engine>, cfg: &Config, command: Command, json: bool) -> ExitCode {
    let r = match command {
        Command::Run {
            workers,
            exit_when_idle,
            no_reload,
            listen,
        } => {
            let opts = RunOptions {
                workers: workers.unwrap_or(cfg.workers),
                exit_when_idle,
                hot_reload: !no_reload,
                stop: None,
            };
            // one `ordo run` per embedded store, held until this process ends; taken after
            // the definitions were checked, so a bad file is still reported first
            let _lock = match app::lock_embedded(cfg) {
                Ok(l) => l,
                Err(e) => return fail(e),
            };
            // the HTTP API and the AMQP intake, beside the workers (`ordo::api`)
            let services = match ordo::api::start(engine.clone(), cfg, listen.as_deref()).await {
                Ok(s) => s,
                Err(e) => return fail(e),
            };
            let ran = ordo::runtime::run(engine.clone(), opts).await;
            services.stop().await;
            match ran {
                Ok(n) => {
                    tracing::info!(steps = n, "stopped");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Err(e),
            }
        }
        Command::Submit { file } => submit(engine, &file, json).await,
        Command::Status { key } => inspect::status(engine, &key, json).await,
        Command::Instances {
            status,
            limit,
            history,
        } => inspect::instances(engine, status.as_deref(), limit, history, json).await,
        Command::Retry { instance } => users::retry(engine, &instance).await,
        Command::Tasks => inspect::tasks(engine, json).await,
        Command::Summary => inspect::summary(engine, json).await,
        Command::Approve { task, note } => {
            users::decide(engine, task, "approved", note.as_deref()).await
        }
        Command::Reject { task, reason } => {
            users::decide(engine, task, "rejected", Some(&reason)).await
        }
        Command::Event {
            name,
            key,
            outcome,
            data,
        } => {
            let payload: Value = match serde_json::from_str(&data) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => return fail("--data must be a JSON object"),
                Err(e) => return fail(format!("--data: {e}")),
            };
            let mut tx = match engine.store.begin().await {
                Ok(t) => t,
                Err(e) => return fail(e),
            };
            match engine
                .emit_event(tx.as_mut(), &name, &key, &outcome, &payload)
                .await
            {
                Ok(started) => commit_and_publish(engine, tx).await.map(|_| {
                    println!(
                        "event {name} for {key} sent ({} instance(s) started)",
                        started.len()
                    );
                    ExitCode::SUCCESS
                }),
                Err(e) => Err(e),
            }
        }
        Command::Data {
            command: DataCommand::Import { file, kind },
        } => users::data_import(engine, &file, kind.as_deref()).await,
        Command::Receive {
            po,
            lines,
            location,
        } => sales::receive_cmd(engine, &po, lines.as_deref(), &location, json).await,
        Command::Replenish => sales::replenish_cmd(engine, json).await,
        Command::PoExpect { po, date } => sales::po_expect_cmd(engine, &po, &date, json).await,
        Command::Pay {
            invoice,
            amount,
            date,
            reference,
        } => {
            sales::pay_cmd(
                engine,
                &invoice,
                &amount,
                date.as_deref(),
                reference.as_deref(),
                json,
            )
            .await
        }
        Command::CreditNote {
            invoice,
            lines,
            qtys,
            reason,
        } => credit::credit_note_cmd(engine, &invoice, &lines, &qtys, &reason, json).await,
        Command::Return { command } => returns::return_cmd(engine, command, json).await,
        Command::Order { command } => orders::order_cmd(engine, command, json).await,
        Command::Quote { command } => orders::quote_cmd(engine, command, json).await,
        Command::ReceiveReturn(a) => returns::receive_cmd(engine, a, json).await,
        Command::Complaint { command } => complaints::complaint_cmd(engine, command, json).await,
        Command::Statement {
            customer,
            html,
            pdf,
            as_of,
        } => {
            statement::statement_cmd(
                engine,
                cfg,
                &customer,
                html.as_deref(),
                pdf.as_deref(),
                as_of.as_deref(),
                json,
            )
            .await
        }
        Command::CustomerCredit { command } => {
            credit::customer_credit_cmd(engine, command, json).await
        }
        Command::Invoice(a) => {
            sales::invoice_cmd(
                engine,
                cfg,
                &a.number,
                a.html,
                a.out.as_deref(),
                a.pdf.as_deref(),
            )
            .await
        }
        Command::Clock { command } => clock(engine, command).await,
        Command::Forecast(a) => forecast::from_engine(engine, &a, json).await,
        Command::Users { command } => users::run(engine, command, json).await,
        Command::Webhooks { command } => webhooks::run(engine, command, json).await,
        Command::Audit {
            since,
            who,
            order,
            limit,
        } => audit::run(engine, since, who, order, limit, json).await,
        Command::Recon { command } => recon::run(engine, command, json).await,
        Command::Ledger { command } => ledger::run(engine, command, json).await,
        Command::Report {
            name,
            from,
            to,
            by,
            format,
            html,
            as_of,
        } => {
            // `ordo report aging` without report options is the per-customer aging of the
            // statement of account (the same ordo::receivables buckets), on --as-of.
            let plain = from.is_none() && to.is_none() && by.is_none() && html.is_none();
            if name == "aging" && (plain || as_of.is_some()) {
                statement::aging_cmd(engine, as_of.as_deref(), json).await
            } else {
                let req = report::Request {
                    name: &name,
                    from: from.as_deref(),
                    to: to.as_deref(),
                    by: by.as_deref(),
                    format,
                    html: html.as_deref(),
                };
                report::run(engine, req, json).await
            }
        }
        Command::Check
        | Command::Rules { .. }
        | Command::Bench { .. }
        | Command::Demo { .. }
        | Command::Edi { .. }
        | Command::Bank { .. } => Ok(ExitCode::SUCCESS),
    };
    r.unwrap_or_else(fail)
}

/// `ordo submit FILE`: the inbox's intake (`channels::orders::intake_file`) on a named file:
/// all or nothing on invalid orders, duplicates reported and skipped.
async fn submit(
    engine: &Arc<Engine>,
    file: &std::path::Path,
    json: bool,
) -> Result<ExitCode, EngineError> {
    use ordo::channels::orders;
    let shown = file.display().to_string();
    let text = match orders::read_order_file(file, &engine.limits) {
        Ok(t) => t,
        Err(e) => return Ok(fail(e)),
    };
    let done = match orders::intake_file(engine, &shown, &text, false).await? {
        Ok(done) => done,
        Err(errors) => {
            if json {
                print_json(&json!({ "accepted": [], "rejected": errors }));
            }
            for e in &errors {
                eprintln!("rejected: {e}");
            }
            eprintln!("{shown}: nothing booked (a file is taken whole or not at all)");
            return Ok(ExitCode::from(FAIL));
        }
    };
    if json {
        let accepted: Vec<Value> = done
            .accepted
            .iter()
            .map(|(o, i)| json!({ "order": o, "instances": i }))
            .collect();
        print_json(&json!({ "accepted": accepted, "rejected": done.duplicates }));
    } else {
        for d in &done.duplicates {
            eprintln!("rejected: {d}");
        }
        println!(
            "{} order(s) accepted, {} rejected",
            done.accepted.len(),
            done.duplicates.len()
        );
    }
    Ok(if done.duplicates.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAIL)
    })
}

async fn clock(engine: &Arc<Engine>, command: ClockCommand) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    match command {
        ClockCommand::Show => {
            tx.rollback().await?;
        }
        ClockCommand::Advance { by } => {
            let d = match ordo_workflow::parse_duration(&by) {
                Ok(d) => d,
                Err(e) => return Ok(fail(format!("clock advance: {e}"))),
            };
            let off = match ordo::clock::advanced_offset(engine.clock.offset_ms(), d) {
                Ok(off) => off,
                Err(e) => return Ok(fail(format!("clock advance {by}: {e}"))),
            };
            tx.kv_set(ordo::clock::OFFSET_KEY, &off.to_string()).await?;
            tx.commit().await?;
            engine.clock.set_offset_ms(off);
        }
    }
    println!(
        "business time {} (real time + {} s)",
        engine.clock.now().format("%Y-%m-%d %H:%M:%S UTC"),
        engine.clock.offset_ms() / 1000
    );
    Ok(ExitCode::SUCCESS)
}
