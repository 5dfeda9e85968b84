//! Envelopes: reading a byte slice as a stream of interchanges.
//!
//! [`Reader`] is an iterator over `&[u8]` that yields one [`Interchange`] at a time (X12
//! ISA..IEA or EDIFACT [UNA]UNB..UNZ), re-detecting separators at every header, so a mailbag
//! mixing separators and standards reads correctly and memory holds only the current
//! interchange. Each interchange keeps its segments (zero-copy slices of the input), its groups
//! (GS/GE, UNG/UNE, or one implicit group for EDIFACT without UNG) and transactions (ST/SE,
//! UNH/UNT), and the envelope issues found while reading: counts, control numbers, nesting.

mod edifact;
mod stream;
mod x12;

pub use stream::{DEFAULT_CHUNK, StreamReader, Streamed};

pub(crate) use x12::functional_id as x12_functional_id;

use crate::error::EdiError;
use crate::issue::{Code, ElementAt, Issue, SegmentAt};
use crate::segment::{Segment, SegmentRef};
use crate::syntax::{Input, Separators, Standard, Utf8Run};

/// An interchange partner id with its qualifier (ISA05/06, UNB S002).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PartnerId {
    pub qualifier: String,
    pub id: String,
}

/// One transaction set (X12 ST..SE) or message (EDIFACT UNH..UNT). Indices are positions in
/// [`Interchange::segments`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Transaction {
    /// ST01 (`850`) or the UNH message type (`ORDERS`).
    pub set_id: String,
    /// ST02 / UNH 0062.
    pub control_number: String,
    /// ST03 (5010 implementation guide) or UNH S009 after the type (`D:96A:UN:EAN008`).
    pub version: String,
    pub header: usize,
    pub trailer: Option<usize>,
    /// One past the last segment of the set (the trailer, or where the set was cut off).
    pub end: usize,
}

/// A functional group (GS..GE, UNG..UNE) or the implicit group of an EDIFACT interchange
/// without UNG (then `header` is `None` and `control_number` empty).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Group {
    /// GS01 (`PO`, `FA`...) or UNG 0038; for an implicit group the first message type.
    pub functional_id: String,
    pub sender: String,
    pub receiver: String,
    pub date: String,
    pub time: String,
    pub control_number: String,
    /// GS08 (`004010`, `005010X231A1`) or UNG S008.
    pub version: String,
    pub header: Option<usize>,
    pub trailer: Option<usize>,
    pub transactions: Vec<Transaction>,
}

/// One interchange with its segments, envelope structure and envelope issues.
#[derive(Debug, Clone)]
pub struct Interchange<'a> {
    pub standard: Standard,
    pub separators: Separators,
    /// X12: ISA12 (`00401`, `00501`); EDIFACT: the syntax version of UNB S001 (`3`, `4`).
    pub version: String,
    /// EDIFACT UNB S001 syntax identifier (`UNOA`, `UNOC`...); X12: ISA11 when it is the
    /// standards id (`U`), else empty.
    pub syntax_id: String,
    pub sender: PartnerId,
    pub receiver: PartnerId,
    pub date: String,
    pub time: String,
    /// ISA13 / UNB 0020.
    pub control_number: String,
    /// ISA14 = 1 / UNB 0031 = 1.
    pub ack_requested: bool,
    /// ISA15 = T / UNB 0035 = 1.
    pub test: bool,
    /// Byte range of the interchange in the input.
    pub offset: usize,
    pub end: usize,
    pub groups: Vec<Group>,
    pub segments: Vec<Segment<'a>>,
    pub(crate) elems: Vec<&'a [u8]>,
    /// A valid UTF-8 run of the input (see [`crate::syntax::within`]).
    pub(crate) text: Utf8Run<'a>,
    /// The input window the interchange was read from ([`Segment::offset`] is absolute:
    /// `base` + position in it).
    pub(crate) input: Input<'a>,
    /// Absolute offset of the window's first byte (0 for a whole input).
    pub(crate) base: usize,
    /// Envelope issues found while reading (counts, control numbers, nesting, header values).
    pub issues: Vec<Issue>,
}

