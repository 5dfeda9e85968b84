//! `ordo bench o2c`: orders through the whole order-to-cash flow on the embedded backend
//! (validate … invoice, then payment by bank statements imported, matched and applied), with
//! peak memory, beside bare SQLite commits and bare file writes measured in the same run.
//! The flow runs twice on the same orders: posting every event to the ledger, and without a
//! chart of accounts (no ledger), so the cost of posting shows beside the throughput; the
//! trial balance and `ordo ledger check` are timed over the posting run's journal.

use crate::{demo, harness, statements};
use ordo::runtime::Engine;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;

/// The bench's size.
pub struct O2c {
    /// Orders through the whole flow.
    pub orders: usize,
    /// Orders per submission commit.
    pub submit_batch: usize,
    pub dir: PathBuf,
    /// Credits per bank statement: the invoices are paid by statements of at most this many
    /// entries (one per banking day), each imported, matched and applied before the next.
    pub statement_size: usize,
    /// Percent of the orders changed once (line 1 one more) and cancelled, right after
    /// submission (`ordo order change|cancel` as a sales user, a transaction each): the flow
    /// then prices, allocates and ships the changed version; cancelled orders end `cancelled`.
    pub change_percent: u32,
    pub cancel_percent: u32,
}

/// Changes `change_percent` and cancels `cancel_percent` of `ids` (spread evenly) through
/// `ordo::api::orders`, one committed transaction each; returns (changed, cancelled).
async fn change_some(
    engine: &Arc<Engine>,
    ids: &[String],
    change_percent: u32,
    cancel_percent: u32,
) -> Result<(usize, usize), String> {
    let actor = ordo::api::auth::Actor {
        id: "user:bench-sales".into(),
        via: "cli",
        roles: vec!["sales".into()],
    };
    let change = ordo_contract::change::OrderChange {
        lines: vec![ordo_contract::change::LineChange {
            line_no: 1,
            quantity: None,
            ..Default::default()
        }],
        ..Default::default()
    };
    let (mut changed, mut cancelled) = (0, 0);
    for (i, id) in ids.iter().enumerate() {
        // Every 100 orders: the first `cancel_percent` are cancelled, the next
        // `change_percent` changed.
        let slot = (i % 100) as u32;
        let cancel = slot < cancel_percent;
        let change_it = !cancel && slot < cancel_percent + change_percent;
        if !cancel && !change_it {
            continue;
        }
        let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
        let r = if cancel {
            ordo::api::orders::cancel_order(engine, tx.as_mut(), &actor, id, "bench").await
        } else {
            // One more of line 1 than ordered.
            let mut c = change.clone();
            let doc = tx
                .get_document("order", id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no order {id}"))?;
            let q: Decimal = serde_json::from_value(doc["lines"][0]["quantity"].clone())
                .map_err(|e| format!("order {id} line 1 quantity: {e}"))?;
            c.lines[0].quantity = Some(q + Decimal::ONE);
            ordo::api::orders::change_order(engine, tx.as_mut(), &actor, id, &c).await
        };
        r.map_err(|e| format!("{id}: {}", e.message))?;
        ordo::app::commit_and_publish(engine, tx)
            .await
            .map_err(|e| e.to_string())?;
        if cancel {
            cancelled += 1;
        } else {
            changed += 1;
        }
    }
    Ok((changed, cancelled))
}

/// The bench's master data (8 customers, every one with credit for all the orders it makes)
/// imported into `engine`, and `n` generated orders: what every order-to-cash bench drives.
pub(crate) async fn load(
    engine: &Arc<Engine>,
    n: usize,
) -> Result<(Vec<demo::Cust>, Vec<Value>), String> {
    let custs: Vec<demo::Cust> = (0..8)
        .map(|i| demo::Cust {
            id: format!("C{:03}", i + 1),
            tight: false,
            blocked: false,
            partial: i % 2 == 1,
            pays: demo::Pays::OnTime,
        })
        .collect();
    // Steps of an order run back to back, so each approval sees the invoices issued before it:
    // the bench's customers get credit for every order it makes, or the later orders would go
    // to review or be rejected (the approval rule working as it should).
    let mut master = demo::master_data(&custs, 1_000_000_000);
    for c in master["customer"].as_array_mut().into_iter().flatten() {
        c["credit_limit"] = json!(Decimal::from(1_000_000_000_000i64));
    }
    demo::import_master_data(engine, &master).await?;
    let mut g = demo::Gen(7);
    let orders: Vec<Value> = (0..n)
        .map(|n| {
            let c = &custs[g.below(8) as usize];
            let lines: Vec<Value> = (0..1 + g.below(3)).map(|l| json!({ "line_no": l + 1, "sku": demo::ITEMS[g.below(8) as usize].0, "quantity": 1 + g.below(20) })).collect();
            json!({ "id": format!("{}-B{n:07}", c.id), "customer_id": c.id, "po_number": format!("B{n:07}"), "order_date": "2026-11-23", "currency": "EUR", "lines": lines })
        })
        .collect();
    Ok((custs, orders))
}

/// A row of `count_instances`: (workflow, status, end status, instances).
type InstanceCount = (String, String, Option<String>, i64);

/// (orders completed, invoices paid, instances failed) in `engine`'s store.
pub(crate) async fn ended(engine: &Engine) -> Result<(i64, i64, i64), String> {
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let counts = tx.count_instances().await.map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    let sum = |f: &dyn Fn(&InstanceCount) -> bool| -> i64 {
        counts.iter().filter(|c| f(c)).map(|c| c.3).sum()
    };
    Ok((
        sum(&|c| c.2.as_deref() == Some("completed")),
        sum(&|c| c.2.as_deref() == Some("paid")),
        sum(&|c| c.1 == ordo::model::status::FAILED),
    ))
}

fn vm_hwm_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Runs the bench twice (with the ledger, then without) and reports the posting run's figures,
/// the run without posting beside them, and the ceilings.
pub async fn run(cfg: &ordo::config::Config, args: &O2c) -> Result<Value, String> {
    let (mut figures, with_ms, with_cpu) = run_once(cfg, args, &args.dir, true).await?;
    let bare_dir = args.dir.with_file_name(format!(
        "{}-no-ledger",
        args.dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("bench")
    ));
    let mut bare_cfg = cfg.clone();
    // No chart of accounts: the engine keeps no ledger, connectors' postings are not written.
    bare_cfg.accounts = bare_dir.join("no-accounts.yaml");
    let (_, without_ms, without_cpu) = run_once(&bare_cfg, args, &bare_dir, false).await?;
    let _ = std::fs::remove_dir_all(&bare_dir);
    let secs = |ms: i64| ms.max(1) as f64 / 1000.0;
    let rate = |ms: i64| args.orders as f64 / secs(ms);
    let cost = 100.0 * (1.0 - rate(with_ms) / rate(without_ms));
    let ceiling = crate::ceilings::sqlite_ceiling(&args.dir).await?;
    let files_ceiling = crate::ceilings::file_ceiling(&args.dir)?;
    if let Some(o) = figures.as_object_mut() {
        o.insert(
            "orders/s end to end, no ledger".into(),
            json!(format!("{:.0}", rate(without_ms))),
        );
        o.insert(
            "posting cost % of throughput".into(),
            json!(format!("{cost:.1}")),
        );
        // CPU seconds of this process over the same phases: on a shared host the wall-clock
        // rates swing with the neighbours' load, the CPU a run needed much less.
        o.insert(
            "CPU s, posting / no ledger".into(),
            json!(format!("{with_cpu:.2} / {without_cpu:.2}")),
        );
        o.insert(
            "posting cost % of CPU".into(),
            json!(format!(
                "{:.1}",
                100.0 * (1.0 - without_cpu / with_cpu.max(0.01))
            )),
        );
        o.insert(
            "bare SQLite commits/s, same run".into(),
            json!(format!("{ceiling:.0}")),
        );
        o.insert(
            "bare file writes/s, same run".into(),
            json!(format!("{files_ceiling:.0}")),
        );
    }
    Ok(figures)
}

/// The trial balance and the receivables check over the run's journal, timed.
async fn time_ledger(engine: &ordo::runtime::Engine) -> Result<Value, String> {
    let t = std::time::Instant::now();
    let tb = ordo::ledger::report::trial_balance(engine, None)
        .await
        .map_err(|e| e.to_string())?;
    let tb_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = std::time::Instant::now();
    let check = ordo::ledger::report::check(engine)
        .await
        .map_err(|e| e.to_string())?;
    let check_ms = t.elapsed().as_secs_f64() * 1000.0;
    if !tb.balanced || !check.ok() {
        return Err(format!(
            "the ledger does not tie: balanced {}, problems {:?}",
            tb.balanced, check.problems
        ));
    }
    Ok(json!({ "entries": check.entries, "trial_ms": tb_ms, "check_ms": check_ms }))
}

/// One run of the flow in `dir`; the figures, the engine's end-to-end time (ms) and the
/// process's CPU seconds from submission to the last payment applied. Over 100
/// lines on purpose: each phase is timed where it runs, and the figures are only reported for
/// a complete run.
async fn run_once(
    cfg: &ordo::config::Config,
    args: &O2c,
    dir: &std::path::Path,
    posting: bool,
) -> Result<(Value, i64, f64), String> {
    let (engine, cfg) = harness::fresh_engine(cfg, &dir.to_path_buf()).await?;
    if posting != engine.ledger.is_some() {
        return Err(format!(
            "the posting run needs a chart of accounts ({}), the other none",
            cfg.accounts.display()
        ));
    }
    let (custs, orders) = load(&engine, args.orders).await?;
    let last_activity = || {
        engine
            .last_activity_ms
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    let ids: Vec<String> = orders
        .iter()
        .map(|o| o["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let cpu0 = crate::scaleout::ticks("/proc/self/stat");
    let t0 = std::time::Instant::now();
    let t0_ms = ordo::clock::real_now_ms();
    harness::submit(&engine, &orders, args.submit_batch).await?;
    let t_submit = t0.elapsed();
    // The generated orders are the harness's, not the engine's: drop them before measuring.
    drop(orders);
    let t = std::time::Instant::now();
    let (changed, cancelled) =
        change_some(&engine, &ids, args.change_percent, args.cancel_percent).await?;
    let t_changes = t.elapsed();
    drop(ids);
    harness::run_until_idle(&engine, &cfg).await?;
    // Timed to the last commit or delivered document, not to when idle detection (~0.5 s of
    // quiet) lets the run return.
    let flow_ms = last_activity() - t0_ms;
    let hwm_flow = vm_hwm_kb();
    // Payment as finance gets it: camt.053 statements with a credit per invoice, at most
    // `statement_size` each (a day's bank statement), each dropped into the bank account's
    // inbox (the bank's work, not timed), imported by the bank channel (called at once, as the
    // service tick would within a second), matched by reconciliation (as the cron step or
    // `ordo recon run` would), and applied by each invoice's collection instance, before the
    // next statement arrives.
    let all_invoices = harness::invoices(&engine).await?;
    let (mut import_ms, mut match_ms, mut apply_ms) = (0i64, 0i64, 0i64);
    let (mut matched, mut payments, mut statements) = (0usize, 0usize, 0usize);
    for part in all_invoices.chunks(args.statement_size.max(1)) {
        let credits =
            statements::statement_credits(part, &custs, &[demo::Pays::OnTime], |inv, _| {
                Some(inv.total)
            });
        let suffix = format!("-{}", statements + 1);
        let Some(dropped) = statements::write_statement(&engine, &cfg, credits, &suffix)? else {
            continue;
        };
        statements += 1;
        payments += dropped.payments;
        let t = std::time::Instant::now();
        let imported = ordo::channels::bank::scan(&engine)
            .await
            .map_err(|e| e.to_string())?;
        if imported != 1 {
            return Err(format!("the bank channel took {imported} files, not 1"));
        }
        import_ms += t.elapsed().as_millis() as i64;
        let t = std::time::Instant::now();
        matched += statements::reconcile_imported(&engine, &dropped.statement_id).await?;
        match_ms += t.elapsed().as_millis() as i64;
        let apply0_ms = ordo::clock::real_now_ms();
        harness::run_until_idle(&engine, &cfg).await?;
        apply_ms += last_activity() - apply0_ms;
    }
    if statements == 0 {
        return Err("no invoice to pay".into());
    }
    drop(all_invoices);
    let cpu_s = crate::scaleout::ticks("/proc/self/stat").saturating_sub(cpu0) as f64
        / crate::scaleout::TICKS_PER_S;
    let pay_ms = import_ms + match_ms + apply_ms;
    // The engine's time: submission and flow, then import, matching and applying; not the
    // harness making orders or the bank file, nor the idle gap between the two phases.
    let total_ms = flow_ms + pay_ms;
    let (completed, paid, _) = ended(&engine).await?;
    // A figure is only worth printing for a run that did all of its work.
    let orders = args.orders as i64 - cancelled as i64;
    if completed != orders || paid != orders || matched != payments {
        return Err(format!(
            "incomplete run: {completed} of {orders} orders completed, {paid} invoices paid, \
             {matched} of {payments} bank payments matched"
        ));
    }
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let outbound_files = tx
        .count_outbound("invoices")
        .await
        .map_err(|e| e.to_string())?
        + tx.count_outbound("shipments")
            .await
            .map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    let ledger = if posting {
        time_ledger(&engine).await?
    } else {
        Value::Null
    };
    engine.store.close().await;
    let secs = |ms: i64| ms.max(1) as f64 / 1000.0;
    let figures = json!({
        "orders": args.orders,
        "orders completed": completed,
        "invoices paid": paid,
        "bank payments matched": format!("{matched} of {payments}"),
        "bank statements": statements,
        "submit s": format!("{:.2}", t_submit.as_secs_f64()),
        "orders changed / cancelled": format!("{changed} / {cancelled}"),
        "  changes s": format!("{:.2}", t_changes.as_secs_f64()),
        "order→invoice s": format!("{:.2}", secs(flow_ms)),
        "orders/s to invoice": format!("{:.0}", args.orders as f64 / secs(flow_ms)),
        "statement→paid s": format!("{:.2}", secs(pay_ms)),
        "  import s": format!("{:.2}", secs(import_ms)),
        "  match s": format!("{:.2}", secs(match_ms)),
        "  apply s": format!("{:.2}", secs(apply_ms)),
        "orders/s end to end (paid)": format!("{:.0}", args.orders as f64 / secs(total_ms)),
        "journal entries": ledger["entries"],
        "trial balance ms": format!("{:.1}", ledger["trial_ms"].as_f64().unwrap_or(0.0)),
        "ledger check ms": format!("{:.1}", ledger["check_ms"].as_f64().unwrap_or(0.0)),
        "outbound files written": outbound_files,
        "durability": format!("{:?}", cfg.store.durability),
        "workers": cfg.workers,
        "peak memory VmHWM MiB, after the flow": hwm_flow.map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "n/a".into()),
        "peak memory VmHWM MiB": vm_hwm_kb().map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "n/a".into()),
    });
    Ok((figures, total_ms, cpu_s))
}
