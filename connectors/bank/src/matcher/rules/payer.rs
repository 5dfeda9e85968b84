//! Rules that need the payer (by account, learned account or fuzzy name): a typo'd reference,
//! one open item of that amount, its discounted amount, a unique combination of its open items,
//! tolerance, stated bank charges; otherwise an exception with scored candidates.

use rust_decimal::Decimal;

use super::search::{one_edit, subset_dfs};
use super::{PayerHow, Payment, SUBSET_BUDGET, State};
use crate::matcher::{Candidate, Rule, WriteOff};
use crate::reference;

impl State<'_> {
    pub(super) fn by_payer(
        &mut self,
        p: &Payment<'_>,
        payer: (u32, PayerHow),
        extra: Vec<Candidate>,
    ) {
        let (c, how) = payer;
        let open: Vec<u32> = self.idx.by_customer[c as usize]
            .iter()
            .copied()
            .filter(|&i| self.usable(i, p))
            .collect();
        let a = p.amount;
        let who = match how {
            PayerHow::Account => "payer identified by account".to_string(),
            PayerHow::Learned => "payer identified by learned account".to_string(),
            PayerHow::Name(s) => format!("payer identified by name (score {s})"),
        };
        let strong = if matches!(how, PayerHow::Name(_)) {
            0
        } else {
            5
        };
        // A number one typo away from one of this payer's invoices, amount equal.
        let fuzzy = self.fuzzy_ref(p, &open);
        if let Some(i) = fuzzy.filter(|&i| self.remaining[i as usize] == a) {
            let n = self.items[i as usize].number.clone();
            self.matched(
                p,
                Some(payer),
                vec![(i, a)],
                None,
                None,
                Rule::ReferenceFuzzy,
                80 + strong,
                format!("{who}; text has a near-miss of {n} and the amount equals it"),
            );
            return;
        }
        let exact: Vec<u32> = open
            .iter()
            .copied()
            .filter(|&i| self.remaining[i as usize] == a)
            .collect();
        if exact.len() == 1 {
            let n = self.items[exact[0] as usize].number.clone();
            self.matched(
                p,
                Some(payer),
                vec![(exact[0], a)],
                None,
                None,
                Rule::PayerAmount,
                85 + strong,
                format!("{who}; amount equals open invoice {n}"),
            );
            return;
        }
        if exact.len() > 1 {
            let mut cands: Vec<Candidate> = exact.iter().map(|&i| self.candidate(i, 75)).collect();
            cands.extend(extra);
            self.exception(
                p,
                format!("{who}; {} open invoices have this amount", exact.len()),
                Some(c),
                cands,
            );
            return;
        }
        let disc: Vec<(u32, Decimal)> = open
            .iter()
            .map(|&i| (i, self.discount(i, p.date)))
            .filter(|&(i, d)| d > Decimal::ZERO && self.remaining[i as usize] - d == a)
            .collect();
        if let [(i, d)] = disc.as_slice() {
            let n = self.items[*i as usize].number.clone();
            let wo = WriteOff {
                account: self.cfg.discount_account.clone(),
                amount: *d,
            };
            self.matched(
                p,
                Some(payer),
                vec![(*i, self.remaining[*i as usize])],
                Some(wo),
                None,
                Rule::PayerDiscount,
                80 + strong,
                format!("{who}; amount equals {n} minus its early-payment discount {d}"),
            );
            return;
        }
        if let Some(sub) = self.unique_subset(&open, a) {
            let allocs = sub
                .iter()
                .map(|&i| (i, self.remaining[i as usize]))
                .collect();
            let nums = self.numbers(&sub);
            self.matched(
                p,
                Some(payer),
                allocs,
                None,
                None,
                Rule::PayerSubset,
                75 + strong,
                format!("{who}; amount equals the sum of {nums}"),
            );
            return;
        }
        let tol: Vec<u32> = open
            .iter()
            .copied()
            .filter(|&i| (self.remaining[i as usize] - a).abs() <= self.cfg.tolerance)
            .collect();
        if let [i] = tol.as_slice() {
            let diff = self.remaining[*i as usize] - a;
            let n = self.items[*i as usize].number.clone();
            let wo = WriteOff {
                account: self.cfg.writeoff_account.clone(),
                amount: diff,
            };
            self.matched(
                p,
                Some(payer),
                vec![(*i, self.remaining[*i as usize])],
                Some(wo),
                None,
                Rule::PayerTolerance,
                70 + strong,
                format!("{who}; amount within tolerance of {n} (difference {diff})"),
            );
            return;
        }
        // Without a reference, a short payment is taken as fees only when the bank reports
        // exactly that charge: otherwise any near amount of the payer would do.
        let fee: Vec<u32> = open
            .iter()
            .copied()
            .filter(|&i| {
                p.charges
                    .is_some_and(|c| c == self.remaining[i as usize] - a)
            })
            .collect();
        if let [i] = fee.as_slice() {
            let diff = self.remaining[*i as usize] - a;
            let n = self.items[*i as usize].number.clone();
            let wo = WriteOff {
                account: self.cfg.fee_account.clone(),
                amount: diff,
            };
            self.matched(
                p,
                Some(payer),
                vec![(*i, self.remaining[*i as usize])],
                Some(wo),
                None,
                Rule::PayerFee,
                65 + strong,
                format!("{who}; short of {n} by {diff}, taken as bank fees"),
            );
            return;
        }
        let mut cands: Vec<Candidate> = open
            .iter()
            .map(|&i| {
                let r = self.remaining[i as usize];
                let close = if r.is_zero() {
                    0
                } else {
                    let c = (Decimal::from(40)
                        * (Decimal::ONE - ((r - a).abs() / r).min(Decimal::ONE)))
                    .round();
                    // The clamp keeps it in 0..=40, so try_from always succeeds.
                    u8::try_from(c.mantissa().clamp(0, 40)).unwrap_or(0)
                };
                self.candidate(i, 40 + close)
            })
            .collect();
        cands.extend(self.amount_candidates(p));
        let foreign = if extra.is_empty() {
            ""
        } else {
            "; the text names another customer's invoice"
        };
        cands.extend(extra);
        self.exception(
            p,
            format!("{who}; no open item or combination fits {a}{foreign}"),
            Some(c),
            cands,
        );
    }

    /// The payer's single invoice whose digit key is one edit (substitution, transposition,
    /// insertion, deletion) from a number in the text.
    pub(super) fn fuzzy_ref(&self, p: &Payment<'_>, open: &[u32]) -> Option<u32> {
        let mut keys: Vec<String> = Vec::new();
        for t in &p.texts {
            reference::candidate_keys(t, |k| {
                if k.len() >= 4 && k.bytes().all(|b| b.is_ascii_digit()) {
                    keys.push(k.trim_start_matches('0').to_string());
                }
            });
        }
        if keys.is_empty() {
            return None;
        }
        let hits: Vec<u32> = open
            .iter()
            .copied()
            .filter(|&i| {
                self.idx.digit_keys[i as usize]
                    .as_deref()
                    .is_some_and(|d| keys.iter().any(|k| one_edit(k, d)))
            })
            .collect();
        match hits.as_slice() {
            [i] => Some(*i),
            _ => None,
        }
    }

    /// The only subset (2..=max_subset items) of `pool` whose open amounts sum to `target`.
    pub(super) fn unique_subset(&self, pool: &[u32], target: Decimal) -> Option<Vec<u32>> {
        let mut c: Vec<(u32, Decimal)> = pool
            .iter()
            .map(|&i| (i, self.remaining[i as usize]))
            .filter(|(_, r)| *r <= target && *r > Decimal::ZERO)
            .collect();
        if c.len() < 2 {
            return None;
        }
        c.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        // prefix[k] = sum of the k largest; c is sorted descending, so the best `slots` items
        // from position k on sum to prefix[k + slots] - prefix[k].
        let mut prefix = vec![Decimal::ZERO; c.len() + 1];
        for k in 0..c.len() {
            prefix[k + 1] = prefix[k] + c[k].1;
        }
        let mut found: Vec<Vec<u32>> = Vec::new();
        let mut stack = Vec::new();
        let mut budget = SUBSET_BUDGET;
        subset_dfs(
            &c,
            &prefix,
            0,
            target,
            self.cfg.max_subset,
            &mut stack,
            &mut found,
            &mut budget,
        );
        if found.len() == 1 && budget > 0 {
            found.pop()
        } else {
            None
        }
    }
}
