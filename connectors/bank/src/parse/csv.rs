//! CSV / spreadsheet exports, read through a [`CsvMapping`] that lives in the bank account's
//! profile: delimiter, decimal and thousands separators, date format, which columns hold the
//! date, the amount (one signed column or separate debit and credit columns), description,
//! counterparty, reference; preamble lines before the header; UTF-8 or Latin-1.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{ParseOptions, clean};
use crate::error::BankError;
use crate::model::{Direction, Entry, EntryStatus, Format, Statement};
use crate::reference;

/// Text encoding of a CSV export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CsvEncoding {
    #[default]
    Utf8,
    /// ISO-8859-1 (German bank exports).
    Latin1,
}

/// Where the amount is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountColumns {
    /// One column, negative = debit.
    Signed(String),
    /// Separate debit and credit columns (a debit may be written with or without a minus).
    DebitCredit { debit: String, credit: String },
}

/// How to read one bank's CSV export. Column names are matched exactly after trimming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CsvMapping {
    pub delimiter: char,
    pub decimal_separator: char,
    pub thousands_separator: Option<char>,
    /// chrono format, e.g. `%d.%m.%Y`.
    pub date_format: String,
    pub encoding: CsvEncoding,
    /// Lines to skip before looking for the header (the header is the first row after them
    /// that contains `date_column`).
    pub skip_lines: usize,
    /// Rows whose date cell does not parse are footers (balances, notes) and skipped instead of
    /// rejected.
    pub skip_rows_without_date: bool,
    pub date_column: String,
    pub value_date_column: Option<String>,
    pub amount: AmountColumns,
    pub currency_column: Option<String>,
    pub description_columns: Vec<String>,
    pub counterparty_column: Option<String>,
    pub counterparty_account_column: Option<String>,
    pub reference_column: Option<String>,
    pub end_to_end_column: Option<String>,
    pub account_column: Option<String>,
    /// Column and case-insensitive substring that marks a pending (not yet booked) row.
    pub pending_marker: Option<(String, String)>,
    /// Account and currency when the file does not say.
    pub account: String,
    pub currency: String,
}

impl Default for CsvMapping {
    fn default() -> Self {
        CsvMapping {
            delimiter: ',',
            decimal_separator: '.',
            thousands_separator: None,
            date_format: "%Y-%m-%d".into(),
            encoding: CsvEncoding::Utf8,
            skip_lines: 0,
            skip_rows_without_date: false,
            date_column: "Date".into(),
            value_date_column: None,
            amount: AmountColumns::Signed("Amount".into()),
            currency_column: None,
            description_columns: vec![],
            counterparty_column: None,
            counterparty_account_column: None,
            reference_column: None,
            end_to_end_column: None,
            account_column: None,
            pending_marker: None,
            account: String::new(),
            currency: "EUR".into(),
        }
    }
}

impl CsvMapping {
    /// Ready-made mappings for exports seen in the wild: `ing-de`, `sparkasse-camt-v8`,
    /// `fr-debit-credit`, `generic-en`.
    pub fn profile(name: &str) -> Option<Self> {
        let s = |v: &str| v.to_string();
        let m = match name {
            "ing-de" => CsvMapping {
                delimiter: ';',
                decimal_separator: ',',
                thousands_separator: Some('.'),
                date_format: s("%d.%m.%Y"),
                encoding: CsvEncoding::Latin1,
                date_column: s("Buchung"),
                value_date_column: Some(s("Wertstellungsdatum")),
                amount: AmountColumns::Signed(s("Betrag")),
                currency_column: Some(s("Währung")),
                description_columns: vec![s("Verwendungszweck"), s("Buchungstext")],
                counterparty_column: Some(s("Auftraggeber/Empfänger")),
                ..CsvMapping::default()
            },
            "sparkasse-camt-v8" => CsvMapping {
                delimiter: ';',
                decimal_separator: ',',
                date_format: s("%d.%m.%y"),
                date_column: s("Buchungstag"),
                value_date_column: Some(s("Valutadatum")),
                amount: AmountColumns::Signed(s("Betrag")),
                currency_column: Some(s("Waehrung")),
                description_columns: vec![s("Verwendungszweck")],
                counterparty_column: Some(s("Beguenstigter/Zahlungspflichtiger")),
                counterparty_account_column: Some(s("Kontonummer/IBAN")),
                end_to_end_column: Some(s("Kundenreferenz (End-to-End)")),
                account_column: Some(s("Auftragskonto")),
                pending_marker: Some((s("Info"), s("vorgemerkt"))),
                ..CsvMapping::default()
            },
            "fr-debit-credit" => CsvMapping {
                decimal_separator: ',',
                date_format: s("%d/%m/%y"),
                skip_rows_without_date: true,
                amount: AmountColumns::DebitCredit {
                    debit: s("Debit"),
                    credit: s("Credit"),
                },
                description_columns: vec![s("Label"), s("Detail")],
                reference_column: Some(s("Operation Number")),
                ..CsvMapping::default()
            },
            "generic-en" => CsvMapping {
                thousands_separator: Some(','),
                date_format: s("%m/%d/%Y"),
                description_columns: vec![s("Label")],
                currency_column: Some(s("Currency")),
                counterparty_column: Some(s("Partner Name")),
                counterparty_account_column: Some(s("Bank Account")),
                ..CsvMapping::default()
            },
            _ => return None,
        };
        Some(m)
    }
}

