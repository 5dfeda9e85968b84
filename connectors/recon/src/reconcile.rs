//! The `bank.reconcile` step: match every pending statement against the open invoices, book
//! what the matcher decided, queue the rest for finance, report per statement.
//!
//! Booking a match means, per invoice it pays: a `payment/PAY-…` document that records the
//! entry and the rule that matched it, and a `payment.matched` event keyed by the invoice
//! number, which the invoice's `invoice-collection` instance applies (partial payments keep it
//! open, overpayments become customer credit, accepted differences settle it with an
//! [`ordo_contract::Adjustment`]). Until that instance has applied it, the payment is "in
//! transit" on the invoice (`payments_in_transit`) and later runs see the invoice's open amount
//! net of it, so a second statement never takes the same open amount twice.
//!
//! Remittance advices first: received, unused advices (`remittance/<id>`, status `received`)
//! are given to the matcher, whose rule `advice` allocates a fitting credit as the advice says;
//! its deductions become payments that settle the invoice by that much more, booked to the
//! account `config/reconciliation.yaml` names for the reason code (`advices.adjustments`). The
//! advice is claimed (`remittance_use/<id>`) and marked `consumed` in the same transaction, so
//! no second credit uses it.
//!
//! Invariant: everything here happens in the step's one transaction; a crash leaves either the
//! whole run or none of it, and the statements stay pending for the next run.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::NaiveDate;
use ordo_bank::matcher::{Advice, AdviceInvoice, Deduction, reconcile_with_advices};
use ordo_bank::matcher::{Exception, Match};
use ordo_bank::{Customer, MatchConfig, ReconResult, Statement, StatementReport};
use ordo_contract::recon_docs::CustomerPayer;
use ordo_contract::{
    Connector, InvoiceCollection, StepContext, StepError, StepInput, StepOutput, read_doc,
    read_doc_text,
};
use ordo_sales::{PAYMENT_EVENT, checked, master};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::import::PENDING_DOC;
use crate::permanent;
use crate::policy::{POLICY_DOC, ReconPolicy};
use crate::stored::{self, StoredStatement};

pub struct ReconcileBank;

#[async_trait]
impl Connector for ReconcileBank {
    fn name(&self) -> &'static str {
        "bank.reconcile"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["reconciled", "idle", "more"]
    }

    /// One chunk of at most the policy's `chunk_entries` entries per step, so a large
    /// statement is matched in bounded transactions; `more` while entries are left (the
    /// workflow comes back after a short wait, in a new transaction).
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        _input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let policy = stored_policy(ctx).await?;
        let summary = run_reconciliation_chunk(ctx, policy.chunk_entries).await?;
        let outcome = if summary["more"] == json!(true) {
            "more"
        } else if summary["statements"] != json!(0) {
            "reconciled"
        } else {
            "idle"
        };
        Ok(StepOutput::outcome(outcome).with("reconciliation", summary))
    }
}

/// What one statement of a run got: its booked matches, its exceptions and their queue ids.
type PerStatement = (Vec<Match>, Vec<Exception>, Vec<String>);

/// The entries of one pending statement this run takes, renamed for the matcher so entry
/// references are unique per run (`<statement index>/<entry in the chunk>`).
struct Pending {
    fp: String,
    account: String,
    statement_id: String,
    /// Positions in the bank's file of the chunk's entries.
    positions: Vec<usize>,
    /// The statement with the chunk's entries only.
    stmt: Statement,
    /// Index of the chunk's first entry among the statement's stored entries.
    start: usize,
    /// This chunk ends the statement.
    last: bool,
    /// The stored statement document, for the last chunk (its status changes).
    whole_doc: Option<StoredStatement>,
}

/// A statement's report as stored (`bank_report/<fingerprint>`) and sent (`recon-reports`).
#[derive(Serialize)]
struct ReportDoc<'a> {
    fingerprint: &'a str,
    account: &'a str,
    statement_id: &'a str,
    reconciled_at: String,
    report: &'a Value,
    matches: &'a [Match],
    exceptions: &'a [String],
}

/// How far a statement reconciled in chunks has come (`bank_progress/<fingerprint>`).
#[derive(Deserialize)]
struct Progress {
    /// Entries before this index are booked or queued.
    next_entry: usize,
}

/// One chunk's share of a statement's report (`bank_report_part/<fingerprint>:<start>`).
#[derive(Deserialize, Serialize)]
struct ReportPart {
    report: StatementReport,
    matches: Vec<Match>,
    exceptions: Vec<Exception>,
    exception_ids: Vec<String>,
}

