//! A sent quotation → X12 843 (response to request for quotation) or EDIFACT QUOTES, for a
//! customer whose partner profile lists `quote` in `documents:`.
//!
//! - **843** (4010 and 5010 alike, the structure the bots 843 grammars accept): `BQR` (`00`
//!   original, BQR02 the quote number: there is no buyer RFQ document to answer, so the
//!   reference the buyer names back is ours, BQR03 the date sent), `CUR*SE`, `REF*PR` (price
//!   quote number: what an 850 naming the quote carries, see [`super::quote_named`]), `DTM*036`
//!   (expiration: the validity), N1 loops (`BY` the customer, `SE` us), one `PO1` per line
//!   (PO102 quantity, PO103 unit, PO104 unit price, `VP` the item) with `PID*F` for its
//!   description, `CTT` (line count) with `AMT*TT` (the quote's net total).
//! - **QUOTES** (D96A and D01B): `BGM+310` (offer/quotation, 9 original), `DTM+137` (date sent),
//!   `DTM+36` (expiry: the validity), `RFF+AAG` (offer number, as an ORDERS naming it), `CUX`,
//!   `NAD+BY`/`NAD+SU` (QUOTES puts the currency before the parties), per line `LIN` (item,
//!   `SA`), `IMD` description, `QTY+21`, `MOA+203` (line amount), `PRI+AAA`; `UNS`, `MOA+79`
//!   (total of the lines), `CNT+2`.
//!
//! A number the element cannot hold (more digits than X12 `R` / EDIFACT `n` allows: PO102 15,
//! PO104 17, AMT02 18; QTY 15 in D96A, 35 in D01B; PRI 15; MOA 18 in D96A, 35 in D01B) is an
//! error naming the line and the element: nothing is cut or rounded.

use chrono::NaiveDate;
use ordo_contract::Party;
use rust_decimal::Decimal;

use super::cut;
use super::x12_out::n1_loop;
use crate::error::EdiError;
use crate::syntax::Version;
use crate::values::fmt_decimal;
use crate::write::{Document, OutSegment};

/// What the quote document carries: the stored quote's number, dates, lines and total, and the
/// parties (the customer as `buyer`, we as `seller`).
#[derive(Debug, Clone, PartialEq)]
pub struct Quotation {
    pub number: String,
    /// The day it is sent.
    pub date: NaiveDate,
    pub valid_until: NaiveDate,
    pub currency: String,
    pub parties: Vec<Party>,
    pub lines: Vec<QuotedLine>,
    /// Net total of the lines.
    pub total: Decimal,
}

/// One priced line of a [`Quotation`].
#[derive(Debug, Clone, PartialEq)]
pub struct QuotedLine {
    pub line_no: u32,
    pub sku: String,
    pub description: Option<String>,
    pub quantity: Decimal,
    pub uom: String,
    pub unit_price: Decimal,
    pub amount: Decimal,
}

fn d8(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// `v` written for a numeric element of at most `max` digits (sign and decimal mark are not
/// counted, as in X12 `R` and EDIFACT `n`), else an error naming `what`.
fn number(q: &Quotation, v: Decimal, max: usize, what: &str) -> Result<String, EdiError> {
    fit(q, fmt_decimal(v), max, what)
}

/// An amount as stored (its cents kept: `2450.00`, never rounded), checked as [`number`].
fn amount(q: &Quotation, v: Decimal, max: usize, what: &str) -> Result<String, EdiError> {
    fit(q, v.to_string(), max, what)
}

fn fit(q: &Quotation, s: String, max: usize, what: &str) -> Result<String, EdiError> {
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if digits > max {
        return Err(EdiError::Write {
            what: format!("quote {}: {what}", q.number),
            reason: format!("{s} has {digits} digits; the element holds at most {max}"),
        });
    }
    Ok(s)
}

fn check(q: &Quotation, set: &str) -> Result<(), EdiError> {
    if q.lines.is_empty() {
        return Err(EdiError::Write {
            what: format!("{set} for quote {}", q.number),
            reason: "no lines".into(),
        });
    }
    Ok(())
}

/// The X12 unit code (355, two characters) of a unit as ordo writes units: the one-letter
/// canonical units get theirs (the purchase order's mapping); others must already be two.
fn x12_unit(q: &Quotation, l: &QuotedLine) -> Result<String, EdiError> {
    let u = super::purchase_out::x12_unit_code(&l.uom);
    if u.len() != 2 || !u.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(EdiError::Write {
            what: format!("quote {}: line {} PO103 unit", q.number, l.line_no),
            reason: format!("unit '{}' has no two-character X12 code", cut(&l.uom, 10)),
        });
    }
    Ok(u)
}

