//! Okta's rate-limit emulation: a budget of requests per window for each credential, told to the
//! client on every response in `X-Rate-Limit-Limit`, `-Remaining` and `-Reset` (epoch seconds).

use axum::http::{HeaderMap, HeaderValue};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateDecision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The window's budget.
    pub limit: u32,
    /// What is left of it after this request.
    pub remaining: u32,
    /// When the window ends, in seconds since the epoch.
    pub reset: u64,
}

impl RateDecision {
    /// Sets the three `X-Rate-Limit-*` headers.
    pub fn apply(&self, headers: &mut HeaderMap) {
        headers.insert("x-rate-limit-limit", HeaderValue::from(self.limit));
        headers.insert("x-rate-limit-remaining", HeaderValue::from(self.remaining));
        headers.insert("x-rate-limit-reset", HeaderValue::from(self.reset));
    }
}

/// Fixed windows per key, started by the key's first request (Okta's windows are not aligned to
/// the wall-clock minute either).
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, (SystemTime, u32)>>,
}

impl RateLimiter {
    /// `limit` requests per `window` for each key.
    pub fn new(limit: u32, window: Duration) -> RateLimiter {
        RateLimiter {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request by `key` at `now`.
    pub fn check(&self, key: &str, now: SystemTime) -> RateDecision {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let entry = windows.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0).unwrap_or_default() >= self.window {
            *entry = (now, 0);
        }
        let allowed = entry.1 < self.limit;
        if allowed {
            entry.1 += 1;
        }
        let end = entry.0 + self.window;
        // Rounded up: a client that waits until Reset must find the window over.
        let reset = end
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
            .unwrap_or(0);
        RateDecision {
            allowed,
            limit: self.limit,
            remaining: self.limit - entry.1,
            reset,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_per_key_and_renews_after_the_window() {
        let limiter = RateLimiter::new(2, Duration::from_secs(60));
        let t0 = UNIX_EPOCH + Duration::from_millis(1_000_000_500);
        assert_eq!(limiter.check("a", t0).remaining, 1);
        assert!(limiter.check("a", t0).allowed);
        let refused = limiter.check("a", t0 + Duration::from_secs(1));
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert_eq!(
            refused.reset, 1_000_061,
            "reset is the window's end, rounded up"
        );
        assert!(
            limiter.check("b", t0).allowed,
            "another credential has its own budget"
        );
        assert!(limiter.check("a", t0 + Duration::from_secs(60)).allowed);
    }
}