impl<'a> Interchange<'a> {
    /// An empty interchange with room for `hints.capacity` (segments, elements).
    pub(crate) fn new(
        standard: Standard,
        separators: Separators,
        offset: usize,
        hints: Hints<'a>,
    ) -> Self {
        let capacity = hints.capacity;
        Interchange {
            standard,
            separators,
            version: String::new(),
            syntax_id: String::new(),
            sender: PartnerId::default(),
            receiver: PartnerId::default(),
            date: String::new(),
            time: String::new(),
            control_number: String::new(),
            ack_requested: false,
            test: false,
            offset,
            end: offset,
            groups: Vec::new(),
            segments: Vec::with_capacity(capacity.0),
            elems: Vec::with_capacity(capacity.1),
            text: Utf8Run(hints.text),
            input: Input(hints.input),
            base: hints.base,
            issues: Vec::new(),
        }
    }

    /// The bytes of segment `i` (tag and elements, terminator excluded).
    pub(crate) fn segment_bytes(&self, i: usize) -> &'a [u8] {
        self.segments.get(i).map_or(&[], |s| {
            let from = s.offset - self.base;
            // Segments are recorded inside the input, so the range is always there.
            self.input.0.get(from..from + s.len as usize).unwrap_or(&[])
        })
    }

    /// Segment `i` of [`Interchange::segments`] with its elements.
    pub fn segment(&self, i: usize) -> Option<SegmentRef<'_, 'a>> {
        let seg = self.segments.get(i)?;
        let from = seg.first as usize;
        let elems = self.elems.get(from..from + seg.count as usize)?;
        Some(SegmentRef {
            seg,
            elems,
            seps: self.separators,
            text: self.text,
        })
    }

    /// UNB S003 / ISA08 recipient id.
    pub fn recipient_id(&self) -> String {
        self.receiver.id.clone()
    }

    pub(crate) fn detached(&self, i: usize) -> Option<crate::segment::Detached<'a>> {
        let s = self.segment(i)?;
        Some(crate::segment::Detached {
            seg: *s.seg,
            elems: s.elems.to_vec(),
            seps: self.separators,
            text: self.text,
        })
    }

    /// The segments of a transaction, header and trailer included.
    pub fn transaction_segments(
        &self,
        t: &Transaction,
    ) -> impl Iterator<Item = SegmentRef<'_, 'a>> + '_ {
        (t.header..t.end).filter_map(move |i| self.segment(i))
    }

    /// All transactions with their group index and index in the group.
    pub fn transactions(&self) -> impl Iterator<Item = (usize, usize, &Transaction)> + '_ {
        self.groups.iter().enumerate().flat_map(|(gi, g)| {
            g.transactions
                .iter()
                .enumerate()
                .map(move |(ti, t)| (gi, ti, t))
        })
    }

    /// Splits `bytes` (one segment without its terminator) into tag and elements and appends it.
    #[inline]
    pub(crate) fn push(&mut self, bytes: &'a [u8], offset: usize, index: u32) -> usize {
        let seps = self.separators;
        let first = self.elems.len() as u32;
        // Separators (and EDIFACT release characters) are found eight bytes at a time (a word
        // compare gives a bit per matching byte), which beats a byte loop and memchr alike on
        // segments of a few dozen bytes. A release character makes the byte after it text.
        let e = seps.element;
        let pe = crate::syntax::splat(e);
        let pr = seps.release.map_or(0, crate::syntax::splat);
        let released = seps.release.is_some();
        let mut start = 0;
        let mut tag: &[u8] = bytes;
        let mut at_tag = true;
        // bytes before `skip` are released (the one after a release character)
        let mut skip = 0;
        let mut hit = |i: usize, elems: &mut Vec<&'a [u8]>| {
            if i < skip {
                return;
            }
            if bytes[i] != e {
                skip = i + 2; // a release character
                return;
            }
            if at_tag {
                tag = &bytes[..i];
                at_tag = false;
            } else {
                elems.push(&bytes[start..i]);
            }
            start = i + 1;
        };
        let mut chunks = bytes.chunks_exact(8);
        let mut base = 0;
        for chunk in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            let w = u64::from_le_bytes(w);
            let mut hits = crate::syntax::eq_bytes(w, pe);
            if released {
                hits |= crate::syntax::eq_bytes(w, pr);
            }
            while hits != 0 {
                hit(base + (hits.trailing_zeros() / 8) as usize, &mut self.elems);
                hits &= hits - 1;
            }
            base += 8;
        }
        for (j, &b) in chunks.remainder().iter().enumerate() {
            if b == e || (released && Some(b) == seps.release) {
                hit(base + j, &mut self.elems);
            }
        }
        if !at_tag {
            self.elems.push(&bytes[start..]);
        }
        let tag = crate::syntax::within(self.text.0, tag)
            .or_else(|| std::str::from_utf8(tag).ok())
            // Display only: a tag that is not UTF-8 is shown as `?` (validation reports it).
            .unwrap_or("?");
        let count = self.elems.len() as u32 - first;
        self.segments.push(Segment {
            tag,
            offset,
            index,
            first,
            count,
            len: bytes.len() as u32,
        });
        self.segments.len() - 1
    }

    #[allow(clippy::too_many_arguments)]
    /// An issue located at segment `seg` (index in `segments`), optionally in a transaction.
    pub(crate) fn issue_at(
        &self,
        code: Code,
        group: Option<usize>,
        txn: Option<usize>,
        seg: Option<usize>,
        element: Option<ElementAt>,
        value: Option<String>,
        detail: String,
    ) -> Issue {
        let g = group.and_then(|gi| self.groups.get(gi).map(|g| (gi, g)));
        let t = g.and_then(|(_, g)| txn.and_then(|ti| g.transactions.get(ti).map(|t| (ti, t))));
        let segment = seg.and_then(|si| {
            self.segments.get(si).map(|s| SegmentAt {
                tag: crate::issue::bounded(s.tag),
                index: s.index,
                position: t.and_then(|(_, t)| (si >= t.header).then(|| (si - t.header + 1) as u32)),
                offset: s.offset,
            })
        });
        Issue {
            code,
            interchange: self.control_number.clone(),
            group: g.map(|(gi, g)| (gi, g.control_number.clone())),
            transaction: t.map(|(ti, t)| (ti, t.control_number.clone())),
            segment,
            element,
            // values and details quote input: bounded here, once, for every issue
            value: value.map(|v| crate::issue::bounded(&v)),
            detail: crate::issue::bounded(&detail),
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn report(
        &mut self,
        code: Code,
        group: Option<usize>,
        txn: Option<usize>,
        seg: Option<usize>,
        element: Option<u32>,
        value: Option<String>,
        detail: String,
    ) {
        let element = element.map(|position| ElementAt {
            position,
            component: None,
        });
        let issue = self.issue_at(code, group, txn, seg, element, value, detail);
        self.issues.push(issue);
    }
}

/// Bounds on what a reader holds, so hostile input fails with a located error instead of
/// exhausting memory. A segment or interchange over its bound is an [`EdiError`]
/// (`SegmentTooLong`, `InterchangeTooLarge`) and reading resumes at the next header, the same
/// whether the input is read whole ([`Reader`]) or streamed ([`StreamReader`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest segment, in bytes (terminator excluded).
    pub max_segment_bytes: usize,
    /// Largest interchange, in bytes, header to trailer: what a [`StreamReader`] holds at most
    /// (memory is about four times this with the segment and element tables).
    pub max_interchange_bytes: usize,
}

