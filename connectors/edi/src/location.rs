//! Where in a file a finding is: byte offset → 1-based line and column, and the byte an
//! [`Issue`] points at (its element when it names one, else its segment, else its
//! interchange). `ordo edi parse` and the engine's partner channel both report EDI problems as
//! `path:line:col` through this one module, so they always agree.

use crate::envelope::Interchange;
use crate::issue::Issue;
use crate::segment::SegmentRef;

/// Byte offset → 1-based line and column (LF, CRLF and lone CR end a line), for a whole input
/// ([`Lines::new`]) or for a window of a streamed one ([`Lines::window`], offsets absolute).
#[derive(Debug, Clone)]
pub struct Lines {
    /// Address of the window's first byte (to place slices of it, [`Lines::offset_of`]).
    ptr: usize,
    len: usize,
    /// Absolute offset of the window's first byte.
    offset: usize,
    /// Line number of `starts[0]`.
    first_line: usize,
    /// Absolute offsets where lines start, from the line holding the window's first byte.
    starts: Vec<usize>,
}

/// Where a streamed input has been counted up to: the line at absolute `offset` and where it
/// started. `cr`: the byte before `offset` is a CR whose line end is not decided yet (a LF may
/// follow in bytes not seen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineCursor {
    pub offset: usize,
    pub line: usize,
    pub line_start: usize,
    cr: bool,
}

impl Default for LineCursor {
    fn default() -> Self {
        LineCursor {
            offset: 0,
            line: 1,
            line_start: 0,
            cr: false,
        }
    }
}

impl LineCursor {
    /// Counts `bytes` (the input from `self.offset` on); `next`: the byte after them, if known.
    pub fn advance(&mut self, bytes: &[u8], next: Option<u8>) {
        self.walk(bytes, next, |_| {});
    }

    /// [`LineCursor::advance`], calling `start` with each line start found.
    fn walk(&mut self, bytes: &[u8], next: Option<u8>, mut start: impl FnMut(usize)) {
        let first = bytes.first().copied().or(next);
        if self.cr && first.is_some() {
            self.cr = false;
            if first != Some(b'\n') {
                self.new_line(self.offset, &mut start);
            }
        }
        for j in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let after =
                bytes
                    .get(j + 1)
                    .copied()
                    .or(if j + 1 == bytes.len() { next } else { None });
            match (bytes[j], after) {
                (b'\n', _) => self.new_line(self.offset + j + 1, &mut start),
                (_, Some(b'\n')) => {}
                (_, Some(_)) => self.new_line(self.offset + j + 1, &mut start),
                (_, None) => self.cr = true,
            }
        }
        self.offset += bytes.len();
    }

    fn new_line(&mut self, at: usize, start: &mut impl FnMut(usize)) {
        self.line += 1;
        self.line_start = at;
        start(at);
    }

    /// Line and column of `self.offset`.
    pub fn position(&self) -> (usize, usize) {
        (self.line, self.offset - self.line_start + 1)
    }
}

impl Lines {
    pub fn new(bytes: &[u8]) -> Self {
        Self::window(bytes, LineCursor::default(), None).0
    }

    /// Lines of `bytes`, a window of an input starting where `cursor` has counted up to;
    /// `next` is the byte after the window, if known. Also returns the cursor at its end.
    pub fn window(bytes: &[u8], cursor: LineCursor, next: Option<u8>) -> (Self, LineCursor) {
        let mut starts = vec![cursor.line_start];
        let first_line = cursor.line;
        let mut end = cursor;
        end.walk(bytes, next, |at| starts.push(at));
        let lines = Lines {
            ptr: bytes.as_ptr() as usize,
            len: bytes.len(),
            offset: cursor.offset,
            first_line,
            starts,
        };
        (lines, end)
    }

    /// Line and column of byte `offset` (1-based; columns count bytes). Offsets before the
    /// window are placed on its first line.
    pub fn at(&self, offset: usize) -> (usize, usize) {
        let i = self.starts.partition_point(|&s| s <= offset).max(1);
        let col = offset.saturating_sub(self.starts[i - 1]) + 1;
        (self.first_line + i - 1, col)
    }

    /// Byte offset of 1-based `line` and `col` (the inverse of [`Lines::at`]), when it lies in
    /// the window: a stored location (`name:line:col`) back to the byte it names.
    pub fn offset(&self, line: usize, col: usize) -> Option<usize> {
        let i = line.checked_sub(self.first_line)?;
        let start = *self.starts.get(i)?;
        let end = self
            .starts
            .get(i + 1)
            .copied()
            .unwrap_or(self.offset + self.len);
        let off = start.checked_add(col.checked_sub(1)?)?;
        (off < end).then_some(off)
    }

