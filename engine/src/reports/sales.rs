//! `sales`: net revenue, quantity, orders and gross margin of the invoices issued in the
//! period, by day/week/month/quarter and by customer, item, item group, channel and partner.
//!
//! Revenue is the invoices' net (before tax), line by line, so the report of a period adds up
//! to the `net_total` of that period's invoices to the cent (`tie_out` below, and the tie-out
//! tests on both backends). Cost is the item's `cost` in the master data; margin counts only
//! the lines whose item has a cost (`costed net` shows how much revenue that is), and is n/a
//! where no line has one. The currency is always a key: amounts in different currencies are
//! never added.

use super::{ChartKind, Dim, Failure, Params, Period, Report, ReportError, add, percent, read};
use crate::store::Tx;
use ordo_contract::Invoice;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Every dimension but the reconciliation's (statement, rule), which come last.
const DIMS: &[Dim] = Dim::ALL.split_at(9).0;

/// What the report reads of an item (other fields ignored).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ItemFacts {
    #[serde(default)]
    pub cost: Option<Decimal>,
    #[serde(default)]
    pub group: Option<String>,
}

/// What the report reads of an order.
#[derive(Debug, Clone, Deserialize)]
pub struct OrderFacts {
    pub channel: String,
    #[serde(default)]
    pub partner: Option<String>,
}

#[derive(Default)]
struct Acc {
    net: Decimal,
    quantity: Decimal,
    orders: BTreeSet<String>,
    invoices: BTreeSet<String>,
    costed_net: Decimal,
    cost: Decimal,
    costed: bool,
}

/// The report over typed rows: invoices of any date (those outside the period are left out),
/// the items and orders they name.
pub fn compute(
    params: &Params,
    invoices: &[Invoice],
    items: &HashMap<String, ItemFacts>,
    orders: &HashMap<String, OrderFacts>,
) -> Result<Report, ReportError> {
    let dims = params.dims(DIMS, &[Dim::Period(Period::Month)])?;
    let mut cols: Vec<&str> = vec!["currency"];
    cols.extend(dims.iter().map(|d| d.name()));
    let keys = cols.len();
    cols.extend([
        "net revenue",
        "quantity",
        "orders",
        "invoices",
        "costed net",
        "cost",
        "gross margin",
        "margin %",
    ]);
    let mut rep = Report::new("sales", "Sales", params, &cols, keys);
    rep.by = dims.iter().map(|d| d.name().to_string()).collect();
    let mut groups: BTreeMap<Vec<String>, Acc> = BTreeMap::new();
    let none = || "(none)".to_string();
    for inv in invoices.iter().filter(|i| params.contains(i.issue_date)) {
        let order = orders.get(&inv.order_id);
        for line in &inv.lines {
            let item = items.get(&line.sku);
            let mut key = vec![inv.currency.clone()];
            for d in &dims {
                key.push(match d {
                    Dim::Period(p) => p.key(inv.issue_date),
                    Dim::Customer => inv.customer_id.clone(),
                    Dim::Item => line.sku.clone(),
                    Dim::ItemGroup => item.and_then(|i| i.group.clone()).unwrap_or_else(none),
                    Dim::Channel => match order {
                        Some(o) => o.channel.clone(),
                        None => {
                            return Err(ReportError::new(
                                format!("invoice '{}'", inv.number),
                                format!("order_id: no stored order '{}'", inv.order_id),
                            ));
                        }
                    },
                    // `dims` allowed only DIMS: the last one is the partner
                    _ => order.and_then(|o| o.partner.clone()).unwrap_or_else(none),
                });
            }
            let at = format!("invoice '{}' line {}", inv.number, line.line_no);
            let acc = groups.entry(key).or_default();
            acc.net = add(acc.net, line.net_amount, &at)?;
            acc.quantity = add(acc.quantity, line.quantity, &at)?;
            acc.orders.insert(inv.order_id.clone());
            acc.invoices.insert(inv.number.clone());
            if let Some(cost) = item.and_then(|i| i.cost) {
                let c = cost
                    .checked_mul(line.quantity)
                    .ok_or_else(|| ReportError::new(&at, "cost × quantity overflows"))?;
                acc.cost = add(acc.cost, c, &at)?;
                acc.costed_net = add(acc.costed_net, line.net_amount, &at)?;
                acc.costed = true;
            }
        }
    }
    for (key, a) in groups {
        let mut row: Vec<super::Cell> = key.into_iter().map(Into::into).collect();
        let margin = if a.costed {
            Some(
                a.costed_net
                    .checked_sub(a.cost)
                    .ok_or_else(|| ReportError::new("gross margin", "overflows"))?,
            )
        } else {
            None
        };
        row.extend([
            a.net.into(),
            a.quantity.into(),
            a.orders.len().into(),
            a.invoices.len().into(),
            a.costed_net.into(),
            if a.costed {
                a.cost.into()
            } else {
                super::Cell::NA
            },
            margin.into(),
            match margin {
                Some(m) => percent(m, a.costed_net),
                None => super::Cell::NA,
            },
        ]);
        rep.rows.push(row);
    }
    rep.chart("Net revenue", ChartKind::Bar, "net revenue");
    rep.chart("Orders", ChartKind::Bar, "orders");
    rep.notes.push(
        "net revenue: invoice lines before tax, by issue date; gross margin counts the lines \
         whose item has a cost (costed net), n/a where none has"
            .into(),
    );
    Ok(rep)
}

