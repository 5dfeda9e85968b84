//! Returns (RMA): goods a customer sends back from a shipped order, followed by
//! `workflows/returns.yaml` with its rules `rules/returns.rhai` (window, returnable, restocking
//! fee, authorised or review) and `rules/inspection.rhai` (restock, scrap or repair).
//!
//! [`request_return`] is the one function the CLI (`ordo return request`) and the API
//! (`POST /api/v1/orders/{id}/returns`) call; [`receive_return`] the one behind
//! `ordo receive-return`. The connectors here are the workflow's steps after the rule:
//! `return.authorise`, `return.reject`, `return.restock`, `return.scrap`, `return.credit`.
//!
//! The quantity still returnable on an order line is counted by the store, not read then
//! written: each request adds its quantity to the counter `returned:<order>:<line>@returns`
//! (a row-locked read-modify-write on both backends) and is refused, with nothing kept, when
//! the counter passes what shipped; a rejected or expired return gives its quantity back.
//! One goods receipt per RMA is a claimed document (`return_receipt/<rma>`, a unique key).

use crate::allocate::Fulfilment;
use crate::checked;
use crate::credit_note::{CreditLine, Credited, issue_credit_note};
use crate::master;
use async_trait::async_trait;
use ordo_contract::ledger::{Posting, events};
use ordo_contract::{
    Connector, Invoice, Order, Shipment, StepContext, StepContextExt, StepError, StepInput,
    StepOutput, data_field,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const SERIES: &str = "rma";
pub const PREFIX: &str = "RMA-";
/// Starts `workflows/returns.yaml` (keyed by the RMA number).
pub const REQUESTED_EVENT: &str = "return.requested";
/// Resumes a return waiting for its goods.
pub const RECEIVED_EVENT: &str = "return.received";
/// The location of the return counters (not a warehouse).
pub const COUNTERS: &str = "returns";
/// Where restocked goods go back to.
pub const RESTOCK_LOCATION: &str = "main";
pub const MAX_REASON: usize = 500;
/// Index documents `<order>/<rma>`: the returns of an order by id prefix.
pub const BY_ORDER: &str = "order_return";
/// The conditions a receipt may state; `rules/inspection.rhai` decides what each means.
pub const CONDITIONS: &[&str] = &["as_new", "damaged", "defective"];

/// A stored return (`return/<number>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rma {
    pub number: String,
    pub order_id: String,
    pub customer: String,
    pub line_no: u32,
    pub sku: String,
    pub quantity: Decimal,
    pub reason: String,
    /// The last shipment date of the line and the request date (what the window counts).
    pub shipped_on: chrono::NaiveDate,
    pub requested_on: chrono::NaiveDate,
    pub days_since_shipment: i64,
    /// What the returned quantity was invoiced at (net), for the rule's thresholds.
    pub value: Decimal,
    /// The order's invoices, where the credit note is taken from.
    pub invoices: Vec<String>,
    /// requested, authorised, rejected, expired, received, restocked, scrapped, repair, credited
    pub status: String,
    #[serde(default)]
    pub decision: Option<String>,
    #[serde(default)]
    pub restocking_fee_percent: Option<Decimal>,
    #[serde(default)]
    pub received: Option<Decimal>,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub credit_note: Option<String>,
    /// The restocking fee charged when the credit note was issued (percent × credited net).
    #[serde(default)]
    pub restocking_fee: Option<Decimal>,
    /// The customer asked for the same goods again instead of a credit note.
    #[serde(default)]
    pub replacement: bool,
    /// The replacement's shipment (`shipment/<id>`), once it shipped.
    #[serde(default)]
    pub replacement_shipment: Option<String>,
}

fn perm(msg: impl Into<String>) -> StepError {
    StepError::Permanent(msg.into())
}

fn counter(order: &str, line: u32) -> String {
    format!("returned:{order}:{line}")
}

async fn load_rma(ctx: &mut dyn StepContext, number: &str) -> Result<Rma, StepError> {
    ctx.get::<Rma>("return", number).await?.ok_or_else(|| {
        perm(format!(
            "no return '{}'",
            ordo_contract::excerpt(number, 40)
        ))
    })
}

