//! SIGKILL `ordo run` at random points while it processes a few hundred orders, restart it,
//! and check that every order reached its end exactly once, counting effects in the store.

use ordo_tests::{Project, kill9, orders_json};
use rand::Rng;
use std::time::Duration;

const ORDERS: usize = 300;

fn kill_and_restart(p: &Project) {
    p.ok(&["data", "import", "config/seed.json"]);
    p.write("orders.json", &orders_json(ORDERS, "K"));
    p.ok(&["submit", "orders.json"]);
    let mut rng = rand::rng();
    for round in 0..5 {
        let mut child = p.spawn_run(&["--workers", "2"]);
        let wait = rng.random_range(300..1500);
        std::thread::sleep(Duration::from_millis(wait));
        kill9(&mut child);
        eprintln!(
            "round {round}: killed after {wait} ms; confirmed so far: {}",
            p.count_of("confirmed")
        );
    }
    // Finish the work.
    let out = p.ordo(&["run", "--exit-when-idle"]);
    assert!(
        out.status.success(),
        "final run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Every order ended once, confirmed.
    assert_eq!(
        p.count_of("confirmed"),
        ORDERS as i64,
        "counts: {:?}",
        p.counts()
    );
    let total: i64 = p.counts().iter().map(|(_, n)| n).sum();
    assert_eq!(
        total,
        ORDERS as i64,
        "exactly one instance per order: {:?}",
        p.counts()
    );

    // Effects: one confirmation per order, numbers 1..=N without gaps or repeats, one
    // outbound message each, and stock moved exactly once per order.
    let all = p.json(&["instances", "--limit", "100000", "--history"]);
    let instances = all["instances"].as_array().cloned().unwrap_or_default();
    let histories = all["histories"].as_array().cloned().unwrap_or_default();
    assert_eq!(instances.len(), ORDERS);
    let mut numbers = Vec::new();
    for (inst, h) in instances.iter().zip(&histories) {
        let key = inst["business_key"].as_str().unwrap_or_default();
        assert_eq!(inst["id"], h["instance"]);
        let history = h["history"].as_array().cloned().unwrap_or_default();
        let ended = history.iter().filter(|h| h["kind"] == "ended").count();
        assert_eq!(ended, 1, "{key}: ended events in history: {history:?}");
        for step in ["validate", "approve", "reserve", "confirm"] {
            let n = history
                .iter()
                .filter(|h| h["kind"] == "step.completed" && h["step"] == step)
                .count();
            assert_eq!(n, 1, "{key}: step {step} completed {n} times");
        }
        numbers.push(
            inst["data"]["confirmation"]["number"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }
    numbers.sort();
    let expected: Vec<String> = (1..=ORDERS).map(|n| format!("OC-{n:06}")).collect();
    assert_eq!(
        numbers, expected,
        "confirmation numbers must be 1..=N, gapless, no repeats"
    );
    let files = std::fs::read_dir(p.path("data/outbound/order-confirmations"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files, ORDERS, "one confirmation file per order");
    let summary = p.json(&["summary"]);
    assert_eq!(
        summary["documents"]["confirmation"], ORDERS as i64,
        "{summary}"
    );
    assert_eq!(
        summary["series"]["order-confirmation"], ORDERS as i64,
        "{summary}"
    );
    assert_eq!(
        summary["outbound"]["order-confirmations"], ORDERS as i64,
        "{summary}"
    );
    // Seed stock 10000 BOLT-M8 and 5000 WID-100; each order takes 1 and 2.
    assert_eq!(
        summary["stock"]["BOLT-M8"],
        serde_json::json!(10000 - ORDERS as i64),
        "{summary}"
    );
    assert_eq!(
        summary["stock"]["WID-100"],
        serde_json::json!(5000 - 2 * ORDERS as i64),
        "{summary}"
    );
}

#[test]
fn sigkill_and_restart_embedded() {
    let p = Project::fixture("kill");
    kill_and_restart(&p);
}

#[test]
fn sigkill_and_restart_cluster() {
    let Some(p) = Project::cluster_fixture("kill") else {
        return;
    };
    kill_and_restart(&p);
}

/// Changes and cancellations in flight: orders of the repository's order-to-cash workflow wait
/// for gadgets (ship complete, more than in stock); while `ordo run` is SIGKILLed at random
/// points, a third of them is changed (`ordo order change`: 1 gadget instead of 100, so they
/// ship) and a third cancelled (`ordo order cancel`). A change or cancellation refused because
/// the order is not there yet or is between allocation and shipment is tried again after the
/// round, as a person would. At the end every order exists once and ended as asked: changed
/// ones completed with exactly one new version and one shipment, cancelled ones cancelled once
/// with no shipment, the rest still waiting; gadgets left the stock once per changed order.
fn kill_with_changes(p: &Project) {
    const N: usize = 30;
    p.ok(&["data", "import", "config/seed.json"]);
    let orders: Vec<serde_json::Value> = (0..N)
        .map(|i| {
            serde_json::json!({ "id": format!("KC-{i:02}"), "customer_id": "C-CORA",
                "po_number": format!("KC-{i:02}"), "order_date": "2026-11-23", "currency": "EUR",
                "lines": [ { "line_no": 1, "sku": "GAD-200", "quantity": 100 },
                           { "line_no": 2, "sku": "WID-100", "quantity": 2 } ] })
        })
        .collect();
    p.write("orders.json", &serde_json::Value::from(orders).to_string());
    p.ok(&["submit", "orders.json"]);
    let id = |i: usize| format!("KC-{i:02}");
    // What each order is asked: 0 change, 1 cancel, 2 nothing.
    let ask = |p: &Project, i: usize| -> bool {
        let key = id(i);
        let out = match i % 3 {
            0 => p.ordo(&["order", "change", &key, "--qty", "1=1"]),
            1 => p.ordo(&["order", "cancel", &key, "--reason", "kill test"]),
            _ => return true,
        };
        out.status.success()
    };
    let mut done = vec![false; N];
    let mut rng = rand::rng();
    for round in 0..4 {
        let mut child = p.spawn_run(&["--workers", "2"]);
        std::thread::sleep(Duration::from_millis(rng.random_range(200..700)));
        // Changes and cancellations submitted while the runner works, then killed mid-way.
        for i in (round..N).step_by(4) {
            if !done[i] {
                done[i] = ask(p, i);
            }
        }
        let wait = rng.random_range(100..800);
        std::thread::sleep(Duration::from_millis(wait));
        kill9(&mut child);
        eprintln!("round {round}: killed {wait} ms after the changes");
    }
    p.run_idle();
    for _ in 0..3 {
        for (i, d) in done.iter_mut().enumerate() {
            if !*d {
                *d = ask(p, i);
            }
        }
        p.run_idle();
    }
    assert!(done.iter().all(|d| *d), "every change taken: {done:?}");
    let all = p.json(&["instances", "--limit", "100000", "--history"]);
    let instances = all["instances"].as_array().cloned().unwrap_or_default();
    let histories = all["histories"].as_array().cloned().unwrap_or_default();
    for i in 0..N {
        let key = id(i);
        let mine: Vec<usize> = instances
            .iter()
            .enumerate()
            .filter(|(_, x)| x["business_key"] == key.as_str() && x["workflow"] == "order-to-cash")
            .map(|(n, _)| n)
            .collect();
        assert_eq!(mine.len(), 1, "{key}: one instance");
        let inst = &instances[mine[0]];
        let history = histories[mine[0]]["history"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let count = |kind: &str| history.iter().filter(|h| h["kind"] == kind).count();
        let shipped = history
            .iter()
            .filter(|h| h["kind"] == "step.completed" && h["outcome"] == "shipped")
            .count();
        let versions = inst["data"]["order_versions"]
            .as_array()
            .map_or(0, Vec::len);
        let (state, want) = (
            p.state_of(&key),
            ["completed", "cancelled", "waiting"][i % 3],
        );
        assert_eq!(state, want, "{key}: {}", p.ok(&["status", &key]));
        match i % 3 {
            0 => {
                assert_eq!(
                    (versions, count("changed"), shipped),
                    (1, 1, 1),
                    "{key}: {history:?}"
                );
                assert_eq!(inst["data"]["order"]["version"], 2, "{key}");
            }
            1 => assert_eq!((versions, count("cancelled"), shipped), (0, 1, 0), "{key}"),
            _ => assert_eq!((versions, shipped), (0, 0), "{key}"),
        }
    }
    // 40 gadgets in the seed; each changed order shipped one, nothing else shipped gadgets.
    let changed = (0..N).filter(|i| i % 3 == 0).count() as i64;
    let summary = p.json(&["summary"]);
    assert_eq!(
        summary["stock"]["GAD-200"],
        serde_json::json!(40 - changed),
        "{summary}"
    );
}

#[test]
fn sigkill_with_changes_in_flight_embedded() {
    kill_with_changes(&Project::embedded("kill-changes"));
}

#[test]
fn sigkill_with_changes_in_flight_cluster() {
    let Some(p) = Project::cluster("kill-changes") else {
        return;
    };
    kill_with_changes(&p);
}
