//! Typed views of the stored documents bank reconciliation reads: the collection state of an
//! invoice, a customer's payer accounts, a pending statement and an exceptions-queue entry.
//!
//! They are *views*, not the whole documents: an invoice carries its lines, its dunning state
//! and whatever the workflow added, which matching does not need, so unknown fields are
//! ignored (no `deny_unknown_fields`). What matching does need is required: a stored invoice
//! without `open_amount`, a date or its terms is a broken document, and reading it fails with
//! a message naming the document kind, its key and the field ([`read_stored`]) instead of
//! reading as zero or being skipped.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::PaymentTerms;

/// Reads stored document `kind/key` from its JSON text as `T`. The error names the document
/// and the path of the field (`invoice INV-000001: open_amount: missing field`), so a person
/// can find and repair it.
pub fn read_stored<T: DeserializeOwned>(kind: &str, key: &str, text: &str) -> Result<T, String> {
    // The plain parse first (a run reads every open invoice); the path is tracked only to
    // locate an error, by parsing again.
    match serde_json::from_str(text) {
        Ok(v) => Ok(v),
        Err(plain) => {
            let mut de = serde_json::Deserializer::from_str(text);
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Err(e) => Err(located(kind, key, e)),
                Ok(_) => Err(format!(
                    "{kind} {}: {plain}",
                    crate::excerpt(key, crate::DEFAULT_EXCERPT_CHARS)
                )),
            }
        }
    }
}

/// [`read_stored`] for a document already parsed into a [`Value`].
pub fn read_stored_value<T: DeserializeOwned>(
    kind: &str,
    key: &str,
    value: &Value,
) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| located(kind, key, e))
}

fn located<E: std::fmt::Display>(
    kind: &str,
    key: &str,
    e: serde_path_to_error::Error<E>,
) -> String {
    let path = e.path().to_string();
    let inner = e.into_inner().to_string();
    // serde names a missing field in its message, the path then points at its parent ("."):
    // say the field where it is missing, the path where a value is wrong.
    let key = crate::excerpt(key, crate::DEFAULT_EXCERPT_CHARS);
    if path == "." {
        format!("{kind} {key}: {inner}")
    } else {
        format!("{kind} {key}: field {path}: {inner}")
    }
}

/// A payment applied to an invoice (`payments[]`), as far as reconciliation needs it: its id,
/// to tell whether a payment in transit has arrived.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AppliedPaymentRef {
    pub id: String,
}

/// A payment booked by reconciliation that the invoice's collection instance has not applied
/// yet (`payments_in_transit[]`): it settles this much of the open amount.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentInTransit {
    pub id: String,
    pub settles: Decimal,
}

/// What reconciliation reads of a stored invoice (`invoice/<number>`): its collection state.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InvoiceCollection {
    /// `open`, `partially_paid`, `in_collection`, `paid`, `cancelled`.
    pub status: String,
    pub customer_id: String,
    pub currency: String,
    pub open_amount: Decimal,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub terms: PaymentTerms,
    /// Written as `[]` by `invoice.create` and appended to by `payment.apply`.
    pub payments: Vec<AppliedPaymentRef>,
    /// Absent until reconciliation books a payment for the invoice (an empty list).
    #[serde(default)]
    pub payments_in_transit: Vec<PaymentInTransit>,
}

impl InvoiceCollection {
    /// Paid or cancelled: nothing to match against.
    pub fn is_closed(&self) -> bool {
        self.status == "paid" || self.status == "cancelled"
    }

    /// The open amount less the payments in transit not applied yet. `None` when the stored
    /// amounts overflow a decimal (absurd values): the caller decides what that means.
    pub fn open_net_of_transit(&self) -> Option<Decimal> {
        let mut open = self.open_amount;
        for t in &self.payments_in_transit {
            if !self.payments.iter().any(|p| p.id == t.id) {
                open = open.checked_sub(t.settles)?;
            }
        }
        Some(open)
    }
}

