//! Receivables aging: the open amounts of the stored invoices, per currency, by how long they
//! are past due (not yet due, 1-30, 31-60, 61-90, over 90 days). Each invoice is read as the
//! typed view reconciliation reads (`InvoiceCollection`), so a stored invoice missing its open
//! amount or due date is an error naming it, never a zero. Sums are checked.
//!
//! The same bucketing ([`aging`]) serves the console's Finance page, `ordo report aging`
//! (per customer and total: [`aging_by_customer`]) and the statement of account
//! (`ordo statement`: [`statement`], printed by [`statement_html`]). "As of" a date: the
//! invoices issued by then, aged on that date, with their open amounts as they stand.

use chrono::NaiveDate;
use ordo_contract::{InvoiceCollection, read_doc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;

/// The bucket labels, in order.
pub const BUCKETS: [&str; 5] = ["not due", "1-30", "31-60", "61-90", "over 90"];

/// One currency's aging.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgingRow {
    pub currency: String,
    /// Open amounts per bucket of [`BUCKETS`].
    pub buckets: [Decimal; 5],
    pub total: Decimal,
    /// Open invoices counted.
    pub invoices: usize,
}

fn bucket(days_past_due: i64) -> usize {
    match days_past_due {
        i64::MIN..=0 => 0,
        1..=30 => 1,
        31..=60 => 2,
        61..=90 => 3,
        _ => 4,
    }
}

/// What the aging counts of one invoice: (currency, due date, open amount), or `None` when it
/// is paid or cancelled or nothing is open. The one derivation behind [`aging`] and the store's
/// aging index (`aging_items`, store/openitems.rs).
pub fn aging_entry(inv: &InvoiceCollection) -> Option<(&str, NaiveDate, Decimal)> {
    if inv.is_closed() || inv.open_amount.is_zero() {
        return None;
    }
    Some((inv.currency.as_str(), inv.due_date, inv.open_amount))
}

