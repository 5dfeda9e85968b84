//! 997 (4010/5010) and 999 (005010X231A1) functional acknowledgments: one ST per received
//! functional group, in one FA group of one interchange addressed back to the sender.
//! Groups of acknowledgments (GS01 `FA`) are left out: an ack is never acknowledged. Error
//! codes are those of the acknowledged group's version ([`super::codes`]).

use chrono::NaiveDateTime;

use super::codes::{AckElement, CodeList, x12_code};
use super::{AckStatus, GroupAck, clean, holds_only_acks, is_ack_group, summarize};
use crate::envelope::{Interchange, PartnerId};
use crate::error::EdiError;
use crate::issue::Issue;
use crate::syntax::{Separators, Version};
use crate::write::{Document, Envelope, OutSegment, write};

/// Which X12 acknowledgment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckKind {
    X997,
    X999,
}

/// How to write the acknowledgment interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckOptions {
    pub kind: AckKind,
    /// ISA13/GS06 of the ack, from the store's counter for this partner.
    pub control_number: u64,
    pub timestamp: NaiveDateTime,
    /// The partner's separators; the received interchange's when `None`.
    pub separators: Option<Separators>,
    /// 4010 or 5010; from the received ISA12 when `None` (999 is always 5010).
    pub version: Option<Version>,
    /// Also list accepted sets (AK2 + AK5 A); some partners want only errors.
    pub include_accepted: bool,
    pub newline: bool,
}

impl AckOptions {
    pub fn new(kind: AckKind, control_number: u64, timestamp: NaiveDateTime) -> Self {
        AckOptions {
            kind,
            control_number,
            timestamp,
            separators: None,
            version: None,
            include_accepted: true,
            newline: true,
        }
    }
}

/// Builds the 997 or 999 interchange acknowledging every functional group of `ich`.
pub fn x12_ack(
    ich: &Interchange<'_>,
    issues: &[Issue],
    opts: &AckOptions,
) -> Result<Vec<u8>, EdiError> {
    let groups = summarize(ich, issues);
    let version = match (opts.kind, opts.version) {
        (AckKind::X999, _) => Version::X12_5010,
        (_, Some(v)) => v,
        (_, None) if ich.version.as_str() >= "00500" => Version::X12_5010,
        _ => Version::X12_4010,
    };
    // absent: without separators in the partner profile the ack answers in those of the interchange it acknowledges.
    let mut seps = opts.separators.unwrap_or(ich.separators);
    if version == Version::X12_5010 && seps.repetition.is_none() {
        seps.repetition = Some(if seps.element == b'^' || seps.component == b'^' {
            b'{'
        } else {
            b'^'
        });
    }
    if version == Version::X12_4010 {
        seps.repetition = None;
    }
    let docs: Vec<Document> = groups
        .iter()
        .filter(|g| g.explicit && !ich.groups.get(g.index).is_some_and(is_ack_group))
        .map(|g| ack_doc(g, opts, version))
        .collect();
    if docs.is_empty() {
        return Err(EdiError::Write {
            what: "acknowledgment".into(),
            reason: if holds_only_acks(ich) {
                "the interchange holds only acknowledgments, which are not acknowledged".into()
            } else {
                "no functional group to acknowledge".into()
            },
        });
    }
    let mut env = Envelope::new(
        version,
        PartnerId {
            qualifier: ich.receiver.qualifier.clone(),
            id: ich.receiver.id.clone(),
        },
        PartnerId {
            qualifier: ich.sender.qualifier.clone(),
            id: ich.sender.id.clone(),
        },
        opts.control_number,
        opts.timestamp,
    );
    env.separators = seps;
    env.newline = opts.newline;
    env.test = ich.test;
    if let Some(g) = ich.groups.iter().find(|g| g.header.is_some()) {
        env.app_sender = Some(g.receiver.clone()).filter(|s| s.len() >= 2);
        env.app_receiver = Some(g.sender.clone()).filter(|s| s.len() >= 2);
    }
    write(&env, &docs)
}

