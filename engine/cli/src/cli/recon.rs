//! `ordo recon …`: bank reconciliation against the store — import a statement for an account
//! profile, run matching now, and work the exceptions queue. Each command is one store
//! transaction over the same functions the watcher and the `bank.reconcile` step use.

use super::{fail, print_json};
use crate::ReconCommand;
use ordo::api::auth;
use ordo::api::routes::{ReconDecision, decide_exception};
use ordo::app::commit_and_publish;
use ordo::channels::bank;
use ordo::runtime::{Engine, EngineError};
use ordo_recon::{ConfirmLine, ImportOutcome};
use ordo_scenario::table::Table;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(
    engine: &Arc<Engine>,
    command: ReconCommand,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    match command {
        ReconCommand::Import { file, account } => {
            let channels = match bank::load_profiles(&engine.banks_dir, &engine.folders) {
                Ok(c) => c,
                Err(e) => return Ok(fail(e.join("\n"))),
            };
            let Some(ch) = channels.iter().find(|c| c.profile.account == account) else {
                let names: Vec<&str> = channels
                    .iter()
                    .map(|c| c.profile.account.as_str())
                    .collect();
                return Ok(fail(format!(
                    "no bank account profile '{account}' in {} (profiles: {})",
                    engine.banks_dir.display(),
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                )));
            };
            bank::sync_policy(engine).await?;
            let outcome = bank::import_path(engine, ch, &file, false).await?;
            if json_out {
                // Serializing the plain outcome struct cannot fail.
                print_json(&serde_json::to_value(&outcome).unwrap_or_default());
            }
            Ok(match outcome {
                ImportOutcome::Imported {
                    statements,
                    entries,
                    duplicate_entries,
                    ..
                } => {
                    if !json_out {
                        println!(
                            "{}: {} statement(s), {entries} new entr(ies) imported for {account}{}",
                            file.display(),
                            statements.len(),
                            if duplicate_entries > 0 {
                                format!(", {duplicate_entries} already known and skipped")
                            } else {
                                String::new()
                            }
                        );
                    }
                    ExitCode::SUCCESS
                }
                ImportOutcome::Duplicate { reason, .. } => fail(format!(
                    "{}: duplicate, nothing booked: {reason}",
                    file.display()
                )),
                ImportOutcome::Rejected { error, .. } => {
                    fail(format!("rejected, nothing booked: {error}"))
                }
            })
        }
        ReconCommand::Run => {
            bank::sync_policy(engine).await?;
            let summary = match bank::reconcile_now(engine).await? {
                Ok(s) => s,
                Err(e) => return Ok(fail(e)),
            };
            if json_out {
                print_json(&summary);
            } else {
                print_summary(&summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        ReconCommand::Exceptions { all } => {
            let mut tx = engine.store.begin().await?;
            let mut rows = Vec::new();
            for (_, d) in tx.get_documents("bank_exception", "").await? {
                if all || d["status"] == "open" {
                    rows.push(d);
                }
            }
            tx.rollback().await?;
            if json_out {
                print_json(&json!(rows));
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(&[
                "exception",
                "status",
                "entry",
                "amount",
                "payer",
                "text",
                "reason",
                "candidates",
            ]);
            for d in &rows {
                // Display only (table cells here and below): a field missing from the stored exception prints empty.
                let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
                let cands: Vec<String> = d["candidates"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| {
                        format!(
                            "{} {} ({})",
                            c["invoice"].as_str().unwrap_or_default(),
                            c["amount_open"],
                            c["score"]
                        )
                    })
                    .collect();
                t.row(vec![
                    s("id"),
                    s("status"),
                    s("entry"),
                    format!("{} {}", d["amount"], s("currency")),
                    s("counterparty_name"),
                    s("remittance"),
                    s("reason"),
                    cands.join(", "),
                ]);
            }
            print!("{}", t.render());
            println!("{} exception(s)", rows.len());
            Ok(ExitCode::SUCCESS)
        }
        ReconCommand::Match {
            exception,
            invoices,
            learn,
            note,
        } => {
            let mut lines = Vec::new();
            for spec in &invoices {
                let (inv, amount) = match spec.split_once('=') {
                    Some((i, a)) => match Decimal::from_str_exact(a.trim()) {
                        Ok(a) => (i, Some(a)),
                        Err(_) => {
                            return Ok(fail(format!(
                                "'{spec}': '{a}' is not a decimal amount (INVOICE=AMOUNT)"
                            )));
                        }
                    },
                    None => (spec.as_str(), None),
                };
                lines.push(ConfirmLine {
                    invoice: inv.trim().to_string(),
                    amount,
                });
            }
            let d = ReconDecision::Match { lines, learn, note };
            decide(engine, json_out, &exception, &d).await
        }
        ReconCommand::Reject { exception, reason } => {
            decide(
                engine,
                json_out,
                &exception,
                &ReconDecision::Reject { reason },
            )
            .await
        }
        ReconCommand::CheckIndex => {
            let diffs = match bank::check_open_items(engine).await? {
                Ok(d) => d,
                Err(e) => return Ok(fail(e)),
            };
            if json_out {
                print_json(&json!({ "differences": diffs }));
            } else if diffs.is_empty() {
                println!("open-items index: equals the invoice documents");
            } else {
                for d in &diffs {
                    println!("{d}");
                }
            }
            Ok(if diffs.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(super::FAIL)
            })
        }
        ReconCommand::Reports => {
            let mut tx = engine.store.begin().await?;
            let rows = ordo::channels::bank::reports(tx.as_mut()).await?;
            tx.rollback().await?;
            if json_out {
                print_json(&json!(rows));
                return Ok(ExitCode::SUCCESS);
            }
            print_reports(rows.iter().map(|d| &d["report"]));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Decides an exception as the OS user (`ordo::api::auth::local_actor`), through the function
/// the API calls: the same role rule, and the audit record in the same transaction.
async fn decide(
    engine: &Arc<Engine>,
    json_out: bool,
    exception: &str,
    d: &ReconDecision,
) -> Result<ExitCode, EngineError> {
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let actor = match auth::local_actor(tx.as_mut()).await {
        Ok(a) => a,
        Err(e) => {
            tx.rollback().await?;
            return Ok(fail(e));
        }
    };
    let r = decide_exception(engine, tx.as_mut(), &actor, exception, d).await;
    match r {
        Ok(ex) => {
            commit_and_publish(engine, tx).await?;
            if json_out {
                print_json(&ex);
            } else {
                // Display only (here and below): a field missing from the decided exception prints empty.
                let id = ex["id"].as_str().unwrap_or_default();
                match ex["status"].as_str() {
                    Some("matched") => {
                        let paid: Vec<String> = ex["decision"]["invoices"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|i| {
                                format!(
                                    "{} {}",
                                    i["invoice"].as_str().unwrap_or_default(),
                                    i["amount"]
                                )
                            })
                            .collect();
                        println!("{id} matched: {}", paid.join(", "));
                        if let Some(a) = ex["decision"]["learned"]["account"].as_str() {
                            println!(
                                "learned: payments from {a} are from {}",
                                ex["decision"]["learned"]["customer_id"]
                                    .as_str()
                                    .unwrap_or_default()
                            );
                        }
                    }
                    _ => println!("{id} rejected"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            tx.rollback().await?;
            Ok(fail(e.message))
        }
    }
}

fn print_summary(s: &Value) {
    if s["statements"] == json!(0) {
        println!("nothing to reconcile: no imported statement is pending");
        return;
    }
    println!(
        "{} statement(s): {} payment(s) matched ({} invoice payment(s) booked), {} exception(s)",
        s["statements"], s["matched"], s["payments"], s["exceptions"]
    );
    print_reports(s["reports"].as_array().into_iter().flatten());
}

fn print_reports<'a>(reports: impl Iterator<Item = &'a Value>) {
    let mut t = Table::new(&[
        "account",
        "statement",
        "payments",
        "matched",
        "partial",
        "exceptions",
        "credits",
        "allocated",
        "written off",
        "credit",
        "unmatched",
    ]);
    for r in reports {
        let s = |k: &str| match &r[k] {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        t.row(vec![
            s("account"),
            s("statement_id"),
            s("payments"),
            s("matched"),
            s("partially_matched"),
            s("exceptions"),
            s("credits"),
            s("allocated"),
            s("written_off"),
            s("customer_credit"),
            s("unmatched"),
        ]);
    }
    print!("{}", t.render());
}
