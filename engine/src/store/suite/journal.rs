//! The journal on both backends: what the database itself refuses (an unbalanced entry, a gap
//! in a period's numbers, an entry in a closed period), the kept balances, filters, savepoints.

use super::{Ctx, begin};
use crate::store::journal::{EntryFilter, JournalEntry, JournalLine};

fn entry(period: &str, number: i64, lines: &[(&str, i64)]) -> JournalEntry {
    JournalEntry {
        period: period.into(),
        number,
        entry_date: format!("{period}-15"),
        event: "invoice".into(),
        source: format!("INV-{period}-{number}"),
        currency: "EUR".into(),
        rule: "rules/posting.rhai@test".into(),
        order_id: Some("O1".into()),
        invoice: Some(format!("INV-{period}-{number}")),
        customer: Some("C1".into()),
        note: None,
        lines: lines
            .iter()
            .map(|(a, v)| JournalLine {
                account: (*a).into(),
                amount_e4: *v,
                memo: None,
            })
            .collect(),
    }
}

const SALE: &[(&str, i64)] = &[
    ("1400", 1_190_000),
    ("8400", -1_000_000),
    ("1776", -190_000),
];

pub(crate) async fn journal(cx: Ctx) {
    let s = &cx.store;
    let mut tx = begin(s).await;
    assert_eq!(tx.next_number("journal:2026-03").await.unwrap(), 1);
    tx.insert_entry(&entry("2026-03", 1, SALE), 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // What the database refuses, whatever the caller checked.
    for (bad, why) in [
        (entry("2026-03", 3, SALE), "not the next one"),
        (
            entry("2026-03", 2, &[("1400", 100), ("8400", -99)]),
            "does not balance",
        ),
        (entry("2026-03", 2, &[("1400", 100)]), "does not balance"),
    ] {
        let mut tx = begin(s).await;
        let e = tx.insert_entry(&bad, 2).await.unwrap_err().to_string();
        assert!(e.contains(why), "{why}: {e}");
        tx.rollback().await.unwrap();
    }
    // The same source posts once.
    let mut tx = begin(s).await;
    let mut again = entry("2026-03", 2, SALE);
    again.source = "INV-2026-03-1".into();
    assert!(tx.insert_entry(&again, 2).await.is_err());
    tx.rollback().await.unwrap();

    // A savepoint rolled back takes its entry and balances with it.
    let mut tx = begin(s).await;
    let sp = tx.savepoint().await.unwrap();
    tx.insert_entry(&entry("2026-04", 1, SALE), 3)
        .await
        .unwrap();
    tx.rollback_to(sp).await.unwrap();
    tx.insert_entry(
        &entry("2026-03", 2, &[("3400", 50_000), ("3980", -50_000)]),
        3,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(s).await;
    let balances = tx.ledger_balances(Some("2026-03")).await.unwrap();
    let got: Vec<(&str, i64, i64)> = balances
        .iter()
        .map(|b| (b.account.as_str(), b.debit_e4, b.credit_e4))
        .collect();
    assert_eq!(
        got,
        [
            ("1400", 1_190_000, 0),
            ("1776", 0, 190_000),
            ("3400", 50_000, 0),
            ("3980", 0, 50_000),
            ("8400", 0, 1_000_000)
        ]
    );
    assert!(
        tx.ledger_balances(Some("2026-04"))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        tx.ledger_line_sums().await.unwrap(),
        tx.ledger_balances(None).await.unwrap()
    );
    assert_eq!(
        tx.journal_numbering().await.unwrap(),
        [("2026-03".to_string(), 2, 2)]
    );
    let by_account = tx
        .journal_entries(&EntryFilter {
            account: Some("8400".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(by_account.len(), 1);
    assert_eq!(
        by_account[0].lines.len(),
        3,
        "the whole entry, not only the matching line"
    );
    assert_eq!(by_account[0].lines[1].amount_e4, -1_000_000);
    let all = tx.journal_entries(&EntryFilter::default()).await.unwrap();
    assert_eq!(all.iter().map(|e| e.number).collect::<Vec<_>>(), [1, 2]);
    let one = tx
        .journal_entries(&EntryFilter {
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    let none = tx
        .journal_entries(&EntryFilter {
            invoice: Some("INV-x".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
    tx.rollback().await.unwrap();

    // Closing: once; afterwards the period takes no entry.
    let mut tx = begin(s).await;
    assert!(tx.close_period("2026-03", "tester", 9).await.unwrap());
    assert!(!tx.close_period("2026-03", "tester", 9).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = begin(s).await;
    assert_eq!(tx.closed_periods().await.unwrap(), ["2026-03"]);
    let e = tx
        .insert_entry(&entry("2026-03", 3, SALE), 10)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("closed"), "{e}");
    tx.rollback().await.unwrap();

    // Deferred (a worker batch's optimistic pass): entries of two periods written at the
    // flush as multi-row statements; a read of the journal in the same transaction sees them;
    // the database checks each entry as it does one at a time.
    let mut tx = begin(s).await;
    tx.defer_instance_inserts();
    assert_eq!(tx.next_number("journal:2026-04").await.unwrap(), 1);
    assert_eq!(tx.next_number("journal:2026-04").await.unwrap(), 2);
    assert_eq!(tx.next_number("journal:2026-05").await.unwrap(), 1);
    let mut second = entry("2026-04", 2, &[("3400", 50_000), ("3980", -50_000)]);
    second.note = Some("posted into 2026-04".into());
    for e in [entry("2026-04", 1, SALE), entry("2026-05", 1, SALE), second] {
        tx.insert_entry(&e, 11).await.unwrap();
    }
    let april = tx.ledger_balances(Some("2026-04")).await.unwrap();
    assert_eq!(april.len(), 5, "read after the flush: {april:?}");
    tx.commit().await.unwrap();
    let mut tx = begin(s).await;
    assert_eq!(
        tx.journal_numbering().await.unwrap(),
        [
            ("2026-03".to_string(), 2, 2),
            ("2026-04".to_string(), 2, 2),
            ("2026-05".to_string(), 1, 1)
        ]
    );
    assert_eq!(
        tx.ledger_line_sums().await.unwrap(),
        tx.ledger_balances(None).await.unwrap()
    );
    let april = tx
        .journal_entries(&EntryFilter {
            period: Some("2026-04".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(april.len(), 2);
    assert_eq!(april[1].lines.len(), 2);
    assert_eq!(april[1].note.as_deref(), Some("posted into 2026-04"));
    tx.rollback().await.unwrap();
    // Refused at the flush (a gap; a closed period): the whole transaction fails as a clash
    // does, so a batch runs again with a savepoint per step; nothing of it is written.
    for (bad, at) in [
        (entry("2026-05", 4, SALE), "a gap in 2026-05"),
        (entry("2026-03", 3, SALE), "closed 2026-03"),
    ] {
        let mut tx = begin(s).await;
        tx.defer_instance_inserts();
        tx.insert_entry(&entry("2026-05", 2, SALE), 12)
            .await
            .unwrap();
        tx.insert_entry(&bad, 12).await.unwrap();
        match tx.commit().await {
            Err(crate::store::StoreError::Duplicate { kind, key }) => {
                assert_eq!(kind, "deferred journal entries");
                assert!(key.starts_with("2026-05/000002 and 1 more"), "{at}: {key}");
            }
            other => panic!(
                "{at}: a refused deferred entry must fail the commit as Duplicate, got {other:?}"
            ),
        }
    }
    let mut tx = begin(s).await;
    assert_eq!(
        tx.journal_numbering().await.unwrap()[2],
        ("2026-05".to_string(), 1, 1),
        "nothing of a refused batch is written"
    );
    tx.rollback().await.unwrap();
}
