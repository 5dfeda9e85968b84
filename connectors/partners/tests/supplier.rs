//! The supplier side over the in-memory transaction port: a PO placed for a supplier with a
//! profile is sent as an 850 (and closed to appends), the supplier's 855 moves its date, its
//! 856 becomes an expected receipt, the goods receipt is matched to it and a short line opens
//! the difference task; hostile answers (a PO we never sent, an unknown item, more than
//! ordered, a broken file) are rejected in the 997 and quarantined with a located reason.

use ordo_contract::{StepInput, StepOutput};
use ordo_partners::{Partner, ReceiveOutcome, SendPurchaseOrder, receive_file};
use ordo_sales::purchase::{PLACED_EVENT, Planned, SUPPLIER_PARTNER_DOC, place};
use ordo_sales::supplier::DIFFERENCE_EVENT;
use ordo_sales::testing::MemoryContext;
use rust_decimal::Decimal;
use serde_json::{Value, json};

fn steelworks(format: &str) -> Partner {
    let mut p = json!({ "partner": "steelworks", "role": "supplier", "supplier": "S1",
        "version": "4010", "their_id": { "qualifier": "ZZ", "id": "SUPPLIER1" },
        "our_id": { "qualifier": "ZZ", "id": "ORDOBUYER" }, "currency": "EUR",
        "outbound": "/tmp/steelworks-out" });
    if format == "csv" {
        p = json!({ "partner": "steelworks", "role": "supplier", "supplier": "S1",
                    "format": "csv", "outbound": "/tmp/steelworks-out" });
    }
    let p: Partner = serde_json::from_value(p).expect("profile");
    assert!(p.validate().is_empty(), "{:?}", p.validate());
    p
}

/// A context with the supplier's profile in force, as the engine stores it.
fn ctx_with(p: &Partner) -> MemoryContext {
    let mut ctx = MemoryContext::seeded();
    ctx.docs.insert(
        ("partner".into(), p.partner.clone()),
        serde_json::to_value(p).unwrap(),
    );
    ctx.docs.insert(
        (SUPPLIER_PARTNER_DOC.into(), "S1".into()),
        json!({ "partner": p.partner }),
    );
    ctx
}

fn planned(sku: &str, q: i64) -> Planned {
    Planned {
        sku: sku.into(),
        supplier: "S1".into(),
        quantity: Decimal::from(q),
        replenish_qty: Decimal::ZERO,
        reorder_point: Decimal::ZERO,
        supplier_min: Decimal::ZERO,
        location: None,
    }
}

async fn send(ctx: &mut MemoryContext, po: &str) -> StepOutput {
    let data = json!({ "purchase_order": { "number": po, "supplier": "S1" } });
    let input = StepInput {
        instance: "i",
        workflow: "purchase-send",
        step: "send",
        attempt: 1,
        data: &data,
        params: &json!({}),
    };
    use ordo_contract::Connector;
    SendPurchaseOrder.run(ctx, input).await.expect("sent")
}

fn doc(ctx: &MemoryContext, kind: &str, id: &str) -> Value {
    ctx.docs
        .get(&(kind.to_string(), id.to_string()))
        .cloned()
        .unwrap_or(Value::Null)
}

