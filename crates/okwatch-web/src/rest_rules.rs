//! Detection rules in the JSON API: `GET /rules`, `POST /rules` (a new rule's text),
//! `GET /rules/{id}` (with its text), `PUT /rules/{id}` (a rule's new text, or a new rule),
//! `PATCH /rules/{id}` (`{"enabled": false}`), `DELETE /rules/{id}` (a rule someone added, or a
//! tuned shipped rule back as shipped). A rule's text is okwatch's YAML format or a Sigma rule,
//! sent as the body itself or as `{"source": "…"}`. Changing rules is for analysts and admins.

use crate::auth::SignedIn;
use crate::rest::{blocking, ApiError};
use crate::WebState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use okwatch_engine::rules::catalog::{self, Catalog, CatalogError, Entry};
use serde_json::{json, Value};

/// The longest rule text accepted.
pub(crate) const MAX_SOURCE: usize = 64 * 1024;

/// A rule as the API and the console's script see it.
pub(crate) fn entry_json(entry: &Entry) -> Value {
    let rule = &entry.rule;
    json!({
        "id": rule.id,
        "name": rule.name,
        "description": rule.description,
        "severity": rule.severity,
        "origin": entry.origin,
        "enabled": rule.enabled,
        "group_by": rule.group_by,
        "condition": rule.condition_words(),
        "filter": rule.filter.to_string(),
        "runbook": rule.runbook,
        "updated": entry.record.as_ref().map(|r| r.updated.clone()),
        "updated_by": entry.record.as_ref().map(|r| r.by.clone()),
        "notes": entry.notes,
    })
}

/// What a change's refusal answers.
pub(crate) fn refusal(e: CatalogError) -> ApiError {
    let status = match &e {
        CatalogError::Rule(_) | CatalogError::IdChanged { .. } => StatusCode::BAD_REQUEST,
        CatalogError::NotFound(_) => StatusCode::NOT_FOUND,
        CatalogError::Shipped(_) => StatusCode::CONFLICT,
        CatalogError::Store(e) => {
            tracing::error!("changing a rule failed: {e}");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    ApiError::new(status, e.to_string())
}

/// A rule's text from a request body: the body itself, or its `source` when it is JSON.
fn source_of(body: &[u8]) -> Result<String, ApiError> {
    let bad = |m: &str| ApiError::new(StatusCode::BAD_REQUEST, m);
    if body.len() > MAX_SOURCE {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "a rule's text is at most 64 KiB",
        ));
    }
    let text = std::str::from_utf8(body).map_err(|_| bad("the rule's text must be UTF-8"))?;
    if text.trim_start().starts_with('{') {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| bad(&format!("the body looks like JSON but is not: {e}")))?;
        return value["source"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| bad("send the rule's YAML as the body, or as {\"source\": \"…\"}"));
    }
    if text.trim().is_empty() {
        return Err(bad(
            "send the rule's YAML as the body, or as {\"source\": \"…\"}",
        ));
    }
    Ok(text.to_string())
}

async fn catalog(state: &WebState) -> Result<Catalog, ApiError> {
    let rules = state.rules.clone();
    blocking(move || Ok(Catalog::load(rules.as_ref())?)).await
}

/// `GET /rules`: every rule (shipped, tuned, custom, Sigma), and stored rules that no longer read.
pub(crate) async fn list(State(state): State<WebState>) -> Result<Json<Value>, ApiError> {
    let catalog = catalog(&state).await?;
    let broken: Vec<Value> = catalog
        .broken
        .iter()
        .map(|b| json!({ "id": b.record.id, "error": b.error, "updated": b.record.updated, "updated_by": b.record.by }))
        .collect();
    Ok(Json(json!({
        "rules": catalog.entries.iter().map(entry_json).collect::<Vec<_>>(),
        "broken": broken,
    })))
}

/// `GET /rules/{id}`: the rule and its text.
pub(crate) async fn one(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let catalog = catalog(&state).await?;
    let entry = catalog
        .get(&id)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no rule `{id}`")))?;
    let mut value = entry_json(entry);
    value["source"] = entry.source.clone().into();
    Ok(Json(value))
}

async fn save(
    state: &WebState,
    user: &SignedIn,
    source: String,
    expected: Option<String>,
    must_be_new: bool,
) -> Result<(bool, Value), ApiError> {
    let (rules, by) = (state.rules.clone(), user.name.clone());
    let saved = tokio::task::spawn_blocking(move || {
        let before = Catalog::load(rules.as_ref())?;
        let parsed = okwatch_engine::rules::definition::parse_one(&source, 1)?;
        let existed = before.get(&parsed.rule.id).is_some();
        if must_be_new && existed {
            return Ok(Err(parsed.rule.id));
        }
        let rule = catalog::save(rules.as_ref(), &source, expected.as_deref(), &by)?;
        let after = Catalog::load(rules.as_ref())?;
        let entry = after.get(&rule.id).map(|e| {
            let mut value = entry_json(e);
            value["source"] = e.source.clone().into();
            value
        });
        Ok::<_, CatalogError>(Ok((!existed, entry.unwrap_or_default())))
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(refusal)?;
    saved.map_err(|id| {
        ApiError::new(
            StatusCode::CONFLICT,
            format!("a rule `{id}` exists: PUT /rules/{id} replaces it"),
        )
    })
}

/// `POST /rules` with a new rule's text: 201 and the rule; 409 if its id is taken.
pub(crate) async fn create(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let source = source_of(&body)?;
    let (_, value) = save(&state, &user, source, None, true).await?;
    Ok((StatusCode::CREATED, Json(value)))
}

/// `PUT /rules/{id}` with the rule's text (whose id must be `id`): 201 when new, else 200.
pub(crate) async fn replace(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let source = source_of(&body)?;
    let (created, value) = save(&state, &user, source, Some(id), false).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(value)))
}

/// `PATCH /rules/{id}` with `{"enabled": true|false}`.
pub(crate) async fn switch(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = crate::rest_manage::body_of(&body)?;
    if let Some(unknown) = body
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .find(|k| *k != "enabled")
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("unknown field `{unknown}`: only `enabled` changes here; PUT the rule's text to change the rest"),
        ));
    }
    let enabled = body["enabled"]
        .as_bool()
        .ok_or_else(|| ApiError::new(StatusCode::BAD_REQUEST, "enabled: true or false"))?;
    let (rules, by, target) = (state.rules.clone(), user.name.clone(), id.clone());
    tokio::task::spawn_blocking(move || {
        catalog::set_enabled(rules.as_ref(), &target, enabled, &by)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(refusal)?;
    one(State(state), Path(id)).await
}

/// `DELETE /rules/{id}`: `{"removed": true}` for a rule someone added, `{"reset": true}` for a
/// tuned shipped rule (back as shipped, running); 409 for a shipped rule as shipped.
pub(crate) async fn remove(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let rules = state.rules.clone();
    let outcome = tokio::task::spawn_blocking(move || catalog::remove(rules.as_ref(), &id))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(refusal)?;
    Ok(Json(match outcome {
        None => json!({ "removed": true }),
        Some(_) => json!({ "reset": true }),
    }))
}
