//! `ordo statement CUSTOMER` and `ordo report aging`: read the store in one read transaction,
//! build with `ordo::receivables` (the one aging rule), print a table, JSON, HTML or PDF.

use super::{fail, print_json};
use chrono::NaiveDate;
use ordo::receivables::{self, BUCKETS};
use ordo::runtime::{Engine, EngineError};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// `--as-of YYYY-MM-DD`, else business today.
fn as_of(engine: &Engine, text: Option<&str>) -> Result<NaiveDate, String> {
    match text {
        None => Ok(ordo::clock::ms_to_datetime(engine.clock.now_ms()).date_naive()),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map_err(|e| format!("--as-of '{t}': {e} (expected YYYY-MM-DD)")),
    }
}

fn buckets_line(
    label: &str,
    currency: &str,
    b: &[rust_decimal::Decimal; 5],
    total: rust_decimal::Decimal,
) {
    let cells: Vec<String> = b.iter().map(|v| format!("{v:>12}")).collect();
    println!("{label:<16} {currency:<4} {} {total:>12}", cells.join(" "));
}

pub async fn aging_cmd(
    engine: &Arc<Engine>,
    as_of_text: Option<&str>,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let day = match as_of(engine, as_of_text) {
        Ok(d) => d,
        Err(e) => return Ok(fail(e)),
    };
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let docs = tx.get_documents("invoice", "").await?;
    tx.rollback().await?;
    let (rows, total) =
        match receivables::aging_by_customer(docs.iter().map(|(k, v)| (k.as_str(), v)), day) {
            Ok(r) => r,
            Err(e) => return Ok(fail(e)),
        };
    if json_out {
        print_json(
            &serde_json::json!({ "as_of": day, "buckets": BUCKETS, "customers": rows, "total": total }),
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("receivables aging as of {day}");
    let head: Vec<String> = BUCKETS.iter().map(|b| format!("{b:>12}")).collect();
    println!(
        "{:<16} {:<4} {} {:>12}",
        "customer",
        "cur",
        head.join(" "),
        "total"
    );
    for r in &rows {
        buckets_line(&r.customer, &r.row.currency, &r.row.buckets, r.row.total);
    }
    for t in &total {
        buckets_line("TOTAL", &t.currency, &t.buckets, t.total);
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn statement_cmd(
    engine: &Arc<Engine>,
    cfg: &ordo::config::Config,
    customer: &str,
    html: Option<&Path>,
    pdf: Option<&Path>,
    as_of_text: Option<&str>,
    json_out: bool,
) -> Result<ExitCode, EngineError> {
    let day = match as_of(engine, as_of_text) {
        Ok(d) => d,
        Err(e) => return Ok(fail(e)),
    };
    let mut tx = engine.store.begin().await?;
    engine.refresh_clock(tx.as_mut()).await?;
    let s = receivables::statement(tx.as_mut(), customer, day).await?;
    tx.rollback().await?;
    let s = match s {
        Ok(s) => s,
        Err(e) => return Ok(fail(e)),
    };
    if html.is_some() || pdf.is_some() {
        // The seller line: the company profile's legal name (no profile: none printed).
        let seller = match ordo::company::load(&cfg.company) {
            Ok(Some(c)) => c.legal_name,
            Ok(None) => String::new(),
            Err(e) => return Ok(fail(e.join("\n"))),
        };
        let page = receivables::statement_html(&s, &seller);
        if let Some(p) = html {
            if let Err(e) = std::fs::write(p, &page) {
                return Ok(fail(format!("{}: {e}", p.display())));
            }
            println!("statement of {customer} written to {}", p.display());
        }
        if let Some(p) = pdf {
            if let Err(e) = receivables::html_to_pdf(&page, p) {
                return Ok(fail(e));
            }
            println!("statement of {customer} written to {}", p.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if json_out {
        print_json(&serde_json::to_value(&s).unwrap_or_default());
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "statement of account: {} ({customer}) as of {day}, {}",
        s.name, s.currency
    );
    for i in &s.open_items {
        println!(
            "  open  {:<12} issued {} due {} total {:>12} open {:>12} ({} days past due)",
            i.number, i.issue_date, i.due_date, i.total, i.open_amount, i.days_past_due
        );
    }
    for m in &s.moves {
        println!(
            "  {:<11} {:<12} {} on {} {:>12}",
            m.kind, m.id, m.invoice, m.date, m.amount
        );
    }
    println!(
        "  open items {}  credit {}  balance {}",
        s.open_total, s.credit, s.balance
    );
    for r in &s.aging {
        buckets_line("  aging", &r.currency, &r.buckets, r.total);
    }
    Ok(ExitCode::SUCCESS)
}
