//! The console's JSON API under `/api/okwatch/v1/`: search with cursor paging, one event,
//! a histogram and field statistics, over the same search parameters as the explorer's URL
//! (`since`, `until`, `filter`, `q`, `org`, `after`). A signed-in browser session or an API
//! token (`Authorization: Bearer …` or `SSWS …`) may call it; errors are JSON that say what was
//! wrong (a filter error with its position).

use crate::auth::{Role, SignedIn, Via};
use crate::search::SearchText;
use crate::WebState;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use okwatch_store::{Bucket, EventQuery, StoreError};
use serde_json::{json, Value};

/// Where the API lives.
pub const BASE: &str = "/api/okwatch/v1";

/// The most events one page may hold.
const MAX_LIMIT: usize = 1000;

/// An API error: a status and a JSON body.
pub(crate) struct ApiError {
    status: StatusCode,
    body: Value,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: json!({ "error": message.into() }),
        }
    }

    /// The same error with one more member in its body (the problems of each field).
    pub(crate) fn with(mut self, key: &str, value: Value) -> ApiError {
        self.body[key] = value;
        self
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        if let StoreError::Invalid(why) = e {
            return ApiError::new(StatusCode::BAD_REQUEST, why);
        }
        tracing::error!("API query failed: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the query failed")
    }
}

/// A console-side failure as the JSON API answers it: the same status, Okta-style body.
impl From<crate::WebError> for ApiError {
    fn from(e: crate::WebError) -> ApiError {
        match e {
            crate::WebError::NotFound(m) => ApiError::new(StatusCode::NOT_FOUND, m),
            crate::WebError::BadRequest(m) => ApiError::new(StatusCode::BAD_REQUEST, m),
            crate::WebError::Store(e) => e.into(),
            crate::WebError::Internal(m) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

pub(crate) fn presented_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(okwatch_okta::auth::token_from_header)
        .map(str::to_string)
}

/// The name under which `okwatch serve` accepts the credential it writes to its data
/// directory's `serve.json` (readable by that directory's owner only): other okwatch commands
/// on the machine, run by whoever runs the server. Data-directory API tokens are named `tok…`.
pub const LOCAL_COMMANDS: &str = "local";

/// The user a token acts for: a user's own token with that user's role now; the server's own
/// credential for other okwatch commands ([`LOCAL_COMMANDS`]) as an analyst (they read, and
/// `okwatch rules import` changes rules); any other token the server accepts (the data
/// directory's) as a viewer.
pub(crate) async fn token_caller(state: &WebState, presented: String) -> Option<SignedIn> {
    let accounts = state.accounts.clone();
    let others = state.tokens.clone();
    tokio::task::spawn_blocking(move || {
        match crate::tokens::user_token_caller(accounts.as_ref(), &presented) {
            Ok(Some(user)) => Some(user),
            Ok(None) => others?.authenticate(&presented).map(|name| {
                let local = name == LOCAL_COMMANDS;
                SignedIn {
                    role: if local { Role::Analyst } else { Role::Viewer },
                    via: if local { Via::Local } else { Via::ServerToken },
                    name,
                    csrf: String::new(),
                }
            }),
            Err(e) => {
                tracing::error!("cannot look up an API token: {e}");
                None
            }
        }
    })
    .await
    .ok()
    .flatten()
}

pub(crate) fn value_of<'p>(pairs: &'p [(String, String)], name: &str) -> Option<&'p str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The search of a request, or the 400 that says what is wrong with it. `since` defaults to
/// all history here (the explorer's page defaults to the last 24 hours).
pub(crate) fn search_of(pairs: &[(String, String)], limit: usize) -> Result<EventQuery, ApiError> {
    let mut text = SearchText::from_pairs(pairs);
    if value_of(pairs, "since").is_none() {
        text.since = "all".into();
    }
    let search = text.parse(chrono::Utc::now(), limit);
    if let Some(p) = search.filter_problem {
        return Err(ApiError {
            status: StatusCode::BAD_REQUEST,
            body: json!({
                "error": format!("filter: {}", p.message),
                "position": p.position,
            }),
        });
    }
    if let Some(problem) = search.problems.into_iter().next() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, problem));
    }
    Ok(search.query)
}

pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the query failed: {e}"),
        )
    })?
}

/// `GET /api/okwatch/v1/events`: newest first, `limit` (1–1000, default 100) a page, `next`
/// is the cursor of the page after (absent on the last).
pub(crate) async fn events(
    State(state): State<WebState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let limit = match value_of(&pairs, "limit") {
        None => 100,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("limit `{text}`: a number from 1 to {MAX_LIMIT}"),
                ))
            }
        },
    };
    let query = search_of(&pairs, limit)?;
    let store = state.store.clone();
    let page = blocking(move || Ok(store.search(&query)?)).await?;
    let next = page.next.map(|c| c.encode());
    let next_url = next.as_ref().map(|cursor| {
        let mut text = SearchText::from_pairs(&pairs);
        if value_of(&pairs, "since").is_none() {
            text.since = "all".into();
        }
        text.after = cursor.clone();
        format!("{BASE}/events?{}&limit={limit}", text.to_query())
    });
    let events: Vec<Value> = page.events.into_iter().map(|e| e.event).collect();
    Ok(Json(
        json!({ "events": events, "next": next, "next_url": next_url }),
    ))
}

/// `GET /api/okwatch/v1/events/{uuid}`.
pub(crate) async fn event(
    State(state): State<WebState>,
    Path(uuid): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.store.clone();
    let id = uuid.clone();
    match blocking(move || Ok(store.get(None, &id)?)).await? {
        Some(stored) => Ok(Json(stored.event)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no event with uuid {uuid}"),
        )),
    }
}

/// `GET /api/okwatch/v1/histogram?bucket=hour|day|week|month`: matching events per bucket.
pub(crate) async fn histogram(
    State(state): State<WebState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let bucket = match value_of(&pairs, "bucket").unwrap_or("day") {
        "hour" => Bucket::Hour,
        "day" => Bucket::Day,
        "week" => Bucket::Week,
        "month" => Bucket::Month,
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("bucket `{other}`: hour, day, week or month"),
            ))
        }
    };
    let query = search_of(&pairs, 1)?;
    let store = state.store.clone();
    let counts = blocking(move || Ok(store.count_by_time(&query, bucket)?)).await?;
    let counts: Vec<Value> = counts
        .into_iter()
        .map(|(start, count)| json!({ "start": okwatch_model::format_timestamp(start), "count": count }))
        .collect();
    Ok(Json(json!({ "bucket": bucket.name(), "counts": counts })))
}

/// `GET /api/okwatch/v1/fields?field=eventType&field=client.ipAddress&top=10`: the total, and
/// each field's most frequent values over every match.
pub(crate) async fn fields(
    State(state): State<WebState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let top = match value_of(&pairs, "top").map(str::parse::<usize>) {
        None => 10,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "top: a number from 1 to 1000",
            ))
        }
    };
    let names: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "field")
        .map(|(_, v)| v.clone())
        .collect();
    if names.is_empty() || names.len() > 20 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "give 1 to 20 `field` parameters, such as field=eventType",
        ));
    }
    let mut paths = Vec::new();
    for name in &names {
        // The same check as a filter's attribute: a typo is named, not silently empty.
        okwatch_query::parse_and_validate(&format!("{name} pr"), okwatch_query::Dialect::Okwatch)
            .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("field `{name}`: {}", e.message),
            )
        })?;
        paths.push(okwatch_query::AttrPath::from_dotted(name));
    }
    let query = search_of(&pairs, 1)?;
    let store = state.store.clone();
    let (total, counted) = blocking(move || {
        let total = store.count(&query)?;
        let mut counted = Vec::new();
        for path in &paths {
            counted.push(store.count_by_field(&query, path, top)?);
        }
        Ok((total, counted))
    })
    .await?;
    let mut fields = serde_json::Map::new();
    for (name, values) in names.into_iter().zip(counted) {
        let values: Vec<Value> = values
            .into_iter()
            .map(|(value, count)| json!({ "value": value, "count": count }))
            .collect();
        fields.insert(name, Value::Array(values));
    }
    Ok(Json(json!({ "total": total, "fields": fields })))
}

/// `GET /api/okwatch/v1/openapi.json`: this API described.
pub(crate) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../assets/openapi.json"),
    )
        .into_response()
}
