//! `ordo-sales`: order-to-cash business connectors. They work only on canonical documents and
//! the [`StepContext`] port, so each runs inside its step's transaction and is testable with an
//! in-memory context.
//!
//! The flow (workflows/order-to-cash.yaml and workflows/invoice-collection.yaml):
//! `order.validate` → rules/pricing.rhai → `order.price` → rules/approval.rhai (→ review tasks)
//! → rules/tax.rhai → `stock.allocate` → (rules/reorder.rhai → `purchase.order` → wait for
//! `stock.received`) → rules/shipping.rhai → `shipment.create` → `invoice.create` (one per
//! shipment; back to allocation while a backorder is open) ; per invoice: wait for
//! `payment.matched` → `payment.apply`, with `dunning.check` on a daily timeout.
//!
//! Master data documents are described in [`master`]: `customer/<id>`, `item/<sku>`,
//! `supplier/<id>`; stock per warehouse in the stock table.

mod allocate;
pub mod atp;
pub mod change;
pub mod checked;
pub mod complaints;
mod confirm;
pub mod credit_note;
pub mod customer_credit;
pub mod export;
pub mod forecast;
mod invoice;
mod locate;
pub mod master;
mod payment;
pub mod posting;
mod price;
pub mod production;
pub mod purchase;
pub mod quote;
pub mod replenish;
mod reserve;
pub mod returns;
mod ship;
pub mod supplier;
mod validate;

/// An in-memory `StepContext` for connector tests (also used by other connector crates' tests).
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use allocate::{AllocateStock, Fulfilment};
pub use confirm::ConfirmOrder;
pub use credit_note::{CreditLine, IssueCreditNote, StillOpen, issue_credit_note};
pub use forecast::RefreshForecasts;
pub use invoice::{CreateInvoice, Tax, build_invoice};
pub use payment::{ApplyPayment, DunningCheck, PAYMENT_EVENT, record_payment};
pub use price::PriceOrder;
pub use purchase::{PurchaseOrder, RECEIVED_EVENT, receive_goods};
pub use reserve::ReserveStock;
pub use ship::{CreateShipment, gs1_check_digit, sscc};
pub use validate::ValidateOrder;

use ordo_contract::Connector;
use std::sync::Arc;

/// Every connector of this crate, for the engine's registry.
pub fn connectors() -> Vec<Arc<dyn Connector>> {
    vec![
        Arc::new(ValidateOrder),
        Arc::new(ReserveStock),
        Arc::new(ConfirmOrder),
        Arc::new(PriceOrder),
        Arc::new(locate::LocateStock),
        Arc::new(AllocateStock),
        Arc::new(PurchaseOrder),
        Arc::new(CreateShipment),
        Arc::new(CreateInvoice),
        Arc::new(ApplyPayment),
        Arc::new(DunningCheck),
        Arc::new(IssueCreditNote),
        Arc::new(StillOpen),
        Arc::new(returns::AuthoriseReturn),
        Arc::new(returns::RejectReturn),
        Arc::new(returns::RestockReturn),
        Arc::new(returns::ScrapReturn),
        Arc::new(returns::CreditReturn),
        Arc::new(returns::RepairReturn),
        Arc::new(returns::ResolveReturn),
        Arc::new(returns::ReplaceReturn),
        Arc::new(returns::ReplacedReturn),
        Arc::new(complaints::EscalateComplaint),
        Arc::new(complaints::FinishComplaint),
        Arc::new(RefreshForecasts),
        // `quote.send` is registered by the engine as `ordo_partners::SendQuote` (this crate's
        // quote plus the partner's 843/QUOTES in the same step).
        Arc::new(quote::ExpireQuote),
        Arc::new(atp::PromiseOrder),
        Arc::new(production::ReserveComponents),
        Arc::new(production::NextWorkStep),
        Arc::new(production::CompleteProduction),
        Arc::new(replenish::ReplenishScan),
        Arc::new(replenish::ReplenishOrder),
    ]
}
