//! The order inbox (`data/inbox/`): JSON and CSV order files, and goods-receipt files in
//! `data/inbox/receipts/`, taken by `ordo run` like the partner and bank folders. `ordo submit
//! FILE` takes a file through the same code ([`intake_file`]).
//!
//! Orders, JSON: one order object, an array, or JSON lines — the canonical `Order`. An order
//! without `id` gets `CUSTOMER-PO`.
//! Orders, CSV (header required, RFC 4180 quoting, `,` or `;`, see [`super::csvfile`]); rows
//! of the same customer and PO form one order, in file order:
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
//! A file is a batch from one sender and is taken all or nothing: larger than
//! `limits.max_order_file_bytes` (refused before it is read), not readable, or with any order
//! that does not decode or breaks the intake bounds (`ordo_contract::intake`), it books
//! nothing and the errors name the order, line and field. An order whose customer and PO (or
//! id) was received before is a duplicate: reported, not booked again, while the file's other
//! orders go ahead (so a file can be sent again after a partial failure). In the inbox a
//! rejected file, or one with duplicates, moves to `data/inbox/quarantine/` with
//! `NAME.reason.txt`; a clean one to `data/inbox/archive/`.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use ordo_contract::{Intake, Order, excerpt};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::config::Limits;
use crate::runtime::{Engine, EngineError, TxContext};
use crate::store::Tx;

/// Why a file was not read.
#[derive(Debug)]
pub enum ReadError {
    /// The file could not be opened or read (gone, no permission): try again later.
    Io(String),
    /// The content is refused: too large, not UTF-8. Reading again cannot help.
    Refused(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(m) | ReadError::Refused(m) => f.write_str(m),
        }
    }
}

/// Reads an order file, refusing one larger than `limits.max_order_file_bytes` before reading
/// it (and reading at most that many bytes, should it grow meanwhile) or one that is not UTF-8.
pub fn read_order_file(path: &Path, limits: &Limits) -> Result<String, ReadError> {
    let shown = path.display();
    let max = limits.max_order_file_bytes;
    let too_big = |n: u64| {
        ReadError::Refused(format!(
            "{shown}: {n} bytes, more than limits.max_order_file_bytes ({max}); nothing read"
        ))
    };
    let io = |e: std::io::Error| ReadError::Io(format!("{shown}: {e}"));
    let bytes = super::read_bounded(path, max)
        .map_err(io)?
        .map_err(too_big)?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        // The prefix up to valid_up_to is valid UTF-8 by definition.
        let text = std::str::from_utf8(&e.as_bytes()[..at]).unwrap_or_default();
        let line = text.matches('\n').count() + 1;
        let col = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        ReadError::Refused(format!("{shown}:{line}:{col}: not UTF-8 text"))
    })
}

