//! A partner's change requests (X12 860, EDIFACT ORDCHG) and our answers (865, ORDRSP BGM 231).
//!
//! [`crate::inbound`] reads each accepted 860/ORDCHG into a [`PendingChange`]. The decision is
//! the engine's (it holds the order's instance locked and runs `ordo_sales::change`, the one
//! change path of CLI, API and EDI), in the same transaction as the file; it then calls
//! [`answer_change`] with the verdict, which:
//! - writes the 865/ORDRSP when the partner's profile lists `change_response` in `documents:`
//!   (an unreadable request without a PO number cannot be answered: the answer must name the
//!   order), through [`crate::outbound::send_document`] like every business document;
//! - records the result on the file's outcome (`changes`), and a refusal (whole or of some
//!   lines) as a located problem, so the file goes to quarantine with the reason.

use ordo_contract::{StepContext, StepError};
use ordo_edi::Standard;
use ordo_edi::map::{ChangeAnswer, ChangeRequest, ChangeVerdict, Unreadable};
use serde_json::{Value, json};

use crate::inbound::ReceiveOutcome;
use crate::outbound::{Sending, send_document};
use crate::profile::Partner;

/// What a partner's profile lists in `documents:` to get answers to its change requests.
pub const CHANGE_RESPONSE: &str = "change_response";

/// An accepted 860/ORDCHG read from a file, not yet decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange {
    pub partner: String,
    pub standard: Standard,
    /// Where it is: `file:line:col: 860 0001 from acme` (the set's header).
    pub set: String,
    pub request: Result<ChangeRequest, Unreadable>,
}

/// The engine's decision on a [`PendingChange`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    pub verdict: ChangeVerdict,
    /// Why lines or the whole request were refused.
    pub reasons: Vec<String>,
    /// Lines refused while the rest was applied ([`ChangeVerdict::AcceptedWithChanges`]).
    pub refused_lines: Vec<u32>,
    /// What the change path returned (`{order, version, changes}` or `{order, status}`).
    pub result: Value,
}

impl Decided {
    pub fn rejected(reasons: Vec<String>) -> Self {
        Decided {
            verdict: ChangeVerdict::Rejected,
            reasons,
            refused_lines: Vec::new(),
            result: Value::Null,
        }
    }
}

/// Answers `p` as `d` decided (see the module docs) and records it on `outcome`.
pub async fn answer_change(
    ctx: &mut dyn StepContext,
    partners: &[Partner],
    p: &PendingChange,
    d: &Decided,
    outcome: &mut ReceiveOutcome,
) -> Result<(), StepError> {
    let answer = match &p.request {
        Ok(req) => {
            let mut a = ChangeAnswer::to(req, d.verdict, d.reasons.clone());
            if d.verdict == ChangeVerdict::AcceptedWithChanges {
                a.refused_lines = d.refused_lines.clone();
            }
            Some(a)
        }
        Err(u) => u.po_number.as_ref().map(|po| ChangeAnswer {
            po_number: po.clone(),
            po_date: u.po_date,
            reference: u.reference.clone().unwrap_or_default(),
            cancel: false,
            verdict: ChangeVerdict::Rejected,
            reasons: d.reasons.clone(),
            lines: Vec::new(),
            refused_lines: Vec::new(),
        }),
    };
    let order_id = p.request.as_ref().ok().map(|r| r.order_id.clone());
    let mut sent = Value::Null;
    let partner = partners.iter().find(|x| x.partner == p.partner);
    if let (Some(a), Some(partner)) = (&answer, partner)
        && partner.wants(CHANGE_RESPONSE)
    {
        let today = ctx.now().date_naive();
        let doc = match p.standard {
            Standard::X12 => ordo_edi::map::change_to_865(
                a,
                today,
                partner.version().map_err(|e| {
                    StepError::Permanent(format!("partner {}: {e}", partner.partner))
                })?,
            ),
            Standard::Edifact => ordo_edi::map::change_to_ordrsp(a, today),
        };
        // Named by the order when the request was readable, else by its PO number.
        let about = order_id.clone().unwrap_or_else(|| a.po_number.clone());
        let s = send_document(
            ctx,
            partner,
            doc,
            &Sending {
                what: CHANGE_RESPONSE,
                order_id: &about,
                reference: &a.reference,
                file_suffix: "",
            },
        )
        .await?;
        sent = json!({ "set": s.set, "control_number": s.control_number, "file": s.file });
    }
    let verdict = match d.verdict {
        ChangeVerdict::Accepted => "accepted",
        ChangeVerdict::AcceptedWithChanges => "accepted_with_changes",
        ChangeVerdict::Rejected => "rejected",
    };
    let what = match &p.request {
        Ok(r) => format!(
            "change {} of order {}",
            ordo_contract::excerpt(&r.reference, 40),
            ordo_contract::excerpt(&r.order_id, 80)
        ),
        Err(_) => "change request".to_string(),
    };
    if let ReceiveOutcome::Processed {
        changes, problems, ..
    } = outcome
    {
        match d.verdict {
            ChangeVerdict::Accepted => {}
            ChangeVerdict::AcceptedWithChanges => problems.push(format!(
                "{}: {what} applied without line(s) {}: {}",
                p.set,
                d.refused_lines
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                d.reasons.join("; ")
            )),
            ChangeVerdict::Rejected => problems.push(format!(
                "{}: {what} rejected, nothing changed: {}",
                p.set,
                d.reasons.join("; ")
            )),
        }
        changes.push(json!({ "set": p.set, "order": order_id,
                             "reference": p.request.as_ref().ok().map(|r| r.reference.clone()),
                             "verdict": verdict, "reasons": d.reasons, "result": d.result,
                             "answer": sent }));
    }
    Ok(())
}

impl ReceiveOutcome {
    /// The change requests read and not yet decided (taken: the caller decides each).
    pub fn take_pending(&mut self) -> Vec<PendingChange> {
        match self {
            ReceiveOutcome::Processed { pending, .. } => std::mem::take(pending),
            _ => Vec::new(),
        }
    }
}
