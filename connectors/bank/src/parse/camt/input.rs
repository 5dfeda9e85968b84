//! Inputs for the camt parser that know which line quick-xml is on: a counting wrapper for
//! streamed `BufRead`s and an in-memory slice that counts only when an error asks.

use std::io::BufRead;

/// An input that can say which line the parser is on.
pub(super) trait Lines: BufRead {
    fn line(&self) -> usize;
}

/// Counts newlines in the bytes quick-xml consumes, so errors can say which line.
pub(super) struct LineCounter<R> {
    pub(super) inner: R,
    pub(super) lines: usize,
}

impl<R: BufRead> Lines for LineCounter<R> {
    fn line(&self) -> usize {
        self.lines
    }
}

/// A byte slice whose line numbers are counted only when asked.
pub(super) struct Slice<'a> {
    pub(super) bytes: &'a [u8],
    pub(super) pos: usize,
}

impl std::io::Read for Slice<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.bytes.len() - self.pos);
        buf[..n].copy_from_slice(&self.bytes[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl BufRead for Slice<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(&self.bytes[self.pos..])
    }
    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.bytes.len());
    }
}

impl Lines for Slice<'_> {
    fn line(&self) -> usize {
        1 + memchr::memchr_iter(b'\n', &self.bytes[..self.pos]).count()
    }
}

impl<R: std::io::Read> std::io::Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.lines += memchr::memchr_iter(b'\n', &buf[..n]).count();
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let n = amt.min(buf.len());
            self.lines += memchr::memchr_iter(b'\n', &buf[..n]).count();
        }
        self.inner.consume(amt);
    }
}