/// Requests the return of `quantity` of `line_no` of a shipped order (see the module docs).
/// `order` and `fulfilment` are the order-to-cash instance's. Returns the stored RMA.
pub async fn request_return(
    ctx: &mut dyn StepContext,
    order: &Order,
    fulfilment: &Fulfilment,
    line_no: u32,
    quantity: Decimal,
    reason: &str,
    replacement: bool,
) -> Result<Value, StepError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(perm("a return needs a reason (--reason)"));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(perm(format!(
            "the reason is longer than {MAX_REASON} characters"
        )));
    }
    if quantity <= Decimal::ZERO {
        return Err(perm(format!(
            "line {line_no}: the quantity to return must be positive, got {quantity}"
        )));
    }
    let line = fulfilment
        .lines
        .iter()
        .find(|l| l.line_no == line_no)
        .ok_or_else(|| perm(format!("order {} has no line {line_no}", order.id)))?;
    if line.shipped <= Decimal::ZERO {
        return Err(perm(format!(
            "order {} line {line_no} has not shipped: nothing to return",
            order.id
        )));
    }
    // The last shipment that carried the line starts the window.
    let mut shipped_on = None;
    for id in &fulfilment.shipments {
        let s: Shipment = ctx
            .get("shipment", id)
            .await?
            .ok_or_else(|| perm(format!("order {}: shipment {id} is missing", order.id)))?;
        if s.packages
            .iter()
            .any(|p| p.lines.iter().any(|l| l.line_no == line_no))
        {
            shipped_on = shipped_on.max(Some(s.ship_date));
        }
    }
    let shipped_on = shipped_on.ok_or_else(|| {
        perm(format!(
            "order {} line {line_no}: no shipment carries it",
            order.id
        ))
    })?;
    // The store counts: concurrent requests serialize on this row.
    let returned = ctx
        .adjust_stock(&counter(&order.id, line_no), COUNTERS, quantity)
        .await?;
    if returned > line.shipped {
        return Err(perm(format!(
            "order {} line {line_no}: {quantity} to return but only {} of {} shipped is not returned yet",
            order.id,
            line.shipped - (returned - quantity),
            line.shipped
        )));
    }
    let mut value = None;
    for number in &fulfilment.invoices {
        if let Some(inv) = ctx.get::<Invoice>("invoice", number).await?
            && let Some(l) = inv.lines.iter().find(|l| l.line_no == line_no)
        {
            value = Some(checked::mul(l.unit_price, quantity, || {
                format!("return of order {} line {line_no} value", order.id)
            })?);
            break;
        }
    }
    let value = value.ok_or_else(|| {
        perm(format!(
            "order {} line {line_no} is not invoiced yet: nothing to credit",
            order.id
        ))
    })?;
    let today = master::today(ctx);
    let n = ctx.next_number(SERIES).await?;
    let number = format!("{PREFIX}{n:06}");
    let rma = Rma {
        number: number.clone(),
        order_id: order.id.clone(),
        customer: order.customer_id.clone(),
        line_no,
        sku: line.sku.clone(),
        quantity,
        reason: reason.to_string(),
        shipped_on,
        requested_on: today,
        days_since_shipment: (today - shipped_on).num_days(),
        value,
        invoices: fulfilment.invoices.clone(),
        status: "requested".into(),
        decision: None,
        restocking_fee_percent: None,
        received: None,
        condition: None,
        credit_note: None,
        restocking_fee: None,
        replacement,
        replacement_shipment: None,
    };
    ctx.put("return", &number, &rma).await?;
    // The order's returns, listed by id prefix (`ordo status`, the order API).
    ctx.put_document(
        BY_ORDER,
        &format!("{}/{number}", order.id),
        &json!({ "rma": number }),
    )
    .await?;
    let doc = serde_json::to_value(&rma).map_err(|e| perm(format!("{number}: {e}")))?;
    ctx.emit_event(
        REQUESTED_EVENT,
        &number,
        "requested",
        &json!({ "rma": doc }),
    )
    .await?;
    Ok(doc)
}

/// Records the goods of an authorised return as received (`ordo receive-return`): the line
/// and a quantity up to the authorised one, in a stated condition; resumes the workflow,
/// whose inspection rule decides what happens to them. One receipt per RMA.
pub async fn receive_return(
    ctx: &mut dyn StepContext,
    number: &str,
    line_no: u32,
    quantity: Decimal,
    condition: &str,
) -> Result<Value, StepError> {
    let mut rma = load_rma(ctx, number).await?;
    if line_no != rma.line_no {
        return Err(perm(format!(
            "{number} is for line {}, not line {line_no}",
            rma.line_no
        )));
    }
    if quantity <= Decimal::ZERO || quantity > rma.quantity {
        return Err(perm(format!(
            "{number}: received quantity must be positive and at most the {} authorised, got {quantity}",
            rma.quantity
        )));
    }
    if !CONDITIONS.contains(&condition) {
        return Err(perm(format!(
            "condition '{}' is not one of {}",
            ordo_contract::excerpt(condition, 40),
            CONDITIONS.join(", ")
        )));
    }
    if rma.status != "authorised" {
        return Err(perm(format!(
            "{number} is {}, not authorised: its goods cannot be received",
            rma.status
        )));
    }
    let receipt =
        json!({ "quantity": quantity, "condition": condition, "date": master::today(ctx) });
    if ctx
        .claim_document("return_receipt", number, &receipt)
        .await?
        .is_some()
    {
        return Err(perm(format!("{number}: its goods were received already")));
    }
    rma.status = "received".into();
    rma.received = Some(quantity);
    rma.condition = Some(condition.to_string());
    ctx.put("return", number, &rma).await?;
    ctx.emit_event(
        RECEIVED_EVENT,
        number,
        "received",
        &json!({ "receipt": receipt }),
    )
    .await?;
    serde_json::to_value(&rma).map_err(|e| perm(format!("{number}: {e}")))
}

