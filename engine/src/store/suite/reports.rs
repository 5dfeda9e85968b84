//! The reports on both backends: `sales` of a period adds up to that period's invoices to the
//! cent (the tie-out), and the reports' own queries (history and instances of a workflow in a
//! period, every stock row) read what was committed; stock levels also when still buffered.

use super::{Ctx, begin, exact_json, instance, now_ms};
use crate::model::HistoryEvent;
use crate::reports::{self, Cell, Context, Milestones, Params};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;

fn invoice(
    number: &str,
    order: &str,
    currency: &str,
    date: &str,
    lines: &[(&str, &str, &str)],
) -> Value {
    let mut net = Decimal::ZERO;
    let mut ls = Vec::new();
    for (i, (sku, q, amount)) in lines.iter().enumerate() {
        let a = Decimal::from_str(amount).unwrap();
        net += a;
        ls.push(format!(
            r#"{{"line_no":{},"sku":"{sku}","quantity":{q},"uom":"EA","unit_price":1,"net_amount":{amount},"tax_rate":19,"tax_amount":0}}"#,
            i + 1
        ));
    }
    exact_json(&format!(
        r#"{{"number":"{number}","order_id":"{order}","customer_id":"C1","issue_date":"{date}","due_date":"{date}",
            "currency":"{currency}","terms":{{"net_days":30,"discount_percent":0,"discount_days":0}},
            "lines":[{}],"net_total":{net},"tax_total":0,"total":{net},"status":"open","open_amount":{net},
            "paid_amount":0,"discount_amount":0,"discount_until":null,"discount_taken":0,"payments":[],
            "dunning_level":0,"overdue":false}}"#,
        ls.join(",")
    ))
}

fn cx() -> Context {
    Context {
        today: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
        milestones: Milestones {
            ship: vec!["ship".into()],
            invoice: vec!["invoice".into()],
        },
    }
}

fn column_sum(r: &reports::Report, column: &str, currency: &str) -> Decimal {
    let i = r.column(column).unwrap();
    r.rows
        .iter()
        .filter(|row| row[0] == Cell::Text(currency.into()))
        .map(|row| row[i].num().unwrap())
        .sum()
}