/// Reads orders from JSON (one object, an array, or JSON lines) or CSV (by extension `.csv`),
/// each error located `path:line:col: message`, quoting at most `max_excerpt` characters.
pub fn read_orders(
    shown: &str,
    text: &str,
    today: NaiveDate,
    max_excerpt: usize,
) -> Result<Vec<Value>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    let mut out = if shown.to_ascii_lowercase().ends_with(".csv") {
        csv_orders(shown, text, today, max_excerpt)?
    } else if trimmed.starts_with('[') || trimmed.starts_with('{') {
        let mut de = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        let mut out = Vec::new();
        for v in &mut de {
            match v {
                Ok(Value::Array(a)) => out.extend(a),
                Ok(v) => out.push(v),
                Err(e) => {
                    return Err(format!(
                        "{shown}:{}:{}: {}",
                        e.line(),
                        e.column(),
                        excerpt(&e.to_string(), max_excerpt)
                    ));
                }
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

/// A decimal cell, or why not (at most 28 significant digits fit an exact decimal).
fn decimal_cell(at: &str, field: &str, s: &str, max_excerpt: usize) -> Result<Decimal, String> {
    Decimal::from_str_exact(s).map_err(|_| {
        let numeric = !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'));
        let why = if numeric {
            "is not a decimal number ordo can hold exactly (at most 28 significant digits)"
        } else {
            "is not a number"
        };
        format!("{at}: {field} '{}' {why}", excerpt(s, max_excerpt))
    })
}

fn csv_orders(
    shown: &str,
    text: &str,
    today: NaiveDate,
    max_excerpt: usize,
) -> Result<Vec<Value>, String> {
    let t = super::csvfile::read(shown, text)?;
    let need = |alts: &[&str]| {
        t.col(alts).ok_or_else(|| {
            format!(
                "{shown}:{}:1: the header has no '{}' column",
                t.header_line, alts[0]
            )
        })
    };
    let c_customer = need(&["customer_id", "customer"])?;
    let c_po = need(&["po_number", "po"])?;
    let c_sku = need(&["sku", "item"])?;
    let c_qty = need(&["quantity", "qty"])?;
    let c_currency = need(&["currency"])?;
    let c_date = t.col(&["order_date", "date"]);
    let c_price = t.col(&["unit_price", "price"]);
    let c_req = t.col(&["requested_date"]);
    let c_uom = t.col(&["uom", "unit"]);
    let mut orders: Vec<Value> = Vec::new();
    // (customer, PO) → index in `orders`: rows of one order need not be adjacent.
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for row in &t.rows {
        let at = |i: usize| row.at(shown, i);
        for (i, what) in [
            (c_customer, "customer_id"),
            (c_po, "po_number"),
            (c_sku, "sku"),
            (c_currency, "currency"),
        ] {
            if row.get(i).is_empty() {
                return Err(format!("{}: {what} is empty", at(i)));
            }
        }
        let qty = decimal_cell(&at(c_qty), "quantity", row.get(c_qty), max_excerpt)?;
        let date = |i: Option<usize>| -> Result<Option<NaiveDate>, String> {
            let Some(i) = i else { return Ok(None) };
            match row.get(i) {
                "" => Ok(None),
                s => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| {
                        format!(
                            "{}: date '{}' is not YYYY-MM-DD",
                            at(i),
                            excerpt(s, max_excerpt)
                        )
                    }),
            }
        };
        // Documented at the top of this module: no order date is business today.
        let order_date = date(c_date)?.unwrap_or(today);
        let requested = date(c_req)?;
        let price = match c_price.filter(|i| !row.get(*i).is_empty()) {
            None => None,
            Some(i) => Some(decimal_cell(&at(i), "unit_price", row.get(i), max_excerpt)?),
        };
        let (customer, po, currency) = (row.get(c_customer), row.get(c_po), row.get(c_currency));
        let key = (customer.to_string(), po.to_string());
        let idx = *index.entry(key).or_insert_with(|| {
            orders.push(
                json!({ "id": format!("{customer}-{po}"), "customer_id": customer,
                                "po_number": po, "order_date": order_date,
                                "requested_date": requested, "currency": currency,
                                "channel": "csv", "lines": [] }),
            );
            orders.len() - 1
        });
        let o = &mut orders[idx];
        if o["currency"] != currency {
            return Err(format!(
                "{}: currency {} differs from {} on an earlier line of order {}-{}",
                at(c_currency),
                excerpt(currency, max_excerpt),
                // Message only: the earlier line's currency, always a string here.
                o["currency"].as_str().unwrap_or_default(),
                excerpt(customer, max_excerpt),
                excerpt(po, max_excerpt)
            ));
        }
        let Some(lines) = o["lines"].as_array_mut() else {
            continue;
        };
        let mut l = json!({ "line_no": lines.len() + 1, "sku": row.get(c_sku), "quantity": qty });
        if let Some(p) = price {
            l["unit_price"] = json!(p);
        }
        if let Some(u) = c_uom.map(|i| row.get(i)).filter(|s| !s.is_empty()) {
            l["uom"] = json!(u);
        }
        lines.push(l);
    }
    if orders.is_empty() {
        return Err(format!(
            "{shown}:{}:1: no order lines after the header",
            t.header_line + 1
        ));
    }
    Ok(orders)
}

/// The typed orders of a file, each checked against the intake bounds; all the errors of the
/// file otherwise, each naming the order (`#N` and its id), the line and the field.
pub fn decode_orders(
    shown: &str,
    raw: Vec<Value>,
    limits: &Limits,
) -> Result<Vec<(Order, Value)>, Vec<String>> {
    let bounds = limits.order_bounds();
    let max = limits.max_excerpt_chars;
    let mut orders = Vec::new();
    let mut errors = Vec::new();
    for (i, v) in raw.into_iter().enumerate() {
        let name = match v.get("id").and_then(Value::as_str) {
            Some(id) => format!("order #{} ('{}')", i + 1, excerpt(id, 60)),
            None => format!("order #{}", i + 1),
        };
        match serde_path_to_error::deserialize::<_, Order>(&v) {
            Ok(o) => match o.validate_bounds(&bounds) {
                Ok(()) => orders.push((o, v)),
                Err(es) => errors.extend(es.into_iter().map(|e| format!("{shown}: {e}"))),
            },
            Err(e) => {
                let path = e.path().to_string();
                let field = v.pointer(&json_pointer(&path));
                errors.push(format!(
                    "{shown}: {name}: {path}: {}",
                    field_error(field, &e.into_inner().to_string(), max)
                ));
            }
        }
        if errors.len() >= 50 {
            errors.push(format!("{shown}: … (stopped after 50 errors)"));
            break;
        }
    }
    if errors.is_empty() {
        Ok(orders)
    } else {
        Err(errors)
    }
}

/// `lines[0].quantity` → `/lines/0/quantity`.
fn json_pointer(path: &str) -> String {
    let mut out = String::new();
    for part in path.split('.') {
        let (name, idx) = match part.split_once('[') {
            Some((n, rest)) => (n, Some(rest.trim_end_matches(']'))),
            None => (part, None),
        };
        if !name.is_empty() && name != "?" {
            out.push('/');
            out.push_str(name);
        }
        if let Some(i) = idx {
            out.push('/');
            out.push_str(i);
        }
    }
    out
}

/// Why a field did not decode, in words: a number too large for an exact decimal, a number
/// where text is expected, or serde's message (cut to an excerpt).
fn field_error(value: Option<&Value>, serde_msg: &str, max: usize) -> String {
    match value {
        Some(Value::Number(n))
            if serde_msg.contains("decimal") || serde_msg.contains("Decimal") =>
        {
            format!(
                "{} is not a decimal number ordo can hold exactly (at most 28 significant digits)",
                excerpt(&n.to_string(), max)
            )
        }
        Some(Value::Number(n)) if serde_msg.contains("string") => format!(
            "expected text (a JSON string), found the number {}; write it in quotes",
            excerpt(&n.to_string(), max)
        ),
        _ => excerpt(serde_msg, max),
    }
}

/// What [`intake_file`] did with a file whose orders all passed the checks.
#[derive(Debug, Default)]
pub struct FileIntake {
    /// (order id, instances started).
    pub accepted: Vec<(String, Vec<String>)>,
    /// Why each duplicate was not booked again (`order 'X' (customer C, PO P) was already …`).
    pub duplicates: Vec<String>,
}

/// One order into the store in the caller's transaction (the rules of
/// `ordo_contract::intake`); the instances it started.
pub async fn accept_order(
    engine: &Engine,
    tx: &mut dyn Tx,
    order: &Order,
    doc: &Value,
) -> Result<Result<Vec<String>, Intake>, EngineError> {
    if !engine.defs().triggers.contains_key("order.received") {
        return Err(EngineError::Refused(
            "no workflow is triggered by event 'order.received'".into(),
        ));
    }
    let before = tx.enqueued().len();
    let r = {
        let mut ctx = TxContext::command(tx, engine);
        ordo_contract::accept_order(&mut ctx, order, doc).await
    };
    match r {
        Ok(Intake::Accepted) => Ok(Ok(tx.enqueued()[before..]
            .iter()
            .map(|(m, _)| m.instance.clone())
            .collect())),
        Ok(other) => Ok(Err(other)),
        // A claim lost to a concurrent intake midway: worth running the transaction again.
        Err(ordo_contract::StepError::Transient(e)) => {
            Err(EngineError::Store(crate::store::StoreError::Unavailable(e)))
        }
        Err(e) => Err(EngineError::Refused(e.to_string())),
    }
}

/// Orders of one file, the intake of `ordo submit` and of the inbox alike: read and checked
/// whole first (any error books nothing: `Ok(Err(errors))`), then taken in one transaction,
/// duplicates reported and skipped. `record`: keep the verdict under the content's hash
/// (`inbox_file/<sha256>`) and answer it again for the same content (the inbox, where a crash
/// between the commit and the move brings the file back).
pub async fn intake_file(
    engine: &Engine,
    shown: &str,
    text: &str,
    record: bool,
) -> Result<Result<FileIntake, Vec<String>>, EngineError> {
    let orders = match check_orders(engine, shown, text) {
        Ok(o) => o,
        Err(e) => return Ok(Err(e)),
    };
    let id = ordo_contract::content_id(text.as_bytes());
    // A concurrent intake of the same order id may make a claim fail midway (see
    // `ordo_contract::accept_order`): the transaction is rolled back and run again.
    let mut attempt = 0;
    loop {
        attempt += 1;
        match intake_tx(engine, shown, &orders, record.then_some(id.as_str())).await {
            Err(e) if attempt < 3 && is_transient(&e) => continue,
            r => return r.map(Ok),
        }
    }
}

/// The orders of a text (`ordo submit`'s format: one JSON order, an array, JSON lines, or CSV
/// when `shown` ends in `.csv`), read and checked against the intake bounds; every located
/// error otherwise. Nothing is booked.
pub fn check_orders(
    engine: &Engine,
    shown: &str,
    text: &str,
) -> Result<Vec<(Order, Value)>, Vec<String>> {
    let limits = &engine.limits;
    let today = engine.clock.now().date_naive();
    let raw = read_orders(shown, text, today, limits.max_excerpt_chars).map_err(|e| vec![e])?;
    decode_orders(shown, raw, limits)
}

fn is_transient(e: &EngineError) -> bool {
    matches!(e, EngineError::Store(s) if s.is_transient())
}

/// `inbox_file/<sha256>` of an order file: what it booked, answered again for the same content.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderFileRecord {
    name: String,
    accepted: Vec<String>,
    duplicates: Vec<String>,
}

/// `inbox_file/<sha256>` of a goods-receipt file: how many lines it booked.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptFileRecord {
    name: String,
    lines: usize,
}

