//! Finance commands: `ordo credit-note` and `ordo customer-credit apply|refund`. Each parses,
//! then calls the one library function the API calls too (`ordo::api::finance`: role check,
//! effect, audit record in one transaction) as the OS user, and prints.

use super::{fail, print_json};
use clap::Subcommand;
use ordo::api::auth::Actor;
use ordo::api::error::ApiResult;
use ordo::runtime::{Engine, EngineError};
use ordo::store::Tx;
use rust_decimal::Decimal;
use serde_json::Value;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum CustomerCreditCommand {
    /// Apply CUSTOMER's credit to --invoice, or to the open invoices oldest first.
    Apply {
        customer: String,
        #[arg(long)]
        invoice: Option<String>,
    },
    /// Refund AMOUNT of CUSTOMER's credit to --iban (one of the customer's bank accounts;
    /// default the first): a pain.001.001.03 file in data/outbound/payments/.
    Refund {
        customer: String,
        amount: String,
        #[arg(long)]
        iban: Option<String>,
    },
}

/// Runs `f` as the OS user in one transaction: committed (and published) when it succeeds,
/// rolled back whole when it is refused. `Err(ExitCode)`: refused, the reason printed.
pub(super) async fn as_os_user<F>(
    engine: &Arc<Engine>,
    f: F,
) -> Result<Result<Value, ExitCode>, EngineError>
where
    F: AsyncFnOnce(&mut dyn Tx, &Actor) -> ApiResult<Value>,
{
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let actor = match ordo::api::auth::local_actor(tx.as_mut()).await {
        Ok(a) => a,
        Err(e) => {
            tx.rollback().await?;
            return Ok(Err(fail(e)));
        }
    };
    match f(tx.as_mut(), &actor).await {
        Ok(v) => {
            ordo::app::commit_and_publish(engine, tx).await?;
            Ok(Ok(v))
        }
        Err(e) => {
            tx.rollback().await?;
            Ok(Err(fail(e.message)))
        }
    }
}

/// `--line N --qty Q` pairs, in order (none: the whole invoice).
pub fn credit_lines(
    lines: &[u32],
    qtys: &[String],
) -> Result<Option<Vec<ordo_sales::CreditLine>>, String> {
    if lines.len() != qtys.len() {
        return Err(format!(
            "{} --line but {} --qty: give each --line its --qty",
            lines.len(),
            qtys.len()
        ));
    }
    if lines.is_empty() {
        return Ok(None);
    }
    lines
        .iter()
        .zip(qtys)
        .map(|(&line_no, q)| {
            let quantity = Decimal::from_str_exact(q.trim())
                .map_err(|_| format!("--qty '{q}' (line {line_no}) is not a decimal number"))?;
            Ok(ordo_sales::CreditLine { line_no, quantity })
        })
        .collect::<Result<Vec<_>, String>>()
        .map(Some)
}

/// `ordo credit-note`: as the OS user, through the function the API calls (role, audit).
pub async fn credit_note_cmd(
    engine: &Arc<Engine>,
    invoice: &str,
    lines: &[u32],
    qtys: &[String],
    reason: &str,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let lines = match credit_lines(lines, qtys) {
        Ok(l) => l,
        Err(e) => return Ok(fail(e)),
    };
    let e = engine.clone();
    let r = as_os_user(engine, async |tx, actor| {
        ordo::api::finance::issue_credit_note(&e, tx, actor, invoice, lines.as_deref(), reason)
            .await
    })
    .await?;
    let cn = match r {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    if json_out {
        print_json(&cn);
    } else {
        // Display only: a field missing from the stored credit note prints empty.
        let s = |k: &str| cn[k].to_string().trim_matches('"').to_string();
        println!(
            "credit note {} for invoice {invoice}: {} {} ({} off the open amount, {} customer credit)",
            s("number"),
            s("total"),
            s("currency"),
            s("applied"),
            s("credit")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `ordo customer-credit apply|refund`.
pub async fn customer_credit_cmd(
    engine: &Arc<Engine>,
    command: CustomerCreditCommand,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let e = engine.clone();
    let r = match &command {
        CustomerCreditCommand::Apply { customer, invoice } => {
            as_os_user(engine, async |tx, actor| {
                ordo::api::finance::apply_customer_credit(
                    &e,
                    tx,
                    actor,
                    customer,
                    invoice.as_deref(),
                )
                .await
            })
            .await?
        }
        CustomerCreditCommand::Refund {
            customer,
            amount,
            iban,
        } => {
            let Ok(amount) = Decimal::from_str_exact(amount.trim()) else {
                return Ok(fail(format!("amount '{amount}' is not a decimal number")));
            };
            as_os_user(engine, async |tx, actor| {
                ordo::api::finance::refund_customer_credit(
                    &e,
                    tx,
                    actor,
                    customer,
                    amount,
                    iban.as_deref(),
                )
                .await
            })
            .await?
        }
    };
    let v = match r {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    if json_out {
        print_json(&v);
        return Ok(ExitCode::SUCCESS);
    }
    // Display only: a field missing from the answer prints empty.
    let s = |v: &Value| v.to_string().trim_matches('"').to_string();
    match command {
        CustomerCreditCommand::Apply { customer, .. } => {
            for a in v["applied"].as_array().into_iter().flatten() {
                println!(
                    "{} of customer {customer}'s credit applied to {}",
                    s(&a["amount"]),
                    s(&a["invoice"])
                );
            }
            println!("credit left: {}", s(&v["credit_left"]));
        }
        CustomerCreditCommand::Refund { customer, .. } => println!(
            "refund {} of {} {} to customer {customer} ({}); credit left {}",
            s(&v["number"]),
            s(&v["amount"]),
            s(&v["currency"]),
            s(&v["file"]),
            s(&v["credit_left"])
        ),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_lines_pair_each_line_with_its_quantity() {
        let l = credit_lines(&[2, 1], &["1.5".into(), "3".into()])
            .unwrap()
            .unwrap();
        assert_eq!(
            (l[0].line_no, l[0].quantity.to_string()),
            (2, "1.5".to_string())
        );
        assert_eq!(credit_lines(&[], &[]).unwrap(), None);
        assert!(
            credit_lines(&[1], &[])
                .unwrap_err()
                .contains("1 --line but 0 --qty")
        );
        assert!(
            credit_lines(&[1], &["x".into()])
                .unwrap_err()
                .contains("not a decimal")
        );
    }
}
