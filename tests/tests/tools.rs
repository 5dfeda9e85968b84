//! `ordo edi …` and `ordo bank …`: the command-line front ends over the pure EDI and bank
//! crates, on the crates' own fixtures (referred to in place, not copied) and small inline files.
//! None of these commands opens the store.

use ordo_tests::Project;
use serde_json::Value;
use std::path::PathBuf;

/// Absolute path of a file in the workspace (the commands run in a scratch directory).
fn ws(rel: &str) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    root.join(rel).display().to_string()
}

fn edi(name: &str) -> String {
    ws(&format!("connectors/edi/tests/fixtures/{name}"))
}

/// A copy of an X12 850 sample in the project with its CTT01 corrected to the five PO1 lines
/// it has: the upstream sample states 1, which the line-count check rightly rejects.
fn edi_ctt_fixed(p: &Project, name: &str) -> String {
    let text = std::fs::read_to_string(edi(name)).expect("fixture");
    assert!(text.contains("CTT*1*"), "{name}");
    p.write(name, &text.replace("CTT*1*", "CTT*5*"));
    p.path(name).display().to_string()
}

fn bank(name: &str) -> String {
    ws(&format!("connectors/bank/tests/fixtures/{name}"))
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn edi_850_parses_and_maps_to_an_order() {
    let p = Project::embedded("tools-850");
    let f = edi_ctt_fixed(&p, "x12-4010-850-basic-lf.edi");
    let v = p.json(&["edi", "parse", &f]);
    assert_eq!(v["valid"], true, "{v}");
    let ich = &v["interchanges"][0];
    assert_eq!(ich["control_number"], "000001403");
    assert_eq!(ich["standard"], "x12");
    let set = &ich["groups"][0]["transactions"][0];
    assert_eq!(set["set_id"], "850");
    assert_eq!(set["status"], "A");
    let segs = set["segments"].as_array().cloned().unwrap_or_default();
    assert_eq!(segs.len(), 46);
    assert_eq!(segs[1]["tag"], "BEG");
    assert_eq!(segs[1]["position"], 2);
    assert_eq!(segs[1]["line"], 4);
    assert_eq!(segs[1]["elements"][2], "548177");
    assert_eq!(ich["envelope"][0]["tag"], "ISA");

    let orders = p.json(&[
        "edi",
        "to-order",
        &f,
        "--customer",
        "C1",
        "--partner",
        "acme",
    ]);
    let list = orders.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{orders}");
    assert_eq!(list[0]["po_number"], "548177");
    assert_eq!(list[0]["id"], "C1-548177");
    assert_eq!(list[0]["partner"], "acme");
    assert_eq!(list[0]["lines"].as_array().map(Vec::len), Some(5));

    // EDIFACT: one Order per ORDERS message
    let v = p.json(&[
        "edi",
        "to-order",
        &edi("edifact-d96a-orders-two-msgs-no-una.edi"),
        "--customer",
        "C9",
    ]);
    assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");
}

#[test]
fn broken_edi_exits_1_with_located_errors() {
    let p = Project::embedded("tools-edi-bad");
    let f = edi("x12-4010-850-missing-beg.edi");
    let (out, err) = p.expect_code(1, &["edi", "parse", &f, "--no-segments"]);
    assert!(
        err.contains(&format!(
            "{f}:4:1: interchange 000001403 group 1403 transaction 01403001: segment 4 BEG (set pos 2)"
        )),
        "{err}"
    );
    assert!(err.contains("mandatory segment missing"), "{err}");
    // what could be read is still printed, marked invalid, with the issue located
    let v = parse_json(&out);
    assert_eq!(v["valid"], false);
    let issue = &v["interchanges"][0]["issues"][0];
    assert_eq!(issue["code"], "MandatorySegmentMissing");
    assert_eq!(issue["x12"], "3");
    assert_eq!(issue["segment"]["position"], 2);
    assert_eq!(
        v["interchanges"][0]["groups"][0]["transactions"][0]["status"],
        "R"
    );

    // a rejected set is not mapped
    let (out, err) = p.expect_code(1, &["edi", "to-order", &f, "--customer", "C1"]);
    assert_eq!(parse_json(&out), serde_json::json!([]));
    assert!(err.contains("850 rejected, not mapped"), "{err}");

    // element-level location: the SE01 value, line 48 column 4
    let f = edi("x12-4010-850-wrong-se-count.edi");
    let (_, err) = p.expect_code(1, &["edi", "parse", &f]);
    assert!(err.contains(&format!("{f}:48:4: ")), "{err}");
    assert!(
        err.contains("element 1: number of included segments is wrong"),
        "{err}"
    );

    // unreadable bytes and a truncated ISA
    let f = edi("own-garbage-and-truncated-isa.edi");
    let (_, err) = p.expect_code(1, &["edi", "parse", &f]);
    assert!(err.contains(&format!("{f}:1:1: byte 0: ")), "{err}");
}

#[test]
fn ack_of_a_wrong_se_count_rejects_the_set() {
    let p = Project::embedded("tools-ack");
    let f = edi_ctt_fixed(&p, "x12-4010-850-wrong-se-count.edi");
    let out = p.ok(&[
        "edi",
        "ack",
        &f,
        "--control",
        "7",
        "--at",
        "2026-03-02T10:30",
    ]);
    let segs: Vec<&str> = out.lines().collect();
    assert!(
        segs[0].starts_with(
            "ISA*00*          *00*          *08*222222222222   *08*1111111111     *260302*1030*"
        ),
        "sender and receiver swapped: {out}"
    );
    assert!(segs[0].contains("*000000007*"), "{out}");
    assert!(segs.contains(&"ST*997*0001~"), "{out}");
    assert!(segs.contains(&"AK1*PO*1403~"), "{out}");
    assert!(segs.contains(&"AK2*850*01403001~"), "{out}");
    assert!(segs.contains(&"AK5*R*4~"), "{out}");
    assert!(segs.contains(&"AK9*R*1*1*0~"), "{out}");
    // the ack itself reads back clean
    p.write("ack.edi", &out);
    p.ok(&["edi", "parse", "ack.edi"]);

    let out = p.ok(&["edi", "ack", &f, "--999"]);
    assert!(out.contains("ST*999*0001*005010X231A1~"), "{out}");
    assert!(out.contains("IK5*R*4~"), "{out}");

    let v = p.json(&["edi", "ack", &f]);
    assert_eq!(v["acks"][0]["kind"], "997");
    assert_eq!(v["acks"][0]["groups"][0]["status"], "Rejected");

    // EDIFACT: CONTRL, UCM rejecting the message with 0085 = 29 (wrong UNT count)
    let out = p.ok(&[
        "edi",
        "ack",
        &edi("edifact-d96a-orders-wrong-unt-count.edi"),
    ]);
    assert!(out.contains("UNH+1+CONTRL:D:3:UN'"), "{out}");
    assert!(out.contains("+4+29+UNT'"), "{out}");
}

/// A well-formed set ordo has no table for parses (a warning, exit 0); the ack rejects it with
/// code 1 unless --accept lists it; acknowledgments are never acknowledged.
#[test]
fn unknown_sets_parse_with_a_warning_and_acks_are_not_acknowledged() {
    let p = Project::embedded("tools-unknown-sets");
    let f = edi("own-x12-4010-846-and-214-not-mapped.edi");
    let (out, err) = p.expect_code(0, &["edi", "parse", &f, "--no-segments"]);
    assert!(
        err.contains(&format!(
            "{f}:3:1: warning: interchange 000000501 group 501 transaction 0001: 846 is not mapped by ordo"
        )),
        "{err}"
    );
    assert!(err.contains(&format!("{f}:12:1: warning: ")), "{err}");
    let v = parse_json(&out);
    assert_eq!(v["valid"], true, "{v}");
    let ich = &v["interchanges"][0];
    assert_eq!(ich["groups"][0]["transactions"][0]["mapped"], false);
    assert_eq!(ich["warnings"].as_array().map(Vec::len), Some(2), "{ich}");

    // not in the accepted sets (default 850, ORDERS, 860, ORDCHG, 997, 999, CONTRL): rejected, code 1
    let out = p.ok(&["edi", "ack", &f]);
    assert!(out.contains("AK2*846*0001~\nAK5*R*1~"), "{out}");
    assert!(out.contains("AK2*214*0001~\nAK5*R*1~"), "{out}");
    let out = p.ok(&["edi", "ack", &f, "--999"]);
    assert!(out.contains("IK5*R*1~"), "{out}");
    // listed: accepted
    let out = p.ok(&["edi", "ack", &f, "--accept", "850,846,214"]);
    assert!(out.contains("AK2*846*0001~\nAK5*A~"), "{out}");
    assert!(!out.contains("AK5*R"), "{out}");

    // a file of 997s: nothing written, said so, exit 0
    let f = edi("x12-4010-997-accepted-four-st.edi");
    let (out, err) = p.expect_code(0, &["edi", "ack", &f]);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains(&format!(
            "{f}:1:1: interchange 000000001: holds only acknowledgments"
        )),
        "{err}"
    );
    let v = p.json(&["edi", "ack", &f]);
    assert_eq!(v["acks"], serde_json::json!([]), "{v}");
    assert_eq!(v["skipped"][0]["interchange"], "000000001", "{v}");
    for f in ["x12-4010-ta1-only.edi", "x12-5010-999-accepted.edi"] {
        let (out, _) = p.expect_code(0, &["edi", "ack", &edi(f)]);
        assert!(out.is_empty(), "{f}: {out}");
    }
    // orders next to a group of 997s: only the orders' group is acknowledged
    let out = p.ok(&["edi", "ack", &edi("own-x12-4010-850-and-997-groups.edi")]);
    assert!(out.contains("AK1*PO*601~"), "{out}");
    assert!(!out.contains("AK1*FA"), "{out}");
}

