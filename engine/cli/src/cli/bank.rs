//! `ordo bank …`: a thin front end over the pure `ordo-bank` crate (statement parsers and the
//! reconciliation matcher). No engine, no store: files in, JSON out, located errors on stderr.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args as ClapArgs, Subcommand};
use ordo_bank::parse::CsvMapping;
use ordo_bank::{BankError, Location, MatchConfig, ParseOptions, Statement};

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
            .map(|s| print_json(&s)),
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

/// JSON (by extension or first character) or YAML, errors located.
fn read_structured<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = read_text(path)?;
    let p = path.display();
    if ordo::openitems::is_json(path, &text) {
        serde_json::from_str(&text).map_err(|e| json_error(path, &e))
    } else {
        serde_saphyr::from_str(&text).map_err(|e| {
            let e = e.to_string();
            // Message text only: an error without text.
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

/// The open invoices, customers and matching configuration, and the matcher's index of them.
type Loaded = (
    Vec<ordo_bank::OpenItem>,
    Vec<ordo_bank::Customer>,
    MatchConfig,
    ordo_bank::matcher::Prepared,
);

fn load_side(
    invoices: &Path,
    customers: Option<&Path>,
    config: Option<&Path>,
) -> Result<Loaded, String> {
    let items = ordo::openitems::load_invoices(invoices, &read_text(invoices)?)?;
    let customers = match customers {
        Some(c) => ordo::openitems::load_customers(c, &read_text(c)?)?,
        None => Vec::new(),
    };
    let cfg: MatchConfig = match config {
        Some(c) => read_structured(c)?,
        None => MatchConfig::default(),
    };
    let prepared = ordo_bank::matcher::prepare(&items, &customers, &cfg);
    Ok((items, customers, cfg, prepared))
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
    // The statements are parsed on a second thread while this one reads the invoices and
    // customers and builds the matcher's index from them: the two do not depend on each other,
    // so on two cores the shorter costs no wall time. A statement's error is reported first,
    // as when they ran one after the other.
    let (stmts, loaded) = std::thread::scope(|s| {
        let parsing = s.spawn(|| -> Result<Vec<Statement>, String> {
            let mut stmts = Vec::new();
            for f in statements {
                stmts.extend(parse_file(f, &popts)?);
            }
            Ok(stmts)
        });
        let loaded = load_side(invoices, customers, config);
        let stmts = parsing
            .join()
            .unwrap_or_else(|_| Err("parsing the statements failed".into()));
        (stmts, loaded)
    });
    let stmts = stmts?;
    let (items, customers, cfg, prepared) = loaded?;
    let result =
        ordo_bank::matcher::reconcile_prepared(&stmts, &items, &customers, &[], &prepared, &cfg);
    let report = ordo_bank::report(&stmts, &result);
    if let Some(out) = csv_out {
        std::fs::write(out, ordo_bank::report::to_csv(&result))
            .map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let payments = result.matches.len() + result.exceptions.len();
    // Borrowed, serialized straight to stdout (`print_json`): the same JSON `json!` gave.
    let code = print_json(&ReconcileOut {
        summary: Summary {
            statements: stmts.len(),
            invoices: items.len(),
            payments,
            matched: result.matches.len(),
            exceptions: result.exceptions.len(),
            skipped: result.skipped.len(),
        },
        matches: &result.matches,
        exceptions: &result.exceptions,
        learned: &result.learned,
        skipped: &result.skipped,
        report: &report,
    });
    // The process ends here: freeing a million small allocations one by one (statements,
    // invoices, the index, the result) would only delay the exit the OS reclaims them at.
    std::mem::forget((stmts, items, customers, prepared, result, report));
    Ok(code)
}

/// What `ordo bank reconcile` prints, in this order.
#[derive(serde::Serialize)]
struct ReconcileOut<'a> {
    summary: Summary,
    matches: &'a [ordo_bank::matcher::Match],
    exceptions: &'a [ordo_bank::matcher::Exception],
    learned: &'a [(String, String)],
    skipped: &'a [String],
    report: &'a [ordo_bank::StatementReport],
}

#[derive(serde::Serialize)]
struct Summary {
    statements: usize,
    invoices: usize,
    payments: usize,
    matched: usize,
    exceptions: usize,
    skipped: usize,
}
