//! The System Log poller: one per org, following Okta's `next` links for ever.
//!
//! It starts with a polling request (`since`, ascending, no `until`), which Okta orders by when
//! it committed each event, so an event committed late still comes after the cursor; then it
//! follows `Link: rel="next"` on every page, also on an empty one. Each page's events and the
//! `next` link after them are stored in one transaction ([`Store::insert_collected`]): a crash
//! at any moment leaves either both or neither, and a restart asks for exactly the page after
//! the last one stored. Okta repeating events (a retried page, a delivery also received by
//! hook) is harmless: the store keeps each `(org, uuid, published)` once.
//!
//! Failures and what they do:
//! - a broken connection, a timeout or a 5xx: the same request again, after an exponential,
//!   jittered pause;
//! - 429: no request before the reset Okta announced (measured on Okta's clock);
//! - 401 or 403: the org stops, with the reason in its status; its checkpoint never moves (a
//!   service app's first 401 only makes it ask for a new access token);
//! - the token endpoint refusing the service app: the same as a 401; failing: as a 5xx;
//! - 400 on a saved `next` link (Okta no longer accepts the cursor): start again from the
//!   newest stored `published` minus an overlap, and let de-duplication drop the repeats;
//! - a checkpoint older than Okta's retention: collection resumes, and the events Okta no
//!   longer has are reported as a gap.

use crate::backoff::Backoff;
use crate::budget::RateLimit;
use crate::credentials::Credentials;
use crate::oauth::AuthError;
use crate::status::{CollectState, Gap, RateLimitStatus, StatusBoard};
use chrono::{TimeDelta, Utc};
use okwatch_model::{format_timestamp, published_of, Timestamp};
use okwatch_okta::links;
use okwatch_store::{Checkpoint, EventBatch, InsertOutcome, Store, StoreError};
use reqwest::header::{HeaderMap, ACCEPT, LINK};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tracing::Instrument;

/// The collector name of the poller's checkpoints.
pub const COLLECTOR: &str = "poll";

/// How long Okta keeps events.
pub const RETENTION: TimeDelta = TimeDelta::days(90);

/// How far back Okta accepts `since`.
const MAX_SINCE_AGE: TimeDelta = TimeDelta::days(180);

/// How far before the newest stored event a restart from `since` begins when Okta refuses a
/// saved cursor: events committed late can be minutes older than the newest one seen.
const CURSOR_FALLBACK_OVERLAP: TimeDelta = TimeDelta::minutes(15);

/// How to poll one org.
#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// The org's name in okwatch (the `org` of its stored events).
    pub org: String,
    /// The org's base URL, such as `https://acme.okta.com`.
    pub base_url: String,
    /// How to authenticate.
    pub credentials: Credentials,
    /// Where a first run starts reading (clamped to what Okta accepts).
    pub since: Timestamp,
    /// The share of Okta's rate limit okwatch may use (0–1).
    pub rate_limit_share: f64,
    /// The pause after a page that was not full (okwatch has caught up).
    pub poll_interval: Duration,
    /// Events per page (`limit`, at most 1,000).
    pub page_size: u32,
    /// The longest a request may take.
    pub request_timeout: Duration,
    /// Where events that cannot be stored are kept, one JSON line each.
    pub rejects_dir: Option<PathBuf>,
    /// Start from `since` even when a checkpoint exists (the demo's simulated org is a new
    /// org at every run). Events stored before are still recognised and skipped.
    pub ignore_checkpoint: bool,
}

impl PollerConfig {
    /// A configuration with okwatch's defaults: half the rate limit, 10 s between polls once
    /// caught up, pages of 1,000, 60 s per request.
    pub fn new(org: &str, base_url: &str, credentials: Credentials, since: Timestamp) -> Self {
        PollerConfig {
            org: org.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            credentials,
            since,
            rate_limit_share: 0.5,
            poll_interval: Duration::from_secs(10),
            page_size: 1000,
            request_timeout: Duration::from_secs(60),
            rejects_dir: None,
            ignore_checkpoint: false,
        }
    }
}

