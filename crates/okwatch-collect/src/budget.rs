//! okwatch's share of Okta's rate limit, read from each answer's `X-Rate-Limit-*` headers.
//!
//! Okta counts `/api/v1/logs` requests per minute for the whole org and lets one token use only
//! part of that bucket; other integrations (a SIEM, a log stream) draw from it too, and using
//! all of it is itself logged by Okta as a violation. So okwatch stops at a configured share of
//! the limit (`rate_limit_share`, 0.5 by default) and waits for the reset. The reset time is an
//! epoch second on Okta's clock: it is compared with the answer's `Date`, never with the local
//! clock, which may be off by more than the window.

use reqwest::header::HeaderMap;
use std::time::{Duration, Instant};

/// What one answer said about the rate limit, anchored to when it was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in the window.
    pub limit: u32,
    /// Requests left in the window.
    pub remaining: u32,
    /// When the window ends, on the local monotonic clock.
    pub reset_at: Instant,
}

/// The shortest pause after a refusal, so that a reset already in the past (clock skew, a
/// proxy's stale `Date`) can never make the poller spin.
pub const MIN_PAUSE: Duration = Duration::from_secs(1);

fn header_number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl RateLimit {
    /// Reads the headers of an answer received at `received`; `None` when they are missing or
    /// unreadable (then only refusals slow the poller down).
    pub fn from_headers(headers: &HeaderMap, received: Instant) -> Option<RateLimit> {
        let limit = u32::try_from(header_number(headers, "x-rate-limit-limit")?).ok()?;
        let remaining = u32::try_from(header_number(headers, "x-rate-limit-remaining")?).ok()?;
        let reset = i64::try_from(header_number(headers, "x-rate-limit-reset")?).ok()?;
        let server_now = headers
            .get(reqwest::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .map(|d| d.timestamp())
            // Without a Date, the local clock is the only one there is.
            .unwrap_or_else(|| chrono::Utc::now().timestamp());
        let until_reset = Duration::from_secs(u64::try_from(reset - server_now).unwrap_or(0));
        Some(RateLimit {
            limit,
            remaining,
            reset_at: received + until_reset,
        })
    }

    /// Requests okwatch may make in a window: `share` of the limit, at least one.
    pub fn allowed(&self, share: f64) -> u32 {
        ((f64::from(self.limit) * share).floor() as u32).clamp(1, self.limit.max(1))
    }

    /// Requests made in this window, by okwatch and anyone else using the same bucket.
    pub fn used(&self) -> u32 {
        self.limit.saturating_sub(self.remaining)
    }

    /// How long to wait before the next request so as to stay within `share` of the limit;
    /// `None` to go ahead now.
    pub fn pause(&self, share: f64, now: Instant) -> Option<Duration> {
        if self.used() < self.allowed(share) {
            return None;
        }
        Some(self.until_reset(now))
    }

    /// Time left until the window resets, at least [`MIN_PAUSE`].
    pub fn until_reset(&self, now: Instant) -> Duration {
        self.reset_at.saturating_duration_since(now).max(MIN_PAUSE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(limit: u32, remaining: u32, reset: i64, date: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-limit", HeaderValue::from(limit));
        h.insert("x-rate-limit-remaining", HeaderValue::from(remaining));
        h.insert("x-rate-limit-reset", HeaderValue::from(reset));
        if let Some(date) = date {
            h.insert(reqwest::header::DATE, HeaderValue::from_str(date).unwrap());
        }
        h
    }

    // Mon, 30 Nov 2026 21:00:00 GMT
    const DATE: &str = "Mon, 30 Nov 2026 21:00:00 GMT";
    const DATE_EPOCH: i64 = 1_796_072_400;

    #[test]
    fn the_reset_is_measured_on_oktas_clock_not_ours() {
        let now = Instant::now();
        // The local clock is far from Okta's (DATE is not now): only reset − Date counts.
        let rl =
            RateLimit::from_headers(&headers(60, 10, DATE_EPOCH + 42, Some(DATE)), now).unwrap();
        assert_eq!(rl.reset_at - now, Duration::from_secs(42));
        assert_eq!(rl.used(), 50);
    }

    #[test]
    fn okwatch_stops_at_its_share_and_waits_for_the_reset() {
        let now = Instant::now();
        let at = |remaining| {
            RateLimit::from_headers(&headers(60, remaining, DATE_EPOCH + 20, Some(DATE)), now)
                .unwrap()
        };
        assert_eq!(at(31).allowed(0.5), 30);
        assert_eq!(at(31).pause(0.5, now), None, "29 used of 30 allowed");
        assert_eq!(at(30).pause(0.5, now), Some(Duration::from_secs(20)));
        assert_eq!(at(0).pause(1.0, now), Some(Duration::from_secs(20)));
        assert_eq!(at(5).pause(1.0, now), None);
        // A tiny limit still allows one request a window.
        let tiny = RateLimit::from_headers(&headers(1, 1, DATE_EPOCH + 5, Some(DATE)), now);
        assert_eq!(tiny.unwrap().allowed(0.1), 1);
    }

    #[test]
    fn a_reset_in_the_past_or_missing_headers_never_mean_no_wait() {
        let now = Instant::now();
        let past =
            RateLimit::from_headers(&headers(60, 0, DATE_EPOCH - 30, Some(DATE)), now).unwrap();
        assert_eq!(past.pause(0.5, now), Some(MIN_PAUSE));
        assert_eq!(past.until_reset(now), MIN_PAUSE);
        assert_eq!(RateLimit::from_headers(&HeaderMap::new(), now), None);
        let mut partial = headers(60, 0, DATE_EPOCH, Some(DATE));
        partial.remove("x-rate-limit-reset");
        assert_eq!(RateLimit::from_headers(&partial, now), None);
    }
}
