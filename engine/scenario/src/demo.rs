//! `ordo demo`: a realistic order-to-cash batch through `workflows/` on a fresh embedded store,
//! with simulated time, checked against the outcome each order was generated to reach.
//!
//! 13 customers: eight with plenty of credit (ship complete or ship partial, `net 30` or
//! `2/10 net 30`, one reverse-charge customer in France) who each pay in their own way (early
//! with discount, on time, in two parts, too much, late after a reminder, never), four near
//! their credit limit (every order goes to a manager: approved, escalated and approved by the
//! director, rejected outright, or left to time out twice), and one blocked customer. Items:
//! stocked ones, a pump that is out of stock (reorder, purchase order, partial then full goods
//! receipt, resumed orders, two shipments for ship-partial customers), an obsolete part nobody
//! supplies (backordered), and bad lines (held with reasons). Time then runs 85 days in steps so
//! payments, early-payment discounts and three dunning levels happen. Exit 0 only when every
//! order and every invoice ended as generated, invoice numbers are gapless, every invoice's
//! total is the sum of its lines plus tax, and the receivables ledger matches the open invoices.

use crate::Say;
use crate::harness::{
    StoredInvoice, advance_days, backend_line, drop_backend, fresh_engine, invoices, own_backend,
    run_until_idle, submit,
};
use crate::statements::{customer_iban, pay_where};
use crate::table::Table;
use ordo::config::Config;
use ordo::runtime::Engine;
use ordo_contract::{Pricing, PurchaseOrder};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Deterministic generator (SplitMix64): the same batch every run.
pub struct Gen(pub u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// (sku, price, cost, kg, tax code)
pub const ITEMS: &[(&str, &str, &str, &str, &str)] = &[
    ("WID-100", "12.50", "7.10", "0.8", "standard"),
    ("WID-150", "14.95", "8.40", "1.1", "standard"),
    ("GAD-200", "149.00", "88.00", "6.5", "standard"),
    ("GAD-210", "99.90", "61.00", "4.2", "standard"),
    ("BOLT-M8", "7.335", "3.90", "0.6", "standard"),
    ("NUT-M8", "2.10", "1.05", "0.2", "standard"),
    ("BOOK-HB", "23.40", "12.00", "0.9", "reduced"),
    ("CAB-5M", "8.99", "4.10", "0.4", "standard"),
];
/// Out of stock: bought from S-PUMPS when ordered.
pub const PUMP: (&str, &str, &str, &str) = ("PUMP-X1", "899.00", "540.00", "18.0");
/// Out of stock and no longer supplied.
pub const OBSOLETE: (&str, &str) = ("VALVE-OLD", "45.00");

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pays {
    Discount,
    OnTime,
    TwoParts,
    Over,
    AfterReminder,
    Never,
}

pub struct Cust {
    pub id: String,
    pub tight: bool,
    pub blocked: bool,
    pub partial: bool,
    pub pays: Pays,
}

/// A decimal written in this file (prices, rates of the generated data): a typo is a bug of
/// the demo, found by its first run, not input.
fn dec(s: &str) -> Decimal {
    s.parse().expect("the demo's constants are decimals")
}

fn customers() -> Vec<Cust> {
    let pays = [
        Pays::Discount,
        Pays::Discount,
        Pays::OnTime,
        Pays::OnTime,
        Pays::TwoParts,
        Pays::Over,
        Pays::Never,
        Pays::AfterReminder,
    ];
    let mut out = Vec::new();
    for (i, p) in pays.iter().enumerate() {
        out.push(Cust {
            id: format!("C{:03}", i + 1),
            tight: false,
            blocked: false,
            partial: i % 2 == 1,
            pays: *p,
        });
    }
    for i in 8..12 {
        out.push(Cust {
            id: format!("C{:03}", i + 1),
            tight: true,
            blocked: false,
            partial: false,
            pays: Pays::OnTime,
        });
    }
    out.push(Cust {
        id: "C013".into(),
        tight: false,
        blocked: true,
        partial: false,
        pays: Pays::OnTime,
    });
    out
}

/// Master data as `ordo data import` takes it.
pub fn master_data(custs: &[Cust], stock_each: i64) -> Value {
    let cs: Vec<Value> = custs.iter().map(|c| {
        let discount_terms = matches!(c.pays, Pays::Discount | Pays::TwoParts);
        let (country, tax) = if c.id == "C004" { ("FR", "reverse-charge") } else { ("DE", "standard") };
        json!({ "id": c.id, "name": format!("Customer {}", c.id), "currency": "EUR",
                "credit_limit": if c.tight { dec("3000.00") } else { dec("1000000.00") },
                "open_balance": if c.tight { dec("1000.00") } else { dec("20000.00") },
                "terms": if discount_terms { "2/10 net 30" } else { "net 30" },
                "tax_class": tax, "country": country, "ship_policy": if c.partial { "partial" } else { "complete" },
                "bank_accounts": [customer_iban(&c.id)],
                "blocked": c.blocked, "discount_percent": if c.id == "C003" { dec("3.5") } else { Decimal::ZERO } })
    }).collect();
    let mut items: Vec<Value> = ITEMS.iter().map(|(sku, price, cost, kg, tax)| json!({ "sku": sku, "description": format!("{sku} (demo)"), "price": dec(price), "cost": dec(cost), "uom": "EA", "weight_kg": dec(kg), "reorder_point": 0, "reorder_qty": 0, "supplier": "S-MAIN", "lead_time_days": 5, "tax_code": tax })).collect();
    items.push(json!({ "sku": PUMP.0, "description": "Pump X1, stainless", "price": dec(PUMP.1), "cost": dec(PUMP.2), "uom": "EA", "weight_kg": dec(PUMP.3), "reorder_point": 0, "reorder_qty": 0, "supplier": "S-PUMPS", "lead_time_days": 7, "tax_code": "standard" }));
    items.push(json!({ "sku": OBSOLETE.0, "description": "Valve, discontinued", "price": dec(OBSOLETE.1), "cost": dec("30.00"), "uom": "EA", "weight_kg": dec("2"), "tax_code": "standard" }));
    let mut stock: Vec<Value> = ITEMS
        .iter()
        .map(|(sku, ..)| json!({ "item": sku, "location": "main", "quantity": stock_each }))
        .collect();
    stock.push(json!({ "item": PUMP.0, "location": "main", "quantity": 0 }));
    stock.push(json!({ "item": OBSOLETE.0, "location": "main", "quantity": 0 }));
    json!({ "customer": cs, "item": items, "stock": stock,
            "supplier": [ { "id": "S-MAIN", "name": "Main Wholesale", "min_order_qty": 0, "lead_time_days": 5 },
                          { "id": "S-PUMPS", "name": "Pumpenwerk AG", "min_order_qty": 0, "lead_time_days": 7 } ] })
}

/// Imports [`master_data`] as `ordo data import` would a JSON file (same rules, all or nothing).
pub async fn import_master_data(engine: &Engine, master: &Value) -> Result<String, String> {
    let text = serde_json::to_string(master).map_err(|e| e.to_string())?;
    ordo::masterdata::import_text(
        engine,
        "demo master data",
        ordo::masterdata::Format::Json,
        &text,
    )
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.join("\n"))
}