/// Σ `net_total` per currency of the invoices issued in the period: what the report must add
/// up to.
pub fn tie_out(
    params: &Params,
    invoices: &[Invoice],
) -> Result<BTreeMap<String, Decimal>, ReportError> {
    let mut out: BTreeMap<String, Decimal> = BTreeMap::new();
    for inv in invoices.iter().filter(|i| params.contains(i.issue_date)) {
        let t = out.entry(inv.currency.clone()).or_default();
        *t = add(*t, inv.net_total, &format!("invoice '{}'", inv.number))?;
    }
    Ok(out)
}

/// The stored invoices, typed (a missing field is an error naming the invoice).
pub async fn invoices(tx: &mut dyn Tx) -> Result<Vec<Invoice>, Failure> {
    let docs = tx.get_documents("invoice", "").await?;
    let mut out = Vec::with_capacity(docs.len());
    for (k, v) in &docs {
        out.push(read::<Invoice>("invoice", k, v)?);
    }
    Ok(out)
}

pub async fn run(tx: &mut dyn Tx, params: &Params) -> Result<Report, Failure> {
    let invoices = invoices(tx).await?;
    let mut items = HashMap::new();
    for (k, v) in tx.get_documents("item", "").await? {
        let f: ItemFacts = read("item", &k, &v)?;
        items.insert(k, f);
    }
    let ids: BTreeSet<&str> = invoices
        .iter()
        .filter(|i| params.contains(i.issue_date))
        .map(|i| i.order_id.as_str())
        .collect();
    let ids: Vec<&str> = ids.into_iter().collect();
    let mut orders = HashMap::new();
    for (k, v) in tx.get_documents_by_id("order", &ids).await? {
        let f: OrderFacts = read("order", &k, &v)?;
        orders.insert(k, f);
    }
    Ok(compute(params, &invoices, &items, &orders)?)
}

