//! Command implementations. Each returns an exit code; errors go to stderr, results to stdout.

mod audit;
pub mod bank;
pub mod bench;
mod demo;
pub mod edi;
mod recon;
mod sales;
mod table;
pub mod users;

use super::{Args, ClockCommand, Command, DataCommand, RulesCommand};
use ordo::app::{self, commit_and_publish};
use ordo::config::Config;
use ordo::registry::Registry;
use ordo::runtime::{Engine, EngineError, RunOptions};
use serde_json::{Value, json};
use std::process::ExitCode;
use std::sync::Arc;
use table::Table;

pub const FAIL: u8 = 1;

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("{msg}");
    ExitCode::from(FAIL)
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
        Command::Check => check(&cfg, json),
        Command::Edi { command } => edi::run(command, json),
        Command::Bank { command } => bank::run(command),
        Command::Rules {
            command: RulesCommand::Test { name },
        } => rules_test(&cfg, name.as_deref(), json),
        Command::Bench { command } => bench::run(&cfg, command, json).await,
        Command::Demo { orders, dir, keep } => demo::run(&cfg, orders, dir, keep).await,
        command => {
            let strict = matches!(
                command,
                Command::Run { .. }
                    | Command::Submit { .. }
                    | Command::Event { .. }
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
        Command::Status { key } => status(engine, &key, json).await,
        Command::Instances {
            status,
            limit,
            history,
        } => instances(engine, status.as_deref(), limit, history, json).await,
        Command::Retry { instance } => users::retry(engine, &instance).await,
        Command::Tasks => tasks(engine, json).await,
        Command::Summary => summary(engine, json).await,
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
        Command::Invoice { number, html, out } => {
            sales::invoice_cmd(engine, cfg, &number, html, out.as_deref()).await
        }
        Command::Clock { command } => clock(engine, command).await,
        Command::Users { command } => users::run(engine, command, json).await,
        Command::Audit {
            since,
            who,
            order,
            limit,
        } => audit::run(engine, since, who, order, limit, json).await,
        Command::Recon { command } => recon::run(engine, command, json).await,
        Command::Check
        | Command::Rules { .. }
        | Command::Bench { .. }
        | Command::Demo { .. }
        | Command::Edi { .. }
        | Command::Bank { .. } => Ok(ExitCode::SUCCESS),
    };
    r.unwrap_or_else(fail)
}

