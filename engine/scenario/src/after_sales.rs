//! The demo's finance after the invoice (issue 15 point 7), run after the order-to-cash days
//! and their oracle, on the same store: the first business month's ledger period is closed; a
//! complaint against a paid invoice is decided with a credit note, which becomes customer
//! credit that is then applied on request to the customer's open invoices; a return of a paid
//! invoice's goods is received, restocked and credited, and that credit refunded by SEPA
//! transfer. Each goes through the one library function the CLI and the API call
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
use serde_json::Value;
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
async fn in_tx<F>(engine: &Arc<Engine>, f: F) -> Result<Value, String>
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

/// A paid invoice with a line of at least 2 units, of a customer in `of` (any when empty), and
/// not `except`.
fn paid_invoice<'a>(
    invs: &'a [StoredInvoice],
    of: &BTreeSet<String>,
    except: Option<&str>,
) -> Option<&'a StoredInvoice> {
    invs.iter().find(|i| {
        i.state.status == "paid"
            && (of.is_empty() || of.contains(&i.invoice.customer_id))
            && except != Some(i.invoice.customer_id.as_str())
            && i.invoice.lines.iter().any(|l| l.quantity >= Decimal::TWO)
    })
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
    let with_open: BTreeSet<String> = invs
        .iter()
        .filter(|i| !i.state.is_closed())
        .map(|i| i.invoice.customer_id.clone())
        .collect();

    // A complaint against a paid invoice of a customer with open invoices: credited, the
    // credit applied on request to those open invoices.
    let Some(paid) = paid_invoice(&invs, &with_open, None) else {
        bad("no paid invoice of a customer with open invoices to complain about".into());
        return Ok(false);
    };
    let (inv, customer) = (&paid.invoice.number, paid.invoice.customer_id.clone());
    let line = paid.invoice.lines[0].line_no;
    let c = in_tx(engine, async |tx| {
        ordo::api::complaints::open_complaint(
            engine,
            tx,
            &me,
            ordo_sales::complaints::Against::Invoice(inv),
            "damaged",
            "demo: one unit arrived scratched",
        )
        .await
    })
    .await?;
    let number = c["number"].as_str().unwrap_or("?").to_string();
    run_until_idle(engine, cfg).await?;
    let credit_before = credit_of(engine, &customer).await?;
    let req = DecisionRequest {
        outcome: "credit".into(),
        note: "demo: scratched, credited".into(),
        line_no: None,
        quantity: None,
        invoice: None,
        lines: Some(vec![ordo_sales::CreditLine {
            line_no: line,
            quantity: Decimal::ONE,
        }]),
    };
    let decided = in_tx(engine, async |tx| {
        ordo::api::complaints::decide_complaint(engine, tx, &me, &number, &req).await
    })
    .await?;
    run_until_idle(engine, cfg).await?;
    let cn = decided["decision"]["credit_note"].as_str().unwrap_or("");
    let complaint = doc(engine, "complaint", &number).await?;
    let credit_after = credit_of(engine, &customer).await?;
    if complaint["status"] != "credited" || cn.is_empty() || credit_after <= credit_before {
        bad(format!(
            "complaint {number}: status {}, credit note '{cn}', credit {credit_before} → {credit_after}",
            complaint["status"]
        ));
    }
    let applied = in_tx(engine, async |tx| {
        ordo::api::finance::apply_customer_credit(engine, tx, &me, &customer, None).await
    })
    .await;
    run_until_idle(engine, cfg).await?;
    let credit_left = credit_of(engine, &customer).await?;
    if applied.is_err() || credit_left >= credit_after {
        bad(format!(
            "customer credit of {customer} applied: {applied:?}, credit {credit_after} → {credit_left}"
        ));
    }
    say(&format!(
        "after sales: complaint {number} on {inv} credited by {cn}; {customer}'s credit {credit_after} applied to its open invoices ({credit_left} left)"
    ));

    // A return of a paid invoice's goods: received as new, restocked, credited (customer
    // credit, the invoice being paid), and that credit refunded.
    let Some(paid) = paid_invoice(&invs, &BTreeSet::new(), Some(&customer)) else {
        bad("no other paid invoice to return goods of".into());
        return Ok(false);
    };
    let (order, customer) = (&paid.invoice.order_id, paid.invoice.customer_id.clone());
    let line = paid
        .invoice
        .lines
        .iter()
        .find(|l| l.quantity >= Decimal::TWO)
        .map_or(1, |l| l.line_no);
    let credit_before = credit_of(engine, &customer).await?;
    let rma = in_tx(engine, async |tx| {
        ordo::api::returns::request_return(
            engine,
            tx,
            &me,
            order,
            line,
            Decimal::ONE,
            "demo: ordered one too many",
        )
        .await
    })
    .await?;
    let rma = rma["number"].as_str().unwrap_or("?").to_string();
    run_until_idle(engine, cfg).await?;
    in_tx(engine, async |tx| {
        ordo::api::returns::receive_return(engine, tx, &me, &rma, line, Decimal::ONE, "as_new")
            .await
    })
    .await?;
    run_until_idle(engine, cfg).await?;
    let r = doc(engine, "return", &rma).await?;
    let credit = credit_of(engine, &customer).await? - credit_before;
    if r["status"] != "credited" || r["credit_note"].is_null() || credit <= Decimal::ZERO {
        bad(format!(
            "return {rma}: status {}, credit note {}, customer credit +{credit}",
            r["status"], r["credit_note"]
        ));
        return Ok(false);
    }
    let refund = in_tx(engine, async |tx| {
        ordo::api::finance::refund_customer_credit(engine, tx, &me, &customer, credit, None).await
    })
    .await;
    run_until_idle(engine, cfg).await?;
    let after = credit_of(engine, &customer).await?;
    match &refund {
        Ok(v) if after == credit_before => say(&format!(
            "after sales: return {rma} of order {order} restocked and credited by {}; {credit} refunded to {customer} ({})",
            r["credit_note"].as_str().unwrap_or("?"),
            v["number"].as_str().unwrap_or("?")
        )),
        _ => bad(format!(
            "refund of {credit} to {customer}: {refund:?}, credit {credit_before} → {after}"
        )),
    }
    Ok(ok)
}