impl Default for Limits {
    /// 1 MiB segments, 32 MiB interchanges.
    fn default() -> Self {
        Limits {
            max_segment_bytes: 1 << 20,
            max_interchange_bytes: 32 << 20,
        }
    }
}

/// What a reader of one interchange may assume about its window of the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    /// Nothing follows the window (a whole input, or the end of a stream).
    pub(crate) eof: bool,
    pub(crate) max_segment: usize,
}

/// Where the next segment ends.
pub(crate) enum Seg {
    /// `(end, next)`: its last byte is before `end`; the next segment starts at `next`.
    At(usize, usize),
    /// No terminator within the segment limit.
    Overlong,
    /// The window ends first.
    More,
}

/// The segment starting at `pos`: terminated by an unreleased `term` within the segment limit,
/// or the rest of a window nothing follows.
#[inline]
pub(crate) fn next_segment(
    input: &[u8],
    pos: usize,
    term: u8,
    release: Option<u8>,
    w: Window,
) -> Seg {
    let scan_end = input
        .len()
        .min(pos.saturating_add(w.max_segment).saturating_add(1));
    let window = &input[pos..scan_end];
    let found = match release {
        None => memchr::memchr(term, window),
        Some(_) => crate::syntax::find_unreleased(window, term, release),
    };
    match found {
        Some(i) => Seg::At(pos + i, pos + i + 1),
        None if scan_end - pos > w.max_segment => Seg::Overlong,
        None if !w.eof => Seg::More,
        None => Seg::At(input.len(), input.len()),
    }
}

