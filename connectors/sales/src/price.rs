//! `order.price`: applies the discount that rules/pricing.rhai decided (`discount_percent` in
//! the instance data) to every line, rounds each line to the currency's minor unit (half away
//! from zero) and computes the order total, cost and margin the approval rule reads.

use crate::checked;
use crate::master::data_field;
use crate::master::{currency_decimals, round_money};
use async_trait::async_trait;
use ordo_contract::{Connector, Pricing, StepContext, StepError, StepInput, StepOutput};
use rust_decimal::Decimal;
use serde_json::Value;

pub struct PriceOrder;

#[async_trait]
impl Connector for PriceOrder {
    fn name(&self) -> &'static str {
        "order.price"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["ok"]
    }

    async fn run(
        &self,
        _ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let mut pricing: Pricing = data_field(input.data, "pricing")?;
        let discount: Decimal = match input.data.get("discount_percent") {
            None | Some(Value::Null) => Decimal::ZERO,
            Some(_) => data_field(input.data, "discount_percent")?,
        };
        if discount < Decimal::ZERO || discount >= Decimal::ONE_HUNDRED {
            return Err(StepError::Permanent(format!(
                "rules/pricing.rhai returned discount_percent {discount}; it must be in [0, 100)"
            )));
        }
        if let Some(q) = &pricing.quote
            && !discount.is_zero()
        {
            return Err(StepError::Permanent(format!(
                "rules/pricing.rhai returned discount_percent {discount} for an order at the prices of quote {q}; quoted prices take no further discount"
            )));
        }
        let dp = currency_decimals(&pricing.currency);
        let factor = (Decimal::ONE_HUNDRED - discount) / Decimal::ONE_HUNDRED;
        // Only names the order in error messages (the instance id names it as well).
        let order = input.data["order"]["id"]
            .as_str()
            .unwrap_or(input.instance)
            .to_string();
        let mut total = Decimal::ZERO;
        let mut cost = Decimal::ZERO;
        for l in pricing.lines.iter_mut() {
            let at = |f: &str| format!("order {order} pricing line {} {f}", l.line_no);
            let unit =
                checked::mul(l.list_price, factor, || at("list_price × discount"))?.normalize();
            let amount = round_money(
                checked::mul(l.quantity, unit, || at("quantity × unit_price"))?,
                dp,
            );
            total = checked::add(total, amount, || format!("order {order} total"))?;
            let line_cost = checked::mul(l.quantity, l.unit_cost, || at("quantity × unit_cost"))?;
            cost = checked::add(cost, round_money(line_cost, dp), || {
                format!("order {order} cost total")
            })?;
            l.unit_price = unit;
            l.discount_percent = Some(discount);
            l.amount = amount;
        }
        let margin = if total.is_zero() {
            Decimal::ZERO
        } else {
            let what = || format!("order {order} margin");
            let m = checked::div(checked::sub(total, cost, what)?, total, what)?;
            round_money(checked::mul(m, Decimal::ONE_HUNDRED, what)?, 2)
        };
        pricing.total = total;
        pricing.cost_total = cost;
        pricing.margin_percent = margin;
        pricing.discount_percent = Some(discount);
        Ok(StepOutput::outcome("ok").with("pricing", pricing))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ValidateOrder;
    use crate::testing::{MemoryContext, order_json, run};
    use rust_decimal::dec;
    use serde_json::json;

    #[tokio::test]
    async fn discount_is_applied_per_line_and_rounded_half_away_from_zero() {
        let mut ctx = MemoryContext::seeded();
        // WIDGET 0.335 × 3 = 1.005; GADGET 12.50 × 1
        let v = run(
            &ValidateOrder,
            &mut ctx,
            json!({ "order": order_json(&[("WIDGET", "3"), ("GADGET", "1")]) }),
            json!({}),
        )
        .await;
        let mut data = json!({ "pricing": v.set["pricing"], "discount_percent": dec!(10) });
        let out = run(&PriceOrder, &mut ctx, data.clone(), json!({})).await;
        let p = &out.set["pricing"];
        // 0.335 × 0.9 = 0.3015 × 3 = 0.9045 → 0.90; 12.50 × 0.9 = 11.25
        assert_eq!(p["lines"][0]["amount"], json!(dec!(0.90)));
        assert_eq!(p["lines"][1]["amount"], json!(dec!(11.25)));
        assert_eq!(p["total"], json!(dec!(12.15)));
        // cost 0.20 × 3 = 0.60 and 8.00: margin (12.15 − 8.60) / 12.15 = 29.22 %
        assert_eq!(p["margin_percent"], json!(dec!(29.22)));
        data["discount_percent"] = json!(0);
        let out = run(&PriceOrder, &mut ctx, data.clone(), json!({})).await;
        assert_eq!(out.set["pricing"]["total"], json!(dec!(13.51)));
        data["discount_percent"] = json!(100);
        let input = StepInput {
            instance: "i",
            workflow: "w",
            step: "s",
            attempt: 1,
            data: &data,
            params: &json!({}),
        };
        assert!(
            PriceOrder.run(&mut ctx, input).await.is_err(),
            "a 100% discount is a rule bug"
        );
    }
}
