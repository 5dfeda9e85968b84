//! Order lines that once mapped with an invented value and now fail their transaction with a
//! message naming interchange, transaction and line: no item number (was an empty SKU), an
//! EDIFACT line without QTY (was a quantity of 0), an X12 PO102 without its paired PO103 unit
//! (was EA). Each case edits (the first occurrence in) one real fixture that maps as it is.

use std::path::Path;

use ordo_edi::map::{MapOptions, orders};
use ordo_edi::read;

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The mapping results of the first interchange's purchase orders: `Ok(lines)` or the error.
fn map(text: &str) -> Vec<Result<usize, String>> {
    let opts = MapOptions {
        customer_id: "C1".into(),
        partner: None,
        default_currency: "EUR".into(),
    };
    let ich = read(text.as_bytes())
        .next()
        .expect("an interchange")
        .expect("it reads");
    orders(&ich, &opts)
        .into_iter()
        .map(|r| r.map(|o| o.lines.len()).map_err(|e| e.to_string()))
        .collect()
}

fn edited(name: &str, from: &str, to: &str) -> String {
    let text = fixture(name);
    assert!(map(&text).iter().all(Result::is_ok), "{name} maps as it is");
    assert!(text.contains(from), "{from} in {name}");
    text.replacen(from, to, 1)
}

const EDIFACT: &str = "edifact-d96a-orders-two-msgs-no-una.edi";
const X12: &str = "own-x12-850-ctt-hash-total.edi";

#[test]
fn an_edifact_line_without_qty_fails_its_message() {
    let r = map(&edited(
        EDIFACT,
        "EN'\r\nQTY+21:1.00'\r\nLIN+3",
        "EN'\r\nLIN+3",
    ));
    let e = r[0].as_ref().expect_err("first message refused");
    assert!(e.contains("line 2 has no quantity (QTY)"), "{e}");
    assert!(e.contains("1-1UNHREF"), "names the message: {e}");
    assert!(r[1].is_ok(), "the second message still maps: {:?}", r[1]);
}

#[test]
fn an_edifact_line_without_item_number_fails_its_message() {
    let r = map(&edited(EDIFACT, "LIN+3++8712345678901:EN'", "LIN+3'"));
    let e = r[0].as_ref().expect_err("first message refused");
    assert!(e.contains("line 3 has no item number"), "{e}");
}

#[test]
fn an_x12_line_without_unit_or_item_fails_its_transaction() {
    let r = map(&edited(
        X12,
        "PO1*2*2*EA*12.50**VP*WID-2~",
        "PO1*2*2**12.50**VP*WID-2~",
    ));
    let e = r[0].as_ref().expect_err("refused");
    assert!(e.contains("PO103 unit of measure missing"), "{e}");
    let r = map(&edited(
        X12,
        "PO1*2*2*EA*12.50**VP*WID-2~",
        "PO1*2*2*EA*12.50~",
    ));
    let e = r[0].as_ref().expect_err("refused");
    assert!(e.contains("line 2 has no item number"), "{e}");
}
