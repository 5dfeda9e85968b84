//! `ordo data import` (issue 18 point 2): one import for JSON, YAML and CSV, end to end through
//! the built binary. Every bad file is refused with located `path:line:col` errors — all of
//! them, not only the first — and nothing of it is stored; the three formats of the same data
//! store the same.

use ordo_tests::Project;
use serde_json::{Value, json};

/// Imports `text` as `file`, which must be refused; returns stderr, after checking that the
/// store holds no master data at all (the file is all or nothing).
fn refused(p: &Project, file: &str, text: &str, extra: &[&str]) -> String {
    p.write(file, text);
    let mut args = vec!["data", "import", file];
    args.extend_from_slice(extra);
    let (_, err) = p.expect_code(1, &args);
    assert!(err.contains("nothing imported"), "{err}");
    assert_eq!(stored(p), json!({ "documents": {}, "stock": {} }), "{err}");
    err
}

/// Master data in the store: documents per master data kind and stock levels (`ordo summary`).
fn stored(p: &Project) -> Value {
    let s = p.json(&["summary"]);
    let docs: serde_json::Map<String, Value> = s["documents"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| ["customer", "item", "supplier"].contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    json!({ "documents": docs, "stock": s["stock"] })
}

const GOOD_CUSTOMER: &str =
    r#"{ "id": "C-1", "name": "One", "currency": "EUR", "credit_limit": 100, "terms": "net 30" }"#;

#[test]
fn unknown_kinds_are_refused_by_key_and_by_file_name() {
    let p = Project::fixture("md-kind");
    let err = refused(
        &p,
        "bad.json",
        &format!("{{\"customer\": [{GOOD_CUSTOMER}],\n \"customers\": []}}"),
        &[],
    );
    assert!(
        err.contains(
            "bad.json:2:2: unknown kind 'customers' (expected customer, item, supplier, location or stock)"
        ),
        "{err}"
    );
    let csv = "id,name,currency,credit_limit,terms\nC-1,One,EUR,100,net 30\n";
    let err = refused(&p, "customers_2026.csv", csv, &[]);
    assert!(
        err.contains("customers_2026.csv: the file name does not say which master data it holds"),
        "{err}"
    );
    assert!(err.contains("--kind"), "{err}");
    let err = refused(&p, "customers_2026.csv", csv, &["--kind", "customers"]);
    assert!(err.contains("--kind customers: unknown kind"), "{err}");
    // Named, the same file imports.
    p.ok(&["data", "import", "customers_2026.csv", "--kind", "customer"]);
    assert_eq!(stored(&p)["documents"], json!({ "customer": 1 }));
}

#[test]
fn unknown_fields_and_missing_credit_limits_are_located_and_store_nothing() {
    let p = Project::fixture("md-fields");
    // Three errors in one file, each at its place; the good customer is not stored either.
    let text = format!(
        "{{\"customer\": [\n{GOOD_CUSTOMER},\n{{ \"id\": \"C-2\", \"name\": \"Two\", \"currency\": \"EUR\", \"terms\": \"net 30\" }},\n{{ \"id\": \"C-3\", \"name\": \"Three\", \"currency\": \"EUR\", \"credit_limit\": 5, \"terms\": \"net 30\", \"creditlimit\": 9 }}\n],\n\"stock\": [{{ \"item\": \"A\", \"location\": \"main\", \"quantity\": 5, \"bin\": \"7\" }}]}}"
    );
    let err = refused(&p, "bad.json", &text, &[]);
    assert!(
        err.contains("bad.json:3:1: customer 'C-2': missing field `credit_limit`"),
        "{err}"
    );
    assert!(
        err.contains("bad.json:4:90: customer 'C-3': unknown field 'creditlimit' (customer fields: id, name, currency, credit_limit,"),
        "{err}"
    );
    assert!(
        err.contains("bad.json:6:61: stock 'A': unknown field 'bin'"),
        "{err}"
    );
    // CSV: an unknown column is reported once, at the header.
    let err = refused(
        &p,
        "items.csv",
        "sku,description,price,colour\nA,a,1,red\nB,b,2,blue\n",
        &[],
    );
    assert_eq!(err.matches("unknown column").count(), 1, "{err}");
    assert!(
        err.contains("items.csv:1:23: unknown column 'colour' (item fields: sku,"),
        "{err}"
    );
}

#[test]
fn every_refused_spelling_of_terms_and_a_bad_iban_are_reported_at_their_values() {
    let p = Project::fixture("md-terms");
    let refused_terms = [
        "net thirty",
        "soon",
        "",
        "net 1000",
        "2/40 net 30",
        "0/10 net 30",
        "100/10 net 30",
        "net 30 days",
    ];
    let mut text = String::from("customer:\n");
    for (i, t) in refused_terms.iter().enumerate() {
        text.push_str(&format!(
            "  - {{ id: C-{i}, name: N, currency: EUR, credit_limit: 1, terms: \"{t}\" }}\n"
        ));
    }
    text.push_str(
        "  - { id: C-OK, name: N, currency: EUR, credit_limit: 1, terms: net 30,\n      bank_accounts: [DE89370400440532013000, DE88370400440532013000, \"123-456\"] }\n",
    );
    let err = refused(&p, "bad.yaml", &text, &[]);
    for (i, t) in refused_terms.iter().enumerate() {
        let want = format!(
            "bad.yaml:{}:64: customer 'C-{i}': terms: payment terms",
            i + 2
        );
        let line = err
            .lines()
            .find(|l| l.starts_with(&want))
            .unwrap_or_else(|| panic!("'{t}': no error {want}…\n{err}"));
        let reason = ordo_contract_reason(t);
        assert!(line.contains(reason), "'{t}': {line}");
    }
    assert!(
        err.contains(
            "bad.yaml:11:47: customer 'C-OK': bank_accounts: 'DE88370400440532013000' is not a valid IBAN"
        ),
        "{err}"
    );
    assert!(
        !err.contains("DE89370400440532013000") && !err.contains("123-456"),
        "a good IBAN and an account that is not an IBAN pass: {err}"
    );
    assert_eq!(err.lines().count(), refused_terms.len() + 2, "{err}");
}

/// What `PaymentTerms::parse` says about each refused spelling (connectors/contract/src/rules.rs).
fn ordo_contract_reason(t: &str) -> &'static str {
    match t {
        "" => "empty",
        "net 1000" => "longer than 999",
        "2/40 net 30" => "discount period (40 days) is longer",
        "0/10 net 30" | "100/10 net 30" => "percentage",
        _ => "not a number of days",
    }
}

