//! Who may call what: every route `okwatch serve` answers, declared once with the role it
//! needs, how its caller proves who they are, and whether it changes something (and so needs
//! the session's CSRF token when a browser calls it). One layer ([`enforce`]) applies the table
//! to every request before any handler runs; handlers only decide what depends on the record
//! (whose saved search, whose token).
//!
//! The table fails closed: a path registered without an entry panics when the router is built
//! ([`Declared::at`]), and a method a path's entries do not name is answered 405 before its
//! handler could run.

use crate::auth::{csrf_matches, Role, SignedIn, Via};
use crate::{cookie_value, WebState, COOKIE};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::MethodRouter;
use axum::Router;
use serde_json::json;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone: the sign-in page, assets, `/health`, the OpenAPI document, and Event Hook
    /// deliveries (whose handler checks the org's hook secret).
    Open,
    /// A user with at least this role (a token acts with its owner's role).
    Role(Role),
    /// Only the server's own credential, which other okwatch commands on this machine read from
    /// `serve.json`: the store API, which reads anything for them.
    Local,
}

/// How a caller proves who they are, and how a refusal is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Console pages: a session cookie; without one, a browser is sent to sign in.
    Page,
    /// The console's JSON API: a session cookie (changes carry `X-CSRF-Token`) or an API token;
    /// refusals in JSON.
    Api,
    /// Token-only APIs (Okta's System Log API, MCP, status, metrics, the store API): refusals
    /// in Okta's error shape.
    Token,
}

/// One route of the table.
#[derive(Debug, Clone, Copy)]
pub struct RouteAccess {
    /// The method (`*`: any; GET includes HEAD).
    pub method: &'static str,
    /// The path as the router declares it (`{id}` for a segment).
    pub path: &'static str,
    /// Who may call it.
    pub need: Need,
    /// How the caller proves it.
    pub surface: Surface,
    /// Whether it changes something (a browser session must then send its CSRF token).
    pub changes: bool,
}

const fn route(
    method: &'static str,
    path: &'static str,
    need: Need,
    surface: Surface,
    changes: bool,
) -> RouteAccess {
    RouteAccess {
        method,
        path,
        need,
        surface,
        changes,
    }
}

use Need::{Local, Open};
use Surface::{Api, Page, Token};
const VIEWER: Need = Need::Role(Role::Viewer);
const ANALYST: Need = Need::Role(Role::Analyst);
const ADMIN: Need = Need::Role(Role::Admin);
const READS: bool = false;
const CHANGES: bool = true;

