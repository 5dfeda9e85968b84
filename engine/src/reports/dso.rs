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

/// The report over typed invoices; months from `--from` (or the first invoice) to `--to` (or
/// today).
pub fn compute(
    params: &Params,
    invoices: &[InvoiceCollection],
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
    let Some(first) = params
        .from
        .or_else(|| invoices.iter().map(|i| i.issue_date).min())
    else {
        return Ok(rep);
    };
    let last = params.to.unwrap_or(today);
    let currencies: std::collections::BTreeSet<&str> =
        invoices.iter().map(|i| i.currency.as_str()).collect();
    let mut months = Vec::new();
    let mut m = NaiveDate::from_ymd_opt(first.year(), first.month(), 1).unwrap_or(first);
    while m <= last && months.len() < 1200 {
        months.push(m);
        m = month_end(m).succ_opt().unwrap_or(NaiveDate::MAX);
    }
    for cur in currencies {
        let mut sales: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
        for inv in invoices.iter().filter(|i| i.currency == cur) {
            let k = NaiveDate::from_ymd_opt(inv.issue_date.year(), inv.issue_date.month(), 1)
                .unwrap_or(inv.issue_date);
            let s = sales.entry(k).or_default();
            *s = add(*s, inv.total, &format!("invoice '{}'", inv.number))?;
        }
        for &start in &months {
            let end = month_end(start);
            let mut open = Decimal::ZERO;
            for inv in invoices
                .iter()
                .filter(|i| i.currency == cur && i.issue_date <= end)
            {
                let at = format!("invoice '{}'", inv.number);
                let mut settled = Decimal::ZERO;
                let mut later = false;
                for p in &inv.payments {
                    if p.received_on <= end {
                        settled = add(settled, p.applied, &at)?;
                        settled = add(settled, p.discount, &at)?;
                        settled = add(settled, p.written_off, &at)?;
                    } else {
                        later = true;
                    }
                }
                // with no payment after the day, what is open then is what is open now (it
                // includes differences written off on the invoice itself)
                let o = if later {
                    inv.total.checked_sub(settled).unwrap_or(Decimal::ZERO)
                } else {
                    inv.open_amount
                };
                if o > Decimal::ZERO {
                    open = add(open, o, &at)?;
                }
            }
            let invoiced = sales.get(&start).copied().unwrap_or(Decimal::ZERO);
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

pub async fn run(tx: &mut dyn Tx, params: &Params, today: NaiveDate) -> Result<Report, Failure> {
    let mut invoices = Vec::new();
    for (k, v) in tx.get_documents("invoice", "").await? {
        invoices.push(super::read::<InvoiceCollection>("invoice", &k, &v)?);
    }
    Ok(compute(params, &invoices, today)?)
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
