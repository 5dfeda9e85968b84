//! Business documents with a missing or mistyped field, run through the real sales connectors
//! on an embedded engine: each fails its step (so its instance) with an error naming the
//! document, its key and the field, and the step leaves nothing behind: no invoice, no number
//! taken, no outbound message, no ledger movement, the stored document unchanged.

use super::Engine;
use super::hostile_tests::{instance, run_until_idle};
use crate::model::status;
use crate::registry::Registry;
use crate::testing::TempDir;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::sync::Arc;

/// One workflow per connector under test: its single step, every outcome to the end.
const WORKFLOWS: &[(&str, &str, &str)] = &[
    ("validate", "order.validate", "ok: done, invalid: done"),
    ("invoice", "invoice.create", "complete: done, open: done"),
    ("apply", "payment.apply", "paid: done, partial: done"),
    (
        "dunning",
        "dunning.check",
        "not_due: done, reminded: done, collection: done",
    ),
];

async fn engine(dir: &TempDir) -> Arc<Engine> {
    let files = WORKFLOWS
        .iter()
        .map(|(name, connector, on)| {
            (
                format!("workflows/{name}.yaml"),
                format!(
                    "workflow: {name}\nversion: 1\nsteps:\n  go: {{ connector: {connector}, on: {{ {on} }} }}\n  done: {{ end: completed }}\n"
                ),
            )
        })
        .collect();
    super::hostile_tests::test_engine(dir, Registry::standard(), files)
        .await
        .0
}

async fn put(engine: &Engine, kind: &str, id: &str, body: &Value) {
    let mut tx = engine.store.begin().await.expect("begin");
    tx.put_document(kind, id, body, 1).await.expect("put");
    tx.commit().await.expect("commit");
}

/// Starts `workflow` with `data`, runs the engine until idle, returns the instance's error
/// (the instance must have failed).
async fn fails(engine: &Arc<Engine>, workflow: &str, key: &str, data: Value) -> String {
    let mut tx = engine.store.begin().await.expect("begin");
    engine
        .start_instance(tx.as_mut(), workflow, key, data)
        .await
        .expect("start");
    tx.commit().await.expect("commit");
    run_until_idle(engine).await;
    let inst = instance(engine, key).await;
    assert_eq!(inst.status, status::FAILED, "{key}: {inst:?}");
    inst.error.expect("an error is kept for a person")
}

/// What a failed step could have left behind.
async fn traces(engine: &Engine) -> (Option<Value>, i64, usize, Decimal) {
    let mut tx = engine.store.begin().await.expect("begin");
    let invoice = tx.get_document("invoice", "INV-000001").await.expect("get");
    let numbers = tx.current_number("invoice").await.expect("number");
    let outbound = tx.unsent_outbound(100).await.expect("outbound").len();
    let ar = tx.stock_level("ar:C1", "ledger").await.expect("ledger");
    tx.rollback().await.expect("rollback");
    (invoice, numbers, outbound, ar)
}

fn customer() -> Value {
    json!({ "id": "C1", "name": "Acme", "currency": "EUR", "credit_limit": 5000, "terms": "net 30" })
}

fn order() -> Value {
    json!({ "id": "C1-PO1", "customer_id": "C1", "po_number": "PO1", "order_date": "2026-11-23",
            "currency": "EUR", "lines": [{ "line_no": 1, "sku": "A-1", "quantity": 2 }] })
}

#[tokio::test]
async fn a_customer_without_credit_limit_or_an_item_without_price_fails_validation() {
    let dir = TempDir::new("typed-validate");
    let engine = engine(&dir).await;
    let mut c = customer();
    c.as_object_mut().unwrap().remove("credit_limit");
    put(&engine, "customer", "C1", &c).await;
    put(
        &engine,
        "item",
        "A-1",
        &json!({ "sku": "A-1", "description": "Bolt", "price": 2.5 }),
    )
    .await;
    let e = fails(&engine, "validate", "o1", json!({ "order": order() })).await;
    assert!(
        e.contains("customer 'C1'") && e.contains("missing field `credit_limit`"),
        "{e}"
    );
    // Money written as text with a decimal comma is not a number.
    let mut c = customer();
    c["credit_limit"] = json!("12,50");
    put(&engine, "customer", "C1", &c).await;
    let e = fails(&engine, "validate", "o2", json!({ "order": order() })).await;
    assert!(e.contains("customer 'C1': credit_limit: "), "{e}");
    // The customer is fine; the item has no price: not a zero-priced line.
    put(&engine, "customer", "C1", &customer()).await;
    put(
        &engine,
        "item",
        "A-1",
        &json!({ "sku": "A-1", "description": "Bolt" }),
    )
    .await;
    let e = fails(&engine, "validate", "o3", json!({ "order": order() })).await;
    assert!(
        e.contains("item 'A-1'") && e.contains("missing field `price`"),
        "{e}"
    );
}

