//! `recon`: bank reconciliation of the statements reconciled in the period, `--by statement`
//! (default: payments, matched automatically, partially, sent to the exceptions queue, the
//! auto-match rate, and the exceptions opened, closed and still open) or `--by rule` (the
//! payments each matching rule matched, and its share of all payments). The figures are the
//! statements' own reports (`bank_report`), written when each statement was reconciled.

use super::{Cell, ChartKind, Dim, Failure, Params, Report, ReportError, percent, read};
use crate::store::Tx;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
pub struct Figures {
    pub payments: u64,
    pub matched: u64,
    pub partially_matched: u64,
    pub exceptions: u64,
    #[serde(default)]
    pub by_rule: BTreeMap<String, u64>,
}

/// What the report reads of a statement's report.
#[derive(Debug, Clone, Deserialize)]
pub struct StatementReport {
    pub statement_id: String,
    pub account: String,
    pub reconciled_at: String,
    pub report: Figures,
}

/// What the report reads of an exception.
#[derive(Debug, Clone, Deserialize)]
pub struct ExceptionView {
    pub statement_id: String,
    pub status: String,
}

pub fn compute(
    params: &Params,
    reports: &[StatementReport],
    exceptions: &[ExceptionView],
) -> Result<Report, ReportError> {
    let dims = params.dims(&[Dim::Statement, Dim::Rule], &[Dim::Statement])?;
    let mut chosen = Vec::new();
    for r in reports {
        if params.contains(super::day(
            &r.reconciled_at,
            &format!("bank_report '{}': reconciled_at", r.statement_id),
        )?) {
            chosen.push(r);
        }
    }
    if dims.contains(&Dim::Rule) {
        let mut rep = Report::new(
            "recon",
            "Reconciliation by rule",
            params,
            &["rule", "payments matched", "share %"],
            1,
        );
        rep.by = vec!["rule".into()];
        let total: u64 = chosen.iter().map(|r| r.report.payments).sum();
        let mut rules: BTreeMap<&str, u64> = BTreeMap::new();
        for r in &chosen {
            for (k, n) in &r.report.by_rule {
                *rules.entry(k).or_default() += n;
            }
            *rules.entry("(exceptions queue)").or_default() += r.report.exceptions;
        }
        for (k, n) in rules {
            rep.rows.push(vec![
                k.into(),
                Cell::Num(n.into()),
                percent(n.into(), total.into()),
            ]);
        }
        rep.chart(
            "Payments matched per rule",
            ChartKind::Bar,
            "payments matched",
        );
        return Ok(rep);
    }
    let mut rep = Report::new(
        "recon",
        "Reconciliation by statement",
        params,
        &[
            "statement",
            "account",
            "payments",
            "matched",
            "partially matched",
            "exceptions",
            "auto-match %",
            "exceptions open",
            "exceptions closed",
        ],
        2,
    );
    rep.by = vec!["statement".into()];
    for r in chosen {
        let f = &r.report;
        let (open, closed) = exceptions
            .iter()
            .filter(|e| e.statement_id == r.statement_id)
            .fold((0u64, 0u64), |(o, c), e| {
                if e.status == "open" {
                    (o + 1, c)
                } else {
                    (o, c + 1)
                }
            });
        rep.rows.push(vec![
            r.statement_id.as_str().into(),
            r.account.as_str().into(),
            Cell::Num(f.payments.into()),
            Cell::Num(f.matched.into()),
            Cell::Num(f.partially_matched.into()),
            Cell::Num(f.exceptions.into()),
            percent(Decimal::from(f.matched), Decimal::from(f.payments)),
            Cell::Num(open.into()),
            Cell::Num(closed.into()),
        ]);
    }
    rep.chart(
        "Auto-match rate % per statement",
        ChartKind::Bar,
        "auto-match %",
    );
    rep.notes.push(
        "auto-match % = payments matched without a person / payments of the statement".into(),
    );
    Ok(rep)
}

pub async fn run(tx: &mut dyn Tx, params: &Params) -> Result<Report, Failure> {
    let mut reports = Vec::new();
    for (k, v) in tx.get_documents("bank_report", "").await? {
        reports.push(read::<StatementReport>("bank_report", &k, &v)?);
    }
    reports.sort_by(|a, b| {
        a.reconciled_at
            .cmp(&b.reconciled_at)
            .then(a.statement_id.cmp(&b.statement_id))
    });
    let mut exceptions = Vec::new();
    for (k, v) in tx.get_documents("bank_exception", "").await? {
        exceptions.push(read::<ExceptionView>("bank_exception", &k, &v)?);
    }
    Ok(compute(params, &reports, &exceptions)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn auto_match_rate_per_statement_and_rule() {
        let reps: Vec<StatementReport> = serde_json::from_value(json!([
            { "statement_id": "S1", "account": "a", "reconciled_at": "2026-01-01T10:00:00+00:00",
              "report": { "payments": 4, "matched": 3, "partially_matched": 0, "exceptions": 1, "by_rule": { "reference": 3 } } },
            { "statement_id": "S2", "account": "a", "reconciled_at": "2026-01-02T10:00:00+00:00",
              "report": { "payments": 0, "matched": 0, "partially_matched": 0, "exceptions": 0 } }
        ])).unwrap();
        let ex: Vec<ExceptionView> = serde_json::from_value(json!([
            { "statement_id": "S1", "status": "rejected" }]))
        .unwrap();
        let r = compute(&Params::default(), &reps, &ex).unwrap();
        assert_eq!(r.rows[0][6], Cell::Num(Decimal::from(75)));
        assert_eq!(r.rows[0][8], Cell::Num(Decimal::ONE));
        assert_eq!(r.rows[1][6], Cell::NA);
        let p = Params::parse(None, None, Some("rule")).unwrap();
        let r = compute(&p, &reps, &ex).unwrap();
        assert_eq!(r.rows[1][0], "reference".into());
        assert_eq!(r.rows[1][2], Cell::Num(Decimal::from(75)));
        let mut bad = reps.clone();
        bad[0].reconciled_at = "yesterday".into();
        assert!(
            compute(&Params::default(), &bad, &ex)
                .unwrap_err()
                .at
                .contains("S1")
        );
    }
}
