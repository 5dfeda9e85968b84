//! The per-statement reconciliation report (matched, partially matched, exceptions, totals),
//! as a serialisable struct for JSON and as CSV with one line per payment.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::matcher::{Match, ReconResult, Rule};
use crate::model::{Direction, Statement};

/// Totals for one statement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementReport {
    pub statement_id: String,
    pub account: String,
    pub currency: String,
    /// Payments considered (an entry, or each transaction of a batched entry).
    pub payments: usize,
    pub matched: usize,
    /// Matched, but at least one invoice stays open (partial payment).
    pub partially_matched: usize,
    pub exceptions: usize,
    /// Entries not considered (pending / information only).
    pub skipped: usize,
    pub credits: Decimal,
    pub debits: Decimal,
    pub allocated: Decimal,
    pub written_off: Decimal,
    pub customer_credit: Decimal,
    pub unmatched: Decimal,
    pub by_rule: BTreeMap<String, usize>,
}

impl StatementReport {
    /// Adds the totals of `part`, the report of a later chunk of the same statement's entries
    /// (a large statement is reconciled in chunks, one transaction each). `None` when a sum
    /// leaves the range of a decimal or a count overflows: the caller names the statement.
    pub fn absorb(&mut self, part: &StatementReport) -> Option<()> {
        self.payments = self.payments.checked_add(part.payments)?;
        self.matched = self.matched.checked_add(part.matched)?;
        self.partially_matched = self.partially_matched.checked_add(part.partially_matched)?;
        self.exceptions = self.exceptions.checked_add(part.exceptions)?;
        self.skipped = self.skipped.checked_add(part.skipped)?;
        self.credits = self.credits.checked_add(part.credits)?;
        self.debits = self.debits.checked_add(part.debits)?;
        self.allocated = self.allocated.checked_add(part.allocated)?;
        self.written_off = self.written_off.checked_add(part.written_off)?;
        self.customer_credit = self.customer_credit.checked_add(part.customer_credit)?;
        self.unmatched = self.unmatched.checked_add(part.unmatched)?;
        for (rule, n) in &part.by_rule {
            let c = self.by_rule.entry(rule.clone()).or_default();
            *c = c.checked_add(*n)?;
        }
        Some(())
    }
}

/// One report per statement, in statement order.
pub fn report(statements: &[Statement], result: &ReconResult) -> Vec<StatementReport> {
    let owners = Owners::new(statements);
    let mut reports: Vec<StatementReport> = Vec::with_capacity(statements.len());
    for stmt in statements {
        let mut r = StatementReport {
            statement_id: stmt.statement_id.clone(),
            account: stmt.account.clone(),
            currency: stmt.currency.clone(),
            ..StatementReport::default()
        };
        for e in &stmt.entries {
            if e.status == crate::model::EntryStatus::Booked {
                match e.direction {
                    Direction::Credit => r.credits += e.amount,
                    Direction::Debit => r.debits += e.amount,
                }
            }
        }
        reports.push(r);
    }
    // Counted per rule, named once per statement at the end.
    let mut by_rule: Vec<BTreeMap<Rule, usize>> = vec![BTreeMap::new(); statements.len()];
    for m in &result.matches {
        if let Some(s) = owners.of(&m.entry_ref)
            && let Some(r) = reports.get_mut(s)
        {
            r.payments += 1;
            r.matched += 1;
            if m.allocations.iter().any(|a| a.remains_open) {
                r.partially_matched += 1;
            }
            r.allocated += m.allocations.iter().map(|a| a.amount).sum::<Decimal>();
            // A match without a write-off or a customer credit adds nothing to those totals.
            r.written_off += m.writeoff.as_ref().map(|w| w.amount).unwrap_or_default();
            r.customer_credit += m.credit.unwrap_or_default();
            *by_rule[s].entry(m.rule).or_default() += 1;
        }
    }
    for (r, counts) in reports.iter_mut().zip(by_rule) {
        for (rule, n) in counts {
            *r.by_rule.entry(rule.name().to_string()).or_default() += n;
        }
    }
    for x in &result.exceptions {
        if let Some(r) = owners.of(&x.entry_ref).and_then(|s| reports.get_mut(s)) {
            r.payments += 1;
            r.exceptions += 1;
            r.unmatched += x.amount;
        }
    }
    for k in &result.skipped {
        if let Some(r) = owners.of(k).and_then(|s| reports.get_mut(s)) {
            r.skipped += 1;
        }
    }
    reports
}

/// Which statement a payment's reference belongs to: the last of `statements` that has an
/// entry `<statement_id>/<n>` or a transaction `<statement_id>/<n>/<t>` of that name (see
/// [`crate::matcher::entry_ref`]), found by parsing the reference instead of keeping a map of
/// every entry's and transaction's reference (two strings per entry of a large statement).
struct Owners<'s> {
    statements: &'s [Statement],
    by_id: HashMap<&'s str, Vec<usize>>,
}

