//! An in-memory [`StepContext`] for connector unit tests.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ordo_contract::{PortError, StepContext};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::str::FromStr;

#[derive(Default)]
pub struct MemoryContext {
    pub docs: BTreeMap<(String, String), Value>,
    pub numbers: BTreeMap<String, i64>,
    pub stock: BTreeMap<(String, String), Decimal>,
    pub events: Vec<(String, String, String, Value)>,
    /// What [`StepContext::publish`] told: (event, key, data).
    pub published: Vec<(String, String, Value)>,
    pub outbound: BTreeMap<(String, String), Value>,
    /// Days added to the fixed test clock (2026-09-21).
    pub clock_days: i64,
    /// What the connectors posted, in order (the engine's ledger turns each into an entry).
    pub postings: Vec<ordo_contract::ledger::Posting>,
}

impl MemoryContext {
    pub fn seeded() -> Self {
        let mut c = MemoryContext::default();
        c.docs.insert(
            ("customer".into(), "C1".into()),
            json!({ "id": "C1", "name": "Acme", "currency": "EUR", "credit_limit": Decimal::from(5000), "open_balance": Decimal::ZERO, "terms": "2/10 net 30" }),
        );
        c.docs.insert(
            ("supplier".into(), "S1".into()),
            json!({ "id": "S1", "name": "Steelworks", "min_order_qty": Decimal::from(50), "lead_time_days": 7 }),
        );
        for (sku, price, cost, kg, qty) in [
            ("WIDGET", "0.335", "0.20", "0.25", "100"),
            ("GADGET", "12.50", "8.00", "4", "10"),
        ] {
            c.docs.insert(
                ("item".into(), sku.into()),
                json!({ "sku": sku, "description": sku.to_lowercase(), "price": Decimal::from_str(price).unwrap(), "cost": Decimal::from_str(cost).unwrap(),
                        "weight_kg": Decimal::from_str(kg).unwrap(), "reorder_point": Decimal::from(5), "reorder_qty": Decimal::from(20),
                        "supplier": "S1", "lead_time_days": 7, "tax_code": if sku == "WIDGET" { "reduced" } else { "standard" } }),
            );
            c.stock
                .insert((sku.into(), "main".into()), Decimal::from_str(qty).unwrap());
        }
        c
    }
}

/// Pricing of lines `(line_no, sku, unit_price, tax_code)` in EUR, one of each, as
/// `order.validate` writes it.
pub fn pricing(lines: &[(u32, &str, Decimal, &str)]) -> ordo_contract::Pricing {
    let lines: Vec<ordo_contract::PricedLine> = lines
        .iter()
        .map(|(n, sku, price, code)| ordo_contract::PricedLine {
            line_no: *n,
            sku: (*sku).into(),
            description: None,
            quantity: Decimal::ONE,
            uom: "EA".into(),
            list_price: *price,
            unit_price: *price,
            amount: *price,
            unit_cost: Decimal::ZERO,
            weight_kg: Decimal::ZERO,
            tax_code: (*code).into(),
            discount_percent: None,
        })
        .collect();
    let total = lines.iter().map(|l| l.amount).sum();
    ordo_contract::Pricing {
        customer_id: "C1".into(),
        currency: "EUR".into(),
        total,
        list_total: total,
        cost_total: Decimal::ZERO,
        margin_percent: Decimal::ONE_HUNDRED,
        discount_percent: None,
        quote: None,
        lines,
    }
}

pub fn order_json(lines: &[(&str, &str)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, q))| json!({ "line_no": i + 1, "sku": sku, "quantity": Decimal::from_str(q).unwrap() }))
        .collect();
    json!({ "id": "C1-PO1", "customer_id": "C1", "po_number": "PO1", "order_date": "2026-11-23", "currency": "EUR", "lines": lines })
}

/// Runs a connector once with `data` and `params` (panics on a step error).
pub async fn run(
    c: &dyn ordo_contract::Connector,
    ctx: &mut MemoryContext,
    data: Value,
    params: Value,
) -> ordo_contract::StepOutput {
    let input = ordo_contract::StepInput {
        instance: "i",
        workflow: "w",
        step: "s",
        attempt: 1,
        data: &data,
        params: &params,
    };
    c.run(ctx, input).await.unwrap()
}

