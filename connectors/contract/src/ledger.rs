//! What a connector hands the ledger when a business event happens ([`Posting`]), through
//! [`crate::StepContext::post`]. The engine turns it into a balanced journal entry with the
//! analysts' posting rule (`rules/posting.rhai`) in the step's own transaction: the event and
//! its entry commit together or not at all.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::Value;

/// The business events that post. Their names are what `rules/posting.rhai` sees as
/// `event.kind` and what the journal records.
pub mod events {
    pub const INVOICE: &str = "invoice";
    pub const SHIPMENT: &str = "shipment";
    pub const GOODS_RECEIPT: &str = "goods_receipt";
    pub const PAYMENT: &str = "payment";
    pub const DUNNING_FEE: &str = "dunning_fee";
    pub const CREDIT_NOTE: &str = "credit_note";
    pub const CREDIT_APPLIED: &str = "credit_applied";
    pub const REFUND: &str = "refund";
    /// Returned goods back in stock: inventory against cost of goods sold, at cost.
    pub const RETURN_RESTOCK: &str = "return_restock";
    /// Returned goods scrapped: written off against cost of goods sold, at cost.
    pub const RETURN_SCRAP: &str = "return_scrap";
    /// A return's restocking fee (rules/returns.rhai's percent of the credited net): a separate
    /// charge to the customer, fees receivable against restocking fee income.
    pub const RESTOCKING_FEE: &str = "restocking_fee";
    /// A made-to-order production completed: its components (at cost) and labour went into
    /// work in process, and the finished goods come out of it into inventory at their cost.
    pub const PRODUCTION: &str = "production";
}

/// One business event to post. `facts` are the event's amounts (exact JSON numbers) and
/// whatever the posting rule needs to pick accounts (tax rates, item groups, the account a
/// reconciliation rule named); the rule reads them as `event.<name>` beside `kind`, `source`,
/// `date`, `currency`, `customer`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Posting {
    /// One of [`events`].
    pub kind: &'static str,
    /// The document the event is about; an event posts once per (kind, source).
    pub source: String,
    /// The business date: it picks the period (the first open one from there).
    pub date: NaiveDate,
    /// The amounts' currency; `None` for values at cost (stock), which are in the ledger's
    /// own currency (`currency:` of config/accounts.yaml).
    pub currency: Option<String>,
    pub order_id: Option<String>,
    pub invoice: Option<String>,
    pub customer: Option<String>,
    pub facts: Value,
}

/// What the ledger wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posted {
    /// `2026-03/000042`
    pub entry: String,
    /// Why the entry is not in its event's period (that one was closed), if it is not.
    pub note: Option<String>,
}
