//! The canonical remittance advice: what a payer says a payment pays (X12 820, EDIFACT
//! REMADV), stored as `remittance/<partner>:<reference>` and read by bank reconciliation,
//! which allocates the matching bank credit invoice by invoice as the advice says.
//!
//! Amounts are [`Decimal`] and required where the advice needs them: the EDI mapping refuses
//! an advice without its payment amount or an invoice without its paid amount (never zero),
//! and one whose invoices do not add up to the payment.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Party;

/// The store kind advices are kept under (`remittance/<partner>:<reference>`).
pub const REMITTANCE_KIND: &str = "remittance";

/// A received remittance advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemittanceAdvice {
    /// `<partner>:<reference>`: one advice per partner and reference (duplicates are claimed).
    pub id: String,
    /// The customer who pays (the partner profile's `customer`).
    pub customer_id: String,
    /// The trading partner it came from.
    pub partner: Option<String>,
    /// The payer's reference of the payment (X12 TRN02, EDIFACT BGM 1004).
    pub reference: String,
    pub payer: Option<Party>,
    pub payee: Option<Party>,
    /// The payment's total (X12 BPR02, EDIFACT MOA 12/9 at message level).
    pub amount: Decimal,
    pub currency: String,
    /// When the money moves (X12 BPR16, EDIFACT DTM 209/203/138), when the advice says.
    pub payment_date: Option<NaiveDate>,
    /// The advice's own date (X12 DTM 097, EDIFACT DTM 137), when given.
    pub advice_date: Option<NaiveDate>,
    /// Payment method code as written (X12 BPR04), when given.
    pub method: Option<String>,
    /// Adjustments not tied to an invoice (X12 ADX before any RMR of its ENT): their sum and
    /// the invoices' paid amounts make the payment.
    #[serde(default)]
    pub adjustments: Vec<RemittanceAdjustment>,
    /// The invoices the payment pays, in the advice's order.
    pub invoices: Vec<RemittedInvoice>,
    /// `edi-x12` or `edifact`.
    pub channel: String,
}

/// One invoice an advice pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemittedInvoice {
    /// The invoice number as the payer wrote it (X12 RMR02, EDIFACT DOC 1004).
    pub number: String,
    /// Paid on it by this payment (X12 RMR04, EDIFACT MOA 12 in the DOC group).
    pub paid: Decimal,
    /// The invoice's amount as the payer knows it (X12 RMR05, EDIFACT MOA 9/77/39), if given.
    pub invoice_amount: Option<Decimal>,
    /// Early-payment discount taken (X12 RMR06, EDIFACT MOA 52), if given.
    pub discount: Option<Decimal>,
    /// Deductions and other adjustments on this invoice (X12 ADX in the RMR loop, EDIFACT
    /// AJT + MOA in the DOC group).
    #[serde(default)]
    pub adjustments: Vec<RemittanceAdjustment>,
}

/// An adjustment with its reason code (X12 ADX02, code list 426; EDIFACT AJT 4465).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemittanceAdjustment {
    pub reason: String,
    /// As the payment sees it: negative lowers the payment (a deduction the payer took),
    /// positive raises it (X12 ADX01 sign convention; EDIFACT AJT amounts are deductions and
    /// are stored negated).
    pub amount: Decimal,
}

impl RemittedInvoice {
    /// What this payment settles on the invoice: paid + discount + deductions taken
    /// (a negative adjustment is a deduction). `None` when it leaves a decimal's range.
    pub fn settles(&self) -> Option<Decimal> {
        let mut s = self
            .paid
            .checked_add(self.discount.unwrap_or(Decimal::ZERO))?;
        for a in &self.adjustments {
            s = s.checked_sub(a.amount)?;
        }
        Some(s)
    }
}

impl RemittanceAdvice {
    /// Σ paid of the invoices + Σ adjustments not tied to an invoice: what the payment must
    /// be. `None` when it leaves a decimal's range.
    pub fn computed_total(&self) -> Option<Decimal> {
        let mut s = Decimal::ZERO;
        for i in &self.invoices {
            s = s.checked_add(i.paid)?;
        }
        for a in &self.adjustments {
            s = s.checked_add(a.amount)?;
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(paid: i64, disc: Option<i64>, adj: &[i64]) -> RemittedInvoice {
        RemittedInvoice {
            number: "INV-1".into(),
            paid: Decimal::new(paid, 2),
            invoice_amount: None,
            discount: disc.map(|d| Decimal::new(d, 2)),
            adjustments: adj
                .iter()
                .map(|a| RemittanceAdjustment {
                    reason: "01".into(),
                    amount: Decimal::new(*a, 2),
                })
                .collect(),
        }
    }

    #[test]
    fn an_invoice_settles_its_payment_discount_and_deductions() {
        // 480.00 paid, 10.00 discount, a 20.00 deduction (ADX01 -20.00): 510.00 settled
        assert_eq!(
            inv(48000, Some(1000), &[-2000]).settles(),
            Some(Decimal::new(51000, 2))
        );
        assert_eq!(inv(100, None, &[]).settles(), Some(Decimal::new(100, 2)));
        let huge = RemittedInvoice {
            paid: Decimal::MAX,
            ..inv(0, Some(100), &[])
        };
        assert_eq!(huge.settles(), None);
    }
}
