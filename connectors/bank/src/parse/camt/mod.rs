//! ISO 20022 camt.053 (statement), camt.052 (intraday report) and camt.054 (notification),
//! any `001.xx` version, streamed with quick-xml: one pass, no DOM, memory bounded by the
//! largest entry. Batched entries (`NtryDtls/TxDtls`) become one [`TxDetail`] each.
//!
//! Lenient where the data is intact (element order, unknown elements, UETR patterns are not
//! checked); strict on amounts, dates, credit/debit indicators and balances.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::Event;
use rust_decimal::Decimal;

use super::{ParseOptions, clean, decimal_amount, iso_date};
use crate::error::{BankError, Location};
use crate::model::{Direction, Entry, EntryStatus, Format, Statement, Totals, TxDetail};

mod fields;
mod input;
mod tags;

use input::{LineCounter, Lines, Slice};

/// Receives streamed entries and finished statements.
pub trait Sink {
    /// An entry of `stmt` (whose header fields are complete; its `entries` stay empty).
    fn entry(&mut self, stmt: &Statement, entry: Entry);
    /// A statement after its last entry and its balance check.
    fn statement(&mut self, stmt: Statement);
}

/// Collects everything into memory (what [`parse`] uses).
#[derive(Default)]
struct Collect {
    pending: Vec<Entry>,
    done: Vec<Statement>,
}

impl Sink for Collect {
    fn entry(&mut self, _stmt: &Statement, entry: Entry) {
        self.pending.push(entry);
    }
    fn statement(&mut self, mut stmt: Statement) {
        stmt.entries = std::mem::take(&mut self.pending);
        self.done.push(stmt);
    }
}

/// Parses a whole camt document.
pub fn parse(bytes: &[u8], opts: &ParseOptions) -> Result<Vec<Statement>, BankError> {
    let mut sink = Collect::default();
    // In memory the line of an error is counted afterwards, not on every event.
    let mut p = Parser::new(Slice { bytes, pos: 0 }, opts);
    p.run(&mut sink)?;
    if sink.done.is_empty() {
        return Err(BankError::syntax(
            Location::Xml {
                path: "Document".into(),
                line: 1,
            },
            "no Stmt, Ntfctn or Rpt element found",
        ));
    }
    Ok(sink.done)
}

/// Streams a camt document from any `BufRead`, handing entries to `sink` as they complete.
/// Returns the number of entries. On error the sink may have seen entries of the failed file;
/// the caller discards them (the engine books only after `Ok`).
pub fn stream<R: BufRead>(
    input: R,
    opts: &ParseOptions,
    sink: &mut impl Sink,
) -> Result<usize, BankError> {
    let mut p = Parser::new(LineCounter::new(input), opts);
    p.run(sink)?;
    Ok(p.entries_seen)
}

#[derive(Default)]
struct BalBuilder {
    code: String,
    amount: Option<Decimal>,
    debit: bool,
    date: Option<chrono::NaiveDate>,
}

#[derive(Default)]
struct TxBuilder {
    tx: TxDetail,
    direction: Option<Direction>,
    dbtr_name: Option<String>,
    dbtr_acct: Option<String>,
    cdtr_name: Option<String>,
    cdtr_acct: Option<String>,
    ult_dbtr: Option<String>,
    ult_cdtr: Option<String>,
    ustrd: Vec<String>,
    ref_code: Option<String>,
    ref_value: Option<String>,
    instd_amt: Option<Decimal>,
}

struct EntryBuilder {
    entry: Entry,
    has_amount: bool,
    has_direction: bool,
    batch_count: Option<usize>,
    batches: usize,
}

impl EntryBuilder {
    /// The currency stays empty until `Amt Ccy` (or the statement's, in `finish_entry`).
    fn new() -> Self {
        EntryBuilder {
            // Spelled out: `Entry::new` would allocate a placeholder transaction to drop.
            entry: Entry {
                amount: Decimal::ZERO,
                direction: Direction::Credit,
                currency: String::new(),
                status: EntryStatus::Booked,
                booking_date: None,
                value_date: None,
                bank_ref: None,
                customer_ref: None,
                reversal: false,
                bank_tx_code: None,
                info: None,
                charges: None,
                transactions: Vec::new(),
            },
            has_amount: false,
            has_direction: false,
            batch_count: None,
            batches: 0,
        }
    }
}

