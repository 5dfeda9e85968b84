//! The reports on both backends: `sales` of a period adds up to that period's invoices less
//! its credit notes to the cent (the tie-out); the sales aggregates equal a recomputation from
//! the documents after writes, rewrites, a rollback, a savepoint rolled back and a rebuild, and
//! a document they cannot count fails the report naming it; and the reports' own queries (history and instances of a workflow in a
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
    // a credit note of part of INV-3 in February, one of INV-4 in March
    let mut cn = invoice("CN-1", "O2", "EUR", "2026-02-28", &[("B", "2", "0.02")]);
    cn["corrects"] = json!("INV-3");
    tx.put_document("credit_note", "CN-1", &cn, now)
        .await
        .unwrap();
    let cn2 = invoice("CN-2", "O2", "CHF", "2026-03-02", &[("A", "1", "10.05")]);
    tx.put_document("credit_note", "CN-2", &cn2, now)
        .await
        .unwrap();
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
    // by hand: 99999999.99 + 0.07 + 12.345 - 0.02 in February, EUR; 10.05 CHF
    assert_eq!(
        column_sum(&r, "net revenue", "EUR"),
        Decimal::from_str("100000012.385").unwrap()
    );
    assert_eq!(column_sum(&r, "credit notes", "EUR"), Decimal::ONE);
    // an order counts with its first invoice: O1's is INV-1 (January), O2's INV-4 (CHF,
    // 15 February), so February has no EUR order and one CHF order
    assert_eq!(column_sum(&r, "orders", "EUR"), Decimal::ZERO);
    assert_eq!(column_sum(&r, "orders", "CHF"), Decimal::ONE);
    assert_eq!(
        column_sum(&r, "net revenue", "CHF"),
        Decimal::from_str("10.05").unwrap()
    );
    let invoices = reports::sales::documents(tx.as_mut(), "invoice")
        .await
        .unwrap();
    let credits = reports::sales::documents(tx.as_mut(), "credit_note")
        .await
        .unwrap();
    let tie = reports::sales::tie_out(&p, &invoices, &credits).unwrap();
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
        Decimal::from_str("100001251.955").unwrap()
    );
    assert_eq!(column_sum(&all, "net revenue", "CHF"), Decimal::ZERO);
    let whole = tie_out_all(tx.as_mut()).await;
    for (cur, total) in &whole {
        assert_eq!(
            &column_sum(&all, "net revenue", cur),
            total,
            "{cur} ties out"
        );
    }
    assert_eq!(tx.sales_check().await.unwrap(), Vec::<String>::new());
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
    sales_aggregates_follow_the_documents(s, now).await;
    aging_index_follows_the_documents(s, now).await;
    bounded_fulfilment_reads_what_the_whole_book_gives(s, now).await;

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

/// Σ net per currency of every invoice less every credit note, from the documents.
async fn tie_out_all(tx: &mut dyn crate::store::Tx) -> std::collections::BTreeMap<String, Decimal> {
    let invoices = reports::sales::documents(tx, "invoice").await.unwrap();
    let credits = reports::sales::documents(tx, "credit_note").await.unwrap();
    reports::sales::tie_out(&Params::default(), &invoices, &credits).unwrap()
}

async fn eur_revenue(tx: &mut dyn crate::store::Tx) -> Decimal {
    let r = reports::run(
        tx,
        "sales",
        &Params::parse(None, None, Some("customer,channel")).unwrap(),
        &cx(),
    )
    .await
    .unwrap();
    column_sum(&r, "net revenue", "EUR")
}

/// Writes a one-line invoice (item A, quantity 1) in EUR.
async fn put_one(
    tx: &mut dyn crate::store::Tx,
    number: &str,
    order: &str,
    day: &str,
    net: &str,
    now: i64,
) {
    let doc = invoice(number, order, "EUR", day, &[("A", "1", net)]);
    tx.put_document("invoice", number, &doc, now).await.unwrap();
}