impl<'s> Owners<'s> {
    fn new(statements: &'s [Statement]) -> Self {
        let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
        for (s, stmt) in statements.iter().enumerate() {
            by_id.entry(stmt.statement_id.as_str()).or_default().push(s);
        }
        Owners { statements, by_id }
    }

    fn of(&self, eref: &str) -> Option<usize> {
        let mut best: Option<usize> = None;
        let mut found = |s: usize| best = Some(best.map_or(s, |b| b.max(s)));
        let (head, last) = eref.rsplit_once('/')?;
        let last = ordinal(last)?;
        // `<statement_id>/<n>`
        for &s in self.by_id.get(head).into_iter().flatten() {
            if last <= self.statements[s].entries.len() {
                found(s);
            }
        }
        // `<statement_id>/<n>/<t>`
        if let Some((id, n)) = head.rsplit_once('/')
            && let Some(n) = ordinal(n)
        {
            for &s in self.by_id.get(id).into_iter().flatten() {
                if self.statements[s]
                    .entries
                    .get(n - 1)
                    .is_some_and(|e| last <= e.transactions.len())
                {
                    found(s);
                }
            }
        }
        best
    }
}

/// A 1-based position exactly as `format!("{}", n)` writes it (no sign, no leading zero).
fn ordinal(s: &str) -> Option<usize> {
    if s.is_empty() || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn match_line(out: &mut String, m: &Match) {
    let status = if m.allocations.iter().any(|a| a.remains_open) {
        "partial"
    } else {
        "matched"
    };
    let allocs: Vec<String> = m
        .allocations
        .iter()
        .map(|a| format!("{}={}", a.invoice, a.amount))
        .collect();
    let wo = m
        .writeoff
        .as_ref()
        // Report cell: a match without a write-off leaves it empty.
        .map(|w| format!("{}={}", w.account, w.amount))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{}",
        csv_field(&m.entry_ref),
        m.amount,
        m.currency,
        status,
        m.rule.name(),
        m.confidence,
        // Report cells: an unknown customer and no credit are empty cells.
        csv_field(m.customer_id.as_deref().unwrap_or("")),
        csv_field(&allocs.join(";")),
        csv_field(&wo),
        m.credit.map(|c| c.to_string()).unwrap_or_default(),
        csv_field(&m.reason)
    );
}

/// CSV with a header and one line per payment: matches, then exceptions (with candidates).
pub fn to_csv(result: &ReconResult) -> String {
    let mut out = String::from(
        "entry_ref,amount,currency,status,rule,confidence,customer_id,allocations,writeoff,credit,reason\n",
    );
    for m in &result.matches {
        match_line(&mut out, m);
    }
    for x in &result.exceptions {
        let cands: Vec<String> = x
            .candidates
            .iter()
            .map(|c| format!("{}:{}", c.invoice, c.score))
            .collect();
        let _ = writeln!(
            out,
            "{},{},{},exception,,,{},{},,,{}",
            csv_field(&x.entry_ref),
            x.amount,
            x.currency,
            // Report cell: an exception without a customer leaves it empty.
            csv_field(x.customer_id.as_deref().unwrap_or("")),
            csv_field(&cands.join(";")),
            csv_field(&x.reason)
        );
    }
    out
}

#[cfg(test)]
mod owner_tests {
    use super::*;
    use crate::model::{Entry, Format, TxDetail};

    fn stmt(id: &str, txs: &[usize]) -> Statement {
        let mut s = Statement::new(Format::Camt053);
        s.statement_id = id.to_string();
        for &n in txs {
            let mut e = Entry::new(Decimal::ONE, Direction::Credit, "EUR");
            e.transactions = (0..n).map(|_| TxDetail::default()).collect();
            s.entries.push(e);
        }
        s
    }

    /// The owners `Owners` finds by parsing are those of the map of every entry's and
    /// transaction's reference it replaced (later statements win a shared reference).
    #[test]
    fn owners_by_parsing_equal_the_map_of_every_reference() {
        let stmts = vec![
            stmt("S", &[1, 3]),
            stmt("S/2", &[0, 2, 1]),
            stmt("S", &[1]),
            stmt("T", &[2; 12]),
        ];
        let mut map: HashMap<String, usize> = HashMap::new();
        for (s, st) in stmts.iter().enumerate() {
            for (n, e) in st.entries.iter().enumerate() {
                let base = crate::matcher::entry_ref(st, n);
                for t in 0..e.transactions.len() {
                    map.insert(format!("{base}/{}", t + 1), s);
                }
                map.insert(base, s);
            }
        }
        let owners = Owners::new(&stmts);
        let mut refs: Vec<String> = map.keys().cloned().collect();
        refs.extend(
            [
                "S", "S/", "S/0", "S/02", "S/2/0", "S/2/4", "S/3", "S/2/3/1", "X/1", "T/13",
                "T/12/3", "T/+1", "/1", "", "S/2/2/",
            ]
            .map(String::from),
        );
        for r in &refs {
            assert_eq!(owners.of(r), map.get(r).copied(), "{r:?}");
        }
    }
}
