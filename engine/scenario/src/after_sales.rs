//! The demo's finance after the invoice (issue 15 point 7), run after the order-to-cash days
//! and their oracle, on the same store: the first business month's ledger period is closed; a
//! complaint against an unpaid invoice is decided with a credit note, which takes its amount
//! off the open invoice; a return of a paid invoice's goods is received, restocked and
//! credited (customer credit), and that credit refunded by SEPA transfer; a customer with
//! credit from an overpayment orders again and the new invoice takes the credit; a trading
//! partner's order is credited and the credit note sent to it by EDI (after_sales_edi.rs). Each goes through the one library function the CLI and the API call
//! (`ordo::api::{complaints, returns, finance}`), as a demo user with role admin; the oracle
//! checks that each ended as expected. The ledger's own oracle (trial balance, `ordo ledger
//! check`) runs after this, over everything.

use crate::Say;
use crate::harness::{StoredInvoice, invoices, run_until_idle};
use ordo::api::auth::Actor;
use ordo::api::complaints::DecisionRequest;
use ordo::config::Config;
use ordo::runtime::Engine;
use ordo::store::Tx;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

fn demo_user() -> Actor {
    Actor {
        id: "demo".into(),
        via: "cli",
        roles: vec!["admin".into()],
    }
}

/// Runs `f` in one transaction, committed (and published) when it succeeds.
pub(crate) async fn in_tx<F>(engine: &Arc<Engine>, f: F) -> Result<Value, String>
where
    F: AsyncFnOnce(&mut dyn Tx) -> ordo::api::error::ApiResult<Value>,
{
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    match f(tx.as_mut()).await {
        Ok(v) => {
            ordo::app::commit_and_publish(engine, tx)
                .await
                .map_err(|e| e.to_string())?;
            Ok(v)
        }
        Err(e) => {
            tx.rollback().await.map_err(|e| e.to_string())?;
            Err(e.message)
        }
    }
}

async fn doc(engine: &Arc<Engine>, kind: &str, id: &str) -> Result<Value, String> {
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let d = tx.get_document(kind, id).await.map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    d.ok_or_else(|| format!("no {kind} '{id}'"))
}

async fn credit_of(engine: &Arc<Engine>, customer: &str) -> Result<Decimal, String> {
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    let c = tx
        .stock_level(&format!("credit:{customer}"), "ledger")
        .await
        .map_err(|e| e.to_string())?;
    tx.rollback().await.map_err(|e| e.to_string())?;
    Ok(c)
}

/// The after-sales part of the demo (see the module docs). True when each case ended as
/// expected; every deviation is said as a `MISMATCH` line.
pub async fn run(engine: &Arc<Engine>, cfg: &Config, say: Say<'_>) -> Result<bool, String> {
    let me = demo_user();
    let mut ok = true;
    let mut bad = |what: String| {
        say(&format!("MISMATCH: after sales: {what}"));
        ok = false;
    };

    // A closed period: the demo's first month (every entry of it was posted long ago).
    let start = ordo::clock::ms_to_datetime(engine.clock.now_ms() - 85 * 86_400_000)
        .format("%Y-%m")
        .to_string();
    let closed = ordo::ledger::report::close(engine, &start, "demo")
        .await
        .map_err(|e| e.to_string())?;
    let again = ordo::ledger::report::close(engine, &start, "demo")
        .await
        .map_err(|e| e.to_string())?;
    if !closed || again {
        bad(format!(
            "period {start}: closed {closed}, closed a second time {again}"
        ));
    }
    let invs = invoices(engine).await?;
    if !complaint(engine, cfg, &me, &invs, say, &mut bad).await? {
        return Ok(false);
    }
    let Some(order) = refund_and_apply(engine, cfg, &me, &invs, say, &mut bad).await? else {
        return Ok(false);
    };
    return_goods(engine, cfg, &me, &order, say, &mut bad).await?;
    // A credit note to a trading partner by EDI (810 credit memo), checked valid.
    crate::after_sales_edi::run(engine, cfg, &me, say, &mut bad).await?;
    Ok(ok)
}

/// A complaint against an unpaid invoice (in collection), decided with a credit note for one
/// unit of a line: the invoice's open amount falls by the credit note.
async fn complaint(
    engine: &Arc<Engine>,
    cfg: &Config,
    me: &Actor,
    invs: &[StoredInvoice],
    say: Say<'_>,
    bad: &mut impl FnMut(String),
) -> Result<bool, String> {
    let Some(open) = invs
        .iter()
        .find(|i| !i.state.is_closed() && i.state.open_amount > Decimal::ZERO)
    else {
        bad("no unpaid invoice to complain about".into());
        return Ok(false);
    };
    let inv = &open.invoice.number;
    let c = in_tx(engine, async |tx| {
        ordo::api::complaints::open_complaint(
            engine,
            tx,
            me,
            ordo_sales::complaints::Against::Invoice(inv),
            "damaged",
            "demo: one unit arrived scratched",
        )
        .await
    })
    .await?;
    let number = c["number"].as_str().unwrap_or("?").to_string();
    run_until_idle(engine, cfg).await?;
    let req = DecisionRequest {
        outcome: "credit".into(),
        note: "demo: scratched, credited".into(),
        line_no: None,
        quantity: None,
        invoice: None,
        lines: Some(vec![ordo_sales::CreditLine {
            line_no: open.invoice.lines[0].line_no,
            quantity: Decimal::ONE,
        }]),
    };
    let decided = in_tx(engine, async |tx| {
        ordo::api::complaints::decide_complaint(engine, tx, me, &number, &req).await
    })
    .await?;
    run_until_idle(engine, cfg).await?;
    let cn = decided["decision"]["credit_note"].as_str().unwrap_or("");
    let complaint = doc(engine, "complaint", &number).await?;
    let after: ordo_contract::InvoiceCollection =
        ordo_contract::read_doc("invoice", inv, &doc(engine, "invoice", inv).await?)?;
    let note: ordo_contract::Invoice =
        ordo_contract::read_doc("credit_note", cn, &doc(engine, "credit_note", cn).await?)?;
    let total = note.total;
    if complaint["status"] != "credited"
        || total <= Decimal::ZERO
        || after.open_amount != open.state.open_amount - total
    {
        bad(format!(
            "complaint {number}: status {}, credit note '{cn}' of {total}, open amount of {inv} {} → {}",
            complaint["status"], open.state.open_amount, after.open_amount
        ));
        return Ok(false);
    }
    say(&format!(
        "after sales: complaint {number} on {inv} credited by {cn} ({total} EUR off the open amount)"
    ));
    Ok(true)
}

