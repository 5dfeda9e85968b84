//! Partner exchange over the in-memory transaction port: an 850 in → 997 back + order started;
//! duplicates, strangers and broken files kept and reported; 855/856/810 out with store control
//! numbers; the partner's 997 matched to what we sent.

use ordo_contract::{StepInput, StepOutput};
use ordo_partners::{EnvelopeId, Partner, ReceiveOutcome, SendDocument, receive_file};
use ordo_sales::testing::MemoryContext;
use serde_json::{Value, json};

fn acme() -> Partner {
    Partner {
        partner: "acme".into(),
        role: "customer".into(),
        customer: "C-ACME".into(),
        supplier: None,
        format: "edi".into(),
        version: "4010".into(),
        their_id: EnvelopeId {
            qualifier: "ZZ".into(),
            id: "ACMEBUYER".into(),
        },
        our_id: EnvelopeId {
            qualifier: "ZZ".into(),
            id: "ORDOSELLER".into(),
        },
        separators: Some("|>^~".into()),
        acknowledgment: "997".into(),
        documents: vec![
            "order_response".into(),
            "ship_notice".into(),
            "invoice".into(),
        ],
        currency: "EUR".into(),
        test: false,
        ack_requested: true,
        ta1: false,
        accept: None,
        inbound: None,
        outbound: Some("/tmp/acme-out".into()),
        archive: None,
        quarantine: None,
    }
}

fn pad(s: &str, n: usize) -> String {
    format!("{s:<n$}")
}

/// An X12 4010 850 from ACMEBUYER to ORDOSELLER with one PO and the given lines.
pub fn x850(ctl: u32, sender: &str, po: &str, lines: &[(&str, u32, &str)]) -> String {
    let mut body = vec![
        format!("ST*850*{ctl:04}"),
        format!("BEG*00*SA*{po}**20261123"),
        "CUR*BY*EUR".to_string(),
        "N1*ST*ACME RETAIL DC*92*DC01".to_string(),
    ];
    for (i, (sku, q, price)) in lines.iter().enumerate() {
        body.push(format!("PO1*{}*{q}*EA*{price}**VP*{sku}", i + 1));
    }
    body.push(format!("CTT*{}", lines.len()));
    body.push(format!("SE*{}*{ctl:04}", body.len() + 1));
    format!(
        "ISA*00*{}*00*{}*ZZ*{}*ZZ*{}*261123*1200*U*00401*{ctl:09}*0*P*>~\nGS*PO*{sender}*ORDOSELLER*20261123*1200*{ctl}*X*004010~\n{}~\nGE*1*{ctl}~\nIEA*1*{ctl:09}~\n",
        pad("", 10),
        pad("", 10),
        pad(sender, 15),
        pad("ORDOSELLER", 15),
        body.join("~\n")
    )
}

fn count(ctx: &MemoryContext, kind: &str) -> usize {
    ctx.docs.keys().filter(|(k, _)| k == kind).count()
}

fn doc(ctx: &MemoryContext, kind: &str, id: &str) -> Value {
    ctx.docs
        .get(&(kind.to_string(), id.to_string()))
        .cloned()
        .unwrap_or(Value::Null)
}

