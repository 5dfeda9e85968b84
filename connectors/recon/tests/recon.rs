//! Import → reconcile → exceptions over the in-memory transaction port: what finance sees.

use chrono::NaiveDate;
use ordo_bank::write::write_camt053;
use ordo_bank::{
    Balance, Direction, Entry, EntryStatus, Format, ParseOptions, Statement, TxDetail,
};
use ordo_recon::{
    ConfirmLine, ImportOutcome, ImportProfile, ReconPolicy, confirm_exception, import_file,
    reject_exception, run_reconciliation, run_reconciliation_chunk,
};
use ordo_sales::testing::MemoryContext;
use rust_decimal::Decimal;
use rust_decimal::dec;
use serde_json::{Value, json};

const OUR_IBAN: &str = "DE44500105175407324931";
const ACME_IBAN: &str = "DE89370400440532013000";

fn ctx_with_invoices() -> MemoryContext {
    let mut ctx = MemoryContext::default();
    for (id, name, acct) in [
        ("C-ACME", "Acme Retail GmbH", ACME_IBAN),
        ("C-BOLT", "Bolt Hardware Ltd", "GB29NWBK60161331926819"),
    ] {
        ctx.docs.insert(
            ("customer".into(), id.into()),
            json!({ "id": id, "name": name, "bank_accounts": [acct] }),
        );
    }
    for (n, cust, total) in [
        ("INV-000001", "C-ACME", dec!(119.00)),
        ("INV-000002", "C-ACME", dec!(238.00)),
        ("INV-000003", "C-BOLT", dec!(500.00)),
        ("INV-000004", "C-BOLT", dec!(75.50)),
    ] {
        ctx.docs.insert(
            ("invoice".into(), n.into()),
            json!({ "number": n, "customer_id": cust, "currency": "EUR", "total": total,
                    "open_amount": total, "paid_amount": 0, "status": "open", "payments": [],
                    "discount_amount": 0, "discount_until": null, "discount_taken": 0,
                    "dunning_level": 0, "overdue": false,
                    "issue_date": "2026-09-01", "due_date": "2026-10-01",
                    "terms": { "net_days": 30, "discount_percent": 0, "discount_days": 0 } }),
        );
    }
    ctx
}

fn entry(amount: Decimal, name: &str, iban: Option<&str>, text: &str, bank_ref: &str) -> Entry {
    Entry {
        amount,
        direction: Direction::Credit,
        currency: "EUR".into(),
        status: EntryStatus::Booked,
        booking_date: NaiveDate::from_ymd_opt(2026, 9, 20),
        value_date: NaiveDate::from_ymd_opt(2026, 9, 20),
        bank_ref: Some(bank_ref.into()),
        customer_ref: None,
        reversal: false,
        bank_tx_code: None,
        info: None,
        charges: None,
        transactions: vec![TxDetail {
            counterparty_name: Some(name.into()),
            counterparty_account: iban.map(String::from),
            remittance: Some(text.into()),
            ..TxDetail::default()
        }],
    }
}

fn statement(id: &str, entries: Vec<Entry>) -> String {
    let mut s = Statement::new(Format::Camt053);
    s.account = OUR_IBAN.into();
    s.account_is_iban = true;
    s.currency = "EUR".into();
    s.statement_id = id.into();
    let total: Decimal = entries.iter().map(|e| e.signed_amount()).sum();
    s.opening = Some(Balance {
        amount: dec!(1000),
        date: NaiveDate::from_ymd_opt(2026, 9, 19),
    });
    s.closing = Some(Balance {
        amount: dec!(1000) + total,
        date: NaiveDate::from_ymd_opt(2026, 9, 20),
    });
    s.entries = entries;
    let mut out = String::new();
    write_camt053(&s, &mut out);
    out
}

fn profile() -> ImportProfile {
    ImportProfile {
        account: "main-eur".into(),
        identifiers: vec!["DE44 5001 0517 5407 3249 31".into()],
        currency: Some("EUR".into()),
        options: ParseOptions::default(),
    }
}

fn doc(ctx: &MemoryContext, kind: &str, id: &str) -> Value {
    ctx.docs
        .get(&(kind.to_string(), id.to_string()))
        .cloned()
        .unwrap_or(Value::Null)
}

fn count(ctx: &MemoryContext, kind: &str) -> usize {
    ctx.docs.keys().filter(|(k, _)| k == kind).count()
}

fn day_statement() -> String {
    statement(
        "STMT-0920",
        vec![
            // Reference in the text, exact amount.
            entry(
                dec!(119.00),
                "ACME RETAIL",
                Some(ACME_IBAN),
                "Rechnung INV-000001",
                "B1",
            ),
            // Reference, short by bank fees of 4.50 (within max_fee).
            entry(
                dec!(495.50),
                "Bolt Hardware",
                None,
                "inv 3 / INV-000003",
                "B2",
            ),
            // Unknown payer, no reference: exception.
            entry(
                dec!(42.00),
                "Somebody Else",
                Some("NL91ABNA0417164300"),
                "thanks",
                "B3",
            ),
            // Payer known by IBAN, amount of exactly one open invoice, no text.
            entry(dec!(238.00), "Acme", Some(ACME_IBAN), "", "B4"),
        ],
    )
}