/// Customer credit from an overpayment: half of it refunded by SEPA transfer (pain.001), then
/// the customer orders again and the new invoice takes the rest (`apply_credit: automatic` in
/// workflows/order-to-cash.yaml). Returns the new order's id.
async fn refund_and_apply(
    engine: &Arc<Engine>,
    cfg: &Config,
    me: &Actor,
    invs: &[StoredInvoice],
    say: Say<'_>,
    bad: &mut impl FnMut(String),
) -> Result<Option<String>, String> {
    let customers: BTreeSet<&str> = invs
        .iter()
        .filter(|i| i.state.status == "paid")
        .map(|i| i.invoice.customer_id.as_str())
        .collect();
    let mut with_credit = None;
    for c in customers {
        let credit = credit_of(engine, c).await?;
        if credit > Decimal::ZERO {
            with_credit = Some((c.to_string(), credit));
            break;
        }
    }
    let Some((customer, credit)) = with_credit else {
        bad("no customer with credit from an overpayment".into());
        return Ok(None);
    };
    let half = (credit / Decimal::TWO).round_dp(2);
    let refund = in_tx(engine, async |tx| {
        ordo::api::finance::refund_customer_credit(engine, tx, me, &customer, half, None).await
    })
    .await;
    run_until_idle(engine, cfg).await?;
    let before = credit;
    let credit = credit_of(engine, &customer).await?;
    match &refund {
        Ok(v) if credit == before - half => say(&format!(
            "after sales: {half} EUR of {customer}'s credit refunded ({}), {credit} EUR left",
            v["number"].as_str().unwrap_or("?")
        )),
        _ => {
            bad(format!(
                "refund of {half} to {customer}: {refund:?}, credit {before} → {credit}"
            ));
            return Ok(None);
        }
    }
    let id = format!("{customer}-AFTER-1");
    let order = json!({ "id": id, "customer_id": customer, "po_number": "AFTER-1",
                        "order_date": engine.clock.now().date_naive(), "currency": "EUR", "channel": "demo",
                        "lines": [ { "line_no": 1, "sku": "WID-100", "quantity": 10 } ] });
    crate::harness::submit(engine, &[order], 1).await?;
    run_until_idle(engine, cfg).await?;
    let left = credit_of(engine, &customer).await?;
    let invs = invoices(engine).await?;
    match invs.iter().find(|i| i.invoice.order_id == id) {
        Some(i) if left < credit && i.state.open_amount == i.invoice.total - (credit - left) => {
            say(&format!(
                "after sales: the rest of {customer}'s credit applied to its new invoice {} ({} EUR open)",
                i.invoice.number, i.state.open_amount
            ));
            Ok(Some(id))
        }
        _ => {
            bad(format!(
                "credit of {customer} ({credit} EUR) not applied to order {id}'s invoice ({left} EUR left)"
            ));
            Ok(None)
        }
    }
}

/// A return of one unit of `order`'s line 1, shipped today: authorised by the rule, received
/// as new, restocked at cost and credited through a credit note.
async fn return_goods(
    engine: &Arc<Engine>,
    cfg: &Config,
    me: &Actor,
    order: &str,
    say: Say<'_>,
    bad: &mut impl FnMut(String),
) -> Result<(), String> {
    let rma = in_tx(engine, async |tx| {
        let want = ordo::api::returns::ReturnLine {
            line_no: 1,
            quantity: Decimal::ONE,
            reason: "demo: one too many",
            replacement: false,
        };
        ordo::api::returns::request_return(engine, tx, me, order, &want).await
    })
    .await?;
    let rma = rma["number"].as_str().unwrap_or("?").to_string();
    run_until_idle(engine, cfg).await?;
    in_tx(engine, async |tx| {
        ordo::api::returns::receive_return(engine, tx, me, &rma, 1, Decimal::ONE, "as_new").await
    })
    .await?;
    run_until_idle(engine, cfg).await?;
    let r = doc(engine, "return", &rma).await?;
    if r["status"] != "credited" || r["credit_note"].is_null() {
        bad(format!(
            "return {rma}: status {}, credit note {}",
            r["status"], r["credit_note"]
        ));
        return Ok(());
    }
    say(&format!(
        "after sales: return {rma} of order {order} received, restocked and credited by {}",
        r["credit_note"].as_str().unwrap_or("?")
    ));
    Ok(())
}
