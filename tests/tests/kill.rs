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
