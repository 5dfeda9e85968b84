//! Control totals a transaction states about itself, checked against its content:
//! - X12 `CTT01` (number of line items) against the count of line segments — `PO1` in an
//!   850/855, `POC` in an 860/865, `IT1` in an 810 — and `CTT02` (hash total), when present, against the sum of
//!   their quantities (`PO102` / `IT102`; a hash total may be cut to its leftmost digits'
//!   right part, so a longer sum compares by its last ten digits);
//! - EDIFACT `CNT+2` (number of line items in the message) against the count of `LIN`.
//!
//! A line count that does not match is an error ([`Code::LineCountWrong`]: AK3 CTT/CNT + AK4
//! element, code 7 / UCS + UCD 0085 12): the set is rejected, since lines were lost or invented
//! on the way. A hash total that does not match only warns ([`Code::HashTotalWrong`], AK5 `E`):
//! partners compute it in different ways (four of the upstream 850 samples in
//! `tests/fixtures` state totals that are not the sum of PO102), so rejecting on it would
//! refuse orders that are fine. The notes on the guides in use say nothing about either.

use rust_decimal::Decimal;

use crate::envelope::{Interchange, Transaction};
use crate::issue::{Code, ElementAt, Issue};
use crate::syntax::Standard;
use crate::values;

/// Checks the control totals of one transaction (see the module docs).
pub(crate) fn check(
    ich: &Interchange<'_>,
    gi: usize,
    ti: usize,
    t: &Transaction,
    out: &mut Vec<Issue>,
) {
    let (line_tag, total_tag) = match (ich.standard, t.set_id.as_str()) {
        (Standard::X12, "850" | "855" | "843") => ("PO1", "CTT"),
        // a change request and its acknowledgment count their POC lines
        (Standard::X12, "860" | "865") => ("POC", "CTT"),
        (Standard::X12, "810") => ("IT1", "CTT"),
        (Standard::Edifact, "ORDERS" | "ORDRSP" | "ORDCHG" | "INVOIC" | "DESADV" | "QUOTES") => {
            ("LIN", "CNT")
        }
        _ => return,
    };
    // A transaction without its trailer (reported by validation) ends where the next begins.
    let body_end = t.trailer.unwrap_or(t.end);
    let mut lines = 0u64;
    let mut qty_sum = Some(Decimal::ZERO);
    let mut totals = Vec::new();
    for si in t.header + 1..body_end {
        let Some(seg) = ich.segment(si) else { continue };
        if seg.tag() == line_tag {
            lines += 1;
            if ich.standard == Standard::X12 {
                // PO102 / IT102 hold the quantity; POC03 in a change (POC02 is the change type)
                let qty_at = if line_tag == "POC" { 3 } else { 2 };
                let raw = seg.raw(qty_at);
                // a deleted line (POC02 DI) states no quantity: it adds nothing
                let q = if raw.is_empty() && line_tag == "POC" {
                    Some(Decimal::ZERO)
                } else {
                    values::decimal(raw)
                };
                qty_sum = match (qty_sum, q) {
                    (Some(s), Some(q)) => s.checked_add(q),
                    _ => None,
                };
            }
        } else if seg.tag() == total_tag {
            totals.push(si);
        }
    }
    let issue = |code: Code,
                 si: usize,
                 position: u32,
                 component: Option<u32>,
                 value: &[u8],
                 detail: String| {
        ich.issue_at(
            code,
            Some(gi),
            Some(ti),
            Some(si),
            Some(ElementAt {
                position,
                component,
            }),
            Some(String::from_utf8_lossy(value).into_owned()),
            detail,
        )
    };
    for si in totals {
        let Some(seg) = ich.segment(si) else { continue };
        if ich.standard == Standard::X12 {
            let stated = seg.raw(1);
            if values::decimal(stated).is_some_and(|n| n != Decimal::from(lines)) {
                out.push(issue(
                    Code::LineCountWrong,
                    si,
                    1,
                    None,
                    stated,
                    format!("CTT01 counts the line items, the set has {lines} {line_tag}"),
                ));
            }
            let hash = seg.raw(2);
            if let (Some(h), false) = (values::decimal(hash), hash.is_empty())
                && !hash_matches(h, qty_sum, hash)
            {
                let sum = qty_sum.map_or("too large to add".into(), |s| s.normalize().to_string());
                out.push(issue(
                    Code::HashTotalWrong,
                    si,
                    2,
                    None,
                    hash,
                    format!("CTT02 hash total is the sum of the {line_tag} quantities: {sum}"),
                ));
            }
        } else if seg.component(1, 1) == b"2" {
            let stated = seg.component(1, 2);
            if values::decimal(stated).is_some_and(|n| n != Decimal::from(lines)) {
                out.push(issue(
                    Code::LineCountWrong,
                    si,
                    1,
                    Some(2),
                    stated,
                    format!("CNT+2 counts the line items, the message has {lines} LIN"),
                ));
            }
        }
    }
}

/// Whether a stated hash total matches the sum, also when the sender kept only its rightmost
/// digits (a hash total is cut to the element's maximum length, ten digits).
fn hash_matches(stated: Decimal, sum: Option<Decimal>, raw: &[u8]) -> bool {
    let Some(sum) = sum else { return false };
    if stated == sum {
        return true;
    }
    let digits = raw.iter().filter(|b| b.is_ascii_digit()).count();
    digits >= 10 && {
        let m = Decimal::from(10_000_000_000u64);
        sum.checked_rem(m).is_some_and(|r| r == stated)
    }
}
