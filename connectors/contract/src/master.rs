//! Master data documents: `customer/<id>`, `item/<sku>`, `supplier/<id>`, one type each, used
//! by the import that writes them (`ordo data import`, the engine's `masterdata` module) and by
//! every connector that reads them. Stored documents are exactly what these types serialize to,
//! so they deny unknown fields: a field nobody reads is a typo, and a document that lacks a
//! required field (`credit_limit`, `price`, `terms`) fails the step that reads it, naming the
//! document and the field, instead of reading as zero.
//!
//! Also the units of measure the documents use ([`canonical_unit`]).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `customer/<id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub id: String,
    pub name: String,
    /// ISO 4217 code; an order in another currency is held.
    pub currency: String,
    /// Required: a customer without a limit is a mistake, not a limit of zero.
    pub credit_limit: Decimal,
    /// Opening balance from the previous system. Absent means nothing was owed when ordo took
    /// over (stated by the import format, not guessed): 0.
    #[serde(default)]
    pub open_balance: Decimal,
    /// Payment terms, one of the spellings [`crate::PaymentTerms::parse`] accepts.
    pub terms: String,
    /// `standard`, `reduced`, `exempt`, `reverse-charge` (read by rules/tax.rhai; absent:
    /// `standard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_class: Option<String>,
    /// ISO 3166 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// `complete` or `partial` (absent: `complete`, ship only when every line is available).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ship_policy: Option<String>,
    /// `shipment` or `order` (absent: the workflow's setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_per: Option<String>,
    /// IBANs (checked) or other account numbers the customer pays from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bank_accounts: Vec<String>,
    /// Sales stop: rules/pricing.rhai holds the order. Absent: not blocked.
    #[serde(default)]
    pub blocked: bool,
    /// The customer's standing discount. Absent: none.
    #[serde(default)]
    pub discount_percent: Decimal,
}

/// `item/<sku>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub sku: String,
    pub description: String,
    /// The list price; required: an item without a price is not sold at zero.
    pub price: Decimal,
    /// Absent: not known; margins count the item at no cost ([`Item::unit_cost`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Decimal>,
    /// Unit of measure the item is sold and stocked in (absent: `EA`); see
    /// [`unit_allows_fractions`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    /// Overrides whether quantities of this item may have fractions (absent: by its unit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fractional: Option<bool>,
    /// Absent: not weighed; packing counts the item as weightless ([`Item::unit_weight_kg`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<Decimal>,
    /// Absent: never reordered for stock (only for orders that are short).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_point: Option<Decimal>,
    /// Absent: reorder only what orders are short of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder_qty: Option<Decimal>,
    /// The most stock a location should hold (min/max replenishment: the scheduled run buys
    /// up to it when the position falls below `reorder_point`). Absent: no maximum; the
    /// reorder quantity is bought instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_stock: Option<Decimal>,
    /// Absent: not bought (a short order is backordered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    /// Absent: the supplier's lead time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_time_days: Option<u32>,
    /// Tax code looked up in the rates rules/tax.rhai returns (absent: `standard`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_code: Option<String>,
    /// The item group sales reports group by (`ordo report sales --by item-group`; absent:
    /// `(none)` there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Made to order: what stock lacks for an order line is produced from `bom`
    /// (workflows/production.yaml), not bought. Absent: bought or taken from stock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_to_order: Option<bool>,
    /// The bill of materials of one unit (required for a made-to-order item; every component
    /// an item, no cycle).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bom: Vec<BomLine>,
    /// The work steps of producing it, in order, each a task for the role `production`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub work_steps: Vec<String>,
    /// The cost of the work per unit produced, added to the components' cost. Absent: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labour_cost: Option<Decimal>,
}

/// One component of a bill of materials: `quantity` of `sku` per unit produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BomLine {
    pub sku: String,
    pub quantity: Decimal,
}

