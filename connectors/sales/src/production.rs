//! Make to order (workflows/production.yaml): an order short of a made-to-order item gets a
//! production order `production/<order>:<sku>:<n>` (started by the event
//! `production.requested`), which
//! 1. `production.reserve`: takes every component of the bill of materials for the quantity
//!    from stock at the location, all or none; what is short is bought
//!    ([`crate::purchase::place`], the supplier's open PO) and the production waits for the
//!    goods (`stock.received` keyed by its id, from the PO);
//! 2. works its steps (`production.next_step` + a `production` task per work step in
//!    `work_steps`, in order);
//! 3. `production.complete`: books the finished goods into stock at the location, values them
//!    at the components' cost plus the labour cost and moves the item's cost to the weighted
//!    average (the ledger posts shipments at item cost), and resumes the order
//!    (`stock.received` keyed by the order id), which then allocates and ships them.

use crate::checked;
use crate::master::{self, Item, Supplier, data_field};
use crate::purchase::{Planned, place, wait_on};
use async_trait::async_trait;
use ordo_contract::{Connector, StepContext, StepContextExt, StepError, StepInput, StepOutput};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

pub const REQUESTED_EVENT: &str = "production.requested";

/// `production/<id>`: a production order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Production {
    pub id: String,
    pub order: String,
    pub sku: String,
    pub quantity: Decimal,
    pub location: String,
    /// `requested` → `reserved` → `done`.
    pub status: String,
    /// Components taken from stock (sku, quantity), once reserved.
    #[serde(default)]
    pub reserved: Vec<(String, Decimal)>,
    /// Work steps done so far.
    #[serde(default)]
    pub steps_done: usize,
}

/// Starts (once) the production of `quantity` of `sku` for `order` at `location`, or finds
/// the one still running: its id. The order waits for `stock.received` from it.
pub async fn request(
    ctx: &mut dyn StepContext,
    order: &str,
    sku: &str,
    quantity: Decimal,
    location: &str,
) -> Result<String, StepError> {
    if quantity <= Decimal::ZERO {
        return Err(StepError::Permanent(format!(
            "order {order}: production of {sku} needs a positive quantity, got {quantity}"
        )));
    }
    let prefix = format!("{order}:{sku}:");
    let existing = ctx.list_documents("production", &prefix).await?;
    for id in &existing {
        let p: Option<Production> = ctx.get("production", id).await?;
        if p.is_some_and(|p| p.status != "done") {
            return Ok(id.clone());
        }
    }
    let id = format!("{prefix}{}", existing.len() + 1);
    let doc = Production {
        id: id.clone(),
        order: order.to_string(),
        sku: sku.to_string(),
        quantity,
        location: location.to_string(),
        status: "requested".into(),
        reserved: Vec::new(),
        steps_done: 0,
    };
    let body = serde_json::to_value(&doc)
        .map_err(|e| StepError::Permanent(format!("production {id}: {e}")))?;
    if ctx
        .claim_document("production", &id, &body)
        .await?
        .is_some()
    {
        // Claimed by a concurrent step of the same order: that one starts it.
        return Ok(id);
    }
    ctx.emit_event(
        REQUESTED_EVENT,
        &id,
        "requested",
        &json!({ "production": body }),
    )
    .await?;
    Ok(id)
}

async fn load(ctx: &mut dyn StepContext, input: &StepInput<'_>) -> Result<Production, StepError> {
    #[derive(Deserialize)]
    struct Ref {
        id: String,
    }
    let id = data_field::<Ref>(input.data, "production")?.id;
    ctx.get("production", &id)
        .await?
        .ok_or_else(|| StepError::Permanent(format!("no production order '{id}'")))
}

async fn item(ctx: &mut dyn StepContext, sku: &str, what: &str) -> Result<Item, StepError> {
    ctx.get("item", sku).await?.ok_or_else(|| {
        StepError::Permanent(format!("{what}: item '{sku}' is no longer in master data"))
    })
}

/// `production.reserve`: outcomes `reserved` (every component taken) or `short` (what was
/// missing is bought; the production waits for the goods).
pub struct ReserveComponents;

