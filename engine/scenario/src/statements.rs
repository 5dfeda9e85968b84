//! The bank side of the scenarios: customers' payments written as the day's camt.053 into the
//! demo account's inbox, imported by the engine's bank channel and matched as `ordo recon run`
//! does.

use crate::demo::{Cust, Pays};
use crate::harness::{DEMO_IBAN, StoredInvoice, invoices, run_until_idle};
use ordo::config::Config;
use ordo::runtime::Engine;
use ordo_contract::InvoiceCollection;
use rust_decimal::Decimal;
use std::sync::Arc;

/// A valid German IBAN per demo customer (check digits computed, so master data import and
/// the matcher accept it).
pub fn customer_iban(id: &str) -> String {
    let bban = format!("370400440532013{:03}", id[1..].parse::<u32>().unwrap_or(0));
    let r = ordo_contract::rules::mod97(format!("{bban}DE00").bytes()).unwrap_or(0);
    format!("DE{:02}{bban}", 98 - r)
}

/// The customers' payments arrive the way finance gets them: the demo writes them as the day's
/// camt.053 into the bank account's inbox (with one entry nobody can match: interest), the
/// engine's bank channel imports it, reconciliation matches it (as the cron step would), and
/// the invoices' collection instances apply the payments. Returns (payments, auto-matched).
pub async fn pay_where(
    engine: &Arc<Engine>,
    cfg: &Config,
    custs: &[Cust],
    who: &[Pays],
    amount: impl Fn(&InvoiceCollection, Pays) -> Option<Decimal>,
) -> Result<(usize, usize), String> {
    let Some(dropped) = drop_statement(engine, cfg, custs, who, amount).await? else {
        return Ok((0, 0));
    };
    // The bank channel imports the file; when business time passed a cron slot, the
    // bank-reconciliation workflow matches it in the same run, else the demo runs matching
    // itself, as `ordo recon run` would.
    run_until_idle(engine, cfg).await?;
    let matched = reconcile_imported(engine, &dropped.statement_id).await?;
    Ok((dropped.payments, matched))
}

/// A statement the bank side of the demo put into the account's inbox.
pub struct Dropped {
    pub payments: usize,
    pub statement_id: String,
}

/// The bank's part: one camt.053 crediting the chosen customers' open invoices (plus interest
/// nobody can match), written into the demo account's inbox. None when nobody is to pay.
pub async fn drop_statement(
    engine: &Arc<Engine>,
    cfg: &Config,
    custs: &[Cust],
    who: &[Pays],
    amount: impl Fn(&InvoiceCollection, Pays) -> Option<Decimal>,
) -> Result<Option<Dropped>, String> {
    let invoices = invoices(engine).await?;
    let entries = statement_credits(&invoices, custs, who, amount);
    write_statement(engine, cfg, entries, "")
}

/// A credit the bank books: amount, payer name, payer IBAN, remittance text.
pub type Credit = (Decimal, String, Option<String>, String);

/// The credits paying the chosen customers' open invoices among `invoices`.
pub fn statement_credits(
    invoices: &[StoredInvoice],
    custs: &[Cust],
    who: &[Pays],
    amount: impl Fn(&InvoiceCollection, Pays) -> Option<Decimal>,
) -> Vec<Credit> {
    let mut entries = Vec::new();
    for StoredInvoice { state: inv, .. } in invoices {
        let Some(c) = custs.iter().find(|c| inv.customer_id == c.id) else {
            continue;
        };
        if !who.contains(&c.pays) || inv.status == "paid" {
            continue;
        }
        if let Some(a) = amount(inv, c.pays)
            && a > Decimal::ZERO
        {
            let number = &inv.number;
            entries.push((
                a,
                format!("Customer {}", c.id),
                Some(customer_iban(&c.id)),
                format!("Invoice {number}"),
            ));
        }
    }
    entries
}

