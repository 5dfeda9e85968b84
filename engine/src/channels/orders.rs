//! The order inbox (`data/inbox/`): JSON and CSV order files, and goods-receipt files in
//! `data/inbox/receipts/`, taken by `ordo run` like the partner and bank folders.
//!
//! Orders, JSON: one order object, an array, or JSON lines — the canonical `Order`
//! (`ordo submit` reads the same). An order without `id` gets `CUSTOMER-PO`.
//! Orders, CSV (header required; one row per line, rows of the same customer and PO form one
//! order, in file order):
//!
//! ```csv
//! customer_id,po_number,order_date,currency,sku,quantity,unit_price,requested_date
//! C-ACME,PO-4711,2026-11-23,EUR,WID-100,10,12.50,
//! C-ACME,PO-4711,2026-11-23,EUR,GAD-200,2,,2026-12-01
//! ```
//!
//! `unit_price` (the buyer's stated price, checked against the price list) and
//! `requested_date` are optional; `order_date` defaults to business today.
//!
//! Receipts, CSV `po,sku,quantity[,location]` (location `main` by default): each PO's lines are
//! booked like `ordo receive PO --lines …`, all of a file in one transaction.
//!
//! A file that cannot be read is rejected whole (nothing from it is booked) and moved to
//! `data/inbox/quarantine/` with `NAME.reason.txt`. An order whose customer and PO number were
//! received before is a duplicate: reported, not processed twice; the file's other orders go
//! ahead and the file is quarantined with the reason. A clean file moves to
//! `data/inbox/archive/`.

use std::path::Path;

use chrono::NaiveDate;
use ordo_contract::Order;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::runtime::{Engine, EngineError, TxContext};
use crate::store::Tx;

/// Reads orders from JSON (one object, an array, or JSON lines) or CSV (by extension `.csv`),
/// each error located `path:line:col: message`.
pub fn read_orders(shown: &str, text: &str, today: NaiveDate) -> Result<Vec<Value>, String> {
    let trimmed = text.trim_start();
    let mut out = if shown.to_ascii_lowercase().ends_with(".csv") {
        csv_orders(shown, text, today)?
    } else if trimmed.starts_with('[') || trimmed.starts_with('{') {
        let mut de = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        let mut out = Vec::new();
        for v in &mut de {
            match v {
                Ok(Value::Array(a)) => out.extend(a),
                Ok(v) => out.push(v),
                Err(e) => return Err(format!("{shown}:{}:{}: {e}", e.line(), e.column())),
            }
        }
        out
    } else {
        return Err(format!(
            "{shown}:1:1: expected a JSON order, an array of orders, JSON lines, or a .csv file"
        ));
    };
    for o in &mut out {
        if o.get("id").is_none_or(Value::is_null)
            && let (Some(c), Some(p)) = (o["customer_id"].as_str(), o["po_number"].as_str())
        {
            o["id"] = json!(format!("{c}-{p}"));
        }
    }
    Ok(out)
}

/// A CSV split into (line number, cells with their 1-based column); quotes as in RFC 4180.
fn csv_rows(text: &str) -> Vec<(usize, Vec<(usize, String)>)> {
    let delim = if text
        .lines()
        .next()
        .is_some_and(|h| h.contains(';') && !h.contains(','))
    {
        ';'
    } else {
        ','
    };
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let mut cells = Vec::new();
        let mut cur = String::new();
        let mut start = 1;
        let mut quoted = false;
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if quoted {
                if c == '"' && chars.get(i + 1) == Some(&'"') {
                    cur.push('"');
                    i += 1;
                } else if c == '"' {
                    quoted = false;
                } else {
                    cur.push(c);
                }
            } else if c == '"' {
                quoted = true;
            } else if c == delim {
                cells.push((start, cur.trim().to_string()));
                cur.clear();
                start = i + 2;
            } else {
                cur.push(c);
            }
            i += 1;
        }
        cells.push((start, cur.trim().trim_end_matches('\r').to_string()));
        rows.push((n + 1, cells));
    }
    rows
}

