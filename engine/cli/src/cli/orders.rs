//! Order change and quotation commands: `ordo order change|cancel ORDER` and `ordo quote
//! request|accept|show`. Each parses, then calls the one library function the API calls too
//! (`ordo::api::orders`, `ordo::api::quotes`: role check, effect, audit record in one
//! transaction) as the OS user, and prints.

use super::credit::as_os_user;
use super::{fail, print_json};
use clap::Subcommand;
use ordo::runtime::{Engine, EngineError};
use ordo_sales::change::{LineChange, OrderChange};
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// The largest change or quote request file read.
const MAX_FILE: u64 = 1 << 20;

#[derive(Subcommand)]
pub enum OrderCommand {
    /// Change an order until the affected lines ship: pricing, approval and allocation run
    /// again on the next version (kept in its history, `ordo status ORDER`).
    Change {
        order: String,
        /// A line's new quantity (repeat).
        #[arg(long = "qty", value_name = "LINE=QTY", allow_hyphen_values = true)]
        qty: Vec<String>,
        /// A new line (repeat).
        #[arg(long = "add", value_name = "LINE:SKU=QTY", allow_hyphen_values = true)]
        add: Vec<String>,
        /// Take a line off the order (repeat).
        #[arg(long = "remove", value_name = "LINE")]
        remove: Vec<u32>,
        /// A new requested delivery date, YYYY-MM-DD.
        #[arg(long)]
        date: Option<String>,
        /// The whole change as JSON (lines, requested_date, ship_to, reason) instead.
        #[arg(long, conflicts_with_all = ["qty", "add", "remove", "date"])]
        file: Option<PathBuf>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Cancel an order none of whose lines has shipped (held and rejected orders too).
    Cancel {
        order: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
pub enum QuoteCommand {
    /// Ask for a quotation: a JSON file { customer_id, currency, lines: [{line_no, sku,
    /// quantity}], notes } (workflows/quotation.yaml prices, approves and sends it).
    Request { file: PathBuf },
    /// Accept a sent quote before its validity ends: the order is taken at the quoted prices.
    Accept {
        quote: String,
        /// The customer's purchase order number (default: the quote number).
        #[arg(long)]
        po: Option<String>,
    },
    /// The stored quote.
    Show { quote: String },
}

fn decimal(flag: &str, text: &str, v: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(v.trim())
        .map_err(|_| format!("{flag} '{text}': '{v}' is not a decimal number"))
}

fn line_no(flag: &str, text: &str, v: &str) -> Result<u32, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{flag} '{text}': '{v}' is not a line number"))
}

/// The change the flags describe (`--qty 2=5 --add 3:BOLT-M8=10 --remove 1 --date D`).
fn change_of(
    qty: &[String],
    add: &[String],
    remove: &[u32],
    date: Option<&str>,
    reason: Option<String>,
) -> Result<OrderChange, String> {
    let mut lines = Vec::new();
    for q in qty {
        let (l, v) = q
            .split_once('=')
            .ok_or_else(|| format!("--qty '{q}': expected LINE=QTY"))?;
        lines.push(LineChange {
            line_no: line_no("--qty", q, l)?,
            quantity: Some(decimal("--qty", q, v)?),
            ..Default::default()
        });
    }
    for a in add {
        let (l, rest) = a
            .split_once(':')
            .ok_or_else(|| format!("--add '{a}': expected LINE:SKU=QTY"))?;
        let (sku, v) = rest
            .split_once('=')
            .ok_or_else(|| format!("--add '{a}': expected LINE:SKU=QTY"))?;
        lines.push(LineChange {
            line_no: line_no("--add", a, l)?,
            quantity: Some(decimal("--add", a, v)?),
            sku: Some(sku.trim().to_string()),
            remove: false,
        });
    }
    for r in remove {
        lines.push(LineChange {
            line_no: *r,
            remove: true,
            ..Default::default()
        });
    }
    let requested_date = date
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .map_err(|_| format!("--date '{d}': expected YYYY-MM-DD"))
        })
        .transpose()?;
    Ok(OrderChange {
        lines,
        requested_date,
        ship_to: None,
        reason,
    })
}

