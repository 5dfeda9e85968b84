//! Writes one of each outbound document kind into a directory, for the external cross-check
//! (`tools/edi-crosscheck/run.sh`): `cargo run -p ordo-edi --example write_samples -- OUTDIR`.
//!
//! 843 (4010, 5010) and QUOTES (D96A, D01B) for a sent quote, 855/856/810 (4010), 810 credit memos (4010, 5010) and INVOIC 381 (D96A, D01B), 865 (4010,
//! 5010) and ORDRSP BGM 231 (D96A, D01B) answering a change request accepted, accepted with
//! changes and rejected, TA1 accepted and rejected, ORDRSP, DESADV, INVOIC (D96A), CONTRL
//! accepted and rejected, and functional acks in every version ordo writes (997 4010, 997
//! 5010, 999 5010; a 999 answering a 4010 group too): accepted; rejecting with AK3/AK4 errors;
//! a mixed interchange whose acks carry AK5 R with segment errors, AK5 R 1 for a set outside
//! the accepted list, AK9 P, AK9 R and AK9 E with a group code (GS06 twice: 6 in 4010, 19 in
//! 5010); and an envelope error (AK9 R 5). Exits 1 if anything cannot be written or does not
//! read back without issues.

use std::path::PathBuf;

use ordo_edi::ack::{
    AckKind, AckOptions, ContrlOptions, DEFAULT_ACCEPT, Ta1Options, contrl, refused, ta1, x12_ack,
};
use ordo_edi::{Version, demo, map, validate, write};

const X12_850: &[u8] = include_bytes!("../tests/fixtures/x12-4010-850-no-newlines.edi");
const X12_850_BAD_ENVELOPE: &[u8] =
    include_bytes!("../tests/fixtures/own-x12-850-iea-count-wrong.edi");
const X12_850_BAD: &[u8] = include_bytes!("../tests/fixtures/bad-dates-and-codes-850.edi");
const EDIFACT_ORDERS: &[u8] =
    include_bytes!("../tests/fixtures/edifact-d96a-orders-two-msgs-no-una.edi");
const EDIFACT_ORDERS_BAD: &[u8] =
    include_bytes!("../tests/fixtures/edifact-d96a-orders-missing-bgm.edi");

const X12_860: &[u8] = include_bytes!("../tests/fixtures/x12-4010-860-change.edi");
const EDIFACT_ORDCHG: &[u8] = include_bytes!("../tests/fixtures/edifact-d96a-ordchg.edi");

/// The answers written per verdict (accepted, accepted with changes, rejected).
const CHANGE_ANSWER_FILES: [[&str; 4]; 3] = [
    [
        "x12-4010-865-accepted.edi",
        "x12-5010-865-accepted.edi",
        "edifact-d96a-ordrsp-change-accepted.edi",
        "edifact-d01b-ordrsp-change-accepted.edi",
    ],
    [
        "x12-4010-865-with-changes.edi",
        "x12-5010-865-with-changes.edi",
        "edifact-d96a-ordrsp-change-with-changes.edi",
        "edifact-d01b-ordrsp-change-with-changes.edi",
    ],
    [
        "x12-4010-865-rejected.edi",
        "x12-5010-865-rejected.edi",
        "edifact-d96a-ordrsp-change-rejected.edi",
        "edifact-d01b-ordrsp-change-rejected.edi",
    ],
];

/// The change request of the first set of `input` (a fixture).
fn change_request(input: &[u8]) -> Result<map::ChangeRequest, Box<dyn std::error::Error>> {
    let ich = ordo_edi::read(input).next().ok_or("no interchange")??;
    let (_, _, t) = ich.transactions().next().ok_or("no set")?;
    let opts = map::MapOptions {
        customer_id: "C1".into(),
        partner: Some("P1".into()),
        default_currency: "EUR".into(),
    };
    map::to_change_request(&ich, t, &opts).map_err(|u| u.reason.clone().into())
}

