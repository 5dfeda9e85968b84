//! Master data as the connectors read it (the documents themselves are
//! [`ordo_contract::master`]'s, shared with the import), money helpers, payment terms, ledger balances and the
//! per-supplier lock.
//!
//! Balances that many steps change concurrently (a customer's receivables, overdue amount and
//! credit, an item's quantity on order) are kept as atomic counters in the store's stock table
//! (`adjust_stock` is a read-modify-write under a row lock on both backends), at pseudo
//! locations: `ar:<customer>@ledger`, `overdue:<customer>@ledger`, `credit:<customer>@ledger`,
//! `<sku>@on-order`. Documents hold everything else.

use chrono::{Days, NaiveDate};
use ordo_contract::{PaymentTerms, StepContext, StepContextExt, StepError};
use rust_decimal::{Decimal, RoundingStrategy};

pub use ordo_contract::master::{Customer, Item, Supplier, canonical_unit, unit_allows_fractions};

pub const LEDGER: &str = "ledger";
pub const ON_ORDER: &str = "on-order";
/// The stock location of data from before locations, and of a deployment that has one.
pub const DEFAULT_LOCATION: &str = "main";

/// The pseudo location counting what is on order for `location`: [`ON_ORDER`] for the default
/// location (as before locations), `on-order:<location>` for the others.
pub fn on_order_key(location: &str) -> String {
    if location == DEFAULT_LOCATION {
        ON_ORDER.to_string()
    } else {
        format!("{ON_ORDER}:{location}")
    }
}

pub fn ar_key(customer: &str) -> String {
    format!("ar:{customer}")
}
pub fn overdue_key(customer: &str) -> String {
    format!("overdue:{customer}")
}
pub fn credit_key(customer: &str) -> String {
    format!("credit:{customer}")
}

/// Rounds money to `dp` decimals, half away from zero (what accountants expect; banker's
/// rounding is not used).
pub fn round_money(d: Decimal, dp: u32) -> Decimal {
    d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero)
}

/// Minor-unit decimals of a currency (ISO 4217; 2 unless listed).
pub fn currency_decimals(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "ISK" | "CLP" | "VND" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// Parses payment terms; the one parser and its accepted spellings are
/// [`PaymentTerms::parse`].
pub fn parse_terms(text: &str) -> Result<PaymentTerms, String> {
    PaymentTerms::parse(text)
}

/// `d` plus `days`; an error past the calendar's end (year 262143), never the date unchanged.
pub fn add_days(d: NaiveDate, days: u32) -> Result<NaiveDate, StepError> {
    d.checked_add_days(Days::new(u64::from(days)))
        .ok_or_else(|| {
            StepError::Permanent(format!("{d} + {days} days is past the calendar's end"))
        })
}

/// Serializes changes to one supplier's purchase orders: `next_number` keeps its row locked
/// until the step commits (PostgreSQL row lock; SQLite has one writer anyway).
pub async fn lock_supplier(ctx: &mut dyn StepContext, supplier: &str) -> Result<(), StepError> {
    ctx.next_number(&format!("lock.purchasing.{supplier}"))
        .await?;
    Ok(())
}

pub async fn load<T: serde::de::DeserializeOwned + Send>(
    ctx: &mut dyn StepContext,
    kind: &str,
    id: &str,
) -> Result<Option<T>, StepError> {
    ctx.get(kind, id).await
}

/// A field of the instance data, read in place and typed (errors name the field, the
/// document's key and the path of the bad value).
pub use ordo_contract::data_field;

/// A `Decimal` parameter from a step's `with:` block.
pub fn param_decimal(
    params: &serde_json::Value,
    key: &str,
    default: Decimal,
) -> Result<Decimal, StepError> {
    match params.get(key) {
        None | Some(serde_json::Value::Null) => Ok(default),
        Some(v) => serde::Deserialize::deserialize(v)
            .map_err(|e| StepError::Permanent(format!("with.{key}: {e}"))),
    }
}

/// A text parameter from a step's `with:` block, or `default` (each connector documents its
/// parameters' defaults: `location` `main`, `series` `invoice`, ...).
pub fn param_str<'a>(params: &'a serde_json::Value, key: &str, default: &'a str) -> &'a str {
    params.get(key).and_then(|v| v.as_str()).unwrap_or(default)
}

/// The business date of the step.
pub fn today(ctx: &dyn StepContext) -> NaiveDate {
    ctx.now().date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn money_rounds_half_away_from_zero_not_to_even() {
        assert_eq!(round_money(dec!(1.005), 2), dec!(1.01));
        assert_eq!(round_money(dec!(1.015), 2), dec!(1.02));
        assert_eq!(
            round_money(dec!(1.025), 2),
            dec!(1.03),
            "banker's would give 1.02"
        );
        assert_eq!(round_money(dec!(-1.005), 2), dec!(-1.01));
        assert_eq!(currency_decimals("JPY"), 0);
        assert_eq!(currency_decimals("EUR"), 2);
    }
}
