//! `dso`: days sales outstanding per month and currency: the receivables open at the month's
//! end divided by the month's invoiced total (gross), times the days of the month. n/a in a
//! month without sales.
//!
//! Open at a day = Σ over invoices issued by then of (total − what their payments received by
//! then settled: applied + discount + written off); after its last payment, its open amount.

use super::{ChartKind, Dim, Failure, Params, Period, Report, ReportError, add, ratio};
use crate::store::Tx;
use chrono::{Datelike, NaiveDate};
use ordo_contract::InvoiceCollection;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

fn month_end(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|n| n.pred_opt())
        .unwrap_or(d)
}

/// One invoice's effect on the report, day by day: at each day where what it leaves open
/// changes (its issue day, then each later payment's day), the change of its open amount
/// (clamped at zero, as the report counts it), and at its issue day its total. Summed per
/// currency and month by the store (`dso_moves`, migration 0042), the open amount at a month's
/// end is the running sum of the changes up to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub day: NaiveDate,
    pub open: Decimal,
    pub invoiced: Decimal,
    /// 1 on the issue day's move (the invoices issued, to find the first month).
    pub issues: i64,
}

/// The moves of `inv` (see [`Move`]): the open amount on a day `d` from its issue on is
/// total − what its payments received by `d` settled (applied + discount + written off) while
/// a payment is still to come after `d`; after its last payment, its open amount as stored
/// (which includes differences written off on the invoice itself); never below zero.
pub fn moves(inv: &InvoiceCollection) -> Result<Vec<Move>, ReportError> {
    let at = format!("invoice '{}'", inv.number);
    let mut days: Vec<NaiveDate> = vec![inv.issue_date];
    days.extend(
        inv.payments
            .iter()
            .map(|p| p.received_on)
            .filter(|d| *d > inv.issue_date),
    );
    days.sort();
    days.dedup();
    let mut out = Vec::with_capacity(days.len());
    let mut before = Decimal::ZERO;
    for (i, &day) in days.iter().enumerate() {
        let mut settled = Decimal::ZERO;
        let mut later = false;
        for p in &inv.payments {
            if p.received_on <= day {
                settled = add(settled, p.applied, &at)?;
                settled = add(settled, p.discount, &at)?;
                settled = add(settled, p.written_off, &at)?;
            } else {
                later = true;
            }
        }
        let o = if later {
            inv.total.checked_sub(settled).unwrap_or(Decimal::ZERO)
        } else {
            inv.open_amount
        };
        let o = o.max(Decimal::ZERO);
        let change = o
            .checked_sub(before)
            .ok_or_else(|| ReportError::new(at.clone(), "the open amount overflows"))?;
        before = o;
        let issue = i == 0;
        if issue || !change.is_zero() {
            out.push(Move {
                day,
                open: change,
                invoiced: if issue { inv.total } else { Decimal::ZERO },
                issues: issue as i64,
            });
        }
    }
    Ok(out)
}

/// Per currency and month (its first day): the sum of the moves (open change, invoiced,
/// invoices issued).
pub type MonthSums = BTreeMap<(String, NaiveDate), (Decimal, Decimal, i64)>;

/// Adds `inv`'s moves to `sums`.
pub fn add_moves(sums: &mut MonthSums, inv: &InvoiceCollection) -> Result<(), ReportError> {
    let at = format!("invoice '{}'", inv.number);
    for m in moves(inv)? {
        let key = (inv.currency.clone(), month_start(m.day));
        let e = sums.entry(key).or_insert((Decimal::ZERO, Decimal::ZERO, 0));
        e.0 = add(e.0, m.open, &at)?;
        e.1 = add(e.1, m.invoiced, &at)?;
        e.2 += m.issues;
    }
    Ok(())
}

pub fn month_start(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap_or(d)
}

/// The report over typed invoices (the moves summed in memory).
pub fn compute(
    params: &Params,
    invoices: &[InvoiceCollection],
    today: NaiveDate,
) -> Result<Report, ReportError> {
    let mut sums = MonthSums::new();
    for inv in invoices {
        add_moves(&mut sums, inv)?;
    }
    compute_months(params, &sums, today)
}

