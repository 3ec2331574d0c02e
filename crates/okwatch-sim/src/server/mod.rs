//! The Okta org simulator: a stand-in org over HTTP for tests, demos and load.
//!
//! It serves the generator's org through Okta's API shapes: `/api/v1/logs` (the same code as
//! `okwatch serve`, with Okta's 90-day retention and 180-day `since` limit), the directory
//! (`/api/v1/users`, `/groups`, `/apps`, `/apps/{id}/users`) and `/api/v1/eventHooks` with real
//! deliveries. `/api/v1/logs` is rate limited per token as Okta does, and faults can be
//! switched on (see [`faults`]). API service apps get OAuth 2.0 tokens from
//! `/oauth2/v1/token`, with DPoP when they require it (see [`oauth`]).

pub mod directory;
pub mod faults;
pub mod hooks;
pub mod live;
pub mod oauth;

use crate::incidents::{self, GroundTruth, IncidentKind};
use crate::Generator;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DurationRound, TimeDelta};
use faults::{FaultInjector, Faults};
use hooks::Hooks;
use live::Feeder;
use oauth::{AuthorizationServer, ServiceApp};
use okwatch_okta::ratelimit::RateLimiter;
use okwatch_okta::server::{base_url, list_logs, query_pairs, request_id, Caller, LogsState};
use okwatch_okta::{links, LogsApi, LogsPolicy, OktaError};
use okwatch_store::{Store, StoreError};
use okwatch_store_duckdb::DuckDbStore;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to run the simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The seed of the org and its history.
    pub seed: u64,
    /// People in the org.
    pub users: usize,
    /// Days of history stored at start.
    pub days: u32,
    /// Live events per minute; `None` is the org's natural pace.
    pub events_per_minute: Option<f64>,
    /// The API token clients must present.
    pub token: String,
    /// `/api/v1/logs` requests per minute per token.
    pub rate_limit: u32,
    /// Faults to inject.
    pub faults: Faults,
    /// Incidents to plant: spread over the history when there is some, else in the first
    /// minutes of live activity.
    pub incidents: Vec<IncidentKind>,
    /// API service apps that may get OAuth 2.0 access tokens.
    pub service_apps: Vec<ServiceApp>,
}

/// A running simulated org.
pub struct Simulator {
    generator: Arc<Generator>,
    store: Arc<DuckDbStore>,
    hooks: Hooks,
    injector: Arc<FaultInjector>,
    feeder: Mutex<Feeder>,
    limiter: RateLimiter,
    /// The management API's own budget (Okta counts each endpoint family apart).
    directory_limiter: RateLimiter,
    config: SimConfig,
    hook_ids: Mutex<crate::rng::Rng>,
    truth: Vec<GroundTruth>,
    authorization: Arc<AuthorizationServer>,
}

/// The org name the simulator stores its events under.
pub const ORG: &str = "sim";

impl Simulator {
    /// Draws the org and stores its history up to now.
    pub fn new(config: SimConfig) -> Result<Arc<Simulator>, StoreError> {
        let generator = Arc::new(Generator::new(config.seed, config.users));
        let store = Arc::new(DuckDbStore::open_in_memory()?);
        let injector = Arc::new(FaultInjector::new(config.faults, config.seed));
        let now = chrono::Utc::now();
        let mut feeder = Feeder::new(
            generator.clone(),
            store.clone(),
            ORG,
            injector.clone(),
            config.events_per_minute,
            now,
        );
        feeder.backfill(config.days, now)?;
        let count = config.incidents.len() as i64;
        let mut truth = Vec::new();
        for (i, &kind) in config.incidents.iter().enumerate() {
            let i = i as i64;
            let start = if config.days > 0 {
                // Evenly spread over the history up to the start of today, so that the same
                // seed on the same day plants the same incidents at the same times.
                let today = now.duration_trunc(TimeDelta::days(1)).unwrap_or(now);
                let span = TimeDelta::days(i64::from(config.days));
                let at = today - span + span * (i as i32 + 1) / (count as i32 + 1);
                // Not on the hour: real incidents do not start at round times.
                let jitter = TimeDelta::seconds(((config.seed + i as u64 * 7_919) % 3_571) as i64);
                (at + jitter).max(now - span)
            } else {
                now + TimeDelta::seconds(30 + 60 * i)
            };
            let incident = incidents::plant(generator.org(), config.seed, kind, start, i as u64);
            if config.days > 0 {
                feeder.store_history(incident.events, now)?;
            } else {
                feeder.plant(incident.events);
            }
            truth.push(incident.truth);
        }
        Ok(Arc::new(Simulator {
            generator,
            store,
            hooks: Hooks::default(),
            injector,
            feeder: Mutex::new(feeder),
            limiter: RateLimiter::new(config.rate_limit, Duration::from_secs(60)),
            directory_limiter: RateLimiter::new(config.rate_limit, Duration::from_secs(60)),
            hook_ids: Mutex::new(crate::rng::Rng::new(config.seed, 0x600c)),
            authorization: Arc::new(AuthorizationServer::new(
                config.service_apps.clone(),
                vec![config.token.clone()],
                config.seed,
            )),
            config,
            truth,
        }))
    }

