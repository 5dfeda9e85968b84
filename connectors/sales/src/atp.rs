//! Available to promise: the date each order line can ship, from stock on hand, the open
//! purchase orders' expected dates, and the lead time when neither covers it.
//!
//! [`promise`] is the pure core (no I/O: the `order.promise` connector and `ordo bench atp`
//! hand it the facts, read through indexed lookups: the stock row of each item at the
//! location, and `sku-po/<sku>`, the POs that still bring it). Per item, lines take stock on
//! hand first, then the incoming quantities in expected-date order; what is left waits for a
//! new purchase: today + the lead time (the item's, else the supplier's). An item nobody
//! supplies and nothing covers gets no date. Incoming quantities are not reserved between
//! orders: each promise counts a PO's whole open quantity (an estimate; allocation decides
//! who gets the goods).
//!
//! `order.promise` stores `promise/<order>` (its lines, location and version) and, for an
//! order that did not come by EDI, queues an order confirmation carrying the dates (outbound
//! channel `order-confirmations`, one file per version); an EDI order's 855/ORDRSP carries
//! them (`edi.send`). [`slip`] (`ordo po-expect PO DATE`, a supplier's later date) moves a
//! PO's expected date and promises every order that counts on it again: a new version, a new
//! confirmation and the webhook event `order.promise_changed` when a date changed.

use crate::allocate::lead_time_days;
use crate::master::{self, Item, Supplier, data_field};
use crate::purchase::{load_po, sku_index};
use async_trait::async_trait;
use chrono::NaiveDate;
use ordo_contract::{
    Connector, Order, Pricing, StepContext, StepContextExt, StepError, StepInput, StepOutput,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

/// One open purchase order's quantity of an item not yet received nor promised to another
/// order, and when it is expected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incoming {
    pub po: String,
    pub expected_on: NaiveDate,
    pub quantity: Decimal,
}

/// What can serve an item at a location.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Supply {
    /// Free stock on hand (stock allocation already took what other orders hold).
    pub on_hand: Decimal,
    /// Open purchase orders, any order (sorted by [`promise`]).
    pub incoming: Vec<Incoming>,
    /// Days a new purchase takes; `None`: nobody supplies the item.
    pub lead_time_days: Option<u32>,
}

/// A line to promise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Want {
    pub line_no: u32,
    pub sku: String,
    pub quantity: Decimal,
}

impl Want {
    pub fn new(line_no: u32, sku: &str, quantity: Decimal) -> Want {
        Want {
            line_no,
            sku: sku.to_string(),
            quantity,
        }
    }
}

/// Where a line's quantity comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// `stock`, a PO number, or `purchase` (a purchase not yet placed).
    pub from: String,
    pub quantity: Decimal,
    pub date: NaiveDate,
}

/// A line's promise: the date everything of it is there (the latest of its sources).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promised {
    pub line_no: u32,
    pub sku: String,
    pub quantity: Decimal,
    /// `None`: nothing covers the line and nobody supplies the item.
    pub date: Option<NaiveDate>,
    pub sources: Vec<Source>,
}

/// Promises every line (in line order per item) from `supply`; an item missing from `supply`
/// has nothing on hand, nothing incoming and no supplier. Quantities must be positive
/// (intake refuses others); a line of zero or less is promised today with no source.
pub fn promise(
    today: NaiveDate,
    lines: &[Want],
    supply: &HashMap<String, Supply>,
) -> Result<Vec<Promised>, String> {
    // What each item has left while the lines take from it.
    struct Left {
        on_hand: Decimal,
        incoming: Vec<Incoming>,
        next: usize,
        lead: Option<u32>,
    }
    let mut left: HashMap<&str, Left> = HashMap::with_capacity(lines.len());
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let l = left.entry(line.sku.as_str()).or_insert_with(|| {
            let s = supply.get(&line.sku);
            let mut incoming = s.map(|s| s.incoming.clone()).unwrap_or_default();
            incoming.sort_by(|a, b| (a.expected_on, &a.po).cmp(&(b.expected_on, &b.po)));
            Left {
                on_hand: s.map_or(Decimal::ZERO, |s| s.on_hand.max(Decimal::ZERO)),
                incoming,
                next: 0,
                lead: s.and_then(|s| s.lead_time_days),
            }
        });
        let mut need = line.quantity;
        let mut sources = Vec::new();
        let take = |have: &mut Decimal, need: &mut Decimal| -> Decimal {
            let t = (*have).min(*need).max(Decimal::ZERO);
            *have -= t;
            *need -= t;
            t
        };
        if need > Decimal::ZERO {
            let t = take(&mut l.on_hand, &mut need);
            if t > Decimal::ZERO {
                sources.push(Source {
                    from: "stock".into(),
                    quantity: t,
                    date: today,
                });
            }
        }
        while need > Decimal::ZERO && l.next < l.incoming.len() {
            let inc = &mut l.incoming[l.next];
            let t = take(&mut inc.quantity, &mut need);
            if t > Decimal::ZERO {
                // A PO already late is expected no earlier than today.
                sources.push(Source {
                    from: inc.po.clone(),
                    quantity: t,
                    date: inc.expected_on.max(today),
                });
            }
            if inc.quantity <= Decimal::ZERO {
                l.next += 1;
            }
        }
        let mut covered = true;
        if need > Decimal::ZERO {
            match l.lead {
                Some(days) => {
                    let date = today
                        .checked_add_days(chrono::Days::new(u64::from(days)))
                        .ok_or_else(|| {
                            format!("{today} + {days} days is past the calendar's end")
                        })?;
                    sources.push(Source {
                        from: "purchase".into(),
                        quantity: need,
                        date,
                    });
                }
                None => covered = false,
            }
        }
        let date = if covered {
            Some(sources.iter().map(|s| s.date).max().unwrap_or(today))
        } else {
            None
        };
        out.push(Promised {
            line_no: line.line_no,
            sku: line.sku.clone(),
            quantity: line.quantity,
            date,
            sources,
        });
    }
    Ok(out)
}

