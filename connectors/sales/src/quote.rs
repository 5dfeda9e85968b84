//! Quotations (`workflows/quotation.yaml`): a customer asks for prices, ordo prices the lines
//! with the order's own steps (`order.validate`, rules/pricing.rhai, `order.price`: one truth
//! for prices), rules/quote.rhai decides whether a sales manager approves it first (large or
//! low-margin quotes), `quote.send` stores it with its validity date and writes the printable
//! HTML page to the outbound folder (`quotes/<number>.html`), and the quote waits for its
//! acceptance until the validity ends (`quote.expire`).
//!
//! [`request_quote`] starts one (`ordo quote request`); [`accept_quote`] turns a sent quote into
//! an order at the quoted prices through the one order intake
//! (`ordo_contract::intake::accept_order`): `ordo quote accept`, `POST
//! /api/v1/quotes/{number}/accept`. The order document names its quote (`quote`), and
//! `order.validate` prices its lines at the quoted unit prices ([`quoted_prices`]).
//!
//! Acceptance and expiry race for one claimed key, `quote_accept/<number>` (a unique insert
//! on both backends): whichever claims it first wins, the other is refused (an acceptance
//! after expiry) or follows it (an expiry after a last-minute acceptance ends `accepted`).

use crate::master::{self, data_field};
use async_trait::async_trait;
use chrono::NaiveDate;
use ordo_contract::intake::{Intake, accept_order};
use ordo_contract::{
    Company, Connector, Order, OrderLine, Pricing, StepContext, StepContextExt, StepError,
    StepInput, StepOutput,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const SERIES: &str = "quote";
pub const PREFIX: &str = "Q-";
/// Stored quotes `quote/<number>`.
pub const KIND: &str = "quote";
/// Starts `workflows/quotation.yaml` (keyed by the quote number, `order.id`).
pub const REQUESTED_EVENT: &str = "quote.requested";
/// Resumes a quote waiting for its acceptance.
pub const ACCEPTED_EVENT: &str = "quote.accepted";
/// The claim acceptance and expiry race for.
pub const DECIDED: &str = "quote_accept";
/// The outbound folder of the printable quotes.
pub const OUTBOUND_DIR: &str = "quotes";
const FILE_CHANNEL: &str = "file";
const COMPANY_DOC: (&str, &str) = ("company", "self");

/// A stored quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quote {
    pub number: String,
    pub customer_id: String,
    pub currency: String,
    pub requested_on: NaiveDate,
    /// requested, sent, accepted, expired
    pub status: String,
    /// The lines as asked for (before pricing).
    pub request: Vec<OrderLine>,
    #[serde(default)]
    pub notes: Option<String>,
    /// Set by `quote.send`.
    #[serde(default)]
    pub lines: Vec<QuoteLine>,
    #[serde(default)]
    pub total: Option<Decimal>,
    #[serde(default)]
    pub margin_percent: Option<Decimal>,
    #[serde(default)]
    pub valid_until: Option<NaiveDate>,
    #[serde(default)]
    pub sent_on: Option<NaiveDate>,
    #[serde(default)]
    pub order_id: Option<String>,
    #[serde(default)]
    pub decided_on: Option<NaiveDate>,
}

/// A priced line of a sent quote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteLine {
    pub line_no: u32,
    pub sku: String,
    #[serde(default)]
    pub description: Option<String>,
    pub quantity: Decimal,
    pub uom: String,
    pub unit_price: Decimal,
    pub amount: Decimal,
}

fn perm(msg: impl Into<String>) -> StepError {
    StepError::Permanent(msg.into())
}

async fn load(ctx: &mut dyn StepContext, number: &str) -> Result<Quote, StepError> {
    ctx.get::<Quote>(KIND, number)
        .await?
        .ok_or_else(|| perm(format!("no quote '{}'", ordo_contract::excerpt(number, 40))))
}

