//! Reports in the JSON API: `GET /reports` (what there is) and `GET /reports/{id}?since=&until=&org=`
//! (one report, run: the same figures, chart and tables as the console, each number with the
//! explorer search that produced it).

use crate::reports::{run, Asked};
use crate::rest::ApiError;
use crate::WebState;
use axum::extract::{Path, RawQuery, State};
use axum::Json;
use okwatch_engine::reports::catalog;
use serde_json::{json, Value};

/// `GET /reports`.
pub(crate) async fn list() -> Json<Value> {
    let reports: Vec<Value> = catalog::all()
        .iter()
        .map(|s| json!({"id": s.id, "title": s.title, "description": s.description}))
        .collect();
    Json(json!({ "reports": reports }))
}

/// `GET /reports/{id}`.
pub(crate) async fn one(
    State(state): State<WebState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let asked = Asked::read(query.as_deref());
    let report = run(&state, &id, &asked).await?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}
