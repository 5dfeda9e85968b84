//! `order.validate`: checks an order against master data and prices it from the price list.

use async_trait::async_trait;
use ordo_contract::{
    Connector, Order, StepContext, StepContextExt, StepError, StepInput, StepOutput, data_field,
};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

pub struct ValidateOrder;

#[derive(Debug, Deserialize)]
struct Customer {
    id: String,
    #[serde(default)]
    currency: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Item {
    price: Decimal,
}

#[derive(Debug, Serialize)]
struct PricedLine {
    line_no: u32,
    sku: String,
    quantity: Decimal,
    unit_price: Decimal,
    amount: Decimal,
}

/// Percentage a buyer's stated unit price may differ from the list price (`with.price_tolerance`,
/// default 0: any difference holds the order).
fn tolerance(params: &serde_json::Value) -> Result<Decimal, StepError> {
    match params.get("price_tolerance") {
        None => Ok(Decimal::ZERO),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| StepError::Permanent(format!("with.price_tolerance: {e}"))),
    }
}

#[async_trait]
impl Connector for ValidateOrder {
    fn name(&self) -> &'static str {
        "order.validate"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["ok", "invalid"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let order: Order = data_field(input.data, "order")?;
        let tolerance = tolerance(input.params)?;
        let mut reasons = Vec::new();
        let customer: Option<Customer> = ctx.get("customer", &order.customer_id).await?;
        match &customer {
            None => reasons.push(format!("unknown customer '{}'", order.customer_id)),
            Some(c) => {
                if let Some(cur) = &c.currency
                    && cur != &order.currency
                {
                    reasons.push(format!(
                        "order currency {} differs from customer currency {cur}",
                        order.currency
                    ));
                }
            }
        }
        if order.lines.is_empty() {
            reasons.push("order has no lines".to_string());
        }
        let mut priced = Vec::new();
        let mut total = Decimal::ZERO;
        for line in &order.lines {
            if line.quantity <= Decimal::ZERO {
                reasons.push(format!(
                    "line {}: quantity {} must be positive",
                    line.line_no, line.quantity
                ));
                continue;
            }
            let Some(item) = ctx.get::<Item>("item", &line.sku).await? else {
                reasons.push(format!("line {}: unknown SKU '{}'", line.line_no, line.sku));
                continue;
            };
            if let Some(stated) = line.unit_price {
                let allowed = (item.price * tolerance / Decimal::ONE_HUNDRED).abs();
                if (stated - item.price).abs() > allowed {
                    reasons.push(format!(
                        "line {}: unit price {} differs from list price {} by more than {}%",
                        line.line_no, stated, item.price, tolerance
                    ));
                    continue;
                }
            }
            // Each line is rounded to the cent on its own, the way an invoice prints it.
            let amount = (line.quantity * item.price)
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            total += amount;
            priced.push(PricedLine {
                line_no: line.line_no,
                sku: line.sku.clone(),
                quantity: line.quantity,
                unit_price: item.price,
                amount,
            });
        }
        if !reasons.is_empty() {
            return Ok(StepOutput::outcome("invalid").with("hold_reasons", reasons));
        }
        let customer_doc = ctx
            .get_document("customer", &order.customer_id)
            .await?
            .ok_or_else(|| StepError::Transient("customer vanished during the step".into()))?;
        let id = customer.map(|c| c.id).unwrap_or_default();
        Ok(StepOutput::outcome("ok")
            .with(
                "pricing",
                serde_json::json!({ "customer_id": id, "currency": order.currency, "total": total, "lines": priced }),
            )
            .with("customer", customer_doc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryContext, order_json};
    use rust_decimal::dec;
    use serde_json::json;

    async fn run(
        ctx: &mut MemoryContext,
        data: serde_json::Value,
        params: serde_json::Value,
    ) -> StepOutput {
        let input = StepInput {
            instance: "i",
            workflow: "w",
            step: "validate",
            attempt: 1,
            data: &data,
            params: &params,
        };
        ValidateOrder.run(ctx, input).await.unwrap()
    }

    #[tokio::test]
    async fn prices_lines_from_the_price_list_rounding_each_line() {
        let mut ctx = MemoryContext::seeded();
        let out = run(
            &mut ctx,
            json!({ "order": order_json(&[("WIDGET", "3"), ("GADGET", "1")]) }),
            json!({}),
        )
        .await;
        assert_eq!(out.outcome, "ok");
        // 3 × 0.335 = 1.005 → 1.01 (half away from zero), + 1 × 12.50
        assert_eq!(out.set["pricing"]["total"], json!(dec!(13.51)));
        assert_eq!(out.set["customer"]["credit_limit"], json!(dec!(5000)));
    }

    #[tokio::test]
    async fn holds_orders_with_every_reason() {
        let mut ctx = MemoryContext::seeded();
        let mut order = order_json(&[("NOPE", "1"), ("WIDGET", "0")]);
        order["customer_id"] = json!("GHOST");
        let out = run(&mut ctx, json!({ "order": order }), json!({})).await;
        assert_eq!(out.outcome, "invalid");
        let reasons = out.set["hold_reasons"].to_string();
        assert!(reasons.contains("unknown customer 'GHOST'"), "{reasons}");
        assert!(reasons.contains("unknown SKU 'NOPE'"), "{reasons}");
        assert!(reasons.contains("quantity 0 must be positive"), "{reasons}");
    }

    #[tokio::test]
    async fn stated_price_outside_tolerance_holds_the_order() {
        let mut ctx = MemoryContext::seeded();
        let mut order = order_json(&[("GADGET", "1")]);
        order["lines"][0]["unit_price"] = json!(dec!(13.00));
        let out = run(
            &mut ctx,
            json!({ "order": order.clone() }),
            json!({ "price_tolerance": 5 }),
        )
        .await;
        assert_eq!(out.outcome, "ok", "4% off is within 5%");
        let out = run(
            &mut ctx,
            json!({ "order": order }),
            json!({ "price_tolerance": 3 }),
        )
        .await;
        assert_eq!(out.outcome, "invalid");
        assert!(
            out.set["hold_reasons"]
                .to_string()
                .contains("differs from list price 12.50")
        );
    }
}