/// Every route, with what it needs.
#[rustfmt::skip]
pub const TABLE: &[RouteAccess] = &[
    // Open.
    route("GET", "/login", Open, Page, READS),
    route("POST", "/login", Open, Page, READS),
    route("GET", "/assets/app.css", Open, Page, READS),
    route("GET", "/assets/app.js", Open, Page, READS),
    route("GET", "/assets/favicon.svg", Open, Page, READS),
    route("GET", "/favicon.ico", Open, Page, READS),
    route("GET", "/health", Open, Token, READS),
    route("GET", "/hooks/okta/{org}", Open, Token, READS),
    route("POST", "/hooks/okta/{org}", Open, Token, READS),
    route("GET", "/api/okwatch/v1/openapi.json", Open, Api, READS),
    // Console pages.
    route("GET", "/", VIEWER, Page, READS),
    route("GET", "/events/{uuid}", VIEWER, Page, READS),
    route("GET", "/rows", VIEWER, Page, READS),
    route("GET", "/map", VIEWER, Page, READS),
    route("GET", "/alerts", VIEWER, Page, READS),
    route("GET", "/alerts/{id}", VIEWER, Page, READS),
    route("POST", "/alerts/{id}", ANALYST, Page, CHANGES),
    route("GET", "/apps", VIEWER, Page, READS),
    route("GET", "/apps/renewals", VIEWER, Page, READS),
    route("GET", "/find", VIEWER, Page, READS),
    route("GET", "/find/suggest", VIEWER, Page, READS),
    route("GET", "/people/{org}/{id}", VIEWER, Page, READS),
    route("GET", "/apps/{org}/{id}", VIEWER, Page, READS),
    route("GET", "/apps/{org}/{id}/contract", VIEWER, Page, READS),
    route("POST", "/apps/{org}/{id}/contract", ANALYST, Page, CHANGES),
    route("POST", "/apps/{org}/{id}/contract/delete", ANALYST, Page, CHANGES),
    route("GET", "/apps/{org}/contracts/import", VIEWER, Page, READS),
    route("POST", "/apps/{org}/contracts/import", ANALYST, Page, CHANGES),
    route("GET", "/apps/{org}/contracts.csv", VIEWER, Page, READS),
    route("GET", "/reports", VIEWER, Page, READS),
    route("GET", "/reports/schedules", VIEWER, Page, READS),
    route("POST", "/reports/schedules", ANALYST, Page, CHANGES),
    route("GET", "/reports/schedules/{id}", VIEWER, Page, READS),
    route("POST", "/reports/schedules/{id}", ANALYST, Page, CHANGES),
    route("POST", "/reports/schedules/{id}/run", ANALYST, Page, CHANGES),
    route("POST", "/reports/schedules/{id}/delete", ANALYST, Page, CHANGES),
    route("GET", "/reports/{id}", VIEWER, Page, READS),
    route("GET", "/reports/{id}/export.csv", VIEWER, Page, READS),
    route("GET", "/rules", VIEWER, Page, READS),
    route("POST", "/rules", ANALYST, Page, CHANGES),
    route("GET", "/rules/new", VIEWER, Page, READS),
    route("GET", "/rules/{id}", VIEWER, Page, READS),
    route("POST", "/rules/{id}", ANALYST, Page, CHANGES),
    route("POST", "/rules/{id}/switch", ANALYST, Page, CHANGES),
    route("POST", "/rules/{id}/delete", ANALYST, Page, CHANGES),
    route("GET", "/notifications", VIEWER, Page, READS),
    route("POST", "/notifications/test", ANALYST, Page, CHANGES),
    route("POST", "/preferences", VIEWER, Page, CHANGES),
    route("GET", "/export.csv", VIEWER, Page, READS),
    route("GET", "/export.ndjson", VIEWER, Page, READS),
    route("POST", "/logout", VIEWER, Page, CHANGES),
    route("GET", "/saved", VIEWER, Page, READS),
    route("POST", "/saved", ANALYST, Page, CHANGES),
    route("POST", "/saved/{id}", ANALYST, Page, CHANGES),
    route("POST", "/saved/{id}/delete", ANALYST, Page, CHANGES),
    route("GET", "/users", ADMIN, Page, READS),
    route("POST", "/users", ADMIN, Page, CHANGES),
    route("POST", "/users/{name}/delete", ADMIN, Page, CHANGES),
    route("GET", "/tokens", VIEWER, Page, READS),
    route("POST", "/tokens", VIEWER, Page, CHANGES),
    route("POST", "/tokens/{id}/revoke", VIEWER, Page, CHANGES),
    // The console's JSON API.
    route("GET", "/api/okwatch/v1/events", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/events/{uuid}", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/events/{uuid}/around", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/histogram", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/fields", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/export.csv", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/export.ndjson", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/saved-searches", VIEWER, Api, READS),
    route("POST", "/api/okwatch/v1/saved-searches", ANALYST, Api, CHANGES),
    route("GET", "/api/okwatch/v1/saved-searches/{id}", VIEWER, Api, READS),
    route("DELETE", "/api/okwatch/v1/saved-searches/{id}", ANALYST, Api, CHANGES),
    route("GET", "/api/okwatch/v1/tokens", VIEWER, Api, READS),
    route("POST", "/api/okwatch/v1/tokens", VIEWER, Api, CHANGES),
    route("DELETE", "/api/okwatch/v1/tokens/{id}", VIEWER, Api, CHANGES),
    route("GET", "/api/okwatch/v1/apps", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/apps/{org}/{id}", VIEWER, Api, READS),
    route("PUT", "/api/okwatch/v1/apps/{org}/{id}/contract", ANALYST, Api, CHANGES),
    route("DELETE", "/api/okwatch/v1/apps/{org}/{id}/contract", ANALYST, Api, CHANGES),
    route("POST", "/api/okwatch/v1/apps/{org}/contracts", ANALYST, Api, CHANGES),
    route("GET", "/api/okwatch/v1/apps/{org}/contracts.csv", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/renewals", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/find", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/people/{org}/{id}", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/reports", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/reports/{id}", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/schedules", VIEWER, Api, READS),
    route("POST", "/api/okwatch/v1/schedules", ANALYST, Api, CHANGES),
    route("GET", "/api/okwatch/v1/schedules/{id}", VIEWER, Api, READS),
    route("PUT", "/api/okwatch/v1/schedules/{id}", ANALYST, Api, CHANGES),
    route("DELETE", "/api/okwatch/v1/schedules/{id}", ANALYST, Api, CHANGES),
    route("POST", "/api/okwatch/v1/schedules/{id}/run", ANALYST, Api, CHANGES),
    route("GET", "/api/okwatch/v1/alerts", VIEWER, Api, READS),
    route("GET", "/api/okwatch/v1/alerts/{id}", VIEWER, Api, READS),
    route("PATCH", "/api/okwatch/v1/alerts/{id}", ANALYST, Api, CHANGES),
    route("GET", "/api/okwatch/v1/rules", VIEWER, Api, READS),
    route("POST", "/api/okwatch/v1/rules", ANALYST, Api, CHANGES),
    route("GET", "/api/okwatch/v1/rules/{id}", VIEWER, Api, READS),
    route("PUT", "/api/okwatch/v1/rules/{id}", ANALYST, Api, CHANGES),
    route("PATCH", "/api/okwatch/v1/rules/{id}", ANALYST, Api, CHANGES),
    route("DELETE", "/api/okwatch/v1/rules/{id}", ANALYST, Api, CHANGES),
    route("GET", "/api/okwatch/v1/notifications", VIEWER, Api, READS),
    route("POST", "/api/okwatch/v1/notifications/test", ANALYST, Api, CHANGES),
    route("GET", "/api/okwatch/v1/users", ADMIN, Api, READS),
    route("PUT", "/api/okwatch/v1/users/{name}", ADMIN, Api, CHANGES),
    route("DELETE", "/api/okwatch/v1/users/{name}", ADMIN, Api, CHANGES),
    // Token-only APIs.
    route("GET", "/api/v1/logs", VIEWER, Token, READS),
    route("*", "/mcp", VIEWER, Token, READS),
    route("GET", "/api/okwatch/v1/status", VIEWER, Token, READS),
    route("GET", "/metrics", VIEWER, Token, READS),
    route("POST", "/api/okwatch/v1/store/{op}", Local, Token, READS),
];

/// The entries of `path`.
fn entries(path: &str) -> impl Iterator<Item = &'static RouteAccess> + '_ {
    TABLE.iter().filter(move |r| r.path == path)
}

/// The entry for `method` on `path`, if the table has one.
pub fn lookup(method: &Method, path: &str) -> Option<&'static RouteAccess> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    entries(path).find(|r| r.method == "*" || r.method == method)
}

/// Registering routes only where the table has an entry.
pub trait Declared<S> {
    /// `Router::route`, refusing (at start, so every test sees it) a path the table lacks.
    fn at(self, path: &str, methods: MethodRouter<S>) -> Self;
}

impl<S: Clone + Send + Sync + 'static> Declared<S> for Router<S> {
    fn at(self, path: &str, methods: MethodRouter<S>) -> Self {
        self.route(declared(path), methods)
    }
}

