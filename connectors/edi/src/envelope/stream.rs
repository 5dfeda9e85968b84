//! Reading interchanges from a [`std::io::Read`] without holding the input: [`StreamReader`].
//!
//! The reader keeps one window of the input: the bytes from the start of the interchange being
//! read to what has been read so far. It runs the same [`Core::step`] as the whole-input
//! [`super::Reader`]; when a step needs bytes beyond the window ([`Step::More`]), the bytes
//! before the interchange's start are dropped, the next chunk is appended and the interchange is
//! read again from its start. So items, offsets, segment indices and errors are those of the
//! whole-input reader, and memory is one chunk plus the largest interchange
//! ([`Limits::max_interchange_bytes`] bounds it: a larger one is an error, not a bigger
//! window). Line numbers are counted as bytes leave the window ([`LineCursor`]), and each item
//! comes with the [`Lines`] that place its offsets.
//!
//! The crate still does no I/O of its own: the caller opens the file and hands over the reader.

use std::io::Read;

use super::{Core, Interchange, Limits, Step, utf8_run};
use crate::error::EdiError;
use crate::location::{LineCursor, Lines};

/// Bytes read from the source at a time.
pub const DEFAULT_CHUNK: usize = 4 << 20;

/// One item of a [`StreamReader`]: an interchange or an error, with the lines that place its
/// offsets (for an error, the line of its offset).
#[derive(Debug)]
pub struct Streamed<'s> {
    pub result: Result<Interchange<'s>, EdiError>,
    pub lines: Lines,
}

/// Streams the interchanges of a [`Read`] source one at a time, holding one chunk plus the
/// current interchange; gives the items [`super::Reader`] gives for the whole input.
#[derive(Debug)]
pub struct StreamReader<R> {
    src: R,
    buf: Vec<u8>,
    /// Absolute offset of `buf[0]`.
    base: usize,
    /// Absolute position of the reader.
    pos: usize,
    eof: bool,
    /// A read error already reported: nothing more comes.
    failed: bool,
    core: Core,
    chunk: usize,
    /// Lines counted up to here (never past `pos`).
    cursor: LineCursor,
    /// The line and column of the start of a region outside any interchange, counted when it
    /// was found (its bytes may be gone when its error is given).
    garbage_at: Option<(usize, LineCursor)>,
}

impl<R: Read> StreamReader<R> {
    pub fn new(src: R) -> Self {
        Self::with_limits(src, Limits::default(), DEFAULT_CHUNK)
    }

    /// A reader with `limits` that reads `chunk` bytes at a time (at least 1).
    pub fn with_limits(src: R, limits: Limits, chunk: usize) -> Self {
        StreamReader {
            src,
            buf: Vec::new(),
            base: 0,
            pos: 0,
            eof: false,
            failed: false,
            core: Core::new(limits),
            chunk: chunk.max(1),
            cursor: LineCursor::default(),
            garbage_at: None,
        }
    }

    /// Bytes consumed so far (the absolute position of the reader).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Calls `f` with every item in order, until the input ends or `f` returns an error.
    /// (Items borrow the reader's window, so they are lent to a callback rather than returned
    /// by an iterator.)
    pub fn for_each<E>(
        &mut self,
        mut f: impl FnMut(Streamed<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        loop {
            if self.failed {
                return Ok(());
            }
            let pos_before = self.pos;
            let (buf, base, eof) = (&self.buf[..], self.base, self.eof);
            let step = self.core.step(buf, base, &mut self.pos, eof, |at, last| {
                // a run over the next interchange or so: each byte is validated about twice
                let end = buf.len().min(at + (2 * last).max(64 << 10));
                utf8_run(&buf[at..end]).0
            });
            match step {
                Step::End => return Ok(()),
                Step::Item(result) => {
                    let lines = match &result {
                        Ok(ich) => {
                            let (from, to) = (ich.offset - base, ich.end - base);
                            advance(&mut self.cursor, buf, base, ich.offset);
                            let (lines, end) =
                                Lines::window(&buf[from..to], self.cursor, buf.get(to).copied());
                            self.cursor = end;
                            lines
                        }
                        Err(e) => {
                            // Error position only: without an offset the error is placed where the read began.
                            let at = e.offset().unwrap_or(pos_before);
                            let cursor = match self.garbage_at.take() {
                                Some((g, c)) if g == at => c,
                                _ => {
                                    let mut c = self.cursor;
                                    advance(&mut c, buf, base, at);
                                    c
                                }
                            };
                            Lines::window(&[], cursor, None).0
                        }
                    };
                    locate_garbage(
                        &self.core,
                        &mut self.garbage_at,
                        &mut self.cursor,
                        buf,
                        base,
                    );
                    f(Streamed { result, lines })?;
                }
                Step::More => {
                    locate_garbage(
                        &self.core,
                        &mut self.garbage_at,
                        &mut self.cursor,
                        &self.buf,
                        self.base,
                    );
                    let held = self.buf.len() - (self.pos - self.base);
                    if self.core.seek.is_none() && held > self.core.limits.max_interchange_bytes {
                        // the interchange at `pos` is larger than allowed: not read
                        let at = self.pos;
                        let e = self.core.too_large(at);
                        self.core.seek = Some(super::Seek {
                            from: at + 3,
                            garbage: None,
                        });
                        let mut c = self.cursor;
                        advance(&mut c, &self.buf, self.base, at);
                        f(Streamed {
                            result: Err(e),
                            lines: Lines::window(&[], c, None).0,
                        })?;
                        continue;
                    }
                    if let Err(e) = self.fill() {
                        self.failed = true;
                        let lines = Lines::window(&[], self.cursor, None).0;
                        f(Streamed {
                            result: Err(e),
                            lines,
                        })?;
                    }
                }
            }
        }
    }

    /// Drops the bytes before the reader's position and appends up to one chunk.
    fn fill(&mut self) -> Result<(), EdiError> {
        advance(&mut self.cursor, &self.buf, self.base, self.pos);
        let keep = (self.pos - self.base).min(self.buf.len());
        self.buf.drain(..keep);
        self.base += keep;
        let old = self.buf.len();
        self.buf.resize(old + self.chunk, 0);
        let mut filled = old;
        while filled < self.buf.len() {
            match self.src.read(&mut self.buf[filled..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(filled);
                    return Err(EdiError::Read {
                        offset: self.base + filled,
                        reason: e.to_string(),
                    });
                }
            }
        }
        self.buf.truncate(filled);
        Ok(())
    }
}

/// Counts the line of a newly found region outside any interchange while its first byte is
/// still in the window (`garbage_at` keeps it until its error is given).
fn locate_garbage(
    core: &Core,
    garbage_at: &mut Option<(usize, LineCursor)>,
    cursor: &mut LineCursor,
    buf: &[u8],
    base: usize,
) {
    if let Some(g) = core.seek.and_then(|s| s.garbage)
        && garbage_at.is_none_or(|(at, _)| at != g)
    {
        advance(cursor, buf, base, g);
        *garbage_at = Some((g, *cursor));
    }
}

/// Moves `cursor` to absolute offset `to` over the window `buf` (first byte at `base`); a
/// cursor already there or past it stays.
fn advance(cursor: &mut LineCursor, buf: &[u8], base: usize, to: usize) {
    if to <= cursor.offset {
        return;
    }
    let (from, to) = (cursor.offset - base, (to - base).min(buf.len()));
    cursor.advance(&buf[from..to], buf.get(to).copied());
}
