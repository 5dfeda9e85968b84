//! Order-to-cash commands: `ordo receive`, `ordo pay`, `ordo invoice` (master data import is
//! `ordo::masterdata`, the o2c benchmark `ordo_scenario::o2c`).
//!
//! The business logic lives in `ordo-sales` (over the `StepContext` port); the engine's
//! `TxContext` binds that port to one store transaction of the command, so a receipt or a
//! payment commits together with the events it emits.

use chrono::NaiveDate;

use ordo::runtime::{Engine, EngineError};

use rust_decimal::Decimal;

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// `--lines SKU=QTY,SKU=QTY`.
pub fn parse_lines(text: &str) -> Result<Vec<(String, Decimal)>, String> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (sku, q) = p
                .split_once('=')
                .ok_or_else(|| format!("--lines: '{p}' is not SKU=QTY"))?;
            let q = Decimal::from_str_exact(q.trim())
                .map_err(|_| format!("--lines: '{q}' is not a quantity"))?;
            Ok((sku.trim().to_string(), q))
        })
        .collect()
}

pub async fn receive_cmd(
    engine: &Arc<Engine>,
    po: &str,
    lines: Option<&str>,
    location: &str,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let lines = match lines.map(parse_lines).transpose() {
        Ok(l) => l,
        Err(e) => return Ok(super::fail(e)),
    };
    let r = ordo::commands::receive(engine, po, lines, location).await?;
    if json_out {
        super::print_json(&r);
    } else {
        let booked: Vec<String> = r["lines"]
            .as_array()
            .into_iter()
            .flatten()
            // Display only (here and in the summary below): a field missing from the receipt
            // prints empty.
            .map(|l| {
                format!(
                    "{} {}",
                    l["quantity"],
                    l["sku"].as_str().unwrap_or_default()
                )
            })
            .collect();
        println!(
            "{} for {}: received {}; {} waiting order(s) resumed",
            r["number"].as_str().unwrap_or_default(),
            po,
            booked.join(", "),
            r["resumed_orders"].as_array().map(|a| a.len()).unwrap_or(0)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn replenish_cmd(engine: &Arc<Engine>, json_out: bool) -> Result<ExitCode, EngineError> {
    let key = ordo::commands::start_replenishment(engine).await?;
    if json_out {
        super::print_json(&serde_json::json!({ "workflow": "replenishment", "key": key }));
    } else {
        println!("replenishment {key} started (ordo run works it; ordo status {key})");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn po_expect_cmd(
    engine: &Arc<Engine>,
    po: &str,
    date: &str,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let Ok(on) = NaiveDate::parse_from_str(date, "%Y-%m-%d") else {
        return Ok(super::fail(format!("'{date}' is not a date (YYYY-MM-DD)")));
    };
    let r = ordo::commands::po_expected(engine, po, on).await?;
    if json_out {
        super::print_json(&r);
    } else {
        let n = r["changed"].as_array().map_or(0, Vec::len);
        println!("{po} now expected {on}; {n} order(s) promised again");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn pay_cmd(
    engine: &Arc<Engine>,
    invoice: &str,
    amount: &str,
    date: Option<&str>,
    reference: Option<&str>,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let Ok(amount) = Decimal::from_str_exact(amount.trim()) else {
        return Ok(super::fail(format!(
            "amount '{amount}' is not a decimal number"
        )));
    };
    let on = match date
        .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d"))
        .transpose()
    {
        Ok(d) => d,
        Err(e) => return Ok(super::fail(format!("--date: {e} (expected YYYY-MM-DD)"))),
    };
    let p = ordo::commands::pay(engine, invoice, amount, on, reference).await?;
    if json_out {
        super::print_json(&p);
    } else {
        println!(
            // Display only: a field missing from the recorded payment prints empty.
            "payment {} of {} {} recorded for invoice {invoice}",
            p["id"].as_str().unwrap_or_default(),
            amount,
            p["amount"]["currency"].as_str().unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The arguments of `ordo invoice`.
#[derive(clap::Args)]
pub struct InvoiceArgs {
    pub number: String,
    #[arg(long)]
    pub html: bool,
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Print the HTML page to this PDF file (headless Chromium).
    #[arg(long)]
    pub pdf: Option<std::path::PathBuf>,
}

/// `ordo invoice NUMBER`: an invoice, or a credit note by its number, as JSON, HTML (one
/// template each, `ordo_sales::export`) or a PDF printed from that HTML.
pub async fn invoice_cmd(
    engine: &Arc<Engine>,
    cfg: &ordo::config::Config,
    number: &str,
    html: bool,
    out: Option<&Path>,
    pdf: Option<&Path>,
) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    let doc = ordo::printing::find(tx.as_mut(), number).await?;
    tx.rollback().await?;
    let Some((kind, doc)) = doc else {
        return Ok(super::fail(format!("no invoice or credit note '{number}'")));
    };
    if !html && pdf.is_none() {
        let text = ordo_sales::export::invoice_json(&doc);
        return Ok(match out {
            Some(p) => match std::fs::write(p, text) {
                Ok(()) => {
                    println!("{number} written to {}", p.display());
                    ExitCode::SUCCESS
                }
                Err(e) => super::fail(format!("{}: {e}", p.display())),
            },
            None => {
                println!("{text}");
                ExitCode::SUCCESS
            }
        });
    }
    let page = match ordo::printing::html_from_config(&cfg.company, kind, &doc) {
        Ok(t) => t,
        Err(e) => return Ok(super::fail(e)),
    };
    if html {
        match out {
            Some(p) => {
                if let Err(e) = std::fs::write(p, &page) {
                    return Ok(super::fail(format!("{}: {e}", p.display())));
                }
                println!("{number} written to {}", p.display());
            }
            None => println!("{page}"),
        }
    }
    if let Some(p) = pdf {
        if let Err(e) = ordo::receivables::html_to_pdf(&page, p) {
            return Ok(super::fail(e));
        }
        println!("{number} written to {}", p.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_sku_equals_quantity() {
        assert_eq!(parse_lines("A=1.5, B=2").unwrap()[0].1.to_string(), "1.5");
        assert!(parse_lines("A").is_err());
    }
}
