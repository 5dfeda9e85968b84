//! Acknowledgments built from validation issues: 997 and 999 for X12 ([`x12_ack`]), CONTRL for
//! EDIFACT ([`contrl`]). [`summarize`] gives the per-group and per-set verdicts both use, so the
//! engine can record what was accepted without parsing its own ack.
//!
//! Verdicts: a set with an error-severity issue is rejected (`R`), one with only warnings is
//! accepted with errors (`E`), else accepted (`A`). A group is `A`/`E` when every set is accepted,
//! `P` when some are, `R` when none are or when the group envelope itself is in error.
//! An envelope error ([`envelope_errors`]: IEA/UNZ counts and control numbers, GE/UNE counts
//! and control numbers, a missing trailer...) rejects the whole interchange: every group and
//! set is `R`, the CONTRL says UCI 0083 `4`, and [`ta1`] answers `R` with the TA105 note code,
//! so nothing from it is taken as accepted.
//!
//! Acknowledgments are never acknowledged ([`is_ack_set`], [`is_ack_group`],
//! [`holds_only_acks`]): the 997/999 leaves out groups of 997s/999s, the CONTRL leaves out
//! CONTRL messages, and an interchange holding nothing else (or only a TA1) gets no ack at all.
//! Which sets are accepted is the partner's choice: [`refused`] turns every set outside the
//! accepted list ([`DEFAULT_ACCEPT`] unless a profile says otherwise) into a
//! [`Code::SetNotSupported`] error (AK5/IK5 `R` code 1, UCM `4` 0085 14). The error codes an
//! X12 ack may use depend on the version ([`codes`]).

pub mod codes;
mod contrl;
mod ta1;
mod x12;

pub use contrl::{ContrlOptions, contrl};
pub use ta1::{Ta1Options, ta1, ta1_note};
pub use x12::{AckKind, AckOptions, x12_ack};

use crate::envelope::{Group, Interchange};
use crate::syntax::Standard;

/// The transaction sets ordo takes from a partner when the profile does not list them
/// (`accept:`): orders (850, ORDERS), changes to them (860, ORDCHG: a partner that may order
/// may change its orders) and acknowledgments of what ordo sent (997, 999, CONTRL).
pub const DEFAULT_ACCEPT: &[&str] = &["850", "ORDERS", "860", "ORDCHG", "997", "999", "CONTRL"];

/// Whether `set_id` is an acknowledgment (997, 999, CONTRL), which is never acknowledged.
pub fn is_ack_set(set_id: &str) -> bool {
    matches!(set_id, "997" | "999" | "CONTRL")
}

/// Whether a group holds acknowledgments: GS01 `FA` (997 and 999), or sets that are all
/// acknowledgments (an EDIFACT group of CONTRLs).
pub fn is_ack_group(g: &Group) -> bool {
    g.functional_id == "FA"
        || (!g.transactions.is_empty() && g.transactions.iter().all(|t| is_ack_set(&t.set_id)))
}

/// Whether the interchange holds acknowledgments and nothing else: groups of 997/999/CONTRL,
/// or (X12) a TA1 with no group. Such an interchange gets no acknowledgment of any kind
/// (997, 999, CONTRL or TA1), whatever its ISA14/UNB 0031 or a partner profile asks.
pub fn holds_only_acks(ich: &Interchange<'_>) -> bool {
    if ich.groups.is_empty() {
        return ich.standard == Standard::X12
            && (0..ich.segments.len())
                .filter_map(|i| ich.segment(i))
                .any(|s| s.tag() == "TA1");
    }
    ich.groups.iter().all(is_ack_group)
}

