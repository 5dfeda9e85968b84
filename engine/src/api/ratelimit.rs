//! `http.rate_limit: { per_second, burst }`: a token bucket per caller, checked before the
//! body is read. A request with a well-formed bearer token counts against that token (its id;
//! an unknown id then fails authentication as usual), any other against its client IP. Over
//! the limit: `429 rate_limited` with `Retry-After` (seconds until a request fits again).
//! Only `/api/v1` routes are limited: health probes and scrapes must get through. Off unless
//! configured (see README "HTTP API"). Buckets are this process's: behind a load balancer
//! over N processes a caller gets up to N times the rate.

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `http.rate_limit` in the config.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests per second a caller may make on average (1 to 1,000,000).
    pub per_second: u32,
    /// Requests a caller may make at once after being idle (1 to 1,000,000).
    pub burst: u32,
}

impl RateLimit {
    /// What is wrong with the setting, for the config check.
    pub fn problem(&self) -> Option<String> {
        let range = 1..=1_000_000;
        if !range.contains(&self.per_second) || !range.contains(&self.burst) {
            return Some(format!(
                "http.rate_limit: per_second ({}) and burst ({}) must be 1 to 1000000",
                self.per_second, self.burst
            ));
        }
        None
    }
}

/// Most callers remembered; past this, buckets that refilled completely are forgotten (they
/// hold nothing a new bucket would not), and if none did, new callers share one bucket.
const MAX_CALLERS: usize = 100_000;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct Limiter {
    /// Tokens added per second (may be below one: the console's sign-in limit).
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    pub fn new(cfg: RateLimit) -> Limiter {
        Limiter::with_rate(f64::from(cfg.per_second), cfg.burst)
    }

    /// A limiter of `burst` at once, then one every `1 / per_second` seconds.
    pub fn with_rate(per_second: f64, burst: u32) -> Limiter {
        Limiter {
            rate: per_second,
            burst: f64::from(burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.rate).min(self.burst);
        b.at = now;
    }

    /// `Err(wait)` when `caller`'s bucket is empty, without taking from it (a caller that
    /// only pays for failures is checked first, charged with [`Limiter::check`] after one).
    pub fn peek(&self, caller: &str, now: Instant) -> Result<(), Duration> {
        let mut m = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let Some(b) = m.get_mut(caller) else {
            return Ok(());
        };
        self.refill(b, now);
        if b.tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.rate))
        }
    }

    /// Takes one request from `caller`'s bucket; `Err(wait)` when it is empty.
    pub fn check(&self, caller: &str, now: Instant) -> Result<(), Duration> {
        let mut m = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let burst = self.burst;
        let key = if m.len() < MAX_CALLERS || m.contains_key(caller) {
            caller
        } else {
            m.retain(|_, b| {
                self.refill(b, now);
                b.tokens < burst
            });
            if m.len() < MAX_CALLERS {
                caller
            } else {
                "overflow"
            }
        };
        let b = m.entry(key.to_string()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        self.refill(b, now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let secs = (1.0 - b.tokens) / self.rate;
            Err(Duration::from_secs_f64(secs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_gets_its_burst_then_the_rate() {
        let l = Limiter::new(RateLimit {
            per_second: 2,
            burst: 3,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check("a", t0).is_ok());
        }
        let wait = l.check("a", t0).unwrap_err();
        assert!(
            wait > Duration::from_millis(400) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        // another caller has its own bucket
        assert!(l.check("b", t0).is_ok());
        // half a second later one request fits again, and only one
        let t1 = t0 + Duration::from_millis(500);
        assert!(l.check("a", t1).is_ok());
        assert!(l.check("a", t1).is_err());
    }

    #[test]
    fn a_peek_takes_nothing_and_a_slow_rate_waits_long() {
        // the console's sign-in limit: 5 failures, then one a minute
        let l = Limiter::with_rate(1.0 / 60.0, 5);
        let t0 = Instant::now();
        assert!(l.peek("u", t0).is_ok());
        for _ in 0..5 {
            assert!(l.peek("u", t0).is_ok());
            assert!(l.check("u", t0).is_ok());
        }
        let wait = l.peek("u", t0).unwrap_err();
        assert!(
            wait > Duration::from_secs(59) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        // peeking did not take anything: a minute later one more fits
        let t1 = t0 + Duration::from_secs(60);
        assert!(l.peek("u", t1).is_ok());
        assert!(l.check("u", t1).is_ok());
        assert!(l.peek("u", t1).is_err());
    }

    #[test]
    fn settings_are_bounded() {
        let bad = RateLimit {
            per_second: 0,
            burst: 1,
        };
        assert!(bad.problem().unwrap().contains("http.rate_limit"));
        let ok = RateLimit {
            per_second: 10,
            burst: 20,
        };
        assert!(ok.problem().is_none());
    }
}
