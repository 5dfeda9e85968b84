//! One file received from trading partners, processed in one transaction.
//!
//! The raw bytes are kept (`edi_file/<sha256>`) whatever happens. Then, per interchange:
//! - the sender must be a known partner (`their_id`) and the interchange addressed to us
//!   (`our_id`), else it is **rejected and kept** (no ack: we do not answer strangers);
//! - an interchange control number already received from that partner is a **duplicate**:
//!   reported, not processed again;
//! - otherwise it is validated and, if the partner wants one, a 997/999 or CONTRL goes back
//!   (written to their outbound folder after commit; its control number from the store's
//!   per-partner counter) — a rejecting one when sets are in error; an X12 interchange whose
//!   ISA14 asks for it (or whose partner's profile says `ta1: true`) also gets a TA1; a set
//!   outside the profile's `accept:` list is rejected in it (AK5/IK5 code 1, UCM 0085 14);
//! - acknowledgments are never acknowledged ([`replies`]): an interchange holding only
//!   997/999/CONTRL groups or a TA1 gets no 997/999/CONTRL and no TA1, and in a mixed one the
//!   groups of acks are left out of our 997/999/CONTRL;
//! - an envelope error (IEA/GE or UNZ/UNE counts, control numbers that do not match, a
//!   missing trailer) rejects the **whole interchange**: every ack says so (TA1 `R` with the
//!   note code, CONTRL UCI `4`, every set `R` in the 997/999), nothing in it is processed, and
//!   its control number is not recorded, so the partner can send it again corrected;
//! - accepted 850/ORDERS become orders (`order.received`, the same intake as `ordo submit`;
//!   the same customer and PO again is reported as a duplicate order, not processed twice);
//!   one that names a quote (`REF*PR`, `RFF+AAG`) is that quote accepted
//!   (`ordo_sales::quote::accept_quote_from`: the quote's lines at the quoted prices; a quote
//!   unknown, expired, accepted already or differing from the order refuses it);
//! - accepted 820/REMADV become remittance advices (`remittance/<partner>:<reference>`,
//!   claimed: the same reference from the same partner again is reported as a duplicate, not
//!   stored twice), kept with the id of the raw file they came in; one whose amounts are
//!   missing or do not add up is a located error the acknowledgment rejects, and the file is
//!   quarantined with it. Bank reconciliation allocates a matching credit as the advice says;
//! - accepted 860/ORDCHG are read into change requests (`ReceiveOutcome::Processed::pending`)
//!   that the engine decides in the same transaction through the one change path and answers
//!   with an 865/ORDRSP ([`crate::changes`]);
//! - a 997/999/CONTRL from the partner is matched to the interchange of ours it acknowledges
//!   (`edi_sent/<partner>:<control>`), and the verdict is written there and on the order.
//!
//! A file with no readable interchange is rejected whole. The outcome tells the engine whether
//! the file goes to the archive (everything processed cleanly) or to quarantine with a reason.
//! Every problem is located `name:line:col` at what it is about (the element of an issue, the
//! header of a set, the interchange), computed like `ordo edi parse` does
//! ([`ordo_edi::Lines`]); input quoted in a reason is cut to
//! [`ReceiveOptions::max_excerpt_chars`], and a reason lists at most [`MAX_PROBLEMS`] problems.

use base64::Engine as _;
use chrono::NaiveDateTime;
use ordo_contract::excerpt;
use ordo_contract::{Intake, StepContext, StepContextExt, StepError};
use ordo_edi::ack::{self, AckKind, AckOptions, AckStatus, ContrlOptions, Ta1Options};
use ordo_edi::map::MapOptions;
use ordo_edi::{Interchange, Lines, Standard};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::outbound::{FILE_CHANNEL, next_control, record_sent};
use crate::profile::Partner;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReceiveOutcome {
    /// Every interchange was processed; `problems` lists what an operator should look at
    /// (rejected sets, unknown senders, duplicates) — the file is quarantined when not empty.
    Processed {
        file_id: String,
        interchanges: Vec<Value>,
        orders: Vec<String>,
        /// Remittance advices stored (`remittance/<id>`).
        #[serde(default)]
        remittances: Vec<String>,
        /// What a supplier's answers did: `po-response` (an 855/ORDRSP taken, the PO's date
        /// moved or not) and `ship-notice` (an 856/DESADV kept as an expected receipt).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        supplier: Vec<Value>,
        /// Change requests (860/ORDCHG) and what became of them (see [`crate::changes`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        changes: Vec<Value>,
        problems: Vec<String>,
        /// Change requests read, not yet decided: the engine applies each through the one
        /// change path and answers it ([`crate::changes::answer_change`]). Never stored.
        #[serde(skip)]
        pending: Vec<crate::changes::PendingChange>,
    },
    /// The same bytes were received before.
    Duplicate { file_id: String, reason: String },
    /// Nothing in the file could be read as an interchange.
    Rejected { file_id: String, error: String },
}