struct Parser<'o, R> {
    reader: Reader<R>,
    opts: &'o ParseOptions,
    /// The element path, kept only for error locations and the text guard.
    path: String,
    stack: Vec<usize>,
    /// The open elements as [`tags`] codes; scopes below are depths into it (0 = not open).
    tags: Vec<u8>,
    text: String,
    stmt_at: usize,
    bal_at: usize,
    ntry_at: usize,
    tx_at: usize,
    format: Format,
    version: Option<String>,
    msg_id: Option<String>,
    stmt: Statement,
    totals: Totals,
    bal: BalBuilder,
    entry: Option<EntryBuilder>,
    tx: TxBuilder,
    amt_ccy: Option<String>,
    entries_seen: usize,
}

impl<'o, R: Lines> Parser<'o, R> {
    fn new(input: R, opts: &'o ParseOptions) -> Self {
        let mut reader = Reader::from_reader(input);
        reader.config_mut().check_end_names = true;
        Parser {
            reader,
            opts,
            path: String::with_capacity(256),
            stack: Vec::with_capacity(32),
            tags: Vec::with_capacity(32),
            text: String::with_capacity(256),
            stmt_at: 0,
            bal_at: 0,
            ntry_at: 0,
            tx_at: 0,
            format: Format::Camt053,
            version: None,
            msg_id: None,
            stmt: Statement::new(Format::Camt053),
            totals: Totals::default(),
            bal: BalBuilder::default(),
            entry: None,
            tx: TxBuilder::default(),
            amt_ccy: None,
            entries_seen: 0,
        }
    }

    /// The location of an error; its line is filled in by [`Parser::run`] on the way out (the
    /// streamed input counts lines only when asked).
    fn loc(&self) -> Location {
        Location::Xml {
            path: self.path.trim_start_matches('/').to_string(),
            line: 0,
        }
    }

    fn err(&self, msg: impl Into<String>) -> BankError {
        BankError::syntax(self.loc(), msg)
    }

    fn run(&mut self, sink: &mut impl Sink) -> Result<(), BankError> {
        self.events(sink).map_err(|mut e| {
            let n = self.reader.get_mut().line();
            match &mut e {
                BankError::Syntax {
                    loc: Location::Xml { line, .. },
                    ..
                } => *line = n,
                BankError::Unbalanced(i) => {
                    if let Location::Xml { line, .. } = &mut i.loc {
                        *line = n;
                    }
                }
                _ => {}
            }
            e
        })
    }

