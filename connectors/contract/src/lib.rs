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
//! The crate does no I/O and depends on no runtime.

pub mod docs;
pub mod step;

pub use docs::*;
pub use step::*;
