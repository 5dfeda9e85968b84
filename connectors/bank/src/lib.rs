//! `ordo-bank`: bank statement parsers (camt.053/052/054, BAI2, MT940, CSV) into one normalized
//! [`Statement`] model, duplicate fingerprints, and the reconciliation matcher that pairs
//! statement entries with open invoices. Pure: bytes and values in, values or located errors
//! out; no I/O, no runtime.
//!
//! - [`parse`]: format detection and the parsers ([`parse::parse`] is the one entry point).
//! - [`model`]: `Statement`, `Entry`, `TxDetail`.
//! - [`fingerprint`]: stable statement and entry fingerprints for duplicate detection.
//! - [`reference`]: RF / QRR check digits and invoice-number extraction from free text.
//! - [`matcher`]: `reconcile` and its rules; [`report`]: the per-statement report.
//! - [`error`]: the crate's one error enum, every variant located.
//! - [`write`]: a camt.053 writer (the demo's bank, benchmarks, round trips).
//! - `workload` (feature `gen`, for tests and benchmarks only, not in the `ordo` binary):
//!   generated statements + invoices with known truth.
//!
//! See `README.md` beside this crate for the rules, configuration and measured figures.

pub mod error;
pub mod fingerprint;
pub mod matcher;
pub mod model;
pub mod pain001;
pub mod parse;
pub mod reference;
pub mod report;
#[cfg(feature = "gen")]
pub mod workload;
pub mod write;

pub use error::{BankError, Location};
pub use fingerprint::{entry_fingerprints, statement_fingerprint};
pub use matcher::{Customer, ItemKind, MatchConfig, OpenItem, ReconResult, reconcile};
pub use model::*;
pub use parse::{ParseOptions, parse};
pub use report::{StatementReport, report};
