//! Order-to-cash commands: `ordo receive`, `ordo pay`, `ordo invoice` and `ordo bench o2c`
//! (master data import is `ordo::masterdata`).
//!
//! The business logic lives in `ordo-sales` (over the `StepContext` port); the engine's
//! `TxContext` binds that port to one store transaction of the command, so a receipt or a
//! payment commits together with the events it emits.

use chrono::NaiveDate;
use ordo::app::commit_and_publish;
use ordo::runtime::{Engine, EngineError, TxContext};
use ordo_contract::StepError;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

fn step_err(e: StepError) -> EngineError {
    EngineError::Refused(e.to_string())
}

/// `--lines SKU=QTY,SKU=QTY`.
pub fn parse_lines(text: &str) -> Result<Vec<(String, Decimal)>, String> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (sku, q) = p
                .split_once('=')
                .ok_or_else(|| format!("--lines: '{p}' is not SKU=QTY"))?;
            let q = Decimal::from_str_exact(q.trim())
                .map_err(|_| format!("--lines: '{q}' is not a quantity"))?;
            Ok((sku.trim().to_string(), q))
        })
        .collect()
}

/// Books a goods receipt in one transaction (stock, PO, receipt, events to waiting orders).
pub async fn receive(
    engine: &Arc<Engine>,
    po: &str,
    lines: Option<Vec<(String, Decimal)>>,
    location: &str,
) -> Result<Value, EngineError> {
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let r = {
        let mut ctx = TxContext::command(tx.as_mut(), engine);
        ordo_sales::receive_goods(&mut ctx, po, lines.as_deref(), location).await
    };
    match r {
        Ok(v) => {
            commit_and_publish(engine, tx).await?;
            Ok(v)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(step_err(e))
        }
    }
}

/// Records a payment in one transaction and emits `payment.matched`.
pub async fn pay(
    engine: &Arc<Engine>,
    invoice: &str,
    amount: Decimal,
    on: Option<NaiveDate>,
    reference: Option<&str>,
) -> Result<Value, EngineError> {
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let r = {
        let mut ctx = TxContext::command(tx.as_mut(), engine);
        ordo_sales::record_payment(&mut ctx, invoice, amount, on, reference).await
    };
    match r {
        Ok(v) => {
            commit_and_publish(engine, tx).await?;
            Ok(v)
        }
        Err(e) => {
            tx.rollback().await?;
            Err(step_err(e))
        }
    }
}

