//! Lookup structures built once per `reconcile` call so each payment costs a handful of hash
//! lookups: invoice keys → items, customer → items (oldest due first), payer account →
//! customer, name word → customers, amount → items. Never all-pairs.

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

use rust_decimal::Decimal;

use super::names;
use super::{Customer, MatchConfig, OpenItem};
use crate::reference;

/// At most this many customers are scored for one payer name.
const MAX_NAME_CANDIDATES: usize = 256;

/// The index's maps: keys are built from the open items and customers (never from a
/// statement's text, which is only looked up), and no rule depends on their order, so a fast
/// non-keyed hash serves; SipHash and its per-key cost were a tenth of a 100,000-entry run.
pub type FastMap<K, V> = HashMap<K, V, FxBuildHasher>;

/// Currency id of a payment whose currency no open item has: equal to no item's.
pub const NO_CURRENCY: u32 = u32::MAX;

pub struct Index {
    pub by_key: FastMap<String, Vec<u32>>,
    pub by_customer: Vec<Vec<u32>>,
    pub customer_of_item: Vec<u32>,
    pub customer_ids: Vec<String>,
    pub customer_pos: FastMap<String, u32>,
    pub by_account: FastMap<String, u32>,
    pub learned: FastMap<String, u32>,
    pub name_tokens: Vec<Vec<String>>,
    pub by_token: FastMap<String, Vec<u32>>,
    pub by_amount: FastMap<Decimal, Vec<u32>>,
    pub digit_keys: Vec<Option<String>>,
    /// Each item's currency as an index into `currencies`: the test every candidate passes
    /// (`State::usable`) compares two integers instead of two strings.
    pub currency_of_item: Vec<u32>,
    pub currencies: Vec<String>,
}