/// Buckets open amounts already summed per (currency, due date) — with how many invoices each
/// sum holds — on `today`; rows ordered by currency. `at` names each sum in an overflow error.
pub fn aging_of<'a>(
    sums: impl IntoIterator<Item = (&'a str, NaiveDate, Decimal, usize)>,
    today: NaiveDate,
) -> Result<Vec<AgingRow>, String> {
    let mut rows: Vec<AgingRow> = Vec::new();
    for (currency, due, open, invoices) in sums {
        let i = match rows.iter().position(|r| r.currency == currency) {
            Some(i) => i,
            None => {
                rows.push(AgingRow {
                    currency: currency.to_string(),
                    buckets: [Decimal::ZERO; 5],
                    total: Decimal::ZERO,
                    invoices: 0,
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[i];
        let b = bucket((today - due).num_days());
        let overflow = || format!("{currency} due {due}: the aging sum overflows");
        row.buckets[b] = row.buckets[b].checked_add(open).ok_or_else(overflow)?;
        row.total = row.total.checked_add(open).ok_or_else(overflow)?;
        row.invoices += invoices;
    }
    rows.sort_by(|a, b| a.currency.cmp(&b.currency));
    Ok(rows)
}

/// Ages `invoices` (key, stored document) on `today`; paid and cancelled ones are left out.
/// Rows are ordered by currency.
pub fn aging<'a>(
    invoices: impl IntoIterator<Item = (&'a str, &'a Value)>,
    today: NaiveDate,
) -> Result<Vec<AgingRow>, String> {
    let mut read = Vec::new();
    for (key, doc) in invoices {
        read.push(read_doc::<InvoiceCollection>("invoice", key, doc)?);
    }
    aging_of(
        read.iter()
            .filter_map(aging_entry)
            .map(|(c, d, o)| (c, d, o, 1)),
        today,
    )
}

/// The aging of every invoice in the store on `today`, from the store's aging index
/// (`aging_items`: summed in SQL per currency and due date, so its cost is the due dates, not
/// the invoices). An invoice the index could not read fails it naming the invoice.
pub async fn aging_in(
    tx: &mut dyn crate::store::Tx,
    today: NaiveDate,
) -> Result<Result<Vec<AgingRow>, String>, crate::store::StoreError> {
    let sums = match tx.aging_sums().await? {
        Ok(s) => s,
        Err(e) => return Ok(Err(e)),
    };
    Ok(aging_of(
        sums.iter().map(|(c, d, o, n)| (c.as_str(), *d, *o, *n)),
        today,
    ))
}

/// One customer's aging (`ordo report aging`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerAging {
    pub customer: String,
    #[serde(flatten)]
    pub row: AgingRow,
}

/// The invoices of `docs` issued on or before `as_of` (a missing or bad issue date is an error
/// naming the invoice).
fn issued_by<'a>(
    docs: impl IntoIterator<Item = (&'a str, &'a Value)>,
    as_of: NaiveDate,
) -> Result<Vec<(&'a str, &'a Value, InvoiceCollection)>, String> {
    let mut out = Vec::new();
    for (key, doc) in docs {
        let inv: InvoiceCollection = read_doc("invoice", key, doc)?;
        if inv.issue_date <= as_of {
            out.push((key, doc, inv));
        }
    }
    Ok(out)
}

/// Aging per customer (ordered by customer, then currency) and the total per currency, of the
/// invoices issued by `as_of`, aged on `as_of`.
pub fn aging_by_customer<'a>(
    docs: impl IntoIterator<Item = (&'a str, &'a Value)>,
    as_of: NaiveDate,
) -> Result<(Vec<CustomerAging>, Vec<AgingRow>), String> {
    let issued = issued_by(docs, as_of)?;
    let mut per: std::collections::BTreeMap<&str, Vec<(&str, &Value)>> = Default::default();
    for (key, doc, inv) in &issued {
        per.entry(inv.customer_id.as_str())
            .or_default()
            .push((key, doc));
    }
    let mut rows = Vec::new();
    for (customer, docs) in per {
        for row in aging(docs, as_of)? {
            rows.push(CustomerAging {
                customer: customer.to_string(),
                row,
            });
        }
    }
    let total = aging(issued.iter().map(|(k, d, _)| (*k, *d)), as_of)?;
    Ok((rows, total))
}

/// An open invoice on a statement of account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementItem {
    pub number: String,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub total: Decimal,
    pub open_amount: Decimal,
    pub days_past_due: i64,
}

/// A payment or credit note on a statement of account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementMove {
    pub kind: &'static str,
    pub id: String,
    pub invoice: String,
    pub date: NaiveDate,
    pub amount: Decimal,
}

/// A customer's statement of account on `as_of`: open items, payments and credits received,
/// the customer's credit, the balance (open items less credit) and the aging.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    pub customer: String,
    pub name: String,
    pub as_of: NaiveDate,
    pub currency: String,
    pub open_items: Vec<StatementItem>,
    pub moves: Vec<StatementMove>,
    pub open_total: Decimal,
    pub credit: Decimal,
    pub balance: Decimal,
    pub aging: Vec<AgingRow>,
}

#[derive(serde::Deserialize)]
struct CreditNoteView {
    number: String,
    corrects: String,
    issue_date: NaiveDate,
    total: Decimal,
}

/// The statement of `customer` from the stored invoices and credit notes and its credit.
pub async fn statement(
    tx: &mut dyn crate::store::Tx,
    customer: &str,
    as_of: NaiveDate,
) -> Result<Result<Statement, String>, crate::store::StoreError> {
    let Some(c) = tx.get_document("customer", customer).await? else {
        return Ok(Err(format!(
            "no customer '{}'",
            ordo_contract::excerpt(customer, 40)
        )));
    };
    let docs = tx.get_documents("invoice", "").await?;
    let notes = tx.get_documents("credit_note", "").await?;
    let credit = tx
        .stock_level(
            &ordo_sales::master::credit_key(customer),
            ordo_sales::master::LEDGER,
        )
        .await?;
    Ok(build_statement(customer, &c, &docs, &notes, credit, as_of))
}