#[test]
fn rendered_documents_parse_back_clean() {
    let p = Project::embedded("tools-render");
    let orders = p.ok(&[
        "edi",
        "to-order",
        &edi_ctt_fixed(&p, "x12-4010-850-basic-lf.edi"),
        "--customer",
        "C1",
    ]);
    p.write("orders.json", &orders);
    let order = parse_json(&orders)[0].clone();

    let x12 = p.ok(&[
        "edi",
        "render",
        "order",
        "orders.json",
        "--receiver",
        "08:1111111111",
        "--control",
        "42",
        "--at",
        "2026-03-02T10:30",
    ]);
    assert!(x12.contains("*000000042*"), "{x12}");
    p.write("855.edi", &x12);
    let v = p.json(&["edi", "parse", "855.edi"]);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(
        v["interchanges"][0]["groups"][0]["transactions"][0]["set_id"],
        "855"
    );

    let ordrsp = p.ok(&[
        "edi",
        "render",
        "855",
        "orders.json",
        "--version",
        "d01b",
        "--separators",
        ":+,? '",
    ]);
    p.write("ordrsp.edi", &ordrsp);
    let v = p.json(&["edi", "parse", "ordrsp.edi"]);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["interchanges"][0]["separators"]["decimal"], ",");
    assert_eq!(
        v["interchanges"][0]["groups"][0]["transactions"][0]["set_id"],
        "ORDRSP"
    );

    let id = order["id"].as_str().unwrap_or_default().to_string();
    let shipment = serde_json::json!({
        "shipment": {
            "id": "SH-1", "order_id": id, "ship_date": "2026-03-03", "carrier": "UPSN",
            "service": "GROUND", "tracking_number": "1Z999AA10123456784",
            "packages": [{ "sscc": "000123456789012347", "weight_kg": 12.5,
                "lines": [{ "line_no": 1, "sku": "22222", "quantity": 10, "uom": "CA" }] }]
        },
        "order": order,
    });
    p.write("shipment.json", &shipment.to_string());
    for version in ["5010", "d96a"] {
        let out = p.ok(&[
            "edi",
            "render",
            "shipment",
            "shipment.json",
            "--version",
            version,
        ]);
        p.write("856.edi", &out);
        let v = p.json(&["edi", "parse", "856.edi"]);
        assert_eq!(v["valid"], true, "{version}: {v}");
    }

    let invoice = serde_json::json!([{
        "number": "INV-1", "order_id": id, "customer_id": "C1", "issue_date": "2026-03-04",
        "due_date": "2026-04-03", "currency": "EUR",
        "terms": { "net_days": 30, "discount_percent": 2, "discount_days": 10 },
        "lines": [{ "line_no": 1, "sku": "22222", "quantity": 10, "uom": "CA", "unit_price": 12.5,
            "net_amount": 125.00, "tax_rate": 19, "tax_amount": 23.75 }],
        "net_total": 125.00, "tax_total": 23.75, "total": 148.75
    }]);
    p.write("invoices.json", &invoice.to_string());
    // the order is needed and comes from --order
    let (_, err) = p.expect_code(1, &["edi", "render", "invoice", "invoices.json"]);
    assert!(err.contains("invoice #1: no order 'C1-548177'"), "{err}");
    for standard in ["x12", "edifact"] {
        let out = p.ok(&[
            "edi",
            "render",
            "invoice",
            "invoices.json",
            "--order",
            "orders.json",
            "--standard",
            standard,
        ]);
        p.write("810.edi", &out);
        let v = p.json(&["edi", "parse", "810.edi"]);
        assert_eq!(v["valid"], true, "{standard}: {v}");
    }

    // usage errors exit 2
    p.expect_code(
        2,
        &[
            "edi",
            "render",
            "order",
            "orders.json",
            "--separators",
            "**~",
        ],
    );
    p.expect_code(
        2,
        &[
            "edi",
            "render",
            "order",
            "orders.json",
            "--standard",
            "edifact",
            "--version",
            "4010",
        ],
    );
}

