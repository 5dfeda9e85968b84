//! Changes and cancellations by EDI end to end, on both backends: X12 860s from Acme and an
//! EDIFACT ORDCHG from Cora, dropped into the partners' inbound folders, go through the one
//! change path (`ordo order change|cancel`'s) and are answered with an 865 / ORDRSP (BGM 231)
//! beside the 997/CONTRL. A partly shipped order's change is accepted with changes (the
//! shipped line refused, the open one applied); a cancellation ends the order; an 860 for an
//! unknown order, a cancelled one, a negative or absurd quantity, a price change, a repeat of
//! an earlier change and an unreadable one are answered with a rejecting 865 and quarantined
//! with a located reason, nothing applied; a malformed one is rejected by the 997 and
//! quarantined. An 850 naming a quote becomes the quote's order at the quoted prices. A quote
//! for Acme (whose profile lists `quote`) goes out as an 843 once, with its page; a quote the
//! 843 cannot carry fails its step with a located error and leaves nothing sent.

use ordo_tests::{Project, both, listing};
use serde_json::Value;

fn setup(p: &Project) {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for f in ["config/partners/acme.yaml", "config/partners/cora.yaml"] {
        let text = std::fs::read_to_string(repo.join(f)).expect("repo config");
        p.write(f, &text);
    }
    p.ok(&["data", "import", "config/seed.json"]);
}

fn pad(s: &str, n: usize) -> String {
    format!("{s:<n$}")
}

/// An X12 interchange from ACMEBUYER holding one set (`gs01`, `st01`) with `body`.
fn x12(ctl: u32, gs01: &str, st01: &str, body: &[&str]) -> String {
    let mut segs = vec![format!("ST*{st01}*0001")];
    segs.extend(body.iter().map(|s| s.to_string()));
    segs.push(format!("SE*{}*0001", body.len() + 2));
    format!(
        "ISA*00*{e}*00*{e}*ZZ*{}*ZZ*{}*261123*1200*U*00401*{ctl:09}*0*P*>~\nGS*{gs01}*ACMEBUYER*ORDOSELLER*20261123*1200*{ctl}*X*004010~\n{}~\nGE*1*{ctl}~\nIEA*1*{ctl:09}~\n",
        pad("ACMEBUYER", 15),
        pad("ORDOSELLER", 15),
        segs.join("~\n"),
        e = pad("", 10)
    )
}

fn x850(ctl: u32, po: &str, lines: &[(&str, u32)]) -> String {
    let mut body = vec![
        format!("BEG*00*SA*{po}**20261123"),
        "N1*ST*ACME RETAIL DC*92*DC01".to_string(),
    ];
    for (i, (sku, q)) in lines.iter().enumerate() {
        // No price: the list price applies (a stated one off the list holds the order).
        body.push(format!("PO1*{}*{q}*EA***VP*{sku}", i + 1));
    }
    body.push(format!("CTT*{}", lines.len()));
    let refs: Vec<&str> = body.iter().map(String::as_str).collect();
    x12(ctl, "PO", "850", &refs)
}

/// An 860: `purpose` 04 change / 01 cancellation, `seq` the change's number (BCH05).
fn x860(ctl: u32, purpose: &str, po: &str, seq: &str, pocs: &[&str]) -> String {
    let mut body = vec![format!("BCH*{purpose}*SA*{po}**{seq}*20261123")];
    body.extend(pocs.iter().map(|s| s.to_string()));
    if !pocs.is_empty() {
        body.push(format!("CTT*{}", pocs.len()));
    }
    let refs: Vec<&str> = body.iter().map(String::as_str).collect();
    x12(ctl, "PC", "860", &refs)
}

