//! Event Hooks as Okta runs them: a management API, a one-time verification GET carrying
//! `X-Okta-Verification-Challenge`, and POSTs of `data.events` batches with the configured
//! authorization header to every ACTIVE and VERIFIED hook. Deliveries are best effort: 3 s
//! timeout, one retry after a timeout or a 5xx, none after a 4xx, then the batch is gone.

use okwatch_okta::OktaError;
use okwatch_store::{Cursor, EventQuery, Order, Store};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Most events in one delivery.
pub const BATCH: usize = 100;
/// How long Okta waits for an answer.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// A registered hook.
#[derive(Debug, Clone)]
pub struct Hook {
    /// Okta's object, without the auth secret.
    pub object: Value,
    /// Where deliveries go.
    pub uri: String,
    /// Headers sent with every request: the auth scheme's and the custom ones.
    pub headers: Vec<(String, String)>,
    /// Delivered up to this store position.
    pub delivered_seq: i64,
    /// Deliveries that reached the receiver (2xx).
    pub delivered: u64,
    /// Deliveries given up on.
    pub failed: u64,
}

impl Hook {
    fn active_and_verified(&self) -> bool {
        self.object["status"] == "ACTIVE" && self.object["verificationStatus"] == "VERIFIED"
    }
}

/// The org's hooks.
#[derive(Default)]
pub struct Hooks {
    hooks: Mutex<BTreeMap<String, Hook>>,
}

fn now_text() -> String {
    okwatch_model::format_timestamp(chrono::Utc::now())
}

fn with_links(mut object: Value, base: &str) -> Value {
    let id = object["id"].as_str().unwrap_or_default().to_string();
    let me = format!("{base}/api/v1/eventHooks/{id}");
    let toggle = if object["status"] == "ACTIVE" {
        ("deactivate", format!("{me}/lifecycle/deactivate"))
    } else {
        ("activate", format!("{me}/lifecycle/activate"))
    };
    object["_links"] = json!({
        "self": {"href": me, "hints": {"allow": ["GET", "PUT", "DELETE"]}},
        "verify": {"href": format!("{me}/lifecycle/verify"), "hints": {"allow": ["POST"]}},
        toggle.0: {"href": toggle.1, "hints": {"allow": ["POST"]}},
    });
    object
}

/// A hook definition as read from a create or replace body.
struct Definition {
    /// Okta's object (without the secret).
    object: Value,
    uri: String,
    headers: Vec<(String, String)>,
}

