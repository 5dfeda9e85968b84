//! The scenarios the `ordo` command runs, kept out of the command line so that it only parses
//! arguments and prints: the checked demo batch (generated master data and orders, simulated
//! time, the bank's statements, and the oracle every order and invoice is checked against) and
//! the benchmarks' workloads with the raw ceilings they print beside.

pub mod access;
pub mod after_sales;
pub mod after_sales_edi;
pub mod atp_bench;
pub mod ceilings;
pub mod console_bench;
pub mod demo;
pub mod demo_changes;
pub mod demo_console;
pub mod demo_edi_change;
pub mod demo_locations;
pub mod demo_supply;
pub mod flow;
pub mod harness;
pub mod http;
pub mod ledger_bench;
pub mod o2c;
pub mod reports_bench;
pub mod rule;
pub mod scaleout;
pub mod statements;
pub mod table;
pub mod webhook_bench;

/// Where a scenario writes what a person reads, a line at a time (the CLI prints each).
pub type Say<'a> = &'a (dyn Fn(&str) + Sync);