/// The aggregates equal the documents after a rewrite, a rollback, a savepoint rolled back,
/// a problem and its repair, and a rebuild.
async fn sales_aggregates_follow_the_documents(
    s: &std::sync::Arc<dyn crate::store::Store>,
    now: i64,
) {
    let mut tx = begin(s).await;
    let before = eur_revenue(tx.as_mut()).await;
    // a rewrite of an invoice (its payment) adds nothing
    let mut paid = invoice(
        "INV-1",
        "O1",
        "EUR",
        "2026-01-31",
        &[("A", "3", "1234.56"), ("B", "1", "0.01")],
    );
    paid["status"] = json!("paid");
    tx.put_document("invoice", "INV-1", &paid, now)
        .await
        .unwrap();
    assert_eq!(eur_revenue(tx.as_mut()).await, before);
    // a savepoint rolled back takes its invoice's figures with it
    put_one(tx.as_mut(), "INV-7", "O3", "2026-03-02", "1.10", now).await;
    let sp = tx.savepoint().await.unwrap();
    put_one(tx.as_mut(), "INV-8", "O3", "2026-03-03", "2.20", now).await;
    assert_eq!(
        eur_revenue(tx.as_mut()).await,
        before + Decimal::new(330, 2)
    );
    tx.rollback_to(sp).await.unwrap();
    assert_eq!(
        eur_revenue(tx.as_mut()).await,
        before + Decimal::new(110, 2)
    );
    assert_eq!(tx.sales_check().await.unwrap(), Vec::<String>::new());
    tx.commit().await.unwrap();
    // a transaction rolled back leaves nothing
    let mut tx = begin(s).await;
    put_one(tx.as_mut(), "INV-9", "O3", "2026-03-04", "100", now).await;
    assert_eq!(
        eur_revenue(tx.as_mut()).await,
        before + Decimal::new(10110, 2)
    );
    tx.rollback().await.unwrap();
    let mut tx = begin(s).await;
    assert_eq!(
        eur_revenue(tx.as_mut()).await,
        before + Decimal::new(110, 2)
    );
    assert_eq!(tx.sales_check().await.unwrap(), Vec::<String>::new());
    // an invoice whose order is not stored is a problem the report names, until it is
    // written again with its order there
    put_one(tx.as_mut(), "INV-10", "O4", "2026-03-05", "1", now).await;
    let e = match reports::run(tx.as_mut(), "sales", &Params::default(), &cx()).await {
        Err(reports::Failure::Report(e)) => e,
        other => panic!("{other:?}"),
    };
    assert!(e.at.contains("INV-10") && e.message.contains("O4"), "{e}");
    assert_eq!(tx.sales_check().await.unwrap(), Vec::<String>::new());
    tx.put_document(
        "order",
        "O4",
        &json!({ "id": "O4", "channel": "edi", "partner": "ACME" }),
        now,
    )
    .await
    .unwrap();
    put_one(tx.as_mut(), "INV-10", "O4", "2026-03-05", "1", now).await;
    assert_eq!(
        eur_revenue(tx.as_mut()).await,
        before + Decimal::new(210, 2)
    );
    tx.commit().await.unwrap();
    // a rebuild from the documents gives the same tables
    let mut tx = begin(s).await;
    assert_eq!(tx.rebuild_sales().await.unwrap(), 9);
    assert_eq!(tx.sales_check().await.unwrap(), Vec::<String>::new());
    assert_eq!(
        eur_revenue(tx.as_mut()).await,
        before + Decimal::new(210, 2)
    );
    let whole = tie_out_all(tx.as_mut()).await;
    assert_eq!(whole["EUR"], eur_revenue(tx.as_mut()).await);
    tx.commit().await.unwrap();
}

