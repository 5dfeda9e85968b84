//! The reconciliation policy finance tunes in `config/reconciliation.yaml`: the matcher's
//! tolerances and accounts ([`MatchConfig`]) plus which rules may book on their own.
//!
//! ```yaml
//! matching:
//!   tolerance: 1.00               # differences up to this are written off
//!   writeoff_account: payment-differences
//!   max_fee: 25.00                # short by up to this (and ≤ 5 %) = bank fees
//!   fee_account: bank-fees
//!   discount_account: cash-discount
//!   discount_grace_days: 3
//!   name_threshold: 85            # fuzzy payer-name score (0-100)
//!   max_subset: 5                 # invoices one payment may settle without a reference
//!   min_confidence: 70            # below this, a match goes to the exceptions queue
//!   max_auto_credit: 50.00        # most of an over-payment kept as credit without a person
//!   max_auto_credit_share: 5      # ... and at most this percent of the payment
//! advices:                        # remittance advices (X12 820, EDIFACT REMADV)
//!   adjustments:                  # deduction reason code → account it is booked to
//!     "04": customer-deductions
//! review_rules: [payer_fee]       # matches by these rules wait for a person
//! chunk_entries: 10000            # most entries matched per transaction
//! ```
//!
//! The engine validates the file (`ordo check`, and at every change while running: an
//! invalid edit is reported and the previous policy stays in force) and stores it as the
//! `recon_policy/current` document, which the `bank.reconcile` step reads in its transaction.

use ordo_bank::MatchConfig;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Document (kind, id) holding the policy in force.
pub const POLICY_DOC: (&str, &str) = ("recon_policy", "current");

/// Every rule name the matcher can record, for validation of `review_rules`.
pub const RULE_NAMES: &[&str] = &[
    "advice",
    "reference",
    "reference_discount",
    "reference_tolerance",
    "reference_fee",
    "reference_subset",
    "reference_overpayment",
    "reference_weak",
    "reference_open_items",
    "reference_partial",
    "reference_fuzzy",
    "payer_amount",
    "payer_discount",
    "payer_subset",
    "payer_tolerance",
    "payer_fee",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReconPolicy {
    pub matching: Matching,
    /// Rules whose matches are proposed, not booked: they land in the exceptions queue with
    /// the match as the top candidate.
    pub review_rules: Vec<String>,
    /// Most bank entries one `bank.reconcile` step matches and books (one transaction); a
    /// larger statement is done in several steps, its report complete after the last.
    pub chunk_entries: usize,
    /// How remittance advices' deductions are booked.
    pub advices: AdvicePolicy,
}

/// `advices:` — which account each deduction reason code of a remittance advice is booked to
/// (X12 ADX02, code list 426; EDIFACT AJT 4465). An advice with a code not listed here is never
/// booked without a person: its payment waits in the exceptions queue with the advice on top.
/// The account `matching.discount_account` names is booked as a discount granted; an advice's
/// early-payment discount (X12 RMR06, EDIFACT MOA 52) always goes there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdvicePolicy {
    pub adjustments: std::collections::BTreeMap<ReasonCode, AccountName>,
}

/// A deduction reason code as a partner writes it: 1 to 8 letters or digits. Checked while the
/// YAML is read, so a bad one is reported at its line and column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReasonCode(pub String);

impl TryFrom<String> for ReasonCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(ReasonCode(s))
        } else {
            Err(format!(
                "advices.adjustments: reason code {:?} is not 1 to 8 letters or digits",
                ordo_contract::excerpt(&s, 40)
            ))
        }
    }
}

impl From<ReasonCode> for String {
    fn from(c: ReasonCode) -> String {
        c.0
    }
}

/// An account name of the policy (`bank-fees`, `customer-deductions`): rules/posting.rhai maps
/// it to a ledger account. 1 to 64 letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountName(pub String);

impl TryFrom<String> for AccountName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if (1..=64).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            Ok(AccountName(s))
        } else {
            Err(format!(
                "advices.adjustments: account {:?} is not 1 to 64 letters, digits, '-' or '_'",
                ordo_contract::excerpt(&s, 40)
            ))
        }
    }
}