/// Items and orders as the report reads them, for the tests of other modules.
#[cfg(test)]
pub fn facts(v: &serde_json::Value) -> ItemFacts {
    serde_json::from_value(v.clone()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;
    use serde_json::{Value, json};

    fn inv(
        number: &str,
        order: &str,
        customer: &str,
        date: &str,
        lines: &[(&str, &str, &str)],
    ) -> Invoice {
        let lines: Vec<Value> = lines
            .iter()
            .enumerate()
            .map(|(i, (sku, q, net))| json!({ "line_no": i + 1, "sku": sku, "quantity": q.parse::<Decimal>().unwrap(),
                "uom": "EA", "unit_price": 1, "net_amount": net.parse::<Decimal>().unwrap(), "tax_rate": 0, "tax_amount": 0 }))
            .collect();
        let net: Decimal = lines
            .iter()
            .map(|l| l["net_amount"].to_string().parse::<Decimal>().unwrap())
            .sum();
        serde_json::from_value(
            json!({ "number": number, "order_id": order, "customer_id": customer,
            "issue_date": date, "due_date": date, "currency": "EUR",
            "terms": { "net_days": 30, "discount_percent": 0, "discount_days": 0 }, "lines": lines,
            "net_total": net, "tax_total": 0, "total": net }),
        )
        .unwrap()
    }

    fn book() -> (
        Vec<Invoice>,
        HashMap<String, ItemFacts>,
        HashMap<String, OrderFacts>,
    ) {
        let invoices = vec![
            inv(
                "I1",
                "O1",
                "C1",
                "2026-01-05",
                &[("A", "2", "20.10"), ("B", "1", "5.01")],
            ),
            inv("I2", "O2", "C2", "2026-01-31", &[("A", "1", "10.05")]),
            inv("I3", "O2", "C2", "2026-02-01", &[("B", "3", "15.03")]),
        ];
        let items = HashMap::from([
            (
                "A".to_string(),
                facts(&json!({ "cost": 4, "group": "tools" })),
            ),
            ("B".to_string(), facts(&json!({}))),
        ]);
        let orders = HashMap::from([
            (
                "O1".to_string(),
                OrderFacts {
                    channel: "api".into(),
                    partner: None,
                },
            ),
            (
                "O2".to_string(),
                OrderFacts {
                    channel: "edi".into(),
                    partner: Some("ACME".into()),
                },
            ),
        ]);
        (invoices, items, orders)
    }

    #[test]
    fn months_add_up_to_the_invoices_and_margin_counts_costed_lines() {
        let (invoices, items, orders) = book();
        let p = Params::default();
        let r = compute(&p, &invoices, &items, &orders).unwrap();
        assert_eq!(r.rows.len(), 2);
        let net = r.column("net revenue").unwrap();
        assert_eq!(r.rows[0][1], "2026-01".into());
        assert_eq!(r.rows[0][net], dec!(35.16).into());
        assert_eq!(r.rows[0][r.column("orders").unwrap()], 2usize.into());
        // A: 3 units at cost 4 against 30.15 of costed net
        assert_eq!(
            r.rows[0][r.column("gross margin").unwrap()],
            dec!(18.15).into()
        );
        assert_eq!(
            r.rows[1][r.column("gross margin").unwrap()],
            super::super::Cell::NA
        );
        let total: Decimal = r.rows.iter().map(|row| row[net].num().unwrap()).sum();
        assert_eq!(total, tie_out(&p, &invoices).unwrap()["EUR"]);
    }

    #[test]
    fn by_channel_partner_and_group_within_a_period() {
        let (invoices, items, orders) = book();
        let p = Params::parse(
            Some("2026-01-10"),
            Some("2026-02-28"),
            Some("channel,partner,item-group"),
        )
        .unwrap();
        let r = compute(&p, &invoices, &items, &orders).unwrap();
        let labels: Vec<String> = r.rows.iter().map(|row| r.label(row)).collect();
        assert_eq!(
            labels,
            ["EUR · edi · ACME · (none)", "EUR · edi · ACME · tools"]
        );
        assert_eq!(tie_out(&p, &invoices).unwrap()["EUR"], dec!(25.08));
    }

    #[test]
    fn an_empty_period_is_no_rows_and_a_lost_order_is_named() {
        let (invoices, items, mut orders) = book();
        let p = Params::parse(Some("2030-01-01"), None, None).unwrap();
        assert!(
            compute(&p, &invoices, &items, &orders)
                .unwrap()
                .rows
                .is_empty()
        );
        orders.remove("O1");
        let p = Params::parse(None, None, Some("channel")).unwrap();
        let e = compute(&p, &invoices, &items, &orders).unwrap_err();
        assert!(e.at.contains("I1") && e.message.contains("O1"), "{e}");
    }
}
