//! `ordo ledger …`: the double-entry ledger (`ordo::ledger`): trial balance, entries, the
//! receivables check, period close and exports. The logic is the library's; this file parses
//! and prints.

use super::{fail, print_json};
use clap::Subcommand;
use ordo::api::auth;
use ordo::ledger::report::{self, ExportFormat};
use ordo::runtime::{Engine, EngineError};
use ordo::store::journal::EntryFilter;
use ordo_scenario::table::{Table, cell};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Debit, credit and balance per account (of one period, or all); exits 1 unless balanced.
    TrialBalance {
        /// YYYY-MM
        #[arg(long)]
        period: Option<String>,
    },
    /// Journal entries with their lines, by account, order or invoice.
    Entries {
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        order: Option<String>,
        #[arg(long)]
        invoice: Option<String>,
        /// YYYY-MM
        #[arg(long)]
        period: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: i64,
    },
    /// Receivables = open invoices and customer credit = customers' credit, to the cent; every
    /// period gapless, balances equal to their lines. Exits 1 on any difference.
    Check,
    /// Close a period (YYYY-MM): it takes no more entries; late events post into the next
    /// open one and say so.
    Close { period: String },
    /// A period's journal as csv, json or datev (DATEV-Format Buchungsstapel, EXTF 700).
    Export {
        #[arg(long)]
        period: String,
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub async fn run(
    engine: &Arc<Engine>,
    command: LedgerCommand,
    json: bool,
) -> Result<ExitCode, EngineError> {
    match command {
        LedgerCommand::TrialBalance { period } => {
            let tb = report::trial_balance(engine, period.as_deref()).await?;
            if json {
                print_json(&serde_json::to_value(&tb).unwrap_or_default());
            } else {
                let mut t =
                    Table::new(&["account", "name", "currency", "debit", "credit", "balance"]);
                for r in &tb.rows {
                    t.row(vec![
                        r.account.clone(),
                        cell(&r.name, 40),
                        r.currency.clone(),
                        r.debit.to_string(),
                        r.credit.to_string(),
                        r.balance.to_string(),
                    ]);
                }
                print!("{}", t.render());
                println!(
                    "{}: {}",
                    tb.period.as_deref().unwrap_or("all periods"),
                    tb.verdict()
                );
            }
            Ok(if tb.balanced {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        LedgerCommand::Entries {
            account,
            order,
            invoice,
            period,
            limit,
        } => {
            let filter = EntryFilter {
                account,
                order_id: order,
                invoice,
                period,
                limit: Some(limit.clamp(1, 100_000)),
            };
            let entries = report::entries(engine, &filter).await?;
            if json {
                print_json(&serde_json::to_value(&entries).unwrap_or_default());
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(&[
                "entry", "date", "event", "source", "account", "debit", "credit", "note",
            ]);
            for l in report::export_lines(&entries) {
                t.row(vec![
                    format!("{}/{:06}", l.period, l.number),
                    l.date.to_string(),
                    l.event.to_string(),
                    cell(l.source, 30),
                    l.account.to_string(),
                    if l.debit.is_zero() {
                        String::new()
                    } else {
                        l.debit.to_string()
                    },
                    if l.credit.is_zero() {
                        String::new()
                    } else {
                        l.credit.to_string()
                    },
                    cell(l.note.unwrap_or(""), 60),
                ]);
            }
            print!("{}", t.render());
            println!("{} entr(ies)", entries.len());
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Check => {
            let c = report::check(engine).await?;
            if json {
                print_json(&serde_json::to_value(&c).unwrap_or_default());
            } else {
                println!(
                    "receivables {} = open invoices {}",
                    c.receivables, c.open_items
                );
                println!(
                    "customer credit account {} = customers' credit {}",
                    c.credit_ledger, c.customer_credit
                );
                println!("{} entries, numbered without gaps per period", c.entries);
                for p in &c.problems {
                    println!("PROBLEM: {p}");
                }
                println!(
                    "{}",
                    if c.ok() {
                        "ledger check: ok"
                    } else {
                        "ledger check: FAILED"
                    }
                );
            }
            Ok(if c.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        LedgerCommand::Close { period } => {
            let by = format!("os:{}", auth::os_user());
            if report::close(engine, &period, &by).await? {
                println!("period {period} closed");
            } else {
                println!("period {period} was closed already");
            }
            Ok(ExitCode::SUCCESS)
        }
        LedgerCommand::Export {
            period,
            format,
            out,
        } => {
            let format: ExportFormat = match format.parse() {
                Ok(f) => f,
                Err(e) => return Ok(fail(e)),
            };
            let bytes = report::export(engine, &period, format).await?;
            match out {
                Some(path) => {
                    if let Err(e) = std::fs::write(&path, &bytes) {
                        return Ok(fail(format!("{}: {e}", path.display())));
                    }
                    println!("{}: {} bytes", path.display(), bytes.len());
                }
                None => {
                    use std::io::Write;
                    if let Err(e) = std::io::stdout().write_all(&bytes) {
                        return Ok(fail(format!("stdout: {e}")));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
