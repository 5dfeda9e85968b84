//! Statement parsers: bytes in, normalized [`Statement`]s or a located [`BankError`] out.
//! A file either parses completely (all statements, all checks passed) or yields an error and
//! nothing else: callers never see a partial result.
//!
//! [`parse`] detects the format; each format also has its own entry point. camt can also be
//! streamed entry by entry with [`camt::stream`] so memory stays flat in the file size.

pub mod bai2;
pub mod camt;
pub mod csv;
pub mod mt940;

use std::borrow::Cow;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::BankError;
use crate::model::{Direction, Format, Statement};

pub use self::csv::{CsvEncoding, CsvMapping};

/// Options shared by all parsers.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Import a statement whose balances or control totals do not add up, with a warning on
    /// the statement, instead of rejecting the file.
    pub allow_unbalanced: bool,
    /// Column mapping for CSV files (required to parse CSV).
    pub csv: Option<CsvMapping>,
    /// Directions for BAI2 type codes outside 100-699 (loan 7xx, custom 9xx).
    pub bai2_extra_codes: Vec<(u16, Direction)>,
    /// The account's currency from its profile (ISO 4217, e.g. `EUR`): a camt `Amt` without
    /// its mandatory `Ccy` attribute is then taken in this currency, with a located warning on
    /// the statement. Without it such an `Amt` is a located error.
    pub default_currency: Option<String>,
}

/// Guesses the format from the first bytes: XML → camt, `01,` → BAI2, `:20:`/`{1:` → MT940,
/// anything else with a CSV mapping → CSV.
pub fn detect(bytes: &[u8], opts: &ParseOptions) -> Option<Format> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)
        // Only whitespace and BOM bytes: an empty head, detected as no format.
        .unwrap_or(bytes.len());
    let head = &bytes[start..bytes.len().min(start + 4096)];
    if head.starts_with(b"<") {
        let s = String::from_utf8_lossy(head);
        return Some(
            if s.contains("camt.054") || s.contains("BkToCstmrDbtCdtNtfctn") {
                Format::Camt054
            } else if s.contains("camt.052") || s.contains("BkToCstmrAcctRpt") {
                Format::Camt052
            } else {
                Format::Camt053
            },
        );
    }
    if head.starts_with(b"01,") {
        return Some(Format::Bai2);
    }
    if head.starts_with(b"{1:") || head.starts_with(b":20:") || head.starts_with(b":940:") {
        return Some(Format::Mt940);
    }
    if memchr::memmem::find(head, b"\n:20:").is_some()
        || memchr::memmem::find(head, b":25:").is_some()
    {
        return Some(Format::Mt940);
    }
    opts.csv.as_ref().map(|_| Format::Csv)
}

/// Parses any supported file into its statements (see [`detect`]).
pub fn parse(bytes: &[u8], opts: &ParseOptions) -> Result<Vec<Statement>, BankError> {
    match detect(bytes, opts) {
        Some(Format::Camt053 | Format::Camt052 | Format::Camt054) => camt::parse(bytes, opts),
        Some(Format::Bai2) => bai2::parse(bytes, opts),
        Some(Format::Mt940) => mt940::parse(bytes, opts),
        Some(Format::Csv) => match &opts.csv {
            Some(m) => csv::parse(bytes, m, opts),
            None => Err(BankError::UnknownFormat(
                "CSV needs a column mapping".into(),
            )),
        },
        None => Err(BankError::UnknownFormat(
            "not camt XML, BAI2 (01,), MT940 (:20:) and no CSV mapping given".into(),
        )),
    }
}

/// UTF-8 if valid, else ISO-8859-1 (every byte is its own code point): MT940 and BAI2 files
/// from German banks are often Latin-1.
pub(crate) fn decode_text(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s.strip_prefix('\u{feff}').unwrap_or(s)),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// `YYYY-MM-DD` (a longer `DtTm` is cut to its date).
pub(crate) fn iso_date(s: &str) -> Option<NaiveDate> {
    let b = s.trim().as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digits(&b[0..4])?;
    let m = digits(&b[5..7])?;
    let d = digits(&b[8..10])?;
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// `YYMMDD` (SWIFT and BAI2 dates; years 00-69 → 20xx, 70-99 → 19xx).
pub(crate) fn yymmdd(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 6 {
        return None;
    }
    let y = digits(&b[0..2])?;
    let y = if y < 70 { 2000 + y } else { 1900 + y };
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, digits(&b[2..4])?, digits(&b[4..6])?)
}

