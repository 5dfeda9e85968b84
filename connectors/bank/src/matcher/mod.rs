//! The reconciliation matcher: statement entries against open invoices (credits) and open
//! supplier bills (debits). Pure and deterministic: the same inputs give the same output
//! regardless of hash order; entries are processed in statement order and each allocation
//! reduces the open amount the next entries see.
//!
//! Rules, most confident first (the rule name is recorded on every match):
//!
//! | rule | when |
//! |---|---|
//! | `advice` | a received remittance advice (820/REMADV) of the payer (or named in the text) fits the amount within `tolerance`: allocated invoice by invoice as it says, its deductions to the accounts the policy names; a misfit (amount, an invoice not open, a deduction without account) → exception with the advice's invoices as the top candidates |
//! | `reference` | invoice number / RF / QRR / referred document found, amount = open amount(s) |
//! | `reference_discount` | … amount = open − early-payment discount allowed at the payment date |
//! | `reference_tolerance` | … difference within `tolerance` → written off to `writeoff_account` |
//! | `reference_fee` | … short by at most `max_fee` (bank charges) → `fee_account` |
//! | `reference_subset` | several numbers in the text, the amount pays an exact subset of them |
//! | `reference_weak` | … amount above; the excess equals other open invoices of the customer a weak reference in the text (`2026-4711`, `4711/26`) points at |
//! | `reference_open_items` | … amount above; the excess equals one (or a unique set ≤ `max_subset`) of the customer's other open invoices |
//! | `reference_overpayment` | … amount above by at most `max_auto_credit` and `max_auto_credit_share` % → customer credit; more, unexplained → exception |
//! | `reference_partial` | … amount below → allocated oldest first, invoice stays open |
//! | `reference_fuzzy` | payer known, a number one typo away from one of its invoices, amount equal |
//! | `payer_amount` | payer known (IBAN, learned account, fuzzy name), amount = one open item |
//! | `payer_discount` | payer known, amount = one item minus its allowed discount |
//! | `payer_subset` | payer known, amount = a unique subset (≤ `max_subset`) of its open items |
//! | `payer_tolerance` / `payer_fee` | payer known, one item within tolerance / fee |
//!
//! Everything else becomes an [`Exception`] with the best candidates and scores.

mod advice;
mod index;
mod names;
mod rules;

pub use advice::{Advice, AdviceInvoice, AdviceUse, Deduction};

use std::collections::BTreeMap;

use chrono::NaiveDate;
use ordo_contract::PaymentTerms;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::Statement;

pub use names::name_score;

/// Receivable (customer invoice, paid by credits) or payable (supplier bill, paid by debits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Receivable,
    Payable,
}

/// An open invoice or bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenItem {
    pub number: String,
    pub customer_id: String,
    pub amount_open: Decimal,
    pub currency: String,
    pub due_date: NaiveDate,
    pub issue_date: NaiveDate,
    pub terms: PaymentTerms,
    pub kind: ItemKind,
}

/// A customer or supplier with the bank accounts (IBANs) it pays from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub accounts: Vec<String>,
}

/// Matching knobs finance can tune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MatchConfig {
    /// Differences up to this amount (either way) are written off.
    pub tolerance: Decimal,
    pub writeoff_account: String,
    /// A payment short by up to this much is taken as bank fees deducted by the payer's bank.
    pub max_fee: Decimal,
    pub fee_account: String,
    /// Account for early-payment discounts taken.
    pub discount_account: String,
    /// Days after the discount deadline a discount is still accepted.
    pub discount_grace_days: u32,
    /// Minimum fuzzy name score (0-100) to identify a payer by name.
    pub name_threshold: u8,
    /// Largest number of invoices one payment may be split across without a reference.
    pub max_subset: usize,
    /// Learned payer account → customer id (from confirmed manual matches).
    pub learned_accounts: BTreeMap<String, String>,
    /// Matches below this confidence go to the exceptions queue instead.
    pub min_confidence: u8,
    /// The most of an over-payment that may be booked as customer credit without a person
    /// (absolute, in the payment's currency) ...
    pub max_auto_credit: Decimal,
    /// ... and as a share of the payment, in percent. An over-payment beyond either that no
    /// rule explains (other open invoices of the payer, a weak reference confirmed by the
    /// amount) goes to the exceptions queue with the named invoices as the top candidate.
    pub max_auto_credit_share: Decimal,
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            tolerance: Decimal::new(100, 2),
            writeoff_account: "payment-differences".into(),
            max_fee: Decimal::new(2500, 2),
            fee_account: "bank-fees".into(),
            discount_account: "cash-discount".into(),
            discount_grace_days: 3,
            name_threshold: 85,
            max_subset: 5,
            learned_accounts: BTreeMap::new(),
            min_confidence: 0,
            max_auto_credit: Decimal::new(5000, 2),
            max_auto_credit_share: Decimal::from(5),
        }
    }
}

