//! `cycle-time`: order-to-ship, order-to-invoice, order-to-cash and the duration of each step,
//! median and 90th percentile, in hours of business time, over the orders (instances of
//! `order-to-cash`) started in the period, from their history.
//!
//! - a step's duration: from the event before its completion to its completion (a task's
//!   includes the wait for the person, a `wait:` the wait for its event);
//! - order-to-ship: start to the first completion of a step running `shipment.create`;
//! - order-to-invoice: start to the first completion of a step running `invoice.create`
//!   with an outcome other than `open` (`open` means no invoice yet);
//! - order-to-cash: start to the end, as `paid`, of the last collection instance of its
//!   invoices; an order with an invoice not paid yet is not counted.
//!
//! Median: the middle value (mean of the two middle ones); p90: the nearest-rank 90th
//! percentile. A measure with no order counted shows n/a.

use super::{
    COLLECTION_WORKFLOW, Cell, ChartKind, Failure, ORDER_WORKFLOW, Params, Report, ReportError,
};
use crate::runtime::defs::Definitions;
use crate::store::Tx;
use crate::store::reports::HistoryRow;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// The steps of the order workflow that ship and that invoice (by their connector).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Milestones {
    pub ship: Vec<String>,
    pub invoice: Vec<String>,
}

impl Milestones {
    pub fn of(defs: &Definitions) -> Milestones {
        use ordo_workflow::StepKind;
        let mut m = Milestones::default();
        if let Some(wf) = defs.latest.get(ORDER_WORKFLOW) {
            for s in &wf.steps {
                if let StepKind::Connector { connector } = &s.kind {
                    match connector.as_str() {
                        "shipment.create" => m.ship.push(s.name.clone()),
                        "invoice.create" => m.invoice.push(s.name.clone()),
                        _ => {}
                    }
                }
            }
        }
        m
    }
}

/// What the report reads of an invoice.
#[derive(Debug, Clone, Deserialize)]
pub struct InvoiceLink {
    pub number: String,
    pub order_id: String,
}

fn median(v: &[i64]) -> Option<Decimal> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    let m = if n % 2 == 1 {
        Decimal::from(v[n / 2])
    } else {
        (Decimal::from(v[n / 2 - 1]) + Decimal::from(v[n / 2])) / Decimal::TWO
    };
    Some(m)
}

fn p90(v: &[i64]) -> Option<Decimal> {
    let n = v.len();
    if n == 0 {
        return None;
    }
    // nearest rank: ceil(0.9 n), 1-based
    let rank = (9 * n).div_ceil(10).max(1);
    Some(Decimal::from(v[rank - 1]))
}

fn hours(ms: Option<Decimal>) -> Cell {
    ms.map(|m| Cell::Num((m / Decimal::from(3_600_000)).round_dp(2)))
        .unwrap_or(Cell::NA)
}

/// The report over typed rows: the orders' history (by instance, by sequence), the
/// collection instances' history, and which order each invoice belongs to.
pub fn compute(
    params: &Params,
    orders: &[HistoryRow],
    collections: &[HistoryRow],
    invoices: &[InvoiceLink],
    m: &Milestones,
) -> Result<Report, ReportError> {
    params.dims(&[], &[])?;
    let mut rep = Report::new(
        "cycle-time",
        "Order cycle time (hours)",
        params,
        &["measure", "orders", "median h", "p90 h"],
        1,
    );
    // invoice → when its collection ended paid
    let mut paid_at: HashMap<&str, i64> = HashMap::new();
    for h in collections {
        if h.kind == "ended" && h.step == "paid" {
            paid_at.insert(h.business_key.as_str(), h.at);
        }
    }
    let mut invoices_of: HashMap<&str, Vec<&str>> = HashMap::new();
    for i in invoices {
        invoices_of
            .entry(i.order_id.as_str())
            .or_default()
            .push(i.number.as_str());
    }
    let mut ship = Vec::new();
    let mut invoice = Vec::new();
    let mut cash = Vec::new();
    let mut steps: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    let mut i = 0;
    while i < orders.len() {
        let id = &orders[i].instance_id;
        let mut j = i;
        while j < orders.len() && &orders[j].instance_id == id {
            j += 1;
        }
        let events = &orders[i..j];
        i = j;
        let Some(start) = events.iter().find(|e| e.kind == "started").map(|e| e.at) else {
            continue;
        };
        let mut shipped = None;
        let mut invoiced = None;
        for w in 1..events.len() {
            let e = &events[w];
            if e.kind != "step.completed" {
                continue;
            }
            steps
                .entry(e.step.as_str())
                .or_default()
                .push((e.at - events[w - 1].at).max(0));
            if shipped.is_none() && m.ship.contains(&e.step) {
                shipped = Some(e.at);
            }
            if invoiced.is_none()
                && m.invoice.contains(&e.step)
                && e.outcome.as_deref() != Some("open")
            {
                invoiced = Some(e.at);
            }
        }
        if let Some(t) = shipped {
            ship.push((t - start).max(0));
        }
        if let Some(t) = invoiced {
            invoice.push((t - start).max(0));
        }
        if let Some(list) = invoices_of.get(events[0].business_key.as_str()) {
            let paid: Option<Vec<i64>> = list.iter().map(|n| paid_at.get(n).copied()).collect();
            if let Some(last) = paid.and_then(|p| p.into_iter().max()) {
                cash.push((last - start).max(0));
            }
        }
    }
    let push = |rep: &mut Report, name: String, mut v: Vec<i64>| {
        v.sort_unstable();
        rep.rows.push(vec![
            name.into(),
            v.len().into(),
            hours(median(&v)),
            hours(p90(&v)),
        ]);
    };
    push(&mut rep, "order-to-ship".into(), ship);
    push(&mut rep, "order-to-invoice".into(), invoice);
    push(&mut rep, "order-to-cash".into(), cash);
    for (s, v) in steps {
        push(&mut rep, format!("step {s}"), v);
    }
    if rep.rows.iter().all(|r| r[1] == Cell::Num(Decimal::ZERO)) {
        rep.rows.clear();
    }
    rep.chart("Median (hours)", ChartKind::Bar, "median h");
    rep.chart("90th percentile (hours)", ChartKind::Bar, "p90 h");
    rep.notes.push(format!(
        "orders of workflow {ORDER_WORKFLOW} started in the period; ship steps {:?}, invoice steps {:?}; cash = its invoices' {COLLECTION_WORKFLOW} ended paid",
        m.ship, m.invoice
    ));
    Ok(rep)
}