impl ReceiveOutcome {
    pub fn file_id(&self) -> &str {
        match self {
            ReceiveOutcome::Processed { file_id, .. }
            | ReceiveOutcome::Duplicate { file_id, .. }
            | ReceiveOutcome::Rejected { file_id, .. } => file_id,
        }
    }

    /// Why the file goes to quarantine, or None when it is archived.
    pub fn quarantine_reason(&self) -> Option<String> {
        match self {
            ReceiveOutcome::Processed { problems, .. } if problems.is_empty() => None,
            ReceiveOutcome::Processed { problems, .. } => {
                let mut lines: Vec<&str> = problems
                    .iter()
                    .take(MAX_PROBLEMS)
                    .map(String::as_str)
                    .collect();
                let more = problems.len().saturating_sub(MAX_PROBLEMS);
                let tail = format!("… and {more} more problem(s), see `ordo edi parse`");
                if more > 0 {
                    lines.push(&tail);
                }
                Some(lines.join("\n"))
            }
            ReceiveOutcome::Duplicate { reason, .. } => {
                Some(format!("duplicate file, not processed again: {reason}"))
            }
            ReceiveOutcome::Rejected { error, .. } => Some(format!("rejected: {error}")),
        }
    }
}

/// Most problems a quarantine reason lists (the rest are counted): a file of a million bad
/// segments gets a short reason; `ordo edi parse` shows them all.
pub const MAX_PROBLEMS: usize = 50;

/// Most AK5/AK9/UCI/UCM codes kept with a received acknowledgment (a hostile 997 may hold
/// millions of AK5s).
const MAX_ACK_CODES: usize = 20;

/// Most error issues reported per interchange.
const MAX_ISSUES_PER_INTERCHANGE: usize = 20;

/// How [`receive_file_with`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// Longest excerpt of the input quoted in a problem (`limits.max_excerpt_chars`).
    pub max_excerpt_chars: usize,
    /// A person asked for this file again (a quarantined file after its profile was fixed):
    /// the same bytes are not a duplicate file, and an interchange this same file already
    /// delivered is skipped quietly (its orders and acks exist) instead of reported as a
    /// duplicate; interchanges it did not deliver (unknown sender, wrong receiver, envelope
    /// rejected) are processed now.
    pub reprocess: bool,
}

impl Default for ReceiveOptions {
    fn default() -> Self {
        ReceiveOptions {
            max_excerpt_chars: ordo_contract::DEFAULT_EXCERPT_CHARS,
            reprocess: false,
        }
    }
}

/// Where problems of one file are: its name, its line table, the excerpt bound.
struct Loc<'a> {
    name: &'a str,
    file_id: &'a str,
    reprocess: bool,
    lines: Lines,
    max: usize,
}

impl Loc<'_> {
    fn at(&self, offset: usize) -> String {
        let (l, c) = self.lines.at(offset);
        format!("{}:{l}:{c}", self.name)
    }
    fn ex(&self, s: &str) -> String {
        excerpt(s, self.max)
    }
}

/// [`receive_file_with`] with the default options.
pub async fn receive_file(
    ctx: &mut dyn StepContext,
    partners: &[Partner],
    name: &str,
    bytes: &[u8],
) -> Result<ReceiveOutcome, StepError> {
    receive_file_with(ctx, partners, name, bytes, &ReceiveOptions::default()).await
}

