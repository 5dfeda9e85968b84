//! Business time. All workflow time (timers, task timeouts, cron, history timestamps, what
//! connectors see as "now") comes from the [`Clock`]: real time plus an offset that `ordo clock
//! advance` and `ordo demo` move forward, so a 30-day wait can be tested in milliseconds.
//!
//! The offset lives in the store (`kv` key `clock.offset_ms`) so every process of a deployment
//! agrees on it; running engines re-read it on each timer tick. Queue visibility (retry
//! backoff, leases) always uses real time: it is about the machine, not the business.

use chrono::{DateTime, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

pub const OFFSET_KEY: &str = "clock.offset_ms";

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

pub fn real_now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

impl Clock {
    pub fn new(offset_ms: i64) -> Self {
        Clock {
            offset_ms: AtomicI64::new(offset_ms),
        }
    }

    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn now(&self) -> DateTime<Utc> {
        ms_to_datetime(self.now_ms())
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    pub fn set_offset_ms(&self, ms: i64) {
        self.offset_ms.store(ms, Ordering::Relaxed);
    }
}

/// Business time must stay within 2000-01-01 and 2200-01-01 (UTC): outside it is a typo in a
/// clock command, and far enough out dates cannot be represented (business time once wrapped
/// to 1970 and timers fired endlessly).
pub const MIN_BUSINESS_MS: i64 = 946_684_800_000;
pub const MAX_BUSINESS_MS: i64 = 7_258_118_400_000;

/// The offset that moves business time forward by `by`, or why it is refused.
pub fn advanced_offset(current_offset_ms: i64, by: std::time::Duration) -> Result<i64, String> {
    let target = i64::try_from(by.as_millis())
        .ok()
        .and_then(|ms| current_offset_ms.checked_add(ms))
        .and_then(|off| real_now_ms().checked_add(off).map(|t| (off, t)));
    match target {
        Some((off, t)) if (MIN_BUSINESS_MS..MAX_BUSINESS_MS).contains(&t) => Ok(off),
        _ => Err(format!(
            "business time would leave the range {} to {}; nothing changed",
            ms_to_datetime(MIN_BUSINESS_MS).format("%Y-%m-%d"),
            ms_to_datetime(MAX_BUSINESS_MS).format("%Y-%m-%d")
        )),
    }
}

pub fn ms_to_datetime(ms: i64) -> DateTime<Utc> {
    // Business time is kept within MIN_BUSINESS_MS..MAX_BUSINESS_MS (checked where it is
    // set), where every millisecond is a valid instant.
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_past_the_sane_range_is_refused() {
        let day = std::time::Duration::from_secs(86_400);
        assert!(advanced_offset(0, day * 30).is_ok());
        let e = advanced_offset(0, day * 99_999).unwrap_err();
        assert!(e.contains("2200-01-01"), "{e}");
        assert!(advanced_offset(i64::MAX - 5, day).is_err());
    }

    #[test]
    fn offset_moves_business_time_only() {
        let c = Clock::new(0);
        let before = c.now_ms();
        c.set_offset_ms(30 * 86_400_000);
        let after = c.now_ms();
        assert!(after - before >= 30 * 86_400_000);
        assert!(real_now_ms() < after - 29 * 86_400_000);
    }
}