fn csv_orders(shown: &str, text: &str, today: NaiveDate) -> Result<Vec<Value>, String> {
    let rows = csv_rows(text);
    let Some((hl, header)) = rows.first() else {
        return Err(format!("{shown}:1:1: empty file"));
    };
    let names: Vec<String> = header.iter().map(|(_, h)| h.to_ascii_lowercase()).collect();
    let col = |alts: &[&str]| names.iter().position(|n| alts.contains(&n.as_str()));
    let need = |alts: &[&str]| {
        col(alts).ok_or_else(|| format!("{shown}:{hl}:1: the header has no '{}' column", alts[0]))
    };
    let c_customer = need(&["customer_id", "customer"])?;
    let c_po = need(&["po_number", "po"])?;
    let c_sku = need(&["sku", "item"])?;
    let c_qty = need(&["quantity", "qty"])?;
    let c_currency = need(&["currency"])?;
    let c_date = col(&["order_date", "date"]);
    let c_price = col(&["unit_price", "price"]);
    let c_req = col(&["requested_date"]);
    let c_uom = col(&["uom"]);
    let mut orders: Vec<Value> = Vec::new();
    for (line, cells) in rows.iter().skip(1) {
        let cell = |i: usize| cells.get(i).map(|(_, v)| v.as_str()).unwrap_or("");
        let at = |i: usize| {
            let c = cells.get(i).map(|(c, _)| *c).unwrap_or(1);
            format!("{shown}:{line}:{c}")
        };
        let customer = cell(c_customer);
        let po = cell(c_po);
        for (i, what) in [
            (c_customer, "customer_id"),
            (c_po, "po_number"),
            (c_sku, "sku"),
            (c_currency, "currency"),
        ] {
            if cell(i).is_empty() {
                return Err(format!("{}: {what} is empty", at(i)));
            }
        }
        let qty = Decimal::from_str_exact(cell(c_qty))
            .map_err(|_| format!("{}: quantity '{}' is not a number", at(c_qty), cell(c_qty)))?;
        let date = |i: Option<usize>| -> Result<Option<NaiveDate>, String> {
            match i.map(cell).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| format!("{}: date '{s}' is not YYYY-MM-DD", at(i.unwrap_or(0)))),
            }
        };
        let order_date = date(c_date)?.unwrap_or(today);
        let requested = date(c_req)?;
        let price = match c_price.map(cell).filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(Decimal::from_str_exact(s).map_err(|_| {
                format!(
                    "{}: unit_price '{s}' is not a decimal number",
                    at(c_price.unwrap_or(0))
                )
            })?),
        };
        let id = format!("{customer}-{po}");
        let idx = match orders.iter().position(|o| o["id"] == id.as_str()) {
            Some(i) => i,
            None => {
                orders.push(json!({ "id": id, "customer_id": customer, "po_number": po,
                                    "order_date": order_date, "requested_date": requested,
                                    "currency": cell(c_currency), "channel": "csv", "lines": [] }));
                orders.len() - 1
            }
        };
        let o = &mut orders[idx];
        if o["currency"] != cell(c_currency) {
            return Err(format!(
                "{}: currency {} differs from {} on an earlier line of order {id}",
                at(c_currency),
                cell(c_currency),
                o["currency"].as_str().unwrap_or_default()
            ));
        }
        let lines = o["lines"].as_array_mut().expect("lines array");
        let mut l = json!({ "line_no": lines.len() + 1, "sku": cell(c_sku), "quantity": qty });
        if let Some(p) = price {
            l["unit_price"] = json!(p);
        }
        if let Some(u) = c_uom.map(cell).filter(|s| !s.is_empty()) {
            l["uom"] = json!(u);
        }
        lines.push(l);
    }
    if orders.is_empty() {
        return Err(format!(
            "{shown}:{}:1: no order lines after the header",
            hl + 1
        ));
    }
    Ok(orders)
}

/// What happened to one order offered to intake.
pub enum Intake {
    Accepted {
        order: String,
        instances: Vec<String>,
    },
    Duplicate(String),
}

/// Stores the order and sends `order.received`, unless the same customer and PO (or the same
/// id) came before. Runs in the caller's transaction.
pub async fn accept_order(
    engine: &Engine,
    tx: &mut dyn Tx,
    order: &Order,
    raw: Value,
) -> Result<Intake, EngineError> {
    let po_key = format!("{}:{}", order.customer_id, order.po_number);
    if let Some(prev) = tx.get_document("order_po", &po_key).await?
        && prev["order"] != order.id.as_str()
    {
        return Ok(Intake::Duplicate(format!(
            "order '{}' (customer {}, PO {}) was already received as order {}",
            order.id,
            order.customer_id,
            order.po_number,
            prev["order"].as_str().unwrap_or("?")
        )));
    }
    if tx.get_document("order", &order.id).await?.is_some() {
        return Ok(Intake::Duplicate(format!(
            "order '{}' (customer {}, PO {}) was already submitted",
            order.id, order.customer_id, order.po_number
        )));
    }
    let now = engine.clock.now_ms();
    let doc = serde_json::to_value(order).unwrap_or(raw);
    tx.put_document("order", &order.id, &doc, now).await?;
    tx.put_document("order_po", &po_key, &json!({ "order": order.id }), now)
        .await?;
    let started = engine
        .emit_event(
            tx,
            "order.received",
            &order.id,
            "received",
            &json!({ "order": doc }),
        )
        .await?;
    if started.is_empty() {
        return Err(EngineError::Refused(
            "no workflow is triggered by event 'order.received'".into(),
        ));
    }
    Ok(Intake::Accepted {
        order: order.id.clone(),
        instances: started,
    })
}

