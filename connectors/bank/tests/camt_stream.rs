//! `camt::stream` (any `BufRead`, lines counted per chunk) gives exactly what `camt::parse`
//! (in memory) gives: the same statements and entries, and the same located error, with the
//! same line, for every camt fixture, cut short at many points, through buffers of any size.

use std::io::BufReader;
use std::path::Path;

use ordo_bank::model::{Entry, Statement};
use ordo_bank::parse::camt::{self, Sink};
use ordo_bank::{BankError, ParseOptions};

#[derive(Default)]
struct Keep {
    pending: Vec<Entry>,
    done: Vec<Statement>,
}

impl Sink for Keep {
    fn entry(&mut self, _stmt: &Statement, entry: Entry) {
        self.pending.push(entry);
    }
    fn statement(&mut self, mut stmt: Statement) {
        stmt.entries = std::mem::take(&mut self.pending);
        self.done.push(stmt);
    }
}

fn streamed(bytes: &[u8], cap: usize, opts: &ParseOptions) -> Result<Vec<Statement>, BankError> {
    let mut k = Keep::default();
    camt::stream(BufReader::with_capacity(cap, bytes), opts, &mut k)?;
    Ok(k.done)
}

#[test]
fn stream_equals_parse_on_fixtures_and_their_prefixes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    assert!(files.len() > 10);
    let mut compared = 0;
    for f in &files {
        let full = std::fs::read(f).unwrap();
        let cuts: Vec<usize> = (0..=24).map(|i| full.len() * i / 24).collect();
        for cut in cuts {
            let bytes = &full[..cut];
            for allow_unbalanced in [false, true] {
                let opts = ParseOptions {
                    allow_unbalanced,
                    ..ParseOptions::default()
                };
                let want = camt::parse(bytes, &opts);
                for cap in [1, 7, 8192] {
                    let got = streamed(bytes, cap, &opts);
                    match (&want, &got) {
                        (Ok(w), Ok(g)) => assert_eq!(w, g, "{} cut {cut} cap {cap}", f.display()),
                        (Err(w), Err(g)) => {
                            assert_eq!(w, g, "{} cut {cut} cap {cap}", f.display())
                        }
                        // `parse` refuses a document without statements; `stream` reports 0.
                        (Err(_), Ok(g)) => assert!(g.is_empty(), "{} cut {cut}", f.display()),
                        (Ok(_), Err(e)) => panic!("{} cut {cut} cap {cap}: {e}", f.display()),
                    }
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 500);
}