/// X12 843 for `q` (see the module docs); 4010 and 5010 are written alike.
pub fn quote_to_843(q: &Quotation) -> Result<Document, EdiError> {
    check(q, "843")?;
    let mut segs = vec![
        OutSegment::new("BQR")
            .el("00")
            .el(cut(&q.number, 45))
            .el(d8(q.date)),
        OutSegment::new("CUR").el("SE").el(q.currency.clone()),
        OutSegment::new("REF").el("PR").el(cut(&q.number, 80)),
        OutSegment::new("DTM").el("036").el(d8(q.valid_until)),
    ];
    for p in &q.parties {
        n1_loop(p, &mut segs);
    }
    for l in &q.lines {
        let at = |e: &str| format!("line {} {e}", l.line_no);
        segs.push(
            OutSegment::new("PO1")
                .el(l.line_no.to_string())
                .el(number(q, l.quantity, 15, &at("PO102 quantity"))?)
                .el(x12_unit(q, l)?)
                .el(number(q, l.unit_price, 17, &at("PO104 unit price"))?)
                .el("")
                .el("VP")
                .el(cut(&l.sku, 48)),
        );
        if let Some(d) = &l.description {
            segs.push(OutSegment::new("PID").el("F").skip(3).el(cut(d, 80)));
        }
    }
    segs.push(OutSegment::new("CTT").el(q.lines.len().to_string()));
    segs.push(
        OutSegment::new("AMT")
            .el("TT")
            .el(amount(q, q.total, 18, "AMT02 total")?),
    );
    Ok(Document {
        set_id: "843".into(),
        version: None,
        segments: segs,
    })
}

fn dtm(qual: &str, d: NaiveDate) -> OutSegment {
    OutSegment::new("DTM").comp([qual.to_string(), d8(d), "102".into()])
}

