//! Scheduled replenishment (workflows/replenishment.yaml): every item at every stock location
//! against its reorder point and maximum, not only the items an order happens to allocate.
//!
//! - `replenish.scan` hands rules/reorder.rhai one candidate per item with a supplier and a
//!   reorder point, maximum or forecast, per location (the `location` master data documents;
//!   none: `main`), built by [`crate::allocate::candidate`] as the order flow builds them.
//! - `replenish.order` raises what the rule planned through [`crate::purchase::place`] (the
//!   one append to a supplier's open PO), each need claimed first: the claim
//!   `replenish-claim/<sku>@<location>#<generation>` is a unique key in the store
//!   (`claim_document`), so two runs, in one process or two, never buy the same need twice;
//!   `replenish-need/<sku>@<location>` keeps the generation and the PO that covers it. A need
//!   whose PO still brings the item is covered; once that PO is received the next generation
//!   can be claimed.

use crate::allocate::candidate;
use crate::forecast::ForecastDoc;
use crate::master::{self, Item, lock_supplier};
use crate::purchase::{Placed, Planned, place};
use async_trait::async_trait;
use ordo_contract::master::Location;
use ordo_contract::{
    Connector, PurchaseOrder as PoDoc, StepContext, StepContextExt, StepError, StepInput,
    StepOutput, data_field, from_doc,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;

/// The stock locations: every `location` document, or `main` when there is none.
pub async fn locations(ctx: &mut dyn StepContext) -> Result<Vec<Location>, StepError> {
    let mut out = Vec::new();
    for (id, body) in ctx.get_documents("location", "").await? {
        out.push(from_doc::<Location>("location", &id, &body)?);
    }
    if out.is_empty() {
        out.push(Location {
            id: master::DEFAULT_LOCATION.into(),
            name: "Main".into(),
            country: None,
            priority: None,
        });
    }
    Ok(out)
}

pub struct ReplenishScan;

#[async_trait]
impl Connector for ReplenishScan {
    fn name(&self) -> &'static str {
        "replenish.scan"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["scanned"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        _input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let locs = locations(ctx).await?;
        let mut items = Vec::new();
        for (sku, body) in ctx.get_documents("item", "").await? {
            items.push(from_doc::<Item>("item", &sku, &body)?);
        }
        let mut candidates = Vec::new();
        for item in &items {
            if item.supplier.is_none() {
                continue;
            }
            let forecast = ctx
                .get::<ForecastDoc>("forecast", &item.sku)
                .await?
                .and_then(|d| d.for_rule());
            if forecast.is_none() && item.reorder_point.is_none() {
                continue;
            }
            for loc in &locs {
                let on_hand = ctx.stock_level(&item.sku, &loc.id).await?;
                candidates.push(
                    candidate(ctx, item, &loc.id, Decimal::ZERO, on_hand, forecast.clone()).await?,
                );
            }
        }
        Ok(StepOutput::outcome("scanned")
            .with("reorder", json!({ "candidates": candidates }))
            .with(
                "scanned",
                json!({ "items": items.len(), "locations": locs.len() }),
            ))
    }
}

/// `replenish-need/<sku>@<location>`: the generation of the item's need at the location, and
/// the PO that covers the current one.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Need {
    generation: u64,
    po: Option<String>,
}

pub struct ReplenishOrder;

#[async_trait]
impl Connector for ReplenishOrder {
    fn name(&self) -> &'static str {
        "replenish.order"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["ordered", "nothing"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let purchase: Vec<Planned> = data_field(input.data, "purchase")?;
        let run = format!("replenishment {}", input.instance);
        // Lock every supplier involved, in name order, as the order flow does.
        let suppliers: BTreeSet<&str> = purchase.iter().map(|p| p.supplier.as_str()).collect();
        for s in suppliers {
            lock_supplier(ctx, s).await?;
        }
        let mut placed: Vec<Placed> = Vec::new();
        let mut skipped = Vec::new();
        for p in &purchase {
            if p.quantity < Decimal::ZERO || p.replenish_qty < Decimal::ZERO {
                return Err(StepError::Permanent(format!(
                    "{run}: the reorder rule planned a negative quantity of {} ({}, replenish {})",
                    p.sku, p.quantity, p.replenish_qty
                )));
            }
            let loc = p
                .location
                .clone()
                .unwrap_or_else(|| master::DEFAULT_LOCATION.to_string());
            let need_key = format!("{}@{loc}", p.sku);
            // No document yet: the need was never bought for (generation 0).
            let need: Need = ctx
                .get("replenish-need", &need_key)
                .await?
                .unwrap_or_default();
            if let Some(n) = &need.po
                && brings(ctx, n, &p.sku).await?
            {
                skipped.push(json!({ "sku": p.sku, "location": loc, "covered_by": n }));
                continue;
            }
            let claim = format!("{need_key}#{}", need.generation);
            if let Some(by) = ctx
                .claim_document("replenish-claim", &claim, &json!({ "run": run }))
                .await?
            {
                skipped.push(json!({ "sku": p.sku, "location": loc, "claimed_by": by["run"] }));
                continue;
            }
            let one = Planned {
                sku: p.sku.clone(),
                supplier: p.supplier.clone(),
                quantity: p.quantity,
                replenish_qty: p.replenish_qty,
                reorder_point: p.reorder_point,
                supplier_min: p.supplier_min,
                location: Some(loc.clone()),
            };
            let got = place(ctx, &run, std::slice::from_ref(&one), &loc).await?;
            let po = got.first().map(|g| g.po.clone());
            ctx.put(
                "replenish-need",
                &need_key,
                &Need {
                    generation: need.generation + 1,
                    po,
                },
            )
            .await?;
            placed.extend(got);
        }
        let outcome = if placed.is_empty() {
            "nothing"
        } else {
            "ordered"
        };
        Ok(StepOutput::outcome(outcome)
            .with("replenished", placed)
            .with("skipped", skipped))
    }
}

