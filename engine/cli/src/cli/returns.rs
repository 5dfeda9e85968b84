//! Return commands: `ordo return request ORDER` and `ordo receive-return RMA`. Each parses,
//! then calls the one library function the API calls too (`ordo::api::returns`: role check,
//! effect, audit record in one transaction) as the OS user, and prints.

use super::credit::as_os_user;
use super::{fail, print_json};
use clap::{Args, Subcommand};
use ordo::runtime::{Engine, EngineError};
use rust_decimal::Decimal;
use serde_json::Value;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum ReturnCommand {
    /// Request the return of a line of a shipped order (workflows/returns.yaml decides).
    Request {
        order: String,
        #[arg(long)]
        line: u32,
        /// Quantity to return (zero or negative is refused with the return rule's words).
        #[arg(long, allow_hyphen_values = true)]
        qty: String,
        #[arg(long)]
        reason: String,
        /// Ship the same goods again instead of issuing a credit note.
        #[arg(long)]
        replace: bool,
    },
}

/// `ordo receive-return RMA --line N --qty Q [--condition as_new|damaged|defective]`.
#[derive(Args)]
pub struct ReceiveArgs {
    pub rma: String,
    #[arg(long)]
    pub line: u32,
    #[arg(long, allow_hyphen_values = true)]
    pub qty: String,
    /// What the goods look like (rules/inspection.rhai decides restock, scrap or repair).
    #[arg(long, default_value = "as_new")]
    pub condition: String,
}

fn quantity(q: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(q.trim()).map_err(|_| format!("--qty '{q}' is not a decimal number"))
}

fn show(rma: &Value, json_out: bool) {
    if json_out {
        print_json(rma);
        return;
    }
    // Display only: a field missing from the stored return prints empty.
    let s = |k: &str| rma[k].to_string().trim_matches('"').to_string();
    println!(
        "{} order {} line {} qty {} {}: {}",
        s("number"),
        s("order_id"),
        s("line_no"),
        s("quantity"),
        s("sku"),
        s("status")
    );
}

/// `ordo return …`.
pub async fn return_cmd(
    engine: &Arc<Engine>,
    cmd: ReturnCommand,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let ReturnCommand::Request {
        order,
        line,
        qty,
        reason,
        replace,
    } = cmd;
    let qty = match quantity(&qty) {
        Ok(q) => q,
        Err(e) => return Ok(fail(e)),
    };
    let e = engine.clone();
    let r = as_os_user(engine, async |tx, actor| {
        let want = ordo::api::returns::ReturnLine {
            line_no: line,
            quantity: qty,
            reason: &reason,
            replacement: replace,
        };
        ordo::api::returns::request_return(&e, tx, actor, &order, &want).await
    })
    .await?;
    match r {
        Ok(v) => show(&v, json_out),
        Err(code) => return Ok(code),
    }
    Ok(ExitCode::SUCCESS)
}

/// `ordo receive-return …`.
pub async fn receive_cmd(
    engine: &Arc<Engine>,
    a: ReceiveArgs,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let qty = match quantity(&a.qty) {
        Ok(q) => q,
        Err(e) => return Ok(fail(e)),
    };
    let e = engine.clone();
    let r = as_os_user(engine, async |tx, actor| {
        ordo::api::returns::receive_return(&e, tx, actor, &a.rma, a.line, qty, &a.condition).await
    })
    .await?;
    match r {
        Ok(v) => show(&v, json_out),
        Err(code) => return Ok(code),
    }
    Ok(ExitCode::SUCCESS)
}
