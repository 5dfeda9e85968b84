//! Streamed reading ([`StreamReader`]) gives what whole-input reading ([`Reader`] +
//! [`Lines::new`]) gives: the same interchanges (envelope, groups, segments with offsets and
//! indices, element bytes), the same validation issues placed at the same line and column, the
//! same errors at the same place, whatever the chunk size. Checked on every fixture and on
//! hostile inputs: truncated interchanges, segments and release characters split at every
//! chunk boundary, a wrong UNA, bytes outside interchanges, segments and interchanges over the
//! limits, a source that fails.

use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

use ordo_edi::{EdiError, Interchange, Limits, Lines, Reader, StreamReader, validate};

/// Everything a caller can see of one item, with line:col of every offset it carries.
fn render_item(out: &mut String, r: &Result<Interchange<'_>, EdiError>, lines: &Lines) {
    match r {
        Ok(ich) => {
            let _ = writeln!(
                out,
                "ich {}..{} {:?} {:?} v{} {} {:?}->{:?} ctl {} ack {} test {} at {:?}",
                ich.offset,
                ich.end,
                ich.standard,
                ich.separators,
                ich.version,
                ich.syntax_id,
                ich.sender,
                ich.receiver,
                ich.control_number,
                ich.ack_requested,
                ich.test,
                lines.at(ich.offset)
            );
            let _ = writeln!(out, "  groups {:?}", ich.groups);
            for i in 0..ich.segments.len() {
                let Some(s) = ich.segment(i) else { continue };
                let seg = s.segment();
                let elems: Vec<_> = (1..=s.len())
                    .map(|n| String::from_utf8_lossy(s.raw(n)))
                    .collect();
                let _ = writeln!(
                    out,
                    "  seg {} #{} @{} {:?} {:?}",
                    seg.tag,
                    seg.index,
                    seg.offset,
                    lines.at(seg.offset),
                    elems
                );
            }
            for issue in validate(ich) {
                let _ = writeln!(
                    out,
                    "  issue {:?} at {:?}",
                    issue,
                    lines.of_issue(ich, &issue)
                );
            }
        }
        Err(e) => {
            let at = e.offset().map(|o| lines.at(o));
            let _ = writeln!(out, "error {e:?} at {at:?}");
        }
    }
}

fn whole(input: &[u8], limits: Limits) -> String {
    let lines = Lines::new(input);
    let mut out = String::new();
    for r in Reader::with_limits(input, limits) {
        render_item(&mut out, &r, &lines);
    }
    out
}

/// A source that hands out at most `step` bytes per read, then fails after `fail_at` bytes.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
    fail_at: Option<usize>,
    given: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.fail_at.is_some_and(|f| self.given >= f) {
            return Err(std::io::Error::other("disk gone"));
        }
        let mut n = self.step.min(buf.len()).min(self.data.len());
        if let Some(f) = self.fail_at {
            n = n.min(f - self.given);
        }
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.given += n;
        Ok(n)
    }
}

fn streamed(input: &[u8], limits: Limits, chunk: usize, step: usize) -> String {
    let src = Trickle {
        data: input,
        step,
        fail_at: None,
        given: 0,
    };
    let mut out = String::new();
    let mut reader = StreamReader::with_limits(src, limits, chunk);
    reader
        .for_each(|item| {
            render_item(&mut out, &item.result, &item.lines);
            Ok::<(), ()>(())
        })
        .expect("no callback error");
    out
}

fn assert_same(name: &str, input: &[u8], limits: Limits, chunks: &[usize]) -> String {
    let expect = whole(input, limits);
    for &chunk in chunks {
        for step in [chunk, 3] {
            let got = streamed(input, limits, chunk, step);
            if got != expect {
                let line = got
                    .lines()
                    .zip(expect.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                panic!(
                    "{name}: chunk {chunk}, reads of {step}: streamed differs at line {line}:\n  \
                     streamed: {:?}\n  whole:    {:?}",
                    got.lines().nth(line),
                    expect.lines().nth(line)
                );
            }
        }
    }
    expect
}

#[test]
fn every_fixture_streams_as_it_reads_whole() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "edi"))
        .collect();
    paths.sort();
    assert!(paths.len() > 30, "fixtures found: {}", paths.len());
    for p in paths {
        let input = std::fs::read(&p).expect("fixture");
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        let out = assert_same(
            name,
            &input,
            Limits::default(),
            &[7, 61, 500, 4096, 1 << 20],
        );
        assert!(!out.is_empty(), "{name}: nothing read");
    }
}

