//! The supply side end to end through the built binary, on both backends (issue 16 points 3,
//! 5, 6 and 7): two stock locations from master data (with located refusals), the scheduled
//! replenishment run (`ordo replenish`, workflows/replenishment.yaml) buying per location up
//! to the item's level once — two runs at once, on the cluster in two `ordo run` processes,
//! buy each need once — the allocation rule choosing the location an order ships from, the
//! delivery promise and a slipped purchase order (`ordo po-expect`), and a made-to-order line
//! produced through workflows/production.yaml.

use ordo_tests::Project;
use serde_json::{Value, json};

const LOCATIONS: &str = r#"{ "location": [
  { "id": "main", "name": "Hamburg", "country": "DE", "priority": 1 },
  { "id": "north", "name": "Aarhus", "country": "DK", "priority": 2 } ],
  "customer": [ { "id": "C-DK", "name": "Nordisk", "currency": "EUR", "credit_limit": 100000,
                  "terms": "net 30", "country": "DK", "ship_policy": "complete" } ],
  "stock": [ { "item": "WID-100", "location": "north", "quantity": 20 },
             { "item": "GAD-200", "location": "north", "quantity": 5 },
             { "item": "BOLT-M8", "location": "north", "quantity": 800 } ] }"#;

fn stock(p: &Project) -> Value {
    p.json(&["summary"])["stock"].clone()
}

fn qty(s: &Value, key: &str) -> String {
    match &s[key] {
        Value::Null => "0".into(),
        v => v.to_string().trim_matches('"').to_string(),
    }
}

fn purchase_orders(p: &Project) -> i64 {
    p.json(&["summary"])["documents"]["purchase-order"]
        .as_i64()
        .unwrap_or(0)
}

fn order(id: &str, customer: &str, lines: &[(&str, u32)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, q))| json!({ "line_no": i + 1, "sku": sku, "quantity": q }))
        .collect();
    json!({ "id": id, "customer_id": customer, "po_number": id, "order_date": "2026-11-23",
            "currency": "EUR", "lines": lines })
}

/// Hostile master data: each refused at its place, nothing stored.
fn refusals(p: &Project) {
    p.write(
        "bad-locations.json",
        "{ \"location\": [\n { \"id\": \"west\", \"name\": \"West\", \"country\": \"Germany\" },\n { \"id\": \"on-order\", \"name\": \"Counter\" } ],\n \"item\": [ { \"sku\": \"X-1\", \"description\": \"x\", \"price\": 1, \"reorder_point\": 50, \"max_stock\": 10 } ] }",
    );
    let (_, err) = p.expect_code(1, &["data", "import", "bad-locations.json"]);
    for want in [
        "bad-locations.json:2:45: location 'west': country: must be an ISO 3166 country code",
        "bad-locations.json:3:10: location 'on-order': id: 'on-order' is reserved",
        "bad-locations.json:4:94: item 'X-1': max_stock: 10 is below the reorder point 50",
        "nothing imported",
    ] {
        assert!(err.contains(want), "{want}\n{err}");
    }
    p.write(
        "locations.csv",
        "id,name,country,priority\nsouth,South,DE,x\n",
    );
    let (_, err) = p.expect_code(1, &["data", "import", "locations.csv"]);
    assert!(err.contains("locations.csv:2:"), "{err}");
    assert!(err.contains("priority"), "{err}");
}