pub fn norm_account(a: &str) -> String {
    a.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl Index {
    pub fn build(items: &[OpenItem], customers: &[Customer], cfg: &MatchConfig) -> Index {
        let mut ix = Index {
            by_key: FastMap::with_capacity_and_hasher(items.len() * 2, FxBuildHasher),
            by_customer: Vec::new(),
            customer_of_item: Vec::with_capacity(items.len()),
            customer_ids: Vec::new(),
            customer_pos: FastMap::default(),
            by_account: FastMap::default(),
            learned: FastMap::default(),
            name_tokens: Vec::new(),
            by_token: FastMap::default(),
            by_amount: FastMap::with_capacity_and_hasher(items.len(), FxBuildHasher),
            digit_keys: Vec::with_capacity(items.len()),
            currency_of_item: Vec::with_capacity(items.len()),
            currencies: Vec::new(),
        };
        let mut ambiguous: Vec<String> = Vec::new();
        for c in customers {
            let pos = ix.customer(&c.id);
            ix.name_tokens[pos as usize] = names::tokens(&c.name);
            for a in &c.accounts {
                let a = norm_account(a);
                match ix.by_account.get(&a) {
                    Some(p) if *p != pos => ambiguous.push(a),
                    _ => {
                        ix.by_account.insert(a, pos);
                    }
                }
            }
        }
        for a in ambiguous {
            ix.by_account.remove(&a);
        }
        for (pos, toks) in ix.name_tokens.iter().enumerate() {
            for t in toks {
                ix.by_token.entry(t.clone()).or_default().push(pos as u32);
            }
        }
        for (acct, cust) in &cfg.learned_accounts {
            let pos = ix.customer(cust);
            ix.learned.insert(norm_account(acct), pos);
        }
        for (i, it) in items.iter().enumerate() {
            let i = i as u32;
            let pos = ix.customer(&it.customer_id);
            ix.customer_of_item.push(pos);
            ix.by_customer[pos as usize].push(i);
            let (full, digits) = reference::invoice_keys(&it.number);
            ix.by_key.entry(full).or_default().push(i);
            if let Some(d) = &digits {
                ix.by_key.entry(d.clone()).or_default().push(i);
            }
            ix.digit_keys.push(digits);
            let ccy = match ix.currencies.iter().position(|c| *c == it.currency) {
                Some(k) => k as u32,
                None => {
                    ix.currencies.push(it.currency.clone());
                    (ix.currencies.len() - 1) as u32
                }
            };
            ix.currency_of_item.push(ccy);
            ix.by_amount
                .entry(it.amount_open.normalize())
                .or_default()
                .push(i);
        }
        for list in ix.by_key.values_mut() {
            list.dedup();
        }
        // Oldest due first; equal due dates keep input order (stable sort, deterministic).
        for list in &mut ix.by_customer {
            list.sort_by_key(|i| items[*i as usize].due_date);
        }
        ix
    }

    /// The id of `currency` among the items' currencies, or [`NO_CURRENCY`].
    pub fn currency_id(&self, currency: &str) -> u32 {
        self.currencies
            .iter()
            .position(|c| c == currency)
            .map_or(NO_CURRENCY, |k| k as u32)
    }

    fn customer(&mut self, id: &str) -> u32 {
        if let Some(p) = self.customer_pos.get(id) {
            return *p;
        }
        let p = self.customer_ids.len() as u32;
        self.customer_ids.push(id.to_string());
        self.customer_pos.insert(id.to_string(), p);
        self.by_customer.push(Vec::new());
        self.name_tokens.push(Vec::new());
        p
    }

    /// Customers whose name scores at least `threshold` against `name`, best first.
    pub fn by_name(&self, name: &str, threshold: u8) -> Vec<(u32, u8)> {
        let toks = names::tokens(name);
        // Candidates: the customers sharing the most words with the payer's name (a typo in
        // one word still leaves the others); only those are scored character by character.
        let cands = self.most_shared_words(&toks);
        let mut scored: Vec<(u32, u8)> = cands
            .into_iter()
            .map(|c| (c, names::score_tokens(&toks, &self.name_tokens[c as usize])))
            .filter(|(_, s)| *s >= threshold)
            .collect();
        scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        scored
    }

    /// The customers (ascending) that share the largest number of `toks` with the payer's name,
    /// or none when more than [`MAX_NAME_CANDIDATES`] do.
    ///
    /// Without merging every posting list (a common word such as `NORD` lists thousands of
    /// customers): a customer in at least `m` of the `k` lists is in one of the `k - m + 1`
    /// shortest, so for `m = k, k-1, …` only those are looked at, each counted by binary search
    /// in the others; the first `m` with any customer is the largest.
    fn most_shared_words(&self, toks: &[String]) -> Vec<u32> {
        let mut lists: Vec<&[u32]> = toks
            .iter()
            .filter_map(|t| self.by_token.get(t))
            .map(Vec::as_slice)
            .filter(|l| !l.is_empty())
            .collect();
        lists.sort_by_key(|l| l.len());
        let k = lists.len();
        let mut pool: Vec<u32> = Vec::new();
        for m in (1..=k).rev() {
            if m == 1 && lists[k - 1].len() > MAX_NAME_CANDIDATES {
                // Everyone in any list shares one word: too many to tell apart.
                return Vec::new();
            }
            pool.clear();
            for l in &lists[..k - m + 1] {
                pool.extend_from_slice(l);
            }
            pool.sort_unstable();
            pool.dedup();
            let cands: Vec<u32> = pool
                .iter()
                .copied()
                .filter(|c| lists.iter().filter(|l| l.binary_search(c).is_ok()).count() == m)
                .collect();
            if !cands.is_empty() {
                return if cands.len() > MAX_NAME_CANDIDATES {
                    Vec::new()
                } else {
                    cands
                };
            }
        }
        Vec::new()
    }

    /// The plain merge `most_shared_words` replaces (kept to test that they agree).
    #[cfg(test)]
    fn most_shared_words_by_merge(&self, toks: &[String]) -> Vec<u32> {
        let mut all: Vec<u32> = Vec::new();
        for t in toks {
            if let Some(l) = self.by_token.get(t) {
                all.extend_from_slice(l);
            }
        }
        all.sort_unstable();
        let mut best = 0usize;
        let mut cands: Vec<u32> = Vec::new();
        let mut k = 0;
        while k < all.len() {
            let c = all[k];
            let mut n = 0;
            while k < all.len() && all[k] == c {
                n += 1;
                k += 1;
            }
            if n > best {
                best = n;
                cands.clear();
            }
            if n == best {
                cands.push(c);
            }
        }
        if cands.len() > MAX_NAME_CANDIDATES {
            return Vec::new();
        }
        cands
    }
}

#[cfg(all(test, feature = "gen"))]
mod tests {
    use super::*;
    use crate::workload::{GenConfig, generate};

    #[test]
    fn most_shared_words_agrees_with_the_merge() {
        let g = generate(&GenConfig {
            seed: 3,
            customers: 6_000,
            invoices: 100,
            payments: 10,
            ..GenConfig::default()
        });
        let ix = Index::build(&g.items, &g.customers, &MatchConfig::default());
        let mut queries: Vec<String> = g
            .customers
            .iter()
            .step_by(7)
            .map(|c| c.name.clone())
            .collect();
        for c in g.customers.iter().step_by(13) {
            // Name without the last word, a typo'd word, words of two customers, one word.
            let w: Vec<&str> = c.name.split(' ').collect();
            queries.push(w[..w.len() - 1].join(" ").to_uppercase());
            queries.push(format!("{}x {}", w[0], w[1..].join(" ")));
            queries.push(format!("{} {}", w[0], g.customers[0].name));
            queries.push(w[1].to_string());
        }
        queries.extend(["", "Nobody Known", "Nord", "Becker"].map(String::from));
        for q in &queries {
            let toks = names::tokens(q);
            assert_eq!(
                ix.most_shared_words(&toks),
                ix.most_shared_words_by_merge(&toks),
                "{q:?}"
            );
        }
    }
}
