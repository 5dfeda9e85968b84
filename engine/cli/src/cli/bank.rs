//! `ordo bank …`: a thin front end over the pure `ordo-bank` crate (statement parsers and the
//! reconciliation matcher). No engine, no store: files in, JSON out, located errors on stderr.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;

use chrono::NaiveDate;
use clap::{Args as ClapArgs, Subcommand};
use ordo_bank::parse::CsvMapping;
use ordo_bank::{
    BankError, Customer, ItemKind, Location, MatchConfig, OpenItem, ParseOptions, Statement,
};
use ordo_contract::PaymentTerms;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;

use super::edi::print_json;
use super::fail;
use ordo::editools::json_error;

const PRESETS: &str = "ing-de, sparkasse-camt-v8, fr-debit-credit, generic-en";

#[derive(Subcommand)]
pub enum BankCommand {
    /// Parse a bank statement file (camt.052/053/054 XML, BAI2, MT940, or CSV with
    /// --csv-mapping) and print its normalized statements as a JSON array.
    ///
    /// The file parses completely or not at all: a malformed file, a statement whose opening
    /// balance + booked entries is not its closing balance, or a wrong BAI2 control total
    /// prints nothing on stdout, the located error on stderr (`path:line:col: …`, camt
    /// `path:line: Document/…: …`) and exits 1.
    Parse {
        file: PathBuf,
        #[command(flatten)]
        opts: ParseArgs,
    },
    /// Match statement entries against open invoices, without the engine, and print
    /// {"matches", "exceptions", "learned", "skipped", "report", "summary"} as JSON. Exceptions
    /// are a normal outcome (exit 0); invalid input exits 1 with a located error.
    ///
    /// --invoices: CSV with a header row, or JSON (an array, or {"invoices": [..]}). Fields:
    /// number, customer (or customer_id), amount_open (or amount, open, total), currency,
    /// due_date (YYYY-MM-DD); optional issue_date (default due_date - net days), terms
    /// (`net 30`, `2/10 net 30`, `n/30`; or in JSON {"net_days", "discount_percent",
    /// "discount_days"}; default net 30 or due - issue date), kind (receivable, the default,
    /// paid by credits; payable, paid by debits). CSV is comma- or semicolon-separated.
    ///
    /// --customers: CSV (id, name, ibans) or JSON array of {"id", "name", "accounts"/"ibans"};
    /// several IBANs in one CSV cell separated by `|` or `;`.
    ///
    /// --match-config: JSON or YAML with any of tolerance (1.00), max_fee (25.00),
    /// writeoff_account, fee_account, discount_account, discount_grace_days (3),
    /// name_threshold (85), max_subset (5), min_confidence (0), learned_accounts {IBAN:
    /// customer}.
    Reconcile {
        /// Statement file (repeat for several; formats as for `ordo bank parse`).
        #[arg(long, required = true)]
        statement: Vec<PathBuf>,
        /// Open invoices (CSV or JSON, see above).
        #[arg(long)]
        invoices: PathBuf,
        /// Customers with their IBANs (CSV or JSON, see above).
        #[arg(long)]
        customers: Option<PathBuf>,
        /// Matcher settings (JSON or YAML, see above). (`--config` is the global ordo.yaml.)
        #[arg(long)]
        match_config: Option<PathBuf>,
        /// Also write the per-payment report as CSV to this file.
        #[arg(long)]
        csv: Option<PathBuf>,
        #[command(flatten)]
        opts: ParseArgs,
    },
}

#[derive(ClapArgs)]
pub struct ParseArgs {
    /// CSV statements: a preset (ing-de, sparkasse-camt-v8, fr-debit-credit, generic-en) or a
    /// JSON/YAML mapping file (delimiter, decimal_separator, thousands_separator, date_format,
    /// encoding utf8|latin1, skip_lines, date_column, amount {"signed": COL} or
    /// {"debit_credit": {"debit": COL, "credit": COL}}, currency_column,
    /// description_columns, counterparty_column, counterparty_account_column,
    /// reference_column, end_to_end_column, account_column, account, currency).
    #[arg(long, value_name = "NAME|FILE")]
    csv_mapping: Option<String>,
    /// Import a statement that does not balance, with a warning on it, instead of failing.
    #[arg(long)]
    lenient: bool,
}

pub fn run(cmd: BankCommand) -> ExitCode {
    let r = match cmd {
        BankCommand::Parse { file, opts } => parse_options(&opts)
            .and_then(|o| parse_file(&file, &o))
            .map(|s| print_json(&json!(s))),
        BankCommand::Reconcile {
            statement,
            invoices,
            customers,
            match_config,
            csv,
            opts,
        } => reconcile(
            &statement,
            &invoices,
            customers.as_deref(),
            match_config.as_deref(),
            csv.as_deref(),
            &opts,
        ),
    };
    r.unwrap_or_else(fail)
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn is_json(path: &Path, text: &str) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => true,
        Some("csv") => false,
        _ => text.trim_start().starts_with(['[', '{']),
    }
}