#[tokio::test]
async fn a_statement_is_matched_booked_and_its_rest_queued() {
    let mut ctx = ctx_with_invoices();
    let file = day_statement();
    let out = import_file(&mut ctx, &profile(), "day.xml", file.as_bytes())
        .await
        .unwrap();
    let ImportOutcome::Imported { entries, .. } = &out else {
        panic!("not imported: {out:?}")
    };
    assert_eq!(*entries, 4);

    let summary = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(summary["statements"], json!(1));
    assert_eq!(summary["matched"], json!(3), "{summary:#}");
    assert_eq!(summary["exceptions"], json!(1));

    // One payment.matched per invoice paid, keyed by the invoice number.
    let mut keys: Vec<&str> = ctx.events.iter().map(|e| e.1.as_str()).collect();
    keys.sort();
    assert_eq!(keys, ["INV-000001", "INV-000002", "INV-000003"]);
    assert!(ctx.events.iter().all(|e| e.0 == "payment.matched"));
    // The fee-short payment carries the accepted difference, so the invoice settles.
    let fee = ctx.events.iter().find(|e| e.1 == "INV-000003").unwrap();
    assert_eq!(fee.3["payment"]["amount"]["amount"], json!(dec!(495.50)));
    assert_eq!(fee.3["payment"]["adjustment"]["amount"], json!(dec!(4.50)));
    assert_eq!(
        fee.3["payment"]["adjustment"]["account"],
        json!("bank-fees")
    );
    assert_eq!(fee.3["payment"]["source"]["rule"], json!("reference_fee"));
    // Every automatic match says which rule made it and why.
    let m = doc(&ctx, "bank_match", "main-eur:STMT-0920/1");
    assert_eq!(m["rule"], json!("reference"));
    assert!(m["reason"].as_str().unwrap().contains("INV-000001"));

    // The unknown payer waits for finance, with where it came from.
    let ex = doc(&ctx, "bank_exception", "EX-000001");
    assert_eq!(ex["status"], json!("open"));
    assert_eq!(ex["entry"], json!("main-eur:STMT-0920/3"));
    assert_eq!(ex["counterparty_name"], json!("Somebody Else"));
    assert_eq!(ex["amount"], json!(dec!(42.00)));

    // The report adds up: credits = allocated − written off + unmatched.
    let r = &summary["reports"][0];
    assert_eq!(r["statement_id"], json!("STMT-0920"));
    assert_eq!(r["matched"], json!(3));
    assert_eq!(r["exceptions"], json!(1));
    assert_eq!(r["credits"], json!(dec!(894.50)));
    assert_eq!(r["unmatched"], json!(dec!(42.00)));
    // JSON and CSV go out through the outbound channels.
    assert!(
        ctx.outbound
            .keys()
            .any(|(c, k)| c == "recon-reports" && k == "main-eur-STMT-0920")
    );
    let csv = ctx
        .outbound
        .iter()
        .find(|((c, _), _)| c == "file")
        .map(|(_, v)| v["content"].as_str().unwrap().to_string())
        .unwrap();
    assert!(csv.starts_with("entry_ref,amount"), "{csv}");
    assert!(csv.contains("main-eur:STMT-0920/2"), "{csv}");

    // A second run has nothing pending: idempotent.
    let again = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(again["statements"], json!(0));
    assert_eq!(ctx.events.len(), 3);
}

#[tokio::test]
async fn the_same_statement_twice_books_nothing_the_second_time() {
    let mut ctx = ctx_with_invoices();
    let file = day_statement();
    import_file(&mut ctx, &profile(), "day.xml", file.as_bytes())
        .await
        .unwrap();
    run_reconciliation(&mut ctx).await.unwrap();
    let payments = count(&ctx, "payment");

    // Same bytes under another name.
    let out = import_file(&mut ctx, &profile(), "copy.xml", file.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(&out, ImportOutcome::Duplicate { reason, .. } if reason.contains("day.xml")),
        "{out:?}"
    );
    // Different bytes (re-exported), same statement id and sequence.
    let reexport = file.replace("<BkToCstmrStmt>", "<BkToCstmrStmt>\n");
    let out = import_file(&mut ctx, &profile(), "reexport.xml", reexport.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(&out, ImportOutcome::Duplicate { reason, .. } if reason.contains("already imported")),
        "{out:?}"
    );
    // A new statement id carrying the same entries (resent by the bank): duplicate entries.
    let resent = file.replace("STMT-0920", "STMT-0920-RESENT");
    let out = import_file(&mut ctx, &profile(), "resent.xml", resent.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(&out, ImportOutcome::Duplicate { reason, .. } if reason.contains("all 4 entries")),
        "{out:?}"
    );
    let summary = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(summary["statements"], json!(0));
    assert_eq!(count(&ctx, "payment"), payments, "nothing booked twice");
    // Every file is kept with its verdict.
    assert_eq!(count(&ctx, "bank_file"), 3);
}