/// A cell with its 1-based column position in the line.
type Row = (usize, Vec<(usize, String)>);

/// RFC 4180 tokenizer with line and column tracking (quoted fields may span lines).
fn rows(text: &str, delim: char) -> Result<Vec<Row>, BankError> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let (mut line, mut col) = (1usize, 1usize);
    let mut row: Vec<(usize, String)> = Vec::new();
    let mut row_line = 1;
    let mut cell = String::new();
    let mut cell_col = 1;
    let mut at_cell_start = true;
    while let Some(c) = chars.next() {
        if at_cell_start && c == '"' {
            at_cell_start = false;
            let (qline, qcol) = (line, col);
            col += 1;
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        cell.push('"');
                        col += 2;
                    }
                    Some('"') => {
                        col += 1;
                        break;
                    }
                    Some('\n') => {
                        cell.push('\n');
                        line += 1;
                        col = 1;
                    }
                    Some(ch) => {
                        cell.push(ch);
                        col += 1;
                    }
                    None => return Err(BankError::at(qline, qcol, "unterminated quoted field")),
                }
            }
            continue;
        }
        at_cell_start = false;
        if c == delim {
            row.push((cell_col, std::mem::take(&mut cell)));
            col += 1;
            cell_col = col;
            at_cell_start = true;
        } else if c == '\n' || c == '\r' {
            if c == '\r' && chars.peek() == Some(&'\n') {
                chars.next();
            }
            row.push((cell_col, std::mem::take(&mut cell)));
            out.push((row_line, std::mem::take(&mut row)));
            line += 1;
            col = 1;
            cell_col = 1;
            row_line = line;
            at_cell_start = true;
        } else {
            cell.push(c);
            col += 1;
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push((cell_col, cell));
        out.push((row_line, row));
    }
    Ok(out)
}

fn amount(s: &str, m: &CsvMapping) -> Option<Decimal> {
    let mut t: String = s
        .trim()
        .chars()
        .filter(|c| Some(*c) != m.thousands_separator && !c.is_whitespace())
        .collect();
    if m.decimal_separator != '.' {
        t = t.replace(m.decimal_separator, ".");
    }
    if t.is_empty() {
        return None;
    }
    let t = t.strip_prefix('+').unwrap_or(&t);
    if !t
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        || t.len() > 24
    {
        return None;
    }
    t.parse::<Decimal>().ok()
}

/// FNV-1a of the raw bytes: a CSV export has no statement id, so the same file gets the same one.
fn content_id(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("csv-{h:016x}")
}

