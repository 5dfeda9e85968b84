//! `ordo-contract`: the seam between the engine and the connectors.
//!
//! It holds two things and nothing else:
//! - [`docs`]: the canonical business documents (`Order`, `Shipment`, `Invoice`, `Payment`,
//!   `Party`, `Money`) that every channel maps to and from. Money is always
//!   [`rust_decimal::Decimal`]; in JSON it is written as an exact JSON number
//!   (`serde-with-arbitrary-precision`), never through `f64`.
//! - [`step`]: the [`Connector`] trait a connector implements and the [`StepContext`] port through
//!   which it reads and writes business data. The engine binds a `StepContext` to the one store
//!   transaction of the step, so everything a connector does commits or rolls back together.
//!
//! - [`rules`]: business rules every entry point shares (payment terms, the IBAN check).
//!
//! The crate does no I/O and depends on no runtime.

pub mod company;
pub mod docs;
pub mod rules;
pub mod step;

pub use company::Company;
pub use docs::*;

/// The id a received file is stored under (bank statements, partner interchanges, inbox
/// files): the SHA-256 of its bytes in hex, so the same content is recognised however it is
/// named.
pub fn content_id(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub use step::*;