/// The reconciliation policy in force (`recon_policy/current`).
pub async fn stored_policy(ctx: &mut dyn StepContext) -> Result<ReconPolicy, StepError> {
    // No stored policy: the engine has not synced config/reconciliation.yaml (a test, or a
    // deployment without the file): the documented defaults apply.
    match ctx.get_document(POLICY_DOC.0, POLICY_DOC.1).await? {
        Some(v) => serde_json::from_value(v)
            .map_err(|e| permanent(format!("stored reconciliation policy: {e}"))),
        None => Ok(ReconPolicy::default()),
    }
}

/// Reconciles every pending statement whole, in the caller's one transaction; returns the
/// run's summary. [`run_reconciliation_chunk`] bounds a run instead.
pub async fn run_reconciliation(ctx: &mut dyn StepContext) -> Result<Value, StepError> {
    run_reconciliation_chunk(ctx, usize::MAX).await
}

/// Reconciles the next `max_entries` entries (at least one) of the pending statements, oldest
/// first, in the caller's transaction. A statement that does not fit is taken up where this
/// run stopped by the next run (`"more": true` in the summary); its report is stored, sent and
/// its status set to `reconciled` when its last chunk is done, and covers all its chunks. Two
/// runs never book the same chunk: each claims `bank_chunk/<fingerprint>:<start>` first (a
/// unique key; the loser fails transiently and finds the progress moved on when it retries).
pub async fn run_reconciliation_chunk(
    ctx: &mut dyn StepContext,
    max_entries: usize,
) -> Result<Value, StepError> {
    let policy = stored_policy(ctx).await?;
    // No queue document yet: nothing was ever imported, so nothing is pending.
    let fps: Vec<String> = match ctx.get_document(PENDING_DOC.0, PENDING_DOC.1).await? {
        Some(q) => {
            read_doc::<PendingQueue>(PENDING_DOC.0, PENDING_DOC.1, &q)
                .map_err(permanent)?
                .statements
        }
        None => Vec::new(),
    };
    let mut budget = max_entries.max(1);
    let mut pending = Vec::new();
    // Statements this run finishes or finds finished: they leave the queue.
    let mut done: Vec<String> = Vec::new();
    for fp in &fps {
        if budget == 0 {
            break;
        }
        let mut stored = stored::read_head(ctx, fp)
            .await?
            .ok_or_else(|| permanent(format!("pending statement {fp} is not stored")))?;
        if stored.status != "pending" {
            done.push(fp.clone());
            continue;
        }
        let total = stored.total();
        if stored.positions.len() != total {
            return Err(permanent(format!(
                "bank_statement {fp}: field positions: {} positions for {total} entries",
                stored.positions.len()
            )));
        }
        // No progress document: no chunk of this statement has been done yet.
        let start = match ctx.get_document("bank_progress", fp).await? {
            Some(v) => {
                read_doc::<Progress>("bank_progress", fp, &v)
                    .map_err(permanent)?
                    .next_entry
            }
            None => 0,
        };
        if start > total {
            return Err(permanent(format!(
                "bank_progress {fp}: field next_entry: {start} beyond the statement's {total} entries"
            )));
        }
        let end = start.saturating_add(budget).min(total);
        budget -= end - start;
        let end_of_statement = end == total;
        // Only the chunk's entries are read (the blocks covering them), not the statement's.
        let entries = stored::read_entries(ctx, &stored, start, end).await?;
        // The statement's head fields, without cloning inline entries of an earlier head.
        let inline = std::mem::take(&mut stored.statement.entries);
        let mut stmt = stored.statement.clone();
        stored.statement.entries = inline;
        stmt.entries = entries;
        let positions = stored.positions[start..end].to_vec();
        let account = stored.account.clone();
        // Kept to be written back with its status when this last chunk is booked.
        let whole_doc = end_of_statement.then_some(stored);
        let statement_id = std::mem::take(&mut stmt.statement_id);
        stmt.statement_id = pending.len().to_string();
        if start > 0 {
            // The opening balance belongs to the first chunk, the closing one to the last.
            stmt.opening = None;
        }
        if end < total {
            stmt.closing = None;
        }
        if end == total {
            done.push(fp.clone());
        }
        pending.push(Pending {
            fp: fp.clone(),
            account,
            statement_id,
            positions,
            stmt,
            start,
            last: end_of_statement,
            whole_doc,
        });
    }
    if pending.is_empty() {
        if !done.is_empty() {
            let left: Vec<&String> = fps.iter().filter(|f| !done.contains(f)).collect();
            ctx.put_document(PENDING_DOC.0, PENDING_DOC.1, &json!({ "statements": left }))
                .await?;
        }
        return Ok(json!({ "statements": 0, "more": false }));
    }

    let customers = customers(ctx).await?;
    let mut cfg: MatchConfig = policy.matching.to_config();
    for (acct, d) in ctx.get_documents("recon_learned", "").await? {
        let learned: LearnedAccount = read_doc("recon_learned", &acct, &d).map_err(permanent)?;
        cfg.learned_accounts.insert(acct, learned.customer_id);
    }
    let advices = received_advices(ctx, &policy, &cfg).await?;
    let stmts: Vec<Statement> = pending.iter().map(|p| p.stmt.clone()).collect();
    // Only the open invoices these entries and the received advices can touch, from the
    // open-items index (the advices' customers are looked up whole).
    let advice_customers: Vec<String> = advices.iter().map(|a| a.customer_id.clone()).collect();
    let items =
        crate::openitems::candidates(ctx, &stmts, &customers, &cfg, &advice_customers).await?;
    let result = reconcile_with_advices(&stmts, &items, &customers, &advices, &cfg);
    drop(advices);
    drop(items);
    drop(customers);

    // Claimed just before the first write, after everything was read and checked.
    for p in &pending {
        let end = p.start + p.stmt.entries.len();
        let claim = json!({ "start": p.start, "end": end, "at": ctx.now().to_rfc3339() });
        if ctx
            .claim_document("bank_chunk", &format!("{}:{}", p.fp, p.start), &claim)
            .await?
            .is_some()
        {
            return Err(StepError::Transient(format!(
                "entries {}.. of statement {} were taken by another run; trying again",
                p.start, p.fp
            )));
        }
    }

    let mut booked = Vec::new();
    let mut exceptions: Vec<(Exception, Option<String>)> = result
        .exceptions
        .iter()
        .map(|e| (e.clone(), None))
        .collect();
    for m in &result.matches {
        if policy.review_rules.iter().any(|r| r == m.rule.name()) {
            exceptions.push((review_exception(m), Some(m.rule.name().to_string())));
        } else {
            booked.push(m.clone());
        }
    }

    // The whole documents of the invoices the booking touches, read in bulk.
    let touched: Vec<&str> = {
        let mut t: Vec<&str> = booked
            .iter()
            .flat_map(|m| m.allocations.iter().map(|a| a.invoice.as_str()))
            .collect();
        t.sort_unstable();
        t.dedup();
        t
    };
    let mut invoices: HashMap<String, Value> = ctx.get_documents_by_id("invoice", &touched).await?;
    let mut payments = 0usize;
    let mut per_stmt: BTreeMap<usize, PerStatement> = BTreeMap::new();
    // One `payment.matched` per payment, delivered together after the booking.
    let mut events: Vec<(String, Value)> = Vec::new();
    for m in &booked {
        let (k, place) = locate(&pending, &m.entry_ref)?;
        let ids = book_match(
            ctx,
            &cfg,
            &pending[k],
            &place,
            m,
            &mut invoices,
            &mut events,
        )
        .await?;
        payments += ids.len();
        let entry = per_stmt.entry(k).or_default();
        entry.0.push(m.clone());
    }
    drop(invoices);
    ctx.emit_events(PAYMENT_EVENT, "received", &events).await?;
    drop(events);
    for (e, review) in &exceptions {
        let (k, place) = locate(&pending, &e.entry_ref)?;
        let id = queue_exception(ctx, &pending[k], &place, e, review.as_deref()).await?;
        let entry = per_stmt.entry(k).or_default();
        entry.1.push(e.clone());
        entry.2.push(id);
    }
    for (acct, customer) in &result.learned {
        if ctx.get_document("recon_learned", acct).await?.is_none() {
            ctx.put_document(
                "recon_learned",
                acct,
                &json!({ "customer_id": customer, "learned_from": "reference match" }),
            )
            .await?;
        }
    }

    let mut whole_docs: HashMap<usize, StoredStatement> = pending
        .iter_mut()
        .enumerate()
        .filter_map(|(k, p)| p.whole_doc.take().map(|d| (k, d)))
        .collect();
    let reports = ordo_bank::report(&stmts, &result_of(&booked, &exceptions, &result));
    drop(stmts);
    let mut report_docs = Vec::new();
    for (k, p) in pending.iter().enumerate() {
        let (matches, excs, ex_ids) = per_stmt.remove(&k).unwrap_or_default();
        let part = ReportPart {
            report: reports[k].clone(),
            matches: matches.iter().map(|m| display(m, p)).collect(),
            exceptions: excs.iter().map(|e| display_exc(e, p)).collect(),
            exception_ids: ex_ids,
        };
        if !p.last {
            let text = serde_json::to_string(&part).map_err(|e| permanent(e.to_string()))?;
            ctx.put_document_text("bank_report_part", &part_id(&p.fp, p.start), text)
                .await?;
            ctx.put_document(
                "bank_progress",
                &p.fp,
                &json!({ "next_entry": p.start + p.stmt.entries.len() }),
            )
            .await?;
            continue;
        }
        // The statement's last chunk: its report covers the chunks before it.
        let whole = whole_report(ctx, p, part).await?;
        let mut rep = serde_json::to_value(&whole.report).map_err(|e| permanent(e.to_string()))?;
        rep["statement_id"] = json!(p.statement_id);
        rep["account"] = json!(p.account);
        let sub = ReconResult {
            matches: whole.matches,
            exceptions: whole.exceptions,
            learned: Vec::new(),
            skipped: Vec::new(),
        };
        // Typed, as text: a JSON tree of a 100,000-entry statement's matches costs several
        // times their text, and the document and the outbound report are the same text.
        let doc = serde_json::to_string(&ReportDoc {
            fingerprint: &p.fp,
            account: &p.account,
            statement_id: &p.statement_id,
            reconciled_at: ctx.now().to_rfc3339(),
            report: &rep,
            matches: &sub.matches,
            exceptions: &whole.exception_ids,
        })
        .map_err(|e| permanent(e.to_string()))?;
        ctx.put_document_text("bank_report", &p.fp, doc.clone())
            .await?;
        let key = format!("{}-{}", p.account, p.statement_id);
        ctx.send_outbound_text("recon-reports", &key, doc).await?;
        ctx.send_outbound(
            "file",
            &format!("recon-reports/{key}.csv"),
            &json!({ "dir": "recon-reports", "name": format!("{key}.csv"),
                     "content": ordo_bank::report::to_csv(&sub) }),
        )
        .await?;
        if let Some(mut s) = whole_docs.remove(&k) {
            s.status = "reconciled".into();
            s.reconciled_at = Some(ctx.now().to_rfc3339());
            // Small in the block layout; a head of the earlier layout keeps its entries inline.
            stored::write_head(ctx, &s).await?;
        }
        if p.start > 0 {
            ctx.put_document(
                "bank_progress",
                &p.fp,
                &json!({ "next_entry": p.start + p.stmt.entries.len(), "done": true }),
            )
            .await?;
        }
        report_docs.push(rep);
    }
    let left: Vec<&String> = fps.iter().filter(|f| !done.contains(f)).collect();
    let more = !left.is_empty();
    ctx.put_document(PENDING_DOC.0, PENDING_DOC.1, &json!({ "statements": left }))
        .await?;
    Ok(json!({
        "statements": pending.len(),
        "matched": booked.len(),
        "payments": payments,
        "exceptions": exceptions.len(),
        "skipped": result.skipped.len(),
        "reports": report_docs,
        "more": more,
    }))
}

