//! TA1, the X12 interchange acknowledgment: one ISA/TA1/IEA interchange (no group) saying
//! whether the received interchange's envelope was accepted (`A`, note `000`) or rejected
//! (`R`, with the TA105 note code of its first envelope error). Sent when the received ISA14
//! asks for it or the partner's profile does.

use chrono::NaiveDateTime;

use super::{clean, envelope_errors};
use crate::envelope::{Interchange, PartnerId};
use crate::error::EdiError;
use crate::issue::{Issue, Level};
use crate::syntax::{Separators, Standard, Version};
use crate::write::{Envelope, OutSegment, write_ta1};

/// How to write the TA1 interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ta1Options {
    /// ISA13 of the TA1 interchange, from the store's counter for this partner.
    pub control_number: u64,
    pub timestamp: NaiveDateTime,
    /// The partner's separators; the received interchange's when `None`.
    pub separators: Option<Separators>,
    pub newline: bool,
}

impl Ta1Options {
    pub fn new(control_number: u64, timestamp: NaiveDateTime) -> Self {
        Ta1Options {
            control_number,
            timestamp,
            separators: None,
            newline: true,
        }
    }
}

/// TA104 and TA105 for an interchange with these issues: `("A", "000")`, or `("R", code)` with
/// the note code of the first envelope error (`022` invalid control structure for an error in
/// a group's envelope, which has no note code of its own).
pub fn ta1_note(issues: &[Issue]) -> (&'static str, &'static str) {
    match envelope_errors(issues).first() {
        None => ("A", "000"),
        Some(i) if i.code.level() == Level::Interchange => ("R", i.code.x12()),
        Some(_) => ("R", "022"),
    }
}

/// Builds the TA1 interchange answering `ich`, addressed back to its sender.
pub fn ta1(
    ich: &Interchange<'_>,
    issues: &[Issue],
    opts: &Ta1Options,
) -> Result<Vec<u8>, EdiError> {
    if ich.standard != Standard::X12 {
        return Err(EdiError::Write {
            what: "TA1".into(),
            reason: "a TA1 answers an X12 interchange".into(),
        });
    }
    let version = if ich.version.as_str() >= "00500" {
        Version::X12_5010
    } else {
        Version::X12_4010
    };
    // absent: without separators in the partner profile the ack answers in those of the interchange it acknowledges.
    let mut seps = opts.separators.unwrap_or(ich.separators);
    seps.repetition = match version {
        Version::X12_4010 => None,
        _ => seps
            .repetition
            .or(Some(if seps.element == b'^' || seps.component == b'^' {
                b'{'
            } else {
                b'^'
            })),
    };
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
    let (status, note) = ta1_note(issues);
    let segment = OutSegment::new("TA1")
        .el(clean(ich.control_number.trim(), 9))
        .el(clean(ich.date.trim(), 6))
        .el(clean(ich.time.trim(), 4))
        .el(status)
        .el(note);
    write_ta1(&env, &segment)
}