/// The aging read from the store's index (`crate::receivables::aging_in`) equals the aging of
/// the invoice documents themselves (`crate::receivables::aging`), on two days.
async fn aging_ties_out(tx: &mut dyn crate::store::Tx) -> Vec<crate::receivables::AgingRow> {
    let docs = tx.get_documents("invoice", "").await.unwrap();
    let mut last = Vec::new();
    for on in ["2026-03-31", "2026-06-30"] {
        let on = NaiveDate::from_str(on).unwrap();
        let want =
            crate::receivables::aging(docs.iter().map(|(k, v)| (k.as_str(), v)), on).unwrap();
        let have = crate::receivables::aging_in(tx, on).await.unwrap().unwrap();
        assert_eq!(have, want, "aging on {on}");
        last = have;
    }
    assert_eq!(tx.aging_check().await.unwrap(), Vec::<String>::new());
    // dso from the store's moves equals dso over the documents themselves
    let typed: Vec<ordo_contract::InvoiceCollection> = docs
        .iter()
        .map(|(k, v)| ordo_contract::read_doc("invoice", k, v).unwrap())
        .collect();
    for p in [
        Params::default(),
        Params::parse(Some("2026-02-01"), Some("2026-04-30"), None).unwrap(),
    ] {
        let want = reports::dso::compute(&p, &typed, cx().today).unwrap();
        let have = reports::run(tx, "dso", &p, &cx()).await.unwrap();
        assert_eq!(have.rows, want.rows);
        assert!(!have.rows.is_empty());
    }
    last
}