/// `path`, once it is known to have an entry in the table (a route registered without one
/// stops the server at start, so no test can miss it).
pub fn declared(path: &str) -> &str {
    assert!(
        entries(path).next().is_some(),
        "the route {path} has no entry in okwatch_web::access::TABLE: declare who may call it"
    );
    path
}

/// Applies the table to a request: finds its caller, refuses what the caller may not do, and
/// checks a browser's CSRF token on changes. Handlers find the caller as `Extension<SignedIn>`.
pub(crate) async fn enforce(
    State(state): State<WebState>,
    mut request: Request,
    next: Next,
) -> Response {
    // No matched path: nothing answers there (the 404 fallback).
    let Some(path) = request.extensions().get::<MatchedPath>().cloned() else {
        return next.run(request).await;
    };
    let Some(access) = lookup(request.method(), path.as_str()) else {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            "This method is not declared for this path.",
        )
            .into_response();
    };
    if access.need == Open {
        return next.run(request).await;
    }
    let session = match access.surface {
        Page | Api => {
            cookie_value(request.headers(), COOKIE).and_then(|id| state.sessions.find(id))
        }
        Token => None,
    };
    let caller = match session {
        Some(user) => Some(user),
        None if access.surface == Page => None,
        None => match crate::rest::presented_token(request.headers()) {
            Some(token) => crate::rest::token_caller(&state, token).await,
            None => None,
        },
    };
    let Some(caller) = caller else {
        return unauthenticated(access.surface, &request);
    };
    let allowed = match access.need {
        Open => true,
        Need::Role(role) => caller.role >= role,
        Local => caller.via == Via::Local,
    };
    if !allowed {
        return forbidden(access, &caller);
    }
    if access.changes && caller.via == Via::Session {
        request = match csrf_checked(access.surface, &caller, request).await {
            Ok(request) => request,
            Err(refused) => return refused,
        };
    }
    if access.surface == Token {
        request
            .extensions_mut()
            .insert(okwatch_okta::server::Caller(caller.name.clone()));
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// No credential, or one nobody accepts.
fn unauthenticated(surface: Surface, request: &Request) -> Response {
    match surface {
        Page => {
            // Back to the page asked for after signing in; a form's target is no page.
            let target = match *request.method() {
                Method::GET | Method::HEAD => request
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "/".into()),
                _ => "/".into(),
            };
            Redirect::to(&format!("/login?next={}", crate::search::encode(&target)))
                .into_response()
        }
        Api => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({
                "error": "sign in to the console, or send an API token (Authorization: Bearer TOKEN)"
            })),
        )
            .into_response(),
        Token => okwatch_okta::OktaError::invalid_token().into_response(),
    }
}

