//! The console's management API, beside the search API of [`crate::rest`]: the events around
//! one, saved searches (list, read, run, save, delete), API tokens (each user their own; an
//! admin everyone's) and users (admins only). The same rules as the console's pages.

use crate::auth::{set_user, AccountError, Role, SignedIn};
use crate::rest::{blocking, search_of, value_of, ApiError, BASE};
use crate::search::SearchText;
use crate::WebState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::TimeDelta;
use okwatch_model::format_timestamp;
use okwatch_store::SavedSearch;
use serde_json::{json, Value};

fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, message)
}

/// A JSON body, or the 400 that says why it is not one.
pub(crate) fn body_of(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "the body must be a JSON object"))
}

fn text<'v>(body: &'v Value, name: &str) -> &'v str {
    body[name].as_str().unwrap_or_default()
}

/// `GET /events/{uuid}/around?minutes=15&same=actor`: the event and the events within
/// `minutes` (1–1440) either side of it, of the same actor when asked, oldest first.
pub(crate) async fn around(
    State(state): State<WebState>,
    Path(uuid): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let minutes = match value_of(&pairs, "minutes").map(str::parse::<i64>) {
        None => 15,
        Some(Ok(n)) if (1..=1440).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "minutes: a number from 1 to 1440",
            ))
        }
    };
    let same_actor = match value_of(&pairs, "same") {
        None | Some("all") => false,
        Some("actor") => true,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("same `{other}`: actor or all"),
            ))
        }
    };
    let store = state.store.clone();
    let id = uuid.clone();
    let Some(stored) = blocking(move || Ok(store.get(None, &id)?)).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no event with uuid {uuid}"),
        ));
    };
    let at = okwatch_model::parse_timestamp(stored.event["published"].as_str().unwrap_or(""))
        .ok_or_else(|| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "the event has no time"))?;
    let actor = stored.event["actor"]["id"].as_str().unwrap_or_default();
    let text = SearchText {
        since: format_timestamp(at - TimeDelta::minutes(minutes)),
        until: format_timestamp(at + TimeDelta::minutes(minutes) + TimeDelta::milliseconds(1)),
        filter: if same_actor {
            format!("actor.id eq {}", crate::search::literal(actor))
        } else {
            String::new()
        },
        ..SearchText::default()
    };
    let mut query = search_of(
        &okwatch_okta::server::query_pairs(Some(&text.to_query())),
        1000,
    )?;
    query.order = okwatch_store::Order::Asc;
    let store = state.store.clone();
    let page = blocking(move || Ok(store.search(&query)?)).await?;
    let events: Vec<Value> = page.events.into_iter().map(|e| e.event).collect();
    Ok(Json(json!({
        "event": stored.event,
        "since": text.since,
        "until": text.until,
        "events": events,
        "truncated": page.next.is_some(),
    })))
}

fn saved_json(search: &SavedSearch) -> Value {
    json!({
        "id": search.id,
        "name": search.name,
        "description": search.description,
        "query": search.query,
        "owner": search.owner,
        "shared": search.shared,
        "updated": search.updated,
        "explorer": format!("/?{}", search.query),
        "events": format!("{BASE}/events?{}", search.query),
    })
}

async fn saved_visible(
    state: &WebState,
    user: &SignedIn,
    id: String,
) -> Result<SavedSearch, ApiError> {
    let store = state.saved.clone();
    let lookup = id.clone();
    blocking(move || Ok(store.saved_search(&lookup)?))
        .await?
        .filter(|s| crate::saved::visible(s, user))
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no saved search {id}")))
}

/// `GET /saved-searches`: the ones the caller sees.
pub(crate) async fn saved_list(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
) -> Result<Json<Value>, ApiError> {
    let store = state.saved.clone();
    let searches = blocking(move || Ok(crate::saved::visible_to(store.as_ref(), &user)?)).await?;
    Ok(Json(json!({
        "saved_searches": searches.iter().map(saved_json).collect::<Vec<_>>()
    })))
}

/// `GET /saved-searches/{id}`.
pub(crate) async fn saved_one(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(saved_json(&saved_visible(&state, &user, id).await?)))
}

/// `POST /saved-searches` with `{"name", "description", "query", "shared"}`: analysts and
/// admins save searches.
pub(crate) async fn saved_create(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body = body_of(&body)?;
    let name = text(&body, "name").trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "name: 1 to 200 characters",
        ));
    }
    let query = crate::saved::canonical_query(text(&body, "query"))
        .map_err(|problem| ApiError::new(StatusCode::BAD_REQUEST, problem))?;
    let search = SavedSearch {
        id: format!("s{}", okwatch_okta::random::base62(12)),
        name,
        description: text(&body, "description")
            .trim()
            .chars()
            .take(1000)
            .collect(),
        query,
        owner: user.name.clone(),
        shared: body["shared"].as_bool().unwrap_or(false),
        updated: format_timestamp(chrono::Utc::now()),
    };
    let answer = saved_json(&search);
    let store = state.saved.clone();
    blocking(move || Ok(store.put_saved_search(&search)?)).await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `DELETE /saved-searches/{id}`: its owner or an admin.