async fn intake_tx(
    engine: &Engine,
    shown: &str,
    orders: &[(Order, Value)],
    record: Option<&str>,
) -> Result<FileIntake, EngineError> {
    let mut tx = engine.store.begin().await?;
    // `accept_order` reports orders already known as duplicates; an instance clash left over
    // (one started by hand) fails the file at commit, as it would have at its order.
    tx.defer_instance_inserts();
    // The same content taken before (a crash hit between the commit and the move): its
    // recorded verdict, nothing booked again.
    if let Some(id) = record
        && let Some(prev) = tx.get_document("inbox_file", id).await?
    {
        tx.rollback().await?;
        let prev: OrderFileRecord = ordo_contract::from_doc("inbox_file", id, &prev)
            .map_err(|e| EngineError::Refused(e.to_string()))?;
        return Ok(FileIntake {
            accepted: prev.accepted.into_iter().map(|o| (o, Vec::new())).collect(),
            duplicates: prev.duplicates,
        });
    }
    let out = match intake_orders_in(engine, tx.as_mut(), shown, orders).await {
        Ok(out) => out,
        Err(e) => {
            tx.rollback().await?;
            return Err(e);
        }
    };
    if let Some(id) = record {
        let accepted: Vec<String> = out.accepted.iter().map(|(o, _)| o.clone()).collect();
        tx.put_document(
            "inbox_file",
            id,
            &json!(OrderFileRecord {
                name: shown.to_string(),
                accepted,
                duplicates: out.duplicates.clone()
            }),
            engine.clock.now_ms(),
        )
        .await?;
    }
    crate::app::commit_and_publish(engine, tx).await?;
    Ok(out)
}

