//! Remittance advice drives matching, end to end on both backends: an X12 820 dropped into the
//! partner's inbound folder is stored as Acme's advice (its 997 goes back); a camt.053 credit of
//! the advice's amount from Acme, without any invoice number, is then allocated as the advice
//! says — two invoices, one short by a deduction the advice explains — both invoices end `paid`,
//! the deduction is booked to the account config/reconciliation.yaml names (ledger 8700), the
//! advice is consumed, and `ordo ledger check` ties. The same advice again is quarantined as a
//! duplicate; a second credit of the same amount does not reuse the consumed advice.

use ordo_tests::Project;
use ordo_tests::both;
use serde_json::{Value, json};

const OUR_IBAN: &str = "DE44500105175407324931";
const ACME_IBAN: &str = "DE89370400440532013000";

fn setup(p: &Project) {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for f in ["config/banks/main-eur.yaml", "config/reconciliation.yaml"] {
        let text = std::fs::read_to_string(repo.join(f)).expect("repo config");
        p.write(f, &text);
    }
    // Acme sends remittance advices too: its profile accepts 820.
    let acme = std::fs::read_to_string(repo.join("config/partners/acme.yaml")).expect("acme");
    p.write(
        "config/partners/acme.yaml",
        &format!("{acme}accept: [850, 820, 997, 999]\n"),
    );
    p.ok(&["data", "import", "config/seed.json"]);
}

fn cents(v: &Value) -> i64 {
    let s = v.to_string();
    let (a, b) = s.split_once('.').unwrap_or((&s, "0"));
    let b = format!("{b:0<2}");
    a.parse::<i64>().expect("amount") * 100 + b[..2].parse::<i64>().expect("cents")
}