/// The quote as an order of the same lines: what `order.validate` and the pricing steps of
/// `workflows/quotation.yaml` read (`order.id` is the quote number).
fn as_order(q: &Quote) -> Order {
    Order {
        id: q.number.clone(),
        customer_id: q.customer_id.clone(),
        po_number: q.number.clone(),
        order_date: q.requested_on,
        requested_date: None,
        currency: q.currency.clone(),
        parties: Vec::new(),
        lines: q.request.clone(),
        channel: "quote".into(),
        partner: None,
        notes: q.notes.clone(),
    }
}

/// Starts a quotation for `customer` of `lines` (bounds as for an order; prices stated by the
/// caller are ignored: the quote is priced by the rules). Returns the stored quote.
pub async fn request_quote(
    ctx: &mut dyn StepContext,
    customer: &str,
    currency: &str,
    lines: Vec<OrderLine>,
    notes: Option<String>,
) -> Result<Value, StepError> {
    let n = ctx.next_number(SERIES).await?;
    let mut q = Quote {
        number: format!("{PREFIX}{n:06}"),
        customer_id: customer.to_string(),
        currency: currency.to_string(),
        requested_on: master::today(ctx),
        status: "requested".into(),
        request: lines,
        notes,
        lines: Vec::new(),
        total: None,
        margin_percent: None,
        valid_until: None,
        sent_on: None,
        order_id: None,
        decided_on: None,
    };
    for l in &mut q.request {
        l.unit_price = None;
    }
    let order = as_order(&q);
    if q.request.is_empty() {
        return Err(perm(format!("quote {}: no lines", q.number)));
    }
    if let Err(e) = order.validate_bounds(&ctx.intake_bounds()) {
        return Err(perm(e.join("; ").replace("order '", "quote '")));
    }
    let doc = json!(q);
    if ctx.claim_document(KIND, &q.number, &doc).await?.is_some() {
        return Err(StepError::Transient(format!(
            "quote {} exists already; try again",
            q.number
        )));
    }
    ctx.emit_event(
        REQUESTED_EVENT,
        &q.number,
        "requested",
        &json!({ "order": order }),
    )
    .await?;
    Ok(doc)
}

/// `quote.send`: stores the priced quote with its validity (`with: { validity_days: N }`) and
/// writes `quotes/<number>.html` to the outbound folder. The registry's `quote.send` is
/// `ordo_partners::SendQuote`, which runs [`send_quote`] and then, in the same step, sends the
/// quote as an 843/QUOTES to a customer whose partner profile asks for it; this one (the
/// quote without EDI) is what this crate's tests run.
pub struct SendQuote;

#[async_trait]
impl Connector for SendQuote {
    fn name(&self) -> &'static str {
        "quote.send"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["sent"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let sent = send_quote(ctx, input).await?;
        Ok(StepOutput::outcome("sent").with("quote", sent.quote))
    }
}

/// What [`send_quote`] did.
pub struct SentQuote {
    pub quote: Quote,
    /// Sent by this call (false: it was sent before, and a redelivered step changes nothing).
    pub now: bool,
}

/// The body of `quote.send` (see [`SendQuote`]).
pub async fn send_quote(
    ctx: &mut dyn StepContext,
    input: StepInput<'_>,
) -> Result<SentQuote, StepError> {
    let order: Order = data_field(input.data, "order")?;
    let pricing: Pricing = data_field(input.data, "pricing")?;
    let days = input
        .params
        .get("validity_days")
        .and_then(Value::as_u64)
        .filter(|d| (1..=3650).contains(d))
        .ok_or_else(|| perm("quote.send needs `with: { validity_days: N }`, N from 1 to 3650"))?;
    let mut q = load(ctx, &order.id).await?;
    if q.status != "requested" {
        // Sent once: a redelivered step changes nothing.
        return Ok(SentQuote {
            quote: q,
            now: false,
        });
    }
    let today = master::today(ctx);
    q.lines = pricing
        .lines
        .iter()
        .map(|l| QuoteLine {
            line_no: l.line_no,
            sku: l.sku.clone(),
            description: l.description.clone(),
            quantity: l.quantity,
            uom: l.uom.clone(),
            unit_price: l.unit_price,
            amount: l.amount,
        })
        .collect();
    q.total = Some(pricing.total);
    q.margin_percent = Some(pricing.margin_percent);
    q.sent_on = Some(today);
    q.valid_until = Some(today + chrono::Days::new(days));
    q.status = "sent".into();
    let company: Company = ctx
        .get(COMPANY_DOC.0, COMPANY_DOC.1)
        .await?
        .ok_or_else(|| perm("no company profile (config/company.yaml): the quote has no seller"))?;
    let html = quote_html(&q, &company);
    ctx.put(KIND, &q.number, &q).await?;
    ctx.send_outbound(
        FILE_CHANNEL,
        &format!("{}.html", q.number),
        &json!({ "dir": OUTBOUND_DIR, "name": format!("{}.html", q.number), "content": html }),
    )
    .await?;
    Ok(SentQuote {
        quote: q,
        now: true,
    })
}

