//! The store's open-items index hands the matcher only the open items that
//! `matcher::lookups` asks for (by reference key, payer, amount) plus every other open item of
//! the customers found. These tests check that the matcher then decides exactly as it does
//! over all open items, on the generated workload with every class (hard ones included) and
//! on a statement matched in chunks, and that the lookups leave most open items out.

use std::collections::BTreeSet;

use ordo_bank::matcher::{Lookups, lookups};
use ordo_bank::reference::invoice_keys;
use ordo_bank::workload::{GenConfig, generate};
use ordo_bank::{MatchConfig, OpenItem, Statement, reconcile};

/// What an index answers for `lk`, in the order of `items` (as the store orders by number).
fn answer(items: &[OpenItem], lk: &Lookups) -> Vec<OpenItem> {
    let hit = |it: &OpenItem| {
        let (full, digits) = invoice_keys(&it.number);
        lk.keys.contains(&full)
            || digits.is_some_and(|d| lk.keys.contains(&d))
            || lk.customers.contains(&it.customer_id)
            || lk.amounts.contains(&it.amount_open.normalize())
    };
    let first: BTreeSet<&str> = items
        .iter()
        .filter(|it| hit(it))
        .map(|it| it.customer_id.as_str())
        .collect();
    items
        .iter()
        .filter(|it| hit(it) || first.contains(it.customer_id.as_str()))
        .cloned()
        .collect()
}

fn chunked(stmt: &Statement, size: usize) -> Vec<Statement> {
    stmt.entries
        .chunks(size)
        .map(|c| {
            let mut s = stmt.clone();
            s.entries = c.to_vec();
            s
        })
        .collect()
}

#[test]
fn the_looked_up_items_decide_like_all_open_items() {
    for (seed, hard) in [(1u64, false), (7, true), (42, true)] {
        let g = generate(&GenConfig {
            seed,
            customers: 400,
            invoices: 8_000,
            payments: 1_500,
            hard,
            ..GenConfig::default()
        });
        let cfg = MatchConfig::default();
        let stmts = vec![g.statement.clone()];
        let whole = reconcile(&stmts, &g.items, &g.customers, &cfg);
        let lk = lookups(&stmts, &g.customers, &cfg);
        let some = answer(&g.items, &lk);
        assert!(
            some.len() < g.items.len(),
            "seed {seed}: the lookups asked for every open item"
        );
        let part = reconcile(&stmts, &some, &g.customers, &cfg);
        assert_eq!(whole, part, "seed {seed}, hard {hard}");
        assert!(!whole.matches.is_empty() && !whole.exceptions.is_empty());
    }
}

/// In chunks, each chunk looks up for itself only; the items it sees are the ones its entries
/// can touch, a small share of all.
#[test]
fn a_chunk_looks_up_in_proportion_to_its_entries() {
    let g = generate(&GenConfig {
        seed: 3,
        customers: 2_000,
        invoices: 30_000,
        payments: 2_000,
        hard: true,
        ..GenConfig::default()
    });
    let cfg = MatchConfig::default();
    for chunk in chunked(&g.statement, 100) {
        let stmts = vec![chunk];
        let lk = lookups(&stmts, &g.customers, &cfg);
        let some = answer(&g.items, &lk);
        assert!(
            some.len() * 5 < g.items.len(),
            "a chunk of 100 entries asked for {} of {} open items",
            some.len(),
            g.items.len()
        );
        assert_eq!(
            reconcile(&stmts, &g.items, &g.customers, &cfg),
            reconcile(&stmts, &some, &g.customers, &cfg)
        );
    }
}

/// The payer is known by name, the text names another customer's invoice and the amount also
/// pays that customer's other open invoice: the second round (the other open items of the
/// customers found) is what lets the matcher see it; an amount only an unrelated invoice has
/// is found by amount. Without either, the decisions differ.
#[test]
fn the_customers_found_and_the_amounts_are_looked_up_too() {
    use chrono::NaiveDate;
    use ordo_bank::matcher::{Customer, ItemKind, Rule};
    use ordo_bank::model::{Direction, Entry, Format, TxDetail};
    use ordo_contract::PaymentTerms;
    use rust_decimal::Decimal;

    let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap_or_default();
    let item = |n: &str, c: &str, a: i64| OpenItem {
        number: n.into(),
        customer_id: c.into(),
        amount_open: Decimal::new(a, 2),
        currency: "EUR".into(),
        due_date: day(28),
        issue_date: day(1),
        terms: PaymentTerms {
            net_days: 30,
            discount_percent: Decimal::ZERO,
            discount_days: 0,
        },
        kind: ItemKind::Receivable,
    };
    let items = vec![
        item("INV-000100", "X", 10_000),
        item("INV-000101", "X", 5_000),
        item("INV-000200", "A", 7_000),
        item("INV-000300", "Z", 4_321),
    ];
    let customers = vec![
        Customer {
            id: "A".into(),
            name: "Alpha Trading GmbH".into(),
            accounts: vec![],
        },
        Customer {
            id: "X".into(),
            name: "Xeno Partners AG".into(),
            accounts: vec![],
        },
        Customer {
            id: "Z".into(),
            name: "Zeta Werke KG".into(),
            accounts: vec![],
        },
    ];
    let pay = |amount: i64, name: &str, text: Option<&str>| {
        let a = Decimal::new(amount, 2);
        let mut e = Entry::new(a, Direction::Credit, "EUR");
        e.booking_date = Some(day(12));
        e.transactions[0] = TxDetail {
            amount: Some(a),
            counterparty_name: Some(name.into()),
            remittance: text.map(Into::into),
            ..TxDetail::default()
        };
        e
    };
    let mut s = Statement::new(Format::Camt053);
    s.statement_id = "S".into();
    s.entries = vec![
        pay(15_000, "Alpha Trading GmbH", Some("INV-000100")),
        pay(4_321, "Somebody Unknown", None),
    ];
    let stmts = vec![s];
    let cfg = MatchConfig::default();
    let whole = reconcile(&stmts, &items, &customers, &cfg);
    assert_eq!(whole.matches.len(), 1, "{whole:#?}");
    assert_eq!(whole.matches[0].rule, Rule::ReferenceOpenItems);
    assert_eq!(whole.exceptions[0].candidates[0].invoice, "INV-000300");

    let lk = lookups(&stmts, &customers, &cfg);
    let some = answer(&items, &lk);
    assert_eq!(reconcile(&stmts, &some, &customers, &cfg), whole);

    // Without the second round, or without the amounts, the matcher decides otherwise.
    let first_only: Vec<OpenItem> = {
        let (keys, cust, amts) = (&lk.keys, &lk.customers, &lk.amounts);
        items
            .iter()
            .filter(|it| {
                let (full, digits) = invoice_keys(&it.number);
                keys.contains(&full)
                    || digits.is_some_and(|d| keys.contains(&d))
                    || cust.contains(&it.customer_id)
                    || amts.contains(&it.amount_open.normalize())
            })
            .cloned()
            .collect()
    };
    assert_ne!(reconcile(&stmts, &first_only, &customers, &cfg), whole);
    let no_amounts = answer(
        &items,
        &Lookups {
            amounts: Default::default(),
            ..lk.clone()
        },
    );
    assert_ne!(reconcile(&stmts, &no_amounts, &customers, &cfg), whole);
}