/// Processes `bytes`, received as `name`, against the known partners.
pub async fn receive_file_with(
    ctx: &mut dyn StepContext,
    partners: &[Partner],
    name: &str,
    bytes: &[u8],
    opts: &ReceiveOptions,
) -> Result<ReceiveOutcome, StepError> {
    let id = ordo_contract::content_id(bytes);
    if !opts.reprocess
        && let Some(prev) = ctx.get::<Received>("edi_file", &id).await?
    {
        return Ok(ReceiveOutcome::Duplicate {
            reason: format!(
                "the same file was received as '{}' at {}",
                // Message only: a record without the file's name.
                prev.name.as_deref().unwrap_or("?"),
                prev.received_at
            ),
            file_id: id,
        });
    }
    let now = ctx.now().naive_utc();
    let mut interchanges = Vec::new();
    let mut orders = Vec::new();
    let mut remittances = Vec::new();
    let mut supplier = Vec::new();
    let mut problems = Vec::new();
    let mut pending = Vec::new();
    let mut read_any = false;
    let loc = Loc {
        name,
        file_id: &id,
        reprocess: opts.reprocess,
        lines: Lines::new(bytes),
        max: opts.max_excerpt_chars,
    };
    for r in ordo_edi::read(bytes) {
        let ich = match r {
            Ok(i) => i,
            Err(e) => {
                // Error position only: an error without an offset is placed at the file start.
                let at = e.offset().unwrap_or(0);
                problems.push(format!("{}: {}", loc.at(at), loc.ex(&e.to_string())));
                continue;
            }
        };
        read_any = true;
        let mut out = Found {
            file_id: &id,
            orders: &mut orders,
            remittances: &mut remittances,
            supplier: &mut supplier,
            problems: &mut problems,
            pending: &mut pending,
        };
        let summary = interchange(ctx, partners, &ich, &loc, now, &mut out).await?;
        interchanges.push(summary);
    }
    let outcome = if read_any {
        ReceiveOutcome::Processed {
            file_id: id.clone(),
            interchanges,
            orders,
            remittances,
            supplier,
            changes: Vec::new(),
            problems,
            pending,
        }
    } else {
        ReceiveOutcome::Rejected {
            file_id: id.clone(),
            error: if problems.is_empty() {
                format!("{name}: empty file")
            } else {
                problems.join("; ")
            },
        }
    };
    let mut file = json!({ "id": id, "name": name, "size": bytes.len(),
                           "received_at": ctx.now().to_rfc3339(), "outcome": outcome });
    match std::str::from_utf8(bytes) {
        Ok(t) => {
            file["encoding"] = json!("utf-8");
            file["content"] = json!(t);
        }
        Err(_) => {
            file["encoding"] = json!("base64");
            file["content"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
        }
    }
    ctx.put_document("edi_file", &id, &file).await?;
    // A duplicate was told about when it first came; anything else quarantined is news.
    if let Some(reason) = outcome.quarantine_reason() {
        let data = json!({ "file_id": id, "name": name, "reason": reason });
        ctx.publish("edi.rejected", &id, &data).await?;
    }
    Ok(outcome)
}

/// What a duplicate message quotes of an earlier `edi_file` or `edi_control` record (both
/// written by this module; other fields are not read here). The file name is absent from
/// control records and the file from file records: a message shows `?` for what it lacks.
#[derive(Debug, serde::Deserialize)]
struct Received {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    file_id: Option<String>,
    received_at: String,
}

/// What the interchanges of one file produced, and the file they came in.
struct Found<'a> {
    file_id: &'a str,
    orders: &'a mut Vec<String>,
    remittances: &'a mut Vec<String>,
    supplier: &'a mut Vec<Value>,
    problems: &'a mut Vec<String>,
    pending: &'a mut Vec<crate::changes::PendingChange>,
}