fn rma_number(input: &StepInput<'_>) -> Result<String, StepError> {
    let rma: Rma = data_field(input.data, "rma")?;
    Ok(rma.number)
}

/// `return.authorise`: the rule or a sales manager allowed it; the goods may now come.
pub struct AuthoriseReturn;

#[async_trait]
impl Connector for AuthoriseReturn {
    fn name(&self) -> &'static str {
        "return.authorise"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["authorised"]
    }
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let number = rma_number(&input)?;
        let mut rma = load_rma(ctx, &number).await?;
        let fee: Option<Decimal> = match input.data.get("restocking_fee_percent") {
            None | Some(Value::Null) => None,
            Some(_) => Some(data_field(input.data, "restocking_fee_percent")?),
        };
        if fee.is_some_and(|f| f < Decimal::ZERO || f > Decimal::ONE_HUNDRED) {
            return Err(perm(format!(
                "{number}: restocking_fee_percent from the rule must be 0..100"
            )));
        }
        rma.status = "authorised".into();
        rma.restocking_fee_percent = fee;
        rma.decision = input
            .data
            .get("reason")
            .and_then(Value::as_str)
            .map(str::to_string);
        ctx.put("return", &number, &rma).await?;
        Ok(StepOutput::outcome("authorised"))
    }
}

/// `return.reject` (`with: { status: rejected | expired }`): the return ends without goods;
/// its quantity becomes returnable again.
pub struct RejectReturn;

#[async_trait]
impl Connector for RejectReturn {
    fn name(&self) -> &'static str {
        "return.reject"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["rejected"]
    }
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let number = rma_number(&input)?;
        let status = master::param_str(input.params, "status", "rejected");
        if status != "rejected" && status != "expired" {
            return Err(perm(format!(
                "return.reject: status must be rejected or expired, got '{}'",
                ordo_contract::excerpt(status, 40)
            )));
        }
        let mut rma = load_rma(ctx, &number).await?;
        ctx.adjust_stock(
            &counter(&rma.order_id, rma.line_no),
            COUNTERS,
            -rma.quantity,
        )
        .await?;
        rma.status = status.to_string();
        rma.decision = input
            .data
            .get("reason")
            .and_then(Value::as_str)
            .map(str::to_string);
        ctx.put("return", &number, &rma).await?;
        Ok(StepOutput::outcome("rejected"))
    }
}

/// The return of a step and the quantity its goods were received in: a return that reached
/// restock, scrap or credit without a receipt is refused, never taken as zero.
async fn received(
    ctx: &mut dyn StepContext,
    input: &StepInput<'_>,
) -> Result<(Rma, Decimal), StepError> {
    let number = rma_number(input)?;
    let rma = load_rma(ctx, &number).await?;
    let Some(qty) = rma.received else {
        return Err(perm(format!("{number}: no goods received")));
    };
    Ok((rma, qty))
}

/// The end of every return step after the receipt: the new status stored, the outcome given.
async fn settle(
    ctx: &mut dyn StepContext,
    mut rma: Rma,
    status: &'static str,
) -> Result<StepOutput, StepError> {
    rma.status = status.into();
    ctx.put("return", &rma.number.clone(), &rma).await?;
    Ok(StepOutput::outcome(status))
}

/// The goods' value at the item's cost, posted as `kind` (the cost of goods sold reversed).
async fn post_at_cost(
    ctx: &mut dyn StepContext,
    rma: &Rma,
    kind: &'static str,
    qty: Decimal,
) -> Result<(), StepError> {
    let what = format!("return {}", rma.number);
    let (lines, total) = crate::posting::at_cost(ctx, &[(rma.sku.clone(), qty)], &what).await?;
    ctx.post(&Posting {
        kind,
        source: rma.number.clone(),
        date: master::today(ctx),
        currency: None,
        order_id: Some(rma.order_id.clone()),
        invoice: None,
        customer: Some(rma.customer.clone()),
        facts: json!({ "total": total, "lines": lines }),
    })
    .await?;
    Ok(())
}

