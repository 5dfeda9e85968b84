//! `ordo bench reports`: a generated book of N orders (each with one invoice of two lines, one
//! order in 50 also with a credit note of its first line), written through the store API in
//! transactions of 10,000 orders into a fresh SQLite store under the bench folder (nothing
//! committed to the repository; the store counts each document into the sales aggregates as
//! it is written, so the build time includes them), then each report's latency over it —
//! `sales` also by customer and by item, which read the per-key aggregates — beside the raw
//! ceiling of the same run: a bare `SELECT count(*)` over the invoices (`count_documents`). The generated book has no instance history, so `cycle-time`
//! reads an empty index range; its figure is the cost of the query, not of a full history.

use ordo::reports::{self, Context, Milestones, Params};
use ordo::store::Store;
use ordo::store::sqlite::{Durability, SqliteStore};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Instant;

/// One size's figures, in seconds.
#[derive(Debug, Clone)]
pub struct Figures {
    pub orders: usize,
    pub build: f64,
    pub ceiling: f64,
    pub reports: Vec<(String, f64)>,
}

const BATCH: usize = 10_000;

/// The items of the generated books.
pub const SKUS: [&str; 8] = ["A-1", "B-2", "C-3", "D-4", "E-5", "F-6", "G-7", "H-8"];

/// Order `i` of a generated book and its invoice (open, two lines, EUR, net 30), as stored:
/// (order id, order document, invoice number, invoice document). Customer `C{i % 1000:04}`,
/// one order in three through EDI from partner `ACME`, dates over two years from `start`.
/// `ordo bench console` builds its store from the same documents.
pub fn book_entry(i: usize, start: chrono::NaiveDate) -> (String, Value, String, Value) {
    let skus = SKUS;
    let day = start + chrono::Days::new((i % 730) as u64);
    let id = format!("O{i:08}");
    let customer = format!("C{:04}", i % 1000);
    let (a, b) = (skus[i % 8], skus[(i / 8) % 8]);
    let qa = Decimal::from(1 + i % 5);
    let qb = Decimal::from(1 + i % 3);
    let na = qa * Decimal::new(1234, 2);
    let nb = qb * Decimal::new(99, 2);
    let net = na + nb;
    let order = json!({ "id": id, "customer_id": customer, "po_number": id, "order_date": day,
        "currency": "EUR", "channel": if i.is_multiple_of(3) { "edi" } else { "api" },
        "partner": if i.is_multiple_of(3) { Some("ACME") } else { None },
        "lines": [{ "line_no": 1, "sku": a, "quantity": qa }, { "line_no": 2, "sku": b, "quantity": qb }] });
    let inv = format!("INV-{i:08}");
    let invoice = json!({ "number": inv, "order_id": id, "customer_id": customer,
        "issue_date": day, "due_date": day + chrono::Days::new(30), "currency": "EUR",
        "terms": { "net_days": 30, "discount_percent": 0, "discount_days": 0 },
        "lines": [
            { "line_no": 1, "sku": a, "quantity": qa, "uom": "EA", "unit_price": Decimal::new(1234, 2), "net_amount": na, "tax_rate": 0, "tax_amount": 0 },
            { "line_no": 2, "sku": b, "quantity": qb, "uom": "EA", "unit_price": Decimal::new(99, 2), "net_amount": nb, "tax_rate": 0, "tax_amount": 0 }],
        "net_total": net, "tax_total": 0, "total": net, "status": "open", "open_amount": net,
        "paid_amount": 0, "discount_amount": 0, "discount_until": null, "discount_taken": 0,
        "payments": [], "dunning_level": 0, "overdue": false });
    (id, order, inv, invoice)
}

async fn build(store: &dyn Store, n: usize) -> Result<(), String> {
    let e = |e: ordo::store::StoreError| e.to_string();
    let mut tx = store.begin().await.map_err(e)?;
    for (i, s) in SKUS.iter().enumerate() {
        let item = json!({ "sku": s, "description": s, "price": 10 + i, "cost": 4 + i, "group": if i % 2 == 0 { "even" } else { "odd" } });
        tx.put_document("item", s, &item, 0).await.map_err(e)?;
    }
    tx.commit().await.map_err(e)?;
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).ok_or("date")?;
    let mut done = 0;
    while done < n {
        let mut tx = store.begin().await.map_err(e)?;
        for i in done..(done + BATCH).min(n) {
            let (id, order, inv, invoice) = book_entry(i, start);
            tx.put_document("order", &id, &order, 0).await.map_err(e)?;
            tx.put_document("invoice", &inv, &invoice, 0)
                .await
                .map_err(e)?;
            if i % 50 == 0 {
                let cn = format!("CN-{i:08}");
                // Credits the invoice's first line in full, on its issue day.
                let line = &invoice["lines"][0];
                let day = &invoice["issue_date"];
                let credit = json!({ "number": cn, "order_id": id, "customer_id": invoice["customer_id"],
                    "issue_date": day, "due_date": day, "currency": "EUR", "corrects": inv,
                    "terms": { "net_days": 30, "discount_percent": 0, "discount_days": 0 },
                    "lines": [line],
                    "net_total": line["net_amount"], "tax_total": 0, "total": line["net_amount"] });
                tx.put_document("credit_note", &cn, &credit, 0)
                    .await
                    .map_err(e)?;
            }
        }
        tx.commit().await.map_err(e)?;
        done = (done + BATCH).min(n);
    }
    Ok(())
}

/// Builds a store of `n` orders under `dir` and times every report over it.
pub async fn run(dir: &Path, n: usize) -> Result<Figures, String> {
    let path = dir.join(format!("reports-{n}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let store = SqliteStore::open(&path, Durability::Normal)
        .await
        .map_err(|e| e.to_string())?;
    let t = Instant::now();
    build(&store, n).await?;
    let build_secs = t.elapsed().as_secs_f64();
    let e = |e: ordo::store::StoreError| e.to_string();
    let mut tx = store.begin().await.map_err(e)?;
    let t = Instant::now();
    let count = tx.count_documents("invoice").await.map_err(e)?;
    let ceiling = t.elapsed().as_secs_f64();
    if count != n as i64 {
        return Err(format!("{count} invoices stored, {n} generated"));
    }
    let cx = Context {
        today: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).ok_or("date")?,
        milestones: Milestones::default(),
    };
    let mut out = Vec::new();
    for name in reports::NAMES {
        let t = Instant::now();
        reports::run(tx.as_mut(), name, &Params::default(), &cx)
            .await
            .map_err(|e| format!("{name}: {e}"))?;
        out.push((name.to_string(), t.elapsed().as_secs_f64()));
    }
    for by in ["customer", "item", "quarter,channel,partner"] {
        let p = Params::parse(None, None, Some(by)).map_err(|e| e.to_string())?;
        let t = Instant::now();
        reports::run(tx.as_mut(), "sales", &p, &cx)
            .await
            .map_err(|e| format!("sales by {by}: {e}"))?;
        out.push((format!("sales by {by}"), t.elapsed().as_secs_f64()));
    }
    tx.rollback().await.map_err(e)?;
    store.close().await;
    Ok(Figures {
        orders: n,
        build: build_secs,
        ceiling,
        reports: out,
    })
}