/// EDIFACT QUOTES for `q` in `version` (D96A or D01B: the element sizes differ).
pub fn quote_to_quotes(q: &Quotation, version: Version) -> Result<Document, EdiError> {
    check(q, "QUOTES")?;
    let (qty_max, moa_max) = if version == Version::D01B {
        (35, 35)
    } else {
        (15, 18)
    };
    let mut segs = vec![
        OutSegment::new("BGM")
            .el("310")
            .el(cut(&q.number, 35))
            .el("9"),
        dtm("137", q.date),
        dtm("36", q.valid_until),
        OutSegment::new("RFF").comp(["AAG".to_string(), cut(&q.number, 35)]),
        OutSegment::new("CUX").comp(["2", q.currency.as_str(), "9"]),
    ];
    for p in &q.parties {
        if super::first_id(p).is_some() || p.name.is_some() {
            segs.push(super::edifact_out::nad(p));
        }
    }
    for l in &q.lines {
        let at = |e: &str| format!("line {} {e}", l.line_no);
        segs.push(
            OutSegment::new("LIN")
                .el(l.line_no.to_string())
                .el("")
                .comp([cut(&l.sku, 35), "SA".into()]),
        );
        if let Some(d) = &l.description {
            segs.push(
                OutSegment::new("IMD")
                    .el("F")
                    .el("")
                    .comp(["", "", "", &cut(d, 35)]),
            );
        }
        segs.push(OutSegment::new("QTY").comp([
            "21".to_string(),
            number(q, l.quantity, qty_max, &at("QTY 6060 quantity"))?,
            cut(&l.uom, 3),
        ]));
        segs.push(OutSegment::new("MOA").comp([
            "203".to_string(),
            amount(q, l.amount, moa_max, &at("MOA 5004 line amount"))?,
        ]));
        segs.push(OutSegment::new("PRI").comp([
            "AAA".to_string(),
            number(q, l.unit_price, 15, &at("PRI 5118 unit price"))?,
        ]));
    }
    segs.push(OutSegment::new("UNS").el("S"));
    segs.push(OutSegment::new("MOA").comp([
        "79".to_string(),
        amount(q, q.total, moa_max, "MOA 5004 total")?,
    ]));
    segs.push(OutSegment::new("CNT").comp(["2".to_string(), q.lines.len().to_string()]));
    Ok(Document {
        set_id: "QUOTES".into(),
        version: None,
        segments: segs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::{Envelope, write};
    use crate::{PartnerId, validate};
    use ordo_contract::PartyId;
    use rust_decimal::dec;

    pub(crate) fn sample() -> Quotation {
        let party = |role: &str, name: &str, gln: &str| Party {
            role: role.into(),
            name: Some(name.into()),
            ids: vec![PartyId {
                qualifier: "GLN".into(),
                value: gln.into(),
            }],
            address: None,
        };
        Quotation {
            number: "Q-000001".into(),
            date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            valid_until: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            currency: "EUR".into(),
            parties: vec![
                party("buyer", "Acme Retail", "4012345000016"),
                party("seller", "Ordo Demo GmbH", "4012345000009"),
            ],
            lines: vec![
                QuotedLine {
                    line_no: 1,
                    sku: "WID-100".into(),
                    description: Some("Widget, blue".into()),
                    quantity: dec!(200),
                    uom: "EA".into(),
                    unit_price: dec!(12.25),
                    amount: dec!(2450.00),
                },
                QuotedLine {
                    line_no: 2,
                    sku: "CABLE".into(),
                    description: None,
                    quantity: dec!(2.5),
                    uom: "M".into(),
                    unit_price: dec!(4),
                    amount: dec!(10.00),
                },
            ],
            total: dec!(2460.00),
        }
    }

    fn envelope(v: Version) -> Envelope {
        let id = |s: &str| PartnerId {
            qualifier: if v.standard() == crate::Standard::X12 {
                "ZZ".into()
            } else {
                "14".into()
            },
            id: s.into(),
        };
        Envelope::new(
            v,
            id("ORDOSELLER"),
            id("ACMEBUYER"),
            7,
            NaiveDate::from_ymd_opt(2026, 12, 1)
                .unwrap()
                .and_hms_opt(12, 0, 0)
                .unwrap(),
        )
    }

    fn tags(d: &Document) -> Vec<&str> {
        d.segments.iter().map(|s| s.tag).collect()
    }

    /// Written in every version, read back by our own reader and validator without an issue.
    fn clean(v: Version, d: Document) -> String {
        let bytes = write(&envelope(v), &[d]).unwrap();
        let mut n = 0;
        for ich in crate::read(&bytes) {
            let ich = ich.unwrap();
            let issues = validate(&ich);
            assert!(issues.is_empty(), "{v:?}: {issues:?}");
            n += 1;
        }
        assert_eq!(n, 1);
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_quote_maps_to_843_and_quotes_our_validator_accepts() {
        let q = sample();
        let d = quote_to_843(&q).unwrap();
        assert_eq!(
            tags(&d),
            [
                "BQR", "CUR", "REF", "DTM", "N1", "N1", "PO1", "PID", "PO1", "CTT", "AMT"
            ]
        );
        for v in [Version::X12_4010, Version::X12_5010] {
            let text = clean(v, quote_to_843(&q).unwrap());
            assert!(text.contains("GS*RR*"), "{text}");
            assert!(text.contains("ST*843*"), "{text}");
            assert!(text.contains("BQR*00*Q-000001*20261201~"), "{text}");
            assert!(text.contains("DTM*036*20261231~"), "{text}");
            assert!(text.contains("PO1*1*200*EA*12.25**VP*WID-100~"), "{text}");
            // the one-letter canonical metre is MR in X12
            assert!(text.contains("PO1*2*2.5*MR*4**VP*CABLE~"), "{text}");
            assert!(text.contains("CTT*2~\nAMT*TT*2460.00~"), "{text}");
        }
        let d = quote_to_quotes(&q, Version::D96A).unwrap();
        assert_eq!(
            tags(&d),
            [
                "BGM", "DTM", "DTM", "RFF", "CUX", "NAD", "NAD", "LIN", "IMD", "QTY", "MOA", "PRI",
                "LIN", "QTY", "MOA", "PRI", "UNS", "MOA", "CNT"
            ]
        );
        for v in [Version::D96A, Version::D01B] {
            let text = clean(v, quote_to_quotes(&q, v).unwrap());
            assert!(text.contains("UNH+1+QUOTES:D:"), "{text}");
            assert!(text.contains("BGM+310+Q-000001+9'"), "{text}");
            assert!(text.contains("DTM+36:20261231:102'"), "{text}");
            assert!(text.contains("PRI+AAA:12.25'"), "{text}");
            assert!(text.contains("MOA+79:2460.00'"), "{text}");
            assert!(text.contains("CNT+2:2'"), "{text}");
        }
    }

    #[test]
    fn a_number_the_element_cannot_hold_is_refused_with_its_line_and_element() {
        let mut q = sample();
        // 16 digits: more than PO102 (15) and D96A QTY (15) hold; D01B's 35 hold it.
        q.lines[1].quantity = dec!(1.000000000000001);
        let e = quote_to_843(&q).unwrap_err().to_string();
        assert!(e.contains("quote Q-000001: line 2 PO102 quantity"), "{e}");
        assert!(e.contains("16 digits; the element holds at most 15"), "{e}");
        let e = quote_to_quotes(&q, Version::D96A).unwrap_err().to_string();
        assert!(e.contains("line 2 QTY 6060 quantity"), "{e}");
        assert!(quote_to_quotes(&q, Version::D01B).is_ok());
        let mut q = sample();
        q.lines[0].unit_price = dec!(123456789012345.678);
        let e = quote_to_843(&q).unwrap_err().to_string();
        assert!(e.contains("line 1 PO104 unit price"), "{e}");
        let e = quote_to_quotes(&q, Version::D01B).unwrap_err().to_string();
        assert!(e.contains("line 1 PRI 5118 unit price"), "{e}");
        let mut q = sample();
        q.lines[0].uom = "PCE".into();
        let e = quote_to_843(&q).unwrap_err().to_string();
        assert!(e.contains("line 1 PO103 unit"), "{e}");
        q.lines.clear();
        assert!(quote_to_843(&q).is_err() && quote_to_quotes(&q, Version::D96A).is_err());
    }
}