/// `quote.expire`: the validity ended. Claims the quote's decision; when an acceptance claimed
/// it first (at the last minute) the outcome is `accepted`, else the quote is `expired`.
pub struct ExpireQuote;

#[async_trait]
impl Connector for ExpireQuote {
    fn name(&self) -> &'static str {
        "quote.expire"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["expired", "accepted"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let order: Order = data_field(input.data, "order")?;
        let mut q = load(ctx, &order.id).await?;
        let today = master::today(ctx);
        if let Some(prev) = ctx
            .claim_document(DECIDED, &q.number, &json!({ "expired_on": today }))
            .await?
            && prev.get("order").is_some()
        {
            return Ok(StepOutput::outcome("accepted").with("quote", q));
        }
        q.status = "expired".into();
        q.decided_on = Some(today);
        ctx.put(KIND, &q.number, &q).await?;
        Ok(StepOutput::outcome("expired").with("quote", q))
    }
}

/// Accepts sent quote `number` as the customer's purchase order `po` (the quote number when
/// none): the order is taken through the one intake with the quoted lines at the quoted unit
/// prices, the quote marked accepted and its workflow resumed. Refused (nothing kept) when the
/// quote is not sent yet, was decided, or its validity ended. Returns the stored quote.
pub async fn accept_quote(
    ctx: &mut dyn StepContext,
    number: &str,
    po: Option<&str>,
) -> Result<Value, StepError> {
    accept_quote_from(ctx, number, po, None).await
}

/// An order a channel received that names a quote (an 850 with `REF*PR`, an ORDERS with
/// `RFF+AAG`): the channel's order and the extra fields of its stored document (`edi`).
pub struct NamedBy<'a> {
    pub order: &'a Order,
    pub extra: &'a Value,
}

