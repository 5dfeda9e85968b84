//! The answer to a buyer's change request: X12 865 (purchase order change acknowledgment) or
//! EDIFACT ORDRSP (BGM 231) as [`crate::write::Document`]s.
//!
//! - **865**: `BCA01` repeats the request's purpose (`04` change, `01` cancellation), `BCA02`
//!   `AT` accepted, `AC` accepted with changes (some lines refused, the rest applied), `RJ`
//!   rejected; `BCA03` PO number, `BCA05` the change's reference, `BCA06` the PO date (the
//!   request's, else today's: the element is mandatory). The reasons go in `N9*L1` + `MSG`
//!   (4010; one per reason, cut to 264 characters) or `MTX` (5010, which dropped MSG there). Each requested line is echoed in a `POC`
//!   with an `ACK`: `IA` accepted, `ID` deleted, `IR` rejected.
//! - **ORDRSP**: `BGM+231` with 1225 `29` accepted without amendment, `4` accepted with
//!   changes (EANCOM: change), `27` not accepted; `RFF+ON` the PO number and `RFF+AAN` the
//!   change's reference; reasons in `FTX+ACD` (reason), each line `LIN` 1229 `5` accepted or
//!   `7` not accepted, with `QTY+21`.
//!
//! X12 has no escape character, so reason text is kept to letters, digits and a few signs no
//! partner uses as a separator.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::change::{ChangeKind, ChangeRequest, RequestedLine};
use super::cut;
use crate::syntax::Version;
use crate::values::fmt_decimal;
use crate::write::{Document, OutSegment};

/// The verdict on a change request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeVerdict {
    Accepted,
    /// Applied without the lines listed as refused.
    AcceptedWithChanges,
    Rejected,
}

impl ChangeVerdict {
    /// BCA02 (587).
    pub fn x12(self) -> &'static str {
        match self {
            ChangeVerdict::Accepted => "AT",
            ChangeVerdict::AcceptedWithChanges => "AC",
            ChangeVerdict::Rejected => "RJ",
        }
    }
    /// BGM 1225 of an ORDRSP.
    pub fn edifact(self) -> &'static str {
        match self {
            ChangeVerdict::Accepted => "29",
            ChangeVerdict::AcceptedWithChanges => "4",
            ChangeVerdict::Rejected => "27",
        }
    }
}

/// What the answer says: the request as read (or what of it was readable), the verdict, the
/// reasons, and the lines refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeAnswer {
    pub po_number: String,
    pub po_date: Option<NaiveDate>,
    pub reference: String,
    pub cancel: bool,
    pub verdict: ChangeVerdict,
    pub reasons: Vec<String>,
    pub lines: Vec<RequestedLine>,
    /// Line numbers refused (answered `IR` / `7`); every other line is accepted.
    pub refused_lines: Vec<u32>,
}

impl ChangeAnswer {
    /// The answer to `req` with `verdict`.
    pub fn to(req: &ChangeRequest, verdict: ChangeVerdict, reasons: Vec<String>) -> Self {
        let refused_lines = if verdict == ChangeVerdict::Rejected {
            req.lines.iter().map(|l| l.line_no).collect()
        } else {
            Vec::new()
        };
        ChangeAnswer {
            po_number: req.po_number.clone(),
            po_date: req.po_date,
            reference: req.reference.clone(),
            cancel: matches!(req.request, ChangeKind::Cancel { .. }),
            verdict,
            reasons,
            lines: req.lines.clone(),
            refused_lines,
        }
    }
}

/// Text safe inside any X12 element: letters, digits, space and `. , - / ( ) # _ '` (`:` and `;`
/// become `,`, anything else a space).
fn x12_text(s: &str, max: usize) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .,-/()#_'".contains(c) {
                c
            } else if c == ':' || c == ';' {
                ','
            } else {
                ' '
            }
        })
        .collect();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    cut(&t, max)
}

