//! Reading an org's directory: people, groups and their members, apps and who is assigned
//! each, through Okta's management API, into one snapshot that replaces the last one whole.
//!
//! A listing follows `Link: rel="next"` to its end. The same discipline as the poller: okwatch
//! stops at its share of each endpoint's rate limit until the reset Okta announced, waits for
//! the reset on a 429, retries a broken connection or a 5xx after a jittered pause, and gives
//! up on a 401 or 403 with Okta's reason. Nothing is stored until every listing is complete,
//! so a sync cut short (a crash, a shutdown, Okta refusing) leaves the previous snapshot as it
//! was, and the next sync starts again from the beginning: a directory has no cursor to keep.
//! Changes between syncs come from the System Log (lifecycle and membership events), which
//! readers lay over the snapshot.

use crate::backoff::Backoff;
use crate::budget::RateLimit;
use crate::credentials::Credentials;
use crate::oauth::AuthError;
use crate::poller::pause;
use chrono::Utc;
use okwatch_model::format_timestamp;
use okwatch_okta::links;
use okwatch_store::directory::{
    AppAssignment, Directory, DirectoryApp, DirectoryGroup, DirectorySnapshot, DirectoryUser,
    GroupMembership,
};
use okwatch_store::StoreError;
use reqwest::header::{ACCEPT, LINK};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tracing::Instrument;

/// Why a sync did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Okta refused in a way retrying cannot fix.
    #[error("Okta refused to list {what} for org {org}: HTTP {status} {code}: {summary}")]
    Refused {
        org: String,
        what: String,
        status: u16,
        code: String,
        summary: String,
    },
    /// The credentials cannot be used.
    #[error("org {org}: {message}")]
    Setup { org: String, message: String },
    /// An answer was not the list Okta sends.
    #[error("org {org}: Okta's answer to {url} was not a list ({problem})")]
    Answer {
        org: String,
        url: String,
        problem: String,
    },
    /// The snapshot could not be stored.
    #[error("storing org {org}'s directory: {source}")]
    Store {
        org: String,
        #[source]
        source: StoreError,
    },
    /// Shutdown was asked for.
    #[error("stopped")]
    Stopped,
}

/// How to read one org's directory.
#[derive(Clone)]
pub struct DirectorySync {
    /// The org's name in okwatch.
    pub org: String,
    /// Its base URL (`https://acme.okta.com`).
    pub base_url: String,
    /// How okwatch proves itself.
    pub credentials: Credentials,
    /// The HTTP client.
    pub client: reqwest::Client,
    /// The share of each rate limit okwatch may use.
    pub rate_limit_share: f64,
    /// How often to list the directory again.
    pub every: Duration,
}

/// What one sync read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Synced {
    /// The snapshot stored.
    pub snapshot: DirectorySnapshot,
    /// Requests made.
    pub requests: u64,
}

fn text(value: &Value, path: &[&str]) -> Option<String> {
    let mut v = value;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str().map(str::to_string)
}

fn user(value: &Value) -> Option<DirectoryUser> {
    let first = text(value, &["profile", "firstName"]).unwrap_or_default();
    let last = text(value, &["profile", "lastName"]).unwrap_or_default();
    let login = text(value, &["profile", "login"])?;
    let name = format!("{first} {last}").trim().to_string();
    Some(DirectoryUser {
        id: text(value, &["id"])?,
        name: if name.is_empty() { login.clone() } else { name },
        login,
        email: text(value, &["profile", "email"]),
        status: text(value, &["status"]).unwrap_or_else(|| "ACTIVE".into()),
        department: text(value, &["profile", "department"]),
        created: text(value, &["created"]),
        last_login: text(value, &["lastLogin"]),
    })
}

fn group(value: &Value) -> Option<DirectoryGroup> {
    Some(DirectoryGroup {
        id: text(value, &["id"])?,
        name: text(value, &["profile", "name"]).unwrap_or_default(),
        kind: text(value, &["type"]).unwrap_or_else(|| "OKTA_GROUP".into()),
    })
}

fn app(value: &Value) -> Option<DirectoryApp> {
    let name = text(value, &["name"]).unwrap_or_default();
    Some(DirectoryApp {
        id: text(value, &["id"])?,
        label: text(value, &["label"]).unwrap_or_else(|| name.clone()),
        name,
        status: text(value, &["status"]).unwrap_or_else(|| "ACTIVE".into()),
        sign_on_mode: text(value, &["signOnMode"]),
    })
}

