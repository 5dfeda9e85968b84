//! The matching rules applied to one payment, in order of confidence (see the table in the
//! module above). `State` carries the open amounts as they shrink through the statement.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::index::{Index, norm_account};
use super::{
    Allocation, Candidate, Customer, Exception, ItemKind, Match, MatchConfig, OpenItem,
    ReconResult, Rule, WriteOff,
};
use crate::model::{Direction, Entry, EntryStatus};
use crate::reference;

mod advice;
mod payer;
mod search;

use search::texts;

/// Subset-sum search budget (visited nodes) per payment.
const SUBSET_BUDGET: usize = 200_000;

/// One payment to match: an entry, or one transaction of a batched entry.
struct Payment<'e> {
    eref: String,
    amount: Decimal,
    currency: &'e str,
    /// `currency` as the index's currency id (set by `State::entry`).
    ccy: u32,
    direction: Direction,
    date: Option<NaiveDate>,
    account: Option<&'e str>,
    name: Option<&'e str>,
    texts: Vec<String>,
    charges: Option<Decimal>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PayerHow {
    Account,
    Learned,
    Name(u8),
}

/// The payments of a booked entry: one, or one per transaction of a batched entry whose
/// transactions all carry their amount.
fn payments_of<'e>(base: &str, e: &'e Entry) -> Vec<Payment<'e>> {
    let split = e.transactions.len() > 1 && e.transactions.iter().all(|t| t.amount.is_some());
    let mut payments = Vec::new();
    if split {
        for (t, tx) in e.transactions.iter().enumerate() {
            payments.push(Payment {
                eref: format!("{base}/{}", t + 1),
                // Never taken: `split` requires every transaction to carry its amount.
                amount: tx.amount.unwrap_or(e.amount),
                currency: &e.currency,
                ccy: super::index::NO_CURRENCY,
                direction: e.direction,
                date: e.date(),
                account: tx.counterparty_account.as_deref(),
                name: tx.counterparty_name.as_deref(),
                texts: texts(std::slice::from_ref(tx), None),
                charges: None,
            });
        }
    } else {
        let first = e.transactions.first();
        payments.push(Payment {
            eref: base.to_string(),
            amount: e.amount,
            currency: &e.currency,
            ccy: super::index::NO_CURRENCY,
            direction: e.direction,
            date: e.date(),
            account: first.and_then(|t| t.counterparty_account.as_deref()),
            name: first.and_then(|t| t.counterparty_name.as_deref()),
            texts: texts(&e.transactions, e.info.as_deref()),
            charges: e.charges,
        });
    }
    payments
}

pub struct State<'a> {
    /// Received remittance advices and whether a payment of this run has used each.
    advices: &'a [super::Advice],
    advice_used: Vec<bool>,
    items: &'a [OpenItem],
    idx: &'a Index,
    cfg: &'a MatchConfig,
    remaining: Vec<Decimal>,
    out: ReconResult,
    learned: BTreeSet<(String, String)>,
}

impl<'a> State<'a> {
    pub fn new(
        items: &'a [OpenItem],
        idx: &'a Index,
        _customers: &'a [Customer],
        cfg: &'a MatchConfig,
    ) -> Self {
        State {
            advices: &[],
            advice_used: Vec::new(),
            items,
            idx,
            cfg,
            remaining: items.iter().map(|i| i.amount_open).collect(),
            out: ReconResult::default(),
            learned: BTreeSet::new(),
        }
    }

    pub fn finish(mut self) -> ReconResult {
        self.out.learned = self.learned.into_iter().collect();
        self.out
    }