/// A JSON file read bounded, into `T`; errors name the file and the line:column or field.
fn read_json<T: serde::de::DeserializeOwned>(path: &PathBuf) -> Result<T, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    if meta.len() > MAX_FILE {
        return Err(format!(
            "{shown}: {} bytes, more than {MAX_FILE}",
            meta.len()
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| format!("{shown}:{}:{}: {e}", e.line(), e.column()))?;
    serde_path_to_error::deserialize(&v)
        .map_err(|e| format!("{shown}: at {}: {}", e.path(), e.inner()))
}

fn show(v: &Value, json_out: bool, text: impl FnOnce(&Value) -> String) {
    if json_out {
        print_json(v);
    } else {
        println!("{}", text(v));
    }
}

// Display only: a field missing from the answer prints empty.
fn s(v: &Value, k: &str) -> String {
    v[k].to_string().trim_matches('"').to_string()
}

/// `ordo order …`.
pub async fn order_cmd(
    engine: &Arc<Engine>,
    cmd: OrderCommand,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let e = engine.clone();
    let r = match cmd {
        OrderCommand::Change {
            order,
            qty,
            add,
            remove,
            date,
            file,
            reason,
        } => {
            let change = match file {
                Some(f) => read_json::<OrderChange>(&f).map(|mut c| {
                    c.reason = reason.or(c.reason);
                    c
                }),
                None => change_of(&qty, &add, &remove, date.as_deref(), reason),
            };
            let change = match change {
                Ok(c) => c,
                Err(m) => return Ok(fail(m)),
            };
            as_os_user(engine, async |tx, actor| {
                ordo::api::orders::change_order(&e, tx, actor, &order, &change).await
            })
            .await?
        }
        OrderCommand::Cancel { order, reason } => {
            as_os_user(engine, async |tx, actor| {
                ordo::api::orders::cancel_order(&e, tx, actor, &order, &reason).await
            })
            .await?
        }
    };
    match r {
        Ok(v) => show(&v, json_out, |v| match v.get("version") {
            Some(n) => format!("{} version {n}: {}", s(v, "order"), v["changes"]),
            None => format!("{} {}", s(v, "order"), s(v, "status")),
        }),
        Err(code) => return Ok(code),
    }
    Ok(ExitCode::SUCCESS)
}

/// `ordo quote …`.
pub async fn quote_cmd(
    engine: &Arc<Engine>,
    cmd: QuoteCommand,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let e = engine.clone();
    let r = match cmd {
        QuoteCommand::Request { file } => {
            let req: ordo::api::quotes::QuoteRequest = match read_json(&file) {
                Ok(r) => r,
                Err(m) => return Ok(fail(m)),
            };
            as_os_user(engine, async |tx, actor| {
                ordo::api::quotes::request_quote(&e, tx, actor, &req).await
            })
            .await?
        }
        QuoteCommand::Accept { quote, po } => {
            as_os_user(engine, async |tx, actor| {
                ordo::api::quotes::accept_quote(&e, tx, actor, &quote, po.as_deref()).await
            })
            .await?
        }
        QuoteCommand::Show { quote } => {
            let mut tx = engine.store.begin().await?;
            let doc = tx.get_document(ordo_sales::quote::KIND, &quote).await?;
            tx.rollback().await?;
            match doc {
                Some(d) => Ok(d),
                None => {
                    return Ok(fail(format!(
                        "no quote '{}'",
                        ordo_contract::excerpt(&quote, 100)
                    )));
                }
            }
        }
    };
    match r {
        Ok(v) => show(&v, json_out, |v| {
            format!(
                "{} {} {}: {} total {} valid until {} order {}",
                s(v, "number"),
                s(v, "customer_id"),
                s(v, "currency"),
                s(v, "status"),
                s(v, "total"),
                s(v, "valid_until"),
                s(v, "order_id")
            )
        }),
        Err(code) => return Ok(code),
    }
    Ok(ExitCode::SUCCESS)
}
