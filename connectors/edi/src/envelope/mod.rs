//! Envelopes: reading a byte slice as a stream of interchanges.
//!
//! [`Reader`] is an iterator over `&[u8]` that yields one [`Interchange`] at a time (X12
//! ISA..IEA or EDIFACT [UNA]UNB..UNZ), re-detecting separators at every header, so a mailbag
//! mixing separators and standards reads correctly and memory holds only the current
//! interchange. Each interchange keeps its segments (zero-copy slices of the input), its groups
//! (GS/GE, UNG/UNE, or one implicit group for EDIFACT without UNG) and transactions (ST/SE,
//! UNH/UNT), and the envelope issues found while reading: counts, control numbers, nesting.

mod edifact;
mod x12;

pub(crate) use x12::functional_id as x12_functional_id;

use crate::error::EdiError;
use crate::issue::{Code, ElementAt, Issue, SegmentAt};
use crate::segment::{Segment, SegmentRef};
use crate::syntax::{Separators, Standard};

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
    /// Envelope issues found while reading (counts, control numbers, nesting, header values).
    pub issues: Vec<Issue>,
}

impl<'a> Interchange<'a> {
    pub(crate) fn new(standard: Standard, separators: Separators, offset: usize) -> Self {
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
            segments: Vec::new(),
            elems: Vec::new(),
            issues: Vec::new(),
        }
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
        let tag = if seps.release.is_none() {
            // X12: no release character, a plain byte loop beats memchr on short segments
            let e = seps.element;
            let mut start = 0;
            let mut tag: &[u8] = bytes;
            let mut first = true;
            for (i, &b) in bytes.iter().enumerate() {
                if b == e {
                    if first {
                        tag = &bytes[..i];
                        first = false;
                    } else {
                        self.elems.push(&bytes[start..i]);
                    }
                    start = i + 1;
                }
            }
            if !first {
                self.elems.push(&bytes[start..]);
            }
            tag
        } else {
            let mut parts = crate::syntax::split_unreleased(bytes, seps.element, seps.release);
            let tag = parts.next().unwrap_or(&[]);
            self.elems.extend(parts);
            tag
        };
        let tag = std::str::from_utf8(tag).unwrap_or("?");
        let count = self.elems.len() as u32 - first;
        self.segments.push(Segment {
            tag,
            offset,
            index,
            first,
            count,
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
                tag: s.tag.to_string(),
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
            value,
            detail,
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

/// Streams the interchanges of a byte slice, one at a time. An `Err` item is an unreadable
/// header or data outside any interchange; reading resumes at the next header.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
    seg_index: u32,
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Reader {
            input,
            pos: 0,
            seg_index: 0,
        }
    }
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
        while self.pos < self.input.len() && is_noise(self.input[self.pos]) {
            self.pos += 1;
        }
        if self.pos >= self.input.len() {
            return None;
        }
        let rest = &self.input[self.pos..];
        let result = if rest.starts_with(b"ISA") {
            x12::read(self.input, self.pos, &mut self.seg_index)
        } else if rest.starts_with(b"UNA") || rest.starts_with(b"UNB") {
            edifact::read(self.input, self.pos, &mut self.seg_index)
        } else {
            let at = self.pos;
            let next = next_header(self.input, at + 1);
            self.pos = next.unwrap_or(self.input.len());
            return Some(Err(match next {
                None if at == 0 => EdiError::NoInterchange { offset: at },
                _ => EdiError::BadHeader {
                    offset: at,
                    header: "interchange",
                    reason: format!("{} bytes outside any interchange", self.pos - at),
                },
            }));
        };
        match result {
            Ok(ich) => {
                self.pos = ich.end.max(self.pos + 1);
                Some(Ok(ich))
            }
            Err(e) => {
                self.pos = next_header(self.input, self.pos + 3).unwrap_or(self.input.len());
                Some(Err(e))
            }
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