/// `promise/<order>`: the order's current promise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromiseDoc {
    pub order_id: String,
    pub customer_id: String,
    /// The trading partner of an EDI order (its 855/ORDRSP carries the dates).
    pub partner: Option<String>,
    pub location: String,
    /// 1 for the first promise, +1 for every changed one.
    pub version: u32,
    pub lines: Vec<Promised>,
    /// When everything is there (the latest line); `None` when a line has no date.
    pub date: Option<NaiveDate>,
}

pub const CONFIRMATIONS: &str = "order-confirmations";
pub const PROMISE_CHANGED: &str = "order.promise_changed";

/// The facts [`promise`] needs for `skus` at `location`, read through the stock row of each
/// item and its `sku-po` index (only the POs for that location).
pub async fn gather(
    ctx: &mut dyn StepContext,
    location: &str,
    skus: &[&str],
) -> Result<HashMap<String, Supply>, StepError> {
    let mut out = HashMap::with_capacity(skus.len());
    for &sku in skus {
        if out.contains_key(sku) {
            continue;
        }
        let on_hand = ctx.stock_level(sku, location).await?;
        let mut incoming = Vec::new();
        for n in sku_index(ctx, sku).await? {
            let Some(po) = load_po(ctx, &n).await? else {
                continue;
            };
            if po.location.as_deref().unwrap_or(master::DEFAULT_LOCATION) != location {
                continue;
            }
            for l in po.lines.iter().filter(|l| l.sku == sku) {
                if l.open() > Decimal::ZERO {
                    incoming.push(Incoming {
                        po: po.number.clone(),
                        expected_on: po.expected_on,
                        quantity: l.open(),
                    });
                }
            }
        }
        let item: Option<Item> = ctx.get("item", sku).await?;
        let lead = match item {
            Some(item) => match &item.supplier {
                Some(s) => {
                    let sup: Option<Supplier> = ctx.get("supplier", s).await?;
                    // A supplier missing from master data cannot be bought from.
                    sup.map(|sup| lead_time_days(&item, Some(&sup)))
                }
                None => None,
            },
            None => None,
        };
        out.insert(
            sku.to_string(),
            Supply {
                on_hand,
                incoming,
                lead_time_days: lead,
            },
        );
    }
    Ok(out)
}

/// Promises `lines` of `order` at `location` and stores the promise: a new version when the
/// dates differ from the stored one (then a confirmation is queued for a non-EDI order and,
/// unless it is the first, `order.promise_changed` published). Returns the promise and
/// whether it changed.
pub async fn promise_order(
    ctx: &mut dyn StepContext,
    order_id: &str,
    customer_id: &str,
    partner: Option<&str>,
    location: &str,
    lines: &[Want],
) -> Result<(PromiseDoc, bool), StepError> {
    let skus: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    let supply = gather(ctx, location, &skus).await?;
    let today = master::today(ctx);
    let promised = promise(today, lines, &supply)
        .map_err(|e| StepError::Permanent(format!("order {order_id}: promise: {e}")))?;
    let old: Option<PromiseDoc> = ctx.get("promise", order_id).await?;
    let dates = |p: &[Promised]| p.iter().map(|l| (l.line_no, l.date)).collect::<Vec<_>>();
    if let Some(old) = &old
        && dates(&old.lines) == dates(&promised)
        && old.location == location
    {
        return Ok((old.clone(), false));
    }
    let date = if promised.iter().all(|l| l.date.is_some()) {
        promised.iter().filter_map(|l| l.date).max()
    } else {
        None
    };
    let doc = PromiseDoc {
        order_id: order_id.to_string(),
        customer_id: customer_id.to_string(),
        partner: partner.map(String::from),
        location: location.to_string(),
        version: old.as_ref().map_or(1, |o| o.version + 1),
        lines: promised,
        date,
    };
    ctx.put("promise", order_id, &doc).await?;
    let body = json!({ "order_id": order_id, "customer_id": customer_id, "version": doc.version,
                       "location": location, "date": doc.date,
                       "lines": doc.lines.iter().map(|l| json!({ "line_no": l.line_no, "sku": l.sku,
                           "quantity": l.quantity, "promised_date": l.date })).collect::<Vec<_>>(),
                       "issued_at": ctx.now().to_rfc3339() });
    if partner.is_none() {
        ctx.send_outbound(
            CONFIRMATIONS,
            &format!("{order_id}@promise-{}", doc.version),
            &body,
        )
        .await?;
    }
    if old.is_some() {
        ctx.publish(
            PROMISE_CHANGED,
            &format!("{order_id}@{}", doc.version),
            &body,
        )
        .await?;
    }
    Ok((doc, true))
}