/// [`accept_quote`] for an order a channel received naming the quote: the order must be the
/// quote's (same customer, the same lines — line numbers, items, quantities — and any price it
/// states the quoted one), else it is refused with the first difference; the order taken is the
/// quote's at the quoted prices, keeping the channel's id, channel, partner, parties, requested
/// date and `extra` (so the partner gets its 855/856/810 as for any EDI order).
pub async fn accept_quote_from(
    ctx: &mut dyn StepContext,
    number: &str,
    po: Option<&str>,
    named_by: Option<NamedBy<'_>>,
) -> Result<Value, StepError> {
    let mut q = load(ctx, number).await?;
    if let Some(n) = &named_by
        && let Some(why) = differs(&q, n.order)
    {
        return Err(perm(format!(
            "order {} names quote {number} but {why}",
            ordo_contract::excerpt(&n.order.id, 80)
        )));
    }
    let today = master::today(ctx);
    match q.status.as_str() {
        "sent" => {}
        "requested" => {
            return Err(perm(format!(
                "quote {number} is not sent yet (pricing or its approval is pending)"
            )));
        }
        "accepted" => {
            return Err(perm(format!(
                "quote {number} was accepted already (order {})",
                q.order_id.as_deref().unwrap_or("?")
            )));
        }
        "expired" => {
            return Err(perm(format!(
                "quote {number} expired on {}; it can no longer be accepted",
                q.decided_on.map(|d| d.to_string()).unwrap_or_default()
            )));
        }
        s => return Err(perm(format!("quote {number} is {s}"))),
    }
    let until = q
        .valid_until
        .ok_or_else(|| perm(format!("stored quote {number} has no valid_until")))?;
    if today > until {
        return Err(perm(format!(
            "quote {number} was valid until {until}; it can no longer be accepted (today is {today})"
        )));
    }
    let po = po.unwrap_or(number).trim();
    let order = Order {
        id: format!("{}-{po}", q.customer_id),
        po_number: po.to_string(),
        order_date: today,
        channel: "quote".into(),
        lines: q
            .lines
            .iter()
            .map(|l| OrderLine {
                line_no: l.line_no,
                sku: l.sku.clone(),
                buyer_part: None,
                vendor_part: None,
                description: l.description.clone(),
                quantity: l.quantity,
                uom: l.uom.clone(),
                unit_price: Some(l.unit_price),
            })
            .collect(),
        ..as_order(&q)
    };
    let mut order = order;
    if let Some(n) = &named_by {
        order.channel = n.order.channel.clone();
        order.partner = n.order.partner.clone();
        order.parties = n.order.parties.clone();
        order.requested_date = n.order.requested_date;
        order.order_date = n.order.order_date;
    }
    // What would refuse the intake is checked before the quote is claimed as decided: a
    // channel that goes on after a refusal (a partner file of many sets) must not leave the
    // quote decided without its order.
    if let Err(e) = order.validate_bounds(&ctx.intake_bounds()) {
        return Err(perm(e.join("; ")));
    }
    if ctx.get_document("order", &order.id).await?.is_some()
        || ctx
            .get_document("order_po", &ordo_contract::intake::po_key(&order))
            .await?
            .is_some()
    {
        return Err(perm(format!(
            "order {} (customer {}, PO {}) was received before: duplicate, quote {number} not accepted",
            order.id, order.customer_id, order.po_number
        )));
    }
    if let Some(prev) = ctx
        .claim_document(DECIDED, number, &json!({ "order": order.id }))
        .await?
    {
        return Err(perm(match prev.get("order") {
            Some(o) => format!("quote {number} was accepted already (order {o})"),
            None => format!("quote {number} expired; it can no longer be accepted"),
        }));
    }
    let mut doc = json!(order);
    if let (Some(n), Some(d)) = (&named_by, doc.as_object_mut())
        && let Some(extra) = n.extra.as_object()
    {
        for (k, v) in extra {
            d.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    doc["quote"] = json!(number);
    match accept_order(ctx, &order, &doc).await? {
        Intake::Accepted => {}
        Intake::Duplicate { earlier } => {
            return Err(perm(Intake::duplicate_reason(&order, &earlier, "received")));
        }
        Intake::Invalid(e) => return Err(perm(e.join("; "))),
    }
    q.status = "accepted".into();
    q.order_id = Some(order.id.clone());
    q.decided_on = Some(today);
    ctx.put(KIND, number, &q).await?;
    ctx.emit_event(
        ACCEPTED_EVENT,
        number,
        "accepted",
        &json!({ "accepted": { "order": order.id, "on": today } }),
    )
    .await?;
    Ok(json!(q))
}

/// How `order` differs from quote `q` (customer, lines, quantities, stated prices), if it does.
fn differs(q: &Quote, order: &Order) -> Option<String> {
    if order.customer_id != q.customer_id {
        return Some(format!(
            "the quote is for customer {}, the order for {}",
            q.customer_id, order.customer_id
        ));
    }
    if order.lines.len() != q.lines.len() {
        return Some(format!(
            "it has {} line(s), the quote {}",
            order.lines.len(),
            q.lines.len()
        ));
    }
    for l in &order.lines {
        let Some(ql) = q.lines.iter().find(|x| x.line_no == l.line_no) else {
            return Some(format!("line {} is not on the quote", l.line_no));
        };
        if ql.sku != l.sku {
            return Some(format!(
                "line {} is {}, the quote's {}",
                l.line_no,
                ordo_contract::excerpt(&l.sku, 40),
                ql.sku
            ));
        }
        if ql.quantity != l.quantity {
            return Some(format!(
                "line {} quantity {} is not the quoted {}",
                l.line_no, l.quantity, ql.quantity
            ));
        }
        if let Some(p) = l.unit_price
            && p != ql.unit_price
        {
            return Some(format!(
                "line {} price {p} is not the quoted {}",
                l.line_no, ql.unit_price
            ));
        }
    }
    None
}

/// The quoted unit price per line number of the quote an order names, for `order.validate`:
/// the quote must be accepted as this very order.
pub async fn quoted_prices(
    ctx: &mut dyn StepContext,
    number: &str,
    order_id: &str,
) -> Result<Result<BTreeMap<u32, (String, Decimal)>, String>, StepError> {
    let Some(q) = ctx.get::<Quote>(KIND, number).await? else {
        return Ok(Err(format!(
            "the order names quote '{}', which does not exist",
            ordo_contract::excerpt(number, 40)
        )));
    };
    if q.status != "accepted" || q.order_id.as_deref() != Some(order_id) {
        return Ok(Err(format!(
            "the order names quote {number}, which is {} and not accepted as this order",
            q.status
        )));
    }
    Ok(Ok(q
        .lines
        .into_iter()
        .map(|l| (l.line_no, (l.sku, l.unit_price)))
        .collect()))
}

/// The printable quote: the invoice's page style and seller block, the lines and the validity.
pub fn quote_html(q: &Quote, company: &Company) -> String {
    use crate::export::{PAGE_STYLE, esc, seller_html};
    let cur = esc(&q.currency);
    let mut rows = String::new();
    for l in &q.lines {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=n>{} {}</td><td class=n>{}</td><td class=n>{}</td></tr>\n",
            l.line_no,
            esc(&l.sku),
            esc(l.description.as_deref().unwrap_or("")),
            l.quantity,
            esc(&l.uom),
            l.unit_price,
            l.amount
        ));
    }
    let opt = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Quotation {num}</title>
<style>{PAGE_STYLE}</style></head><body>
<h1>Quotation {num}</h1><p class=seller>{seller}</p>
<table class=totals><tr><td>Customer</td><td>{cust}</td><td>Date</td><td>{sent}</td></tr>
<tr><td>Valid until</td><td><b>{until}</b></td><td>Currency</td><td>{cur}</td></tr></table>
<h2>Lines</h2>
<table><tr><th>#</th><th>Item</th><th>Description</th><th class=n>Quantity</th><th class=n>Unit price</th><th class=n>Net</th></tr>
{rows}</table>
<table class=totals><tr><td class=n><b>Net total</b></td><td class=n><b>{total} {cur}</b></td></tr></table>
<p>Prices net of tax. To order, accept quotation {num} before {until} (name it in your purchase order).</p>
</body></html>
"#,
        num = esc(&q.number),
        seller = seller_html(company),
        cust = esc(&q.customer_id),
        sent = opt(q.sent_on),
        until = opt(q.valid_until),
        total = q.total.map(|t| t.to_string()).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryContext;
    use rust_decimal::dec;

    fn line(no: u32, sku: &str, q: Decimal) -> OrderLine {
        OrderLine {
            line_no: no,
            sku: sku.into(),
            buyer_part: None,
            vendor_part: None,
            description: None,
            quantity: q,
            uom: "EA".into(),
            unit_price: Some(dec!(999)),
        }
    }

    async fn sent(ctx: &mut MemoryContext) -> String {
        let q = request_quote(ctx, "C1", "EUR", vec![line(1, "WIDGET", dec!(3))], None)
            .await
            .unwrap();
        let number = q["number"].as_str().unwrap().to_string();
        assert_eq!(
            q["request"][0]["unit_price"],
            Value::Null,
            "stated prices dropped"
        );
        let pricing = crate::testing::pricing(&[(1, "WIDGET", dec!(0.30), "standard")]);
        let data = json!({ "order": { "id": number, "customer_id": "C1", "po_number": number, "order_date": "2026-11-23", "currency": "EUR", "lines": [] }, "pricing": pricing });
        ctx.docs.insert(
            ("company".into(), "self".into()),
            json!({ "legal_name": "Seller & Co", "address": { "lines": ["Road 1"], "postal_code": "10115", "city": "Berlin", "country": "DE" } }),
        );
        let out = crate::testing::try_run(&SendQuote, ctx, data, json!({ "validity_days": 30 }))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(out.outcome, "sent");
        number
    }

    #[tokio::test]
    async fn a_sent_quote_is_accepted_once_at_its_prices_and_not_after_expiry() {
        let mut ctx = MemoryContext::seeded();
        let number = sent(&mut ctx).await;
        let stored: Quote = ctx.get(KIND, &number).await.unwrap().unwrap();
        assert_eq!(stored.status, "sent");
        assert_eq!(stored.lines[0].unit_price, dec!(0.30));
        let today = master::today(&ctx);
        assert_eq!(stored.valid_until, Some(today + chrono::Days::new(30)));
        let html = quote_html(
            &stored,
            &serde_json::from_value(ctx.docs[&("company".into(), "self".into())].clone()).unwrap(),
        );
        assert!(
            html.contains("Quotation Q-000001") && html.contains("Seller &amp; Co"),
            "{html}"
        );
        let q = accept_quote(&mut ctx, &number, Some("PO-9")).await.unwrap();
        assert_eq!(q["status"], "accepted");
        assert_eq!(q["order_id"], "C1-PO-9");
        let order = &ctx.docs[&("order".into(), "C1-PO-9".into())];
        assert_eq!(order["quote"], json!(number));
        assert_eq!(order["lines"][0]["unit_price"], json!(dec!(0.30)));
        let e = accept_quote(&mut ctx, &number, Some("PO-10"))
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("accepted already (order C1-PO-9)"),
            "{e}"
        );
        let prices = quoted_prices(&mut ctx, &number, "C1-PO-9")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(prices[&1], ("WIDGET".to_string(), dec!(0.30)));
        let e = quoted_prices(&mut ctx, &number, "C1-OTHER")
            .await
            .unwrap()
            .unwrap_err();
        assert!(e.contains("not accepted as this order"), "{e}");
    }

    #[tokio::test]
    async fn acceptance_after_the_validity_or_the_expiry_is_refused() {
        let mut ctx = MemoryContext::seeded();
        let number = sent(&mut ctx).await;
        ctx.clock_days += 31;
        let e = accept_quote(&mut ctx, &number, None).await.unwrap_err();
        assert!(e.to_string().contains("can no longer be accepted"), "{e}");
        let data = json!({ "order": { "id": number, "customer_id": "C1", "po_number": number, "order_date": "2026-11-23", "currency": "EUR", "lines": [] } });
        let out = crate::testing::run(&ExpireQuote, &mut ctx, data.clone(), json!({})).await;
        assert_eq!(out.outcome, "expired");
        let e = accept_quote(&mut ctx, &number, None).await.unwrap_err();
        assert!(e.to_string().contains("expired on"), "{e}");
        assert!(
            !ctx.docs
                .contains_key(&("order".into(), format!("C1-{number}")))
        );
    }

    #[tokio::test]
    async fn an_expiry_after_a_last_minute_acceptance_follows_it() {
        let mut ctx = MemoryContext::seeded();
        let number = sent(&mut ctx).await;
        accept_quote(&mut ctx, &number, None).await.unwrap();
        let data = json!({ "order": { "id": number, "customer_id": "C1", "po_number": number, "order_date": "2026-11-23", "currency": "EUR", "lines": [] } });
        let out = crate::testing::run(&ExpireQuote, &mut ctx, data, json!({})).await;
        assert_eq!(out.outcome, "accepted");
        let e = request_quote(
            &mut ctx,
            "C1",
            "EUR",
            vec![line(1, "WIDGET", dec!(0))],
            None,
        )
        .await
        .unwrap_err();
        assert!(
            e.to_string().contains("quantity 0 must be greater than 0"),
            "{e}"
        );
    }
}
