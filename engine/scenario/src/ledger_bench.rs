//! `ordo bench ledger`: the trial balance and `ordo ledger check` over the journal of N orders
//! (default 100,000). A generator builds the store: per order an invoice posting (two tax
//! rates, made by `ordo_sales::posting::invoice`, the invoice step's own) and its payment in
//! full, dated over twelve months, each through `ordo::ledger::post` — the posting rule, the
//! balance check, the database's triggers and the per-period balances, as a step posts them —
//! 1,000 orders per transaction. Then it times the trial balance (all periods, and one
//! period), the ledger check, and beside them, in the same run, the same sums read from every
//! journal line (what a trial balance without the per-period balance table would cost).

use crate::harness;
use chrono::{Days, NaiveDate};
use ordo::runtime::Engine;
use ordo_contract::ledger::{Posting, events};
use ordo_contract::{Invoice, InvoiceLine, PaymentTerms};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Instant;

/// Orders per building transaction.
const PER_TX: usize = 1000;

/// Order `n`'s invoice: a 19 % and a 7 % line, amounts varying with `n`.
fn invoice(n: usize, date: NaiveDate) -> Invoice {
    let line = |no: u32, rate: i64, cents: i64| {
        let net = Decimal::new(cents, 2);
        let tax = (net * Decimal::from(rate) / Decimal::ONE_HUNDRED).round_dp(2);
        InvoiceLine {
            line_no: no,
            sku: format!("ITEM-{no}"),
            description: None,
            quantity: Decimal::ONE,
            uom: "EA".into(),
            unit_price: net,
            net_amount: net,
            tax_rate: Decimal::from(rate),
            tax_amount: tax,
        }
    };
    let lines = vec![
        line(1, 19, 1000 + (n % 9000) as i64),
        line(2, 7, 500 + (n % 700) as i64),
    ];
    let net_total = lines.iter().map(|l| l.net_amount).sum();
    let tax_total = lines.iter().map(|l| l.tax_amount).sum();
    Invoice {
        number: format!("INV-{n:07}"),
        order_id: format!("B-{n:07}"),
        shipment_id: None,
        customer_id: format!("C{:03}", n % 50),
        issue_date: date,
        due_date: date,
        currency: "EUR".into(),
        terms: PaymentTerms {
            net_days: 30,
            discount_percent: Decimal::ZERO,
            discount_days: 0,
        },
        lines,
        net_total,
        tax_total,
        total: net_total + tax_total,
    }
}

/// The payment of `inv` in full, as `payment.apply` posts one without deductions.
fn payment(inv: &Invoice) -> Posting {
    Posting {
        kind: events::PAYMENT,
        source: format!("PAY-{}", &inv.number[4..]),
        date: inv.issue_date,
        currency: Some(inv.currency.clone()),
        order_id: None,
        invoice: Some(inv.number.clone()),
        customer: Some(inv.customer_id.clone()),
        facts: json!({ "received": inv.total, "applied": inv.total, "settled": inv.total,
                       "discount": 0, "written_off": 0, "income_written_off": 0, "credit": 0,
                       "adjustment_account": null }),
    }
}

async fn build(engine: &Engine, orders: usize, start: NaiveDate) -> Result<(), String> {
    let now_ms = engine.clock.now_ms();
    let mut n = 0;
    while n < orders {
        let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
        for k in n..(n + PER_TX).min(orders) {
            let date = start + Days::new((k * 360 / orders.max(1)) as u64);
            let inv = invoice(k + 1, date);
            let p = ordo_sales::posting::invoice(&inv).map_err(|e| e.to_string())?;
            for p in [p, payment(&inv)] {
                ordo::ledger::post::post(tx.as_mut(), engine, &p, now_ms)
                    .await
                    .map_err(|e| format!("{} {}: {e}", p.kind, p.source))?;
            }
        }
        tx.commit().await.map_err(|e| e.to_string())?;
        n += PER_TX;
    }
    Ok(())
}

/// Builds the journal of `orders` orders in `dir` (recreated) and times the ledger's reads.
pub async fn run(cfg: &ordo::config::Config, orders: usize, dir: &Path) -> Result<Value, String> {
    let (engine, _cfg) = harness::fresh_engine(cfg, &dir.to_path_buf()).await?;
    if engine.ledger.is_none() {
        return Err(format!(
            "no chart of accounts ({}): nothing posts",
            cfg.accounts.display()
        ));
    }
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).ok_or("start date")?;
    let t = Instant::now();
    build(&engine, orders, start).await?;
    let build_s = t.elapsed().as_secs_f64();
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let tb = ordo::ledger::report::trial_balance(&engine, None)
        .await
        .map_err(|e| e.to_string())?;
    let tb_ms = ms(t);
    let t = Instant::now();
    let month = ordo::ledger::report::trial_balance(&engine, Some("2026-06"))
        .await
        .map_err(|e| e.to_string())?;
    let month_ms = ms(t);
    let t = Instant::now();
    let check = ordo::ledger::report::check(&engine)
        .await
        .map_err(|e| e.to_string())?;
    let check_ms = ms(t);
    if !tb.balanced || !month.balanced || !check.ok() || check.entries != 2 * orders as i64 {
        return Err(format!(
            "the generated ledger does not tie: balanced {} / {}, {} entries, problems {:?}",
            tb.balanced, month.balanced, check.entries, check.problems
        ));
    }
    // Beside it, in the same run: the same sums read from every journal line (the trial balance
    // without the per-period balances the posting transaction keeps).
    let t = Instant::now();
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let sums = tx.ledger_line_sums().await.map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    let lines_ms = ms(t);
    engine.store.close().await;
    Ok(json!({
        "orders": orders,
        "journal entries": check.entries,
        "balance rows (period × account)": sums.len(),
        "build s (post through the rule)": format!("{build_s:.1}"),
        "trial balance ms (all periods)": format!("{tb_ms:.1}"),
        "trial balance ms (one period)": format!("{month_ms:.1}"),
        "ledger check ms": format!("{check_ms:.1}"),
        "sums over every journal line ms, same run": format!("{lines_ms:.1}"),
        "target": "trial balance ≤ 1000 ms",
    }))
}