/// `order.promise`: promises each line a date at confirmation (before the order response).
pub struct PromiseOrder;

#[async_trait]
impl Connector for PromiseOrder {
    fn name(&self) -> &'static str {
        "order.promise"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["promised"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let order: Order = data_field(input.data, "order")?;
        let pricing: Pricing = data_field(input.data, "pricing")?;
        let location = crate::allocate::chosen_location(input.data, master::DEFAULT_LOCATION)?;
        let lines: Vec<Want> = pricing
            .lines
            .iter()
            .map(|l| Want::new(l.line_no, &l.sku, l.quantity))
            .collect();
        let (doc, _) = promise_order(
            ctx,
            &order.id,
            &order.customer_id,
            order.partner.as_deref(),
            &location,
            &lines,
        )
        .await?;
        Ok(StepOutput::outcome("promised").with("promise", doc))
    }
}

/// A purchase order's new expected date (`ordo po-expect`, a supplier's order response):
/// stored on the PO, and every order with a promise that counts on the PO promised again.
/// Returns the orders whose promise changed.
pub async fn slip(
    ctx: &mut dyn StepContext,
    po_number: &str,
    expected_on: NaiveDate,
) -> Result<serde_json::Value, StepError> {
    let Some(po) = load_po(ctx, po_number).await? else {
        return Err(StepError::Permanent(format!(
            "no purchase order '{po_number}'"
        )));
    };
    master::lock_supplier(ctx, &po.supplier).await?;
    let mut po = load_po(ctx, po_number).await?.unwrap_or(po);
    if po.status == "received" {
        return Err(StepError::Permanent(format!(
            "purchase order {po_number} is fully received: its date can no longer change"
        )));
    }
    let before = po.expected_on;
    po.expected_on = expected_on;
    ctx.put("purchase-order", po_number, &po).await?;
    // The orders it was bought for and the ones waiting on it, once each, in order.
    let mut orders: Vec<String> = po.waiting.clone();
    for l in &po.lines {
        orders.extend(l.orders.iter().cloned());
    }
    orders.sort();
    orders.dedup();
    let mut changed = Vec::new();
    for o in orders {
        // Every order the PO was bought for or that waits on it: its promise may have counted
        // the PO, or a purchase that became this PO (only a moved date tells anyone).
        let Some(p) = ctx.get::<PromiseDoc>("promise", &o).await? else {
            continue;
        };
        let lines: Vec<Want> = p
            .lines
            .iter()
            .map(|l| Want::new(l.line_no, &l.sku, l.quantity))
            .collect();
        let (doc, did) = promise_order(
            ctx,
            &o,
            &p.customer_id,
            p.partner.as_deref(),
            &p.location,
            &lines,
        )
        .await?;
        if did {
            changed.push(json!({ "order": o, "version": doc.version, "date": doc.date }));
        }
    }
    Ok(json!({ "po": po_number, "expected_on": expected_on, "was": before, "changed": changed }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn want(line_no: u32, sku: &str, q: Decimal) -> Want {
        Want {
            line_no,
            sku: sku.into(),
            quantity: q,
        }
    }

    #[test]
    fn stock_first_then_purchase_orders_by_date_then_the_lead_time() {
        let today = d("2026-12-01");
        let mut supply = HashMap::new();
        supply.insert(
            "A".to_string(),
            Supply {
                on_hand: dec!(5),
                incoming: vec![
                    Incoming {
                        po: "PO-2".into(),
                        expected_on: d("2026-12-20"),
                        quantity: dec!(100),
                    },
                    Incoming {
                        po: "PO-1".into(),
                        expected_on: d("2026-12-10"),
                        quantity: dec!(10),
                    },
                ],
                lead_time_days: Some(30),
            },
        );
        let lines = [
            want(1, "A", dec!(3)),
            want(2, "A", dec!(7)),
            want(3, "A", dec!(200)),
        ];
        let p = promise(today, &lines, &supply).unwrap();
        // Line 1 from stock today; line 2 takes the last 2 on hand and 5 of PO-1 (Dec 10).
        assert_eq!(p[0].date, Some(today));
        assert_eq!(p[1].date, Some(d("2026-12-10")));
        assert_eq!(p[1].sources.len(), 2);
        // Line 3: 5 left on PO-1, 100 of PO-2, 95 by a new purchase (30 days): Dec 31.
        assert_eq!(p[2].date, Some(d("2026-12-31")));
        let from: Vec<(&str, Decimal)> = p[2]
            .sources
            .iter()
            .map(|s| (s.from.as_str(), s.quantity))
            .collect();
        assert_eq!(
            from,
            vec![
                ("PO-1", dec!(5)),
                ("PO-2", dec!(100)),
                ("purchase", dec!(95))
            ]
        );
    }

    #[test]
    fn a_late_po_is_expected_today_and_an_unsupplied_item_gets_no_date() {
        let today = d("2026-12-01");
        let mut supply = HashMap::new();
        supply.insert(
            "B".to_string(),
            Supply {
                on_hand: dec!(-3),
                incoming: vec![Incoming {
                    po: "PO-9".into(),
                    expected_on: d("2026-11-20"),
                    quantity: dec!(4),
                }],
                lead_time_days: None,
            },
        );
        let p = promise(
            today,
            &[
                want(1, "B", dec!(4)),
                want(2, "B", dec!(1)),
                want(3, "Z", dec!(1)),
            ],
            &supply,
        )
        .unwrap();
        assert_eq!(p[0].date, Some(today), "negative stock counts as none");
        assert_eq!(p[1].date, None, "nothing left and nobody supplies B");
        assert_eq!(p[2].date, None, "an unknown item has no supply");
    }

    #[tokio::test]
    async fn a_slipped_po_gives_the_waiting_order_a_new_promise_once() {
        use crate::testing::{MemoryContext, try_run};
        let mut ctx = MemoryContext::seeded();
        // GADGET: 10 on hand; 30 on PO-000001 expected Dec 10; supplier lead time 7 days.
        ctx.docs.insert(
            ("purchase-order".into(), "PO-000001".into()),
            json!({ "number": "PO-000001", "supplier": "S1", "status": "open", "created_on": "2026-11-01",
                    "expected_on": "2026-12-10", "lines": [ { "sku": "GADGET", "quantity": 30, "received": 0, "orders": ["O-1"] } ],
                    "waiting": [], "receipts": [] }),
        );
        ctx.docs.insert(
            ("sku-po".into(), "GADGET".into()),
            json!({ "pos": ["PO-000001"] }),
        );
        let mut order = crate::testing::order_json(&[("GADGET", "25")]);
        order["id"] = json!("O-1");
        let pricing = crate::testing::pricing(&[(1, "GADGET", dec!(12.50), "standard")]);
        let mut pricing = serde_json::to_value(pricing).unwrap();
        pricing["lines"][0]["quantity"] = json!(dec!(25));
        let data = json!({ "order": order, "pricing": pricing });
        let out = try_run(&PromiseOrder, &mut ctx, data, json!({}))
            .await
            .unwrap();
        let today = ctx.now().date_naive();
        let want = d("2026-12-10").max(today);
        assert_eq!(out.set["promise"]["lines"][0]["date"], json!(want));
        assert_eq!(out.set["promise"]["version"], 1);
        assert_eq!(ctx.outbound.len(), 1, "the confirmation of a non-EDI order");
        assert!(ctx.published.is_empty(), "a first promise is no change");
        // The supplier's date slips: a new promise, a new confirmation, the webhook event.
        let later = want + chrono::Days::new(14);
        let r = slip(&mut ctx, "PO-000001", later).await.unwrap();
        assert_eq!(r["changed"][0]["order"], "O-1", "{r}");
        let p = &ctx.docs[&("promise".into(), "O-1".into())];
        assert_eq!(p["version"], 2);
        assert_eq!(p["lines"][0]["date"], json!(later));
        assert_eq!(ctx.outbound.len(), 2);
        assert_eq!(ctx.published.len(), 1);
        assert_eq!(ctx.published[0].0, PROMISE_CHANGED);
        // The same date again changes nothing and tells nobody.
        let r = slip(&mut ctx, "PO-000001", later).await.unwrap();
        assert_eq!(r["changed"], json!([]));
        assert_eq!(ctx.outbound.len(), 2);
        // Unknown PO: a clear refusal.
        let e = slip(&mut ctx, "PO-404", later).await.unwrap_err();
        assert!(e.to_string().contains("no purchase order 'PO-404'"), "{e}");
    }
}