/// JSON (by extension or first character) or YAML, errors located.
fn read_structured<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = read_text(path)?;
    let p = path.display();
    if is_json(path, &text) {
        serde_json::from_str(&text).map_err(|e| json_error(path, &e))
    } else {
        serde_saphyr::from_str(&text).map_err(|e| {
            let e = e.to_string();
            format!("{p}: {}", e.lines().next().unwrap_or("invalid YAML"))
        })
    }
}

fn parse_options(a: &ParseArgs) -> Result<ParseOptions, String> {
    let mut o = ParseOptions {
        allow_unbalanced: a.lenient,
        ..ParseOptions::default()
    };
    if let Some(m) = &a.csv_mapping {
        o.csv = Some(match CsvMapping::profile(m) {
            Some(p) => p,
            None if Path::new(m).is_file() => read_structured(Path::new(m))?,
            None => {
                return Err(format!(
                    "--csv-mapping {m:?}: not a preset ({PRESETS}) nor a mapping file"
                ));
            }
        });
    }
    Ok(o)
}

fn located(path: &Path, e: &BankError) -> String {
    match e.location() {
        Location::None => format!("{}: {e}", path.display()),
        _ => format!("{}:{e}", path.display()),
    }
}

fn parse_file(path: &Path, opts: &ParseOptions) -> Result<Vec<Statement>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    ordo_bank::parse(&bytes, opts).map_err(|e| located(path, &e))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TermsIn {
    Text(String),
    Terms(PaymentTerms),
}

fn terms_de<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<PaymentTerms>, D::Error> {
    match Option::<TermsIn>::deserialize(d)? {
        None => Ok(None),
        Some(TermsIn::Terms(t)) => Ok(Some(t)),
        Some(TermsIn::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(TermsIn::Text(s)) => PaymentTerms::parse(&s)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

#[derive(Deserialize)]
struct InvoiceIn {
    number: String,
    #[serde(alias = "customer_id")]
    customer: String,
    #[serde(alias = "amount", alias = "open", alias = "total")]
    amount_open: Decimal,
    currency: String,
    due_date: NaiveDate,
    #[serde(default)]
    issue_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "terms_de")]
    terms: Option<PaymentTerms>,
    #[serde(default)]
    kind: Option<ItemKind>,
}

impl InvoiceIn {
    fn into_item(self) -> OpenItem {
        let terms = self.terms.unwrap_or_else(|| PaymentTerms {
            net_days: self
                .issue_date
                .and_then(|i| u32::try_from((self.due_date - i).num_days()).ok())
                .unwrap_or(30),
            discount_percent: Decimal::ZERO,
            discount_days: 0,
        });
        let issue_date = self
            .issue_date
            .unwrap_or_else(|| self.due_date - chrono::Duration::days(i64::from(terms.net_days)));
        OpenItem {
            number: self.number,
            customer_id: self.customer,
            amount_open: self.amount_open,
            currency: self.currency.trim().to_ascii_uppercase(),
            due_date: self.due_date,
            issue_date,
            terms,
            kind: self.kind.unwrap_or(ItemKind::Receivable),
        }
    }
}

#[derive(Deserialize)]
struct InvoicesWrapped {
    invoices: Vec<InvoiceIn>,
}

#[derive(Deserialize)]
struct CustomerIn {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default, alias = "ibans")]
    accounts: Vec<String>,
}

/// One CSV row: its 1-based line and its cells with their 1-based columns.
type Row = (usize, Vec<(usize, String)>);

