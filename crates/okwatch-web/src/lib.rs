//! The web console that `okwatch serve` and `okwatch demo` serve: sign-in, the System Log
//! explorer and event pages. Pages are rendered by the server from compile-time-checked
//! templates (every value escaped); a small script of our own adds keyboard shortcuts and
//! copying; the stylesheet and script are inside the binary. Every page carries a strict
//! Content-Security-Policy (no inline script, no framing).

pub mod access;
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
mod routes;
mod rules;
pub mod saved;
pub mod schedules;
pub mod search;
pub mod tokens;
mod users;

use askama::Template;
use auth::{csrf_matches, Role, Sessions, Throttle};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
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
    /// Password checks running at once (each takes ~19 MB and tens of milliseconds).
    pub hashing: Arc<tokio::sync::Semaphore>,
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
            hashing: Arc::new(tokio::sync::Semaphore::new(2)),
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
            WebError::BadRequest(_) | WebError::Store(StoreError::Invalid(_)) => {
                StatusCode::BAD_REQUEST
            }
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

pub use routes::router;

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

/// Reads an `application/x-www-form-urlencoded` body.
fn form(body: &[u8]) -> Vec<(String, String)> {
    okwatch_okta::server::query_pairs(std::str::from_utf8(body).ok())
}

fn field<'f>(form: &'f [(String, String)], name: &str) -> &'f str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
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
/// Browsers drop tabs and newlines from a URL and read `\\` in a path as `/`, so `/\t/evil`
/// is `//evil` to them: the path must start with one `/`, and hold no control character
/// anywhere and no backslash, also once decoded again (a proxy in front may decode twice).
fn safe_next(next: &str) -> String {
    fn local(url: &str) -> bool {
        let path = url.split(['?', '#']).next().unwrap_or_default();
        path.starts_with('/')
            && !path.starts_with("//")
            && !path.contains('\\')
            && !url.chars().any(char::is_control)
    }
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let twice = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    if next.len() <= 4096 && local(next) && local(&twice) {
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
    let refuse = |status: StatusCode, message: &str| {
        let mut response = login_form(
            Some(message.into()),
            auth::kept_name(name).to_string(),
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
    // Counted before any hashing: parallel guesses are refused, not checked.
    let Some(attempt) = state.throttle.begin(name, &address) else {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins. Wait five minutes, then try again.",
        );
    };
    // Each check takes tens of milliseconds and ~19 MB: a few at a time, whatever arrives.
    let Ok(Ok(_permit)) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        state.hashing.clone().acquire_owned(),
    )
    .await
    else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "okwatch is busy checking other sign-ins. Try again in a moment.",
        );
    };
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
            attempt.failed();
            let user = auth::kept_name(name);
            tracing::warn!(%user, %address, "failed console sign-in");
            refuse(StatusCode::UNAUTHORIZED, "Wrong user or password.")
        }
        Ok(Err(e)) => WebError::from(e).into_response(),
        Err(e) => WebError::Internal(e.to_string()).into_response(),
    }
}

/// `POST /logout` (its CSRF token checked by the access layer).
async fn logout(State(state): State<WebState>, headers: HeaderMap) -> Response {
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
        // A search's own text may hold what a path may not.
        let search = "/?filter=actor.alternateId%20eq%20%22a%5C%22b%22";
        assert_eq!(safe_next(search), search);
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "",
            "/\t/evil.example",
            "/\n/evil.example",
            "/%09/evil.example",
            "/%2F/evil.example",
            "/%5C/evil.example",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
    }

    /// The Content-Security-Policy blocks inline handlers: one in a template is a control that
    /// silently does nothing.
    #[test]
    fn no_template_has_an_inline_handler() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
            for (at, _) in text.match_indices(" on") {
                let name: String = text[at + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect();
                let after = text[at + 1 + name.len()..].trim_start();
                assert!(
                    !(name.len() > 2 && after.starts_with('=')),
                    "{}: inline handler `{name}`",
                    path.display()
                );
            }
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