/// `return.restock`: the goods go back on the shelf; inventory takes them back at cost.
pub struct RestockReturn;

#[async_trait]
impl Connector for RestockReturn {
    fn name(&self) -> &'static str {
        "return.restock"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["restocked"]
    }
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let (rma, qty) = received(ctx, &input).await?;
        ctx.adjust_stock(&rma.sku, RESTOCK_LOCATION, qty).await?;
        post_at_cost(ctx, &rma, events::RETURN_RESTOCK, qty).await?;
        settle(ctx, rma, "restocked").await
    }
}

/// `return.scrap`: the goods are written off at cost; stock is unchanged.
pub struct ScrapReturn;

#[async_trait]
impl Connector for ScrapReturn {
    fn name(&self) -> &'static str {
        "return.scrap"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["scrapped"]
    }
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let (rma, qty) = received(ctx, &input).await?;
        post_at_cost(ctx, &rma, events::RETURN_SCRAP, qty).await?;
        settle(ctx, rma, "scrapped").await
    }
}

/// `return.credit`: a credit note for what came back, through [`issue_credit_note`] (the one
/// credit-note function), on the first of the order's invoices with that much of the line
/// left uncredited.
pub struct CreditReturn;

#[async_trait]
impl Connector for CreditReturn {
    fn name(&self) -> &'static str {
        "return.credit"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["credited"]
    }
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let (mut rma, qty) = received(ctx, &input).await?;
        let mut target = None;
        for number in &rma.invoices {
            let Some(doc) = ctx.get_document("invoice", number).await? else {
                continue;
            };
            let inv: Invoice = ordo_contract::from_doc("invoice", number, &doc)?;
            let Some(l) = inv.lines.iter().find(|l| l.line_no == rma.line_no) else {
                continue;
            };
            let credited: std::collections::BTreeMap<String, Credited> = match doc.get("credited") {
                None | Some(Value::Null) => Default::default(),
                Some(_) => data_field(&doc, "credited")?,
            };
            let done = credited
                .get(&rma.line_no.to_string())
                .map_or(Decimal::ZERO, |c| c.quantity);
            if l.quantity - done >= qty {
                target = Some(number.clone());
                break;
            }
        }
        let invoice = target.ok_or_else(|| {
            perm(format!(
                "{}: no invoice of order {} has {qty} of line {} left to credit",
                rma.number, rma.order_id, rma.line_no
            ))
        })?;
        let reason = format!("return {}: {}", rma.number, rma.reason);
        let cn = issue_credit_note(
            ctx,
            &invoice,
            Some(&[CreditLine {
                line_no: rma.line_no,
                quantity: qty,
            }]),
            &reason,
        )
        .await?;
        let cn_number: String = data_field(&cn, "number")?;
        rma.restocking_fee = restocking_fee(ctx, &rma, &cn, &invoice).await?;
        rma.credit_note = Some(cn_number.clone());
        Ok(settle(ctx, rma, "credited")
            .await?
            .with("credit_note", json!(cn_number)))
    }
}

/// The restocking fee of a credited return: the rule's percent (stored at authorisation) of
/// the credit note's net, rounded to the currency's cents, charged separately from the credit
/// note (which credits the goods in full, so its VAT corrects the invoice's exactly): it posts
/// `restocking_fee` (rules/posting.rhai: fees receivable against restocking fee income) in the
/// credit's own transaction. No percent, or a zero fee: nothing posted.
async fn restocking_fee(
    ctx: &mut dyn StepContext,
    rma: &Rma,
    credit_note: &Value,
    invoice: &str,
) -> Result<Option<Decimal>, StepError> {
    let Some(percent) = rma.restocking_fee_percent.filter(|p| !p.is_zero()) else {
        return Ok(None);
    };
    let number: String = data_field(credit_note, "number")?;
    let net: Decimal = data_field(credit_note, "net_total")?;
    let currency: String = data_field(credit_note, "currency")?;
    let what = || format!("{}: restocking fee", rma.number);
    let fee = master::round_money(
        checked::mul(net, percent, what)? / Decimal::ONE_HUNDRED,
        master::currency_decimals(&currency),
    );
    if fee.is_zero() {
        return Ok(None);
    }
    ctx.post(&Posting {
        kind: events::RESTOCKING_FEE,
        source: rma.number.clone(),
        date: master::today(ctx),
        currency: Some(currency),
        order_id: Some(rma.order_id.clone()),
        invoice: Some(invoice.to_string()),
        customer: Some(rma.customer.clone()),
        facts: json!({ "fee": fee, "percent": percent, "credit_note": number }),
    })
    .await?;
    Ok(Some(fee))
}

