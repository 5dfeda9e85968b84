//! `stock.reserve`: takes the ordered quantities out of stock, all lines or none.

use crate::master::data_field;
use async_trait::async_trait;
use ordo_contract::{Connector, Order, StepContext, StepError, StepInput, StepOutput};
use rust_decimal::Decimal;

pub struct ReserveStock;

#[async_trait]
impl Connector for ReserveStock {
    fn name(&self) -> &'static str {
        "stock.reserve"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["reserved", "short"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let order: Order = data_field(input.data, "order")?;
        let location = crate::master::param_str(input.params, "location", "main");
        // Sum per SKU first: two lines of one item must fit together.
        let mut need: std::collections::BTreeMap<&str, Decimal> = Default::default();
        for l in &order.lines {
            let n = need.entry(l.sku.as_str()).or_default();
            *n = crate::checked::add(*n, l.quantity, || {
                format!("order {} quantity of {}", order.id, l.sku)
            })?;
        }
        let mut shortages = Vec::new();
        for (sku, qty) in &need {
            let on_hand = ctx.stock_level(sku, location).await?;
            if on_hand < *qty {
                shortages
                    .push(serde_json::json!({ "sku": sku, "needed": qty, "on_hand": on_hand }));
            }
        }
        if !shortages.is_empty() {
            return Ok(StepOutput::outcome("short").with("shortages", shortages));
        }
        for (sku, qty) in &need {
            ctx.adjust_stock(sku, location, -*qty).await?;
        }
        Ok(StepOutput::outcome("reserved").with(
            "reservation",
            serde_json::json!({ "location": location, "lines": need }),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryContext, order_json};
    use rust_decimal::dec;
    use serde_json::json;

    #[tokio::test]
    async fn reserves_all_lines_or_none() {
        let mut ctx = MemoryContext::seeded();
        let params = json!({});
        let data = json!({ "order": order_json(&[("WIDGET", "60"), ("WIDGET", "40")]) });
        let input = StepInput {
            instance: "i",
            workflow: "w",
            step: "reserve",
            attempt: 1,
            data: &data,
            params: &params,
        };
        let out = ReserveStock.run(&mut ctx, input).await.unwrap();
        assert_eq!(out.outcome, "reserved");
        assert_eq!(ctx.stock_level("WIDGET", "main").await.unwrap(), dec!(0));

        let data = json!({ "order": order_json(&[("GADGET", "1"), ("WIDGET", "1")]) });
        let input = StepInput {
            instance: "i",
            workflow: "w",
            step: "reserve",
            attempt: 1,
            data: &data,
            params: &params,
        };
        let out = ReserveStock.run(&mut ctx, input).await.unwrap();
        assert_eq!(out.outcome, "short");
        assert_eq!(
            ctx.stock_level("GADGET", "main").await.unwrap(),
            dec!(10),
            "nothing taken when one line is short"
        );
    }
}