fn ack_doc(g: &GroupAck, opts: &AckOptions, version: Version) -> Document {
    let is999 = opts.kind == AckKind::X999;
    let is5010 = version == Version::X12_5010;
    let list = CodeList::for_group(version, &g.version);
    let mut segs = Vec::new();
    let mut ak1 = OutSegment::new("AK1")
        .el(g.functional_id.clone())
        .el(clean_ctl(&g.control_number));
    if is5010 && !g.version.is_empty() {
        ak1 = ak1.el(g.version.clone());
    }
    segs.push(ak1);
    let (s3, s4, s5) = if is999 {
        ("IK3", "IK4", "IK5")
    } else {
        ("AK3", "AK4", "AK5")
    };
    for s in &g.sets {
        if !opts.include_accepted && s.status == AckStatus::Accepted {
            continue;
        }
        let mut ak2 = OutSegment::new("AK2")
            .el(s.set_id.clone())
            .el(s.control_number.clone());
        if is5010 && !s.version.is_empty() {
            ak2 = ak2.el(s.version.clone());
        }
        segs.push(ak2);
        for seg in &s.segments {
            let code = seg
                .code
                .and_then(|c| x12_code(c, AckElement::Ak304, list))
                // An issue without its own AK304 code: 8 = segment has data element errors (its AK4s follow).
                .unwrap_or("8");
            segs.push(
                OutSegment::new(s3)
                    .el(seg.tag.clone())
                    .el(seg.position.to_string())
                    .el("")
                    .el(code),
            );
            for (at, code, value) in &seg.elements {
                let mut pos = vec![at.position.to_string()];
                if let Some(c) = at.component {
                    pos.push(c.to_string());
                }
                // absent: AK404 (copy of bad data element) is optional; a missing element has no value to copy.
                let value = value.as_deref().map(|v| clean(v, 99)).unwrap_or_default();
                segs.push(
                    OutSegment::new(s4)
                        .comp(pos)
                        .el("")
                        // An issue without its own AK403 code: 7 = invalid code value, the catch-all used by the list.
                        .el(x12_code(*code, AckElement::Ak403, list).unwrap_or("7"))
                        .el(value),
                );
            }
        }
        let mut codes: Vec<&str> = Vec::new();
        for c in s
            .codes
            .iter()
            .filter_map(|&c| x12_code(c, AckElement::Ak502, list))
        {
            if !codes.contains(&c) {
                codes.push(c);
            }
        }
        if s.segment_errors && !codes.contains(&"5") {
            codes.push("5");
        }
        let mut ak5 = OutSegment::new(s5).el(s.status.x12());
        for c in codes.iter().take(5) {
            ak5 = ak5.el(*c);
        }
        segs.push(ak5);
    }
    let accepted = g.sets.iter().filter(|s| s.status.is_accepted()).count();
    let mut ak9 = OutSegment::new("AK9")
        .el(g.status.x12())
        .el(g.sets_included.to_string())
        .el(g.sets.len().to_string())
        .el(accepted.to_string());
    let mut gcodes: Vec<&str> = Vec::new();
    for c in g
        .codes
        .iter()
        .filter_map(|&c| x12_code(c, AckElement::Ak905, list))
    {
        if !gcodes.contains(&c) {
            gcodes.push(c);
        }
    }
    for c in gcodes.iter().take(5) {
        ak9 = ak9.el(*c);
    }
    segs.push(ak9);
    Document {
        set_id: if is999 { "999" } else { "997" }.into(),
        version: is999.then(|| "005010X231A1".to_string()),
        segments: segs,
    }
}

/// AK102 is numeric: keep the digits of the group control number.
fn clean_ctl(c: &str) -> String {
    let d: String = c.chars().filter(char::is_ascii_digit).collect();
    let t = d.trim_start_matches('0');
    if t.is_empty() { "0".into() } else { t.into() }
}