    fn events(&mut self, sink: &mut impl Sink) -> Result<(), BankError> {
        let mut buf = Vec::with_capacity(4096);
        loop {
            buf.clear();
            let ev = match self.reader.read_event_into(&mut buf) {
                Ok(ev) => ev,
                Err(e) => return Err(self.err(format!("malformed XML: {e}"))),
            };
            match ev {
                Event::Start(e) => {
                    let name = e.local_name().into_inner();
                    let ccy = match name {
                        "Amt" => ccy_attr(&e),
                        "Document" => attr(&e, "xmlns"),
                        _ => None,
                    };
                    self.start(name, ccy)?;
                }
                Event::Empty(e) => {
                    self.start(e.local_name().into_inner(), None)?;
                    self.end(sink)?;
                }
                Event::End(_) => self.end(sink)?,
                Event::Text(t) if self.stmt_at > 0 || self.path.len() < 40 => {
                    // EOL normalization only when there is a CR (a branch-free scan of the
                    // short text, cheaper than memchr's setup).
                    if t.as_bytes().iter().fold(false, |cr, &b| cr | (b == b'\r')) {
                        self.text.push_str(&t.xml10_content())
                    } else {
                        self.text.push_str(&t)
                    }
                }
                Event::CData(t) => self.text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) => {
                    let c = match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        Ok(None) => match &*r {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => return Err(self.err(format!("unknown entity &{other};"))),
                        },
                        Err(e) => return Err(self.err(format!("bad character reference: {e}"))),
                    };
                    self.text.push(c);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !self.stack.is_empty() {
            return Err(self.err("unexpected end of file inside an element"));
        }
        Ok(())
    }

    fn start(&mut self, name: &str, attr_val: Option<String>) -> Result<(), BankError> {
        use tags::*;
        let tag = tags::of(name);
        let parent = self.tags.last().copied().unwrap_or(OTHER);
        let depth = self.tags.len();
        let opens_stmt = (tag == STMT && parent == BK_TO_CSTMR_STMT)
            || (tag == NTFCTN && parent == BK_TO_CSTMR_DBT_CDT_NTFCTN)
            || (tag == RPT && parent == BK_TO_CSTMR_ACCT_RPT);
        let opens_ntry = tag == NTRY && self.stmt_at > 0 && depth == self.stmt_at;
        let opens_tx = tag == TX_DTLS && self.ntry_at > 0 && parent == NTRY_DTLS;
        let opens_bal = tag == BAL && self.stmt_at > 0 && depth == self.stmt_at;
        if tag == DOCUMENT {
            if let Some(ns) = attr_val.as_deref() {
                self.set_version(ns);
            }
        } else if tag == AMT {
            self.amt_ccy = attr_val;
        }
        self.stack.push(self.path.len());
        self.path.push('/');
        self.path.push_str(name);
        self.tags.push(tag);
        self.text.clear();
        let depth = self.tags.len();
        if opens_stmt {
            if self.stmt_at > 0 {
                return Err(self.err("nested statement"));
            }
            self.format = match tag {
                NTFCTN => Format::Camt054,
                RPT => Format::Camt052,
                _ => Format::Camt053,
            };
            self.stmt = Statement::new(self.format);
            self.stmt.version = self.version.clone();
            self.totals = Totals::default();
            self.stmt_at = depth;
        } else if opens_ntry {
            self.entry = Some(EntryBuilder::new());
            self.ntry_at = depth;
        } else if opens_tx {
            self.tx = TxBuilder::default();
            self.tx_at = depth;
        } else if opens_bal {
            self.bal = BalBuilder::default();
            self.bal_at = depth;
        }
        Ok(())
    }

    fn set_version(&mut self, ns: &str) {
        if let Some(i) = ns.find("camt.") {
            self.version = Some(ns[i..].to_string());
        }
    }

    fn end(&mut self, sink: &mut impl Sink) -> Result<(), BankError> {
        let depth = self.tags.len();
        // The path relative to the innermost open scope is a slice of tag codes (taken out of
        // `self` for the call, no copy).
        let tags = std::mem::take(&mut self.tags);
        let res = if self.tx_at > 0 {
            if depth == self.tx_at {
                self.tx_at = 0;
                self.finish_tx()
            } else {
                self.tx_field(&tags[self.tx_at..])
            }
        } else if self.ntry_at > 0 {
            if depth == self.ntry_at {
                self.ntry_at = 0;
                self.finish_entry(sink)
            } else {
                self.entry_field(&tags[self.ntry_at..])
            }
        } else if self.bal_at > 0 {
            if depth == self.bal_at {
                self.bal_at = 0;
                self.finish_balance()
            } else {
                self.balance_field(&tags[self.bal_at..])
            }
        } else if self.stmt_at > 0 {
            if depth == self.stmt_at {
                self.stmt_at = 0;
                self.finish_statement(sink)
            } else {
                self.stmt_field(&tags[self.stmt_at..]);
                Ok(())
            }
        } else {
            Ok(())
        };
        self.tags = tags;
        res?;
        if self.stmt_at == 0 && self.tags.ends_with(&[tags::GRP_HDR, tags::MSG_ID]) {
            self.msg_id = clean(&self.text);
        }
        self.tags.pop();
        let prev = self.stack.pop().unwrap_or(0);
        self.path.truncate(prev);
        self.text.clear();
        Ok(())
    }

    fn value(&self) -> Option<String> {
        clean(&self.text)
    }

    fn amount(&self) -> Result<Decimal, BankError> {
        decimal_amount(&self.text)
            .ok_or_else(|| self.err(format!("invalid amount {:?}", self.text.trim())))
    }

    fn debit(&self) -> Result<bool, BankError> {
        match self.text.trim() {
            "CRDT" => Ok(false),
            "DBIT" => Ok(true),
            other => Err(self.err(format!("CdtDbtInd must be CRDT or DBIT, found {other:?}"))),
        }
    }

    fn date(&self) -> Result<chrono::NaiveDate, BankError> {
        iso_date(&self.text).ok_or_else(|| self.err(format!("invalid date {:?}", self.text.trim())))
    }
}

/// The `Ccy` attribute of an `Amt`; the usual lone ` Ccy="EUR"` is read without the attribute
/// iterator (which checks for duplicates), anything else goes through it. Raw value, as `attr`.
fn ccy_attr(e: &quick_xml::events::BytesStart<'_>) -> Option<String> {
    const WS: [char; 4] = [' ', '\t', '\r', '\n'];
    let raw = e.attributes_raw();
    let rest = raw.trim_start_matches(WS);
    if rest.len() < raw.len()
        && let Some(v) = rest.strip_prefix("Ccy=\"")
        && let Some((val, tail)) = v.split_once('"')
        && tail.trim_end_matches(WS).is_empty()
    {
        return Some(val.to_owned());
    }
    attr(e, "Ccy")
}

fn attr(e: &quick_xml::events::BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == key || a.key.into_inner() == key)
        .map(|a| a.value.into_owned())
}
