//! The supplier side of the partner channel.
//!
//! Out: the `purchase.send` connector (workflows/purchase-send.yaml, started by
//! `purchase_order.placed` when purchasing opens a PO to a supplier with a profile) sends the
//! PO as it stands — an 850 / ORDERS in the supplier's version and separators under the
//! partner's control-number series, or a CSV file for a `format: csv` supplier — through the
//! outbound table in its step's transaction, claims `po-sent/<PO>` (sent once, whatever
//! redelivers the step) and closes the PO to appends (later needs open a new PO: the supplier
//! has what was sent).
//!
//! In (from [`crate::inbound`]): an 855 / ORDRSP and an 856 / DESADV from a supplier profile are
//! mapped by `ordo_edi::map`, then checked against the store here ([`answer_issues`]: a PO ordo
//! did not send this supplier, an item not on it, more announced than is open); a refusal is a
//! located issue the acknowledgment rejects, and the file is quarantined with it. Accepted,
//! an order response moves the PO's expected date through `ordo_sales::supplier::
//! record_response` (the slipped-PO path of `ordo po-expect`) and a ship notice becomes an
//! expected receipt (`ordo_sales::supplier::record_ship_notice`), matched at the goods receipt.

use async_trait::async_trait;
use ordo_contract::{
    Company, Connector, Party, PartyId, PurchaseOrder, StepContext, StepContextExt, StepError,
    StepInput, StepOutput, data_field, excerpt,
};
use ordo_edi::map::{PoResponse, PurchaseParties, ShipNotice};
use ordo_edi::{Interchange, Issue, Standard};
use ordo_sales::master::{self, Item, Supplier};
use ordo_sales::purchase::SUPPLIER_PARTNER_DOC;
use ordo_sales::supplier::{NoticeLine, ShipNoticeDoc, check_notice_line};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use crate::outbound::{COMPANY_DOC, FILE_CHANNEL, PARTNER_DOC, record_sent};
use crate::profile::Partner;

/// `po-sent/<PO>`: what was sent for a PO (claimed: sent once).
pub const PO_SENT_DOC: &str = ordo_sales::purchase::PO_SENT_DOC;

fn permanent(m: impl Into<String>) -> StepError {
    StepError::Permanent(m.into())
}

/// The profile of a supplier, when it has one in force.
pub async fn supplier_profile(
    ctx: &mut dyn StepContext,
    supplier: &str,
) -> Result<Option<Partner>, StepError> {
    let Some(link) = ctx.get_document(SUPPLIER_PARTNER_DOC, supplier).await? else {
        return Ok(None);
    };
    let Some(name) = link["partner"].as_str() else {
        return Ok(None);
    };
    let p: Option<Partner> = ctx.get(PARTNER_DOC, name).await?;
    // A profile renamed or turned into a customer since: not this supplier's any more.
    Ok(p.filter(|p| p.is_supplier() && p.supplier.as_deref() == Some(supplier)))
}

/// An envelope id as a party id (EDIFACT qualifier 14 is a GLN).
pub(crate) fn party_id(id: &crate::profile::EnvelopeId) -> PartyId {
    PartyId {
        qualifier: if id.qualifier == "14" {
            "GLN".into()
        } else {
            id.qualifier.clone()
        },
        value: id.id.clone(),
    }
}

pub struct SendPurchaseOrder;