const X12: &str = "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*ORDO           *260301*1200*U*00401*000000001*0*P*>~\r\n\
GS*PO*BUYERCO*ORDO*20260301*1200*1*X*004010~\r\n\
ST*850*0001~\r\nBEG*00*SA*PO1**20260301~\r\nN1*BY*Buyer*UL*4012345000009~\r\n\
PO1*1*2*EA*3.50**VP*SKU-1~\r\nCTT*1~\r\nSE*6*0001~\r\nGE*1*1~\r\nIEA*1*000000001~\r\n";

const EDIFACT: &str = "UNA:+.? '\nUNB+UNOC:3+4012345000009:14+5412345000013:14+260301:1200+7'\n\
UNH+1+ORDERS:D:96A:UN:EAN008'\nBGM+220+PO?+1?:A+9'\nDTM+137:20260301:102'\n\
FTX+AAI+++release at the end ?'' \nNAD+BY+4012345000009::9++K?'s ?? Co'\n\
LIN+1++0123:EN'\nQTY+21:2'\nUNS+S'\nCNT+2:1'\nUNT+11+1'\nUNZ+1+7'\n";

/// Every chunk size from 1 to the file's length: every segment, header and release character
/// is cut at every offset once.
fn every_offset(name: &str, input: &[u8], limits: Limits) -> String {
    let chunks: Vec<usize> = (1..=input.len() + 1).collect();
    assert_same(name, input, limits, &chunks)
}

