//! Durations as analysts write them: `500ms`, `2s`, `5m`, `24h`, `30d`, `1h30m`.

use std::time::Duration;

/// Parse a duration: one or more `<digits><unit>` parts with no spaces or signs, units
/// `ms`, `s`, `m`, `h`, `d` each at most once and from largest to smallest (`1h30m`, not
/// `30m1h`). `0s` parses (callers that need a positive duration check for zero).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = |why: &str| {
        format!("invalid duration '{s}': {why} (units ms, s, m, h, d, e.g. 500ms, 2s, 24h, 1h30m)")
    };
    if s.is_empty() {
        return Err(bad("empty"));
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut total = Duration::ZERO;
    // Rank of the last unit seen; units must strictly decrease.
    let mut last_rank = usize::MAX;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return Err(bad("expected a number followed by a unit"));
        }
        let digits = &s[start..i];
        let unit_start = i;
        while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
            i += 1;
        }
        let unit = &s[unit_start..i];
        let (rank, nanos_per): (usize, u128) = match unit {
            "d" => (4, 86_400 * 1_000_000_000),
            "h" => (3, 3_600 * 1_000_000_000),
            "m" => (2, 60 * 1_000_000_000),
            "s" => (1, 1_000_000_000),
            "ms" => (0, 1_000_000),
            "" => return Err(bad(&format!("missing unit after '{digits}'"))),
            other => return Err(bad(&format!("unknown unit '{other}'"))),
        };
        if rank >= last_rank {
            return Err(bad("units must go from largest to smallest, each once"));
        }
        last_rank = rank;
        let n: u128 = digits.parse().map_err(|_| bad("number too large"))?;
        let part = n
            .checked_mul(nanos_per)
            .and_then(|nanos| {
                let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
                let sub = u32::try_from(nanos % 1_000_000_000).ok()?;
                Some(Duration::new(secs, sub))
            })
            .ok_or_else(|| bad("too large"))?;
        total = total.checked_add(part).ok_or_else(|| bad("too large"))?;
    }
    if total > MAX_DURATION {
        return Err(bad("longer than 100 years (36500d)"));
    }
    Ok(total)
}

/// The longest duration accepted: anything longer is a typo, and would push business time
/// or a timer past what dates can represent.
pub const MAX_DURATION: Duration = Duration::from_secs(36_500 * 86_400);

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Duration {
        match parse_duration(s) {
            Ok(d) => d,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn accepts_units_and_combinations() {
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("2s"), Duration::from_secs(2));
        assert_eq!(ok("5m"), Duration::from_secs(300));
        assert_eq!(ok("24h"), Duration::from_secs(86_400));
        assert_eq!(ok("30d"), Duration::from_secs(30 * 86_400));
        assert_eq!(ok("1h30m"), Duration::from_secs(5_400));
        assert_eq!(ok("1d2h3m4s5ms"), Duration::from_millis(93_784_005));
        assert_eq!(ok("0s"), Duration::ZERO);
    }

    #[test]
    fn rejects_other_spellings() {
        for s in [
            "",
            "5",
            "5 minutes",
            "-1s",
            "+1s",
            "1.5s",
            "5min",
            "1h 30m",
            " 1s",
            "1s ",
            "30m1h",
            "1s1s",
            "ms",
            "1S",
            "1µs",
        ] {
            assert!(parse_duration(s).is_err(), "accepted {s:?}");
        }
        let e = parse_duration("5 minutes").unwrap_err();
        assert!(e.starts_with("invalid duration '5 minutes': "), "{e}");
        assert!(
            parse_duration("1x")
                .unwrap_err()
                .contains("unknown unit 'x'")
        );
        assert!(
            parse_duration("5")
                .unwrap_err()
                .contains("missing unit after '5'")
        );
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        assert!(parse_duration("99999999999999999999999999999999999999999d").is_err());
        assert!(parse_duration("18446744073709551615d").is_err());
        // Fits per part, overflows in the sum.
        assert!(parse_duration("213503982334601d18446744073709551615s").is_err());
        // Fits a Duration, but is beyond the 100-year bound (issue 20, point 11).
        assert!(parse_duration("18446744073709551615s").is_err());
        assert_eq!(ok("36500d"), MAX_DURATION);
        let e = parse_duration("99999999999d").unwrap_err();
        assert!(e.contains("longer than 100 years"), "{e}");
    }
}
