//! The search box on every console page: part of an app's or a person's name finds their page.
//! `/find/suggest?q=` answers the box's suggestions as it is typed (JSON); `/find?q=` (the box
//! sent without a choice, or without scripts) goes straight to the one page that answers, or
//! lists those that might. `GET /find?q=` in the API answers the same matches.

use crate::auth::SignedIn;
use crate::rest::ApiError;
use crate::{html, WebError, WebState};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use okwatch_engine::search_text::encode;
use okwatch_store::directory::DirectoryMatch;
use serde_json::{json, Value};

/// Suggestions shown as one types.
const SUGGESTED: usize = 8;
/// Matches listed on the results page.
const LISTED: usize = 100;

/// A match with the page it opens.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Found {
    #[serde(flatten)]
    pub m: DirectoryMatch,
    pub href: String,
}

fn href(m: &DirectoryMatch) -> String {
    let section = if m.kind == "app" { "apps" } else { "people" };
    format!("/{section}/{}/{}", encode(&m.org), encode(&m.id))
}

fn asked(query: Option<&str>) -> String {
    let pairs = okwatch_okta::server::query_pairs(query);
    crate::rest::value_of(&pairs, "q")
        .unwrap_or("")
        .trim()
        .chars()
        .take(200)
        .collect()
}

async fn find(state: &WebState, text: &str, limit: usize) -> Result<Vec<Found>, WebError> {
    let (store, text) = (state.usage.clone(), text.to_string());
    let found = crate::blocking(move || store.find_in_directory(&text, limit)).await?;
    Ok(found
        .into_iter()
        .map(|m| Found { href: href(&m), m })
        .collect())
}

/// `GET /find/suggest?q=`: the best few, for the box.
pub(crate) async fn suggest(
    State(state): State<WebState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, WebError> {
    let text = asked(query.as_deref());
    Ok(Json(
        json!({ "matches": find(&state, &text, SUGGESTED).await? }),
    ))
}

#[derive(Template)]
#[template(path = "find.html")]
struct FindPage {
    user: SignedIn,
    q: String,
    found: Vec<Found>,
    log_href: String,
}

/// `GET /find?q=`: the page that answers, or the list of those that might.
pub(crate) async fn page(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let q = asked(query.as_deref());
    let found = if q.is_empty() {
        Vec::new()
    } else {
        find(&state, &q, LISTED).await?
    };
    // One answer, or one that is exactly what was typed: go there.
    let wanted = q.to_lowercase();
    let exact: Vec<&Found> = found
        .iter()
        .filter(|f| f.m.rank(&wanted) == Some(0))
        .collect();
    let only = match (found.as_slice(), exact.as_slice()) {
        ([one], _) => Some(one),
        (_, [one]) => Some(*one),
        _ => None,
    };
    if let Some(one) = only {
        return Ok(Redirect::to(&one.href).into_response());
    }
    html(&FindPage {
        user,
        log_href: format!("/?since=-30d&q={}", encode(&q)),
        q,
        found,
    })
}

/// `GET /api/okwatch/v1/find?q=`.
pub(crate) async fn api(
    State(state): State<WebState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let text = asked(query.as_deref());
    Ok(Json(
        json!({ "q": text, "matches": find(&state, &text, LISTED).await? }),
    ))
}
