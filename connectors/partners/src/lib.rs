//! `ordo-partners`: EDI with trading partners, bound to the workflow through the contract's
//! transaction port (no I/O here; the engine's channel reads and moves files):
//!
//! - [`profile`]: partner profiles (`config/partners/*.yaml`) and their validation.
//! - [`inbound`]: one received file → interchanges identified by sender, duplicates refused,
//!   acknowledgments queued, orders started, partners' acknowledgments matched to what we sent.
//! - [`changes`]: partners' change requests (860/ORDCHG) answered (865/ORDRSP) once the
//!   engine decided them.
//! - [`quotes`]: the registry's `quote.send`: the quote, and for a customer whose profile
//!   lists `quote`, its 843/QUOTES in the same step.
//! - [`outbound`]: the `edi.send` connector (855/856/810, ORDRSP/DESADV/INVOIC) with store
//!   control numbers per partner.
//!
//! Store layout: `partner/<name>` profile in force · `edi_file/<sha256>` raw file + outcome ·
//! `edi_control/<partner>:in:<control>` interchanges received · `edi_sent/<partner>:<control>`
//! interchanges sent (documents and acks) with the partner's verdict · number series
//! `edi.<partner>` our control numbers.

pub mod changes;
pub mod inbound;
pub mod outbound;
pub mod profile;
pub mod quotes;
pub mod supplier;

pub use changes::{CHANGE_RESPONSE, Decided, PendingChange, answer_change};
pub use inbound::{
    MAX_PROBLEMS, ReceiveOptions, ReceiveOutcome, Replies, receive_file, receive_file_with, replies,
};
pub use outbound::{COMPANY_DOC, FILE_CHANNEL, PARTNER_DOC, SendDocument};
pub use profile::{DOCUMENTS, EnvelopeId, Partner, SUPPLIER_ACCEPT, parse_separators};
pub use quotes::{QUOTE, QUOTE_PARTNER_DOC, SendQuote};
pub use supplier::SendPurchaseOrder;
