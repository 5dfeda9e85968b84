//! Purchasing: `purchase.order` appends what rules/reorder.rhai decided to the supplier's open
//! purchase order (one PO per supplier, combining lines from many sales orders) and registers
//! the sales order as waiting on every PO that will bring an item it lacks; [`receive_goods`]
//! (behind `ordo receive PO [--lines]`) books a goods receipt, full or partial, and resumes the
//! waiting orders with the event `stock.received`.
//!
//! Documents: `purchase-order/PO-000001` (status `open` → `partial` → `received`, or
//! `cancelled` when every order that placed it was changed or cancelled: [`withdraw`]),
//! `open-po/<supplier>` (the PO orders still append to), `sku-po/<sku>` (POs with quantity not
//! yet received), `goods-receipt/GR-000001`. Numbers come from the gapless series
//! `purchase-order` and `goods-receipt`.

use crate::allocate::{Candidate, ToShip};
use crate::checked;
use crate::master::data_field;
use crate::master::{self, lock_supplier};
use async_trait::async_trait;
use ordo_contract::{
    Connector, PurchaseLine, PurchaseOrder as PoDoc, StepContext, StepContextExt, StepError,
    StepInput, StepOutput,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

pub struct PurchaseOrder;

pub const PO_SERIES: &str = "purchase-order";
pub const GR_SERIES: &str = "goods-receipt";
pub const RECEIVED_EVENT: &str = "stock.received";
/// A new PO to a supplier with a partner profile: starts workflows/purchase-send.yaml, which
/// sends it (850 / ORDERS / CSV) and closes it to appends.
pub const PLACED_EVENT: &str = "purchase_order.placed";
/// `supplier-partner/<supplier>`: the partner profile of a supplier (`{partner}`), kept by the
/// engine beside `partner/<name>`; absent: the supplier gets no documents from ordo.
pub const SUPPLIER_PARTNER_DOC: &str = "supplier-partner";

/// The order a step works for (`order` in the instance data; only its id is needed here).
#[derive(Debug, Deserialize)]
struct OrderRef {
    id: String,
}

/// What `stock.allocate` found to reorder (`reorder` in the instance data).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reorder {
    candidates: Vec<Candidate>,
}

/// A line rules/reorder.rhai plans to buy (`purchase` in the instance data). Every field is
/// required: a rule that forgets one fails the step rather than buying zero.
#[derive(Debug, Deserialize)]
pub struct Planned {
    pub sku: String,
    pub supplier: String,
    /// What the order is short of.
    pub quantity: Decimal,
    /// Added while stock plus what is on order is below `reorder_point`.
    pub replenish_qty: Decimal,
    pub reorder_point: Decimal,
    /// The least a new PO to the supplier may order.
    pub supplier_min: Decimal,
    /// The stock location to buy for (the candidate's); absent or null: the step's location.
    #[serde(default)]
    pub location: Option<String>,
}

/// `sku-po/<sku>`: the POs with quantity of the item not yet received.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SkuIndex {
    pos: Vec<String>,
}

/// `open-po/<supplier>`: the PO orders of the supplier still append to (none once goods came).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenPo {
    number: Option<String>,
}

pub(crate) async fn sku_index(
    ctx: &mut dyn StepContext,
    sku: &str,
) -> Result<Vec<String>, StepError> {
    // No index yet: no PO brings the item.
    Ok(ctx
        .get::<SkuIndex>("sku-po", sku)
        .await?
        .unwrap_or_default()
        .pos)
}

async fn put_sku_index(
    ctx: &mut dyn StepContext,
    sku: &str,
    pos: Vec<String>,
) -> Result<(), StepError> {
    ctx.put("sku-po", sku, &SkuIndex { pos }).await
}

pub(crate) async fn load_po(
    ctx: &mut dyn StepContext,
    number: &str,
) -> Result<Option<PoDoc>, StepError> {
    ctx.get("purchase-order", number).await
}

