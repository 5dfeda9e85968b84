//! Hostile and careless input at order intake (issue 20), through the built binary: the same
//! purchase order from concurrent submitters, the inbox and EDI is booked once on both
//! backends (points 3); orders outside the configured bounds, with unprintable or huge ids,
//! are refused naming the order, line and field (1, 10), and stored huge ids never break table
//! output (10); CSV is parsed as CSV (12); fractions of counted items and foreign units are held,
//! oversized JSON numbers explained (14); `ordo submit` and the inbox take a file alike, whole
//! or not at all (15); an order file over its size limit is refused before it is read (8).

use ordo_tests::{Project, both};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;

fn order(id: &str, customer: &str, po: &str, lines: &[(&str, &str)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, q))| {
            let q: Value = serde_json::from_str(q).expect("a JSON number");
            json!({ "line_no": i + 1, "sku": sku, "quantity": q })
        })
        .collect();
    json!({ "id": id, "customer_id": customer, "po_number": po, "order_date": "2026-11-23",
            "currency": "EUR", "lines": lines })
}

fn seeded(p: &Project) {
    p.ok(&["data", "import", "config/seed.json"]);
}

/// Appends a `limits:` section to the project's config.
fn limits(p: &Project, yaml: &str) {
    let cfg = p.path("config/ordo.yaml");
    let mut text = std::fs::read_to_string(&cfg).expect("config");
    text.push_str(&format!("limits: {{ {yaml} }}\n"));
    std::fs::write(cfg, text).expect("config");
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        ordo_tests::strip_ansi(&String::from_utf8_lossy(&o.stderr)),
    )
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/orders")
        .join(name);
    std::fs::read_to_string(path).expect("fixture")
}

/// Business keys of all instances.
fn keys(p: &Project) -> Vec<String> {
    let all = p.json(&["instances", "--limit", "1000"]);
    let mut k: Vec<String> = all["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["business_key"].as_str().map(str::to_string))
        .collect();
    k.sort();
    k
}

fn pad(s: &str, n: usize) -> String {
    let mut s = s.to_string();
    while s.chars().count() < n {
        s.push(' ');
    }
    s
}

/// An X12 850 from acme (the repository's partner profile) with one line.
fn x850(ctl: u32, po: &str, sku: &str, qty: &str, unit: &str) -> String {
    let body = [
        format!("ST*850*{ctl:04}"),
        format!("BEG*00*SA*{po}**20261123"),
        "N1*ST*ACME RETAIL DC*92*DC01".to_string(),
        format!("PO1*1*{qty}*{unit}*12.50**VP*{sku}"),
        "CTT*1".to_string(),
        format!("SE*6*{ctl:04}"),
    ];
    format!(
        "ISA*00*{e}*00*{e}*ZZ*{}*ZZ*{}*261123*1200*U*00401*{ctl:09}*0*P*>~\nGS*PO*ACMEBUYER*ORDOSELLER*20261123*1200*{ctl}*X*004010~\n{}~\nGE*1*{ctl}~\nIEA*1*{ctl:09}~\n",
        pad("ACMEBUYER", 15),
        pad("ORDOSELLER", 15),
        body.join("~\n"),
        e = pad("", 10)
    )
}

fn partners(p: &Project) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(repo.join("config/partners/acme.yaml")).expect("profile");
    p.write("config/partners/acme.yaml", &text);
}

fn reason(p: &Project, dir: &str, name: &str) -> String {
    std::fs::read_to_string(p.path(&format!("{dir}/{name}.reason.txt")))
        .unwrap_or_else(|e| panic!("{dir}/{name}.reason.txt: {e}"))
}

