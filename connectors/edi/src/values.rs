//! Value syntax shared by envelopes, validation and mapping: dates, times and numbers as X12 and
//! EDIFACT write them, parsed without allocation.

use chrono::NaiveDate;
use rust_decimal::Decimal;

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
}

/// `CCYYMMDD` or `YYMMDD` (years 00-49 → 20xx, 50-99 → 19xx).
pub fn date(b: &[u8]) -> Option<NaiveDate> {
    let (y, rest) = match b.len() {
        8 => (digits(&b[..4])? as i32, &b[4..]),
        6 => {
            let yy = digits(&b[..2])? as i32;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, &b[2..])
        }
        _ => return None,
    };
    NaiveDate::from_ymd_opt(y, digits(&rest[..2])?, digits(&rest[2..4])?)
}

/// `HHMM`, `HHMMSS`, `HHMMSSd` or `HHMMSSdd`.
pub fn time(b: &[u8]) -> bool {
    if !matches!(b.len(), 4 | 6..=8) || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    // All digits were checked above; 99 (never taken) would fail the range check.
    let hh = digits(&b[..2]).unwrap_or(99);
    let mm = digits(&b[2..4]).unwrap_or(99);
    let ss = if b.len() >= 6 {
        digits(&b[4..6]).unwrap_or(99)
    } else {
        0
    };
    hh < 24 && mm < 60 && ss < 60
}

/// An EDIFACT DTM value in the given format (2379): 102 `CCYYMMDD`, 101 `YYMMDD`,
/// 203 `CCYYMMDDHHMM`, 204 `CCYYMMDDHHMMSS`, 718 `CCYYMMDD-CCYYMMDD`. Other formats are not
/// checked (`true`).
pub fn edifact_datetime(value: &[u8], format: &[u8]) -> bool {
    match format {
        b"102" => value.len() == 8 && date(value).is_some(),
        b"101" => value.len() == 6 && date(value).is_some(),
        b"203" => value.len() == 12 && date(&value[..8]).is_some() && time(&value[8..]),
        b"204" => value.len() == 14 && date(&value[..8]).is_some() && time(&value[8..]),
        b"718" => {
            value.len() == 17
                && value[8] == b'-'
                && date(&value[..8]).is_some()
                && date(&value[9..]).is_some()
        }
        _ => true,
    }
}

/// The date of an EDIFACT DTM value in format 102/101/203/204 (first date of 718).
pub fn edifact_date(value: &[u8], format: &[u8]) -> Option<NaiveDate> {
    match format {
        b"102" | b"203" | b"204" | b"718" if value.len() >= 8 => date(&value[..8]),
        b"101" => date(value),
        _ => date(value),
    }
}

/// Digits of a numeric value without sign and decimal mark, or `None` when it is not a number.
/// `decimal` allows one decimal mark (X12 R, EDIFACT n); `.` and `,` are both accepted for
/// EDIFACT as the standard allows either mark.
pub fn numeric_len(b: &[u8], decimal: bool) -> Option<usize> {
    let b = b.strip_prefix(b"-").unwrap_or(b);
    let mut n = 0;
    let mut marks = 0;
    for &c in b {
        if c.is_ascii_digit() {
            n += 1;
        } else if decimal && (c == b'.' || c == b',') {
            marks += 1;
        } else {
            return None;
        }
    }
    (n > 0 && marks <= 1).then_some(n)
}

/// A decimal written as X12 R / EDIFACT n (`.` or `,` as decimal mark).
pub fn decimal(b: &[u8]) -> Option<Decimal> {
    // fast path: up to 18 digits fit an i64 mantissa
    let (neg, digits) = match b.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, b),
    };
    if !digits.is_empty() && digits.len() <= 18 {
        let mut m: i64 = 0;
        let mut scale: Option<u32> = None;
        let mut ok = true;
        for (i, &c) in digits.iter().enumerate() {
            match c {
                b'0'..=b'9' => m = m * 10 + i64::from(c - b'0'),
                b'.' | b',' if scale.is_none() => scale = Some((digits.len() - i - 1) as u32),
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok && digits.len() > usize::from(scale.is_some()) {
            // No decimal mark: an integer.
            return Some(Decimal::new(if neg { -m } else { m }, scale.unwrap_or(0)));
        }
        return None;
    }
    numeric_len(b, true)?;
    let s = std::str::from_utf8(b).ok()?;
    if s.contains(',') {
        s.replace(',', ".").parse().ok()
    } else {
        s.parse().ok()
    }
}

/// Writes a decimal without trailing zeros (`12.50` → `12.5`, `3.000` → `3`).
pub fn fmt_decimal(d: Decimal) -> String {
    d.normalize().to_string()
}

/// Writes money with exactly two decimals (`12.5` → `12.50`).
pub fn fmt_money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_times_numbers() {
        assert_eq!(date(b"20030627"), NaiveDate::from_ymd_opt(2003, 6, 27));
        assert_eq!(date(b"030627"), NaiveDate::from_ymd_opt(2003, 6, 27));
        assert!(date(b"20030230").is_none());
        assert!(time(b"1304") && time(b"130459") && !time(b"2460") && !time(b"102497"));
        assert!(edifact_datetime(b"201508030000", b"203"));
        assert!(!edifact_datetime(b"20151303", b"102"));
        assert_eq!(numeric_len(b"-12.50", true), Some(4));
        assert_eq!(numeric_len(b"12.5", false), None);
        assert_eq!(decimal(b"1,5").map(|d| d.to_string()), Some("1.5".into()));
        assert_eq!(fmt_money(Decimal::new(125, 1)), "12.50");
    }
}
