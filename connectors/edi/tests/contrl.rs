//! CONTRL has no outside checker: its layout is checked here against the syntax 3 service
//! message (UNH CONTRL:D:3:UN; UCI 0020 S002 S003 0083 [0085 0013 S011]; UCM 0062 S009 0083
//! [0085 0013]; UCS 0096 [0085]; UCD 0085 S011).

use ordo_edi::ack::{ContrlOptions, contrl};
use ordo_edi::{demo, read, validate};

fn segs(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .split('\'')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn contrl_layout_follows_the_standard() {
    let input = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/own-edifact-bad-dates-wrong-counts.edi"
    ))
    .expect("fixture");
    let ich = read(&input).next().expect("one").expect("ok");
    let issues = validate(&ich);
    // interchange-level errors (bad UNB date, UNZ mismatch): UCI rejects the interchange
    let out = contrl(&ich, &issues, &ContrlOptions::new(9, demo::timestamp())).expect("contrl");
    let s = segs(&out);
    assert!(s[0].starts_with("UNA"));
    assert!(
        s[1].starts_with("UNB+UNOA:3+RECEIVER:14+SENDER:14+260302:1030+9"),
        "{s:?}"
    );
    assert_eq!(s[2], "UNH+1+CONTRL:D:3:UN");
    assert_eq!(s[3], "UCI+REF1+SENDER:14+RECEIVER:14+4+12+UNB+4");
    assert_eq!(s[4], "UNT+3+1");
    assert_eq!(s[5], "UNZ+1+9");

    // without interchange errors: UCI 7, one UCM per message, UCS/UCD for the rejected one
    let envelope_ok: Vec<_> = issues
        .iter()
        .filter(|i| i.group.is_some())
        .cloned()
        .collect();
    let out = contrl(
        &ich,
        &envelope_ok,
        &ContrlOptions::new(10, demo::timestamp()),
    )
    .expect("contrl");
    let s = segs(&out);
    assert_eq!(s[3], "UCI+REF1+SENDER:14+RECEIVER:14+7");
    assert_eq!(s[4], "UCM+1+ORDERS:D:01B:UN+4+29+UNT");
    assert_eq!(s[5], "UCS+3");
    assert_eq!(s[6], "UCD+12+1:2");
    assert_eq!(s[7], "UCS+5");
    assert_eq!(s[8], "UCD+37+1:2");
    assert_eq!(s[9], "UCM+1+DESADV:D:96A:UN+4+26+UNH");
    assert_eq!(s[10], "UCS+2+13");
    let unt: Vec<&str> = s[11].split('+').collect();
    assert_eq!(unt, ["UNT", "10", "1"]);
    // and it is a valid CONTRL by our own schema
    let back = read(&out).next().expect("one").expect("ok");
    assert!(validate(&back).is_empty());

    // receipt only: UCI 0083 = 8 and nothing else
    let mut opts = ContrlOptions::new(11, demo::timestamp());
    opts.receipt_only = true;
    let s = segs(&contrl(&ich, &issues, &opts).expect("contrl"));
    assert_eq!(s[3], "UCI+REF1+SENDER:14+RECEIVER:14+8");
    assert_eq!(s[4], "UNT+3+1");
}
