//! `invoice.create`: one invoice per shipment, or one per order (`with: { per: order }` in the
//! workflow, or `invoice_per: order` on the customer, which wins): then partial shipments are
//! collected and the order is invoiced once, when its last shipment goes out (outcome `open`
//! without an invoice until then; `invoice` in the instance data is null). Number from the gapless series `invoice`
//! (`INV-000001`; a rolled-back step gives its number back), prices from the order's pricing,
//! tax rates from rules/tax.rhai (`tax.rates` by item tax code), every line and its tax rounded
//! to the currency's minor unit half away from zero, `total = Σ net + Σ tax` checked with
//! [`Invoice::check_totals`] before anything is stored. Due date and early-payment discount come
//! from the customer's terms (`2/10 net 30`). The invoice is stored (`invoice/<number>`), sent
//! (outbound `invoices`), booked on the customer's receivables, posted to the ledger
//! ([`crate::posting::invoice`]), and `invoice.issued` starts its
//! collection (workflows/invoice-collection.yaml). With `with: { apply_credit: automatic }` a
//! new invoice then takes what credit the customer holds ([`crate::customer_credit`]).

use crate::allocate::Fulfilment;
use crate::checked;
use crate::master::{self, currency_decimals, round_money};
use async_trait::async_trait;
use ordo_contract::{
    Connector, Invoice, InvoiceCollection, InvoiceLine, Order, Pricing, Shipment, StepContext,
    StepError, StepInput, StepOutput, data_field,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub struct CreateInvoice;

pub const SERIES: &str = "invoice";
pub const ISSUED_EVENT: &str = "invoice.issued";

/// What rules/tax.rhai decided (`tax` in the instance data): a rate in percent per item tax
/// code, and a note printed on the invoice (reverse charge, export). Unknown fields are allowed:
/// the rule is the analysts' and may return more for other steps.
#[derive(Debug, Clone, Deserialize)]
pub struct Tax {
    pub rates: BTreeMap<String, Decimal>,
    #[serde(default)]
    pub note: Option<String>,
}

/// What `invoice.create` reads of the customer in the instance data (`order.validate` put the
/// stored customer there).
#[derive(Debug, Deserialize)]
struct CustomerTerms {
    terms: String,
    #[serde(default)]
    invoice_per: Option<String>,
}

/// The net amount and tax of an invoice line: `quantity × unit_price` and `net × rate / 100`,
/// each rounded to the currency's `dp` decimals half away from zero. The one computation of
/// invoices and credit notes (`crate::credit_note`), so a credit note credits what its
/// invoice charged.
pub fn line_amounts(
    quantity: Decimal,
    unit_price: Decimal,
    rate: Decimal,
    dp: u32,
    at: &dyn Fn(&str) -> String,
) -> Result<(Decimal, Decimal), String> {
    let net = round_money(
        checked::mul(quantity, unit_price, || at("quantity × unit_price"))
            .map_err(|e| e.to_string())?,
        dp,
    );
    let tax = round_money(
        checked::mul(net, rate, || at("tax_amount")).map_err(|e| e.to_string())?
            / Decimal::ONE_HUNDRED,
        dp,
    );
    Ok((net, tax))
}

/// Builds the invoice for a shipment (pure: numbering and storing are the caller's). Returns
/// the canonical invoice and the other fields of the stored document (its collection state).
pub fn build_invoice(
    number: String,
    order: &Order,
    shipment: &Shipment,
    pricing: &Pricing,
    tax: &Tax,
    terms_text: &str,
    issue_date: chrono::NaiveDate,
) -> Result<(Invoice, Value), String> {
    let terms = master::parse_terms(terms_text)?;
    let dp = currency_decimals(&order.currency);
    let mut qty: BTreeMap<u32, Decimal> = BTreeMap::new();
    for p in &shipment.packages {
        for l in &p.lines {
            let n = qty.entry(l.line_no).or_default();
            *n = checked::add(*n, l.quantity, || {
                format!("shipment {} line {} quantity", shipment.id, l.line_no)
            })
            .map_err(|e| e.to_string())?;
        }
    }
    let mut lines = Vec::new();
    for (line_no, q) in qty {
        let p = pricing
            .lines
            .iter()
            .find(|p| p.line_no == line_no)
            .ok_or_else(|| format!("line {line_no} has no price"))?;
        let code = p.tax_code.as_str();
        let Some(&rate) = tax.rates.get(code) else {
            return Err(format!("rules/tax.rhai gave no rate for tax code '{code}'"));
        };
        let unit = p.unit_price;
        let (net, tax_amount) = line_amounts(q, unit, rate, dp, &|f| {
            format!("invoice for order {} line {line_no} {f}", order.id)
        })?;
        lines.push(InvoiceLine {
            line_no,
            sku: p.sku.clone(),
            description: p.description.clone(),
            quantity: q,
            uom: p.uom.clone(),
            unit_price: unit,
            net_amount: net,
            tax_rate: rate,
            tax_amount,
        });
    }
    let total_of = |f: &'static str| move || format!("invoice for order {} {f}", order.id);
    let net_total = checked::sum(lines.iter().map(|l| l.net_amount), total_of("net_total"))
        .map_err(|e| e.to_string())?;
    let tax_total = checked::sum(lines.iter().map(|l| l.tax_amount), total_of("tax_total"))
        .map_err(|e| e.to_string())?;
    let total = checked::add(net_total, tax_total, total_of("total")).map_err(|e| e.to_string())?;
    let inv = Invoice {
        number,
        order_id: order.id.clone(),
        shipment_id: Some(shipment.id.clone()),
        customer_id: order.customer_id.clone(),
        issue_date,
        due_date: master::add_days(issue_date, terms.net_days).map_err(|e| e.to_string())?,
        currency: order.currency.clone(),
        terms: terms.clone(),
        lines,
        net_total,
        tax_total,
        total,
    };
    inv.check_totals()?;
    let discount = round_money(
        checked::mul(
            inv.total,
            terms.discount_percent,
            total_of("discount_amount"),
        )
        .map_err(|e| e.to_string())?
            / Decimal::ONE_HUNDRED,
        dp,
    );
    let discount_until = match terms.discount_days {
        0 => None,
        days => Some(master::add_days(issue_date, days).map_err(|e| e.to_string())?),
    };
    let state = InvoiceCollection {
        number: inv.number.clone(),
        customer_id: inv.customer_id.clone(),
        currency: inv.currency.clone(),
        total: inv.total,
        issue_date: inv.issue_date,
        due_date: inv.due_date,
        terms: inv.terms.clone(),
        status: "open".into(),
        open_amount: inv.total,
        paid_amount: Decimal::ZERO,
        discount_amount: discount,
        discount_until,
        discount_taken: Decimal::ZERO,
        payments: Vec::new(),
        dunning_level: 0,
        overdue: false,
        dunning: Vec::new(),
        written_off: None,
        credit_booked: None,
        payments_in_transit: Vec::new(),
    };
    let mut extra =
        json!({ "po_number": order.po_number, "terms_text": terms_text, "tax_note": tax.note });
    state.write_into(&mut extra)?;
    Ok((inv, extra))
}

/// The stored document: the canonical invoice plus its collection state.
pub fn invoice_doc(inv: &Invoice, extra: &Value) -> Result<Value, String> {
    let mut v = serde_json::to_value(inv).map_err(|e| format!("invoice {}: {e}", inv.number))?;
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        for (k, x) in e {
            o.insert(k.clone(), x.clone());
        }
    }
    Ok(v)
}

