//! Quotes to trading partners: the registry's `quote.send` (workflows/quotation.yaml).
//!
//! It is `ordo_sales::quote::send_quote` (the quote stored with its validity, the printable
//! page queued) and then, in the same step and its transaction, for a customer whose partner
//! profile lists `quote` in `documents:`, the quote as an X12 843 or EDIFACT QUOTES in the
//! partner's version and separators through [`crate::outbound::send_document`] (the one writer
//! of business documents to partners: control number, outbound file, `edi_sent` record).
//!
//! - Once: a redelivered step finds the quote sent and sends nothing (neither page nor EDI).
//! - All or nothing: a quote the partner's EDI cannot carry (a quantity or price with more
//!   digits than its element holds, a unit without an X12 code) fails the step with the
//!   mapping's located error (quote, line, element); the transaction is rolled back, so the
//!   quote stays `requested` and neither the page nor a file nor a control number is used.
//! - The customer's profile is found through `quote-partner/<customer>` (written by the engine
//!   with the profiles in force; at most one profile per customer lists `quote`), checked
//!   against the profile itself: a link left by a profile changed since sends nothing.

use async_trait::async_trait;
use ordo_contract::{
    Company, Connector, Party, StepContext, StepContextExt, StepError, StepInput, StepOutput,
};
use ordo_edi::Standard;
use ordo_edi::map::{Quotation, QuotedLine};
use ordo_sales::master::{self, Customer};
use ordo_sales::quote::{Quote, send_quote};
use serde_json::json;

use crate::outbound::{COMPANY_DOC, PARTNER_DOC, Sending, send_document};
use crate::profile::Partner;
use crate::supplier::party_id;

/// What a partner's profile lists in `documents:` to get our quotes as 843 / QUOTES.
pub const QUOTE: &str = "quote";

/// `quote-partner/<customer>` → `{ "partner": name }`: the profile a customer's quotes go to.
pub const QUOTE_PARTNER_DOC: &str = "quote-partner";

fn permanent(m: impl Into<String>) -> StepError {
    StepError::Permanent(m.into())
}

/// The profile that takes `customer`'s quotes, when one in force lists `quote`.
pub async fn quote_profile(
    ctx: &mut dyn StepContext,
    customer: &str,
) -> Result<Option<Partner>, StepError> {
    let Some(link) = ctx.get_document(QUOTE_PARTNER_DOC, customer).await? else {
        return Ok(None);
    };
    let Some(name) = link["partner"].as_str() else {
        return Ok(None);
    };
    let p: Option<Partner> = ctx.get(PARTNER_DOC, name).await?;
    Ok(p.filter(|p| !p.is_supplier() && p.customer == customer && p.wants(QUOTE)))
}

/// The quote as the EDI mapping takes it: the customer (named as in master data, identified by
/// the partner's envelope id) buys, we (the company profile, with our envelope id first) sell.
async fn quotation(
    ctx: &mut dyn StepContext,
    partner: &Partner,
    q: &Quote,
) -> Result<Quotation, StepError> {
    let (Some(date), Some(valid_until), Some(total)) = (q.sent_on, q.valid_until, q.total) else {
        return Err(permanent(format!(
            "quote {}: not priced and dated (sent_on, valid_until, total)",
            q.number
        )));
    };
    let customer: Option<Customer> = master::load(ctx, "customer", &q.customer_id).await?;
    let buyer = Party {
        role: "buyer".into(),
        name: customer.map(|c| c.name),
        ids: vec![party_id(&partner.their_id)],
        address: None,
    };
    let company: Company = ctx
        .get(COMPANY_DOC.0, COMPANY_DOC.1)
        .await?
        .ok_or_else(|| {
            permanent("no company profile (config/company.yaml): the quote has no seller")
        })?;
    let mut seller = company.party();
    seller.ids.insert(0, party_id(&partner.our_id));
    Ok(Quotation {
        number: q.number.clone(),
        date,
        valid_until,
        currency: q.currency.clone(),
        parties: vec![buyer, seller],
        lines: q
            .lines
            .iter()
            .map(|l| QuotedLine {
                line_no: l.line_no,
                sku: l.sku.clone(),
                description: l.description.clone(),
                quantity: l.quantity,
                uom: l.uom.clone(),
                unit_price: l.unit_price,
                amount: l.amount,
            })
            .collect(),
        total,
    })
}

pub struct SendQuote;

#[async_trait]
impl Connector for SendQuote {
    fn name(&self) -> &'static str {
        "quote.send"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["sent"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let sent = send_quote(ctx, input).await?;
        let q = sent.quote;
        let mut out = StepOutput::outcome("sent");
        if sent.now
            && let Some(partner) = quote_profile(ctx, &q.customer_id).await?
        {
            let version = partner.version().map_err(permanent)?;
            let doc = quotation(ctx, &partner, &q).await?;
            let mapped = match version.standard() {
                Standard::X12 => ordo_edi::map::quote_to_843(&doc),
                Standard::Edifact => ordo_edi::map::quote_to_quotes(&doc, version),
            };
            let doc = mapped.map_err(|e| {
                permanent(format!(
                    "quote {} to partner {}: {e}",
                    q.number, partner.partner
                ))
            })?;
            let s = send_document(
                ctx,
                &partner,
                doc,
                &Sending {
                    what: QUOTE,
                    order_id: &q.number,
                    reference: &q.number,
                    file_suffix: "",
                },
            )
            .await?;
            out = out.with(
                "edi_quote",
                json!({ "partner": partner.partner, "set": s.set,
                        "control_number": s.control_number, "file": s.file }),
            );
        }
        Ok(out.with("quote", q))
    }
}
