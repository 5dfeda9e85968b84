//! Posting through the engine's ledger on an embedded store: the shipped chart and posting
//! rule, and rules that misbehave. What a failed posting leaves behind: nothing.

use super::{Chart, post};
use crate::queue::sqlite::SqliteQueue;
use crate::registry::Registry;
use crate::runtime::{Engine, defs};
use crate::store::journal::EntryFilter;
use crate::store::sqlite::{Durability, SqliteStore};
use crate::testing::TempDir;
use chrono::NaiveDate;
use ordo_contract::StepError;
use ordo_contract::ledger::{Posting, events};
use rust_decimal::dec;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn repo(p: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An engine with the shipped chart and `rule` as rules/posting.rhai (`None`: no chart).
async fn engine(dir: &TempDir, rule: &str, chart: bool) -> Engine {
    let store = SqliteStore::open(&dir.path().join("ordo.db"), Durability::Normal)
        .await
        .expect("store");
    let queue = SqliteQueue::new(&store, Duration::from_secs(2));
    let host = crate::app::rule_host();
    let registry = Registry::standard();
    let rules = vec![("rules/posting.rhai".to_string(), rule.to_string())];
    let d = defs::load_files(rules, Vec::new(), &registry, &host).expect("definitions");
    let mut engine = Engine::new(
        Arc::new(store),
        Arc::new(queue),
        registry,
        host,
        defs::Definitions::default(),
        (
            dir.path().join("w"),
            dir.path().join("r"),
            dir.path().join("o"),
        ),
        8,
    );
    engine.install(d).await.expect("install");
    if chart {
        let c = Chart::parse("config/accounts.yaml", &repo("config/accounts.yaml")).expect("chart");
        engine.ledger = Some(Arc::new(c));
    }
    engine
}

fn invoice(number: &str, day: &str) -> Posting {
    Posting {
        kind: events::INVOICE,
        source: number.into(),
        date: NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap(),
        currency: Some("EUR".into()),
        order_id: Some("C1-PO1".into()),
        invoice: Some(number.into()),
        customer: Some("C1".into()),
        facts: json!({ "total": dec!(145.75), "net_total": dec!(125.00), "tax_total": dec!(20.75),
                       "taxes": [ { "rate": 7, "net": dec!(25.00), "tax": dec!(1.75) },
                                  { "rate": 19, "net": dec!(100.00), "tax": dec!(19.00) } ] }),
    }
}

async fn post_one(
    engine: &Engine,
    p: &Posting,
) -> Result<Option<ordo_contract::ledger::Posted>, StepError> {
    let mut tx = engine.store.begin().await.expect("begin");
    let r = post(tx.as_mut(), engine, p, 1).await;
    if r.is_ok() {
        tx.commit().await.expect("commit");
    } else {
        tx.rollback().await.expect("rollback");
    }
    r
}

async fn entries(engine: &Engine) -> Vec<crate::store::journal::JournalEntry> {
    let mut tx = engine.store.begin().await.expect("begin");
    let e = tx
        .journal_entries(&EntryFilter::default())
        .await
        .expect("entries");
    tx.rollback().await.expect("rollback");
    e
}

#[tokio::test]
async fn an_invoice_posts_receivables_revenue_and_vat_per_rate() {
    let dir = TempDir::new("ledger-post");
    let engine = engine(&dir, &repo("rules/posting.rhai"), true).await;
    let posted = post_one(&engine, &invoice("INV-000001", "2026-03-14"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(posted.entry, "2026-03/000001");
    assert_eq!(posted.note, None);
    let e = entries(&engine).await;
    assert_eq!(e.len(), 1);
    let lines: Vec<(&str, i64)> = e[0]
        .lines
        .iter()
        .map(|l| (l.account.as_str(), l.amount_e4))
        .collect();
    assert_eq!(
        lines,
        [
            ("1400", 1_457_500),
            ("8300", -250_000),
            ("1771", -17_500),
            ("8400", -1_000_000),
            ("1776", -190_000)
        ]
    );
    assert!(
        e[0].rule.starts_with("rules/posting.rhai@"),
        "{}",
        e[0].rule
    );
    // The second event of the period takes the next number; the same event twice is refused.
    let p2 = post_one(&engine, &invoice("INV-000002", "2026-03-20"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p2.entry, "2026-03/000002");
    assert!(
        post_one(&engine, &invoice("INV-000002", "2026-03-21"))
            .await
            .is_err()
    );
    let p3 = post_one(&engine, &invoice("INV-000003", "2026-03-22"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        p3.entry, "2026-03/000003",
        "the refused one gave its number back"
    );
}

#[tokio::test]
async fn a_rule_that_does_not_balance_or_names_an_unknown_account_fails_naming_the_rule() {
    let dir = TempDir::new("ledger-bad-rule");
    let unbalanced = "//! inputs: event\n//! outcomes: posted\n#{ outcome: \"posted\", lines: [ #{ account: \"1400\", debit: event.total }, #{ account: \"8400\", credit: event.net_total } ] }\n";
    let engine = engine(&dir, unbalanced, true).await;
    let e = post_one(&engine, &invoice("INV-000001", "2026-03-14"))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "posting rule rules/posting.rhai for invoice INV-000001: the entry does not balance: debits 145.75 ≠ credits 125.00"
    );
    let dir = TempDir::new("ledger-unknown-account");
    let unknown = "//! inputs: event\n//! outcomes: posted\n#{ outcome: \"posted\", lines: [ #{ account: \"1400\", debit: 1 }, #{ account: \"9999\", credit: 1 } ] }\n";
    let engine2 = self::engine(&dir, unknown, true).await;
    let e = post_one(&engine2, &invoice("INV-000001", "2026-03-14"))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "posting rule rules/posting.rhai for invoice INV-000001: lines[1]: account '9999' is not in config/accounts.yaml"
    );
    for (lines, why) in [
        (
            "[ #{ account: \"1400\", debit: -1 }, #{ account: \"8400\", debit: 1 } ]",
            "amounts are not negative",
        ),
        (
            "[ #{ account: \"1400\", debit: 1, credit: 1 } ]",
            "either debit or credit",
        ),
        (
            "[ #{ account: \"1400\", debit: \"1\" } ]",
            "debit must be a number",
        ),
        (
            "[ #{ account: \"1400\", debit: 0.00001 }, #{ account: \"8400\", credit: 0.00001 } ]",
            "more than 4 decimals",
        ),
        (
            "[ #{ account: 1400, debit: 1 } ]",
            "`account` must be an account number text",
        ),
        (
            "[ #{ account: \"1400\", debit: 1, cost_centre: 7 } ]",
            "unknown key 'cost_centre'",
        ),
        ("()", "no `lines` list"),
    ] {
        let dir = TempDir::new("ledger-bad-lines");
        let rule = format!(
            "//! inputs: event\n//! outcomes: posted\n#{{ outcome: \"posted\", lines: {lines} }}\n"
        );
        let engine = self::engine(&dir, &rule, true).await;
        let e = post_one(&engine, &invoice("INV-000001", "2026-03-14"))
            .await
            .unwrap_err();
        assert!(matches!(e, StepError::Permanent(_)), "{e:?}");
        assert!(e.to_string().contains(why), "{why}: {e}");
        assert!(entries(&engine).await.is_empty(), "nothing half-posted");
    }
    // The shipped rule refuses what it has no account for, naming itself and the line.
    let dir = TempDir::new("ledger-rule-throws");
    let engine = self::engine(&dir, &repo("rules/posting.rhai"), true).await;
    let mut odd = invoice("INV-000009", "2026-03-14");
    odd.facts["taxes"] = json!([{ "rate": 10, "net": 100, "tax": 10 }]);
    let e = post_one(&engine, &odd).await.unwrap_err().to_string();
    assert!(
        e.starts_with(
            "posting rule rules/posting.rhai for invoice INV-000009: rules/posting.rhai:"
        ),
        "{e}"
    );
    assert!(
        e.contains("no revenue account for a tax rate of 10 %"),
        "{e}"
    );
    let mut pay = invoice("PAY-000001", "2026-03-14");
    pay.kind = events::PAYMENT;
    pay.facts = json!({ "received": 1, "applied": 1, "settled": 1, "discount": 0, "written_off": 0,
                        "income_written_off": 0, "credit": 0, "adjustment_account": "suspense" });
    let e = post_one(&engine, &pay).await.unwrap_err().to_string();
    assert!(
        e.contains("no account for the reconciliation account 'suspense'"),
        "{e}"
    );
    assert!(entries(&engine).await.is_empty());
}

#[tokio::test]
async fn a_late_event_posts_into_the_first_open_period_and_says_so() {
    let dir = TempDir::new("ledger-late");
    let engine = engine(&dir, &repo("rules/posting.rhai"), true).await;
    post_one(&engine, &invoice("INV-000001", "2026-03-31"))
        .await
        .unwrap();
    let mut tx = engine.store.begin().await.unwrap();
    assert!(tx.close_period("2026-03", "test", 1).await.unwrap());
    assert!(tx.close_period("2026-04", "test", 1).await.unwrap());
    tx.commit().await.unwrap();
    let late = post_one(&engine, &invoice("INV-000002", "2026-03-31"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(late.entry, "2026-05/000001");
    assert_eq!(
        late.note.as_deref(),
        Some("posted into 2026-05: 2026-03 is closed (event of 2026-03-31)")
    );
    let e = entries(&engine).await;
    assert_eq!(
        (e[1].period.as_str(), e[1].entry_date.as_str()),
        ("2026-05", "2026-05-01")
    );
    assert_eq!(e[1].note, late.note);
}

#[tokio::test]
async fn foreign_currencies_are_refused_and_no_chart_posts_nothing() {
    let dir = TempDir::new("ledger-currency");
    let engine = engine(&dir, &repo("rules/posting.rhai"), true).await;
    let mut usd = invoice("INV-000001", "2026-03-14");
    usd.currency = Some("USD".into());
    let e = post_one(&engine, &usd).await.unwrap_err().to_string();
    assert!(e.contains("is in USD, the ledger keeps EUR"), "{e}");
    let dir = TempDir::new("ledger-none");
    let engine = self::engine(&dir, &repo("rules/posting.rhai"), false).await;
    assert_eq!(
        post_one(&engine, &invoice("INV-000001", "2026-03-14"))
            .await
            .unwrap(),
        None
    );
    assert!(entries(&engine).await.is_empty());
}

#[test]
fn periods_are_checked_and_follow_each_other() {
    assert_eq!(
        super::post::next_period("2026-12").as_deref(),
        Some("2027-01")
    );
    assert_eq!(super::parse_period("2026-03"), Ok("2026-03".to_string()));
    for bad in ["2026-3", "2026-13", "26-03", "2026-03-01", "x"] {
        assert!(super::parse_period(bad).is_err(), "{bad}");
    }
}

/// Posts the invoice named by the instance data's `invoice` (the step's own transaction).
struct PostInvoice;

#[async_trait::async_trait]
impl ordo_contract::Connector for PostInvoice {
    fn name(&self) -> &'static str {
        "test.post_invoice"
    }
    fn outcomes(&self) -> &'static [&'static str] {
        &["posted"]
    }
    async fn run(
        &self,
        ctx: &mut dyn ordo_contract::StepContext,
        input: ordo_contract::StepInput<'_>,
    ) -> Result<ordo_contract::StepOutput, StepError> {
        let number = input.data["invoice"].as_str().unwrap_or_default();
        ctx.post(&invoice(number, "2026-03-14")).await?;
        Ok(ordo_contract::StepOutput::outcome("posted"))
    }
}

/// A batch of posting steps writes its entries together at the commit; when the database
/// refuses one there (an event posted already), the batch runs again with a savepoint per step:
/// only that step fails, the others post, and the period's numbers stay gapless.
#[tokio::test]
async fn a_refused_entry_of_a_batch_fails_only_its_step() {
    let dir = TempDir::new("ledger-batch");
    let mut engine = engine(&dir, &repo("rules/posting.rhai"), true).await;
    let mut registry = Registry::standard();
    registry.add(Arc::new(PostInvoice));
    engine.registry = registry;
    let wf = "workflow: w\nversion: 1\nsteps:\n  go: { connector: test.post_invoice, then: done }\n  done: { end: completed }\n";
    let host = crate::app::rule_host();
    let d = defs::load_files(
        vec![("rules/posting.rhai".to_string(), repo("rules/posting.rhai"))],
        vec![("workflows/w.yaml".to_string(), wf.to_string())],
        &engine.registry,
        &host,
    )
    .expect("definitions");
    engine.install(d).await.expect("install");
    let engine = Arc::new(engine);
    post_one(&engine, &invoice("INV-DUP", "2026-03-14"))
        .await
        .expect("posted before");
    let mut tx = engine.store.begin().await.expect("begin");
    for (key, number) in [("a", "INV-A"), ("dup", "INV-DUP"), ("b", "INV-B")] {
        engine
            .start_instance(tx.as_mut(), "w", key, json!({ "invoice": number }))
            .await
            .expect("start");
    }
    tx.commit().await.expect("commit");
    crate::runtime::hostile_tests::run_until_idle(&engine).await;
    let dup = crate::runtime::hostile_tests::instance(&engine, "dup").await;
    assert_eq!(dup.status, crate::model::status::FAILED, "{dup:?}");
    let error = dup.error.unwrap_or_default();
    assert!(
        error.contains("ledger:") && error.to_lowercase().contains("unique"),
        "{error}"
    );
    for key in ["a", "b"] {
        let i = crate::runtime::hostile_tests::instance(&engine, key).await;
        assert_eq!(i.end_status.as_deref(), Some("completed"), "{key}: {i:?}");
    }
    let posted: Vec<(i64, String)> = entries(&engine)
        .await
        .into_iter()
        .map(|e| (e.number, e.source))
        .collect();
    assert_eq!(
        posted,
        [
            (1, "INV-DUP".into()),
            (2, "INV-A".into()),
            (3, "INV-B".into())
        ]
    );
}
