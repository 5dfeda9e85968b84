//! Trading partners end to end, on both backends: an X12 850 and an EDIFACT ORDERS dropped into
//! the partners' inbound folders become orders that run through order-to-cash; each partner
//! gets its acknowledgment and the 855/856/810 (ORDRSP/DESADV/INVOIC) its profile asks for, in
//! its outbound folder, numbered by the store; the partner's 997 is matched to our 810 and shown
//! on the order. Duplicates and strangers are quarantined with a reason, never processed twice.

use ordo_tests::Project;
use ordo_tests::both;
use ordo_tests::listing;
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

fn x850(ctl: u32, sender: &str, po: &str, sku: &str, qty: u32) -> String {
    let body = [
        format!("ST*850*{ctl:04}"),
        format!("BEG*00*SA*{po}**20261123"),
        "N1*ST*ACME RETAIL DC*92*DC01".to_string(),
        format!("PO1*1*{qty}*EA*12.50**VP*{sku}"),
        "CTT*1".to_string(),
        format!("SE*6*{ctl:04}"),
    ];
    format!(
        "ISA*00*{e}*00*{e}*ZZ*{}*ZZ*{}*261123*1200*U*00401*{ctl:09}*0*P*>~\nGS*PO*{sender}*ORDOSELLER*20261123*1200*{ctl}*X*004010~\n{}~\nGE*1*{ctl}~\nIEA*1*{ctl:09}~\n",
        pad(sender, 15),
        pad("ORDOSELLER", 15),
        body.join("~\n"),
        e = pad("", 10)
    )
}

const ORDERS: &str = "UNA:+.? 'UNB+UNOC:3+3014531200003:14+4012345000009:14+261123:1200+77'UNH+1+ORDERS:D:96A:UN'BGM+220+PO-88+9'DTM+137:20261123:102'NAD+BY+3014531200003::9'LIN+1++WID-100:SA'QTY+21:5'PRI+AAA:12.50'UNS+S'UNT+9+1'UNZ+1+77'";

