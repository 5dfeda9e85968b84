//! Business rules that every entry point shares, written once: payment terms as people write
//! them and the IBAN check. Master data import, order validation, invoicing, bank profiles, the
//! `ordo bank` tools and the matcher all call these, so a spelling accepted in one place is
//! accepted everywhere and a refused one is refused everywhere with the same message.

use crate::PaymentTerms;
use rust_decimal::Decimal;

/// Longest net or discount period accepted, in days (X12 ITD carries at most three digits).
pub const MAX_TERMS_DAYS: u32 = 999;

impl PaymentTerms {
    /// Parses payment terms as sales operations write them. Case and surrounding spaces do not
    /// matter. Accepted spellings:
    ///
    /// - net period: `net 30`, `net30`, `n/30`, `n30`, or just `30` (days);
    /// - with an early-payment discount first: `2/10 net 30`, `2/10 n/30`, `1.5/14 net45`
    ///   (percent / days, then the net period);
    /// - immediate: `due on receipt`, `cod` (cash on delivery), `net 0`.
    ///
    /// Refused, with the reason: anything else (`net thirty`, `soon`, an empty text), days above
    /// [`MAX_TERMS_DAYS`], a discount of 0 % or of 100 % or more, a discount period longer than
    /// the net period.
    pub fn parse(text: &str) -> Result<PaymentTerms, String> {
        let t = text.trim().to_ascii_lowercase();
        let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
        let expected = "expected e.g. 'net 30', '2/10 net 30' or 'due on receipt'";
        if t.is_empty() {
            return Err(format!("payment terms are empty ({expected})"));
        }
        if t == "due on receipt" || t == "cod" {
            return Ok(PaymentTerms {
                net_days: 0,
                discount_percent: Decimal::ZERO,
                discount_days: 0,
            });
        }
        let days = |s: &str, what: &str| -> Result<u32, String> {
            let n: u32 = s
                .parse()
                .ok()
                .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
                .ok_or_else(|| {
                    format!("payment terms '{text}': '{s}' is not a number of days ({expected})")
                })?;
            if n > MAX_TERMS_DAYS {
                return Err(format!(
                    "payment terms '{text}': {what} of {n} days is longer than {MAX_TERMS_DAYS} days"
                ));
            }
            Ok(n)
        };
        // The discount part, if the text starts with `P/D ` (and is not `n/30`).
        let (discount, rest) = match t.split_once(' ') {
            Some((first, rest)) if first.contains('/') && !first.starts_with("n/") => {
                (Some(first), rest)
            }
            _ => (None, t.as_str()),
        };
        let net = rest
            .strip_prefix("net")
            .or_else(|| rest.strip_prefix("n/"))
            .or_else(|| rest.strip_prefix('n'))
            .unwrap_or(rest)
            .trim();
        let net_days = days(net, "the net period")?;
        let Some(discount) = discount else {
            return Ok(PaymentTerms {
                net_days,
                discount_percent: Decimal::ZERO,
                discount_days: 0,
            });
        };
        let (p, d) = discount.split_once('/').unwrap_or((discount, ""));
        let discount_percent: Decimal = p
            .parse()
            .ok()
            .filter(|p: &Decimal| *p > Decimal::ZERO && *p < Decimal::ONE_HUNDRED)
            .ok_or_else(|| {
                format!(
                    "payment terms '{text}': '{p}' is not a discount percentage above 0 and below 100"
                )
            })?;
        let discount_days = days(d, "the discount period")?;
        if discount_days > net_days {
            return Err(format!(
                "payment terms '{text}': the discount period ({discount_days} days) is longer than the net period ({net_days} days)"
            ));
        }
        Ok(PaymentTerms {
            net_days,
            discount_percent,
            discount_days,
        })
    }
}

/// Value of an alphanumeric character in ISO 7064 mod 97-10 (0-9 → 0-9, A-Z → 10-35).
fn alnum_value(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 10),
        _ => None,
    }
}

/// ISO 7064 mod 97-10 remainder of an alphanumeric string (letters count as two digits), the
/// check behind IBANs and RF creditor references. `None` if a character is not alphanumeric.
pub fn mod97(chars: impl Iterator<Item = u8>) -> Option<u32> {
    let mut r: u32 = 0;
    for c in chars {
        let v = alnum_value(c)?;
        r = if v >= 10 {
            (r * 100 + v) % 97
        } else {
            (r * 10 + v) % 97
        };
    }
    Some(r)
}

/// Whether `s` (spaces allowed, any case) is an IBAN (ISO 13616): a two-letter country code,
/// two check digits, 11 to 30 alphanumerics, and mod 97 of the rearranged value equal to 1.
pub fn iban_valid(s: &str) -> bool {
    let c: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if c.len() < 15
        || c.len() > 34
        || !c[..2].iter().all(u8::is_ascii_alphabetic)
        || !c[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    mod97(c[4..].iter().chain(c[..4].iter()).copied()) == Some(1)
}

/// [`iban_valid`] as a result whose error says what is wrong, for located messages.
pub fn check_iban(s: &str) -> Result<(), String> {
    if iban_valid(s) {
        Ok(())
    } else {
        Err(format!(
            "'{s}' is not a valid IBAN (country code, check digits and length per ISO 13616)"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> Result<(u32, Decimal, u32), String> {
        PaymentTerms::parse(s).map(|t| (t.net_days, t.discount_percent, t.discount_days))
    }

    /// The accepted spellings with what they mean: one list for this test and the import's.
    const ACCEPTED: &str = include_str!("../../../tests/fixtures/terms/accepted.txt");

    #[test]
    fn every_accepted_spelling() {
        let mut n = 0;
        for line in ACCEPTED.lines().filter(|l| !l.starts_with('#')) {
            let f: Vec<&str> = line.split('|').collect();
            let want = (
                f[1].parse().unwrap(),
                f[2].parse::<Decimal>().unwrap(),
                f[3].parse().unwrap(),
            );
            assert_eq!(parts(f[0]), Ok(want), "{line}");
            n += 1;
        }
        assert_eq!(n, 17, "the fixture lists every spelling");
    }

    #[test]
    fn every_refused_spelling_says_why() {
        let err = |s: &str| PaymentTerms::parse(s).unwrap_err();
        assert!(err("net thirty").contains("not a number of days"));
        assert!(err("soon").contains("not a number of days"));
        assert!(err("").contains("empty"));
        assert!(err("net -5").contains("not a number of days"));
        assert!(err("net 1000").contains("longer than 999"));
        assert!(err("2/40 net 30").contains("discount period (40 days) is longer"));
        assert!(err("0/10 net 30").contains("percentage"));
        assert!(err("100/10 net 30").contains("percentage"));
        assert!(err("x/10 net 30").contains("percentage"));
        assert!(err("2/ten net 30").contains("not a number of days"));
        assert!(err("net 30 days").contains("not a number of days"));
    }

    #[test]
    fn iban_check_digits_country_and_length() {
        assert!(iban_valid("DE89 3704 0044 0532 0130 00"));
        assert!(iban_valid("de89370400440532013000"));
        assert!(!iban_valid("DE88 3704 0044 0532 0130 00"));
        // Right check digits, but no country code: the mod-97 check alone would accept it.
        assert!(!iban_valid("1289370400440532013000"));
        assert!(!iban_valid("DE89"));
        assert!(!iban_valid("DE89 3704 0044 0532 0130 00 0000 0000 0000 0"));
        assert!(
            check_iban("DE00 1234")
                .unwrap_err()
                .contains("not a valid IBAN")
        );
    }
}