/// An interchange from `08:1111111111` with `groups` (GS06, sets as `ST..SE` text), in 4010
/// or 5010; `ge_off` adds to every GE01 (an envelope error when not 0).
fn interchange(v5010: bool, ctl: u32, groups: &[(u32, Vec<String>)], ge_off: u32) -> String {
    let (isa12, gs08, rep) = if v5010 {
        ("00501", "005010", "^")
    } else {
        ("00401", "004010", "U")
    };
    let mut out = format!(
        "ISA*00*{e}*00*{e}*08*{:<15}*08*{:<15}*260301*1200*{rep}*{isa12}*{ctl:09}*0*P*>~\n",
        "1111111111",
        "222222222222",
        e = " ".repeat(10)
    );
    for (gctl, sets) in groups {
        let fid = if sets.iter().all(|s| s.starts_with("ST*846")) {
            "IB"
        } else {
            "PO"
        };
        out.push_str(&format!(
            "GS*{fid}*1111111111*222222222222*20260301*1200*{gctl}*X*{gs08}~\n"
        ));
        for s in sets {
            out.push_str(s);
        }
        out.push_str(&format!("GE*{}*{gctl}~\n", sets.len() as u32 + ge_off));
    }
    out.push_str(&format!("IEA*{}*{ctl:09}~\n", groups.len()));
    out
}

/// One set, `ST*id*ctl` .. `SE` with the right count.
fn set(id: &str, ctl: &str, body: &[&str]) -> String {
    let mut segs = vec![format!("ST*{id}*{ctl}")];
    segs.extend(body.iter().map(|s| s.to_string()));
    segs.push(format!("SE*{}*{ctl}", segs.len() + 1));
    segs.iter().map(|s| format!("{s}~\n")).collect()
}

/// The sets of the mixed sample: a clean 850, an 850 with segment and element errors, an 846.
fn mixed(v5010: bool, ge_off: u32) -> String {
    let good = |ctl: &str, po: &str| {
        set(
            "850",
            ctl,
            &[
                &format!("BEG*00*SA*{po}**20260301"),
                "CUR*BY*EUR",
                "N1*ST*ACME RETAIL DC*92*DC01",
                "PO1*1*10*EA*12.50**VP*WID-100",
                "CTT*1",
            ],
        )
    };
    // BEG01 code, BEG05 date, PO102 not numeric, CTT01 count: AK3 + AK4; a segment X12 does
    // not know: AK3 alone (AK304 1)
    let bad = set(
        "850",
        "0002",
        &[
            "BEG*QQ*SA*PO-2**20260231",
            "CUR*BY*EUR",
            "PO1*1*1O*EA*12.50**VP*WID-100",
            "ZZZ*1",
            "CTT*3",
        ],
    );
    let inventory = set(
        "846",
        "0004",
        &[
            "BIA*00*MM*INV-1*20260301",
            "LIN**VP*WID-100",
            "QTY*33*120*EA",
        ],
    );
    interchange(
        v5010,
        if v5010 { 520 } else { 420 },
        &[
            (1, vec![good("0001", "PO-1"), bad]),
            (2, vec![inventory]),
            (1, vec![good("0003", "PO-3")]),
        ],
        ge_off,
    )
}

fn main() {
    let Some(dir) = std::env::args().nth(1).map(PathBuf::from) else {
        eprintln!("usage: write_samples OUTDIR");
        std::process::exit(2);
    };
    if let Err(e) = run(&dir) {
        eprintln!("write_samples: {e}");
        std::process::exit(1);
    }
}

/// Delivery promises as `order.promise` makes them: the first line a date two weeks on, every
/// other line none (backordered).
fn promises(order: &ordo_contract::Order, today: chrono::NaiveDate) -> map::Promises {
    order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.line_no, (i == 0).then(|| today + chrono::Days::new(14))))
        .collect()
}

/// A purchase order to a supplier as purchasing stores it: two lines, one in a unit of its own.
fn purchase_order() -> ordo_contract::PurchaseOrder {
    let today = demo::timestamp().date();
    let line = |sku: &str, q: i64| ordo_contract::PurchaseLine {
        sku: sku.into(),
        quantity: rust_decimal::Decimal::from(q),
        received: rust_decimal::Decimal::ZERO,
        orders: vec!["C-ACME-PO-7".into()],
    };
    ordo_contract::PurchaseOrder {
        number: "PO-000001".into(),
        supplier: "S1".into(),
        status: "open".into(),
        created_on: today,
        expected_on: today + chrono::Days::new(7),
        lines: vec![line("GADGET", 50), line("WIDGET", 120)],
        waiting: vec![],
        receipts: vec![],
        location: None,
    }
}

