//! Webhooks end to end through the `ordo` binary, on both backends: orders submitted, `ordo
//! run` delivers `order.accepted` to local receivers (std TcpListener threads) that check the
//! `Ordo-Signature` with an independent HMAC (the `hmac` crate): one answers 500 twice then
//! 200 (retried), one hangs (timed out, retried), one is down (failed after the last attempt,
//! listed by `ordo webhooks deliveries --failed`, then redelivered with `ordo webhooks
//! redeliver ID` once a receiver listens on its port). `ordo check` locates config errors.

use ordo_tests::webhook_receiver::{bind, hooks_yaml, receiver};
use ordo_tests::{Project, closed_port};
use serde_json::Value;

fn deliveries(p: &Project, failed: bool) -> Vec<Value> {
    let mut args = vec!["webhooks", "deliveries"];
    if failed {
        args.push("--failed");
    }
    p.json(&args).as_array().cloned().unwrap_or_default()
}

fn delivered_with_retries(p: Project) {
    let (flaky_l, flaky_url) = bind(0);
    let (hang_l, hang_url) = bind(0);
    let down_port = closed_port();
    let down_url = format!("http://127.0.0.1:{down_port}/hooks");
    let flaky = receiver(flaky_l, vec![500, 500, 200]);
    let hang = receiver(hang_l, vec![0, 200]);
    let config = std::fs::read_to_string(p.path("config/ordo.yaml")).expect("config");
    p.write(
        "config/ordo.yaml",
        &format!(
            "{config}{}",
            hooks_yaml(&[
                ("flaky", &flaky_url),
                ("hang", &hang_url),
                ("down", &down_url)
            ])
        ),
    );
    p.ok(&["check"]);
    p.write("orders.json", &ordo_tests::orders_json(2, "WH"));
    p.ok(&["submit", "orders.json"]);
    // Waits for the deliveries too: an unsent webhook keeps an idle run going.
    p.run_idle();

    let ids: Vec<String> = (0..2).map(|i| format!("C-CORA-WH-{i:05}")).collect();
    for (name, seen, tries) in [("flaky", &flaky, 3), ("hang", &hang, 2)] {
        let seen = seen.lock().expect("log").clone();
        assert_eq!(seen.len(), 2 * tries, "{name}: {seen:?}");
        for (id, valid, body) in &seen {
            assert!(valid, "{name}: bad signature for {id}");
            assert_eq!(
                body["id"].as_str(),
                Some(id.as_str()),
                "{name}: Ordo-Event-Id"
            );
            assert_eq!(body["type"], "order.accepted");
            assert!(ids.iter().any(|o| body["key"] == o.as_str()), "{body}");
        }
        // Every attempt of an event carries the same id.
        let mut distinct: Vec<&String> = seen.iter().map(|(i, _, _)| i).collect();
        distinct.dedup();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 2, "{name}: one id per event");
    }

    let all = deliveries(&p, false);
    assert_eq!(all.len(), 6, "{all:?}");
    let state = |ch: &str| -> Vec<String> {
        all.iter()
            .filter(|d| d["delivery"]["channel"] == ch)
            .map(|d| d["state"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(state("webhook:flaky"), ["delivered", "delivered"]);
    assert_eq!(state("webhook:hang"), ["delivered", "delivered"]);
    assert_eq!(state("webhook:down"), ["failed", "failed"]);

    let failed = deliveries(&p, true);
    assert_eq!(failed.len(), 2, "{failed:?}");
    for d in &failed {
        let reason = d["delivery"]["last_error"].as_str().unwrap_or_default();
        assert!(reason.starts_with("failed after 3 attempts"), "{reason}");
        assert_eq!(d["delivery"]["attempts"], 3);
    }
    let text = p.ok(&["webhooks", "deliveries", "--failed"]);
    assert!(
        text.contains("down") && text.contains("failed after 3 attempts"),
        "{text}"
    );

    // The receiver comes up; one failed delivery is queued again and arrives.
    let up = receiver(bind(down_port).0, vec![200]);
    let id = failed[0]["delivery"]["id"].as_i64().expect("id");
    p.ok(&["webhooks", "redeliver", &id.to_string()]);
    let again = p.ordo(&["webhooks", "redeliver", "999999"]);
    assert!(!again.status.success(), "no such delivery");
    assert_eq!(deliveries(&p, true).len(), 1, "one still failed");
    p.run_idle();
    let up = up.lock().expect("log").clone();
    assert_eq!(up.len(), 1, "{up:?}");
    assert!(up[0].1, "signature");
    assert_eq!(
        up[0].0,
        failed[0]["delivery"]["key"].as_str().unwrap_or_default()
    );
    assert_eq!(deliveries(&p, true).len(), 1);
    let audit = p.ok(&["audit"]);
    assert!(audit.contains("webhook.redelivered"), "{audit}");
}

#[test]
fn webhooks_embedded() {
    delivered_with_retries(Project::fixture("webhooks"));
}

#[test]
fn webhooks_cluster() {
    if let Some(p) = Project::cluster_fixture("webhooks") {
        delivered_with_retries(p);
    }
}

#[test]
fn check_locates_webhook_errors() {
    let p = Project::fixture("webhooks-check");
    let config = std::fs::read_to_string(p.path("config/ordo.yaml")).expect("config");
    p.write(
        "config/ordo.yaml",
        &format!(
            "{config}webhooks:\n  - {{ name: erp, url: \"ftp://x\", events: [order.accepted, order.exploded], secret: short }}\n"
        ),
    );
    let out = p.ordo(&["check"]);
    assert!(!out.status.success());
    let err =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(err.contains("webhooks[0].url"), "{err}");
    assert!(
        err.contains("webhooks[0].events[1]: unknown event 'order.exploded'"),
        "{err}"
    );
    assert!(err.contains("webhooks[0].secret"), "{err}");
}
