//! Demand history: dated quantities (a user's `date,quantity` file, or shipments) summed into
//! weeks (ISO, from Monday) or calendar months, oldest first.
//!
//! Periods between the first and the last row that have no row are handled by [`Gaps`]: a
//! store's shipments are the complete record, so a period without any had no demand
//! ([`Gaps::Zero`]); a file brought from another system may simply lack the rows, so there a
//! missing period is refused, naming it and the line of the row after it ([`Gaps::Refuse`];
//! a row with quantity 0 states a period without demand).

use chrono::{Datelike, Duration, Months, NaiveDate};
use rust_decimal::Decimal;
use std::str::FromStr;

/// Rows a history file may hold.
pub const MAX_ROWS: usize = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Week,
    Month,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        match s {
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// Periods per season.
    pub fn season(self) -> usize {
        match self {
            Period::Week => 52,
            Period::Month => 12,
        }
    }

    /// Days in a period, for lead times (a month counted as 30 days).
    pub fn days(self) -> u32 {
        match self {
            Period::Week => 7,
            Period::Month => 30,
        }
    }

    /// The first day of the period holding `d`.
    pub fn start(self, d: NaiveDate) -> NaiveDate {
        match self {
            Period::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
            Period::Month => d.with_day(1).unwrap_or(d),
        }
    }

    /// The first day of the period after the one starting at `start` (`None` past year 262143).
    pub fn next(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Period::Week => start.checked_add_signed(Duration::days(7)),
            Period::Month => start.checked_add_months(Months::new(1)),
        }
    }
}

/// A dated quantity and where it came from (e.g. `history.csv:12:7`, `shipment SH-000004`).
#[derive(Debug, Clone, PartialEq)]
pub struct Dated {
    pub date: NaiveDate,
    pub quantity: Decimal,
    pub at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gaps {
    Zero,
    Refuse,
}

/// Per-period sums from `start` on.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub start: NaiveDate,
    pub period: Period,
    pub quantities: Vec<Decimal>,
}

impl History {
    /// The start of each period `k` periods after the last one, k = 1..=h.
    pub fn future(&self, h: usize) -> Vec<NaiveDate> {
        let mut d = self.start;
        let mut out = Vec::with_capacity(h);
        // From the first period to the last one (len − 1 steps), then h more.
        for k in 1..self.quantities.len() + h {
            match self.period.next(d) {
                Some(n) => d = n,
                None => break,
            }
            if k >= self.quantities.len() {
                out.push(d);
            }
        }
        out
    }
}

/// A located problem with a history.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{at}: {message}")]
pub struct HistoryError {
    pub at: String,
    pub message: String,
}

fn err(at: &str, message: impl Into<String>) -> HistoryError {
    HistoryError {
        at: at.to_string(),
        message: message.into(),
    }
}

/// Sums `rows` into periods. Negative quantities are refused (a return is not negative demand
/// of the period it came back in); so are more than [`crate::MAX_PERIODS`] periods.
pub fn bucket(rows: &[Dated], period: Period, gaps: Gaps) -> Result<History, HistoryError> {
    let mut sorted: Vec<&Dated> = rows.iter().collect();
    sorted.sort_by_key(|r| r.date);
    let first = sorted.first().ok_or_else(|| err("history", "no rows"))?;
    let start = period.start(first.date);
    let mut quantities = vec![Decimal::ZERO];
    let mut current = start;
    for r in sorted {
        if r.quantity.is_sign_negative() && !r.quantity.is_zero() {
            return Err(err(&r.at, format!("negative quantity {}", r.quantity)));
        }
        let p = period.start(r.date);
        while current < p {
            let next = period
                .next(current)
                .ok_or_else(|| err(&r.at, "date out of range"))?;
            if next < p && gaps == Gaps::Refuse {
                return Err(err(
                    &r.at,
                    format!(
                        "no row for the {} of {next} (the history has a gap before {}; a row with quantity 0 states a period without demand)",
                        period.name(),
                        r.date
                    ),
                ));
            }
            current = next;
            quantities.push(Decimal::ZERO);
            if quantities.len() > crate::MAX_PERIODS {
                return Err(err(
                    &r.at,
                    format!("more than {} periods", crate::MAX_PERIODS),
                ));
            }
        }
        let last = quantities
            .last_mut()
            .ok_or_else(|| err(&r.at, "no period"))?;
        *last = last
            .checked_add(r.quantity)
            .ok_or_else(|| err(&r.at, "the period's total overflows"))?;
    }
    Ok(History {
        start,
        period,
        quantities,
    })
}