/// Orders of one file: parsed whole first (a malformed file books nothing), then taken in one
/// transaction. Returns (accepted ids, duplicate reasons).
pub async fn intake_file(
    engine: &Engine,
    shown: &str,
    text: &str,
) -> Result<Result<(Vec<String>, Vec<String>), String>, EngineError> {
    let today = engine.clock.now().date_naive();
    let id = ordo_contract::content_id(text.as_bytes());
    let raw = match read_orders(shown, text, today) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let mut orders = Vec::new();
    for (i, v) in raw.into_iter().enumerate() {
        match serde_json::from_value::<Order>(v.clone()) {
            Ok(o) => orders.push((o, v)),
            Err(e) => return Ok(Err(format!("{shown}: order #{}: {e}", i + 1))),
        }
    }
    let mut tx = engine.store.begin().await?;
    // `accept_order` reports orders already known as duplicates; an instance clash left over
    // (one started by hand) fails the file at commit, as it would have at its order.
    tx.defer_instance_inserts();
    // The same content taken before (a crash hit between the commit and the move): its
    // recorded verdict, nothing booked again.
    if let Some(prev) = tx.get_document("inbox_file", &id).await? {
        tx.rollback().await?;
        let list = |k: &str| -> Vec<String> {
            serde::Deserialize::deserialize(&prev[k]).unwrap_or_default()
        };
        return Ok(Ok((list("accepted"), list("duplicates"))));
    }
    let mut accepted = Vec::new();
    let mut duplicates = Vec::new();
    for (o, v) in &orders {
        match accept_order(engine, tx.as_mut(), o, v.clone()).await? {
            Intake::Accepted { order, .. } => accepted.push(order),
            Intake::Duplicate(reason) => {
                duplicates.push(format!("{shown}: {reason}: not processed twice"))
            }
        }
    }
    tx.put_document(
        "inbox_file",
        &id,
        &json!({ "name": shown, "accepted": accepted, "duplicates": duplicates }),
        engine.clock.now_ms(),
    )
    .await?;
    crate::app::commit_and_publish(engine, tx).await?;
    Ok(Ok((accepted, duplicates)))
}

type ReceiptBatch = (String, String, Vec<(String, Decimal)>);