fn money(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// An 820 from Acme: `lines` = (invoice, paid cents, deduction cents with reason 04).
fn x820(ctl: u32, reference: &str, lines: &[(String, i64, i64)]) -> String {
    let total: i64 = lines.iter().map(|l| l.1).sum();
    let mut body = vec![
        "ST*820*0001".to_string(),
        format!("BPR*C*{}*C*ACH*CTX", money(total)),
        format!("TRN*1*{reference}"),
        "N1*PR*ACME RETAIL*92*ACMEBUYER".to_string(),
        "ENT*1".to_string(),
    ];
    for (inv, paid, ded) in lines {
        body.push(format!("RMR*IV*{inv}**{}", money(*paid)));
        if *ded > 0 {
            body.push(format!("ADX*-{}*04", money(*ded)));
        }
    }
    body.push(format!("SE*{}*0001", body.len() + 1));
    let pad = |s: &str| format!("{s:<15}");
    format!(
        "ISA*00*{e}*00*{e}*ZZ*{}*ZZ*{}*261123*1200*U*00401*{ctl:09}*0*P*>~\nGS*RA*ACMEBUYER*ORDOSELLER*20261123*1200*{ctl}*X*004010~\n{}~\nGE*1*{ctl}~\nIEA*1*{ctl:09}~\n",
        pad("ACMEBUYER"),
        pad("ORDOSELLER"),
        body.join("~\n"),
        e = " ".repeat(10)
    )
}

fn today(p: &Project) -> String {
    // the business date of the project (real time plus the clock's offset)
    let out = p.ok(&["clock", "show"]);
    let at = out.find("business time ").expect("business time") + "business time ".len();
    out[at..at + 10].to_string()
}

/// A camt.053 with one credit from Acme of `amount`, text `text`.
fn camt(id: &str, date: &str, amount: &str, text: &str) -> String {
    let c: i64 = amount.replace('.', "").parse().expect("amount");
    let closing = 100_000 + c;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>{id}</MsgId><CreDtTm>{date}T18:00:00</CreDtTm></GrpHdr><Stmt><Id>{id}</Id><ElctrncSeqNb>1</ElctrncSeqNb>\
         <Acct><Id><IBAN>{OUR_IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>\
         <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>\
         <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>\n\
         <Ntry><Amt Ccy=\"EUR\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>\
         <BookgDt><Dt>{date}</Dt></BookgDt><ValDt><Dt>{date}</Dt></ValDt><AcctSvcrRef>{id}-1</AcctSvcrRef>\
         <NtryDtls><TxDtls><Refs><EndToEndId>E2E-{id}</EndToEndId></Refs>\
         <RltdPties><Dbtr><Pty><Nm>Acme Retail GmbH</Nm></Pty></Dbtr><DbtrAcct><Id><IBAN>{ACME_IBAN}</IBAN></Id></DbtrAcct></RltdPties>\
         <RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n</Stmt></BkToCstmrStmt></Document>\n",
        money(closing)
    )
}

fn invoice_of(p: &Project, order: &str) -> Value {
    for n in 1..=9 {
        let number = format!("INV-{n:06}");
        let out = p.ordo(&["invoice", &number]);
        if !out.status.success() {
            break;
        }
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        if v["order_id"] == order {
            return v;
        }
    }
    panic!("no invoice for {order}")
}

both!(
    an_820_allocates_a_bank_credit_with_its_deduction,
    |p: &Project| {
        setup(p);
        let orders = json!([
            { "id": "ACME-R1", "customer_id": "C-ACME", "po_number": "ACME-R1", "order_date": "2026-11-23",
              "currency": "EUR", "lines": [{ "line_no": 1, "sku": "WID-100", "quantity": 4 }] },
            { "id": "ACME-R2", "customer_id": "C-ACME", "po_number": "ACME-R2", "order_date": "2026-11-23",
              "currency": "EUR", "lines": [{ "line_no": 1, "sku": "WID-100", "quantity": 2 }] },
        ]);
        p.write("orders.json", &orders.to_string());
        p.ok(&["submit", "orders.json"]);
        p.run_idle();
        let (i1, i2) = (invoice_of(p, "ACME-R1"), invoice_of(p, "ACME-R2"));
        let num = |v: &Value| v["number"].as_str().unwrap_or_default().to_string();
        let (t1, t2) = (cents(&i1["total"]), cents(&i2["total"]));
        // Acme pays the first in full and the second less 5.00 for a damaged item (ADX 04).
        let ra = x820(
            7001,
            "RA-2026-7001",
            &[(num(&i1), t1, 0), (num(&i2), t2 - 500, 500)],
        );
        p.write("data/partners/acme/in/ra-7001.edi", &ra);
        p.run_idle();
        assert!(
            p.path("data/partners/acme/archive/ra-7001.edi").exists(),
            "the 820 is archived, not quarantined"
        );
        // The same advice again (a new interchange): quarantined as a duplicate, not stored twice.
        p.write(
            "data/partners/acme/in/ra-7001-again.edi",
            &ra.replace("000007001", "000007002")
                .replace("*7001*X", "*7002*X"),
        );
        p.run_idle();
        let q = p.path("data/partners/acme/quarantine/ra-7001-again.edi");
        assert!(q.exists(), "duplicate advice quarantined");

        // The bank credit names no invoice; the advice decides.
        let paid = money(t1 + t2 - 500);
        let date = today(p);
        p.write(
            "data/bank/main-eur/inbox/stmt-r1.xml",
            &camt("STMT-R1", &date, &paid, "Zahlung lt. Avis"),
        );
        p.run_idle();
        p.ok(&["clock", "advance", "6m"]);
        p.run_idle();
        for i in [&i1, &i2] {
            assert_eq!(
                p.state_of(&num(i)),
                "paid",
                "{}",
                p.ok(&["status", &num(i)])
            );
        }
        let after = p.json(&["invoice", &num(&i2)]);
        assert_eq!(money(cents(&after["written_off"])), "5.00", "{after}");
        assert_eq!(cents(&after["open_amount"]), 0, "{after}");

        // The ledger: the deduction on 8700, receivables tie to the open invoices.
        let tb = p.json(&["ledger", "trial-balance"]);
        assert_eq!(tb["balanced"], json!(true), "{tb}");
        let ded = tb["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["account"] == "8700")
            .unwrap_or_else(|| panic!("no 8700 row: {tb}"));
        assert_eq!(money(cents(&ded["debit"])), "5.00", "{tb}");
        let check = p.json(&["ledger", "check"]);
        assert_eq!(check["problems"], json!([]), "{check}");
        assert_eq!(check["receivables"], check["open_items"], "{check}");

        // A second credit of the same amount: the advice is consumed, nothing is allocated by it.
        p.write(
            "data/bank/main-eur/inbox/stmt-r2.xml",
            &camt("STMT-R2", &date, &paid, "RA-2026-7001"),
        );
        p.run_idle();
        p.ok(&["clock", "advance", "6m"]);
        p.run_idle();
        let ex = p.json(&["recon", "exceptions"]);
        let list = ex.as_array().cloned().unwrap_or_default();
        assert_eq!(list.len(), 1, "{ex}");
        assert_eq!(money(cents(&list[0]["amount"])), paid, "{ex}");
    }
);

/// `ordo check` locates a bad `advices:` entry of config/reconciliation.yaml at its line.
#[test]
fn check_locates_bad_advice_policy_entries() {
    let p = Project::embedded("remit-check");
    setup(&p);
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(repo.join("config/reconciliation.yaml")).expect("policy");
    let line = text
        .lines()
        .position(|l| l.trim_start().starts_with("\"04\":"))
        .expect("a 04 entry")
        + 1;
    p.write(
        "config/reconciliation.yaml",
        &text.replacen(
            "\"04\": customer-deductions",
            "\"0 4\": customer-deductions",
            1,
        ),
    );
    let (_, err) = p.expect_code(1, &["check"]);
    assert!(
        err.contains(&format!(
            "config/reconciliation.yaml:{line}:5: advices.adjustments: reason code \"0 4\" is not 1 to 8 letters or digits"
        )),
        "{err}"
    );
    p.write(
        "config/reconciliation.yaml",
        &text.replacen("\"04\": customer-deductions", "\"04\": \"two words\"", 1),
    );
    let (_, err) = p.expect_code(1, &["check"]);
    assert!(
        err.contains(&format!("config/reconciliation.yaml:{line}:"))
            && err.contains("account \"two words\""),
        "{err}"
    );
}
