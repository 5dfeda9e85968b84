//! The ledger postings of this crate's business events: what each event hands
//! [`StepContext::post`] (amounts and the facts the posting rule picks accounts by). Which
//! accounts are debited and credited is the analysts' `rules/posting.rhai`, not this file.
//!
//! Stock moves (shipment, goods receipt) are valued at the item's cost (`cost` in master data,
//! required: [`ordo_contract::master::Item::ledger_cost`]), rounded per line to the cent, half
//! away from zero, in the ledger's own currency.

use crate::checked;
use crate::master::{self, Item, round_money};
use ordo_contract::ledger::{Posting, events};
use ordo_contract::{Invoice, StepContext, StepContextExt, StepError};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Decimals of values at cost (the ledger's currency: cents).
const COST_DP: u32 = 2;

/// Invoice: the total on the customer, net per line (with its item and tax code) and tax per
/// rate for the rule to spread over revenue and VAT accounts.
pub fn invoice(inv: &Invoice) -> Result<Posting, StepError> {
    let at = |f: &'static str| {
        let n = inv.number.clone();
        move || format!("invoice {n} posting {f}")
    };
    let (lines, taxes) = lines_and_taxes(inv, &at)?;
    Ok(Posting {
        kind: events::INVOICE,
        source: inv.number.clone(),
        date: inv.issue_date,
        currency: Some(inv.currency.clone()),
        order_id: Some(inv.order_id.clone()),
        invoice: Some(inv.number.clone()),
        customer: Some(inv.customer_id.clone()),
        facts: json!({ "total": inv.total, "net_total": inv.net_total, "tax_total": inv.tax_total,
                       "lines": lines, "taxes": taxes }),
    })
}

/// The lines `{line_no, sku, net, tax, tax_rate}` of an invoice or credit note and its net and
/// tax per rate `{rate, net, tax}` (ascending rate), what the posting rule spreads over revenue
/// and VAT accounts.
fn lines_and_taxes<F>(
    inv: &Invoice,
    at: &impl Fn(&'static str) -> F,
) -> Result<(Vec<Value>, Vec<Value>), StepError>
where
    F: FnOnce() -> String,
{
    let mut rates: BTreeMap<Decimal, (Decimal, Decimal)> = BTreeMap::new();
    for l in &inv.lines {
        let r = rates.entry(l.tax_rate.normalize()).or_default();
        r.0 = checked::add(r.0, l.net_amount, at("net per rate"))?;
        r.1 = checked::add(r.1, l.tax_amount, at("tax per rate"))?;
    }
    let lines: Vec<Value> = inv
        .lines
        .iter()
        .map(|l| json!({ "line_no": l.line_no, "sku": l.sku, "net": l.net_amount, "tax": l.tax_amount, "tax_rate": l.tax_rate }))
        .collect();
    let taxes: Vec<Value> = rates
        .iter()
        .map(|(rate, (net, tax))| json!({ "rate": rate, "net": net, "tax": tax }))
        .collect();
    Ok((lines, taxes))
}

/// Credit note: the credited net per line and tax per rate (taken back from revenue and VAT),
/// `applied`, what it took off its invoice's open amount (receivables), and `credit`, the rest
/// (the invoice was paid already), which the customer holds as credit.
pub fn credit_note(
    cn: &Invoice,
    corrects: &str,
    applied: Decimal,
    credit: Decimal,
) -> Result<Posting, StepError> {
    let at = |f: &'static str| {
        let n = cn.number.clone();
        move || format!("credit note {n} posting {f}")
    };
    let (lines, taxes) = lines_and_taxes(cn, &at)?;
    Ok(Posting {
        kind: events::CREDIT_NOTE,
        source: cn.number.clone(),
        date: cn.issue_date,
        currency: Some(cn.currency.clone()),
        order_id: Some(cn.order_id.clone()),
        invoice: Some(corrects.to_string()),
        customer: Some(cn.customer_id.clone()),
        facts: json!({ "total": cn.total, "net_total": cn.net_total, "tax_total": cn.tax_total,
                       "lines": lines, "taxes": taxes, "corrects": corrects,
                       "applied": applied, "credit": credit }),
    })
}

