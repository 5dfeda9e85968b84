//! Master data as the connectors read it, money helpers, payment terms, ledger balances and the
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
use serde::{Deserialize, Serialize};

/// `customer/<id>`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Customer {
    pub id: String,
    pub name: Option<String>,
    pub currency: Option<String>,
    pub credit_limit: Decimal,
    /// Opening balance from the previous system; invoices issued by ordo come on top.
    pub open_balance: Decimal,
    /// Payment terms text: `net 30`, `2/10 net 30`.
    pub terms: Option<String>,
    /// `standard`, `reduced`, `exempt`, `reverse-charge` (read by rules/tax.rhai).
    pub tax_class: Option<String>,
    pub country: Option<String>,
    /// `complete` (default: ship only when every line is available) or `partial`.
    pub ship_policy: Option<String>,
    /// IBANs / account numbers, for bank reconciliation.
    pub bank_accounts: Vec<String>,
    /// Sales stop: rules/pricing.rhai holds the order.
    pub blocked: bool,
    pub discount_percent: Decimal,
}

/// `item/<sku>`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Item {
    pub sku: String,
    pub description: Option<String>,
    pub price: Decimal,
    pub cost: Decimal,
    /// Unit of measure the item is sold and stocked in (`EA` when absent); see [`unit_allows_fractions`].
    pub uom: Option<String>,
    /// Overrides whether quantities of this item may have fractions (default: by its unit).
    pub fractional: Option<bool>,
    pub weight_kg: Decimal,
    pub reorder_point: Decimal,
    pub reorder_qty: Decimal,
    pub supplier: Option<String>,
    pub lead_time_days: u32,
    /// Tax code looked up in the rates rules/tax.rhai returns (`standard`, `reduced`).
    pub tax_code: Option<String>,
}

/// `supplier/<id>`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Supplier {
    pub id: String,
    pub name: Option<String>,
    pub min_order_qty: Decimal,
    pub lead_time_days: u32,
}

/// Units of measure as partners write them, by the one unit they mean (X12 355 and UN/ECE
/// Recommendation 20 codes): `EA`, `PCE`, `C62`… are all "each".
const UNIT_SYNONYMS: &[(&str, &[&str])] = &[
    (
        "EA",
        &["EA", "EACH", "PCE", "PC", "PCS", "C62", "H87", "UN", "UNIT"],
    ),
    ("BX", &["BX", "BOX"]),
    ("CS", &["CS", "CASE"]),
    ("PK", &["PK", "PACK", "PA"]),
    ("KG", &["KG", "KGM"]),
    ("G", &["G", "GR", "GRM"]),
    ("LB", &["LB", "LBR"]),
    ("M", &["M", "MTR"]),
    ("CM", &["CM", "CMT"]),
    ("MM", &["MM", "MMT"]),
    ("L", &["L", "LT", "LTR"]),
    ("ML", &["ML", "MLT"]),
    ("M2", &["M2", "MTK", "SQM"]),
    ("M3", &["M3", "MTQ"]),
    ("H", &["H", "HR", "HUR"]),
];

/// Units measured rather than counted: their quantities may have fractions (`1.5 KG`).
/// Every other unit (`EA`, `BX`, `PK`, unknown codes) counts whole units.
const FRACTIONAL_UNITS: &[&str] = &[
    "KG", "G", "LB", "OZ", "T", "TNE", "M", "CM", "MM", "KM", "FT", "IN", "YD", "L", "ML", "GAL",
    "M2", "M3", "H", "MIN",
];

/// The canonical code of a unit (upper case, synonyms folded: `pce` → `EA`).
pub fn canonical_unit(unit: &str) -> String {
    let u = unit.trim().to_ascii_uppercase();
    UNIT_SYNONYMS
        .iter()
        .find(|(_, all)| all.contains(&u.as_str()))
        .map_or(u, |(c, _)| (*c).to_string())
}

/// Whether quantities in `unit` may have fractions (see [`FRACTIONAL_UNITS`]).
pub fn unit_allows_fractions(unit: &str) -> bool {
    FRACTIONAL_UNITS.contains(&canonical_unit(unit).as_str())
}

impl Item {
    /// The unit the item is sold in (`EA` when master data names none).
    pub fn unit(&self) -> &str {
        self.uom.as_deref().unwrap_or("EA")
    }

    /// Whether an order line may ask for a fraction of this item.
    pub fn allows_fractions(&self) -> bool {
        self.fractional
            .unwrap_or_else(|| unit_allows_fractions(self.unit()))
    }
}

pub const LEDGER: &str = "ledger";
pub const ON_ORDER: &str = "on-order";

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

pub fn add_days(d: NaiveDate, days: u32) -> NaiveDate {
    d.checked_add_days(Days::new(u64::from(days))).unwrap_or(d)
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

/// A field of the instance data, read in place: `ordo_contract::data_field` without copying the
/// value first (same errors).
pub fn data_field<T: serde::de::DeserializeOwned>(
    data: &serde_json::Value,
    key: &str,
) -> Result<T, StepError> {
    let v = data
        .get(key)
        .ok_or_else(|| StepError::Permanent(format!("instance data has no '{key}'")))?;
    T::deserialize(v).map_err(|e| StepError::Permanent(format!("'{key}': {e}")))
}

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
    fn units_fold_synonyms_and_say_whether_fractions_are_allowed() {
        assert_eq!(canonical_unit("pce"), "EA");
        assert_eq!(canonical_unit("C62"), "EA");
        assert_eq!(canonical_unit("KGM"), "KG");
        assert_eq!(canonical_unit("XYZ"), "XYZ");
        assert!(!unit_allows_fractions("EA"));
        assert!(!unit_allows_fractions("BX"));
        assert!(
            !unit_allows_fractions("XYZ"),
            "an unknown unit counts whole units"
        );
        assert!(unit_allows_fractions("kgm"));
        let mut item = Item::default();
        assert!(!item.allows_fractions(), "no unit: EA");
        item.fractional = Some(true);
        assert!(item.allows_fractions());
    }

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