#[async_trait]
impl Connector for SendPurchaseOrder {
    fn name(&self) -> &'static str {
        "purchase.send"
    }

    fn outcomes(&self) -> &'static [&'static str] {
        &["sent", "skipped"]
    }

    async fn run(
        &self,
        ctx: &mut dyn StepContext,
        input: StepInput<'_>,
    ) -> Result<StepOutput, StepError> {
        let number: String = data_field(&input.data["purchase_order"], "number")?;
        let supplier: String = data_field(&input.data["purchase_order"], "supplier")?;
        // Under the supplier's lock: no order appends to the PO while it is being sent.
        master::lock_supplier(ctx, &supplier).await?;
        let po: PurchaseOrder = ctx
            .get("purchase-order", &number)
            .await?
            .ok_or_else(|| permanent(format!("no purchase order '{number}'")))?;
        let Some(partner) = supplier_profile(ctx, &po.supplier).await? else {
            return Ok(StepOutput::outcome("skipped"));
        };
        if ctx.get_document(PO_SENT_DOC, &number).await?.is_some() {
            return Ok(StepOutput::outcome("skipped"));
        }
        let s: Supplier = master::load(ctx, "supplier", &po.supplier)
            .await?
            .ok_or_else(|| {
                permanent(format!(
                    "{number}: supplier '{}' is not in master data",
                    po.supplier
                ))
            })?;
        let company: Option<Company> = ctx.get(COMPANY_DOC.0, COMPANY_DOC.1).await?;
        let mut buyer = match company {
            Some(c) => c.party(),
            // No company profile: we are named by our envelope id alone.
            None => Party {
                role: String::new(),
                name: None,
                ids: vec![],
                address: None,
            },
        };
        buyer.role = "buyer".into();
        if partner.is_edi() {
            buyer.ids.insert(0, party_id(&partner.our_id));
        }
        let seller = Party {
            role: "seller".into(),
            name: Some(s.name.clone()),
            ids: if partner.is_edi() {
                vec![party_id(&partner.their_id)]
            } else {
                vec![]
            },
            address: None,
        };
        let mut units = BTreeMap::new();
        for l in &po.lines {
            let item: Option<Item> = master::load(ctx, "item", &l.sku).await?;
            if let Some(u) = item.and_then(|i| i.uom) {
                units.insert(l.sku.clone(), u);
            }
        }
        let parties = PurchaseParties {
            buyer: &buyer,
            supplier: &seller,
            currency: Some(&partner.currency),
            units: &units,
        };
        let dir = partner.folder("outbound");
        let sent = if partner.is_edi() {
            let version = partner.version().map_err(permanent)?;
            let doc = match version.standard() {
                Standard::X12 => ordo_edi::map::purchase_to_850(&po, &parties),
                Standard::Edifact => ordo_edi::map::purchase_to_orders(&po, &parties),
            }
            .map_err(|e| permanent(e.to_string()))?;
            let (env, ctl) = crate::outbound::partner_envelope(ctx, &partner).await?;
            let set = doc.set_id.clone();
            let bytes = ordo_edi::write::write(&env, &[doc])
                .map_err(|e| permanent(format!("{set} for {number}: {e}")))?;
            let file = format!("{}-{ctl:09}-{}.edi", partner.partner, set.to_lowercase());
            ctx.send_outbound(
                FILE_CHANNEL,
                &format!("edi/{}/{ctl}", partner.partner),
                &json!({ "dir": dir, "name": file, "content": String::from_utf8_lossy(&bytes) }),
            )
            .await?;
            record_sent(
                ctx,
                &partner,
                ctl,
                "purchase_order",
                None,
                &json!({ "set": set, "reference": number, "file": file, "po": number }),
            )
            .await?;
            json!({ "partner": partner.partner, "set": set, "control_number": ctl, "file": file })
        } else {
            let csv = ordo_edi::map::purchase_to_csv(&po, &parties)
                .map_err(|e| permanent(e.to_string()))?;
            let file = format!("{}-{number}.csv", partner.partner);
            ctx.send_outbound(
                FILE_CHANNEL,
                &format!("po-csv/{}/{number}", partner.partner),
                &json!({ "dir": dir, "name": file, "content": csv }),
            )
            .await?;
            json!({ "partner": partner.partner, "set": "csv", "file": file })
        };
        let mut record = sent.clone();
        record["sent_at"] = json!(ctx.now().to_rfc3339());
        record["lines"] = json!(po.lines.len());
        if ctx
            .claim_document(PO_SENT_DOC, &number, &record)
            .await?
            .is_some()
        {
            // Another step sent it first (its commit wins; this one rolls back on retry).
            return Err(StepError::Transient(format!("{number} was sent meanwhile")));
        }
        ordo_sales::purchase::close_for_appends(ctx, &po).await?;
        Ok(StepOutput::outcome("sent").with("purchase_order_sent", sent))
    }
}

