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
    cfg: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    pub fn new(cfg: RateLimit) -> Limiter {
        Limiter {
            cfg,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn refill(&self, b: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens =
            (b.tokens + elapsed * f64::from(self.cfg.per_second)).min(f64::from(self.cfg.burst));
        b.at = now;
    }

    /// Takes one request from `caller`'s bucket; `Err(wait)` when it is empty.
    pub fn check(&self, caller: &str, now: Instant) -> Result<(), Duration> {
        let mut m = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let burst = f64::from(self.cfg.burst);
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
            let secs = (1.0 - b.tokens) / f64::from(self.cfg.per_second);
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
