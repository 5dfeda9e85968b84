//! Auto-match rate on a generated statement whose truth is known: ≥ 95 % of matchable payments
//! matched to exactly the right invoices, and no wrong match at all.

use ordo_bank::workload::{GenConfig, evaluate, generate};
use ordo_bank::{MatchConfig, reconcile};

#[test]
fn auto_match_rate_on_generated_statement() {
    let big: Option<usize> = std::env::var("ORDO_GEN_BIG")
        .ok()
        .and_then(|v| v.parse().ok());
    for seed in [1u64, 7, 42] {
        let cfg = if let Some(payments) = big {
            GenConfig {
                seed,
                customers: 5_000,
                invoices: 100_000,
                payments,
                ..GenConfig::default()
            }
        } else {
            GenConfig {
                seed,
                customers: 500,
                invoices: 10_000,
                payments: 3_000,
                ..GenConfig::default()
            }
        };
        let g = generate(&cfg);
        let r = reconcile(
            std::slice::from_ref(&g.statement),
            &g.items,
            &g.customers,
            &MatchConfig::default(),
        );
        let s = evaluate(&r, &g.truth);
        eprintln!(
            "seed {seed}: auto-match rate {:.2}% ({} of {} matchable), wrong {}, true exceptions {}",
            s.rate(),
            s.right,
            s.matchable,
            s.wrong,
            s.true_exceptions
        );
        if s.wrong > 0 || s.rate() < 95.0 {
            let by_ref: std::collections::HashMap<&str, _> = r
                .matches
                .iter()
                .map(|m| (m.entry_ref.as_str(), m))
                .collect();
            let ex: std::collections::HashMap<&str, _> = r
                .exceptions
                .iter()
                .map(|m| (m.entry_ref.as_str(), m))
                .collect();
            let mut shown = 0;
            for (n, (eref, want)) in g.truth.iter().enumerate() {
                let got = by_ref.get(eref.as_str());
                let ok = match (want, got) {
                    (Some(w), Some(m)) => {
                        let mut a: Vec<_> =
                            m.allocations.iter().map(|a| a.invoice.clone()).collect();
                        a.sort();
                        let mut w = w.clone();
                        w.sort();
                        a == w
                    }
                    (None, None) => true,
                    _ => false,
                };
                if !ok && shown < 25 && (got.is_some() || s.wrong == 0) {
                    shown += 1;
                    let e = &g.statement.entries[n];
                    if let Some(w) = want {
                        for m in r
                            .matches
                            .iter()
                            .filter(|m| m.allocations.iter().any(|a| w.contains(&a.invoice)))
                        {
                            let n: usize = m
                                .entry_ref
                                .rsplit('/')
                                .next()
                                .and_then(|x| x.parse().ok())
                                .unwrap_or(1);
                            let e = &g.statement.entries[n - 1];
                            eprintln!(
                                "    consumed by {} {:?} {:?} truth {:?} text {:?}",
                                m.entry_ref,
                                m.rule,
                                m.allocations,
                                g.truth[n - 1].1,
                                e.transactions[0].remittance
                            );
                        }
                    }
                    eprintln!(
                        "  {eref} want {want:?} amount {} text {:?} name {:?}\n    got {:?}\n    exc {:?}",
                        e.amount,
                        e.transactions[0].remittance,
                        e.transactions[0].counterparty_name,
                        got.map(|m| (&m.rule, &m.allocations, &m.reason)),
                        ex.get(eref.as_str()).map(|x| &x.reason)
                    );
                }
            }
        }
        assert_eq!(s.wrong, 0, "seed {seed}: wrong matches");
        assert!(
            s.rate() >= 95.0,
            "seed {seed}: auto-match rate {:.2}%",
            s.rate()
        );
    }
}