    pub fn entry(&mut self, base: &str, e: &Entry) {
        if e.status != EntryStatus::Booked {
            self.out.skipped.push(base.to_string());
            return;
        }
        let mut payments = payments_of(base, e);
        let ccy = self.idx.currency_id(&e.currency);
        for p in &mut payments {
            p.ccy = ccy;
        }
        let returned = e.reversal || e.transactions.iter().any(|t| t.return_reason.is_some());
        for p in payments {
            if returned {
                let why = if e.reversal {
                    "reversal entry"
                } else {
                    "returned payment"
                };
                let refs = self.find_refs(&p);
                let cands = refs.iter().map(|&i| self.candidate(i, 90)).collect();
                self.exception(&p, format!("{why}: needs a person"), None, cands);
            } else {
                self.payment(p);
            }
        }
    }

    /// Notes in `lk` what the entry `e` may look up: the reference keys of its texts, its
    /// payer, its amount (see [`super::lookups`]). Needs no open items.
    pub fn wanted(&self, base: &str, e: &Entry, lk: &mut super::Lookups) {
        if e.status != EntryStatus::Booked {
            return;
        }
        for p in payments_of(base, e) {
            for t in &p.texts {
                reference::candidate_keys(t, |k| {
                    if !lk.keys.contains(k) {
                        lk.keys.insert(k.to_string());
                    }
                });
            }
            if let Some((c, _)) = self.payer(&p) {
                lk.customers
                    .insert(self.idx.customer_ids[c as usize].clone());
            }
            lk.amounts.insert(p.amount.normalize());
        }
    }

    fn kind(p: &Payment<'_>) -> ItemKind {
        match p.direction {
            Direction::Credit => ItemKind::Receivable,
            Direction::Debit => ItemKind::Payable,
        }
    }

    fn usable(&self, i: u32, p: &Payment<'_>) -> bool {
        self.remaining[i as usize] > Decimal::ZERO
            && self.idx.currency_of_item[i as usize] == p.ccy
            && self.items[i as usize].kind == Self::kind(p)
    }

    fn payer(&self, p: &Payment<'_>) -> Option<(u32, PayerHow)> {
        if let Some(a) = p.account.map(norm_account).filter(|a| !a.is_empty()) {
            if let Some(c) = self.idx.learned.get(&a) {
                return Some((*c, PayerHow::Learned));
            }
            if let Some(c) = self.idx.by_account.get(&a) {
                return Some((*c, PayerHow::Account));
            }
        }
        let name = p.name?;
        let scored = self.idx.by_name(name, self.cfg.name_threshold);
        match scored.as_slice() {
            [(c, s)] => Some((*c, PayerHow::Name(*s))),
            [(c, s), (_, s2), ..] if s > s2 => Some((*c, PayerHow::Name(*s))),
            _ => None,
        }
    }