fn entry_count(v: &Value) -> usize {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| s["entries"].as_array().map_or(0, Vec::len))
        .sum()
}

#[test]
fn bank_parse_gives_normalized_statements() {
    let p = Project::embedded("tools-bank-parse");
    let v = p.json(&[
        "bank",
        "parse",
        &bank("camt053_v04_postfinance_ch_batches_charges.xml"),
    ]);
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    assert_eq!(v[0]["format"], "camt053");
    assert_eq!(entry_count(&v), 13);
    let v = p.json(&["bank", "parse", &bank("mt940_bunq_nl_111_entries.sta")]);
    assert_eq!(v[0]["format"], "mt940");
    assert_eq!(entry_count(&v), 111);
    let v = p.json(&[
        "bank",
        "parse",
        &bank("csv_sparkasse_de_csv_camt_v8.csv"),
        "--csv-mapping",
        "sparkasse-camt-v8",
    ]);
    assert_eq!(v[0]["format"], "csv");
}

#[test]
fn unbalanced_statement_exits_1_with_nothing_printed() {
    let p = Project::embedded("tools-bank-bad");
    let f = bank("broken_camt053_v02_unbalanced.xml");
    let (out, err) = p.expect_code(1, &["bank", "parse", &f]);
    assert_eq!(out, "", "nothing partial on stdout");
    assert!(
        err.contains(&format!("{f}:111: Document/BkToCstmrStmt/Stmt: statement 253EURNL26VAYB8060476890 does not balance")),
        "{err}"
    );
    let f = bank("broken_mt940_unbalanced.sta");
    let (out, err) = p.expect_code(1, &["bank", "parse", &f]);
    assert_eq!(out, "");
    assert!(
        err.contains(&format!("{f}:1:1: statement STARTUMS does not balance")),
        "{err}"
    );
    // --lenient imports it with a warning
    let v = p.json(&["bank", "parse", &f, "--lenient"]);
    assert!(
        v[0]["warnings"][0]
            .as_str()
            .unwrap_or_default()
            .contains("unbalanced"),
        "{v}"
    );
    // CSV without a mapping, or an unknown preset
    let f = bank("csv_sparkasse_de_csv_camt_v8.csv");
    let (_, err) = p.expect_code(1, &["bank", "parse", &f]);
    assert!(err.contains("unrecognised statement format"), "{err}");
    p.expect_code(1, &["bank", "parse", &f, "--csv-mapping", "no-such-bank"]);
}