async fn interchange(
    ctx: &mut dyn StepContext,
    partners: &[Partner],
    ich: &Interchange<'_>,
    loc: &Loc<'_>,
    now: NaiveDateTime,
    found: &mut Found<'_>,
) -> Result<Value, StepError> {
    let orders = &mut *found.orders;
    let problems = &mut *found.problems;
    let at = &loc.at(ich.offset);
    let ctl = loc.ex(&ich.control_number);
    let sender = format!("{}:{}", ich.sender.qualifier.trim(), ich.sender.id.trim());
    let mut summary = json!({ "control_number": ich.control_number, "sender": sender,
                              "receiver": format!("{}:{}", ich.receiver.qualifier.trim(), ich.receiver.id.trim()) });
    // A CSV supplier sends nothing: only EDI profiles are matched to what comes in.
    let Some(partner) = partners
        .iter()
        .find(|p| p.is_edi() && p.their_id.matches(&ich.sender))
    else {
        problems.push(format!(
            "{at}: interchange {ctl} from unknown sender {}: rejected, kept, not acknowledged",
            loc.ex(&sender)
        ));
        summary["status"] = json!("unknown_sender");
        return Ok(summary);
    };
    summary["partner"] = json!(partner.partner);
    if !partner.our_id.matches(&ich.receiver) {
        problems.push(format!(
            "{at}: interchange {ctl} from {} is addressed to {}, not to us ({}:{}): rejected, kept",
            partner.partner,
            // The summary is built above with the receiver as text; only quoted here.
            loc.ex(summary["receiver"].as_str().unwrap_or_default()),
            partner.our_id.qualifier,
            partner.our_id.id
        ));
        summary["status"] = json!("wrong_receiver");
        return Ok(summary);
    }
    let ctl_key = format!("{}:in:{}", partner.partner, ich.control_number.trim());
    if let Some(prev) = ctx.get::<Received>("edi_control", &ctl_key).await? {
        if loc.reprocess && prev.file_id.as_deref() == Some(loc.file_id) {
            summary["status"] = json!("already_processed");
            return Ok(summary);
        }
        problems.push(format!(
            "{at}: interchange {ctl} from {} was already received in file {} at {}: duplicate, not processed again",
            partner.partner,
            // Message only: a record without the file's name.
            prev.file.as_deref().unwrap_or("?"),
            prev.received_at
        ));
        summary["status"] = json!("duplicate");
        return Ok(summary);
    }

    let mut issues = ordo_edi::validate(ich);
    // sets outside the profile's `accept:` are rejected (AK5/IK5 code 1, UCM 0085 14)
    issues.extend(ack::refused(ich, &partner.accept()));
    // an 820/REMADV that cannot be mapped (amount missing, totals off) is rejected in the ack
    issues.extend(ordo_edi::map::remittance_issues(ich));
    // a supplier's 855/ORDRSP/856/DESADV that cannot be mapped, or names a PO ordo did not
    // send it, an item not on it, more than is open: rejected in the ack
    if partner.is_supplier() {
        issues.extend(ordo_edi::map::supplier_issues(ich));
        issues.extend(crate::supplier::answer_issues(ctx, partner, ich).await?);
    }
    let verdicts = ack::summarize(ich, &issues);
    summary["groups"] = json!(verdicts
        .iter()
        .map(|g| json!({ "functional_id": g.functional_id, "control_number": g.control_number, "status": g.status.x12(),
                         "sets": g.sets.iter().map(|s| json!({ "set": s.set_id, "control_number": s.control_number, "status": s.status.x12() })).collect::<Vec<_>>() }))
        .collect::<Vec<_>>());
    let errors: Vec<&ordo_edi::Issue> = issues.iter().filter(|i| i.is_error()).collect();
    for i in errors.iter().take(MAX_ISSUES_PER_INTERCHANGE) {
        let (l, c) = loc.lines.of_issue(ich, i);
        problems.push(format!("{}:{l}:{c}: {i:.max$}", loc.name, max = loc.max));
    }
    if errors.len() > MAX_ISSUES_PER_INTERCHANGE {
        problems.push(format!(
            "{at}: interchange {ctl}: {} more error(s) not listed",
            errors.len() - MAX_ISSUES_PER_INTERCHANGE
        ));
    }
    let rejected = ack::interchange_rejected(&issues);
    if rejected {
        problems.push(format!(
            "{at}: interchange {ctl} from {} rejected whole for its envelope error: nothing in it is processed (see the acknowledgment)",
            partner.partner
        ));
        summary["status"] = json!("rejected");
    }

    acknowledge(ctx, partner, ich, &issues, at, now, &mut summary, problems).await?;
    if rejected {
        // Not recorded as received: the partner may send it again, corrected, under the
        // same control number.
        return Ok(summary);
    }

    // The business content.
    let opts = MapOptions {
        customer_id: partner.customer.clone(),
        partner: Some(partner.partner.clone()),
        default_currency: partner.currency.clone(),
    };
    for (gi, ti, t) in ich.transactions() {
        // problems of a set are located at its header (ST / UNH)
        let at = &loc.at(ich.segments.get(t.header).map_or(ich.offset, |s| s.offset));
        let accepted = verdicts.get(gi).is_none_or(|g| {
            g.status != AckStatus::Rejected && g.sets.get(ti).is_none_or(|s| s.status.is_accepted())
        });
        match t.set_id.as_str() {
            "850" | "ORDERS" if accepted => match ordo_edi::map::to_order(ich, t, &opts) {
                Ok(mut order) => {
                    order.channel = match ich.standard {
                        Standard::X12 => "edi-x12".into(),
                        Standard::Edifact => "edifact".into(),
                    };
                    let mut doc = serde_json::to_value(&order)
                        .map_err(|e| StepError::Permanent(e.to_string()))?;
                    doc["edi"] = json!({ "partner": partner.partner, "interchange": ich.control_number,
                                         "group": verdicts.get(gi).map(|g| g.control_number.clone()),
                                         "set": t.control_number });
                    // The intake of every channel: bounds, customer + PO and id claimed.
                    let set = format!("{at}: {} {} from {}", t.set_id, t.control_number, partner.partner);
                    if let Some(quote) = ordo_edi::map::quote_named(ich, t) {
                        // Naming a quote: the quote's order at the quoted prices, through the
                        // acceptance `ordo quote accept` makes (one truth).
                        let named = ordo_sales::quote::NamedBy { order: &order, extra: &doc };
                        match ordo_sales::quote::accept_quote_from(ctx, &quote, Some(&order.po_number), Some(named)).await {
                            Ok(_) => orders.push(order.id),
                            Err(StepError::Permanent(e)) => problems.push(format!(
                                "{set}: refused, no order created: {}", loc.ex(&e)
                            )),
                            Err(e) => return Err(e),
                        }
                        continue;
                    }
                    match ordo_contract::accept_order(ctx, &order, &doc).await? {
                        Intake::Accepted => orders.push(order.id),
                        Intake::Duplicate { earlier } => problems.push(format!(
                            "{set}: {}: duplicate, not processed twice",
                            Intake::duplicate_reason(&order, &earlier, "received")
                        )),
                        Intake::Invalid(errors) => problems.push(format!(
                            "{set}: refused, no order created: {}",
                            errors.join("; ")
                        )),
                    }
                }
                Err(e) => problems.push(format!("{at}: {}", loc.ex(&e.to_string()))),
            },
            "850" | "ORDERS" => problems.push(format!(
                "{at}: {} {} rejected (see the acknowledgment), no order created",
                t.set_id,
                loc.ex(&t.control_number)
            )),
            "820" | "REMADV" if accepted => {
                let set = format!("{at}: {} {} from {}", t.set_id, loc.ex(&t.control_number), partner.partner);
                match ordo_edi::map::to_remittance(ich, gi, ti, t, &opts) {
                    Ok(advice) => {
                        let mut doc = serde_json::to_value(&advice)
                            .map_err(|e| StepError::Permanent(e.to_string()))?;
                        doc["status"] = json!("received");
                        doc["received_at"] = json!(ctx.now().to_rfc3339());
                        doc["edi"] = json!({ "partner": partner.partner, "interchange": ich.control_number,
                                             "group": verdicts.get(gi).map(|g| g.control_number.clone()),
                                             "set": t.control_number, "file": found.file_id });
                        // One advice per partner and reference: the store's unique key decides.
                        match ctx.claim_document(ordo_contract::remittance::REMITTANCE_KIND, &advice.id, &doc).await? {
                            None => found.remittances.push(advice.id),
                            Some(earlier) => problems.push(format!(
                                "{set}: remittance advice {} was already received (in file {}): duplicate, not stored twice",
                                loc.ex(&advice.reference),
                                // Message only: an advice stored without its file id.
                                earlier["edi"]["file"].as_str().unwrap_or("?")
                            )),
                        }
                    }
                    // Never taken: a set whose mapping fails is rejected above (its issue).
                    Err(e) => problems.push(format!("{set}: {}", loc.ex(&e.to_string()))),
                }
            }
            "820" | "REMADV" => problems.push(format!(
                "{at}: {} {} rejected (see the acknowledgment), no remittance advice stored",
                t.set_id,
                loc.ex(&t.control_number)
            )),
            "855" | "ORDRSP" | "856" | "DESADV" if partner.is_supplier() => {
                let set = format!("{at}: {} {} from {}", t.set_id, loc.ex(&t.control_number), partner.partner);
                if !accepted {
                    problems.push(format!("{set}: rejected (see the acknowledgment), not taken"));
                    continue;
                }
                let is_response = matches!(t.set_id.as_str(), "855" | "ORDRSP");
                if is_response {
                    match ordo_edi::map::to_po_response(ich, gi, ti, t) {
                        Ok(r) => {
                            let done = crate::supplier::take_response(ctx, partner, &r, &ich.control_number, found.file_id).await?;
                            found.supplier.push(json!({ "po-response": done }));
                        }
                        // Never taken: a set whose mapping fails is rejected above (its issue).
                        Err(e) => problems.push(format!("{set}: {}", loc.ex(&e.to_string()))),
                    }
                } else {
                    match ordo_edi::map::to_ship_notice(ich, gi, ti, t) {
                        Ok(n) => match crate::supplier::take_notice(ctx, partner, &n, found.file_id).await? {
                            Ok(key) => found.supplier.push(json!({ "ship-notice": key })),
                            Err(dup) => problems.push(format!("{set}: {dup}")),
                        },
                        Err(e) => problems.push(format!("{set}: {}", loc.ex(&e.to_string()))),
                    }
                }
            }
            "860" | "ORDCHG" => {
                let set = format!("{at}: {} {} from {}", t.set_id, loc.ex(&t.control_number), partner.partner);
                if accepted {
                    // Decided after this function, in the same transaction (see `crate::changes`).
                    found.pending.push(crate::changes::PendingChange {
                        partner: partner.partner.clone(),
                        standard: ich.standard,
                        set,
                        request: ordo_edi::map::to_change_request(ich, t, &opts)
                            .map_err(|u| *u),
                    });
                } else {
                    problems.push(format!(
                        "{set}: rejected (see the acknowledgment), the order is not changed"
                    ));
                }
            }
            "997" | "999" => received_x12_ack(ctx, partner, ich, t, at, problems).await?,
            "CONTRL" => received_contrl(ctx, partner, ich, t, at, problems).await?,
            other => problems.push(format!(
                "{at}: {} {} from {}: ordo does not take this document inbound; kept, not processed",
                loc.ex(other),
                loc.ex(&t.control_number),
                partner.partner
            )),
        }
    }
    ctx.put_document(
        "edi_control",
        &ctl_key,
        &json!({ "partner": partner.partner, "control_number": ich.control_number,
                 "received_at": ctx.now().to_rfc3339(), "file": at.split(':').next(),
                 "file_id": loc.file_id }),
    )
    .await?;
    summary["status"] = json!("processed");
    Ok(summary)
}

