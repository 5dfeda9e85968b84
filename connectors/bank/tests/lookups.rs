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
