//! The HTTP face: an axum router for `GET /api/v1/logs` with Okta's authentication, and the
//! helpers the simulator shares (query decoding, the base URL, Okta's response headers).

use crate::auth::{token_from_header, TokenStore};
use crate::error::OktaError;
use crate::links;
use crate::logs::{LogsApi, PATH};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

/// Who may call the API.
pub trait Authenticate: Send + Sync {
    /// A name for the credential (used as the rate-limit key), if `token` is accepted.
    fn authenticate(&self, token: &str) -> Option<String>;
}

impl Authenticate for TokenStore {
    fn authenticate(&self, token: &str) -> Option<String> {
        self.verify(token).map(|t| t.id)
    }
}

/// The credential an authenticated request was made with, for handlers and later layers.
#[derive(Debug, Clone)]
pub struct Caller(pub String);

/// Refuses requests without an accepted token, as Okta does (401, `E0000011`).
pub async fn require_token(
    State(auth): State<Arc<dyn Authenticate>>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(token_from_header)
        .and_then(|token| auth.authenticate(token));
    match caller {
        Some(caller) => {
            request.extensions_mut().insert(Caller(caller));
            next.run(request).await
        }
        None => OktaError::invalid_token().into_response(),
    }
}

/// Adds `X-Okta-Request-Id` to every response.
pub async fn request_id(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Ok(id) = HeaderValue::from_str(&crate::random::request_id()) {
        response.headers_mut().insert("x-okta-request-id", id);
    }
    response
}

/// Decodes a query string into its pairs, in order (`+` is a space).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// The scheme and host a client used to reach us: the configured public URL, else `http://`
/// and the `Host` header.
pub fn base_url(public_url: Option<&str>, headers: &HeaderMap) -> String {
    if let Some(url) = public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

/// What the logs router needs.
#[derive(Clone)]
pub struct LogsState {
    /// The API.
    pub api: Arc<LogsApi>,
    /// The URL clients reach us by, when not simply the `Host` header.
    pub public_url: Option<Arc<str>>,
}

/// `GET /api/v1/logs`.
pub async fn list_logs(State(state): State<LogsState>, request: Request) -> Response {
    let params = query_pairs(request.uri().query());
    let base = base_url(state.public_url.as_deref(), request.headers());
    let api = state.api.clone();
    let answer = tokio::task::spawn_blocking(move || {
        let req = api.request(params, chrono::Utc::now())?;
        api.page(&base, &req)
    })
    .await
    .unwrap_or_else(|e| {
        tracing::error!("System Log request panicked: {e}");
        Err(OktaError::internal())
    });
    match answer {
        Ok(page) => {
            let mut response = axum::Json(page.events).into_response();
            let headers = response.headers_mut();
            let mut add = |url: &str, rel: &str| {
                if let Ok(v) = HeaderValue::from_str(&links::header_value(url, rel)) {
                    headers.append(header::LINK, v);
                }
            };
            add(&page.self_url, "self");
            if let Some(next) = &page.next_url {
                add(next, "next");
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

/// The System Log route, behind token authentication.
pub fn logs_router(state: LogsState, auth: Arc<dyn Authenticate>) -> Router {
    logs_routes(state).layer(axum::middleware::from_fn_with_state(auth, require_token))
}

/// The System Log API's route without a credential check, for a server whose own layer
/// decides who may call it (`okwatch serve`'s access table).
pub fn logs_routes(state: LogsState) -> Router {
    Router::new().route(PATH, get(list_logs)).with_state(state)
}
