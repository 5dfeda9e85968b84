//! Event sources for the camt parser that know which line quick-xml is on: a streamed
//! `BufRead` (events copied into one reused buffer, newlines counted per consumed chunk) and
//! in-memory bytes (events borrowed from the input, no copy; the line is counted only when an
//! error or a balance warning asks). Neither counts lines per event.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::Event;

/// Where the parser's events come from.
pub(super) trait Source {
    /// The next event (valid until the next call).
    fn next_event(&mut self) -> Result<Event<'_>, quick_xml::Error>;
    /// 1-based line of the next byte the parser will read.
    fn line(&mut self) -> usize;
}

fn reader<R>(input: R) -> Reader<R> {
    let mut reader = Reader::from_reader(input);
    reader.config_mut().check_end_names = true;
    reader
}

/// A streamed input: memory is one chunk of `R` plus the largest event.
pub(super) struct Buffered<R> {
    reader: Reader<LineCounter<R>>,
    buf: Vec<u8>,
}

impl<R: BufRead> Buffered<R> {
    pub(super) fn new(input: R) -> Self {
        Buffered {
            reader: reader(LineCounter::new(input)),
            buf: Vec::with_capacity(4096),
        }
    }
}

impl<R: BufRead> Source for Buffered<R> {
    #[inline]
    fn next_event(&mut self) -> Result<Event<'_>, quick_xml::Error> {
        self.buf.clear();
        self.reader.read_event_into(&mut self.buf)
    }
    fn line(&mut self) -> usize {
        self.reader.get_mut().line()
    }
}

/// Bytes in memory: events borrow from them.
pub(super) struct InMemory<'a> {
    reader: Reader<&'a [u8]>,
    bytes: &'a [u8],
}

impl<'a> InMemory<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        InMemory {
            reader: reader(bytes),
            bytes,
        }
    }
}

impl Source for InMemory<'_> {
    #[inline]
    fn next_event(&mut self) -> Result<Event<'_>, quick_xml::Error> {
        self.reader.read_event()
    }
    fn line(&mut self) -> usize {
        // Error line only; the position is clamped to the input below.
        let pos = usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX);
        1 + newlines(&self.bytes[..pos.min(self.bytes.len())])
    }
}

fn newlines(b: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', b).count()
}

/// Counts newlines in the bytes quick-xml consumes, so errors can say which line.
///
/// What the parser consumes is held back from `inner` until the whole chunk `inner` handed out
/// has been consumed; then the chunk's newlines are counted in one pass and it is released. So
/// at most one chunk of `inner` is held (memory stays flat) and the consumed-but-held part can
/// still be counted when an error needs the line.
pub(super) struct LineCounter<R> {
    inner: R,
    /// 1 + the newlines in the chunks already released to `inner`.
    lines: usize,
    /// Bytes of `inner`'s current chunk the parser has consumed but `inner` has not.
    held: usize,
}

impl<R: BufRead> LineCounter<R> {
    pub(super) fn new(inner: R) -> Self {
        LineCounter {
            inner,
            lines: 1,
            held: 0,
        }
    }
}

impl<R: BufRead> LineCounter<R> {
    /// 1-based line of the next byte the parser will read.
    fn line(&mut self) -> usize {
        let held = self.held;
        match self.inner.fill_buf() {
            Ok(buf) => self.lines + newlines(&buf[..held.min(buf.len())]),
            Err(_) => self.lines,
        }
    }
}

impl<R: BufRead> std::io::Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let buf = self.fill_buf()?;
        let n = out.len().min(buf.len());
        out[..n].copy_from_slice(&buf[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.held > 0 {
            let buf = self.inner.fill_buf()?;
            if self.held >= buf.len() {
                // The chunk is used up: count it once, release it, let `inner` refill.
                let n = self.held.min(buf.len());
                self.lines += newlines(&buf[..n]);
                self.inner.consume(n);
                self.held = 0;
            }
        }
        let held = self.held;
        let buf = self.inner.fill_buf()?;
        Ok(&buf[held.min(buf.len())..])
    }

    fn consume(&mut self, amt: usize) {
        self.held += amt;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A reader that hands out tiny chunks, to cross chunk boundaries often.
    struct Tiny<'a>(&'a [u8]);
    impl Read for Tiny<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(3);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn counts_lines_across_chunks() {
        let text = b"a\nbb\n\nccc\nd\n\n";
        for step in 1..5 {
            let mut lc = LineCounter::new(std::io::BufReader::with_capacity(4, Tiny(text)));
            let mut pos = 0;
            loop {
                let got = lc.fill_buf().unwrap().len();
                if got == 0 {
                    break;
                }
                let n = step.min(got);
                assert_eq!(lc.fill_buf().unwrap()[0], text[pos]);
                lc.consume(n);
                pos += n;
                assert_eq!(
                    lc.line(),
                    1 + newlines(&text[..pos]),
                    "step {step} pos {pos}"
                );
            }
            assert_eq!(pos, text.len());
        }
    }
}
