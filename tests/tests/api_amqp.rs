//! AMQP order intake (`intake: { amqp: { url, queue } }`) on both backends, through a real
//! RabbitMQ: orders are booked once (a redelivered message id, or another message with the
//! same customer and PO, books nothing more), and poison messages go to `QUEUE.dead` with the
//! reason in the `x-ordo-error` header, recorded in the store, while good ones keep flowing.

use lapin::options::{BasicGetOptions, QueueDeleteOptions};
use lapin::types::AMQPValue;
use lapin::{Connection, ConnectionProperties};
use ordo_tests::{AMQP_URL, Project, Running, both, wait_until};
use serde_json::json;
use std::time::Duration;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Takes every message of `queue`: (message id, x-ordo-error header); with `delete`, deletes
/// the queue and its main queue afterwards.
fn take(queue: &str, delete: bool) -> Vec<(String, String)> {
    rt().block_on(async {
        let conn = Connection::connect(AMQP_URL, ConnectionProperties::default())
            .await
            .expect("RabbitMQ");
        let ch = conn.create_channel().await.unwrap();
        let mut out = Vec::new();
        while let Ok(Some(m)) = ch
            .basic_get(queue.into(), BasicGetOptions { no_ack: true })
            .await
        {
            let props = &m.delivery.properties;
            let id = props
                .message_id()
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default();
            let reason = props
                .headers()
                .as_ref()
                .and_then(|h| h.inner().get("x-ordo-error").cloned())
                .map(|v| match v {
                    AMQPValue::LongString(s) => s.to_string(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default();
            out.push((id, reason));
        }
        if delete {
            for q in [queue, queue.trim_end_matches(".dead")] {
                let _ = ch
                    .queue_delete(q.into(), QueueDeleteOptions::default())
                    .await;
            }
        }
        let _ = conn.close(200, "done".into()).await;
        out
    })
}

fn order(id: &str, po: &str) -> serde_json::Value {
    json!({ "id": id, "customer_id": "C-CORA", "po_number": po, "order_date": "2026-11-23",
            "currency": "EUR", "lines": [ { "line_no": 1, "sku": "BOLT-M8", "quantity": 2 } ] })
}

both!(amqp_orders_once_and_poison_dead_lettered, |p: &Project| {
    if !ordo_tests::cluster_available("amqp_intake") {
        return; // RabbitMQ is needed on the embedded backend too
    }
    let queue = ordo_tests::amqp_intake(p, AMQP_URL, "intake");
    let a = order("AMQP-1", "PO-A1").to_string();
    ordo_tests::amqp_publish(
        &queue,
        &[
            ("m-1", a.clone()),
            // the same message delivered again: not booked again
            ("m-1", a.clone()),
            // another message, same customer and PO: not booked again either
            ("m-2", order("AMQP-1-AGAIN", "PO-A1").to_string()),
            ("m-bad-json", "{\"id\": ".to_string()),
            (
                "m-bad-order",
                json!({ "id": "AMQP-X", "customer_id": "C-CORA" }).to_string(),
            ),
            ("m-unknown-field", {
                let mut o = order("AMQP-U", "PO-U");
                o["colour"] = json!("red");
                o.to_string()
            }),
            (
                "m-3",
                json!([order("AMQP-2", "PO-A2"), order("AMQP-3", "PO-A3")]).to_string(),
            ),
        ],
    );
    let _run = Running(p.spawn_run(&["--listen", "off"]));
    wait_until(90, "the good orders are booked", || {
        let s = p.json(&["summary"]);
        s["documents"]["order"].as_i64() == Some(3)
    });
    let dead = format!("{queue}.dead");
    let mut rejected = Vec::new();
    wait_until(60, "three poison messages dead-lettered", || {
        rejected.extend(take(&dead, false));
        rejected.len() >= 3
    });
    let ids: Vec<&str> = rejected.iter().map(|(i, _)| i.as_str()).collect();
    assert_eq!(
        ids,
        ["m-bad-json", "m-bad-order", "m-unknown-field"],
        "{rejected:?}"
    );
    for (id, reason) in &rejected {
        assert!(!reason.is_empty(), "{id} has its reason");
    }
    assert!(rejected[2].1.contains("/colour"), "{rejected:?}");
    assert!(
        rejected[1].1.contains("order_date") || rejected[1].1.contains("missing"),
        "{rejected:?}"
    );
    // Still exactly three orders, one instance each, and the audit trail says through what.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(p.json(&["summary"])["documents"]["order"].as_i64(), Some(3));
    let audit = p.json(&["audit", "--order", "AMQP-1"]);
    assert_eq!(audit.as_array().map(Vec::len), Some(1), "{audit}");
    assert_eq!(audit[0]["via"], "channel");
    assert_eq!(audit[0]["after"]["amqp_message"], "m-1");
    take(&dead, true);
});
