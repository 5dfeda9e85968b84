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

pub fn ms_to_datetime(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

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
