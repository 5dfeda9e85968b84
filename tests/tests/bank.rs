//! Finance's view end to end, on both backends: orders are invoiced, a camt.053 dropped into
//! the bank account's inbound folder is imported by `ordo run`, the bank-reconciliation
//! workflow (cron) matches it, the invoices' collection instances end `paid`, the payment
//! nobody could match waits in `ordo recon exceptions` until finance confirms it. The same
//! statement again, and a statement whose balances do not add up, are quarantined with a
//! reason and book nothing.

use ordo_tests::Project;
use ordo_tests::api::today;
use ordo_tests::both;
use ordo_tests::camt::money;
use serde_json::{Value, json};

const INBOX: &str = "data/bank/main-eur/inbox";

fn setup(p: &Project) {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for f in ["config/banks/main-eur.yaml", "config/reconciliation.yaml"] {
        let text = std::fs::read_to_string(repo.join(f)).expect("repo config");
        p.write(f, &text);
    }
}

fn order(id: &str, customer: &str, lines: &[(&str, u32)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, q))| json!({ "line_no": i + 1, "sku": sku, "quantity": q }))
        .collect();
    json!({ "id": id, "customer_id": customer, "po_number": id, "order_date": "2026-11-23", "currency": "EUR", "lines": lines })
}

fn invoice(p: &Project, number: &str) -> Value {
    let out = p.ok(&["invoice", number]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("invoice {number}: {e}: {out}"))
}

/// Invoice number of ORDER's first invoice.
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

/// A camt.053.001.08 statement with one credit entry per (amount, payer, iban, text).
fn camt(id: &str, entries: &[(String, &str, &str, String)], closing_delta: &str) -> String {
    let entries: Vec<ordo_tests::camt::Credit> = entries
        .iter()
        .map(|(a, n, i, t)| (a.clone(), n.to_string(), i.to_string(), t.clone()))
        .collect();
    let delta = closing_delta.parse::<i64>().unwrap_or(0);
    ordo_tests::camt::camt053(id, &today(), &entries, delta)
}

