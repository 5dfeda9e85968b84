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
use crate::model::{Direction, Entry, Format, Statement, Totals, TxDetail};

mod fields;
mod input;

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
    let mut p = Parser::new(
        LineCounter {
            inner: input,
            lines: 1,
        },
        opts,
    );
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

struct Parser<'o, R> {
    reader: Reader<R>,
    opts: &'o ParseOptions,
    path: String,
    stack: Vec<usize>,
    text: String,
    rel: String,
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
            text: String::with_capacity(256),
            rel: String::with_capacity(128),
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

    fn loc(&self) -> Location {
        Location::Xml {
            path: self.path.trim_start_matches('/').to_string(),
            line: self.reader.get_ref().line(),
        }
    }

    fn err(&self, msg: impl Into<String>) -> BankError {
        BankError::syntax(self.loc(), msg)
    }

    fn run(&mut self, sink: &mut impl Sink) -> Result<(), BankError> {
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
                        "Amt" => attr(&e, "Ccy"),
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
                    self.text.push_str(&t.xml10_content())
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
        let parent_is = |p: &str| self.path.ends_with(p);
        let opens_stmt = (name == "Stmt" && parent_is("/BkToCstmrStmt"))
            || (name == "Ntfctn" && parent_is("/BkToCstmrDbtCdtNtfctn"))
            || (name == "Rpt" && parent_is("/BkToCstmrAcctRpt"));
        let opens_ntry = name == "Ntry" && self.stmt_at > 0 && self.path.len() == self.stmt_at;
        let opens_tx = name == "TxDtls" && self.ntry_at > 0 && self.path.ends_with("/NtryDtls");
        let opens_bal = name == "Bal" && self.stmt_at > 0 && self.path.len() == self.stmt_at;
        if name == "Document" {
            if let Some(ns) = attr_val.as_deref() {
                self.set_version(ns);
            }
        } else if name == "Amt" {
            self.amt_ccy = attr_val;
        }
        self.stack.push(self.path.len());
        self.path.push('/');
        self.path.push_str(name);
        self.text.clear();
        if opens_stmt {
            if self.stmt_at > 0 {
                return Err(self.err("nested statement"));
            }
            self.format = match name {
                "Ntfctn" => Format::Camt054,
                "Rpt" => Format::Camt052,
                _ => Format::Camt053,
            };
            self.stmt = Statement::new(self.format);
            self.stmt.version = self.version.clone();
            self.totals = Totals::default();
            self.stmt_at = self.path.len();
        } else if opens_ntry {
            self.entry = Some(EntryBuilder {
                entry: Entry {
                    transactions: Vec::new(),
                    ..Entry::new(Decimal::ZERO, Direction::Credit, &self.stmt.currency)
                },
                has_amount: false,
                has_direction: false,
                batch_count: None,
                batches: 0,
            });
            self.ntry_at = self.path.len();
        } else if opens_tx {
            self.tx = TxBuilder::default();
            self.tx_at = self.path.len();
        } else if opens_bal {
            self.bal = BalBuilder::default();
            self.bal_at = self.path.len();
        }
        Ok(())
    }

    fn set_version(&mut self, ns: &str) {
        if let Some(i) = ns.find("camt.") {
            self.version = Some(ns[i..].to_string());
        }
    }

    fn end(&mut self, sink: &mut impl Sink) -> Result<(), BankError> {
        let len = self.path.len();
        // The path relative to the innermost open scope, in a reused buffer (no allocation).
        let mut rel = std::mem::take(&mut self.rel);
        rel.clear();
        let res = if self.tx_at > 0 {
            if len == self.tx_at {
                self.tx_at = 0;
                self.finish_tx()
            } else {
                rel.push_str(&self.path[self.tx_at..]);
                self.tx_field(&rel)
            }
        } else if self.ntry_at > 0 {
            if len == self.ntry_at {
                self.ntry_at = 0;
                self.finish_entry(sink)
            } else {
                rel.push_str(&self.path[self.ntry_at..]);
                self.entry_field(&rel)
            }
        } else if self.bal_at > 0 {
            if len == self.bal_at {
                self.bal_at = 0;
                self.finish_balance()
            } else {
                rel.push_str(&self.path[self.bal_at..]);
                self.balance_field(&rel)
            }
        } else if self.stmt_at > 0 {
            if len == self.stmt_at {
                self.stmt_at = 0;
                self.finish_statement(sink)
            } else {
                rel.push_str(&self.path[self.stmt_at..]);
                self.stmt_field(&rel);
                Ok(())
            }
        } else {
            Ok(())
        };
        self.rel = rel;
        res?;
        if self.stmt_at == 0 && self.path.ends_with("/GrpHdr/MsgId") {
            self.msg_id = clean(&self.text);
        }
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

fn attr(e: &quick_xml::events::BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == key || a.key.into_inner() == key)
        .map(|a| a.value.into_owned())
}