impl DirectorySync {
    /// Lists everything and replaces the org's snapshot.
    pub async fn sync_once(
        &self,
        store: Arc<dyn Directory>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Synced, SyncError> {
        let taken = format_timestamp(Utc::now());
        let mut lister = Lister {
            sync: self,
            budget: None,
            backoff: Backoff::new(Duration::from_secs(1), Duration::from_secs(60)),
            requests: 0,
        };
        let users: Vec<DirectoryUser> = lister
            .all("people", "/api/v1/users?limit=200", shutdown)
            .await?
            .iter()
            .filter_map(user)
            .collect();
        let groups: Vec<DirectoryGroup> = lister
            .all("groups", "/api/v1/groups?limit=10000", shutdown)
            .await?
            .iter()
            .filter_map(group)
            .collect();
        let apps: Vec<DirectoryApp> = lister
            .all("apps", "/api/v1/apps?limit=200", shutdown)
            .await?
            .iter()
            .filter_map(app)
            .collect();
        let mut memberships = Vec::new();
        for g in &groups {
            let path = format!("/api/v1/groups/{}/users?limit=1000", g.id);
            for member in lister.all("a group's members", &path, shutdown).await? {
                if let Some(user_id) = text(&member, &["id"]) {
                    memberships.push(GroupMembership {
                        group_id: g.id.clone(),
                        user_id,
                    });
                }
            }
        }
        let mut assignments = Vec::new();
        for a in &apps {
            let path = format!("/api/v1/apps/{}/users?limit=500", a.id);
            for assigned in lister.all("an app's users", &path, shutdown).await? {
                if let Some(user_id) = text(&assigned, &["id"]) {
                    assignments.push(AppAssignment {
                        app_id: a.id.clone(),
                        user_id,
                        scope: text(&assigned, &["scope"]).unwrap_or_else(|| "USER".into()),
                        assigned: text(&assigned, &["created"]),
                    });
                }
            }
        }
        let snapshot = DirectorySnapshot {
            taken,
            users,
            groups,
            apps,
            assignments,
            memberships,
        }
        .sorted();
        let (org, stored) = (self.org.clone(), snapshot.clone());
        let written = tokio::task::spawn_blocking(move || store.replace_directory(&org, &stored))
            .await
            .map_err(|e| StoreError::Database {
                context: "storing a directory snapshot".into(),
                source: Box::new(e),
            })
            .and_then(|written| written);
        written.map_err(|source| SyncError::Store {
            org: self.org.clone(),
            source,
        })?;
        Ok(Synced {
            snapshot,
            requests: lister.requests,
        })
    }

    /// Syncs now when the stored snapshot is missing or older than `every`, then every
    /// `every`, until shutdown. A failed sync is tried again after a pause that grows up to
    /// an hour; a refusal waits for the next regular sync.
    pub async fn run(self, store: Arc<dyn Directory>, shutdown: watch::Receiver<bool>) {
        let span = tracing::info_span!("directory", org = %self.org);
        self.keep_current(store, shutdown).instrument(span).await
    }

    async fn keep_current(&self, store: Arc<dyn Directory>, mut shutdown: watch::Receiver<bool>) {
        let mut failures = Backoff::new(Duration::from_secs(30), Duration::from_secs(3600));
        loop {
            let due_in = {
                let (store, org) = (store.clone(), self.org.clone());
                let last = tokio::task::spawn_blocking(move || store.directory_taken(&org))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .flatten();
                last.and_then(|t| okwatch_model::parse_timestamp(&t))
                    .map(|t| {
                        let age = (Utc::now() - t).to_std().unwrap_or_default();
                        self.every.saturating_sub(age)
                    })
                    .unwrap_or_default()
            };
            if pause(due_in, &mut shutdown).await {
                return;
            }
            let started = Instant::now();
            let wait = match self.sync_once(store.clone(), &mut shutdown).await {
                Ok(synced) => {
                    failures.reset();
                    tracing::info!(
                        people = synced.snapshot.users.len(),
                        apps = synced.snapshot.apps.len(),
                        assignments = synced.snapshot.assignments.len(),
                        requests = synced.requests,
                        seconds = started.elapsed().as_secs_f64(),
                        "directory synced"
                    );
                    self.every
                }
                Err(SyncError::Stopped) => return,
                Err(e @ (SyncError::Refused { .. } | SyncError::Setup { .. })) => {
                    tracing::error!("{e}; trying again at the next sync");
                    self.every
                }
                Err(e) => {
                    let wait = failures.next_delay();
                    tracing::warn!(?wait, "{e}; trying again");
                    wait
                }
            };
            if pause(wait, &mut shutdown).await {
                return;
            }
        }
    }
}

/// Follows listings, keeping within the rate limit.
struct Lister<'a> {
    sync: &'a DirectorySync,
    budget: Option<RateLimit>,
    backoff: Backoff,
    requests: u64,
}

