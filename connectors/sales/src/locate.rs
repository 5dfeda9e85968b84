//! `stock.locate`: the facts rules/allocation.rhai chooses an order's stock location from.
//! For every location (the `location` master data; none: `main`, so single-location data
//! works as before): its country and priority, what it holds of each item the order still
//! needs, and whether it can ship everything open at once. The rule's choice
//! (`allocation.location`) is where `stock.allocate` takes the goods, where a shortage is
//! bought for, and where the shipment leaves from.

use crate::allocate::Fulfilment;
use crate::checked;
use crate::master::data_field;
use crate::replenish::locations;
use async_trait::async_trait;
use ordo_contract::{Connector, Pricing, StepContext, StepError, StepInput, StepOutput};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub struct LocateStock;

/// One location as the rule reads it.
#[derive(Debug, Serialize)]
pub struct Site {
    pub id: String,
    /// Empty when the location states none (no customer country matches it).
    pub country: String,
    /// Absent priority: after every stated one.
    pub priority: u32,
    /// Holds every open quantity of the order.
    pub complete: bool,
    /// Open lines it could ship in full now.
    pub lines_in_stock: usize,
}

/// The customer as `order.validate` put it in the instance data.
#[derive(Debug, Deserialize)]
struct CustomerView {
    country: String,
}

#[async_trait]
impl Connector for LocateStock {
    fn name(&self) -> &'static str {
        "stock.locate"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["located"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let pricing: Pricing = data_field(input.data, "pricing")?;
        let customer: CustomerView = data_field(input.data, "customer")?;
        // What is still open: the fulfilment of earlier passes, else every priced line.
        let open: Vec<(String, Decimal)> = match input.data.get("fulfilment") {
            Some(v) if !v.is_null() => data_field::<Fulfilment>(input.data, "fulfilment")?
                .lines
                .iter()
                .map(|l| (l.sku.clone(), l.open()))
                .collect(),
            _ => pricing
                .lines
                .iter()
                .map(|l| (l.sku.clone(), l.quantity))
                .collect(),
        };
        let mut need: BTreeMap<String, Decimal> = BTreeMap::new();
        for (sku, q) in open {
            if q <= Decimal::ZERO {
                continue;
            }
            let n = need.entry(sku.clone()).or_default();
            *n = checked::add(*n, q, || format!("open quantity of {sku}"))?;
        }
        let mut sites = Vec::new();
        for loc in locations(ctx).await? {
            let mut in_stock = 0;
            for (sku, q) in &need {
                if ctx.stock_level(sku, &loc.id).await? >= *q {
                    in_stock += 1;
                }
            }
            sites.push(Site {
                complete: in_stock == need.len(),
                lines_in_stock: in_stock,
                // Display and comparison only: a location without a country matches none.
                country: loc.country.clone().unwrap_or_default(),
                priority: loc.priority.unwrap_or(u32::MAX),
                id: loc.id,
            });
        }
        Ok(StepOutput::outcome("located").with(
            "locations",
            serde_json::json!({ "country": customer.country, "sites": sites }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ValidateOrder;
    use crate::testing::{MemoryContext, merge, order_json, run};
    use rust_decimal::dec;
    use serde_json::json;

    #[tokio::test]
    async fn each_location_says_whether_it_can_ship_the_order_complete() {
        let mut ctx = MemoryContext::seeded();
        for (id, country, prio) in [("main", "DE", 1), ("north", "DK", 2)] {
            ctx.docs.insert(
                ("location".into(), id.into()),
                json!({ "id": id, "name": id, "country": country, "priority": prio }),
            );
        }
        ctx.stock
            .insert(("WIDGET".into(), "north".into()), dec!(500));
        ctx.stock.insert(("GADGET".into(), "north".into()), dec!(3));
        let mut data = json!({ "order": order_json(&[("WIDGET", "200"), ("GADGET", "2")]) });
        let out = run(&ValidateOrder, &mut ctx, data.clone(), json!({})).await;
        merge(&mut data, &out);
        let out = run(&LocateStock, &mut ctx, data, json!({})).await;
        let sites = &out.set["locations"]["sites"];
        // main: 100 widgets (200 wanted), 10 gadgets; north has both.
        assert_eq!(sites[0]["id"], "main");
        assert_eq!(sites[0]["complete"], false);
        assert_eq!(sites[0]["lines_in_stock"], 1);
        assert_eq!(sites[1]["id"], "north");
        assert_eq!(sites[1]["complete"], true);
        assert_eq!(sites[1]["priority"], 2);
    }

    #[tokio::test]
    async fn without_location_data_there_is_one_location_main() {
        let mut ctx = MemoryContext::seeded();
        let mut data = json!({ "order": order_json(&[("WIDGET", "1")]) });
        let out = run(&ValidateOrder, &mut ctx, data.clone(), json!({})).await;
        merge(&mut data, &out);
        let out = run(&LocateStock, &mut ctx, data, json!({})).await;
        let sites = out.set["locations"]["sites"].as_array().unwrap().clone();
        assert_eq!(sites.len(), 1);
        assert_eq!(sites[0]["id"], "main");
        assert_eq!(sites[0]["complete"], true);
    }
}
