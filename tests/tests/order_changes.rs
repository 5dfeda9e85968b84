//! Order changes and cancellations end to end through the built binary, on both backends:
//! a waiting order changed (quantity, a line added, the date) and then shipped with its new
//! lines; a partly shipped order whose shipped line refuses to change while its open line may;
//! a cancellation and the refusals after it; a held order amended and released; an unknown
//! order, zero and negative quantities (nothing applied); the API routes with their roles,
//! replay and error shapes; and a change racing `ordo run` on the same orders.

use ordo_tests::{Project, kill9};
use serde_json::{Value, json};

fn order(id: &str, customer: &str, lines: &[(&str, u32)]) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, q))| json!({ "line_no": i + 1, "sku": sku, "quantity": q }))
        .collect();
    json!({ "id": id, "customer_id": customer, "po_number": id, "order_date": "2026-11-23", "currency": "EUR", "lines": lines })
}

/// The order's `order_versions` (what each change did), from `ordo status`.
fn versions(p: &Project, id: &str) -> Vec<Value> {
    p.status(id)["instance"]["data"]["order_versions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn refused(p: &Project, args: &[&str], says: &str) {
    let (_, err) = p.expect_code(1, args);
    assert!(err.contains(says), "{args:?}: {err}");
}

fn shipped(p: &Project, id: &str) -> Vec<(u64, String, String)> {
    p.status(id)["instance"]["data"]["fulfilment"]["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            (
                l["line_no"].as_u64().unwrap_or(0),
                l["ordered"].to_string().trim_matches('"').to_string(),
                l["shipped"].to_string().trim_matches('"').to_string(),
            )
        })
        .collect()
}

