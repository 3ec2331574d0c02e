//! The web console that `okwatch serve` and `okwatch demo` serve: sign-in, the System Log
//! explorer and event pages. Pages are rendered by the server from compile-time-checked
//! templates (every value escaped); a small script of our own adds keyboard shortcuts and
//! copying; the stylesheet and script are inside the binary. Every page carries a strict
//! Content-Security-Policy (no inline script, no framing).

pub mod alerts;
mod apps;
mod apps_contracts;
mod apps_renewals;
pub mod auth;
pub mod chart;
pub mod columns;
pub mod export;
mod find;
pub mod map;
mod notifications;
mod pages;
mod people;
mod report_chart;
mod reports;
pub mod rest;
mod rest_alerts;
mod rest_manage;
mod rest_reports;
mod rest_rules;
mod rest_schedules;
mod rules;
pub mod saved;
pub mod schedules;
pub mod search;
pub mod tokens;
mod users;

use askama::Template;
use auth::{csrf_matches, Role, Sessions, SignedIn, Throttle};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use okwatch_okta::server::Authenticate;
use okwatch_store::{
    Accounts, AlertStore, Notifications, ReportSchedules, RuleStore, SavedSearches, Store,
    StoreError,
};
use std::net::SocketAddr;
use std::sync::Arc;

/// The session cookie's name.
pub const COOKIE: &str = "okwatch_session";

/// What the console needs.
#[derive(Clone)]
pub struct WebState {
    /// The events.
    pub store: Arc<dyn Store>,
    /// The users.
    pub accounts: Arc<dyn Accounts>,
    /// Saved searches.
    pub saved: Arc<dyn SavedSearches>,
    /// Alerts the detections raised.
    pub alerts: Arc<dyn AlertStore>,
    /// The detection rules people added or tuned.
    pub rules: Arc<dyn RuleStore>,
    /// Signed-in sessions.
    pub sessions: Arc<Sessions>,
    /// Failed sign-ins.
    pub throttle: Arc<Throttle>,
    /// Whether cookies get `Secure` (the console is reached over https).
    pub secure_cookies: bool,
    /// API tokens accepted by the JSON API (besides a console session).
    pub tokens: Option<Arc<dyn Authenticate>>,
    /// The orgs in the store, as last looked up (the explorer's org menu).
    orgs: Arc<std::sync::Mutex<Option<OrgList>>>,
    /// The notification queue and its delivery log.
    pub notifications: Arc<dyn Notifications>,
    /// The configured notification channels.
    pub channels: Arc<Vec<okwatch_notify::Channel>>,
    /// Report schedules, their runs, and what running one needs (events, the queue).
    pub reporting: Arc<dyn okwatch_notify::schedule::ScheduleStore>,
    /// The console's address as people reach it (links in notifications).
    pub public_url: Option<String>,
    /// Directories, contracts and the events, for SaaS usage; the queue, for renewal notices.
    pub usage: Arc<dyn okwatch_notify::renewal::RenewalStore>,
}

/// The orgs, and when they were looked up.
type OrgList = (std::time::Instant, Vec<String>);

impl WebState {
    /// A console over `store`: its events, users and saved searches.
    pub fn new<S>(store: Arc<S>, secure_cookies: bool) -> Self
    where
        S: Store
            + Accounts
            + SavedSearches
            + AlertStore
            + Notifications
            + RuleStore
            + ReportSchedules
            + okwatch_store::Directory
            + okwatch_store::Contracts
            + 'static,
    {
        WebState {
            store: store.clone(),
            usage: store.clone(),
            reporting: store.clone(),
            rules: store.clone(),
            accounts: store.clone(),
            alerts: store.clone(),
            notifications: store.clone(),
            channels: Arc::default(),
            public_url: None,
            saved: store,
            sessions: Arc::default(),
            throttle: Arc::default(),
            secure_cookies,
            tokens: None,
            orgs: Arc::default(),
        }
    }