/// The id of a chunk's report part: the statement and the chunk's first entry, zero-padded so
/// the parts list in entry order.
fn part_id(fp: &str, start: usize) -> String {
    format!("{fp}:{start:012}")
}

/// The report of a statement whose last chunk is `last`: the stored parts of its earlier
/// chunks, in entry order, then `last`.
async fn whole_report(
    ctx: &mut dyn StepContext,
    p: &Pending,
    last: ReportPart,
) -> Result<ReportPart, StepError> {
    if p.start == 0 {
        return Ok(last);
    }
    let mut whole: Option<ReportPart> = None;
    // As text, typed one part at a time: a JSON tree of 90,000 earlier matches costs several
    // times their text.
    for (id, t) in ctx
        .get_documents_text("bank_report_part", &format!("{}:", p.fp))
        .await?
    {
        let part: ReportPart = read_doc_text("bank_report_part", &id, &t).map_err(permanent)?;
        whole = Some(match whole {
            None => part,
            Some(w) => join_parts(w, part, &p.fp)?,
        });
    }
    match whole {
        Some(w) => join_parts(w, last, &p.fp),
        None => Err(permanent(format!(
            "statement {}: the reports of its first {} entries are not stored",
            p.fp, p.start
        ))),
    }
}

fn join_parts(mut a: ReportPart, b: ReportPart, fp: &str) -> Result<ReportPart, StepError> {
    a.report.absorb(&b.report).ok_or_else(|| {
        permanent(format!(
            "statement {fp}: its report totals leave the range of a decimal"
        ))
    })?;
    a.matches.extend(b.matches);
    a.exceptions.extend(b.exceptions);
    a.exception_ids.extend(b.exception_ids);
    Ok(a)
}