/// The acknowledgments ordo sends for one interchange of a partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replies {
    /// A TA1 (X12 only): their ISA14 or the profile's `ta1: true` asks for it.
    pub ta1: bool,
    /// The 997, 999 or CONTRL the profile's `acknowledgment:` names (`None`: none).
    pub functional: Option<&'static str>,
}

/// What ordo answers `ich` with. Acknowledgments are never acknowledged: an interchange that
/// holds only 997/999/CONTRL groups or a TA1 ([`ack::holds_only_acks`]) gets nothing, not
/// even a TA1 its ISA14 asks for (also when its envelope is broken: the problem is reported
/// on the file instead). In a mixed interchange the 997/999/CONTRL leaves the groups of acks
/// out (the codec does).
pub fn replies(partner: &Partner, ich: &Interchange<'_>) -> Replies {
    if ack::holds_only_acks(ich) {
        return Replies {
            ta1: false,
            functional: None,
        };
    }
    let kind = partner.acknowledgment.to_ascii_uppercase();
    let functional = match ich.standard {
        _ if kind == "NONE" => None,
        Standard::X12 if kind == "999" => Some("999"),
        Standard::X12 => Some("997"),
        Standard::Edifact => Some("CONTRL"),
    };
    Replies {
        ta1: ich.standard == Standard::X12 && (ich.ack_requested || partner.ta1),
        functional,
    }
}

