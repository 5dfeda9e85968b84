//! The console's list reads on both backends (store/sessions.rs over migration 0027): the
//! order search narrowed in SQL (customer, dates, state, amount) with its cursor, documents by
//! an indexed field, a partner's received files newest first with their quarantine and
//! counts, and its interchanges sent by control number. Odd stored values (a total that is
//! not a number, a huge one, a raw file holding a NUL) neither fail their write through an
//! index nor match a filter.

use super::{Ctx, begin, instance, now_ms};
use crate::store::sessions::OrderFilter;
use serde_json::{Value, json};

fn ids(rows: &[(String, String)]) -> Vec<&str> {
    rows.iter().map(|(id, _)| id.as_str()).collect()
}

fn file(id: &str, partner: Option<&str>, at: &str, outcome: Value) -> Value {
    let mut f = json!({ "id": id, "name": format!("{id}.edi"), "received_at": at,
                        "outcome": outcome, "encoding": "utf-8", "content": "ISA*\u{0}~" });
    if let Some(p) = partner {
        f["partner"] = json!(p);
    }
    f
}

pub(super) async fn console_lists(cx: Ctx) {
    let s = &cx.store;
    let now = now_ms();
    let mut tx = begin(s).await;
    for (id, customer, date, status, total) in [
        ("O-1", "C-A", "2026-01-05", "ended", json!("100.50")),
        ("O-2", "C-B", "2026-02-01", "failed", json!("7.335")),
        ("O-3", "C-A", "2026-03-01", "waiting", json!(2500)),
        ("O-4", "C-B", "2026-03-02", "ended", json!("not a number")),
        ("O-5", "C-B", "2026-03-03", "ended", json!("9".repeat(60))),
    ] {
        let order =
            json!({ "id": id, "customer_id": customer, "order_date": date, "channel": "edi" });
        tx.put_document("order", id, &order, now).await.unwrap();
        let mut inst = instance(&format!("i-{id}"), "order-to-cash", id, now);
        inst.status = status.into();
        inst.data = json!({ "pricing": { "total": total } });
        tx.insert_instance(&inst).await.unwrap();
        let status = match id {
            "O-2" => json!("paid"),
            "O-3" => json!("cancelled"),
            "O-4" => json!("open"),
            _ => Value::Null,
        };
        let invoice =
            json!({ "number": format!("INV-{id}"), "customer_id": customer, "status": status });
        tx.put_document("invoice", &format!("INV-{id}"), &invoice, now)
            .await
            .unwrap();
    }
    let quarantined = json!({ "outcome": "processed", "problems": ["f3.edi:1:1: bad"] });
    for (id, partner, at, outcome) in [
        (
            "f1",
            Some("acme"),
            "2026-01-01T10:00:00+00:00",
            json!({ "outcome": "processed", "problems": [] }),
        ),
        (
            "f2",
            Some("acme"),
            "2026-01-02T10:00:00+00:00",
            json!({ "outcome": "rejected", "error": "x" }),
        ),
        ("f3", Some("acme"), "2026-01-03T10:00:00+00:00", quarantined),
        (
            "f4",
            Some("cora"),
            "2026-01-04T10:00:00+00:00",
            json!({ "outcome": "rejected" }),
        ),
        (
            "f5",
            None,
            "2026-01-05T10:00:00+00:00",
            json!({ "outcome": "processed" }),
        ),
    ] {
        tx.put_document("edi_file", id, &file(id, partner, at, outcome), now)
            .await
            .unwrap();
    }
    for (control, order) in [(1, "O-1"), (2, "O-2"), (10, "O-1")] {
        let sent = json!({ "partner": "acme", "control_number": control, "order_id": order });
        tx.put_document("edi_sent", &format!("acme:{control}"), &sent, now)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    let all = tx
        .order_docs_matching("", 10, &OrderFilter::default())
        .await
        .unwrap();
    assert_eq!(ids(&all), ["O-1", "O-2", "O-3", "O-4", "O-5"]);
    let body: Value = serde_json::from_str(&all[0].1).unwrap();
    assert_eq!(
        body["customer_id"], "C-A",
        "the stored text comes with its id"
    );
    let find = |f: OrderFilter, after: &'static str, limit: i64| (f, after, limit);
    let cases = [
        (
            find(
                OrderFilter {
                    customer: Some("C-A".into()),
                    ..Default::default()
                },
                "",
                10,
            ),
            vec!["O-1", "O-3"],
        ),
        (
            find(
                OrderFilter {
                    customer: Some("C-A".into()),
                    ..Default::default()
                },
                "O-1",
                10,
            ),
            vec!["O-3"],
        ),
        (
            find(
                OrderFilter {
                    customer: Some("C-B".into()),
                    ..Default::default()
                },
                "",
                1,
            ),
            vec!["O-2"],
        ),
        (
            find(
                OrderFilter {
                    from: Some("2026-02-01".into()),
                    to: Some("2026-03-01".into()),
                    ..Default::default()
                },
                "",
                10,
            ),
            vec!["O-2", "O-3"],
        ),
        (
            find(
                OrderFilter {
                    status: Some("failed".into()),
                    ..Default::default()
                },
                "",
                10,
            ),
            vec!["O-2"],
        ),
        (
            find(
                OrderFilter {
                    min: Some(100.0),
                    max: Some(101.0),
                    ..Default::default()
                },
                "",
                10,
            ),
            vec!["O-1"],
        ),
        // a JSON number and a decimal text alike (a text that is not a number, or one too
        // long for one, was written all the same; SQL only narrows, the caller decides)
        (
            find(
                OrderFilter {
                    min: Some(2000.0),
                    max: Some(3000.0),
                    ..Default::default()
                },
                "",
                10,
            ),
            vec!["O-3"],
        ),
        // widened by a cent: the caller's exact check decides about 7.335
        (
            find(
                OrderFilter {
                    min: Some(7.0),
                    max: Some(7.33),
                    ..Default::default()
                },
                "",
                10,
            ),
            vec!["O-2"],
        ),
        (
            find(
                OrderFilter {
                    customer: Some("C-B".into()),
                    status: Some("failed".into()),
                    ..Default::default()
                },
                "",
                10,
            ),
            vec!["O-2"],
        ),
        (
            find(
                OrderFilter {
                    customer: Some("C-A'; DROP TABLE documents; --".into()),
                    ..Default::default()
                },
                "",
                10,
            ),
            vec![],
        ),
    ];
    for ((f, after, limit), want) in cases {
        let got = tx.order_docs_matching(after, limit, &f).await.unwrap();
        assert_eq!(ids(&got), want, "{f:?} after {after:?}");
    }

    let of_a = tx
        .documents_where("invoice", "customer_id", "C-A", 10)
        .await
        .unwrap();
    let numbers: Vec<&str> = of_a.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(numbers, ["INV-O-1", "INV-O-3"]);
    assert_eq!(of_a[1].1["customer_id"], "C-A");
    assert!(
        tx.documents_where("invoice", "customer_id') OR 1=1 --", "x", 10)
            .await
            .is_err(),
        "a field path is never taken from outside"
    );
    let unclosed: Vec<String> = tx
        .unclosed_invoices()
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        unclosed,
        ["INV-O-1", "INV-O-4", "INV-O-5"],
        "paid and cancelled left out"
    );
    let sent_o1 = tx
        .documents_where("edi_sent", "order_id", "O-1", 10)
        .await
        .unwrap();
    assert_eq!(sent_o1.len(), 2);

    assert_eq!(tx.edi_file_counts("acme").await.unwrap(), (3, 2));
    assert_eq!(tx.edi_file_counts("cora").await.unwrap(), (1, 1));
    assert_eq!(tx.edi_file_counts("nobody").await.unwrap(), (0, 0));
    let names = |rows: Vec<crate::store::sessions::EdiFileRow>| -> Vec<String> {
        rows.into_iter().map(|r| r.id).collect()
    };
    let newest = tx.edi_files_of(Some("acme"), false, 0, 10).await.unwrap();
    assert_eq!(newest[0].name.as_deref(), Some("f3.edi"));
    assert_eq!(
        newest[0].received_at.as_deref(),
        Some("2026-01-03T10:00:00+00:00")
    );
    assert_eq!(newest[0].outcome["problems"][0], "f3.edi:1:1: bad");
    assert_eq!(names(newest), ["f3", "f2", "f1"]);
    assert_eq!(
        names(tx.edi_files_of(Some("acme"), true, 0, 10).await.unwrap()),
        ["f3", "f2"]
    );
    assert_eq!(
        names(tx.edi_files_of(Some("acme"), false, 1, 1).await.unwrap()),
        ["f2"]
    );
    assert_eq!(
        names(tx.edi_files_of(None, false, 0, 10).await.unwrap()),
        ["f5"],
        "the records without a partner, for the caller to sort out"
    );
    let (sent, n) = tx.edi_sent_of("acme", 0, 2).await.unwrap();
    assert_eq!(n, 3);
    let controls: Vec<i64> = sent
        .iter()
        .map(|d| d["control_number"].as_i64().unwrap())
        .collect();
    assert_eq!(controls, [10, 2], "by control number, not by text");
    let (sent, _) = tx.edi_sent_of("acme", 2, 2).await.unwrap();
    assert_eq!(sent.len(), 1);
    tx.rollback().await.unwrap();
}