    /// The orgs with stored events, looked up at most once a minute (a new org appears in the
    /// menu within a minute of its first event).
    pub async fn orgs(&self) -> Vec<String> {
        const FRESH: std::time::Duration = std::time::Duration::from_secs(60);
        if let Some((at, orgs)) = self.orgs.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if at.elapsed() < FRESH {
                return orgs.clone();
            }
        }
        let store = self.store.clone();
        let looked_up = tokio::task::spawn_blocking(move || store.stats()).await;
        match looked_up {
            Ok(Ok(stats)) => {
                let orgs: Vec<String> = stats.orgs.into_iter().map(|o| o.org).collect();
                *self.orgs.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((std::time::Instant::now(), orgs.clone()));
                orgs
            }
            Ok(Err(e)) => {
                tracing::warn!("cannot list the orgs: {e}");
                Vec::new()
            }
            Err(e) => {
                tracing::warn!("cannot list the orgs: {e}");
                Vec::new()
            }
        }
    }

    /// Sends notifications to these channels; links in them start with `public_url`.
    pub fn with_channels(
        mut self,
        channels: Arc<Vec<okwatch_notify::Channel>>,
        public_url: Option<String>,
    ) -> Self {
        self.channels = channels;
        self.public_url = public_url;
        self
    }

    /// Also accepts these API tokens at the JSON API.
    pub fn with_tokens(mut self, tokens: Arc<dyn Authenticate>) -> Self {
        self.tokens = Some(tokens);
        self
    }
}

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Nothing there.
    #[error("{0}")]
    NotFound(String),
    /// The request cannot be answered as asked.
    #[error("{0}")]
    BadRequest(String),
    /// Anything else.
    #[error("{0}")]
    Internal(String),
}

/// An engine's refusal is the request's fault; its store's failure is the store's.
impl From<okwatch_engine::EngineError> for WebError {
    fn from(e: okwatch_engine::EngineError) -> WebError {
        match e {
            okwatch_engine::EngineError::Store(e) => WebError::Store(e),
            okwatch_engine::EngineError::BadRequest(m) => WebError::BadRequest(m),
        }
    }
}

/// Runs a store call for a page on a blocking thread (DuckDB calls block).
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, WebError> {
    Ok(tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??)
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = match self {
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!("console page failed: {self}");
        }
        let page = MessagePage {
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            message: self.to_string(),
        };
        let mut response = html(&page).unwrap_or_else(|_| status.into_response());
        *response.status_mut() = status;
        response
    }
}

#[derive(Template)]
#[template(
    source = "{% extends \"base.html\" %}{% block title %}{{ title }} · okwatch{% endblock %}{% block content %}<h1>{{ title }}</h1><p>{{ message }}</p><p><a href=\"/\">Back to the System Log</a></p>{% endblock %}",
    ext = "html"
)]
struct MessagePage {
    title: String,
    message: String,
}