/// The 850 / ORDERS of [`purchase_order`]: we buy (our GLN), Steelworks sells.
fn purchase_doc(x12: bool) -> Result<write::Document, ordo_edi::EdiError> {
    let party = |role: &str, name: &str, gln: &str| ordo_contract::Party {
        role: role.into(),
        name: Some(name.into()),
        ids: vec![ordo_contract::PartyId {
            qualifier: "GLN".into(),
            value: gln.into(),
        }],
        address: None,
    };
    let (buyer, seller) = (
        party("buyer", "Ordo Demo GmbH", "4012345000009"),
        party("seller", "Steelworks", "4098765000002"),
    );
    let units = [("WIDGET".to_string(), "KGM".to_string())].into();
    let p = map::PurchaseParties {
        buyer: &buyer,
        supplier: &seller,
        currency: Some("EUR"),
        units: &units,
    };
    if x12 {
        map::purchase_to_850(&purchase_order(), &p)
    } else {
        map::purchase_to_orders(&purchase_order(), &p)
    }
}

/// A sent quote as `quote.send` hands it to the mapping: two lines (one with a description,
/// one in a one-letter unit), the customer and us by GLN.
fn quotation() -> map::Quotation {
    let today = demo::timestamp().date();
    let party = |role: &str, name: &str, gln: &str| ordo_contract::Party {
        role: role.into(),
        name: Some(name.into()),
        ids: vec![ordo_contract::PartyId {
            qualifier: "GLN".into(),
            value: gln.into(),
        }],
        address: None,
    };
    use rust_decimal::{Decimal, dec};
    let line =
        |no: u32, sku: &str, d: Option<&str>, q: Decimal, u: &str, p: Decimal, a: Decimal| {
            map::QuotedLine {
                line_no: no,
                sku: sku.into(),
                description: d.map(String::from),
                quantity: q,
                uom: u.into(),
                unit_price: p,
                amount: a,
            }
        };
    map::Quotation {
        number: "Q-000001".into(),
        date: today,
        valid_until: today + chrono::Days::new(30),
        currency: "EUR".into(),
        parties: vec![
            party("buyer", "Acme Retail", "4012345000016"),
            party("seller", "Ordo Demo GmbH", "4012345000009"),
        ],
        lines: vec![
            line(
                1,
                "WID-100",
                Some("Widget, blue"),
                dec!(200),
                "EA",
                dec!(12.25),
                dec!(2450.00),
            ),
            line(2, "CABLE", None, dec!(2.5), "M", dec!(4), dec!(10.00)),
        ],
        total: dec!(2460.00),
    }
}