fn files(ctx: &MemoryContext) -> Vec<(String, String)> {
    ctx.outbound
        .iter()
        .filter(|((c, _), _)| c == "file")
        .map(|(_, v)| {
            (
                v["name"].as_str().unwrap_or_default().to_string(),
                v["content"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_850_is_acknowledged_and_becomes_an_order_once() {
    let mut ctx = MemoryContext::default();
    let p = [acme()];
    let file = x850(
        101,
        "ACMEBUYER",
        "PO-7",
        &[("WID-100", 10, "12.50"), ("GAD-200", 2, "149.00")],
    );
    let out = receive_file(&mut ctx, &p, "po7.edi", file.as_bytes())
        .await
        .unwrap();
    let ReceiveOutcome::Processed {
        orders, problems, ..
    } = &out
    else {
        panic!("{out:?}")
    };
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(orders, &["C-ACME-PO-7"]);
    let order = doc(&ctx, "order", "C-ACME-PO-7");
    assert_eq!(order["partner"], "acme");
    assert_eq!(order["channel"], "edi-x12");
    assert_eq!(order["lines"][0]["sku"], "WID-100");
    assert_eq!(order["lines"][1]["quantity"].to_string(), "2");
    assert_eq!(ctx.events.len(), 1);
    assert_eq!(ctx.events[0].0, "order.received");
    // A 997 goes back with the partner's separators and our first control number.
    let f = files(&ctx);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].0, "acme-000000001-997.edi");
    assert!(f[0].1.starts_with("ISA|00|"), "{}", f[0].1);
    assert!(
        f[0].1.contains("AK1|PO|101") && f[0].1.contains("AK9|A|1|1|1"),
        "{}",
        f[0].1
    );
    assert!(
        f[0].1.contains("|ZZ|ORDOSELLER     |ZZ|ACMEBUYER      |"),
        "sender/receiver swapped: {}",
        f[0].1
    );

    // The same bytes again: duplicate file. A new file with the same ISA13: duplicate
    // interchange. A new interchange with the same PO: duplicate order.
    let again = receive_file(&mut ctx, &p, "po7-copy.edi", file.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(again, ReceiveOutcome::Duplicate { .. }),
        "{again:?}"
    );
    let resent = file.replace("~\nGS", "~\r\nGS");
    let out = receive_file(&mut ctx, &p, "po7-resent.edi", resent.as_bytes())
        .await
        .unwrap();
    let reason = out.quarantine_reason().unwrap();
    assert!(
        reason.contains("interchange 000000101 from acme was already received"),
        "{reason}"
    );
    let other = x850(102, "ACMEBUYER", "PO-7", &[("WID-100", 1, "12.50")]);
    let out = receive_file(&mut ctx, &p, "po7-b.edi", other.as_bytes())
        .await
        .unwrap();
    let reason = out.quarantine_reason().unwrap();
    assert!(
        reason.contains("order 'C-ACME-PO-7' (customer C-ACME, PO PO-7) was already received"),
        "{reason}"
    );
    assert_eq!(ctx.events.len(), 1, "still one order");
    // Every file is kept.
    assert_eq!(count(&ctx, "edi_file"), 3);
}

#[tokio::test]
async fn strangers_broken_sets_and_garbage_are_kept_and_reported() {
    let mut ctx = MemoryContext::default();
    let p = [acme()];
    // Unknown sender: rejected, kept, not acknowledged.
    let file = x850(5, "STRANGER", "PO-1", &[("WID-100", 1, "12.50")]);
    let out = receive_file(&mut ctx, &p, "x.edi", file.as_bytes())
        .await
        .unwrap();
    let reason = out.quarantine_reason().unwrap();
    assert!(
        reason.starts_with("x.edi:1:1: interchange 000000005 from unknown sender ZZ:STRANGER"),
        "{reason}"
    );
    assert!(files(&ctx).is_empty());
    assert!(ctx.events.is_empty());
    // A set with a wrong SE count: rejecting 997 back, no order.
    let bad =
        x850(6, "ACMEBUYER", "PO-2", &[("WID-100", 1, "12.50")]).replace("SE*7*0006", "SE*9*0006");
    assert!(bad.contains("SE*9*0006"));
    let out = receive_file(&mut ctx, &p, "bad.edi", bad.as_bytes())
        .await
        .unwrap();
    let reason = out.quarantine_reason().unwrap();
    assert!(
        reason.contains("rejected (see the acknowledgment), no order created"),
        "{reason}"
    );
    let f = files(&ctx);
    assert_eq!(f.len(), 1);
    assert!(
        f[0].1.contains("AK5|R") && f[0].1.contains("AK9|R"),
        "{}",
        f[0].1
    );
    assert!(ctx.events.is_empty());
    // Not EDI at all: rejected whole, kept.
    let out = receive_file(&mut ctx, &p, "junk.edi", b"hello\nworld\n")
        .await
        .unwrap();
    assert!(
        matches!(&out, ReceiveOutcome::Rejected { error, .. } if error.starts_with("junk.edi:")),
        "{out:?}"
    );
    assert_eq!(count(&ctx, "edi_file"), 3);
}

async fn send(ctx: &mut MemoryContext, data: &Value, document: &str) -> StepOutput {
    let params = json!({ "document": document });
    let input = StepInput {
        instance: "i",
        workflow: "order-to-cash",
        step: "s",
        attempt: 1,
        data,
        params: &params,
    };
    use ordo_contract::Connector;
    SendDocument.run(ctx, input).await.unwrap()
}

#[tokio::test]
async fn documents_go_out_numbered_and_the_partners_997_is_matched() {
    let mut ctx = MemoryContext::default();
    let p = acme();
    ctx.docs.insert(
        ("partner".into(), "acme".into()),
        serde_json::to_value(&p).unwrap(),
    );
    let mut order = serde_json::to_value(ordo_edi::demo::order()).unwrap();
    order["partner"] = json!("acme");
    let id = order["id"].as_str().unwrap().to_string();
    ctx.docs.insert(("order".into(), id.clone()), order.clone());
    let shipment = serde_json::to_value(ordo_edi::demo::shipment()).unwrap();
    let invoice = ordo_edi::demo::invoice();
    ctx.docs.insert(
        ("invoice".into(), invoice.number.clone()),
        serde_json::to_value(&invoice).unwrap(),
    );
    let data =
        json!({ "order": order, "shipment": shipment, "invoice": { "number": invoice.number } });

    assert_eq!(
        send(&mut ctx, &data, "order_response").await.outcome,
        "sent"
    );
    assert_eq!(send(&mut ctx, &data, "ship_notice").await.outcome, "sent");
    let out = send(&mut ctx, &data, "invoice").await;
    assert_eq!(out.outcome, "sent");
    assert_eq!(out.set["edi_invoice"]["control_number"], json!(3));
    let f = files(&ctx);
    let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "acme-000000001-855.edi",
            "acme-000000002-856.edi",
            "acme-000000003-810.edi"
        ]
    );
    // What we write reads back clean with ordo's own validator.
    for (name, text) in &f {
        for ich in ordo_edi::read(text.as_bytes()) {
            let ich = ich.unwrap();
            let issues: Vec<_> = ordo_edi::validate(&ich)
                .into_iter()
                .filter(|i| i.is_error())
                .collect();
            assert!(issues.is_empty(), "{name}: {issues:?}");
            assert_eq!(ich.sender.id.trim(), "ORDOSELLER");
            assert_eq!(ich.separators.element, b'|');
        }
    }
    // Not an EDI order, or a document the partner does not want: skipped.
    let mut plain = data.clone();
    plain["order"]["partner"] = Value::Null;
    assert_eq!(send(&mut ctx, &plain, "invoice").await.outcome, "skipped");

    // Their 997 for our 810 (interchange/group 3), accepted; then a rejecting one for the 856.
    let ack = |ctl: u32, group: u32, set: &str, verdict: &str| {
        format!(
            "ISA*00*{e}*00*{e}*ZZ*{}*ZZ*{}*261123*1300*U*00401*{ctl:09}*0*P*>~GS*FA*ACMEBUYER*ORDOSELLER*20261123*1300*{ctl}*X*004010~ST*997*0001~AK1*{}*{group}~AK9*{verdict}*1*1*{}~SE*4*0001~GE*1*{ctl}~IEA*1*{ctl:09}~",
            pad("ACMEBUYER", 15),
            pad("ORDOSELLER", 15),
            set,
            if verdict == "A" { 1 } else { 0 },
            e = pad("", 10)
        )
    };
    let out = receive_file(
        &mut ctx,
        std::slice::from_ref(&p),
        "ack1.edi",
        ack(900, 3, "IN", "A").as_bytes(),
    )
    .await
    .unwrap();
    assert!(out.quarantine_reason().is_none(), "{out:?}");
    assert_eq!(doc(&ctx, "edi_sent", "acme:3")["ack"]["status"], "A");
    let out = receive_file(
        &mut ctx,
        std::slice::from_ref(&p),
        "ack2.edi",
        ack(901, 2, "SH", "R").as_bytes(),
    )
    .await
    .unwrap();
    assert!(
        out.quarantine_reason()
            .unwrap()
            .contains("acme rejected our ship_notice 2"),
        "{out:?}"
    );
    let acks = doc(&ctx, "order", &id)["edi_acks"].clone();
    assert_eq!(acks.as_array().map(|a| a.len()), Some(2), "{acks}");
    // No 997 for a 997.
    assert_eq!(files(&ctx).len(), 3);
    // An ack for something we never sent is reported.
    let out = receive_file(
        &mut ctx,
        &[p],
        "ack3.edi",
        ack(902, 77, "PO", "A").as_bytes(),
    )
    .await
    .unwrap();
    assert!(
        out.quarantine_reason()
            .unwrap()
            .contains("which ordo did not send them")
    );
}

#[test]
fn profiles_are_validated_by_key() {
    let mut p = acme();
    assert!(p.validate().is_empty(), "{:?}", p.validate());
    p.version = "4011".into();
    p.documents.push("invoices".into());
    let errs = p.validate();
    assert!(
        errs.iter()
            .any(|(k, m)| *k == "version" && m.contains("4011")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|(k, m)| *k == "documents" && m.contains("'invoices'")),
        "{errs:?}"
    );
    let mut p = acme();
    p.acknowledgment = "CONTRL".into();
    p.separators = Some("**^~".into());
    p.their_id.id = "A-NAME-LONGER-THAN-15".into();
    let keys: Vec<&str> = p.validate().iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, ["their_id", "separators", "acknowledgment"]);
}

