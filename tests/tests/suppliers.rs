//! Suppliers end to end through the built binary, on both backends (issue 16 point 4): an
//! order short of an item raises a purchase order to a supplier with a profile
//! (`role: supplier`), which `ordo run` sends as an X12 850 into the supplier's outbound
//! folder; the supplier's 855 in its inbound folder moves the PO's date (the waiting order is
//! promised again, a new confirmation) and gets a 997; its 856 is the expected receipt the
//! goods receipt (`ordo receive`) is matched to: one short line opens the purchasing task.
//! An 855 for a PO ordo never sent and an 856 announcing more than ordered are quarantined
//! with a located reason and rejected in the 997; nothing of them is applied.

use ordo_tests::Project;
use ordo_tests::both;
use serde_json::json;

const PROFILE: &str = "# Gadget Works takes our purchase orders by X12 4010.\n\
partner: gadgetworks\nrole: supplier\nsupplier: S-GADGET\nversion: \"4010\"\n\
their_id: { qualifier: ZZ, id: GADGETWORKS }\nour_id: { qualifier: ZZ, id: ORDOBUYER }\n\
currency: EUR\n";

fn x12(ctl: u32, set: &str, body: &[String]) -> String {
    let gs = if set == "855" { "PR" } else { "SH" };
    format!(
        "ISA*00*          *00*          *ZZ*GADGETWORKS    *ZZ*ORDOBUYER      *261201*1200*U*00401*{ctl:09}*0*P*>~\n\
         GS*{gs}*GADGETWORKS*ORDOBUYER*20261201*1200*{ctl}*X*004010~\nST*{set}*0001~\n{}~\nSE*{}*0001~\nGE*1*{ctl}~\nIEA*1*{ctl:09}~\n",
        body.join("~\n"),
        body.len() + 2
    )
}

fn asn(ctl: u32, id: &str, po: &str, qty: &str) -> String {
    x12(
        ctl,
        "856",
        &[
            format!("BSN*00*{id}*20261210*1200"),
            "HL*1**S*1".into(),
            "HL*2*1*O*1".into(),
            format!("PRF*{po}"),
            "HL*3*2*I*0".into(),
            "LIN**VP*GAD-200".into(),
            format!("SN1**{qty}*EA"),
        ],
    )
}

fn files_in(p: &Project, dir: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(p.path(dir))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_file())
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        std::fs::read_to_string(e.path()).unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn confirmations(p: &Project) -> i64 {
    p.json(&["summary"])["outbound"]["order-confirmations"]
        .as_i64()
        .unwrap_or(0)
}

