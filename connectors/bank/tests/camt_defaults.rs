//! Values of a camt file that once fell back to a default silently and are now located
//! errors: a statement without any id, without an account, a malformed batch count, charge or
//! instructed amount. Each case edits one element of a real fixture that parses as it is.

use std::path::Path;

use ordo_bank::ParseOptions;
use ordo_bank::parse::camt;

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The fixture with `from` (which must occur exactly `n` times) replaced by `to`; returns the
/// parse error, after checking that the unedited fixture parses.
fn error_after(name: &str, edits: &[(&str, &str, usize)]) -> String {
    let opts = ParseOptions {
        allow_unbalanced: true,
        ..ParseOptions::default()
    };
    let mut text = fixture(name);
    camt::parse(text.as_bytes(), &opts).unwrap_or_else(|e| panic!("{name} as it is: {e}"));
    for (from, to, n) in edits {
        assert_eq!(text.matches(from).count(), *n, "{from} in {name}");
        text = text.replace(from, to);
    }
    match camt::parse(text.as_bytes(), &opts) {
        Ok(s) => panic!("accepted after {edits:?}: {s:?}"),
        Err(e) => e.to_string(),
    }
}

const PF: &str = "camt053_v04_postfinance_ch_batches_charges.xml";

#[test]
fn a_statement_without_id_and_msg_id_is_refused() {
    let e = error_after(
        PF,
        &[
            (
                "<MsgId>20160430375204000008573</MsgId>",
                "<MsgId> </MsgId>",
                1,
            ),
            ("<Id>20160430375204000008574</Id>", "<Id></Id>", 1),
        ],
    );
    assert!(
        e.contains("statement without Id and without GrpHdr/MsgId"),
        "{e}"
    );
}

#[test]
fn a_statement_without_account_is_refused() {
    let e = error_after(
        PF,
        &[("<IBAN>CH0309000000250090342</IBAN>", "<IBAN> </IBAN>", 1)],
    );
    assert!(
        e.contains("statement 20160430375204000008574 without Acct/Id"),
        "{e}"
    );
}

#[test]
fn a_malformed_batch_count_is_refused_at_its_element() {
    let e = error_after(PF, &[("<NbOfTxs>10</NbOfTxs>", "<NbOfTxs>1O</NbOfTxs>", 1)]);
    assert!(
        e.starts_with("292: ") && e.contains("Btch/NbOfTxs: invalid NbOfTxs \"1O\""),
        "{e}"
    );
}

#[test]
fn a_malformed_charge_is_refused_at_its_element() {
    let e = error_after(
        PF,
        &[(">5.60</TtlChrgsAndTaxAmt>", ">5.6O</TtlChrgsAndTaxAmt>", 1)],
    );
    assert!(
        e.starts_with("268: ") && e.contains("Chrgs/TtlChrgsAndTaxAmt: invalid amount \"5.6O\""),
        "{e}"
    );
}

#[test]
fn a_malformed_instructed_amount_is_refused_at_its_element() {
    let e = error_after(
        "camt053_v08_ubs_ch_rf_qrr_batch__xsd_invalid_uetr.xml",
        &[(
            "<InstdAmt>\n                <Amt Ccy=\"CHF\">474.4</Amt>",
            "<InstdAmt>\n                <Amt Ccy=\"CHF\">474,4,0</Amt>",
            1,
        )],
    );
    assert!(
        e.starts_with("125: ") && e.contains("InstdAmt/Amt: invalid amount \"474,4,0\""),
        "{e}"
    );
}

/// `Chrgs/TtlChrgsAndTaxAmt` 5.60 detailed by `Rcrd` 5.40 + 0.20: the charges are 5.60 (they
/// were read as 11.20, the total and its records added up).
#[test]
fn entry_charges_are_the_stated_total_not_total_plus_records() {
    let s = camt::parse(fixture(PF).as_bytes(), &ParseOptions::default()).expect("parses");
    let e = s
        .iter()
        .flat_map(|s| &s.entries)
        .find(|e| e.bank_ref.as_deref() == Some("20160530007602769939022000000012"))
        .expect("the entry");
    assert_eq!(e.charges, Some(rust_decimal::Decimal::new(560, 2)));
}