/// An interchange from ACMEBUYER holding the given groups (GS01, sets as `ST..SE` text).
fn interchange(ctl: u32, ack_requested: bool, groups: &[(&str, &str)]) -> String {
    let mut out = format!(
        "ISA*00*{e}*00*{e}*ZZ*{}*ZZ*{}*261123*1200*U*00401*{ctl:09}*{}*P*>~\n",
        pad("ACMEBUYER", 15),
        pad("ORDOSELLER", 15),
        u8::from(ack_requested),
        e = pad("", 10)
    );
    for (i, (fid, set)) in groups.iter().enumerate() {
        let g = ctl * 10 + i as u32;
        out.push_str(&format!(
            "GS*{fid}*ACMEBUYER*ORDOSELLER*20261123*1200*{g}*X*004010~\n{set}\nGE*1*{g}~\n"
        ));
    }
    out.push_str(&format!("IEA*{}*{ctl:09}~\n", groups.len()));
    out
}

const SET_846: &str =
    "ST*846*0001~\nBIA*00*MM*INV-1*20261123~\nLIN**VP*WID-100~\nQTY*33*120*EA~\nSE*5*0001~";
const SET_997: &str = "ST*997*0001~\nAK1*IN*3~\nAK2*810*0001~\nAK5*A~\nAK9*A*1*1*1~\nSE*6*0001~";

