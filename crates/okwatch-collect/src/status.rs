//! What each org's collection is doing, for `okwatch status`, the status API and `/metrics`.

use chrono::Utc;
use okwatch_model::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Where an org's poller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CollectState {
    /// Not yet asked Okta anything.
    #[default]
    Starting,
    /// Reading history: the last page was full.
    Backfilling,
    /// Caught up: new events are read as Okta commits them.
    Tailing,
    /// Paused until Okta's rate-limit window resets.
    WaitingForRateLimit,
    /// The last request failed; trying again after a pause.
    Retrying,
    /// Stopped for a reason a person must fix (see `last_error`).
    Stopped,
}

/// A span of time whose events okwatch could not collect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// Events published from here...
    pub from: Timestamp,
    /// ...to here are missing.
    pub to: Timestamp,
    /// Why.
    pub reason: String,
}

/// The rate limit as Okta last told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimitStatus {
    /// Requests per window.
    pub limit: u32,
    /// Left in the current window.
    pub remaining: u32,
    /// okwatch's share of the window, in requests.
    pub allowed: u32,
}

/// One org's collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct OrgStatus {
    /// The org's name.
    pub org: String,
    /// What the poller is doing.
    pub state: CollectState,
    /// The newest `published` stored from this org.
    pub newest_published: Option<Timestamp>,
    /// Seconds between `newest_published` and now.
    pub lag_seconds: Option<i64>,
    /// When okwatch last asked Okta.
    pub last_request: Option<Timestamp>,
    /// Requests made.
    pub requests: u64,
    /// Pages stored.
    pub pages: u64,
    /// Events stored (not counting ones already stored).
    pub events_stored: u64,
    /// Events Okta sent again that were already stored.
    pub duplicates: u64,
    /// Events that could not be stored (kept aside in the rejects file).
    pub rejected: u64,
    /// Requests that failed and were retried.
    pub retries: u64,
    /// Answers that were `429 Too Many Requests`.
    pub rate_limited: u64,
    /// The rate limit, as last seen.
    pub rate_limit: Option<RateLimitStatus>,
    /// Event Hook deliveries accepted.
    pub hook_deliveries: u64,
    /// Events first stored from a hook delivery (the poller would have read them later).
    pub hook_events_stored: u64,
    /// Event Hook deliveries refused (wrong secret, not a delivery, too large).
    pub hook_refused: u64,
    /// The last failure, in words.
    pub last_error: Option<String>,
    /// Spans of time that could not be collected.
    pub gaps: Vec<Gap>,
}

/// Every org's status, shared between the pollers and whoever reports on them.
#[derive(Debug, Clone, Default)]
pub struct StatusBoard(Arc<Mutex<BTreeMap<String, OrgStatus>>>);

impl StatusBoard {
    /// Changes one org's status.
    pub fn update(&self, org: &str, change: impl FnOnce(&mut OrgStatus)) {
        let mut orgs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let status = orgs.entry(org.to_string()).or_insert_with(|| OrgStatus {
            org: org.to_string(),
            ..OrgStatus::default()
        });
        change(status);
    }

    /// Every org's status now, by name, with its lag measured now.
    pub fn snapshot(&self) -> Vec<OrgStatus> {
        let now = Utc::now();
        let orgs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        orgs.values()
            .cloned()
            .map(|mut s| {
                s.lag_seconds = s.newest_published.map(|t| (now - t).num_seconds().max(0));
                s
            })
            .collect()
    }

    /// One org's status now.
    pub fn get(&self, org: &str) -> Option<OrgStatus> {
        self.snapshot().into_iter().find(|s| s.org == org)
    }
}