/// One step of a reader over a window of the input.
// one per interchange, moved straight out: boxing would only add an allocation
#[allow(clippy::large_enum_variant)]
pub(crate) enum Step<'a> {
    Item(Result<Interchange<'a>, EdiError>),
    /// The window ends before the next item does: give more input (or say it ended).
    More,
    End,
}

/// Looking for the next header from `from` (absolute); `garbage`: the start of a region outside
/// any interchange, whose error is given when the region ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seek {
    pub(crate) from: usize,
    pub(crate) garbage: Option<usize>,
}

/// The reading state both readers share: the whole-input [`Reader`] and the [`StreamReader`]
/// call the same [`Core::step`] over their windows, so they give the same items.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    pub(crate) seg_index: u32,
    /// Segment and element counts of the previous interchange: the next one starts with that
    /// capacity (interchanges of a file tend to be alike), so its tables are not regrown and
    /// copied while reading. Bounded by an interchange already held, so memory stays bounded.
    capacity: (usize, usize),
    /// Byte length of the previous interchange (sizes the validation window of UTF-8 runs).
    pub(crate) last_len: usize,
    pub(crate) limits: Limits,
    pub(crate) seek: Option<Seek>,
}

impl Core {
    pub(crate) fn new(limits: Limits) -> Self {
        Core {
            seg_index: 0,
            capacity: (0, 0),
            last_len: 0,
            limits,
            seek: None,
        }
    }