/// Why a poller stopped.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// Okta refused the request in a way retrying cannot fix.
    #[error("Okta refused okwatch's requests for org {org}: HTTP {status} {code}: {summary}")]
    Refused {
        /// The org.
        org: String,
        /// The HTTP status.
        status: u16,
        /// Okta's `errorCode`.
        code: String,
        /// Okta's `errorSummary`.
        summary: String,
    },
    /// The store could not be read at start.
    #[error("reading org {org}'s checkpoint: {source}")]
    Store {
        /// The org.
        org: String,
        /// What failed.
        #[source]
        source: StoreError,
    },
    /// The HTTP client could not be built, or the credentials cannot be sent.
    #[error("org {org}: {message}")]
    Setup {
        /// The org.
        org: String,
        /// What is wrong.
        message: String,
    },
}

/// What the poller keeps in its checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct PollState {
    /// The request to make next: Okta's `next` link after the last stored page.
    next: String,
    /// The newest `published` stored so far: where to start again if Okta stops accepting
    /// `next`, and how a long outage is recognised.
    newest_published: Option<Timestamp>,
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
enum FetchError {
    /// No credentials to send (the token endpoint refused or failed).
    #[error("{0}")]
    Auth(AuthError),
    /// The request or its answer broke off.
    #[error("{0}")]
    Http(reqwest::Error),
}

/// One answer from Okta, read whole.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    received: Instant,
}

/// Polls one org into a store.
pub struct Poller {
    config: PollerConfig,
    client: reqwest::Client,
    store: Arc<dyn Store>,
    status: StatusBoard,
}

impl Poller {
    /// A poller for `config` storing into `store` and reporting to `status`.
    pub fn new(
        config: PollerConfig,
        store: Arc<dyn Store>,
        status: StatusBoard,
    ) -> Result<Poller, PollError> {
        let setup = |message: String| PollError::Setup {
            org: config.org.clone(),
            message,
        };
        config
            .credentials
            .check()
            .map_err(|e| setup(e.to_string()))?;
        let client = okwatch_okta::client::client(config.request_timeout)
            .map_err(|e| setup(format!("building the HTTP client: {e}")))?;
        status.update(&config.org, |_| {});
        Ok(Poller {
            config,
            client,
            store,
            status,
        })
    }

    /// Polls until `shutdown` turns true (then returns after the write in progress, if any,
    /// is committed) or until Okta refuses okwatch for good.
    pub async fn run(self, shutdown: watch::Receiver<bool>) -> Result<(), PollError> {
        let span = tracing::info_span!("poll", org = %self.config.org);
        let org = self.config.org.clone();
        let result = self.poll(shutdown).instrument(span).await;
        if let Err(e) = &result {
            tracing::error!(%org, "collection stopped: {e}");
        }
        result
    }

