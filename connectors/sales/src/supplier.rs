//! What suppliers tell us about our purchase orders, and the goods receipt matched to it.
//!
//! - A **ship notice** (856 / DESADV, mapped by the partner channel) becomes an expected
//!   receipt: `ship-notice/<partner>:<id>` (claimed: the same notice again is a duplicate),
//!   indexed per PO in `po-notices/<PO>`. [`check_notice_line`] is the one rule of what a
//!   notice may announce: a PO of that supplier, an item on it, at most its open quantity.
//! - A **goods receipt** ([`crate::receive_goods`], behind `ordo receive`) of a PO with an
//!   expected notice is matched to it ([`match_receipt`]): per item, what was received against
//!   what was announced. Every difference (short, over, an item the notice did not announce)
//!   is listed on the receipt and the notice, and `receipt.difference` starts
//!   workflows/receipt-difference.yaml, a task for purchasing. The received quantities go to
//!   stock whatever the notice said (they are on the shelf; the PO bounds them): the task
//!   settles the difference with the supplier.
//! - An **order response** (855 / ORDRSP) is kept in `po-response/<PO>` (every response in
//!   order); its delivery date moves the PO's expected date through [`crate::atp::slip`], the
//!   same path as `ordo po-expect`, so waiting orders get a new promise.

use crate::checked;
use crate::purchase::load_po;
use ordo_contract::{PurchaseOrder, StepContext, StepContextExt, StepError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const NOTICE_DOC: &str = "ship-notice";
pub const PO_NOTICES_DOC: &str = "po-notices";
pub const RESPONSE_DOC: &str = "po-response";
/// Starts workflows/receipt-difference.yaml (keyed by the goods receipt number).
pub const DIFFERENCE_EVENT: &str = "receipt.difference";

/// One announced line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeLine {
    pub po: String,
    pub sku: String,
    pub quantity: Decimal,
}

/// `ship-notice/<partner>:<id>`: an expected receipt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipNoticeDoc {
    pub id: String,
    pub partner: String,
    pub supplier: String,
    /// `expected` until a goods receipt of its PO matched it, then `received`.
    pub status: String,
    pub ship_date: Option<chrono::NaiveDate>,
    pub delivery_date: Option<chrono::NaiveDate>,
    pub lines: Vec<NoticeLine>,
    pub received_at: String,
    /// The raw file it came in (`edi_file/<id>`).
    pub file: String,
    /// Per PO, the goods receipt that matched it.
    #[serde(default)]
    pub receipts: BTreeMap<String, String>,
    #[serde(default)]
    pub differences: Vec<Value>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PoNotices {
    notices: Vec<String>,
}

/// Why a notice line cannot be taken (a message for the located refusal), or `None`. `po`:
/// the PO as stored (None: ordo has no such PO); `already`: quantity of the item announced
/// earlier in the same notice.
pub fn check_notice_line(
    po: Option<&PurchaseOrder>,
    supplier: &str,
    po_number: &str,
    sku: &str,
    quantity: Decimal,
    already: Decimal,
) -> Option<String> {
    let Some(po) = po else {
        return Some(format!("purchase order {po_number} is not one ordo sent"));
    };
    if po.supplier != supplier {
        return Some(format!(
            "purchase order {po_number} is not one of supplier {supplier}'s"
        ));
    }
    let Some(line) = po.lines.iter().find(|l| l.sku == sku) else {
        return Some(format!("item {sku} is not on purchase order {po_number}"));
    };
    let total = already.checked_add(quantity)?;
    if total > line.open() {
        return Some(format!(
            "{total} of {sku} announced but only {} is open on {po_number}",
            line.open()
        ));
    }
    None
}

/// Stores a ship notice as an expected receipt (`ship-notice/<key>`, claimed) and indexes it
/// under each of its POs. The caller checked each line ([`check_notice_line`]). `Some(file
/// of the earlier one)` when the same notice was received before (nothing stored).
pub async fn record_ship_notice(
    ctx: &mut dyn StepContext,
    key: &str,
    notice: &ShipNoticeDoc,
) -> Result<Option<String>, StepError> {
    let doc = serde_json::to_value(notice).map_err(|e| StepError::Permanent(e.to_string()))?;
    if let Some(earlier) = ctx.claim_document(NOTICE_DOC, key, &doc).await? {
        // Message only: a notice stored without its file id shows `?`.
        return Ok(Some(earlier["file"].as_str().unwrap_or("?").to_string()));
    }
    let mut pos: Vec<&str> = notice.lines.iter().map(|l| l.po.as_str()).collect();
    pos.sort_unstable();
    pos.dedup();
    for po in pos {
        // No index yet: the PO had no notice before this one.
        let mut idx = ctx
            .get::<PoNotices>(PO_NOTICES_DOC, po)
            .await?
            .unwrap_or_default();
        idx.notices.push(key.to_string());
        ctx.put(PO_NOTICES_DOC, po, &idx).await?;
    }
    Ok(None)
}