/// A rendered page.
fn html<T: Template>(page: &T) -> Result<Response, WebError> {
    let body = page
        .render()
        .map_err(|e| WebError::Internal(format!("rendering: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response())
}

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");
const ICON: &str = include_str!("../assets/favicon.svg");

/// The console's routes. `/login` is open; everything else needs a session and sends a
/// browser without one to the sign-in page.
pub fn router(state: WebState) -> Router {
    let pages = Router::new()
        .route("/", get(pages::explorer))
        .route("/events/{uuid}", get(pages::event))
        .route("/rows", get(pages::rows))
        .route("/map", get(map::map))
        .route("/alerts", get(alerts::page))
        .route("/alerts/{id}", get(alerts::one).post(alerts::change))
        .route("/apps", get(apps::list))
        .route("/apps/renewals", get(apps_renewals::page))
        .route("/find", get(find::page))
        .route("/find/suggest", get(find::suggest))
        .route("/people/{org}/{id}", get(people::page))
        .route("/apps/{org}/{id}", get(apps::one))
        .route(
            "/apps/{org}/{id}/contract",
            get(apps_contracts::page).post(apps_contracts::submit),
        )
        .route(
            "/apps/{org}/{id}/contract/delete",
            axum::routing::post(apps_contracts::remove),
        )
        .route(
            "/apps/{org}/contracts/import",
            get(apps_contracts::import_form).post(apps_contracts::import_submit),
        )
        .route("/apps/{org}/contracts.csv", get(apps_contracts::export))
        .route("/reports", get(reports::list))
        .route(
            "/reports/schedules",
            get(schedules::list).post(schedules::create),
        )
        .route(
            "/reports/schedules/{id}",
            get(schedules::one).post(schedules::save),
        )
        .route(
            "/reports/schedules/{id}/run",
            axum::routing::post(schedules::run),
        )
        .route(
            "/reports/schedules/{id}/delete",
            axum::routing::post(schedules::remove),
        )
        .route("/reports/{id}", get(reports::one))
        .route("/reports/{id}/export.csv", get(reports::csv))
        .route("/rules", get(rules::list).post(rules::create))
        .route("/rules/new", get(rules::new_page))
        .route("/rules/{id}", get(rules::one).post(rules::save))
        .route("/rules/{id}/switch", axum::routing::post(rules::switch))
        .route("/rules/{id}/delete", axum::routing::post(rules::remove))
        .route("/notifications", get(notifications::page))
        .route(
            "/notifications/test",
            axum::routing::post(notifications::test),
        )
        .route("/preferences", axum::routing::post(columns::save))
        .route("/export.csv", get(export::csv))
        .route("/export.ndjson", get(export::ndjson))
        .route("/logout", axum::routing::post(logout))
        .route("/saved", get(saved::list).post(saved::create))
        .route("/saved/{id}", axum::routing::post(saved::update))
        .route("/saved/{id}/delete", axum::routing::post(saved::delete))
        .route("/users", get(users::list).post(users::save))
        .route("/users/{name}/delete", axum::routing::post(users::remove))
        .route("/tokens", get(tokens::list).post(tokens::make))
        .route("/tokens/{id}/revoke", axum::routing::post(tokens::remove))
        .layer(from_fn_with_state(state.clone(), require_session));
    let api = Router::new()
        .route(&format!("{}/events", rest::BASE), get(rest::events))
        .route(&format!("{}/events/{{uuid}}", rest::BASE), get(rest::event))
        .route(&format!("{}/histogram", rest::BASE), get(rest::histogram))
        .route(&format!("{}/fields", rest::BASE), get(rest::fields))
        .route(
            &format!("{}/events/{{uuid}}/around", rest::BASE),
            get(rest_manage::around),
        )
        .route(&format!("{}/export.csv", rest::BASE), get(export::csv))
        .route(
            &format!("{}/export.ndjson", rest::BASE),
            get(export::ndjson),
        )
        .route(
            &format!("{}/saved-searches", rest::BASE),
            get(rest_manage::saved_list).post(rest_manage::saved_create),
        )
        .route(
            &format!("{}/saved-searches/{{id}}", rest::BASE),
            get(rest_manage::saved_one).delete(rest_manage::saved_delete),
        )
        .route(
            &format!("{}/tokens", rest::BASE),
            get(rest_manage::tokens_list).post(rest_manage::tokens_create),
        )
        .route(
            &format!("{}/tokens/{{id}}", rest::BASE),
            axum::routing::delete(rest_manage::tokens_delete),
        )
        .route(&format!("{}/apps", rest::BASE), get(apps::api_list))
        .route(
            &format!("{}/apps/{{org}}/{{id}}", rest::BASE),
            get(apps::api_one),
        )
        .route(
            &format!("{}/apps/{{org}}/{{id}}/contract", rest::BASE),
            axum::routing::put(apps_contracts::api_put).delete(apps_contracts::api_delete),
        )
        .route(
            &format!("{}/apps/{{org}}/contracts", rest::BASE),
            axum::routing::post(apps_contracts::api_import),
        )
        .route(
            &format!("{}/apps/{{org}}/contracts.csv", rest::BASE),
            get(apps_contracts::export),
        )
        .route(&format!("{}/renewals", rest::BASE), get(apps_renewals::api))
        .route(&format!("{}/find", rest::BASE), get(find::api))
        .route(
            &format!("{}/people/{{org}}/{{id}}", rest::BASE),
            get(people::api),
        )
        .route(&format!("{}/reports", rest::BASE), get(rest_reports::list))
        .route(
            &format!("{}/reports/{{id}}", rest::BASE),
            get(rest_reports::one),
        )
        .route(
            &format!("{}/schedules", rest::BASE),
            get(rest_schedules::list).post(rest_schedules::create),
        )
        .route(
            &format!("{}/schedules/{{id}}", rest::BASE),
            get(rest_schedules::one)
                .put(rest_schedules::replace)
                .delete(rest_schedules::remove),
        )
        .route(
            &format!("{}/schedules/{{id}}/run", rest::BASE),
            axum::routing::post(rest_schedules::run),
        )
        .route(&format!("{}/alerts", rest::BASE), get(rest_alerts::list))
        .route(
            &format!("{}/alerts/{{id}}", rest::BASE),
            get(rest_alerts::one).patch(rest_alerts::change),
        )
        .route(
            &format!("{}/rules", rest::BASE),
            get(rest_rules::list).post(rest_rules::create),
        )
        .route(
            &format!("{}/rules/{{id}}", rest::BASE),
            get(rest_rules::one)
                .put(rest_rules::replace)
                .patch(rest_rules::switch)
                .delete(rest_rules::remove),
        )
        .route(
            &format!("{}/notifications", rest::BASE),
            get(notifications::list),
        )
        .route(
            &format!("{}/notifications/test", rest::BASE),
            axum::routing::post(notifications::api_test),
        )
        .route(
            &format!("{}/users", rest::BASE),
            get(rest_manage::users_list),
        )
        .route(
            &format!("{}/users/{{name}}", rest::BASE),
            axum::routing::put(rest_manage::users_put).delete(rest_manage::users_delete),
        )
        .layer(from_fn_with_state(state.clone(), rest::require_caller));
    Router::new()
        .route(&format!("{}/openapi.json", rest::BASE), get(rest::openapi))
        .merge(api)
        .route("/login", get(login_page).post(login))
        .route("/assets/app.css", get(|| asset(CSS, "text/css")))
        .route("/assets/app.js", get(|| asset(JS, "text/javascript")))
        .route("/assets/favicon.svg", get(|| asset(ICON, "image/svg+xml")))
        .route("/favicon.ico", get(|| asset(ICON, "image/svg+xml")))
        .merge(pages)
        .with_state(state)
        .layer(from_fn(security_headers))
}

async fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Headers on every console answer: a CSP with no inline script, no framing, no sniffing.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    set("x-content-type-options", "nosniff");
    set("x-frame-options", "DENY");
    set("referrer-policy", "same-origin");
    response
}

pub(crate) fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Lets a request through with its [`SignedIn`] user, or sends the browser to sign in. Every
/// request that changes something must also carry the session's CSRF token.
async fn require_session(
    State(state): State<WebState>,
    mut request: Request,
    next: Next,
) -> Response {
    let user = cookie_value(request.headers(), COOKIE).and_then(|id| state.sessions.find(id));
    let Some(user) = user else {
        // Back to the page asked for after signing in; a form's target is no page to return to.
        let target = match request.method() {
            &axum::http::Method::GET => request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into()),
            _ => "/".into(),
        };
        return Redirect::to(&format!("/login?next={}", search::encode(&target))).into_response();
    };
    request.extensions_mut().insert(user);
    next.run(request).await
}

/// Reads an `application/x-www-form-urlencoded` body.
fn form(body: &[u8]) -> Vec<(String, String)> {
    okwatch_okta::server::query_pairs(std::str::from_utf8(body).ok())
}

fn field<'f>(form: &'f [(String, String)], name: &str) -> &'f str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The refusal of a form that does not carry its session's CSRF token (stale or forged); `None`
/// when it does. Every console form that changes something goes through here.
fn stale_form(user: &SignedIn, form: &[(String, String)]) -> Option<Response> {
    (!csrf_matches(&user.csrf, field(form, "csrf"))).then(|| {
        (
            StatusCode::FORBIDDEN,
            "The form is stale or forged (CSRF token).",
        )
            .into_response()
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    message: Option<String>,
    name: String,
    next: String,
    /// The sign-in form's own CSRF token, also in the `okwatch_login` cookie: a page elsewhere
    /// cannot post a sign-in (and sign a victim in to the attacker's account), because it can
    /// neither read the cookie nor set it.
    csrf: String,
}

/// The cookie that holds the sign-in form's token.
const LOGIN_COOKIE: &str = "okwatch_login";

/// The sign-in page, with a new form token set in its cookie.
fn login_form(message: Option<String>, name: String, next: String, secure: bool) -> Response {
    let csrf = okwatch_okta::random::base62(32);
    let page = LoginPage {
        message,
        name,
        next,
        csrf: csrf.clone(),
    };
    let mut response = html(&page).unwrap_or_else(IntoResponse::into_response);
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{LOGIN_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// Only a path on this site: an open redirect would let a link sign people in to elsewhere.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".into()
    }
}

async fn login_page(
    State(state): State<WebState>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    login_form(
        None,
        String::new(),
        safe_next(field(&pairs, "next")),
        state.secure_cookies,
    )
}

async fn login(State(state): State<WebState>, request: Request) -> Response {
    let connect = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied();
    let form_cookie = cookie_value(request.headers(), LOGIN_COOKIE)
        .unwrap_or_default()
        .to_string();
    let Ok(body) = axum::body::to_bytes(request.into_body(), 64 * 1024).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response();
    };
    let form = form(&body);
    let (name, password) = (field(&form, "name"), field(&form, "password"));
    let next = safe_next(field(&form, "next"));
    let address = connect.map_or_else(String::new, |c| c.0.ip().to_string());
    let keys = [format!("user:{name}"), format!("ip:{address}")];
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let refuse = |status: StatusCode, message: &str| {
        let mut response = login_form(
            Some(message.into()),
            name.to_string(),
            next.clone(),
            state.secure_cookies,
        );
        *response.status_mut() = status;
        response
    };
    if !csrf_matches(&form_cookie, field(&form, "csrf")) {
        return refuse(
            StatusCode::FORBIDDEN,
            "The sign-in form had expired. Sign in again.",
        );
    }
    if state.throttle.blocked(&keys) {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins. Wait five minutes, then try again.",
        );
    }
    let accounts = state.accounts.clone();
    let (who, secret) = (name.to_string(), password.to_string());
    // Verifying a hash takes tens of milliseconds of CPU: not on the async threads.
    let verified = tokio::task::spawn_blocking(move || -> Result<Option<Role>, StoreError> {
        Ok(accounts.user(&who)?.and_then(|user| {
            auth::verify_password(&user.password_hash, &secret)
                .then(|| Role::parse(&user.role))
                .flatten()
        }))
    })
    .await;
    match verified {
        Ok(Ok(Some(role))) => {
            let id = state.sessions.start(name, role);
            tracing::info!(user = %name, "signed in to the console");
            let secure = if state.secure_cookies { "; Secure" } else { "" };
            let cookie = format!(
                "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                auth::SESSION_IDLE.as_secs()
            );
            let mut response = Redirect::to(&next).into_response();
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, v);
            }
            response
        }
        Ok(Ok(None)) => {
            state.throttle.failed(&keys);
            tracing::warn!(user = %name, %address, "failed console sign-in");
            refuse(StatusCode::UNAUTHORIZED, "Wrong user or password.")
        }
        Ok(Err(e)) => WebError::from(e).into_response(),
        Err(e) => WebError::Internal(e.to_string()).into_response(),
    }
}

async fn logout(
    State(state): State<WebState>,
    axum::Extension(user): axum::Extension<SignedIn>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refused) = stale_form(&user, &form(&body)) {
        return refused;
    }
    if let Some(id) = cookie_value(&headers, COOKIE) {
        state.sessions.end(id);
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("okwatch_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/events/1?x=2"), "/events/1?x=2");
        for bad in ["https://evil.example", "//evil.example", "/\\evil", ""] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; okwatch_session=abc; b=2"),
        );
        assert_eq!(cookie_value(&headers, COOKIE), Some("abc"));
        assert_eq!(cookie_value(&headers, "c"), None);
    }
}
