//! Sending business documents to the partner an order came from: the `edi.send` connector.
//!
//! `with: { document: order_response | ship_notice | invoice | credit_note }` renders, for the
//! order's partner, an 855 / 856 / 810 / 810 credit memo (X12) or ORDRSP / DESADV / INVOIC /
//! INVOIC 381 (EDIFACT) in the partner's
//! version and separators, under an interchange control number from the store's per-partner
//! counter (`edi.<partner>`, gapless and never reused: it is taken in the step's transaction),
//! and queues it as a file for the partner's outbound folder (written after commit, atomically).
//! `edi_sent/<partner>:<control>` records what was sent for the order; the partner's 997/CONTRL
//! is matched to it later. Orders that did not come by EDI, and documents the partner does not
//! want, give `skipped`.

use async_trait::async_trait;
use ordo_contract::{
    Company, Connector, Invoice, Order, Shipment, StepContext, StepContextExt, StepError,
    StepInput, StepOutput, data_field,
};
use ordo_edi::Standard;
use ordo_edi::write::{Document, Envelope};
use serde_json::{Value, json};

use crate::profile::Partner;

/// Document kind of a stored credit note (`ordo_sales::issue_credit_note` writes it).
pub const CREDIT_NOTE_DOC: &str = "credit_note";

/// The engine's outbound channel for named text files (`{dir, name, content}`).
pub const FILE_CHANNEL: &str = "file";

/// Document kind of a stored partner profile: `partner/<name>` (the engine keeps it in sync
/// with `config/partners/<name>.yaml`, folders resolved).
pub const PARTNER_DOC: &str = "partner";

/// Document kind and id of our company profile, kept by the engine from `config/company.yaml`.
pub const COMPANY_DOC: (&str, &str) = ("company", "self");

fn permanent(m: impl Into<String>) -> StepError {
    StepError::Permanent(m.into())
}

/// The next interchange control number for `partner` (1, 2, 3 … per partner).
pub async fn next_control(ctx: &mut dyn StepContext, partner: &str) -> Result<u64, StepError> {
    let n = ctx.next_number(&format!("edi.{partner}")).await?;
    Ok(n as u64)
}

