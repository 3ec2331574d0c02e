//! Notifications in the console: the configured channels, each with "Send test", and the
//! delivery log — every notification with its status, tries and the far end's answers — so a
//! notification that cannot be delivered is seen, not lost. The same in the JSON API.

use crate::auth::SignedIn;
use crate::rest::{blocking, ApiError};
use crate::{field, form, html, WebError, WebState};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use okwatch_store::{DeliveryAttempt, NotificationRecord};
use serde_json::{json, Value};

/// Notifications shown, newest first.
const SHOWN: usize = 200;

pub(crate) struct ChannelLine {
    name: String,
    kind: &'static str,
    target: String,
    sends: String,
}

pub(crate) struct Line {
    created: String,
    channel: String,
    subject: String,
    status: String,
    attempts: u32,
    note: String,
    alert: Option<String>,
    tries: Vec<DeliveryAttempt>,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct Page {
    user: SignedIn,
    channels: Vec<ChannelLine>,
    lines: Vec<Line>,
    message: Option<String>,
}

fn time(t: &str) -> String {
    t.get(..19).unwrap_or(t).replace('T', " ")
}

fn channel_lines(state: &WebState) -> Vec<ChannelLine> {
    state
        .channels
        .iter()
        .map(|c| ChannelLine {
            name: c.name.clone(),
            kind: c.target.kind(),
            target: c.target.describe(),
            sends: if c.rules.is_empty() {
                format!("{} and above", c.min_severity)
            } else {
                format!("{} and above, from {}", c.min_severity, c.rules.join(", "))
            },
        })
        .collect()
}

/// The newest notifications with their attempts.
async fn log(
    state: &WebState,
) -> Result<Vec<(NotificationRecord, Vec<DeliveryAttempt>)>, ApiError> {
    let store = state.notifications.clone();
    blocking(move || {
        let listed = store.notifications(SHOWN)?;
        let mut out = Vec::with_capacity(listed.len());
        for n in listed {
            let tries = store.delivery_attempts(&n.id)?;
            out.push((n, tries));
        }
        Ok(out)
    })
    .await
}

/// `GET /notifications`.
pub(crate) async fn page(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let logged = log(&state)
        .await
        .map_err(|_| WebError::Internal("cannot read the delivery log".into()))?;
    let lines = logged
        .into_iter()
        .map(|(n, tries)| Line {
            created: time(&n.created),
            note: match n.status.as_str() {
                "sent" => format!(
                    "delivered {}",
                    n.sent.as_deref().map(time).unwrap_or_default()
                ),
                "pending" if n.attempts > 0 => format!(
                    "next try {} — {}",
                    time(&n.next_attempt),
                    n.last_error.clone().unwrap_or_default()
                ),
                "pending" => "queued".into(),
                _ => n.last_error.clone().unwrap_or_default(),
            },
            channel: n.channel,
            subject: n.subject,
            status: n.status,
            attempts: n.attempts,
            alert: n.alert,
            tries,
        })
        .collect();
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let message = crate::rest::value_of(&pairs, "tested")
        .map(|c| format!("A test is queued for {c}; its delivery shows below within seconds."));
    html(&Page {
        user,
        channels: channel_lines(&state),
        lines,
        message,
    })
}

/// Queues a test on the channel named `name`; its id, or what is wrong.
async fn queue_test(
    state: &WebState,
    user: &SignedIn,
    name: &str,
) -> Result<String, (StatusCode, String)> {
    let Some(channel) = state.channels.iter().find(|c| c.name == name).cloned() else {
        return Err((
            StatusCode::NOT_FOUND,
            format!("There is no channel `{name}`."),
        ));
    };
    let (store, by, url) = (
        state.notifications.clone(),
        user.name.clone(),
        state.public_url.clone(),
    );
    tokio::task::spawn_blocking(move || {
        okwatch_notify::queue_test(store.as_ref(), &channel, &by, url.as_deref())
    })
    .await
    .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// `POST /notifications/test` (form: `channel`).
pub(crate) async fn test(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = form(&body);
    let name = field(&form, "channel").to_string();
    match queue_test(&state, &user, &name).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/notifications?tested={}",
            crate::search::encode(&name)
        ))
        .into_response()),
        Err((status, message)) => Ok((status, message).into_response()),
    }
}

fn notification_json(n: &NotificationRecord, tries: &[DeliveryAttempt]) -> Value {
    let mut value = serde_json::to_value(n).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        map.remove("payload");
    }
    value["attempts_log"] = serde_json::to_value(tries).unwrap_or_default();
    value
}

/// `GET /api/okwatch/v1/notifications`: the channels and the delivery log.
pub(crate) async fn list(State(state): State<WebState>) -> Result<Json<Value>, ApiError> {
    let logged = log(&state).await?;
    let channels: Vec<Value> = channel_lines(&state)
        .into_iter()
        .map(|c| json!({"name": c.name, "kind": c.kind, "target": c.target, "sends": c.sends}))
        .collect();
    Ok(Json(json!({
        "channels": channels,
        "notifications": logged.iter().map(|(n, t)| notification_json(n, t)).collect::<Vec<_>>(),
    })))
}

/// `POST /api/okwatch/v1/notifications/test` with `{"channel": "…"}`: 202 and the queued id.
pub(crate) async fn api_test(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = crate::rest_manage::body_of(&body)?;
    let Some(name) = body["channel"].as_str() else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "channel: the channel's name",
        ));
    };
    match queue_test(&state, &user, name).await {
        Ok(id) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "id": id, "status": "pending" })),
        )),
        Err((status, message)) => Err(ApiError::new(status, message)),
    }
}
