//! Mappings between EDI transactions and ordo's canonical documents.
//!
//! Inbound ([`order`]): 850 and ORDERS → [`ordo_contract::Order`]. The EDI does not know ordo's
//! ids, so the caller passes the partner's customer id (from the partner profile) in
//! [`MapOptions`]; the order id is `{customer_id}-{po_number}` (stable: the same PO from the same
//! customer maps to the same id, which makes re-delivery idempotent).
//!
//! Inbound ([`remit`]): 820 and REMADV → [`ordo_contract::RemittanceAdvice`], refused with a
//! located [`crate::Issue`] (the acknowledgment rejects the set) when an amount is missing or
//! the invoices do not add up to the payment.
//!
//! Inbound ([`change`]): 860 and ORDCHG → [`ChangeRequest`] (an `OrderChange` or a
//! cancellation of the order `{customer_id}-{po_number}`); outbound ([`change_out`]): the
//! answer, 865 or ORDRSP (BGM 231).
//!
//! Outbound ([`x12_out`], [`edifact_out`]): Order → 855/ORDRSP, Shipment + Order → 856/DESADV,
//! Invoice + Order → 810/INVOIC, credit note + Order → 810 credit memo (BIG07 `CR`) / INVOIC
//! 381, as [`crate::write::Document`]s for [`crate::write::write`].
//!
//! The supplier side ([`purchase_out`], [`supplier_in`]): a purchase order → 850/ORDERS (or
//! CSV) to the supplier; the supplier's 855/ORDRSP and 856/DESADV back → [`PoResponse`] and
//! [`ShipNotice`], refused with located [`crate::Issue`]s like an 820.
//!
//! Quotations ([`quote_out`]): a sent quote → 843 / QUOTES for a customer whose partner
//! profile asks for it; a number an element cannot hold is refused, never cut.

pub mod change;
pub mod change_out;
pub mod edifact_out;
pub mod order;
pub mod purchase_out;
pub mod quote_out;
pub mod remit;
pub mod supplier_in;
pub mod x12_out;

pub use change::{
    ChangeKind, ChangeRequest, RequestedLine, Unreadable, is_change, to_change_request,
};
pub use change_out::{ChangeAnswer, ChangeVerdict, change_to_865, change_to_ordrsp};
pub use edifact_out::{
    credit_note_to_invoic, invoice_to_invoic, order_to_ordrsp, order_to_ordrsp_promised,
    shipment_to_desadv,
};
pub use order::{MapOptions, orders, quote_named, to_order};
pub use purchase_out::{PurchaseParties, purchase_to_850, purchase_to_csv, purchase_to_orders};
pub use quote_out::{Quotation, QuotedLine, quote_to_843, quote_to_quotes};
pub use remit::{is_remittance, remittance_issues, remittances, to_remittance};
pub use supplier_in::{
    PoResponse, ShipNotice, SupplierLine, is_supplier_answer, supplier_issues, to_po_response,
    to_ship_notice,
};
pub use x12_out::{
    Promises, credit_memo_to_810, invoice_to_810, order_to_855, order_to_855_promised,
    shipment_to_856,
};

use ordo_contract::Party;

/// X12 N101 / EDIFACT NAD 3035 party function code → contract role.
pub fn role_of(code: &str) -> String {
    match code {
        "BY" => "buyer",
        "ST" | "DP" => "ship_to",
        "SE" | "VN" | "SU" => "seller",
        "BT" | "IV" => "bill_to",
        "SF" => "ship_from",
        "PE" | "PR" => "payer",
        other => return other.to_ascii_lowercase(),
    }
    .to_string()
}

/// X12 N103 (66 identification code qualifier) → contract id scheme.
pub fn x12_scheme(q: &str) -> String {
    match q {
        "1" => "DUNS",
        "9" => "DUNS+4",
        "UL" => "GLN",
        other => other,
    }
    .to_string()
}

/// Contract id scheme → X12 N103.
pub fn x12_qualifier(scheme: &str) -> &str {
    match scheme {
        "DUNS" => "1",
        "DUNS+4" => "9",
        "GLN" => "UL",
        s if (1..=2).contains(&s.len()) => s,
        _ => "ZZ",
    }
}

/// EDIFACT C082 3055 (code list agency) → contract id scheme.
pub fn edifact_scheme(agency: &str) -> String {
    match agency {
        "9" => "GLN",
        "16" => "DUNS",
        "" => "ZZZ",
        other => other,
    }
    .to_string()
}

/// Contract id scheme → EDIFACT 3055.
pub fn edifact_agency(scheme: &str) -> &str {
    match scheme {
        "GLN" => "9",
        "DUNS" => "16",
        "92" | "91" => scheme,
        _ => "ZZZ",
    }
}

/// Contract role → X12 N101.
pub fn x12_role(role: &str) -> &str {
    match role {
        "buyer" => "BY",
        "ship_to" => "ST",
        "seller" | "supplier" => "SE",
        "bill_to" => "BT",
        "ship_from" => "SF",
        "payer" => "PR",
        _ => "ZZ",
    }
}

/// Contract role → EDIFACT NAD 3035.
pub fn edifact_role(role: &str) -> &str {
    match role {
        "buyer" => "BY",
        "ship_to" => "DP",
        "seller" | "supplier" => "SU",
        "bill_to" => "IV",
        "ship_from" => "SF",
        "payer" => "PE",
        _ => "ZZZ",
    }
}

/// A party's name, trimmed to the element's maximum length in characters.
pub(crate) fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

pub(crate) fn first_id(p: &Party) -> Option<&ordo_contract::PartyId> {
    p.ids.first()
}