fn d8(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// Most reasons written (each a MSG / FTX); the rest are counted in the last.
const MAX_REASONS: usize = 20;

fn reasons(a: &ChangeAnswer) -> Vec<String> {
    let mut r: Vec<String> = a.reasons.iter().take(MAX_REASONS).cloned().collect();
    if a.reasons.len() > MAX_REASONS {
        r.push(format!("and {} more", a.reasons.len() - MAX_REASONS));
    }
    r
}

/// 865 for `a`, dated `today`, in `version` (4010 writes the reasons as `MSG`, 5010 as `MTX`:
/// 5010 replaced MSG by MTX in the N9 loop).
pub fn change_to_865(a: &ChangeAnswer, today: NaiveDate, version: Version) -> Document {
    let mut segs = vec![
        OutSegment::new("BCA")
            .el(if a.cancel { "01" } else { "04" })
            .el(a.verdict.x12())
            .el(x12_text(&a.po_number, 22))
            .el("")
            .el(x12_text(&a.reference, 10))
            .el(d8(a.po_date.unwrap_or(today))),
        OutSegment::new("DTM").el("009").el(d8(today)),
    ];
    let rs = reasons(a);
    if !rs.is_empty() {
        segs.push(OutSegment::new("N9").el("L1").el("REASON"));
        for r in rs {
            segs.push(if version == Version::X12_5010 {
                OutSegment::new("MTX").el("").el(x12_text(&r, 4096))
            } else {
                OutSegment::new("MSG").el(x12_text(&r, 264))
            });
        }
    }
    for l in &a.lines {
        let refused = a.refused_lines.contains(&l.line_no);
        let kind = match l.action.as_str() {
            "add" => "AI",
            "delete" => "DI",
            _ => "CA",
        };
        let qty = l.quantity.map(fmt_decimal).unwrap_or_default();
        let mut poc = OutSegment::new("POC")
            .el(l.line_no.to_string())
            .el(kind)
            .el(qty.clone())
            .el("")
            .el(if qty.is_empty() {
                String::new()
            } else {
                x12_text(l.uom.as_deref().unwrap_or("EA"), 2)
            });
        if let Some(sku) = &l.sku {
            poc = poc.el("").el("").el("VP").el(x12_text(sku, 48));
        }
        segs.push(poc);
        let status = match (refused, l.action.as_str()) {
            (true, _) => "IR",
            (false, "delete") => "ID",
            (false, _) => "IA",
        };
        let mut ack = OutSegment::new("ACK").el(status);
        if let Some(q) = l.quantity.filter(|q| *q > Decimal::ZERO) {
            ack = ack
                .el(fmt_decimal(q))
                .el(x12_text(l.uom.as_deref().unwrap_or("EA"), 2));
        }
        segs.push(ack);
    }
    if !a.lines.is_empty() {
        segs.push(OutSegment::new("CTT").el(a.lines.len().to_string()));
    }
    Document {
        set_id: "865".into(),
        version: None,
        segments: segs,
    }
}

/// ORDRSP (BGM 231) answering an ORDCHG, dated `today`.
pub fn change_to_ordrsp(a: &ChangeAnswer, today: NaiveDate) -> Document {
    let dtm =
        |q: &str, d: NaiveDate| OutSegment::new("DTM").comp([q.to_string(), d8(d), "102".into()]);
    let mut segs = vec![
        OutSegment::new("BGM")
            .el("231")
            .el(cut(&format!("{}-{}", a.po_number, a.reference), 35))
            .el(a.verdict.edifact()),
        dtm("137", today),
    ];
    for r in reasons(a) {
        // 4440 is an..70, five of them: a longer reason is cut.
        let chunks: Vec<String> = r
            .chars()
            .collect::<Vec<_>>()
            .chunks(70)
            .take(5)
            .map(|c| c.iter().collect())
            .collect();
        segs.push(OutSegment::new("FTX").el("ACD").el("").el("").comp(chunks));
    }
    segs.push(OutSegment::new("RFF").comp(["ON".to_string(), cut(&a.po_number, 35)]));
    if let Some(d) = a.po_date {
        segs.push(dtm("171", d));
    }
    segs.push(OutSegment::new("RFF").comp(["AAN".to_string(), cut(&a.reference, 35)]));
    for l in &a.lines {
        let refused = a.refused_lines.contains(&l.line_no);
        let mut lin = OutSegment::new("LIN")
            .el(l.line_no.to_string())
            .el(if refused { "7" } else { "5" });
        if let Some(sku) = &l.sku {
            lin = lin.comp([cut(sku, 35), "SA".into()]);
        }
        segs.push(lin);
        if let Some(q) = l.quantity {
            let mut parts = vec!["21".to_string(), fmt_decimal(q)];
            if let Some(u) = &l.uom {
                parts.push(cut(u, 3));
            }
            segs.push(OutSegment::new("QTY").comp(parts));
        }
    }
    segs.push(OutSegment::new("UNS").el("S"));
    segs.push(OutSegment::new("CNT").comp(["2".to_string(), a.lines.len().to_string()]));
    Document {
        set_id: "ORDRSP".into(),
        version: None,
        segments: segs,
    }
}
