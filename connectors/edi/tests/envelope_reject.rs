//! An envelope error rejects the whole interchange, consistently in every answer: the set
//! verdicts, the 997, the TA1 and the CONTRL; and control totals that do not add up reject the
//! set in the 997 and the CONTRL.

use ordo_edi::ack::{
    self, AckKind, AckOptions, ContrlOptions, Ta1Options, contrl, summarize, ta1, x12_ack,
};
use ordo_edi::{demo, read, validate};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn segs(bytes: &[u8], term: char) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split(term)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn wrong_iea_count_rejects_every_set_and_the_ta1_says_so() {
    let input = fixture("own-x12-850-iea-count-wrong.edi");
    let ich = read(&input).next().expect("one").expect("ok");
    let issues = validate(&ich);
    assert!(ack::interchange_rejected(&issues));
    // the set itself is fine, yet nothing of the interchange is accepted
    let groups = summarize(&ich, &issues);
    assert_eq!(groups[0].status.x12(), "R");
    assert_eq!(groups[0].sets[0].status.x12(), "R");

    let t = ta1(&ich, &issues, &Ta1Options::new(7, demo::timestamp())).expect("ta1");
    let s = segs(&t, '~');
    assert!(s[0].starts_with("ISA*00*"), "{s:?}");
    assert!(
        s[0].contains("*ZZ*ORDOSELLER     *ZZ*ACMEBUYER      *"),
        "{s:?}"
    );
    assert_eq!(s[1], "TA1*000000043*261123*1200*R*021");
    assert_eq!(s[2], "IEA*0*000000007");
    // it reads back as one valid interchange without groups
    let back = read(&t).next().expect("one").expect("ok");
    assert!(validate(&back).is_empty(), "{:?}", validate(&back));

    let a = x12_ack(
        &ich,
        &issues,
        &AckOptions::new(AckKind::X997, 8, demo::timestamp()),
    )
    .expect("997");
    let s = segs(&a, '~');
    assert!(s.iter().any(|x| x == "AK5*R"), "{s:?}");
    assert!(s.iter().any(|x| x == "AK9*R*1*1*0"), "{s:?}");
}

#[test]
fn a_clean_interchange_gets_an_accepting_ta1() {
    let input = fixture("own-x12-850-ctt-hash-total.edi");
    let ich = read(&input).next().expect("one").expect("ok");
    let issues = validate(&ich);
    assert!(!ack::interchange_rejected(&issues));
    assert_eq!(ack::ta1_note(&issues), ("A", "000"));
}

#[test]
fn wrong_unz_count_is_rejected_at_interchange_level_in_the_contrl() {
    let input = fixture("own-edifact-orders-unz-count-wrong.edi");
    let ich = read(&input).next().expect("one").expect("ok");
    let issues = validate(&ich);
    let out = contrl(&ich, &issues, &ContrlOptions::new(9, demo::timestamp())).expect("contrl");
    let s = segs(&out, '\'');
    assert_eq!(
        s[3], "UCI+77+3014531200003:14+4012345000009:14+4+29+UNZ+1",
        "{s:?}"
    );
    assert!(!s.iter().any(|x| x.starts_with("UCM")), "{s:?}");
}

#[test]
fn line_counts_that_do_not_add_up_reject_the_set() {
    let input = fixture("own-x12-850-ctt-claims-9-lines.edi");
    let ich = read(&input).next().expect("one").expect("ok");
    let issues = validate(&ich);
    let a = x12_ack(
        &ich,
        &issues,
        &AckOptions::new(AckKind::X997, 8, demo::timestamp()),
    )
    .expect("997");
    let s = segs(&a, '~');
    assert!(s.iter().any(|x| x == "AK3*CTT*5**8"), "{s:?}");
    assert!(s.iter().any(|x| x == "AK4*1**7*9"), "{s:?}");
    assert!(s.iter().any(|x| x == "AK5*R*5"), "{s:?}");

    let input = fixture("own-edifact-orders-cnt-claims-9-lines.edi");
    let ich = read(&input).next().expect("one").expect("ok");
    let issues = validate(&ich);
    let out = contrl(&ich, &issues, &ContrlOptions::new(9, demo::timestamp())).expect("contrl");
    let s = segs(&out, '\'');
    assert!(s.iter().any(|x| x == "UCM+1+ORDERS:D:96A:UN+4"), "{s:?}");
    assert!(s.iter().any(|x| x == "UCS+8"), "{s:?}");
    assert!(s.iter().any(|x| x == "UCD+12+1:2"), "{s:?}");
}
