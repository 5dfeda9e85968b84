//! Syntax basics shared by X12 and EDIFACT: which standard, its separators, and turning raw
//! element bytes into text (EDIFACT release character, UTF-8 or Latin-1 input).

use std::borrow::Cow;

/// The two families of EDI this crate reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Standard {
    X12,
    Edifact,
}

/// Versions the writer produces (the reader accepts any version and reports what it found).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Version {
    /// X12 004010: ISA12 `00401`, GS08 `004010`.
    X12_4010,
    /// X12 005010: ISA12 `00501`, GS08 `005010`, ISA11 repetition separator.
    X12_5010,
    /// UN/EDIFACT D.96A (syntax 3 envelope).
    D96A,
    /// UN/EDIFACT D.01B (syntax 3 envelope).
    D01B,
}

impl Version {
    pub fn standard(self) -> Standard {
        match self {
            Version::X12_4010 | Version::X12_5010 => Standard::X12,
            Version::D96A | Version::D01B => Standard::Edifact,
        }
    }
}

/// Separators of one interchange. `release` is EDIFACT only; `repetition` is X12 5010 ISA11 or
/// EDIFACT syntax 4 UNA5 (`None` when not in use); `decimal` is the EDIFACT decimal mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Separators {
    pub element: u8,
    pub component: u8,
    pub repetition: Option<u8>,
    pub segment: u8,
    pub release: Option<u8>,
    pub decimal: u8,
}

impl Separators {
    /// `*` `>` `^` `~`, the usual X12 choice.
    pub const X12: Separators = Separators {
        element: b'*',
        component: b'>',
        repetition: Some(b'^'),
        segment: b'~',
        release: None,
        decimal: b'.',
    };
    /// `+` `:` `'` with release `?` and decimal `.` (UNA `:+.? '`).
    pub const EDIFACT: Separators = Separators {
        element: b'+',
        component: b':',
        repetition: None,
        segment: b'\'',
        release: Some(b'?'),
        decimal: b'.',
    };
}

/// Bytes to text: UTF-8 when valid, otherwise Latin-1 (ISO 8859-1, what UNOC and most X12
/// senders mean), so no byte is lost or replaced.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(bytes.iter().map(|&b| b as char).collect()),
    }
}

/// A valid UTF-8 run of the reader's input (see [`within`]); `Debug` shows its length only.
#[derive(Clone, Copy, Default)]
pub(crate) struct Utf8Run<'a>(pub(crate) &'a str);

impl std::fmt::Debug for Utf8Run<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Utf8Run({} bytes)", self.0.len())
    }
}

/// The whole input given to the reader; `Debug` shows its length only.
#[derive(Clone, Copy, Default)]
pub(crate) struct Input<'a>(pub(crate) &'a [u8]);

impl std::fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Input({} bytes)", self.0.len())
    }
}

/// `bytes` as text when they lie inside `text`, a valid UTF-8 run of the same input (the
/// reader validates each run once): no second validation. `None` when they are outside the run
/// or do not start and end on character boundaries.
#[inline]
pub(crate) fn within<'a>(text: &'a str, bytes: &[u8]) -> Option<&'a str> {
    let off = (bytes.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    text.get(off..off.checked_add(bytes.len())?)
}

/// Text of an element value with EDIFACT release characters removed (`?+` → `+`, `??` → `?`).
pub fn unescape(bytes: &[u8], release: Option<u8>) -> Cow<'_, str> {
    match release {
        Some(r) if memchr::memchr(r, bytes).is_some() => {
            let mut out = Vec::with_capacity(bytes.len());
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == r && i + 1 < bytes.len() {
                    i += 1;
                }
                out.push(bytes[i]);
                i += 1;
            }
            Cow::Owned(decode(&out).into_owned())
        }
        _ => decode(bytes),
    }
}

/// Position of the first `sep` in `bytes` that is not preceded by a release character.
#[inline]
pub(crate) fn find_unreleased(bytes: &[u8], sep: u8, release: Option<u8>) -> Option<usize> {
    match release {
        None => memchr::memchr(sep, bytes),
        Some(r) => {
            let mut from = 0;
            while from < bytes.len() {
                let i = from + memchr::memchr2(sep, r, &bytes[from..])?;
                if bytes[i] == sep {
                    return Some(i);
                }
                from = i + 2; // skip the released character
            }
            None
        }
    }
}

/// Splits `bytes` on unreleased `sep`; always yields at least one (possibly empty) part.
pub(crate) fn split_unreleased(bytes: &[u8], sep: u8, release: Option<u8>) -> SplitUnreleased<'_> {
    SplitUnreleased {
        rest: Some(bytes),
        sep,
        release,
    }
}

pub(crate) struct SplitUnreleased<'a> {
    rest: Option<&'a [u8]>,
    sep: u8,
    release: Option<u8>,
}

impl<'a> Iterator for SplitUnreleased<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.rest?;
        match find_unreleased(rest, self.sep, self.release) {
            Some(i) => {
                self.rest = Some(&rest[i + 1..]);
                Some(&rest[..i])
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_character_cases() {
        assert_eq!(
            unescape(b"NO MORE ?' FLIGHTS", Some(b'?')),
            "NO MORE ' FLIGHTS"
        );
        assert_eq!(unescape(b"A??", Some(b'?')), "A?");
        assert_eq!(unescape(b"A???+B", Some(b'?')), "A?+B");
        let parts: Vec<_> = split_unreleased(b"F1???+F2+F3??", b'+', Some(b'?')).collect();
        assert_eq!(parts, vec![&b"F1???+F2"[..], b"F3??"]);
        assert_eq!(find_unreleased(b"ab?'c'", b'\'', Some(b'?')), Some(5));
        assert_eq!(decode(&[0x4b, 0xe4]), "K\u{e4}");
    }
}
