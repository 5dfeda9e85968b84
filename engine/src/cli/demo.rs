//! `ordo demo`: a realistic batch through `workflows/` on a fresh embedded store, with
//! simulated time, checked against the outcome each order was generated to reach.
//!
//! The batch mixes customers with plenty of credit, customers near or over their limit (sent
//! to a manager: half approved by the demo, the rest left to time out after 24 h of simulated
//! time), an item that is out of stock (backordered) and orders with unknown items or bad
//! quantities (held with reasons). Exit 0 only when every order ended as expected.

use super::table::Table;
use ordo::config::Config;
use ordo::runtime::{Engine, RunOptions};
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Deterministic generator (SplitMix64): the same batch every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ITEMS: &[(&str, &str)] = &[
    ("WID-100", "12.50"),
    ("WID-150", "14.95"),
    ("GAD-200", "149.00"),
    ("GAD-210", "99.90"),
    ("BOLT-M8", "7.335"),
    ("NUT-M8", "2.10"),
    ("CAB-5M", "8.99"),
    ("LAMP-LED", "23.40"),
];

/// Out of stock on purpose.
const SHORT_ITEM: (&str, &str) = ("PUMP-X1", "899.00");

pub async fn run(cfg: &Config, orders: usize, dir: PathBuf) -> ExitCode {
    match demo(cfg, orders, dir).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(super::FAIL),
        Err(e) => super::fail(format!("demo failed: {e}")),
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

async fn demo(cfg: &Config, orders: usize, dir: PathBuf) -> Result<bool, String> {
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut cfg = cfg.clone();
    cfg.store.sqlite = Some(dir.join("ordo.db"));
    cfg.store.postgres = None;
    cfg.queue.amqp = None;
    cfg.outbound = dir.join("outbound");
    let engine = ordo::app::open_engine(&cfg)
        .await
        .map_err(|e| e.to_string())?;

    // Master data: 12 customers; 3 of them are near their credit limit.
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let now = engine.clock.now_ms();
    let mut customers = Vec::new();
    for i in 0..12 {
        let tight = i % 4 == 3;
        let (limit, open) = if tight {
            (dec("3000.00"), dec("1000.00"))
        } else {
            (dec("500000.00"), dec("20000.00"))
        };
        let id = format!("C{:03}", i + 1);
        let doc = json!({ "id": id, "name": format!("Customer {}", i + 1), "currency": "EUR", "credit_limit": limit, "open_balance": open });
        tx.put_document("customer", &id, &doc, now)
            .await
            .map_err(|e| e.to_string())?;
        customers.push((id, tight, limit - open));
    }
    for (sku, price) in ITEMS.iter().chain(std::iter::once(&SHORT_ITEM)) {
        let doc = json!({ "sku": sku, "price": dec(price), "uom": "EA" });
        tx.put_document("item", sku, &doc, now)
            .await
            .map_err(|e| e.to_string())?;
        let qty = if *sku == SHORT_ITEM.0 {
            Decimal::ZERO
        } else {
            Decimal::from(1_000_000)
        };
        let cur = tx
            .stock_level(sku, "main")
            .await
            .map_err(|e| e.to_string())?;
        tx.adjust_stock(sku, "main", qty - cur)
            .await
            .map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;

    // Orders, each with the end state it must reach.
    let mut g = Gen(2026);
    let mut expected: BTreeMap<String, &'static str> = BTreeMap::new();
    let mut batch = Vec::new();
    for n in 0..orders {
        let (cid, tight, available) = customers[g.below(customers.len() as u64) as usize].clone();
        let kind = g.below(20);
        let mut lines = Vec::new();
        let mut total = Decimal::ZERO;
        let lines_n = 1 + g.below(4) as usize;
        for l in 0..lines_n {
            let (sku, price) = ITEMS[g.below(ITEMS.len() as u64) as usize];
            let qty = Decimal::from(1 + g.below(40));
            total += (qty * dec(price)).round_dp(2);
            lines.push(json!({ "line_no": l + 1, "sku": sku, "quantity": qty }));
        }
        let want = if kind == 0 {
            lines.push(json!({ "line_no": lines_n + 1, "sku": "NO-SUCH-ITEM", "quantity": 1 }));
            "held"
        } else if kind == 1 {
            lines[0]["quantity"] = json!(0);
            "held"
        } else if kind == 2 && !tight {
            lines.push(json!({ "line_no": lines_n + 1, "sku": SHORT_ITEM.0, "quantity": 2 }));
            "backordered"
        } else if tight && total > available * Decimal::TWO {
            "rejected"
        } else if tight && total > available {
            if n % 2 == 0 {
                "confirmed:approve"
            } else {
                "rejected:timeout"
            }
        } else {
            "confirmed"
        };
        let id = format!("{cid}-PO{:05}", n + 1);
        expected.insert(id.clone(), want);
        batch.push(json!({ "id": id, "customer_id": cid, "po_number": format!("PO{:05}", n + 1),
                           "order_date": "2026-11-23", "currency": "EUR", "channel": "demo", "lines": lines }));
    }
    for o in &batch {
        let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
        let id = o["id"].as_str().unwrap_or_default().to_string();
        tx.put_document("order", &id, o, engine.clock.now_ms())
            .await
            .map_err(|e| e.to_string())?;
        engine
            .emit_event(
                tx.as_mut(),
                "order.received",
                &id,
                "received",
                &json!({ "order": o }),
            )
            .await
            .map_err(|e| e.to_string())?;
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    println!(
        "submitted {} orders from {} customers",
        batch.len(),
        customers.len()
    );
    run_until_idle(&engine, &cfg).await?;

    // A manager decides half of the review tasks; the others time out.
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let open = tx.list_tasks("open").await.map_err(|e| e.to_string())?;
    let mut approved = 0;
    for t in &open {
        let key = tx
            .load_instance(&t.instance_id)
            .await
            .map_err(|e| e.to_string())?
            .map(|i| i.business_key)
            .unwrap_or_default();
        if expected.get(&key) == Some(&"confirmed:approve") {
            engine
                .decide_task(tx.as_mut(), t.id, "approved", Some("demo: credit extended"))
                .await
                .map_err(|e| e.to_string())?;
            approved += 1;
        }
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    println!(
        "{} review task(s) opened; the manager approved {approved}",
        open.len()
    );
    run_until_idle(&engine, &cfg).await?;

    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let off = engine.clock.offset_ms() + 25 * 3_600_000;
    tx.kv_set(ordo::clock::OFFSET_KEY, &off.to_string())
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    engine.clock.set_offset_ms(off);
    println!("advanced business time by 25 h: undecided tasks time out");
    // Let the timer service see the new time before idling out.
    run_until_idle(&engine, &cfg).await?;

    // Compare.
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let mut by_state: BTreeMap<String, (usize, Decimal)> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (id, want) in &expected {
        let inst = tx.find_instances(id).await.map_err(|e| e.to_string())?;
        let got = match inst.as_slice() {
            [i] => i.end_status.clone().unwrap_or_else(|| i.status.clone()),
            [] => "missing".into(),
            _ => "duplicated".into(),
        };
        let want_state = want.split(':').next().unwrap_or_default();
        if got != want_state {
            wrong.push(format!("{id}: expected {want_state}, got {got}"));
        }
        let amount = inst
            .first()
            .and_then(|i| i.data.get("pricing").and_then(|p| p.get("total")).cloned())
            .and_then(|v| serde_json::from_value::<Decimal>(v).ok())
            .unwrap_or_default();
        let e = by_state.entry(got).or_default();
        e.0 += 1;
        e.1 += amount;
    }
    let confirmations = tx
        .count_documents("confirmation")
        .await
        .map_err(|e| e.to_string())?;
    let series = tx
        .current_number("order-confirmation")
        .await
        .map_err(|e| e.to_string())?;
    let outbound = tx
        .count_outbound("order-confirmations")
        .await
        .map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;

    let mut t = Table::new(&["end state", "orders", "order value (EUR)"]);
    for (state, (n, amount)) in &by_state {
        t.row(vec![state.clone(), n.to_string(), amount.to_string()]);
    }
    print!("{}", t.render());
    let confirmed = by_state.get("confirmed").map(|c| c.0).unwrap_or(0) as i64;
    println!(
        "confirmations stored: {confirmations}, last confirmation number: {series}, confirmations sent: {outbound}"
    );
    let mut ok = wrong.is_empty();
    if confirmations != confirmed || series != confirmed || outbound != confirmed {
        ok = false;
        println!(
            "MISMATCH: every confirmed order must have exactly one confirmation, number and message"
        );
    }
    for w in wrong.iter().take(20) {
        println!("MISMATCH {w}");
    }
    println!(
        "{}",
        if ok {
            "demo passed: every order ended as expected"
        } else {
            "demo FAILED"
        }
    );
    engine.store.close().await;
    Ok(ok)
}

async fn run_until_idle(engine: &Arc<Engine>, cfg: &Config) -> Result<(), String> {
    let opts = RunOptions {
        workers: cfg.workers,
        exit_when_idle: true,
        hot_reload: false,
        stop: None,
    };
    ordo::runtime::run(engine.clone(), opts)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