/// Whether PO `number` still brings some of `sku` (ordered and not yet received).
async fn brings(ctx: &mut dyn StepContext, number: &str, sku: &str) -> Result<bool, StepError> {
    Ok(ctx
        .get::<PoDoc>("purchase-order", number)
        .await?
        .is_some_and(|po| {
            po.lines
                .iter()
                .any(|l| l.sku == sku && l.open() > Decimal::ZERO)
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryContext, run};
    use rust_decimal::dec;
    use serde_json::Value;

    /// What rules/reorder.rhai would plan for GADGET at `loc`: 20 more, reorder point 5.
    fn plan(loc: &str) -> Value {
        json!({ "purchase": [ { "sku": "GADGET", "supplier": "S1", "quantity": 0, "replenish_qty": 20,
                                "reorder_point": 5, "supplier_min": 0, "lead_time_days": 3, "location": loc } ] })
    }

    #[tokio::test]
    async fn the_scan_lists_every_planned_item_at_every_location() {
        let mut ctx = MemoryContext::seeded();
        ctx.docs.insert(
            ("location".into(), "main".into()),
            json!({ "id": "main", "name": "Main", "country": "DE" }),
        );
        ctx.docs.insert(
            ("location".into(), "north".into()),
            json!({ "id": "north", "name": "North", "country": "DK", "priority": 2 }),
        );
        ctx.stock.insert(("GADGET".into(), "north".into()), dec!(1));
        let out = run(&ReplenishScan, &mut ctx, json!({}), json!({})).await;
        let c = out.set["reorder"]["candidates"].as_array().unwrap().clone();
        let gadget: Vec<&Value> = c.iter().filter(|c| c["sku"] == "GADGET").collect();
        assert_eq!(gadget.len(), 2, "{c:?}");
        assert_eq!(gadget[0]["location"], "main");
        assert_eq!(gadget[0]["on_hand"], json!(dec!(10)));
        assert_eq!(gadget[1]["location"], "north");
        assert_eq!(gadget[1]["on_hand"], json!(dec!(1)));
        assert_eq!(gadget[1]["short"], json!(Decimal::ZERO));
    }

    #[tokio::test]
    async fn a_need_is_bought_once_until_its_po_is_received() {
        let mut ctx = MemoryContext::seeded();
        ctx.stock.insert(("GADGET".into(), "north".into()), dec!(0));
        let first = run(&ReplenishOrder, &mut ctx, plan("north"), json!({})).await;
        assert_eq!(first.outcome, "ordered");
        let po = ctx.docs[&("purchase-order".into(), "PO-000001".into())].clone();
        assert_eq!(po["location"], "north");
        // The plan's 20 (the plan states no supplier minimum).
        assert_eq!(po["lines"][0]["quantity"], json!(dec!(20)));
        assert_eq!(
            ctx.stock[&("GADGET".into(), "on-order:north".into())],
            dec!(20)
        );
        // A second run while the PO is open buys nothing: the need is covered.
        let again = run(&ReplenishOrder, &mut ctx, plan("north"), json!({})).await;
        assert_eq!(again.outcome, "nothing");
        assert_eq!(again.set["skipped"][0]["covered_by"], "PO-000001");
        // Received (at its location), the next need is a new generation and is bought.
        crate::receive_goods(&mut ctx, "PO-000001", None, "main")
            .await
            .unwrap();
        assert_eq!(ctx.stock[&("GADGET".into(), "north".into())], dec!(20));
        assert_eq!(
            ctx.stock[&("GADGET".into(), "on-order:north".into())],
            dec!(0)
        );
        ctx.stock.insert(("GADGET".into(), "north".into()), dec!(0));
        let third = run(&ReplenishOrder, &mut ctx, plan("north"), json!({})).await;
        assert_eq!(third.outcome, "ordered");
        assert_eq!(third.set["replenished"][0]["po"], "PO-000002");
    }

    #[tokio::test]
    async fn a_need_another_run_claimed_is_not_bought_again() {
        // The other run's claim is in the store, its need document not yet visible to this
        // one (it read before the other committed): the claim alone stops the second buy.
        let mut ctx = MemoryContext::seeded();
        ctx.stock.insert(("GADGET".into(), "north".into()), dec!(0));
        ctx.docs.insert(
            ("replenish-claim".into(), "GADGET@north#0".into()),
            json!({ "run": "replenishment other" }),
        );
        let out = run(&ReplenishOrder, &mut ctx, plan("north"), json!({})).await;
        assert_eq!(out.outcome, "nothing");
        assert_eq!(out.set["skipped"][0]["claimed_by"], "replenishment other");
        assert!(!ctx.numbers.contains_key(crate::purchase::PO_SERIES));
    }

    #[tokio::test]
    async fn a_negative_plan_fails_the_run() {
        let mut ctx = MemoryContext::seeded();
        let mut bad = plan("main");
        bad["purchase"][0]["replenish_qty"] = json!(-5);
        let e = crate::testing::try_run(&ReplenishOrder, &mut ctx, bad, json!({}))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("negative quantity of GADGET"), "{e}");
    }
}
