//! `fulfilment`: of the orders dated in the period (rejected ones left out), the quantity
//! ordered and shipped (fill rate), the orders shipped complete, the shipments made by the
//! promised date (`requested_date`, where the order has one), and the backorders (orders
//! shipped short: count and open quantity). By day/week/month/quarter of the order date,
//! customer or channel. Rates with nothing to count are n/a.

use super::{
    Cell, ChartKind, Dim, Failure, ORDER_WORKFLOW, Params, Period, Report, ReportError, add,
    percent, read,
};
use crate::store::Tx;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

const DIMS: [Dim; 6] = [
    Dim::Period(Period::Day),
    Dim::Period(Period::Week),
    Dim::Period(Period::Month),
    Dim::Period(Period::Quarter),
    Dim::Customer,
    Dim::Channel,
];

#[derive(Debug, Clone, Deserialize)]
pub struct Qty {
    pub quantity: Decimal,
}

/// What the report reads of an order.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderView {
    pub id: String,
    pub customer_id: String,
    pub order_date: NaiveDate,
    #[serde(default)]
    pub requested_date: Option<NaiveDate>,
    /// As `ordo_contract::Order::channel`: stored without one, the empty channel.
    #[serde(default)]
    pub channel: String,
    pub lines: Vec<Qty>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Package {
    pub lines: Vec<Qty>,
}

/// What the report reads of a shipment.
#[derive(Debug, Clone, Deserialize)]
pub struct ShipmentView {
    pub id: String,
    pub order_id: String,
    pub ship_date: NaiveDate,
    pub packages: Vec<Package>,
}

#[derive(Default)]
struct Acc {
    orders: usize,
    ordered: Decimal,
    shipped: Decimal,
    complete: usize,
    promised: usize,
    on_time: usize,
    backorders: usize,
    back_qty: Decimal,
}

/// The report over typed rows; `rejected` holds the ids of orders that ended rejected.
pub fn compute(
    params: &Params,
    orders: &[OrderView],
    shipments: &[ShipmentView],
    rejected: &HashSet<String>,
) -> Result<Report, ReportError> {
    let dims = params.dims(&DIMS, &[Dim::Period(Period::Month)])?;
    let mut cols: Vec<&str> = dims.iter().map(|d| d.name()).collect();
    let keys = cols.len();
    cols.extend([
        "orders",
        "ordered qty",
        "shipped qty",
        "fill rate %",
        "shipped complete",
        "order fill rate %",
        "shipments promised",
        "on time",
        "on-time %",
        "backorders",
        "backordered qty",
    ]);
    let mut rep = Report::new("fulfilment", "Fulfilment", params, &cols, keys);
    rep.by = dims.iter().map(|d| d.name().to_string()).collect();
    let mut by_order: HashMap<&str, Vec<&ShipmentView>> = HashMap::new();
    for s in shipments {
        by_order.entry(s.order_id.as_str()).or_default().push(s);
    }
    let mut groups: BTreeMap<Vec<String>, Acc> = BTreeMap::new();
    for o in orders
        .iter()
        .filter(|o| params.contains(o.order_date) && !rejected.contains(&o.id))
    {
        let at = format!("order '{}'", o.id);
        let key: Vec<String> = dims
            .iter()
            .map(|d| match d {
                Dim::Period(p) => p.key(o.order_date),
                Dim::Customer => o.customer_id.clone(),
                _ => o.channel.clone(),
            })
            .collect();
        let mut ordered = Decimal::ZERO;
        for l in &o.lines {
            ordered = add(ordered, l.quantity, &at)?;
        }
        let mut shipped = Decimal::ZERO;
        let a = groups.entry(key).or_default();
        for s in by_order.get(o.id.as_str()).into_iter().flatten() {
            for p in &s.packages {
                for l in &p.lines {
                    shipped = add(shipped, l.quantity, &format!("shipment '{}'", s.id))?;
                }
            }
            if let Some(promised) = o.requested_date {
                a.promised += 1;
                if s.ship_date <= promised {
                    a.on_time += 1;
                }
            }
        }
        a.orders += 1;
        a.ordered = add(a.ordered, ordered, &at)?;
        a.shipped = add(a.shipped, shipped, &at)?;
        if shipped >= ordered {
            a.complete += 1;
        } else {
            a.backorders += 1;
            a.back_qty = add(a.back_qty, ordered - shipped, &at)?;
        }
    }
    for (key, a) in groups {
        let mut row: Vec<Cell> = key.into_iter().map(Into::into).collect();
        row.extend([
            a.orders.into(),
            a.ordered.into(),
            a.shipped.into(),
            percent(a.shipped, a.ordered),
            a.complete.into(),
            percent(Decimal::from(a.complete), Decimal::from(a.orders)),
            a.promised.into(),
            a.on_time.into(),
            percent(Decimal::from(a.on_time), Decimal::from(a.promised)),
            a.backorders.into(),
            a.back_qty.into(),
        ]);
        rep.rows.push(row);
    }
    rep.chart("Fill rate %", ChartKind::Line, "fill rate %");
    rep.chart("Backorders", ChartKind::Bar, "backorders");
    rep.notes.push(
        "orders by order date, rejected ones left out; on time = shipped by the order's requested_date (orders without one are not counted there)"
            .into(),
    );
    Ok(rep)
}