    /// The simulated org.
    pub fn org(&self) -> &crate::Org {
        self.generator.org()
    }

    /// The simulator's store (everything the org has logged).
    pub fn store(&self) -> &Arc<DuckDbStore> {
        &self.store
    }

    /// What was planted, for checking detections against.
    pub fn ground_truth(&self) -> &[GroundTruth] {
        &self.truth
    }

    /// The token clients must present.
    pub fn token(&self) -> &str {
        &self.config.token
    }

    /// The org's authorization server (its token counters, revocation).
    pub fn authorization_server(&self) -> &AuthorizationServer {
        &self.authorization
    }

    /// Adds events to the live stream.
    pub fn plant(&self, events: Vec<Value>) {
        self.feeder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .plant(events);
    }

    /// Stores the events due by now; returns how many.
    pub fn tick(&self) -> Result<u64, StoreError> {
        self.feeder
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tick(chrono::Utc::now())
    }

    fn newest_seq(&self) -> i64 {
        self.store.last_seq()
    }

    /// Runs the live clock: new events every second and hook deliveries, until the runtime
    /// stops.
    pub async fn run(self: Arc<Self>) {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            let sim = self.clone();
            match tokio::task::spawn_blocking(move || sim.tick()).await {
                Ok(Err(e)) => tracing::error!("simulator could not store events: {e}"),
                Err(e) => tracing::error!("simulator tick panicked: {e}"),
                Ok(Ok(_)) => {}
            }
            let store: Arc<dyn Store> = self.store.clone();
            self.hooks.deliver(&store, &self.org().domain).await;
        }
    }

    /// The HTTP API.
    pub fn router(self: &Arc<Self>) -> Router {
        let logs = LogsState {
            api: Arc::new(LogsApi::new(self.store.clone(), LogsPolicy::okta())),
            public_url: None,
        };
        let logs_routes = Router::new()
            .route(okwatch_okta::logs::PATH, get(list_logs))
            .with_state(logs)
            .layer(from_fn_with_state(self.injector.clone(), faults::inject))
            .layer(from_fn_with_state(self.clone(), rate_limit));
        let management = Router::new()
            .route("/api/v1/users", get(list_users))
            .route("/api/v1/users/{id}", get(get_object))
            .route("/api/v1/groups", get(list_groups))
            .route("/api/v1/groups/{id}", get(get_object))
            .route("/api/v1/groups/{id}/users", get(list_group_users))
            .route("/api/v1/apps", get(list_apps))
            .route("/api/v1/apps/{id}", get(get_object))
            .route("/api/v1/apps/{id}/users", get(list_app_users))
            .route("/api/v1/eventHooks", get(list_hooks).post(create_hook))
            .route(
                "/api/v1/eventHooks/{id}",
                get(get_hook).put(replace_hook).delete(delete_hook),
            )
            .route(
                "/api/v1/eventHooks/{id}/lifecycle/{action}",
                post(hook_lifecycle),
            )
            .with_state(self.clone())
            .layer(from_fn_with_state(self.injector.clone(), faults::inject))
            .layer(from_fn_with_state(self.clone(), directory_rate_limit));
        let token = Router::new()
            .route(okwatch_okta::oauth::TOKEN_PATH, post(oauth::token_endpoint))
            .with_state(self.authorization.clone());
        logs_routes
            .merge(management)
            .fallback(|| async { OktaError::not_found("the requested path").into_response() })
            .layer(from_fn_with_state(
                self.authorization.clone(),
                oauth::authenticate,
            ))
            .merge(token)
            .layer(from_fn(request_id))
    }
}

/// Okta's per-token budget on `/api/v1/logs`, told in `X-Rate-Limit-*` on every answer.
async fn rate_limit(State(sim): State<Arc<Simulator>>, request: Request, next: Next) -> Response {
    limited(&sim.limiter, request, next).await
}