impl Lister<'_> {
    /// Every object of a listing, page after page.
    async fn all(
        &mut self,
        what: &str,
        path: &str,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<Vec<Value>, SyncError> {
        let org = &self.sync.org;
        let mut url = format!("{}{path}", self.sync.base_url.trim_end_matches('/'));
        let mut objects = Vec::new();
        let mut renewed_after_401 = false;
        loop {
            if let Some(wait) = self
                .budget
                .and_then(|b| b.pause(self.sync.rate_limit_share, Instant::now()))
            {
                if pause(wait, shutdown).await {
                    return Err(SyncError::Stopped);
                }
                self.budget = None;
            }
            if *shutdown.borrow() {
                return Err(SyncError::Stopped);
            }
            self.requests += 1;
            let sent = self.get(&url).await;
            let (status, headers, body, received) = match sent {
                Ok(answer) => answer,
                Err(Failure::Auth(AuthError::Refused {
                    status,
                    error,
                    description,
                    ..
                })) => {
                    return Err(SyncError::Refused {
                        org: org.clone(),
                        what: what.into(),
                        status,
                        code: error,
                        summary: description,
                    })
                }
                Err(Failure::Auth(AuthError::Unusable(message))) => {
                    return Err(SyncError::Setup {
                        org: org.clone(),
                        message,
                    })
                }
                Err(e) => {
                    let wait = self.backoff.next_delay();
                    tracing::warn!(?wait, "listing {what} failed: {e}; trying again");
                    if pause(wait, shutdown).await {
                        return Err(SyncError::Stopped);
                    }
                    continue;
                }
            };
            if let Some(rate) = RateLimit::from_headers(&headers, received) {
                self.budget = Some(rate);
            }
            if status == StatusCode::UNAUTHORIZED
                && !renewed_after_401
                && self.sync.credentials.refused().await
            {
                renewed_after_401 = true;
                continue;
            }
            renewed_after_401 = false;
            if status == StatusCode::OK {
                let page: Vec<Value> =
                    serde_json::from_slice(&body).map_err(|e| SyncError::Answer {
                        org: org.clone(),
                        url: url.clone(),
                        problem: e.to_string(),
                    })?;
                self.backoff.reset();
                objects.extend(page);
                let next =
                    links::parse(headers.get_all(LINK).iter().filter_map(|v| v.to_str().ok()))
                        .into_iter()
                        .find(|(_, rel)| rel == "next")
                        .map(|(next, _)| next);
                match next {
                    // A next link equal to this page's would loop for ever.
                    Some(next) if next != url => url = next,
                    _ => return Ok(objects),
                }
            } else if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = self
                    .budget
                    .map(|b| b.until_reset(Instant::now()))
                    .unwrap_or_else(|| self.backoff.next_delay().max(Duration::from_secs(5)));
                self.budget = None;
                tracing::info!(
                    ?wait,
                    "Okta answered 429 listing {what}; waiting for the reset"
                );
                if pause(wait, shutdown).await {
                    return Err(SyncError::Stopped);
                }
            } else if status.is_server_error() {
                let wait = self.backoff.next_delay();
                tracing::warn!(?wait, "Okta answered {status} listing {what}; trying again");
                if pause(wait, shutdown).await {
                    return Err(SyncError::Stopped);
                }
            } else {
                let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let field = |name: &str| parsed[name].as_str().unwrap_or("(none)").to_string();
                return Err(SyncError::Refused {
                    org: org.clone(),
                    what: what.into(),
                    status: status.as_u16(),
                    code: field("errorCode"),
                    summary: field("errorSummary"),
                });
            }
        }
    }

    async fn get(
        &self,
        url: &str,
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, Vec<u8>, Instant), Failure> {
        let authorization = self
            .sync
            .credentials
            .authorize(&self.sync.client, &Method::GET, url)
            .await
            .map_err(Failure::Auth)?;
        let response = self
            .sync
            .client
            .get(url)
            .header(ACCEPT, "application/json")
            .headers(authorization)
            .send()
            .await
            .map_err(Failure::Http)?;
        let received = Instant::now();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(Failure::Http)?.to_vec();
        Ok((status, headers, body, received))
    }
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("{0}")]
    Auth(AuthError),
    #[error("{0}")]
    Http(reqwest::Error),
}