fn flow(p: &Project) {
    p.ok(&["data", "import", "config/seed.json"]);
    let orders = json!([
        // Ship complete, 40 gadgets in stock: waits for the purchase order, nothing shipped.
        order("CH-B", "C-CORA", &[("GAD-200", 100), ("WID-100", 2)]),
        // Partial shipments: the widgets ship at once, the handbook waits.
        order("CH-P", "C-ACME", &[("BOOK-HB", 1), ("WID-100", 2)]),
        order("CH-C", "C-CORA", &[("GAD-200", 50)]),
        // An unknown item: held by order.validate.
        order("CH-H", "C-BOLT", &[("NOPE-1", 1), ("WID-100", 1)]),
    ]);
    p.write("orders.json", &orders.to_string());
    p.ok(&["submit", "orders.json"]);
    p.run_idle();
    assert_eq!(p.state_of("CH-B"), "waiting");
    // Held: back to the sales rep as a task, not a dead end.
    assert_eq!(p.status("CH-H")["instance"]["step"], "amend");
    let amend = p.task_for("CH-H");

    // Hostile changes: nothing applied, each located.
    refused(
        p,
        &["order", "change", "CH-NONE", "--qty", "1=2"],
        "no order 'CH-NONE'",
    );
    refused(
        p,
        &["order", "change", "CH-B", "--qty", "2=0"],
        "line 2: quantity 0 must be greater than 0",
    );
    refused(
        p,
        &["order", "change", "CH-B", "--qty", "2=-3"],
        "line 2: quantity -3 must be greater than 0",
    );
    refused(
        p,
        &["order", "change", "CH-B", "--qty", "9=1"],
        "line 9: the order has no such line",
    );
    refused(
        p,
        &["order", "change", "CH-B", "--qty", "2=x"],
        "'x' is not a decimal number",
    );
    refused(
        p,
        &["order", "change", "CH-B"],
        "the change changes nothing",
    );
    refused(
        p,
        &[
            "order",
            "change",
            "CH-B",
            "--qty",
            "2=5",
            "--add",
            "3:BOLT-M8=0",
        ],
        "line 3: quantity 0 must be greater than 0",
    );
    assert!(versions(p, "CH-B").is_empty(), "nothing half-applied");

    // A change of the waiting order: quantity, a new line, the date; the workflow runs again.
    let out = p.json(&[
        "order",
        "change",
        "CH-B",
        "--qty",
        "2=3",
        "--add",
        "3:BOLT-M8=5",
        "--date",
        "2026-12-20",
        "--reason",
        "customer called",
    ]);
    assert_eq!(out["version"], json!(2), "{out}");
    p.run_idle();
    assert_eq!(p.state_of("CH-B"), "waiting");
    let v = versions(p, "CH-B");
    assert_eq!(v.len(), 1, "{v:?}");
    let text = p.ok(&["status", "CH-B"]);
    assert!(
        text.contains("version 2 by ") && text.contains("(customer called)"),
        "{text}"
    );
    assert_eq!(v[0]["reason"], "customer called");
    let st = p.status("CH-B");
    let data = &st["instance"]["data"];
    assert_eq!(data["order"]["version"], json!(2));
    assert_eq!(data["order"]["requested_date"], "2026-12-20");
    assert_eq!(
        data["pricing"]["lines"].as_array().map(Vec::len),
        Some(3),
        "{data}"
    );
    assert!(
        st["history"].to_string().contains("\"changed\""),
        "{}",
        st["history"]
    );
    // Fewer gadgets, as many as are in stock: everything ships, with the changed quantities.
    p.ok(&["order", "change", "CH-B", "--qty", "1=40"]);
    p.run_idle();
    assert_eq!(p.state_of("CH-B"), "completed");
    assert_eq!(
        shipped(p, "CH-B"),
        vec![
            (1, "40".into(), "40".into()),
            (2, "3".into(), "3".into()),
            (3, "5".into(), "5".into())
        ]
    );
    assert_eq!(versions(p, "CH-B").len(), 2);
    refused(
        p,
        &["order", "change", "CH-B", "--qty", "2=1"],
        "has ended completed",
    );

    // Partly shipped: the shipped line refuses, the open one changes; no cancellation.
    assert_eq!(shipped(p, "CH-P")[1], (2, "2".into(), "2".into()));
    refused(
        p,
        &["order", "change", "CH-P", "--qty", "2=5"],
        "line 2: 2 already shipped; a shipped line cannot change",
    );
    refused(
        p,
        &["order", "cancel", "CH-P", "--reason", "x"],
        "line(s) 2 already shipped",
    );
    p.ok(&["order", "change", "CH-P", "--qty", "1=2"]);
    p.run_idle();
    // Handbooks have no supplier: the open line is backordered, the shipped one stays.
    assert_eq!(p.state_of("CH-P"), "backordered");
    assert_eq!(shipped(p, "CH-P")[0], (1, "2".into(), "0".into()));

    // Cancelled: ends so, and nothing more is taken.
    let c = p.json(&["order", "cancel", "CH-C", "--reason", "no longer needed"]);
    assert_eq!(c["status"], "cancelled", "{c}");
    p.run_idle();
    assert_eq!(p.state_of("CH-C"), "cancelled");
    refused(
        p,
        &["order", "cancel", "CH-C", "--reason", "again"],
        "order CH-C is cancelled",
    );
    refused(
        p,
        &["order", "change", "CH-C", "--qty", "1=1"],
        "order CH-C is cancelled",
    );
    refused(
        p,
        &["order", "cancel", "CH-B", "--reason", "late"],
        "has ended completed",
    );

    // The held order is amended (its unknown line removed) and released; its task is closed.
    p.ok(&[
        "order",
        "change",
        "CH-H",
        "--remove",
        "1",
        "--reason",
        "typo in the SKU",
    ]);
    assert!(
        !p.open_tasks().iter().any(|(id, _)| *id == amend),
        "{:?}",
        p.open_tasks()
    );
    p.run_idle();
    assert_eq!(p.state_of("CH-H"), "completed");

    let audit = p.json(&["audit"]).to_string();
    assert!(audit.contains("order.changed") && audit.contains("order.cancelled"));
}

#[test]
fn order_changes_embedded() {
    flow(&Project::embedded("order-changes"));
}

#[test]
fn order_changes_cluster() {
    let Some(p) = Project::cluster("order-changes") else {
        return;
    };
    flow(&p);
}