/// Where an entry reference of this run points: statement index, then the position in the
/// bank's file (1-based) and the transaction within a batch, if any.
struct Place {
    position: usize,
    entry_index: usize,
    tx: Option<usize>,
}

fn locate(pending: &[Pending], eref: &str) -> Result<(usize, Place), StepError> {
    let mut parts = eref.split('/');
    let bad = || {
        permanent(format!(
            "matcher returned an unknown entry reference '{eref}'"
        ))
    };
    let k: usize = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let n: usize = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let tx = parts.next().and_then(|s| s.parse().ok());
    let p = pending.get(k).ok_or_else(bad)?;
    // One position per entry is checked when the statement is loaded.
    let position = p
        .positions
        .get(n.wrapping_sub(1))
        .copied()
        .ok_or_else(bad)?;
    Ok((
        k,
        Place {
            position,
            entry_index: n - 1,
            tx,
        },
    ))
}

fn display_ref(p: &Pending, place: &Place) -> String {
    match place.tx {
        Some(t) => format!("{}:{}/{}/{t}", p.account, p.statement_id, place.position),
        None => format!("{}:{}/{}", p.account, p.statement_id, place.position),
    }
}

fn display(m: &Match, p: &Pending) -> Match {
    let mut m = m.clone();
    m.entry_ref = rename(&m.entry_ref, p);
    m
}