#[async_trait]
impl Connector for PurchaseOrder {
    fn name(&self) -> &'static str {
        "purchase.order"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["ship", "wait", "unavailable"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let order_id = data_field::<OrderRef>(input.data, "order")?.id;
        let purchase: Vec<Planned> = data_field(input.data, "purchase")?;
        let candidates = data_field::<Reorder>(input.data, "reorder")?.candidates;
        // Lock every supplier involved, in name order (no deadlocks between orders).
        let mut suppliers = BTreeSet::new();
        for p in &purchase {
            suppliers.insert(p.supplier.clone());
        }
        for c in &candidates {
            if let Some(s) = &c.supplier {
                suppliers.insert(s.clone());
            }
        }
        for s in &suppliers {
            lock_supplier(ctx, s).await?;
        }
        let location = master::param_str(input.params, "location", master::DEFAULT_LOCATION);
        let placed = place(ctx, &order_id, &purchase, location).await?;
        // Wait on every PO that brings a short item.
        let mut waiting_on = BTreeSet::new();
        let mut unavailable = Vec::new();
        for c in &candidates {
            if c.short <= Decimal::ZERO {
                continue;
            }
            let sku = c.sku.as_str();
            // Only goods for the order's location help it.
            let at = c.location.as_deref().unwrap_or(location);
            let pos = wait_on(ctx, &order_id, sku, at).await?;
            if !pos.is_empty() {
                waiting_on.extend(pos);
                continue;
            }
            // Nothing brings it: a made-to-order item is produced for the order.
            let item: Option<master::Item> = ctx.get("item", sku).await?;
            if item.is_some_and(|i| i.is_made_to_order()) {
                let id = crate::production::request(ctx, &order_id, sku, c.short, at).await?;
                waiting_on.insert(id);
                continue;
            }
            unavailable.push(sku.to_string());
        }
        let ships = !data_field::<ToShip>(input.data, "to_ship")?
            .lines
            .is_empty();
        let outcome = if ships {
            "ship"
        } else if !unavailable.is_empty() || waiting_on.is_empty() {
            "unavailable"
        } else {
            "wait"
        };
        let mut out = StepOutput::outcome(outcome)
            .with("purchases", placed)
            .with("waiting_on", waiting_on);
        if !unavailable.is_empty() {
            out = out.with("unavailable", unavailable);
        }
        Ok(out)
    }
}

/// Registers `waiter` (a sales order or a production order, resumed by `stock.received` with
/// its id as key) on every open PO that brings `sku` to `location`; the PO numbers.
pub async fn wait_on(
    ctx: &mut dyn StepContext,
    waiter: &str,
    sku: &str,
    location: &str,
) -> Result<Vec<String>, StepError> {
    let mut found = Vec::new();
    for n in sku_index(ctx, sku).await? {
        let Some(mut po) = load_po(ctx, &n).await? else {
            continue;
        };
        if po.location.as_deref().unwrap_or(master::DEFAULT_LOCATION) != location {
            continue;
        }
        let brings = po
            .lines
            .iter()
            .any(|l| l.sku == sku && l.open() > Decimal::ZERO);
        if !brings {
            continue;
        }
        if !po.waiting.iter().any(|w| w == waiter) {
            po.waiting.push(waiter.to_string());
            ctx.put("purchase-order", &n, &po).await?;
        }
        found.push(n);
    }
    Ok(found)
}

/// What [`place`] appended to a purchase order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placed {
    pub po: String,
    pub sku: String,
    pub quantity: Decimal,
}