/// `POST /api/v1/orders/{id}/changes` and `/cancel`: roles, idempotent replay, the error shape,
/// and the versions in `GET /api/v1/orders/{id}`.
fn api(p: &Project) {
    use ordo_tests::api::{code, start, users};
    p.ok(&["data", "import", "config/seed.json"]);
    p.write(
        "orders.json",
        &json!([
            order("CH-API", "C-CORA", &[("GAD-200", 100), ("WID-100", 2)]),
            order("CH-API2", "C-CORA", &[("GAD-200", 100)])
        ])
        .to_string(),
    );
    p.ok(&["submit", "orders.json"]);
    p.run_idle();
    let tokens = users(p);
    let s = start(p);
    let path = "/api/v1/orders/CH-API/changes";
    let body = json!({ "lines": [{ "line_no": 2, "quantity": "4" }], "reason": "more" });
    let (st, v) = s.post(path, &tokens["fin"], &body);
    assert_eq!((st, code(&v)), (403, "forbidden"), "{v}");
    let url = format!("{}{path}", s.base);
    let (st, replayed, first) =
        ordo_tests::api_post(&s.http, &url, &tokens["sally"], Some("chg-1"), &body);
    assert_eq!((st, replayed), (201, false), "{first}");
    assert_eq!(first["version"], json!(2), "{first}");
    let (st, replayed, again) =
        ordo_tests::api_post(&s.http, &url, &tokens["sally"], Some("chg-1"), &body);
    assert_eq!((st, replayed), (201, true), "{again}");
    assert_eq!(again, first, "the stored answer, no second change");
    for (body, status, want) in [
        (
            json!({ "lines": [{ "line_no": 2, "quantity": "0" }] }),
            409,
            "conflict",
        ),
        (
            json!({ "lines": [{ "line_no": 7, "quantity": "1" }] }),
            409,
            "conflict",
        ),
        (
            json!({ "lines": [{ "line_no": 2, "qty": "1" }] }),
            422,
            "invalid",
        ),
        (json!({ "lines": "all" }), 422, "invalid"),
    ] {
        let (st, v) = s.post(path, &tokens["sally"], &body);
        assert_eq!((st, code(&v)), (status, want), "{body}: {v}");
    }
    let (st, v) = s.post("/api/v1/orders/CH-404/changes", &tokens["sally"], &body);
    assert_eq!((st, code(&v)), (404, "not_found"), "{v}");
    let (st, v) = s.post(
        "/api/v1/orders/CH-API2/cancel",
        &tokens["sally"],
        &json!({ "reason": "" }),
    );
    assert_eq!((st, code(&v)), (422, "invalid"), "{v}");
    let (st, v) = s.post(
        "/api/v1/orders/CH-API2/cancel",
        &tokens["sally"],
        &json!({ "reason": "duplicate order" }),
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["status"], "cancelled");
    let (st, v) = s.post(
        "/api/v1/orders/CH-API2/cancel",
        &tokens["sally"],
        &json!({ "reason": "again" }),
    );
    assert_eq!((st, code(&v)), (409, "conflict"), "{v}");
    let (st, order) = s.get("/api/v1/orders/CH-API", &tokens["sally"]);
    assert_eq!(st, 200, "{order}");
    let vs = order["versions"].as_array().cloned().unwrap_or_default();
    assert_eq!(vs.len(), 2, "{order}");
    assert_eq!(vs[1]["lines"][1]["quantity"], json!(4), "{order}");
    assert_eq!(vs[0]["lines"][1]["quantity"], json!(2), "{order}");
    drop(s);
    assert_eq!(p.state_of("CH-API2"), "cancelled");
}

#[test]
fn order_changes_api_embedded() {
    api(&Project::embedded("order-changes-api"));
}

#[test]
fn order_changes_api_cluster() {
    let Some(p) = Project::cluster("order-changes-api") else {
        return;
    };
    api(&p);
}

/// A change racing the workers: orders that can ship at once are submitted while `ordo run`
/// serves the API, and each is changed (line 1 from 5 to 7) while the workers may be allocating
/// or shipping it. A change either wins (the order ships 7) or is refused as a conflict (being
/// shipped, shipped, ended: it ships 5), never both and never half: what shipped of every
/// order equals the quantity of its last version, and the stock moved by exactly what shipped.
fn race(p: &Project) {
    use ordo_tests::api::{code, start, users};
    p.ok(&["data", "import", "config/seed.json"]);
    let tokens = users(p);
    let before: i64 = p.json(&["summary"])["stock"]["WID-100"]
        .to_string()
        .parse()
        .expect("WID-100 stock");
    let n = 30;
    let orders: Vec<Value> = (0..n)
        .map(|i| {
            order(
                &format!("RC-{i}"),
                "C-CORA",
                &[("WID-100", 5), ("BOLT-M8", 1)],
            )
        })
        .collect();
    p.write("race.json", &json!(orders).to_string());
    let s = start(p);
    p.ok(&["submit", "race.json"]);
    let mut won = Vec::new();
    for i in 0..n {
        let (st, v) = s.post(
            &format!("/api/v1/orders/RC-{i}/changes"),
            &tokens["sally"],
            &json!({ "lines": [{ "line_no": 1, "quantity": 7 }] }),
        );
        match st {
            201 => won.push(i),
            409 => assert_eq!(code(&v), "conflict"),
            _ => panic!("RC-{i}: {st} {v}"),
        }
    }
    ordo_tests::wait_until(120, "every raced order ends", || {
        (0..n).all(|i| {
            s.get(&format!("/api/v1/orders/RC-{i}"), &tokens["view"]).1["instances"][0]
                ["end_status"]
                == "completed"
        })
    });
    drop(s);
    let mut shipped_total = 0;
    for i in 0..n {
        let st = p.status(&format!("RC-{i}"));
        let data = &st["instance"]["data"];
        let ordered: i64 = data["order"]["lines"][0]["quantity"]
            .to_string()
            .parse()
            .unwrap();
        let line = &data["fulfilment"]["lines"][0];
        let shipped: i64 = line["shipped"].to_string().parse().unwrap();
        let want = if won.contains(&i) { 7 } else { 5 };
        assert_eq!((ordered, shipped), (want, want), "RC-{i}: {data}");
        shipped_total += shipped;
    }
    let after: i64 = p.json(&["summary"])["stock"]["WID-100"]
        .to_string()
        .parse()
        .expect("WID-100 stock");
    assert_eq!(before - after, shipped_total, "stock moved by what shipped");
    eprintln!("race: {} of {n} changes won, the rest refused", won.len());
}