#[async_trait]
impl Connector for CreateInvoice {
    fn name(&self) -> &'static str {
        "invoice.create"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["complete", "open"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let closing = match input.params.get("final") {
            None => false,
            Some(_) => data_field::<bool>(input.params, "final")?,
        };
        let waiting = input.data["uninvoiced_shipments"]
            .as_array()
            .is_some_and(|a| !a.is_empty());
        if closing && !waiting {
            return Ok(StepOutput::outcome("complete").with("invoice", Value::Null));
        }
        let order: Order = data_field(input.data, "order")?;
        let pricing: Pricing = data_field(input.data, "pricing")?;
        let tax: Tax = data_field(input.data, "tax")?;
        let mut f: Fulfilment = data_field(input.data, "fulfilment")?;
        let customer: CustomerTerms = data_field(input.data, "customer")?;
        let terms = customer.terms;
        // The customer's setting wins; without one, the workflow's (`with.per`, else per
        // shipment, as documented at the top of this module).
        let per = customer
            .invoice_per
            .unwrap_or_else(|| master::param_str(input.params, "per", "shipment").to_string());
        if per != "shipment" && per != "order" {
            return Err(StepError::Permanent(format!(
                "invoice.create: per must be 'shipment' or 'order', not '{per}'"
            )));
        }
        // Per order: shipments wait in the instance data until the order is complete.
        // Absent or null before the first shipment waited.
        let mut shipped: Vec<Shipment> = match input.data.get("uninvoiced_shipments") {
            None | Some(Value::Null) => Vec::new(),
            Some(_) => data_field(input.data, "uninvoiced_shipments")?,
        };
        // `with: { final: true }`: the order closes with what has shipped (backordered):
        // invoice the shipments still waiting; there is no new shipment.
        let shipment = if closing {
            match shipped.pop() {
                Some(s) => s,
                None => {
                    return Ok(StepOutput::outcome("complete").with("invoice", Value::Null));
                }
            }
        } else {
            data_field::<Shipment>(input.data, "shipment")?
        };
        if per == "order" && !f.complete() && !closing {
            shipped.push(shipment);
            return Ok(StepOutput::outcome("open")
                .with("invoice", Value::Null)
                .with("uninvoiced_shipments", shipped));
        }
        let shipment_ids: Vec<String> = shipped
            .iter()
            .map(|s| s.id.clone())
            .chain([shipment.id.clone()])
            .collect();
        let shipment = if shipped.is_empty() {
            shipment
        } else {
            let mut all = shipment;
            for s in shipped {
                all.packages.extend(s.packages);
            }
            all
        };
        // The analysts' setting: new invoices take the customer's credit, or leave it for a
        // person (crate::customer_credit).
        let credit_policy: crate::customer_credit::ApplyPolicy =
            master::param_str(input.params, "apply_credit", "on_request")
                .parse()
                .map_err(StepError::Permanent)?;
        let series = master::param_str(input.params, "series", SERIES).to_string();
        let n = ctx.next_number(&series).await?;
        let prefix = master::param_str(input.params, "prefix", "INV-").to_string();
        let number = format!("{prefix}{n:06}");
        let (inv, extra) = build_invoice(
            number.clone(),
            &order,
            &shipment,
            &pricing,
            &tax,
            &terms,
            master::today(ctx),
        )
        .map_err(|e| StepError::Permanent(format!("invoice for {}: {e}", shipment.id)))?;
        let mut doc = invoice_doc(&inv, &extra).map_err(StepError::Permanent)?;
        if shipment_ids.len() > 1 {
            doc["shipment_id"] = Value::Null;
            doc["shipments"] = json!(shipment_ids);
        }
        ctx.put_document("invoice", &number, &doc).await?;
        ctx.post(&crate::posting::invoice(&inv)?).await?;
        ctx.send_outbound("invoices", &number, &doc).await?;
        ctx.adjust_stock(&master::ar_key(&inv.customer_id), master::LEDGER, inv.total)
            .await?;
        let summary = json!({ "number": number, "order_id": inv.order_id, "customer_id": inv.customer_id, "total": inv.total,
                              "currency": inv.currency, "due_date": inv.due_date, "shipment_id": shipment.id });
        ctx.emit_event(
            ISSUED_EVENT,
            &number,
            "issued",
            &json!({ "invoice": summary }),
        )
        .await?;
        if credit_policy == crate::customer_credit::ApplyPolicy::Automatic
            && ctx
                .stock_level(&master::credit_key(&inv.customer_id), master::LEDGER)
                .await?
                > Decimal::ZERO
        {
            crate::customer_credit::apply_credit(ctx, &inv.customer_id, Some(&number)).await?;
        }
        f.invoices.push(number);
        let outcome = if f.complete() || closing {
            "complete"
        } else {
            "open"
        };
        Ok(StepOutput::outcome(outcome)
            .with("invoice", summary)
            .with("fulfilment", f)
            .with("uninvoiced_shipments", Vec::<Shipment>::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use ordo_contract::{Package, ShipmentLine};
    use rust_decimal::dec;

    fn order() -> Order {
        serde_json::from_value(json!({ "id": "C1-PO1", "customer_id": "C1", "po_number": "PO1", "order_date": "2026-09-21", "currency": "EUR", "lines": [] })).unwrap()
    }

    fn shipment(lines: &[(u32, &str)]) -> Shipment {
        Shipment {
            id: "SH-000001".into(),
            order_id: "C1-PO1".into(),
            ship_date: NaiveDate::from_ymd_opt(2026, 9, 21).unwrap(),
            carrier: "DHL".into(),
            service: "parcel".into(),
            tracking_number: "T".into(),
            ship_to: None,
            packages: vec![Package {
                sscc: "x".into(),
                weight_kg: dec!(1),
                lines: lines
                    .iter()
                    .map(|(n, q)| ShipmentLine {
                        line_no: *n,
                        sku: format!("S{n}"),
                        quantity: q.parse().unwrap(),
                        uom: "EA".into(),
                    })
                    .collect(),
            }],
        }
    }

    fn pricing() -> Pricing {
        crate::testing::pricing(&[
            (1, "S1", dec!(0.335), "reduced"),
            (2, "S2", dec!(19.99), "standard"),
            (3, "S3", dec!(0.07), "standard"),
        ])
    }

    fn tax(v: Value) -> Tax {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn lines_and_tax_round_per_line_and_the_total_adds_up() {
        let tax = tax(json!({ "rates": { "standard": dec!(19), "reduced": dec!(7) } }));
        let day = NaiveDate::from_ymd_opt(2026, 9, 21).unwrap();
        let (inv, extra) = build_invoice(
            "INV-000001".into(),
            &order(),
            &shipment(&[(1, "3"), (2, "3"), (3, "1")]),
            &pricing(),
            &tax,
            "2/10 net 30",
            day,
        )
        .unwrap();
        // 3 × 0.335 = 1.005 → 1.01, tax 7% = 0.0707 → 0.07
        assert_eq!(
            (inv.lines[0].net_amount, inv.lines[0].tax_amount),
            (dec!(1.01), dec!(0.07))
        );
        // 3 × 19.99 = 59.97, tax 19% = 11.3943 → 11.39
        assert_eq!(
            (inv.lines[1].net_amount, inv.lines[1].tax_amount),
            (dec!(59.97), dec!(11.39))
        );
        // 0.07, tax 0.0133 → 0.01
        assert_eq!(inv.lines[2].tax_amount, dec!(0.01));
        assert_eq!(inv.net_total, dec!(61.05));
        assert_eq!(inv.tax_total, dec!(11.47));
        assert_eq!(inv.total, dec!(72.52));
        assert_eq!(inv.check_totals(), Ok(()));
        assert_eq!(inv.due_date, NaiveDate::from_ymd_opt(2026, 10, 21).unwrap());
        assert_eq!(extra["discount_until"], json!("2026-10-01"));
        // 2% of 72.52 = 1.4504 → 1.45
        assert_eq!(extra["discount_amount"], json!(dec!(1.45)));
    }

    #[test]
    fn many_small_lines_never_lose_a_cent() {
        // 200 lines of 1 × 0.005 at 19%: each line rounds to 0.01 net and 0.00 tax; the total
        // is the sum of what is printed, not a re-rounded grand total.
        let lines: Vec<(u32, &str, Decimal, &str)> = (1..=200)
            .map(|n| (n, "S", dec!(0.005), "standard"))
            .collect();
        let ship: Vec<(u32, &str)> = (1..=200).map(|n| (n, "1")).collect();
        let tax = tax(json!({ "rates": { "standard": dec!(19) } }));
        let (inv, _) = build_invoice(
            "I".into(),
            &order(),
            &shipment(&ship),
            &crate::testing::pricing(&lines),
            &tax,
            "net 30",
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        )
        .unwrap();
        assert_eq!(inv.net_total, dec!(2.00));
        assert_eq!(inv.tax_total, dec!(0.00));
        assert_eq!(inv.total, dec!(2.00));
        inv.check_totals().unwrap();
    }

    #[test]
    fn a_missing_tax_rate_or_bad_terms_is_an_error_not_a_zero() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let tax = self::tax(json!({ "rates": { "standard": 19 } }));
        let e = build_invoice(
            "I".into(),
            &order(),
            &shipment(&[(1, "1")]),
            &pricing(),
            &tax,
            "net 30",
            day,
        )
        .unwrap_err();
        assert!(e.contains("no rate for tax code 'reduced'"), "{e}");
        let tax = self::tax(json!({ "rates": { "standard": 19, "reduced": 7 } }));
        assert!(
            build_invoice(
                "I".into(),
                &order(),
                &shipment(&[(1, "1")]),
                &pricing(),
                &tax,
                "whenever",
                day
            )
            .is_err()
        );
    }

    fn data(shipped: &[(u32, &str)], ordered: &[(u32, &str)], ship: &Shipment) -> Value {
        let lines: Vec<Value> = ordered
            .iter()
            .map(|(n, q)| {
                let done = shipped.iter().find(|(m, _)| m == n).map(|(_, s)| *s).unwrap_or("0");
                json!({ "line_no": n, "sku": format!("S{n}"), "ordered": q.parse::<Decimal>().unwrap(), "shipped": done.parse::<Decimal>().unwrap() })
            })
            .collect();
        json!({ "order": order(), "shipment": ship, "pricing": pricing(),
                "tax": { "rates": { "standard": dec!(19), "reduced": dec!(7) } },
                "fulfilment": { "lines": lines }, "customer": { "terms": "net 30" } })
    }

    #[tokio::test]
    async fn per_order_invoices_once_when_the_last_shipment_goes_out() {
        use crate::testing::{MemoryContext, merge, run};
        let mut ctx = MemoryContext::seeded();
        let params = json!({ "per": "order" });
        let first = shipment(&[(1, "10")]);
        let mut d = data(&[(1, "10")], &[(1, "10"), (2, "2")], &first);
        let out = run(&CreateInvoice, &mut ctx, d.clone(), params.clone()).await;
        assert_eq!(out.outcome, "open");
        assert_eq!(out.set["invoice"], Value::Null);
        assert!(ctx.numbers.is_empty(), "no invoice number taken yet");
        merge(&mut d, &out);
        let mut second = shipment(&[(2, "2")]);
        second.id = "SH-000002".into();
        d["shipment"] = json!(second);
        d["fulfilment"]["lines"][1]["shipped"] = json!(dec!(2));
        let out = run(&CreateInvoice, &mut ctx, d.clone(), params.clone()).await;
        assert_eq!(out.outcome, "complete");
        let number = out.set["invoice"]["number"].as_str().unwrap().to_string();
        let inv = &ctx.docs[&("invoice".to_string(), number.clone())];
        assert_eq!(inv["lines"].as_array().unwrap().len(), 2, "{inv}");
        assert_eq!(inv["shipments"], json!(["SH-000001", "SH-000002"]));
        // 10 × 0.335 = 3.35 (+7 % = 0.23) and 2 × 19.99 = 39.98 (+19 % = 7.60)
        assert_eq!(inv["total"], json!(dec!(51.16)));
        assert_eq!(ctx.numbers["invoice"], 1);
        merge(&mut d, &out);
        assert_eq!(d["uninvoiced_shipments"], json!([]));
    }

    #[tokio::test]
    async fn a_backordered_order_is_invoiced_for_what_shipped() {
        use crate::testing::{MemoryContext, merge, run};
        let mut ctx = MemoryContext::seeded();
        let first = shipment(&[(1, "10")]);
        let mut d = data(&[(1, "10")], &[(1, "10"), (2, "2")], &first);
        let out = run(
            &CreateInvoice,
            &mut ctx,
            d.clone(),
            json!({ "per": "order" }),
        )
        .await;
        merge(&mut d, &out);
        // The rest never comes: the closing step invoices the shipment that waited.
        let out = run(
            &CreateInvoice,
            &mut ctx,
            d.clone(),
            json!({ "per": "order", "final": true }),
        )
        .await;
        assert_eq!(out.outcome, "complete");
        assert_eq!(out.set["invoice"]["total"], json!(dec!(3.58)));
        // Nothing waiting (per shipment, or already invoiced): nothing to do.
        merge(&mut d, &out);
        let out = run(
            &CreateInvoice,
            &mut ctx,
            d.clone(),
            json!({ "final": true }),
        )
        .await;
        assert_eq!(out.outcome, "complete");
        assert_eq!(out.set["invoice"], Value::Null);
        assert_eq!(ctx.numbers["invoice"], 1);
        // A customer setting wins over the workflow's.
        let mut ctx = MemoryContext::seeded();
        let mut d = data(&[(1, "10")], &[(1, "10"), (2, "2")], &first);
        d["customer"]["invoice_per"] = json!("order");
        let out = run(&CreateInvoice, &mut ctx, d, json!({ "per": "shipment" })).await;
        assert_eq!(out.outcome, "open");
        assert_eq!(out.set["invoice"], Value::Null);
    }

    #[tokio::test]
    async fn automatic_credit_settles_a_new_invoice_and_a_bad_setting_is_refused() {
        use crate::testing::{MemoryContext, run};
        let mut ctx = MemoryContext::seeded();
        ctx.stock
            .insert((master::credit_key("C1"), master::LEDGER.into()), dec!(100));
        let s = shipment(&[(2, "1")]);
        let d = data(&[(2, "1")], &[(2, "1")], &s);
        // 19.99 + 19 % = 23.79, all paid by the credit.
        let out = run(
            &CreateInvoice,
            &mut ctx,
            d.clone(),
            json!({ "apply_credit": "automatic" }),
        )
        .await;
        let number = out.set["invoice"]["number"].as_str().unwrap().to_string();
        let inv = &ctx.docs[&("invoice".to_string(), number)];
        assert_eq!(inv["status"], "paid", "{inv}");
        assert_eq!(inv["open_amount"], json!(dec!(0.00)));
        assert_eq!(
            ctx.stock[&(master::credit_key("C1"), master::LEDGER.to_string())],
            dec!(76.21)
        );
        // On request (the default): the credit waits.
        let out = run(&CreateInvoice, &mut ctx, d.clone(), json!({})).await;
        let number = out.set["invoice"]["number"].as_str().unwrap().to_string();
        assert_eq!(ctx.docs[&("invoice".to_string(), number)]["status"], "open");
        let input = ordo_contract::StepInput {
            instance: "i",
            workflow: "w",
            step: "s",
            attempt: 1,
            data: &d,
            params: &json!({ "apply_credit": "sometimes" }),
        };
        let e = CreateInvoice
            .run(&mut ctx, input)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("apply_credit must be 'automatic' or 'on_request'"),
            "{e}"
        );
    }
}
