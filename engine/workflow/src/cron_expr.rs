//! Cron triggers: normalization, the numeric-weekday trap, time zones.

use std::str::FromStr;

/// Normalize and parse a cron expression for the `cron` crate.
///
/// - 6 fields (`sec min hour day-of-month month day-of-week`) or 7 (`+ year`) pass as written;
/// - 5 fields (POSIX `min hour dom month dow`) get a leading `0 ` (at second 0);
/// - `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly` pass as written;
/// - a day-of-week field with a digit is rejected: the `cron` crate counts 1 = Sunday, unlike
///   POSIX cron, so `1-5` would silently mean Sunday to Thursday. Names (`Mon-Fri`) are
///   unambiguous.
pub fn parse_cron(expr: &str) -> Result<(String, cron::Schedule), String> {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if fields.is_empty() {
        return Err("empty cron expression".to_string());
    }
    let normalized = if fields.len() == 1 && fields[0].starts_with('@') {
        fields[0].to_string()
    } else {
        let mut all = match fields.len() {
            5 => vec!["0"],
            6 | 7 => Vec::new(),
            n => {
                return Err(format!(
                    "cron expression '{expr}' has {n} fields; write 6 (sec min hour day month \
                     weekday), 7 (+ year) or POSIX 5 (min hour day month weekday)"
                ));
            }
        };
        all.extend(&fields);
        let dow = all[5];
        if dow.chars().any(|c| c.is_ascii_digit()) {
            return Err(format!(
                "numeric day of week '{dow}' is ambiguous (this cron counts 1 = Sunday): \
                 use names such as Mon-Fri"
            ));
        }
        all.join(" ")
    };
    match cron::Schedule::from_str(&normalized) {
        Ok(schedule) => Ok((normalized, schedule)),
        Err(e) => {
            // The cron crate repeats the expression and a caret line; keep the reason.
            let text = e.to_string();
            let why = text
                .lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                // Message text only: the parser gave no reason line.
                .unwrap_or("not a cron expression");
            Err(format!("invalid cron expression '{expr}': {why}"))
        }
    }
}

/// Check an IANA time zone name; the error carries a did-you-mean when one fits.
pub fn check_timezone(name: &str) -> Result<(), String> {
    if chrono_tz::Tz::from_str(name).is_ok() {
        return Ok(());
    }
    let hint = crate::suggest::hint(name, chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()));
    Err(format!("unknown timezone '{name}'{hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike, Utc, Weekday};

    fn ok(expr: &str) -> (String, cron::Schedule) {
        match parse_cron(expr) {
            Ok(v) => v,
            Err(e) => panic!("{expr}: {e}"),
        }
    }

    #[test]
    fn six_and_seven_fields_pass() {
        assert_eq!(ok("0 0 6 * * Mon-Fri").0, "0 0 6 * * Mon-Fri");
        assert_eq!(ok("0 30 9 1 * * 2030").0, "0 30 9 1 * * 2030");
        assert_eq!(ok("@daily").0, "@daily");
    }

    #[test]
    fn five_fields_get_a_seconds_field() {
        let (norm, schedule) = ok("30 9 * * Mon-Fri");
        assert_eq!(norm, "0 30 9 * * Mon-Fri");
        // 2026-01-03 is a Saturday: next run is Monday 09:30:00.
        let from = Utc.with_ymd_and_hms(2026, 1, 3, 12, 0, 0).single();
        let next = from.and_then(|f| schedule.after(&f).next());
        let next = next.unwrap_or_else(|| panic!("no next run"));
        assert_eq!(next.weekday(), Weekday::Mon);
        assert_eq!((next.hour(), next.minute(), next.second()), (9, 30, 0));
    }

    #[test]
    fn numeric_weekdays_are_rejected_with_a_hint() {
        for expr in ["0 0 6 * * 1-5", "30 9 * * 1", "0 0 0 * * */2"] {
            let e = parse_cron(expr).unwrap_err();
            assert!(e.contains("use names such as Mon-Fri"), "{expr}: {e}");
        }
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(parse_cron("").unwrap_err().contains("empty"));
        assert!(
            parse_cron("every day")
                .unwrap_err()
                .contains("has 2 fields")
        );
        assert!(
            parse_cron("1 2 3 4 5 6 7 8")
                .unwrap_err()
                .contains("has 8 fields")
        );
        let e = parse_cron("0 0 25 * * Mon").unwrap_err();
        assert!(
            e.starts_with("invalid cron expression '0 0 25 * * Mon': "),
            "{e}"
        );
        assert!(!e.contains('\n'));
        assert!(parse_cron("x y z * * Mon").is_err());
        assert!(parse_cron("@sometimes").is_err());
    }

    #[test]
    fn timezones() {
        assert!(check_timezone("UTC").is_ok());
        assert!(check_timezone("Europe/Berlin").is_ok());
        assert_eq!(
            check_timezone("Europe/Berln").unwrap_err(),
            "unknown timezone 'Europe/Berln' (did you mean 'Europe/Berlin'?)"
        );
        assert_eq!(
            check_timezone("Mars/Olympus").unwrap_err(),
            "unknown timezone 'Mars/Olympus'"
        );
    }
}
