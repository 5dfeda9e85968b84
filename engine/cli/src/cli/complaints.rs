//! Complaint commands: `ordo complaint open|show|decide`. Each parses, then calls the one
//! library function the API calls too (`ordo::api::complaints`: role check, effect, workflow,
//! audit record in one transaction) as the OS user, and prints.

use super::credit::{as_os_user, credit_lines};
use super::{fail, print_json};
use clap::Subcommand;
use ordo::api::complaints::DecisionRequest;
use ordo::runtime::{Engine, EngineError};
use ordo_sales::complaints::Against;
use serde_json::Value;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum ComplaintCommand {
    /// Open a complaint against --order or --invoice (workflows/complaints.yaml follows it).
    Open {
        #[arg(long)]
        order: Option<String>,
        #[arg(long)]
        invoice: Option<String>,
        /// damaged, wrong_item, missing, quality, late_delivery, billing or other.
        #[arg(long)]
        category: String,
        #[arg(long)]
        description: String,
    },
    /// Show a complaint: its case, status and decision.
    Show { number: String },
    /// Decide a complaint: --outcome return (--line N --qty Q of its order), credit (a credit
    /// note on its invoice or --invoice; --line/--qty pairs, none: everything) or close.
    Decide {
        number: String,
        #[arg(long)]
        outcome: String,
        #[arg(long)]
        note: String,
        #[arg(long = "line")]
        lines: Vec<u32>,
        #[arg(long = "qty", allow_hyphen_values = true)]
        qtys: Vec<String>,
        #[arg(long)]
        invoice: Option<String>,
    },
}

fn show(c: &Value, json_out: bool) {
    if json_out {
        print_json(c);
        return;
    }
    // Display only: a field missing from the stored complaint prints empty.
    let s = |v: &Value| v.to_string().trim_matches('"').to_string();
    println!(
        "{} {} order {} invoice {}: {} ({})",
        s(&c["number"]),
        s(&c["customer"]),
        s(&c["order_id"]),
        s(&c["invoice"]),
        s(&c["status"]),
        s(&c["category"])
    );
    if !c["decision"].is_null() {
        let d = &c["decision"];
        println!(
            "  decided {} by {} on {}: {} (return {}, credit note {})",
            s(&d["outcome"]),
            s(&d["by"]),
            s(&d["on"]),
            s(&d["note"]),
            s(&d["rma"]),
            s(&d["credit_note"])
        );
    }
}

/// `ordo complaint …`.
pub async fn complaint_cmd(
    engine: &Arc<Engine>,
    cmd: ComplaintCommand,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let e = engine.clone();
    let r = match cmd {
        ComplaintCommand::Open {
            order,
            invoice,
            category,
            description,
        } => {
            let against = match (&order, &invoice) {
                (Some(o), None) => Against::Order(o),
                (None, Some(i)) => Against::Invoice(i),
                _ => return Ok(fail("give exactly one of --order and --invoice")),
            };
            as_os_user(engine, async |tx, actor| {
                ordo::api::complaints::open_complaint(
                    &e,
                    tx,
                    actor,
                    against,
                    &category,
                    &description,
                )
                .await
            })
            .await?
        }
        ComplaintCommand::Show { number } => {
            let mut tx = engine.store.begin().await?;
            let c = ordo::api::complaints::show_complaint(tx.as_mut(), &number).await;
            tx.rollback().await?;
            c.map_err(|e| fail(e.message))
        }
        ComplaintCommand::Decide {
            number,
            outcome,
            note,
            lines,
            qtys,
            invoice,
        } => {
            let lines = match credit_lines(&lines, &qtys) {
                Ok(l) => l,
                Err(e) => return Ok(fail(e)),
            };
            let mut req = DecisionRequest {
                outcome,
                note,
                line_no: None,
                quantity: None,
                invoice,
                lines: None,
            };
            if req.outcome == "return" {
                match lines.as_deref() {
                    Some([one]) => {
                        (req.line_no, req.quantity) = (Some(one.line_no), Some(one.quantity))
                    }
                    _ => return Ok(fail("a return takes one --line with its --qty")),
                }
            } else {
                req.lines = lines;
            }
            as_os_user(engine, async |tx, actor| {
                ordo::api::complaints::decide_complaint(&e, tx, actor, &number, &req).await
            })
            .await?
        }
    };
    match r {
        Ok(v) => show(&v, json_out),
        Err(code) => return Ok(code),
    }
    Ok(ExitCode::SUCCESS)
}