/// The aging index equals the documents after writes of open, part-paid, paid and credit-balance
/// invoices, a savepoint rolled back, a problem and its repair, and a rebuild.
async fn aging_index_follows_the_documents(s: &std::sync::Arc<dyn crate::store::Store>, now: i64) {
    let mut tx = begin(s).await;
    let base = aging_ties_out(tx.as_mut()).await;
    // part paid, due long ago
    let mut part = invoice("AG-1", "O3", "EUR", "2025-12-01", &[("A", "1", "100")]);
    part["open_amount"] = exact_json("40.005");
    // paid in part after its issue month: dso's open amount steps down in January
    part["payments"] = json!([{ "id": "P-AG-1", "amount": "59.995", "received_on": "2026-01-15",
        "applied": "59.995", "discount": 0, "written_off": 0, "credit": 0, "reference": null }]);
    // a credit balance (overpaid): counted, negative
    let mut over = invoice("AG-2", "O3", "EUR", "2026-03-20", &[("A", "1", "10")]);
    over["open_amount"] = exact_json("-2.5");
    // paid: left out
    let mut paid = invoice("AG-3", "O3", "CHF", "2026-03-20", &[("A", "1", "10")]);
    paid["status"] = json!("paid");
    paid["open_amount"] = json!(0);
    for d in [&part, &over, &paid] {
        tx.put_document("invoice", d["number"].as_str().unwrap(), d, now)
            .await
            .unwrap();
    }
    let after = aging_ties_out(tx.as_mut()).await;
    assert_ne!(after, base);
    let eur = after.iter().find(|r| r.currency == "EUR").unwrap();
    // on 2026-06-30 AG-1 (due 2025-12-01) is over 90 days past due
    assert!(eur.buckets[4] >= Decimal::from_str("40.005").unwrap());
    // a savepoint rolled back takes its invoice's row with it
    let sp = tx.savepoint().await.unwrap();
    put_one(tx.as_mut(), "AG-4", "O3", "2026-03-03", "2.20", now).await;
    assert_ne!(aging_ties_out(tx.as_mut()).await, after);
    tx.rollback_to(sp).await.unwrap();
    assert_eq!(aging_ties_out(tx.as_mut()).await, after);
    tx.commit().await.unwrap();
    // an amount the index cannot hold exactly fails the aging naming the invoice, until the
    // invoice is written again
    let mut tx = begin(s).await;
    let mut bad = invoice("AG-5", "O3", "EUR", "2026-03-01", &[("A", "1", "1")]);
    bad["open_amount"] = exact_json("1.0000000001");
    tx.put_document("invoice", "AG-5", &bad, now).await.unwrap();
    let on = NaiveDate::from_str("2026-03-31").unwrap();
    let e = crate::receivables::aging_in(tx.as_mut(), on)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        e.contains("AG-5") && e.contains("more than 9 decimals"),
        "{e}"
    );
    match reports::run(tx.as_mut(), "aging", &Params::default(), &cx()).await {
        Err(reports::Failure::Report(e)) => assert!(e.message.contains("AG-5"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(tx.aging_check().await.unwrap(), Vec::<String>::new());
    bad["open_amount"] = json!(1);
    tx.put_document("invoice", "AG-5", &bad, now).await.unwrap();
    aging_ties_out(tx.as_mut()).await;
    tx.rollback().await.unwrap();
    // a rebuild from the documents gives the same index
    let mut tx = begin(s).await;
    let invoices = tx.count_documents("invoice").await.unwrap();
    assert_eq!(tx.rebuild_aging().await.unwrap() as i64, invoices);
    assert_eq!(aging_ties_out(tx.as_mut()).await, after);
    tx.commit().await.unwrap();
}

/// Fulfilment over a bounded period reads its orders by date and their shipments and instances
/// by order id (indexes); its rows equal the whole book's rows of that period, which reads
/// every document.
async fn bounded_fulfilment_reads_what_the_whole_book_gives(
    s: &std::sync::Arc<dyn crate::store::Store>,
    now: i64,
) {
    let mut tx = begin(s).await;
    let order = |id: &str, day: &str, qty: i64| {
        json!({ "id": id, "customer_id": "C1", "order_date": day, "requested_date": day,
                "channel": "api", "lines": [{ "line_no": 1, "sku": "A", "quantity": qty }] })
    };
    let ship = |id: &str, order: &str, day: &str, qty: i64| {
        json!({ "id": id, "order_id": order, "ship_date": day,
                "packages": [{ "lines": [{ "sku": "A", "quantity": qty }] }] })
    };
    let mut written_orders = std::collections::HashMap::new();
    let mut written_shipments = Vec::new();
    // February: F1 shipped in full on time, F2 short and late, F3 rejected; March: F4
    for (id, day, qty) in [
        ("F1", "2027-02-01", 5),
        ("F2", "2027-02-28", 4),
        ("F3", "2027-02-10", 9),
        ("F4", "2027-03-01", 2),
    ] {
        let d = order(id, day, qty);
        tx.put_document("order", id, &d, now).await.unwrap();
        written_orders.insert(id, d);
    }
    for (id, o, day, qty) in [
        ("S1", "F1", "2027-02-01", 5),
        ("S2", "F2", "2027-03-02", 1),
        ("S3", "F4", "2027-03-01", 2),
    ] {
        let d = ship(id, o, day, qty);
        tx.put_document("shipment", id, &d, now).await.unwrap();
        written_shipments.push(d);
    }
    let mut rejected = instance("f-3", reports::ORDER_WORKFLOW, "F3", now);
    rejected.status = crate::model::status::ENDED.into();
    rejected.end_status = Some("rejected".into());
    tx.insert_instance(&rejected).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(s).await;
    let feb = Params::parse(Some("2027-02-01"), Some("2027-02-28"), Some("month")).unwrap();
    let bounded = reports::run(tx.as_mut(), "fulfilment", &feb, &cx())
        .await
        .unwrap();
    // the same report over the documents themselves (the whole book holds other tests'
    // orders, written without the fields fulfilment reads)
    let orders: Vec<reports::fulfilment::OrderView> = ["F1", "F2", "F3", "F4"]
        .iter()
        .map(|id| serde_json::from_value(written_orders[*id].clone()).unwrap())
        .collect();
    let shipments: Vec<reports::fulfilment::ShipmentView> = written_shipments
        .iter()
        .map(|d| serde_json::from_value(d.clone()).unwrap())
        .collect();
    let gone = std::collections::HashSet::from(["F3".to_string()]);
    let feb_row = reports::fulfilment::compute(&feb, &orders, &shipments, &gone)
        .unwrap()
        .rows;
    assert_eq!(bounded.rows, feb_row);
    let v = |c: &str| bounded.rows[0][bounded.column(c).unwrap()].clone();
    // F1 and F2 (F3 rejected): 9 ordered, 6 shipped, one backorder of 3, one on time of two
    assert_eq!(v("orders"), 2usize.into());
    assert_eq!(v("shipped qty"), Cell::Num(Decimal::from(6)));
    assert_eq!(v("backordered qty"), Cell::Num(Decimal::from(3)));
    assert_eq!(v("on time"), 1usize.into());
    tx.rollback().await.unwrap();
}
