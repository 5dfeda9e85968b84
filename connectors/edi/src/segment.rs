//! Segments as the tokenizer leaves them: a tag, where it was in the input, and its elements as
//! byte slices of the input (zero copy). [`SegmentRef`] reads elements, components and
//! repetitions by their standard positions (element 1 is the first after the tag).

use std::borrow::Cow;

use crate::syntax::{Separators, Utf8Run, decode, split_unreleased, unescape, within};

/// One segment of an interchange. Elements live in the interchange's flat element table; read
/// them through [`crate::Interchange::segment`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Segment id (`ST`, `BEG`, `UNH`...); `?` when the bytes are not text.
    pub tag: &'a str,
    /// Byte offset of the segment's first byte in the input given to the reader.
    pub offset: usize,
    /// 1-based position of the segment in the file (all interchanges counted).
    pub index: u32,
    pub(crate) first: u32,
    pub(crate) count: u32,
    /// Length in bytes (terminator excluded).
    pub(crate) len: u32,
}

/// A segment with access to its elements.
#[derive(Debug, Clone, Copy)]
pub struct SegmentRef<'i, 'a> {
    pub(crate) seg: &'i Segment<'a>,
    pub(crate) elems: &'i [&'a [u8]],
    pub(crate) seps: Separators,
    /// The interchange's valid UTF-8 run of the input.
    pub(crate) text: Utf8Run<'a>,
}

impl<'i, 'a> SegmentRef<'i, 'a> {
    pub fn tag(&self) -> &'a str {
        self.seg.tag
    }
    pub fn segment(&self) -> &'i Segment<'a> {
        self.seg
    }
    /// Number of elements after the tag (trailing empty ones included as sent).
    pub fn len(&self) -> usize {
        self.elems.len()
    }
    pub fn is_empty(&self) -> bool {
        self.elems.is_empty()
    }
    /// Raw bytes of element `n` (1-based); empty when absent.
    #[inline]
    pub fn raw(&self, n: usize) -> &'a [u8] {
        n.checked_sub(1)
            .and_then(|i| self.elems.get(i))
            .copied()
            // absent: trailing elements may be omitted; an omitted element reads as empty.
            .unwrap_or(&[])
    }
    /// Element `n` as text, release characters removed.
    pub fn text(&self, n: usize) -> Cow<'a, str> {
        let raw = self.raw(n);
        match self.seps.release {
            Some(r) if memchr::memchr(r, raw).is_some() => unescape(raw, Some(r)),
            _ => within(self.text.0, raw).map_or_else(|| decode(raw), Cow::Borrowed),
        }
    }
    /// Element `n` as trimmed owned text, `None` when empty.
    #[inline]
    pub fn opt(&self, n: usize) -> Option<String> {
        self.owned_trimmed(self.raw(n))
    }
    /// Raw bytes of component `c` (1-based) of element `n`.
    pub fn component(&self, n: usize, c: usize) -> &'a [u8] {
        if c == 0 {
            return &[];
        }
        // absent: trailing components may be omitted; an omitted one reads as empty.
        self.components(n).nth(c - 1).unwrap_or(&[])
    }
    /// Component `c` of element `n` as trimmed owned text, `None` when empty.
    pub fn comp(&self, n: usize, c: usize) -> Option<String> {
        self.owned_trimmed(self.component(n, c))
    }
    /// Components of element `n` (the element itself when it has no component separator).
    pub fn components(&self, n: usize) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        split_unreleased(self.raw(n), self.seps.component, self.seps.release)
    }
    /// Repetitions of element `n` (X12 5010 ISA11, EDIFACT syntax 4); one when not in use.
    pub fn repetitions(&self, n: usize) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        // without a repetition separator, split on the segment terminator, which never occurs
        // inside an element: one repetition
        // The segment terminator never occurs inside an element: one repetition.
        let sep = self.seps.repetition.unwrap_or(self.seps.segment);
        split_unreleased(self.raw(n), sep, self.seps.release)
    }

    /// Element bytes as trimmed owned text (release characters removed), `None` when empty:
    /// the same as `unescape(bytes).trim()`, without the intermediate `Cow`, Unicode trim and
    /// UTF-8 validation when the value has no release character and starts and ends with ASCII
    /// (the usual case).
    #[inline]
    fn owned_trimmed(&self, bytes: &'a [u8]) -> Option<String> {
        let release = self.seps.release;
        let start = bytes.iter().position(|&b| !is_ascii_ws(b))?;
        let end = bytes
            .iter()
            .rposition(|&b| !is_ascii_ws(b))
            .map_or(start, |e| e + 1);
        let t = &bytes[start..end];
        let plain = release.is_none_or(|r| memchr::memchr(r, bytes).is_none());
        if plain && t[0] < 0x80 && t[t.len() - 1] < 0x80 {
            // ends are ASCII and not whitespace: `trim` would stop here too; the trimmed-off
            // bytes are ASCII, so the slice is UTF-8 exactly when the whole element is
            return Some(match within(self.text.0, t) {
                Some(s) => s.to_owned(),
                None => decode(t).into_owned(),
            });
        }
        let t = unescape(bytes, release);
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_string())
    }
}

/// Whitespace as `str::trim` sees it, for ASCII bytes (`\t` `\n` `\x0B` `\x0C` `\r` space).
#[inline]
fn is_ascii_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r')
}

/// A segment's element slices copied out of the interchange, so the interchange can be changed
/// while the segment is read (envelope segments only; they are few).
#[derive(Debug, Clone)]
pub(crate) struct Detached<'a> {
    pub(crate) seg: Segment<'a>,
    pub(crate) elems: Vec<&'a [u8]>,
    pub(crate) seps: Separators,
    pub(crate) text: Utf8Run<'a>,
}

impl<'a> Detached<'a> {
    pub(crate) fn view(&self) -> SegmentRef<'_, 'a> {
        SegmentRef {
            seg: &self.seg,
            elems: &self.elems,
            seps: self.seps,
            text: self.text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast trimmed text equals `unescape(..).trim()` whatever the bytes, release character
    /// and UTF-8 run (inside the run, outside it).
    #[test]
    fn owned_trimmed_matches_unescape_trim() {
        let samples: &[&[u8]] = &[
            b"",
            b"   ",
            b" \t\x0b\x0c\r\n",
            b"ABC",
            b"  ABC  ",
            b"A B",
            b"\x1cA\x1f",
            b"NO MORE ?' FLIGHTS ",
            b"?  A",
            b"A ? ",
            b"A??",
            "K\u{e4}se ".as_bytes(),
            "\u{a0}X\u{a0}".as_bytes(),
            "\u{3000}X".as_bytes(),
            b"\xa0X\xa0",
            b"K\xe4se",
            b" \x85X\x85 ",
        ];
        let seg = Segment {
            tag: "X",
            offset: 0,
            index: 1,
            first: 0,
            count: 0,
            len: 0,
        };
        for &b in samples {
            for release in [None, Some(b'?')] {
                let seps = Separators {
                    release,
                    ..Separators::EDIFACT
                };
                let run = std::str::from_utf8(b).unwrap_or("");
                for text in [Utf8Run(""), Utf8Run(run)] {
                    let s = SegmentRef {
                        seg: &seg,
                        elems: &[],
                        seps,
                        text,
                    };
                    let expect = {
                        let t = unescape(b, release);
                        let t = t.trim();
                        (!t.is_empty()).then(|| t.to_string())
                    };
                    assert_eq!(s.owned_trimmed(b), expect, "{b:?} {release:?}");
                }
            }
        }
    }
}