/// Receipts of one file, all in one transaction: `Err` books nothing.
async fn receipts_file(
    engine: &Engine,
    shown: &str,
    text: &str,
) -> Result<Result<usize, String>, EngineError> {
    let rows = csv_rows(text);
    let Some((hl, header)) = rows.first() else {
        return Ok(Err(format!("{shown}:1:1: empty file")));
    };
    let names: Vec<String> = header.iter().map(|(_, h)| h.to_ascii_lowercase()).collect();
    let col = |n: &str| names.iter().position(|x| x == n);
    let (Some(c_po), Some(c_sku), Some(c_qty)) = (col("po"), col("sku"), col("quantity")) else {
        return Ok(Err(format!(
            "{shown}:{hl}:1: the header must have po, sku and quantity columns"
        )));
    };
    let c_loc = col("location");
    // (PO, location, lines) in file order.
    let mut by_po: Vec<ReceiptBatch> = Vec::new();
    for (line, cells) in rows.iter().skip(1) {
        let cell = |i: usize| cells.get(i).map(|(_, v)| v.as_str()).unwrap_or("");
        let qty = match Decimal::from_str_exact(cell(c_qty)) {
            Ok(q) if q > Decimal::ZERO => q,
            _ => {
                let c = cells.get(c_qty).map(|(c, _)| *c).unwrap_or(1);
                return Ok(Err(format!(
                    "{shown}:{line}:{c}: quantity '{}' must be a positive number",
                    cell(c_qty)
                )));
            }
        };
        let loc = c_loc
            .map(cell)
            .filter(|s| !s.is_empty())
            .unwrap_or("main")
            .to_string();
        let po = cell(c_po).to_string();
        match by_po.iter_mut().find(|(p, l, _)| *p == po && *l == loc) {
            Some((_, _, lines)) => lines.push((cell(c_sku).to_string(), qty)),
            None => by_po.push((po, loc, vec![(cell(c_sku).to_string(), qty)])),
        }
    }
    let id = ordo_contract::content_id(text.as_bytes());
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    if let Some(prev) = tx.get_document("inbox_file", &id).await? {
        tx.rollback().await?;
        return Ok(Ok(prev["lines"].as_u64().unwrap_or(0) as usize));
    }
    let mut booked = 0;
    for (po, loc, lines) in &by_po {
        let r = {
            let mut ctx = TxContext::command(tx.as_mut(), engine);
            ordo_sales::receive_goods(&mut ctx, po, Some(lines), loc).await
        };
        if let Err(e) = r {
            tx.rollback().await?;
            return Ok(Err(format!(
                "{shown}: {po}: {e}; nothing from the file was booked"
            )));
        }
        booked += lines.len();
    }
    tx.put_document(
        "inbox_file",
        &id,
        &json!({ "name": shown, "lines": booked }),
        engine.clock.now_ms(),
    )
    .await?;
    crate::app::commit_and_publish(engine, tx).await?;
    Ok(Ok(booked))
}

fn settle_in(inbox: &Path, path: &Path, reason: Option<String>) {
    let dir = inbox.join(if reason.is_some() {
        "quarantine"
    } else {
        "archive"
    });
    super::settle(path, &dir, reason.as_deref(), "2");
}

/// One scan of the inbox. Returns the number of files taken. Each file's content is recorded
/// (`inbox_file/<sha256>`) in the transaction that books it, so a crash between the commit and
/// the move only means the next scan finishes the move.
pub async fn scan(engine: &Engine) -> Result<usize, EngineError> {
    let inbox = engine.inbox_dir.clone();
    // checked at every scan: a symbolic link may have appeared since start-up
    for dir in ["", "receipts", "archive", "quarantine"].map(|d| inbox.join(d)) {
        if let Err(e) = engine.folders.check(&dir) {
            super::warn_once(&dir, &format!("order inbox not watched: {e}"));
            return Ok(0);
        }
    }
    let mut taken = 0;
    for path in super::claim_files(&inbox) {
        let shown = super::shown(&inbox, &path);
        let text = match std::fs::read(&path).map(String::from_utf8) {
            Ok(Ok(t)) => t,
            Ok(Err(_)) => {
                settle_in(
                    &inbox,
                    &path,
                    Some(format!("{shown}: not UTF-8 text; nothing booked")),
                );
                continue;
            }
            Err(e) => {
                tracing::warn!(file = %shown, error = %e, "cannot read inbox file");
                continue;
            }
        };
        match intake_file(engine, &shown, &text).await? {
            Ok((accepted, dups)) => {
                tracing::info!(file = %shown, orders = accepted.len(), duplicates = dups.len(), "order file taken");
                for d in &dups {
                    tracing::warn!("{d}");
                }
                settle_in(&inbox, &path, (!dups.is_empty()).then(|| dups.join("\n")));
            }
            Err(e) => {
                tracing::error!("order file rejected, nothing booked: {e}");
                settle_in(
                    &inbox,
                    &path,
                    Some(format!("rejected, nothing booked: {e}")),
                );
            }
        }
        taken += 1;
    }
    let receipts = inbox.join("receipts");
    for path in super::claim_files(&receipts) {
        let shown = super::shown(&receipts, &path);
        let Ok(text) = std::fs::read_to_string(&path) else {
            settle_in(
                &inbox,
                &path,
                Some(format!("{shown}: not UTF-8 text; nothing booked")),
            );
            continue;
        };
        match receipts_file(engine, &shown, &text).await? {
            Ok(n) => {
                tracing::info!(file = %shown, lines = n, "goods receipt file booked");
                settle_in(&inbox, &path, None);
            }
            Err(e) => {
                tracing::error!("receipt file rejected: {e}");
                settle_in(
                    &inbox,
                    &path,
                    Some(format!("rejected, nothing booked: {e}")),
                );
            }
        }
        taken += 1;
    }
    Ok(taken)
}