/// A [`Code::SetNotSupported`] error for every set of `ich` that is not an acknowledgment and
/// not in `accept` (set ids: `850`, `846`, `ORDERS`...). Add them to the validation issues
/// before [`summarize`] and the ack builders, so the set is rejected with AK5/IK5 code 1
/// (UCM 0085 14) and counted as not accepted.
pub fn refused<S: AsRef<str>>(ich: &Interchange<'_>, accept: &[S]) -> Vec<Issue> {
    ich.transactions()
        .filter(|(_, _, t)| {
            !is_ack_set(&t.set_id) && !accept.iter().any(|a| a.as_ref() == t.set_id)
        })
        .map(|(gi, ti, t)| {
            ich.issue_at(
                Code::SetNotSupported,
                Some(gi),
                Some(ti),
                Some(t.header),
                None,
                Some(t.set_id.clone()),
                format!("{} is not among the accepted sets", t.set_id),
            )
        })
        .collect()
}
use crate::issue::{Code, ElementAt, Issue, Level, Severity};

/// A verdict as X12 AK501/AK901 write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum AckStatus {
    Accepted,
    AcceptedWithErrors,
    PartiallyAccepted,
    Rejected,
}

impl AckStatus {
    pub fn x12(self) -> &'static str {
        match self {
            AckStatus::Accepted => "A",
            AckStatus::AcceptedWithErrors => "E",
            AckStatus::PartiallyAccepted => "P",
            AckStatus::Rejected => "R",
        }
    }
    pub fn is_accepted(self) -> bool {
        matches!(self, AckStatus::Accepted | AckStatus::AcceptedWithErrors)
    }
}

/// Errors found in one segment of a set (AK3/IK3 + AK4/IK4, UCS + UCD).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SegmentAck {
    pub tag: String,
    /// Position in the set (ST/UNH = 1).
    pub position: u32,
    /// The segment-level code, `None` when only its elements are in error (AK304 8).
    pub code: Option<Code>,
    pub elements: Vec<(ElementAt, Code, Option<String>)>,
}

/// The verdict on one transaction set.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SetAck {
    pub index: usize,
    pub set_id: String,
    pub control_number: String,
    pub version: String,
    pub status: AckStatus,
    /// Set-level codes (AK502.., UCM 0085).
    pub codes: Vec<Code>,
    pub segments: Vec<SegmentAck>,
    /// Whether some segment or element issue is an error (adds AK502 5).
    pub segment_errors: bool,
}

/// The verdict on one functional group (or implicit EDIFACT group).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GroupAck {
    pub index: usize,
    pub functional_id: String,
    pub control_number: String,
    pub version: String,
    pub explicit: bool,
    pub status: AckStatus,
    pub codes: Vec<Code>,
    pub sets: Vec<SetAck>,
    /// GE01 / UNE01 as sent (the count of sets when absent).
    pub sets_included: usize,
}