/// Our acknowledgments of `ich` ([`replies`]): the 997/999 or CONTRL the partner's profile
/// asks for, and a TA1 when its ISA14 or the profile (`ta1: true`) asks.
#[allow(clippy::too_many_arguments)]
async fn acknowledge(
    ctx: &mut dyn StepContext,
    partner: &Partner,
    ich: &Interchange<'_>,
    issues: &[ordo_edi::Issue],
    at: &str,
    now: NaiveDateTime,
    summary: &mut Value,
    problems: &mut Vec<String>,
) -> Result<(), StepError> {
    let replies = replies(partner, ich);
    // A profile with bad separators is refused when loaded; one stored by an older build fails
    // the step like on the outbound side, instead of acknowledging in other separators.
    let seps = partner.separators().map_err(|e| {
        StepError::Permanent(format!("partner {}: separators: {e}", partner.partner))
    })?;
    if replies.ta1 {
        let ctl = next_control(ctx, &partner.partner).await?;
        let mut o = Ta1Options::new(ctl, now);
        o.separators = seps;
        let bytes = ack::ta1(ich, issues, &o);
        summary["ta1"] = send_ack(ctx, partner, ich, ctl, "TA1", bytes, at, problems).await?;
    }
    let Some(kind) = replies.functional else {
        return Ok(());
    };
    let ctl = next_control(ctx, &partner.partner).await?;
    let bytes = match ich.standard {
        Standard::X12 => {
            let k = if kind == "999" {
                AckKind::X999
            } else {
                AckKind::X997
            };
            let mut o = AckOptions::new(k, ctl, now);
            o.separators = seps;
            ack::x12_ack(ich, issues, &o)
        }
        Standard::Edifact => {
            let mut o = ContrlOptions::new(ctl, now);
            o.separators = seps;
            ack::contrl(ich, issues, &o)
        }
    };
    summary["ack"] = send_ack(ctx, partner, ich, ctl, kind, bytes, at, problems).await?;
    Ok(())
}

