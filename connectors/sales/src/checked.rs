//! Checked arithmetic on money and quantities. `Decimal`'s operators panic on overflow (about
//! 7.9e28); a hostile or mistyped quantity must fail its own step with a message naming the
//! document, its key and the field, never take a worker down.

use ordo_contract::StepError;
use rust_decimal::Decimal;

fn out_of_range(what: String, a: Decimal, op: &str, b: Decimal) -> StepError {
    StepError::Permanent(format!(
        "{what}: {a} {op} {b} is out of the range of exact decimals; check the quantity and price"
    ))
}

/// `a × b`; `what` names the document, its key and the field (only built on failure).
pub fn mul(a: Decimal, b: Decimal, what: impl FnOnce() -> String) -> Result<Decimal, StepError> {
    a.checked_mul(b)
        .ok_or_else(|| out_of_range(what(), a, "×", b))
}

/// `a + b`.
pub fn add(a: Decimal, b: Decimal, what: impl FnOnce() -> String) -> Result<Decimal, StepError> {
    a.checked_add(b)
        .ok_or_else(|| out_of_range(what(), a, "+", b))
}

/// `a - b`.
pub fn sub(a: Decimal, b: Decimal, what: impl FnOnce() -> String) -> Result<Decimal, StepError> {
    a.checked_sub(b)
        .ok_or_else(|| out_of_range(what(), a, "-", b))
}

/// `a ÷ b` (a zero divisor is an error too).
pub fn div(a: Decimal, b: Decimal, what: impl FnOnce() -> String) -> Result<Decimal, StepError> {
    a.checked_div(b)
        .ok_or_else(|| out_of_range(what(), a, "÷", b))
}

/// The sum of `items`.
pub fn sum(
    items: impl IntoIterator<Item = Decimal>,
    what: impl Fn() -> String,
) -> Result<Decimal, StepError> {
    items
        .into_iter()
        .try_fold(Decimal::ZERO, |acc, x| add(acc, x, &what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_is_a_permanent_error_naming_the_field() {
        let q: Decimal = "7000000000000000000000000000.0".parse().unwrap_or_default();
        let e = mul(q, Decimal::from(13), || "order X line 1 amount".into()).unwrap_err();
        let StepError::Permanent(m) = e else {
            panic!("permanent expected: {e:?}")
        };
        assert!(
            m.starts_with("order X line 1 amount: 7000000000000000000000000000.0 × 13"),
            "{m}"
        );
        assert_eq!(
            mul(Decimal::TWO, Decimal::TEN, String::new).ok(),
            Some(Decimal::from(20))
        );
        assert!(sum([Decimal::MAX, Decimal::ONE], || "total".into()).is_err());
        assert!(div(Decimal::ONE, Decimal::ZERO, || "margin".into()).is_err());
    }
}
