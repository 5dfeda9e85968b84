//! `ordo bench atp`: available to promise for an order of 20 lines over a store of 100,000
//! items and 10,000 open purchase orders (generated into a fresh store under the bench folder
//! on the backend of the config; nothing committed to the repository).
//!
//! Three figures per run, median and p99 of `samples` promises:
//! - `promise`: what `order.promise` does before storing — the facts read through the store's
//!   indexed lookups (`ordo_sales::atp::gather`: stock row, `sku-po` index, the POs, item and
//!   supplier per line, in a read transaction) and the pure core `ordo_sales::atp::promise`;
//! - `core`: the pure core alone on those facts;
//! - ceiling: the bare reads of the same rows and documents (no typing, no logic) in the same
//!   run, the least any promise over this store can cost.

use ordo::runtime::{Engine, TxContext};
use ordo::store::Tx;
use ordo_sales::atp::{Want, gather, promise};
use rust_decimal::Decimal;
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;

/// Median and p99 in microseconds.
#[derive(Debug, Clone, Copy)]
pub struct Lat {
    pub median_us: f64,
    pub p99_us: f64,
}

#[derive(Debug, Clone)]
pub struct AtpFigures {
    pub items: usize,
    pub pos: usize,
    pub lines: usize,
    pub samples: usize,
    pub build_s: f64,
    pub promise: Lat,
    pub core: Lat,
    pub ceiling: Lat,
}

fn lat(mut ns: Vec<u128>) -> Lat {
    ns.sort_unstable();
    let at = |p: f64| {
        let i = ((ns.len() as f64 - 1.0) * p).round() as usize;
        ns[i.min(ns.len() - 1)] as f64 / 1e3
    };
    Lat {
        median_us: at(0.5),
        p99_us: at(0.99),
    }
}

fn sku(i: usize) -> String {
    format!("ATP-{i:06}")
}

const SUPPLIERS: usize = 50;

/// 100,000 items with stock, 10,000 POs of 3 lines each (the `sku-po` index kept as the
/// purchasing connector keeps it), in transactions of 5,000 writes.
async fn build(engine: &Engine, items: usize, pos: usize) -> Result<(), String> {
    let e = |e: ordo::store::StoreError| e.to_string();
    let mut tx = engine.store.begin().await.map_err(e)?;
    for s in 0..SUPPLIERS {
        let id = format!("S-{s:03}");
        let doc = json!({ "id": id, "name": id, "lead_time_days": 5 + s % 10 });
        tx.put_document("supplier", &id, &doc, 0).await.map_err(e)?;
    }
    tx.commit().await.map_err(e)?;
    let mut tx = engine.store.begin().await.map_err(e)?;
    let mut writes = 0;
    for i in 0..items {
        let s = sku(i);
        let doc = json!({ "sku": s, "description": s, "price": 10, "cost": 4, "reorder_point": 5,
                          "reorder_qty": 20, "supplier": format!("S-{:03}", i % SUPPLIERS) });
        tx.put_document("item", &s, &doc, 0).await.map_err(e)?;
        tx.adjust_stock(&s, "main", Decimal::from(i % 7))
            .await
            .map_err(e)?;
        writes += 2;
        if writes >= 5_000 {
            tx.commit().await.map_err(e)?;
            tx = engine.store.begin().await.map_err(e)?;
            writes = 0;
        }
    }
    // PO p brings items 3p, 3p+1, 3p+2 (mod items): 30,000 of the items are on order.
    let start = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).ok_or("date")?;
    let mut index: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for p in 0..pos {
        let number = format!("PO-{:06}", p + 1);
        let lines: Vec<_> = (0..3)
            .map(|k| {
                let s = sku((3 * p + k) % items);
                index.entry(s.clone()).or_default().push(number.clone());
                json!({ "sku": s, "quantity": 10 + k, "received": 0, "orders": [] })
            })
            .collect();
        let doc = json!({ "number": number, "supplier": format!("S-{:03}", p % SUPPLIERS), "status": "open",
                          "created_on": start, "expected_on": start + chrono::Days::new((p % 30) as u64),
                          "lines": lines, "waiting": [], "receipts": [] });
        tx.put_document("purchase-order", &number, &doc, 0)
            .await
            .map_err(e)?;
        writes += 1;
        if writes >= 5_000 {
            tx.commit().await.map_err(e)?;
            tx = engine.store.begin().await.map_err(e)?;
            writes = 0;
        }
    }
    for (s, list) in index {
        tx.put_document("sku-po", &s, &json!({ "pos": list }), 0)
            .await
            .map_err(e)?;
        writes += 1;
        if writes >= 5_000 {
            tx.commit().await.map_err(e)?;
            tx = engine.store.begin().await.map_err(e)?;
            writes = 0;
        }
    }
    tx.commit().await.map_err(e)?;
    Ok(())
}