/// Every reason file of a quarantine folder, concatenated.
fn all_reasons(p: &Project, dir: &str) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(p.path(dir))
        .into_iter()
        .flatten()
        .flatten()
    {
        if e.file_name().to_string_lossy().ends_with(".reason.txt") {
            out.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    out
}

// Point 3: six `ordo submit` processes at once, the same customer and PO under six order ids,
// several rounds: exactly one is booked per round, the others are refused as duplicates.
both!(concurrent_submitters_book_a_po_once, |p: &Project| {
    seeded(p);
    let rounds = 4;
    for round in 0..rounds {
        let po = format!("PO-RACE-{round}");
        let children: Vec<_> = (0..6)
            .map(|n| {
                let file = format!("race-{round}-{n}.json");
                let o = order(&format!("R{round}-{n}"), "C-CORA", &po, &[("WID-100", "1")]);
                p.write(&file, &o.to_string());
                p.cmd(&["submit", &file])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("submit starts")
            })
            .collect();
        let outs: Vec<Output> = children
            .into_iter()
            .map(|c| c.wait_with_output().expect("submit ends"))
            .collect();
        let won: Vec<&Output> = outs.iter().filter(|o| o.status.success()).collect();
        assert_eq!(
            won.len(),
            1,
            "round {round}: exactly one submit books PO {po}: {:#?}",
            outs.iter().map(text).collect::<Vec<_>>()
        );
        for o in outs.iter().filter(|o| !o.status.success()) {
            let (out, err) = text(o);
            assert_eq!(o.status.code(), Some(1), "{out}{err}");
            assert!(
                out.contains("0 order(s) accepted, 1 rejected"),
                "{out}{err}"
            );
            assert!(
                err.contains(&format!(
                    "(customer C-CORA, PO {po}) was already received as order R{round}-"
                )),
                "{err}"
            );
        }
    }
    let k = keys(p);
    assert_eq!(k.len(), rounds, "one order per PO: {k:?}");
    assert_eq!(p.json(&["summary"])["documents"]["order"], json!(rounds));
});

// Point 3 through the inbox and EDI: the same PO in two inbox files (taken by two `ordo run`
// on the cluster backend), an 850 repeating a PO first submitted by hand under another id, and
// two 850s with one PO in different interchanges: each PO is booked once, the rest reported.
both!(inbox_and_edi_book_a_po_once, |p: &Project| {
    seeded(p);
    partners(p);
    for n in 0..2 {
        let o = order(
            &format!("IN-{n}"),
            "C-CORA",
            "PO-INBOX",
            &[("WID-100", "1")],
        );
        p.write(&format!("data/inbox/drop-{n}.json"), &o.to_string());
    }
    let web = order("WEB-1", "C-ACME", "PO-E1", &[("WID-100", "1")]);
    p.write("web.json", &web.to_string());
    p.ok(&["submit", "web.json"]);
    p.write(
        "data/partners/acme/in/a.edi",
        &x850(601, "PO-E1", "WID-100", "1", "EA"),
    );
    p.write(
        "data/partners/acme/in/b.edi",
        &x850(602, "PO-E2", "WID-100", "1", "EA"),
    );
    p.write(
        "data/partners/acme/in/c.edi",
        &x850(603, "PO-E2", "WID-100", "2", "EA"),
    );
    if p.cluster.is_some() {
        // Two engines at once take the same folders.
        let runs = [
            p.spawn_run(&["--exit-when-idle"]),
            p.spawn_run(&["--exit-when-idle"]),
        ];
        for mut child in runs {
            let _ = child.wait();
        }
    }
    p.run_idle();
    let k = keys(p);
    let inbox: Vec<&String> = k.iter().filter(|k| k.starts_with("IN-")).collect();
    assert_eq!(inbox.len(), 1, "PO-INBOX booked once: {k:?}");
    assert!(k.contains(&"WEB-1".to_string()), "{k:?}");
    assert!(
        !k.contains(&"C-ACME-PO-E1".to_string()),
        "the 850 repeating PO-E1 (submitted as WEB-1) is refused: {k:?}"
    );
    assert_eq!(
        k.iter().filter(|k| k.as_str() == "C-ACME-PO-E2").count(),
        1,
        "{k:?}"
    );
    assert_eq!(
        p.json(&["summary"])["documents"]["order"],
        json!(3),
        "{k:?}"
    );
    let reasons = all_reasons(p, "data/partners/acme/quarantine");
    assert!(
        reasons.contains(
            "order 'C-ACME-PO-E1' (customer C-ACME, PO PO-E1) was already received as order WEB-1"
        ),
        "{reasons}"
    );
});

// Points 1 and 10 at intake: quantities and prices outside the configured bounds, too many
// lines, huge ids and ids with control characters are refused with the order, line and field,
// on every path (submit, inbox, EDI), and nothing of such a file is booked.
#[test]
fn orders_outside_the_bounds_are_refused_on_every_path() {
    let p = Project::embedded("bounds");
    seeded(&p);
    partners(&p);
    limits(
        &p,
        "max_quantity: 1000, max_unit_price: 500, max_order_lines: 3, max_id_chars: 40",
    );
    let mut priced = order("B-2", "C-CORA", "PO-B2", &[("WID-100", "1")]);
    priced["lines"][0]["unit_price"] = json!(-1);
    let cases = [
        (
            order(
                "B-1",
                "C-CORA",
                "PO-B1",
                &[("WID-100", "7000000000000000000000000000.0")],
            ),
            "order 'B-1' line 1: quantity 7000000000000000000000000000.0 is more than limits.max_quantity (1000)",
        ),
        (
            priced,
            "order 'B-2' line 1: unit_price -1 must not be negative",
        ),
        (
            order("B-3", "C-CORA", "PO-B3", &[("WID-100", "1"); 4]),
            "order 'B-3': 4 lines, more than limits.max_order_lines (3)",
        ),
        (
            order(&"X".repeat(70_000), "C-CORA", "PO-B4", &[("WID-100", "1")]),
            "id is 70000 characters long, more than limits.max_id_chars (40)",
        ),
        (
            order("B\u{0}5", "C-CORA", "PO-B5", &[("WID-100", "1")]),
            "order 'B\\u{0}5': id contains the control character \\u{0} (ids must be printable)",
        ),
        (
            order("B-6", "C-CORA", "PO\nB6", &[("WID-100", "1")]),
            "order 'B-6': po_number contains the control character \\n",
        ),
    ];
    for (i, (bad, want)) in cases.iter().enumerate() {
        // A good order beside the bad one: the file is refused whole.
        let good = order(
            &format!("G-{i}"),
            "C-CORA",
            &format!("PO-G{i}"),
            &[("WID-100", "1")],
        );
        let file = Value::Array(vec![good, bad.clone()]).to_string();
        p.write("bad.json", &file);
        let (out, err) = p.expect_code(1, &["submit", "bad.json"]);
        assert!(err.contains(want), "case {i}: {out}{err}");
        assert!(err.contains("nothing booked"), "{err}");
        assert!(
            err.len() < 2_000,
            "errors quote excerpts: {} bytes",
            err.len()
        );
        p.write(&format!("data/inbox/bad-{i}.json"), &file);
    }
    p.write(
        "data/partners/acme/in/big.edi",
        &x850(701, "PO-BIG", "WID-100", "5000", "EA"),
    );
    p.run_idle();
    assert_eq!(keys(&p), Vec::<String>::new(), "nothing booked");
    for (i, (_, want)) in cases.iter().enumerate() {
        let r = reason(&p, "data/inbox/quarantine", &format!("bad-{i}.json"));
        assert!(r.contains(want), "{r}");
    }
    let r = reason(&p, "data/partners/acme/quarantine", "big.edi");
    assert!(
        r.contains(
            "order 'C-ACME-PO-BIG' line 1: quantity 5000 is more than limits.max_quantity (1000)"
        ),
        "{r}"
    );
}

// Point 10: whatever is stored (here a 70,000-character order id, allowed by a raised limit),
// table output cuts long cells and never panics.
#[test]
fn tables_cut_huge_stored_values() {
    let p = Project::fixture("tables");
    seeded(&p);
    limits(&p, "max_id_chars: 100000");
    let id = "L".repeat(70_000);
    p.write(
        "long.json",
        &order(&id, "C-CORA", "PO-LONG", &[("WID-100", "1")]).to_string(),
    );
    p.ok(&["submit", "long.json"]);
    // The engine runs it and stops when idle: the confirmation file named after the order gets
    // a bounded name (a 70,000-character file name would fail on every retry).
    p.run_idle();
    let out = p.ok(&["instances"]);
    assert!(out.contains("LLLL…"), "{out}");
    assert!(out.lines().all(|l| l.chars().count() < 400), "{out}");
    let out = p.ok(&["status", &id]);
    assert!(out.lines().all(|l| l.chars().count() < 71_000), "{out}");
}

// Point 12: a quoted cell spanning a line break is one cell, not a second order; doubled
// quotes, a BOM and `;` are understood; a ragged row is an error at its row and column.
#[test]
fn csv_order_files_are_parsed_as_csv() {
    let p = Project::fixture("csv");
    seeded(&p);
    p.write("q.csv", &fixture("quoted_newline.csv"));
    let out = p.ok(&["submit", "q.csv"]);
    assert!(out.contains("1 order(s) accepted, 0 rejected"), "{out}");
    assert_eq!(keys(&p), vec!["C-CORA-PO-Q1"]);
    let s = p.json(&["status", "C-CORA-PO-Q1"]);
    assert_eq!(
        s[0]["instance"]["data"]["order"]["lines"][1]["sku"], "BOLT-M8",
        "{s}"
    );
    p.write("s.csv", &fixture("bom_semicolon.csv"));
    let out = p.ok(&["submit", "s.csv"]);
    assert!(out.contains("2 order(s) accepted"), "{out}");
    p.write("r.csv", &fixture("ragged.csv"));
    let (_, err) = p.expect_code(1, &["submit", "r.csv"]);
    assert!(
        err.contains("r.csv:3:39: this row has 7 cells, the header (line 1) has 6"),
        "{err}"
    );
    assert_eq!(keys(&p).len(), 3);
}

// Point 14: 1.5 of an item counted in units is held with the reason; an 850 line in a unit
// other than the item's is held; a JSON number too large for an exact decimal, and a number
// where text is expected, are explained with the order and field.
#[test]
fn units_and_oversized_numbers() {
    let p = Project::embedded("units");
    seeded(&p);
    partners(&p);
    p.write(
        "frac.json",
        &order("F-1", "C-CORA", "PO-F1", &[("WID-100", "1.5")]).to_string(),
    );
    p.ok(&["submit", "frac.json"]);
    p.write(
        "data/partners/acme/in/bx.edi",
        &x850(801, "PO-BX", "WID-100", "3", "BX"),
    );
    p.run_idle();
    // Held: waits for the sales rep (task `amend`, order-to-cash v3).
    assert_eq!(p.status("F-1")["instance"]["step"], "amend");
    let s = p.ok(&["status", "F-1"]);
    assert!(
        s.contains("line 1: quantity 1.5 of WID-100 is not a whole number; its unit EA is counted in whole units"),
        "{s}"
    );
    // Held: waits for the sales rep (task `amend`, order-to-cash v3).
    assert_eq!(p.status("C-ACME-PO-BX")["instance"]["step"], "amend");
    let s = p.ok(&["status", "C-ACME-PO-BX"]);
    assert!(
        s.contains("line 1: unit BX differs from the unit of item WID-100 (EA)"),
        "{s}"
    );
    let summary = p.json(&["summary"]);
    assert_eq!(
        summary["stock"]["WID-100"],
        json!(5000),
        "nothing shipped: {summary}"
    );

    p.write(
        "huge.json",
        r#"[{"id": "H-1", "customer_id": "C-CORA", "po_number": "PO-H1", "order_date": "2026-11-23", "currency": "EUR",
             "lines": [{"line_no": 1, "sku": "WID-100", "quantity": 123456789012345678901234567890}]},
            {"id": "H-2", "customer_id": 42, "po_number": "PO-H2", "order_date": "2026-11-23", "currency": "EUR", "lines": []}]"#,
    );
    let (_, err) = p.expect_code(1, &["submit", "huge.json"]);
    assert!(
        err.contains("huge.json: order #1 ('H-1'): lines[0].quantity: 123456789012345678901234567890 is not a decimal number ordo can hold exactly (at most 28 significant digits)"),
        "{err}"
    );
    assert!(
        err.contains("huge.json: order #2 ('H-2'): customer_id: expected text (a JSON string), found the number 42"),
        "{err}"
    );
}