/// Queues one acknowledgment file for the partner's outbound folder and records it as sent.
#[allow(clippy::too_many_arguments)]
async fn send_ack(
    ctx: &mut dyn StepContext,
    partner: &Partner,
    ich: &Interchange<'_>,
    ctl: u64,
    kind: &str,
    bytes: Result<Vec<u8>, ordo_edi::EdiError>,
    at: &str,
    problems: &mut Vec<String>,
) -> Result<Value, StepError> {
    let b = match bytes {
        Ok(b) => b,
        Err(e) => {
            problems.push(format!(
                "{at}: interchange {}: could not write the {kind}: {e}",
                excerpt(&ich.control_number, 20)
            ));
            return Ok(Value::Null);
        }
    };
    let text = String::from_utf8_lossy(&b).into_owned();
    let file = format!("{}-{ctl:09}-{}.edi", partner.partner, kind.to_lowercase());
    ctx.send_outbound(
        FILE_CHANNEL,
        &format!("edi/{}/{ctl}", partner.partner),
        &json!({ "dir": partner.folder("outbound"), "name": file, "content": text }),
    )
    .await?;
    record_sent(
        ctx,
        partner,
        ctl,
        kind,
        None,
        &json!({ "acknowledges": ich.control_number, "file": file }),
    )
    .await?;
    Ok(json!({ "kind": kind, "control_number": ctl, "file": file }))
}

/// AK1 names the group of ours being acknowledged (its GS06 = our interchange control number);
/// AK9 (997) or AK9/IK5 (999) gives the verdict.
async fn received_x12_ack(
    ctx: &mut dyn StepContext,
    partner: &Partner,
    ich: &Interchange<'_>,
    t: &ordo_edi::Transaction,
    at: &str,
    problems: &mut Vec<String>,
) -> Result<(), StepError> {
    let mut group: Option<String> = None;
    let mut verdict: Option<String> = None;
    // the set (AK5/IK5) and group (AK9) codes that say why, as `AK5 R 5` (shown to people)
    let mut codes: Vec<String> = Vec::new();
    for s in ich.transaction_segments(t) {
        match s.tag() {
            "AK1" => group = s.opt(2),
            "AK9" => verdict = s.opt(1),
            _ => {}
        }
        let reasons = match s.tag() {
            "AK5" | "IK5" => 2..=6,
            "AK9" => 5..=9,
            _ => continue,
        };
        let mut code = format!("{} {}", s.tag(), excerpt(&s.opt(1).unwrap_or_default(), 3));
        for n in reasons {
            if let Some(c) = s.opt(n).filter(|c| !c.is_empty()) {
                code.push(' ');
                code.push_str(&excerpt(&c, 5));
            }
        }
        if codes.len() < MAX_ACK_CODES {
            codes.push(code);
        }
    }
    let Some(group) = group else {
        problems.push(format!(
            "{at}: {} {} has no AK1",
            t.set_id, t.control_number
        ));
        return Ok(());
    };
    apply_ack(
        ctx,
        partner,
        &group,
        // An AK9/AK5 without a status code: `?` is no verdict apply_ack acts on.
        verdict.as_deref().unwrap_or("?"),
        &codes,
        &t.set_id,
        at,
        problems,
    )
    .await
}

