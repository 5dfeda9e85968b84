//! `ordo-recon`: bank reconciliation bound to the workflow. The pure `ordo-bank` crate parses
//! statements and matches payments; this crate keeps the results in the store through the
//! contract's transaction port ([`ordo_contract::StepContext`]) and so does no I/O itself:
//!
//! - [`import`]: one received bank file → raw bytes archived in the store, statements checked
//!   against the bank account profile, duplicates (same file, same statement, the same entries
//!   again) recognised and not booked, a malformed file rejected with its located error and
//!   nothing booked. The engine's folder watcher and `ordo bank import` call it.
//! - [`reconcile`]: the `bank.reconcile` connector (`workflows/bank-reconciliation.yaml`, on a
//!   cron schedule): every imported statement not reconciled yet is matched against the open
//!   invoices; each automatic match becomes payments and `payment.matched` events for the
//!   waiting invoice-collection instances; the rest goes to the exceptions queue; a report per
//!   statement is stored and written out as JSON and CSV.
//! - [`exceptions`]: the exceptions queue finance works (`ordo recon …`): confirm a match (one
//!   invoice, several, or a split with amounts), optionally learning the payer's account for
//!   next time, or reject the entry with a reason.
//! - [`openitems`]: the open-items index (what an invoice document contributes to the store's
//!   `open_items` table), the candidate lookup of a run, and the index check.
//! - [`policy`]: `config/reconciliation.yaml`, the tolerances and rule policy finance tunes.
//!
//! Store layout (documents, kind/id):
//! `bank_file/<sha256>` raw file + outcome (a file over 1 MiB of text: its content in
//! `bank_file_part/<sha256>:<n>`) · `bank_statement/<fingerprint>` the parsed statement's head +
//! status, its entries in `bank_statement_entries/<fingerprint>:<block>` (1,000 each, see
//! `stored.rs`) · `bank_entry/<entry fingerprint>` seen entries · `bank_queue/pending` statements
//! waiting for the next run · `bank_match/<account>:<entry ref>` automatic matches ·
//! `bank_exception/<account>:<entry ref>` the exceptions queue · `bank_report/<fingerprint>`
//! report per statement · `recon_learned/<account>` payer account → customer ·
//! `recon_policy/current` the policy in force · `payment/PAY-…` payments ·
//! `remittance/<partner>:<reference>` remittance advices (written by the partner channel;
//! `received` until a payment uses one, then `consumed`) · `remittance_use/<id>` the claim
//! that an advice was used.

pub mod exceptions;
pub mod import;
pub mod openitems;
pub mod policy;
pub mod reconcile;
pub mod refund;
mod stored;

pub use exceptions::{ConfirmLine, confirm_exception, reject_exception};
pub use import::{ImportOutcome, ImportProfile, import_file, import_file_with};
pub use policy::{DEFAULT_CHUNK_ENTRIES, POLICY_DOC, ReconPolicy};
pub use reconcile::{ReconcileBank, run_reconciliation, run_reconciliation_chunk, stored_policy};
pub use refund::refund;

use ordo_contract::StepError;

pub(crate) fn permanent(msg: impl Into<String>) -> StepError {
    StepError::Permanent(msg.into())
}

/// Accounts compare without spaces and case (`DE89 3704…` = `de893704…`).
pub fn normalize_account(a: &str) -> String {
    a.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}