impl Item {
    /// Whether order lines of it are produced (workflows/production.yaml).
    pub fn is_made_to_order(&self) -> bool {
        self.made_to_order == Some(true)
    }

    /// The cost the ledger values this item's stock at: required there (a shipment or a goods
    /// receipt of an item without a cost cannot be posted), never taken as zero.
    pub fn ledger_cost(&self) -> Result<Decimal, String> {
        self.cost.ok_or_else(|| {
            format!(
                "item '{}' has no cost: the ledger values stock at cost (add `cost` in master data)",
                self.sku
            )
        })
    }

    /// The unit the item is sold in (`EA` when master data names none).
    pub fn unit(&self) -> &str {
        self.uom.as_deref().unwrap_or("EA")
    }

    /// Whether an order line may ask for a fraction of this item.
    pub fn allows_fractions(&self) -> bool {
        self.fractional
            .unwrap_or_else(|| unit_allows_fractions(self.unit()))
    }

    /// The cost margins are computed with: 0 when master data gives none (documented on
    /// [`Item::cost`]: the import format makes cost optional).
    pub fn unit_cost(&self) -> Decimal {
        self.cost.unwrap_or(Decimal::ZERO)
    }

    /// The weight packing uses: 0 when master data gives none (documented on
    /// [`Item::weight_kg`]).
    pub fn unit_weight_kg(&self) -> Decimal {
        self.weight_kg.unwrap_or(Decimal::ZERO)
    }

    /// The tax code (`standard` when master data names none).
    pub fn tax_code(&self) -> &str {
        self.tax_code.as_deref().unwrap_or("standard")
    }
}

/// `supplier/<id>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Supplier {
    pub id: String,
    pub name: String,
    /// Absent: no minimum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_order_qty: Option<Decimal>,
    /// Absent: delivers the same day (items may state their own lead time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_time_days: Option<u32>,
}

/// `location/<id>`: a stock location (warehouse) goods are stocked at, shipped from and bought
/// for. A deployment without any location documents has one location, `main` (the default of
/// data from before locations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub id: String,
    pub name: String,
    /// ISO 3166 country the location ships from (rules/allocation.rhai prefers a location in
    /// the customer's country). Absent: not known; no country matches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Lower ships first among otherwise equal locations. Absent: last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::from_doc;
    use serde_json::json;

    #[test]
    fn a_customer_without_credit_limit_or_with_text_money_is_refused_by_field() {
        let ok = json!({ "id": "C1", "name": "Acme", "currency": "EUR", "credit_limit": 100, "terms": "net 30" });
        let c: Customer = from_doc("customer", "C1", &ok).unwrap();
        assert_eq!(c.credit_limit, Decimal::from(100));
        let mut missing = ok.clone();
        missing.as_object_mut().unwrap().remove("credit_limit");
        let e = from_doc::<Customer>("customer", "C1", &missing)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("customer 'C1'") && e.contains("credit_limit"),
            "{e}"
        );
        let mut comma = ok.clone();
        comma["credit_limit"] = json!("12,50");
        let e = from_doc::<Customer>("customer", "C1", &comma)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("customer 'C1': credit_limit: "),
            "names the field: {e}"
        );
        let mut typo = ok;
        typo["credit_limt"] = json!(5);
        let e = from_doc::<Customer>("customer", "C1", &typo)
            .unwrap_err()
            .to_string();
        assert!(e.contains("credit_limt"), "{e}");
    }

    #[test]
    fn an_item_without_price_is_refused() {
        let e = from_doc::<Item>(
            "item",
            "A-1",
            &json!({ "sku": "A-1", "description": "Bolt" }),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("item 'A-1'") && e.contains("`price`"), "{e}");
    }

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
        let mut item: Item =
            serde_json::from_value(json!({ "sku": "A", "description": "A", "price": 1 })).unwrap();
        assert!(!item.allows_fractions(), "no unit: EA");
        item.fractional = Some(true);
        assert!(item.allows_fractions());
    }
}