/// `return.resolve`: after restock or scrap, what the customer gets: a credit note (`credit`),
/// or the same goods again (`replace`) when the return asked for a replacement.
pub struct ResolveReturn;

#[async_trait]
impl Connector for ResolveReturn {
    fn name(&self) -> &'static str {
        "return.resolve"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["credit", "replace"]
    }
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let (rma, _) = received(ctx, &input).await?;
        Ok(StepOutput::outcome(if rma.replacement {
            "replace"
        } else {
            "credit"
        }))
    }
}

/// `return.replacement`: the same goods again, through the order's own shipping steps (rules/
/// shipping.rhai, `shipment.create`): takes the received quantity of the item from stock at
/// `main` under the stock row's lock (not enough: refused, nothing taken, the step retries)
/// and sets the `order`, `customer`, `fulfilment` (the one line open) and `to_ship` they read.
pub struct ReplaceReturn;

#[async_trait]
impl Connector for ReplaceReturn {
    fn name(&self) -> &'static str {
        "return.replacement"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["ready"]
    }
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let (rma, qty) = received(ctx, &input).await?;
        let order: Order = ctx
            .get("order", &rma.order_id)
            .await?
            .ok_or_else(|| perm(format!("{}: no order '{}'", rma.number, rma.order_id)))?;
        let line = order
            .lines
            .iter()
            .find(|l| l.line_no == rma.line_no)
            .ok_or_else(|| perm(format!("{}: order has no line {}", rma.number, rma.line_no)))?;
        let item: master::Item = ctx
            .get("item", &rma.sku)
            .await?
            .ok_or_else(|| perm(format!("{}: no item '{}'", rma.number, rma.sku)))?;
        let customer = ctx
            .get_document("customer", &order.customer_id)
            .await?
            .ok_or_else(|| {
                perm(format!(
                    "{}: no customer '{}'",
                    rma.number, order.customer_id
                ))
            })?;
        let country: String = data_field(&customer, "country")?;
        let (got, _) = crate::allocate::take(ctx, &rma.sku, RESTOCK_LOCATION, qty).await?;
        if got < qty {
            return Err(StepError::Transient(format!(
                "{}: {qty} {} for the replacement, only {got} in stock at {RESTOCK_LOCATION}",
                rma.number, rma.sku
            )));
        }
        let what = || format!("{} replacement", rma.number);
        let to_ship = crate::allocate::ToShip {
            lines: vec![crate::allocate::ShipLine {
                line_no: rma.line_no,
                sku: rma.sku.clone(),
                quantity: qty,
                uom: line.uom.clone(),
                unit_weight_kg: item.unit_weight_kg(),
                description: Some(item.description.clone()),
            }],
            weight_kg: checked::mul(item.unit_weight_kg(), qty, what)?,
            location: RESTOCK_LOCATION.into(),
            country,
            // Nothing is invoiced for a replacement; the value is what the goods were sold at.
            value: rma.value,
        };
        let fulfilment = Fulfilment {
            lines: vec![crate::allocate::FulfilLine {
                line_no: rma.line_no,
                sku: rma.sku.clone(),
                ordered: qty,
                shipped: Decimal::ZERO,
            }],
            passes: 0,
            shipments: Vec::new(),
            invoices: Vec::new(),
        };
        Ok(StepOutput::outcome("ready")
            .with("order", &order)
            .with("customer", customer)
            .with("fulfilment", fulfilment)
            .with("to_ship", to_ship))
    }
}

/// `return.replaced`: the replacement shipped (`shipment` from `shipment.create`): recorded on
/// the return, which ends `replaced` with no credit note.
pub struct ReplacedReturn;

#[async_trait]
impl Connector for ReplacedReturn {
    fn name(&self) -> &'static str {
        "return.replaced"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["replaced"]
    }
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let (mut rma, _) = received(ctx, &input).await?;
        let shipment: Shipment = data_field(input.data, "shipment")?;
        rma.replacement_shipment = Some(shipment.id);
        settle(ctx, rma, "replaced").await
    }
}

/// `return.repair`: the goods go to repair and back to the customer; no credit, no stock move.
pub struct RepairReturn;

#[async_trait]
impl Connector for RepairReturn {
    fn name(&self) -> &'static str {
        "return.repair"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["repair"]
    }
    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let (rma, _) = received(ctx, &input).await?;
        settle(ctx, rma, "repair").await
    }
}