#[test]
fn yaml_errors_are_located_at_line_and_column() {
    let p = Project::fixture("md-yaml");
    // Not YAML: serde-saphyr's place.
    let err = refused(
        &p,
        "bad.yaml",
        "customer:\n  - { id: C-1, name: One\n  - x\n",
        &[],
    );
    assert!(err.starts_with("bad.yaml:"), "{err}");
    let at = err.split(':').nth(1).and_then(|l| l.parse::<u32>().ok());
    assert!(at.is_some_and(|l| l >= 2), "a line number: {err}");
    // YAML, but a negative credit limit and an unknown field: each at its own place.
    let err = refused(
        &p,
        "bad.yaml",
        "customer:\n  - id: C-1\n    name: One\n    currency: EUR\n    credit_limit: -5\n    terms: net 30\n  - id: C-2\n    name: Two\n    currency: EUR\n    credit_limit: 5\n    terms: net 30\n    colour: red\n",
        &[],
    );
    assert!(
        err.contains("bad.yaml:5:19: customer 'C-1': credit_limit: -5 must not be negative"),
        "{err}"
    );
    assert!(
        err.contains("bad.yaml:12:5: customer 'C-2': unknown field 'colour'"),
        "{err}"
    );
}

#[test]
fn a_csv_with_a_bom_and_a_line_break_in_a_quoted_name_imports_and_locates_past_it() {
    let p = Project::fixture("md-csv");
    let head = "\u{feff}id,name,currency,credit_limit,terms,bank_accounts\r\n";
    let good = "C-1,\"Acme\nRetail, \"\"East\"\"\",EUR,100,net 30,DE89370400440532013000\r\n";
    // The row after the two-line name is on line 4: its bad limit is reported there.
    let err = refused(
        &p,
        "customers.csv",
        &format!("{head}{good}C-2,Two,EUR,lots,net 30,\r\n"),
        &[],
    );
    assert!(
        err.contains(
            "customers.csv:4:13: customer 'C-2': credit_limit: invalid value: string \"lots\""
        ),
        "{err}"
    );
    p.write("customers.csv", &format!("{head}{good}"));
    assert_eq!(
        p.ok(&["data", "import", "customers.csv"]).trim(),
        "imported 1 customer"
    );
    assert_eq!(stored(&p)["documents"], json!({ "customer": 1 }));
}