fn run(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let (order, shipment, invoice) = (demo::order(), demo::shipment(), demo::invoice());
    let credit_note = demo::credit_note();
    let today = demo::timestamp().date();
    let x = |n| demo::envelope(Version::X12_4010, n);
    let e = |n| demo::envelope(Version::D96A, n);
    let mut files: Vec<(&str, Vec<u8>)> = vec![
        (
            "x12-4010-850-purchase-order.edi",
            write::write(&x(110), &[purchase_doc(true)?])?,
        ),
        (
            "x12-5010-850-purchase-order.edi",
            write::write(
                &demo::envelope(Version::X12_5010, 111),
                &[purchase_doc(true)?],
            )?,
        ),
        (
            "edifact-d96a-orders-purchase-order.edi",
            write::write(&e(210), &[purchase_doc(false)?])?,
        ),
        (
            "edifact-d01b-orders-purchase-order.edi",
            write::write(&demo::envelope(Version::D01B, 211), &[purchase_doc(false)?])?,
        ),
        (
            "x12-4010-843-quote.edi",
            write::write(&x(112), &[map::quote_to_843(&quotation())?])?,
        ),
        (
            "x12-5010-843-quote.edi",
            write::write(
                &demo::envelope(Version::X12_5010, 113),
                &[map::quote_to_843(&quotation())?],
            )?,
        ),
        (
            "edifact-d96a-quotes-quote.edi",
            write::write(
                &e(212),
                &[map::quote_to_quotes(&quotation(), Version::D96A)?],
            )?,
        ),
        (
            "edifact-d01b-quotes-quote.edi",
            write::write(
                &demo::envelope(Version::D01B, 213),
                &[map::quote_to_quotes(&quotation(), Version::D01B)?],
            )?,
        ),
        (
            "x12-4010-855.edi",
            write::write(&x(101), &[map::order_to_855(&order, today)])?,
        ),
        (
            "x12-4010-856.edi",
            write::write(&x(102), &[map::shipment_to_856(&shipment, &order)?])?,
        ),
        (
            "x12-4010-810.edi",
            write::write(&x(103), &[map::invoice_to_810(&invoice, &order)?])?,
        ),
        (
            "x12-5010-855.edi",
            write::write(
                &demo::envelope(Version::X12_5010, 104),
                &[map::order_to_855(&order, today)],
            )?,
        ),
        (
            "edifact-d96a-ordrsp.edi",
            write::write(&e(201), &[map::order_to_ordrsp(&order, today)])?,
        ),
        (
            "x12-4010-855-promised.edi",
            write::write(
                &x(105),
                &[map::order_to_855_promised(
                    &order,
                    today,
                    &promises(&order, today),
                )],
            )?,
        ),
        (
            "edifact-d96a-ordrsp-promised.edi",
            write::write(
                &e(206),
                &[map::order_to_ordrsp_promised(
                    &order,
                    today,
                    &promises(&order, today),
                )],
            )?,
        ),
        (
            "edifact-d96a-desadv.edi",
            write::write(&e(202), &[map::shipment_to_desadv(&shipment, &order)?])?,
        ),
        (
            "x12-4010-810-credit-memo.edi",
            write::write(
                &x(105),
                &[map::credit_memo_to_810(
                    &credit_note,
                    &invoice.number,
                    &order,
                )?],
            )?,
        ),
        (
            "x12-5010-810-credit-memo.edi",
            write::write(
                &demo::envelope(Version::X12_5010, 106),
                &[map::credit_memo_to_810(
                    &credit_note,
                    &invoice.number,
                    &order,
                )?],
            )?,
        ),
        (
            "edifact-d96a-invoic-381.edi",
            write::write(
                &e(205),
                &[map::credit_note_to_invoic(
                    &credit_note,
                    &invoice.number,
                    &order,
                )?],
            )?,
        ),
        (
            "edifact-d01b-invoic-381.edi",
            write::write(
                &demo::envelope(Version::D01B, 206),
                &[map::credit_note_to_invoic(
                    &credit_note,
                    &invoice.number,
                    &order,
                )?],
            )?,
        ),
        (
            "edifact-d96a-invoic.edi",
            write::write(&e(203), &[map::invoice_to_invoic(&invoice, &order)?])?,
        ),
        (
            "edifact-d01b-invoic.edi",
            write::write(
                &demo::envelope(Version::D01B, 204),
                &[map::invoice_to_invoic(&invoice, &order)?],
            )?,
        ),
    ];
    // Answers to change requests (865, ORDRSP BGM 231): accepted, accepted with changes (a
    // refused line), rejected with reasons, from the 860 / ORDCHG fixtures.
    let (x860, ordchg) = (change_request(X12_860)?, change_request(EDIFACT_ORDCHG)?);
    let answers = [
        (map::ChangeVerdict::Accepted, vec![], vec![]),
        (
            map::ChangeVerdict::AcceptedWithChanges,
            vec![2],
            vec!["line 2: 1 already shipped; a shipped line cannot change".to_string()],
        ),
        (
            map::ChangeVerdict::Rejected,
            vec![],
            vec![
                "order C1-PO-7 is cancelled".to_string(),
                "a reason with separators * ~ > ^ : ' + ? and accents: Grüße".to_string(),
            ],
        ),
    ];
    for (i, (verdict, refused_lines, reasons)) in answers.into_iter().enumerate() {
        let names = CHANGE_ANSWER_FILES[i];
        let n = 120 + i as u64 * 4;
        let mut a = map::ChangeAnswer::to(&x860, verdict, reasons.clone());
        if !refused_lines.is_empty() {
            a.refused_lines = refused_lines.clone();
        }
        let mut b = map::ChangeAnswer::to(&ordchg, verdict, reasons);
        if !refused_lines.is_empty() {
            b.refused_lines = refused_lines;
        }
        files.push((
            names[0],
            write::write(&x(n), &[map::change_to_865(&a, today, Version::X12_4010)])?,
        ));
        files.push((
            names[1],
            write::write(
                &demo::envelope(Version::X12_5010, n + 1),
                &[map::change_to_865(&a, today, Version::X12_5010)],
            )?,
        ));
        files.push((
            names[2],
            write::write(&e(n + 2), &[map::change_to_ordrsp(&b, today)])?,
        ));
        files.push((
            names[3],
            write::write(
                &demo::envelope(Version::D01B, n + 3),
                &[map::change_to_ordrsp(&b, today)],
            )?,
        ));
    }
    let ts = demo::timestamp();
    let (mixed4010, mixed5010) = (mixed(false, 0), mixed(true, 0));
    let (broken4010, broken5010) = (mixed(false, 1), mixed(true, 1));
    for (name, input, kind, ctl) in [
        ("x12-4010-997-accepted.edi", X12_850, AckKind::X997, 301),
        ("x12-4010-997-rejected.edi", X12_850_BAD, AckKind::X997, 302),
        ("x12-5010-999-accepted.edi", X12_850, AckKind::X999, 303),
        ("x12-5010-999-rejected.edi", X12_850_BAD, AckKind::X999, 304),
        (
            "x12-4010-997-rejected-mixed.edi",
            mixed4010.as_bytes(),
            AckKind::X997,
            311,
        ),
        (
            "x12-5010-997-rejected-mixed.edi",
            mixed5010.as_bytes(),
            AckKind::X997,
            312,
        ),
        (
            "x12-5010-999-rejected-mixed.edi",
            mixed5010.as_bytes(),
            AckKind::X999,
            313,
        ),
        (
            "x12-5010-999-rejected-mixed-4010-group.edi",
            mixed4010.as_bytes(),
            AckKind::X999,
            314,
        ),
        (
            "x12-4010-997-rejected-envelope.edi",
            broken4010.as_bytes(),
            AckKind::X997,
            315,
        ),
        (
            "x12-5010-997-rejected-envelope.edi",
            broken5010.as_bytes(),
            AckKind::X997,
            316,
        ),
        (
            "x12-5010-999-rejected-envelope.edi",
            broken5010.as_bytes(),
            AckKind::X999,
            317,
        ),
    ] {
        let ich = ordo_edi::read(input).next().ok_or("no interchange")??;
        let mut issues = validate(&ich);
        issues.extend(refused(&ich, DEFAULT_ACCEPT));
        let mut opts = AckOptions::new(kind, ctl, ts);
        if name.starts_with("x12-5010-997") {
            opts.version = Some(Version::X12_5010);
        }
        files.push((name, x12_ack(&ich, &issues, &opts)?));
    }
    for (name, input, ctl) in [
        ("ta1-x12-4010-accepted.edi", X12_850, 305),
        ("ta1-x12-4010-rejected.edi", X12_850_BAD_ENVELOPE, 306),
    ] {
        let ich = ordo_edi::read(input).next().ok_or("no interchange")??;
        files.push((name, ta1(&ich, &validate(&ich), &Ta1Options::new(ctl, ts))?));
    }
    for (name, input, ctl) in [
        ("edifact-contrl-accepted.edi", EDIFACT_ORDERS, 401),
        ("edifact-contrl-rejected.edi", EDIFACT_ORDERS_BAD, 402),
    ] {
        let ich = ordo_edi::read(input).next().ok_or("no interchange")??;
        files.push((
            name,
            contrl(&ich, &validate(&ich), &ContrlOptions::new(ctl, ts))?,
        ));
    }
    let mut bad = 0;
    for (name, bytes) in &files {
        for ich in ordo_edi::read(bytes) {
            let ich = ich?;
            for i in validate(&ich) {
                eprintln!("{name}: {i}");
                bad += 1;
            }
        }
        std::fs::write(dir.join(name), bytes)?;
        println!("{}", dir.join(name).display());
    }
    if bad > 0 {
        return Err(format!("{bad} issues in written documents").into());
    }
    Ok(())
}