#[async_trait]
impl Connector for ReserveComponents {
    fn name(&self) -> &'static str {
        "production.reserve"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["reserved", "short"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let mut p = load(ctx, &input).await?;
        if p.status != "requested" {
            return Ok(StepOutput::outcome("reserved"));
        }
        let what = format!("production {}", p.id);
        let it = item(ctx, &p.sku, &what).await?;
        if it.bom.is_empty() {
            return Err(StepError::Permanent(format!(
                "{what}: item '{}' has no bill of materials",
                p.sku
            )));
        }
        let mut need = Vec::new();
        for b in &it.bom {
            let q = checked::mul(b.quantity, p.quantity, || {
                format!("{what}: quantity of component {}", b.sku)
            })?;
            need.push((b.sku.clone(), q));
        }
        // All or none: take each, and give everything back when one is short.
        let mut short = Vec::new();
        for (sku, q) in &need {
            let after = ctx.adjust_stock(sku, &p.location, -*q).await?;
            if after < Decimal::ZERO {
                short.push((sku.clone(), -after));
            }
        }
        if short.is_empty() {
            p.status = "reserved".into();
            p.reserved = need;
            ctx.put("production", &p.id, &p).await?;
            return Ok(StepOutput::outcome("reserved").with("production", &p));
        }
        for (sku, q) in &need {
            ctx.adjust_stock(sku, &p.location, *q).await?;
        }
        // Buy what is short (unless a PO already brings it) and wait on the POs.
        let mut planned = Vec::new();
        let mut waiting_on = Vec::new();
        for (sku, missing) in &short {
            let pos = wait_on(ctx, &p.id, sku, &p.location).await?;
            if !pos.is_empty() {
                waiting_on.extend(pos);
                continue;
            }
            let c = item(ctx, sku, &what).await?;
            let Some(supplier) = c.supplier.clone() else {
                return Err(StepError::Permanent(format!(
                    "{what}: component '{sku}' is short by {missing} and nobody supplies it"
                )));
            };
            let s: Option<Supplier> = ctx.get("supplier", &supplier).await?;
            planned.push(Planned {
                sku: sku.clone(),
                supplier,
                quantity: *missing,
                replenish_qty: Decimal::ZERO,
                reorder_point: Decimal::ZERO,
                supplier_min: s.and_then(|s| s.min_order_qty).unwrap_or(Decimal::ZERO),
                location: Some(p.location.clone()),
            });
        }
        let mut suppliers: Vec<String> = planned.iter().map(|l| l.supplier.clone()).collect();
        suppliers.sort();
        suppliers.dedup();
        for s in &suppliers {
            master::lock_supplier(ctx, s).await?;
        }
        let placed = place(ctx, &p.id, &planned, &p.location).await?;
        for l in &planned {
            waiting_on.extend(wait_on(ctx, &p.id, &l.sku, &p.location).await?);
        }
        Ok(StepOutput::outcome("short")
            .with(
                "short",
                short
                    .iter()
                    .map(|(s, q)| json!({ "sku": s, "quantity": q }))
                    .collect::<Vec<_>>(),
            )
            .with("purchases", placed)
            .with("waiting_on", waiting_on))
    }
}

/// `production.next_step`: the next work step (`work.step`, outcome `work`) or `done`.
pub struct NextWorkStep;

#[async_trait]
impl Connector for NextWorkStep {
    fn name(&self) -> &'static str {
        "production.next_step"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["work", "done"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let mut p = load(ctx, &input).await?;
        let it = item(ctx, &p.sku, &format!("production {}", p.id)).await?;
        // Coming back from a work step's task: that step is done.
        if input.data.get("work").is_some_and(|w| !w.is_null()) {
            p.steps_done += 1;
            ctx.put("production", &p.id, &p).await?;
        }
        match it.work_steps.get(p.steps_done) {
            Some(step) => Ok(StepOutput::outcome("work").with(
                "work",
                json!({ "step": step, "number": p.steps_done + 1, "of": it.work_steps.len(),
                        "sku": p.sku, "quantity": p.quantity, "order": p.order }),
            )),
            None => Ok(StepOutput::outcome("done").with("work", serde_json::Value::Null)),
        }
    }
}