/// Per-group and per-set verdicts of an interchange given its validation issues.
pub fn summarize(ich: &Interchange<'_>, issues: &[Issue]) -> Vec<GroupAck> {
    let mut out = Vec::new();
    let whole_rejected = interchange_rejected(issues);
    for (gi, g) in ich.groups.iter().enumerate() {
        let in_group = |i: &&Issue| i.group.as_ref().is_some_and(|(x, _)| *x == gi);
        let group_issues: Vec<&Issue> = issues.iter().filter(in_group).collect();
        let mut sets = Vec::new();
        for (ti, t) in g.transactions.iter().enumerate() {
            let mine: Vec<&Issue> = group_issues
                .iter()
                .copied()
                .filter(|i| i.transaction.as_ref().is_some_and(|(x, _)| *x == ti))
                .collect();
            let mut codes = Vec::new();
            let mut segments: Vec<SegmentAck> = Vec::new();
            for i in &mine {
                match i.code.level() {
                    Level::Transaction | Level::Group | Level::Interchange => {
                        if !codes.contains(&i.code) {
                            codes.push(i.code);
                        }
                    }
                    Level::Segment | Level::Element => {
                        let Some(s) = &i.segment else { continue };
                        // Ack grouping only: a segment issue without a known position is listed at position 0.
                        let position = s.position.unwrap_or(0);
                        let seg = match segments
                            .iter_mut()
                            .find(|x| x.position == position && x.tag == s.tag)
                        {
                            Some(x) => x,
                            None => {
                                segments.push(SegmentAck {
                                    tag: s.tag.clone(),
                                    position,
                                    code: None,
                                    elements: Vec::new(),
                                });
                                let last = segments.len() - 1;
                                &mut segments[last]
                            }
                        };
                        match (i.code.level(), i.element) {
                            (Level::Element, Some(e)) => {
                                seg.elements.push((e, i.code, i.value.clone()))
                            }
                            _ => seg.code = seg.code.or(Some(i.code)),
                        }
                    }
                }
            }
            let errors = mine.iter().any(|i| i.severity() == Severity::Error);
            let segment_errors = mine.iter().any(|i| {
                i.severity() == Severity::Error
                    && matches!(i.code.level(), Level::Segment | Level::Element)
            });
            let status = if errors || whole_rejected {
                AckStatus::Rejected
            } else if mine.is_empty() {
                AckStatus::Accepted
            } else {
                AckStatus::AcceptedWithErrors
            };
            sets.push(SetAck {
                index: ti,
                set_id: t.set_id.clone(),
                control_number: t.control_number.clone(),
                version: t.version.clone(),
                status,
                codes,
                segments,
                segment_errors,
            });
        }
        let gcodes: Vec<Code> = group_issues
            .iter()
            .filter(|i| i.transaction.is_none() && i.code.level() == Level::Group)
            .map(|i| i.code)
            .collect();
        let group_error = group_issues.iter().any(|i| {
            i.transaction.is_none()
                && i.code.level() == Level::Group
                && i.severity() == Severity::Error
        });
        let accepted = sets.iter().filter(|s| s.status.is_accepted()).count();
        let status = if whole_rejected || group_error || (accepted == 0 && !sets.is_empty()) {
            AckStatus::Rejected
        } else if accepted < sets.len() {
            AckStatus::PartiallyAccepted
        } else if sets.iter().all(|s| s.status == AckStatus::Accepted) && gcodes.is_empty() {
            AckStatus::Accepted
        } else {
            AckStatus::AcceptedWithErrors
        };
        let sets_included = g
            .trailer
            .and_then(|t| ich.segment(t))
            .and_then(|s| crate::envelope::num(s.raw(1)))
            // AK902 echoes GE01; without a readable GE01 (reported by validation) the sets
            // counted are acknowledged.
            .map_or(sets.len(), |n| n as usize);
        out.push(GroupAck {
            index: gi,
            functional_id: g.functional_id.clone(),
            control_number: g.control_number.clone(),
            version: g.version.clone(),
            explicit: g.header.is_some(),
            status,
            codes: gcodes,
            sets,
            sets_included,
        });
    }
    out
}

/// Envelope errors: interchange- or group-level errors outside any transaction set (trailer
/// counts and control numbers, missing trailers, invalid header values). Any of them rejects
/// the whole interchange; interchange-level ones first.
pub fn envelope_errors(issues: &[Issue]) -> Vec<&Issue> {
    let envelope = |i: &&Issue, level: Level| {
        i.code.level() == level && i.transaction.is_none() && i.is_error()
    };
    let mut out: Vec<&Issue> = issues
        .iter()
        .filter(|i| envelope(i, Level::Interchange))
        .collect();
    out.extend(issues.iter().filter(|i| envelope(i, Level::Group)));
    out
}

/// Whether the interchange is rejected whole (it has an [`envelope_errors`] error).
pub fn interchange_rejected(issues: &[Issue]) -> bool {
    !envelope_errors(issues).is_empty()
}

/// Interchange-level errors (what a TA1 or UCI 0085 reports).
pub fn interchange_errors(issues: &[Issue]) -> Vec<&Issue> {
    issues
        .iter()
        .filter(|i| i.code.level() == Level::Interchange && i.group.is_none() && i.is_error())
        .collect()
}

/// An ack value must not carry separators of the ack itself; keep it printable and short.
pub(crate) fn clean(v: &str, max: usize) -> String {
    let s: String = v
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == ' ' || c == '-' || c == '.' {
                c
            } else {
                ' '
            }
        })
        .take(max)
        .collect();
    if s.trim().is_empty() {
        String::new()
    } else {
        s
    }
}