#[test]
fn segments_and_release_characters_cut_at_every_offset() {
    let mut mixed = Vec::new();
    mixed.extend_from_slice(X12.as_bytes());
    mixed.extend_from_slice(EDIFACT.as_bytes());
    mixed.extend_from_slice(X12.as_bytes());
    let out = every_offset("x12+edifact+x12", &mixed, Limits::default());
    assert_eq!(out.matches("ich ").count(), 3);
    assert!(!out.contains("error"), "{out}");
    // the released terminator stays inside its element
    assert!(out.contains(r#""release at the end ?'""#), "{out}");
}

#[test]
fn truncated_interchanges() {
    for cut in [10, 105, 106, 150, X12.len() - 5] {
        let out = every_offset("x12 cut", &X12.as_bytes()[..cut], Limits::default());
        assert!(out.contains("error") || out.contains("issue"), "{out}");
    }
    let cut = &EDIFACT.as_bytes()[..EDIFACT.len() - 20];
    let out = every_offset("edifact cut", cut, Limits::default());
    assert!(out.contains("InterchangeTrailerMissing"), "{out}");
    // a header cut short is a located error, not a panic
    let out = every_offset("una cut", b"UNA:+", Limits::default());
    assert!(
        out.contains("BadHeader") && out.contains("at Some((1, 1))"),
        "{out}"
    );
}

#[test]
fn wrong_una_then_a_good_interchange() {
    let mut input = b"UNA+++.? '\nUNB+UNOC:3+A:14+B:14+260301:1200+1'\nUNZ+0+1'\n".to_vec();
    input.extend_from_slice(EDIFACT.as_bytes());
    let out = every_offset("wrong una", &input, Limits::default());
    assert!(out.contains("separators are not distinct"), "{out}");
    assert!(out.contains("at Some((1, 1))"), "{out}");
    // reading resumes at the UNB after the bad UNA (default separators), then the good one
    assert_eq!(out.matches("ich ").count(), 2, "{out}");
}

#[test]
fn bytes_outside_interchanges() {
    let mut input = b"garbage\nmore garbage\n".to_vec();
    input.extend_from_slice(X12.as_bytes());
    input.extend_from_slice(b"trailing junk IS not a header");
    let out = every_offset("garbage", &input, Limits::default());
    assert!(
        out.contains("21 bytes outside any interchange") && out.contains("at Some((1, 1))"),
        "{out}"
    );
    assert!(
        out.contains("at Some((13, 1))"),
        "junk after the interchange on line 13: {out}"
    );
    let out = every_offset("no interchange", b"\n\nnothing here", Limits::default());
    assert!(
        out.contains("NoInterchange") || out.contains("outside any"),
        "{out}"
    );
}

#[test]
fn segment_over_the_limit_fails_its_interchange_only() {
    let limits = Limits {
        max_segment_bytes: 64,
        max_interchange_bytes: 1 << 20,
    };
    let long = format!("N1*BY*{}*UL*4012345000009~", "X".repeat(200));
    let bad = X12.replace("N1*BY*Buyer*UL*4012345000009~", &long);
    let mut input = bad.into_bytes();
    input.extend_from_slice(X12.as_bytes());
    let out = every_offset("long segment", &input, limits);
    assert!(out.contains("SegmentTooLong"), "{out}");
    // located at the segment: line 5, column 1
    assert!(out.contains("at Some((5, 1))"), "{out}");
    assert_eq!(
        out.matches("ich ").count(),
        1,
        "the next interchange is read: {out}"
    );

    // the default limit: a 2 MB segment without a terminator in sight
    let mut huge = X12.as_bytes()[..X12.find("N1*").unwrap_or(0)].to_vec();
    huge.extend(std::iter::repeat_n(b'A', 2 << 20));
    huge.extend_from_slice(X12.as_bytes());
    let out = assert_same(
        "huge segment",
        &huge,
        Limits::default(),
        &[1 << 16, 1 << 20],
    );
    assert!(out.contains("SegmentTooLong"), "{out}");
    assert_eq!(out.matches("ich ").count(), 1, "{out}");
}

#[test]
fn interchange_over_the_limit_is_not_held() {
    let limits = Limits {
        max_segment_bytes: 1 << 10,
        max_interchange_bytes: 300,
    };
    let mut input = EDIFACT.as_bytes().to_vec(); // < 300 bytes
    let big = ordo_edi::workload::edifact_interchange(9);
    input.extend_from_slice(&big);
    input.extend_from_slice(X12.as_bytes());
    let out = assert_same("big interchange", &input, limits, &[64, 100, 1000, 1 << 20]);
    assert!(out.contains("InterchangeTooLarge"), "{out}");
    assert!(
        out.contains("ich 0.."),
        "the small one before is read: {out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("ich ") && l.contains("X12")),
        "the X12 one after is read: {out}"
    );
}

#[test]
fn a_failing_source_is_a_located_error() {
    let input = X12.repeat(3);
    let src = Trickle {
        data: input.as_bytes(),
        step: 50,
        fail_at: Some(X12.len() + 40),
        given: 0,
    };
    let mut items = Vec::new();
    StreamReader::with_limits(src, Limits::default(), 64)
        .for_each(|item| {
            items.push(match item.result {
                Ok(ich) => format!("ok {}", ich.offset),
                Err(e) => format!("err {e}"),
            });
            Ok::<(), ()>(())
        })
        .expect("no callback error");
    assert_eq!(items.first().map(String::as_str), Some("ok 0"));
    assert!(
        items
            .last()
            .is_some_and(|e| e.contains("read failed: disk gone")),
        "{items:?}"
    );
}

#[test]
fn generated_files_stream_as_they_read_whole() {
    for kind in [
        ordo_edi::workload::Kind::X12,
        ordo_edi::workload::Kind::Edifact,
    ] {
        let input = ordo_edi::workload::generate(kind, 600_000);
        assert_same("generated", &input, Limits::default(), &[100_000, 1 << 20]);
    }
}