fn build_statement(
    customer: &str,
    c: &Value,
    docs: &[(String, Value)],
    notes: &[(String, Value)],
    credit: Decimal,
    as_of: NaiveDate,
) -> Result<Statement, String> {
    #[derive(serde::Deserialize)]
    struct Cust {
        name: String,
        currency: String,
    }
    let c: Cust = read_doc("customer", customer, c)?;
    let mine: Vec<(&str, &Value)> = docs
        .iter()
        .filter(|(_, d)| d["customer_id"] == customer)
        .map(|(k, d)| (k.as_str(), d))
        .collect();
    let issued = issued_by(mine.iter().copied(), as_of)?;
    let mut open_items = Vec::new();
    let mut moves = Vec::new();
    let mut open_total = Decimal::ZERO;
    let overflow = || format!("customer {customer}: the statement's sums overflow");
    for (key, _, inv) in &issued {
        for p in &inv.payments {
            if p.received_on <= as_of {
                moves.push(StatementMove {
                    kind: "payment",
                    id: p.id.clone(),
                    invoice: key.to_string(),
                    date: p.received_on,
                    amount: p.amount,
                });
            }
        }
        if inv.is_closed() || inv.open_amount.is_zero() {
            continue;
        }
        open_total = open_total
            .checked_add(inv.open_amount)
            .ok_or_else(overflow)?;
        open_items.push(StatementItem {
            number: key.to_string(),
            issue_date: inv.issue_date,
            due_date: inv.due_date,
            total: inv.total,
            open_amount: inv.open_amount,
            days_past_due: (as_of - inv.due_date).num_days().max(0),
        });
    }
    for (key, d) in notes.iter().filter(|(_, d)| d["customer_id"] == customer) {
        let n: CreditNoteView = read_doc("credit_note", key, d)?;
        if n.issue_date <= as_of {
            moves.push(StatementMove {
                kind: "credit_note",
                id: n.number,
                invoice: n.corrects,
                date: n.issue_date,
                amount: n.total,
            });
        }
    }
    open_items.sort_by(|a, b| (a.issue_date, &a.number).cmp(&(b.issue_date, &b.number)));
    moves.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    let aging = aging(issued.iter().map(|(k, d, _)| (*k, *d)), as_of)?;
    Ok(Statement {
        customer: customer.to_string(),
        name: c.name,
        as_of,
        currency: c.currency,
        open_items,
        moves,
        open_total,
        credit,
        balance: open_total.checked_sub(credit).ok_or_else(overflow)?,
        aging,
    })
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The statement as one self-contained printable HTML page (A4, no scripts, no external
/// assets): the one template of the HTML and the PDF (`ordo statement --pdf` prints this
/// page with a headless Chromium).
pub fn statement_html(s: &Statement, seller: &str) -> String {
    let mut rows = String::new();
    for i in &s.open_items {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            esc(&i.number), i.issue_date, i.due_date, i.total, i.open_amount, i.days_past_due
        ));
    }
    let mut moves = String::new();
    for m in &s.moves {
        moves.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=n>{}</td></tr>",
            m.date,
            if m.kind == "payment" {
                "Payment"
            } else {
                "Credit note"
            },
            esc(&m.id),
            esc(&m.invoice),
            m.amount
        ));
    }
    let mut aging = String::new();
    for r in &s.aging {
        aging.push_str(&format!("<tr><td>{}</td>", esc(&r.currency)));
        for b in r.buckets {
            aging.push_str(&format!("<td class=n>{b}</td>"));
        }
        aging.push_str(&format!("<td class=n>{}</td></tr>", r.total));
    }
    let head: String = BUCKETS.iter().map(|b| format!("<th>{b}</th>")).collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=utf-8><title>Statement of account {cust}</title>\
