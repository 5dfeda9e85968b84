//! ISO 20022 camt.053 (statement), camt.052 (intraday report) and camt.054 (notification),
//! any `001.xx` version, streamed with quick-xml: one pass, no DOM, memory bounded by the
//! largest entry. Batched entries (`NtryDtls/TxDtls`) become one [`TxDetail`] each.
//!
//! Lenient where the data is intact (element order, unknown elements, UETR patterns are not
//! checked); strict on amounts, dates, credit/debit indicators and balances.

use std::io::BufRead;

use quick_xml::events::Event;
use rust_decimal::Decimal;

use super::{ParseOptions, clean, decimal_amount, iso_date};
use crate::error::{BankError, Location};
use crate::model::{Direction, Entry, EntryStatus, Format, Statement, Totals, TxDetail};

mod fields;
mod input;
mod tags;

use input::{Buffered, InMemory, Source};

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
    stream_bytes(bytes, opts, &mut sink)?;
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
    let mut p = Parser::new(opts);
    p.run(&mut Buffered::new(input), sink)?;
    Ok(p.entries_seen)
}

/// [`stream`] for bytes already in memory (what [`parse`] uses): the same entries, statements
/// and errors, but quick-xml's events borrow from `bytes` instead of being copied into a
/// buffer. Memory beyond `bytes` is still bounded by the largest entry.
pub fn stream_bytes(
    bytes: &[u8],
    opts: &ParseOptions,
    sink: &mut impl Sink,
) -> Result<usize, BankError> {
    let mut p = Parser::new(opts);
    p.run(&mut InMemory::new(bytes), sink)?;
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
    /// `Chrgs/TtlChrgsAndTaxAmt` was given: it is the charges, its `Rcrd`s only detail it.
    charges_total: bool,
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
            charges_total: false,
        }
    }
}

struct Parser<'o> {
    opts: &'o ParseOptions,
    /// The open elements as [`tags`] codes; scopes below are depths into it (0 = not open).
    /// With `others` they give the element path, built only for an error location.
    tags: Vec<u8>,
    /// `/name` of each open element whose code is `OTHER`, in order.
    others: String,
    /// The length of the path `/Document/...` (for the text guard).
    path_len: usize,
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
    /// The `Ccy` of the last `Amt` start tag (valid if `has_ccy`), its buffer reused.
    amt_ccy: String,
    has_ccy: bool,
    /// `Amt` elements of the open statement whose currency was assumed from
    /// [`ParseOptions::default_currency`], and the index of the warning that says so.
    ccy_assumed: usize,
    ccy_warning: usize,
    entries_seen: usize,
}

impl<'o> Parser<'o> {
    fn new(opts: &'o ParseOptions) -> Self {
        Parser {
            opts,
            tags: Vec::with_capacity(32),
            others: String::with_capacity(64),
            path_len: 0,
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
            amt_ccy: String::new(),
            has_ccy: false,
            ccy_assumed: 0,
            ccy_warning: 0,
            entries_seen: 0,
        }
    }

    /// The location of an error; its line is filled in by [`Parser::run`] on the way out (the
    /// streamed input counts lines only when asked).
    fn loc(&self) -> Location {
        Location::Xml {
            path: self.path(),
            line: 0,
        }
    }

    /// The open elements' local names joined by `/`.
    fn path(&self) -> String {
        let mut path = String::with_capacity(self.path_len);
        let mut others = self.others.split('/').skip(1);
        for &t in &self.tags {
            path.push('/');
            path.push_str(match t {
                // Error paths only: `others` holds one name per OTHER tag.
                tags::OTHER => others.next().unwrap_or_default(),
                t => tags::NAMES[usize::from(t)],
            });
        }
        path.trim_start_matches('/').to_string()
    }

    fn err(&self, msg: impl Into<String>) -> BankError {
        BankError::syntax(self.loc(), msg)
    }