both!(statement_to_paid_invoices, |p: &Project| {
    setup(p);
    p.ok(&["data", "import", "config/seed.json"]);
    let orders = json!([
        order("CORA-9", "C-CORA", &[("BOLT-M8", 3), ("WID-100", 2)]),
        order("ACME-9", "C-ACME", &[("WID-100", 4)]),
        order("BOLT-9", "C-BOLT", &[("WID-100", 2)]),
    ]);
    p.write("orders.json", &orders.to_string());
    p.ok(&["submit", "orders.json"]);
    p.run_idle();
    for o in ["CORA-9", "ACME-9", "BOLT-9"] {
        assert_eq!(p.state_of(o), "completed", "{o}: {}", p.ok(&["status", o]));
    }
    let cora = invoice_of(p, "CORA-9");
    let acme = invoice_of(p, "ACME-9");
    let bolt = invoice_of(p, "BOLT-9");
    let num = |v: &Value| v["number"].as_str().unwrap_or_default().to_string();

    // Cora pays exactly, naming the invoice; Acme pays within 10 days less its 2 % discount,
    // naming the invoice with a prefix and without leading zeros; Bolt's money comes from an
    // account nobody knows, without text.
    let acme_net = {
        let total = money(&acme["total"]);
        let disc = money(&acme["discount_amount"]);
        let t: i64 = total.replace('.', "").parse().unwrap();
        let d: i64 = disc.replace('.', "").parse().unwrap();
        format!("{}.{:02}", (t - d) / 100, (t - d) % 100)
    };
    let acme_no = num(&acme);
    let acme_short = acme_no.trim_start_matches("INV-").trim_start_matches('0');
    let day = camt(
        "STMT-1",
        &[
            (
                money(&cora["total"]),
                "CORA SUPPLIES SA",
                "FR1420041010050500013M02606",
                format!("Facture {}", num(&cora)),
            ),
            (
                acme_net.clone(),
                "Acme Retail GmbH",
                "DE89370400440532013000",
                format!("Rechnung Nr. {acme_short}"),
            ),
            (
                money(&bolt["total"]),
                "Nordwind Treuhand",
                "NL91ABNA0417164300",
                "Sammelzahlung".into(),
            ),
        ],
        "0",
    );
    p.write(&format!("{INBOX}/stmt-1.xml"), &day);

    // `ordo run` imports the file; the cron (every 5 min) reconciles once business time passes.
    p.run_idle();
    assert!(
        p.path("data/bank/main-eur/archive/stmt-1.xml").exists(),
        "archived after import"
    );
    assert!(!p.path(&format!("{INBOX}/stmt-1.xml")).exists());
    p.ok(&["clock", "advance", "6m"]);
    p.run_idle();

    assert_eq!(
        p.state_of(&num(&cora)),
        "paid",
        "{}",
        p.ok(&["status", &num(&cora)])
    );
    assert_eq!(
        p.state_of(&num(&acme)),
        "paid",
        "{}",
        p.ok(&["status", &num(&acme)])
    );
    let acme_after = invoice(p, &num(&acme));
    assert_eq!(acme_after["status"], "paid");
    assert_eq!(
        money(&acme_after["discount_taken"]),
        money(&acme["discount_amount"])
    );
    // The reconciliation instance ended, and says what it did.
    let runs = p.json(&["instances"]);
    let recon = runs["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["workflow"] == "bank-reconciliation" && i["end_status"] == "reconciled")
        .cloned()
        .unwrap_or_else(|| panic!("no reconciled run: {runs}"));
    assert_eq!(
        recon["data"]["reconciliation"]["matched"],
        json!(2),
        "{recon}"
    );

    // Bolt's payment waits for finance, with the best candidate.
    let ex = p.json(&["recon", "exceptions"]);
    let list = ex.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{ex}");
    assert_eq!(list[0]["counterparty_name"], "Nordwind Treuhand");
    assert_eq!(p.state_of(&num(&bolt)), "waiting");
    let table = p.ok(&["recon", "exceptions"]);
    assert!(
        table.contains("EX-000001") && table.contains("Nordwind Treuhand"),
        "{table}"
    );
    // A wrong decision is refused and changes nothing.
    let (_, err) = p.expect_code(1, &["recon", "match", "EX-000001", "INV-999999"]);
    assert!(err.contains("no invoice 'INV-999999'"), "{err}");
    let out = p.ok(&[
        "recon",
        "match",
        "EX-000001",
        &num(&bolt),
        "--learn",
        "--note",
        "Bolt's factor",
    ]);
    assert!(
        out.contains("EX-000001 matched")
            && out.contains("learned: payments from NL91ABNA0417164300"),
        "{out}"
    );
    p.run_idle();
    assert_eq!(p.state_of(&num(&bolt)), "paid");
    assert!(
        p.json(&["recon", "exceptions"])
            .as_array()
            .is_some_and(|a| a.is_empty())
    );

    // The report per statement is stored and written as JSON and CSV.
    let reports = p.json(&["recon", "reports"]);
    assert_eq!(reports[0]["report"]["matched"], json!(2), "{reports}");
    assert_eq!(reports[0]["report"]["exceptions"], json!(1));
    assert!(
        p.path("data/outbound/recon-reports/main-eur-STMT-1.json")
            .exists()
    );
    let csv = std::fs::read_to_string(p.path("data/outbound/recon-reports/main-eur-STMT-1.csv"))
        .expect("csv report");
    assert!(
        csv.contains("main-eur:STMT-1/1") && csv.contains("reference"),
        "{csv}"
    );

    // The same statement again (resent by the bank): quarantined with a reason, nothing booked.
    // Everything but the kept raw files stays as it is.
    let booked = || -> String {
        p.ok(&["summary"])
            .lines()
            .filter(|l| !l.starts_with("bank_file"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let payments_before = booked();
    p.write(&format!("{INBOX}/stmt-1-again.xml"), &day);
    p.run_idle();
    let reason = std::fs::read_to_string(
        p.path("data/bank/main-eur/quarantine/stmt-1-again.xml.reason.txt"),
    )
    .expect("reason file");
    assert!(reason.contains("duplicate, nothing booked"), "{reason}");
    // A statement whose balances do not add up: quarantined, located, nothing booked.
    let bad = camt(
        "STMT-2",
        &[(
            "10.00".into(),
            "X",
            "NL91ABNA0417164300",
            "INV-000001".into(),
        )],
        "5",
    );
    p.write(&format!("{INBOX}/stmt-2.xml"), &bad);
    p.run_idle();
    let reason =
        std::fs::read_to_string(p.path("data/bank/main-eur/quarantine/stmt-2.xml.reason.txt"))
            .expect("reason file");
    assert!(
        reason.starts_with("rejected, nothing booked: stmt-2.xml:"),
        "{reason}"
    );
    p.ok(&["clock", "advance", "6m"]);
    p.run_idle();
    assert_eq!(booked(), payments_before, "nothing booked from either file");
    let (_, err) = p.expect_code(1, &["recon", "import", "stmt.xml", "--account", "nope"]);
    assert!(err.contains("no bank account profile 'nope'"), "{err}");
    assert_index_equals_documents(p);
});

/// `ordo recon check-index`: the open-items index, kept by every step that writes an invoice,
/// equals what the invoice documents say (issue 19 point 3).
fn assert_index_equals_documents(p: &Project) {
    let check = p.json(&["recon", "check-index"]);
    assert_eq!(check["differences"], json!([]), "{check}");
}

// A customer pays one invoice in two transfers booked on the same statement: both are matched
// in one run, the first resolves the invoice's wait and the second is kept until the instance
// waits again, so the invoice ends paid with both payments applied and nothing left over.
both!(
    two_transfers_for_one_invoice_on_one_statement,
    |p: &Project| {
        setup(p);
        p.ok(&["data", "import", "config/seed.json"]);
        let orders = json!([order(
            "CORA-7",
            "C-CORA",
            &[("BOLT-M8", 40), ("WID-100", 9)]
        )]);
        p.write("orders.json", &orders.to_string());
        p.ok(&["submit", "orders.json"]);
        p.run_idle();
        assert_eq!(
            p.state_of("CORA-7"),
            "completed",
            "{}",
            p.ok(&["status", "CORA-7"])
        );
        let inv = invoice_of(p, "CORA-7");
        let number = inv["number"].as_str().unwrap_or_default().to_string();
        let cents: i64 = money(&inv["total"])
            .replace('.', "")
            .parse()
            .expect("total");
        let first = cents / 2;
        let second = cents - first;
        let eur = |c: i64| format!("{}.{:02}", c / 100, c % 100);
        let day = camt(
            "STMT-7",
            &[
                (
                    eur(first),
                    "CORA SUPPLIES SA",
                    "FR1420041010050500013M02606",
                    format!("{number} part 1"),
                ),
                (
                    eur(second),
                    "CORA SUPPLIES SA",
                    "FR1420041010050500013M02606",
                    format!("{number} part 2"),
                ),
            ],
            "0",
        );
        p.write(&format!("{INBOX}/stmt-7.xml"), &day);
        p.run_idle();
        p.ok(&["clock", "advance", "6m"]);
        p.run_idle();
        let after = invoice(p, &number);
        assert_eq!(
            p.state_of(&number),
            "paid",
            "{}",
            p.ok(&["status", &number])
        );
        assert_eq!(after["status"], "paid", "{after}");
        assert_eq!(money(&after["open_amount"]), "0.00", "{after}");
        let paid: Vec<String> = after["payments"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| money(&p["applied"]))
            .collect();
        assert_eq!(paid, [eur(first), eur(second)], "{after}");
        assert!(
            p.json(&["recon", "exceptions"])
                .as_array()
                .is_some_and(|a| a.is_empty())
        );
    }
);

#[test]
fn check_locates_bad_bank_profiles_and_policy() {
    let p = Project::embedded("bank-check");
    setup(&p);
    p.ok(&["check"]);
    p.write(
        "config/banks/main-eur.yaml",
        "account: main-eur\niban: DE44 5001 0517 5407 3249 32\ncurrency: EUR\n",
    );
    p.write(
        "config/reconciliation.yaml",
        "matching:\n  tolerance: 1.00\n  tolerence: 2\n",
    );
    let (_, err) = p.expect_code(1, &["check"]);
    assert!(
        err.contains(
            "config/banks/main-eur.yaml:2:1: 'DE44 5001 0517 5407 3249 32' is not a valid IBAN"
        ),
        "{err}"
    );
    assert!(err.contains("config/reconciliation.yaml:3:3:"), "{err}");
    assert!(err.contains("tolerence"), "{err}");
}

// Issue 19 point 3: a statement larger than `chunk_entries` is matched by the
// bank-reconciliation workflow in several steps, one transaction each (the workflow comes
// back through its short wait), and its one report covers every entry; `ordo recon run` does
// the same chunk by chunk.
both!(a_large_statement_is_reconciled_in_chunks, |p: &Project| {
    setup(p);
    let policy = std::fs::read_to_string(p.path("config/reconciliation.yaml")).expect("policy");
    p.write(
        "config/reconciliation.yaml",
        &policy.replace("chunk_entries: 10000", "chunk_entries: 100"),
    );
    // Payments nobody can match (no invoices at all): each waits for finance.
    let entries: Vec<(String, &str, &str, String)> = (0..250)
        .map(|i| {
            (
                format!("{}.{:02}", 10 + i, i % 100),
                "Somebody Else",
                "NL91ABNA0417164300",
                format!("payment {i}"),
            )
        })
        .collect();
    p.write(
        &format!("{INBOX}/big.xml"),
        &camt("STMT-BIG", &entries, "0"),
    );
    p.run_idle();
    p.ok(&["clock", "advance", "6m"]);
    p.run_idle();
    let runs = p.json(&["instances"]);
    let recon: Vec<&Value> = runs["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["workflow"] == "bank-reconciliation" && i["end_status"] == "reconciled")
        .collect();
    assert_eq!(recon.len(), 1, "{runs}");
    // The last chunk's summary: the statement's 50 last entries.
    assert_eq!(
        recon[0]["data"]["reconciliation"]["exceptions"],
        json!(50),
        "{}",
        recon[0]
    );
    let reports = p.json(&["recon", "reports"]);
    assert_eq!(reports.as_array().map(Vec::len), Some(1), "{reports}");
    assert_eq!(reports[0]["report"]["payments"], json!(250), "{reports}");
    assert_eq!(reports[0]["report"]["exceptions"], json!(250));
    assert_eq!(reports[0]["exceptions"].as_array().map(Vec::len), Some(250));
    let ex = p.json(&["recon", "exceptions"]);
    assert_eq!(ex.as_array().map(Vec::len), Some(250));

    // By hand: `ordo recon import` then `ordo recon run`, three committed chunks.
    let more: Vec<(String, &str, &str, String)> = entries
        .iter()
        .map(|(a, n, i, t)| (a.clone(), *n, *i, format!("{t} again")))
        .collect();
    p.write("big-2.xml", &camt("STMT-BIG-2", &more, "0"));
    p.ok(&["recon", "import", "big-2.xml", "--account", "main-eur"]);
    let s = p.json(&["recon", "run"]);
    assert_eq!(s["chunks"], json!(3), "{s}");
    assert_eq!(s["exceptions"], json!(250), "{s}");
    assert_eq!(s["statements"], json!(1), "{s}");
    assert_index_equals_documents(p);
});
