//! `GET /api/v1/reports/{name}` on both backends through a running `ordo run`: `sales` of the
//! book adds up to the invoices the API serves, to the cent; every report answers every
//! reading role; an unknown report or dimension and a bad date are located errors in the
//! API's one shape; a role that may not read is refused.

use ordo_tests::api::{code, order, setup, start, users};
use ordo_tests::{Project, both};
use serde_json::{Value, json};

/// An exact decimal (JSON number text) in ten-thousandths.
fn e4(v: &Value) -> i128 {
    let t = v.to_string();
    let (i, f) = t.split_once('.').unwrap_or((t.as_str(), ""));
    assert!(f.len() <= 4 && !i.starts_with('-'), "{t}");
    i.parse::<i128>().unwrap() * 10_000 + format!("{f:0<4}").parse::<i128>().unwrap()
}

both!(reports_over_the_api, |p: &Project| {
    setup(p);
    // the item's group, imported with its master data, is what `--by item-group` keys on
    let seed: Value =
        serde_json::from_str(&std::fs::read_to_string(p.path("config/seed.json")).unwrap())
            .unwrap();
    let mut wid = seed["item"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["sku"] == "WID-100")
        .unwrap()
        .clone();
    wid["group"] = json!("widgets");
    p.write("group.json", &json!({ "item": [wid] }).to_string());
    p.ok(&["data", "import", "group.json"]);
    let orders = json!([
        order("RP-1", "C-CORA", "BOLT-M8", 3),
        order("RP-2", "C-CORA", "WID-100", 7),
        order("RP-3", "C-CORA", "BOLT-M8", 11)
    ]);
    p.write("orders.json", &orders.to_string());
    p.ok(&["submit", "orders.json"]);
    p.run_idle();
    let tokens = users(p);
    let s = start(p);
    let view = &tokens["view"];

    let (st, rep) = s.get("/api/v1/reports/sales?by=day,item", view);
    assert_eq!(st, 200, "{rep}");
    let revenue: i128 = rep["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| e4(&r["net revenue"]))
        .sum();
    let mut invoiced = 0;
    let mut n = 0;
    for i in 1.. {
        let (st, inv) = s.get(&format!("/api/v1/invoices/INV-{i:06}"), view);
        if st == 404 {
            break;
        }
        assert_eq!(st, 200, "{inv}");
        invoiced += e4(&inv["net_total"]);
        n += 1;
    }
    assert_eq!(n, 3, "each order invoiced once");
    assert_eq!(revenue, invoiced, "sales ties out to the invoices: {rep}");

    for name in [
        "sales",
        "aging",
        "dso",
        "cycle-time",
        "fulfilment",
        "stock",
        "recon",
        "edi",
    ] {
        for who in ["view", "fin", "mgr", "sally", "edi"] {
            let (st, r) = s.get(&format!("/api/v1/reports/{name}"), &tokens[who]);
            assert_eq!(st, 200, "{name} as {who}: {r}");
            assert_eq!(r["report"], name, "{r}");
            assert!(!r.to_string().contains("NaN"), "{r}");
        }
    }
    let (st, r) = s.get("/api/v1/reports/sales?by=item-group", view);
    assert_eq!(st, 200, "{r}");
    let groups: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["item-group"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["(none)", "widgets"], "{r}");
    // a period beyond the data: no rows
    let (st, r) = s.get("/api/v1/reports/sales?from=2099-01-01", view);
    assert_eq!(
        (st, r["rows"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{r}"
    );

    let (st, e) = s.get("/api/v1/reports/profit", view);
    assert_eq!((st, code(&e)), (404, "not_found"), "{e}");
    assert_eq!(e["error"]["location"], "path:name", "{e}");
    let (st, e) = s.get("/api/v1/reports/sales?by=month,colour", view);
    assert_eq!((st, code(&e)), (400, "bad_request"), "{e}");
    assert_eq!(e["error"]["location"], "query:by", "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("by[1]"),
        "{e}"
    );
    let (st, e) = s.get("/api/v1/reports/sales?from=2026-02-30", view);
    assert_eq!(
        (st, e["error"]["location"].as_str()),
        (400, Some("query:from")),
        "{e}"
    );
    let (st, e) = s.get("/api/v1/reports/sales?from=2026-03-02&to=2026-03-01", view);
    assert_eq!(st, 400, "{e}");
    let (st, e) = s.get("/api/v1/reports/sales?colour=red", view);
    assert_eq!((st, code(&e)), (400, "bad_request"), "{e}");
    let (st, e) = s.get("/api/v1/reports/recon?by=item", view);
    assert_eq!(st, 400, "{e}");
    let (st, e) = s.get("/api/v1/reports/sales", &tokens["integ"]);
    assert_eq!((st, code(&e)), (403, "forbidden"), "{e}");
});
