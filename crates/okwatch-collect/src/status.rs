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
