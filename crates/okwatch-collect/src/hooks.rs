//! Okta Event Hooks: receiving deliveries, and registering okwatch's hook with an org.
//!
//! Okta POSTs batches of events (`data.events`) to the hook's URL with the configured
//! `Authorization` value, best effort and at least once, and gives up after 3 s and one retry.
//! okwatch checks the secret in constant time, stores the events durably, and only then answers
//! 200; anything else gets a 4xx that says why. The poller reads the same events again later:
//! both paths store each `(org, uuid, published)` once, and polling fills whatever the hook
//! lost. Okta verifies a hook once with a GET carrying `X-Okta-Verification-Challenge`, whose
//! value the receiver echoes as `{"verification": …}`.

use crate::credentials::Credentials;
use crate::secret::Secret;
use crate::status::StatusBoard;
use okwatch_store::{EventBatch, InsertOutcome, Store, StoreError};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{json, Value};

pub use crate::hook_event_types::HOOK_EVENT_TYPES;

/// The largest delivery accepted, in bytes. Okta's batches are far smaller; this only stops a
/// hostile body from being read into memory.
pub const MAX_DELIVERY_BYTES: usize = 8 * 1024 * 1024;

/// The most events one delivery may carry.
pub const MAX_DELIVERY_EVENTS: usize = 10_000;

/// The name okwatch gives its hook in the org.
pub const HOOK_NAME: &str = "okwatch";

/// Why a delivery was refused (the HTTP status says which).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization` header, or not the org's secret.
    #[error("the Authorization header is missing or is not this org's hook secret")]
    Unauthorized,
    /// Not an Event Hook delivery.
    #[error("not an Event Hook delivery: {0}")]
    NotADelivery(String),
}

impl Refusal {
    /// The HTTP status to answer with (4xx: Okta does not retry these).
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Unauthorized => 401,
            Refusal::NotADelivery(_) => 400,
        }
    }
}

/// The answer to Okta's one-time verification request.
pub fn verification_answer(challenge: &str) -> Value {
    json!({ "verification": challenge })
}

/// Checks a delivery's credential and shape; returns its events.
pub fn read_delivery(
    secret: &Secret,
    authorization: Option<&[u8]>,
    body: &[u8],
) -> Result<Vec<Value>, Refusal> {
    if !authorization.is_some_and(|presented| secret.matches(presented)) {
        return Err(Refusal::Unauthorized);
    }
    let delivery: Value = serde_json::from_slice(body)
        .map_err(|e| Refusal::NotADelivery(format!("the body is not JSON ({e})")))?;
    let events = match delivery.get("data").and_then(|d| d.get("events")) {
        Some(Value::Array(events)) => events,
        _ => return Err(Refusal::NotADelivery("there is no data.events list".into())),
    };
    if events.len() > MAX_DELIVERY_EVENTS {
        return Err(Refusal::NotADelivery(format!(
            "{} events in one delivery; at most {MAX_DELIVERY_EVENTS}",
            events.len()
        )));
    }
    Ok(events.clone())
}

/// What storing one delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stored {
    /// New events and repeats of stored ones.
    pub outcome: InsertOutcome,
    /// Events that cannot be stored (no uuid, a bad date).
    pub rejected: u64,
}

/// Stores a delivery's events in one transaction and counts it in the org's status. Events
/// that cannot be stored are kept in `rejects_dir` (`<org>.hook.rejects.ndjson`), as the
/// poller keeps its own.
pub fn store_delivery(
    store: &dyn Store,
    status: &StatusBoard,
    org: &str,
    events: Vec<Value>,
    rejects_dir: Option<&std::path::Path>,
) -> Result<Stored, StoreError> {
    let (rows, refused) = crate::intake::decompose(org, events);
    if !refused.is_empty() {
        crate::intake::keep_aside(org, "hook", &refused, rejects_dir);
    }
    let rejected = refused.len() as u64;
    let outcome = store.insert(EventBatch::encode(rows)?)?;
    status.update(org, |s| {
        s.hook_deliveries += 1;
        s.hook_events_stored += outcome.stored;
        s.rejected += rejected;
    });
    Ok(Stored { outcome, rejected })
}

/// A hook as the org lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookInfo {
    /// Okta's id (`who…`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Where it delivers.
    pub uri: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// `VERIFIED` or `UNVERIFIED`.
    pub verification: String,
}

impl HookInfo {
    fn of(value: &Value) -> HookInfo {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        HookInfo {
            id: text(&value["id"]),
            name: text(&value["name"]),
            uri: text(&value["channel"]["config"]["uri"]),
            status: text(&value["status"]),
            verification: text(&value["verificationStatus"]),
        }
    }
}

/// A failed call to Okta's Event Hooks API.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    /// No credentials could be had for the request (a service app's token was refused).
    #[error("authorizing {url}: {error}")]
    Credentials {
        /// The URL.
        url: String,
        /// Why.
        error: String,
    },
    /// The request did not get an answer.
    #[error("calling {url}: {error}")]
    Transport {
        /// The URL.
        url: String,
        /// Why.
        error: String,
    },
    /// Okta answered with an error.
    #[error("{url} answered {status}: {summary}")]
    Refused {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// Okta's `errorSummary` and causes.
        summary: String,
    },
}

/// Okta's Event Hooks API for one org.
pub struct HookAdmin {
    base: String,
    credentials: Credentials,
    client: reqwest::Client,
}