/// UCI names our interchange (0020) and gives the action (7 accepted, 4 rejected, 8 received).
async fn received_contrl(
    ctx: &mut dyn StepContext,
    partner: &Partner,
    ich: &Interchange<'_>,
    t: &ordo_edi::Transaction,
    at: &str,
    problems: &mut Vec<String>,
) -> Result<(), StepError> {
    let Some(uci) = ich.transaction_segments(t).find(|s| s.tag() == "UCI") else {
        problems.push(format!("{at}: CONTRL {} has no UCI", t.control_number));
        return Ok(());
    };
    // No reference: an empty control number, which apply_ack reports as not ours.
    let ctl = uci.opt(1).unwrap_or_default();
    let verdict = match uci.opt(4).as_deref() {
        Some("7") => "A",
        Some("4") => "R",
        Some("8") => "received",
        _ => "?",
    };
    // UCI action and error code (0083, 0085), then each UCM's: why, for people
    let codes: Vec<String> = ich
        .transaction_segments(t)
        .filter(|s| matches!(s.tag(), "UCI" | "UCM"))
        .take(MAX_ACK_CODES)
        .map(|s| {
            let (action, error) = if s.tag() == "UCI" { (4, 5) } else { (3, 4) };
            let mut code = format!(
                "{} {}",
                s.tag(),
                excerpt(&s.opt(action).unwrap_or_default(), 3)
            );
            if let Some(e) = s.opt(error).filter(|e| !e.is_empty()) {
                code.push(' ');
                code.push_str(&excerpt(&e, 5));
            }
            code
        })
        .collect();
    apply_ack(ctx, partner, &ctl, verdict, &codes, "CONTRL", at, problems).await
}

#[allow(clippy::too_many_arguments)]
async fn apply_ack(
    ctx: &mut dyn StepContext,
    partner: &Partner,
    control: &str,
    verdict: &str,
    codes: &[String],
    kind: &str,
    at: &str,
    problems: &mut Vec<String>,
) -> Result<(), StepError> {
    // Control numbers we send are 1, 2, 3 …: one that is not a number is not ours.
    let Ok(n) = control.trim().parse::<u64>() else {
        problems.push(format!(
            "{at}: {kind} from {} acknowledges '{}', which is not a control number ordo sends",
            partner.partner,
            excerpt(control, 40)
        ));
        return Ok(());
    };
    let key = format!("{}:{n}", partner.partner);
    let Some(mut sent) = ctx.get_document("edi_sent", &key).await? else {
        problems.push(format!(
            "{at}: {kind} from {} acknowledges {control}, which ordo did not send them",
            partner.partner
        ));
        return Ok(());
    };
    let ack = json!({ "kind": kind, "status": verdict, "codes": codes,
                      "received_at": ctx.now().to_rfc3339() });
    sent["ack"] = ack.clone();
    ctx.put_document("edi_sent", &key, &sent).await?;
    if verdict == "R" {
        problems.push(format!(
            "{at}: {} rejected our {} {control} ({kind})",
            partner.partner,
            // Only names what was rejected in the message.
            sent["document"].as_str().unwrap_or("interchange")
        ));
    }
    if let Some(order_id) = sent["order_id"].as_str()
        && let Some(mut order) = ctx.get_document("order", order_id).await?
    {
        let entry = json!({ "document": sent["document"], "control_number": n, "ack": ack });
        match order["edi_acks"].as_array_mut() {
            Some(list) => list.push(entry),
            None => order["edi_acks"] = json!([entry]),
        }
        ctx.put_document("order", order_id, &order).await?;
    }
    Ok(())
}
