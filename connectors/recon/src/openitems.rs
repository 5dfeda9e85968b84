//! The open-items index: what an `invoice/<number>` document contributes to the store's
//! `open_items` table, and how a reconciliation run gets the open invoices it may need from
//! it instead of reading every invoice.
//!
//! [`index_row`] is the one derivation: the store calls it on every write of an invoice
//! document, in the writing transaction (the invoice, payment, dunning and reconciliation steps
//! and finance's decisions all write the document, so all of them keep the index), and
//! [`check_index`] compares the table with it over every stored invoice.
//!
//! [`candidates`] asks the index what the pure matcher's [`ordo_bank::matcher::lookups`] says
//! the statements can touch (reference keys in the texts, payers, amounts), then the other open
//! invoices of every customer found, so the matcher decides on those exactly as it would on
//! all open invoices (`ordo_bank` tests that equivalence), at a cost in proportion to the
//! entries matched.

use std::collections::BTreeSet;

use ordo_bank::{Customer, ItemKind, MatchConfig, OpenItem, Statement};
use ordo_contract::recon_docs::{OpenItemQuery, OpenItemRow, OpenItemsFound};
use ordo_contract::{InvoiceCollection, StepContext, StepError, read_doc_text};

use crate::permanent;

/// The index row of the stored invoice `number` whose JSON text is `text`: `Ok(None)` when it
/// is closed or nothing is left open (net of payments in transit); `Err` with a located message
/// when the document cannot be read as an invoice's collection state (a missing `open_amount`,
/// a wrong-typed date), which the store keeps beside the index and which fails a run.
pub fn index_row(number: &str, text: &str) -> Result<Option<OpenItemRow>, String> {
    let inv: InvoiceCollection = read_doc_text("invoice", number, text)?;
    index_row_of(number, &inv)
}

/// [`index_row`] of an invoice already read (the store reads each written invoice once for
/// all its indexes).
pub fn index_row_of(number: &str, inv: &InvoiceCollection) -> Result<Option<OpenItemRow>, String> {
    if inv.is_closed() {
        return Ok(None);
    }
    let open = inv.open_net_of_transit().ok_or_else(|| {
        format!(
            "invoice {number}: open_amount {} less its payments in transit is out of range",
            inv.open_amount
        )
    })?;
    if open <= rust_decimal::Decimal::ZERO {
        return Ok(None);
    }
    let (ref_key, digit_key) = ordo_bank::reference::invoice_keys(number);
    Ok(Some(OpenItemRow {
        invoice: number.to_string(),
        ref_key,
        digit_key,
        customer_id: inv.customer_id.clone(),
        amount_open: open,
        currency: inv.currency.clone(),
        due_date: inv.due_date,
        issue_date: inv.issue_date,
        terms: inv.terms.clone(),
    }))
}

/// Every row [`index_row`] derives from the stored invoices, with the problems, as the index
/// should hold them (ordered by invoice).
pub async fn derive_all(ctx: &mut dyn StepContext) -> Result<OpenItemsFound, StepError> {
    let mut found = OpenItemsFound::default();
    for (number, text) in ctx.get_documents_text("invoice", "").await? {
        match index_row(&number, &text) {
            Ok(Some(row)) => found.rows.push(row),
            Ok(None) => {}
            Err(e) => found.problems.push((number, e)),
        }
    }
    Ok(found)
}

/// Asks the store's index, or, on a port without one, derives the rows from the documents
/// and filters them the way the store's indexes do.
async fn ask(ctx: &mut dyn StepContext, q: &OpenItemQuery) -> Result<OpenItemsFound, StepError> {
    if let Some(found) = ctx.open_items(q).await? {
        return Ok(found);
    }
    let mut all = derive_all(ctx).await?;
    all.rows.retain(|r| q.wants(r));
    Ok(all)
}

fn open_item(r: OpenItemRow) -> OpenItem {
    OpenItem {
        number: r.invoice,
        customer_id: r.customer_id,
        amount_open: r.amount_open,
        currency: r.currency,
        due_date: r.due_date,
        issue_date: r.issue_date,
        terms: r.terms,
        kind: ItemKind::Receivable,
    }
}