/// `production.complete`: finished goods into stock at the item's new cost; the order resumes.
pub struct CompleteProduction;

#[async_trait]
impl Connector for CompleteProduction {
    fn name(&self) -> &'static str {
        "production.complete"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["completed"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let mut p = load(ctx, &input).await?;
        let what = format!("production {}", p.id);
        if p.status == "done" {
            return Ok(StepOutput::outcome("completed").with("production", &p));
        }
        if p.status != "reserved" {
            return Err(StepError::Permanent(format!(
                "{what}: components are not reserved (status {})",
                p.status
            )));
        }
        // Cost of one unit: its components at their cost (required: the ledger values
        // stock at it), plus the labour cost.
        let mut unit = Decimal::ZERO;
        let mut it = item(ctx, &p.sku, &what).await?;
        for b in &it.bom {
            let c = item(ctx, &b.sku, &what).await?;
            let cost = c.ledger_cost().map_err(StepError::Permanent)?;
            let at = || format!("{what}: cost of component {}", b.sku);
            unit = checked::add(unit, checked::mul(cost, b.quantity, at)?, at)?;
        }
        if let Some(l) = it.labour_cost {
            unit = checked::add(unit, l, || format!("{what}: labour cost"))?;
        }
        let before = ctx
            .stock_level(&p.sku, &p.location)
            .await?
            .max(Decimal::ZERO);
        ctx.adjust_stock(&p.sku, &p.location, p.quantity).await?;
        // Weighted average of what was on hand at the old cost and what was made.
        let at = || format!("{what}: item cost");
        let cost = match it.cost {
            Some(old) if before > Decimal::ZERO => {
                let value = checked::add(
                    checked::mul(old, before, at)?,
                    checked::mul(unit, p.quantity, at)?,
                    at,
                )?;
                let units = checked::add(before, p.quantity, at)?;
                master::round_money(value / units, 4)
            }
            _ => unit,
        };
        // The ledger: components and labour into work in process, the finished goods out of
        // it into inventory, in this step's transaction (rules/posting.rhai `production`).
        let mut moves = Vec::with_capacity(it.bom.len());
        for b in &it.bom {
            let q = checked::mul(b.quantity, p.quantity, || {
                format!("{what}: quantity of component {}", b.sku)
            })?;
            moves.push((b.sku.clone(), q));
        }
        let labour = match it.labour_cost {
            Some(l) => checked::mul(l, p.quantity, || format!("{what}: labour"))?,
            // No labour cost stated: the components alone make the item.
            None => Decimal::ZERO,
        };
        let posting = crate::posting::production(
            ctx,
            p.id.clone(),
            &p.order,
            &p.sku,
            p.quantity,
            &moves,
            labour,
        )
        .await?;
        ctx.post(&posting).await?;
        it.cost = Some(cost);
        ctx.put("item", &p.sku, &it).await?;
        p.status = "done".into();
        ctx.put("production", &p.id, &p).await?;
        ctx.emit_event(
            crate::purchase::RECEIVED_EVENT,
            &p.order,
            "received",
            &json!({ "production": { "id": p.id, "sku": p.sku, "quantity": p.quantity } }),
        )
        .await?;
        Ok(StepOutput::outcome("completed")
            .with("production", &p)
            .with("unit_cost", unit)
            .with("item_cost", cost))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryContext, run};
    use rust_decimal::dec;

    fn seeded() -> MemoryContext {
        let mut ctx = MemoryContext::seeded();
        ctx.docs.insert(
            ("item".into(), "KIT".into()),
            json!({ "sku": "KIT", "description": "kit", "price": 100, "made_to_order": true,
                    "bom": [ { "sku": "WIDGET", "quantity": 4 }, { "sku": "GADGET", "quantity": 1 } ],
                    "work_steps": ["assemble", "test"], "labour_cost": 5 }),
        );
        ctx
    }

