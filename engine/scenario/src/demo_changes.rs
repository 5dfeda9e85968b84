//! The demo's quotations, order changes and cancellations (issue 16 points 1 and 2), run after
//! the main batch is checked so they do not move its counts: a quote accepted into an order at
//! the quoted prices, a quote that expires (its late acceptance refused), a held order amended
//! (its unknown line removed) and released, a waiting order changed, and an order cancelled.
//! Each goes through the functions `ordo quote …` / `ordo order …` and the API call, as a
//! sales user; [`run`] returns whether every one ended as expected, saying what did not.

use crate::Say;
use crate::harness::{advance_days, run_until_idle, submit};
use ordo::api::auth::Actor;
use ordo::config::Config;
use ordo::runtime::Engine;
use ordo_contract::change::{LineChange, OrderChange};
use serde_json::{Value, json};
use std::sync::Arc;

fn sales() -> Actor {
    Actor {
        id: "user:demo-sales".into(),
        via: "cli",
        roles: vec!["sales".into()],
    }
}

/// Runs `f` in one transaction as the demo's sales user; commits on success.
async fn act<F>(engine: &Arc<Engine>, f: F) -> Result<Result<Value, String>, String>
where
    F: AsyncFnOnce(&mut dyn ordo::store::Tx, &Actor) -> ordo::api::error::ApiResult<Value>,
{
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    match f(tx.as_mut(), &sales()).await {
        Ok(v) => {
            ordo::app::commit_and_publish(engine, tx)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Ok(v))
        }
        Err(e) => {
            tx.rollback().await.map_err(|e| e.to_string())?;
            Ok(Err(e.message))
        }
    }
}

/// (end status or status, step, data) of `key`'s instance of `workflow`.
pub(crate) async fn state(
    engine: &Arc<Engine>,
    workflow: &str,
    key: &str,
) -> Result<(String, String, Value), String> {
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let found = tx.find_instances(key).await.map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    let i = found
        .into_iter()
        .find(|i| i.workflow == workflow && i.business_key == key)
        .ok_or_else(|| format!("no {workflow} instance {key}"))?;
    Ok((i.end_status.unwrap_or(i.status), i.step, i.data))
}

fn quote_request(customer: &str, sku: &str, qty: u32) -> ordo::api::quotes::QuoteRequest {
    serde_json::from_value(json!({ "customer_id": customer, "currency": "EUR",
                                   "lines": [{ "line_no": 1, "sku": sku, "quantity": qty }] }))
    .expect("a well-formed quote request")
}

/// The demo part; `customer` ships complete and pays on time, `sku` is in stock.
pub async fn run(
    engine: &Arc<Engine>,
    cfg: &Config,
    customer: &str,
    sku: &str,
    say: Say<'_>,
) -> Result<bool, String> {
    let mut wrong: Vec<String> = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            wrong.push(what);
        }
    };
    let e = engine.clone();
    let (r1, r2) = (
        quote_request(customer, sku, 200),
        quote_request(customer, sku, 3),
    );
    let q1 = act(engine, async |tx, a| {
        ordo::api::quotes::request_quote(&e, tx, a, &r1).await
    })
    .await??;
    let q2 = act(engine, async |tx, a| {
        ordo::api::quotes::request_quote(&e, tx, a, &r2).await
    })
    .await??;
    let (q1, q2) = (
        q1["number"].as_str().unwrap_or_default().to_string(),
        q2["number"].as_str().unwrap_or_default().to_string(),
    );
    // A held order (unknown item on line 2), a waiting one to change, one to cancel.
    let order = |id: &str, lines: Value| {
        json!({ "id": id, "customer_id": customer, "po_number": id, "currency": "EUR",
                "order_date": engine.clock.now().date_naive(), "channel": "demo", "lines": lines })
    };
    submit(
        engine,
        &[
            order(
                "DC-HELD",
                json!([{ "line_no": 1, "sku": sku, "quantity": 2 },
                       { "line_no": 2, "sku": "NO-SUCH-ITEM", "quantity": 1 }]),
            ),
            order(
                "DC-CANCEL",
                json!([{ "line_no": 1, "sku": "NO-SUCH-ITEM", "quantity": 1 }]),
            ),
        ],
        2,
    )
    .await?;
    run_until_idle(engine, cfg).await?;
    let (held, step, _) = state(engine, "order-to-cash", "DC-HELD").await?;
    check(
        step == "amend",
        format!("DC-HELD waits for the sales rep at amend, is {held} at {step}"),
    );
    let (q1_state, _, _) = state(engine, "quotation", &q1).await?;
    check(
        q1_state == "waiting",
        format!("{q1} waits for its acceptance, is {q1_state}"),
    );

    // Accepted: the order at the quoted prices.
    let acc = act(engine, async |tx, a| {
        ordo::api::quotes::accept_quote(&e, tx, a, &q1, Some("DQ-1")).await
    })
    .await??;
    let order_id = acc["order_id"].as_str().unwrap_or_default().to_string();
    // Amended: the unknown line removed, the quantity changed; then released.
    let change = OrderChange {
        lines: vec![
            LineChange {
                line_no: 2,
                remove: true,
                ..Default::default()
            },
            LineChange {
                line_no: 1,
                quantity: Some(3.into()),
                ..Default::default()
            },
        ],
        reason: Some("demo: the customer meant an item we have".into()),
        ..Default::default()
    };
    act(engine, async |tx, a| {
        ordo::api::orders::change_order(&e, tx, a, "DC-HELD", &change).await
    })
    .await??;
    act(engine, async |tx, a| {
        ordo::api::orders::cancel_order(&e, tx, a, "DC-CANCEL", "demo: not needed after all").await
    })
    .await??;
    run_until_idle(engine, cfg).await?;
    let (s, _, data) = state(engine, "order-to-cash", &order_id).await?;
    let quoted = &acc["lines"][0]["unit_price"];
    check(
        s == "completed" && data["pricing"]["lines"][0]["unit_price"] == *quoted,
        format!(
            "{order_id} from {q1} completed at {quoted}: {s}, {}",
            data["pricing"]["lines"][0]["unit_price"]
        ),
    );
    let (s, _, data) = state(engine, "order-to-cash", "DC-HELD").await?;
    check(
        s == "completed" && data["order"]["version"] == json!(2),
        format!(
            "DC-HELD amended to version 2 and completed: {s}, {}",
            data["order"]["version"]
        ),
    );
    let (s, _, _) = state(engine, "order-to-cash", "DC-CANCEL").await?;
    check(s == "cancelled", format!("DC-CANCEL cancelled: {s}"));

    // Expired: the validity ends, the timer expires the quote, a late acceptance is refused.
    advance_days(engine, 31.0).await?;
    run_until_idle(engine, cfg).await?;
    let (s, _, _) = state(engine, "quotation", &q2).await?;
    check(s == "expired", format!("{q2} expired: {s}"));
    let late = act(engine, async |tx, a| {
        ordo::api::quotes::accept_quote(&e, tx, a, &q2, None).await
    })
    .await?;
    check(
        late.as_ref().is_err_and(|m| m.contains("expired")),
        format!("{q2} accepted after expiry is refused: {late:?}"),
    );
    let (s, _, _) = state(engine, "quotation", &q1).await?;
    check(s == "accepted", format!("{q1} accepted: {s}"));
    say(&format!(
        "quotes and changes: {q1} accepted as {order_id} at its prices, {q2} expired (late acceptance refused), DC-HELD amended and released, DC-CANCEL cancelled"
    ));
    for w in &wrong {
        say(&format!("MISMATCH {w}"));
    }
    Ok(wrong.is_empty())
}