both!(suppliers_get_purchase_orders_and_answer, |p: &Project| {
    p.write("config/partners/gadgetworks.yaml", PROFILE);
    p.ok(&["data", "import", "config/seed.json"]);
    // 45 gadgets, 40 in stock, a customer who takes complete orders only: a PO is raised.
    let order = json!([{ "id": "SUP-1", "customer_id": "C-CORA", "po_number": "SUP-1",
        "order_date": "2026-11-23", "currency": "EUR",
        "lines": [{ "line_no": 1, "sku": "GAD-200", "quantity": 45 }] }]);
    p.write("order.json", &order.to_string());
    p.ok(&["submit", "order.json"]);
    p.run_idle();
    assert_eq!(p.state_of("SUP-1"), "waiting", "{}", p.status("SUP-1"));
    let po = p.status("SUP-1")["instance"]["data"]["waiting_on"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(p.state_of(&po), "sent", "{}", p.status(&po));
    let out = files_in(p, "data/partners/gadgetworks/out");
    let (name, po850) = out
        .iter()
        .find(|(n, _)| n.ends_with("-850.edi"))
        .unwrap_or_else(|| panic!("no 850 in {out:?}"));
    assert_eq!(name, "gadgetworks-000000001-850.edi");
    assert!(po850.contains(&format!("BEG*00*NE*{po}**")), "{po850}");
    // The quantity bought, as the supplier reads it (PO102).
    let qty = po850
        .split('~')
        .map(str::trim)
        .find(|s| s.starts_with("PO1*1*"))
        .and_then(|s| s.split('*').nth(2))
        .unwrap_or_else(|| panic!("{po850}"))
        .to_string();
    assert!(qty.parse::<u32>().unwrap() >= 5, "{qty}");
    let promised = confirmations(p);

    // Hostile first: an 855 for a PO ordo never sent, an 856 announcing more than ordered.
    let bad855 = x12(
        901,
        "855",
        &[
            "BAK*00*AC*PO-999999*20261201".into(),
            "PO1*1*5*EA***VP*GAD-200".into(),
            "ACK*IA*5*EA*068*20990101".into(),
        ],
    );
    p.write("data/partners/gadgetworks/in/bad-855.edi", &bad855);
    let more = (qty.parse::<u32>().unwrap() + 1).to_string();
    p.write(
        "data/partners/gadgetworks/in/bad-856.edi",
        &asn(902, "ASN-BAD", &po, &more),
    );
    p.run_idle();
    let q = files_in(p, "data/partners/gadgetworks/quarantine");
    let reason = |f: &str| {
        q.iter()
            .find(|(n, _)| n == &format!("{f}.reason.txt"))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{f} not quarantined: {q:?}"))
    };
    let r = reason("bad-855.edi");
    assert!(
        r.contains("bad-855.edi:4:1") && r.contains("PO-999999 is not one ordo sent"),
        "{r}"
    );
    let r = reason("bad-856.edi");
    assert!(
        r.contains("bad-856.edi:9:1") && r.contains(&format!("{more} of GAD-200 announced")),
        "{r}"
    );
    let acks = files_in(p, "data/partners/gadgetworks/out");
    assert_eq!(
        acks.iter()
            .filter(|(n, c)| n.ends_with("-997.edi") && c.contains("AK5*R"))
            .count(),
        2,
        "{acks:?}"
    );
    assert_eq!(confirmations(p), promised, "nothing applied");

    // The supplier's 855: it delivers on 2099-01-01. The order is promised again.
    let rsp = x12(
        903,
        "855",
        &[
            format!("BAK*00*AC*{po}*20261201"),
            format!("PO1*1*{qty}*EA***VP*GAD-200"),
            format!("ACK*IA*{qty}*EA*068*20990101"),
        ],
    );
    p.write("data/partners/gadgetworks/in/rsp.edi", &rsp);
    p.run_idle();
    assert!(
        files_in(p, "data/partners/gadgetworks/archive")
            .iter()
            .any(|(n, _)| n == "rsp.edi")
    );
    assert_eq!(confirmations(p), promised + 1, "a new confirmation");
    let data = p.status("SUP-1")["instance"]["data"].clone();
    assert_eq!(p.state_of("SUP-1"), "waiting", "{data}");

    // The 856 announces everything; one fewer arrives: stock takes what came, a task opens.
    p.write(
        "data/partners/gadgetworks/in/asn.edi",
        &asn(904, "ASN-1", &po, &qty),
    );
    p.run_idle();
    let less = (qty.parse::<u32>().unwrap() - 1).to_string();
    let receipt = p.json(&["receive", &po, "--lines", &format!("GAD-200={less}")]);
    assert_eq!(receipt["differences"][0]["kind"], "short", "{receipt}");
    let gr = receipt["number"].as_str().unwrap().to_string();
    p.run_idle();
    assert_eq!(p.state_of(&gr), "waiting", "{}", p.status(&gr));
    assert!(
        p.open_tasks().iter().any(|(_, k)| k == &gr),
        "{:?}",
        p.open_tasks()
    );
    // What came went to stock: the order has its 45 now and ships.
    assert_eq!(p.state_of("SUP-1"), "completed", "{}", p.status("SUP-1"));
});

/// `ordo check` refuses a broken supplier profile at its place, and two profiles for one
/// supplier.
#[test]
fn supplier_profiles_are_checked_located() {
    let p = Project::embedded("supplier_check");
    p.write(
        "config/partners/steel.yaml",
        "partner: steel\nrole: supplier\nversion: \"4010\"\ntheir_id: { qualifier: ZZ, id: STEEL }\nour_id: { qualifier: ZZ, id: ORDOBUYER }\nformat: fax\ndocuments: [invoice]\n",
    );
    p.write("config/partners/gadgetworks.yaml", PROFILE);
    p.write(
        "config/partners/gadgets-too.yaml",
        &PROFILE
            .replace("partner: gadgetworks", "partner: gadgets-too")
            .replace("GADGETWORKS", "GADGETS2"),
    );
    let (_, err) = p.expect_code(1, &["check"]);
    for want in [
        "config/partners/steel.yaml:1:1: a supplier profile must name its supplier id",
        "config/partners/steel.yaml:6:1: format 'fax' is not edi or csv",
        "config/partners/gadgetworks.yaml:4:1: supplier 'S-GADGET' already has the profile 'gadgets-too': one profile per supplier",
        "config/partners/steel.yaml:7:1: unknown document 'invoice' for a supplier",
    ] {
        assert!(err.contains(want), "{want}\n{err}");
    }
}