/// The report over the moves summed per currency and month; months from `--from` (or the first
/// invoice's) to `--to` (or today).
pub fn compute_months(
    params: &Params,
    sums: &MonthSums,
    today: NaiveDate,
) -> Result<Report, ReportError> {
    params.dims(&[Dim::Period(Period::Month)], &[])?;
    let mut rep = Report::new(
        "dso",
        "Days sales outstanding",
        params,
        &[
            "currency",
            "month",
            "invoiced",
            "open at month end",
            "days",
            "dso",
        ],
        2,
    );
    rep.by = vec!["month".into()];
    let Some(first) = params.from.or_else(|| {
        sums.iter()
            .filter(|(_, v)| v.2 > 0)
            .map(|((_, m), _)| *m)
            .min()
    }) else {
        return Ok(rep);
    };
    let last = params.to.unwrap_or(today);
    let currencies: std::collections::BTreeSet<&str> =
        sums.keys().map(|(c, _)| c.as_str()).collect();
    let mut months = Vec::new();
    let mut m = month_start(first);
    while m <= last && months.len() < 1200 {
        months.push(m);
        m = month_end(m).succ_opt().unwrap_or(NaiveDate::MAX);
    }
    for cur in currencies {
        let at = format!("currency {cur}");
        // the running open amount: every change of a month before the first shown counts
        let mut open = Decimal::ZERO;
        let mut rows = sums
            .range((cur.to_string(), NaiveDate::MIN)..=(cur.to_string(), NaiveDate::MAX))
            .peekable();
        for &start in &months {
            let mut invoiced = Decimal::ZERO;
            while let Some(((_, mo), (o, inv, _))) = rows.peek() {
                if *mo > start {
                    break;
                }
                open = add(open, *o, &at)?;
                if *mo == start {
                    invoiced = *inv;
                }
                rows.next();
            }
            let end = month_end(start);
            let days = Decimal::from(end.day());
            let dso = match ratio(open, invoiced, 6) {
                super::Cell::Num(r) => super::Cell::Num((r * days).round_dp(1)),
                c => c,
            };
            rep.rows.push(vec![
                cur.into(),
                Period::Month.key(start).into(),
                invoiced.into(),
                open.into(),
                days.into(),
                dso,
            ]);
        }
    }
    rep.chart("DSO (days)", ChartKind::Line, "dso");
    rep.notes.push(
        "dso = open receivables at month end / invoiced (gross) in the month × days of the month; n/a without sales"
            .into(),
    );
    Ok(rep)
}

/// From the store's per-invoice moves (`dso_moves`, migration 0042), summed in SQL per
/// currency and month: its cost is one index scan, its rows the months.
pub async fn run(tx: &mut dyn Tx, params: &Params, today: NaiveDate) -> Result<Report, Failure> {
    let sums = tx
        .dso_sums()
        .await?
        .map_err(|e| ReportError::new("invoice", e))?;
    Ok(compute_months(params, &sums, today)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inv(n: &str, issued: &str, total: i64, paid_on: Option<&str>) -> InvoiceCollection {
        let open = if paid_on.is_some() { 0 } else { total };
        let payments = match paid_on {
            Some(d) => json!([{ "id": "P", "amount": total, "received_on": d, "applied": total,
                                "discount": 0, "written_off": 0, "credit": 0, "reference": null }]),
            None => json!([]),
        };
        serde_json::from_value(json!({ "number": n, "customer_id": "C", "currency": "EUR",
            "total": total, "issue_date": issued, "due_date": issued,
            "terms": { "net_days": 30, "discount_percent": 0, "discount_days": 0 },
            "status": "open", "open_amount": open, "paid_amount": 0, "discount_amount": 0,
            "discount_until": null, "discount_taken": 0, "payments": payments,
            "dunning_level": 0, "overdue": false }))
        .unwrap()
    }

    #[test]
    fn dso_per_month_and_na_without_sales() {
        let invs = [
            inv("A", "2026-01-10", 300, Some("2026-02-05")),
            inv("B", "2026-01-20", 100, None),
        ];
        let today = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let r = compute(&Params::default(), &invs, today).unwrap();
        let dso = r.column("dso").unwrap();
        // January: 400 open of 400 invoiced over 31 days
        assert_eq!(r.rows[0][dso], Decimal::from(31).into());
        // February: 100 open, nothing invoiced
        assert_eq!(
            r.rows[1][r.column("open at month end").unwrap()],
            Decimal::from(100).into()
        );
        assert_eq!(r.rows[1][dso], super::super::Cell::NA);
        assert_eq!(r.rows.len(), 3);
        assert!(
            compute(&Params::default(), &[], today)
                .unwrap()
                .rows
                .is_empty()
        );
    }
}