impl From<AccountName> for String {
    fn from(a: AccountName) -> String {
        a.0
    }
}

impl AdvicePolicy {
    /// The account a reason code is booked to, when the policy names one.
    pub fn account(&self, reason: &str) -> Option<&str> {
        self.adjustments
            .get(&ReasonCode(reason.to_string()))
            .map(|a| a.0.as_str())
    }
}

/// The default of `chunk_entries`: a busy account's banking day in one transaction, a
/// 100,000-entry statement in ten.
pub const DEFAULT_CHUNK_ENTRIES: usize = 10_000;

/// The matcher's knobs as finance writes them: the same fields as [`MatchConfig`] (defaults
/// there), but a misspelt key is an error instead of silently using the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Matching {
    pub tolerance: Decimal,
    pub writeoff_account: String,
    pub max_fee: Decimal,
    pub fee_account: String,
    pub discount_account: String,
    pub discount_grace_days: u32,
    pub name_threshold: u8,
    pub max_subset: usize,
    pub min_confidence: u8,
    pub max_auto_credit: Decimal,
    pub max_auto_credit_share: Decimal,
}

impl Default for Matching {
    fn default() -> Self {
        let d = MatchConfig::default();
        Matching {
            tolerance: d.tolerance,
            writeoff_account: d.writeoff_account,
            max_fee: d.max_fee,
            fee_account: d.fee_account,
            discount_account: d.discount_account,
            discount_grace_days: d.discount_grace_days,
            name_threshold: d.name_threshold,
            max_subset: d.max_subset,
            min_confidence: d.min_confidence,
            max_auto_credit: d.max_auto_credit,
            max_auto_credit_share: d.max_auto_credit_share,
        }
    }
}

impl Default for ReconPolicy {
    fn default() -> Self {
        ReconPolicy {
            matching: Matching::default(),
            review_rules: Vec::new(),
            chunk_entries: DEFAULT_CHUNK_ENTRIES,
            advices: AdvicePolicy::default(),
        }
    }
}

impl Matching {
    pub fn to_config(&self) -> MatchConfig {
        MatchConfig {
            tolerance: self.tolerance,
            writeoff_account: self.writeoff_account.clone(),
            max_fee: self.max_fee,
            fee_account: self.fee_account.clone(),
            discount_account: self.discount_account.clone(),
            discount_grace_days: self.discount_grace_days,
            name_threshold: self.name_threshold,
            max_subset: self.max_subset,
            min_confidence: self.min_confidence,
            max_auto_credit: self.max_auto_credit,
            max_auto_credit_share: self.max_auto_credit_share,
            ..MatchConfig::default()
        }
    }
}

impl ReconPolicy {
    /// Checks what serde cannot: rule names and sensible amounts. Messages name the field.
    pub fn validate(&self) -> Result<(), String> {
        for r in &self.review_rules {
            if !RULE_NAMES.contains(&r.as_str()) {
                return Err(format!(
                    "review_rules: unknown rule '{r}' (rules: {})",
                    RULE_NAMES.join(", ")
                ));
            }
        }
        let m = &self.matching;
        if m.tolerance.is_sign_negative() || m.max_fee.is_sign_negative() {
            return Err("matching: tolerance and max_fee must not be negative".into());
        }
        if m.name_threshold > 100 || m.min_confidence > 100 {
            return Err("matching: name_threshold and min_confidence are 0-100".into());
        }
        if m.max_auto_credit.is_sign_negative() {
            return Err("matching: max_auto_credit must not be negative".into());
        }
        if m.max_auto_credit_share.is_sign_negative()
            || m.max_auto_credit_share > Decimal::ONE_HUNDRED
        {
            return Err(
                "matching: max_auto_credit_share is a percent of the payment, 0-100".into(),
            );
        }
        if !(100..=1_000_000).contains(&self.chunk_entries) {
            return Err(format!(
                "chunk_entries: {} entries per transaction; 100 to 1000000",
                self.chunk_entries
            ));
        }
        if m.max_subset > 12 {
            return Err("matching: max_subset above 12 makes subset search explode".into());
        }
        Ok(())
    }
}