/// The value at cost of `(sku, quantity)` moves: lines `{sku, quantity, unit_cost, value}` and
/// their total. An item that is not in master data or has no cost fails the step.
pub async fn at_cost(
    ctx: &mut dyn StepContext,
    moves: &[(String, Decimal)],
    what: &str,
) -> Result<(Vec<Value>, Decimal), StepError> {
    let mut lines = Vec::with_capacity(moves.len());
    let mut total = Decimal::ZERO;
    for (sku, qty) in moves {
        let item: Item = ctx
            .get("item", sku)
            .await?
            .ok_or_else(|| StepError::Permanent(format!("{what}: no item '{sku}'")))?;
        let cost = item
            .ledger_cost()
            .map_err(|e| StepError::Permanent(format!("{what}: {e}")))?;
        let value = round_money(
            checked::mul(*qty, cost, || format!("{what} {sku} quantity × cost"))?,
            COST_DP,
        );
        total = checked::add(total, value, || format!("{what} value at cost"))?;
        lines.push(json!({ "sku": sku, "quantity": qty, "unit_cost": cost, "value": value }));
    }
    Ok((lines, total))
}

/// Quantities per SKU, in first-seen order.
pub fn per_sku<'a>(
    moves: impl IntoIterator<Item = (&'a str, Decimal)>,
    what: &str,
) -> Result<Vec<(String, Decimal)>, StepError> {
    let mut out: Vec<(String, Decimal)> = Vec::new();
    for (sku, q) in moves {
        match out.iter_mut().find(|(s, _)| s == sku) {
            Some((_, t)) => *t = checked::add(*t, q, || format!("{what} {sku} quantity"))?,
            None => out.push((sku.to_string(), q)),
        }
    }
    Ok(out)
}

/// Shipment: cost of goods sold against inventory, at cost.
pub async fn shipment(
    ctx: &mut dyn StepContext,
    s: &ordo_contract::Shipment,
    customer: &str,
) -> Result<Posting, StepError> {
    let what = format!("shipment {}", s.id);
    let moves = per_sku(
        s.packages
            .iter()
            .flat_map(|p| p.lines.iter().map(|l| (l.sku.as_str(), l.quantity))),
        &what,
    )?;
    let (lines, total) = at_cost(ctx, &moves, &what).await?;
    Ok(Posting {
        kind: events::SHIPMENT,
        source: s.id.clone(),
        date: s.ship_date,
        currency: None,
        order_id: Some(s.order_id.clone()),
        invoice: None,
        customer: Some(customer.to_string()),
        facts: json!({ "total": total, "lines": lines }),
    })
}

/// Goods receipt: inventory against goods received not invoiced, at cost. `source` names the
/// receipt (the purchase order and how many receipts it had).
/// A completed production: the components consumed (`moves`, at their cost), the labour
/// (`labour`, already a money amount) and the finished goods at their sum.
pub async fn production(
    ctx: &mut dyn StepContext,
    source: String,
    order_id: &str,
    sku: &str,
    quantity: Decimal,
    moves: &[(String, Decimal)],
    labour: Decimal,
) -> Result<Posting, StepError> {
    let what = format!("production {source}");
    let (lines, components) = at_cost(ctx, moves, &what).await?;
    let labour = round_money(labour, COST_DP);
    let total = checked::add(components, labour, || format!("{what} value at cost"))?;
    Ok(Posting {
        kind: events::PRODUCTION,
        source,
        date: master::today(ctx),
        currency: None,
        order_id: Some(order_id.to_string()),
        invoice: None,
        customer: None,
        facts: json!({ "total": total, "components": components, "labour": labour,
                       "lines": lines, "item": sku, "quantity": quantity }),
    })
}