#[test]
fn the_three_formats_of_the_same_data_store_the_same() {
    let json_text = r#"{
  "customer": [ { "id": "C-1", "name": "One, Ltd", "currency": "EUR", "credit_limit": 100.50, "terms": "2/10 net 30",
                  "bank_accounts": ["DE89370400440532013000"] } ],
  "supplier": [ { "id": "S-1", "name": "Steel", "lead_time_days": 5 } ],
  "item": [ { "sku": "0042", "description": "Bolt", "price": 7.335, "supplier": "S-1" } ],
  "stock": [ { "item": "0042", "location": "main", "quantity": 10 }, { "item": "0042", "location": "north", "quantity": 2.5 } ]
}"#;
    let yaml_text = "customer:\n  - { id: C-1, name: 'One, Ltd', currency: EUR, credit_limit: 100.50, terms: 2/10 net 30, bank_accounts: [DE89370400440532013000] }\nsupplier: [ { id: S-1, name: Steel, lead_time_days: 5 } ]\nitem: [ { sku: '0042', description: Bolt, price: 7.335, supplier: S-1 } ]\nstock:\n  - { item: '0042', location: main, quantity: 10 }\n  - { item: '0042', location: north, quantity: 2.5 }\n";
    let csv = [
        (
            "customers.csv",
            "id,name,currency,credit_limit,terms,bank_accounts\nC-1,\"One, Ltd\",EUR,100.50,2/10 net 30,DE89370400440532013000\n",
        ),
        ("suppliers.csv", "id,name,lead_time_days\nS-1,Steel,5\n"),
        (
            "items.csv",
            "sku;description;price;supplier\n0042;Bolt;7.335;S-1\n",
        ),
        (
            "stock.csv",
            "item,location,quantity\n0042,main,10\n0042,north,2.5\n",
        ),
    ];
    let j = Project::fixture("md-same-json");
    j.write("m.json", json_text);
    assert_eq!(
        j.ok(&["data", "import", "m.json"]).trim(),
        "imported 1 customer, 1 item, 1 supplier, 2 stock"
    );
    let y = Project::fixture("md-same-yaml");
    y.write("m.yml", yaml_text);
    y.ok(&["data", "import", "m.yml"]);
    let c = Project::fixture("md-same-csv");
    for (f, text) in csv {
        c.write(f, text);
        c.ok(&["data", "import", f]);
    }
    let want = json!({
        "documents": { "customer": 1, "item": 1, "supplier": 1 },
        "stock": { "0042": 10, "0042@north": 2.5 }
    });
    assert_eq!(stored(&j), want);
    assert_eq!(stored(&y), want);
    assert_eq!(stored(&c), want);
}

/// Every spelling `PaymentTerms::parse` accepts (the list its unit test checks too) imports
/// from each format, YAML unquoted too (`45` and `net 0` are terms there, not a number).
#[test]
fn every_accepted_spelling_of_terms_imports_from_json_yaml_and_csv() {
    let list = include_str!("../fixtures/terms/accepted.txt");
    let accepted: Vec<&str> = list
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split('|').next())
        .map(str::trim)
        .collect();
    let p = Project::fixture("md-terms-ok");
    let customers: Vec<Value> = accepted
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "id": format!("J-{i}"), "name": "N", "currency": "EUR", "credit_limit": 1, "terms": t }))
        .collect();
    p.write("m.json", &json!({ "customer": customers }).to_string());
    let mut yaml = String::from("customer:\n");
    let mut csv = String::from("id,name,currency,credit_limit,terms\n");
    for (i, t) in accepted.iter().enumerate() {
        yaml.push_str(&format!(
            "  - {{ id: Y-{i}, name: N, currency: EUR, credit_limit: 1, terms: {t} }}\n"
        ));
        csv.push_str(&format!("C-{i},N,EUR,1,{t}\n"));
    }
    p.write("m.yaml", &yaml);
    p.write("customers.csv", &csv);
    let n = accepted.len();
    for file in ["m.json", "m.yaml", "customers.csv"] {
        assert_eq!(
            p.ok(&["data", "import", file]).trim(),
            format!("imported {n} customer"),
            "{file}"
        );
    }
    assert_eq!(stored(&p)["documents"], json!({ "customer": 3 * n }));
}
