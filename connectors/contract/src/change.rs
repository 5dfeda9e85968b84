//! A change to an order as a channel states it (`ordo order change`, the API, an X12 860 or
//! EDIFACT ORDCHG mapped by `ordo_edi::map`); `ordo_sales::change::apply_change` decides it.

use crate::docs::Address;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A change to an order as a channel states it. Only what is given changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderChange {
    /// Changed, removed or added lines.
    #[serde(default)]
    pub lines: Vec<LineChange>,
    /// A new requested delivery date.
    #[serde(default)]
    pub requested_date: Option<chrono::NaiveDate>,
    /// A new ship-to address (the `ship_to` party's address; the party is added when absent).
    #[serde(default)]
    pub ship_to: Option<Address>,
    /// Why (kept in the order's version history).
    #[serde(default)]
    pub reason: Option<String>,
}

/// One line of a change: `quantity` sets a line's quantity (a line number the order does not
/// have adds the line, with `sku`); `remove` takes the line off the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineChange {
    pub line_no: u32,
    #[serde(default)]
    pub quantity: Option<Decimal>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub remove: bool,
}
