//! Everything the writer produces reads back through the parser with zero issues, for every
//! version and for unusual separators; mapped values survive the round trip (totals to the cent).

use ordo_edi::ack::{AckKind, AckOptions, ContrlOptions, contrl, x12_ack};
use ordo_edi::map::{self, MapOptions};
use ordo_edi::write::{Document, OutSegment, write};
use ordo_edi::{Separators, Version, demo, read, validate};
use rust_decimal::Decimal;

fn docs(version: Version) -> Vec<Document> {
    let (o, s, i) = (demo::order(), demo::shipment(), demo::invoice());
    let d = demo::timestamp().date();
    match version {
        Version::X12_4010 | Version::X12_5010 => vec![
            map::order_to_855(&o, d),
            map::shipment_to_856(&s, &o).expect("856"),
            map::invoice_to_810(&i, &o).expect("810"),
            map::credit_memo_to_810(&demo::credit_note(), &i.number, &o).expect("810 CR"),
        ],
        _ => vec![
            map::order_to_ordrsp(&o, d),
            map::shipment_to_desadv(&s, &o).expect("desadv"),
            map::invoice_to_invoic(&i, &o).expect("invoic"),
            map::credit_note_to_invoic(&demo::credit_note(), &i.number, &o).expect("381"),
        ],
    }
}

fn clean(bytes: &[u8]) {
    let mut n = 0;
    for ich in read(bytes) {
        let ich = ich.expect("interchange");
        let issues = validate(&ich);
        assert!(
            issues.is_empty(),
            "{}\n{:?}",
            String::from_utf8_lossy(bytes),
            issues.iter().map(|i| i.to_string()).collect::<Vec<_>>()
        );
        n += 1;
    }
    assert_eq!(n, 1);
}

#[test]
fn every_outbound_document_round_trips_without_issues() {
    let odd_x12 = Separators {
        element: b'|',
        component: b'\\',
        repetition: Some(b'{'),
        segment: b'\n',
        release: None,
        decimal: b'.',
    };
    let odd_edi = Separators {
        element: b'*',
        component: b'#',
        repetition: None,
        segment: b'"',
        release: Some(b'!'),
        decimal: b',',
    };
    for version in [
        Version::X12_4010,
        Version::X12_5010,
        Version::D96A,
        Version::D01B,
    ] {
        for (k, doc) in docs(version).into_iter().enumerate() {
            let mut env = demo::envelope(version, 1000 + k as u64);
            clean(&write(&env, std::slice::from_ref(&doc)).expect("write"));
            env.newline = false;
            env.separators = if version.standard() == ordo_edi::Standard::X12 {
                odd_x12
            } else {
                odd_edi
            };
            if version == Version::X12_4010 {
                env.separators.repetition = None;
            }
            clean(&write(&env, &[doc]).expect("write odd"));
        }
    }
}

#[test]
fn edifact_escapes_and_x12_refuses_separators_in_values() {
    let doc = Document {
        set_id: "ORDRSP".into(),
        version: None,
        segments: vec![
            OutSegment::new("BGM").el("231").el("A?B+C:D'E").el("29"),
            OutSegment::new("DTM").comp(["137", "20260301", "102"]),
            OutSegment::new("UNS").el("S"),
        ],
    };
    let bytes = write(&demo::envelope(Version::D96A, 5), &[doc]).expect("write");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("BGM+231+A??B?+C?:D?'E+29'"), "{text}");
    let ich = read(&bytes).next().expect("one").expect("ok");
    let bgm = ich.segment(2).expect("BGM");
    assert_eq!(bgm.tag(), "BGM");
    assert_eq!(bgm.text(2), "A?B+C:D'E");
    let mut o = demo::order();
    o.po_number = "PO*1".into();
    let err = write(
        &demo::envelope(Version::X12_4010, 6),
        &[map::order_to_855(&o, demo::timestamp().date())],
    );
    assert!(matches!(err, Err(ordo_edi::EdiError::Write { .. })));
}

#[test]
fn invoice_totals_match_to_the_cent() {
    let (inv, o) = (demo::invoice(), demo::order());
    let x = write(
        &demo::envelope(Version::X12_4010, 7),
        &[map::invoice_to_810(&inv, &o).expect("810")],
    )
    .expect("write");
    let ich = read(&x).next().expect("one").expect("ok");
    let tds = (0..ich.segments.len())
        .filter_map(|i| ich.segment(i))
        .find(|s| s.tag() == "TDS")
        .expect("TDS");
    assert_eq!(tds.text(1), "11415");
    assert_eq!(
        Decimal::new(tds.text(1).parse().expect("int"), 2),
        inv.total
    );
    let e = write(
        &demo::envelope(Version::D96A, 8),
        &[map::invoice_to_invoic(&inv, &o).expect("invoic")],
    )
    .expect("write");
    let ich = read(&e).next().expect("one").expect("ok");
    let moa: Vec<(String, String)> = (0..ich.segments.len())
        .filter_map(|i| ich.segment(i))
        .filter(|s| s.tag() == "MOA")
        .map(|s| {
            (
                s.comp(1, 1).unwrap_or_default(),
                s.comp(1, 2).unwrap_or_default(),
            )
        })
        .collect();
    assert!(moa.contains(&("77".into(), "114.15".into())), "{moa:?}");
    assert!(moa.contains(&("176".into(), "12.18".into())));
    let mut bad = inv.clone();
    bad.total = Decimal::new(11416, 2);
    assert!(map::invoice_to_810(&bad, &o).is_err());
}