fn read(p: &Project, rel: &str) -> String {
    std::fs::read_to_string(p.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The one file in Acme's outbound folder whose name ends with `-865.edi` and holds `bca`.
fn answer(p: &Project, bca: &str) -> String {
    let all: Vec<String> = listing(p, "data/partners/acme/out")
        .into_iter()
        .filter(|f| f.ends_with("-865.edi"))
        .map(|f| read(p, &format!("data/partners/acme/out/{f}")))
        .collect();
    let found: Vec<&String> = all.iter().filter(|t| t.contains(bca)).collect();
    assert_eq!(found.len(), 1, "one 865 with {bca}: {all:#?}");
    found[0].clone()
}

fn versions(p: &Project, id: &str) -> usize {
    p.status(id)["instance"]["data"]["order_versions"]
        .as_array()
        .map_or(0, Vec::len)
}

fn quarantine_reason(p: &Project, partner: &str, file: &str) -> String {
    read(
        p,
        &format!("data/partners/{partner}/quarantine/{file}.reason.txt"),
    )
}

const ORDERS: &str = "UNA:+.? 'UNB+UNOC:3+3014531200003:14+4012345000009:14+261123:1200+77'UNH+1+ORDERS:D:96A:UN'BGM+220+PO-89+9'DTM+137:20261123:102'NAD+BY+3014531200003::9'LIN+1++GAD-200:SA'QTY+21:100'LIN+2++WID-100:SA'QTY+21:2'UNS+S'UNT+10+1'UNZ+1+77'";
const ORDCHG: &str = "UNA:+.? 'UNB+UNOC:3+3014531200003:14+4012345000009:14+261123:1300+78'UNH+1+ORDCHG:D:96A:UN'BGM+230+CHG-89+4'DTM+137:20261123:102'RFF+ON:PO-89'NAD+BY+3014531200003::9'LIN+1+3+GAD-200:SA'QTY+21:30'UNS+S'CNT+2:1'UNT+10+1'UNZ+1+78'";

both!(edi_changes, |p: &Project| {
    setup(p);
    // PO-71: the widgets ship at once, the handbook waits (Acme takes partial shipments).
    // PO-72: held (its price is off the list), a task for the sales rep. PO-89 (Cora, ship complete): 100 gadgets wait.
    p.write(
        "data/partners/acme/in/a1-po71.edi",
        &x850(101, "PO-71", &[("BOOK-HB", 1), ("WID-100", 2)]),
    );
    let held = x850(102, "PO-72", &[("BOOK-HB", 1)]).replace("*EA***VP*", "*EA*1.00**VP*");
    p.write("data/partners/acme/in/a2-po72.edi", &held);
    // PO-73: held the same way; the hostile changes below are aimed at it (it stays held
    // whatever runs meanwhile, so each refusal is the change's own).
    let held = x850(103, "PO-73", &[("BOOK-HB", 1)]).replace("*EA***VP*", "*EA*1.00**VP*");
    p.write("data/partners/acme/in/a3-po73.edi", &held);
    p.write("data/partners/cora/in/o1-po89.edi", ORDERS);
    p.run_idle();
    let st = p.status("C-ACME-PO-71");
    assert_eq!(
        st["instance"]["data"]["fulfilment"]["lines"][1]["shipped"].to_string(),
        "2",
        "{st}"
    );

    // PO-89 waits for gadgets bought for it (short 60 of 100: the reorder placed them).
    let bought = p.status("C-CORA-PO-89")["instance"]["data"]["purchases"].clone();
    assert_eq!(bought[0]["sku"], "GAD-200", "{bought}");

    p.write(
        "data/partners/acme/in/c1-change.edi",
        // line 1 (open) 1 → 3; line 2 (shipped) 2 → 1
        &x860(
            201,
            "04",
            "PO-71",
            "1",
            &["POC*1*QI*3**EA", "POC*2*QD*1**EA"],
        ),
    );
    p.write(
        "data/partners/acme/in/c2-cancel.edi",
        &x860(202, "01", "PO-72", "1", &[]),
    );
    p.write(
        "data/partners/acme/in/c3-unknown.edi",
        &x860(203, "04", "PO-NONE", "1", &["POC*1*QI*3**EA"]),
    );
    p.write(
        "data/partners/acme/in/c4-negative.edi",
        &x860(204, "04", "PO-73", "2", &["POC*1*QD*-2**EA"]),
    );
    p.write(
        "data/partners/acme/in/c5-price.edi",
        &x860(205, "04", "PO-73", "3", &["POC*1*PC*3**EA*1.00"]),
    );
    p.write(
        "data/partners/acme/in/c6-unreadable.edi",
        &x860(206, "04", "PO-73", "4", &["POC*3*AI*2**EA"]),
    );
    p.write(
        "data/partners/acme/in/c8-absurd.edi",
        &x860(210, "04", "PO-73", "6", &["POC*1*QI*99999999999**EA"]),
    );
    p.write(
        "data/partners/acme/in/c7-malformed.edi",
        &x860(207, "04", "PO-73", "5", &["POC*1*QI*lots**EA"]),
    );
    p.write("data/partners/cora/in/o2-chg89.edi", ORDCHG);
    p.run_idle();

    // Accepted with changes: line 1 changed (version 2), line 2 refused as shipped.
    let a = answer(p, "BCA*04*AC*PO-71**1*20261123~");
    assert!(a.contains("POC*1*CA*3**EA~\nACK*IA*3*EA~"), "{a}");
    assert!(a.contains("POC*2*CA*1**EA~\nACK*IR*1*EA~"), "{a}");
    assert!(
        a.contains("MSG*line 2, already shipped, a shipped line cannot change~"),
        "{a}"
    );
    let st = p.status("C-ACME-PO-71");
    assert_eq!(st["instance"]["data"]["order"]["version"], 2, "{st}");
    let lines = &st["instance"]["data"]["order"]["lines"];
    assert_eq!(
        (
            lines[0]["quantity"].to_string(),
            lines[1]["quantity"].to_string()
        ),
        ("3".to_string(), "2".to_string()),
        "{lines}"
    );
    assert!(quarantine_reason(p, "acme", "c1-change.edi").contains("applied without line(s) 2"),);
    // The cancellation: accepted, the order ends cancelled.
    answer(p, "BCA*01*AT*PO-72**1*20261123~");
    assert_eq!(p.state_of("C-ACME-PO-72"), "cancelled");
    assert!(listing(p, "data/partners/acme/archive").contains(&"c2-cancel.edi".to_string()));
    // Refused: answered RJ with the reason, quarantined, nothing applied.
    let r = answer(p, "BCA*04*RJ*PO-NONE**1*");
    assert!(r.contains("MSG*no order 'C-ACME-PO-NONE'"), "{r}");
    assert!(
        quarantine_reason(p, "acme", "c3-unknown.edi").contains("c3-unknown.edi:3:1: 860 0001 from acme: change 1 of order C-ACME-PO-NONE rejected, nothing changed: no order 'C-ACME-PO-NONE'"),
        "{}",
        quarantine_reason(p, "acme", "c3-unknown.edi")
    );
    let r = answer(p, "BCA*04*RJ*PO-73**2*");
    assert!(r.contains("quantity -2 must be greater than 0"), "{r}");
    let r = answer(p, "BCA*04*RJ*PO-73**6*");
    assert!(r.contains("more than limits.max_quantity"), "{r}");
    let r = answer(p, "BCA*04*RJ*PO-73**3*");
    assert!(r.contains("price change"), "{r}");
    let r = answer(p, "BCA*04*RJ*PO-73**4*");
    assert!(
        r.contains("MSG*line 3, an added line (POC02 AI) has no item number"),
        "{r}"
    );
    assert!(quarantine_reason(p, "acme", "c6-unreadable.edi").contains("has no item number"));
    // Malformed (POC03 not a number): the 997 rejects the set, no 865, quarantined, located.
    let why = quarantine_reason(p, "acme", "c7-malformed.edi");
    assert!(why.contains("c7-malformed.edi:5:"), "{why}");
    assert!(
        why.contains("rejected (see the acknowledgment), the order is not changed"),
        "{why}"
    );
    assert_eq!(
        versions(p, "C-ACME-PO-71"),
        1,
        "only the first change applied"
    );
    assert_eq!(versions(p, "C-ACME-PO-73"), 0, "nothing applied");
    assert_eq!(p.status("C-ACME-PO-73")["instance"]["step"], "amend");
    // Every 860 got its 997 too, and every 865 reads back valid.
    let out = listing(p, "data/partners/acme/out");
    assert_eq!(
        out.iter().filter(|f| f.ends_with("-865.edi")).count(),
        7,
        "{out:?}"
    );
    assert_eq!(
        out.iter().filter(|f| f.ends_with("-997.edi")).count(),
        11,
        "{out:?}"
    );
    for f in out.iter().filter(|f| f.ends_with("-865.edi")) {
        let path = format!("data/partners/acme/out/{f}");
        let v: Value =
            serde_json::from_str(&p.ok(&["edi", "parse", &path, "--no-segments"])).unwrap();
        assert_eq!(v["valid"], true, "{path}: {v}");
    }

    // The ORDCHG: 100 gadgets → 30, answered ORDRSP BGM 231 … 29 beside the CONTRL.
    let st = p.status("C-CORA-PO-89");
    assert_eq!(st["instance"]["data"]["order"]["version"], 2, "{st}");
    // What it bought for 100 came off the purchase order; 30 are in stock: nothing bought
    // again for it, and it ships.
    let v = &st["instance"]["data"]["order_versions"][0];
    assert_eq!(v["purchases_withdrawn"][0]["sku"], "GAD-200", "{v}");
    assert_eq!(
        v["purchases_withdrawn"][0]["quantity"], bought[0]["quantity"],
        "{v}"
    );
    assert_eq!(p.state_of("C-CORA-PO-89"), "completed", "{st}");
    let cora = listing(p, "data/partners/cora/out");
    let rsp: Vec<String> = cora
        .iter()
        .filter(|f| f.ends_with("-ordrsp.edi"))
        .map(|f| read(p, &format!("data/partners/cora/out/{f}")))
        .filter(|t| t.contains("BGM+231+PO-89-CHG-89+29'"))
        .collect();
    assert_eq!(rsp.len(), 1, "{cora:?}");
    assert!(
        rsp[0].contains("LIN+1+5+GAD-200:SA'\nQTY+21:30'"),
        "{}",
        rsp[0]
    );
    assert!(rsp[0].contains("RFF+AAN:CHG-89'"), "{}", rsp[0]);
    assert_eq!(
        cora.iter().filter(|f| f.ends_with("-contrl.edi")).count(),
        2,
        "a CONTRL for the ORDERS and for the ORDCHG: {cora:?}"
    );

    // A repeat of the applied change, and a change to the cancelled order: both refused.
    p.write(
        "data/partners/acme/in/d1-repeat.edi",
        &x860(208, "04", "PO-71", "1", &["POC*1*QI*3**EA"]),
    );
    p.write(
        "data/partners/acme/in/d2-cancelled.edi",
        &x860(209, "04", "PO-72", "2", &["POC*1*QI*3**EA"]),
    );
    p.run_idle();
    assert!(
        quarantine_reason(p, "acme", "d1-repeat.edi").contains("was applied before: a repeat"),
        "{}",
        quarantine_reason(p, "acme", "d1-repeat.edi")
    );
    assert!(
        quarantine_reason(p, "acme", "d2-cancelled.edi")
            .contains("order C-ACME-PO-72 is cancelled"),
        "{}",
        quarantine_reason(p, "acme", "d2-cancelled.edi")
    );
    answer(p, "BCA*04*RJ*PO-72**2*");
    assert_eq!(versions(p, "C-ACME-PO-71"), 1);
    assert_eq!(p.state_of("C-ACME-PO-72"), "cancelled");
    let audit = p.json(&["audit"]).to_string();
    assert!(audit.contains("partner:acme"), "{audit}");
});

/// An 850 naming quote `quote` (`REF*PR`).
fn x850_quote(ctl: u32, po: &str, quote: &str, lines: &[(&str, u32)]) -> String {
    x850(ctl, po, lines).replace(
        &format!("BEG*00*SA*{po}**20261123~\n"),
        &format!("BEG*00*SA*{po}**20261123~\nREF*PR*{quote}~\n"),
    )
}

both!(edi_order_names_a_quote, |p: &Project| {
    setup(p);
    for (name, qty) in [("q1.json", 200), ("q2.json", 200)] {
        p.write(
            name,
            &serde_json::json!({ "customer_id": "C-ACME", "currency": "EUR",
                "lines": [ { "line_no": 1, "sku": "WID-100", "quantity": qty } ] })
            .to_string(),
        );
        p.ok(&["quote", "request", name]);
    }
    p.run_idle();
    // 200 widgets at 12.50 less the 2 % volume discount: quoted at 12.25.
    let q = p.json(&["quote", "show", "Q-000001"]);
    assert_eq!(q["status"], "sent", "{q}");
    // Acme's profile lists `quote`: each sent quote is an 843 in its outbound folder, once.
    let quotes_sent = |p: &Project| -> Vec<String> {
        listing(p, "data/partners/acme/out")
            .into_iter()
            .filter(|f| f.ends_with("-843.edi"))
            .map(|f| read(p, &format!("data/partners/acme/out/{f}")))
            .collect()
    };
    let sent = quotes_sent(p);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    let q1: Vec<&String> = sent
        .iter()
        .filter(|t| t.contains("BQR*00*Q-000001*"))
        .collect();
    assert_eq!(q1.len(), 1, "{sent:#?}");
    let valid = q["valid_until"]
        .as_str()
        .unwrap_or_default()
        .replace('-', "");
    for seg in [
        "GS*RR*".to_string(),
        "ST*843*".into(),
        "REF*PR*Q-000001~".into(),
        format!("DTM*036*{valid}~"),
        "N1*BY*Acme Retail GmbH*ZZ*ACMEBUYER~".into(),
        "PO1*1*200*EA*12.25**VP*WID-100~".into(),
        "CTT*1~".into(),
        "AMT*TT*2450.00~".into(),
    ] {
        assert!(q1[0].contains(&seg), "{seg}: {}", q1[0]);
    }
    // One line: ST BEG N1 PO1 CTT SE counted 6; the REF makes it 7.
    let fix = |s: String| s.replace("SE*6*0001", "SE*7*0001");
    p.write(
        "data/partners/acme/in/q1.edi",
        &fix(x850_quote(301, "PO-Q1", "Q-000001", &[("WID-100", 200)])),
    );
    p.write(
        "data/partners/acme/in/q2-again.edi",
        &fix(x850_quote(302, "PO-Q1B", "Q-000001", &[("WID-100", 200)])),
    );
    p.write(
        "data/partners/acme/in/q3-differs.edi",
        &fix(x850_quote(303, "PO-Q3", "Q-000002", &[("WID-100", 100)])),
    );
    p.write(
        "data/partners/acme/in/q4-unknown.edi",
        &fix(x850_quote(304, "PO-Q4", "Q-999999", &[("WID-100", 200)])),
    );
    p.run_idle();
    // The quote's order, at the quoted price, from the partner: it gets its 855/856/810.
    let st = p.status("C-ACME-PO-Q1");
    let order = &st["instance"]["data"]["order"];
    assert_eq!(order["quote"], "Q-000001", "{order}");
    assert_eq!(
        order["lines"][0]["unit_price"].to_string(),
        "12.25",
        "{order}"
    );
    assert_eq!(order["partner"], "acme", "{order}");
    assert_eq!(order["edi"]["interchange"], "000000301", "{order}");
    assert_eq!(p.state_of("C-ACME-PO-Q1"), "completed", "{st}");
    assert_eq!(p.json(&["quote", "show", "Q-000001"])["status"], "accepted");
    assert!(listing(p, "data/partners/acme/archive").contains(&"q1.edi".to_string()));
    let out = listing(p, "data/partners/acme/out");
    assert!(out.iter().any(|f| f.ends_with("-855.edi")), "{out:?}");
    // Refused, quarantined with the reason, no order: accepted already, not the quote's
    // quantity (the quote stays open for the right order), an unknown quote.
    for (file, says) in [
        ("q2-again.edi", "quote Q-000001 was accepted already"),
        (
            "q3-differs.edi",
            "line 1 quantity 100 is not the quoted 200",
        ),
        ("q4-unknown.edi", "Q-999999"),
    ] {
        let why = quarantine_reason(p, "acme", file);
        assert!(
            why.contains("refused, no order created") && why.contains(says),
            "{file}: {why}"
        );
    }
    assert_eq!(p.json(&["quote", "show", "Q-000002"])["status"], "sent");
    for id in ["C-ACME-PO-Q1B", "C-ACME-PO-Q3", "C-ACME-PO-Q4"] {
        assert!(!p.ordo(&["status", id]).status.success(), "{id} exists");
    }
    // Accepting a quote sends no second 843.
    assert_eq!(quotes_sent(p).len(), 2);
});

both!(edi_quote_the_843_cannot_carry, |p: &Project| {
    setup(p);
    // Wire by the kilogram (fractions allowed); 1.0000000000000001 kg has 17 digits, more
    // than PO102 (R 1/15) holds.
    p.write(
        "wire.json",
        r#"{ "item": [ { "sku": "WIRE-KG", "description": "Copper wire", "price": 2.5, "cost": 1.2,
             "uom": "KG", "weight_kg": 1, "reorder_point": 0, "reorder_qty": 0, "tax_code": "standard" } ] }"#,
    );
    p.ok(&["data", "import", "wire.json"]);
    p.write(
        "q.json",
        r#"{ "customer_id": "C-ACME", "currency": "EUR",
             "lines": [ { "line_no": 1, "sku": "WIRE-KG", "quantity": "1.0000000000000001" } ] }"#,
    );
    p.ok(&["quote", "request", "q.json"]);
    p.run_idle();
    let s = p.status("Q-000001");
    assert_eq!(s["instance"]["status"], "failed", "{s}");
    let error = s["instance"]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("quote Q-000001 to partner acme")
            && error.contains("line 1 PO102 quantity")
            && error.contains("17 digits; the element holds at most 15"),
        "{error}"
    );
    // Nothing half-written: the quote is not sent, no page, no 843.
    assert_eq!(
        p.json(&["quote", "show", "Q-000001"])["status"],
        "requested"
    );
    assert!(!p.path("data/outbound/quotes/Q-000001.html").exists());
    let out = listing(p, "data/partners/acme/out");
    assert!(!out.iter().any(|f| f.ends_with("-843.edi")), "{out:?}");
});

