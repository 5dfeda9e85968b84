//! `ordo-edi`: X12 (4010/5010) and UN/EDIFACT (D96A/D01B) codec for ordo — pure, no I/O.
//!
//! - [`Reader`] / [`read`]: stream interchanges from a byte slice ([`envelope`]), with
//!   separators re-detected at every ISA/UNA/UNB, envelope counts and control numbers checked;
//!   [`StreamReader`]: the same items from a [`std::io::Read`] the caller opened, holding one
//!   chunk and one interchange (bounded by [`Limits`]), not the input.
//! - [`validate`]: check each transaction against a small table-driven schema ([`schema`]) and
//!   return located [`Issue`]s carrying the standard error codes.
//! - [`ack`]: 997, 999 and CONTRL built from those issues.
//! - [`write`]: write interchanges with a partner's separators, version and control number.
//! - [`map`]: 850/ORDERS → [`ordo_contract::Order`]; Order/Shipment/Invoice → 855/ORDRSP,
//!   856/DESADV, 810/INVOIC.
//!
//! See the crate README for formats, error codes and measured figures.

pub mod ack;
pub mod demo;
pub mod envelope;
pub mod error;
pub mod issue;
pub mod location;
pub mod map;
pub mod schema;
pub mod segment;
pub mod syntax;
mod totals;
pub mod validate;
pub mod values;
pub mod workload;
pub use validate::validate;
pub mod write;

pub use envelope::{
    Group, Interchange, Limits, PartnerId, Reader, StreamReader, Streamed, Transaction,
};
pub use error::EdiError;
pub use issue::{Code, ElementAt, Issue, Level, SegmentAt, Severity};
pub use location::{LineCursor, Lines, segment_span};
pub use segment::{Segment, SegmentRef};
pub use syntax::{Separators, Standard, Version};

/// Streams the interchanges in `input` (see [`Reader`]).
pub fn read(input: &[u8]) -> Reader<'_> {
    Reader::new(input)
}