pub(super) async fn reports(cx_: Ctx) {
    let s = &cx_.store;
    let now = now_ms();
    let mut tx = begin(s).await;
    // amounts with many digits, in two currencies, around the period's edges
    let docs = [
        invoice(
            "INV-1",
            "O1",
            "EUR",
            "2026-01-31",
            &[("A", "3", "1234.56"), ("B", "1", "0.01")],
        ),
        invoice(
            "INV-2",
            "O1",
            "EUR",
            "2026-02-01",
            &[("A", "1", "99999999.99")],
        ),
        invoice(
            "INV-3",
            "O2",
            "EUR",
            "2026-02-28",
            &[("B", "7", "0.07"), ("A", "2", "12.345")],
        ),
        invoice("INV-4", "O2", "CHF", "2026-02-15", &[("A", "1", "10.05")]),
        invoice("INV-5", "O3", "EUR", "2026-03-01", &[("A", "1", "5")]),
    ];
    for d in &docs {
        tx.put_document("invoice", d["number"].as_str().unwrap(), d, now)
            .await
            .unwrap();
    }
    for o in ["O1", "O2", "O3"] {
        tx.put_document(
            "order",
            o,
            &json!({ "id": o, "channel": "api", "partner": null }),
            now,
        )
        .await
        .unwrap();
    }
    tx.put_document(
        "item",
        "A",
        &json!({ "sku": "A", "description": "a", "price": 1, "cost": 0.5 }),
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    let p = Params::parse(
        Some("2026-02-01"),
        Some("2026-02-28"),
        Some("month,customer"),
    )
    .unwrap();
    let r = reports::run(tx.as_mut(), "sales", &p, &cx()).await.unwrap();
    // by hand: 99999999.99 + 0.07 + 12.345 in February, EUR; 10.05 CHF
    assert_eq!(
        column_sum(&r, "net revenue", "EUR"),
        Decimal::from_str("100000012.405").unwrap()
    );
    assert_eq!(
        column_sum(&r, "net revenue", "CHF"),
        Decimal::from_str("10.05").unwrap()
    );
    let invoices = reports::sales::invoices(tx.as_mut()).await.unwrap();
    let tie = reports::sales::tie_out(&p, &invoices).unwrap();
    for (cur, total) in &tie {
        assert_eq!(&column_sum(&r, "net revenue", cur), total, "{cur} ties out");
    }
    assert_eq!(tie.len(), 2);
    // the whole book, by day: every invoice once
    let all = reports::run(
        tx.as_mut(),
        "sales",
        &Params::parse(None, None, Some("day")).unwrap(),
        &cx(),
    )
    .await
    .unwrap();
    assert_eq!(
        column_sum(&all, "net revenue", "EUR"),
        Decimal::from_str("100001251.975").unwrap()
    );
    // a period beyond the data: no rows, no error
    let later = Params::parse(Some("2030-01-01"), None, None).unwrap();
    assert!(
        reports::run(tx.as_mut(), "sales", &later, &cx())
            .await
            .unwrap()
            .rows
            .is_empty()
    );
    let e = match reports::run(tx.as_mut(), "salez", &p, &cx()).await {
        Err(reports::Failure::Report(e)) => e,
        other => panic!("{other:?}"),
    };
    assert!(e.unknown && e.message.contains("sales"), "{e}");
    tx.rollback().await.unwrap();

    // cycle time reads the committed history; stock also this transaction's buffered levels
    let mut tx = begin(s).await;
    let t0 = NaiveDate::from_ymd_opt(2026, 2, 1)
        .unwrap()
        .and_hms_opt(8, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    let mut inst = instance("i-1", reports::ORDER_WORKFLOW, "O1", t0);
    inst.data = json!({});
    tx.insert_instance(&inst).await.unwrap();
    let h = 3_600_000;
    for (seq, at, kind, step) in [
        (1, 0, "started", "validate"),
        (2, 2 * h, "step.completed", "validate"),
        (3, 5 * h, "step.completed", "ship"),
    ] {
        tx.append_history(
            "i-1",
            HistoryEvent {
                seq,
                at: t0 + at,
                kind: kind.into(),
                step: step.into(),
                attempt: 0,
                outcome: Some("ok".into()),
                detail: json!({}),
            },
        );
    }
    tx.commit().await.unwrap();
    let mut tx = begin(s).await;
    tx.adjust_stock("A", "main", Decimal::from_str("7.5").unwrap())
        .await
        .unwrap();
    tx.adjust_stock("A", "on-order", Decimal::from(3))
        .await
        .unwrap();
    let p = Params::parse(Some("2026-02-01"), Some("2026-02-01"), None).unwrap();
    let r = reports::run(tx.as_mut(), "cycle-time", &p, &cx())
        .await
        .unwrap();
    let ship = r
        .rows
        .iter()
        .find(|row| row[0] == Cell::Text("order-to-ship".into()))
        .unwrap();
    assert_eq!(ship[2], Cell::Num(Decimal::from(5)));
    let next_day = Params::parse(Some("2026-02-02"), None, None).unwrap();
    assert!(
        reports::run(tx.as_mut(), "cycle-time", &next_day, &cx())
            .await
            .unwrap()
            .rows
            .is_empty()
    );
    let r = reports::run(tx.as_mut(), "stock", &Params::default(), &cx())
        .await
        .unwrap();
    assert_eq!(
        r.rows[0][1..4],
        [
            Cell::Num(Decimal::from_str("7.5").unwrap()),
            Cell::NA,
            Cell::Num(Decimal::from(3))
        ]
    );
    tx.rollback().await.unwrap();
}
