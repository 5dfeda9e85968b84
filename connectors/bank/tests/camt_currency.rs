//! A camt `Amt` without its mandatory `Ccy` attribute: a located error, unless the account
//! profile gives the currency (`ParseOptions::default_currency`), in which case the file is
//! imported in that currency with a located warning on the statement that names it. The same
//! through `camt::parse` (in memory) and `camt::stream` (any `BufRead`, any buffer size).

use std::io::BufReader;
use std::path::Path;

use ordo_bank::model::{Entry, Statement};
use ordo_bank::parse::camt::{self, Sink};
use ordo_bank::{BankError, ParseOptions};
use rust_decimal::Decimal;

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

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `camt::parse`, after checking that `camt::stream` through buffers of 1, 7 and 8192 bytes
/// gives the same statements or the same located error.
fn parse_both(bytes: &[u8], opts: &ParseOptions) -> Result<Vec<Statement>, BankError> {
    let want = camt::parse(bytes, opts);
    for cap in [1, 7, 8192] {
        let mut k = Keep::default();
        let got = camt::stream(BufReader::with_capacity(cap, bytes), opts, &mut k).map(|_| k.done);
        assert_eq!(want, got, "stream with a {cap}-byte buffer differs");
    }
    want
}

fn profile(ccy: &str) -> ParseOptions {
    ParseOptions {
        default_currency: Some(ccy.to_string()),
        ..ParseOptions::default()
    }
}

#[test]
fn entry_amount_without_ccy_is_an_error_at_the_element() {
    let bytes = fixture("broken_camt053_v02_amt_without_ccy.xml");
    for allow_unbalanced in [false, true] {
        let opts = ParseOptions {
            allow_unbalanced,
            ..ParseOptions::default()
        };
        let err = parse_both(&bytes, &opts).expect_err("an Amt without Ccy must not import");
        assert_eq!(
            err.to_string(),
            "67: Document/BkToCstmrStmt/Stmt/Ntry/Amt: Amt without its mandatory Ccy attribute \
             (the currency is unknown; an account profile with `currency:` would supply it)"
        );
    }
}

#[test]
fn entry_amount_without_ccy_takes_the_profile_currency_with_a_located_warning() {
    let bytes = fixture("broken_camt053_v02_amt_without_ccy.xml");
    let stmts = parse_both(&bytes, &profile("EUR")).expect("imports with the profile currency");
    assert_eq!(stmts.len(), 2);
    let s = &stmts[0];
    assert_eq!(s.entries.len(), 1);
    assert_eq!(s.entries[0].amount, Decimal::new(885, 2));
    assert_eq!(s.entries[0].currency, "EUR");
    assert_eq!(
        s.warnings,
        vec![
            "67: Document/BkToCstmrStmt/Stmt/Ntry/Amt: Amt without its mandatory Ccy attribute: \
             assumed EUR, the account profile's currency"
                .to_string()
        ]
    );
    // The second statement has its Ccy attributes: no warning there.
    assert!(stmts[1].warnings.is_empty(), "{:?}", stmts[1].warnings);
}

#[test]
fn a_file_without_any_ccy_is_refused_at_the_first_balance_or_imported_in_the_profile_currency() {
    let bytes = fixture("own_camt053_v08_amt_without_ccy.xml");
    let err = parse_both(&bytes, &ParseOptions::default()).expect_err("no currency anywhere");
    assert!(
        err.to_string()
            .starts_with("10: Document/BkToCstmrStmt/Stmt/Bal/Amt: Amt without its mandatory Ccy"),
        "{err}"
    );

    let stmts = parse_both(&bytes, &profile("CHF")).expect("imports in CHF");
    assert_eq!(stmts.len(), 1);
    let s = &stmts[0];
    assert_eq!(s.currency, "CHF");
    assert!(!s.entries.is_empty());
    assert!(s.entries.iter().all(|e| e.currency == "CHF"));
    // One warning for the statement, at the first element, with the count of all of them
    // (2 balances, 3 entries, 2 transactions of the batch).
    assert_eq!(s.warnings.len(), 1, "{:?}", s.warnings);
    assert_eq!(
        s.warnings[0],
        "10: Document/BkToCstmrStmt/Stmt/Bal/Amt: Amt without its mandatory Ccy attribute: \
         assumed CHF, the account profile's currency (7 Amt elements without Ccy in this statement)"
    );
}

#[test]
fn an_amt_with_its_ccy_ignores_the_profile_currency() {
    // The profile currency only fills a missing attribute; a present one is kept as it is.
    let bytes = fixture("own_camt053_v08_reversal_batch_rf.xml");
    let plain = parse_both(&bytes, &ParseOptions::default()).expect("parses");
    let with = parse_both(&bytes, &profile("CHF")).expect("parses");
    assert_eq!(plain, with);
    assert!(with.iter().all(|s| s.warnings.is_empty()));
}