/// RFC 4180 rows (quoted fields, doubled quotes, CRLF); blank lines skipped.
fn csv_rows(path: &Path, text: &str, delim: char) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let (mut line, mut col) = (1usize, 1usize);
    let mut row: Vec<(usize, String)> = Vec::new();
    let (mut row_line, mut cell_col) = (1usize, 1usize);
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .chars()
        .peekable();
    let (mut q_line, mut q_col) = (0, 0);
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                    col += 2;
                    continue;
                }
                '"' => quoted = false,
                '\n' => {
                    cell.push('\n');
                    line += 1;
                    col = 0;
                }
                _ => cell.push(c),
            }
            col += 1;
            continue;
        }
        match c {
            '"' if cell.trim().is_empty() => {
                cell.clear();
                quoted = true;
                (q_line, q_col) = (line, col);
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push((cell_col, std::mem::take(&mut cell)));
                if row.iter().any(|(_, v)| !v.trim().is_empty()) {
                    rows.push((row_line, std::mem::take(&mut row)));
                }
                row.clear();
                line += 1;
                col = 0;
                row_line = line;
                cell_col = 1;
            }
            c if c == delim => {
                row.push((cell_col, std::mem::take(&mut cell)));
                cell_col = col + 1;
            }
            _ => cell.push(c),
        }
        col += 1;
    }
    if quoted {
        return Err(format!(
            "{}:{q_line}:{q_col}: unterminated quoted field",
            path.display()
        ));
    }
    row.push((cell_col, cell));
    if row.iter().any(|(_, v)| !v.trim().is_empty()) {
        rows.push((row_line, row));
    }
    Ok(rows)
}

/// A CSV table with named columns; `get` finds a cell by any of its accepted names.
struct Table {
    path: String,
    header: Vec<String>,
    rows: Vec<Row>,
    delim: char,
}

impl Table {
    fn read(path: &Path, text: &str) -> Result<Table, String> {
        let first = text.lines().next().unwrap_or_default();
        let delim = if first.contains(';') && !first.contains(',') {
            ';'
        } else {
            ','
        };
        let mut rows = csv_rows(path, text, delim)?;
        if rows.is_empty() {
            return Err(format!(
                "{}:1:1: empty file, expected a header row",
                path.display()
            ));
        }
        let header = rows
            .remove(0)
            .1
            .into_iter()
            .map(|(_, h)| h.trim().to_ascii_lowercase().replace([' ', '-'], "_"))
            .collect();
        Ok(Table {
            path: path.display().to_string(),
            header,
            rows,
            delim,
        })
    }

    fn col(&self, names: &[&str]) -> Option<usize> {
        self.header.iter().position(|h| names.contains(&h.as_str()))
    }

    fn need(&self, names: &[&str]) -> Result<usize, String> {
        self.col(names).ok_or_else(|| {
            format!(
                "{}:1:1: no column {} in the header ({})",
                self.path,
                names.join(" / "),
                self.header.join(", ")
            )
        })
    }

    /// (line, column, trimmed text) of column `i` in `row`.
    fn cell<'r>(&self, row: &'r Row, i: usize) -> (usize, usize, &'r str) {
        match row.1.get(i) {
            Some((c, v)) => (row.0, *c, v.trim()),
            None => (row.0, row.1.last().map_or(1, |(c, _)| *c), ""),
        }
    }

    fn err(&self, line: usize, col: usize, msg: impl std::fmt::Display) -> String {
        format!("{}:{line}:{col}: {msg}", self.path)
    }

    fn text(&self, row: &Row, i: usize, name: &str) -> Result<String, String> {
        let (l, c, v) = self.cell(row, i);
        if v.is_empty() {
            return Err(self.err(l, c, format!("{name} is empty")));
        }
        Ok(v.to_string())
    }

    fn decimal(&self, row: &Row, i: usize, name: &str) -> Result<Decimal, String> {
        let (l, c, v) = self.cell(row, i);
        let mut s = v.replace([' ', '\u{a0}'], "");
        if self.delim == ';' && s.contains(',') && !s.contains('.') {
            s = s.replace(',', ".");
        }
        Decimal::from_str(&s)
            .map_err(|_| self.err(l, c, format!("{name} {v:?} is not a decimal amount")))
    }

    fn date(&self, row: &Row, i: usize, name: &str) -> Result<NaiveDate, String> {
        let (l, c, v) = self.cell(row, i);
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| self.err(l, c, format!("{name} {v:?} is not a date YYYY-MM-DD")))
    }
}