impl MatchConfig {
    /// Whether `excess` over the open amount of a payment of `payment` may be booked as
    /// customer credit without a person: at most `max_auto_credit` and at most
    /// `max_auto_credit_share` percent of the payment (an overflow counts as too much).
    pub fn credit_allowed(&self, excess: Decimal, payment: Decimal) -> bool {
        let share = payment
            .abs()
            .checked_mul(self.max_auto_credit_share)
            .and_then(|v| v.checked_div(Decimal::ONE_HUNDRED));
        excess <= self.max_auto_credit && share.is_some_and(|s| excess <= s)
    }
}

/// Which rule made a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    Advice,
    Reference,
    ReferenceDiscount,
    ReferenceTolerance,
    ReferenceFee,
    ReferenceSubset,
    ReferenceOverpayment,
    ReferenceWeak,
    ReferenceOpenItems,
    ReferencePartial,
    ReferenceFuzzy,
    PayerAmount,
    PayerDiscount,
    PayerSubset,
    PayerTolerance,
    PayerFee,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Advice => "advice",
            Rule::Reference => "reference",
            Rule::ReferenceDiscount => "reference_discount",
            Rule::ReferenceTolerance => "reference_tolerance",
            Rule::ReferenceFee => "reference_fee",
            Rule::ReferenceSubset => "reference_subset",
            Rule::ReferenceOverpayment => "reference_overpayment",
            Rule::ReferenceWeak => "reference_weak",
            Rule::ReferenceOpenItems => "reference_open_items",
            Rule::ReferencePartial => "reference_partial",
            Rule::ReferenceFuzzy => "reference_fuzzy",
            Rule::PayerAmount => "payer_amount",
            Rule::PayerDiscount => "payer_discount",
            Rule::PayerSubset => "payer_subset",
            Rule::PayerTolerance => "payer_tolerance",
            Rule::PayerFee => "payer_fee",
        }
    }
}

/// Part of a payment applied to one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub invoice: String,
    pub amount: Decimal,
    /// The invoice is still open after this allocation.
    pub remains_open: bool,
}

/// An amount booked to a named account instead of an invoice (positive: the payment was short).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteOff {
    pub account: String,
    pub amount: Decimal,
}

/// An automatic match of one payment (an entry, or one transaction of a batched entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    pub entry_ref: String,
    pub amount: Decimal,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    pub allocations: Vec<Allocation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writeoff: Option<WriteOff>,
    /// Overpayment kept as customer credit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit: Option<Decimal>,
    pub rule: Rule,
    pub reason: String,
    /// 0-100.
    pub confidence: u8,
    /// The remittance advice that decided the allocation, with its deductions (rule `advice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<AdviceUse>,
}

/// A proposed invoice for an exception, with a 0-100 score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub invoice: String,
    pub customer_id: String,
    pub amount_open: Decimal,
    pub score: u8,
}

/// A payment the matcher would not decide alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    pub entry_ref: String,
    pub amount: Decimal,
    pub currency: String,
    pub direction: crate::model::Direction,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    pub candidates: Vec<Candidate>,
    /// The remittance advice shown as the top candidate (rule `advice` would not book it
    /// alone); a person confirming the payment uses it up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
}