#[tokio::test]
async fn an_order_line_without_price_fails_the_invoice_and_stores_nothing() {
    let dir = TempDir::new("typed-invoice");
    let engine = engine(&dir).await;
    let line = json!({ "line_no": 1, "sku": "A-1", "description": "Bolt", "quantity": 2, "uom": "EA",
                       "list_price": 2.5, "amount": 5.00, "unit_cost": 1, "weight_kg": 0, "tax_code": "standard" });
    let pricing = json!({ "customer_id": "C1", "currency": "EUR", "total": 5.00, "list_total": 5.00,
                          "cost_total": 2, "margin_percent": 60, "lines": [line] });
    let shipment = json!({ "id": "SH-000001", "order_id": "C1-PO1", "ship_date": "2026-11-24", "carrier": "DHL",
                           "service": "parcel", "tracking_number": "T1",
                           "packages": [{ "sscc": "1", "weight_kg": 0, "lines": [{ "line_no": 1, "sku": "A-1", "quantity": 2 }] }] });
    let data = json!({ "order": order(), "pricing": pricing, "shipment": shipment, "customer": customer(),
                       "tax": { "rates": { "standard": 19 } },
                       "fulfilment": { "lines": [{ "line_no": 1, "sku": "A-1", "ordered": 2, "shipped": 2 }] } });
    let e = fails(&engine, "invoice", "i1", data.clone()).await;
    assert!(
        e.contains("pricing") && e.contains("lines[0]") && e.contains("missing field `unit_price`"),
        "{e}"
    );
    assert_eq!(traces(&engine).await, (None, 0, 0, Decimal::ZERO));
    // A tax rate written as text with a decimal comma: refused at the rate.
    let mut data = data;
    data["pricing"]["lines"][0]["unit_price"] = json!(2.5);
    data["tax"]["rates"]["standard"] = json!("19,0");
    let e = fails(&engine, "invoice", "i2", data.clone()).await;
    assert!(e.contains("tax") && e.contains("rates.standard"), "{e}");
    assert_eq!(traces(&engine).await, (None, 0, 0, Decimal::ZERO));
    // No rate for the line's tax code: found after the invoice number was taken; the step's
    // rollback gives the number back.
    data["tax"]["rates"] = json!({ "reduced": 7 });
    let e = fails(&engine, "invoice", "i3", data).await;
    assert!(e.contains("no rate for tax code 'standard'"), "{e}");
    assert_eq!(traces(&engine).await, (None, 0, 0, Decimal::ZERO));
}

#[tokio::test]
async fn an_invoice_without_open_amount_fails_payment_and_dunning_and_stays_as_it_was() {
    let dir = TempDir::new("typed-collection");
    let engine = engine(&dir).await;
    let invoice = json!({ "number": "INV-000001", "order_id": "C1-PO1", "customer_id": "C1", "currency": "EUR",
        "issue_date": "2020-01-01", "due_date": "2020-01-31", "terms": { "net_days": 30 },
        "lines": [], "net_total": 100, "tax_total": 19, "total": 119.00,
        "status": "open", "po_number": "PO1", "terms_text": "net 30", "discount_until": null,
        "discount_amount": 0, "paid_amount": 0, "discount_taken": 0, "payments": [],
        "dunning_level": 0, "overdue": false });
    put(&engine, "invoice", "INV-000001", &invoice).await;
    let payment = json!({ "id": "PAY-000001", "amount": { "amount": 119.00, "currency": "EUR" },
                          "received_on": "2020-01-10", "invoice_number": "INV-000001" });
    let data = json!({ "invoice": { "number": "INV-000001" }, "payment": payment });
    let e = fails(&engine, "apply", "p1", data.clone()).await;
    assert!(
        e.contains("invoice 'INV-000001'") && e.contains("missing field `open_amount`"),
        "{e}"
    );
    let e = fails(&engine, "dunning", "d1", data.clone()).await;
    assert!(
        e.contains("invoice 'INV-000001'") && e.contains("missing field `open_amount`"),
        "{e}"
    );
    let (stored, _, outbound, ar) = traces(&engine).await;
    assert_eq!(stored, Some(invoice.clone()), "the invoice is unchanged");
    assert_eq!((outbound, ar), (0, Decimal::ZERO), "no letter, no booking");
    // Present but as text with a decimal comma: refused at the field.
    let mut comma = invoice;
    comma["open_amount"] = json!("12,50");
    put(&engine, "invoice", "INV-000001", &comma).await;
    let e = fails(&engine, "apply", "p2", data).await;
    assert!(e.contains("invoice 'INV-000001': open_amount: "), "{e}");
    assert_eq!(traces(&engine).await.0, Some(comma));
}