pub(crate) async fn saved_delete(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let search = saved_visible(&state, &user, id).await?;
    if !crate::saved::editable(&search, &user) {
        return Err(forbidden(
            "only its owner or an admin can delete this search",
        ));
    }
    let store = state.saved.clone();
    blocking(move || Ok(store.delete_saved_search(&search.id)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /tokens`: the caller's tokens (an admin's: everyone's), never the tokens themselves.
pub(crate) async fn tokens_list(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
) -> Result<Json<Value>, ApiError> {
    let accounts = state.accounts.clone();
    let tokens = blocking(move || {
        Ok(crate::tokens::visible(
            accounts.as_ref(),
            &user.name,
            user.role,
        )?)
    })
    .await?;
    Ok(Json(json!({ "tokens": tokens })))
}

/// `POST /tokens` with `{"name"}`: a token for the caller, shown in this answer only.
pub(crate) async fn tokens_create(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let body = body_of(&body)?;
    let name = text(&body, "name").to_string();
    let accounts = state.accounts.clone();
    let made = tokio::task::spawn_blocking(move || {
        crate::tokens::create(accounts.as_ref(), &user.name, &name)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    match made {
        Ok((record, secret)) => {
            let mut answer = serde_json::to_value(&record).unwrap_or_default();
            answer["token"] = Value::String(secret);
            Ok((StatusCode::CREATED, Json(answer)).into_response())
        }
        Err(crate::WebError::BadRequest(problem)) => {
            Err(ApiError::new(StatusCode::BAD_REQUEST, problem))
        }
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.to_string(),
        )),
    }
}

/// `DELETE /tokens/{id}`: one's own, or anyone's for an admin.
pub(crate) async fn tokens_delete(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let accounts = state.accounts.clone();
    let lookup = id.clone();
    let revoked = blocking(move || {
        Ok(crate::tokens::revoke(
            accounts.as_ref(),
            &user.name,
            user.role,
            &lookup,
        )?)
    })
    .await?;
    match revoked {
        crate::tokens::Revoked::Done => Ok(StatusCode::NO_CONTENT),
        crate::tokens::Revoked::Missing => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no token {id}"),
        )),
    }
}

/// `GET /users` (admins).
pub(crate) async fn users_list(State(state): State<WebState>) -> Result<Json<Value>, ApiError> {
    let accounts = state.accounts.clone();
    let users = blocking(move || Ok(accounts.users()?)).await?;
    let users: Vec<Value> = users
        .into_iter()
        .map(|u| json!({ "name": u.name, "role": u.role, "created": u.created }))
        .collect();
    Ok(Json(json!({ "users": users })))
}

/// `PUT /users/{name}` with `{"role", "password"}` (admins): adds or changes a user; the
/// user's sessions end.
pub(crate) async fn users_put(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = body_of(&body)?;
    let role = Role::parse(text(&body, "role"))
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "role: viewer, analyst or admin"))?;
    if name == user.name && role != Role::Admin {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "you cannot take the admin role from yourself",
        ));
    }
    let password = text(&body, "password").to_string();
    let accounts = state.accounts.clone();
    let who = name.clone();
    let saved =
        tokio::task::spawn_blocking(move || set_user(accounts.as_ref(), &who, role, &password))
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    match saved {
        Ok(record) => {
            state.sessions.end_all_of(&name);
            tracing::info!(admin = %user.name, user = %name, role = role.as_str(), "user saved");
            Ok(Json(
                json!({ "name": record.name, "role": record.role, "created": record.created }),
            ))
        }
        Err(AccountError::Invalid(problem)) => Err(ApiError::new(StatusCode::BAD_REQUEST, problem)),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.to_string(),
        )),
    }
}

/// `DELETE /users/{name}` (admins): the user, their sessions and their tokens.
pub(crate) async fn users_delete(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    if name == user.name {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "you cannot remove yourself",
        ));
    }
    let accounts = state.accounts.clone();
    let who = name.clone();
    let removed = blocking(move || Ok(accounts.delete_user(&who)?)).await?;
    state.sessions.end_all_of(&name);
    if removed {
        tracing::info!(admin = %user.name, user = %name, "user removed");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no user {name}"),
        ))
    }
}