#[tokio::test]
async fn sets_outside_accept_are_rejected_with_code_1() {
    // Default accept (850, ORDERS, 860, ORDCHG, 997, 999, CONTRL): an 846 is rejected, AK5 R 1.
    let mut ctx = MemoryContext::default();
    let file = interchange(300, false, &[("IB", SET_846)]);
    let out = receive_file(&mut ctx, &[acme()], "inv.edi", file.as_bytes())
        .await
        .unwrap();
    let reason = out.quarantine_reason().unwrap_or_default();
    assert!(reason.contains("transaction set not supported"), "{reason}");
    let f = files(&ctx);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].1.contains("AK2|846|0001~"), "{}", f[0].1);
    assert!(f[0].1.contains("AK5|R|1~"), "{}", f[0].1);
    assert!(f[0].1.contains("AK9|R|1|1|0~"), "{}", f[0].1);

    // In the profile's accept list: accepted in the 997, kept (ordo does not map an 846).
    let mut ctx = MemoryContext::default();
    let mut p = acme();
    p.accept = Some(vec!["850".into(), "846".into()]);
    let out = receive_file(&mut ctx, &[p], "inv.edi", file.as_bytes())
        .await
        .unwrap();
    let reason = out.quarantine_reason().unwrap_or_default();
    assert!(
        reason.contains("ordo does not take this document inbound; kept"),
        "{reason}"
    );
    assert!(!reason.contains("not supported"), "{reason}");
    let f = files(&ctx);
    assert!(f[0].1.contains("AK5|A~"), "{}", f[0].1);
    assert!(f[0].1.contains("AK9|A|1|1|1~"), "{}", f[0].1);
}