/// Records an interchange we sent (documents and acknowledgments alike).
pub async fn record_sent(
    ctx: &mut dyn StepContext,
    partner: &Partner,
    control: u64,
    document: &str,
    order_id: Option<&str>,
    extra: &Value,
) -> Result<(), StepError> {
    let mut doc = json!({ "partner": partner.partner, "control_number": control, "document": document,
                          "order_id": order_id, "sent_at": ctx.now().to_rfc3339(), "ack": null });
    if let (Some(o), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    ctx.put_document("edi_sent", &format!("{}:{control}", partner.partner), &doc)
        .await?;
    Ok(())
}

pub struct SendDocument;

#[async_trait]
impl Connector for SendDocument {
    fn name(&self) -> &'static str {
        "edi.send"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["sent", "skipped"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let which = input.params["document"]
            .as_str()
            .ok_or_else(|| permanent("edi.send needs `with: { document: … }`"))?;
        if !crate::profile::DOCUMENTS.contains(&which) {
            return Err(permanent(format!(
                "edi.send: unknown document '{which}' (documents: {})",
                crate::profile::DOCUMENTS.join(", ")
            )));
        }
        if which == crate::quotes::QUOTE {
            // Sent by `quote.send` with the quote itself (`crate::quotes`), not by a step.
            return Err(permanent(
                "edi.send: a quote goes to its partner when `quote.send` sends it; a step does not send it",
            ));
        }
        if which == "change_response" {
            // Sent when a partner's change request is decided (`crate::changes`), not by a step.
            return Err(permanent(
                "edi.send: a change_response answers a partner's 860/ORDCHG when it is decided; a step does not send it",
            ));
        }
        // A credit note's step (workflows/credit-note-edi.yaml) carries the credit note, not
        // the order: the order comes from the store, as the order channel claimed it.
        let credit_note = if which == "credit_note" {
            let number: String = data_field(&input.data["credit_note"], "number")?;
            let doc = ctx
                .get_document(CREDIT_NOTE_DOC, &number)
                .await?
                .ok_or_else(|| permanent(format!("no credit note '{number}'")))?;
            let cn: Invoice = ordo_contract::from_doc(CREDIT_NOTE_DOC, &number, &doc)?;
            let corrects: String = data_field(&doc, "corrects")?;
            Some((cn, corrects))
        } else {
            None
        };
        let mut order: Order = match &credit_note {
            Some((cn, _)) => ctx.get("order", &cn.order_id).await?.ok_or_else(|| {
                permanent(format!(
                    "credit note {}: no order '{}' stored",
                    cn.number, cn.order_id
                ))
            })?,
            None => data_field(input.data, "order")?,
        };
        let Some(name) = order.partner.clone() else {
            return Ok(StepOutput::outcome("skipped"));
        };
        let partner: Partner = ctx.get(PARTNER_DOC, &name).await?.ok_or_else(|| {
            permanent(format!(
                "order {} came from partner '{name}', which has no profile in config/partners/",
                order.id
            ))
        })?;
        if !partner.wants(which) {
            return Ok(StepOutput::outcome("skipped"));
        }
        // We are the seller: when the buyer's order did not name us, our party comes from the
        // company profile (the same one the printed invoice uses).
        if !order.parties.iter().any(|p| p.role == "seller")
            && let Some(company) = ctx.get::<Company>(COMPANY_DOC.0, COMPANY_DOC.1).await?
        {
            order.parties.push(company.party());
        }
        let version = partner.version().map_err(permanent)?;
        let x12 = version.standard() == Standard::X12;
        let today = ctx.now().date_naive();
        let (doc, reference): (Document, String) = match which {
            "order_response" => {
                // The lines' promised dates (`order.promise`), when the workflow made them.
                let promised = promises(input.data)?;
                let d = if x12 {
                    ordo_edi::map::order_to_855_promised(&order, today, &promised)
                } else {
                    ordo_edi::map::order_to_ordrsp_promised(&order, today, &promised)
                };
                (d, order.id.clone())
            }
            "ship_notice" => {
                let s: Shipment = data_field(input.data, "shipment")?;
                let d = if x12 {
                    ordo_edi::map::shipment_to_856(&s, &order)
                } else {
                    ordo_edi::map::shipment_to_desadv(&s, &order)
                }
                .map_err(|e| permanent(e.to_string()))?;
                (d, s.id)
            }
            "credit_note" => {
                let Some((cn, corrects)) = credit_note else {
                    return Err(permanent("edi.send: credit note not read"));
                };
                let d = if x12 {
                    ordo_edi::map::credit_memo_to_810(&cn, &corrects, &order)
                } else {
                    ordo_edi::map::credit_note_to_invoic(&cn, &corrects, &order)
                }
                .map_err(|e| permanent(e.to_string()))?;
                (d, cn.number)
            }
            _ => {
                // No invoice this time (per-order invoicing before the last shipment).
                let Some(number) = input.data["invoice"]["number"].as_str().map(String::from)
                else {
                    return Ok(StepOutput::outcome("skipped"));
                };
                let inv: Invoice = ctx
                    .get("invoice", &number)
                    .await?
                    .ok_or_else(|| permanent(format!("no invoice '{number}'")))?;
                let d = if x12 {
                    ordo_edi::map::invoice_to_810(&inv, &order)
                } else {
                    ordo_edi::map::invoice_to_invoic(&inv, &order)
                }
                .map_err(|e| permanent(e.to_string()))?;
                (d, number)
            }
        };
        // A credit memo is an 810/INVOIC too: its file name says it is a credit.
        let kind = if which == "credit_note" {
            "-credit"
        } else {
            ""
        };
        let sent = send_document(
            ctx,
            &partner,
            doc,
            &Sending {
                what: which,
                order_id: &order.id,
                reference: &reference,
                file_suffix: kind,
            },
        )
        .await?;
        let (set, ctl, file) = (sent.set, sent.control_number, sent.file);
        Ok(StepOutput::outcome("sent").with(
            format!("edi_{which}"),
            json!({ "partner": partner.partner, "set": set, "control_number": ctl, "file": file }),
        ))
    }
}

/// What [`send_document`] sends, for its record and file name.
pub struct Sending<'a> {
    /// The business meaning (`order_response`, `change_response` …), recorded as `document`.
    pub what: &'a str,
    pub order_id: &'a str,
    /// Our reference of what is sent (order, shipment, invoice number, change reference).
    pub reference: &'a str,
    /// Added to the file name after the set id (`-credit`).
    pub file_suffix: &'a str,
}

