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
            Cow::Owned(match String::from_utf8(out) {
                Ok(s) => s,
                Err(e) => e.into_bytes().iter().map(|&b| b as char).collect(),
            })
        }
        _ => decode(bytes),
    }
}

/// `unescape(bytes, Some(release)).chars().count()` without building the text: when `bytes`
/// are UTF-8, their characters less one per release character that releases the next byte (the
/// release character is ASCII, so dropping it keeps the rest UTF-8); otherwise the text is
/// built, as decoding may then depend on which bytes were dropped.
pub(crate) fn unescaped_chars(bytes: &[u8], release: u8) -> usize {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return unescape(bytes, Some(release)).chars().count();
    };
    let mut dropped = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == release && i + 1 < bytes.len() {
            dropped += 1;
            i += 1;
        }
        i += 1;
    }
    text.chars().count() - dropped
}

/// Position of the first `sep` in `bytes` that is not preceded by a release character.
///
/// With a release character, the bytes are scanned eight at a time for either byte (a word
/// compare marks every matching byte): segments and elements are a few dozen bytes, where one
/// word loop beats a `memchr2` call per hit (the EDIFACT hot path: every segment terminator,
/// element and component separator is found through here).
#[inline]
pub(crate) fn find_unreleased(bytes: &[u8], sep: u8, release: Option<u8>) -> Option<usize> {
    let Some(r) = release else {
        // elements and components are short: a plain loop beats a memchr call; segment
        // terminators are searched with memchr by the caller's window (`next_segment`)
        return bytes.iter().position(|&b| b == sep);
    };
    let (ps, pr) = (splat(sep), splat(r));
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[i..i + 8]);
        let w = u64::from_le_bytes(w);
        let hits = eq_bytes(w, ps) | eq_bytes(w, pr);
        if hits == 0 {
            i += 8;
            continue;
        }
        let j = i + (hits.trailing_zeros() / 8) as usize;
        if bytes[j] == sep {
            return Some(j);
        }
        i = j + 2; // skip the released character
    }
    while i < bytes.len() {
        let b = bytes[i];
        if b == sep {
            return Some(i);
        }
        i += if b == r { 2 } else { 1 };
    }
    None
}

const LO: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// `b` in every byte of a word.
#[inline(always)]
pub(crate) fn splat(b: u8) -> u64 {
    LO * u64::from(b)
}

/// The high bit of each byte of `w` set exactly where that byte equals the byte of `pattern`
/// ([`splat`]); no carry crosses bytes, so there are no false hits.
#[inline(always)]
pub(crate) fn eq_bytes(w: u64, pattern: u64) -> u64 {
    let x = w ^ pattern;
    !(((x & LOW7) + LOW7) | x | LOW7)
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

    /// The character count without building the text equals the count of the built text.
    #[test]
    fn unescaped_chars_counts_what_unescape_gives() {
        let samples: &[&[u8]] = &[
            b"",
            b"?",
            b"??",
            b"???",
            b"A?+B",
            b"A??+B?",
            "K\u{e4}se ?' x".as_bytes(),
            b"\xc3?\xa4",
            b"K\xe4se?:",
            "?\u{e4}".as_bytes(),
        ];
        for &b in samples {
            assert_eq!(
                unescaped_chars(b, b'?'),
                unescape(b, Some(b'?')).chars().count(),
                "{b:?}"
            );
        }
    }

    /// The word-at-a-time search finds what a plain byte loop finds, for every length around
    /// the word size and release characters at every position (also last, and doubled).
    #[test]
    fn find_unreleased_matches_a_byte_loop() {
        fn plain(bytes: &[u8], sep: u8, r: u8) -> Option<usize> {
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == sep {
                    return Some(i);
                }
                i += if bytes[i] == r { 2 } else { 1 };
            }
            None
        }
        let alphabet = [b'A', b'?', b'\'', 0xbf, b'+'];
        for len in 0..26usize {
            for seed in 0..200u32 {
                let v: Vec<u8> = (0..len)
                    .map(|i| {
                        alphabet[((seed as usize * 7 + i * (seed as usize % 5 + 1))
                            ^ (seed as usize >> 3))
                            % 5]
                    })
                    .collect();
                assert_eq!(
                    find_unreleased(&v, b'\'', Some(b'?')),
                    plain(&v, b'\'', b'?'),
                    "{v:?}"
                );
            }
        }
    }
}