/// The documents [`intake_orders_in`] will read for `orders` (kind, id), for a caller that
/// prefetches them for many requests at once (`crate::api::batch`).
pub fn intake_reads(orders: &[(Order, Value)]) -> Vec<(&'static str, String)> {
    orders
        .iter()
        .flat_map(|(o, _)| ordo_contract::intake::intake_reads(o))
        .collect()
}

/// Checked orders into the store in the caller's transaction (nothing is committed): each
/// through [`accept_order`], duplicates reported and skipped. The file intake and the HTTP
/// API (`crate::api`) both book orders so.
pub async fn intake_orders_in(
    engine: &Engine,
    tx: &mut dyn Tx,
    shown: &str,
    orders: &[(Order, Value)],
) -> Result<FileIntake, EngineError> {
    let mut out = FileIntake::default();
    for (o, _) in orders {
        let doc = serde_json::to_value(o).map_err(|e| EngineError::Refused(e.to_string()))?;
        match accept_order(engine, tx, o, &doc).await? {
            Ok(instances) => out.accepted.push((o.id.clone(), instances)),
            Err(Intake::Duplicate { earlier }) => {
                out.duplicates
                    .push(Intake::duplicate_reason(o, &earlier, "submitted"))
            }
            // Checked before the transaction; a bound that fails here fails the file.
            Err(other) => return Err(EngineError::Refused(format!("{shown}: {other:?}"))),
        }
    }
    Ok(out)
}

/// (PO, location, (SKU, quantity) lines).
type ReceiptBatch = (String, String, Vec<(String, Decimal)>);