/// Reads a create or replace body.
fn read_definition(body: &Value) -> Result<Definition, OktaError> {
    let name = body["name"].as_str().unwrap_or_default();
    if name.is_empty() || name.len() > 255 {
        return Err(OktaError::validation(vec![
            "name: must be 1 to 255 characters.".into(),
        ]));
    }
    let config = &body["channel"]["config"];
    let uri = config["uri"].as_str().unwrap_or_default();
    if !(uri.starts_with("http://") || uri.starts_with("https://")) || uri.contains(' ') {
        return Err(OktaError::validation(vec![
            "channel.config.uri: must be an absolute http(s) URL without spaces.".into(),
        ]));
    }
    let items = body["events"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if items.is_empty() {
        return Err(OktaError::validation(vec![
            "events.items: subscribe to at least one event type.".into(),
        ]));
    }
    let mut headers = Vec::new();
    let mut shown_headers = Vec::new();
    for h in config["headers"].as_array().into_iter().flatten() {
        let (Some(k), Some(v)) = (h["key"].as_str(), h["value"].as_str()) else {
            return Err(OktaError::validation(vec![
                "channel.config.headers: each header needs a key and a value.".into(),
            ]));
        };
        headers.push((k.to_string(), v.to_string()));
        shown_headers.push(json!({"key": k, "value": v}));
    }
    let scheme = &config["authScheme"];
    let mut shown_scheme = Value::Null;
    if let (Some(k), Some(v)) = (scheme["key"].as_str(), scheme["value"].as_str()) {
        headers.push((k.to_string(), v.to_string()));
        // The secret is write-only: never shown again.
        shown_scheme = json!({"type": "HEADER", "key": k.to_lowercase()});
    }
    let object = json!({
        "name": name,
        "description": body.get("description").cloned().unwrap_or(Value::Null),
        "events": {"type": "EVENT_TYPE", "items": items, "filter": body["events"].get("filter").cloned().unwrap_or(Value::Null)},
        "channel": {"type": "HTTP", "version": "1.0.0", "config": {
            "uri": uri, "headers": shown_headers, "authScheme": shown_scheme, "method": "POST"}},
    });
    Ok(Definition {
        object,
        uri: uri.to_string(),
        headers,
    })
}

impl Hooks {
    /// All hooks, as Okta lists them.
    pub fn list(&self, base: &str) -> Vec<Value> {
        let hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
        hooks
            .values()
            .map(|h| with_links(h.object.clone(), base))
            .collect()
    }

    /// One hook.
    pub fn get(&self, id: &str, base: &str) -> Result<Value, OktaError> {
        let hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
        hooks
            .get(id)
            .map(|h| with_links(h.object.clone(), base))
            .ok_or_else(|| OktaError::not_found(format!("{id} (EventHook)")))
    }

    /// Creates a hook: ACTIVE and UNVERIFIED, as Okta does.
    pub fn create(&self, body: &Value, base: &str, id: String) -> Result<Value, OktaError> {
        let Definition {
            mut object,
            uri,
            headers,
        } = read_definition(body)?;
        let now = now_text();
        object["id"] = json!(id);
        object["status"] = json!("ACTIVE");
        object["verificationStatus"] = json!("UNVERIFIED");
        object["created"] = json!(now);
        object["lastUpdated"] = json!(now);
        object["createdBy"] = json!("00usimulatoradmin");
        let hook = Hook {
            object: object.clone(),
            uri,
            headers,
            delivered_seq: i64::MAX,
            delivered: 0,
            failed: 0,
        };
        self.hooks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, hook);
        Ok(with_links(object, base))
    }

    /// Replaces a hook's definition; a new channel must be verified again.
    pub fn replace(&self, id: &str, body: &Value, base: &str) -> Result<Value, OktaError> {
        let Definition {
            object,
            uri,
            headers,
        } = read_definition(body)?;
        let mut hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
        let hook = hooks
            .get_mut(id)
            .ok_or_else(|| OktaError::not_found(format!("{id} (EventHook)")))?;
        let channel_changed = hook.uri != uri || hook.headers != headers;
        for key in ["name", "description", "events", "channel"] {
            hook.object[key] = object[key].clone();
        }
        if channel_changed {
            hook.object["verificationStatus"] = json!("UNVERIFIED");
        }
        hook.object["lastUpdated"] = json!(now_text());
        hook.uri = uri;
        hook.headers = headers;
        Ok(with_links(hook.object.clone(), base))
    }

    /// Deletes a hook; Okta allows it only once the hook is INACTIVE.
    pub fn delete(&self, id: &str) -> Result<(), OktaError> {
        let mut hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
        let hook = hooks
            .get(id)
            .ok_or_else(|| OktaError::not_found(format!("{id} (EventHook)")))?;
        if hook.object["status"] == "ACTIVE" {
            return Err(OktaError::validation(vec![
                "status: an ACTIVE event hook cannot be deleted; deactivate it first.".into(),
            ]));
        }
        hooks.remove(id);
        Ok(())
    }

    /// ACTIVE or INACTIVE. Activating starts delivery from the newest stored event.
    pub fn set_active(
        &self,
        id: &str,
        active: bool,
        base: &str,
        newest_seq: i64,
    ) -> Result<Value, OktaError> {
        let mut hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
        let hook = hooks
            .get_mut(id)
            .ok_or_else(|| OktaError::not_found(format!("{id} (EventHook)")))?;
        let was_active = hook.object["status"] == "ACTIVE";
        hook.object["status"] = json!(if active { "ACTIVE" } else { "INACTIVE" });
        hook.object["lastUpdated"] = json!(now_text());
        if active && !was_active {
            hook.delivered_seq = newest_seq;
        }
        Ok(with_links(hook.object.clone(), base))
    }

    /// The one-time verification: a GET with a challenge that the receiver must echo.
    pub async fn verify(&self, id: &str, base: &str, newest_seq: i64) -> Result<Value, OktaError> {
        let (uri, headers) = {
            let hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
            let hook = hooks
                .get(id)
                .ok_or_else(|| OktaError::not_found(format!("{id} (EventHook)")))?;
            (hook.uri.clone(), hook.headers.clone())
        };
        let challenge = okwatch_okta::random::base62(40);
        let mut request_headers = headers.clone();
        request_headers.push(("X-Okta-Verification-Challenge".into(), challenge.clone()));
        let mut answered = false;
        for _attempt in 0..2 {
            match send(&uri, "GET", &request_headers, b"").await {
                Ok((200, body)) => {
                    answered = serde_json::from_slice::<Value>(&body)
                        .ok()
                        .and_then(|v| v["verification"].as_str().map(|s| s == challenge))
                        .unwrap_or(false);
                    break;
                }
                Ok((status, _)) if (400..500).contains(&status) => break,
                Ok(_) | Err(_) => continue,
            }
        }
        if !answered {
            return Err(OktaError::validation(vec![format!(
                "verification: {uri} did not answer the verification challenge with {{\"verification\": \"<challenge>\"}}."
            )]));
        }
        let mut hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
        let hook = hooks
            .get_mut(id)
            .ok_or_else(|| OktaError::not_found(format!("{id} (EventHook)")))?;
        hook.object["verificationStatus"] = json!("VERIFIED");
        hook.object["lastUpdated"] = json!(now_text());
        if hook.delivered_seq == i64::MAX {
            hook.delivered_seq = newest_seq;
        }
        Ok(with_links(hook.object.clone(), base))
    }

    /// Delivery counts per hook id: (delivered, failed).
    pub fn stats(&self) -> BTreeMap<String, (u64, u64)> {
        let hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
        hooks
            .iter()
            .map(|(id, h)| (id.clone(), (h.delivered, h.failed)))
            .collect()
    }

    /// Delivers every subscribed event stored since each active, verified hook's position.
    pub async fn deliver(&self, store: &Arc<dyn Store>, domain: &str) {
        let due: Vec<(String, Hook)> = {
            let hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
            hooks
                .iter()
                .filter(|(_, h)| h.active_and_verified())
                .map(|(id, h)| (id.clone(), h.clone()))
                .collect()
        };
        for (id, hook) in due {
            let query = EventQuery {
                order: Order::Arrival,
                limit: BATCH,
                after: Some(Cursor {
                    published_micros: 0,
                    seq: hook.delivered_seq,
                }),
                ..EventQuery::default()
            };
            let store = store.clone();
            let page = match tokio::task::spawn_blocking(move || store.search(&query)).await {
                Ok(Ok(page)) => page,
                _ => continue,
            };
            let Some(last) = page.events.last().map(|e| e.seq) else {
                continue;
            };
            let types: Vec<&str> = hook.object["events"]["items"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let events: Vec<Value> = page
                .events
                .into_iter()
                .map(|e| e.event)
                .filter(|e| e["eventType"].as_str().is_some_and(|t| types.contains(&t)))
                .collect();
            let outcome = if events.is_empty() {
                None
            } else {
                let body = json!({
                    "eventType": "com.okta.event_hook",
                    "eventTypeVersion": "1.0",
                    "cloudEventsVersion": "0.1",
                    "source": format!("https://{domain}/api/v1/eventHooks/{id}"),
                    "eventId": okwatch_okta::random::base62(32),
                    "eventTime": now_text(),
                    "contentType": "application/json",
                    "data": {"events": events},
                });
                let bytes = serde_json::to_vec(&body).unwrap_or_default();
                let mut ok = false;
                for _attempt in 0..2 {
                    match send(&hook.uri, "POST", &hook.headers, &bytes).await {
                        Ok((status, _)) if (200..300).contains(&status) => {
                            ok = true;
                            break;
                        }
                        Ok((status, _)) if (400..500).contains(&status) => break,
                        _ => continue,
                    }
                }
                Some(ok)
            };
            let mut hooks = self.hooks.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(h) = hooks.get_mut(&id) {
                h.delivered_seq = h.delivered_seq.max(last);
                match outcome {
                    Some(true) => h.delivered += 1,
                    Some(false) => {
                        h.failed += 1;
                        tracing::warn!("event hook {id}: delivery to {} failed", h.uri);
                    }
                    None => {}
                }
            }
        }
    }
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Header fields in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// Every value of header `name` (lower case).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// One HTTP request with Okta's 3-second timeout; the status and body.
pub async fn send(
    url: &str,
    method: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    request(url, method, headers, body)
        .await
        .map(|r| (r.status, r.body))
}

/// Like [`send`], with the answer's headers (lower-case names).
pub async fn request(
    url: &str,
    method: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<Reply> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let failed = |e: reqwest::Error| {
        let kind = if e.is_timeout() {
            std::io::ErrorKind::TimedOut
        } else if e.is_body() || e.is_decode() {
            std::io::ErrorKind::UnexpectedEof
        } else {
            std::io::ErrorKind::Other
        };
        std::io::Error::new(kind, e)
    };
    let client = match CLIENT.get() {
        Some(client) => client,
        None => {
            let built = okwatch_okta::client::client(TIMEOUT).map_err(failed)?;
            CLIENT.get_or_init(|| built)
        }
    };
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not an HTTP method"))?;
    let mut outgoing = client
        .request(method, url)
        .header(reqwest::header::ACCEPT, "application/json")
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec());
    for (key, value) in headers {
        outgoing = outgoing.header(key.as_str(), value.as_str());
    }
    let response = outgoing.send().await.map_err(failed)?;
    let status = response.status().as_u16();
    let fields = response
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response.bytes().await.map_err(failed)?.to_vec();
    Ok(Reply {
        status,
        headers: fields,
        body,
    })
}