/// The 20 lines of sample `n`: items spread over the store, two of three on order.
fn order(n: usize, items: usize, lines: usize) -> Vec<Want> {
    (0..lines)
        .map(|k| Want {
            line_no: k as u32 + 1,
            sku: sku((n * 7919 + k * 104_729) % items),
            quantity: Decimal::from(1 + (k % 12)),
        })
        .collect()
}

/// The bare reads of one order's rows: its stock rows and the documents `gather` reads.
async fn raw_reads(tx: &mut dyn Tx, lines: &[Want]) -> Result<usize, String> {
    let e = |e: ordo::store::StoreError| e.to_string();
    let mut n = 0;
    for l in lines {
        tx.stock_level(&l.sku, "main").await.map_err(e)?;
        if let Some(idx) = tx.get_document("sku-po", &l.sku).await.map_err(e)? {
            for po in idx["pos"].as_array().into_iter().flatten() {
                if let Some(po) = po.as_str() {
                    n += usize::from(
                        tx.get_document("purchase-order", po)
                            .await
                            .map_err(e)?
                            .is_some(),
                    );
                }
            }
        }
        if let Some(item) = tx.get_document("item", &l.sku).await.map_err(e)?
            && let Some(s) = item["supplier"].as_str()
        {
            n += usize::from(tx.get_document("supplier", s).await.map_err(e)?.is_some());
        }
    }
    Ok(n)
}

pub async fn run(
    engine: &Arc<Engine>,
    items: usize,
    pos: usize,
    lines: usize,
    samples: usize,
) -> Result<AtpFigures, String> {
    if items == 0 || lines == 0 || samples == 0 {
        return Err("items, lines and samples must be positive".into());
    }
    let t = Instant::now();
    build(engine, items, pos).await?;
    let build_s = t.elapsed().as_secs_f64();
    let e = |e: ordo::store::StoreError| e.to_string();
    let today = engine.clock.now().date_naive();
    let (mut full, mut core, mut ceiling) = (Vec::new(), Vec::new(), Vec::new());
    // Warm-up pass over the samples' rows, then the measured passes (alternating, so load
    // changes hit all three alike).
    for pass in 0..2 {
        for n in 0..samples {
            let want = order(n, items, lines);
            let mut tx = engine.store.begin().await.map_err(e)?;
            let t = Instant::now();
            std::hint::black_box(raw_reads(tx.as_mut(), &want).await?);
            let raw = t.elapsed().as_nanos();
            tx.rollback().await.map_err(e)?;

            let mut tx = engine.store.begin().await.map_err(e)?;
            let t = Instant::now();
            let supply = {
                let mut ctx = TxContext::command(tx.as_mut(), engine);
                let skus: Vec<&str> = want.iter().map(|l| l.sku.as_str()).collect();
                gather(&mut ctx, "main", &skus)
                    .await
                    .map_err(|e| e.to_string())?
            };
            let t_core = Instant::now();
            let p = promise(today, &want, &supply)?;
            let c = t_core.elapsed().as_nanos();
            let f = t.elapsed().as_nanos();
            std::hint::black_box(p);
            tx.rollback().await.map_err(e)?;
            if pass == 1 {
                ceiling.push(raw);
                full.push(f);
                core.push(c);
            }
        }
    }
    Ok(AtpFigures {
        items,
        pos,
        lines,
        samples,
        build_s,
        promise: lat(full),
        core: lat(core),
        ceiling: lat(ceiling),
    })
}
