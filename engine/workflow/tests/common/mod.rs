//! Shared test helpers.

use std::collections::BTreeMap;

use ordo_workflow::Catalog;

/// The catalog the fixtures are checked against.
pub fn catalog() -> Catalog {
    let list = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut connectors = BTreeMap::new();
    connectors.insert("order.validate".to_string(), list(&["ok", "invalid"]));
    connectors.insert("order.confirm".to_string(), list(&["ok"]));
    let mut rules = BTreeMap::new();
    rules.insert(
        "approval".to_string(),
        Some(list(&["approved", "review", "rejected"])),
    );
    // A rule whose outcomes are not declared: outcome checks are skipped.
    rules.insert("pricing".to_string(), None);
    Catalog { connectors, rules }
}
