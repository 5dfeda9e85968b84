//! Data-driven fixture test: every `fixtures/X.edi` is read, validated, acknowledged and (850 /
//! ORDERS, 860 / ORDCHG) mapped; the compact rendering must equal `fixtures/X.expected`. Sets this crate has
//! no schema for are refused (`ack::refused` with [`ACCEPT`]) and noted as not mapped; the body
//! of the 997 (and 999 for 5010) or CONTRL ordo would send is shown, or why none is sent.
//! `UPDATE_EXPECT=1 cargo test -p ordo-edi --test fixtures` rewrites the snapshots.

use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use ordo_edi::ack::{self, AckKind, AckOptions, ContrlOptions, holds_only_acks, summarize};
use ordo_edi::map::{
    MapOptions, is_change, orders, remittance_issues, remittances, to_change_request,
};
use ordo_edi::{Interchange, Issue, Standard, read, validate};

/// Every set this crate has a schema for: the snapshots show verdicts on content, and refuse
/// only the sets ordo cannot read beyond segments (the default list of `ordo edi ack`,
/// `ack::DEFAULT_ACCEPT`, would also refuse the 810s and DESADVs of the public samples).
const ACCEPT: &[&str] = &[
    "850", "855", "856", "810", "820", "860", "865", "997", "999", "ORDERS", "ORDRSP", "ORDCHG",
    "DESADV", "INVOIC", "REMADV", "CONTRL",
];

/// The segments of an ack between its set header and trailer, on one line.
fn ack_body(ich: &Interchange<'_>, issues: &[Issue]) -> Vec<String> {
    let at = NaiveDate::from_ymd_opt(2026, 1, 2)
        .and_then(|d| d.and_hms_opt(3, 4, 0))
        .expect("date");
    if holds_only_acks(ich) {
        return vec!["ack: none, the interchange holds only acknowledgments".into()];
    }
    let mut out = Vec::new();
    let kinds: &[(&str, Option<AckKind>)] = match ich.standard {
        Standard::Edifact => &[("CONTRL", None)],
        Standard::X12 if ich.version.as_str() >= "00500" => {
            &[("997", Some(AckKind::X997)), ("999", Some(AckKind::X999))]
        }
        Standard::X12 => &[("997", Some(AckKind::X997))],
    };
    for (name, kind) in kinds {
        let bytes = match kind {
            Some(k) => ack::x12_ack(ich, issues, &AckOptions::new(*k, 9, at)),
            None => ack::contrl(ich, issues, &ContrlOptions::new(9, at)),
        };
        match bytes {
            Ok(b) => {
                let text = String::from_utf8_lossy(&b).into_owned();
                let envelope = [
                    "ISA", "GS", "ST", "SE", "GE", "IEA", "UNA", "UNB", "UNH", "UNT", "UNZ",
                ];
                let body: Vec<&str> = text
                    .split(['\n', '\r'])
                    .filter(|l| !l.is_empty())
                    .filter(|l| {
                        let tag = l.split(|c: char| !c.is_ascii_alphanumeric()).next();
                        !tag.is_some_and(|t| envelope.contains(&t))
                    })
                    .collect();
                out.push(format!("{name}: {}", body.join(" ")));
            }
            Err(e) => out.push(format!("{name}: {e}")),
        }
    }
    out
}

fn sep(b: Option<u8>) -> String {
    match b {
        None => "-".into(),
        Some(b) if b.is_ascii_graphic() => (b as char).to_string(),
        Some(b) => format!("0x{b:02x}"),
    }
}