/// The open invoices the matcher may need for `stmts` (and every open invoice of
/// `also_customers`: the customers of received remittance advices), ordered by number (the order a full
/// read gives, so ties resolve alike). A stored invoice that cannot be indexed fails the run
/// with its located message, as reading it would.
pub async fn candidates(
    ctx: &mut dyn StepContext,
    stmts: &[Statement],
    customers: &[Customer],
    cfg: &MatchConfig,
    also_customers: &[String],
) -> Result<Vec<OpenItem>, StepError> {
    let mut lk = ordo_bank::matcher::lookups(stmts, customers, cfg);
    lk.customers.extend(also_customers.iter().cloned());
    let q = OpenItemQuery {
        keys: lk.keys.into_iter().collect(),
        customers: lk.customers.iter().cloned().collect(),
        amounts: lk.amounts.into_iter().collect(),
        all: false,
    };
    let first = ask(ctx, &q).await?;
    if let Some((_, e)) = first.problems.into_iter().next() {
        return Err(permanent(e));
    }
    let mut rows = first.rows;
    // The other open invoices of each customer a found invoice belongs to: an over-payment
    // may be explained by them.
    let more: BTreeSet<String> = rows
        .iter()
        .map(|r| r.customer_id.clone())
        .filter(|c| !lk.customers.contains(c))
        .collect();
    if !more.is_empty() {
        let q = OpenItemQuery {
            customers: more.into_iter().collect(),
            ..OpenItemQuery::default()
        };
        rows.extend(ask(ctx, &q).await?.rows);
    }
    rows.sort_by(|a, b| a.invoice.cmp(&b.invoice));
    rows.dedup_by(|a, b| a.invoice == b.invoice);
    Ok(rows.into_iter().map(open_item).collect())
}

/// The differences between the index and the invoice documents, one line each (empty: they
/// agree): `ordo recon check-index`.
pub async fn check_index(ctx: &mut dyn StepContext) -> Result<Vec<String>, StepError> {
    let q = OpenItemQuery {
        all: true,
        ..OpenItemQuery::default()
    };
    let Some(index) = ctx.open_items(&q).await? else {
        return Err(permanent("this store keeps no open-items index"));
    };
    let want = derive_all(ctx).await?;
    let mut out = Vec::new();
    let mut a = index.rows.iter().peekable();
    let mut b = want.rows.iter().peekable();
    loop {
        match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(x), Some(y)) if x.invoice == y.invoice => {
                if x != y {
                    out.push(format!(
                        "invoice {}: index has {}, the document says {}",
                        x.invoice,
                        describe(x),
                        describe(y)
                    ));
                }
                a.next();
                b.next();
            }
            (Some(x), y) if y.is_none_or(|y| x.invoice < y.invoice) => {
                out.push(format!(
                    "invoice {}: in the index ({}) but not open in the documents",
                    x.invoice,
                    describe(x)
                ));
                a.next();
            }
            (_, Some(y)) => {
                out.push(format!(
                    "invoice {}: open in the documents ({}) but not in the index",
                    y.invoice,
                    describe(y)
                ));
                b.next();
            }
            // Not reached: the arms above cover every pair with a row on either side.
            (Some(_), None) => {
                a.next();
            }
        }
    }
    let (mut p, mut q) = (index.problems, want.problems);
    p.sort();
    q.sort();
    if p != q {
        out.push(format!(
            "unreadable invoices: the index notes {:?}, the documents give {:?}",
            p.iter().map(|(i, _)| i).collect::<Vec<_>>(),
            q.iter().map(|(i, _)| i).collect::<Vec<_>>()
        ));
    }
    Ok(out)
}

fn describe(r: &OpenItemRow) -> String {
    format!(
        "{} {} open, customer {}, due {}, keys {}/{}",
        r.amount_open,
        r.currency,
        r.customer_id,
        r.due_date,
        r.ref_key,
        r.digit_key.as_deref().unwrap_or("-")
    )
}