fn display_exc(e: &Exception, p: &Pending) -> Exception {
    let mut e = e.clone();
    e.entry_ref = rename(&e.entry_ref, p);
    e
}

/// `eref` went through [`locate`] when it was booked or queued, so its parts are known good;
/// the fallbacks only keep this display function total.
fn rename(eref: &str, p: &Pending) -> String {
    let mut parts = eref.split('/').skip(1);
    let n: usize = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let pos = p.positions.get(n.wrapping_sub(1)).copied().unwrap_or(n);
    match parts.next() {
        Some(t) => format!("{}:{}/{pos}/{t}", p.account, p.statement_id),
        None => format!("{}:{}/{pos}", p.account, p.statement_id),
    }
}

/// What the entry (or the batch transaction) says, for payments and the exceptions queue.
fn entry_facts(p: &Pending, place: &Place) -> Value {
    let Some(e) = p.stmt.entries.get(place.entry_index) else {
        return json!({});
    };
    let t = e.transactions.get(place.tx.map(|t| t - 1).unwrap_or(0));
    json!({
        "booking_date": e.date(),
        "bank_ref": e.bank_ref,
        "counterparty_name": t.and_then(|t| t.counterparty_name.clone()),
        "counterparty_account": t.and_then(|t| t.counterparty_account.clone()),
        "remittance": t.and_then(|t| t.remittance.clone()).or(e.info.clone()),
        "end_to_end_id": t.and_then(|t| t.end_to_end_id.clone()),
    })
}

