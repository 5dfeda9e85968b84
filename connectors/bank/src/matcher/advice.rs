//! Remittance advices as the matcher uses them: what a payer said a payment pays (X12 820,
//! EDIFACT REMADV), with every deduction already tied to the account the reconciliation
//! policy names for its reason code (`ordo-recon` resolves them; the matcher knows no codes).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A received advice not used by a payment yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advice {
    /// The stored advice's id (`<partner>:<reference>`).
    pub id: String,
    /// The customer who sent it (the partner's customer).
    pub customer_id: String,
    /// The payer's payment reference: a payment whose text carries it names the advice.
    pub reference: String,
    /// The payment it announces.
    pub amount: Decimal,
    pub currency: String,
    pub invoices: Vec<AdviceInvoice>,
    /// Why it may not be booked without a person (a reason code the policy does not map, an
    /// adjustment not tied to an invoice): a fitting payment goes to the exceptions queue with
    /// the advice as the top candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
}

/// One invoice of an advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviceInvoice {
    pub number: String,
    /// Cash the payment brings to it.
    pub paid: Decimal,
    /// What settles it beyond the cash.
    #[serde(default)]
    pub deductions: Vec<Deduction>,
}

/// An amount that settles an invoice without cash, booked to a named account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deduction {
    /// The invoice it settles (filled in when the advice is used).
    #[serde(default)]
    pub invoice: String,
    /// The advice's reason code (`discount` for an early-payment discount).
    pub reason: String,
    /// The account the policy names (an account name of `config/reconciliation.yaml`).
    pub account: String,
    /// Positive: the invoice is settled by this much more than the cash.
    pub amount: Decimal,
    /// An early-payment discount (booked as a discount granted, not a write-off).
    #[serde(default)]
    pub discount: bool,
}

/// The advice behind a match: its id and the deductions to book, per invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdviceUse {
    pub id: String,
    pub reference: String,
    pub deductions: Vec<Deduction>,
}

impl AdviceInvoice {
    /// Cash + deductions: what the advice settles on the invoice (`None`: out of range).
    pub fn settles(&self) -> Option<Decimal> {
        self.deductions
            .iter()
            .try_fold(self.paid, |s, d| s.checked_add(d.amount))
    }
}