/// Keeps a supplier's order response with the PO's others and, when it states a delivery
/// date other than the PO's, moves the PO's expected date ([`crate::atp::slip`]: the waiting
/// orders are promised again). Returns what slip did, or `null` when the date stayed.
pub async fn record_response(
    ctx: &mut dyn StepContext,
    po_number: &str,
    response: &Value,
    expected_on: Option<chrono::NaiveDate>,
) -> Result<Value, StepError> {
    // No document yet: the PO's first response.
    let mut doc = ctx
        .get_document(RESPONSE_DOC, po_number)
        .await?
        .unwrap_or_else(|| json!({ "po": po_number, "responses": [] }));
    if let Some(list) = doc["responses"].as_array_mut() {
        list.push(response.clone());
    }
    ctx.put_document(RESPONSE_DOC, po_number, &doc).await?;
    let Some(date) = expected_on else {
        return Ok(Value::Null);
    };
    let po = load_po(ctx, po_number)
        .await?
        .ok_or_else(|| StepError::Permanent(format!("no purchase order '{po_number}'")))?;
    if po.expected_on == date {
        return Ok(Value::Null);
    }
    crate::atp::slip(ctx, po_number, date).await
}

/// Matches a goods receipt of `po_number` (`received`: item → quantity of this receipt) to
/// the PO's first expected ship notice. Returns the differences (empty: as announced, or no
/// notice to match). The notice is marked received with them; a difference emits
/// [`DIFFERENCE_EVENT`] for the receipt `gr`.
pub async fn match_receipt(
    ctx: &mut dyn StepContext,
    po_number: &str,
    gr: &str,
    received: &[(String, Decimal)],
) -> Result<Vec<Value>, StepError> {
    let Some(idx) = ctx.get::<PoNotices>(PO_NOTICES_DOC, po_number).await? else {
        return Ok(Vec::new());
    };
    let mut found = None;
    for key in &idx.notices {
        let Some(n) = ctx.get::<ShipNoticeDoc>(NOTICE_DOC, key).await? else {
            continue;
        };
        if !n.receipts.contains_key(po_number) {
            found = Some((key.clone(), n));
            break;
        }
    }
    let Some((key, mut notice)) = found else {
        return Ok(Vec::new());
    };
    let mut announced: BTreeMap<&str, Decimal> = BTreeMap::new();
    for l in notice.lines.iter().filter(|l| l.po == po_number) {
        let e = announced.entry(l.sku.as_str()).or_default();
        *e = checked::add(*e, l.quantity, || format!("notice {key} {}", l.sku))?;
    }
    let mut got: BTreeMap<&str, Decimal> = BTreeMap::new();
    for (sku, q) in received {
        let e = got.entry(sku.as_str()).or_default();
        *e = checked::add(*e, *q, || format!("receipt {gr} {sku}"))?;
    }
    let mut differences = Vec::new();
    for (sku, want) in &announced {
        let have = got.get(sku).copied().unwrap_or_default();
        if have != *want {
            let kind = if have < *want { "short" } else { "over" };
            differences
                .push(json!({ "kind": kind, "sku": sku, "announced": want, "received": have }));
        }
    }
    for (sku, have) in &got {
        if !announced.contains_key(sku) {
            differences.push(json!({ "kind": "wrong_item", "sku": sku, "announced": Decimal::ZERO, "received": have }));
        }
    }
    notice
        .receipts
        .insert(po_number.to_string(), gr.to_string());
    notice.differences.extend(differences.iter().cloned());
    if notice
        .lines
        .iter()
        .all(|l| notice.receipts.contains_key(&l.po))
    {
        notice.status = "received".into();
    }
    ctx.put(NOTICE_DOC, &key, &notice).await?;
    if !differences.is_empty() {
        ctx.emit_event(
            DIFFERENCE_EVENT,
            gr,
            "opened",
            &json!({ "receipt": { "number": gr, "po": po_number, "notice": key,
                                  "supplier": notice.supplier, "differences": differences } }),
        )
        .await?;
    }
    Ok(differences)
}