/// A credit note goes out through the invoice's mapping: 810 with BIG07 `CR` and `REF*OI`
/// naming the corrected invoice, INVOIC with BGM 381 and `RFF+IV`; totals to the cent, and a
/// credit note whose lines do not add up is refused like an invoice.
#[test]
fn credit_notes_are_810_credit_memos_and_invoic_381() {
    let (cn, o) = (demo::credit_note(), demo::order());
    let find = |bytes: &[u8], tag: &str| -> Vec<Vec<String>> {
        let ich = read(bytes).next().expect("one").expect("ok");
        (0..ich.segments.len())
            .filter_map(|i| ich.segment(i))
            .filter(|s| s.tag() == tag)
            .map(|s| (1..=8).map(|e| s.text(e).to_string()).collect())
            .collect()
    };
    for version in [Version::X12_4010, Version::X12_5010] {
        let x = write(
            &demo::envelope(version, 9),
            &[map::credit_memo_to_810(&cn, "INV-2026-0042", &o).expect("810")],
        )
        .expect("write");
        let big = &find(&x, "BIG")[0];
        assert_eq!(big[1], "CN-000001");
        assert_eq!(big[6], "CR", "BIG07 of {version:?}: {big:?}");
        assert_eq!(find(&x, "REF")[0][..2], ["OI", "INV-2026-0042"]);
        assert_eq!(find(&x, "TDS")[0][0], "1666");
    }
    // The invoice itself carries no transaction type code.
    let inv = write(
        &demo::envelope(Version::X12_4010, 10),
        &[map::invoice_to_810(&demo::invoice(), &o).expect("810")],
    )
    .expect("write");
    assert_eq!(find(&inv, "BIG")[0][6], "");
    for version in [Version::D96A, Version::D01B] {
        let e = write(
            &demo::envelope(version, 11),
            &[map::credit_note_to_invoic(&cn, "INV-2026-0042", &o).expect("381")],
        )
        .expect("write");
        let text = String::from_utf8_lossy(&e);
        assert!(text.contains("BGM+381+CN-000001+9'"), "{text}");
        assert!(text.contains("RFF+IV:INV-2026-0042'"), "{text}");
        assert!(text.contains("MOA+77:16.66'"), "{text}");
    }
    let mut bad = cn.clone();
    bad.total = Decimal::new(1667, 2);
    let err = map::credit_memo_to_810(&bad, "INV-2026-0042", &o).expect_err("refused");
    assert!(
        err.to_string()
            .contains("credit memo for credit note CN-000001"),
        "{err}"
    );
    assert!(map::credit_note_to_invoic(&bad, "INV-2026-0042", &o).is_err());
}

#[test]
fn ordrsp_and_855_carry_the_order() {
    let o = demo::order();
    let opts = MapOptions {
        customer_id: "C042".into(),
        partner: None,
        default_currency: "EUR".into(),
    };
    // An 850 built from the order's 855 lines would need an Order->850 map; check the 855 fields.
    let bytes = write(
        &demo::envelope(Version::X12_5010, 9),
        &[map::order_to_855(&o, demo::timestamp().date())],
    )
    .expect("write");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("BAK*00*AD*PO-7781*20260301"), "{text}");
    assert!(text.contains("PO1*1*12*EA*3.5**VP*WID-100*BP*A-55"));
    assert!(text.contains("ACK*IA*12*EA"));
    let _ = opts;
}

#[test]
fn acks_of_acks_round_trip() {
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/own-x12-multi-gs-st-crlf-bad-counts.edi"
    ))
    .expect("fixture");
    let ich = read(&input).next().expect("one").expect("ok");
    let issues = validate(&ich);
    for kind in [AckKind::X997, AckKind::X999] {
        let ack =
            x12_ack(&ich, &issues, &AckOptions::new(kind, 77, demo::timestamp())).expect("ack");
        clean(&ack);
        let text = String::from_utf8_lossy(&ack);
        assert_eq!(text.matches("AK1*PO*").count(), 2, "{text}");
        // the group's wrong GE01 rejects the whole interchange: no set of it is accepted
        assert!(text.contains("AK9*R*3*2*0*5"), "{text}");
        assert!(text.contains("*R*4"), "{text}");
    }
    let e = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/own-edifact-bad-dates-wrong-counts.edi"
    ))
    .expect("fixture");
    let ich = read(&e).next().expect("one").expect("ok");
    clean(
        &contrl(
            &ich,
            &validate(&ich),
            &ContrlOptions::new(78, demo::timestamp()),
        )
        .expect("contrl"),
    );
}

#[test]
fn the_order_response_carries_each_lines_promise() {
    let mut o = demo::order();
    let mut second = o.lines[0].clone();
    second.line_no = 2;
    second.sku = "GAD-200".into();
    o.lines.push(second);
    let today = demo::timestamp().date();
    let promised: map::Promises = [
        (
            1,
            Some(chrono::NaiveDate::from_ymd_opt(2026, 3, 20).unwrap()),
        ),
        (2, None),
    ]
    .into_iter()
    .collect();
    let x12 = write(
        &demo::envelope(Version::X12_4010, 11),
        &[map::order_to_855_promised(&o, today, &promised)],
    )
    .expect("write");
    clean(&x12);
    let text = String::from_utf8_lossy(&x12);
    assert!(text.contains("ACK*IA*12*EA*068*20260320"), "{text}");
    assert!(
        text.contains("ACK*IB*12*EA~") || text.contains("ACK*IB*12*EA\n"),
        "{text}"
    );
    let edifact = write(
        &demo::envelope(Version::D96A, 12),
        &[map::order_to_ordrsp_promised(&o, today, &promised)],
    )
    .expect("write");
    clean(&edifact);
    let text = String::from_utf8_lossy(&edifact);
    assert_eq!(text.matches("DTM+69:20260320:102'").count(), 1, "{text}");
}
