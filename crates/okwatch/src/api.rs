//! okwatch's HTTP API, as `okwatch serve` and `okwatch demo` serve it: Okta's System Log API,
//! MCP, the store API other okwatch commands read through, the status API, `/health`, and the
//! Event Hook receiver, and the web console. Everything but `/health` and the hook receiver
//! (which checks the org's hook secret instead) needs an API token; the console's pages need
//! a signed-in user instead (and its sign-in page nothing).

use crate::commands::remote;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use okwatch_collect::hooks::{self, MAX_DELIVERY_BYTES};
use okwatch_collect::{CollectState, Secret, StatusBoard};
use okwatch_okta::server::{logs_routes, request_id, LogsState};
use okwatch_store::Store;
use okwatch_store_duckdb::DuckDbStore;
use okwatch_web::access::{declared, Declared};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// Where the status API answers.
pub const STATUS_PATH: &str = "/api/okwatch/v1/status";

/// What the API serves.
pub struct ApiParts {
    /// The store.
    pub store: Arc<DuckDbStore>,
    /// The base of paging links behind a proxy.
    pub public_url: Option<String>,
    /// Each org's collection.
    pub status: StatusBoard,
    /// Each org's Event Hook secret: deliveries for an org without one are refused.
    pub hook_secrets: HashMap<String, Secret>,
    /// Where events that cannot be stored are kept aside (`DATA_DIR/rejects`).
    pub rejects_dir: Option<std::path::PathBuf>,
    /// The web console.
    pub web: okwatch_web::WebState,
}

/// The router.
pub fn router(parts: ApiParts) -> Router {
    let ApiParts {
        store,
        public_url,
        status,
        hook_secrets,
        rejects_dir,
        web,
    } = parts;
    let logs = LogsState {
        api: Arc::new(okwatch_okta::LogsApi::new(
            store.clone(),
            okwatch_okta::LogsPolicy::default(),
        )),
        public_url: public_url.as_deref().map(Arc::from),
    };
    // Who may call each of these is declared in okwatch_web::access::TABLE, applied by the
    // web router's one layer.
    let mcp = Router::new().route_service(
        declared("/mcp"),
        okwatch_mcp::http_service(okwatch_mcp::StoreSource::new(store.clone())),
    );
    let status_api = Router::new()
        .at(STATUS_PATH, get(status_answer))
        .at("/metrics", get(metrics_answer))
        .with_state(status.clone());
    let store_api = remote::routes(store.clone());
    let health = Router::new()
        .at("/health", get(health_answer))
        .with_state(status.clone());
    let hook_routes = Router::new()
        .at("/hooks/okta/{org}", get(hook_verify).post(hook_deliver))
        .layer(DefaultBodyLimit::max(MAX_DELIVERY_BYTES))
        .with_state(HookState {
            store,
            status,
            secrets: Arc::new(hook_secrets),
            rejects_dir: rejects_dir.map(Arc::from),
        });
    // Okta's crate registers the System Log API's path itself; it is in the table all the same.
    declared(okwatch_okta::logs::PATH);
    let others = logs_routes(logs)
        .merge(mcp)
        .merge(status_api)
        .merge(store_api)
        .merge(health)
        .merge(hook_routes);
    okwatch_web::router(web, others).layer(axum::middleware::from_fn(request_id))
}

/// `GET /api/okwatch/v1/status`: every org's collection, in full.
async fn status_answer(State(status): State<StatusBoard>) -> Json<serde_json::Value> {
    Json(json!({ "orgs": status.snapshot() }))
}

/// `GET /metrics`: Prometheus' text format (scrape with a bearer token).
async fn metrics_answer(State(status): State<StatusBoard>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        okwatch_collect::status::prometheus_text(&status.snapshot()),
    )
        .into_response()
}

/// `GET /health`, without a credential: up or not, and each org's state and lag (nothing a
/// stranger could use). 503 when an org's collection has stopped.
async fn health_answer(State(status): State<StatusBoard>) -> Response {
    let orgs = status.snapshot();
    let stopped = orgs.iter().any(|o| o.state == CollectState::Stopped);
    let body = json!({
        "status": if stopped { "degraded" } else { "ok" },
        "orgs": orgs.iter().map(|o| json!({
            "org": o.org, "state": o.state, "lag_seconds": o.lag_seconds,
        })).collect::<Vec<_>>(),
    });
    let code = if stopped {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(body)).into_response()
}

#[derive(Clone)]
struct HookState {
    store: Arc<DuckDbStore>,
    status: StatusBoard,
    secrets: Arc<HashMap<String, Secret>>,
    rejects_dir: Option<Arc<std::path::Path>>,
}

fn no_hook(org: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": format!("no Event Hook secret is configured for org `{org}`") })),
    )
        .into_response()
}

/// Okta's one-time verification: echo the challenge.
async fn hook_verify(
    State(hooks): State<HookState>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !hooks.secrets.contains_key(&org) {
        return no_hook(&org);
    }
    match headers
        .get("x-okta-verification-challenge")
        .and_then(|v| v.to_str().ok())
    {
        Some(challenge) => Json(hooks::verification_answer(challenge)).into_response(),
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "no X-Okta-Verification-Challenge header" })),
        )
            .into_response(),
    }
}

/// A delivery: checked, stored durably, then answered (200), well inside Okta's 3 seconds.
async fn hook_deliver(
    State(hooks): State<HookState>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(secret) = hooks.secrets.get(&org) else {
        return no_hook(&org);
    };
    let authorization = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    let events = match hooks::read_delivery(secret, authorization, &body) {
        Ok(events) => events,
        Err(refusal) => {
            hooks.status.update(&org, |s| s.hook_refused += 1);
            tracing::warn!(%org, "refused an Event Hook delivery: {refusal}");
            let code = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
            return (code, Json(json!({ "error": refusal.to_string() }))).into_response();
        }
    };
    let (store, status, name) = (hooks.store.clone(), hooks.status.clone(), org.clone());
    let rejects = hooks.rejects_dir.clone();
    let stored = tokio::task::spawn_blocking(move || {
        hooks::store_delivery(
            store.as_ref() as &dyn Store,
            &status,
            &name,
            events,
            rejects.as_deref(),
        )
    })
    .await;
    match stored
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
    {
        Ok(_) => StatusCode::OK.into_response(),
        // A 5xx: Okta retries once, and the poller reads the events anyway.
        Err(e) => {
            tracing::error!(%org, "storing an Event Hook delivery failed: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