both!(partners_order_to_cash, |p: &Project| {
    setup(p);
    p.write(
        "data/partners/acme/in/po77.edi",
        &x850(501, "ACMEBUYER", "PO-77", "WID-100", 4),
    );
    p.write("data/partners/cora/in/orders-88.edi", ORDERS);
    p.run_idle();

    assert_eq!(
        p.state_of("C-ACME-PO-77"),
        "completed",
        "{}",
        p.ok(&["status", "C-ACME-PO-77"])
    );
    assert_eq!(
        p.state_of("C-CORA-PO-88"),
        "completed",
        "{}",
        p.ok(&["status", "C-CORA-PO-88"])
    );
    assert_eq!(listing(p, "data/partners/acme/archive"), ["po77.edi"]);
    // Acme: 997 for its 850, then 855, 856, 810 — control numbers 1..4 from the store.
    assert_eq!(
        listing(p, "data/partners/acme/out"),
        [
            "acme-000000001-997.edi",
            "acme-000000002-855.edi",
            "acme-000000003-856.edi",
            "acme-000000004-810.edi"
        ]
    );
    assert_eq!(
        listing(p, "data/partners/cora/out"),
        [
            "cora-000000001-contrl.edi",
            "cora-000000002-ordrsp.edi",
            "cora-000000003-desadv.edi",
            "cora-000000004-invoic.edi"
        ]
    );
    // Everything we wrote reads back valid.
    for (dir, f) in listing(p, "data/partners/acme/out")
        .into_iter()
        .map(|f| ("acme", f))
        .chain(
            listing(p, "data/partners/cora/out")
                .into_iter()
                .map(|f| ("cora", f)),
        )
    {
        let path = format!("data/partners/{dir}/out/{f}");
        let v: Value =
            serde_json::from_str(&p.ok(&["edi", "parse", &path, "--no-segments"])).unwrap();
        assert_eq!(v["valid"], true, "{path}: {v}");
    }
    let inv810 =
        std::fs::read_to_string(p.path("data/partners/acme/out/acme-000000004-810.edi")).unwrap();
    assert!(
        inv810.contains("*ZZ*ORDOSELLER     *ZZ*ACMEBUYER      *"),
        "{inv810}"
    );
    // 4 × 12.50 = 50.00 net + 19 % VAT = 59.50 → TDS01 total and TDS02 net, in cents.
    assert!(inv810.contains("TDS*5950*5000~"), "{inv810}");
    // Our own party comes from config/company.yaml (the 850 did not name the seller).
    assert!(
        inv810.contains("N1*SE*ordo Supplies GmbH*1*123456789~"),
        "{inv810}"
    );

    // Acme's 997 for our 810 (group 4): shown on the order.
    let ack = format!(
        "ISA*00*{e}*00*{e}*ZZ*{}*ZZ*{}*261123*1300*U*00401*000000900*0*P*>~GS*FA*ACMEBUYER*ORDOSELLER*20261123*1300*900*X*004010~ST*997*0001~AK1*IN*4~AK9*A*1*1*1~SE*4*0001~GE*1*900~IEA*1*000000900~",
        pad("ACMEBUYER", 15),
        pad("ORDOSELLER", 15),
        e = pad("", 10)
    );
    p.write("data/partners/acme/in/ack-900.edi", &ack);
    p.run_idle();
    let status = p.ok(&["status", "C-ACME-PO-77"]);
    assert!(
        status.contains("EDI to acme: invoice (810) control 4 sent")
            && status.contains("997 A received"),
        "{status}"
    );
    assert!(
        status.contains("EDI to acme: ship_notice (856) control 3"),
        "{status}"
    );

    // The same 850 again under another name, and an interchange from a stranger.
    p.write(
        "data/partners/acme/in/po77-again.edi",
        &x850(501, "ACMEBUYER", "PO-77", "WID-100", 4),
    );
    p.write(
        "data/partners/acme/in/stranger.edi",
        &x850(7, "NOBODY", "PO-1", "WID-100", 1),
    );
    p.run_idle();
    let dup =
        std::fs::read_to_string(p.path("data/partners/acme/quarantine/po77-again.edi.reason.txt"))
            .unwrap();
    assert!(dup.contains("duplicate file"), "{dup}");
    let stranger =
        std::fs::read_to_string(p.path("data/partners/acme/quarantine/stranger.edi.reason.txt"))
            .unwrap();
    assert!(
        stranger.contains("from unknown sender ZZ:NOBODY"),
        "{stranger}"
    );
    assert_eq!(
        listing(p, "data/partners/acme/out").len(),
        4,
        "nothing sent to strangers"
    );
    let instances = p.json(&["instances"]);
    let o2c = instances["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["workflow"] == "order-to-cash")
        .count();
    assert_eq!(o2c, 2, "one order each, never twice: {instances}");

    // A credit note on each partner's invoice goes out as an 810 credit memo (Acme, X12 4010)
    // and an INVOIC 381 (Cora, EDIFACT D96A), numbered by the same per-partner counter, and
    // reads back valid.
    for number in ["INV-000001", "INV-000002"] {
        p.ok(&[
            "credit-note",
            number,
            "--line",
            "1",
            "--qty",
            "1",
            "--reason",
            "damaged",
        ]);
    }
    p.run_idle();
    let cr = "data/partners/acme/out/acme-000000005-810-credit.edi";
    let e381 = "data/partners/cora/out/cora-000000005-invoic-credit.edi";
    for path in [cr, e381] {
        let v: Value =
            serde_json::from_str(&p.ok(&["edi", "parse", path, "--no-segments"])).unwrap();
        assert_eq!(v["valid"], true, "{path}: {v}");
    }
    let memo = std::fs::read_to_string(p.path(cr)).unwrap();
    // 1 × 12.50 + 19 % VAT = 14.88, BIG07 CR, the corrected invoice in REF*OI.
    assert!(memo.contains("*PO-77***CR~"), "{memo}");
    assert!(memo.contains("REF*OI*INV-00000"), "{memo}");
    assert!(memo.contains("TDS*1488*1250~"), "{memo}");
    let invoic = std::fs::read_to_string(p.path(e381)).unwrap();
    assert!(invoic.contains("BGM+381+CN-00000"), "{invoic}");
    assert!(invoic.contains("RFF+IV:INV-00000"), "{invoic}");
    let sent = p.json(&["instances"]);
    let edi_cn: Vec<&Value> = sent["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["workflow"] == "credit-note-edi")
        .collect();
    assert_eq!(edi_cn.len(), 2, "{sent}");
    assert!(edi_cn.iter().all(|i| i["end_status"] == "sent"), "{sent}");
});

#[test]
fn check_locates_bad_partner_profiles() {
    let p = Project::embedded("edi-check");
    setup(&p);
    p.ok(&["check"]);
    p.write(
        "config/partners/acme.yaml",
        "partner: acme\ncustomer: C-ACME\nversion: \"4011\"\ntheir_id: { qualifier: ZZ, id: ACMEBUYER }\nour_id: { qualifier: ZZ, id: ORDOSELLER }\nacknowledgment: CONTRL\n",
    );
    p.write(
        "config/partners/cora.yaml",
        "partner: cora\ncustomer: C-CORA\nversoin: D96A\n",
    );
    let (_, err) = p.expect_code(1, &["check"]);
    assert!(
        err.contains(
            "config/partners/acme.yaml:3:1: version '4011' is not one of 4010, 5010, D96A, D01B"
        ),
        "{err}"
    );
    assert!(
        err.contains("config/partners/cora.yaml:3:1:") && err.contains("versoin"),
        "{err}"
    );
}

#[test]
fn check_refuses_bad_accept_entries() {
    let p = Project::embedded("edi-check-accept");
    setup(&p);
    let acme = std::fs::read_to_string(p.path("config/partners/acme.yaml")).expect("acme");
    p.write(
        "config/partners/acme.yaml",
        &format!("{acme}accept: [850, 846, 997]\n"),
    );
    p.ok(&["check"]);
    let line = acme.lines().count() + 1;
    p.write(
        "config/partners/acme.yaml",
        &format!("{acme}accept: [850, ORDERS, 85O]\n"),
    );
    let (_, err) = p.expect_code(1, &["check"]);
    assert!(
        err.contains(&format!(
            "config/partners/acme.yaml:{line}:1: accept entry 2: 'ORDERS' is an EDIFACT message type"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "config/partners/acme.yaml:{line}:1: accept entry 3: '85O' is not an X12 transaction set id"
        )),
        "{err}"
    );
    // not a list of set ids at all: the YAML error, located
    p.write(
        "config/partners/acme.yaml",
        &format!("{acme}accept: [850, {{ set: 846 }}]\n"),
    );
    let (_, err) = p.expect_code(1, &["check"]);
    assert!(
        err.contains(&format!("config/partners/acme.yaml:{line}:")),
        "{err}"
    );
}

/// SIGKILL `ordo run` at random points while it takes 40 partner files and runs their orders;
/// after the restarts every 850 was acknowledged once, every order got exactly one 855, 856
/// and 810, and the control numbers in the outbound folder are 1..N without a gap or a repeat.
#[test]
fn kill_while_exchanging_with_partners() {
    use rand::Rng;
    let p = Project::embedded("edi-kill");
    setup(&p);
    const N: u32 = 40;
    for n in 1..=N {
        p.write(
            &format!("data/partners/acme/in/po-{n:03}.edi"),
            &x850(
                1000 + n,
                "ACMEBUYER",
                &format!("K-{n}"),
                "WID-100",
                1 + n % 3,
            ),
        );
    }
    let mut rng = rand::rng();
    for round in 0..4 {
        let mut child = p.spawn_run(&["--workers", "2"]);
        let wait = rng.random_range(400..1500);
        std::thread::sleep(std::time::Duration::from_millis(wait));
        ordo_tests::kill9(&mut child);
        eprintln!("round {round}: killed after {wait} ms");
    }
    p.run_idle();
    for n in 1..=N {
        assert_eq!(p.state_of(&format!("C-ACME-K-{n}")), "completed");
    }
    ordo_tests::x12::assert_acme_exchanged_once(&p, N as usize);
}

/// `ordo edi parse` maps 820 and REMADV: the advice is in the JSON; one whose totals do not
/// add up is a located error (exit 1), as the partner channel finds it.
#[test]
fn edi_parse_maps_remittance_advices_and_locates_bad_totals() {
    let p = Project::embedded("edi-remit-parse");
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../connectors/edi/tests/fixtures");
    for (f, amount) in [
        ("x12-4010-820-remittance.edi", "1480.00"),
        ("x12-5010-820-remittance.edi", "1195.50"),
        ("edifact-d96a-remadv.edi", "1060.00"),
    ] {
        let path = fixtures.join(f).display().to_string();
        let v: Value =
            serde_json::from_str(&p.ok(&["edi", "parse", &path, "--no-segments"])).unwrap();
        let t = &v["interchanges"][0]["groups"][0]["transactions"][0];
        assert_eq!(t["mapped"], true, "{f}: {t}");
        assert_eq!(t["remittance"]["amount"].to_string(), amount, "{f}: {t}");
        assert_eq!(
            t["remittance"]["invoices"].as_array().map(Vec::len),
            Some(2)
        );
    }
    let path = fixtures.join("x12-4010-820-totals-mismatch.edi");
    let (out, err) = p.expect_code(1, &["edi", "parse", &path.display().to_string()]);
    assert!(
        err.contains("x12-4010-820-totals-mismatch.edi:4:")
            && err.contains(
                "totals do not add up: payment 1490.00, paid amounts + adjustments 1480.00"
            ),
        "{err}"
    );
    assert!(out.contains("\"remittance\": null"), "{out}");
}