pub async fn goods_receipt(
    ctx: &mut dyn StepContext,
    source: String,
    po_number: &str,
    supplier: &str,
    moves: &[(String, Decimal)],
) -> Result<Posting, StepError> {
    let what = format!("goods receipt {source}");
    let (lines, total) = at_cost(ctx, moves, &what).await?;
    Ok(Posting {
        kind: events::GOODS_RECEIPT,
        source,
        date: master::today(ctx),
        currency: None,
        order_id: None,
        invoice: None,
        customer: None,
        facts: json!({ "total": total, "lines": lines, "purchase_order": po_number, "supplier": supplier }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::MemoryContext;
    use chrono::NaiveDate;
    use ordo_contract::{InvoiceLine, Package, PaymentTerms, Shipment, ShipmentLine};
    use rust_decimal::dec;

    fn shipment(lines: &[(&str, Decimal)]) -> Shipment {
        Shipment {
            id: "SH-000001".into(),
            order_id: "C1-PO1".into(),
            ship_date: NaiveDate::from_ymd_opt(2026, 9, 21).unwrap(),
            carrier: "DHL".into(),
            service: "parcel".into(),
            tracking_number: "T".into(),
            ship_to: None,
            packages: lines
                .iter()
                .enumerate()
                .map(|(i, (sku, q))| Package {
                    sscc: format!("S{i}"),
                    weight_kg: dec!(1),
                    lines: vec![ShipmentLine {
                        line_no: i as u32 + 1,
                        sku: (*sku).into(),
                        quantity: *q,
                        uom: "EA".into(),
                    }],
                })
                .collect(),
        }
    }

    #[tokio::test]
    async fn a_shipment_is_valued_at_cost_per_sku_and_a_missing_cost_is_an_error() {
        let mut ctx = MemoryContext::seeded();
        // WIDGET twice (two packages): 3 + 4 at 0.20; GADGET 2 at 8.00.
        let s = shipment(&[
            ("WIDGET", dec!(3)),
            ("GADGET", dec!(2)),
            ("WIDGET", dec!(4)),
        ]);
        let p = super::shipment(&mut ctx, &s, "C1").await.unwrap();
        assert_eq!(p.kind, events::SHIPMENT);
        assert_eq!(p.currency, None, "at cost: the ledger's own currency");
        assert_eq!(p.facts["total"], json!(dec!(17.40)));
        assert_eq!(p.facts["lines"][0]["quantity"], json!(dec!(7)));
        assert_eq!(p.facts["lines"].as_array().unwrap().len(), 2);
        ctx.docs
            .get_mut(&("item".to_string(), "GADGET".to_string()))
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("cost");
        let e = super::shipment(&mut ctx, &s, "C1")
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "shipment SH-000001: item 'GADGET' has no cost: the ledger values stock at cost (add `cost` in master data)"
        );
        let e = super::shipment(&mut ctx, &shipment(&[("NOPE", dec!(1))]), "C1")
            .await
            .unwrap_err()
            .to_string();
        assert_eq!(e, "shipment SH-000001: no item 'NOPE'");
    }

    #[test]
    fn an_invoice_posts_its_total_and_net_and_tax_per_rate() {
        let line = |n: u32, net: Decimal, rate: Decimal, tax: Decimal| InvoiceLine {
            line_no: n,
            sku: format!("S{n}"),
            description: None,
            quantity: Decimal::ONE,
            uom: "EA".into(),
            unit_price: net,
            net_amount: net,
            tax_rate: rate,
            tax_amount: tax,
        };
        let inv = Invoice {
            number: "INV-000001".into(),
            order_id: "C1-PO1".into(),
            shipment_id: None,
            customer_id: "C1".into(),
            issue_date: NaiveDate::from_ymd_opt(2026, 9, 21).unwrap(),
            due_date: NaiveDate::from_ymd_opt(2026, 10, 21).unwrap(),
            currency: "EUR".into(),
            terms: PaymentTerms::parse("net 30").unwrap(),
            lines: vec![
                line(1, dec!(10.00), dec!(19), dec!(1.90)),
                line(2, dec!(5.00), dec!(7.0), dec!(0.35)),
                line(3, dec!(20.00), dec!(19.00), dec!(3.80)),
            ],
            net_total: dec!(35.00),
            tax_total: dec!(6.05),
            total: dec!(41.05),
        };
        let p = invoice(&inv).unwrap();
        assert_eq!(p.source, "INV-000001");
        assert_eq!(p.facts["total"], json!(dec!(41.05)));
        assert_eq!(
            p.facts["taxes"],
            json!([ { "rate": dec!(7), "net": dec!(5.00), "tax": dec!(0.35) },
                    { "rate": dec!(19), "net": dec!(30.00), "tax": dec!(5.70) } ])
        );
    }
}