    /// Byte offset of `slice` in the input, when it lies inside it.
    pub fn offset_of(&self, slice: &[u8]) -> Option<usize> {
        let p = (slice.as_ptr() as usize).checked_sub(self.ptr)?;
        (!slice.is_empty() && p < self.len).then_some(self.offset + p)
    }

    /// Line and column of what `issue` (found in `ich`) points at.
    pub fn of_issue(&self, ich: &Interchange<'_>, issue: &Issue) -> (usize, usize) {
        self.at(self.issue_offset(ich, issue))
    }

    /// The byte offset `issue` points at: its element, else its segment, else the interchange.
    pub fn issue_offset(&self, ich: &Interchange<'_>, issue: &Issue) -> usize {
        let mut offset = issue.segment.as_ref().map_or(ich.offset, |s| s.offset);
        if let (Some(s), Some(e)) = (&issue.segment, &issue.element)
            && let Some(seg) = segment_of(ich, s.index)
        {
            let n = e.position as usize;
            let slice = match e.component {
                Some(c) => seg.component(n, c as usize),
                None => seg.raw(n),
            };
            if let Some(o) = self.offset_of(slice) {
                offset = o;
            }
        }
        offset
    }
}

/// The segment with 1-based file index `file_index` in `ich`.
pub fn segment_of<'i, 'a>(ich: &'i Interchange<'a>, file_index: u32) -> Option<SegmentRef<'i, 'a>> {
    let first = ich.segments.first()?.index;
    ich.segment(file_index.checked_sub(first)? as usize)
}

/// The byte range (terminator excluded) of the segment of `bytes` that holds byte `offset`,
/// when `offset` lies in a readable interchange: what a quarantined file's located problem
/// is about, to mark it in the raw file.
pub fn segment_span(bytes: &[u8], offset: usize) -> Option<(usize, usize)> {
    for ich in crate::read(bytes).flatten() {
        if offset < ich.offset || offset >= ich.end {
            continue;
        }
        let i = ich.segments.partition_point(|s| s.offset <= offset);
        let s = ich.segments.get(i.checked_sub(1)?)?;
        return Some((s.offset, s.offset + s.len as usize));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored `line:col` leads back to its byte, and that byte to its whole segment.
    #[test]
    fn a_location_marks_its_segment() {
        let f = include_bytes!("../tests/fixtures/x12-4010-850-basic-lf.edi");
        let l = Lines::new(f);
        let beg = f.windows(4).position(|w| w == b"BEG*").unwrap();
        let (line, col) = l.at(beg + 6);
        assert_eq!(l.offset(line, col), Some(beg + 6));
        let (a, b) = segment_span(f, beg + 6).unwrap();
        assert_eq!(a, beg);
        assert!(
            f[a..b].starts_with(b"BEG*") && !f[a..b].contains(&b'~'),
            "{:?}",
            &f[a..b]
        );
        // a column past its line's end is no byte (not one on the next line)
        assert_eq!(l.offset(line, 10_000), None);
        assert_eq!(l.offset(0, 1), None);
        assert_eq!(l.offset(1, 0), None);
        assert_eq!(l.offset(100_000, 1), None);
        assert_eq!(segment_span(b"not edi", 2), None);
    }

    #[test]
    fn lines_and_columns_follow_lf_crlf_and_cr() {
        let l = Lines::new(b"ab\ncd\r\nef\rgh");
        assert_eq!(l.at(0), (1, 1));
        assert_eq!(l.at(4), (2, 2));
        assert_eq!(l.at(7), (3, 1));
        assert_eq!(l.at(10), (4, 1));
    }

    /// Windows counted with a cursor place every offset where the whole input does, wherever
    /// the windows are cut (also between CR and LF).
    #[test]
    fn windows_agree_with_the_whole_input() {
        let input = b"ab\ncd\r\nef\rgh\r\r\n\nij\rk";
        let whole = Lines::new(input);
        for cut in 0..=input.len() {
            let (a, b) = input.split_at(cut);
            let (first, c) = Lines::window(a, LineCursor::default(), b.first().copied());
            let (second, _) = Lines::window(b, c, None);
            for off in 0..input.len() {
                let got = if off < cut {
                    first.at(off)
                } else {
                    second.at(off)
                };
                assert_eq!(got, whole.at(off), "cut {cut} offset {off}");
            }
            // a cursor that did not see the byte after its window decides later
            let (_, c) = Lines::window(a, LineCursor::default(), None);
            let (second, _) = Lines::window(b, c, None);
            for off in cut..input.len() {
                assert_eq!(
                    second.at(off),
                    whole.at(off),
                    "cut {cut} offset {off} (cr later)"
                );
            }
        }
    }
}
