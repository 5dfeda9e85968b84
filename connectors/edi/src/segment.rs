//! Segments as the tokenizer leaves them: a tag, where it was in the input, and its elements as
//! byte slices of the input (zero copy). [`SegmentRef`] reads elements, components and
//! repetitions by their standard positions (element 1 is the first after the tag).

use std::borrow::Cow;

use crate::syntax::{Separators, split_unreleased, unescape};

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
}

/// A segment with access to its elements.
#[derive(Debug, Clone, Copy)]
pub struct SegmentRef<'i, 'a> {
    pub(crate) seg: &'i Segment<'a>,
    pub(crate) elems: &'i [&'a [u8]],
    pub(crate) seps: Separators,
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
            .unwrap_or(&[])
    }
    /// Element `n` as text, release characters removed.
    pub fn text(&self, n: usize) -> Cow<'a, str> {
        unescape(self.raw(n), self.seps.release)
    }
    /// Element `n` as trimmed owned text, `None` when empty.
    pub fn opt(&self, n: usize) -> Option<String> {
        let t = self.text(n);
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_string())
    }
    /// Raw bytes of component `c` (1-based) of element `n`.
    pub fn component(&self, n: usize, c: usize) -> &'a [u8] {
        if c == 0 {
            return &[];
        }
        self.components(n).nth(c - 1).unwrap_or(&[])
    }
    /// Component `c` of element `n` as trimmed owned text, `None` when empty.
    pub fn comp(&self, n: usize, c: usize) -> Option<String> {
        let t = unescape(self.component(n, c), self.seps.release);
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_string())
    }
    /// Components of element `n` (the element itself when it has no component separator).
    pub fn components(&self, n: usize) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        split_unreleased(self.raw(n), self.seps.component, self.seps.release)
    }
    /// Repetitions of element `n` (X12 5010 ISA11, EDIFACT syntax 4); one when not in use.
    pub fn repetitions(&self, n: usize) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        // without a repetition separator, split on the segment terminator, which never occurs
        // inside an element: one repetition
        let sep = self.seps.repetition.unwrap_or(self.seps.segment);
        split_unreleased(self.raw(n), sep, self.seps.release)
    }
}

/// A segment's element slices copied out of the interchange, so the interchange can be changed
/// while the segment is read (envelope segments only; they are few).
#[derive(Debug, Clone)]
pub(crate) struct Detached<'a> {
    pub(crate) seg: Segment<'a>,
    pub(crate) elems: Vec<&'a [u8]>,
    pub(crate) seps: Separators,
}

impl<'a> Detached<'a> {
    pub(crate) fn view(&self) -> SegmentRef<'_, 'a> {
        SegmentRef {
            seg: &self.seg,
            elems: &self.elems,
            seps: self.seps,
        }
    }
}