    /// The next item of `input` (a window whose first byte is at absolute offset `base`) from
    /// absolute position `*pos`, which it moves on. `eof`: nothing follows the window. `text`
    /// gives a valid UTF-8 run of the window from a position in it (a speed hint only).
    pub(crate) fn step<'a>(
        &mut self,
        input: &'a [u8],
        base: usize,
        pos: &mut usize,
        eof: bool,
        text: impl FnOnce(usize, usize) -> &'a str,
    ) -> Step<'a> {
        loop {
            if let Some(seek) = self.seek {
                let from = seek.from - base;
                match next_header(input, from) {
                    Some(j) => {
                        self.seek = None;
                        *pos = base + j;
                        if let Some(g) = seek.garbage {
                            return Step::Item(Err(outside(g, base + j, true)));
                        }
                    }
                    None if eof => {
                        self.seek = None;
                        *pos = base + input.len();
                        return match seek.garbage {
                            Some(g) => Step::Item(Err(outside(g, *pos, false))),
                            None => Step::End,
                        };
                    }
                    None => {
                        // a header may start in the last two bytes: scan them again
                        let keep = input.len().saturating_sub(2).max(from);
                        self.seek = Some(Seek {
                            from: base + keep,
                            garbage: seek.garbage,
                        });
                        *pos = base + keep.min(input.len());
                        return Step::More;
                    }
                }
            }
            let mut at = *pos - base;
            while at < input.len() && is_noise(input[at]) {
                at += 1;
            }
            *pos = base + at;
            let rest = &input[at..];
            if rest.len() < 3 && !eof {
                return Step::More;
            }
            if rest.is_empty() {
                return Step::End;
            }
            let x12 = rest.starts_with(b"ISA");
            if !x12 && !rest.starts_with(b"UNA") && !rest.starts_with(b"UNB") {
                self.seek = Some(Seek {
                    from: base + at + 1,
                    garbage: Some(base + at),
                });
                continue;
            }
            let hints = Hints {
                capacity: self.capacity,
                text: text(at, self.last_len),
                input,
                base,
            };
            let w = Window {
                eof,
                max_segment: self.limits.max_segment_bytes,
            };
            let before = self.seg_index;
            let parsed = if x12 {
                x12::read(input, at, &mut self.seg_index, hints, w)
            } else {
                edifact::read(input, at, &mut self.seg_index, hints, w)
            };
            let result = match parsed {
                // the window ends before the interchange does
                Ok(None) => {
                    self.seg_index = before;
                    return Step::More;
                }
                Ok(Some(ich)) => Ok(ich),
                Err(e) => Err(e),
            };
            let result = result.and_then(|ich| {
                if ich.end - ich.offset > self.limits.max_interchange_bytes {
                    Err(self.too_large(ich.offset))
                } else {
                    Ok(ich)
                }
            });
            return Step::Item(match result {
                Ok(ich) => {
                    *pos = ich.end.max(*pos + 1);
                    self.capacity = (ich.segments.len(), ich.elems.len());
                    self.last_len = ich.end - ich.offset;
                    Ok(ich)
                }
                Err(e) => {
                    if matches!(e, EdiError::InterchangeTooLarge { .. }) {
                        // an interchange not read: its segments are not counted
                        self.seg_index = before;
                    }
                    self.seek = Some(Seek {
                        from: *pos + 3,
                        garbage: None,
                    });
                    Err(e)
                }
            });
        }
    }

    /// The error for an interchange at `offset` over the size limit; reading resumes at the
    /// next header after its start.
    pub(crate) fn too_large(&self, offset: usize) -> EdiError {
        EdiError::InterchangeTooLarge {
            offset,
            limit: self.limits.max_interchange_bytes,
        }
    }
}

/// The error for bytes `start..end` outside any interchange (`found`: a header follows).
fn outside(start: usize, end: usize, found: bool) -> EdiError {
    if !found && start == 0 {
        EdiError::NoInterchange { offset: start }
    } else {
        EdiError::BadHeader {
            offset: start,
            header: "interchange",
            reason: format!("{} bytes outside any interchange", end - start),
        }
    }
}

/// Streams the interchanges of a byte slice, one at a time. An `Err` item is an unreadable
/// header, data outside any interchange, or a segment or interchange over its [`Limits`];
/// reading resumes at the next header. [`StreamReader`] gives the same items from a
/// [`std::io::Read`] without holding the whole input.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    core: Core,
    /// The valid UTF-8 run of the input that starts at or before `pos` (empty before the first
    /// interchange): elements inside it are turned into text without validating each again.
    text: Utf8Run<'a>,
    /// Whether `text` ends at a byte that is not UTF-8 (rather than at the window's end).
    text_blocked: bool,
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Self::with_limits(input, Limits::default())
    }

    pub fn with_limits(input: &'a [u8], limits: Limits) -> Self {
        Reader {
            input,
            pos: 0,
            core: Core::new(limits),
            text: Utf8Run(""),
            text_blocked: false,
        }
    }
}

/// The UTF-8 run for an interchange starting at `pos`. The run is validated ahead of the
/// reader by a bounded window (at least 8 MB and twice the previous interchange), renewed when
/// less than half of it is left: each byte is validated about twice at most, and reading the
/// first interchanges of a large input does not validate all of it. A run stops at the first
/// byte that is not UTF-8 (or at the window's end); elements past it are decoded one by one,
/// as before.
fn renew_run<'a>(
    input: &'a [u8],
    pos: usize,
    last_len: usize,
    text: &mut Utf8Run<'a>,
    blocked: &mut bool,
) -> &'a str {
    let base = input.as_ptr() as usize;
    let run_end = (text.0.as_ptr() as usize + text.0.len()).wrapping_sub(base);
    let run_start = (text.0.as_ptr() as usize).wrapping_sub(base);
    let window = (8 << 20).max(2 * last_len);
    // a run cut by an invalid byte is renewed only past that byte (no revalidating up to
    // it at every interchange); a run cut by the window's end, when it runs short
    let stale = text.0.is_empty()
        || pos < run_start
        || pos >= run_end
        || (!*blocked && run_end < input.len() && run_end - pos < window / 2);
    if stale {
        let end = input.len().min(pos.saturating_add(window));
        let (run, b) = utf8_run(&input[pos..end]);
        (*text, *blocked) = (Utf8Run(run), b);
    }
    text.0
}