<style>@page{{size:A4;margin:18mm}}body{{font:11pt sans-serif}}table{{border-collapse:collapse;width:100%;margin:8px 0 16px}}\
th,td{{border-bottom:1px solid #ccc;padding:3px 6px;text-align:left}}.n{{text-align:right}}</style></head><body>\
<p>{seller}</p><h1>Statement of account</h1><p><b>{name}</b> ({cust})<br>as of {as_of}, amounts in {cur}</p>\
<h2>Open items</h2><table><tr><th>Invoice</th><th>Issued</th><th>Due</th><th class=n>Total</th><th class=n>Open</th><th class=n>Days past due</th></tr>{rows}</table>\
<h2>Payments and credit notes</h2><table><tr><th>Date</th><th>Kind</th><th>Document</th><th>Invoice</th><th class=n>Amount</th></tr>{moves}</table>\
<table><tr><td>Open items</td><td class=n>{open}</td></tr><tr><td>Your credit with us</td><td class=n>{credit}</td></tr>\
<tr><th>Balance</th><th class=n>{balance}</th></tr></table>\
<h2>Aging</h2><table><tr><th>Currency</th>{head}<th>Total</th></tr>{aging}</table></body></html>\n",
        cust = esc(&s.customer),
        seller = esc(seller),
        name = esc(&s.name),
        as_of = s.as_of,
        cur = esc(&s.currency),
        open = s.open_total,
        credit = s.credit,
        balance = s.balance,
    )
}

/// Prints `html` to a PDF file with a headless Chromium (`ORDO_CHROMIUM`, else `chromium`
/// on the PATH): the one HTML template makes both. A missing browser is a clear error.
pub fn html_to_pdf(html: &str, out: &std::path::Path) -> Result<(), String> {
    let browser = std::env::var("ORDO_CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let dir = tempfile_dir()?;
    let page = dir.join("page.html");
    std::fs::write(&page, html).map_err(|e| format!("{}: {e}", page.display()))?;
    let out_abs = if out.is_absolute() {
        out.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| e.to_string())?
            .join(out)
    };
    let r = std::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            &format!("--user-data-dir={}", dir.join("profile").display()),
            &format!("--print-to-pdf={}", out_abs.display()),
        ])
        .arg(format!("file://{}", page.display()))
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "PDF output needs Chromium ('{browser}' not found; install chromium or set ORDO_CHROMIUM); --html writes the same page"
        )),
        Err(e) => Err(format!("{browser}: {e}")),
        Ok(o) if !o.status.success() || !out_abs.exists() => Err(format!(
            "{browser} could not print the PDF: {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
        Ok(_) => Ok(()),
    }
}

fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let d = std::env::temp_dir().join(format!("ordo-pdf-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;
    use serde_json::json;

    fn inv(status: &str, currency: &str, open: &str, due: &str) -> Value {
        json!({ "number": "INV-1", "status": status, "customer_id": "C1", "currency": currency,
                "total": Decimal::from_str_exact(open).unwrap(),
                "open_amount": Decimal::from_str_exact(open).unwrap(), "issue_date": "2026-01-01",
                "due_date": due, "terms": { "net_days": 30 }, "payments": [],
                "paid_amount": 0, "discount_amount": 0, "discount_until": null,
                "discount_taken": 0, "dunning_level": 0, "overdue": false })
    }

    #[test]
    fn invoices_fall_in_their_buckets_per_currency() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let docs = [
            ("A", inv("open", "EUR", "10.10", "2026-07-15")),
            ("B", inv("open", "EUR", "5", "2026-06-30")),
            ("C", inv("partially_paid", "EUR", "7.5", "2026-06-29")),
            ("D", inv("open", "EUR", "1", "2026-04-30")),
            ("E", inv("in_collection", "EUR", "2", "2026-01-01")),
            ("F", inv("paid", "EUR", "0", "2026-01-01")),
            ("G", inv("open", "CHF", "3", "2026-05-30")),
        ];
        let rows = aging(docs.iter().map(|(k, v)| (*k, v)), today).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].currency, "CHF");
        assert_eq!(
            rows[0].buckets,
            [dec!(0), dec!(0), dec!(3), dec!(0), dec!(0)]
        );
        let eur = &rows[1];
        assert_eq!(
            eur.buckets,
            [dec!(15.10), dec!(7.5), dec!(0), dec!(1), dec!(2)]
        );
        assert_eq!((eur.total, eur.invoices), (dec!(25.60), 5));
    }

    #[test]
    fn an_invoice_without_open_amount_is_named() {
        let mut v = inv("open", "EUR", "1", "2026-01-01");
        v.as_object_mut().unwrap().remove("open_amount");
        let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let e = aging([("INV-9", &v)], today).unwrap_err();
        assert!(e.contains("INV-9") && e.contains("open_amount"), "{e}");
    }

    #[test]
    fn per_customer_rows_add_up_to_the_total_and_as_of_leaves_later_invoices_out() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let mut a = inv("open", "EUR", "10", "2026-05-01");
        let mut b = inv("open", "EUR", "5", "2026-07-15");
        b["customer_id"] = json!("C2");
        let mut later = inv("open", "EUR", "99", "2026-08-01");
        later["issue_date"] = json!("2026-07-01");
        a["number"] = json!("A");
        let docs = [("A", a), ("B", b), ("L", later)];
        let (rows, total) = aging_by_customer(docs.iter().map(|(k, v)| (*k, v)), today).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].customer.as_str(), rows[0].row.buckets[2]),
            ("C1", dec!(10))
        );
        assert_eq!(
            (rows[1].customer.as_str(), rows[1].row.buckets[0]),
            ("C2", dec!(5))
        );
        assert_eq!(
            total[0].total,
            dec!(15),
            "the invoice issued after as-of is left out"
        );
    }

    #[test]
    fn a_statement_lists_open_items_moves_credit_and_balance() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let mut a = inv("partially_paid", "EUR", "10", "2026-05-01");
        a["payments"] = json!([{ "id": "PAY-1", "amount": 5, "received_on": "2026-05-02", "applied": 5,
                                 "discount": 0, "written_off": 0, "credit": 0, "reference": null }]);
        let docs = vec![
            ("INV-1".to_string(), a),
            ("INV-2".to_string(), inv("paid", "EUR", "0", "2026-05-01")),
        ];
        let notes = vec![(
            "CN-1".to_string(),
            json!({ "number": "CN-1", "corrects": "INV-2", "customer_id": "C1",
                                                      "issue_date": "2026-06-01", "total": 3 }),
        )];
        let c = json!({ "name": "Acme <&>", "currency": "EUR" });
        let s = build_statement("C1", &c, &docs, &notes, dec!(3), today).unwrap();
        assert_eq!(s.open_items.len(), 1);
        assert_eq!(s.open_items[0].days_past_due, 60);
        assert_eq!(
            s.moves.iter().map(|m| m.kind).collect::<Vec<_>>(),
            ["payment", "credit_note"]
        );
        assert_eq!(
            (s.open_total, s.credit, s.balance),
            (dec!(10), dec!(3), dec!(7))
        );
        assert_eq!(s.aging[0].buckets[2], dec!(10));
        let html = statement_html(&s, "Seller <GmbH>");
        assert!(
            html.contains("Acme &lt;&amp;&gt;") && html.contains("Seller &lt;GmbH&gt;"),
            "{html}"
        );
        assert!(html.contains("<th class=n>7</th>"), "{html}");
        let e = build_statement("C1", &json!({ "name": "X" }), &docs, &notes, dec!(0), today)
            .unwrap_err();
        assert!(e.contains("currency"), "{e}");
    }

    #[test]
    fn pdf_without_the_browser_is_a_clear_error() {
        // SAFETY (test): set before any thread of this test reads it; other tests do not.
        unsafe { std::env::set_var("ORDO_CHROMIUM", "/nonexistent/chromium") };
        let e = html_to_pdf("<p>x</p>", std::path::Path::new("/tmp/ordo-never.pdf")).unwrap_err();
        unsafe { std::env::remove_var("ORDO_CHROMIUM") };
        assert!(e.contains("PDF output needs Chromium"), "{e}");
    }
}