/// Runs a connector once with `data` and `params`, giving back its result.
pub async fn try_run(
    c: &dyn ordo_contract::Connector,
    ctx: &mut MemoryContext,
    data: Value,
    params: Value,
) -> Result<ordo_contract::StepOutput, ordo_contract::StepError> {
    let input = ordo_contract::StepInput {
        instance: "i",
        workflow: "w",
        step: "s",
        attempt: 1,
        data: &data,
        params: &params,
    };
    c.run(ctx, input).await
}

/// Merges a step's output into instance data, as the engine does.
pub fn merge(data: &mut Value, out: &ordo_contract::StepOutput) {
    for (k, v) in &out.set {
        data[k] = v.clone();
    }
}

impl MemoryContext {
    /// The postings of one kind, in order.
    pub fn posted(&self, kind: &str) -> Vec<&ordo_contract::ledger::Posting> {
        self.postings.iter().filter(|p| p.kind == kind).collect()
    }
}

#[async_trait]
impl StepContext for MemoryContext {
    async fn post(
        &mut self,
        posting: &ordo_contract::ledger::Posting,
    ) -> Result<Option<ordo_contract::ledger::Posted>, ordo_contract::StepError> {
        self.postings.push(posting.clone());
        Ok(Some(ordo_contract::ledger::Posted {
            entry: format!("memory/{:06}", self.postings.len()),
            note: None,
        }))
    }

    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + self.clock_days * 86_400, 0).unwrap_or_default()
    }
    async fn get_document(&mut self, kind: &str, id: &str) -> Result<Option<Value>, PortError> {
        Ok(self.docs.get(&(kind.to_string(), id.to_string())).cloned())
    }
    async fn put_document(&mut self, kind: &str, id: &str, body: &Value) -> Result<(), PortError> {
        self.docs.insert((kind.into(), id.into()), body.clone());
        Ok(())
    }
    async fn claim_document(
        &mut self,
        kind: &str,
        id: &str,
        body: &Value,
    ) -> Result<Option<Value>, PortError> {
        // One owner, no concurrency: a look-up then an insert is a claim here.
        let key = (kind.to_string(), id.to_string());
        if let Some(v) = self.docs.get(&key) {
            return Ok(Some(v.clone()));
        }
        self.docs.insert(key, body.clone());
        Ok(None)
    }
    async fn list_documents(&mut self, kind: &str, prefix: &str) -> Result<Vec<String>, PortError> {
        Ok(self
            .docs
            .keys()
            .filter(|(k, i)| k == kind && i.starts_with(prefix))
            .map(|(_, i)| i.clone())
            .collect())
    }
    async fn next_number(&mut self, series: &str) -> Result<i64, PortError> {
        let n = self.numbers.entry(series.into()).or_default();
        *n += 1;
        Ok(*n)
    }
    async fn stock_level(&mut self, item: &str, location: &str) -> Result<Decimal, PortError> {
        Ok(self
            .stock
            .get(&(item.into(), location.into()))
            .copied()
            .unwrap_or_default())
    }
    async fn adjust_stock(
        &mut self,
        item: &str,
        location: &str,
        delta: Decimal,
    ) -> Result<Decimal, PortError> {
        let q = self
            .stock
            .entry((item.into(), location.into()))
            .or_default();
        *q += delta;
        Ok(*q)
    }
    async fn emit_event(
        &mut self,
        event: &str,
        key: &str,
        outcome: &str,
        payload: &Value,
    ) -> Result<(), PortError> {
        self.events
            .push((event.into(), key.into(), outcome.into(), payload.clone()));
        Ok(())
    }
    async fn publish(&mut self, event: &str, key: &str, data: &Value) -> Result<(), PortError> {
        self.published
            .push((event.into(), key.into(), data.clone()));
        Ok(())
    }
    async fn send_outbound(
        &mut self,
        channel: &str,
        key: &str,
        payload: &Value,
    ) -> Result<(), PortError> {
        self.outbound
            .insert((channel.into(), key.into()), payload.clone());
        Ok(())
    }
}