fn invoices_csv(path: &Path, text: &str) -> Result<Vec<OpenItem>, String> {
    let t = Table::read(path, text)?;
    let number = t.need(&["number", "invoice", "invoice_number"])?;
    let customer = t.need(&["customer", "customer_id"])?;
    let amount = t.need(&["amount_open", "amount", "open", "total"])?;
    let currency = t.need(&["currency"])?;
    let due = t.need(&["due_date", "due"])?;
    let issue = t.col(&["issue_date", "issued", "date"]);
    let terms = t.col(&["terms", "payment_terms"]);
    let kind = t.col(&["kind", "type"]);
    let mut out = Vec::with_capacity(t.rows.len());
    for row in &t.rows {
        let issue_date = match issue {
            Some(i) if !t.cell(row, i).2.is_empty() => Some(t.date(row, i, "issue_date")?),
            _ => None,
        };
        let terms = match terms {
            Some(i) if !t.cell(row, i).2.is_empty() => {
                let (l, c, v) = t.cell(row, i);
                Some(PaymentTerms::parse(v).map_err(|e| t.err(l, c, e))?)
            }
            _ => None,
        };
        let kind = match kind {
            Some(i) => {
                let (l, c, v) = t.cell(row, i);
                match v.to_ascii_lowercase().as_str() {
                    "" | "receivable" | "ar" => None,
                    "payable" | "ap" => Some(ItemKind::Payable),
                    _ => return Err(t.err(l, c, format!("kind {v:?}: receivable or payable"))),
                }
            }
            None => None,
        };
        let inv = InvoiceIn {
            number: t.text(row, number, "number")?,
            customer: t.text(row, customer, "customer")?,
            amount_open: t.decimal(row, amount, "amount_open")?,
            currency: t.text(row, currency, "currency")?,
            due_date: t.date(row, due, "due_date")?,
            issue_date,
            terms,
            kind,
        };
        out.push(inv.into_item());
    }
    Ok(out)
}

fn load_invoices(path: &Path) -> Result<Vec<OpenItem>, String> {
    let text = read_text(path)?;
    if !is_json(path, &text) {
        return invoices_csv(path, &text);
    }
    let loc = |e: serde_json::Error| json_error(path, &e);
    let list: Vec<InvoiceIn> = if text.trim_start().starts_with('{') {
        serde_json::from_str::<InvoicesWrapped>(&text)
            .map_err(loc)?
            .invoices
    } else {
        serde_json::from_str(&text).map_err(loc)?
    };
    Ok(list.into_iter().map(InvoiceIn::into_item).collect())
}

fn load_customers(path: &Path) -> Result<Vec<Customer>, String> {
    let text = read_text(path)?;
    let list: Vec<CustomerIn> = if is_json(path, &text) {
        serde_json::from_str(&text).map_err(|e| json_error(path, &e))?
    } else {
        let t = Table::read(path, &text)?;
        let id = t.need(&["id", "customer", "customer_id"])?;
        let name = t.col(&["name"]);
        let accounts = t.col(&["ibans", "iban", "accounts", "account"]);
        let mut out = Vec::new();
        for row in &t.rows {
            out.push(CustomerIn {
                id: t.text(row, id, "id")?,
                name: name
                    .map(|i| t.cell(row, i).2.to_string())
                    .unwrap_or_default(),
                accounts: accounts
                    .map(|i| {
                        t.cell(row, i)
                            .2
                            .split(['|', ';', ','])
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
        out
    };
    Ok(list
        .into_iter()
        .map(|c| Customer {
            id: c.id,
            name: c.name,
            accounts: c
                .accounts
                .iter()
                .map(|a| a.chars().filter(|c| !c.is_whitespace()).collect())
                .collect(),
        })
        .collect())
}

fn reconcile(
    statements: &[PathBuf],
    invoices: &Path,
    customers: Option<&Path>,
    config: Option<&Path>,
    csv_out: Option<&Path>,
    opts: &ParseArgs,
) -> Result<ExitCode, String> {
    let popts = parse_options(opts)?;
    let mut stmts = Vec::new();
    for f in statements {
        stmts.extend(parse_file(f, &popts)?);
    }
    let items = load_invoices(invoices)?;
    let customers = match customers {
        Some(c) => load_customers(c)?,
        None => Vec::new(),
    };
    let cfg: MatchConfig = match config {
        Some(c) => read_structured(c)?,
        None => MatchConfig::default(),
    };
    let result = ordo_bank::reconcile(&stmts, &items, &customers, &cfg);
    let report = ordo_bank::report(&stmts, &result);
    if let Some(out) = csv_out {
        std::fs::write(out, ordo_bank::report::to_csv(&result))
            .map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let payments = result.matches.len() + result.exceptions.len();
    Ok(print_json(&json!({
        "summary": {
            "statements": stmts.len(),
            "invoices": items.len(),
            "payments": payments,
            "matched": result.matches.len(),
            "exceptions": result.exceptions.len(),
            "skipped": result.skipped.len(),
        },
        "matches": result.matches,
        "exceptions": result.exceptions,
        "learned": result.learned,
        "skipped": result.skipped,
        "report": report,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_located() {
        let p = Path::new("i.csv");
        let rows = csv_rows(p, "a,b\r\n\"x,1\",2\n\n3,\"q\"\"\"\n", ',').unwrap_or_default();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1], (2, vec![(1, "x,1".into()), (7, "2".into())]));
        assert_eq!(rows[2], (4, vec![(1, "3".into()), (3, "q\"".into())]));
        assert!(csv_rows(p, "a,\"b\n", ',').is_err());
    }
}