impl HookAdmin {
    /// Manages the hooks of the org at `base`.
    pub fn new(base: &str, credentials: Credentials) -> Result<HookAdmin, ManageError> {
        let client =
            okwatch_okta::client::client(std::time::Duration::from_secs(30)).map_err(|e| {
                ManageError::Transport {
                    url: base.into(),
                    error: e.to_string(),
                }
            })?;
        Ok(HookAdmin {
            base: base.trim_end_matches('/').to_string(),
            credentials,
            client,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ManageError> {
        let url = format!("{}{path}", self.base);
        let authorization = self
            .credentials
            .authorize(&self.client, &method, &url)
            .await
            .map_err(|e| ManageError::Credentials {
                url: url.clone(),
                error: e.to_string(),
            })?;
        let mut request = self
            .client
            .request(method, &url)
            .header(ACCEPT, "application/json")
            .headers(authorization);
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let transport = |e: reqwest::Error| ManageError::Transport {
            url: url.clone(),
            error: e.to_string(),
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            let causes: Vec<&str> = value["errorCauses"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["errorSummary"].as_str())
                .collect();
            let mut summary = value["errorSummary"]
                .as_str()
                .unwrap_or("no errorSummary")
                .to_string();
            if !causes.is_empty() {
                summary = format!("{summary} ({})", causes.join("; "));
            }
            return Err(ManageError::Refused {
                url,
                status: status.as_u16(),
                summary,
            });
        }
        Ok(value)
    }

    /// Every hook of the org.
    pub async fn list(&self) -> Result<Vec<HookInfo>, ManageError> {
        let hooks = self
            .call(reqwest::Method::GET, "/api/v1/eventHooks", None)
            .await?;
        Ok(hooks
            .as_array()
            .into_iter()
            .flatten()
            .map(HookInfo::of)
            .collect())
    }

    /// Creates a hook delivering every eligible event type to `uri` with `secret` as its
    /// `Authorization` value, then has Okta verify it (okwatch must be reachable at `uri` and
    /// answer the challenge). Returns the verified hook.
    pub async fn register(&self, uri: &str, secret: &Secret) -> Result<HookInfo, ManageError> {
        let definition = json!({
            "name": HOOK_NAME,
            "description": "okwatch: System Log events as they happen",
            "events": {"type": "EVENT_TYPE", "items": HOOK_EVENT_TYPES},
            "channel": {"type": "HTTP", "version": "1.0.0", "config": {
                "uri": uri,
                "headers": [],
                "authScheme": {"type": "HEADER", "key": "Authorization", "value": secret.expose()},
            }},
        });
        let created = self
            .call(
                reqwest::Method::POST,
                "/api/v1/eventHooks",
                Some(&definition),
            )
            .await?;
        let id = HookInfo::of(&created).id;
        let verified = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/eventHooks/{id}/lifecycle/verify"),
                None,
            )
            .await?;
        Ok(HookInfo::of(&verified))
    }

    /// Deactivates and deletes a hook (Okta deletes only inactive hooks).
    pub async fn remove(&self, id: &str) -> Result<(), ManageError> {
        self.call(
            reqwest::Method::POST,
            &format!("/api/v1/eventHooks/{id}/lifecycle/deactivate"),
            None,
        )
        .await?;
        self.call(
            reqwest::Method::DELETE,
            &format!("/api/v1/eventHooks/{id}"),
            None,
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(events: Value) -> Vec<u8> {
        json!({
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "data": {"events": events},
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_delivery_needs_the_secret_and_a_list_of_events() {
        let secret = Secret::new("hook-secret");
        let body = delivery(json!([{"uuid": "a"}, {"uuid": "b"}]));
        assert_eq!(
            read_delivery(&secret, Some(b"hook-secret"), &body)
                .unwrap()
                .len(),
            2
        );
        for wrong in [None, Some(&b"Hook-secret"[..]), Some(&b""[..])] {
            assert_eq!(
                read_delivery(&secret, wrong, &body),
                Err(Refusal::Unauthorized)
            );
        }
        let refused = read_delivery(&secret, Some(b"hook-secret"), b"{\"data\": {}}").unwrap_err();
        assert_eq!(refused.status(), 400);
        assert!(refused.to_string().contains("data.events"));
        let refused = read_delivery(&secret, Some(b"hook-secret"), b"not json").unwrap_err();
        assert!(refused.to_string().contains("not JSON"), "{refused}");
        assert_eq!(verification_answer("abc"), json!({"verification": "abc"}));
    }

    #[test]
    fn the_subscribed_types_are_exactly_oktas_hook_eligible_ones() {
        let catalogue = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
            .join("../../../shared/samples/okta-event-types/okta-event-types.csv");
        let text = std::fs::read_to_string(&catalogue)
            .unwrap_or_else(|e| panic!("{}: {e}", catalogue.display()));
        let mut eligible: Vec<&str> = text
            .lines()
            .filter(|line| line.contains("event-hook-eligible"))
            .filter_map(|line| line.strip_prefix('"')?.split('"').next())
            .collect();
        eligible.sort_unstable();
        assert_eq!(HOOK_EVENT_TYPES, eligible.as_slice());
        assert!(
            HOOK_EVENT_TYPES.len() <= 300,
            "one hook takes at most 300 types"
        );
        assert!(HOOK_EVENT_TYPES.contains(&"user.session.start"));
    }
}