/// The valid UTF-8 prefix of `bytes`, and whether a byte that is not UTF-8 ended it (rather than
/// the end of `bytes`, maybe inside a character).
pub(crate) fn utf8_run(bytes: &[u8]) -> (&str, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s, false),
        Err(e) => (
            // The prefix up to valid_up_to is valid UTF-8 by definition.
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
            e.error_len().is_some(),
        ),
    }
}

/// What the reader passes to the interchange it starts: the capacity to reserve, the input's
/// current UTF-8 run, the window and the absolute offset of its first byte.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hints<'a> {
    pub(crate) capacity: (usize, usize),
    pub(crate) text: &'a str,
    pub(crate) input: &'a [u8],
    pub(crate) base: usize,
}

fn is_noise(b: u8) -> bool {
    matches!(
        b,
        b'\r' | b'\n' | b' ' | b'\t' | 0 | 0x1a | 0xef | 0xbb | 0xbf
    )
}

/// Next `ISA`, `UNA` or `UNB` at or after `from`.
fn next_header(input: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < input.len() {
        let j = i + memchr::memchr2(b'I', b'U', &input[i..])?;
        let rest = &input[j..];
        if rest.starts_with(b"ISA") || rest.starts_with(b"UNA") || rest.starts_with(b"UNB") {
            return Some(j);
        }
        i = j + 1;
    }
    None
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Interchange<'a>, EdiError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (input, text, blocked) = (self.input, &mut self.text, &mut self.text_blocked);
        let step = self.core.step(input, 0, &mut self.pos, true, |at, last| {
            renew_run(input, at, last, text, blocked)
        });
        match step {
            Step::Item(r) => Some(r),
            // a whole input is never short of bytes
            Step::More | Step::End => None,
        }
    }
}

/// Skips CR/LF (and spaces/tabs) after a segment terminator, unless they are separators.
#[inline]
pub(crate) fn skip_line_noise(input: &[u8], mut pos: usize, seps: &Separators) -> usize {
    while let Some(&b) = input.get(pos) {
        if matches!(b, b'\r' | b'\n' | b' ' | b'\t') && b != seps.segment && b != seps.element {
            pos += 1;
        } else {
            break;
        }
    }
    pos
}