/// Appends the planned lines to each supplier's open purchase order for their location (a new
/// PO when there is none), for `reason` (a sales order, or a replenishment run). The callers
/// hold the suppliers' locks ([`lock_supplier`]). The rule's inputs may be stale (other orders
/// bought since), so the reorder point and the supplier minimum are checked again here, under
/// the lock: the one place a planned line turns into a quantity bought.
pub async fn place(
    ctx: &mut dyn StepContext,
    reason: &str,
    purchase: &[Planned],
    default_location: &str,
) -> Result<Vec<Placed>, StepError> {
    let today = master::today(ctx);
    let mut placed = Vec::new();
    let mut by_supplier: BTreeMap<(String, String), Vec<&Planned>> = BTreeMap::new();
    for p in purchase {
        let loc = p.location.as_deref().unwrap_or(default_location);
        by_supplier
            .entry((p.supplier.clone(), loc.to_string()))
            .or_default()
            .push(p);
    }
    for ((supplier, location), lines) in by_supplier {
        let open_key = open_po_key(&supplier, &location);
        let on_order_at = master::on_order_key(&location);
        // No document yet: the supplier never had a PO for this location.
        let open = ctx
            .get::<OpenPo>("open-po", &open_key)
            .await?
            .and_then(|d| d.number);
        let is_new = open.is_none();
        let mut adds: Vec<(String, Decimal)> = Vec::new();
        for p in lines {
            let sku = p.sku.clone();
            let mut q = p.quantity;
            if q < Decimal::ZERO || p.replenish_qty < Decimal::ZERO {
                return Err(StepError::Permanent(format!(
                    "{reason}: the reorder rule planned a negative quantity of {sku} ({q}, replenish {})",
                    p.replenish_qty
                )));
            }
            let on_hand = ctx.stock_level(&sku, &location).await?;
            let on_order = ctx.stock_level(&sku, &on_order_at).await?;
            let at = |f: &'static str| {
                let (reason, sku) = (reason.to_string(), sku.clone());
                move || format!("{reason} reorder of {sku} {f}")
            };
            if checked::add(on_hand, on_order, at("stock position"))? < p.reorder_point {
                q = checked::add(q, p.replenish_qty, at("quantity"))?;
            }
            if is_new && q > Decimal::ZERO && q < p.supplier_min {
                q = p.supplier_min;
            }
            if q > Decimal::ZERO {
                adds.push((sku, q));
            }
        }
        if adds.is_empty() {
            continue;
        }
        let mut po = match &open {
            Some(n) => load_po(ctx, n).await?.ok_or_else(|| {
                StepError::Permanent(format!("open PO {n} of {supplier} is missing"))
            })?,
            None => {
                let n = ctx.next_number(PO_SERIES).await?;
                let Some(s) = master::load::<master::Supplier>(ctx, "supplier", &supplier).await?
                else {
                    return Err(StepError::Permanent(format!(
                        "{reason}: supplier '{supplier}' is not in master data"
                    )));
                };
                // The supplier states no lead time: expected the day it is ordered.
                let lead = s.lead_time_days.unwrap_or(0);
                let number = format!("PO-{n:06}");
                ctx.put(
                    "open-po",
                    &open_key,
                    &OpenPo {
                        number: Some(number.clone()),
                    },
                )
                .await?;
                PoDoc {
                    number,
                    supplier: supplier.clone(),
                    status: "open".into(),
                    created_on: today,
                    expected_on: master::add_days(today, lead)?,
                    lines: Vec::new(),
                    waiting: Vec::new(),
                    receipts: Vec::new(),
                    location: (location != master::DEFAULT_LOCATION).then(|| location.clone()),
                }
            }
        };
        let number = po.number.clone();
        for (sku, q) in adds {
            match po.lines.iter_mut().find(|l| l.sku == sku) {
                Some(l) => {
                    l.quantity =
                        checked::add(l.quantity, q, || format!("{number} line {sku} quantity"))?;
                    if !l.orders.iter().any(|o| o == reason) {
                        l.orders.push(reason.to_string());
                    }
                }
                None => po.lines.push(PurchaseLine {
                    sku: sku.clone(),
                    quantity: q,
                    received: Decimal::ZERO,
                    orders: vec![reason.to_string()],
                }),
            }
            ctx.adjust_stock(&sku, &on_order_at, q).await?;
            let mut idx = sku_index(ctx, &sku).await?;
            if !idx.contains(&number) {
                idx.push(number.clone());
                put_sku_index(ctx, &sku, idx).await?;
            }
            placed.push(Placed {
                po: number.clone(),
                sku,
                quantity: q,
            });
        }
        ctx.put("purchase-order", &number, &po).await?;
        // A supplier with a profile is sent each new PO (after this step commits, by
        // workflows/purchase-send.yaml, which sees what later steps appended until it sends).
        if is_new
            && ctx
                .get_document(SUPPLIER_PARTNER_DOC, &supplier)
                .await?
                .is_some()
        {
            ctx.emit_event(
                PLACED_EVENT,
                &number,
                "placed",
                &json!({ "purchase_order": { "number": number, "supplier": supplier } }),
            )
            .await?;
        }
    }
    Ok(placed)
}