async fn book_match(
    ctx: &mut dyn StepContext,
    cfg: &MatchConfig,
    p: &Pending,
    place: &Place,
    m: &Match,
    invoices: &mut HashMap<String, Value>,
    events: &mut Vec<(String, Value)>,
) -> Result<Vec<String>, StepError> {
    let facts = entry_facts(p, place);
    let eref = display_ref(p, place);
    // A booked entry has a booking or value date; an entry with neither (a pending entry of
    // a camt.052 report) was received on the day the run sees it, the business date.
    let received_on: NaiveDate = p
        .stmt
        .entries
        .get(place.entry_index)
        .and_then(|e| e.date())
        .unwrap_or_else(|| master::today(ctx));
    // The difference is taken on the last invoices first, so the first ones are paid in cash.
    let mut cash: Vec<Decimal> = m.allocations.iter().map(|a| a.amount).collect();
    let mut adjust: Vec<Decimal> = vec![Decimal::ZERO; cash.len()];
    let at = |f: &'static str| {
        let eref = eref.clone();
        move || format!("bank entry {eref} {f}")
    };
    if let Some(wo) = &m.writeoff {
        if wo.amount.is_sign_negative() {
            if let (Some(c), Some(a)) = (cash.last_mut(), adjust.last_mut()) {
                *c = checked::sub(*c, wo.amount, at("write-off"))?;
                *a = wo.amount;
            }
        } else {
            let mut rest = wo.amount;
            for i in (0..cash.len()).rev() {
                let take = rest.min(cash[i]);
                cash[i] = checked::sub(cash[i], take, at("write-off"))?;
                adjust[i] = take;
                rest = checked::sub(rest, take, at("write-off"))?;
            }
        }
    }
    if let (Some(credit), Some(c)) = (m.credit, cash.last_mut()) {
        *c = checked::add(*c, credit, at("credit"))?;
    }
    // An advice's deductions, per invoice and account: the first goes on the invoice's
    // payment when nothing else adjusts it, the others are payments without cash.
    let mut extra: Vec<Vec<(String, Decimal, bool)>> = vec![Vec::new(); cash.len()];
    let mut named: Vec<Option<(String, bool)>> = vec![None; cash.len()];
    if let Some(adv) = &m.advice {
        for (i, alloc) in m.allocations.iter().enumerate() {
            for d in adv.deductions.iter().filter(|d| d.invoice == alloc.invoice) {
                match extra[i]
                    .iter_mut()
                    .find(|(a, _, disc)| *a == d.account && *disc == d.discount)
                {
                    Some(g) => g.1 = checked::add(g.1, d.amount, at("deduction"))?,
                    None => extra[i].push((d.account.clone(), d.amount, d.discount)),
                }
            }
            if adjust[i].is_zero() && !extra[i].is_empty() {
                let (account, amount, discount) = extra[i].remove(0);
                adjust[i] = amount;
                named[i] = Some((account, discount));
            }
        }
    }
    let mut ids = Vec::new();
    for (i, alloc) in m.allocations.iter().enumerate() {
        let n = ctx.next_number("payment").await?;
        let id = format!("PAY-{n:06}");
        let customer = match invoices.get(&alloc.invoice) {
            Some(v) => Some(
                read_doc::<InvoiceCollection>("invoice", &alloc.invoice, v)
                    .map_err(permanent)?
                    .customer_id,
            ),
            None => m.customer_id.clone(),
        };
        let adjustment = match (&named[i], &m.writeoff, adjust[i].is_zero()) {
            (Some((account, discount)), _, false) => Some(json!({
                "account": account, "amount": adjust[i], "discount": discount,
            })),
            (None, Some(wo), false) => Some(json!({
                "account": wo.account, "amount": adjust[i],
                "discount": wo.account == cfg.discount_account,
            })),
            _ => None,
        };
        let payment = json!({
            "id": id, "amount": { "amount": cash[i], "currency": m.currency },
            "received_on": received_on, "invoice_number": alloc.invoice, "customer_id": customer,
            "reference": facts["remittance"].as_str().or(facts["bank_ref"].as_str()),
            "adjustment": adjustment,
            "source": { "bank_entry": eref, "rule": m.rule.name(), "reason": m.reason,
                        "confidence": m.confidence, "statement": p.fp },
        });
        ctx.put_document("payment", &id, &payment).await?;
        let settles = checked::add(cash[i], adjust[i], at("settled amount"))?;
        mark_in_transit(ctx, invoices, &alloc.invoice, &id, settles).await?;
        events.push((alloc.invoice.clone(), json!({ "payment": payment })));
        ids.push(id);
        for (account, amount, discount) in &extra[i] {
            let n = ctx.next_number("payment").await?;
            let id = format!("PAY-{n:06}");
            let payment = json!({
                "id": id, "amount": { "amount": Decimal::ZERO, "currency": m.currency },
                "received_on": received_on, "invoice_number": alloc.invoice, "customer_id": customer,
                "reference": facts["remittance"].as_str().or(facts["bank_ref"].as_str()),
                "adjustment": { "account": account, "amount": amount, "discount": discount },
                "source": { "bank_entry": eref, "rule": m.rule.name(), "reason": m.reason,
                            "confidence": m.confidence, "statement": p.fp },
            });
            ctx.put_document("payment", &id, &payment).await?;
            mark_in_transit(ctx, invoices, &alloc.invoice, &id, *amount).await?;
            events.push((alloc.invoice.clone(), json!({ "payment": payment })));
            ids.push(id);
        }
    }
    if let Some(adv) = &m.advice
        && !consume_advice(ctx, &adv.id, &eref, &ids).await?
    {
        return Err(StepError::Transient(format!(
            "remittance advice {} was used by another run meanwhile; trying again",
            adv.id
        )));
    }
    let key = eref.clone();
    ctx.put_document(
        "bank_match",
        &key,
        &json!({ "entry": eref, "statement": p.fp, "amount": m.amount, "currency": m.currency,
                 "customer_id": m.customer_id, "rule": m.rule.name(), "reason": m.reason,
                 "confidence": m.confidence, "allocations": m.allocations, "writeoff": m.writeoff,
                 "credit": m.credit, "payments": ids, "facts": facts, "by": "matcher",
                 "advice": m.advice }),
    )
    .await?;
    Ok(ids)
}