// Point 15: a file with one bad order gives the same verdict through `ordo submit` and the
// inbox: nothing booked, the bad order named. Duplicates in an otherwise good file are skipped
// alike on both paths.
both!(submit_and_inbox_take_a_file_alike, |p: &Project| {
    seeded(p);
    let file_with = |qty: &str| {
        Value::Array(vec![
            order("M-1", "C-CORA", "PO-M1", &[("WID-100", "1")]),
            order("M-2", "C-CORA", "PO-M2", &[("WID-100", qty)]),
            order("M-3", "C-CORA", "PO-M3", &[("WID-100", "1")]),
        ])
        .to_string()
    };
    let file = file_with("-3");
    p.write("mixed.json", &file);
    let (_, err) = p.expect_code(1, &["submit", "mixed.json"]);
    let want = "mixed.json: order 'M-2' line 1: quantity -3 must be greater than 0";
    assert!(err.contains(want), "{err}");
    p.write("data/inbox/mixed.json", &file);
    p.run_idle();
    let r = reason(p, "data/inbox/quarantine", "mixed.json");
    assert!(
        r.contains("rejected, nothing booked") && r.contains(want),
        "{r}"
    );
    assert_eq!(
        keys(p),
        Vec::<String>::new(),
        "nothing booked on either path"
    );
    // The fixed file through submit; the same again through the inbox: all duplicates.
    let good = file_with("3");
    p.write("fixed.json", &good);
    let out = p.ok(&["submit", "fixed.json"]);
    assert!(out.contains("3 order(s) accepted, 0 rejected"), "{out}");
    p.write("data/inbox/fixed.json", &good);
    p.run_idle();
    let r = reason(p, "data/inbox/quarantine", "fixed.json");
    assert_eq!(r.matches("not processed twice").count(), 3, "{r}");
    let orders: Vec<String> = keys(p)
        .into_iter()
        .filter(|k| k.starts_with("M-"))
        .collect();
    assert_eq!(orders, vec!["M-1", "M-2", "M-3"], "each once");
});