fn check(cfg: &Config, json: bool) -> ExitCode {
    let registry = Registry::standard();
    let host = app::rule_host();
    let folders = cfg.folders();
    let (mut channels_ok, mut channel_errors) =
        ordo::channels::bank::check(&cfg.banks, &cfg.reconciliation, &folders);
    let (edi_ok, edi_errors) = ordo::channels::edi::check(&cfg.partners, &folders);
    channels_ok.extend(edi_ok);
    channel_errors.extend(edi_errors);
    match ordo::company::load(&cfg.company) {
        Ok(Some(c)) => channels_ok.push(format!(
            "ok  company {} ({})",
            c.legal_name,
            cfg.company.display()
        )),
        Ok(None) => channels_ok.push(format!(
            "--  no company profile at {}: invoices cannot be printed",
            cfg.company.display()
        )),
        Err(e) => channel_errors.extend(e),
    }
    let defs = match (
        app::load_definitions(cfg, &registry, &host),
        channel_errors.is_empty(),
    ) {
        (Ok(_), false) => Err(EngineError::Definitions(channel_errors)),
        (Err(EngineError::Definitions(mut e)), _) => {
            e.extend(channel_errors);
            Err(EngineError::Definitions(e))
        }
        (r, _) => r,
    };
    match defs {
        Ok(defs) => {
            let warnings: Vec<String> = defs
                .latest
                .values()
                .flat_map(|wf| ordo_workflow::cycle_warnings(wf))
                .map(|d| d.to_string())
                .collect();
            if !json {
                for line in &channels_ok {
                    println!("{line}");
                }
                for w in &warnings {
                    eprintln!("{w}");
                }
            }
            if json {
                print_json(
                    &json!({ "ok": true, "workflows": defs.latest.keys().collect::<Vec<_>>(), "rules": defs.rules.len(), "warnings": warnings }),
                );
            } else {
                for wf in defs.latest.values() {
                    println!(
                        "ok  {} v{} ({}, {} steps)",
                        wf.name,
                        wf.version,
                        wf.path,
                        wf.steps.len()
                    );
                }
                println!(
                    "ok  {} rule(s) in {}",
                    defs.rules.len(),
                    cfg.rules.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(EngineError::Definitions(errors)) => {
            if json {
                print_json(&json!({ "ok": false, "errors": errors }));
            } else {
                for e in &errors {
                    eprintln!("{e}");
                }
                eprintln!("{} error(s)", errors.len());
            }
            ExitCode::from(FAIL)
        }
        Err(e) => fail(e),
    }
}

fn rules_test(cfg: &Config, only: Option<&str>, json: bool) -> ExitCode {
    let host = app::rule_host();
    let files = match ordo::runtime::defs::read_dir_files(&cfg.rules, "rhai") {
        Ok(f) => f,
        Err(e) => return fail(e.join("\n")),
    };
    let mut failed = 0;
    let mut ran = 0;
    let mut report = Vec::new();
    let mut found = false;
    for (path, src) in &files {
        let name = std::path::Path::new(path)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if only.is_some_and(|o| o != name) {
            continue;
        }
        found = true;
        let rule = match host.compile(name, path, src) {
            Ok(r) => r,
            Err(d) => {
                eprintln!("{d}");
                failed += 1;
                continue;
            }
        };
        let test_path = cfg.rules.join(format!("{name}.test.yaml"));
        let Ok(test_src) = std::fs::read_to_string(&test_path) else {
            if only.is_some() {
                eprintln!("{}: no test cases for rule '{name}'", test_path.display());
                failed += 1;
            } else if !json {
                println!("--  {name}: no {}", test_path.display());
            }
            continue;
        };
        match host.run_tests(&rule, &test_path.display().to_string(), &test_src) {
            Err(d) => {
                eprintln!("{d}");
                failed += 1;
            }
            Ok(cases) => {
                for c in cases {
                    ran += 1;
                    if !c.passed {
                        failed += 1;
                    }
                    if json {
                        report.push(json!({ "rule": name, "case": c.name, "passed": c.passed, "expected": c.expected, "actual": c.actual, "diff": c.diff }));
                    } else if c.passed {
                        println!("ok    {name}: {}", c.name);
                    } else {
                        println!("FAIL  {name}: {}", c.name);
                        for d in &c.diff {
                            println!("        {d}");
                        }
                    }
                }
            }
        }
    }
    if let Some(o) = only
        && !found
    {
        return fail(format!("no rule '{o}' in {}", cfg.rules.display()));
    }
    if json {
        print_json(&json!({ "cases": ran, "failed": failed, "results": report }));
    } else {
        println!("{ran} case(s), {failed} failure(s)");
    }
    if failed > 0 {
        ExitCode::from(FAIL)
    } else {
        ExitCode::SUCCESS
    }
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

fn ms_text(ms: i64) -> String {
    ordo::clock::ms_to_datetime(ms)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

async fn status(engine: &Arc<Engine>, key: &str, json: bool) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    let found = tx.find_instances(key).await?;
    if found.is_empty() {
        tx.rollback().await?;
        return Ok(fail(format!("no order or instance '{key}'")));
    }
    let mut out = Vec::new();
    for inst in &found {
        let history = tx.history(&inst.id).await?;
        let task = tx.open_task_for(&inst.id).await?;
        let edi = ordo::channels::edi::sent_for(tx.as_mut(), inst).await?;
        if json {
            out.push(
                json!({ "instance": inst, "history": history, "open_task": task, "edi": edi }),
            );
            continue;
        }
        let state = match (&inst.end_status, inst.status.as_str()) {
            (Some(e), _) => format!("ended: {e}"),
            (None, s) => s.to_string(),
        };
        println!(
            "{} {}  {} v{}  instance {}",
            inst.business_key, state, inst.workflow, inst.version, inst.id
        );
        println!("  step: {} (attempt {})", inst.step, inst.attempt);
        if let Some(e) = &inst.error {
            println!("  error: {e}");
        }
        if let Some(reasons) = inst.data.get("hold_reasons").and_then(|r| r.as_array()) {
            println!("  held because:");
            for r in reasons {
                println!("    - {}", r.as_str().unwrap_or_default());
            }
        }
        if let Some(t) = task {
            println!(
                "  open task {} for role {}{}",
                t.id,
                t.role,
                t.due_at
                    .map(|d| format!(", due {}", ms_text(d)))
                    .unwrap_or_default()
            );
        }
        for d in &edi {
            let ack = match d["ack"]["status"].as_str() {
                Some(st) => format!(
                    "{} {st} received {}",
                    d["ack"]["kind"].as_str().unwrap_or_default(),
                    d["ack"]["received_at"].as_str().unwrap_or_default()
                ),
                None => "not acknowledged yet".to_string(),
            };
            println!(
                "  EDI to {}: {} ({}) control {} sent {}; {ack}",
                d["partner"].as_str().unwrap_or_default(),
                d["document"].as_str().unwrap_or_default(),
                d["set"].as_str().unwrap_or_default(),
                d["control_number"],
                d["sent_at"].as_str().unwrap_or_default(),
            );
        }
        let mut t = Table::new(&["#", "time", "event", "step", "try", "outcome", "detail"]);
        for h in &history {
            let detail = match &h.detail {
                Value::Object(m) if m.is_empty() => String::new(),
                d => d.to_string(),
            };
            t.row(vec![
                h.seq.to_string(),
                ms_text(h.at),
                h.kind.clone(),
                h.step.clone(),
                h.attempt.to_string(),
                h.outcome.clone().unwrap_or_default(),
                detail.chars().take(90).collect(),
            ]);
        }
        print!("{}", t.render());
    }
    tx.rollback().await?;
    if json {
        print_json(&Value::Array(out));
    }
    Ok(ExitCode::SUCCESS)
}

async fn instances(
    engine: &Arc<Engine>,
    status: Option<&str>,
    limit: i64,
    with_history: bool,
    json: bool,
) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    let list = tx.list_instances(status, limit).await?;
    let counts = tx.count_instances().await?;
    let mut histories = Vec::new();
    if with_history {
        for i in &list {
            histories.push(json!({ "instance": i.id, "history": tx.history(&i.id).await? }));
        }
    }
    tx.rollback().await?;
    if json {
        print_json(
            &json!({ "instances": list, "histories": histories, "counts": counts.iter().map(|(w, s, e, n)| json!({"workflow": w, "status": s, "end_status": e, "count": n})).collect::<Vec<_>>() }),
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&["key", "workflow", "status", "step", "error"]);
    for i in &list {
        t.row(vec![
            i.business_key.clone(),
            format!("{} v{}", i.workflow, i.version),
            i.end_status
                .clone()
                .map(|e| format!("ended: {e}"))
                .unwrap_or(i.status.clone()),
            i.step.clone(),
            i.error
                .clone()
                .unwrap_or_default()
                .chars()
                .take(60)
                .collect(),
        ]);
    }
    print!("{}", t.render());
    let mut c = Table::new(&["workflow", "status", "count"]);
    for (w, s, e, n) in counts {
        c.row(vec![
            w,
            e.map(|e| format!("ended: {e}")).unwrap_or(s),
            n.to_string(),
        ]);
    }
    print!("{}", c.render());
    Ok(ExitCode::SUCCESS)
}

async fn summary(engine: &Arc<Engine>, json: bool) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    let v = tx.effects_summary().await?;
    tx.rollback().await?;
    if json {
        print_json(&v);
        return Ok(ExitCode::SUCCESS);
    }
    for (section, entries) in v.as_object().into_iter().flatten() {
        let mut t = Table::new(&[section.as_str(), ""]);
        for (k, n) in entries.as_object().into_iter().flatten() {
            t.row(vec![k.clone(), n.to_string()]);
        }
        print!("{}", t.render());
    }
    Ok(ExitCode::SUCCESS)
}

async fn tasks(engine: &Arc<Engine>, json: bool) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    let open = tx.list_tasks("open").await?;
    let mut rows = Vec::new();
    for t in &open {
        let key = tx
            .load_instance(&t.instance_id)
            .await?
            .map(|i| i.business_key)
            .unwrap_or_default();
        rows.push((t.clone(), key));
    }
    tx.rollback().await?;
    if json {
        print_json(&json!(
            rows.iter()
                .map(|(t, k)| json!({ "task": t, "key": k }))
                .collect::<Vec<_>>()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&["task", "order", "step", "role", "created", "due"]);
    for (task, key) in rows {
        t.row(vec![
            task.id.to_string(),
            key,
            task.step,
            task.role,
            ms_text(task.created_at),
            task.due_at.map(ms_text).unwrap_or_default(),
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
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