/// The received advices no payment has used, as the matcher takes them: each deduction tied to
/// the account the policy names for its reason code. An advice the policy cannot book (a code
/// it does not map, an adjustment that is not an invoice's, one that raises a payment) is
/// given with the reason: a payment that fits it waits for a person.
async fn received_advices(
    ctx: &mut dyn StepContext,
    policy: &ReconPolicy,
    cfg: &MatchConfig,
) -> Result<Vec<Advice>, StepError> {
    let kind = ordo_contract::remittance::REMITTANCE_KIND;
    let mut out = Vec::new();
    for (id, v) in ctx.get_documents(kind, "").await? {
        // `received` until a payment uses it, then `consumed`; written by the partner channel.
        let Some(status) = v.get("status").and_then(Value::as_str) else {
            return Err(permanent(format!("{kind} '{id}': status: missing")));
        };
        if status != "received" {
            continue;
        }
        let a: ordo_contract::RemittanceAdvice = read_doc(kind, &id, &v).map_err(permanent)?;
        let mut blocked: Vec<String> = Vec::new();
        if !a.adjustments.is_empty() {
            blocked.push(format!(
                "{} adjustment(s) not tied to an invoice (first reason code {})",
                a.adjustments.len(),
                a.adjustments[0].reason
            ));
        }
        let mut invoices = Vec::with_capacity(a.invoices.len());
        for inv in &a.invoices {
            let mut deductions = Vec::new();
            if let Some(d) = inv.discount.filter(|d| !d.is_zero()) {
                deductions.push(Deduction {
                    invoice: inv.number.clone(),
                    reason: "discount".into(),
                    account: cfg.discount_account.clone(),
                    amount: d,
                    discount: true,
                });
            }
            for adj in &inv.adjustments {
                if adj.amount >= Decimal::ZERO {
                    blocked.push(format!(
                        "invoice {}: adjustment {} raises the payment by {} (reason code {})",
                        inv.number, adj.reason, adj.amount, adj.reason
                    ));
                    continue;
                }
                match policy.advices.account(&adj.reason) {
                    Some(account) => deductions.push(Deduction {
                        invoice: inv.number.clone(),
                        reason: adj.reason.clone(),
                        account: account.to_string(),
                        amount: -adj.amount,
                        discount: account == cfg.discount_account,
                    }),
                    None => blocked.push(format!(
                        "invoice {}: reason code {} has no account in config/reconciliation.yaml (advices.adjustments)",
                        inv.number, adj.reason
                    )),
                }
            }
            invoices.push(AdviceInvoice {
                number: inv.number.clone(),
                paid: inv.paid,
                deductions,
            });
        }
        out.push(Advice {
            id: a.id,
            customer_id: a.customer_id,
            reference: a.reference,
            amount: a.amount,
            currency: a.currency,
            invoices,
            blocked: (!blocked.is_empty()).then(|| blocked.join("; ")),
        });
    }
    Ok(out)
}

/// Marks an advice used by the payment(s) of bank entry `eref`; false when it was used
/// already. The claim on `remittance_use/<id>` makes it once: a concurrent run that used it
/// too fails transiently (the caller) and, retried, no longer sees it as received.
pub(crate) async fn consume_advice(
    ctx: &mut dyn StepContext,
    id: &str,
    eref: &str,
    payments: &[String],
) -> Result<bool, StepError> {
    let kind = ordo_contract::remittance::REMITTANCE_KIND;
    let used = json!({ "entry": eref, "payments": payments, "at": ctx.now().to_rfc3339() });
    if ctx
        .claim_document("remittance_use", id, &used)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let mut doc = ctx
        .get_document(kind, id)
        .await?
        .ok_or_else(|| permanent(format!("remittance advice {id} is not stored")))?;
    doc["status"] = json!("consumed");
    doc["consumed_by"] = used;
    ctx.put_document(kind, id, &doc).await?;
    Ok(true)
}