/// Parses a whole count/control element as an unsigned number.
pub(crate) fn num(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 18 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

/// Control numbers compare as numbers when both are numeric (`000001403` = `1403`), else as text.
pub(crate) fn same_control(a: &[u8], b: &[u8]) -> bool {
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time EDIFACT split gives what `split_unreleased` gives, for every length
    /// around the 8-byte word boundaries and separators and release characters everywhere.
    #[test]
    fn edifact_split_matches_split_unreleased() {
        let hints = Hints {
            capacity: (0, 0),
            text: "",
            input: &[],
            base: 0,
        };
        let alphabet = [b'A', b'+', b'?', b':', 0xbf, b'\''];
        for len in 0..30usize {
            for seed in 0..120usize {
                let bytes: Vec<u8> = (0..len)
                    .map(|i| alphabet[((seed * 13 + i * (seed % 7 + 1)) ^ (seed >> 2)) % 6])
                    .collect();
                let mut ich = Interchange::new(Standard::Edifact, Separators::EDIFACT, 0, hints);
                let si = ich.push(&bytes, 0, 1);
                let s = ich.segment(si).unwrap();
                let mut parts = crate::syntax::split_unreleased(&bytes, b'+', Some(b'?'));
                let tag = parts.next().unwrap();
                assert_eq!(
                    s.tag(),
                    std::str::from_utf8(tag).unwrap_or("?"),
                    "{bytes:?}"
                );
                let elems: Vec<&[u8]> = parts.collect();
                assert_eq!(s.len(), elems.len(), "{bytes:?}");
                for (i, e) in elems.iter().enumerate() {
                    assert_eq!(s.raw(i + 1), *e, "{bytes:?}");
                }
            }
        }
    }

    /// The word-at-a-time X12 split gives what a plain split on the element separator gives, for
    /// every length around the 8-byte word boundaries and separators at every position.
    #[test]
    fn x12_split_matches_plain_split() {
        let hints = Hints {
            capacity: (0, 0),
            text: "",
            input: &[],
            base: 0,
        };
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for len in 0..40usize {
            for sep_every in 1..12usize {
                let v: Vec<u8> = (0..len)
                    .map(|i| {
                        if i % sep_every == sep_every - 1 {
                            b'*'
                        } else {
                            [b'A', 0xAA, b'+', 0x2A ^ 0x80, b'0'][i % 5]
                        }
                    })
                    .collect();
                cases.push(v);
            }
        }
        cases.push(b"PO1*1*3*EA*3.01**BP*B00001*VP*SKU-00001*UP*012345600001".to_vec());
        cases.push(b"***".to_vec());
        for bytes in &cases {
            let mut ich = Interchange::new(Standard::X12, Separators::X12, 0, hints);
            let si = ich.push(bytes, 0, 1);
            let s = ich.segment(si).unwrap();
            let mut parts = bytes.split(|&b| b == b'*');
            let tag = parts.next().unwrap();
            let expect_tag = std::str::from_utf8(tag).unwrap_or("?");
            assert_eq!(s.tag(), expect_tag, "{bytes:?}");
            let elems: Vec<&[u8]> = parts.collect();
            assert_eq!(s.len(), elems.len(), "{bytes:?}");
            for (i, e) in elems.iter().enumerate() {
                assert_eq!(s.raw(i + 1), *e, "{bytes:?}");
            }
        }
    }

    fn interchange(ctl: u32, name: &[u8]) -> Vec<u8> {
        let mut v = format!(
            "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*ORDO           *260301*1200*U*00401*{ctl:09}*0*P*>~\n\
             GS*PO*BUYERCO*ORDO*20260301*1200*{ctl}*X*004010~\n\
             ST*850*0001~\nBEG*00*SA*PO{ctl}**20260301~\nN1*BY*"
        )
        .into_bytes();
        v.extend_from_slice(name);
        v.extend_from_slice(
            format!(
                "*UL*4012345000009~\nPO1*1*2*EA*3.50**VP*SKU-1~\nCTT*1~\nSE*6*0001~\n\
                 GE*1*{ctl}~\nIEA*1*{ctl:09}~\n"
            )
            .as_bytes(),
        );
        v
    }

    /// Text is the same whether an element lies in a UTF-8 run or after a Latin-1 byte, in the
    /// interchange with that byte and in the ones around it.
    #[test]
    fn latin1_interchange_between_utf8_ones() {
        let mut input = interchange(1, "K\u{e4}se AG".as_bytes());
        input.extend(interchange(2, b"K\xe4se AG"));
        input.extend(interchange(3, "K\u{e4}se AG".as_bytes()));
        use crate::map::{MapOptions, orders};
        let opts = MapOptions {
            customer_id: "C1".into(),
            partner: None,
            default_currency: "USD".into(),
        };
        let mut names = Vec::new();
        for ich in crate::read(&input) {
            let ich = ich.expect("interchange");
            assert!(crate::validate(&ich).is_empty());
            for o in orders(&ich, &opts) {
                let o = o.expect("order");
                names.push(o.parties[0].name.clone().unwrap_or_default());
                assert_eq!(o.lines[0].sku, "SKU-1");
            }
        }
        assert_eq!(names, vec!["K\u{e4}se AG"; 3]);
    }
}