/// What [`send_document`] did.
pub struct Sent {
    pub set: String,
    pub control_number: u64,
    pub file: String,
}

/// Writes `doc` for `partner` in their version and separators under the next control number,
/// queues it for their outbound folder and records it (`edi_sent`): the one way a business
/// document leaves for a partner (`edi.send`, the answer to a change request).
/// The envelope of the next interchange to `partner`: its version, ids and separators, test
/// and acknowledgment flags, and the partner's next control number (taken from the store).
/// The one place a partner's envelope is built, for customers' and suppliers' documents.
pub async fn partner_envelope(
    ctx: &mut dyn StepContext,
    partner: &Partner,
) -> Result<(Envelope, u64), StepError> {
    let version = partner.version().map_err(permanent)?;
    let ctl = next_control(ctx, &partner.partner).await?;
    let mut env = Envelope::new(
        version,
        partner.our_id.to_partner_id(),
        partner.their_id.to_partner_id(),
        ctl,
        ctx.now().naive_utc(),
    );
    if let Some(seps) = partner.separators().map_err(permanent)? {
        env.separators = seps;
    }
    env.test = partner.test;
    env.ack_requested = partner.ack_requested;
    env.newline = true;
    Ok((env, ctl))
}

pub async fn send_document(
    ctx: &mut dyn StepContext,
    partner: &Partner,
    doc: Document,
    s: &Sending<'_>,
) -> Result<Sent, StepError> {
    let (env, ctl) = partner_envelope(ctx, partner).await?;
    let set = doc.set_id.clone();
    let bytes = ordo_edi::write::write(&env, &[doc])
        .map_err(|e| permanent(format!("{} for order {}: {e}", s.what, s.order_id)))?;
    let file = format!(
        "{}-{ctl:09}-{}{}.edi",
        partner.partner,
        set.to_lowercase(),
        s.file_suffix
    );
    ctx.send_outbound(
        FILE_CHANNEL,
        &format!("edi/{}/{ctl}", partner.partner),
        &json!({ "dir": partner.folder("outbound"), "name": file,
                 "content": String::from_utf8_lossy(&bytes) }),
    )
    .await?;
    record_sent(
        ctx,
        partner,
        ctl,
        s.what,
        Some(s.order_id),
        &json!({ "set": set, "reference": s.reference, "file": file }),
    )
    .await?;
    Ok(Sent {
        set,
        control_number: ctl,
        file,
    })
}

/// The promise `order.promise` put in the instance data (`promise.lines`: line number and
/// date, `null` when none can be given); none when the workflow promises nothing.
fn promises(data: &serde_json::Value) -> Result<ordo_edi::map::Promises, StepError> {
    #[derive(serde::Deserialize)]
    struct Line {
        line_no: u32,
        date: Option<chrono::NaiveDate>,
    }
    #[derive(serde::Deserialize)]
    struct Promise {
        lines: Vec<Line>,
    }
    match data.get("promise") {
        Some(v) if !v.is_null() => Ok(data_field::<Promise>(data, "promise")?
            .lines
            .into_iter()
            .map(|l| (l.line_no, l.date))
            .collect()),
        _ => Ok(ordo_edi::map::Promises::new()),
    }
}