/// Notes a payment on its way to the invoice, so the next run sees the open amount net of it.
pub(crate) async fn mark_in_transit(
    ctx: &mut dyn StepContext,
    invoices: &mut HashMap<String, Value>,
    number: &str,
    payment: &str,
    settles: Decimal,
) -> Result<(), StepError> {
    let mut inv = match invoices.remove(number) {
        Some(v) => v,
        None => ctx
            .get_document("invoice", number)
            .await?
            .ok_or_else(|| permanent(format!("no invoice '{number}'")))?,
    };
    if !inv["payments_in_transit"].is_array() {
        inv["payments_in_transit"] = json!([]);
    }
    if let Some(list) = inv["payments_in_transit"].as_array_mut() {
        list.push(json!({ "id": payment, "settles": settles }));
    }
    ctx.put_document("invoice", number, &inv).await?;
    invoices.insert(number.to_string(), inv);
    Ok(())
}

fn review_exception(m: &Match) -> Exception {
    Exception {
        entry_ref: m.entry_ref.clone(),
        amount: m.amount,
        currency: m.currency.clone(),
        direction: ordo_bank::Direction::Credit,
        reason: format!(
            "rule {} is set to review (config/reconciliation.yaml): {}",
            m.rule.name(),
            m.reason
        ),
        customer_id: m.customer_id.clone(),
        candidates: m
            .allocations
            .iter()
            .map(|a| ordo_bank::matcher::Candidate {
                invoice: a.invoice.clone(),
                customer_id: m.customer_id.clone().unwrap_or_default(),
                amount_open: a.amount,
                score: m.confidence,
            })
            .collect(),
        advice: m.advice.as_ref().map(|a| a.id.clone()),
    }
}

async fn queue_exception(
    ctx: &mut dyn StepContext,
    p: &Pending,
    place: &Place,
    e: &Exception,
    review_rule: Option<&str>,
) -> Result<String, StepError> {
    let n = ctx.next_number("bank_exception").await?;
    let id = format!("EX-{n:06}");
    let mut doc = json!({
        "id": id, "status": "open", "entry": display_ref(p, place), "statement": p.fp,
        "account": p.account, "statement_id": p.statement_id, "amount": e.amount,
        "currency": e.currency, "direction": e.direction, "reason": e.reason,
        "customer_id": e.customer_id, "candidates": e.candidates,
        "queued_at": ctx.now().to_rfc3339(), "review_rule": review_rule,
        "advice": e.advice,
    });
    if let (Some(o), Some(f)) = (doc.as_object_mut(), entry_facts(p, place).as_object()) {
        for (k, v) in f {
            o.insert(k.clone(), v.clone());
        }
    }
    ctx.put_document("bank_exception", &id, &doc).await?;
    ctx.publish("recon.exception", &id, &doc).await?;
    Ok(id)
}

/// The result as booked (review matches moved to exceptions), for the reports.
fn result_of(
    booked: &[Match],
    exceptions: &[(Exception, Option<String>)],
    all: &ReconResult,
) -> ReconResult {
    ReconResult {
        matches: booked.to_vec(),
        exceptions: exceptions.iter().map(|(e, _)| e.clone()).collect(),
        learned: all.learned.clone(),
        skipped: all.skipped.clone(),
    }
}

/// An invoice's open amount net of payments on their way to it; an amount beyond a decimal's
/// range is an error naming the invoice.
pub(crate) fn open_net_of_transit(
    number: &str,
    inv: &InvoiceCollection,
) -> Result<Decimal, StepError> {
    inv.open_net_of_transit().ok_or_else(|| {
        permanent(format!(
            "invoice {number}: open_amount {} less its payments in transit is out of range",
            inv.open_amount
        ))
    })
}

/// The statements imported and not reconciled yet (`bank_queue/pending`).
#[derive(Deserialize)]
struct PendingQueue {
    statements: Vec<String>,
}

/// A payer account learned from a confirmed match (`recon_learned/<account>`).
#[derive(Deserialize)]
struct LearnedAccount {
    customer_id: String,
}

async fn customers(ctx: &mut dyn StepContext) -> Result<Vec<Customer>, StepError> {
    let mut out = Vec::new();
    for (id, c) in ctx.get_documents("customer", "").await? {
        let c: CustomerPayer = read_doc("customer", &id, &c).map_err(permanent)?;
        out.push(Customer {
            name: c.name,
            accounts: c.bank_accounts,
            id,
        });
    }
    Ok(out)
}