#[test]
fn change_races_shipment_embedded() {
    race(&Project::embedded("order-changes-race"));
}

#[test]
fn change_races_shipment_cluster() {
    let Some(p) = Project::cluster("order-changes-race") else {
        return;
    };
    race(&p);
}

/// Changes and cancellations in flight when `ordo run` is killed (SIGKILL) at random points,
/// then restarted: each change commits whole or not at all, the steps it sets off are done
/// exactly once, and in the end every order holds its last version: shipped orders shipped
/// its quantities once (stock moved by exactly that), cancelled ones ended `cancelled`, one
/// instance per order.
fn kill_changes(p: &Project) {
    use rand::Rng;
    p.ok(&["data", "import", "config/seed.json"]);
    let n = 24;
    let orders: Vec<Value> = (0..n)
        .map(|i| {
            order(
                &format!("RK-{i}"),
                "C-CORA",
                &[("WID-100", 5), ("GAD-200", 100)],
            )
        })
        .collect();
    p.write("kill.json", &json!(orders).to_string());
    p.ok(&["submit", "kill.json"]);
    let before: i64 = p.json(&["summary"])["stock"]["WID-100"]
        .to_string()
        .parse()
        .expect("WID-100 stock");
    let mut rng = rand::rng();
    // What each order should end as: 0 cancelled, else the widgets it ships (its gadgets are
    // taken off by a change, so it ships complete at once).
    let mut want = vec![None; n];
    for round in 0..4 {
        let mut child = p.spawn_run(&["--workers", "2"]);
        std::thread::sleep(std::time::Duration::from_millis(rng.random_range(200..900)));
        let this_round = (round * n / 4)..((round + 1) * n / 4);
        for (i, w) in want
            .iter_mut()
            .enumerate()
            .filter(|(i, _)| this_round.contains(i))
        {
            let id = format!("RK-{i}");
            let out = if i % 3 == 0 {
                p.ordo(&["order", "cancel", &id, "--reason", "in flight"])
            } else {
                p.ordo(&["order", "change", &id, "--qty", "1=7", "--remove", "2"])
            };
            if out.status.success() {
                *w = Some(if i % 3 == 0 { 0 } else { 7 });
            } else {
                let err = String::from_utf8_lossy(&out.stderr);
                // Refused only while the worker holds the order between steps.
                assert!(err.contains("try again"), "{id}: {err}");
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(rng.random_range(0..400)));
        kill9(&mut child);
    }
    p.run_idle();
    // Orders whose change was refused in flight are changed now that they wait.
    for (i, w) in want.iter_mut().enumerate() {
        if w.is_none() {
            p.ok(&[
                "order",
                "change",
                &format!("RK-{i}"),
                "--qty",
                "1=7",
                "--remove",
                "2",
            ]);
            *w = Some(7);
        }
    }
    p.run_idle();
    let mut shipped_total = 0;
    for (i, w) in want.iter().enumerate() {
        let id = format!("RK-{i}");
        let found = p.json(&["status", &id]);
        assert_eq!(
            found.as_array().map(Vec::len),
            Some(1),
            "{id}: one instance"
        );
        match w {
            Some(0) => assert_eq!(p.state_of(&id), "cancelled"),
            _ => {
                assert_eq!(p.state_of(&id), "completed", "{id}");
                assert_eq!(shipped(p, &id), vec![(1, "7".into(), "7".into())], "{id}");
                let ended = p
                    .history_of(&id)
                    .iter()
                    .filter(|(k, _, _)| k == "ended")
                    .count();
                assert_eq!(ended, 1, "{id}: ended once");
                shipped_total += 7;
            }
        }
    }
    let after: i64 = p.json(&["summary"])["stock"]["WID-100"]
        .to_string()
        .parse()
        .expect("WID-100 stock");
    assert_eq!(
        before - after,
        shipped_total,
        "stock moved once per shipment"
    );
}

#[test]
fn sigkill_with_changes_in_flight_embedded() {
    kill_changes(&Project::embedded("order-changes-kill"));
}

#[test]
fn sigkill_with_changes_in_flight_cluster() {
    let Some(p) = Project::cluster("order-changes-kill") else {
        return;
    };
    kill_changes(&p);
}
