//! Posting: a connector's [`Posting`] → the posting rule's lines → checked → one journal entry
//! in the step's transaction. The balance is enforced twice: here, as a `Decimal` sum before
//! anything is written (the error names the rule), and by the database's insert trigger.

use super::{Chart, to_e4};
use crate::store::Tx;
use crate::store::journal::{JournalEntry, JournalLine};
use chrono::{Datelike, NaiveDate};
use ordo_contract::ledger::{Posted, Posting};
use ordo_contract::{StepError, excerpt};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// The posting rule's name (`rules/posting.rhai`).
pub const RULE: &str = "posting";

/// Most lines one entry may have (a rule that loops wildly fails its step instead).
const MAX_LINES: usize = 1000;

/// `YYYY-MM` of a date.
pub fn period_of(d: NaiveDate) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

/// The period after `p` (`2026-12` → `2027-01`); `None` for a malformed one.
pub fn next_period(p: &str) -> Option<String> {
    let first = NaiveDate::parse_from_str(&format!("{p}-01"), "%Y-%m-%d").ok()?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    Some(period_of(next))
}

/// Checks a `YYYY-MM` period given by a person.
pub fn parse_period(p: &str) -> Result<String, String> {
    let ok = p.len() == 7
        && NaiveDate::parse_from_str(&format!("{p}-01"), "%Y-%m-%d")
            .is_ok_and(|d| period_of(d) == p);
    if ok {
        Ok(p.to_string())
    } else {
        Err(format!(
            "period '{}' is not YYYY-MM (e.g. 2026-03)",
            excerpt(p, 20)
        ))
    }
}

/// The rule's output, checked: accounts in the chart, amounts positive with at most four
/// decimals, debits equal to credits. `who` names the rule and the event for messages.
pub fn entry_lines(
    chart: &Chart,
    out: &Map<String, Value>,
    who: &str,
) -> Result<Vec<JournalLine>, String> {
    let lines = out
        .get("lines")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("{who}: the rule returned no `lines` list"))?;
    if lines.len() > MAX_LINES {
        return Err(format!("{who}: {} lines; at most {MAX_LINES}", lines.len()));
    }
    let (mut debit, mut credit) = (Decimal::ZERO, Decimal::ZERO);
    let mut out_lines = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let at = format!("{who}: lines[{i}]");
        let o = l.as_object().ok_or_else(|| format!("{at}: not a map"))?;
        if let Some(k) = o
            .keys()
            .find(|k| !matches!(k.as_str(), "account" | "debit" | "credit" | "memo"))
        {
            return Err(format!(
                "{at}: unknown key '{}' (account, debit or credit, memo)",
                excerpt(k, 40)
            ));
        }
        let account = o
            .get("account")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{at}: `account` must be an account number text"))?;
        if chart.account(account).is_none() {
            return Err(format!(
                "{at}: account '{}' is not in {}",
                excerpt(account, 40),
                chart.path
            ));
        }
        let amount = |k: &str| -> Result<Option<Decimal>, String> {
            match o.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n
                    .as_str()
                    .parse::<Decimal>()
                    .or_else(|_| Decimal::from_scientific(n.as_str()))
                    .map(Some)
                    .map_err(|e| format!("{at}: {k} {}: {e}", excerpt(n.as_str(), 40))),
                Some(v) => Err(format!(
                    "{at}: {k} must be a number, not {}",
                    excerpt(&v.to_string(), 40)
                )),
            }
        };
        let (d, c) = (amount("debit")?, amount("credit")?);
        let signed = match (d, c) {
            (Some(d), None) if d >= Decimal::ZERO => d,
            (None, Some(c)) if c >= Decimal::ZERO => -c,
            (Some(_), Some(_)) | (None, None) => {
                return Err(format!("{at}: give either debit or credit"));
            }
            _ => {
                return Err(format!(
                    "{at}: amounts are not negative (swap debit and credit)"
                ));
            }
        };
        let e4 = to_e4(signed).map_err(|e| format!("{at}: {e}"))?;
        let too_big = || format!("{who}: the amounts overflow");
        if signed > Decimal::ZERO {
            debit = debit.checked_add(signed).ok_or_else(too_big)?;
        } else {
            credit = credit.checked_sub(signed).ok_or_else(too_big)?;
        }
        if e4 == 0 {
            // A zero line (no tax at reverse charge) is no line.
            continue;
        }
        let memo = match o.get("memo") {
            None | Some(Value::Null) => None,
            Some(Value::String(m)) => Some(excerpt(m, 120)),
            Some(_) => return Err(format!("{at}: memo must be text")),
        };
        out_lines.push(JournalLine {
            account: account.to_string(),
            amount_e4: e4,
            memo,
        });
    }
    if debit != credit {
        return Err(format!(
            "{who}: the entry does not balance: debits {debit} ≠ credits {credit}"
        ));
    }
    Ok(out_lines)
}