const STATEMENT: &str = "\
:20:ORDO-TEST-1
:25:DE89370400440532013000
:28C:1/1
:60F:C260301EUR1000,00
:61:2603020302C114,15NTRFNONREF//BANKREF1
:86:PAYMENT RE INV-2026-0042 ACME RETAIL
:61:2603020302C77,70NTRFNONREF//BANKREF2
:86:JOHN DOE BIRTHDAY MONEY
:62F:C260302EUR1191,85
-
";

#[test]
fn reconcile_matches_by_reference_and_queues_unknown_payers() {
    let p = Project::embedded("tools-recon");
    p.write("stmt.sta", STATEMENT);
    p.write(
        "invoices.csv",
        "number,customer,amount_open,currency,due_date,terms\n\
         INV-2026-0042,C042,114.15,EUR,2026-04-03,2/10 net 30\n\
         INV-2026-0043,C043,500.00,EUR,2026-04-05,net 30\n",
    );
    p.write(
        "customers.csv",
        "id,name,ibans\nC042,ACME Retail,DE44500105175407324931\nC043,Globex,\n",
    );
    let v = p.json(&[
        "bank",
        "reconcile",
        "--statement",
        "stmt.sta",
        "--invoices",
        "invoices.csv",
        "--customers",
        "customers.csv",
        "--csv",
        "report.csv",
    ]);
    let matches = v["matches"].as_array().cloned().unwrap_or_default();
    assert_eq!(matches.len(), 1, "{v}");
    assert_eq!(matches[0]["entry_ref"], "ORDO-TEST-1/1");
    assert_eq!(matches[0]["rule"], "reference");
    assert_eq!(matches[0]["customer_id"], "C042");
    assert_eq!(matches[0]["allocations"][0]["invoice"], "INV-2026-0042");
    let exceptions = v["exceptions"].as_array().cloned().unwrap_or_default();
    assert_eq!(exceptions.len(), 1, "{v}");
    assert_eq!(exceptions[0]["entry_ref"], "ORDO-TEST-1/2");
    assert_eq!(exceptions[0]["reason"], "no reference and payer unknown");
    assert_eq!(v["report"][0]["matched"], 1);
    assert_eq!(v["report"][0]["exceptions"], 1);
    let csv = std::fs::read_to_string(p.path("report.csv")).unwrap_or_default();
    assert!(
        csv.starts_with("entry_ref,amount,currency,status,"),
        "{csv}"
    );
    assert!(
        csv.contains("ORDO-TEST-1/1,114.15,EUR,matched,reference,99,C042,INV-2026-0042=114.15"),
        "{csv}"
    );
    assert!(csv.contains("ORDO-TEST-1/2,77.70,EUR,exception,"), "{csv}");

    // the same invoices as JSON, terms as text or as fields; no customers file
    p.write(
        "invoices.json",
        r#"{"invoices": [
  {"number": "INV-2026-0042", "customer_id": "C042", "amount": 114.15, "currency": "EUR",
   "due_date": "2026-04-03", "terms": "2/10 net 30"},
  {"number": "INV-2026-0043", "customer": "C043", "amount_open": "500.00", "currency": "EUR",
   "due_date": "2026-04-05", "terms": {"net_days": 30}}
]}"#,
    );
    let v = p.json(&[
        "bank",
        "reconcile",
        "--statement",
        "stmt.sta",
        "--invoices",
        "invoices.json",
    ]);
    assert_eq!(v["summary"]["matched"], 1, "{v}");
    assert_eq!(v["summary"]["exceptions"], 1, "{v}");

    // min_confidence above every rule sends everything to the exceptions
    p.write("match.yaml", "min_confidence: 100\n");
    let v = p.json(&[
        "bank",
        "reconcile",
        "--statement",
        "stmt.sta",
        "--invoices",
        "invoices.csv",
        "--match-config",
        "match.yaml",
    ]);
    assert_eq!(v["summary"]["matched"], 0, "{v}");

    // invalid inputs are located, exit 1, nothing on stdout
    p.write(
        "bad.csv",
        "number,customer,amount_open,currency,due_date\nINV-1,C1,12.x,EUR,2026-04-03\n",
    );
    let (out, err) = p.expect_code(
        1,
        &[
            "bank",
            "reconcile",
            "--statement",
            "stmt.sta",
            "--invoices",
            "bad.csv",
        ],
    );
    assert_eq!(out, "");
    assert!(
        err.contains("bad.csv:2:10: amount_open \"12.x\" is not a decimal amount"),
        "{err}"
    );
    p.write("bad.json", "[{\"number\": \"X\", \"customer\": \"C\", \"amount\": 1, \"currency\": \"EUR\",\n \"due_date\": \"2026-04-03\", \"terms\": \"whenever\"}]");
    let (_, err) = p.expect_code(
        1,
        &[
            "bank",
            "reconcile",
            "--statement",
            "stmt.sta",
            "--invoices",
            "bad.json",
        ],
    );
    assert!(err.contains("bad.json:2:"), "{err}");
    assert!(err.contains("payment terms 'whenever'"), "{err}");
    p.write(
        "unbalanced.sta",
        &STATEMENT.replace("EUR1191,85", "EUR1191,86"),
    );
    let (out, err) = p.expect_code(
        1,
        &[
            "bank",
            "reconcile",
            "--statement",
            "unbalanced.sta",
            "--invoices",
            "invoices.csv",
        ],
    );
    assert_eq!(out, "");
    assert!(err.contains("unbalanced.sta:"), "{err}");
    assert!(err.contains("does not balance"), "{err}");
}

/// `edi ack` rejects an 820 whose totals do not add up (AK4 at BPR02, AK5 R) and accepts a
/// good one, when `--accept` lists 820.
#[test]
fn ack_of_an_820_checks_its_totals() {
    let p = Project::embedded("tools-ack-820");
    for (name, verdict) in [
        ("x12-4010-820-totals-mismatch.edi", "AK5*R*5~"),
        ("x12-4010-820-remittance.edi", "AK5*A~"),
    ] {
        let f = edi(name);
        let out = p.ok(&[
            "edi",
            "ack",
            &f,
            "--accept",
            "820",
            "--at",
            "2026-03-02T10:30",
        ]);
        let segs: Vec<&str> = out.lines().collect();
        assert!(segs.contains(&"AK2*820*0001~"), "{name}: {out}");
        assert!(segs.contains(&verdict), "{name}: {out}");
        if verdict.contains('R') {
            assert!(
                segs.contains(&"AK3*BPR*2**8~") && segs.contains(&"AK4*2**7*1490.00~"),
                "{out}"
            );
        }
    }
}
