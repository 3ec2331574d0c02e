//! Scheduled reports in the JSON API: `GET /schedules`, `POST /schedules`, `GET /schedules/{id}`
//! (with its runs and what became of each delivery), `PUT /schedules/{id}`, `DELETE
//! /schedules/{id}` and `POST /schedules/{id}/run` ("run now"). Changing them is for analysts
//! and admins; a schedule's body is checked as the console's form is.

use crate::auth::SignedIn;
use crate::rest::ApiError;
use crate::schedules::{build, history, run_now, shown, ScheduleInput};
use crate::WebState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use okwatch_store::ScheduleRecord;
use serde_json::{json, Value};

fn input(body: &[u8]) -> Result<ScheduleInput, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "a schedule is {{\"name\", \"report\", \"cadence\", \"timezone\", \"channels\", \
                 \"org\"?, \"recipients\"?, \"enabled\"?}}: {e}"
            ),
        )
    })
}

async fn find(state: &WebState, id: &str) -> Result<ScheduleRecord, ApiError> {
    let store = state.reporting.clone();
    let lookup = id.to_string();
    crate::blocking(move || store.schedule(&lookup))
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no report schedule {id}")))
}

async fn save(state: &WebState, record: ScheduleRecord) -> Result<Value, ApiError> {
    let store = state.reporting.clone();
    let kept = record.clone();
    crate::blocking(move || store.put_schedule(&kept)).await?;
    Ok(serde_json::to_value(shown(record)).unwrap_or_default())
}

/// `GET /schedules`.
pub(crate) async fn list(State(state): State<WebState>) -> Result<Json<Value>, ApiError> {
    let store = state.reporting.clone();
    let schedules = crate::blocking(move || store.schedules()).await?;
    let shown: Vec<_> = schedules.into_iter().map(shown).collect();
    Ok(Json(json!({ "schedules": shown })))
}

/// `POST /schedules`.
pub(crate) async fn create(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let record = build(&state, input(&body)?, None, &user)
        .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, m))?;
    Ok((StatusCode::CREATED, Json(save(&state, record).await?)))
}

/// `GET /schedules/{id}`: the schedule and its newest runs.
pub(crate) async fn one(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let record = find(&state, &id).await?;
    let runs = history(&state, &record, 100).await?;
    let mut value = serde_json::to_value(shown(record)).unwrap_or_default();
    value["runs"] = serde_json::to_value(runs).unwrap_or_default();
    Ok(Json(value))
}

/// `PUT /schedules/{id}`.
pub(crate) async fn replace(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let existing = find(&state, &id).await?;
    let record = build(&state, input(&body)?, Some(existing), &user)
        .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, m))?;
    Ok(Json(save(&state, record).await?))
}

/// `DELETE /schedules/{id}`.
pub(crate) async fn remove(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let store = state.reporting.clone();
    let lookup = id.clone();
    let removed = crate::blocking(move || store.delete_schedule(&lookup)).await?;
    if removed {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no report schedule {id}"),
        ))
    }
}

/// `POST /schedules/{id}/run`: runs it now; the run (its deliveries are queued, and
/// `GET /schedules/{id}` tells what became of them).
pub(crate) async fn run(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let record = find(&state, &id).await?;
    let run = run_now(&state, record, &user).await?;
    let status = if run.status == "failed" {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::ACCEPTED
    };
    Ok((status, Json(serde_json::to_value(run).unwrap_or_default())))
}