#[tokio::test]
async fn acknowledgments_get_no_acknowledgment_not_even_a_ta1() {
    let mut p = acme();
    p.ta1 = true;
    // 997s only, ISA14 asking for a TA1 and the profile saying ta1: nothing goes back.
    let mut ctx = MemoryContext::default();
    let file = interchange(310, true, &[("FA", SET_997)]);
    receive_file(&mut ctx, std::slice::from_ref(&p), "a.edi", file.as_bytes())
        .await
        .unwrap();
    assert!(files(&ctx).is_empty(), "{:?}", files(&ctx));
    // the same with a broken envelope (GE count): still nothing sent, the problem reported
    let fine = interchange(312, true, &[("FA", SET_997)]);
    let broken = fine.replace("GE*1*3120~", "GE*2*3120~");
    assert_ne!(broken, fine);
    let out = receive_file(
        &mut ctx,
        std::slice::from_ref(&p),
        "b.edi",
        broken.as_bytes(),
    )
    .await
    .unwrap();
    assert!(files(&ctx).is_empty(), "{:?}", files(&ctx));
    assert!(out.quarantine_reason().is_some(), "{out:?}");
    // An order and a group of 997s: the TA1 and the 997 answer the order's group only.
    let mixed = interchange(
        311,
        true,
        &[
            (
                "PO",
                "ST*850*0001~\nBEG*00*SA*PO-311**20261123~\nCUR*BY*EUR~\nN1*ST*ACME RETAIL DC*92*DC01~\nPO1*1*1*EA*12.50**VP*WID-100~\nCTT*1~\nSE*7*0001~",
            ),
            ("FA", SET_997),
        ],
    );
    let out = receive_file(&mut ctx, &[p], "m.edi", mixed.as_bytes())
        .await
        .unwrap();
    let f = files(&ctx);
    let names: Vec<&str> = f.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["acme-000000001-ta1.edi", "acme-000000002-997.edi"],
        "{out:?}"
    );
    let ack = &f[1].1;
    assert!(ack.contains("AK1|PO|3110~"), "{ack}");
    assert!(!ack.contains("AK1|FA"), "{ack}");
    assert!(!ack.contains("AK2|997"), "{ack}");
}

#[test]
fn replies_leave_acknowledgments_unanswered() {
    use ordo_partners::{Replies, replies};
    let mut p = acme();
    p.ta1 = true;
    let decide = |p: &Partner, text: &str| {
        let ich = ordo_edi::read(text.as_bytes()).next().unwrap().unwrap();
        replies(p, &ich)
    };
    let none = Replies {
        ta1: false,
        functional: None,
    };
    assert_eq!(decide(&p, &interchange(1, true, &[("FA", SET_997)])), none);
    let ta1_only = format!(
        "ISA*00*{e}*00*{e}*ZZ*{}*ZZ*{}*261123*1200*U*00401*000000002*1*P*>~\nTA1*000000101*261123*1200*A*000~\nIEA*0*000000002~\n",
        pad("ACMEBUYER", 15),
        pad("ORDOSELLER", 15),
        e = pad("", 10)
    );
    assert_eq!(decide(&p, &ta1_only), none);
    let both = Replies {
        ta1: true,
        functional: Some("997"),
    };
    assert_eq!(decide(&p, &interchange(3, false, &[("IB", SET_846)])), both);
    p.acknowledgment = "none".into();
    p.ta1 = false;
    assert_eq!(
        decide(&p, &interchange(4, false, &[("IB", SET_846)])),
        none,
        "no ISA14, no ta1, acknowledgment none"
    );
}