pub(crate) fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// A non-negative decimal written with `.` or `,` as decimal mark (`1234,5`, `500,`, `0.10`),
/// no thousands separators.
pub(crate) fn decimal_amount(s: &str) -> Option<Decimal> {
    let s = s.trim();
    if s.is_empty() || s.len() > 30 {
        return None;
    }
    let mut mantissa: i128 = 0;
    let mut scale: u32 = 0;
    let mut seen_mark = false;
    let mut any_digit = false;
    for c in s.bytes() {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa
                    .checked_mul(10)?
                    .checked_add(i128::from(c - b'0'))?;
                any_digit = true;
                if seen_mark {
                    scale += 1;
                }
            }
            b'.' | b',' if !seen_mark => seen_mark = true,
            _ => return None,
        }
    }
    // Bank amounts stay far below 10^18; the bound keeps every sum exact and overflow-free.
    if !any_digit || scale > 28 || mantissa >= 1_000_000_000_000_000_000_000 {
        return None;
    }
    Decimal::try_from_i128_with_scale(mantissa, scale).ok()
}

/// Collapses inner runs of whitespace and trims; `None` when empty.
pub(crate) fn clean(s: &str) -> Option<String> {
    if is_clean(s) {
        return Some(s.to_owned());
    }
    clean_slow(s)
}

/// [`clean`] without allocating when the text is already clean (the usual case).
pub(crate) fn clean_ref(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    if is_clean(s) {
        return Some(std::borrow::Cow::Borrowed(s));
    }
    clean_slow(s).map(std::borrow::Cow::Owned)
}

/// Fast path, the usual case: non-empty ASCII, no whitespace but single spaces between words.
fn is_clean(s: &str) -> bool {
    matches!(
        (s.as_bytes().first(), s.as_bytes().last()),
        (Some(&first), Some(&last)) if first != b' ' && last != b' ' && already_clean(s.as_bytes())
    )
}

fn clean_slow(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    (!out.is_empty()).then_some(out)
}

/// ASCII without tabs, line breaks or double spaces (what `split_whitespace` treats as
/// whitespace in ASCII is 0x09-0x0D and the space).
fn already_clean(b: &[u8]) -> bool {
    // Branch-free folds the compiler vectorizes (no early exit: the texts are short).
    let bad = b.iter().fold(false, |bad, &c| {
        bad | (c >= 0x80) | (c.wrapping_sub(0x09) < 5)
    });
    let double = b
        .iter()
        .zip(b.iter().skip(1))
        .fold(false, |d, (&x, &y)| d | ((x == b' ') & (y == b' ')));
    !(bad | double)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn clean_fast_path_agrees_with_split_whitespace() {
        let slow = |s: &str| {
            let out = s.split_whitespace().collect::<Vec<_>>().join(" ");
            (!out.is_empty()).then_some(out)
        };
        for s in [
            "",
            " ",
            "a",
            "a b",
            "a  b",
            " a",
            "a ",
            "a\tb",
            "a\nb",
            "a\x0bb",
            "a\u{a0}b",
            "Müller GmbH",
            "INV-1 / 2",
            "\x1f",
            "x\u{2003}y",
            "a\r\n",
        ] {
            assert_eq!(clean(s), slow(s), "{s:?}");
            assert_eq!(
                crate::reference::compact(s),
                s.chars().filter(|c| !c.is_whitespace()).collect::<String>(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn amounts_and_dates() {
        assert_eq!(decimal_amount("1027,25"), Some(dec!(1027.25)));
        assert_eq!(decimal_amount("500,"), Some(dec!(500)));
        assert_eq!(decimal_amount("0.10"), Some(dec!(0.10)));
        assert_eq!(decimal_amount("1,2,3"), None);
        assert_eq!(decimal_amount("-1"), None);
        assert_eq!(
            iso_date("2024-02-29T10:00:00+01:00"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(yymmdd(b"200219"), NaiveDate::from_ymd_opt(2020, 2, 19));
        assert_eq!(yymmdd(b"201302"), None);
    }
}