pub fn render(input: &[u8]) -> String {
    let mut o = String::new();
    let opts = MapOptions {
        customer_id: "C1".into(),
        partner: Some("P1".into()),
        default_currency: "EUR".into(),
    };
    for ich in read(input) {
        let ich = match ich {
            Ok(i) => i,
            Err(e) => {
                let _ = writeln!(o, "error: {e}");
                continue;
            }
        };
        let s = ich.separators;
        let _ = writeln!(
            o,
            "interchange {:?} v{} {} ctl={} {}:{} -> {}:{} seps=[{} {} {} {} rel {}] segments={} bytes={}..{}",
            ich.standard,
            ich.version,
            ich.syntax_id,
            ich.control_number,
            ich.sender.qualifier,
            ich.sender.id,
            ich.receiver.qualifier,
            ich.receiver.id,
            sep(Some(s.element)),
            sep(Some(s.component)),
            sep(s.repetition),
            sep(Some(s.segment)),
            sep(s.release),
            ich.segments.len(),
            ich.offset,
            ich.end,
        );
        for g in &ich.groups {
            let _ = writeln!(
                o,
                "  group {} ctl={} v={} sets={}",
                g.functional_id,
                g.control_number,
                g.version,
                g.transactions.len()
            );
            for t in &g.transactions {
                let _ = writeln!(
                    o,
                    "    set {} ctl={} v={} segments={}",
                    t.set_id,
                    t.control_number,
                    t.version,
                    t.end - t.header
                );
            }
        }
        let mut issues = validate(&ich);
        issues.extend(ack::refused(&ich, ACCEPT));
        // as the partner channel does: a remittance that cannot be mapped is rejected in the ack
        issues.extend(remittance_issues(&ich));
        for i in &issues {
            let _ = writeln!(o, "  ! {i}");
        }
        for (_, _, t) in ordo_edi::validate::not_mapped(&ich) {
            let _ = writeln!(o, "  not mapped: {} {}", t.set_id, t.control_number);
        }
        for line in ack_body(&ich, &issues) {
            let _ = writeln!(o, "  {line}");
        }
        for g in summarize(&ich, &issues) {
            let sets: Vec<String> = g
                .sets
                .iter()
                .map(|s| format!("{}={}", s.control_number, s.status.x12()))
                .collect();
            let _ = writeln!(
                o,
                "  ack group {} {} [{}]",
                g.control_number,
                g.status.x12(),
                sets.join(" ")
            );
        }
        for (_, _, r) in remittances(&ich, &opts) {
            let Ok(a) = r else { continue };
            let _ = writeln!(
                o,
                "  remittance {} ref={} amount={} {} paid_on={:?} dated={:?} method={:?} payer={:?} payee={:?} adjustments={:?}",
                a.id,
                a.reference,
                a.amount,
                a.currency,
                a.payment_date,
                a.advice_date,
                a.method,
                a.payer.as_ref().and_then(|p| p.name.clone()),
                a.payee.as_ref().and_then(|p| p.name.clone()),
                a.adjustments
                    .iter()
                    .map(|x| format!("{}={}", x.reason, x.amount))
                    .collect::<Vec<_>>(),
            );
            for i in &a.invoices {
                let _ = writeln!(
                    o,
                    "    invoice {} paid={} invoice_amount={:?} discount={:?} adjustments={:?} settles={:?}",
                    i.number,
                    i.paid,
                    i.invoice_amount.map(|v| v.to_string()),
                    i.discount.map(|v| v.to_string()),
                    i.adjustments
                        .iter()
                        .map(|x| format!("{}={}", x.reason, x.amount))
                        .collect::<Vec<_>>(),
                    i.settles().map(|v| v.to_string()),
                );
            }
        }
        for (_, _, t) in ich.transactions().filter(|(_, _, t)| is_change(t)) {
            match to_change_request(&ich, t, &opts) {
                Err(u) => {
                    let _ = writeln!(o, "  change error: {} (po={:?})", u.reason, u.po_number);
                }
                Ok(c) => {
                    let _ = writeln!(
                        o,
                        "  change {} ref={} po_date={:?} request={:?} refusals={:?}",
                        c.order_id, c.reference, c.po_date, c.request, c.refusals
                    );
                }
            }
        }
        for r in orders(&ich, &opts) {
            match r {
                Err(e) => {
                    let _ = writeln!(o, "  order error: {e}");
                }
                Ok(ord) => {
                    let _ = writeln!(
                        o,
                        "  order {} po={} date={} requested={:?} cur={} channel={} notes={}",
                        ord.id,
                        ord.po_number,
                        ord.order_date,
                        ord.requested_date,
                        ord.currency,
                        ord.channel,
                        ord.notes.as_deref().map_or(0, |n| n.lines().count())
                    );
                    for p in &ord.parties {
                        let ids: Vec<String> = p
                            .ids
                            .iter()
                            .map(|i| format!("{}:{}", i.qualifier, i.value))
                            .collect();
                        let city = p
                            .address
                            .as_ref()
                            .and_then(|a| a.city.clone())
                            .unwrap_or_default();
                        let _ = writeln!(
                            o,
                            "    party {} {:?} [{}] {}",
                            p.role,
                            p.name.as_deref().unwrap_or(""),
                            ids.join(" "),
                            city
                        );
                    }
                    for l in &ord.lines {
                        let _ = writeln!(
                            o,
                            "    line {} sku={} qty={} {} price={:?} buyer={:?} vendor={:?} desc={:?}",
                            l.line_no,
                            l.sku,
                            l.quantity,
                            l.uom,
                            l.unit_price.map(|p| p.to_string()),
                            l.buyer_part,
                            l.vendor_part,
                            l.description
                        );
                    }
                }
            }
        }
        if ich.standard == Standard::Edifact && ich.groups.is_empty() {
            let _ = writeln!(o, "  (no messages)");
        }
    }
    o
}

#[test]
fn fixtures_match_snapshots() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "edi"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 40, "only {} fixtures", paths.len());
    let mut failed = Vec::new();
    for p in &paths {
        let input = std::fs::read(p).expect("read fixture");
        let got = render(&input);
        let exp = p.with_extension("expected");
        if update {
            std::fs::write(&exp, &got).expect("write snapshot");
            continue;
        }
        let want = std::fs::read_to_string(&exp).unwrap_or_default();
        if got != want {
            eprintln!("--- {} differs; got:\n{got}", exp.display());
            failed.push(
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
    }
    assert!(
        failed.is_empty(),
        "snapshots differ (UPDATE_EXPECT=1 to accept): {failed:?}"
    );
}
