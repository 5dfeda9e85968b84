//! What ordo's acknowledgments may say: never an ack of an ack (997/999/CONTRL/TA1), only
//! codes the acknowledged group's version defines, and sets outside the accepted list
//! rejected with code 1. On the repo's fixtures (`own-*` written for these cases).

use chrono::{NaiveDate, NaiveDateTime};
use ordo_edi::ack::{
    self, AckKind, AckOptions, ContrlOptions, DEFAULT_ACCEPT, holds_only_acks, x12_ack,
};
use ordo_edi::{EdiError, read, validate};

fn fixture(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn at() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 2)
        .and_then(|d| d.and_hms_opt(10, 30, 0))
        .expect("date")
}

/// The 997 (or 999) ordo writes for the first interchange of `name`, accepting `accept`.
fn x12(name: &str, kind: AckKind, accept: &[&str]) -> Result<String, EdiError> {
    let input = fixture(name);
    let ich = read(&input).next().expect("an interchange")?;
    let mut issues = validate(&ich);
    issues.extend(ack::refused(&ich, accept));
    x12_ack(&ich, &issues, &AckOptions::new(kind, 5, at()))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn segs(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn acknowledgments_are_never_acknowledged() {
    for name in [
        "x12-4010-997-accepted-four-st.edi",
        "x12-4010-997-rejected-ak3-ak4.edi",
        "x12-5010-999-accepted.edi",
        "x12-4010-ta1-only.edi",
        "x12-4010-ta1-and-997.edi",
    ] {
        let input = fixture(name);
        let ich = read(&input).next().expect("interchange").expect("readable");
        assert!(holds_only_acks(&ich), "{name}");
        for kind in [AckKind::X997, AckKind::X999] {
            let e = x12(name, kind, DEFAULT_ACCEPT).expect_err(name);
            assert!(
                e.to_string().contains("only acknowledgments"),
                "{name}: {e}"
            );
        }
    }
    let input = fixture("own-edifact-contrl-only.edi");
    let ich = read(&input).next().expect("interchange").expect("readable");
    assert!(holds_only_acks(&ich));
    let e = ack::contrl(&ich, &validate(&ich), &ContrlOptions::new(5, at())).expect_err("CONTRL");
    assert!(e.to_string().contains("only acknowledgments"), "{e}");

    // an interchange with orders and a group of 997s: the 997 answers the orders only
    let name = "own-x12-4010-850-and-997-groups.edi";
    let input = fixture(name);
    let ich = read(&input).next().expect("interchange").expect("readable");
    assert!(!holds_only_acks(&ich));
    let text = x12(name, AckKind::X997, DEFAULT_ACCEPT).expect("997");
    let s = segs(&text);
    assert!(s.contains(&"AK1*PO*601~"), "{text}");
    assert!(s.contains(&"AK2*850*0001~"), "{text}");
    assert!(!text.contains("AK1*FA"), "{text}");
    assert!(!text.contains("AK2*997"), "{text}");
    assert_eq!(
        s.iter().filter(|l| l.starts_with("ST*")).count(),
        1,
        "{text}"
    );
    assert!(s.contains(&"GE*1*5~"), "{text}");
}

#[test]
fn ack_codes_are_those_of_the_groups_version() {
    // GS06 used twice: a warning, AK9 E with the group's code. 5010 has 19 for it; 4010 does
    // not (pyx12 rejects 19 there), so the nearest code of its list, 6
    let t = x12(
        "own-x12-4010-duplicate-gs06.edi",
        AckKind::X997,
        DEFAULT_ACCEPT,
    )
    .expect("997");
    assert!(segs(&t).contains(&"AK9*E*1*1*1*6~"), "{t}");
    assert!(!t.contains("*19~"), "{t}");
    let t = x12(
        "own-x12-5010-duplicate-gs06.edi",
        AckKind::X997,
        DEFAULT_ACCEPT,
    )
    .expect("997");
    assert!(segs(&t).contains(&"AK9*E*1*1*1*19~"), "{t}");
    let t = x12(
        "own-x12-5010-duplicate-gs06.edi",
        AckKind::X999,
        DEFAULT_ACCEPT,
    )
    .expect("999");
    assert!(segs(&t).contains(&"AK9*E*1*1*1*19~"), "{t}");
    // a 999 answering a 4010 group uses the 4010 codes too
    let t = x12(
        "own-x12-4010-duplicate-gs06.edi",
        AckKind::X999,
        DEFAULT_ACCEPT,
    )
    .expect("999");
    assert!(segs(&t).contains(&"AK9*E*1*1*1*6~"), "{t}");
}

#[test]
fn sets_outside_the_accept_list_are_rejected_with_code_1() {
    let name = "own-x12-4010-846-and-214-not-mapped.edi";
    let input = fixture(name);
    let ich = read(&input).next().expect("interchange").expect("readable");
    // well-formed: read at envelope and segment level, no issue of its own
    assert!(validate(&ich).is_empty(), "{:?}", validate(&ich));
    assert_eq!(ordo_edi::validate::not_mapped(&ich).count(), 2);

    let t = x12(name, AckKind::X997, DEFAULT_ACCEPT).expect("997");
    let s = segs(&t);
    assert!(s.contains(&"AK2*846*0001~"), "{t}");
    assert!(s.contains(&"AK5*R*1~"), "{t}");
    assert!(s.contains(&"AK9*R*1*1*0~"), "{t}");
    let t = x12(name, AckKind::X999, DEFAULT_ACCEPT).expect("999");
    assert!(segs(&t).contains(&"IK5*R*1~"), "{t}");

    // in the list: accepted
    let t = x12(name, AckKind::X997, &["850", "846"]).expect("997");
    let s = segs(&t);
    assert!(s.contains(&"AK1*IB*501~"), "{t}");
    assert_eq!(
        s.iter().filter(|l| **l == "AK5*A~").count(),
        1,
        "846 accepted: {t}"
    );
    assert!(s.contains(&"AK5*R*1~"), "214 still refused: {t}");

    // EDIFACT: UCM 4 with 0085 14 at UNH
    let input = fixture("edifact-d96a-aperak.edi");
    let ich = read(&input).next().expect("interchange").expect("readable");
    assert!(validate(&ich).is_empty());
    let mut issues = validate(&ich);
    issues.extend(ack::refused(&ich, DEFAULT_ACCEPT));
    let c = ack::contrl(&ich, &issues, &ContrlOptions::new(5, at())).expect("CONTRL");
    let c = String::from_utf8_lossy(&c);
    assert!(c.contains("UCM+14+APERAK:D:96A:UN+4+14+UNH'"), "{c}");
    let issues: Vec<_> = validate(&ich)
        .into_iter()
        .chain(ack::refused(&ich, &["ORDERS", "APERAK"]))
        .collect();
    let c = ack::contrl(&ich, &issues, &ContrlOptions::new(5, at())).expect("CONTRL");
    let c = String::from_utf8_lossy(&c);
    assert!(c.contains("UCM+14+APERAK:D:96A:UN+7'"), "{c}");
}