pub async fn run(tx: &mut dyn Tx, params: &Params) -> Result<Report, Failure> {
    // A bounded period reads its orders through the order-date index (migration 0027) and
    // their shipments and instances by order id (migration 0041, the instances' unique key),
    // so it costs its own orders; the whole book reads every order.
    let bounded = params.from.is_some() || params.to.is_some();
    let docs = if bounded {
        let from = params.from.map(|d| d.to_string()).unwrap_or_default();
        let to = params
            .to
            .map(|d| d.to_string())
            .unwrap_or_else(|| "9999-12-31".into());
        tx.documents_between("order", "order_date", &from, &to)
            .await?
    } else {
        tx.get_documents("order", "").await?
    };
    let mut orders = Vec::new();
    for (k, v) in docs {
        let o: OrderView = read("order", &k, &v)?;
        if params.contains(o.order_date) {
            orders.push(o);
        }
    }
    let ids: Vec<String> = orders.iter().map(|o| o.id.clone()).collect();
    let (shipment_docs, instances) = if bounded {
        (
            tx.documents_where_in("shipment", "order_id", &ids).await?,
            tx.workflow_instances_of_keys(ORDER_WORKFLOW, &ids).await?,
        )
    } else {
        (
            tx.get_documents("shipment", "").await?,
            tx.workflow_instances(ORDER_WORKFLOW, i64::MIN, i64::MAX)
                .await?,
        )
    };
    let mut shipments = Vec::new();
    for (k, v) in shipment_docs {
        shipments.push(read::<ShipmentView>("shipment", &k, &v)?);
    }
    let rejected: HashSet<String> = instances
        .into_iter()
        .filter(|i| i.end_status.as_deref() == Some("rejected"))
        .map(|i| i.business_key)
        .collect();
    Ok(compute(params, &orders, &shipments, &rejected)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn order(id: &str, date: &str, promised: Option<&str>, qty: &[i64]) -> OrderView {
        serde_json::from_value(json!({ "id": id, "customer_id": "C", "order_date": date,
            "requested_date": promised, "channel": "api",
            "lines": qty.iter().map(|q| json!({ "quantity": q })).collect::<Vec<_>>() }))
        .unwrap()
    }

    fn ship(id: &str, order: &str, date: &str, qty: i64) -> ShipmentView {
        serde_json::from_value(json!({ "id": id, "order_id": order, "ship_date": date,
            "packages": [{ "lines": [{ "quantity": qty }] }] }))
        .unwrap()
    }

    #[test]
    fn fill_rate_on_time_and_backorders() {
        let orders = [
            order("A", "2026-03-01", Some("2026-03-05"), &[5, 5]),
            order("B", "2026-03-02", Some("2026-03-03"), &[10]),
            order("C", "2026-03-03", None, &[4]),
            order("R", "2026-03-03", None, &[100]),
        ];
        let shipments = [
            ship("S1", "A", "2026-03-04", 10),
            ship("S2", "B", "2026-03-04", 6),
            ship("S3", "C", "2026-03-09", 4),
        ];
        let rejected = HashSet::from(["R".to_string()]);
        let r = compute(&Params::default(), &orders, &shipments, &rejected).unwrap();
        assert_eq!(r.rows.len(), 1);
        let v = |c: &str| r.rows[0][r.column(c).unwrap()].clone();
        assert_eq!(v("orders"), 3usize.into());
        assert_eq!(v("fill rate %"), Cell::Num(Decimal::new(833, 1)));
        assert_eq!(v("on-time %"), Cell::Num(Decimal::new(500, 1)));
        assert_eq!(v("backorders"), 1usize.into());
        assert_eq!(v("backordered qty"), Cell::Num(Decimal::from(4)));
        let none = compute(&Params::default(), &orders[2..3], &[], &rejected).unwrap();
        assert_eq!(none.rows[0][none.column("on-time %").unwrap()], Cell::NA);
    }
}
