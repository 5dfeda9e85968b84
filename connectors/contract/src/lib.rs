//! `ordo-contract`: the seam between the engine and the connectors.
//!
//! It holds three things and nothing else:
//! - [`docs`]: the canonical business documents (`Order`, `Shipment`, `Invoice`, `Payment`,
//!   `Party`, `Money`) that every channel maps to and from. Money is always
//!   [`rust_decimal::Decimal`]; in JSON it is written as an exact JSON number
//!   (`serde-with-arbitrary-precision`), never through `f64`.
//! - [`step`]: the [`Connector`] trait a connector implements and the [`StepContext`] port through
//!   which it reads and writes business data. The engine binds a `StepContext` to the one store
//!   transaction of the step, so everything a connector does commits or rolls back together.
//! - [`intake`]: the rules every order channel applies (bounds, ids, duplicates claimed in the
//!   store), written once over the [`StepContext`] port.
//!
//! The crate does no I/O and depends on no runtime.

pub mod docs;
pub mod intake;
pub mod step;

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

pub use intake::{Bounds, Intake, accept_order, excerpt};
pub use step::*;