/// Every org's collection in Prometheus' text format (version 0.0.4), for `/metrics`.
pub fn prometheus_text(orgs: &[OrgStatus]) -> String {
    use std::fmt::Write;
    type Value = fn(&OrgStatus) -> Option<f64>;
    let series: [(&str, &str, &str, Value); 15] = [
        (
            "okwatch_collector_up",
            "gauge",
            "1 while the org's collection runs, 0 once it stopped",
            |s| Some(f64::from(u8::from(s.state != CollectState::Stopped))),
        ),
        (
            "okwatch_lag_seconds",
            "gauge",
            "Seconds between the newest stored event's published time and now",
            |s| s.lag_seconds.map(|l| l as f64),
        ),
        (
            "okwatch_newest_event_timestamp_seconds",
            "gauge",
            "The newest stored event's published time",
            |s| {
                s.newest_published
                    .map(|t| t.timestamp_millis() as f64 / 1000.0)
            },
        ),
        (
            "okwatch_requests_total",
            "counter",
            "Requests made to Okta's System Log API",
            |s| Some(s.requests as f64),
        ),
        (
            "okwatch_pages_total",
            "counter",
            "Pages of events stored",
            |s| Some(s.pages as f64),
        ),
        (
            "okwatch_events_polled_total",
            "counter",
            "Events first stored by the poller",
            |s| Some(s.events_stored as f64),
        ),
        (
            "okwatch_events_hooked_total",
            "counter",
            "Events first stored from Event Hook deliveries",
            |s| Some(s.hook_events_stored as f64),
        ),
        (
            "okwatch_duplicates_total",
            "counter",
            "Events received again that were already stored",
            |s| Some(s.duplicates as f64),
        ),
        (
            "okwatch_rejected_total",
            "counter",
            "Events that could not be stored",
            |s| Some(s.rejected as f64),
        ),
        (
            "okwatch_retries_total",
            "counter",
            "Requests that failed and were retried",
            |s| Some(s.retries as f64),
        ),
        (
            "okwatch_rate_limited_total",
            "counter",
            "Answers that were 429 Too Many Requests",
            |s| Some(s.rate_limited as f64),
        ),
        (
            "okwatch_rate_limit_remaining",
            "gauge",
            "Requests left in Okta's current rate-limit window",
            |s| s.rate_limit.map(|r| f64::from(r.remaining)),
        ),
        (
            "okwatch_rate_limit_allowed",
            "gauge",
            "okwatch's share of a rate-limit window, in requests",
            |s| s.rate_limit.map(|r| f64::from(r.allowed)),
        ),
        (
            "okwatch_hook_deliveries_total",
            "counter",
            "Event Hook deliveries accepted",
            |s| Some(s.hook_deliveries as f64),
        ),
        (
            "okwatch_hook_refused_total",
            "counter",
            "Event Hook deliveries refused",
            |s| Some(s.hook_refused as f64),
        ),
    ];
    let label = |org: &str| {
        org.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let mut out = String::new();
    for (name, kind, help, value) in series {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for org in orgs {
            if let Some(v) = value(org) {
                let _ = writeln!(out, "{name}{{org=\"{}\"}} {v}", label(&org.org));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_name_every_org_and_leave_out_what_is_unknown() {
        let board = StatusBoard::default();
        board.update("acme", |s| {
            s.requests = 12;
            s.events_stored = 3400;
            s.rate_limit = Some(RateLimitStatus {
                limit: 60,
                remaining: 41,
                allowed: 30,
            });
        });
        board.update("beta\"x", |s| s.state = CollectState::Stopped);
        let text = prometheus_text(&board.snapshot());
        for line in [
            "# TYPE okwatch_requests_total counter",
            "okwatch_requests_total{org=\"acme\"} 12",
            "okwatch_events_polled_total{org=\"acme\"} 3400",
            "okwatch_rate_limit_remaining{org=\"acme\"} 41",
            "okwatch_collector_up{org=\"acme\"} 1",
            "okwatch_collector_up{org=\"beta\\\"x\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        // Nothing stored yet: no lag, no rate limit for beta.
        assert!(!text.contains("okwatch_lag_seconds{org=\"acme\"}"));
        assert!(!text.contains("okwatch_rate_limit_remaining{org=\"beta"));
    }
}