/// Parses a CSV export into one statement.
pub fn parse(
    bytes: &[u8],
    m: &CsvMapping,
    _opts: &ParseOptions,
) -> Result<Vec<Statement>, BankError> {
    let text: String = match m.encoding {
        CsvEncoding::Utf8 => std::str::from_utf8(bytes)
            .map_err(|e| {
                let line = 1 + bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count();
                BankError::at(
                    line,
                    1,
                    "not valid UTF-8 (is the mapping's encoding latin1?)",
                )
            })?
            .trim_start_matches('\u{feff}')
            .to_string(),
        CsvEncoding::Latin1 => bytes.iter().map(|&b| char::from(b)).collect(),
    };
    let all = rows(&text, m.delimiter)?;
    let skip = all
        .iter()
        .position(|(l, _)| *l > m.skip_lines)
        // No row after skip_lines: the header search below then finds none and refuses the file.
        .unwrap_or(all.len());
    let hpos = all[skip..]
        .iter()
        .position(|(_, r)| r.iter().any(|(_, c)| c.trim() == m.date_column))
        .map(|p| p + skip)
        .ok_or_else(|| {
            BankError::at(
                m.skip_lines + 1,
                1,
                format!("no header row with column {:?}", m.date_column),
            )
        })?;
    let (hline, header) = &all[hpos];
    let idx = |name: &str| header.iter().position(|(_, c)| c.trim() == name);
    let need = |name: &str| {
        idx(name).ok_or_else(|| BankError::at(*hline, 1, format!("header has no column {name:?}")))
    };
    let opt = |name: &Option<String>| -> Result<Option<usize>, BankError> {
        name.as_deref().map(need).transpose()
    };
    let date_i = need(&m.date_column)?;
    let vdate_i = opt(&m.value_date_column)?;
    let (amt_i, deb_i, cred_i) = match &m.amount {
        AmountColumns::Signed(a) => (Some(need(a)?), None, None),
        AmountColumns::DebitCredit { debit, credit } => {
            (None, Some(need(debit)?), Some(need(credit)?))
        }
    };
    let desc_i: Vec<usize> = m
        .description_columns
        .iter()
        .map(|d| need(d))
        .collect::<Result<_, _>>()?;
    let ccy_i = opt(&m.currency_column)?;
    let cp_i = opt(&m.counterparty_column)?;
    let cpa_i = opt(&m.counterparty_account_column)?;
    let ref_i = opt(&m.reference_column)?;
    let e2e_i = opt(&m.end_to_end_column)?;
    let acct_i = opt(&m.account_column)?;
    let pend = match &m.pending_marker {
        Some((col, val)) => Some((need(col)?, val.to_lowercase())),
        None => None,
    };
    let mut stmt = Statement::new(Format::Csv);
    stmt.account = m.account.clone();
    stmt.currency = m.currency.clone();
    stmt.statement_id = content_id(bytes);
    for (line, row) in &all[hpos + 1..] {
        if row.iter().all(|(_, c)| c.trim().is_empty()) {
            continue;
        }
        // A short row has empty cells: the date, amount and debit/credit checks below refuse an empty required cell.
        let cell = |i: usize| row.get(i).map(|(_, c)| c.as_str()).unwrap_or("");
        // Error position only.
        let colof = |i: usize| row.get(i).map(|(c, _)| *c).unwrap_or(1);
        let dcell = cell(date_i).trim();
        let date = match NaiveDate::parse_from_str(dcell, &m.date_format) {
            Ok(d) => d,
            Err(_) if m.skip_rows_without_date => continue,
            Err(_) => {
                return Err(BankError::at(
                    *line,
                    colof(date_i),
                    format!("date {dcell:?} does not match {:?}", m.date_format),
                ));
            }
        };
        let bad_amt =
            |i: usize| BankError::at(*line, colof(i), format!("invalid amount {:?}", cell(i)));
        let signed = match (amt_i, deb_i, cred_i) {
            (Some(a), _, _) => amount(cell(a), m).ok_or_else(|| bad_amt(a))?,
            (_, Some(d), Some(c)) => {
                let (dv, cv) = (cell(d).trim(), cell(c).trim());
                match (dv.is_empty(), cv.is_empty()) {
                    (false, true) => -amount(dv, m).ok_or_else(|| bad_amt(d))?.abs(),
                    (true, false) => amount(cv, m).ok_or_else(|| bad_amt(c))?.abs(),
                    _ => {
                        return Err(BankError::at(
                            *line,
                            colof(d),
                            "exactly one of debit and credit must be filled",
                        ));
                    }
                }
            }
            _ => return Err(BankError::Config("amount columns".into())),
        };
        let ccy = ccy_i
            .map(cell)
            .map(str::trim)
            .filter(|c| !c.is_empty())
            // absent: an empty currency cell means the mapping's `currency` (documented on CsvMapping).
            .unwrap_or(&m.currency);
        let dir = if signed < Decimal::ZERO {
            Direction::Debit
        } else {
            Direction::Credit
        };
        let mut e = Entry::new(signed.abs(), dir, ccy);
        e.booking_date = Some(date);
        e.value_date = match vdate_i {
            Some(i) => Some(
                NaiveDate::parse_from_str(cell(i).trim(), &m.date_format).map_err(|_| {
                    BankError::at(*line, colof(i), format!("invalid value date {:?}", cell(i)))
                })?,
            ),
            None => Some(date),
        };
        if let Some((i, v)) = &pend
            && cell(*i).to_lowercase().contains(v.as_str())
        {
            e.status = EntryStatus::Pending;
        }
        e.bank_ref = ref_i.and_then(|i| clean(cell(i)));
        let desc: Vec<String> = desc_i.iter().filter_map(|i| clean(cell(*i))).collect();
        let tx = &mut e.transactions[0];
        tx.amount = Some(e.amount);
        tx.remittance = (!desc.is_empty()).then(|| desc.join(" "));
        tx.counterparty_name = cp_i.and_then(|i| clean(cell(i)));
        tx.counterparty_account = cpa_i
            .and_then(|i| clean(cell(i)))
            .map(|a| reference::compact(&a));
        tx.end_to_end_id = e2e_i.and_then(|i| clean(cell(i)));
        if stmt.account.is_empty()
            && let Some(a) = acct_i.and_then(|i| clean(cell(i)))
        {
            stmt.account = reference::compact(&a);
        }
        if stmt.entries.is_empty() && ccy_i.is_some() {
            stmt.currency = ccy.to_string();
        }
        stmt.entries.push(e);
    }
    stmt.account_is_iban = reference::iban_valid(&stmt.account);
    Ok(vec![stmt])
}