/// Everything `reconcile` decided.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReconResult {
    pub matches: Vec<Match>,
    pub exceptions: Vec<Exception>,
    /// Payer accounts newly tied to a customer by a reference match: proposals for
    /// `MatchConfig::learned_accounts`.
    pub learned: Vec<(String, String)>,
    /// Entries not considered (pending/info status).
    pub skipped: Vec<String>,
}

/// Matches the booked entries of `statements` against `items`.
pub fn reconcile(
    statements: &[Statement],
    items: &[OpenItem],
    customers: &[Customer],
    cfg: &MatchConfig,
) -> ReconResult {
    reconcile_with_advices(statements, items, customers, &[], cfg)
}

/// [`reconcile`], with the received remittance advices not yet used: a credit that fits one
/// is allocated as it says before any text reference is looked at (rule `advice`); each advice
/// is used by one credit at most.
pub fn reconcile_with_advices(
    statements: &[Statement],
    items: &[OpenItem],
    customers: &[Customer],
    advices: &[Advice],
    cfg: &MatchConfig,
) -> ReconResult {
    reconcile_prepared(
        statements,
        items,
        customers,
        advices,
        &prepare(items, customers, cfg),
        cfg,
    )
}

/// The lookup structures [`reconcile`] builds from the open items and customers before it
/// reads any entry. Built ahead by [`prepare`], so a caller can build them while it is still
/// parsing the statements (`ordo bank reconcile` does, on a second thread).
pub struct Prepared {
    idx: index::Index,
}

/// See [`Prepared`]; give [`reconcile_prepared`] the same `items`, `customers` and `cfg`.
pub fn prepare(items: &[OpenItem], customers: &[Customer], cfg: &MatchConfig) -> Prepared {
    Prepared {
        idx: index::Index::build(items, customers, cfg),
    }
}

/// [`reconcile_with_advices`] with the index [`prepare`] built from the same `items`,
/// `customers` and `cfg` (the same decisions: it is the same index).
pub fn reconcile_prepared(
    statements: &[Statement],
    items: &[OpenItem],
    customers: &[Customer],
    advices: &[Advice],
    prepared: &Prepared,
    cfg: &MatchConfig,
) -> ReconResult {
    let idx = &prepared.idx;
    let mut state = rules::State::new(items, idx, customers, cfg);
    state.set_advices(advices);
    for stmt in statements {
        for (n, e) in stmt.entries.iter().enumerate() {
            let base = format!("{}/{}", stmt.statement_id, n + 1);
            state.entry(&base, e);
        }
    }
    state.finish()
}

/// What matching `statements` can look at among the open items, for a caller that keeps them
/// indexed (the store's open-items index) rather than in memory: the reference keys found in
/// the texts (to compare with [`crate::reference::invoice_keys`] of each invoice number, full
/// or digits-only), the payers identified (customer ids) and the payment amounts (normalised).
///
/// [`reconcile`] over the open items that answer these (by key, customer or open amount),
/// together with every other open item of the customers they belong to, decides exactly as it
/// would over all open items, provided both lists keep the same relative order: no rule looks
/// at an item outside them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookups {
    pub keys: std::collections::BTreeSet<String>,
    pub customers: std::collections::BTreeSet<String>,
    pub amounts: std::collections::BTreeSet<Decimal>,
}

/// See [`Lookups`]. Reads no open items: payers are found from `customers` and the learned
/// accounts alone.
pub fn lookups(statements: &[Statement], customers: &[Customer], cfg: &MatchConfig) -> Lookups {
    let idx = index::Index::build(&[], customers, cfg);
    let state = rules::State::new(&[], &idx, customers, cfg);
    let mut lk = Lookups::default();
    for stmt in statements {
        for (n, e) in stmt.entries.iter().enumerate() {
            state.wanted(&entry_ref(stmt, n), e, &mut lk);
        }
    }
    lk
}

/// Reference for entry `n` (0-based) of `stmt` as used in [`Match::entry_ref`]; a batched
/// entry's transactions get `/t` appended (1-based).
pub fn entry_ref(stmt: &Statement, n: usize) -> String {
    format!("{}/{}", stmt.statement_id, n + 1)
}