/// Outbound files whose name contains `part`, in key order.
fn files(ctx: &MemoryContext, part: &str) -> Vec<String> {
    ctx.outbound
        .values()
        .filter(|v| v["name"].as_str().is_some_and(|n| n.contains(part)))
        .map(|v| v["content"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../edi/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

fn problems(out: &ReceiveOutcome) -> Vec<String> {
    match out {
        ReceiveOutcome::Processed { problems, .. } => problems.clone(),
        other => panic!("{other:?}"),
    }
}

/// An 855/856 from SUPPLIER1 with the given body (segments between ST and SE).
fn x12(ctl: u32, set: &str, body: &[&str]) -> String {
    let gs = if set == "855" { "PR" } else { "SH" };
    format!(
        "ISA*00*          *00*          *ZZ*SUPPLIER1      *ZZ*ORDOBUYER      *261201*1200*U*00401*{ctl:09}*0*P*>~\n\
         GS*{gs}*SUPPLIER1*ORDOBUYER*20261201*1200*{ctl}*X*004010~\nST*{set}*0001~\n{}~\nSE*{}*0001~\nGE*1*{ctl}~\nIEA*1*{ctl:09}~\n",
        body.join("~\n"),
        body.len() + 2
    )
}

#[tokio::test]
async fn a_po_goes_out_as_850_and_the_suppliers_855_856_and_receipt_come_back() {
    let p = steelworks("edi");
    let mut ctx = ctx_with(&p);
    let placed = place(&mut ctx, "A", &[planned("GADGET", 50)], "main")
        .await
        .unwrap();
    assert_eq!(placed[0].po, "PO-000001");
    let ev: Vec<_> = ctx.events.iter().filter(|e| e.0 == PLACED_EVENT).collect();
    assert_eq!(
        ev.len(),
        1,
        "a new PO to a supplier with a profile is announced"
    );
    assert_eq!(ev[0].1, "PO-000001");

    // Sent: an 850 our own validator accepts, recorded, the PO closed to appends.
    let out = send(&mut ctx, "PO-000001").await;
    assert_eq!(out.outcome, "sent");
    let sent = files(&ctx, "-850.edi");
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("BEG*00*NE*PO-000001**"), "{}", sent[0]);
    assert!(sent[0].contains("PO1*1*50*EA***VP*GADGET"), "{}", sent[0]);
    let ich = ordo_edi::read(sent[0].as_bytes()).next().unwrap().unwrap();
    let errors: Vec<_> = ordo_edi::validate(&ich)
        .into_iter()
        .filter(|i| i.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(doc(&ctx, "po-sent", "PO-000001")["set"], "850");
    assert_eq!(
        send(&mut ctx, "PO-000001").await.outcome,
        "skipped",
        "sent once"
    );
    let later = place(&mut ctx, "B", &[planned("GADGET", 5)], "main")
        .await
        .unwrap();
    assert_eq!(later[0].po, "PO-000002", "a sent PO takes no more lines");

    // 855: the supplier will deliver on 2026-12-22; the PO's date moves, a 997 goes back.
    let out = receive_file(
        &mut ctx,
        std::slice::from_ref(&p),
        "rsp.edi",
        fixture("x12-4010-855-supplier-po-response.edi").as_bytes(),
    )
    .await
    .unwrap();
    assert!(problems(&out).is_empty(), "{out:?}");
    assert_eq!(
        doc(&ctx, "purchase-order", "PO-000001")["expected_on"],
        "2026-12-22"
    );
    assert_eq!(
        doc(&ctx, "po-response", "PO-000001")["responses"][0]["status"],
        "changed"
    );
    assert!(
        files(&ctx, "-997.edi")
            .iter()
            .any(|f| f.contains("AK2*855*0001") && f.contains("AK5*A"))
    );

    // 856: 50 gadgets announced for PO-000001: an expected receipt.
    let out = receive_file(
        &mut ctx,
        std::slice::from_ref(&p),
        "asn.edi",
        fixture("x12-4010-856-supplier-ship-notice.edi").as_bytes(),
    )
    .await
    .unwrap();
    assert!(problems(&out).is_empty(), "{out:?}");
    let notice = doc(&ctx, "ship-notice", "steelworks:ASN-1001");
    assert_eq!(notice["status"], "expected");
    assert_eq!(notice["lines"][0]["quantity"], json!(Decimal::from(50)));

    // 45 arrive: stock takes the 45, the notice is matched, the short 5 open the task.
    let receipt = ordo_sales::receive_goods(
        &mut ctx,
        "PO-000001",
        Some(&[("GADGET".into(), Decimal::from(45))]),
        "main",
    )
    .await
    .unwrap();
    assert_eq!(receipt["differences"][0]["kind"], "short");
    assert_eq!(
        receipt["differences"][0]["announced"],
        json!(Decimal::from(50))
    );
    assert_eq!(
        ctx.stock[&("GADGET".into(), "main".into())],
        Decimal::from(55)
    );
    let task: Vec<_> = ctx
        .events
        .iter()
        .filter(|e| e.0 == DIFFERENCE_EVENT)
        .collect();
    assert_eq!(task.len(), 1);
    assert_eq!(task[0].1, "GR-000001");
    assert_eq!(
        doc(&ctx, "ship-notice", "steelworks:ASN-1001")["status"],
        "received"
    );

    // The same notice again is a duplicate, not a second expected receipt.
    let again = x12(
        7,
        "856",
        &[
            "BSN*00*ASN-1001*20261210*1200",
            "HL*1**S*1",
            "HL*2*1*O*1",
            "PRF*PO-000001",
            "HL*3*2*I*0",
            "LIN**VP*GADGET",
            "SN1**5*EA",
        ],
    );
    let out = receive_file(
        &mut ctx,
        std::slice::from_ref(&p),
        "asn2.edi",
        again.as_bytes(),
    )
    .await
    .unwrap();
    assert!(
        problems(&out)
            .iter()
            .any(|m| m.contains("already received")),
        "{out:?}"
    );
}

#[tokio::test]
async fn hostile_supplier_answers_are_rejected_in_the_997_and_quarantined_located() {
    let p = steelworks("edi");
    let mut ctx = ctx_with(&p);
    place(&mut ctx, "A", &[planned("GADGET", 50)], "main")
        .await
        .unwrap();
    send(&mut ctx, "PO-000001").await;
    let before = doc(&ctx, "purchase-order", "PO-000001");
    let cases = [
        (
            x12(
                11,
                "855",
                &[
                    "BAK*00*AC*PO-999999*20261201",
                    "PO1*1*50*EA***VP*GADGET",
                    "ACK*IA*50*EA*068*20261222",
                ],
            ),
            "855.edi:4:1",
            "PO-999999 is not one ordo sent",
        ),
        (
            x12(
                12,
                "856",
                &[
                    "BSN*00*ASN-1*20261210*1200",
                    "HL*1**S*1",
                    "HL*2*1*O*1",
                    "PRF*PO-000001",
                    "HL*3*2*I*0",
                    "LIN**VP*NOPE",
                    "SN1**5*EA",
                ],
            ),
            "856.edi:9:1",
            "item NOPE is not on purchase order PO-000001",
        ),
        (
            x12(
                13,
                "856",
                &[
                    "BSN*00*ASN-2*20261210*1200",
                    "HL*1**S*1",
                    "HL*2*1*O*1",
                    "PRF*PO-000001",
                    "HL*3*2*I*0",
                    "LIN**VP*GADGET",
                    "SN1**51*EA",
                ],
            ),
            "856.edi:9:1",
            "51 of GADGET announced but only 50 is open",
        ),
        (
            x12(
                14,
                "856",
                &[
                    "BSN*00*ASN-3*20261210*1200",
                    "HL*1**S*1",
                    "HL*3*1*I*0",
                    "LIN**VP*GADGET",
                    "SN1**-2*EA",
                ],
            ),
            "856.edi:8:",
            "not a positive quantity",
        ),
    ];
    for (file, at, why) in cases {
        let name = if file.contains("ST*855") {
            "855.edi"
        } else {
            "856.edi"
        };
        let out = receive_file(&mut ctx, std::slice::from_ref(&p), name, file.as_bytes())
            .await
            .unwrap();
        let reason = out.quarantine_reason().expect("quarantined");
        assert!(
            reason.contains(at) && reason.contains(why),
            "{at} {why}: {reason}"
        );
        let ack = files(&ctx, "-997.edi").pop().unwrap_or_default();
        assert!(ack.contains("AK5*R"), "rejected in the 997: {ack}");
    }
    assert_eq!(
        doc(&ctx, "purchase-order", "PO-000001"),
        before,
        "nothing applied"
    );
    assert!(!ctx.docs.keys().any(|(k, _)| k == "ship-notice"));
    // Not EDI at all: rejected whole with the reason.
    let out = receive_file(
        &mut ctx,
        std::slice::from_ref(&p),
        "junk.edi",
        b"hello\x00world",
    )
    .await
    .unwrap();
    assert!(matches!(out, ReceiveOutcome::Rejected { .. }), "{out:?}");
    // A customer profile does not take an 855: it is outside its accepted sets.
    let acme: Partner = serde_json::from_value(json!({ "partner": "acme", "customer": "C1",
        "version": "4010", "their_id": { "qualifier": "ZZ", "id": "SUPPLIER1" },
        "our_id": { "qualifier": "ZZ", "id": "ORDOBUYER" } }))
    .unwrap();
    let out = receive_file(
        &mut ctx,
        &[acme],
        "c.edi",
        fixture("x12-4010-855-supplier-po-response.edi").as_bytes(),
    )
    .await
    .unwrap();
    assert!(out.quarantine_reason().is_some(), "{out:?}");
    assert_eq!(doc(&ctx, "purchase-order", "PO-000001"), before);
}

#[tokio::test]
async fn a_csv_supplier_gets_its_po_as_a_csv_file() {
    let p = steelworks("csv");
    let mut ctx = ctx_with(&p);
    place(
        &mut ctx,
        "A",
        &[planned("GADGET", 50), planned("WIDGET", 60)],
        "main",
    )
    .await
    .unwrap();
    assert_eq!(send(&mut ctx, "PO-000001").await.outcome, "sent");
    let csv = files(&ctx, ".csv");
    assert_eq!(csv.len(), 1);
    assert!(
        csv[0].starts_with(
            "po,line,sku,quantity,unit,expected_on,location\nPO-000001,1,GADGET,50,EA,"
        ),
        "{}",
        csv[0]
    );
    assert_eq!(csv[0].lines().count(), 3);
}

#[test]
fn supplier_profiles_are_validated_by_key() {
    let bad = |v: Value| -> Vec<&'static str> {
        let p: Partner = serde_json::from_value(v).expect("parses");
        p.validate().into_iter().map(|(k, _)| k).collect()
    };
    let ids = json!({ "qualifier": "ZZ", "id": "X" });
    assert_eq!(
        bad(
            json!({ "partner": "s", "role": "supplier", "version": "4010", "their_id": ids, "our_id": ids })
        ),
        ["supplier"]
    );
    assert_eq!(
        bad(
            json!({ "partner": "s", "role": "vendor", "supplier": "S1", "version": "4010", "their_id": ids, "our_id": ids })
        ),
        ["role"]
    );
    assert_eq!(
        bad(
            json!({ "partner": "s", "role": "supplier", "supplier": "S1", "version": "4010", "their_id": ids, "our_id": ids, "documents": ["invoice"] })
        ),
        ["documents"]
    );
    assert_eq!(
        bad(json!({ "partner": "c", "customer": "C1", "format": "csv" })),
        ["format", "version"]
    );
    // An EDI supplier needs its envelope ids as a customer does.
    assert_eq!(
        bad(json!({ "partner": "s", "role": "supplier", "supplier": "S1", "version": "4010" })),
        // empty, and not an X12 id (2-character qualifier): both said
        ["their_id", "their_id", "our_id", "our_id"]
    );
}

/// An order changed after its PO went to the supplier: ordo sends no PO changes, so the sent
/// PO keeps its line and the order's change says why; an unsent PO gives the line back.
#[tokio::test]
async fn a_change_leaves_a_po_the_supplier_already_has() {
    let p = steelworks("edi");
    let mut ctx = ctx_with(&p);
    let placed = place(&mut ctx, "A", &[planned("GADGET", 50)], "main")
        .await
        .unwrap();
    assert_eq!(send(&mut ctx, "PO-000001").await.outcome, "sent");
    let out = ordo_sales::purchase::withdraw(&mut ctx, "A", &placed)
        .await
        .unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].quantity, Decimal::ZERO);
    assert!(
        out[0]
            .kept
            .as_deref()
            .unwrap_or_default()
            .contains("sent to the supplier"),
        "{out:?}"
    );
    assert_eq!(
        doc(&ctx, "purchase-order", "PO-000001")["lines"][0]["quantity"],
        json!(50),
        "the sent PO keeps its line"
    );

    // Not sent yet: the line comes off and the PO, empty, is cancelled.
    let placed = place(&mut ctx, "B", &[planned("GADGET", 7)], "main")
        .await
        .unwrap();
    let out = ordo_sales::purchase::withdraw(&mut ctx, "B", &placed)
        .await
        .unwrap();
    assert_eq!(out[0].quantity, Decimal::from(7));
    assert_eq!(out[0].kept, None);
    assert_eq!(
        doc(&ctx, "purchase-order", &placed[0].po)["status"],
        "cancelled"
    );
}

/// A ship notice line without a quantity is never taken as zero: the mapping refuses it, and
/// should one reach the store step anyway, the step fails naming the line and stores nothing.
#[tokio::test]
async fn a_notice_line_without_quantity_is_refused_not_zero() {
    let p = steelworks("edi");
    let mut ctx = ctx_with(&p);
    let notice = ordo_edi::map::supplier_in::ShipNotice {
        id: "SHIP-9".into(),
        ship_date: None,
        delivery_date: None,
        lines: vec![ordo_edi::map::supplier_in::SupplierLine {
            po: "PO-000001".into(),
            sku: "GADGET".into(),
            quantity: None,
            date: None,
            segment: 3,
        }],
    };
    let err = ordo_partners::supplier::take_notice(&mut ctx, &p, &notice, "file-1")
        .await
        .expect_err("refused");
    assert!(
        format!("{err:?}").contains("ship notice SHIP-9 line for GADGET has no quantity"),
        "{err:?}"
    );
    assert!(
        !ctx.docs.keys().any(|(kind, _)| kind.contains("notice")),
        "nothing stored: {:?}",
        ctx.docs.keys().collect::<Vec<_>>()
    );
}
