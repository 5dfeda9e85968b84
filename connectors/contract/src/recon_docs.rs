//! Typed views of the stored documents only bank reconciliation reads: a customer's payer
//! accounts and an exceptions-queue entry (a pending statement is `ordo-recon`'s own). (An invoice's money state is
//! the one [`crate::InvoiceCollection`] sales reads too.)
//!
//! They are *views*, not the whole documents, so unknown fields are ignored (no
//! `deny_unknown_fields`). What reconciliation needs is required: reading a document without
//! it fails with a message naming the document kind, its key and the field
//! ([`crate::read_doc`], [`crate::read_doc_text`]) instead of reading as zero or being skipped.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;

/// What reconciliation reads of a customer (`customer/<id>`): its name and the accounts it
/// pays from. `bank_accounts` is optional in master data (absent: none known).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CustomerPayer {
    pub name: String,
    #[serde(default)]
    pub bank_accounts: Vec<String>,
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
    use crate::read_doc;
    use serde_json::json;

    #[test]
    fn a_customer_needs_a_name_and_may_lack_accounts() {
        let c: CustomerPayer = read_doc("customer", "C1", &json!({ "name": "Acme" })).unwrap();
        assert!(c.bank_accounts.is_empty());
        let e = read_doc::<CustomerPayer>("customer", "C1", &json!({ "id": "C1" })).unwrap_err();
        assert_eq!(e, "customer 'C1': missing field `name`");
    }
}

/// One row of the store's open-items index (`open_items`): an open receivable as the
/// reconciliation matcher looks it up. Derived from the `invoice/<number>` document on every
/// write of it, in the same transaction (`ordo_recon::openitems::index_row` is the one
/// derivation), so the index equals the documents: a row exists exactly for each invoice that
/// is not closed and whose open amount net of payments in transit is above zero.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct OpenItemRow {
    pub invoice: String,
    /// The invoice number normalised as the matcher normalises references in texts (the
    /// full key, and the digits-only key when the number has one).
    pub ref_key: String,
    pub digit_key: Option<String>,
    pub customer_id: String,
    /// Open amount net of payments in transit.
    pub amount_open: Decimal,
    pub currency: String,
    pub due_date: NaiveDate,
    pub issue_date: NaiveDate,
    pub terms: crate::PaymentTerms,
}

/// What a reconciliation run asks the open-items index: the rows whose `ref_key` or
/// `digit_key` is one of `keys`, whose customer is one of `customers`, or whose open amount is
/// one of `amounts` (the union, ordered by invoice); or, with `all`, every row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenItemQuery {
    pub keys: Vec<String>,
    pub customers: Vec<String>,
    pub amounts: Vec<Decimal>,
    pub all: bool,
}

impl OpenItemQuery {
    /// Whether `row` answers this query (the store answers the same by its indexes).
    pub fn wants(&self, row: &OpenItemRow) -> bool {
        self.all
            || self.keys.iter().any(|k| {
                *k == row.ref_key || row.digit_key.as_deref().is_some_and(|d| d == k.as_str())
            })
            || self.customers.contains(&row.customer_id)
            || self.amounts.contains(&row.amount_open.normalize())
    }
}

/// The index's answer: the rows, ordered by invoice, and the invoices whose stored document
/// could not be read as an open item (id, located message), which fail a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenItemsFound {
    pub rows: Vec<OpenItemRow>,
    pub problems: Vec<(String, String)>,
}
