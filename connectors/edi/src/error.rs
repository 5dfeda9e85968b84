//! The crate's one error type.
//!
//! Problems *inside* a readable interchange (wrong counts, missing segments, bad dates...) are
//! not errors of this kind: they are located [`crate::Issue`]s returned as values, so that an
//! acknowledgment can be built from them. `EdiError` is for what stops the crate from doing its
//! job at all: no envelope to read, a document that cannot be mapped, a value that cannot be
//! written with the partner's separators.

use thiserror::Error;

/// Errors of `ordo-edi`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EdiError {
    /// Nothing that starts an interchange (`ISA`, `UNA`, `UNB`) at or after this byte.
    #[error("byte {offset}: no interchange header (ISA, UNA or UNB) found")]
    NoInterchange { offset: usize },
    /// An envelope header that cannot be read (ISA not in its fixed layout, truncated UNA...).
    /// The reader resynchronises on the next header after reporting it.
    #[error("byte {offset}: unreadable {header} header: {reason}")]
    BadHeader {
        offset: usize,
        header: &'static str,
        reason: String,
    },
    /// A segment longer than the reader's limit ([`crate::envelope::Limits`]): its interchange is
    /// not read; reading resumes at the next header.
    #[error("byte {offset}: segment longer than {limit} bytes: interchange not read")]
    SegmentTooLong { offset: usize, limit: usize },
    /// An interchange larger than the reader's limit ([`crate::envelope::Limits`]): not read;
    /// reading resumes at the next header after its start.
    #[error("byte {offset}: interchange larger than {limit} bytes: not read")]
    InterchangeTooLarge { offset: usize, limit: usize },
    /// The source a [`crate::StreamReader`] reads failed after `offset` bytes.
    #[error("byte {offset}: read failed: {reason}")]
    Read { offset: usize, reason: String },
    /// A transaction that cannot be mapped to a canonical document.
    #[error(
        "interchange {interchange}, transaction {transaction}: cannot map to {target}: {reason}"
    )]
    Mapping {
        interchange: String,
        transaction: String,
        target: &'static str,
        reason: String,
    },
    /// A document or envelope that cannot be written (value holds a separator in X12, too long
    /// for a fixed-width ISA field, no transactions...).
    #[error("cannot write {what}: {reason}")]
    Write { what: String, reason: String },
}

impl EdiError {
    /// The byte offset in the input the error is about, when it has one.
    pub fn offset(&self) -> Option<usize> {
        match self {
            EdiError::NoInterchange { offset }
            | EdiError::BadHeader { offset, .. }
            | EdiError::SegmentTooLong { offset, .. }
            | EdiError::InterchangeTooLarge { offset, .. }
            | EdiError::Read { offset, .. } => Some(*offset),
            EdiError::Mapping { .. } | EdiError::Write { .. } => None,
        }
    }
}
