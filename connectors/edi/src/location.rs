//! Where in a file a finding is: byte offset → 1-based line and column, and the byte an
//! [`Issue`] points at (its element when it names one, else its segment, else its
//! interchange). `ordo edi parse` and the engine's partner channel both report EDI problems as
//! `path:line:col` through this one module, so they always agree.

use crate::envelope::Interchange;
use crate::issue::Issue;
use crate::segment::SegmentRef;

/// Byte offset → 1-based line and column (LF, CRLF and lone CR end a line).
#[derive(Debug, Clone)]
pub struct Lines {
    base: usize,
    len: usize,
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(bytes: &[u8]) -> Self {
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        Lines {
            base: bytes.as_ptr() as usize,
            len: bytes.len(),
            starts,
        }
    }

    /// Line and column of byte `offset` (1-based; columns count bytes).
    pub fn at(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        (line, offset - self.starts[line - 1] + 1)
    }

    /// Byte offset of `slice` in the input, when it lies inside it.
    pub fn offset_of(&self, slice: &[u8]) -> Option<usize> {
        let p = (slice.as_ptr() as usize).checked_sub(self.base)?;
        (!slice.is_empty() && p < self.len).then_some(p)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_follow_lf_crlf_and_cr() {
        let l = Lines::new(b"ab\ncd\r\nef\rgh");
        assert_eq!(l.at(0), (1, 1));
        assert_eq!(l.at(4), (2, 2));
        assert_eq!(l.at(7), (3, 1));
        assert_eq!(l.at(10), (4, 1));
    }
}