/// The record that a PO went to its supplier (`po-sent/<PO>`, written once by the sending
/// step in the partners crate).
pub const PO_SENT_DOC: &str = "po-sent";

/// A PO sent to its supplier takes no more lines (the supplier has what was sent): later
/// needs open a new PO. Called by the sending step under the supplier's lock.
pub async fn close_for_appends(ctx: &mut dyn StepContext, po: &PoDoc) -> Result<(), StepError> {
    let key = open_po_key(
        &po.supplier,
        po.location.as_deref().unwrap_or(master::DEFAULT_LOCATION),
    );
    let open = ctx.get::<OpenPo>("open-po", &key).await?;
    if open.and_then(|o| o.number).as_deref() == Some(po.number.as_str()) {
        ctx.put("open-po", &key, &OpenPo { number: None }).await?;
    }
    Ok(())
}

/// What [`withdraw`] did with one purchase-order line an order had placed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Withdrawn {
    pub po: String,
    pub sku: String,
    /// Taken off the PO (and off `on_order`).
    pub quantity: Decimal,
    /// Why less than was placed came off (the PO received goods meanwhile); `None`: all of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
}

/// Takes off the open purchase orders what a sales order placed on them (`placed`, the
/// `purchases` its `purchase.order` step recorded), when the order is changed or cancelled:
/// the change path runs reorder again for the new version (an increase buys more, a decrease
/// buys only what is still short), so the earlier purchases must not stay on top of it.
///
/// Per line: at most what is still open on it (quantity − received) comes off; the order is
/// taken off the line's `orders` and the PO's `waiting`; a line left at zero goes, and a PO left
/// without lines is `cancelled` (no longer the supplier's open PO, off the item's PO index).
/// A PO that received goods (`partial`, `received`) is left as is: what came is in stock, and
/// its record says so ([`Withdrawn::kept`]). Purchase orders are not sent to suppliers by this
/// build, so an open PO may still change; once they are sent, a sent PO would be marked for a
/// change order instead. Every supplier is locked ([`lock_supplier`]) first, in name order,
/// as `purchase.order` does, so a concurrent order appending to the same PO serializes.
pub async fn withdraw(
    ctx: &mut dyn StepContext,
    order_id: &str,
    placed: &[Placed],
) -> Result<Vec<Withdrawn>, StepError> {
    let mut pos: BTreeMap<String, PoDoc> = BTreeMap::new();
    for p in placed {
        if !pos.contains_key(&p.po)
            && let Some(po) = load_po(ctx, &p.po).await?
        {
            pos.insert(p.po.clone(), po);
        }
    }
    let suppliers: BTreeSet<String> = pos.values().map(|p| p.supplier.clone()).collect();
    for s in &suppliers {
        lock_supplier(ctx, s).await?;
    }
    let mut out = Vec::new();
    for number in pos.keys().cloned().collect::<Vec<_>>() {
        // Read again under the lock: another order may have appended since.
        let Some(mut po) = load_po(ctx, &number).await? else {
            continue;
        };
        let location = po
            .location
            .clone()
            .unwrap_or_else(|| master::DEFAULT_LOCATION.to_string());
        // A PO the supplier already has (sent by `purchase.send`) is theirs to change: ordo
        // does not send PO changes, so it is left as is and says so, like a closed one.
        let sent = ctx
            .get::<serde_json::Value>(PO_SENT_DOC, &number)
            .await?
            .is_some();
        for p in placed.iter().filter(|p| p.po == number) {
            if sent {
                out.push(Withdrawn {
                    po: number.clone(),
                    sku: p.sku.clone(),
                    quantity: Decimal::ZERO,
                    kept: Some(format!(
                        "{number} was sent to the supplier: left as is (change it with them)"
                    )),
                });
                continue;
            }
            if po.status != "open" {
                out.push(Withdrawn {
                    po: number.clone(),
                    sku: p.sku.clone(),
                    quantity: Decimal::ZERO,
                    kept: Some(format!("{number} is {}: left as is", po.status)),
                });
                continue;
            }
            // Only a line the order is still on: taken off once, however often this runs.
            let Some(i) = po
                .lines
                .iter()
                .position(|l| l.sku == p.sku && l.orders.iter().any(|o| o == order_id))
            else {
                continue;
            };
            let line = &mut po.lines[i];
            let q = p.quantity.min(line.open()).max(Decimal::ZERO);
            line.quantity = checked::sub(line.quantity, q, || {
                format!("{number} line {} quantity", p.sku)
            })?;
            line.orders.retain(|o| o != order_id);
            if q > Decimal::ZERO {
                ctx.adjust_stock(&p.sku, &master::on_order_key(&location), -q)
                    .await?;
            }
            if line.quantity <= line.received {
                po.lines.remove(i);
                let mut idx = sku_index(ctx, &p.sku).await?;
                idx.retain(|n| *n != number);
                put_sku_index(ctx, &p.sku, idx).await?;
            }
            out.push(Withdrawn {
                po: number.clone(),
                sku: p.sku.clone(),
                quantity: q,
                kept: (q < p.quantity)
                    .then(|| format!("{number}: only {q} of {} was still open", p.quantity)),
            });
        }
        po.waiting.retain(|w| w != order_id);
        if po.status == "open" && po.lines.is_empty() {
            po.status = "cancelled".into();
            let key = open_po_key(&po.supplier, &location);
            let open = ctx.get::<OpenPo>("open-po", &key).await?;
            if open.and_then(|o| o.number).as_deref() == Some(number.as_str()) {
                ctx.put("open-po", &key, &OpenPo { number: None }).await?;
            }
        }
        ctx.put("purchase-order", &number, &po).await?;
    }
    Ok(out)
}

