//! `stock.allocate`: reserves stock for what is still open on the order, by the customer's
//! shipping policy, and lists what needs reordering.
//!
//! - `ship_policy: complete` (default): every open line must be available in full, or nothing
//!   is taken (the order waits for goods and ships once).
//! - `ship_policy: partial`: whatever is available is taken and ships now; the rest is a
//!   backorder that ships later (several shipments and invoices per order).
//!
//! The instance data keeps `fulfilment` (ordered / shipped per line) across passes: the order
//! comes back here after each goods receipt. Outcomes: `ready` (something to ship, nothing to
//! reorder) or `reorder` (a line is short or an item fell below its reorder point; what to ship
//! now, if anything, is in `to_ship`).

use crate::checked;
use crate::forecast::{ForecastDoc, RuleForecast};
use crate::master::data_field;
use crate::master::{self, Item, Supplier};
use async_trait::async_trait;
use ordo_contract::{
    Connector, Pricing, StepContext, StepContextExt, StepError, StepInput, StepOutput,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;

pub struct AllocateStock;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FulfilLine {
    pub line_no: u32,
    pub sku: String,
    pub ordered: Decimal,
    #[serde(default)]
    pub shipped: Decimal,
}

impl FulfilLine {
    pub fn open(&self) -> Decimal {
        self.ordered - self.shipped
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Fulfilment {
    pub lines: Vec<FulfilLine>,
    #[serde(default)]
    pub passes: u32,
    #[serde(default)]
    pub shipments: Vec<String>,
    #[serde(default)]
    pub invoices: Vec<String>,
}

impl Fulfilment {
    pub fn complete(&self) -> bool {
        self.lines.iter().all(|l| l.open() <= Decimal::ZERO)
    }
}

/// Takes up to `want` of `sku` under the stock row's lock; returns what was taken and the
/// stock level left.
pub(crate) async fn take(
    ctx: &mut dyn StepContext,
    sku: &str,
    loc: &str,
    want: Decimal,
) -> Result<(Decimal, Decimal), StepError> {
    let after = ctx.adjust_stock(sku, loc, -want).await?;
    if after >= Decimal::ZERO {
        return Ok((want, after));
    }
    let at = || format!("stock {sku}@{loc} level");
    let got = checked::add(want, after, at)?.max(Decimal::ZERO);
    let left = ctx
        .adjust_stock(sku, loc, checked::sub(want, got, at)?)
        .await?;
    Ok((got, left))
}

#[async_trait]
impl Connector for AllocateStock {
    fn name(&self) -> &'static str {
        "stock.allocate"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["ready", "reorder"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let pricing: Pricing = data_field(input.data, "pricing")?;
        let loc = chosen_location(
            input.data,
            master::param_str(input.params, "location", master::DEFAULT_LOCATION),
        )?;
        let customer: CustomerView = data_field(input.data, "customer")?;
        let mut f: Fulfilment = match input.data.get("fulfilment") {
            Some(v) if !v.is_null() => data_field(input.data, "fulfilment")?,
            _ => Fulfilment {
                lines: pricing
                    .lines
                    .iter()
                    .map(|l| FulfilLine {
                        line_no: l.line_no,
                        sku: l.sku.clone(),
                        ordered: l.quantity,
                        shipped: Decimal::ZERO,
                    })
                    .collect(),
                ..Default::default()
            },
        };
        f.passes += 1;
        // Only names the order in error messages (the instance id names it as well).
        let order = input.data["order"]["id"]
            .as_str()
            .unwrap_or(input.instance)
            .to_string();
        // Open quantity per SKU (two lines of one item must fit together).
        let mut need: BTreeMap<String, Decimal> = BTreeMap::new();
        for l in &f.lines {
            if l.open() > Decimal::ZERO {
                let n = need.entry(l.sku.clone()).or_default();
                *n = checked::add(*n, l.open(), || {
                    format!("order {order} quantity of {}", l.sku)
                })?;
            }
        }
        let mut got: BTreeMap<String, Decimal> = BTreeMap::new();
        // What stock could give, before a ship-complete order hands it back.
        let mut could: BTreeMap<String, Decimal> = BTreeMap::new();
        // Stock level after this step's own adjustments (what `stock_level` would now read:
        // the rows stay locked until the step commits).
        let mut level: BTreeMap<String, Decimal> = BTreeMap::new();
        if customer.ship_policy == "partial" {
            for (sku, q) in &need {
                let (t, left) = take(ctx, sku, &loc, *q).await?;
                got.insert(sku.clone(), t);
                could.insert(sku.clone(), t);
                level.insert(sku.clone(), left);
            }
        } else {
            let mut all = true;
            for (sku, q) in &need {
                let (t, left) = take(ctx, sku, &loc, *q).await?;
                got.insert(sku.clone(), t);
                could.insert(sku.clone(), t);
                level.insert(sku.clone(), left);
                if t < *q {
                    all = false;
                }
            }
            if !all {
                for (sku, t) in std::mem::take(&mut got) {
                    if t > Decimal::ZERO {
                        let back = ctx.adjust_stock(&sku, &loc, t).await?;
                        level.insert(sku, back);
                    }
                }
            }
        }
        // Hand the taken quantities to the lines, in line order.
        let mut left = got.clone();
        let mut ship_lines = Vec::new();
        let mut weight = Decimal::ZERO;
        for l in &f.lines {
            let avail = left.entry(l.sku.clone()).or_default();
            let q = l.open().min(*avail).max(Decimal::ZERO);
            if q.is_zero() {
                continue;
            }
            *avail -= q;
            let p = pricing
                .lines
                .iter()
                .find(|p| p.line_no == l.line_no)
                .ok_or_else(|| {
                    StepError::Permanent(format!(
                        "order {order}: fulfilment line {} has no pricing line",
                        l.line_no
                    ))
                })?;
            let at = || format!("order {order} line {} weight", l.line_no);
            weight = checked::add(weight, checked::mul(p.weight_kg, q, at)?, at)?;
            ship_lines.push(ShipLine {
                line_no: l.line_no,
                sku: l.sku.clone(),
                quantity: q,
                uom: p.uom.clone(),
                unit_weight_kg: p.weight_kg,
                description: p.description.clone(),
            });
        }
        // Reorder candidates: short lines, and items now below their reorder point.
        let mut candidates = Vec::new();
        for (sku, q) in &need {
            // Not in `could`: nothing of it was taken.
            let short = checked::sub(*q, could.get(sku).copied().unwrap_or_default(), || {
                format!("order {order} short quantity of {sku}")
            })?;
            let on_hand = match level.get(sku) {
                Some(l) => *l,
                None => ctx.stock_level(sku, &loc).await?,
            };
            let item: Item = ctx.get("item", sku).await?.ok_or_else(|| {
                StepError::Permanent(format!(
                    "order {order}: item '{sku}' is no longer in master data"
                ))
            })?;
            // The stored forecast (forecast.refresh), when there is one: the rule sets the
            // reorder point from it, so the item is always a candidate for the rule to decide.
            let forecast = ctx
                .get::<ForecastDoc>("forecast", sku)
                .await?
                .and_then(|d| d.for_rule());
            // No reorder point and no forecast: never reordered for stock, only for what
            // orders are short of.
            if short <= Decimal::ZERO
                && forecast.is_none()
                && item.reorder_point.is_none_or(|p| on_hand >= p)
            {
                continue;
            }
            candidates.push(candidate(ctx, &item, &loc, short, on_hand, forecast).await?);
        }
        let nothing_to_ship = ship_lines.is_empty();
        let to_ship = ToShip {
            lines: ship_lines,
            weight_kg: weight,
            location: loc,
            country: customer.country,
            value: pricing.total,
        };
        let outcome = if candidates.is_empty() && !nothing_to_ship {
            "ready"
        } else {
            "reorder"
        };
        Ok(StepOutput::outcome(outcome)
            .with("fulfilment", f)
            .with("to_ship", to_ship)
            .with("reorder", json!({ "candidates": candidates })))
    }
}

/// An item at a location as rules/reorder.rhai reads it: the stock position there and the
/// item's and supplier's planning figures. Shared by the order flow (`stock.allocate`) and the
/// scheduled replenishment (`replenish.scan`), so both hand the rule the same facts.
pub async fn candidate(
    ctx: &mut dyn StepContext,
    item: &Item,
    loc: &str,
    short: Decimal,
    on_hand: Decimal,
    forecast: Option<RuleForecast>,
) -> Result<Candidate, StepError> {
    let on_order = ctx
        .stock_level(&item.sku, &master::on_order_key(loc))
        .await?;
    let supplier: Option<Supplier> = match &item.supplier {
        Some(s) => ctx.get("supplier", s).await?,
        None => None,
    };
    // The rule (rules/reorder.rhai) reads numbers: the documented meanings of absent
    // master data fields as numbers (no reorder point: 0, no reorder quantity: 0, no
    // maximum: 0, no supplier minimum: 0; lead time: the item's, else the supplier's, else
    // 0 days).
    Ok(Candidate {
        sku: item.sku.clone(),
        short,
        on_hand,
        on_order,
        reorder_point: item.reorder_point.unwrap_or(Decimal::ZERO),
        reorder_qty: item.reorder_qty.unwrap_or(Decimal::ZERO),
        supplier: item.supplier.clone(),
        supplier_min: supplier
            .as_ref()
            .and_then(|s| s.min_order_qty)
            .unwrap_or(Decimal::ZERO),
        lead_time_days: lead_time_days(item, supplier.as_ref()),
        max_stock: item.max_stock.unwrap_or(Decimal::ZERO),
        location: Some(loc.to_string()),
        forecast,
    })
}

/// Days a purchase of `item` takes: the supplier's stated (positive) lead time, else the
/// item's, else 0 (the same day).
pub fn lead_time_days(item: &Item, supplier: Option<&Supplier>) -> u32 {
    supplier
        .and_then(|s| s.lead_time_days)
        .filter(|d| *d > 0)
        .or(item.lead_time_days)
        .unwrap_or(0)
}

/// The customer as `order.validate` put it in the instance data (defaults filled in).
#[derive(Debug, Deserialize)]
struct CustomerView {
    ship_policy: String,
    country: String,
}

/// The location rules/allocation.rhai chose for the order (`allocation` in the data).
#[derive(Debug, Deserialize)]
struct Chosen {
    location: String,
}

/// The order's stock location: the one rules/allocation.rhai chose (`allocation.location`),
/// else `default` (instance data from before locations, workflows without the rule).
pub fn chosen_location(data: &serde_json::Value, default: &str) -> Result<String, StepError> {
    match data.get("allocation") {
        Some(v) if !v.is_null() => Ok(data_field::<Chosen>(data, "allocation")?.location),
        _ => Ok(default.to_string()),
    }
}

/// What to ship now (`to_ship`): read by rules/shipping.rhai and `shipment.create`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToShip {
    pub lines: Vec<ShipLine>,
    pub weight_kg: Decimal,
    pub location: String,
    pub country: String,
    pub value: Decimal,
}

/// A line to ship.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipLine {
    pub line_no: u32,
    pub sku: String,
    pub quantity: Decimal,
    pub uom: String,
    pub unit_weight_kg: Decimal,
    pub description: Option<String>,
}

/// An item to consider reordering (`reorder.candidates`, read by rules/reorder.rhai).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    pub sku: String,
    pub short: Decimal,
    pub on_hand: Decimal,
    pub on_order: Decimal,
    pub reorder_point: Decimal,
    pub reorder_qty: Decimal,
    pub supplier: Option<String>,
    pub supplier_min: Decimal,
    pub lead_time_days: u32,
    /// The item's most stock per location (min/max; 0: no maximum, the reorder quantity is
    /// bought). Absent in instance data from before it.
    #[serde(default)]
    pub max_stock: Decimal,
    /// The stock location the candidate is for (absent in instance data from before
    /// locations: the step's location).
    #[serde(default)]
    pub location: Option<String>,
    /// The item's stored forecast (`forecast/<sku>`); `null` when it has none, and the rule
    /// then uses the fixed reorder point. Absent in instance data from before forecasts.
    #[serde(default)]
    pub forecast: Option<RuleForecast>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ValidateOrder;
    use crate::testing::{MemoryContext, merge, order_json, run};
    use rust_decimal::dec;
    use serde_json::Value;

    async fn validated(ctx: &mut MemoryContext, lines: &[(&str, &str)], policy: &str) -> Value {
        let mut data = json!({ "order": order_json(lines) });
        let out = run(&ValidateOrder, ctx, data.clone(), json!({})).await;
        merge(&mut data, &out);
        data["customer"]["ship_policy"] = json!(policy);
        data
    }

    #[tokio::test]
    async fn ship_complete_takes_all_lines_or_none() {
        let mut ctx = MemoryContext::seeded();
        let data = validated(&mut ctx, &[("WIDGET", "60"), ("WIDGET", "40")], "complete").await;
        let out = run(&AllocateStock, &mut ctx, data, json!({})).await;
        // 100 taken: stock 0 is below the reorder point 5, so purchasing is asked too.
        assert_eq!(out.outcome, "reorder");
        assert_eq!(out.set["to_ship"]["lines"].as_array().unwrap().len(), 2);
        assert_eq!(out.set["to_ship"]["weight_kg"], json!(dec!(25.00)));
        assert_eq!(ctx.stock[&("WIDGET".into(), "main".into())], dec!(0));
        assert_eq!(out.set["reorder"]["candidates"][0]["short"], json!(dec!(0)));

        let data = validated(&mut ctx, &[("GADGET", "1"), ("WIDGET", "1")], "complete").await;
        let out = run(&AllocateStock, &mut ctx, data, json!({})).await;
        assert_eq!(out.outcome, "reorder");
        assert!(
            out.set["to_ship"]["lines"].as_array().unwrap().is_empty(),
            "nothing ships when one line is short"
        );
        assert_eq!(
            ctx.stock[&("GADGET".into(), "main".into())],
            dec!(10),
            "nothing taken"
        );
    }

    #[tokio::test]
    async fn a_stored_forecast_makes_the_item_a_candidate_for_the_rule() {
        let mut ctx = MemoryContext::seeded();
        // GADGET: 10 on hand, 1 ordered: 9 left, above its fixed reorder point 5, so without a
        // forecast it is no candidate.
        let data = validated(&mut ctx, &[("GADGET", "1")], "complete").await;
        let out = run(&AllocateStock, &mut ctx, data, json!({})).await;
        assert_eq!(out.outcome, "ready");
        // With a forecast stored, the rule decides: the item is a candidate carrying it.
        let doc = crate::forecast::ForecastDoc {
            sku: "GADGET".into(),
            made: chrono::NaiveDate::from_ymd_opt(2026, 9, 21).unwrap(),
            by: "week".into(),
            period_days: 7,
            history_periods: 52,
            method: Some("SBA".into()),
            sigma: dec!(1.5),
            level_percent: 95,
            periods: vec![crate::forecast::ForecastPeriod {
                start: chrono::NaiveDate::from_ymd_opt(2026, 9, 21).unwrap(),
                mean: dec!(3),
                lo: dec!(0),
                hi: dec!(6),
            }],
            error: None,
        };
        ctx.docs.insert(
            ("forecast".into(), "GADGET".into()),
            serde_json::to_value(&doc).unwrap(),
        );
        let data = validated(&mut ctx, &[("GADGET", "1")], "complete").await;
        let out = run(&AllocateStock, &mut ctx, data, json!({})).await;
        assert_eq!(out.outcome, "reorder");
        let c = &out.set["reorder"]["candidates"][0];
        assert_eq!(
            c["forecast"],
            json!({ "method": "SBA", "period_days": 7, "mean": [dec!(3)], "sigma": dec!(1.5) })
        );
        // A stored "no forecast" (too little history) is no forecast: back to the fixed point.
        let mut none = doc.clone();
        none.method = None;
        none.periods.clear();
        none.error = Some("no forecast: fewer than 8 periods of history (has 3)".into());
        ctx.docs.insert(
            ("forecast".into(), "GADGET".into()),
            serde_json::to_value(&none).unwrap(),
        );
        let data = validated(&mut ctx, &[("GADGET", "1")], "complete").await;
        let out = run(&AllocateStock, &mut ctx, data, json!({})).await;
        assert_eq!(out.outcome, "ready");
    }

    #[tokio::test]
    async fn ship_partial_takes_what_is_there_and_backorders_the_rest() {
        let mut ctx = MemoryContext::seeded();
        let mut data = validated(&mut ctx, &[("GADGET", "4"), ("WIDGET", "150")], "partial").await;
        let out = run(&AllocateStock, &mut ctx, data.clone(), json!({})).await;
        assert_eq!(out.outcome, "reorder");
        let lines = out.set["to_ship"]["lines"].as_array().unwrap();
        assert_eq!(lines[0]["quantity"], json!(dec!(4)));
        assert_eq!(lines[1]["quantity"], json!(dec!(100)));
        let c = &out.set["reorder"]["candidates"];
        assert_eq!(
            c.as_array().unwrap().len(),
            1,
            "6 gadgets left is above the reorder point 5"
        );
        assert_eq!(c[0]["sku"], "WIDGET");
        assert_eq!(c[0]["short"], json!(dec!(50)));
        // After shipping, the next pass only looks at what is still open.
        merge(&mut data, &out);
        let mut f: Fulfilment = serde::Deserialize::deserialize(&data["fulfilment"]).unwrap();
        f.lines[0].shipped = dec!(4);
        f.lines[1].shipped = dec!(100);
        assert!(!f.complete());
        data["fulfilment"] = json!(f);
        ctx.stock.insert(("WIDGET".into(), "main".into()), dec!(80));
        let out = run(&AllocateStock, &mut ctx, data, json!({})).await;
        assert_eq!(
            out.outcome, "ready",
            "30 left above the reorder point after taking 50"
        );
        assert_eq!(out.set["to_ship"]["lines"][0]["quantity"], json!(dec!(50)));
        assert_eq!(out.set["fulfilment"]["passes"], json!(2));
    }
}