    fn run(&mut self, src: &mut impl Source, sink: &mut impl Sink) -> Result<(), BankError> {
        self.events(src, sink).map_err(|mut e| {
            let n = src.line();
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

    fn events(&mut self, src: &mut impl Source, sink: &mut impl Sink) -> Result<(), BankError> {
        loop {
            let ev = match src.next_event() {
                Ok(ev) => ev,
                Err(e) => return Err(self.err(format!("malformed XML: {e}"))),
            };
            match ev {
                Event::Start(e) => {
                    let (tag, name) = tag_of(&e);
                    match tag {
                        tags::AMT => self.has_ccy = ccy_attr(&e, &mut self.amt_ccy),
                        tags::DOCUMENT => {
                            if let Some(ns) = attr(&e, "xmlns") {
                                self.set_version(&ns);
                            }
                        }
                        _ => {}
                    }
                    self.start(tag, name)?;
                }
                Event::Empty(e) => {
                    let (tag, name) = tag_of(&e);
                    if tag == tags::AMT {
                        self.has_ccy = false;
                    }
                    self.start(tag, name)?;
                    self.end(src, sink)?;
                }
                Event::End(_) => self.end(src, sink)?,
                Event::Text(t) if self.stmt_at > 0 || self.path_len < 40 => {
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
        if !self.tags.is_empty() {
            return Err(self.err("unexpected end of file inside an element"));
        }
        Ok(())
    }

    fn start(&mut self, tag: u8, name: &str) -> Result<(), BankError> {
        use tags::*;
        // The document element has no parent: treated like an unknown one.
        let parent = self.tags.last().copied().unwrap_or(OTHER);
        let depth = self.tags.len();
        let opens_stmt = (tag == STMT && parent == BK_TO_CSTMR_STMT)
            || (tag == NTFCTN && parent == BK_TO_CSTMR_DBT_CDT_NTFCTN)
            || (tag == RPT && parent == BK_TO_CSTMR_ACCT_RPT);
        let opens_ntry = tag == NTRY && self.stmt_at > 0 && depth == self.stmt_at;
        let opens_tx = tag == TX_DTLS && self.ntry_at > 0 && parent == NTRY_DTLS;
        let opens_bal = tag == BAL && self.stmt_at > 0 && depth == self.stmt_at;
        self.path_len += 1 + name.len();
        if tag == OTHER {
            self.others.push('/');
            self.others.push_str(name);
        }
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
            self.ccy_assumed = 0;
            self.stmt_at = depth;
        } else if opens_ntry {
            self.entry = Some(EntryBuilder::new());
            self.ntry_at = depth;
        } else if opens_tx {
            // The remittance line list is kept (cleared) from transaction to transaction.
            let mut ustrd = std::mem::take(&mut self.tx.ustrd);
            ustrd.clear();
            self.tx = TxBuilder {
                ustrd,
                ..TxBuilder::default()
            };
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

    fn end(&mut self, src: &mut impl Source, sink: &mut impl Sink) -> Result<(), BankError> {
        let depth = self.tags.len();
        if !self.has_ccy && self.stmt_at > 0 && self.amount_needs_ccy() {
            self.missing_ccy(src.line())?;
        }
        // The path relative to the innermost open scope, as a copy of its tag codes (the
        // fields' patterns are at most 6 long, so a longer one is cut and matches none).
        let mut buf = [tags::OTHER; 8];
        if self.tx_at > 0 {
            if depth == self.tx_at {
                self.tx_at = 0;
                self.finish_tx()?;
            } else {
                let rel = rel(&self.tags[self.tx_at..], &mut buf);
                self.tx_field(rel)?;
            }
        } else if self.ntry_at > 0 {
            if depth == self.ntry_at {
                self.ntry_at = 0;
                self.finish_entry(sink)?;
            } else {
                let rel = rel(&self.tags[self.ntry_at..], &mut buf);
                self.entry_field(rel)?;
            }
        } else if self.bal_at > 0 {
            if depth == self.bal_at {
                self.bal_at = 0;
                self.finish_balance()?;
            } else {
                let rel = rel(&self.tags[self.bal_at..], &mut buf);
                self.balance_field(rel)?;
            }
        } else if self.stmt_at > 0 {
            if depth == self.stmt_at {
                self.stmt_at = 0;
                // The line now, not on the way out: a lenient import keeps it in a warning.
                self.finish_statement(sink, src.line())?;
            } else {
                let rel = rel(&self.tags[self.stmt_at..], &mut buf);
                self.stmt_field(rel);
            }
        }
        if self.stmt_at == 0 && self.tags.ends_with(&[tags::GRP_HDR, tags::MSG_ID]) {
            self.msg_id = clean(&self.text);
        }
        let name_len = match self.tags.pop() {
            Some(tags::OTHER) => {
                // Every OTHER name was pushed with its leading '/'.
                let at = self.others.rfind('/').unwrap_or(0);
                let n = self.others.len() - at - 1;
                self.others.truncate(at);
                n
            }
            Some(t) => tags::NAMES[usize::from(t)].len(),
            None => 0,
        };
        self.path_len = self.path_len.saturating_sub(1 + name_len);
        self.text.clear();
        Ok(())
    }

    fn value(&self) -> Option<String> {
        clean(&self.text)
    }

    /// Whether the element closing now is an `Amt` of a currency-and-amount type, whose `Ccy`
    /// attribute the schema makes mandatory: balance, entry and transaction amounts, the
    /// amount details and the charges records (not `TtlNetNtry/Amt`, a bare number).
    fn amount_needs_ccy(&self) -> bool {
        use tags::*;
        let t = &self.tags;
        let n = t.len();
        if n < 2 || t[n - 1] != AMT {
            return false;
        }
        let parent = t[n - 2];
        let grand = if n >= 3 { t[n - 3] } else { OTHER };
        matches!(parent, BAL | NTRY | TX_DTLS)
            || grand == AMT_DTLS
            || (parent == RCRD && grand == CHRGS)
    }

    /// An `Amt` without `Ccy`: an error at the element, or the profile's currency assumed
    /// with a warning (once per statement, at the first such element, with the count).
    fn missing_ccy(&mut self, line: usize) -> Result<(), BankError> {
        let Some(ccy) = self.opts.default_currency.as_deref() else {
            return Err(self.err(
                "Amt without its mandatory Ccy attribute (the currency is unknown; an account \
                 profile with `currency:` would supply it)",
            ));
        };
        self.amt_ccy.clear();
        self.amt_ccy.push_str(ccy);
        self.has_ccy = true;
        self.ccy_assumed += 1;
        if self.ccy_assumed == 1 {
            self.ccy_warning = self.stmt.warnings.len();
            let at = Location::Xml {
                path: self.path(),
                line,
            };
            self.stmt.warnings.push(format!(
                "{at}: Amt without its mandatory Ccy attribute: assumed {ccy}, the account \
                 profile's currency"
            ));
        }
        Ok(())
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

/// `tags` copied into `buf`, cut at its length.
#[inline]
fn rel<'b>(tags: &[u8], buf: &'b mut [u8; 8]) -> &'b [u8] {
    let n = tags.len().min(buf.len());
    buf[..n].copy_from_slice(&tags[..n]);
    &buf[..n]
}

/// The tag code and local name of an element. The name is looked up whole first: known camt
/// names have no prefix, so the prefix search runs only for the others.
#[inline]
fn tag_of<'e>(e: &'e quick_xml::events::BytesStart<'_>) -> (u8, &'e str) {
    let name = e.name().into_inner();
    match tags::of(name) {
        tags::OTHER => {
            let local = e.local_name().into_inner();
            (tags::of(local), local)
        }
        t => (t, name),
    }
}

/// The `Ccy` attribute of an `Amt`; the usual lone ` Ccy="EUR"` is read without the attribute
/// iterator (which checks for duplicates), anything else goes through it. Raw value, as `attr`,
/// written into `out` (whose buffer is reused); false if there is none.
fn ccy_attr(e: &quick_xml::events::BytesStart<'_>, out: &mut String) -> bool {
    const WS: [char; 4] = [' ', '\t', '\r', '\n'];
    let raw = e.attributes_raw();
    let rest = raw.trim_start_matches(WS);
    if rest.len() < raw.len()
        && let Some(v) = rest.strip_prefix("Ccy=\"")
        && let Some((val, tail)) = v.split_once('"')
        && tail.trim_end_matches(WS).is_empty()
    {
        out.clear();
        out.push_str(val);
        return true;
    }
    match attr(e, "Ccy") {
        Some(v) => {
            out.clear();
            out.push_str(&v);
            true
        }
        None => false,
    }
}

fn attr(e: &quick_xml::events::BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == key || a.key.into_inner() == key)
        .map(|a| a.value.into_owned())
}
