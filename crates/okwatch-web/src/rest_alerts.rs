//! Alerts in the JSON API: `GET /alerts` (filtered like the console's list), `GET /alerts/{id}`
//! (with its history and the detection's runbook) and `PATCH /alerts/{id}` (status, assignee,
//! comment; analysts and admins).

use crate::alerts::{at_least, events_href, rule_of, MAX, SEVERITIES};
use crate::auth::SignedIn;
use crate::rest::{blocking, value_of, ApiError};
use crate::WebState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use okwatch_store::{AlertChange, AlertFilter, AlertNote, AlertRecord, StoreError, ALERT_STATUSES};
use serde_json::{json, Value};

pub(crate) fn alert_json(alert: &AlertRecord) -> Value {
    let mut value = serde_json::to_value(alert).unwrap_or_default();
    value["explorer"] = Value::String(events_href(alert));
    value
}

async fn detailed(
    state: &WebState,
    alert: &AlertRecord,
    notes: &[AlertNote],
) -> Result<Value, ApiError> {
    let mut value = alert_json(alert);
    value["notes"] = serde_json::to_value(notes).unwrap_or_default();
    let rule = rule_of(state, &alert.rule)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    if let Some(rule) = rule {
        value["rule_name"] = rule.name.into();
        value["runbook"] = rule.runbook.into();
    }
    Ok(value)
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, message)
}

/// `GET /alerts?status=open&severity=medium&rule=…&assignee=…&limit=100`: newest first;
/// `severity` is the lowest shown.
pub(crate) async fn list(
    State(state): State<WebState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let limit = match value_of(&pairs, "limit").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=MAX).contains(&n) => n,
        Some(_) => return Err(bad(format!("limit: a number from 1 to {MAX}"))),
    };
    let status = match value_of(&pairs, "status") {
        None | Some("all") => None,
        Some(s) if ALERT_STATUSES.contains(&s) => Some(s.to_string()),
        Some(s) => {
            return Err(bad(format!(
                "status `{s}`: one of {}, or all",
                ALERT_STATUSES.join(", ")
            )))
        }
    };
    let severities = match value_of(&pairs, "severity") {
        None => Vec::new(),
        Some(s) if SEVERITIES.contains(&s) => at_least(s),
        Some(s) => {
            return Err(bad(format!(
                "severity `{s}`: one of {} (the lowest shown)",
                SEVERITIES.join(", ")
            )))
        }
    };
    let filter = AlertFilter {
        status,
        rule: value_of(&pairs, "rule").map(Into::into),
        severities,
        assignee: value_of(&pairs, "assignee").map(Into::into),
        limit,
    };
    let store = state.alerts.clone();
    let alerts = blocking(move || Ok(store.alerts(&filter)?)).await?;
    Ok(Json(
        json!({ "alerts": alerts.iter().map(alert_json).collect::<Vec<_>>() }),
    ))
}

/// `GET /alerts/{id}`: the alert, its history (`notes`) and its detection's runbook.
pub(crate) async fn one(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.alerts.clone();
    let lookup = id.clone();
    let found = blocking(move || {
        Ok(match store.alert(&lookup)? {
            Some(alert) => Some((alert, store.alert_notes(&lookup)?)),
            None => None,
        })
    })
    .await?;
    match found {
        Some((alert, notes)) => Ok(Json(detailed(&state, &alert, &notes).await?)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no alert {id}"),
        )),
    }
}

/// `PATCH /alerts/{id}` with `{"status": "acknowledged", "assignee": "ana" | null, "comment":
/// "…"}`, any of them: the alert as it now is, with its history.
pub(crate) async fn change(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let body = crate::rest_manage::body_of(&body)?;
    let known = ["status", "assignee", "comment"];
    if let Some(unknown) = body
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .find(|k| !known.contains(&k.as_str()))
    {
        return Err(bad(format!(
            "unknown field `{unknown}`: status, assignee, comment"
        )));
    }
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        match &body[name] {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            _ => Err(bad(format!("{name}: a string"))),
        }
    };
    let assignee = match body.get("assignee") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(name)) => {
            let (accounts, lookup) = (state.accounts.clone(), name.clone());
            let exists =
                blocking(move || Ok(accounts.users()?.iter().any(|u| u.name == lookup))).await?;
            if !exists {
                return Err(bad(format!("assignee `{name}` is not a console user")));
            }
            Some(Some(name.clone()))
        }
        Some(_) => return Err(bad("assignee: a user's name, or null for nobody")),
    };
    let comment = text("comment")?;
    if comment.as_ref().is_some_and(|c| c.chars().count() > 4000) {
        return Err(bad("comment: up to 4,000 characters"));
    }
    let change = AlertChange {
        by: user.name.clone(),
        status: text("status")?,
        assignee,
        comment,
    };
    let store = state.alerts.clone();
    let target = id.clone();
    let changed = blocking(move || match store.change_alert(&target, &change) {
        Ok(Some(alert)) => Ok(Some((alert, store.alert_notes(&target)?))),
        Ok(None) => Ok(None),
        Err(StoreError::Invalid(problem)) => Err(bad(problem)),
        Err(e) => Err(e.into()),
    })
    .await?;
    match changed {
        Some((alert, notes)) => Ok(Json(detailed(&state, &alert, &notes).await?)),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no alert {id}"),
        )),
    }
}