pub async fn run(tx: &mut dyn Tx, params: &Params, m: &Milestones) -> Result<Report, Failure> {
    let (from, to) = params.millis();
    let orders = tx.workflow_history(ORDER_WORKFLOW, from, to).await?;
    // Only the period's orders' invoices and their collections are read, through indexes
    // (an invoice's order_id, migration 0041; an instance's workflow and key), so a period
    // costs its own orders, not the book.
    let mut keys: Vec<String> = orders.iter().map(|h| h.business_key.clone()).collect();
    keys.dedup();
    // (invoice number, order) from the index alone: an invoice is stored under its number
    let invoices: Vec<InvoiceLink> = tx
        .ids_where_in("invoice", "order_id", &keys)
        .await?
        .into_iter()
        .map(|(number, order_id)| InvoiceLink { number, order_id })
        .collect();
    let numbers: Vec<String> = invoices.iter().map(|i| i.number.clone()).collect();
    let collections = tx
        .workflow_history_of_keys(COLLECTION_WORKFLOW, &numbers)
        .await?;
    Ok(compute(params, &orders, &collections, &invoices, m)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(
        inst: &str,
        key: &str,
        seq: i64,
        at_h: i64,
        kind: &str,
        step: &str,
        outcome: Option<&str>,
    ) -> HistoryRow {
        HistoryRow {
            instance_id: inst.into(),
            business_key: key.into(),
            seq,
            at: at_h * 3_600_000,
            kind: kind.into(),
            step: step.into(),
            outcome: outcome.map(str::to_string),
        }
    }

    #[test]
    fn medians_and_p90_per_milestone_and_step() {
        let m = Milestones {
            ship: vec!["ship".into()],
            invoice: vec!["invoice".into()],
        };
        let mut orders = Vec::new();
        for (n, ship_h) in [(1, 2), (2, 4), (3, 10)] {
            let id = format!("i{n}");
            let key = format!("O{n}");
            orders.push(ev(&id, &key, 1, 0, "started", "validate", None));
            orders.push(ev(
                &id,
                &key,
                2,
                1,
                "step.completed",
                "validate",
                Some("ok"),
            ));
            orders.push(ev(
                &id,
                &key,
                3,
                ship_h,
                "step.completed",
                "ship",
                Some("shipped"),
            ));
            orders.push(ev(
                &id,
                &key,
                4,
                ship_h,
                "step.completed",
                "invoice",
                Some("complete"),
            ));
        }
        let collections = vec![ev("c1", "INV-1", 5, 50, "ended", "paid", Some("paid"))];
        let invoices = vec![
            InvoiceLink {
                number: "INV-1".into(),
                order_id: "O1".into(),
            },
            InvoiceLink {
                number: "INV-2".into(),
                order_id: "O2".into(),
            },
        ];
        let r = compute(&Params::default(), &orders, &collections, &invoices, &m).unwrap();
        let row = |name: &str| r.rows.iter().find(|x| x[0] == name.into()).unwrap().clone();
        let h = |x: i64| Cell::Num(Decimal::from(x));
        assert_eq!(row("order-to-ship")[2..], [h(4), h(10)]);
        assert_eq!(row("order-to-invoice")[1], 3usize.into());
        // only O1 is paid; O2's invoice is open and O3 has none
        assert_eq!(row("order-to-cash")[1..], [1usize.into(), h(50), h(50)]);
        assert_eq!(row("step validate")[2], h(1));
        assert!(
            compute(&Params::default(), &[], &[], &[], &m)
                .unwrap()
                .rows
                .is_empty()
        );
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(p90(&v), Some(Decimal::from(9)));
        assert_eq!(median(&v), Some(Decimal::new(55, 1)));
        assert_eq!(p90(&[7]), Some(Decimal::from(7)));
        assert_eq!(median(&[]), None);
    }
}
