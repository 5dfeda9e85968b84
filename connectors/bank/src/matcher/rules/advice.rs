//! Rule `advice`, tried before any other on a credit: a received remittance advice of the
//! payer (identified by account, learned account or name), or one whose reference the
//! payment's text carries, whose amount fits the payment within `tolerance`, decides the
//! allocation invoice by invoice, with its deductions. Anything that does not fit as the advice
//! says goes to the exceptions queue with the advice's invoices as the top candidates; a
//! payer's advice whose amount does not fit is simply not this payment's (other rules run).

use rust_decimal::Decimal;

use super::{Payment, State};
use crate::matcher::{
    Advice, AdviceUse, Allocation, Candidate, Deduction, ItemKind, Match, Rule, WriteOff,
};

/// Upper-case letters and digits only: `RA-2026/0001` is found in `ra 2026 0001`.
fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl State<'_> {
    /// True when the payment was decided (matched or queued) by an advice.
    pub(super) fn by_advice(&mut self, p: &Payment<'_>) -> bool {
        if self.advices.is_empty() {
            return false;
        }
        let payer = self
            .payer(p)
            .map(|(c, _)| self.idx.customer_ids[c as usize].clone());
        let texts: Vec<String> = p.texts.iter().map(|t| squash(t)).collect();
        let named = |a: &Advice| {
            let r = squash(&a.reference);
            r.len() >= 4 && texts.iter().any(|t| t.contains(&r))
        };
        let tol = self.cfg.tolerance;
        // (index, named by the text, amount fits)
        let mut cands: Vec<(usize, bool, bool)> = Vec::new();
        for (k, a) in self.advices.iter().enumerate() {
            if self.advice_used[k] || a.currency != p.currency {
                continue;
            }
            let by_text = named(a);
            if !by_text && payer.as_deref() != Some(a.customer_id.as_str()) {
                continue;
            }
            let fits = (a.amount - p.amount).abs() <= tol;
            cands.push((k, by_text, fits));
        }
        let fitting: Vec<(usize, bool)> =
            cands.iter().filter(|c| c.2).map(|c| (c.0, c.1)).collect();
        let named_fit: Vec<usize> = fitting.iter().filter(|c| c.1).map(|c| c.0).collect();
        let chosen = match (named_fit.as_slice(), fitting.as_slice()) {
            ([k], _) => *k,
            ([], [(k, _)]) => *k,
            ([], []) => {
                // An advice the text names but whose amount does not fit: a person decides.
                if let Some(&(k, _, _)) = cands.iter().find(|c| c.1) {
                    let a = &self.advices[k];
                    let why = format!(
                        "remittance advice {} announces {} {}, the payment is {}: beyond the tolerance",
                        a.id, a.amount, a.currency, p.amount
                    );
                    self.advice_exception(p, k, why);
                    return true;
                }
                return false;
            }
            _ => {
                // Several advices fit alike: never a guess.
                let ids: Vec<&str> = fitting
                    .iter()
                    .map(|(k, _)| self.advices[*k].id.as_str())
                    .collect();
                let why = format!(
                    "several remittance advices fit this payment ({}): a person chooses",
                    ids.join(", ")
                );
                self.advice_exception(p, fitting[0].0, why);
                return true;
            }
        };
        self.apply_advice(p, chosen);
        true
    }

    fn apply_advice(&mut self, p: &Payment<'_>, k: usize) {
        let a = &self.advices[k];
        if let Some(why) = &a.blocked {
            let why = format!("remittance advice {}: {why}", a.id);
            self.advice_exception(p, k, why);
            return;
        }
        // Each invoice: open, the advice's customer's, and open for at least what it settles.
        let mut plan: Vec<(u32, Decimal, Decimal)> = Vec::with_capacity(a.invoices.len());
        for inv in &a.invoices {
            let Some(settles) = inv.settles() else {
                let why = format!(
                    "remittance advice {}: invoice {} settles beyond a decimal's range",
                    a.id, inv.number
                );
                self.advice_exception(p, k, why);
                return;
            };
            let key = crate::reference::invoice_keys(&inv.number).0;
            let found = self.idx.by_key.get(&key).and_then(|list| {
                list.iter().copied().find(|&i| {
                    let it = &self.items[i as usize];
                    it.number == inv.number
                        && it.kind == ItemKind::Receivable
                        && it.currency == a.currency
                })
            });
            let Some(i) = found else {
                let why = format!(
                    "remittance advice {}: invoice {} is not an open invoice (unknown, or paid already)",
                    a.id, inv.number
                );
                self.advice_exception(p, k, why);
                return;
            };
            if self.items[i as usize].customer_id != a.customer_id {
                let why = format!(
                    "remittance advice {}: invoice {} is customer {}'s, not {}'s",
                    a.id, inv.number, self.items[i as usize].customer_id, a.customer_id
                );
                self.advice_exception(p, k, why);
                return;
            }
            let already: Decimal = plan
                .iter()
                .filter(|(j, _, _)| *j == i)
                .map(|(_, _, s)| *s)
                .sum();
            if settles + already > self.remaining[i as usize] || settles <= Decimal::ZERO {
                let why = format!(
                    "remittance advice {}: invoice {} has {} open, the advice settles {}",
                    a.id, inv.number, self.remaining[i as usize], settles
                );
                self.advice_exception(p, k, why);
                return;
            }
            plan.push((i, inv.paid, settles));
        }
        let mut allocations = Vec::with_capacity(plan.len());
        let mut deductions: Vec<Deduction> = Vec::new();
        for ((i, paid, settles), inv) in plan.iter().zip(&a.invoices) {
            self.remaining[*i as usize] -= *settles;
            allocations.push(Allocation {
                invoice: inv.number.clone(),
                amount: *paid,
                remains_open: self.remaining[*i as usize] > Decimal::ZERO,
            });
            for d in &inv.deductions {
                deductions.push(Deduction {
                    invoice: inv.number.clone(),
                    ..d.clone()
                });
            }
        }
        // Within the tolerance: the payment's difference to the advice is written off.
        let short = a.amount - p.amount;
        let writeoff = (!short.is_zero()).then(|| WriteOff {
            account: self.cfg.writeoff_account.clone(),
            amount: short,
        });
        self.advice_used[k] = true;
        let n = allocations.len();
        self.out.matches.push(Match {
            entry_ref: p.eref.clone(),
            amount: p.amount,
            currency: p.currency.to_string(),
            customer_id: Some(a.customer_id.clone()),
            allocations,
            writeoff,
            credit: None,
            rule: Rule::Advice,
            reason: format!(
                "remittance advice {} ({n} invoice(s), {} deduction(s))",
                a.id,
                deductions.len()
            ),
            confidence: 98,
            advice: Some(AdviceUse {
                id: a.id.clone(),
                reference: a.reference.clone(),
                deductions,
            }),
        });
    }

    /// The payment to the exceptions queue with the advice's invoices as the top candidates.
    fn advice_exception(&mut self, p: &Payment<'_>, k: usize, why: String) {
        let a = &self.advices[k];
        let cands: Vec<Candidate> = a
            .invoices
            .iter()
            .map(|inv| {
                let open = self
                    .idx
                    .by_key
                    .get(&crate::reference::invoice_keys(&inv.number).0)
                    .and_then(|l| {
                        l.iter()
                            .find(|&&i| self.items[i as usize].number == inv.number)
                    })
                    .map_or(Decimal::ZERO, |&i| self.remaining[i as usize]);
                Candidate {
                    invoice: inv.number.clone(),
                    customer_id: a.customer_id.clone(),
                    amount_open: open,
                    score: 99,
                }
            })
            .collect();
        let cust = self.idx.customer_pos.get(&a.customer_id).copied();
        let id = a.id.clone();
        self.exception(p, why, cust, cands);
        if let Some(e) = self.out.exceptions.last_mut() {
            e.advice = Some(id);
        }
    }
}