#[tokio::test]
async fn an_overlapping_statement_books_only_its_new_entries() {
    let mut ctx = ctx_with_invoices();
    let first = statement(
        "INTRADAY-1",
        vec![entry(
            dec!(119.00),
            "ACME",
            Some(ACME_IBAN),
            "INV-000001",
            "B1",
        )],
    );
    import_file(&mut ctx, &profile(), "a.xml", first.as_bytes())
        .await
        .unwrap();
    let full = statement(
        "EOD-1",
        vec![
            entry(dec!(119.00), "ACME", Some(ACME_IBAN), "INV-000001", "B1"),
            entry(dec!(75.50), "Bolt", None, "INV-000004", "B5"),
        ],
    );
    let out = import_file(&mut ctx, &profile(), "b.xml", full.as_bytes())
        .await
        .unwrap();
    let ImportOutcome::Imported {
        entries,
        duplicate_entries,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!((entries, duplicate_entries), (1, 1));
    run_reconciliation(&mut ctx).await.unwrap();
    let mut keys: Vec<&str> = ctx.events.iter().map(|e| e.1.as_str()).collect();
    keys.sort();
    assert_eq!(keys, ["INV-000001", "INV-000004"], "INV-000001 paid once");
    // Positions stay those of the bank's file.
    assert_eq!(
        doc(&ctx, "bank_match", "main-eur:EOD-1/2")["rule"],
        json!("reference")
    );
}

#[tokio::test]
async fn bad_files_are_rejected_located_and_kept_with_nothing_booked() {
    let mut ctx = ctx_with_invoices();
    // Balances that do not add up.
    let good = day_statement();
    let unbalanced = good.replace(">1894.50<", ">1900.00<");
    assert_ne!(unbalanced, good, "fixture must contain the closing balance");
    let out = import_file(&mut ctx, &profile(), "bad.xml", unbalanced.as_bytes())
        .await
        .unwrap();
    let ImportOutcome::Rejected { error, file_id } = &out else {
        panic!("{out:?}")
    };
    assert!(error.starts_with("bad.xml:"), "{error}");
    assert!(
        error.contains("1900") || error.contains("balance"),
        "{error}"
    );
    assert_eq!(doc(&ctx, "bank_file", file_id)["status"], json!("rejected"));
    assert!(
        doc(&ctx, "bank_file", file_id)["content"]
            .as_str()
            .unwrap()
            .contains("STMT-0920")
    );
    // Truncated XML.
    let out = import_file(
        &mut ctx,
        &profile(),
        "cut.xml",
        &good.as_bytes()[..good.len() / 2],
    )
    .await
    .unwrap();
    assert!(matches!(out, ImportOutcome::Rejected { .. }), "{out:?}");
    // Another account's statement.
    let other = good.replace(OUR_IBAN, "FR1420041010050500013M02606");
    let out = import_file(&mut ctx, &profile(), "other.xml", other.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(&out, ImportOutcome::Rejected { error, .. } if error.contains("not for bank profile 'main-eur'")),
        "{out:?}"
    );
    // Not a bank file at all; Latin-1 bytes are kept too.
    let out = import_file(&mut ctx, &profile(), "x.bin", b"\xff\xfe garbage")
        .await
        .unwrap();
    let ImportOutcome::Rejected { file_id, .. } = &out else {
        panic!("{out:?}")
    };
    assert_eq!(doc(&ctx, "bank_file", file_id)["encoding"], json!("base64"));
    assert_eq!(count(&ctx, "bank_statement"), 0);
    assert_eq!(count(&ctx, "bank_entry"), 0);
    let summary = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(summary["statements"], json!(0));
    assert!(ctx.events.is_empty());
}

#[tokio::test]
async fn finance_confirms_splits_learns_and_rejects_exceptions() {
    let mut ctx = ctx_with_invoices();
    let file = statement(
        "STMT-X",
        vec![
            entry(
                dec!(575.50),
                "Nordwind Trading KG",
                Some("NL91ABNA0417164300"),
                "two invoices",
                "E1",
            ),
            entry(
                dec!(10.00),
                "Refund desk",
                Some("NL02RABO0123456789"),
                "refund",
                "E2",
            ),
            entry(
                dec!(100.00),
                "Nordwind Trading KG",
                Some("NL91ABNA0417164300"),
                "on account",
                "E3",
            ),
        ],
    );
    import_file(&mut ctx, &profile(), "x.xml", file.as_bytes())
        .await
        .unwrap();
    let s = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(s["exceptions"], json!(3), "{s:#}");

    // Wrong split is refused, nothing booked.
    let bad = [
        ConfirmLine {
            invoice: "INV-000003".into(),
            amount: Some(dec!(500.00)),
        },
        ConfirmLine {
            invoice: "INV-000004".into(),
            amount: Some(dec!(70.00)),
        },
    ];
    let e = confirm_exception(&mut ctx, "EX-000001", &bad, false, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("add up to 570.00"), "{e}");
    // Invoices of two customers are refused.
    let mixed = [
        ConfirmLine {
            invoice: "INV-000001".into(),
            amount: None,
        },
        ConfirmLine {
            invoice: "INV-000003".into(),
            amount: None,
        },
    ];
    assert!(
        confirm_exception(&mut ctx, "EX-000001", &mixed, false, None)
            .await
            .is_err()
    );
    assert!(ctx.events.is_empty());

    // Confirm across two invoices and learn the payer's account.
    let lines = [
        ConfirmLine {
            invoice: "INV-000003".into(),
            amount: None,
        },
        ConfirmLine {
            invoice: "INV-000004".into(),
            amount: None,
        },
    ];
    let ex = confirm_exception(&mut ctx, "EX-000001", &lines, true, Some("phoned Bolt"))
        .await
        .unwrap();
    assert_eq!(ex["status"], json!("matched"));
    assert_eq!(ctx.events.len(), 2);
    assert_eq!(
        ctx.events[0].3["payment"]["amount"]["amount"],
        json!(dec!(500.00))
    );
    assert_eq!(
        ctx.events[1].3["payment"]["amount"]["amount"],
        json!(dec!(75.50))
    );
    assert_eq!(
        doc(&ctx, "recon_learned", "NL91ABNA0417164300")["customer_id"],
        json!("C-BOLT")
    );
    // Decided once only.
    assert!(
        confirm_exception(&mut ctx, "EX-000001", &lines, false, None)
            .await
            .is_err()
    );
    // Both Bolt invoices are now in transit: nothing open to pay again.
    let again = [ConfirmLine {
        invoice: "INV-000004".into(),
        amount: None,
    }];
    let e = confirm_exception(&mut ctx, "EX-000003", &again, false, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nothing open"), "{e}");

    // Reject needs a reason and is final.
    assert!(reject_exception(&mut ctx, "EX-000002", " ").await.is_err());
    let r = reject_exception(&mut ctx, "EX-000002", "refund of a supplier, booked by AP")
        .await
        .unwrap();
    assert_eq!(r["status"], json!("rejected"));
    assert!(
        reject_exception(&mut ctx, "EX-000002", "again")
            .await
            .is_err()
    );

    // The learned account identifies the payer next time: an amount equal to a new Bolt
    // invoice, no text, is matched by payer + amount.
    ctx.docs.insert(
        ("invoice".into(), "INV-000009".into()),
        json!({ "number": "INV-000009", "customer_id": "C-BOLT", "currency": "EUR", "total": dec!(61.20),
                "open_amount": dec!(61.20), "paid_amount": 0, "status": "open", "payments": [],
                "discount_amount": 0, "discount_until": null, "discount_taken": 0,
                "dunning_level": 0, "overdue": false,
                "issue_date": "2026-09-10", "due_date": "2026-10-10",
                "terms": { "net_days": 30, "discount_percent": 0, "discount_days": 0 } }),
    );
    let next = statement(
        "STMT-Y",
        vec![entry(
            dec!(61.20),
            "Nordwind Trading KG",
            Some("NL91 ABNA 0417 1643 00"),
            "",
            "E9",
        )],
    );
    import_file(&mut ctx, &profile(), "y.xml", next.as_bytes())
        .await
        .unwrap();
    let s = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(s["matched"], json!(1), "{s:#}");
    assert_eq!(
        doc(&ctx, "bank_match", "main-eur:STMT-Y/1")["rule"],
        json!("payer_amount")
    );
}

#[tokio::test]
async fn review_rules_send_matches_to_people_and_the_policy_validates() {
    let mut ctx = ctx_with_invoices();
    let policy: ReconPolicy =
        serde_json::from_value(json!({ "review_rules": ["reference_fee"] })).unwrap();
    policy.validate().unwrap();
    ctx.docs.insert(
        ("recon_policy".into(), "current".into()),
        serde_json::to_value(&policy).unwrap(),
    );
    import_file(&mut ctx, &profile(), "day.xml", day_statement().as_bytes())
        .await
        .unwrap();
    let s = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(s["matched"], json!(2));
    assert_eq!(s["exceptions"], json!(2));
    let review = ctx
        .docs
        .iter()
        .filter(|((k, _), _)| k == "bank_exception")
        .find(|(_, v)| v["review_rule"] == json!("reference_fee"))
        .map(|(_, v)| v.clone())
        .unwrap();
    assert_eq!(review["candidates"][0]["invoice"], json!("INV-000003"));

    let bad: ReconPolicy =
        serde_json::from_value(json!({ "review_rules": ["payer_amout"] })).unwrap();
    assert!(
        bad.validate()
            .unwrap_err()
            .contains("unknown rule 'payer_amout'")
    );
    assert!(serde_json::from_value::<ReconPolicy>(json!({ "tolerance": 1 })).is_err());
    assert!(
        serde_json::from_value::<ReconPolicy>(json!({ "matching": { "tolerence": 1 } })).is_err(),
        "a misspelt knob is an error, not the default"
    );
}

#[test]
fn credit_limits_of_the_policy_reach_the_matcher_and_are_validated() {
    let d = ReconPolicy::default().matching.to_config();
    assert_eq!(
        (d.max_auto_credit, d.max_auto_credit_share),
        (dec!(50.00), dec!(5))
    );
    let p: ReconPolicy = serde_json::from_value(json!({
        "matching": { "max_auto_credit": 120, "max_auto_credit_share": 10 },
        "review_rules": ["reference_open_items", "reference_weak"]
    }))
    .unwrap();
    p.validate().unwrap();
    let cfg = p.matching.to_config();
    assert_eq!(
        (cfg.max_auto_credit, cfg.max_auto_credit_share),
        (dec!(120), dec!(10))
    );
    for (bad, msg) in [
        (
            json!({ "max_auto_credit": -1 }),
            "max_auto_credit must not be negative",
        ),
        (
            json!({ "max_auto_credit_share": 101 }),
            "max_auto_credit_share",
        ),
        (
            json!({ "max_auto_credit_share": -5 }),
            "max_auto_credit_share",
        ),
    ] {
        let p: ReconPolicy = serde_json::from_value(json!({ "matching": bad })).unwrap();
        let e = p.validate().unwrap_err();
        assert!(e.contains(msg), "{e}");
    }
    assert!(
        serde_json::from_value::<ReconPolicy>(json!({ "matching": { "max_auto_credits": 1 } }))
            .is_err()
    );
}

#[tokio::test]
async fn mt940_and_bai2_statements_pay_invoices_too() {
    let mut ctx = ctx_with_invoices();
    let mut prof = profile();
    prof.identifiers.push("778899".into());
    let mt940 = ":20:STMT-MT1\r\n:25:DE44500105175407324931\r\n:28C:1/1\r\n:60F:C260920EUR1000,00\r\n:61:2609200920C238,00NTRFNONREF//B4\r\n:86:Rechnung INV-000002 Acme Retail\r\n:62F:C260920EUR1238,00\r\n-\r\n";
    let out = import_file(&mut ctx, &prof, "day.sta", mt940.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(out, ImportOutcome::Imported { entries: 1, .. }),
        "{out:?}"
    );
    // BAI2: one credit (type 195, implied decimals), totals and record counts as the bank sends them.
    let bai2 = "01,SENDER,ORDO,260920,1200,1,,,2/\n02,ORDO,BANKID,1,260920,,EUR,2/\n03,778899,EUR/\n16,195,11900,Z,B1,,INV-000001 Acme/\n49,11900,3/\n98,11900,1,5/\n99,11900,1,7/\n";
    let out = import_file(&mut ctx, &prof, "day.bai", bai2.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(out, ImportOutcome::Imported { entries: 1, .. }),
        "{out:?}"
    );
    // A BAI2 file whose account total is off is rejected, located, nothing booked.
    let bad = bai2
        .replace("49,11900,3/", "49,11901,3/")
        .replace("B1", "B2");
    let out = import_file(&mut ctx, &prof, "bad.bai", bad.as_bytes())
        .await
        .unwrap();
    assert!(
        matches!(&out, ImportOutcome::Rejected { error, .. } if error.starts_with("bad.bai:5:")),
        "{out:?}"
    );
    let s = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(
        (s["statements"].clone(), s["matched"].clone()),
        (json!(2), json!(2)),
        "{s:#}"
    );
    let mut keys: Vec<&str> = ctx.events.iter().map(|e| e.1.as_str()).collect();
    keys.sort();
    assert_eq!(keys, ["INV-000001", "INV-000002"]);
}

/// Issue 18: an invoice whose stored document lost its `open_amount` (or holds a wrong-typed
/// money value), or a customer without a name, fails the run with the document, its key and
/// the field named; nothing is booked and the statement stays pending. Before, the amount read
/// as zero and the invoice silently dropped out of matching.
#[tokio::test]
async fn a_broken_stored_invoice_fails_the_run_located_and_books_nothing() {
    let mut ctx = ctx_with_invoices();
    ctx.docs
        .get_mut(&("invoice".to_string(), "INV-000002".to_string()))
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("open_amount");
    import_file(&mut ctx, &profile(), "day.xml", day_statement().as_bytes())
        .await
        .unwrap();
    let e = run_reconciliation(&mut ctx).await.unwrap_err().to_string();
    assert!(
        e.contains("invoice 'INV-000002': missing field `open_amount`"),
        "{e}"
    );
    assert_eq!(count(&ctx, "payment"), 0);
    assert_eq!(count(&ctx, "bank_match"), 0);
    assert_eq!(count(&ctx, "bank_exception"), 0);
    assert!(ctx.events.is_empty());
    let pending = doc(&ctx, "bank_queue", "pending");
    assert_eq!(pending["statements"].as_array().map(Vec::len), Some(1));

    // A money value of the wrong type is located at its path.
    let inv = ctx
        .docs
        .get_mut(&("invoice".to_string(), "INV-000002".to_string()))
        .unwrap();
    inv["open_amount"] = json!(dec!(238.00));
    inv["payments_in_transit"] = json!([{ "id": "PAY-9", "settles": "12,50" }]);
    let e = run_reconciliation(&mut ctx).await.unwrap_err().to_string();
    assert!(
        e.contains("invoice 'INV-000002': payments_in_transit[0].settles: "),
        "{e}"
    );

    // A customer without a name.
    ctx.docs
        .get_mut(&("invoice".to_string(), "INV-000002".to_string()))
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("payments_in_transit");
    ctx.docs.insert(
        ("customer".into(), "C-NONAME".into()),
        json!({ "id": "C-NONAME", "bank_accounts": [] }),
    );
    let e = run_reconciliation(&mut ctx).await.unwrap_err().to_string();
    assert!(
        e.contains("customer 'C-NONAME': missing field `name`"),
        "{e}"
    );
    assert_eq!(count(&ctx, "payment"), 0);

    // Repaired, the same pending statement is reconciled.
    ctx.docs
        .remove(&("customer".to_string(), "C-NONAME".to_string()));
    let s = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(s["matched"], json!(3), "{s:#}");
}

/// Confirming an exception against an invoice without `open_amount` is refused with the
/// invoice and field named, and the exception stays open.
#[tokio::test]
async fn confirming_against_an_invoice_without_open_amount_is_refused_located() {
    let mut ctx = ctx_with_invoices();
    let file = statement(
        "STMT-Y",
        vec![entry(
            dec!(42.00),
            "Somebody Else",
            Some("NL91ABNA0417164300"),
            "thanks",
            "B3",
        )],
    );
    import_file(&mut ctx, &profile(), "y.xml", file.as_bytes())
        .await
        .unwrap();
    run_reconciliation(&mut ctx).await.unwrap();
    ctx.docs
        .get_mut(&("invoice".to_string(), "INV-000004".to_string()))
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove("open_amount");
    let line = [ConfirmLine {
        invoice: "INV-000004".into(),
        amount: None,
    }];
    let e = confirm_exception(&mut ctx, "EX-000001", &line, false, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("invoice 'INV-000004': missing field `open_amount`"),
        "{e}"
    );
    assert_eq!(
        doc(&ctx, "bank_exception", "EX-000001")["status"],
        json!("open")
    );
    assert_eq!(count(&ctx, "payment"), 0);
}

/// Issue 19 point 3: a statement reconciled in chunks (one transaction each) books what a
/// whole run books, and its one report covers every chunk; the queue keeps it until its last
/// chunk. A chunk already claimed by another run is not booked twice.
#[tokio::test]
async fn a_statement_matched_in_chunks_books_and_reports_like_a_whole_run() {
    let mut whole = ctx_with_invoices();
    import_file(
        &mut whole,
        &profile(),
        "day.xml",
        day_statement().as_bytes(),
    )
    .await
    .unwrap();
    let w = run_reconciliation(&mut whole).await.unwrap();
    assert_eq!(w["more"], json!(false));

    let mut chunked = ctx_with_invoices();
    import_file(
        &mut chunked,
        &profile(),
        "day.xml",
        day_statement().as_bytes(),
    )
    .await
    .unwrap();
    let fp = doc(&chunked, "bank_queue", "pending")["statements"][0]
        .as_str()
        .unwrap()
        .to_string();
    let mut runs = Vec::new();
    loop {
        let s = run_reconciliation_chunk(&mut chunked, 1).await.unwrap();
        let more = s["more"] == json!(true);
        runs.push(s);
        if !more {
            break;
        }
        // Between chunks the statement is still pending and has no report yet.
        assert_eq!(
            doc(&chunked, "bank_statement", &fp)["status"],
            json!("pending")
        );
        assert_eq!(doc(&chunked, "bank_report", &fp), Value::Null);
    }
    assert_eq!(runs.len(), 4, "one entry per chunk: {runs:#?}");
    assert_eq!(runs[3]["reports"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        doc(&chunked, "bank_statement", &fp)["status"],
        json!("reconciled")
    );
    assert_eq!(
        doc(&chunked, "bank_queue", "pending")["statements"],
        json!([])
    );
    // The same bookings, the same report.
    assert_eq!(count(&chunked, "payment"), count(&whole, "payment"));
    assert_eq!(
        count(&chunked, "bank_exception"),
        count(&whole, "bank_exception")
    );
    let mut a: Vec<&str> = whole.events.iter().map(|e| e.1.as_str()).collect();
    let mut b: Vec<&str> = chunked.events.iter().map(|e| e.1.as_str()).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    let (rw, rc) = (
        doc(&whole, "bank_report", &fp),
        doc(&chunked, "bank_report", &fp),
    );
    assert_eq!(rc["report"], rw["report"]);
    assert_eq!(rc["matches"], rw["matches"]);
    assert_eq!(rc["exceptions"], rw["exceptions"]);
    assert_eq!(rc["report"]["credits"], json!(dec!(894.50)));
    assert_eq!(rc["report"]["matched"], json!(3));
    // Nothing pending: idle.
    let again = run_reconciliation_chunk(&mut chunked, 1).await.unwrap();
    assert_eq!(again["statements"], json!(0));

    // A chunk another run claimed is refused (transiently) and nothing is booked.
    let mut raced = ctx_with_invoices();
    import_file(
        &mut raced,
        &profile(),
        "day.xml",
        day_statement().as_bytes(),
    )
    .await
    .unwrap();
    raced.docs.insert(
        ("bank_chunk".into(), format!("{fp}:0")),
        json!({ "start": 0, "end": 2 }),
    );
    let e = run_reconciliation_chunk(&mut raced, 2).await.unwrap_err();
    assert!(matches!(e, ordo_contract::StepError::Transient(_)), "{e}");
    assert_eq!(count(&raced, "payment"), 0);
}

/// `chunk_entries` is bounded: a chunk of a handful of entries would make a statement a
/// thousand transactions, an unbounded one brings back the single huge transaction.
#[test]
fn the_policy_bounds_chunk_entries() {
    assert_eq!(ReconPolicy::default().chunk_entries, 10_000);
    assert_eq!(ReconPolicy::default().validate(), Ok(()));
    for bad in [0, 99, 1_000_001] {
        let p = ReconPolicy {
            chunk_entries: bad,
            ..ReconPolicy::default()
        };
        let e = p.validate().unwrap_err();
        assert!(e.starts_with("chunk_entries: "), "{e}");
    }
    let yaml: ReconPolicy = serde_json::from_value(json!({ "chunk_entries": 500 })).unwrap();
    assert_eq!(yaml.chunk_entries, 500);
    assert_eq!(yaml.review_rules, Vec::<String>::new());
}

/// C-ACME's remittance advice RA-2026-0001 as the partner channel stores it: 119.00 on
/// INV-000001, 218.00 on INV-000002 with a 20.00 deduction (reason 04).
fn store_advice(ctx: &mut MemoryContext, first_invoice: &str) {
    ctx.docs.insert(
        ("remittance".into(), "acme:RA-2026-0001".into()),
        json!({ "id": "acme:RA-2026-0001", "customer_id": "C-ACME", "partner": "acme",
                "reference": "RA-2026-0001", "payer": null, "payee": null,
                "amount": dec!(337.00), "currency": "EUR", "payment_date": "2026-09-20",
                "advice_date": null, "method": "ACH", "adjustments": [], "channel": "edi-x12",
                "invoices": [
                    { "number": first_invoice, "paid": dec!(119.00), "invoice_amount": dec!(119.00),
                      "discount": null, "adjustments": [] },
                    { "number": "INV-000002", "paid": dec!(218.00), "invoice_amount": dec!(238.00),
                      "discount": null, "adjustments": [{ "reason": "04", "amount": dec!(-20.00) }] } ],
                "status": "received", "edi": { "partner": "acme", "file": "f1" } }),
    );
    let mut policy = serde_json::to_value(ReconPolicy::default()).unwrap();
    policy["advices"] = json!({ "adjustments": { "04": "customer-deductions" } });
    ctx.docs
        .insert(("recon_policy".into(), "current".into()), policy);
}

#[tokio::test]
async fn a_credit_is_allocated_by_the_remittance_advice_with_its_deduction_once() {
    let mut ctx = ctx_with_invoices();
    store_advice(&mut ctx, "INV-000001");
    // The text names someone else's invoice: the advice decides, ahead of references.
    let file = statement(
        "STMT-A1",
        vec![entry(
            dec!(337.00),
            "ACME RETAIL",
            Some(ACME_IBAN),
            "INV-000004",
            "A1",
        )],
    );
    import_file(&mut ctx, &profile(), "a1.xml", file.as_bytes())
        .await
        .unwrap();
    let summary = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(summary["matched"], json!(1), "{summary:#}");
    let m = doc(&ctx, "bank_match", "main-eur:STMT-A1/1");
    assert_eq!(m["rule"], json!("advice"));
    assert_eq!(m["advice"]["id"], json!("acme:RA-2026-0001"));
    let pays: Vec<(String, String, Value)> = ctx
        .events
        .iter()
        .map(|e| {
            (
                e.1.clone(),
                e.3["payment"]["amount"]["amount"].to_string(),
                e.3["payment"]["adjustment"].clone(),
            )
        })
        .collect();
    assert_eq!(pays.len(), 2, "{pays:?}");
    assert_eq!(
        (pays[0].0.as_str(), pays[0].1.as_str()),
        ("INV-000001", "119.00")
    );
    assert!(pays[0].2.is_null());
    assert_eq!(
        (pays[1].0.as_str(), pays[1].1.as_str()),
        ("INV-000002", "218.00")
    );
    assert_eq!(pays[1].2["account"], json!("customer-deductions"));
    assert_eq!(pays[1].2["amount"].to_string(), "20.00");
    // consumed in the same transaction, claimed once
    let advice = doc(&ctx, "remittance", "acme:RA-2026-0001");
    assert_eq!(advice["status"], json!("consumed"));
    assert_eq!(advice["consumed_by"]["entry"], json!("main-eur:STMT-A1/1"));
    assert_eq!(count(&ctx, "remittance_use"), 1);

    // A second credit of the same amount does not reuse it.
    ctx.events.clear();
    let file = statement(
        "STMT-A2",
        vec![entry(
            dec!(337.00),
            "ACME RETAIL",
            Some(ACME_IBAN),
            "RA-2026-0001",
            "A2",
        )],
    );
    import_file(&mut ctx, &profile(), "a2.xml", file.as_bytes())
        .await
        .unwrap();
    let summary = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(summary["matched"], json!(0), "{summary:#}");
    let ex = doc(&ctx, "bank_exception", "EX-000001");
    assert!(
        !ex["reason"].as_str().unwrap_or("").contains("advice"),
        "{ex:#}"
    );
}

#[tokio::test]
async fn an_advice_naming_an_unknown_invoice_sends_its_credit_to_the_exceptions_queue() {
    let mut ctx = ctx_with_invoices();
    store_advice(&mut ctx, "INV-009999");
    let file = statement(
        "STMT-A3",
        vec![entry(
            dec!(337.00),
            "ACME RETAIL",
            Some(ACME_IBAN),
            "",
            "A3",
        )],
    );
    import_file(&mut ctx, &profile(), "a3.xml", file.as_bytes())
        .await
        .unwrap();
    let summary = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(summary["matched"], json!(0), "{summary:#}");
    let ex = doc(&ctx, "bank_exception", "EX-000001");
    assert!(
        ex["reason"].as_str().unwrap_or("").contains(
            "remittance advice acme:RA-2026-0001: invoice INV-009999 is not an open invoice"
        ),
        "{ex:#}"
    );
    assert_eq!(ex["candidates"][0]["score"], json!(99));
    assert!(ctx.events.is_empty());
    // not used: it stays received for a person to decide
    assert_eq!(
        doc(&ctx, "remittance", "acme:RA-2026-0001")["status"],
        json!("received")
    );
}

#[tokio::test]
async fn an_advice_with_a_reason_code_the_policy_does_not_map_is_never_booked_alone() {
    let mut ctx = ctx_with_invoices();
    store_advice(&mut ctx, "INV-000001");
    let mut policy = serde_json::to_value(ReconPolicy::default()).unwrap();
    policy["advices"] = json!({ "adjustments": { "05": "customer-deductions" } });
    ctx.docs
        .insert(("recon_policy".into(), "current".into()), policy);
    let file = statement(
        "STMT-A4",
        vec![entry(
            dec!(337.00),
            "ACME RETAIL",
            Some(ACME_IBAN),
            "",
            "A4",
        )],
    );
    import_file(&mut ctx, &profile(), "a4.xml", file.as_bytes())
        .await
        .unwrap();
    let summary = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(summary["matched"], json!(0), "{summary:#}");
    let ex = doc(&ctx, "bank_exception", "EX-000001");
    assert!(
        ex["reason"]
            .as_str()
            .unwrap_or("")
            .contains("reason code 04 has no account"),
        "{ex:#}"
    );
}

#[test]
fn advice_policy_codes_and_accounts_are_checked_when_read() {
    let ok: ReconPolicy = serde_json::from_value(
        json!({ "advices": { "adjustments": { "04": "customer-deductions", "CS": "cash-discount" } } }),
    )
    .unwrap();
    assert_eq!(ok.advices.account("04"), Some("customer-deductions"));
    assert_eq!(ok.advices.account("99"), None);
    let e = serde_json::from_value::<ReconPolicy>(
        json!({ "advices": { "adjustments": { "0 4": "x" } } }),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("reason code \"0 4\" is not 1 to 8 letters or digits"),
        "{e}"
    );
    let e = serde_json::from_value::<ReconPolicy>(
        json!({ "advices": { "adjustments": { "04": "" } } }),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("account \"\" is not 1 to 64"), "{e}");
    let e = serde_json::from_value::<ReconPolicy>(json!({ "advices": { "adjustment": {} } }))
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field"), "{e}");
}

/// Acme's partner profile, taking 820s.
fn acme_partner() -> ordo_partners::Partner {
    serde_json::from_value(json!({
        "partner": "acme", "customer": "C-ACME", "version": "4010",
        "their_id": { "qualifier": "ZZ", "id": "ACMEBUYER" },
        "our_id": { "qualifier": "ZZ", "id": "ORDOSELLER" },
        "acknowledgment": "997", "currency": "EUR", "accept": ["850", "820"],
        "outbound": "/tmp/acme-out"
    }))
    .expect("profile")
}

/// The file path, end to end over the port: the 820 fixture naming an invoice ordo does not
/// have is received by the partner channel and stored; the credit of its amount then goes to
/// the exceptions queue with the advice on top, and the advice stays `received`.
#[tokio::test]
async fn an_820_file_naming_an_unknown_invoice_leaves_its_credit_to_a_person() {
    let mut ctx = ctx_with_invoices();
    let mut policy = serde_json::to_value(ReconPolicy::default()).unwrap();
    policy["advices"] = json!({ "adjustments": { "04": "customer-deductions" } });
    ctx.docs
        .insert(("recon_policy".into(), "current".into()), policy);
    let edi = std::fs::read(format!(
        "{}/../edi/tests/fixtures/x12-4010-820-unknown-invoice.edi",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture");
    let out = ordo_partners::receive_file(&mut ctx, &[acme_partner()], "ra50.edi", &edi)
        .await
        .unwrap();
    assert_eq!(out.quarantine_reason(), None, "{out:?}");
    assert_eq!(
        doc(&ctx, "remittance", "acme:RA-2026-0050")["status"],
        json!("received")
    );
    let file = statement(
        "STMT-A5",
        vec![entry(
            dec!(337.00),
            "ACME RETAIL",
            Some(ACME_IBAN),
            "Avis RA-2026-0050",
            "A5",
        )],
    );
    import_file(&mut ctx, &profile(), "a5.xml", file.as_bytes())
        .await
        .unwrap();
    ctx.events.clear();
    let summary = run_reconciliation(&mut ctx).await.unwrap();
    assert_eq!(summary["matched"], json!(0), "{summary:#}");
    let ex = doc(&ctx, "bank_exception", "EX-000001");
    assert!(
        ex["reason"]
            .as_str()
            .unwrap_or("")
            .contains("acme:RA-2026-0050: invoice INV-009999 is not an open invoice"),
        "{ex:#}"
    );
    let top: Vec<&str> = ex["candidates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["invoice"].as_str())
        .collect();
    assert_eq!(top, ["INV-000001", "INV-009999"]);
    assert!(ctx.events.is_empty());
    assert_eq!(ex["advice"], json!("acme:RA-2026-0050"));
    assert_eq!(
        doc(&ctx, "remittance", "acme:RA-2026-0050")["status"],
        json!("received")
    );
    // Finance settles it by hand: the advice is used up with that decision.
    let lines = [
        ConfirmLine {
            invoice: "INV-000001".into(),
            amount: Some(dec!(119.00)),
        },
        ConfirmLine {
            invoice: "INV-000002".into(),
            amount: Some(dec!(218.00)),
        },
    ];
    let decided = confirm_exception(&mut ctx, "EX-000001", &lines, false, None)
        .await
        .unwrap();
    assert_eq!(decided["advice_consumed"], json!(true));
    let advice = doc(&ctx, "remittance", "acme:RA-2026-0050");
    assert_eq!(advice["status"], json!("consumed"));
    assert_eq!(
        advice["consumed_by"]["payments"].as_array().map(Vec::len),
        Some(2)
    );
}
