//! `order.validate`: checks an order against master data and prices it from the price list.

use crate::checked;
use crate::master::data_field;
use crate::master::{self, Customer, Item};
use async_trait::async_trait;
use ordo_contract::{
    Connector, Order, PricedLine, Pricing, StepContext, StepContextExt, StepError, StepInput,
    StepOutput, from_doc,
};
use rust_decimal::Decimal;

pub struct ValidateOrder;

/// Percentage a buyer's stated unit price may differ from the list price (`with.price_tolerance`,
/// default 0: any difference holds the order).
fn tolerance(params: &serde_json::Value) -> Result<Decimal, StepError> {
    master::param_decimal(params, "price_tolerance", Decimal::ZERO)
}

/// Why a line's unit or quantity does not fit the item: a unit other than the item's (no
/// conversion is known), or a fraction of an item counted in whole units. A line of a JSON or
/// CSV order without a unit (read as `EA`) is in the item's unit; EDI always states it.
fn unit_problem(order: &Order, line: &ordo_contract::OrderLine, item: &Item) -> Option<String> {
    let stated = master::canonical_unit(&line.uom);
    let own = master::canonical_unit(item.unit());
    let from_edi = matches!(order.channel.as_str(), "edi-x12" | "edifact");
    if stated != own && (from_edi || stated != "EA") {
        return Some(format!(
            "line {}: unit {} differs from the unit of item {} ({}); no conversion is known",
            line.line_no,
            line.uom,
            line.sku,
            item.unit()
        ));
    }
    if !line.quantity.fract().is_zero() && !item.allows_fractions() {
        return Some(format!(
            "line {}: quantity {} of {} is not a whole number; its unit {} is counted in whole units",
            line.line_no,
            line.quantity,
            line.sku,
            item.unit()
        ));
    }
    None
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
        // Read once: the typed view for the checks, the document itself for the rules.
        let customer_doc = ctx.get_document("customer", &order.customer_id).await?;
        let customer: Option<Customer> = customer_doc
            .as_ref()
            .map(|d| from_doc("customer", &order.customer_id, d))
            .transpose()?;
        match &customer {
            None => reasons.push(format!("unknown customer '{}'", order.customer_id)),
            Some(c) => {
                if c.currency != order.currency {
                    reasons.push(format!(
                        "order currency {} differs from customer currency {}",
                        order.currency, c.currency
                    ));
                }
                if let Err(e) = master::parse_terms(&c.terms) {
                    reasons.push(format!("customer {}: {e}", c.id));
                }
            }
        }
        if order.lines.is_empty() {
            reasons.push("order has no lines".to_string());
        }
        // An order accepted from a quote (`ordo_sales::quote::accept_quote`) names it: its lines
        // are priced at the quoted unit prices (a line added later, at the list price).
        let quote = match input.data["order"].get("quote") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(q)) => Some(q.clone()),
            Some(other) => {
                return Err(StepError::Permanent(format!(
                    "order {}: quote must be a quote number, got {}",
                    order.id,
                    ordo_contract::excerpt(&other.to_string(), 40)
                )));
            }
        };
        let quoted = match &quote {
            None => Default::default(),
            Some(q) => match crate::quote::quoted_prices(ctx, q, &order.id).await? {
                Ok(p) => p,
                Err(reason) => {
                    reasons.push(reason);
                    Default::default()
                }
            },
        };
        let dp = master::currency_decimals(&order.currency);
        let mut priced = Vec::new();
        let mut total = Decimal::ZERO;
        let mut cost = Decimal::ZERO;
        let mut seen = std::collections::BTreeSet::new();
        for line in &order.lines {
            if !seen.insert(line.line_no) {
                reasons.push(format!("line {}: line number used twice", line.line_no));
            }
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
            if let Some(reason) = unit_problem(&order, line, &item) {
                reasons.push(reason);
                continue;
            }
            let quoted_price = quoted
                .get(&line.line_no)
                .filter(|(sku, _)| *sku == line.sku)
                .map(|(_, p)| *p);
            // The price this order is sold at: the quote's, else the list's.
            let list_price = quoted_price.unwrap_or(item.price);
            if let (Some(stated), Some(q)) = (line.unit_price, quoted_price) {
                if stated != q {
                    reasons.push(format!(
                        "line {}: unit price {stated} differs from the quoted price {q}",
                        line.line_no
                    ));
                    continue;
                }
            } else if let Some(stated) = line.unit_price {
                let at = |f: &str| format!("order {} line {} {f}", order.id, line.line_no);
                let allowed = checked::div(
                    checked::mul(item.price, tolerance, || at("price tolerance"))?,
                    Decimal::ONE_HUNDRED,
                    || at("price tolerance"),
                )?
                .abs();
                if checked::sub(stated, item.price, || at("unit_price"))?.abs() > allowed {
                    reasons.push(format!(
                        "line {}: unit price {} differs from list price {} by more than {}%",
                        line.line_no, stated, item.price, tolerance
                    ));
                    continue;
                }
            }
            // Each line is rounded to the cent on its own, the way an invoice prints it.
            let at = |f: &str| format!("order {} line {} {f}", order.id, line.line_no);
            let amount = master::round_money(
                checked::mul(line.quantity, list_price, || at("quantity × price"))?,
                dp,
            );
            total = checked::add(total, amount, || format!("order {} total", order.id))?;
            let line_cost =
                checked::mul(line.quantity, item.unit_cost(), || at("quantity × cost"))?;
            cost = checked::add(cost, master::round_money(line_cost, dp), || {
                format!("order {} cost total", order.id)
            })?;
            priced.push(PricedLine {
                line_no: line.line_no,
                sku: line.sku.clone(),
                description: Some(item.description.clone()),
                quantity: line.quantity,
                uom: item.unit().to_string(),
                list_price,
                unit_price: list_price,
                amount,
                unit_cost: item.unit_cost(),
                weight_kg: item.unit_weight_kg(),
                tax_code: item.tax_code().to_string(),
                discount_percent: None,
            });
        }
        if !reasons.is_empty() {
            return Ok(StepOutput::outcome("invalid").with("hold_reasons", reasons));
        }
        let (Some(c), Some(mut customer_doc)) = (customer, customer_doc) else {
            return Err(StepError::Transient(
                "customer vanished during the step".into(),
            ));
        };
        // The customer as the rules see it: master data plus live balances.
        let ar = ctx
            .stock_level(&master::ar_key(&c.id), master::LEDGER)
            .await?;
        let overdue = ctx
            .stock_level(&master::overdue_key(&c.id), master::LEDGER)
            .await?;
        let credit = ctx
            .stock_level(&master::credit_key(&c.id), master::LEDGER)
            .await?;
        if let Some(obj) = customer_doc.as_object_mut() {
            obj.insert("opening_balance".into(), serde_json::json!(c.open_balance));
            obj.insert(
                "open_balance".into(),
                serde_json::json!(checked::add(c.open_balance, ar, || format!(
                    "customer {} open_balance",
                    c.id
                ))?),
            );
            obj.insert("overdue".into(), serde_json::json!(overdue));
            obj.insert("credit".into(), serde_json::json!(credit));
            obj.insert(
                "discount_percent".into(),
                serde_json::json!(c.discount_percent),
            );
            obj.insert("blocked".into(), serde_json::json!(c.blocked));
            // The defaults the master data format documents for absent optional fields
            // (`ordo_contract::master::Customer`): ship complete, standard tax, and a customer
            // without a country is domestic (the rules' home country is DE).
            obj.insert(
                "ship_policy".into(),
                serde_json::json!(c.ship_policy.as_deref().unwrap_or("complete")),
            );
            obj.insert(
                "tax_class".into(),
                serde_json::json!(c.tax_class.as_deref().unwrap_or("standard")),
            );
            obj.insert(
                "country".into(),
                serde_json::json!(c.country.as_deref().unwrap_or("DE")),
            );
        }
        let margin = if total.is_zero() {
            Decimal::ZERO
        } else {
            let what = || format!("order {} margin", order.id);
            let m = checked::div(checked::sub(total, cost, what)?, total, what)?;
            master::round_money(checked::mul(m, Decimal::ONE_HUNDRED, what)?, 2)
        };
        Ok(StepOutput::outcome("ok")
            .with(
                "pricing",
                Pricing {
                    customer_id: c.id,
                    currency: order.currency,
                    total,
                    list_total: total,
                    cost_total: cost,
                    margin_percent: margin,
                    discount_percent: None,
                    quote,
                    lines: priced,
                },
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
    async fn fractions_of_counted_items_and_foreign_units_hold_the_order() {
        let mut ctx = MemoryContext::seeded();
        let mut order = order_json(&[("WIDGET", "1.5"), ("GADGET", "2")]);
        order["lines"][1]["uom"] = json!("KG");
        let out = run(&mut ctx, json!({ "order": order.clone() }), json!({})).await;
        assert_eq!(out.outcome, "invalid");
        let reasons = out.set["hold_reasons"].to_string();
        assert!(
            reasons.contains("line 1: quantity 1.5 of WIDGET is not a whole number; its unit EA is counted in whole units"),
            "{reasons}"
        );
        assert!(
            reasons.contains("line 2: unit KG differs from the unit of item GADGET (EA)"),
            "{reasons}"
        );
        // EDI states the unit on every line: PCE is EA; BX is not.
        order["channel"] = json!("edi-x12");
        order["lines"][0]["quantity"] = json!(dec!(1));
        order["lines"][0]["uom"] = json!("PCE");
        order["lines"][1]["uom"] = json!("BX");
        let out = run(&mut ctx, json!({ "order": order.clone() }), json!({})).await;
        let reasons = out.set["hold_reasons"].to_string();
        assert_eq!(out.outcome, "invalid", "{reasons}");
        assert!(!reasons.contains("line 1"), "{reasons}");
        assert!(reasons.contains("line 2: unit BX differs"), "{reasons}");
        order["lines"][1]["uom"] = json!("EA");
        let out = run(&mut ctx, json!({ "order": order }), json!({})).await;
        assert_eq!(out.outcome, "ok", "{:?}", out.set);
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
