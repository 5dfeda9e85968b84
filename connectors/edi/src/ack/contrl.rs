//! EDIFACT CONTRL (syntax 3 service message `CONTRL:D:3:UN`): UCI for the interchange, UCF per
//! UNG group, UCM per message with UCS (segment position) and UCD (element:component) for each
//! error, carrying 0083 action codes (4 rejected, 7 acknowledged, 8 received) and 0085 errors.
//! CONTRL messages received are left out (an ack is never acknowledged); an interchange of
//! nothing but CONTRLs gets no CONTRL.

use chrono::NaiveDateTime;

use super::{
    AckStatus, SetAck, clean, envelope_errors, holds_only_acks, is_ack_group, is_ack_set, summarize,
};
use crate::envelope::{Interchange, PartnerId};
use crate::error::EdiError;
use crate::issue::{Code, Issue, Level};
use crate::syntax::{Separators, Version};
use crate::write::{Document, Envelope, OutSegment, write};

/// How to write the CONTRL interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContrlOptions {
    /// UNB 0020 of the CONTRL interchange, from the store's counter for this partner.
    pub control_number: u64,
    pub timestamp: NaiveDateTime,
    /// The partner's separators; the received interchange's when `None`.
    pub separators: Option<Separators>,
    /// Only confirm receipt (UCI 0083 = 8), no content check reported.
    pub receipt_only: bool,
    /// List accepted messages too (UCM 0083 = 7).
    pub include_accepted: bool,
    pub newline: bool,
}

impl ContrlOptions {
    pub fn new(control_number: u64, timestamp: NaiveDateTime) -> Self {
        ContrlOptions {
            control_number,
            timestamp,
            separators: None,
            receipt_only: false,
            include_accepted: true,
            newline: true,
        }
    }
}

/// Builds the CONTRL interchange acknowledging `ich`.
pub fn contrl(
    ich: &Interchange<'_>,
    issues: &[Issue],
    opts: &ContrlOptions,
) -> Result<Vec<u8>, EdiError> {
    if holds_only_acks(ich) {
        return Err(EdiError::Write {
            what: "CONTRL".into(),
            reason: "the interchange holds only acknowledgments, which are not acknowledged".into(),
        });
    }
    let mut env = Envelope::new(
        Version::D96A,
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
    // absent: without separators in the partner profile the ack answers in those of the interchange it acknowledges.
    let mut seps = opts.separators.unwrap_or(ich.separators);
    if seps.release.is_none() {
        seps = Separators::EDIFACT;
    }
    env.separators = seps;
    env.newline = opts.newline;
    env.test = ich.test;
    env.syntax_id = if ich.syntax_id.is_empty() {
        "UNOC".into()
    } else {
        ich.syntax_id.clone()
    };
    let doc = Document {
        set_id: "CONTRL".into(),
        version: Some("D:3:UN".into()),
        segments: contrl_segments(ich, issues, opts),
    };
    write(&env, &[doc])
}

/// The CONTRL body (UCI, UCF, UCM, UCS, UCD), exposed for tests of the layout.
pub fn contrl_segments(
    ich: &Interchange<'_>,
    issues: &[Issue],
    opts: &ContrlOptions,
) -> Vec<OutSegment> {
    let mut segs = Vec::new();
    // any envelope error rejects the whole interchange: UCI 4, nothing below it reported
    let ich_errors = envelope_errors(issues);
    let mut uci = OutSegment::new("UCI")
        .el(ich.control_number.clone())
        .comp([ich.sender.id.clone(), ich.sender.qualifier.clone()])
        .comp([ich.recipient_id(), ich.receiver.qualifier.clone()]);
    if opts.receipt_only {
        segs.push(uci.el("8"));
        return segs;
    }
    match ich_errors.first() {
        Some(e) => {
            uci = uci.el("4").el(e.code.edifact());
            if let Some(s) = &e.segment {
                uci = uci.el(s.tag.clone());
                if let Some(el) = e.element {
                    uci = uci.comp(pos(el.position, el.component));
                }
            }
            segs.push(uci);
            return segs;
        }
        None => segs.push(uci.el("7")),
    }
    for g in summarize(ich, issues) {
        if ich.groups.get(g.index).is_some_and(is_ack_group) {
            continue;
        }
        if g.explicit {
            let hdr = g.index;
            let grp = &ich.groups[hdr];
            let mut ucf = OutSegment::new("UCF")
                .el(g.control_number.clone())
                .comp([grp.sender.clone()])
                .comp([grp.receiver.clone()]);
            ucf = match g.codes.first() {
                Some(c) if g.status == AckStatus::Rejected => ucf.el("4").el(c.edifact()),
                _ if g.status == AckStatus::Rejected => ucf.el("4"),
                _ => ucf.el("7"),
            };
            segs.push(ucf);
        }
        for s in &g.sets {
            if is_ack_set(&s.set_id) || (!opts.include_accepted && s.status != AckStatus::Rejected)
            {
                continue;
            }
            message(&mut segs, s);
        }
    }
    segs
}

fn pos(element: u32, component: Option<u32>) -> Vec<String> {
    let mut v = vec![element.to_string()];
    if let Some(c) = component {
        v.push(c.to_string());
    }
    v
}

fn message(segs: &mut Vec<OutSegment>, s: &SetAck) {
    let mut s009 = vec![s.set_id.clone()];
    s009.extend(s.version.split(':').map(|p| clean(p, 6)));
    s009.resize(4.max(s009.len()), String::new());
    let mut ucm = OutSegment::new("UCM")
        .el(s.control_number.clone())
        .comp(s009);
    if s.status != AckStatus::Rejected {
        segs.push(ucm.el("7"));
        return;
    }
    ucm = ucm.el("4");
    if let Some(c) = s.codes.iter().find(|c| c.level() == Level::Transaction) {
        let tag = match c {
            Code::SegmentCountWrong
            | Code::TransactionControlMismatch
            | Code::TransactionTrailerMissing => "UNT",
            _ => "UNH",
        };
        ucm = ucm.el(c.edifact()).el(tag);
    }
    segs.push(ucm);
    for seg in s.segments.iter().take(999) {
        let mut ucs = OutSegment::new("UCS").el(seg.position.to_string());
        if let Some(c) = seg.code {
            ucs = ucs.el(c.edifact());
        }
        segs.push(ucs);
        for (at, code, _) in seg.elements.iter().take(99) {
            segs.push(
                OutSegment::new("UCD")
                    .el(code.edifact())
                    .comp(pos(at.position, at.component)),
            );
        }
    }
}