/// Receipts of one file, all in one transaction: `Err` books nothing.
async fn receipts_file(
    engine: &Engine,
    shown: &str,
    text: &str,
) -> Result<Result<usize, String>, EngineError> {
    let max_excerpt = engine.limits.max_excerpt_chars;
    let t = match super::csvfile::read(shown, text) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    let (Some(c_po), Some(c_sku), Some(c_qty)) =
        (t.col(&["po"]), t.col(&["sku"]), t.col(&["quantity"]))
    else {
        return Ok(Err(format!(
            "{shown}:{}:1: the header must have po, sku and quantity columns",
            t.header_line
        )));
    };
    let c_loc = t.col(&["location"]);
    // (PO, location, lines) in file order, found by a map.
    let mut by_po: Vec<ReceiptBatch> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for row in &t.rows {
        let qty = match Decimal::from_str_exact(row.get(c_qty)) {
            Ok(q) if q > Decimal::ZERO => q,
            _ => {
                return Ok(Err(format!(
                    "{}: quantity '{}' must be a positive number",
                    row.at(shown, c_qty),
                    excerpt(row.get(c_qty), max_excerpt)
                )));
            }
        };
        let loc = c_loc
            .map(|i| row.get(i))
            .filter(|s| !s.is_empty())
            // Documented: the `location` column is optional; receipts go to `main`.
            .unwrap_or("main")
            .to_string();
        let po = row.get(c_po).to_string();
        let i = *index.entry((po.clone(), loc.clone())).or_insert_with(|| {
            by_po.push((po, loc, Vec::new()));
            by_po.len() - 1
        });
        by_po[i].2.push((row.get(c_sku).to_string(), qty));
    }
    let id = ordo_contract::content_id(text.as_bytes());
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    if let Some(prev) = tx.get_document("inbox_file", &id).await? {
        tx.rollback().await?;
        let prev: ReceiptFileRecord = ordo_contract::from_doc("inbox_file", &id, &prev)
            .map_err(|e| EngineError::Refused(e.to_string()))?;
        return Ok(Ok(prev.lines));
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
                "{shown}: {}: {e}; nothing from the file was booked",
                excerpt(po, max_excerpt)
            )));
        }
        booked += lines.len();
    }
    tx.put_document(
        "inbox_file",
        &id,
        &json!(ReceiptFileRecord {
            name: shown.to_string(),
            lines: booked
        }),
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
        let text = match read_order_file(&path, &engine.limits) {
            Ok(t) => t,
            Err(ReadError::Refused(e)) => {
                tracing::error!("order file rejected, nothing booked: {e}");
                settle_in(
                    &inbox,
                    &path,
                    Some(format!("rejected, nothing booked: {e}")),
                );
                taken += 1;
                continue;
            }
            Err(ReadError::Io(e)) => {
                tracing::warn!(error = %e, "cannot read inbox file");
                continue;
            }
        };
        match intake_file(engine, &shown, &text, true).await? {
            Ok(done) => {
                let dups: Vec<String> = done
                    .duplicates
                    .iter()
                    .map(|d| format!("{shown}: {d}: not processed twice"))
                    .collect();
                tracing::info!(file = %shown, orders = done.accepted.len(), duplicates = dups.len(), "order file taken");
                for d in &dups {
                    tracing::warn!("{d}");
                }
                settle_in(&inbox, &path, (!dups.is_empty()).then(|| dups.join("\n")));
            }
            Err(errors) => {
                let e = errors.join("\n");
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
        let text = match read_order_file(&path, &engine.limits) {
            Ok(t) => t,
            Err(ReadError::Refused(e)) => {
                settle_in(
                    &inbox,
                    &path,
                    Some(format!("rejected, nothing booked: {e}")),
                );
                taken += 1;
                continue;
            }
            Err(ReadError::Io(e)) => {
                tracing::warn!(error = %e, "cannot read receipt file");
                continue;
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> (String, String) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/orders")
            .join(name);
        let text = std::fs::read_to_string(&path).expect("fixture");
        (format!("orders/{name}"), text)
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default()
    }

    #[test]
    fn csv_orders_keep_quoted_line_breaks_quotes_bom_and_separators() {
        let (shown, text) = fixture("quoted_newline.csv");
        let o = read_orders(&shown, &text, today(), 200).unwrap();
        assert_eq!(
            o.len(),
            1,
            "the PO-Q2 inside a quoted cell is no order: {o:?}"
        );
        assert_eq!(o[0]["id"], "C-CORA-PO-Q1");
        assert_eq!(o[0]["lines"].as_array().map(Vec::len), Some(2));
        assert_eq!(o[0]["lines"][1]["sku"], "BOLT-M8");
        let (shown, text) = fixture("bom_semicolon.csv");
        let o = read_orders(&shown, &text, today(), 200).unwrap();
        assert_eq!(o.len(), 2, "{o:?}");
        assert_eq!(
            o[0]["customer_id"], "C-CORA",
            "the BOM is not part of the header"
        );
        assert_eq!(o[0]["lines"][0]["unit_price"].to_string(), "12.50");
        assert!(o[1]["lines"][0].get("unit_price").is_none());
        let (shown, text) = fixture("grouped.csv");
        let o = read_orders(&shown, &text, today(), 200).unwrap();
        let ids: Vec<&str> = o.iter().filter_map(|o| o["id"].as_str()).collect();
        assert_eq!(
            ids,
            vec!["C-CORA-PO-E1", "C-ACME-PO-E2"],
            "rows of one PO need not touch"
        );
        assert_eq!(o[0]["lines"][1]["line_no"], 2);
        let (shown, text) = fixture("ragged.csv");
        let e = read_orders(&shown, &text, today(), 200).unwrap_err();
        assert_eq!(
            e,
            "orders/ragged.csv:3:39: this row has 7 cells, the header (line 1) has 6"
        );
    }

    #[test]
    fn decode_errors_name_the_order_the_field_and_why() {
        let text = r#"[{"id": "O-1", "customer_id": "C", "po_number": "P", "order_date": "2026-11-23", "currency": "EUR",
                        "lines": [{"line_no": 1, "sku": "A", "quantity": 123456789012345678901234567890}]},
                       {"id": "O-2", "customer_id": 42, "po_number": "P2", "order_date": "2026-11-23", "currency": "EUR", "lines": []},
                       {"id": "O-3", "customer_id": "C", "po_number": "P3", "order_date": "2026-11-23", "currency": "EUR",
                        "lines": [{"line_no": 1, "sku": "A", "quantity": 2}, {"line_no": 2, "sku": "B", "quantity": -1}]}]"#;
        let raw = read_orders("o.json", text, today(), 200).unwrap();
        let e = decode_orders("o.json", raw, &Limits::default()).unwrap_err();
        assert_eq!(e.len(), 3, "{e:#?}");
        assert_eq!(
            e[0],
            "o.json: order #1 ('O-1'): lines[0].quantity: 123456789012345678901234567890 is not a decimal number ordo can hold exactly (at most 28 significant digits)"
        );
        assert_eq!(
            e[1],
            "o.json: order #2 ('O-2'): customer_id: expected text (a JSON string), found the number 42; write it in quotes"
        );
        assert_eq!(
            e[2],
            "o.json: order 'O-3' line 2: quantity -1 must be greater than 0"
        );
    }

    #[test]
    fn errors_quote_only_an_excerpt_of_the_input() {
        let long = "Z".repeat(10_000);
        let text = format!("customer_id,po_number,currency,sku,quantity\nC,P,EUR,A,{long}\n");
        let e = read_orders("o.csv", &text, today(), 50).unwrap_err();
        assert!(e.starts_with("o.csv:2:11: quantity 'ZZZ"), "{e}");
        assert!(e.len() < 200, "{} characters: {e}", e.len());
        let text = format!("{{\"id\": \"{long}");
        let e = read_orders("o.json", &text, today(), 50).unwrap_err();
        assert!(e.len() < 200, "{} characters: {e}", e.len());
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_read() {
        let dir = std::env::temp_dir().join(format!("ordo-orders-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("big.json");
        std::fs::write(&p, vec![b' '; 1025]).unwrap();
        let limits = Limits {
            max_order_file_bytes: 1024,
            ..Limits::default()
        };
        let e = read_order_file(&p, &limits).unwrap_err().to_string();
        assert!(
            e.ends_with(
                "big.json: 1025 bytes, more than limits.max_order_file_bytes (1024); nothing read"
            ),
            "{e}"
        );
        std::fs::write(&p, vec![b' '; 1024]).unwrap();
        assert!(read_order_file(&p, &limits).is_ok());
        std::fs::write(&p, b"[\n  \xff]").unwrap();
        let e = read_order_file(&p, &limits).unwrap_err().to_string();
        assert!(e.ends_with("big.json:2:3: not UTF-8 text"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