/// The same on the management API (users, groups, apps, hooks), a budget of its own.
async fn directory_rate_limit(
    State(sim): State<Arc<Simulator>>,
    request: Request,
    next: Next,
) -> Response {
    limited(&sim.directory_limiter, request, next).await
}

async fn limited(limiter: &RateLimiter, request: Request, next: Next) -> Response {
    let key = request
        .extensions()
        .get::<Caller>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let decision = limiter.check(&key, std::time::SystemTime::now());
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        OktaError::rate_limited().into_response()
    };
    decision.apply(response.headers_mut());
    response
}

fn listing_response(
    result: Result<(Vec<Value>, Option<String>), OktaError>,
    self_url: String,
) -> Response {
    match result {
        Ok((items, next)) => {
            let mut response = Json(items).into_response();
            let headers = response.headers_mut();
            for (url, rel) in std::iter::once((self_url, "self")).chain(next.map(|n| (n, "next"))) {
                if let Ok(v) = HeaderValue::from_str(&links::header_value(&url, rel)) {
                    headers.append(header::LINK, v);
                }
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

fn list(sim: &Simulator, listing: directory::Listing<'_>, request: &Request) -> Response {
    let params = query_pairs(request.uri().query());
    let base = base_url(None, request.headers());
    let path = request.uri().path().to_string();
    let self_url = links::url(&base, &path, &params);
    listing_response(
        directory::page(sim.org(), listing, &base, &path, &params),
        self_url,
    )
}

async fn list_users(State(sim): State<Arc<Simulator>>, request: Request) -> Response {
    list(&sim, directory::Listing::Users, &request)
}

async fn list_groups(State(sim): State<Arc<Simulator>>, request: Request) -> Response {
    list(&sim, directory::Listing::Groups, &request)
}

async fn list_apps(State(sim): State<Arc<Simulator>>, request: Request) -> Response {
    list(&sim, directory::Listing::Apps, &request)
}

async fn list_app_users(
    State(sim): State<Arc<Simulator>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    list(&sim, directory::Listing::AppUsers(&id), &request)
}

async fn list_group_users(
    State(sim): State<Arc<Simulator>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    list(&sim, directory::Listing::GroupUsers(&id), &request)
}

async fn get_object(
    State(sim): State<Arc<Simulator>>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let kind = request.uri().path().split('/').nth(3).unwrap_or_default();
    let base = base_url(None, request.headers());
    match directory::find(sim.org(), kind, &id, &base) {
        Some(object) => Json(object).into_response(),
        None => OktaError::not_found(format!("{id} ({kind})")).into_response(),
    }
}

fn hook_answer(result: Result<Value, OktaError>) -> Response {
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn list_hooks(State(sim): State<Arc<Simulator>>, headers: HeaderMap) -> Response {
    Json(sim.hooks.list(&base_url(None, &headers))).into_response()
}

fn json_body(body: &[u8]) -> Result<Value, OktaError> {
    serde_json::from_slice(body).map_err(OktaError::bad_body)
}

async fn create_hook(
    State(sim): State<Arc<Simulator>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let id = {
        let mut rng = sim.hook_ids.lock().unwrap_or_else(|e| e.into_inner());
        rng.okta_id("who")
    };
    hook_answer(json_body(&body).and_then(|b| sim.hooks.create(&b, &base_url(None, &headers), id)))
}

async fn get_hook(
    State(sim): State<Arc<Simulator>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    hook_answer(sim.hooks.get(&id, &base_url(None, &headers)))
}

async fn replace_hook(
    State(sim): State<Arc<Simulator>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    hook_answer(
        json_body(&body).and_then(|b| sim.hooks.replace(&id, &b, &base_url(None, &headers))),
    )
}

async fn delete_hook(State(sim): State<Arc<Simulator>>, Path(id): Path<String>) -> Response {
    match sim.hooks.delete(&id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn hook_lifecycle(
    State(sim): State<Arc<Simulator>>,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let base = base_url(None, &headers);
    let newest = {
        let sim = sim.clone();
        tokio::task::spawn_blocking(move || sim.newest_seq())
            .await
            .unwrap_or(0)
    };
    hook_answer(match action.as_str() {
        "activate" => sim.hooks.set_active(&id, true, &base, newest),
        "deactivate" => sim.hooks.set_active(&id, false, &base, newest),
        "verify" => sim.hooks.verify(&id, &base, newest).await,
        _ => Err(OktaError::not_found(format!("lifecycle action {action}"))),
    })
}