fn flow(p: &Project, two_processes: bool) {
    p.ok(&["data", "import", "config/seed.json"]);
    refusals(p);
    p.write("locations.json", LOCATIONS);
    p.ok(&["data", "import", "locations.json"]);

    // Two runs started at once: both scan the same stock and plan the same needs.
    let a = p.json(&["replenish"]);
    let b = p.json(&["replenish"]);
    assert_ne!(a["key"], b["key"]);
    if two_processes {
        let mut one = p.spawn_run(&["--exit-when-idle"]);
        let mut two = p.spawn_run(&["--exit-when-idle"]);
        assert!(one.wait().expect("run 1").success(), "{}", p.run_logs());
        assert!(two.wait().expect("run 2").success(), "{}", p.run_logs());
        p.run_idle();
    } else {
        p.run_idle();
    }
    for k in [&a["key"], &b["key"]] {
        let k = k.as_str().unwrap();
        assert_eq!(p.state_of(k), "completed", "{}", p.status(k));
    }
    // North is below the reorder point of three items (20 < 100 widgets, 5 < 10 gadgets, 800
    // < 500 bolts is not): widgets bought by their reorder quantity 1000, gadgets by 20. Main
    // holds enough of everything. Each need once, whichever run claimed it.
    let s = stock(p);
    assert_eq!(qty(&s, "WID-100@on-order:north"), "1000", "{s}");
    assert_eq!(qty(&s, "GAD-200@on-order:north"), "20", "{s}");
    assert_eq!(qty(&s, "BOLT-M8@on-order:north"), "0", "{s}");
    assert_eq!(qty(&s, "WID-100@on-order"), "0", "{s}");
    // One PO per supplier for the location: S-STEEL and S-GADGET.
    assert_eq!(purchase_orders(p), 2);

    // A third run while the POs are open buys nothing more.
    let c = p.json(&["replenish"]);
    p.run_idle();
    let ck = c["key"].as_str().unwrap();
    assert_eq!(p.state_of(ck), "completed");
    assert_eq!(purchase_orders(p), 2);
    assert_eq!(qty(&stock(p), "WID-100@on-order:north"), "1000");

    // The receipt books the goods where the PO was bought for, whatever the default says.
    let mut received = 0;
    for po in ["PO-000001", "PO-000002"] {
        let r = p.json(&["receive", po]);
        assert_eq!(r["location"], "north", "{r}");
        received += 1;
    }
    assert_eq!(received, 2);
    let s = stock(p);
    assert_eq!(qty(&s, "WID-100@north"), "1020", "{s}");
    assert_eq!(qty(&s, "GAD-200@north"), "25", "{s}");
    assert_eq!(qty(&s, "WID-100@on-order:north"), "0", "{s}");

    // Allocation: the Danish customer's order ships complete from both; the nearer (north)
    // wins. A French order for more gadgets than north has ships from main (by priority).
    p.write(
        "orders.json",
        &json!([
            order("SUP-DK", "C-DK", &[("WID-100", 10), ("GAD-200", 2)]),
            order("SUP-DE", "C-CORA", &[("GAD-200", 30)]),
        ])
        .to_string(),
    );
    p.ok(&["submit", "orders.json"]);
    p.run_idle();
    for o in ["SUP-DK", "SUP-DE"] {
        assert_eq!(p.state_of(o), "completed", "{}", p.status(o));
    }
    let s = stock(p);
    assert_eq!(qty(&s, "WID-100@north"), "1010", "{s}");
    assert_eq!(qty(&s, "GAD-200@north"), "23", "{s}");
    assert_eq!(qty(&s, "GAD-200"), "10", "{s}");
    let dk = p.status("SUP-DK");
    assert_eq!(
        dk["instance"]["data"]["allocation"]["location"], "north",
        "{dk}"
    );
    assert_eq!(dk["instance"]["data"]["to_ship"]["location"], "north");
    // Both were promised from stock: one date, today, and a confirmation file each.
    let promise = &dk["instance"]["data"]["promise"];
    assert_eq!(promise["version"], 1, "{promise}");
    assert_eq!(promise["lines"][0]["sources"][0]["from"], "stock");
    assert_eq!(confirmations(p), 2);

    promise_and_slip(p);
    made_to_order(p);
}

fn confirmations(p: &Project) -> i64 {
    p.json(&["summary"])["outbound"]["order-confirmations"]
        .as_i64()
        .unwrap_or(0)
}

/// 45 gadgets, 10 at main, 23 at north: neither ships complete, the French customer's order
/// waits at main for a purchase (promised at the supplier's lead time). The PO slips: the
/// order is promised again (version 2, a second confirmation) and, received, ships.
fn promise_and_slip(p: &Project) {
    p.write(
        "wait.json",
        &json!([order("SUP-WAIT", "C-CORA", &[("GAD-200", 45)])]).to_string(),
    );
    p.ok(&["submit", "wait.json"]);
    p.run_idle();
    assert_eq!(p.state_of("SUP-WAIT"), "waiting");
    let data = p.status("SUP-WAIT")["instance"]["data"].clone();
    assert_eq!(data["allocation"]["location"], "main", "{data}");
    let first = data["promise"]["date"].as_str().unwrap().to_string();
    let po = data["waiting_on"][0].as_str().unwrap().to_string();
    assert_eq!(confirmations(p), 3);
    // Hostile: an unknown PO, a date that is none.
    let (_, err) = p.expect_code(1, &["po-expect", "PO-999999", "2099-01-01"]);
    assert!(err.contains("no purchase order 'PO-999999'"), "{err}");
    let (_, err) = p.expect_code(1, &["po-expect", &po, "2099-13-01"]);
    assert!(err.contains("is not a date"), "{err}");
    let r = p.json(&["po-expect", &po, "2099-01-01"]);
    assert_eq!(r["changed"][0]["order"], "SUP-WAIT", "{r}");
    assert_eq!(r["changed"][0]["version"], 2);
    assert_eq!(r["changed"][0]["date"], "2099-01-01");
    assert_ne!(first, "2099-01-01");
    assert_eq!(confirmations(p), 4);
    // The same date again tells nobody anything.
    let r = p.json(&["po-expect", &po, "2099-01-01"]);
    assert_eq!(r["changed"], json!([]), "{r}");
    p.json(&["receive", &po]);
    p.run_idle();
    assert_eq!(
        p.state_of("SUP-WAIT"),
        "completed",
        "{}",
        p.status("SUP-WAIT")
    );
}