/// What an order was generated to do.
#[derive(Clone, Debug)]
struct Expect {
    state: &'static str,
    /// `approve`, `director`, or "" — what the demo's managers do.
    decision: &'static str,
    shipments: usize,
    /// A ship-partial order waiting for pumps may also ship part of them from the partial
    /// goods receipt (which waiting order gets how much of it is a race, by design).
    extra_shipment_ok: bool,
}

/// Runs the demo on its own store (or schema and queues), dropped afterwards unless `keep`:
/// true when every order and invoice ended as generated.
pub async fn run(
    cfg: &Config,
    orders: usize,
    dir: PathBuf,
    keep: bool,
    say: Say<'_>,
) -> Result<bool, String> {
    let cfg = own_backend(cfg);
    let result = demo(&cfg, orders, dir, say).await;
    if !keep {
        drop_backend(&cfg).await;
    }
    result
}

async fn decide(
    engine: &Arc<Engine>,
    step: &str,
    expected: &BTreeMap<String, Expect>,
    want: &str,
    note: &str,
) -> Result<(usize, usize), String> {
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let open = tx.list_tasks("open").await.map_err(|e| e.to_string())?;
    let mut n = 0;
    let mut total = 0;
    for t in open.iter().filter(|t| t.step == step) {
        total += 1;
        let key = tx
            .load_instance(&t.instance_id)
            .await
            .map_err(|e| e.to_string())?
            .map(|i| i.business_key)
            .ok_or_else(|| format!("task {} has no instance {}", t.id, t.instance_id))?;
        if expected.get(&key).is_some_and(|e| e.decision == want) {
            engine
                .decide_task(tx.as_mut(), t.id, "approved", Some(note))
                .await
                .map_err(|e| e.to_string())?;
            n += 1;
        }
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok((total, n))
}

/// The orders of the batch, each with the end state it was generated to reach: most ship,
/// some need a manager or the director, some are rejected or held (unknown item, zero
/// quantity, the buyer's own price), some wait for pumps or are backordered.
fn generate_orders(
    custs: &[Cust],
    orders: usize,
    today: chrono::NaiveDate,
) -> (BTreeMap<String, Expect>, Vec<Value>) {
    let mut g = Gen(2026);
    let mut expected: BTreeMap<String, Expect> = BTreeMap::new();
    let mut batch = Vec::new();
    let good: Vec<usize> = (0..8).collect();
    for n in 0..orders {
        let kind = g.below(20);
        let ci = if kind < 4 {
            8 + g.below(4) as usize
        } else if kind == 4 && n % 3 == 0 {
            12
        } else {
            good[g.below(8) as usize]
        };
        let c = &custs[ci];
        let mut lines = Vec::new();
        let lines_n = 1 + g.below(4) as usize;
        for l in 0..lines_n {
            let (sku, ..) = ITEMS[g.below(ITEMS.len() as u64) as usize];
            lines.push(json!({ "line_no": l + 1, "sku": sku, "quantity": 1 + g.below(30) }));
        }
        let mut e = Expect {
            state: "completed",
            decision: "",
            shipments: 1,
            extra_shipment_ok: false,
        };
        if c.blocked {
            e.state = "held";
        } else if c.tight {
            // One gadget line: 15 × 149.00 = 2235.00 (over the 2000 available: review) or
            // 40 × 149.00 = 5960.00, 2% off = 5840.80 (over twice the available: rejected).
            let big = n % 5 == 0;
            lines = vec![
                json!({ "line_no": 1, "sku": "GAD-200", "quantity": if big { 40 } else { 15 } }),
            ];
            if big {
                e.state = "rejected";
            } else {
                match n % 4 {
                    0 | 1 => e.decision = "approve",
                    2 => e.decision = "director",
                    _ => e.state = "rejected",
                }
            }
        } else {
            match kind {
                5 => {
                    lines.push(
                        json!({ "line_no": lines_n + 1, "sku": "NO-SUCH-ITEM", "quantity": 1 }),
                    );
                    e.state = "held";
                }
                6 => {
                    lines[0]["quantity"] = json!(0);
                    e.state = "held";
                }
                7 => {
                    // The buyer's price is 10% off the list (tolerance 2%).
                    // lines[0] was generated above from ITEMS: its sku is one of them.
                    let sku = lines[0]["sku"].as_str().unwrap_or_default();
                    let price = ITEMS
                        .iter()
                        .find(|i| i.0 == sku)
                        .map(|i| dec(i.1))
                        .unwrap_or_default();
                    lines[0]["unit_price"] = json!((price * dec("0.9")).round_dp(2));
                    e.state = "held";
                }
                8..=11 => {
                    lines.push(json!({ "line_no": lines_n + 1, "sku": PUMP.0, "quantity": 1 + g.below(3) }));
                    e.shipments = if c.partial { 2 } else { 1 };
                    e.extra_shipment_ok = c.partial;
                }
                12 if !c.partial => {
                    lines.push(json!({ "line_no": lines_n + 1, "sku": OBSOLETE.0, "quantity": 2 }));
                    e.state = "backordered";
                    e.shipments = 0;
                }
                _ => {}
            }
        }
        if e.state != "completed" {
            e.shipments = 0;
        }
        let id = format!("{}-PO{:05}", c.id, n + 1);
        expected.insert(id.clone(), e);
        batch.push(json!({ "id": id, "customer_id": c.id, "po_number": format!("PO{:05}", n + 1),
                           "order_date": today, "currency": "EUR", "channel": "demo", "lines": lines,
                           "parties": [ { "role": "ship_to", "name": format!("Customer {} warehouse", c.id) } ] }));
    }
    (expected, batch)
}

/// Day 0 and 1: the sales manager decides the reviews, the undecided ones escalate to the
/// director, who decides them.
async fn approvals(
    engine: &Arc<Engine>,
    cfg: &Config,
    expected: &BTreeMap<String, Expect>,
    say: Say<'_>,
) -> Result<(), String> {
    let (tasks, approved) = decide(
        engine,
        "review",
        expected,
        "approve",
        "demo: credit extended by the sales manager",
    )
    .await?;
    say(&format!(
        "day 0: {tasks} order(s) wait for a sales manager; the manager approves {approved}"
    ));
    run_until_idle(engine, cfg).await?;
    advance_days(engine, 25.0 / 24.0).await?;
    run_until_idle(engine, cfg).await?;
    let (tasks, approved) = decide(
        engine,
        "escalate",
        expected,
        "director",
        "demo: approved by the director",
    )
    .await?;
    say(&format!(
        "day 1: {tasks} undecided review(s) escalated to the sales director, who approves {approved}"
    ));
    run_until_idle(engine, cfg).await?;

    Ok(())
}

/// Day 7: goods arrive after the supplier's lead time, first half of each purchase order, then
/// the rest; the waiting orders resume. Returns (purchase orders, goods receipts).
async fn goods_receipts(
    engine: &Arc<Engine>,
    cfg: &Config,
    say: Say<'_>,
) -> Result<(usize, usize), String> {
    advance_days(engine, 6.0).await?;
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let po_docs: Vec<PurchaseOrder> = tx
        .get_documents("purchase-order", "")
        .await
        .map_err(|e| e.to_string())?
        .iter()
        .map(|(key, d)| ordo_contract::read_doc("purchase-order", key, d))
        .collect::<Result<_, _>>()?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    let mut receipts = 0;
    for po in &po_docs {
        let number = &po.number;
        let half: Vec<(String, Decimal)> = po
            .lines
            .iter()
            .map(|l| (l.sku.clone(), (l.quantity / Decimal::TWO).floor()))
            .filter(|(_, q)| *q > Decimal::ZERO)
            .collect();
        if !half.is_empty() {
            ordo::commands::receive(engine, number, Some(half), "main")
                .await
                .map_err(|e| e.to_string())?;
            receipts += 1;
        }
        run_until_idle(engine, cfg).await?;
        ordo::commands::receive(engine, number, None, "main")
            .await
            .map_err(|e| e.to_string())?;
        receipts += 1;
        run_until_idle(engine, cfg).await?;
    }
    say(&format!(
        "day 7: {} purchase order(s) received in {receipts} goods receipts (partial, then the rest); waiting orders resumed",
        po_docs.len()
    ));
    advance_days(engine, 1.0).await?;
    run_until_idle(engine, cfg).await?;

    Ok((po_docs.len(), receipts))
}

/// Days 8 to 85: the customers pay, each in their own way, by bank statements; dunning runs
/// every 15 days for what stays open.
async fn payments_and_dunning(
    engine: &Arc<Engine>,
    cfg: &Config,
    custs: &[Cust],
    say: Say<'_>,
) -> Result<(), String> {
    let (n, m) = pay_where(engine, cfg, custs, &[Pays::Discount], |inv, _| {
        Some(inv.total - inv.discount_amount)
    })
    .await?;
    say(&format!(
        "day 8: bank statement: {n} invoice(s) paid less the 2% early-payment discount, {m} matched automatically; the interest entry rejected from the exceptions queue"
    ));
    run_until_idle(engine, cfg).await?;
    advance_days(engine, 12.0).await?;
    let (n, m) = pay_where(
        engine,
        cfg,
        custs,
        &[Pays::OnTime, Pays::TwoParts, Pays::Over],
        |inv, p| match p {
            Pays::TwoParts => Some((inv.open_amount / Decimal::TWO).round_dp(2)),
            // 2 % over, at most 10.00: within the policy's limits for credit booked without a
            // person (max_auto_credit 50.00 and 5 % of the payment); a larger unexplained
            // excess would wait in the exceptions queue.
            Pays::Over => {
                let open = inv.open_amount;
                Some(open + (open / dec("50")).round_dp(2).min(dec("10.00")))
            }
            _ => Some(inv.open_amount),
        },
    )
    .await?;
    say(&format!(
        "day 20: bank statement: {n} payment(s) (on time in full, the first half of split payments, overpayments), {m} matched automatically"
    ));
    run_until_idle(engine, cfg).await?;
    advance_days(engine, 5.0).await?;
    run_until_idle(engine, cfg).await?;
    let (n, m) = pay_where(engine, cfg, custs, &[Pays::TwoParts], |inv, _| {
        Some(inv.open_amount)
    })
    .await?;
    say(&format!(
        "day 25: bank statement: {n} second half payment(s), {m} matched automatically"
    ));
    run_until_idle(engine, cfg).await?;
    for (day, step) in [(40.0, 15.0), (55.0, 15.0), (70.0, 15.0), (85.0, 15.0)] {
        advance_days(engine, step).await?;
        run_until_idle(engine, cfg).await?;
        if day == 40.0 {
            let (n, m) = pay_where(engine, cfg, custs, &[Pays::AfterReminder], |inv, _| {
                Some(inv.open_amount)
            })
            .await?;
            say(&format!(
                "day {day}: dunning run; bank statement: {n} invoice(s) paid after the first reminder, {m} matched automatically"
            ));
            run_until_idle(engine, cfg).await?;
        } else {
            say(&format!("day {day}: dunning run"));
        }
    }

    Ok(())
}

/// Each order's end state and shipments against what it was generated to reach: orders by end
/// state (count, value), what went wrong, and the number of invoices the orders should have.
async fn check_orders(
    tx: &mut dyn ordo::store::Tx,
    expected: &BTreeMap<String, Expect>,
    wrong: &mut Vec<String>,
) -> Result<(BTreeMap<String, (usize, Decimal)>, usize), String> {
    let mut by_state: BTreeMap<String, (usize, Decimal)> = BTreeMap::new();
    let mut want_invoices = 0;
    for (id, want) in expected {
        let inst = tx.find_instances(id).await.map_err(|e| e.to_string())?;
        let got = match inst.as_slice() {
            [i] => i.end_status.clone().unwrap_or_else(|| i.status.clone()),
            [] => "missing".into(),
            _ => "duplicated".into(),
        };
        if got != want.state {
            wrong.push(format!("{id}: expected {}, got {got}", want.state));
        }
        let shipped = inst
            .first()
            .and_then(|i| i.data["fulfilment"]["invoices"].as_array().map(|a| a.len()))
            .unwrap_or(0); // no fulfilment yet: the order never shipped
        let extra = want.extra_shipment_ok && shipped == want.shipments + 1;
        want_invoices += if extra { shipped } else { want.shipments };
        if shipped != want.shipments && !extra {
            wrong.push(format!(
                "{id}: expected {} shipment(s) and invoice(s), got {shipped}",
                want.shipments
            ));
        }
        // An order held before pricing has no pricing yet: its value counts as nothing.
        let amount = match inst.first().and_then(|i| i.data.get("pricing")) {
            Some(p) => ordo_contract::read_doc::<Pricing>("pricing", id, p)?.total,
            None => Decimal::ZERO,
        };
        let e = by_state.entry(got).or_default();
        e.0 += 1;
        e.1 += amount;
    }
    Ok((by_state, want_invoices))
}

/// Invoice totals by status.
type InvoiceStates = BTreeMap<String, (usize, Decimal, Decimal, Decimal)>;

/// Each invoice against its customer's way of paying, and its totals against its lines: invoices
/// by status (count, total, paid, open), their numbers, the open total and the discounts taken.
fn check_invoices(
    invs: &[StoredInvoice],
    custs: &[Cust],
    wrong: &mut Vec<String>,
) -> (InvoiceStates, Vec<String>, Decimal, Decimal) {
    let mut inv_state: BTreeMap<String, (usize, Decimal, Decimal, Decimal)> = BTreeMap::new();
    let mut numbers: Vec<String> = Vec::new();
    let mut open_total = Decimal::ZERO;
    let mut discounts = Decimal::ZERO;
    for StoredInvoice { invoice, state } in invs {
        let number = invoice.number.clone();
        if let Err(e) = invoice.check_totals() {
            wrong.push(format!("{number}: {e}"));
        }
        let Some(cust) = custs.iter().find(|c| c.id == state.customer_id) else {
            wrong.push(format!(
                "{number}: customer {} is not one of the demo's",
                state.customer_id
            ));
            continue;
        };
        let want = if cust.pays == Pays::Never {
            "in_collection"
        } else {
            "paid"
        };
        if state.status != want {
            wrong.push(format!(
                "{number} ({}): expected {want}, got {}",
                cust.id, state.status
            ));
        }
        let e = inv_state.entry(state.status.clone()).or_default();
        e.0 += 1;
        e.1 += state.total;
        e.2 += state.paid_amount;
        e.3 += state.open_amount;
        open_total += state.open_amount;
        discounts += state.discount_taken;
        numbers.push(number);
    }
    (inv_state, numbers, open_total, discounts)
}

/// The ledger after the run: the trial balance over all periods balances and `ordo ledger
/// check` ties receivables to the open invoices and customer credit to the customers' credit,
/// with every period's numbers gapless.
async fn ledger_oracle(engine: &Engine, say: Say<'_>) -> Result<bool, String> {
    if engine.ledger.is_none() {
        say("MISMATCH: no chart of accounts (config/accounts.yaml): the ledger was not kept");
        return Ok(false);
    }
    let tb = ordo::ledger::report::trial_balance(engine, None)
        .await
        .map_err(|e| e.to_string())?;
    let check = ordo::ledger::report::check(engine)
        .await
        .map_err(|e| e.to_string())?;
    say(&format!(
        "ledger: {} entries, {} accounts, {}; receivables {} = open invoices {}, customer credit {}",
        check.entries,
        tb.rows.len(),
        tb.verdict(),
        check.receivables,
        check.open_items,
        check.credit_ledger
    ));
    for p in &check.problems {
        say(&format!("MISMATCH: ledger check: {p}"));
    }
    Ok(tb.balanced && check.ok() && check.entries > 0)
}

/// The scenario, day by day, then the oracle: true when every order and invoice ended as
/// generated, invoice numbers are gapless and the receivables ledger equals the open invoices.
/// Over 100 lines on purpose: the outline of the days and the oracle's report read in one place;
/// each phase and each check is its own function above.
async fn demo(cfg: &Config, orders: usize, dir: PathBuf, say: Say<'_>) -> Result<bool, String> {
    let started = std::time::Instant::now();
    let (engine, cfg) = fresh_engine(cfg, &dir).await?;
    say(&backend_line(&cfg));
    let custs = customers();
    let counts = import_master_data(&engine, &master_data(&custs, 1_000_000)).await?;
    say(&format!("master data: {counts}"));
    let (expected, batch) = generate_orders(&custs, orders, engine.clock.now().date_naive());
    submit(&engine, &batch, 1).await?;
    say(&format!(
        "day 0: submitted {} orders from {} customers",
        batch.len(),
        custs.len()
    ));
    run_until_idle(&engine, &cfg).await?;
    approvals(&engine, &cfg, &expected, say).await?;
    let (po_count, receipts) = goods_receipts(&engine, &cfg, say).await?;
    payments_and_dunning(&engine, &cfg, &custs, say).await?;

    // Compare with what was generated.
    let mut wrong = Vec::new();
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let (by_state, want_invoices) = check_orders(tx.as_mut(), &expected, &mut wrong).await?;
    let series = tx
        .current_number("invoice")
        .await
        .map_err(|e| e.to_string())?;
    let shipments = tx
        .count_documents("shipment")
        .await
        .map_err(|e| e.to_string())?;
    let sent = tx
        .count_outbound("invoices")
        .await
        .map_err(|e| e.to_string())?;
    let letters = tx
        .count_outbound("dunning-letters")
        .await
        .map_err(|e| e.to_string())?;
    let summary = tx.effects_summary().await.map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    let invs = invoices(&engine).await?;

    let (inv_state, mut numbers, open_total, discounts) = check_invoices(&invs, &custs, &mut wrong);
    numbers.sort();
    let gapless: Vec<String> = (1..=invs.len()).map(|n| format!("INV-{n:06}")).collect();
    let mut ok = wrong.is_empty();
    if numbers != gapless
        || series as usize != invs.len()
        || invs.len() != want_invoices
        || shipments as usize != want_invoices
        || sent as usize != want_invoices
    {
        ok = false;
        say(&format!(
            "MISMATCH: {want_invoices} shipments/invoices expected; {} invoices stored, last number {series}, {shipments} shipments, {sent} invoices sent, numbers gapless: {}",
            invs.len(),
            numbers == gapless
        ));
    }
    let ledger = |prefix: &str| -> Result<Decimal, String> {
        summary["stock"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| k.starts_with(prefix) && k.ends_with("@ledger"))
            .map(|(k, v)| {
                <Decimal as Deserialize>::deserialize(v).map_err(|e| format!("stock {k}: {e}"))
            })
            .sum::<Result<Decimal, String>>()
    };
    let (ar, credit) = (ledger("ar:")?, ledger("credit:")?);
    if ar != open_total {
        ok = false;
        say(&format!(
            "MISMATCH: receivables ledger {ar} != open invoices {open_total}"
        ));
    }

    let mut t = Table::new(&["order end state", "orders", "order value (EUR)"]);
    for (state, (n, amount)) in &by_state {
        t.row(vec![state.clone(), n.to_string(), amount.to_string()]);
    }
    say(t.render().trim_end());
    let mut t = Table::new(&[
        "invoice status",
        "invoices",
        "total (EUR)",
        "paid (EUR)",
        "open (EUR)",
    ]);
    for (state, (n, total, paid, open)) in &inv_state {
        t.row(vec![
            state.clone(),
            n.to_string(),
            total.to_string(),
            paid.to_string(),
            open.to_string(),
        ]);
    }
    say(t.render().trim_end());
    say(&format!(
        "shipments {shipments}, purchase orders {}, goods receipts {receipts}, dunning letters {letters}, early-payment discounts {discounts} EUR, customer credit from overpayments {credit} EUR, open balance {open_total} EUR",
        po_count
    ));
    // Finance after the invoice (returns, complaints, credit notes, customer credit applied and
    // refunded, a closed period): its own cases and checks, in after_sales.rs.
    if !crate::after_sales::run(&engine, &cfg, say).await? {
        ok = false;
    }
    // Quotes, changes and cancellations (demo_changes.rs), after the batch's counts: C003
    // ships complete and pays on time.
    if !crate::demo_changes::run(&engine, &cfg, "C003", ITEMS[0].0, say).await? {
        ok = false;
    }
    // An order change by EDI 860 from the demo partner, answered by an 865 (demo_edi_change.rs).
    if !crate::demo_edi_change::run(&engine, &cfg, say).await? {
        ok = false;
    }
    // A second stock location and a replenishment run (demo_locations.rs).
    if !crate::demo_locations::run(&engine, &cfg, say).await? {
        ok = false;
    }
    // Suppliers and make to order (demo_supply.rs): a PO by EDI, the supplier's 855 and 856,
    // a short goods receipt to a task, a made-to-order kit produced and shipped.
    if !crate::demo_supply::run(&engine, &cfg, &dir, "C003", ITEMS[0].0, say).await? {
        ok = false;
    }
    // Work left open for the web console (demo_console.rs): reviews and an exception.
    if !crate::demo_console::run(&engine, &cfg, say).await? {
        ok = false;
    }
    if !ledger_oracle(&engine, say).await? {
        ok = false;
    }
    for line in crate::access::open_demo_store(&engine, &cfg, &dir).await? {
        say(&line);
    }
    for w in wrong.iter().take(20) {
        say(&format!("MISMATCH {w}"));
    }
    if wrong.len() > 20 {
        say(&format!("… and {} more", wrong.len() - 20));
    }
    say(&format!(
        "{} ({:.1} s)",
        if ok {
            "demo passed: every order and invoice ended as expected"
        } else {
            "demo FAILED"
        },
        started.elapsed().as_secs_f64()
    ));
    engine.store.close().await;
    Ok(ok)
}
