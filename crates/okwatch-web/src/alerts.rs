//! Alerts: the page (`/alerts`) and the API (`/api/okwatch/v1/alerts`). Each alert links to
//! the explorer showing the events behind it.

use crate::auth::SignedIn;
use crate::rest::{blocking, value_of, ApiError};
use crate::search::{literal, SearchText};
use crate::{html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::{Extension, Json};
use chrono::TimeDelta;
use okwatch_model::{format_timestamp, parse_timestamp};
use okwatch_store::AlertRecord;
use serde_json::{json, Value};

/// Alerts listed at most.
const MAX: usize = 1_000;

/// The explorer search of an alert's events (at most 50 of them, by uuid, around its span).
fn events_href(alert: &AlertRecord) -> String {
    let margin = TimeDelta::minutes(1);
    let at = |text: &str| parse_timestamp(text);
    let filter = alert
        .events
        .iter()
        .take(50)
        .map(|uuid| format!("uuid eq {}", literal(uuid)))
        .collect::<Vec<_>>()
        .join(" or ");
    let text = SearchText {
        since: at(&alert.first).map_or("all".into(), |t| format_timestamp(t - margin)),
        until: at(&alert.last).map_or(String::new(), |t| format_timestamp(t + margin)),
        filter,
        ..SearchText::default()
    };
    format!("/?{}", text.to_query())
}

fn alert_json(alert: &AlertRecord) -> Value {
    let mut value = serde_json::to_value(alert).unwrap_or_default();
    value["explorer"] = Value::String(events_href(alert));
    value
}

pub(crate) struct Listed {
    severity: String,
    rule: String,
    group: String,
    first: String,
    last: String,
    events: usize,
    explanation: String,
    status: String,
    href: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    user: SignedIn,
    alerts: Vec<Listed>,
    /// The lowest severity shown (`info` shows all).
    min: &'static str,
    /// Alerts below it, not shown.
    hidden: usize,
}

/// Severities, least first.
const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

fn rank(severity: &str) -> usize {
    SEVERITIES.iter().position(|s| *s == severity).unwrap_or(0)
}

/// `GET /alerts?min=medium`: attacks first; `min=info` shows every alert.
pub(crate) async fn page(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let min = value_of(&pairs, "min")
        .and_then(|m| SEVERITIES.iter().find(|s| **s == m).copied())
        .unwrap_or("medium");
    let store = state.alerts.clone();
    let alerts = tokio::task::spawn_blocking(move || store.alerts(MAX))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    let time = |t: &str| t.get(..19).unwrap_or(t).replace('T', " ");
    let hidden = alerts
        .iter()
        .filter(|a| rank(&a.severity) < rank(min))
        .count();
    let alerts = alerts
        .iter()
        .filter(|a| rank(&a.severity) >= rank(min))
        .map(|a| Listed {
            severity: a.severity.clone(),
            rule: a.rule.clone(),
            group: a.group.clone(),
            first: time(&a.first),
            last: time(&a.last),
            events: a.events.len(),
            explanation: a.explanation.clone(),
            status: a.status.clone(),
            href: events_href(a),
        })
        .collect();
    html(&AlertsPage {
        user,
        alerts,
        min,
        hidden,
    })
}

/// `GET /api/okwatch/v1/alerts?limit=100`: newest first.
pub(crate) async fn list(
    State(state): State<WebState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let limit = match value_of(&pairs, "limit").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=MAX).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("limit: a number from 1 to {MAX}"),
            ))
        }
    };
    let store = state.alerts.clone();
    let alerts = blocking(move || Ok(store.alerts(limit)?)).await?;
    Ok(Json(
        json!({ "alerts": alerts.iter().map(alert_json).collect::<Vec<_>>() }),
    ))
}

/// `GET /api/okwatch/v1/alerts/{id}`.
pub(crate) async fn one(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let store = state.alerts.clone();
    let lookup = id.clone();
    match blocking(move || Ok(store.alert(&lookup)?)).await? {
        Some(alert) => Ok(Json(alert_json(&alert))),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no alert {id}"),
        )),
    }
}