    async fn poll(self, mut shutdown: watch::Receiver<bool>) -> Result<(), PollError> {
        let mut state = self.start().await?;
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        let mut budget: Option<RateLimit> = None;
        // Whether the last answer was a 401 that a new access token may cure.
        let mut renewed_after_401 = false;
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            if let Some(wait) =
                budget.and_then(|b| b.pause(self.config.rate_limit_share, Instant::now()))
            {
                self.set_state(CollectState::WaitingForRateLimit);
                tracing::debug!(?wait, "okwatch's share of the rate limit is used up");
                if pause(wait, &mut shutdown).await {
                    return Ok(());
                }
                // A new window: the next answer tells how much of it is left.
                budget = None;
            }
            self.status.update(&self.config.org, |s| {
                s.requests += 1;
                s.last_request = Some(Utc::now());
            });
            let answer = match self.fetch(&state.next).await {
                Ok(answer) => answer,
                Err(FetchError::Auth(AuthError::Refused {
                    status,
                    error,
                    description,
                    ..
                })) => {
                    return Err(self.stop(status, error, description));
                }
                Err(FetchError::Auth(AuthError::Unusable(message))) => {
                    let error = PollError::Setup {
                        org: self.config.org.clone(),
                        message,
                    };
                    self.status.update(&self.config.org, |s| {
                        s.state = CollectState::Stopped;
                        s.last_error = Some(error.to_string());
                    });
                    return Err(error);
                }
                Err(e) => {
                    let wait = backoff.next_delay();
                    self.retrying(format!("asking Okta failed: {e}"), wait);
                    if pause(wait, &mut shutdown).await {
                        return Ok(());
                    }
                    continue;
                }
            };
            if let Some(rate) = RateLimit::from_headers(&answer.headers, answer.received) {
                budget = Some(rate);
                let allowed = rate.allowed(self.config.rate_limit_share);
                self.status.update(&self.config.org, |s| {
                    s.rate_limit = Some(RateLimitStatus {
                        limit: rate.limit,
                        remaining: rate.remaining,
                        allowed,
                    })
                });
            }
            let status = answer.status;
            if status == StatusCode::UNAUTHORIZED
                && !renewed_after_401
                && self.config.credentials.refused().await
            {
                // An access token revoked or expired early: one new token, then the same
                // request. A second 401 in a row stops the org below.
                tracing::info!("Okta refused the access token; asking for a new one");
                renewed_after_401 = true;
                continue;
            }
            renewed_after_401 = false;
            if status == StatusCode::OK {
                match self.take_page(&state, answer).await {
                    Ok((next_state, page_len)) => {
                        state = next_state;
                        backoff.reset();
                        let caught_up = page_len < self.config.page_size as usize;
                        self.set_state(if caught_up {
                            CollectState::Tailing
                        } else {
                            CollectState::Backfilling
                        });
                        if caught_up && pause(self.config.poll_interval, &mut shutdown).await {
                            return Ok(());
                        }
                    }
                    Err(problem) => {
                        let wait = backoff.next_delay();
                        self.retrying(problem, wait);
                        if pause(wait, &mut shutdown).await {
                            return Ok(());
                        }
                    }
                }
            } else if status == StatusCode::TOO_MANY_REQUESTS {
                // Wait for the reset Okta announced; without one, back off.
                let wait = budget
                    .map(|b| b.until_reset(Instant::now()))
                    .unwrap_or_else(|| backoff.next_delay().max(Duration::from_secs(5)));
                budget = None;
                self.status.update(&self.config.org, |s| {
                    s.rate_limited += 1;
                    s.state = CollectState::WaitingForRateLimit;
                });
                tracing::info!(?wait, "Okta answered 429; waiting for the reset");
                if pause(wait, &mut shutdown).await {
                    return Ok(());
                }
            } else if status.is_server_error() {
                let wait = backoff.next_delay();
                self.retrying(format!("Okta answered {status}"), wait);
                if pause(wait, &mut shutdown).await {
                    return Ok(());
                }
            } else if status == StatusCode::BAD_REQUEST && state.next.contains("after=") {
                let (code, summary) = okta_error(&answer.body);
                let since = self.fallback_since(&state);
                let message = format!(
                    "Okta refused the saved cursor ({code}: {summary}); reading again from {} \
                     (events already stored are skipped)",
                    format_timestamp(since)
                );
                tracing::warn!("{message}");
                self.status
                    .update(&self.config.org, |s| s.last_error = Some(message));
                state.next = self.first_url(since);
            } else {
                let (code, summary) = okta_error(&answer.body);
                return Err(self.stop(status.as_u16(), code, summary));
            }
        }
    }

    /// Okta refused okwatch for good: the org stops, saying why, and its checkpoint stays.
    fn stop(&self, status: u16, code: String, summary: String) -> PollError {
        let error = PollError::Refused {
            org: self.config.org.clone(),
            status,
            code,
            summary,
        };
        self.status.update(&self.config.org, |s| {
            s.state = CollectState::Stopped;
            s.last_error = Some(error.to_string());
        });
        error
    }

    /// Where to begin: the saved checkpoint, or a first polling request from `since`.
    async fn start(&self) -> Result<PollState, PollError> {
        let store = self.store.clone();
        let org = self.config.org.clone();
        let saved = tokio::task::spawn_blocking(move || store.checkpoint_of(&org, COLLECTOR))
            .await
            .map_err(|e| PollError::Setup {
                org: self.config.org.clone(),
                message: format!("reading the checkpoint: {e}"),
            })?
            .map_err(|source| PollError::Store {
                org: self.config.org.clone(),
                source,
            })?;
        let saved = saved.filter(|_| !self.config.ignore_checkpoint);
        let saved = saved.and_then(|c| match serde_json::from_str::<PollState>(&c.state) {
            Ok(state) => Some(state),
            Err(e) => {
                tracing::warn!("ignoring an unreadable checkpoint ({e}): {}", c.state);
                None
            }
        });
        let Some(mut state) = saved else {
            let since = self.clamp_since(self.config.since);
            tracing::info!(since = %format_timestamp(since), "no checkpoint: first run");
            return Ok(PollState {
                next: self.first_url(since),
                newest_published: None,
            });
        };
        state.next = rebase(&state.next, &self.config.base_url);
        let horizon = Utc::now() - RETENTION;
        if let Some(newest) = state.newest_published.filter(|t| *t < horizon) {
            let gap = Gap {
                from: newest,
                to: horizon,
                reason: "okwatch stopped collecting for longer than Okta keeps events (90 days)"
                    .into(),
            };
            tracing::warn!(
                from = %format_timestamp(gap.from),
                to = %format_timestamp(gap.to),
                "events in this span are gone from Okta and were not collected"
            );
            self.status.update(&self.config.org, |s| s.gaps.push(gap));
        }
        tracing::info!(next = %state.next, "resuming from the checkpoint");
        Ok(state)
    }

    /// Okta's polling request: events committed since `since`, oldest first, no `until`.
    fn first_url(&self, since: Timestamp) -> String {
        let params = [
            ("since".to_string(), format_timestamp(since)),
            ("limit".to_string(), self.config.page_size.to_string()),
            ("sortOrder".to_string(), "ASCENDING".to_string()),
        ];
        links::url(&self.config.base_url, okwatch_okta::logs::PATH, &params)
    }

    /// Okta refuses a `since` more than 180 days back.
    fn clamp_since(&self, since: Timestamp) -> Timestamp {
        since.max(Utc::now() - MAX_SINCE_AGE + TimeDelta::minutes(1))
    }

    fn fallback_since(&self, state: &PollState) -> Timestamp {
        let since = state
            .newest_published
            .map_or(self.config.since, |t| t - CURSOR_FALLBACK_OVERLAP);
        self.clamp_since(since)
    }

    async fn fetch(&self, url: &str) -> Result<Answer, FetchError> {
        let authorization = self
            .config
            .credentials
            .authorize(&self.client, &Method::GET, url)
            .await
            .map_err(FetchError::Auth)?;
        let request = self
            .client
            .get(url)
            .header(ACCEPT, "application/json")
            .headers(authorization);
        let response = request.send().await.map_err(FetchError::Http)?;
        let received = Instant::now();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(FetchError::Http)?.to_vec();
        Ok(Answer {
            status,
            headers,
            body,
            received,
        })
    }

    /// Stores a page and the `next` link after it; returns the new state and the page's size.
    /// An error is a description of what to retry.
    async fn take_page(
        &self,
        state: &PollState,
        answer: Answer,
    ) -> Result<(PollState, usize), String> {
        let events: Vec<Value> = serde_json::from_slice(&answer.body)
            .map_err(|e| format!("Okta's answer was not a list of events ({e})"))?;
        let next = links::parse(
            answer
                .headers
                .get_all(LINK)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        )
        .into_iter()
        .find(|(_, rel)| rel == "next")
        .map(|(url, _)| rebase(&url, &self.config.base_url))
        // Okta always sends `next` on a polling request; without one the same request is the
        // only safe next step.
        .ok_or_else(|| "Okta's answer had no `next` link".to_string())?;
        let newest = events
            .iter()
            .filter_map(published_of)
            .max()
            .max(state.newest_published);
        let next_state = PollState {
            next,
            newest_published: newest,
        };
        let checkpoint = Checkpoint {
            org: self.config.org.clone(),
            collector: COLLECTOR.into(),
            state: serde_json::to_string(&next_state).expect("the state serialises"),
        };
        let page_len = events.len();
        let store = self.store.clone();
        let org = self.config.org.clone();
        let rejects = self.config.rejects_dir.clone();
        let stored = tokio::task::spawn_blocking(move || {
            store_page(store.as_ref(), &org, events, &checkpoint, rejects)
        })
        .await
        .map_err(|e| format!("storing a page failed: {e}"))?
        .map_err(|e| format!("storing a page failed: {e}"))?;
        self.status.update(&self.config.org, |s| {
            s.pages += 1;
            s.events_stored += stored.outcome.stored;
            s.duplicates += stored.outcome.duplicates;
            s.rejected += stored.rejected;
            s.newest_published = next_state.newest_published;
            s.last_error = None;
        });
        tracing::debug!(
            events = page_len,
            stored = stored.outcome.stored,
            duplicates = stored.outcome.duplicates,
            "page stored"
        );
        Ok((next_state, page_len))
    }

    fn set_state(&self, state: CollectState) {
        self.status.update(&self.config.org, |s| s.state = state);
    }

    fn retrying(&self, problem: String, wait: Duration) {
        tracing::warn!(?wait, "{problem}; trying again");
        self.status.update(&self.config.org, |s| {
            s.state = CollectState::Retrying;
            s.retries += 1;
            s.last_error = Some(problem);
        });
    }
}