    #[tokio::test]
    async fn components_are_reserved_work_steps_run_and_the_goods_are_booked_at_cost() {
        let mut ctx = seeded();
        let id = request(&mut ctx, "O-1", "KIT", dec!(2), "main")
            .await
            .unwrap();
        assert_eq!(id, "O-1:KIT:1");
        assert_eq!(ctx.events[0].0, REQUESTED_EVENT);
        // Asked again while it runs: the same production.
        assert_eq!(
            request(&mut ctx, "O-1", "KIT", dec!(2), "main")
                .await
                .unwrap(),
            id
        );
        let data = json!({ "production": { "id": id } });
        let out = run(&ReserveComponents, &mut ctx, data.clone(), json!({})).await;
        assert_eq!(out.outcome, "reserved");
        assert_eq!(ctx.stock[&("WIDGET".into(), "main".into())], dec!(92));
        assert_eq!(ctx.stock[&("GADGET".into(), "main".into())], dec!(8));
        let a = run(&NextWorkStep, &mut ctx, data.clone(), json!({})).await;
        assert_eq!(a.set["work"]["step"], "assemble");
        let mut d2 = data.clone();
        d2["work"] = a.set["work"].clone();
        let b = run(&NextWorkStep, &mut ctx, d2.clone(), json!({})).await;
        assert_eq!(b.set["work"]["step"], "test");
        d2["work"] = b.set["work"].clone();
        let c = run(&NextWorkStep, &mut ctx, d2, json!({})).await;
        assert_eq!(c.outcome, "done");
        let done = run(&CompleteProduction, &mut ctx, data, json!({})).await;
        // 4 × 0.20 + 1 × 8.00 + 5 labour = 13.80 a kit.
        assert_eq!(done.set["unit_cost"], json!(dec!(13.80)));
        // The ledger: 2 kits' components (8 widgets 1.60 + 2 gadgets 16.00) and labour 10.
        let posted = ctx.postings.last().expect("production posted");
        assert_eq!(posted.kind, "production");
        assert_eq!(posted.facts["components"], json!(dec!(17.60)));
        assert_eq!(posted.facts["labour"], json!(dec!(10)));
        assert_eq!(posted.facts["total"], json!(dec!(27.60)));
        assert_eq!(ctx.stock[&("KIT".into(), "main".into())], dec!(2));
        assert_eq!(
            ctx.docs[&("item".into(), "KIT".into())]["cost"],
            json!(dec!(13.80))
        );
        let last = ctx.events.last().unwrap();
        assert_eq!(
            (last.0.as_str(), last.1.as_str()),
            (crate::purchase::RECEIVED_EVENT, "O-1")
        );
    }

    #[tokio::test]
    async fn short_components_are_bought_and_nothing_is_taken() {
        let mut ctx = seeded();
        let id = request(&mut ctx, "O-2", "KIT", dec!(20), "main")
            .await
            .unwrap();
        let data = json!({ "production": { "id": id } });
        let out = run(&ReserveComponents, &mut ctx, data, json!({})).await;
        assert_eq!(out.outcome, "short");
        // 20 gadgets wanted, 10 on hand: 10 bought (lifted to the supplier minimum 50).
        assert_eq!(
            out.set["short"],
            json!([{ "sku": "GADGET", "quantity": dec!(10) }])
        );
        assert_eq!(
            ctx.stock[&("GADGET".into(), "main".into())],
            dec!(10),
            "nothing taken"
        );
        assert_eq!(ctx.stock[&("WIDGET".into(), "main".into())], dec!(100));
        let po = &ctx.docs[&("purchase-order".into(), "PO-000001".into())];
        assert_eq!(po["waiting"], json!([id]));
        assert_eq!(po["lines"][0]["quantity"], json!(dec!(50)));
    }

    #[tokio::test]
    async fn a_zero_quantity_is_refused() {
        let mut ctx = seeded();
        let e = request(&mut ctx, "O-3", "KIT", dec!(0), "main")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("positive quantity"), "{e}");
    }
}
