//! `ordo-sales`: order-to-cash business connectors. They work only on canonical documents and
//! the [`StepContext`] port, so each runs inside its step's transaction and is testable with an
//! in-memory context.
//!
//! Document shapes this crate reads (master data, kept as JSON documents in the store):
//! - `customer/<id>`: `{ "id", "name", "currency", "credit_limit", "open_balance" }`
//! - `item/<sku>`: `{ "sku", "description", "price", "uom" }`

mod confirm;
mod reserve;
mod validate;

#[cfg(test)]
mod testing;

pub use confirm::ConfirmOrder;
pub use reserve::ReserveStock;
pub use validate::ValidateOrder;

use ordo_contract::Connector;
use std::sync::Arc;

/// Every connector of this crate, for the engine's registry.
pub fn connectors() -> Vec<Arc<dyn Connector>> {
    vec![
        Arc::new(ValidateOrder),
        Arc::new(ReserveStock),
        Arc::new(ConfirmOrder),
    ]
}