/// What reconciliation reads of a customer (`customer/<id>`): its name and the accounts it
/// pays from. `bank_accounts` is optional in master data (absent: none known).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CustomerPayer {
    pub name: String,
    #[serde(default)]
    pub bank_accounts: Vec<String>,
}

/// A statement waiting for reconciliation (`bank_statement/<fingerprint>`), without the
/// statement body (the bank crate reads that).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredStatementHead {
    /// `pending` until a run reconciles it, then `reconciled`.
    pub status: String,
    /// The bank account profile it was imported for.
    pub account: String,
    /// 1-based positions in the bank's file of the entries kept (duplicates dropped).
    pub positions: Vec<usize>,
}

/// An entry of the exceptions queue (`bank_exception/<id>`), as a decision reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BankExceptionView {
    pub id: String,
    /// `open`, `matched`, `rejected`.
    pub status: String,
    /// `credit` (money in) or `debit`.
    pub direction: String,
    pub amount: Decimal,
    pub currency: String,
    /// The entry as finance sees it (`account:statement/position`).
    pub entry: String,
    /// Absent when the bank gave neither a booking nor a value date.
    #[serde(default)]
    pub booking_date: Option<NaiveDate>,
    #[serde(default)]
    pub remittance: Option<String>,
    #[serde(default)]
    pub bank_ref: Option<String>,
    #[serde(default)]
    pub counterparty_account: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;
    use serde_json::json;

    fn invoice() -> Value {
        json!({ "number": "INV-1", "status": "open", "customer_id": "C1", "currency": "EUR",
                "open_amount": 100, "issue_date": "2026-09-01", "due_date": "2026-10-01",
                "terms": { "net_days": 30 }, "payments": [{ "id": "PAY-1", "amount": 5 }],
                "payments_in_transit": [{ "id": "PAY-1", "settles": 5 }, { "id": "PAY-2", "settles": 30 }],
                "lines": [] })
    }

    #[test]
    fn an_invoice_reads_net_of_payments_in_transit() {
        let inv: InvoiceCollection = read_stored_value("invoice", "INV-1", &invoice()).unwrap();
        assert_eq!(inv.open_net_of_transit(), Some(dec!(70)));
        assert!(!inv.is_closed());
    }

    #[test]
    fn a_missing_open_amount_is_a_located_error_not_zero() {
        let mut v = invoice();
        v.as_object_mut().unwrap().remove("open_amount");
        let e = read_stored_value::<InvoiceCollection>("invoice", "INV-1", &v).unwrap_err();
        assert_eq!(e, "invoice INV-1: missing field `open_amount`");
        let text = v.to_string();
        let e = read_stored::<InvoiceCollection>("invoice", "INV-1", &text).unwrap_err();
        assert!(
            e.starts_with("invoice INV-1: ") && e.contains("`open_amount`"),
            "{e}"
        );
    }

    #[test]
    fn a_wrong_typed_field_names_its_path() {
        let mut v = invoice();
        v["payments_in_transit"][1]["settles"] = json!("12,50");
        let e = read_stored_value::<InvoiceCollection>("invoice", "INV-1", &v).unwrap_err();
        assert!(
            e.starts_with("invoice INV-1: field payments_in_transit[1].settles: "),
            "{e}"
        );
        let mut v = invoice();
        v["terms"] = json!(null);
        let e = read_stored_value::<InvoiceCollection>("invoice", "INV-1", &v).unwrap_err();
        assert!(e.starts_with("invoice INV-1: field terms: "), "{e}");
    }

    #[test]
    fn a_customer_needs_a_name_and_may_lack_accounts() {
        let c: CustomerPayer =
            read_stored_value("customer", "C1", &json!({ "name": "Acme" })).unwrap();
        assert!(c.bank_accounts.is_empty());
        let e = read_stored_value::<CustomerPayer>("customer", "C1", &json!({ "id": "C1" }))
            .unwrap_err();
        assert_eq!(e, "customer C1: missing field `name`");
    }
}