/// `ordo check` refuses a second profile listing `quote` for a customer (a quote names no
/// partner: one profile must take it), at the second profile's `documents:`.
#[test]
fn one_quote_profile_per_customer() {
    let p = Project::embedded("quote_profiles");
    setup(&p);
    p.write(
        "config/partners/acme2.yaml",
        "partner: acme2\ncustomer: C-ACME\nversion: \"5010\"\ntheir_id: { qualifier: ZZ, id: ACMEWEST }\nour_id: { qualifier: ZZ, id: ORDOSELLER }\ndocuments: [quote]\ncurrency: EUR\n",
    );
    let (_, err) = p.expect_code(1, &["check"]);
    let want = "config/partners/acme2.yaml:6:1: customer 'C-ACME' already gets its quotes through the profile 'acme': one profile per customer lists `quote`";
    assert!(err.contains(want), "{want}\n{err}");
    // Without `quote` the second profile is fine (Acme West sends its own orders).
    p.write(
        "config/partners/acme2.yaml",
        "partner: acme2\ncustomer: C-ACME\nversion: \"5010\"\ntheir_id: { qualifier: ZZ, id: ACMEWEST }\nour_id: { qualifier: ZZ, id: ORDOSELLER }\ndocuments: [order_response]\ncurrency: EUR\n",
    );
    p.ok(&["check"]);
}
