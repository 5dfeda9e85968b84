//! Duplicate detection: stable fingerprints the engine stores so that the same statement, or
//! the same entries arriving again in another file, are never booked twice.
//!
//! - [`statement_fingerprint`]: account + statement id (+ sequence). Same file again → same value.
//! - [`entry_fingerprints`]: per entry, from account, booking date, signed amount, bank reference
//!   and remittance text, plus an occurrence index so that two legitimately identical lines in
//!   one statement (two coffees at 3.50 on the same day) stay distinct while a re-import of
//!   the same lines reproduces the same fingerprints.
//!
//! Values are 128-bit FNV-1a over a canonical text, written as 32 hex digits; stable across
//! platforms and releases (the canonical text is part of the contract, see the tests).

use std::collections::HashMap;

use crate::model::{Entry, Statement};

fn fnv128(s: &str) -> String {
    let mut h: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    for &b in s.as_bytes() {
        h ^= u128::from(b);
        h = h.wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B);
    }
    format!("{h:032x}")
}

/// The canonical text of a statement's identity.
pub fn statement_key(stmt: &Statement) -> String {
    format!(
        "stmt|{}|{}|{}|{}",
        stmt.format.name(),
        stmt.account,
        stmt.statement_id,
        // absent: the sequence number is optional in every format; the key stays stable without it.
        stmt.sequence.as_deref().unwrap_or("")
    )
}

/// Fingerprint of a statement: account + statement id + sequence.
pub fn statement_fingerprint(stmt: &Statement) -> String {
    fnv128(&statement_key(stmt))
}

/// The canonical text of an entry's identity (without the occurrence index).
pub fn entry_key(account: &str, e: &Entry) -> String {
    let remittance: Vec<&str> = e
        .transactions
        .iter()
        .filter_map(|t| t.remittance.as_deref())
        .collect();
    let norm: String = remittance
        .join(" ")
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    format!(
        "entry|{}|{}|{}|{}|{}|{}",
        account,
        // Key text only: a dateless entry (camt Info) gets an empty date part, its other parts still tell it apart.
        e.date().map(|d| d.to_string()).unwrap_or_default(),
        e.signed_amount().normalize(),
        e.currency,
        // absent: the bank reference is optional in every format.
        e.bank_ref.as_deref().unwrap_or(""),
        norm
    )
}

/// Fingerprints of all entries of a statement, in entry order.
pub fn entry_fingerprints(stmt: &Statement) -> Vec<String> {
    let mut seen: HashMap<String, u32> = HashMap::new();
    stmt.entries
        .iter()
        .map(|e| {
            let key = entry_key(&stmt.account, e);
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            fnv128(&format!("{key}|{n}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Direction, Format};
    use rust_decimal::dec;

    #[test]
    fn identical_lines_differ_by_occurrence_and_reimport_is_stable() {
        let mut s = Statement::new(Format::Mt940);
        s.account = "DE89370400440532013000".into();
        s.statement_id = "S1".into();
        let e = Entry::new(dec!(3.50), Direction::Debit, "EUR");
        s.entries = vec![e.clone(), e];
        let a = entry_fingerprints(&s);
        assert_ne!(a[0], a[1]);
        assert_eq!(a, entry_fingerprints(&s.clone()));
        assert_eq!(statement_fingerprint(&s).len(), 32);
        // The canonical form is a contract: changing it would let old statements be re-booked.
        assert_eq!(
            entry_key(&s.account, &s.entries[0]),
            "entry|DE89370400440532013000||-3.5|EUR||"
        );
    }
}