/// What storing one page did.
struct StoredPage {
    outcome: InsertOutcome,
    rejected: u64,
}

/// Decomposes a page, keeps aside what cannot be stored, and stores the rest with the
/// checkpoint in one transaction.
fn store_page(
    store: &dyn Store,
    org: &str,
    events: Vec<Value>,
    checkpoint: &Checkpoint,
    rejects_dir: Option<PathBuf>,
) -> Result<StoredPage, StoreError> {
    let (rows, rejected) = crate::intake::decompose(org, events);
    if !rejected.is_empty() {
        crate::intake::keep_aside(org, "poll", &rejected, rejects_dir.as_deref());
    }
    let outcome = store.insert_collected(EventBatch::encode(rows)?, checkpoint)?;
    Ok(StoredPage {
        outcome,
        rejected: rejected.len() as u64,
    })
}

/// Okta's `errorCode` and `errorSummary` from an error body, or placeholders.
fn okta_error(body: &[u8]) -> (String, String) {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |name: &str| {
        parsed[name]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| "(none)".into())
    };
    (field("errorCode"), field("errorSummary"))
}

/// `url` with its scheme and host replaced by `base`'s: a saved link keeps working after the
/// org's URL changes in the configuration (a custom domain, say).
fn rebase(url: &str, base: &str) -> String {
    if url.starts_with(base) {
        return url.to_string();
    }
    let path = url
        .find("://")
        .and_then(|scheme_end| {
            let rest = &url[scheme_end + 3..];
            rest.find('/').map(|p| &rest[p..])
        })
        .unwrap_or(url);
    format!("{}{}", base.trim_end_matches('/'), path)
}

/// Sleeps for `wait`; returns true, early, when shutdown is asked for.
pub(crate) async fn pause(wait: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(wait) => false,
        // A dropped sender means whoever could ask is gone: stop too.
        _ = shutdown.changed() => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_links_follow_the_configured_org_url() {
        let link = "http://127.0.0.1:9090/api/v1/logs?after=1_2&limit=1000";
        assert_eq!(rebase(link, "http://127.0.0.1:9090"), link);
        assert_eq!(
            rebase(link, "https://acme.okta.com/"),
            "https://acme.okta.com/api/v1/logs?after=1_2&limit=1000"
        );
    }

    #[test]
    fn oktas_error_body_is_read_for_the_status() {
        let body =
            br#"{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorCauses":[]}"#;
        assert_eq!(
            okta_error(body),
            ("E0000011".into(), "Invalid token provided".into())
        );
        assert_eq!(okta_error(b"<html>"), ("(none)".into(), "(none)".into()));
    }
}
