//! `ordo-contract`: the seam between the engine and the connectors.
//!
//! It holds three things and nothing else:
//! - [`docs`]: the canonical business documents (`Order`, `Shipment`, `Invoice`, `Payment`,
//!   `Party`, `Money`) that every channel maps to and from. Money is always
//!   [`rust_decimal::Decimal`]; in JSON it is written as an exact JSON number
//!   (`serde-with-arbitrary-precision`), never through `f64`.
//! - [`step`]: the [`Connector`] trait a connector implements and the [`StepContext`] port through
//!   which it reads and writes business data. The engine binds a `StepContext` to the one store
//!   transaction of the step, so everything a connector does commits or rolls back together.
//! - [`intake`]: the rules every order channel applies (bounds, ids, duplicates claimed in the
//!   store), written once over the [`StepContext`] port.
//!
//! - [`rules`]: business rules every entry point shares (payment terms, the IBAN check).
//! - [`master`]: the master data documents (customer, item, supplier) and units of measure.
//! - [`ledger`]: the business events a connector posts to the journal ([`ledger::Posting`]).
//! - [`remittance`]: the canonical remittance advice (X12 820, EDIFACT REMADV) reconciliation
//!   allocates bank credits by.
//! - [`recon_docs`]: typed views of the stored documents bank reconciliation reads, read with
//!   errors that name the document, its key and the field.
//!
//! The crate does no I/O and depends on no runtime.

pub mod change;
pub mod company;
pub mod docs;
pub mod intake;
pub mod ledger;
pub mod master;
pub mod recon_docs;
pub mod remittance;
pub mod rules;
pub mod step;

pub use company::Company;
pub use docs::*;
pub use remittance::{RemittanceAdjustment, RemittanceAdvice, RemittedInvoice};

/// The id a received file is stored under (bank statements, partner interchanges, inbox
/// files): the SHA-256 of its bytes in hex, so the same content is recognised however it is
/// named.
pub fn content_id(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub use intake::{Bounds, Intake, accept_order};
pub use step::*;

/// What an error message or a quarantine reason may quote of an input: at most `max`
/// characters of `text`, control characters escaped (`\n`, `\u{0}`: a NUL in an id must show),
/// and `… (N characters)` when it
/// was cut. Every reason that echoes input goes through this, so a hostile 60 MB field yields
/// a short message, never a copy of itself.
/// An excerpt of an excerpt keeps the length of the original.
pub fn excerpt(text: &str, max: usize) -> String {
    // already an excerpt: cut its text, keep the original length
    let (body, total) = match text.rsplit_once("… (").and_then(|(b, tail)| {
        let n = tail.strip_suffix(" characters)")?.parse::<usize>().ok()?;
        Some((b, n))
    }) {
        Some((b, n)) => (b, Some(n)),
        None => (text, None),
    };
    let mut out = String::new();
    let mut chars = body.chars();
    for c in chars.by_ref().take(max) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    let rest = chars.count();
    match total {
        Some(n) => out.push_str(&format!("… ({n} characters)")),
        None if rest > 0 => out.push_str(&format!("… ({} characters)", max + rest)),
        None => {}
    }
    out
}

/// The default of `limits.max_excerpt_chars`, for crates that are given no limit.
pub const DEFAULT_EXCERPT_CHARS: usize = 200;

#[cfg(test)]
mod excerpt_tests {
    use super::excerpt;

    #[test]
    fn excerpts_are_bounded_and_say_how_long_the_input_was() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("a\nb", 10), "a\\nb");
        assert_eq!(excerpt("A\0B", 10), "A\\u{0}B");
        let long = "x".repeat(2_000_000);
        let e = excerpt(&long, 20);
        assert!(
            e.starts_with(&"x".repeat(20)) && e.ends_with("(2000000 characters)"),
            "{e}"
        );
        assert!(e.len() < 60);
        assert_eq!(excerpt(&e, 5), "xxxxx… (2000000 characters)");
    }
}