pub async fn receive_cmd(
    engine: &Arc<Engine>,
    po: &str,
    lines: Option<&str>,
    location: &str,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let lines = match lines.map(parse_lines).transpose() {
        Ok(l) => l,
        Err(e) => return Ok(super::fail(e)),
    };
    let r = receive(engine, po, lines, location).await?;
    if json_out {
        super::print_json(&r);
    } else {
        let booked: Vec<String> = r["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| {
                format!(
                    "{} {}",
                    l["quantity"],
                    l["sku"].as_str().unwrap_or_default()
                )
            })
            .collect();
        println!(
            "{} for {}: received {}; {} waiting order(s) resumed",
            r["number"].as_str().unwrap_or_default(),
            po,
            booked.join(", "),
            r["resumed_orders"].as_array().map(|a| a.len()).unwrap_or(0)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn pay_cmd(
    engine: &Arc<Engine>,
    invoice: &str,
    amount: &str,
    date: Option<&str>,
    reference: Option<&str>,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let Ok(amount) = Decimal::from_str_exact(amount.trim()) else {
        return Ok(super::fail(format!(
            "amount '{amount}' is not a decimal number"
        )));
    };
    let on = match date
        .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d"))
        .transpose()
    {
        Ok(d) => d,
        Err(e) => return Ok(super::fail(format!("--date: {e} (expected YYYY-MM-DD)"))),
    };
    let p = pay(engine, invoice, amount, on, reference).await?;
    if json_out {
        super::print_json(&p);
    } else {
        println!(
            "payment {} of {} {} recorded for invoice {invoice}",
            p["id"].as_str().unwrap_or_default(),
            amount,
            p["amount"]["currency"].as_str().unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn invoice_cmd(
    engine: &Arc<Engine>,
    cfg: &ordo::config::Config,
    number: &str,
    html: bool,
    out: Option<&Path>,
) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    let doc = tx.get_document("invoice", number).await?;
    tx.rollback().await?;
    let Some(doc) = doc else {
        return Ok(super::fail(format!("no invoice '{number}'")));
    };
    let text = if html {
        // The seller is configuration: the company profile, validated like `ordo check` does.
        let company = match ordo::company::load(&cfg.company) {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Ok(super::fail(format!(
                    "{}: no company profile; invoices need the seller's legal name, address and VAT id (see config/company.yaml in the repository)",
                    cfg.company.display()
                )));
            }
            Err(e) => return Ok(super::fail(e.join("\n"))),
        };
        let logo = match &company.logo {
            Some(l) => match ordo::company::logo_data_uri(&cfg.company, l) {
                Ok(uri) => Some(uri),
                Err(e) => return Ok(super::fail(e)),
            },
            None => None,
        };
        match ordo_sales::export::invoice_html(&doc, &company, logo.as_deref()) {
            Ok(t) => t,
            Err(e) => return Ok(super::fail(e)),
        }
    } else {
        ordo_sales::export::invoice_json(&doc)
    };
    match out {
        Some(p) => {
            if let Err(e) = std::fs::write(p, text) {
                return Ok(super::fail(format!("{}: {e}", p.display())));
            }
            println!("invoice {number} written to {}", p.display());
        }
        None => println!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_sku_equals_quantity() {
        assert_eq!(parse_lines("A=1.5, B=2").unwrap()[0].1.to_string(), "1.5");
        assert!(parse_lines("A").is_err());
    }
}

// ---------------------------------------------------------------------------------------
// `ordo bench o2c`

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

pub async fn bench(cfg: &ordo::config::Config, args: O2cArgs, json_out: bool) -> ExitCode {
    match bench_inner(cfg, args).await {
        Ok(v) => {
            if json_out {
                super::print_json(&v);
            } else {
                for (k, x) in v.as_object().into_iter().flatten() {
                    println!("{k:<28} {x}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(format!("bench failed: {e}")),
    }
}

async fn bench_inner(cfg: &ordo::config::Config, args: O2cArgs) -> Result<Value, String> {
    use super::demo;
    let (engine, cfg) = demo::fresh_engine(cfg, &args.dir).await?;
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
    demo::import_master_data(&engine, &master).await?;
    let mut g = demo::Gen(7);
    let orders: Vec<Value> = (0..args.orders)
        .map(|n| {
            let c = &custs[g.below(8) as usize];
            let lines: Vec<Value> = (0..1 + g.below(3)).map(|l| json!({ "line_no": l + 1, "sku": demo::ITEMS[g.below(8) as usize].0, "quantity": 1 + g.below(20) })).collect();
            json!({ "id": format!("{}-B{n:07}", c.id), "customer_id": c.id, "po_number": format!("B{n:07}"), "order_date": "2026-11-23", "currency": "EUR", "lines": lines })
        })
        .collect();
    let last_activity = || {
        engine
            .last_activity_ms
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    let t0 = std::time::Instant::now();
    let t0_ms = ordo::clock::real_now_ms();
    demo::submit(&engine, &orders, args.submit_batch).await?;
    let t_submit = t0.elapsed();
    // The generated orders are the harness's, not the engine's: drop them before measuring.
    drop(orders);
    demo::run_until_idle(&engine, &cfg).await?;
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
    let all_invoices = demo::invoices(&engine).await?;
    let (mut import_ms, mut match_ms, mut apply_ms) = (0i64, 0i64, 0i64);
    let (mut matched, mut payments, mut statements) = (0usize, 0usize, 0usize);
    for part in all_invoices.chunks(args.statement_size.max(1)) {
        let credits = demo::statement_credits(part, &custs, &[demo::Pays::OnTime], |inv, _| {
            serde::Deserialize::deserialize(&inv["total"]).ok()
        });
        let suffix = format!("-{}", statements + 1);
        let Some(dropped) = demo::write_statement(&engine, &cfg, credits, &suffix)? else {
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
        matched += demo::reconcile_imported(&engine, &dropped.statement_id).await?;
        match_ms += t.elapsed().as_millis() as i64;
        let apply0_ms = ordo::clock::real_now_ms();
        demo::run_until_idle(&engine, &cfg).await?;
        apply_ms += last_activity() - apply0_ms;
    }
    if statements == 0 {
        return Err("no invoice to pay".into());
    }
    drop(all_invoices);
    let pay_ms = import_ms + match_ms + apply_ms;
    // The engine's time: submission and flow, then import, matching and applying; not the
    // harness making orders or the bank file, nor the idle gap between the two phases.
    let total_ms = flow_ms + pay_ms;
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let counts = tx.count_instances().await.map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    let completed: i64 = counts
        .iter()
        .filter(|c| c.2.as_deref() == Some("completed"))
        .map(|c| c.3)
        .sum();
    let paid: i64 = counts
        .iter()
        .filter(|c| c.2.as_deref() == Some("paid"))
        .map(|c| c.3)
        .sum();
    // A figure is only worth printing for a run that did all of its work.
    let orders = args.orders as i64;
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
    engine.store.close().await;
    let ceiling = super::bench::sqlite_ceiling(&args.dir).await?;
    let files_ceiling = super::bench::file_ceiling(&args.dir)?;
    let secs = |ms: i64| ms.max(1) as f64 / 1000.0;
    Ok(json!({
        "orders": args.orders,
        "orders completed": completed,
        "invoices paid": paid,
        "bank payments matched": format!("{matched} of {payments}"),
        "bank statements": statements,
        "submit s": format!("{:.2}", t_submit.as_secs_f64()),
        "order→invoice s": format!("{:.2}", secs(flow_ms)),
        "orders/s to invoice": format!("{:.0}", args.orders as f64 / secs(flow_ms)),
        "statement→paid s": format!("{:.2}", secs(pay_ms)),
        "  import s": format!("{:.2}", secs(import_ms)),
        "  match s": format!("{:.2}", secs(match_ms)),
        "  apply s": format!("{:.2}", secs(apply_ms)),
        "orders/s end to end (paid)": format!("{:.0}", args.orders as f64 / secs(total_ms)),
        "bare SQLite commits/s, same run": format!("{ceiling:.0}"),
        "outbound files written": outbound_files,
        "bare file writes/s, same run": format!("{files_ceiling:.0}"),
        "durability": format!("{:?}", cfg.store.durability),
        "workers": cfg.workers,
        "peak memory VmHWM MiB, after the flow": hwm_flow.map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "n/a".into()),
        "peak memory VmHWM MiB": vm_hwm_kb().map(|k| format!("{:.1}", k as f64 / 1024.0)).unwrap_or_else(|| "n/a".into()),
    }))
}