/// The rule's input `event`: the posting's identity and its facts side by side.
fn rule_input(p: &Posting, currency: &str) -> Value {
    let mut event = match &p.facts {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    event.insert("kind".into(), p.kind.into());
    event.insert("source".into(), p.source.clone().into());
    event.insert("date".into(), p.date.to_string().into());
    event.insert("currency".into(), currency.into());
    for (k, v) in [
        ("customer", &p.customer),
        ("order_id", &p.order_id),
        ("invoice", &p.invoice),
    ] {
        event.insert(k.into(), v.clone().map_or(Value::Null, Value::String));
    }
    Value::Object(event)
}

fn store_failure(e: crate::store::StoreError) -> StepError {
    if e.is_transient() {
        StepError::Transient(format!("ledger: {e}"))
    } else {
        StepError::Permanent(format!("ledger: {e}"))
    }
}

/// Posts `p` in `tx`: the step's own transaction. `None` when no chart is configured.
pub async fn post(
    tx: &mut dyn Tx,
    engine: &crate::runtime::Engine,
    p: &Posting,
    now_ms: i64,
) -> Result<Option<Posted>, StepError> {
    let Some(chart) = engine.ledger.as_deref() else {
        return Ok(None);
    };
    let defs = engine.defs();
    let rule = defs.rules.get(RULE).ok_or_else(|| {
        StepError::Permanent(format!(
            "the ledger is kept ({}) but rules/{RULE}.rhai is not loaded",
            chart.path
        ))
    })?;
    let what = format!("{} {}", p.kind, excerpt(&p.source, 60));
    let who = format!("posting rule {} for {what}", rule.path);
    let currency = match &p.currency {
        Some(c) if *c != chart.currency => {
            return Err(StepError::Permanent(format!(
                "ledger: {what} is in {}, the ledger keeps {} ({}): foreign currencies are not posted",
                excerpt(c, 8),
                chart.currency,
                chart.path
            )));
        }
        _ => chart.currency.as_str(),
    };
    let mut inputs = Map::new();
    inputs.insert("event".into(), rule_input(p, currency));
    let decision = engine
        .rules
        .evaluate(rule, &inputs)
        .map_err(|e| StepError::Permanent(format!("{who}: {e}")))?;
    let lines = entry_lines(chart, &decision.values, &who).map_err(StepError::Permanent)?;
    if lines.is_empty() {
        // Nothing to post (an invoice of 0.00).
        return Ok(None);
    }
    // The event's period, or the first open one after it when it is closed. The list cannot
    // change before this step commits (SQLite: the only writer; PostgreSQL: read under the
    // hot-rows lock a close takes too), and it is read once per transaction, not per posting.
    let own = period_of(p.date);
    let closed = tx.closed_periods().await.map_err(store_failure)?;
    let mut period = own.clone();
    while closed.binary_search(&period).is_ok() {
        period = next_period(&period)
            .ok_or_else(|| StepError::Permanent(format!("ledger: no open period after {own}")))?;
    }
    let number = tx
        .next_number(&format!("journal:{period}"))
        .await
        .map_err(store_failure)?;
    let (entry_date, note) = if period == own {
        (p.date.to_string(), None)
    } else {
        let note = format!(
            "posted into {period}: {own} is closed (event of {})",
            p.date
        );
        tracing::info!("{what}: {note}");
        (format!("{period}-01"), Some(note))
    };
    let entry = JournalEntry {
        period: period.clone(),
        number,
        entry_date,
        event: p.kind.to_string(),
        source: p.source.clone(),
        currency: currency.to_string(),
        rule: format!("{}@{}", rule.path, &rule.hash[..12.min(rule.hash.len())]),
        order_id: p.order_id.clone(),
        invoice: p.invoice.clone(),
        customer: p.customer.clone(),
        note: note.clone(),
        lines,
    };
    tx.insert_entry(&entry, now_ms)
        .await
        .map_err(store_failure)?;
    Ok(Some(Posted {
        entry: format!("{period}/{number:06}"),
        note,
    }))
}
