//! `edi`: per trading partner, the files received in the period (their interchanges and the
//! orders they carried), the files quarantined (a problem an operator must look at, or nothing
//! readable), the documents sent, the acknowledgments received for them and how many
//! rejected. A file whose sender is unknown counts under `(unknown sender)`, one with nothing
//! readable under `(unreadable)`.

use super::{Cell, ChartKind, Failure, Params, Report, ReportError, percent, read};
use crate::store::Tx;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What the report reads of a received file (`edi_file`).
#[derive(Debug, Clone, Deserialize)]
pub struct FileView {
    pub received_at: String,
    pub outcome: Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AckView {
    pub status: String,
}

/// What the report reads of a sent interchange (`edi_sent`).
#[derive(Debug, Clone, Deserialize)]
pub struct SentView {
    pub partner: String,
    pub sent_at: String,
    #[serde(default)]
    pub ack: Option<AckView>,
}

#[derive(Default)]
struct Acc {
    files: u64,
    interchanges: u64,
    orders: u64,
    quarantined: u64,
    sent: u64,
    acked: u64,
    rejected: u64,
}

pub fn compute(
    params: &Params,
    files: &[(String, FileView)],
    sent: &[(String, SentView)],
) -> Result<Report, ReportError> {
    params.dims(&[super::Dim::Partner], &[super::Dim::Partner])?;
    let mut rep = Report::new(
        "edi",
        "EDI by partner",
        params,
        &[
            "partner",
            "files in",
            "interchanges in",
            "orders in",
            "quarantined files",
            "documents out",
            "acks received",
            "ack rejections",
            "rejection %",
        ],
        1,
    );
    rep.by = vec!["partner".into()];
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    for (id, f) in files {
        if !params.contains(super::day(
            &f.received_at,
            &format!("edi_file '{id}': received_at"),
        )?) {
            continue;
        }
        let o = &f.outcome;
        let kind = o["outcome"].as_str().ok_or_else(|| {
            ReportError::new(format!("edi_file '{id}'"), "outcome.outcome: missing")
        })?;
        let quarantined = match kind {
            "processed" => o["problems"].as_array().is_some_and(|p| !p.is_empty()),
            "rejected" => true,
            _ => false,
        };
        let mut partners: BTreeMap<String, u64> = BTreeMap::new();
        for i in o["interchanges"].as_array().into_iter().flatten() {
            let p = i["partner"].as_str().unwrap_or("(unknown sender)");
            *partners.entry(p.to_string()).or_default() += 1;
        }
        if partners.is_empty() {
            partners.insert("(unreadable)".into(), 0);
        }
        let orders = o["orders"].as_array().map(Vec::len).unwrap_or(0) as u64;
        // a file's orders count under its first partner (a file comes from one sender)
        for (n, (p, ich)) in partners.into_iter().enumerate() {
            let a = acc.entry(p).or_default();
            a.files += 1;
            a.interchanges += ich;
            if n == 0 {
                a.orders += orders;
            }
            if quarantined {
                a.quarantined += 1;
            }
        }
    }
    for (id, s) in sent {
        if !params.contains(super::day(
            &s.sent_at,
            &format!("edi_sent '{id}': sent_at"),
        )?) {
            continue;
        }
        let a = acc.entry(s.partner.clone()).or_default();
        a.sent += 1;
        if let Some(ack) = &s.ack {
            a.acked += 1;
            if ack.status == "R" {
                a.rejected += 1;
            }
        }
    }
    for (p, a) in acc {
        rep.rows.push(vec![
            p.into(),
            Cell::Num(a.files.into()),
            Cell::Num(a.interchanges.into()),
            Cell::Num(a.orders.into()),
            Cell::Num(a.quarantined.into()),
            Cell::Num(a.sent.into()),
            Cell::Num(a.acked.into()),
            Cell::Num(a.rejected.into()),
            percent(Decimal::from(a.rejected), Decimal::from(a.acked)),
        ]);
    }
    rep.chart("Files in", ChartKind::Bar, "files in");
    rep.chart("Documents out", ChartKind::Bar, "documents out");
    rep.notes.push("an acknowledgment with status R rejected what it acknowledges; rejection % of the acknowledgments received".into());
    Ok(rep)
}

pub async fn run(tx: &mut dyn Tx, params: &Params) -> Result<Report, Failure> {
    let mut files = Vec::new();
    for (k, v) in tx.get_documents("edi_file", "").await? {
        let f: FileView = read("edi_file", &k, &v)?;
        files.push((k, f));
    }
    let mut sent = Vec::new();
    for (k, v) in tx.get_documents("edi_sent", "").await? {
        let s: SentView = read("edi_sent", &k, &v)?;
        sent.push((k, s));
    }
    Ok(compute(params, &files, &sent)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn files_quarantine_and_ack_rejections_per_partner() {
        let t = "2026-01-01T10:00:00+00:00";
        let files: Vec<(String, FileView)> = vec![
            ("f1".into(), serde_json::from_value(json!({ "received_at": t, "outcome": { "outcome": "processed",
                "interchanges": [{ "partner": "ACME" }], "orders": ["O1", "O2"], "problems": [] } })).unwrap()),
            ("f2".into(), serde_json::from_value(json!({ "received_at": t, "outcome": { "outcome": "processed",
                "interchanges": [{ "partner": "ACME" }], "orders": [], "problems": ["bad"] } })).unwrap()),
            ("f3".into(), serde_json::from_value(json!({ "received_at": t, "outcome": { "outcome": "rejected", "error": "x" } })).unwrap()),
        ];
        let sent: Vec<(String, SentView)> = vec![
            (
                "ACME:1".into(),
                serde_json::from_value(
                    json!({ "partner": "ACME", "sent_at": t, "ack": { "status": "R" } }),
                )
                .unwrap(),
            ),
            (
                "ACME:2".into(),
                serde_json::from_value(json!({ "partner": "ACME", "sent_at": t, "ack": null }))
                    .unwrap(),
            ),
        ];
        let r = compute(&Params::default(), &files, &sent).unwrap();
        assert_eq!(r.rows[0][0], "(unreadable)".into());
        assert_eq!(r.rows[0][4], Cell::Num(Decimal::ONE));
        let acme = &r.rows[1];
        assert_eq!(
            acme[1..8],
            [2u64, 2, 2, 1, 2, 1, 1].map(|n| Cell::Num(n.into()))
        );
        assert_eq!(acme[8], Cell::Num(Decimal::from(100)));
    }
}
