//! Data-driven snapshot test: every fixture `NAME.ext` in `tests/fixtures` is parsed and its
//! compact rendering compared with `NAME.expected`. A file that fails its balance check is
//! rendered twice: the located error, then the lenient parse. `UPDATE_EXPECT=1` rewrites the
//! expectations (review the diff by eye).

use std::fmt::Write;
use std::path::Path;

use ordo_bank::parse::CsvMapping;
use ordo_bank::{
    BankError, ParseOptions, Statement, entry_fingerprints, parse, statement_fingerprint,
};

fn csv_profile(name: &str) -> Option<CsvMapping> {
    let p = if name.starts_with("csv_ing_de") {
        "ing-de"
    } else if name.starts_with("csv_sparkasse") {
        "sparkasse-camt-v8"
    } else if name.starts_with("csv_fr") {
        "fr-debit-credit"
    } else if name.starts_with("csv_oca") {
        "generic-en"
    } else {
        return None;
    };
    CsvMapping::profile(p)
}

fn opt<T: std::fmt::Display>(k: &str, v: &Option<T>) -> String {
    v.as_ref().map(|v| format!(" {k}={v}")).unwrap_or_default()
}

pub fn render(stmts: &[Statement], out: &mut String) {
    for s in stmts {
        let bal = |b: &Option<ordo_bank::Balance>| {
            b.as_ref()
                .map(|b| {
                    format!(
                        "{}@{}",
                        b.amount,
                        b.date.map(|d| d.to_string()).unwrap_or_default()
                    )
                })
                .unwrap_or("-".into())
        };
        let _ = writeln!(
            out,
            "stmt {} {} id={:?} acct={}{} ccy={}{} open={} close={} entries={} fp={}",
            s.format.name(),
            s.version.as_deref().unwrap_or("-"),
            s.statement_id,
            s.account,
            if s.account_is_iban { "(iban)" } else { "" },
            s.currency,
            opt("seq", &s.sequence),
            bal(&s.opening),
            bal(&s.closing),
            s.entries.len(),
            &statement_fingerprint(s)[..12]
        );
        for w in &s.warnings {
            let _ = writeln!(out, "  warning: {w}");
        }
        let fps = entry_fingerprints(s);
        for (n, e) in s.entries.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {} {} {} {} {:?}{}{}{}{}{}{}{} fp={}",
                n + 1,
                if e.direction == ordo_bank::Direction::Credit {
                    "C"
                } else {
                    "D"
                },
                e.amount,
                e.currency,
                e.status,
                opt("book", &e.booking_date),
                opt("val", &e.value_date),
                opt("bref", &e.bank_ref),
                opt("cref", &e.customer_ref),
                if e.reversal { " REVERSAL" } else { "" },
                opt("code", &e.bank_tx_code),
                opt("charges", &e.charges),
                &fps[n][..8]
            );
            if let Some(i) = &e.info {
                let i: String = i.chars().take(90).collect();
                let _ = writeln!(out, "    info: {i}");
            }
            for t in &e.transactions {
                let cref = t.creditor_ref.as_ref().map(|r| {
                    format!(
                        " ref={:?}:{}{}",
                        r.kind,
                        r.value,
                        if r.valid {
                            "(ok)"
                        } else {
                            "(bad check digits)"
                        }
                    )
                });
                let _ = writeln!(
                    out,
                    "    tx{}{}{}{}{}{}{}{}",
                    opt("amt", &t.amount),
                    opt("e2e", &t.end_to_end_id),
                    t.counterparty_name
                        .as_ref()
                        .map(|n| format!(" name={n:?}"))
                        .unwrap_or_default(),
                    opt("acct", &t.counterparty_account),
                    t.remittance
                        .as_ref()
                        .map(|r| format!(" rmt={:?}", r.chars().take(90).collect::<String>()))
                        .unwrap_or_default(),
                    cref.unwrap_or_default(),
                    if t.referred_documents.is_empty() {
                        String::new()
                    } else {
                        format!(" docs={:?}", t.referred_documents)
                    },
                    opt("return", &t.return_reason),
                );
            }
        }
    }
}

fn render_file(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let bytes = std::fs::read(path).unwrap_or_default();
    let opts = ParseOptions {
        csv: csv_profile(name),
        ..ParseOptions::default()
    };
    let mut out = String::new();
    match parse(&bytes, &opts) {
        Ok(s) => render(&s, &mut out),
        Err(e) => {
            let _ = writeln!(out, "error: {e}");
            if matches!(e, BankError::Unbalanced(_) | BankError::ControlTotal { .. }) {
                let lenient = ParseOptions {
                    allow_unbalanced: true,
                    ..opts
                };
                match parse(&bytes, &lenient) {
                    Ok(s) => {
                        let _ = writeln!(out, "lenient:");
                        render(&s, &mut out);
                    }
                    Err(e) => {
                        let _ = writeln!(out, "lenient error: {e}");
                    }
                }
            }
        }
    }
    out
}

#[test]
fn fixtures_match_their_expected_rendering() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let update = std::env::var("UPDATE_EXPECT").is_ok();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut checked = 0;
    let mut failed = Vec::new();
    for f in files {
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "xml" | "sta" | "bai2" | "csv") {
            continue;
        }
        let got = render_file(&f);
        let exp_path = f.with_extension("expected");
        if update {
            std::fs::write(&exp_path, &got)
                .unwrap_or_else(|e| panic!("{}: {e}", exp_path.display()));
        }
        let want = std::fs::read_to_string(&exp_path).unwrap_or_default();
        checked += 1;
        if got != want {
            failed.push(format!(
                "{}\n--- expected\n{want}\n--- got\n{got}",
                f.display()
            ));
        }
    }
    assert!(checked >= 50, "only {checked} fixtures found");
    assert!(
        failed.is_empty(),
        "{} fixture(s) differ (UPDATE_EXPECT=1 to accept):\n{}",
        failed.len(),
        failed.join("\n")
    );
}
