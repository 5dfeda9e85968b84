//! `order.confirm`: gives the order a gapless confirmation number, stores the confirmation and
//! queues it for the customer (outbound channel `order-confirmations`, keyed by order id, so a
//! redelivered step never sends a second one).

use crate::master::data_field;
use async_trait::async_trait;
use ordo_contract::{Connector, Order, StepContext, StepError, StepInput, StepOutput};

pub struct ConfirmOrder;

pub const SERIES: &str = "order-confirmation";

#[async_trait]
impl Connector for ConfirmOrder {
    fn name(&self) -> &'static str {
        "order.confirm"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["ok"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let order: Order = data_field(input.data, "order")?;
        if let Some(existing) = ctx.get_document("confirmation", &order.id).await? {
            // Confirmed before (e.g. the order was resubmitted after a manual fix): reuse it.
            return Ok(StepOutput::outcome("ok").with("confirmation", existing));
        }
        // The order-intake workflow confirms without pricing: then there is no total to state.
        let total = match input.data.get("pricing") {
            Some(_) => Some(data_field::<ordo_contract::Pricing>(input.data, "pricing")?.total),
            None => None,
        };
        let n = ctx.next_number(SERIES).await?;
        let confirmation = serde_json::json!({
            "number": format!("OC-{n:06}"),
            "order_id": order.id,
            "customer_id": order.customer_id,
            "po_number": order.po_number,
            "total": total,
            "confirmed_at": ctx.now().to_rfc3339(),
        });
        ctx.put_document("confirmation", &order.id, &confirmation)
            .await?;
        ctx.send_outbound("order-confirmations", &order.id, &confirmation)
            .await?;
        Ok(StepOutput::outcome("ok").with("confirmation", confirmation))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryContext, order_json};
    use serde_json::json;

    #[tokio::test]
    async fn numbers_are_sequential_and_a_rerun_reuses_the_confirmation() {
        let mut ctx = MemoryContext::seeded();
        let params = json!({});
        for (i, po) in ["A", "B"].iter().enumerate() {
            let mut o = order_json(&[("WIDGET", "1")]);
            o["id"] = json!(format!("C1-{po}"));
            let data = json!({ "order": o });
            let input = StepInput {
                instance: "i",
                workflow: "w",
                step: "confirm",
                attempt: 1,
                data: &data,
                params: &params,
            };
            let out = ConfirmOrder.run(&mut ctx, input).await.unwrap();
            assert_eq!(
                out.set["confirmation"]["number"],
                json!(format!("OC-{:06}", i + 1))
            );
            let again = ConfirmOrder.run(&mut ctx, input).await.unwrap();
            assert_eq!(
                again.set["confirmation"]["number"],
                json!(format!("OC-{:06}", i + 1))
            );
        }
        assert_eq!(ctx.outbound.len(), 2);
    }
}
