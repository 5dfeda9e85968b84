//! ordo: the engine runtime behind the `ordo` command.
//!
//! See ARCHITECTURE.md at the repository root for the code map and the invariants.

pub mod api;
pub mod app;
pub mod channels;
pub mod checks;
pub mod clock;
pub mod commands;
pub mod company;
pub mod config;
pub mod console;
pub mod edibench;
pub mod edifile;
pub mod editools;
pub mod forecast;
pub mod ledger;
pub mod masterdata;
pub mod model;
pub mod openitems;
pub mod printing;
pub mod queue;
pub mod receivables;
pub mod registry;
pub mod reports;
pub mod runtime;
pub mod store;
#[cfg(test)]
pub(crate) mod testing;