// Point 8 for order files: a file over `limits.max_order_file_bytes` is refused before it is
// read, by `ordo submit` and by the inbox, and the reason quotes no input.
#[test]
fn order_files_over_the_size_limit_are_refused() {
    let p = Project::fixture("size");
    seeded(&p);
    limits(&p, "max_order_file_bytes: 2048, max_excerpt_chars: 40");
    let one = order("S-1", "C-CORA", "PO-S1", &[("WID-100", "1")]).to_string();
    let mut big = one.clone();
    big.push_str(&" ".repeat(2049 - one.len()));
    assert_eq!(big.len(), 2049);
    p.write("big.json", &big);
    let (_, err) = p.expect_code(1, &["submit", "big.json"]);
    assert!(
        err.contains(
            "big.json: 2049 bytes, more than limits.max_order_file_bytes (2048); nothing read"
        ),
        "{err}"
    );
    p.write("data/inbox/big.json", &big);
    // A file within the limit whose bad value is long: quoted as an excerpt.
    p.write(
        "data/inbox/long.csv",
        &format!(
            "customer_id,po_number,currency,sku,quantity\nC-CORA,P,EUR,WID-100,{}\n",
            "9x".repeat(900)
        ),
    );
    p.run_idle();
    let r = reason(&p, "data/inbox/quarantine", "big.json");
    assert!(
        r.contains("2049 bytes, more than limits.max_order_file_bytes (2048)"),
        "{r}"
    );
    let r = reason(&p, "data/inbox/quarantine", "long.csv");
    assert!(
        r.contains("quantity '9x9x") && r.len() < 400,
        "{} bytes: {r}",
        r.len()
    );
    assert_eq!(keys(&p), Vec::<String>::new());
    p.write("small.json", &one);
    p.ok(&["submit", "small.json"]);
}