#[test]
fn accept_entries_are_checked_against_the_standard() {
    let mut p = acme();
    p.accept = Some(vec!["850".into(), "846".into(), "997".into()]);
    assert!(p.validate().is_empty(), "{:?}", p.validate());
    assert_eq!(p.accept(), ["850", "846", "997"]);
    p.accept = None;
    assert_eq!(
        p.accept(),
        ["850", "ORDERS", "860", "ORDCHG", "997", "999", "CONTRL"]
    );
    p.accept = Some(vec![
        "850".into(),
        "8500".into(),
        "ORDERS".into(),
        "850".into(),
    ]);
    let errs = p.validate();
    let msgs: Vec<&str> = errs
        .iter()
        .filter(|(k, _)| *k == "accept")
        .map(|(_, m)| m.as_str())
        .collect();
    assert_eq!(msgs.len(), 3, "{errs:?}");
    assert!(
        msgs[0].contains("'8500' is not an X12 transaction set id"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].contains("'ORDERS' is an EDIFACT message type"),
        "{msgs:?}"
    );
    assert!(msgs[2].contains("lists '850' twice"), "{msgs:?}");
}

/// A profile whose separators do not parse (one stored before they were checked at load) fails
/// the step instead of acknowledging in the interchange's own separators.
#[tokio::test]
async fn a_profile_with_bad_separators_fails_instead_of_answering_in_others() {
    let mut ctx = MemoryContext::default();
    let mut p = acme();
    p.separators = Some("**^~".into());
    let file = x850(301, "ACMEBUYER", "PO-30", &[("WID-100", 1, "1.00")]);
    let r = receive_file(&mut ctx, &[p], "po30.edi", file.as_bytes()).await;
    let e = r.expect_err("refused").to_string();
    assert!(e.contains("partner acme: separators:"), "{e}");
    assert!(files(&ctx).is_empty(), "no acknowledgment written");
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../edi/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

#[tokio::test]
async fn an_820_becomes_a_remittance_advice_once_and_a_bad_one_is_rejected_and_quarantined() {
    let mut p = acme();
    p.accept = Some(vec!["850".into(), "820".into()]);
    let p = [p];
    let mut ctx = MemoryContext::default();
    let good = fixture("x12-4010-820-remittance.edi");
    let out = receive_file(&mut ctx, &p, "ra1.edi", good.as_bytes())
        .await
        .unwrap();
    let ReceiveOutcome::Processed {
        remittances,
        problems,
        file_id,
        ..
    } = &out
    else {
        panic!("{out:?}")
    };
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(remittances, &["acme:RA-2026-0001"]);
    let advice = doc(&ctx, "remittance", "acme:RA-2026-0001");
    assert_eq!(advice["status"], "received");
    assert_eq!(advice["customer_id"], "C-ACME");
    assert_eq!(advice["amount"].to_string(), "1480.00");
    assert_eq!(advice["edi"]["file"], json!(file_id));
    let adj = &advice["invoices"][1]["adjustments"][0];
    assert_eq!(
        (adj["reason"].as_str(), adj["amount"].to_string().as_str()),
        (Some("04"), "-20.00")
    );
    // the raw file is kept beside it
    assert_eq!(doc(&ctx, "edi_file", file_id)["name"], "ra1.edi");
    let acks = files(&ctx);
    assert!(acks[0].1.contains("AK5|A"), "{}", acks[0].1);

    // The same advice in a new interchange (new control number): reported, not stored twice.
    let again = good.replace("000000820", "000000830");
    let out = receive_file(&mut ctx, &p, "ra1-again.edi", again.as_bytes())
        .await
        .unwrap();
    let reason = out.quarantine_reason().expect("quarantined");
    assert!(
        reason.contains("ra1-again.edi:3:1: 820 0001 from acme: remittance advice RA-2026-0001 was already received")
            && reason.contains(file_id.as_str()),
        "{reason}"
    );
    assert_eq!(count(&ctx, "remittance"), 1);

    // Totals that do not add up: located at BPR02, the set rejected in the 997, nothing stored.
    let bad = fixture("x12-4010-820-totals-mismatch.edi")
        .replace("RA-2026-0001", "RA-2026-0009")
        .replace("000000820", "000000840");
    let out = receive_file(&mut ctx, &p, "ra9.edi", bad.as_bytes())
        .await
        .unwrap();
    let reason = out.quarantine_reason().expect("quarantined");
    assert!(
        reason.contains("ra9.edi:4:")
            && reason.contains("totals do not add up: payment 1490.00")
            && reason.contains("no remittance advice stored"),
        "{reason}"
    );
    assert_eq!(count(&ctx, "remittance"), 1);
    let acks = files(&ctx);
    assert!(
        acks.iter()
            .any(|(_, c)| c.contains("AK4|2||7|1490.00") && c.contains("AK5|R|5")),
        "{acks:?}"
    );

    // A REMADV from an EDIFACT partner (the profile's accept list governs).
    let mut cora = acme();
    cora.partner = "cora".into();
    cora.customer = "C-CORA".into();
    cora.version = "D96A".into();
    cora.their_id = EnvelopeId {
        qualifier: "14".into(),
        id: "3014531200003".into(),
    };
    cora.our_id = EnvelopeId {
        qualifier: "14".into(),
        id: "4012345000009".into(),
    };
    cora.separators = None;
    cora.acknowledgment = "CONTRL".into();
    cora.accept = Some(vec!["ORDERS".into(), "REMADV".into()]);
    let out = receive_file(
        &mut ctx,
        &[cora],
        "remadv.edi",
        fixture("edifact-d96a-remadv.edi").as_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(out.quarantine_reason(), None, "{out:?}");
    let advice = doc(&ctx, "remittance", "cora:RA-2026-0003");
    assert_eq!(advice["invoices"][0]["adjustments"][0]["reason"], "3");
    assert_eq!(advice["channel"], "edifact");
}

#[tokio::test]
async fn an_820_outside_the_accept_list_is_rejected_and_not_stored() {
    let mut ctx = MemoryContext::default();
    let out = receive_file(
        &mut ctx,
        &[acme()],
        "ra.edi",
        fixture("x12-4010-820-remittance.edi").as_bytes(),
    )
    .await
    .unwrap();
    let reason = out.quarantine_reason().expect("quarantined");
    assert!(reason.contains("no remittance advice stored"), "{reason}");
    assert_eq!(count(&ctx, "remittance"), 0);
}

#[tokio::test]
async fn a_second_set_with_the_same_advice_reference_is_a_duplicate_not_stored_twice() {
    let mut p = acme();
    p.accept = Some(vec!["820".into()]);
    let mut ctx = MemoryContext::default();
    let out = receive_file(
        &mut ctx,
        &[p],
        "dup.edi",
        fixture("x12-4010-820-duplicate-reference.edi").as_bytes(),
    )
    .await
    .unwrap();
    let reason = out.quarantine_reason().expect("quarantined");
    assert!(
        reason.contains(
            "dup.edi:9:1: 820 0002 from acme: remittance advice RA-2026-0051 was already received"
        ),
        "{reason}"
    );
    assert_eq!(count(&ctx, "remittance"), 1);
    // the first one is kept as it came
    assert_eq!(
        doc(&ctx, "remittance", "acme:RA-2026-0051")["amount"].to_string(),
        "119.00"
    );
}