/// Writes one camt.053 with `entries` plus the bank's interest into the demo account's inbox;
/// `suffix` tells statements of the same day apart. None when `entries` is empty.
pub fn write_statement(
    engine: &Arc<Engine>,
    cfg: &Config,
    mut entries: Vec<Credit>,
    suffix: &str,
) -> Result<Option<Dropped>, String> {
    use ordo_bank::{Balance, Direction, Entry, EntryStatus, Format, Statement, TxDetail};
    let today = engine.clock.now().date_naive();
    if entries.is_empty() {
        return Ok(None);
    }
    let payments = entries.len();
    entries.push((
        Decimal::new(42, 2),
        "Demo Bank".into(),
        None,
        "Interest".into(),
    ));
    let mut stmt = Statement::new(Format::Camt053);
    stmt.account = DEMO_IBAN.into();
    stmt.account_is_iban = true;
    stmt.currency = "EUR".into();
    stmt.statement_id = format!("DEMO-{today}{suffix}");
    let mut total = Decimal::ZERO;
    for (i, (a, name, iban, text)) in entries.into_iter().enumerate() {
        total += a;
        stmt.entries.push(Entry {
            amount: a,
            direction: Direction::Credit,
            currency: "EUR".into(),
            status: EntryStatus::Booked,
            booking_date: Some(today),
            value_date: Some(today),
            bank_ref: Some(format!("{today}{suffix}-{i}")),
            customer_ref: None,
            reversal: false,
            bank_tx_code: None,
            info: None,
            charges: None,
            transactions: vec![TxDetail {
                counterparty_name: Some(name),
                counterparty_account: iban,
                remittance: Some(text),
                ..TxDetail::default()
            }],
        });
    }
    stmt.opening = Some(Balance {
        amount: Decimal::ZERO,
        date: Some(today),
    });
    stmt.closing = Some(Balance {
        amount: total,
        date: Some(today),
    });
    let mut xml = String::new();
    ordo_bank::write::write_camt053(&stmt, &mut xml);
    let inbox = cfg
        .banks
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("bank/inbox");
    std::fs::create_dir_all(&inbox).map_err(|e| e.to_string())?;
    std::fs::write(inbox.join(format!("camt053-{today}{suffix}.xml")), xml)
        .map_err(|e| e.to_string())?;
    Ok(Some(Dropped {
        payments,
        statement_id: stmt.statement_id,
    }))
}

/// Matches what the bank channel imported, as `ordo recon run` does, and clears the interest
/// entry from the exceptions queue; returns how many payments `statement_id` matched.
pub async fn reconcile_imported(engine: &Arc<Engine>, statement_id: &str) -> Result<usize, String> {
    let mut tx = engine.store.begin().await.map_err(|e| e.to_string())?;
    engine
        .refresh_clock(tx.as_mut())
        .await
        .map_err(|e| e.to_string())?;
    let report = {
        let mut ctx = ordo::runtime::TxContext::command(tx.as_mut(), engine);
        ordo_recon::run_reconciliation(&mut ctx)
            .await
            .map_err(|e| e.to_string())?;
        // Finance works the exceptions queue: the interest is not a customer payment.
        for (id, ex) in ctx
            .tx
            .get_documents("bank_exception", "")
            .await
            .map_err(|e| e.to_string())?
        {
            if ex["status"] == "open" && ex["remittance"] == "Interest" {
                ordo_recon::reject_exception(&mut ctx, &id, "bank interest, booked by accounting")
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        ctx.tx
            .get_documents("bank_report", "")
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(_, r)| r)
            .rfind(|r| r["statement_id"] == statement_id)
    };
    ordo::app::commit_and_publish(engine, tx)
        .await
        .map_err(|e| e.to_string())?;
    let Some(report) = report else {
        return Err(format!("statement {statement_id} was not reconciled"));
    };
    report["report"]["matched"]
        .as_u64()
        .map(|n| n as usize)
        .ok_or_else(|| format!("the report of statement {statement_id} has no matched count"))
}
