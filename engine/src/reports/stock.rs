//! `stock`: per item of the master data, on hand (every location but the ledger's counters and
//! `on-order`), on order (open purchase orders), shipped in the period (shipment documents),
//! turnover (shipped / on hand) and days of cover (on hand / shipped per day of the period).
//!
//! Reserved stock: `stock.allocate` takes what it reserves out of on hand at once (the order
//! ships it from its `to_ship`), so on hand is already net of reservations and no separate
//! reserved quantity is kept; the column shows n/a. Turnover and cover are n/a when nothing
//! shipped or nothing is on hand.

use super::{Cell, ChartKind, Failure, Params, Report, ReportError, add, ratio, read};
use crate::store::Tx;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The ledger's counters and the on-order quantities live in the stock table too.
const NOT_ON_HAND: [&str; 2] = ["ledger", "on-order"];

/// The report over typed rows: the items, the stock rows, and (date, sku, quantity) shipped.
pub fn compute(
    params: &Params,
    items: &[String],
    stock: &[(String, String, Decimal)],
    shipped: &[(NaiveDate, String, Decimal)],
    today: NaiveDate,
) -> Result<Report, ReportError> {
    params.dims(&[], &[])?;
    let mut rep = Report::new(
        "stock",
        "Stock",
        params,
        &[
            "item",
            "on hand",
            "reserved",
            "on order",
            "shipped",
            "turnover",
            "days of cover",
        ],
        1,
    );
    let mut on_hand: BTreeMap<&str, Decimal> = BTreeMap::new();
    let mut on_order: BTreeMap<&str, Decimal> = BTreeMap::new();
    for (item, loc, q) in stock {
        if loc == "on-order" {
            on_order.insert(item, *q);
        } else if !NOT_ON_HAND.contains(&loc.as_str()) {
            let e = on_hand.entry(item).or_default();
            *e = add(*e, *q, &format!("stock {item}@{loc}"))?;
        }
    }
    let mut out: BTreeMap<&str, Decimal> = BTreeMap::new();
    let mut first = None;
    for (d, sku, q) in shipped.iter().filter(|(d, ..)| params.contains(*d)) {
        first = first.min(Some(*d)).or(Some(*d));
        let e = out.entry(sku).or_default();
        *e = add(*e, *q, &format!("shipped {sku}"))?;
    }
    let start = params.from.or(first).unwrap_or(today);
    let end = params.to.unwrap_or(today);
    let days = Decimal::from(((end - start).num_days() + 1).max(1));
    for item in items {
        let oh = on_hand.get(item.as_str()).copied().unwrap_or_default();
        let s = out.get(item.as_str()).copied().unwrap_or_default();
        let per_day = ratio(s, days, 6).num().unwrap_or_default();
        rep.rows.push(vec![
            item.as_str().into(),
            oh.into(),
            Cell::NA,
            on_order
                .get(item.as_str())
                .copied()
                .unwrap_or_default()
                .into(),
            s.into(),
            ratio(s, oh, 4),
            ratio(oh, per_day, 1),
        ]);
    }
    rep.chart("On hand", ChartKind::Bar, "on hand");
    rep.chart("Shipped", ChartKind::Bar, "shipped");
    rep.notes.push(format!(
        "shipped {start} to {end} ({days} days); reserved is n/a: allocation takes stock out of on hand at once"
    ));
    Ok(rep)
}

pub async fn run(tx: &mut dyn Tx, params: &Params, today: NaiveDate) -> Result<Report, Failure> {
    let items = tx.list_documents("item", "").await?;
    let stock = tx.stock_rows().await?;
    let mut shipped = Vec::new();
    for (k, v) in tx.get_documents("shipment", "").await? {
        let s: super::fulfilment::ShipmentView = read("shipment", &k, &v)?;
        let lines: Vec<SkuQty> = v["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| p["lines"].as_array().into_iter().flatten())
            .map(|l| read::<SkuQty>("shipment", &k, l))
            .collect::<Result<_, _>>()?;
        for l in lines {
            shipped.push((s.ship_date, l.sku, l.quantity));
        }
    }
    Ok(compute(params, &items, &stock, &shipped, today)?)
}

#[derive(serde::Deserialize)]
struct SkuQty {
    sku: String,
    quantity: Decimal,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turnover_and_cover() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let items = vec!["A".to_string(), "B".to_string()];
        let stock = vec![
            ("A".into(), "main".into(), Decimal::from(100)),
            ("A".into(), "on-order".into(), Decimal::from(7)),
            ("ar:C1".into(), "ledger".into(), Decimal::from(5)),
        ];
        let shipped = vec![
            (d("2026-01-01"), "A".to_string(), Decimal::from(50)),
            (d("2026-01-10"), "A".to_string(), Decimal::from(50)),
        ];
        let p = Params::parse(Some("2026-01-01"), Some("2026-01-10"), None).unwrap();
        let r = compute(&p, &items, &stock, &shipped, d("2026-02-01")).unwrap();
        assert_eq!(
            r.rows[0][1..],
            [
                Cell::Num(Decimal::from(100)),
                Cell::NA,
                Cell::Num(Decimal::from(7)),
                Cell::Num(Decimal::from(100)),
                Cell::Num(Decimal::ONE),
                Cell::Num(Decimal::from(10))
            ]
        );
        // B: nothing on hand, nothing shipped: no ratio
        assert_eq!(
            (r.rows[1][5].clone(), r.rows[1][6].clone()),
            (Cell::NA, Cell::NA)
        );
    }
}