/// `open-po/<supplier>` for the default location (as before locations), else
/// `open-po/<supplier>@<location>`: one open PO per supplier and location.
fn open_po_key(supplier: &str, location: &str) -> String {
    if location == master::DEFAULT_LOCATION {
        supplier.to_string()
    } else {
        format!("{supplier}@{location}")
    }
}

/// Books a goods receipt against a purchase order: all open quantities (`lines: None`) or the
/// given `(sku, quantity)` pairs. Stock goes in at `location`, the waiting sales orders get
/// `stock.received`. Errors are for the operator (unknown PO, SKU not on it, over-receipt).
pub async fn receive_goods(
    ctx: &mut dyn StepContext,
    po_number: &str,
    lines: Option<&[(String, Decimal)]>,
    location: &str,
) -> Result<Value, StepError> {
    let bad = |m: String| StepError::Permanent(m);
    let Some(po) = load_po(ctx, po_number).await? else {
        return Err(bad(format!("no purchase order '{po_number}'")));
    };
    let supplier = po.supplier.clone();
    lock_supplier(ctx, &supplier).await?;
    // Re-read under the lock (POs are never deleted, so it is still there).
    let mut po = load_po(ctx, po_number).await?.unwrap_or(po);
    if po.status == "received" {
        return Err(bad(format!(
            "purchase order {po_number} is fully received already"
        )));
    }
    // A PO bought for a location receives there; the order flow's POs name none and receive
    // where the receipt says (`main` unless told).
    let location = po.location.clone().unwrap_or_else(|| location.to_string());
    let on_order_at =
        master::on_order_key(po.location.as_deref().unwrap_or(master::DEFAULT_LOCATION));
    let wanted: Vec<(String, Decimal)> = match lines {
        Some(l) => l.to_vec(),
        None => po
            .lines
            .iter()
            .map(|l| (l.sku.clone(), l.open()))
            .filter(|(_, q)| *q > Decimal::ZERO)
            .collect(),
    };
    let mut booked = Vec::new();
    for (sku, q) in &wanted {
        if *q <= Decimal::ZERO {
            return Err(bad(format!(
                "{po_number}: quantity for {sku} must be positive, got {q}"
            )));
        }
        let Some(l) = po.lines.iter_mut().find(|l| &l.sku == sku) else {
            return Err(bad(format!("{po_number} has no line for {sku}")));
        };
        let open = l.open();
        if *q > open {
            return Err(bad(format!(
                "{po_number}: receiving {q} of {sku} but only {open} is open"
            )));
        }
        l.received = checked::add(l.received, *q, || {
            format!("{po_number} line {sku} received")
        })?;
        let now_open = l.open();
        ctx.adjust_stock(sku, &location, *q).await?;
        ctx.adjust_stock(sku, &on_order_at, -*q).await?;
        if now_open.is_zero() {
            let idx: Vec<String> = sku_index(ctx, sku)
                .await?
                .into_iter()
                .filter(|n| n != po_number)
                .collect();
            put_sku_index(ctx, sku, idx).await?;
        }
        booked.push(json!({ "sku": sku, "quantity": q }));
    }
    if po.status == "open" {
        let key = open_po_key(
            &supplier,
            po.location.as_deref().unwrap_or(master::DEFAULT_LOCATION),
        );
        ctx.put("open-po", &key, &OpenPo { number: None }).await?;
    }
    let all = po.lines.iter().all(|l| l.open().is_zero());
    po.status = if all { "received" } else { "partial" }.into();
    let n = ctx.next_number(GR_SERIES).await?;
    let gr = format!("GR-{n:06}");
    let waiting = std::mem::take(&mut po.waiting);
    po.receipts.push(gr.clone());
    ctx.put("purchase-order", po_number, &po).await?;
    // Matched to the supplier's ship notice, when one is expected: differences go to a task.
    let differences = crate::supplier::match_receipt(ctx, po_number, &gr, &wanted).await?;
    let receipt = json!({ "number": gr, "po": po_number, "supplier": supplier, "location": location,
                          "received_on": master::today(ctx), "lines": booked, "resumed_orders": waiting,
                          "differences": differences });
    ctx.put_document("goods-receipt", &gr, &receipt).await?;
    let posting =
        crate::posting::goods_receipt(ctx, gr.clone(), po_number, &supplier, &wanted).await?;
    ctx.post(&posting).await?;
    for o in &waiting {
        ctx.emit_event(
            RECEIVED_EVENT,
            o,
            "received",
            &json!({ "receipt": { "number": gr, "po": po_number } }),
        )
        .await?;
    }
    Ok(receipt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryContext, run};
    use rust_decimal::dec;

    /// Instance data as the workflow has it; the fields a test does not care about are 0.
    fn data(order: &str, mut purchase: Value, mut candidates: Value, ships: bool) -> Value {
        let zero = json!(Decimal::ZERO);
        for p in purchase.as_array_mut().unwrap() {
            for k in ["replenish_qty", "reorder_point", "supplier_min"] {
                p.as_object_mut().unwrap().entry(k).or_insert(zero.clone());
            }
        }
        for c in candidates.as_array_mut().unwrap() {
            let c = c.as_object_mut().unwrap();
            for k in [
                "on_hand",
                "on_order",
                "reorder_point",
                "reorder_qty",
                "supplier_min",
                "lead_time_days",
            ] {
                c.entry(k).or_insert(zero.clone());
            }
        }
        let line = json!({ "line_no": 1, "sku": "WIDGET", "quantity": 1, "uom": "EA", "unit_weight_kg": 0, "description": null });
        json!({ "order": { "id": order }, "purchase": purchase, "reorder": { "candidates": candidates },
                "to_ship": { "lines": if ships { json!([line]) } else { json!([]) }, "weight_kg": 0, "location": "main", "country": "DE", "value": 0 } })
    }

    #[tokio::test]
    async fn a_changed_or_cancelled_order_takes_its_purchases_off_the_open_po() {
        let mut ctx = MemoryContext::seeded();
        let short = |q: &str| json!([{ "sku": "GADGET", "short": q.parse::<Decimal>().unwrap(), "supplier": "S1" }]);
        let a = run(
            &PurchaseOrder,
            &mut ctx,
            data(
                "A",
                json!([{ "sku": "GADGET", "supplier": "S1", "quantity": 50 }]),
                short("5"),
                false,
            ),
            json!({}),
        )
        .await;
        let b = run(&PurchaseOrder, &mut ctx, data("B", json!([{ "sku": "GADGET", "supplier": "S1", "quantity": 3 }, { "sku": "WIDGET", "supplier": "S1", "quantity": 60 }]), short("3"), false), json!({})).await;
        let placed = |o: &StepOutput| -> Vec<Placed> {
            serde_json::from_value(o.set["purchases"].clone()).unwrap()
        };
        let on_order =
            |ctx: &MemoryContext, sku: &str| ctx.stock[&(sku.into(), master::ON_ORDER.into())];
        // A is cancelled: its 50 gadgets come off; B's 3 stay, B still waits.
        let w = withdraw(&mut ctx, "A", &placed(&a)).await.unwrap();
        assert_eq!((w[0].quantity, w[0].kept.clone()), (dec!(50), None));
        let po = ctx.docs[&("purchase-order".into(), "PO-000001".into())].clone();
        assert_eq!(po["lines"][0]["quantity"], json!(dec!(3)));
        assert_eq!(po["lines"][0]["orders"], json!(["B"]));
        assert_eq!(po["waiting"], json!(["B"]));
        assert_eq!(on_order(&ctx, "GADGET"), dec!(3));
        // Taking A off again changes nothing (a retried change path).
        let again = withdraw(&mut ctx, "A", &placed(&a)).await.unwrap();
        assert_eq!(on_order(&ctx, "GADGET"), dec!(3), "{again:?}");
        // B too: the PO is left without lines and cancelled; the next order opens a new one.
        withdraw(&mut ctx, "B", &placed(&b)).await.unwrap();
        let po = ctx.docs[&("purchase-order".into(), "PO-000001".into())].clone();
        assert_eq!(
            (po["status"].as_str(), po["lines"].as_array().map(Vec::len)),
            (Some("cancelled"), Some(0))
        );
        assert_eq!(
            (on_order(&ctx, "GADGET"), on_order(&ctx, "WIDGET")),
            (dec!(0), dec!(0))
        );
        let c = run(
            &PurchaseOrder,
            &mut ctx,
            data(
                "C",
                json!([{ "sku": "GADGET", "supplier": "S1", "quantity": 7 }]),
                short("7"),
                false,
            ),
            json!({}),
        )
        .await;
        assert_eq!(
            c.set["waiting_on"],
            json!(["PO-000002"]),
            "the cancelled PO is not waited on"
        );
        // A PO that received goods is left as is, and the record says why.
        receive_goods(
            &mut ctx,
            "PO-000002",
            Some(&[("GADGET".into(), dec!(2))]),
            "main",
        )
        .await
        .unwrap();
        let w = withdraw(&mut ctx, "C", &placed(&c)).await.unwrap();
        assert_eq!(w[0].quantity, dec!(0));
        assert!(
            w[0].kept.as_deref().unwrap_or_default().contains("partial"),
            "{w:?}"
        );
        assert_eq!(on_order(&ctx, "GADGET"), dec!(5));
    }

    #[tokio::test]
    async fn one_po_per_supplier_combines_orders_and_a_receipt_resumes_them() {
        let mut ctx = MemoryContext::seeded();
        let short = |q: &str| json!([{ "sku": "GADGET", "short": q.parse::<Decimal>().unwrap(), "supplier": "S1" }]);
        let a = run(
            &PurchaseOrder,
            &mut ctx,
            data(
                "A",
                json!([{ "sku": "GADGET", "supplier": "S1", "quantity": 50 }]),
                short("5"),
                false,
            ),
            json!({}),
        )
        .await;
        assert_eq!(a.outcome, "wait");
        let b = run(&PurchaseOrder, &mut ctx, data("B", json!([{ "sku": "GADGET", "supplier": "S1", "quantity": 3 }, { "sku": "WIDGET", "supplier": "S1", "quantity": 60 }]), short("3"), true), json!({})).await;
        assert_eq!(
            b.outcome, "ship",
            "B ships what it has and waits for the rest"
        );
        assert_eq!(ctx.numbers[PO_SERIES], 1, "one PO for the supplier");
        let po = ctx.docs[&("purchase-order".into(), "PO-000001".into())].clone();
        assert_eq!(po["lines"][0]["quantity"], json!(dec!(53)));
        assert_eq!(po["lines"][0]["orders"], json!(["A", "B"]));
        assert_eq!(po["waiting"], json!(["A", "B"]));
        assert_eq!(
            ctx.stock[&("GADGET".into(), master::ON_ORDER.into())],
            dec!(53)
        );

        // Partial receipt: 20 gadgets. Stock in, both orders resumed, PO closed for appends.
        let r = receive_goods(
            &mut ctx,
            "PO-000001",
            Some(&[("GADGET".into(), dec!(20))]),
            "main",
        )
        .await
        .unwrap();
        assert_eq!(r["resumed_orders"], json!(["A", "B"]));
        assert_eq!(ctx.stock[&("GADGET".into(), "main".into())], dec!(30));
        assert_eq!(
            ctx.stock[&("GADGET".into(), master::ON_ORDER.into())],
            dec!(33)
        );
        assert_eq!(ctx.events.len(), 2);
        assert_eq!(ctx.events[0].0, RECEIVED_EVENT);
        let po = ctx.docs[&("purchase-order".into(), "PO-000001".into())].clone();
        assert_eq!(po["status"], "partial");
        // A new shortage goes to a new PO, and still waits on the rest of the first.
        let c = run(
            &PurchaseOrder,
            &mut ctx,
            data(
                "C",
                json!([{ "sku": "GADGET", "supplier": "S1", "quantity": 10 }]),
                short("1"),
                false,
            ),
            json!({}),
        )
        .await;
        assert_eq!(c.set["waiting_on"], json!(["PO-000001", "PO-000002"]));
        // Over-receipt and unknown lines are refused; the rest receives in full.
        let e = receive_goods(
            &mut ctx,
            "PO-000001",
            Some(&[("GADGET".into(), dec!(34))]),
            "main",
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("only 33 is open"), "{e}");
        assert!(
            receive_goods(
                &mut ctx,
                "PO-000001",
                Some(&[("NOPE".into(), dec!(1))]),
                "main"
            )
            .await
            .is_err()
        );
        receive_goods(&mut ctx, "PO-000001", None, "main")
            .await
            .unwrap();
        let po = ctx.docs[&("purchase-order".into(), "PO-000001".into())].clone();
        assert_eq!(po["status"], "received");
        assert!(
            receive_goods(&mut ctx, "PO-000001", None, "main")
                .await
                .unwrap_err()
                .to_string()
                .contains("fully received")
        );
        assert_eq!(ctx.numbers[GR_SERIES], 2);
    }

    #[tokio::test]
    async fn replenishment_is_bought_once_even_when_the_rule_saw_stale_stock() {
        // Both orders' rule steps ran before either purchase step: both ask for the reorder
        // quantity; only the first gets it, the second buys just its own shortage.
        let mut ctx = MemoryContext::seeded();
        ctx.stock.insert(("GADGET".into(), "main".into()), dec!(0));
        let line = json!([{ "sku": "GADGET", "supplier": "S1", "quantity": 2, "replenish_qty": 20, "reorder_point": 5, "supplier_min": 50 }]);
        let short = json!([{ "sku": "GADGET", "short": 2, "supplier": "S1" }]);
        run(
            &PurchaseOrder,
            &mut ctx,
            data("A", line.clone(), short.clone(), false),
            json!({}),
        )
        .await;
        run(
            &PurchaseOrder,
            &mut ctx,
            data("B", line, short, false),
            json!({}),
        )
        .await;
        let po = ctx.docs[&("purchase-order".into(), "PO-000001".into())].clone();
        // A: 2 + 20 = 22, lifted to the supplier minimum 50 of a new PO; B: 2 more.
        assert_eq!(po["lines"][0]["quantity"], json!(dec!(52)));
        assert_eq!(ctx.numbers[PO_SERIES], 1);
    }

    #[tokio::test]
    async fn an_item_nobody_supplies_is_unavailable() {
        let mut ctx = MemoryContext::seeded();
        let out = run(
            &PurchaseOrder,
            &mut ctx,
            data(
                "A",
                json!([]),
                json!([{ "sku": "GADGET", "short": 2, "supplier": null }]),
                false,
            ),
            json!({}),
        )
        .await;
        assert_eq!(out.outcome, "unavailable");
        assert_eq!(out.set["unavailable"], json!(["GADGET"]));
    }
}