/// A made-to-order kit: produced from its bill of materials (components taken at main), its
/// one work step a `production` task, then booked at cost and shipped with the order.
fn made_to_order(p: &Project) {
    p.write(
        "bad-bom.json",
        "{ \"item\": [\n { \"sku\": \"K-A\", \"description\": \"a\", \"price\": 1, \"made_to_order\": true, \"bom\": [ { \"sku\": \"K-B\", \"quantity\": 1 } ] },\n { \"sku\": \"K-B\", \"description\": \"b\", \"price\": 1, \"bom\": [ { \"sku\": \"K-A\", \"quantity\": 2 } ] },\n { \"sku\": \"K-C\", \"description\": \"c\", \"price\": 1, \"made_to_order\": true, \"bom\": [ { \"sku\": \"NOPE\", \"quantity\": 1 }, { \"sku\": \"WID-100\", \"quantity\": 0 } ] },\n { \"sku\": \"K-D\", \"description\": \"d\", \"price\": 1, \"made_to_order\": true } ] }",
    );
    let (_, err) = p.expect_code(1, &["data", "import", "bad-bom.json"]);
    for want in [
        "bad-bom.json:2:11: item 'K-A': bom: the bill of materials has a cycle: K-A → K-B → K-A",
        "bad-bom.json:3:11: item 'K-B': bom: the bill of materials has a cycle: K-B → K-A → K-B",
        "bad-bom.json:4:116: item 'K-C': bom: quantity of WID-100 must be positive, got 0",
        "bad-bom.json:5:2: item 'K-D': bom: a made-to-order item needs a bill of materials",
        "nothing imported",
    ] {
        assert!(err.contains(want), "{want}\n{err}");
    }
    // Unknown component: known only once the file is otherwise valid (the store's check).
    p.write(
        "unknown-bom.json",
        "{ \"item\": [\n { \"sku\": \"K-C\", \"description\": \"c\", \"price\": 1, \"made_to_order\": true, \"bom\": [ { \"sku\": \"NOPE\", \"quantity\": 1 } ] } ] }",
    );
    let (_, err) = p.expect_code(1, &["data", "import", "unknown-bom.json"]);
    assert!(
        err.contains("unknown-bom.json:2:11: item 'K-C': bom: component 'NOPE' is no item"),
        "{err}"
    );
    p.write(
        "kit.json",
        r#"{ "item": [ { "sku": "KIT-1", "description": "Widget kit", "price": 90, "made_to_order": true,
                        "bom": [ { "sku": "WID-100", "quantity": 2 }, { "sku": "BOLT-M8", "quantity": 1 } ],
                        "work_steps": ["assemble"], "labour_cost": 3 } ] }"#,
    );
    p.ok(&["data", "import", "kit.json"]);
    p.write(
        "mto.json",
        &json!([order("SUP-MTO", "C-CORA", &[("KIT-1", 3)])]).to_string(),
    );
    let start = stock(p);
    p.ok(&["submit", "mto.json"]);
    p.run_idle();
    assert_eq!(p.state_of("SUP-MTO"), "waiting");
    let production = "SUP-MTO:KIT-1:1";
    assert_eq!(
        p.state_of(production),
        "waiting",
        "{}",
        p.status(production)
    );
    let task = p.task_for(production);
    p.ok(&["approve", &task.to_string(), "--note", "assembled"]);
    p.run_idle();
    assert_eq!(
        p.state_of(production),
        "completed",
        "{}",
        p.status(production)
    );
    assert_eq!(
        p.state_of("SUP-MTO"),
        "completed",
        "{}",
        p.status("SUP-MTO")
    );
    let after = stock(p);
    // 6 widgets and 3 boxes of bolts went into the kits; the kits were made and shipped.
    let n = |s: &Value, k: &str| qty(s, k).parse::<f64>().unwrap();
    assert_eq!(n(&start, "WID-100") - n(&after, "WID-100"), 6.0, "{after}");
    assert_eq!(n(&start, "BOLT-M8") - n(&after, "BOLT-M8"), 3.0, "{after}");
    assert_eq!(qty(&after, "KIT-1"), "0", "{after}");
    let s = p.status(production);
    // 2 × 7.10 + 1 × 3.90 + 3 labour = 21.10 a kit.
    assert_eq!(
        s["instance"]["data"]["unit_cost"].to_string(),
        "21.10",
        "{s}"
    );
}

#[test]
fn locations_and_replenishment_embedded() {
    flow(&Project::embedded("supply"), false);
}

#[test]
fn locations_and_replenishment_cluster() {
    let Some(p) = Project::cluster("supply") else {
        return;
    };
    flow(&p, true);
}