/// A caller without the role a route needs.
fn forbidden(access: &RouteAccess, caller: &SignedIn) -> Response {
    let message = match access.need {
        Local => "only okwatch's own commands on this machine may call the store API".to_string(),
        Need::Role(role) => format!(
            "this needs the {} role; {} has the {} role",
            role.as_str(),
            caller.name,
            caller.role.as_str()
        ),
        Open => String::new(),
    };
    match access.surface {
        Page => (StatusCode::FORBIDDEN, message).into_response(),
        Api | Token => (
            StatusCode::FORBIDDEN,
            axum::Json(json!({ "error": message })),
        )
            .into_response(),
    }
}

/// The most a console form may send (contract CSV imports are the largest).
const FORM_LIMIT: usize = 2 * 1024 * 1024;

/// A browser's change must carry its session's CSRF token: the API's in `X-CSRF-Token`, a
/// page's form in its `csrf` field (the body is read here and handed on unchanged).
async fn csrf_checked(
    surface: Surface,
    caller: &SignedIn,
    request: Request,
) -> Result<Request, Response> {
    if surface == Api {
        let presented = request
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if csrf_matches(&caller.csrf, presented) {
            return Ok(request);
        }
        return Err((
            StatusCode::FORBIDDEN,
            axum::Json(json!({
                "error": "a signed-in browser must send its CSRF token in X-CSRF-Token to change anything"
            })),
        )
            .into_response());
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_LIMIT).await else {
        return Err((StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response());
    };
    let form = crate::form(&bytes);
    if !csrf_matches(&caller.csrf, crate::field(&form, "csrf")) {
        return Err((
            StatusCode::FORBIDDEN,
            "The form is stale or forged (CSRF token).",
        )
            .into_response());
    }
    let mut request = Request::from_parts(parts, axum::body::Body::from(bytes));
    request.headers_mut().remove(header::CONTENT_LENGTH);
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_unique_and_changes_only_with_a_changing_method() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                assert!(
                    !(a.path == b.path && (a.method == b.method || a.method == "*")),
                    "{} {} is declared twice",
                    a.method,
                    a.path
                );
            }
            if a.changes {
                assert!(
                    matches!(a.method, "POST" | "PUT" | "PATCH" | "DELETE"),
                    "{} {}: a GET cannot change anything (no CSRF token rides on it)",
                    a.method,
                    a.path
                );
            }
        }
    }

    #[test]
    fn head_is_looked_up_as_get_and_undeclared_methods_are_not_found() {
        assert!(lookup(&Method::HEAD, "/").is_some());
        assert!(lookup(&Method::DELETE, "/").is_none());
        assert_eq!(
            lookup(&Method::POST, "/users").map(|r| r.need),
            Some(Need::Role(Role::Admin))
        );
        assert!(lookup(&Method::DELETE, "/mcp").is_some());
    }
}