    fn find_refs(&self, p: &Payment<'_>) -> Vec<u32> {
        let mut found: Vec<u32> = Vec::new();
        for t in &p.texts {
            reference::candidate_keys(t, |k| {
                if let Some(v) = self.idx.by_key.get(k) {
                    found.extend(v.iter().copied().filter(|&i| self.usable(i, p)));
                }
            });
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    fn discount(&self, i: u32, date: Option<NaiveDate>) -> Decimal {
        let it = &self.items[i as usize];
        let (Some(d), pct) = (date, it.terms.discount_percent) else {
            return Decimal::ZERO;
        };
        if pct <= Decimal::ZERO || it.terms.discount_days == 0 {
            return Decimal::ZERO;
        }
        let deadline = it.issue_date
            + chrono::Days::new(u64::from(
                it.terms.discount_days + self.cfg.discount_grace_days,
            ));
        if d > deadline {
            return Decimal::ZERO;
        }
        (self.remaining[i as usize] * pct / Decimal::ONE_HUNDRED).round_dp(2)
    }

    fn is_fee(&self, short: Decimal, base: Decimal, charges: Option<Decimal>) -> bool {
        short > Decimal::ZERO
            && (charges == Some(short)
                || (short <= self.cfg.max_fee && short * Decimal::from(20) <= base))
    }

    /// The remittance advices the `advice` rule tries first.
    pub fn set_advices(&mut self, advices: &'a [super::Advice]) {
        self.advices = advices;
        self.advice_used = vec![false; advices.len()];
    }

    fn payment(&mut self, p: Payment<'_>) {
        if p.direction == Direction::Credit && self.by_advice(&p) {
            return;
        }
        let payer = self.payer(&p);
        let mut refs = self.find_refs(&p);
        if let Some((c, how)) = payer {
            let own: Vec<u32> = refs
                .iter()
                .copied()
                .filter(|&i| self.idx.customer_of_item[i as usize] == c)
                .collect();
            if !own.is_empty() {
                refs = own;
            } else if !refs.is_empty() && matches!(how, PayerHow::Account | PayerHow::Learned) {
                // The text names someone else's invoice (a typo, or paying for a sister
                // company): trust the account, and show the named invoices if nothing fits.
                let foreign: Vec<Candidate> = refs.iter().map(|&i| self.candidate(i, 60)).collect();
                self.by_payer(&p, (c, how), foreign);
                return;
            }
        }
        if !refs.is_empty() {
            self.by_reference(&p, refs, payer);
        } else if let Some(payer) = payer {
            self.by_payer(&p, payer, Vec::new());
        } else {
            let cands = self.amount_candidates(&p);
            self.exception(&p, "no reference and payer unknown".into(), None, cands);
        }
    }

    fn by_reference(
        &mut self,
        p: &Payment<'_>,
        mut refs: Vec<u32>,
        payer: Option<(u32, PayerHow)>,
    ) {
        refs.sort_by(|a, b| {
            let (x, y) = (&self.items[*a as usize], &self.items[*b as usize]);
            (x.due_date, &x.number).cmp(&(y.due_date, &y.number))
        });
        let a = p.amount;
        let total: Decimal = refs.iter().map(|&i| self.remaining[i as usize]).sum();
        let nums = self.numbers(&refs);
        let diff = a - total;
        let disc: Decimal = refs.iter().map(|&i| self.discount(i, p.date)).sum();
        let cfg = self.cfg;
        let full = |s: &Self| {
            refs.iter()
                .map(|&i| (i, s.remaining[i as usize]))
                .collect::<Vec<_>>()
        };
        let single: Vec<u32> = if refs.len() > 1 {
            refs.iter()
                .copied()
                .filter(|&i| self.remaining[i as usize] == a)
                .collect()
        } else {
            Vec::new()
        };
        if let [i] = single.as_slice() {
            let n = self.items[*i as usize].number.clone();
            self.matched(
                p,
                payer,
                vec![(*i, a)],
                None,
                None,
                Rule::Reference,
                95,
                format!("text names {nums}; amount equals the open amount of {n}"),
            );
        } else if diff.is_zero() {
            let allocs = full(self);
            self.matched(
                p,
                payer,
                allocs,
                None,
                None,
                Rule::Reference,
                99,
                format!("reference to {nums} found, amount equals the open amount"),
            );
        } else if disc > Decimal::ZERO && a == total - disc {
            let allocs = full(self);
            let wo = WriteOff {
                account: cfg.discount_account.clone(),
                amount: disc,
            };
            self.matched(
                p,
                payer,
                allocs,
                Some(wo),
                None,
                Rule::ReferenceDiscount,
                95,
                format!(
                    "reference to {nums}, paid open amount minus early-payment discount {disc}"
                ),
            );
        } else if diff.abs() <= cfg.tolerance {
            let allocs = full(self);
            let wo = WriteOff {
                account: cfg.writeoff_account.clone(),
                amount: -diff,
            };
            self.matched(
                p,
                payer,
                allocs,
                Some(wo),
                None,
                Rule::ReferenceTolerance,
                90,
                format!(
                    "reference to {nums}, difference {} within tolerance {}",
                    -diff, cfg.tolerance
                ),
            );
        } else if self.is_fee(-diff, total, p.charges) {
            let allocs = full(self);
            let wo = WriteOff {
                account: cfg.fee_account.clone(),
                amount: -diff,
            };
            self.matched(
                p,
                payer,
                allocs,
                Some(wo),
                None,
                Rule::ReferenceFee,
                85,
                format!("reference to {nums}, short by {} taken as bank fees", -diff),
            );
        } else if let (true, Some(sub)) = (
            refs.len() > 1 && diff < Decimal::ZERO,
            self.unique_subset(&refs, a),
        ) {
            let allocs: Vec<(u32, Decimal)> = sub
                .iter()
                .map(|&i| (i, self.remaining[i as usize]))
                .collect();
            let paid = self.numbers(&sub);
            self.matched(
                p,
                payer,
                allocs,
                None,
                None,
                Rule::ReferenceSubset,
                90,
                format!("text names {nums}; amount pays exactly {paid}"),
            );
        } else if let Some((i, payer)) = payer.and_then(|(c, how)| {
            let open: Vec<u32> = self.idx.by_customer[c as usize]
                .iter()
                .copied()
                .filter(|&i| self.usable(i, p))
                .collect();
            self.fuzzy_ref(p, &open)
                .filter(|&i| self.remaining[i as usize] == a)
                .map(|i| (i, (c, how)))
        }) {
            let n = self.items[i as usize].number.clone();
            self.matched(
                p,
                Some(payer),
                vec![(i, a)],
                None,
                None,
                Rule::ReferenceFuzzy,
                80,
                format!(
                    "text names {nums} but the amount equals {n}, one typo away, of the same payer"
                ),
            );
        } else if payer.is_none() {
            let cands = refs.iter().map(|&i| self.candidate(i, 70)).collect();
            self.exception(p, format!("reference to {nums} found but the amount differs by {diff} and the payer is unknown"), None, cands);
        } else if let (true, Some(payer)) = (diff > Decimal::ZERO, payer) {
            self.overpaid(p, &refs, payer, diff, &nums);
        } else {
            let mut left = a;
            let mut allocs = Vec::new();
            for &i in &refs {
                if left <= Decimal::ZERO {
                    break;
                }
                let take = left.min(self.remaining[i as usize]);
                allocs.push((i, take));
                left -= take;
            }
            self.matched(
                p,
                payer,
                allocs,
                None,
                None,
                Rule::ReferencePartial,
                80,
                format!("reference to {nums}, partial payment of {a} against {total} open"),
            );
        }
    }

    /// The text names `refs` (of a known payer) and the amount exceeds their open total by
    /// `excess`, beyond the tolerance. Booked automatically only when something explains the
    /// excess: other open invoices of the same customer that a weak reference in the text
    /// points at and the amount confirms (`reference_weak`), or that the excess equals
    /// without any text (`reference_open_items`, one invoice or a unique set of at most
    /// `max_subset`); or when it is small enough to keep as customer credit
    /// (`max_auto_credit`, `max_auto_credit_share`). Otherwise an exception with the named
    /// invoices as the top candidates.
    fn overpaid(
        &mut self,
        p: &Payment<'_>,
        refs: &[u32],
        payer: (u32, PayerHow),
        excess: Decimal,
        nums: &str,
    ) {
        let named = |s: &Self| {
            refs.iter()
                .map(|&i| (i, s.remaining[i as usize]))
                .collect::<Vec<_>>()
        };
        let weaker = if matches!(payer.1, PayerHow::Name(_)) {
            5
        } else {
            0
        };
        // The customer whose other invoices may explain the excess: the one the named
        // invoices belong to (the payer's own, when it is known by account).
        let Some(&first) = refs.first() else {
            // (Not reached: only called with the invoices the text names.)
            let reason = format!("overpaid by {excess} and no invoice named");
            self.exception(p, reason, Some(payer.0), Vec::new());
            return;
        };
        let cust = self.idx.customer_of_item[first as usize];
        let one_customer = refs
            .iter()
            .all(|&i| self.idx.customer_of_item[i as usize] == cust);
        let pool: Vec<u32> = if one_customer {
            self.idx.by_customer[cust as usize]
                .iter()
                .copied()
                .filter(|&i| self.usable(i, p) && !refs.contains(&i))
                .collect()
        } else {
            Vec::new()
        };
        let weak = self.weak_refs(p, &pool);
        if let Some(extra) = self.explains(&weak, excess) {
            let mut allocs = named(self);
            allocs.extend(extra.iter().map(|&i| (i, self.remaining[i as usize])));
            let more = self.numbers(&extra);
            self.matched(
                p,
                Some(payer),
                allocs,
                None,
                None,
                Rule::ReferenceWeak,
                80 - weaker,
                format!(
                    "reference to {nums}, overpaid by {excess}: the text also names {more} in a \
                     weak form and the amount equals it"
                ),
            );
            return;
        }
        let single: Vec<u32> = pool
            .iter()
            .copied()
            .filter(|&i| self.remaining[i as usize] == excess)
            .collect();
        let extra = match single.as_slice() {
            [i] => Some(vec![*i]),
            [] => self.unique_subset(&pool, excess),
            _ => None,
        };
        if let Some(extra) = extra {
            let mut allocs = named(self);
            allocs.extend(extra.iter().map(|&i| (i, self.remaining[i as usize])));
            let more = self.numbers(&extra);
            self.matched(
                p,
                Some(payer),
                allocs,
                None,
                None,
                Rule::ReferenceOpenItems,
                75 - weaker,
                format!(
                    "reference to {nums}, overpaid by {excess}: the excess equals the open \
                     amount of {more} of the same customer"
                ),
            );
            return;
        }
        if self.cfg.credit_allowed(excess, p.amount) {
            let allocs = named(self);
            self.matched(
                p,
                Some(payer),
                allocs,
                None,
                Some(excess),
                Rule::ReferenceOverpayment,
                85,
                format!("reference to {nums}, overpaid by {excess}: kept as customer credit"),
            );
            return;
        }
        let mut cands: Vec<Candidate> = refs.iter().map(|&i| self.candidate(i, 85)).collect();
        cands.extend(weak.iter().map(|&i| self.candidate(i, 60)));
        cands.extend(single.iter().map(|&i| self.candidate(i, 55)));
        let why = if single.len() > 1 {
            format!(
                "{} other open invoices of the customer have that amount",
                single.len()
            )
        } else {
            "no other open invoice of the customer explains it".to_string()
        };
        self.exception(
            p,
            format!(
                "reference to {nums}, overpaid by {excess}: more than may be kept as credit \
                 without a person (max_auto_credit {}, max_auto_credit_share {} %) and {why}",
                self.cfg.max_auto_credit, self.cfg.max_auto_credit_share
            ),
            Some(cust),
            cands,
        );
    }

    /// The items of `pool` a weak reference in the payment's texts points at (see
    /// [`reference::weak_keys`]); they count only when the amount confirms them.
    fn weak_refs(&self, p: &Payment<'_>, pool: &[u32]) -> Vec<u32> {
        let mut runs: Vec<&str> = Vec::new();
        for t in &p.texts {
            reference::digit_runs(t, |r| runs.push(r));
        }
        if runs.is_empty() {
            return Vec::new();
        }
        pool.iter()
            .copied()
            .filter(|&i| {
                reference::weak_keys(&self.items[i as usize].number)
                    .iter()
                    .any(|k| runs.contains(&k.as_str()))
            })
            .collect()
    }

    /// The one item of `cands` whose open amount is `target`, or else the unique subset of
    /// them (at most `max_subset`) that sums to it.
    fn explains(&self, cands: &[u32], target: Decimal) -> Option<Vec<u32>> {
        if cands.is_empty() {
            return None;
        }
        let single: Vec<u32> = cands
            .iter()
            .copied()
            .filter(|&i| self.remaining[i as usize] == target)
            .collect();
        match single.as_slice() {
            [i] => Some(vec![*i]),
            [] => self.unique_subset(cands, target),
            _ => None,
        }
    }

    fn amount_candidates(&self, p: &Payment<'_>) -> Vec<Candidate> {
        let Some(v) = self.idx.by_amount.get(&p.amount.normalize()) else {
            return Vec::new();
        };
        v.iter()
            .copied()
            .filter(|&i| self.usable(i, p) && self.remaining[i as usize] == p.amount)
            .take(20)
            .map(|i| {
                let c = self.idx.customer_of_item[i as usize] as usize;
                let name = p
                    .name
                    .map(|n| {
                        super::names::score_tokens(
                            &super::names::tokens(n),
                            &self.idx.name_tokens[c],
                        )
                    })
                    // A payment without a payer name earns no name points.
                    .unwrap_or(0);
                self.candidate(i, 30 + name / 4)
            })
            .collect()
    }

    fn numbers(&self, v: &[u32]) -> String {
        v.iter()
            .map(|&i| self.items[i as usize].number.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn candidate(&self, i: u32, score: u8) -> Candidate {
        let it = &self.items[i as usize];
        Candidate {
            invoice: it.number.clone(),
            customer_id: it.customer_id.clone(),
            amount_open: self.remaining[i as usize],
            score,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn matched(
        &mut self,
        p: &Payment<'_>,
        payer: Option<(u32, PayerHow)>,
        allocs: Vec<(u32, Decimal)>,
        writeoff: Option<WriteOff>,
        credit: Option<Decimal>,
        rule: Rule,
        confidence: u8,
        reason: String,
    ) {
        let cust = allocs
            .first()
            .map(|(i, _)| self.idx.customer_of_item[*i as usize])
            .or(payer.map(|p| p.0));
        if confidence < self.cfg.min_confidence {
            let cands = allocs
                .iter()
                .map(|(i, _)| self.candidate(*i, confidence))
                .collect();
            self.exception(
                p,
                format!("below minimum confidence: {} ({reason})", rule.name()),
                cust,
                cands,
            );
            return;
        }
        let mut out = Vec::with_capacity(allocs.len());
        for (i, amt) in allocs {
            self.remaining[i as usize] -= amt;
            out.push(Allocation {
                invoice: self.items[i as usize].number.clone(),
                amount: amt,
                remains_open: self.remaining[i as usize] > Decimal::ZERO,
            });
        }
        if let (Some(acct), Some(c)) = (p.account, cust) {
            let a = norm_account(acct);
            if !a.is_empty()
                && !self.idx.by_account.contains_key(&a)
                && !self.idx.learned.contains_key(&a)
            {
                self.learned
                    .insert((a, self.idx.customer_ids[c as usize].clone()));
            }
        }
        self.out.matches.push(Match {
            entry_ref: p.eref.clone(),
            amount: p.amount,
            currency: p.currency.to_string(),
            customer_id: cust.map(|c| self.idx.customer_ids[c as usize].clone()),
            allocations: out,
            writeoff,
            credit,
            rule,
            reason,
            confidence,
            advice: None,
        });
    }

    fn exception(
        &mut self,
        p: &Payment<'_>,
        reason: String,
        cust: Option<u32>,
        mut cands: Vec<Candidate>,
    ) {
        cands.sort_by(|a, b| {
            b.score
                .cmp(&a.score)
                .then_with(|| a.invoice.cmp(&b.invoice))
        });
        cands.dedup_by(|a, b| a.invoice == b.invoice);
        cands.truncate(5);
        self.out.exceptions.push(Exception {
            entry_ref: p.eref.clone(),
            amount: p.amount,
            currency: p.currency.to_string(),
            direction: p.direction,
            reason,
            customer_id: cust.map(|c| self.idx.customer_ids[c as usize].clone()),
            candidates: cands,
            advice: None,
        });
    }
}