/// Parses a `date,quantity` file (`YYYY-MM-DD`, a decimal quantity; an optional header line
/// `date,quantity`; blank lines skipped). Every bad row is reported `path:line:col: message`.
pub fn parse_csv(path: &str, text: &str) -> Result<Vec<Dated>, Vec<HistoryError>> {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.strip_suffix('\r').unwrap_or(raw);
        if l.trim().is_empty() {
            continue;
        }
        if line == 1 && l.trim().eq_ignore_ascii_case("date,quantity") {
            continue;
        }
        if rows.len() >= MAX_ROWS {
            errors.push(err(
                &format!("{path}:{line}:1"),
                format!("more than {MAX_ROWS} rows"),
            ));
            break;
        }
        let at = |col: usize| format!("{path}:{line}:{col}");
        let Some((d, q)) = l.split_once(',') else {
            errors.push(err(&at(1), "expected date,quantity"));
            continue;
        };
        let qcol = d.chars().count() + 2;
        if q.contains(',') {
            errors.push(err(&at(qcol), "expected two fields: date,quantity"));
            continue;
        }
        let date = match NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d") {
            Ok(date) => date,
            Err(_) => {
                let shown: String = d.chars().take(40).collect();
                errors.push(err(&at(1), format!("'{shown}' is not a date YYYY-MM-DD")));
                continue;
            }
        };
        let quantity = match Decimal::from_str(q.trim()) {
            Ok(v) if v.is_sign_negative() && !v.is_zero() => {
                errors.push(err(&at(qcol), format!("negative quantity {v}")));
                continue;
            }
            Ok(v) => v,
            Err(_) => {
                let shown: String = q.chars().take(40).collect();
                errors.push(err(&at(qcol), format!("'{shown}' is not a quantity")));
                continue;
            }
        };
        rows.push(Dated {
            date,
            quantity,
            at: at(1),
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn rows_sum_into_iso_weeks_and_months() {
        let rows = parse_csv(
            "h.csv",
            "date,quantity\n2026-01-05,3\n2026-01-11,2\n2026-01-12,4\n2026-02-01,1\n",
        )
        .unwrap();
        let w = bucket(&rows, Period::Week, Gaps::Zero).unwrap();
        assert_eq!(w.start, d("2026-01-05"));
        assert_eq!(w.quantities, vec![dec!(5), dec!(4), dec!(0), dec!(1)]);
        let m = bucket(&rows, Period::Month, Gaps::Refuse).unwrap();
        assert_eq!(m.quantities, vec![dec!(9), dec!(1)]);
        assert_eq!(m.future(2), vec![d("2026-03-01"), d("2026-04-01")]);
    }

    #[test]
    fn a_gap_in_a_file_is_refused_with_its_line() {
        let rows = parse_csv("h.csv", "2026-01-15,3\n2026-03-02,2\n").unwrap();
        let e = bucket(&rows, Period::Month, Gaps::Refuse).unwrap_err();
        assert_eq!(e.at, "h.csv:2:1");
        assert!(e.message.contains("month of 2026-02-01"), "{e}");
        // The store's record is complete: the same gap is a month without demand.
        let h = bucket(&rows, Period::Month, Gaps::Zero).unwrap();
        assert_eq!(h.quantities, vec![dec!(3), dec!(0), dec!(2)]);
    }

    #[test]
    fn bad_rows_are_located() {
        let text = "date,quantity\n2026-13-01,3\n2026-01-01,-2\n2026-01-02,abc\nnonsense\n2026-01-03,1,2\n";
        let e = parse_csv("in/h.csv", text).unwrap_err();
        let shown: Vec<String> = e.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            vec![
                "in/h.csv:2:1: '2026-13-01' is not a date YYYY-MM-DD",
                "in/h.csv:3:12: negative quantity -2",
                "in/h.csv:4:12: 'abc' is not a quantity",
                "in/h.csv:5:1: expected date,quantity",
                "in/h.csv:6:12: expected two fields: date,quantity",
            ]
        );
    }

    #[test]
    fn negative_rows_and_empty_histories_are_refused() {
        let rows = vec![Dated {
            date: d("2026-01-01"),
            quantity: dec!(-1),
            at: "shipment S1".into(),
        }];
        assert_eq!(
            bucket(&rows, Period::Week, Gaps::Zero).unwrap_err().at,
            "shipment S1"
        );
        assert!(bucket(&[], Period::Week, Gaps::Zero).is_err());
    }

    #[test]
    fn too_many_periods_are_refused_not_allocated() {
        let rows = vec![
            Dated {
                date: d("1000-01-01"),
                quantity: dec!(1),
                at: "a".into(),
            },
            Dated {
                date: d("9000-01-01"),
                quantity: dec!(1),
                at: "b".into(),
            },
        ];
        let e = bucket(&rows, Period::Week, Gaps::Zero).unwrap_err();
        assert!(e.message.contains("more than"), "{e}");
    }
}