/// What the channel refuses in a supplier's answers (on top of what the mapping refuses):
/// each a located issue the acknowledgment rejects.
pub async fn answer_issues(
    ctx: &mut dyn StepContext,
    partner: &Partner,
    ich: &Interchange<'_>,
) -> Result<Vec<Issue>, StepError> {
    let mut out = Vec::new();
    let Some(supplier) = partner
        .supplier
        .as_deref()
        .filter(|_| partner.is_supplier())
    else {
        return Ok(out);
    };
    for (gi, ti, t) in ich.transactions() {
        let lines: Vec<ordo_edi::map::SupplierLine> = match t.set_id.as_str() {
            "855" | "ORDRSP" => match ordo_edi::map::to_po_response(ich, gi, ti, t) {
                Ok(r) => {
                    let po: Option<PurchaseOrder> = ctx.get("purchase-order", &r.po).await?;
                    let problem = match &po {
                        None => Some(format!(
                            "purchase order {} is not one ordo sent",
                            excerpt(&r.po, 40)
                        )),
                        Some(p) if p.supplier != supplier => Some(format!(
                            "purchase order {} is not one of supplier {supplier}'s",
                            r.po
                        )),
                        Some(p)
                            if p.status == "received"
                                && r.expected_on().is_some_and(|d| d != p.expected_on) =>
                        {
                            Some(format!(
                                "purchase order {} is fully received: its date can no longer change",
                                r.po
                            ))
                        }
                        _ => None,
                    };
                    if let Some(m) = problem {
                        out.push(ordo_edi::map::supplier_in::issue(
                            ich,
                            gi,
                            ti,
                            r.po_segment,
                            None,
                            m,
                        ));
                        continue;
                    }
                    // `problem` is None only for a PO that was found.
                    let Some(po) = po else { continue };
                    for l in &r.lines {
                        if !po.lines.iter().any(|p| p.sku == l.sku) {
                            out.push(ordo_edi::map::supplier_in::issue(
                                ich,
                                gi,
                                ti,
                                l.segment,
                                None,
                                format!(
                                    "item {} is not on purchase order {}",
                                    excerpt(&l.sku, 40),
                                    r.po
                                ),
                            ));
                        }
                    }
                    continue;
                }
                // The mapping's own refusal is reported by `ordo_edi::map::supplier_issues`.
                Err(_) => continue,
            },
            "856" | "DESADV" => match ordo_edi::map::to_ship_notice(ich, gi, ti, t) {
                Ok(n) => n.lines,
                Err(_) => continue,
            },
            _ => continue,
        };
        let mut seen: BTreeMap<(String, String), Decimal> = BTreeMap::new();
        let mut pos: BTreeMap<String, Option<PurchaseOrder>> = BTreeMap::new();
        for l in &lines {
            if !pos.contains_key(&l.po) {
                let po = ctx.get("purchase-order", &l.po).await?;
                pos.insert(l.po.clone(), po);
            }
            let key = (l.po.clone(), l.sku.clone());
            let already = seen.get(&key).copied().unwrap_or_default();
            // The mapping refuses a line without a quantity; should one get here, it is a
            // located issue of its own, never a quantity of zero.
            let Some(q) = l.quantity else {
                out.push(ordo_edi::map::supplier_in::issue(
                    ich,
                    gi,
                    ti,
                    l.segment,
                    None,
                    format!("line for {} has no quantity", excerpt(&l.sku, 40)),
                ));
                continue;
            };
            if let Some(m) = check_notice_line(
                pos[&l.po].as_ref(),
                supplier,
                &excerpt(&l.po, 40),
                &excerpt(&l.sku, 40),
                q,
                already,
            ) {
                out.push(ordo_edi::map::supplier_in::issue(
                    ich, gi, ti, l.segment, None, m,
                ));
            }
            seen.insert(key, already.checked_add(q).unwrap_or(Decimal::MAX));
        }
    }
    Ok(out)
}

/// An accepted 855 / ORDRSP: kept, and its date moves the PO (waiting orders re-promised).
pub async fn take_response(
    ctx: &mut dyn StepContext,
    partner: &Partner,
    r: &PoResponse,
    control: &str,
    file_id: &str,
) -> Result<Value, StepError> {
    let response = json!({ "partner": partner.partner, "status": r.status, "date": r.date,
                           "lines": r.lines, "interchange": control, "file": file_id,
                           "received_at": ctx.now().to_rfc3339() });
    // A rejected PO keeps its date: a person decides (the response is kept on the PO).
    let date = if r.status == "rejected" {
        None
    } else {
        r.expected_on()
    };
    let slipped = ordo_sales::supplier::record_response(ctx, &r.po, &response, date).await?;
    Ok(json!({ "po": r.po, "status": r.status, "expected_on": date, "slip": slipped }))
}

/// An accepted 856 / DESADV: an expected receipt. `Err(reason)` when it is a duplicate.
pub async fn take_notice(
    ctx: &mut dyn StepContext,
    partner: &Partner,
    n: &ShipNotice,
    file_id: &str,
) -> Result<Result<String, String>, StepError> {
    // A supplier profile names its supplier (`Partner::validate`); a notice taken for one that
    // does not is a fault of the caller, not an anonymous receipt.
    let supplier = partner.supplier.clone().ok_or_else(|| {
        permanent(format!(
            "partner {} takes ship notices but names no supplier",
            partner.partner
        ))
    })?;
    let lines = n
        .lines
        .iter()
        .map(|l| {
            // The mapping refuses a notice line without a quantity; never booked as zero.
            l.quantity
                .map(|quantity| NoticeLine {
                    po: l.po.clone(),
                    sku: l.sku.clone(),
                    quantity,
                })
                .ok_or_else(|| {
                    permanent(format!(
                        "ship notice {} line for {} has no quantity",
                        excerpt(&n.id, 40),
                        excerpt(&l.sku, 40)
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let key = format!("{}:{}", partner.partner, n.id);
    let doc = ShipNoticeDoc {
        id: n.id.clone(),
        partner: partner.partner.clone(),
        supplier,
        status: "expected".into(),
        ship_date: n.ship_date,
        delivery_date: n.delivery_date,
        lines,
        received_at: ctx.now().to_rfc3339(),
        file: file_id.to_string(),
        receipts: BTreeMap::new(),
        differences: Vec::new(),
    };
    Ok(
        match ordo_sales::supplier::record_ship_notice(ctx, &key, &doc).await? {
            None => Ok(key),
            Some(earlier) => Err(format!(
                "ship notice {} was already received (in file {earlier}): duplicate, not stored twice",
                excerpt(&n.id, 40)
            )),
        },
    )
}
