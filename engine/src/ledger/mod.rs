//! The double-entry ledger: the chart of accounts ([`chart`]), posting a business event in the
//! step's transaction ([`post`]), period close, and what finance reads back (trial balance,
//! entries, the receivables check, exports: [`report`]). The journal itself is
//! `store/journal.rs`; which accounts an event debits and credits is the analysts'
//! `rules/posting.rhai`.

pub mod chart;
pub mod datev;
pub mod post;
pub mod report;

pub use chart::{Account, AccountType, Chart, Role};
pub use post::{RULE, parse_period, period_of, post};

use rust_decimal::Decimal;

/// The journal's fixed scale: amounts are stored as ten-thousandths.
pub const SCALE: u32 = 4;

/// `d` in ten-thousandths; an error for more than four decimals or past `i64`.
pub fn to_e4(d: Decimal) -> Result<i64, String> {
    let scaled = d
        .checked_mul(Decimal::from(10_000))
        .ok_or_else(|| format!("amount {d} is out of range"))?;
    if !scaled.fract().is_zero() {
        return Err(format!(
            "amount {d} has more than {SCALE} decimals; round it in the rule"
        ));
    }
    i64::try_from(scaled).map_err(|_| format!("amount {d} is out of range"))
}

/// Ten-thousandths back to a `Decimal` (exact), with at least two decimals as money is shown.
pub fn from_e4(v: i64) -> Decimal {
    let mut d = Decimal::new(v, SCALE).normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn amounts_round_trip_exactly_or_are_refused() {
        assert_eq!(to_e4(dec!(119.00)), Ok(1_190_000));
        assert_eq!(to_e4(dec!(-0.0001)), Ok(-1));
        assert_eq!(from_e4(1_190_000).to_string(), "119.00");
        assert_eq!(from_e4(12_345).to_string(), "1.2345");
        assert!(
            to_e4(dec!(0.00001))
                .unwrap_err()
                .contains("more than 4 decimals")
        );
        assert!(to_e4(dec!(1e20)).unwrap_err().contains("out of range"));
    }
}

#[cfg(test)]
mod engine_tests;
