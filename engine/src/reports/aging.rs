//! `aging`: receivables by bucket, per currency — `crate::receivables::aging` itself (the
//! Finance page's aging), on `--to` or today. `--from` is refused: an aging is taken on a day.

use super::{ChartKind, Failure, Params, Report, ReportError};
use crate::receivables::{BUCKETS, aging_in};
use crate::store::Tx;
use chrono::NaiveDate;

pub async fn run(tx: &mut dyn Tx, params: &Params, today: NaiveDate) -> Result<Report, Failure> {
    if params.from.is_some() {
        return Err(
            ReportError::new("from", "an aging is taken on one day: give --to only").into(),
        );
    }
    params.dims(&[], &[])?;
    let on = params.to.unwrap_or(today);
    let rows = aging_in(tx, on)
        .await?
        .map_err(|e| ReportError::new("invoice", e))?;
    let mut cols = vec!["currency"];
    cols.extend(BUCKETS);
    cols.extend(["total", "invoices"]);
    let mut rep = Report::new("aging", "Receivables aging", params, &cols, 1);
    for r in rows {
        let mut row = vec![r.currency.into()];
        row.extend(r.buckets.iter().map(|b| (*b).into()));
        row.push(r.total.into());
        row.push(r.invoices.into());
        rep.rows.push(row);
    }
    rep.chart("Open receivables", ChartKind::Bar, "total");
    rep.notes.push(format!("on {on}; days past the due date"));
    Ok(rep)
}
