//! The SaaS usage overview in the console: every app of an org's directory with its assigned
//! and active people and the licences to reclaim (`/apps`), and one app's people with the
//! state of each (`/apps/{org}/{id}`); the same as JSON in the API (`GET /apps`,
//! `GET /apps/{org}/{id}`).

use crate::auth::SignedIn;
use crate::rest::ApiError;
use crate::{html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::{Extension, Json};
use okwatch_engine::search_text::encode;
use okwatch_engine::usage::{self, AppUse, AppUser, Inventory, IDLE_DAYS};
use serde_json::{json, Value};

/// The orgs with a directory, and the one asked for (or the first).
async fn pick_org(
    state: &WebState,
    query: Option<&str>,
) -> Result<(Vec<String>, String), WebError> {
    let store = state.usage.clone();
    let orgs: Vec<String> = crate::blocking(move || store.directory_summaries())
        .await?
        .into_iter()
        .map(|s| s.org)
        .collect();
    let pairs = okwatch_okta::server::query_pairs(query);
    let asked = crate::rest::value_of(&pairs, "org")
        .unwrap_or("")
        .trim()
        .to_string();
    let org = if asked.is_empty() {
        orgs.first().cloned().unwrap_or_default()
    } else {
        asked
    };
    Ok((orgs, org))
}

async fn inventory(state: &WebState, org: &str) -> Result<Inventory, WebError> {
    let (store, org) = (state.usage.clone(), org.to_string());
    tokio::task::spawn_blocking(move || usage::inventory(store.as_ref(), &org, chrono::Utc::now()))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(WebError::from)
}

async fn one_app(
    state: &WebState,
    org: &str,
    id: &str,
) -> Result<(AppUse, Vec<AppUser>, String), WebError> {
    // No directory for the org: nothing there, as for an unknown app.
    let inventory = inventory(state, org).await.map_err(|e| match e {
        WebError::BadRequest(m) => WebError::NotFound(m),
        e => e,
    })?;
    let app = inventory
        .apps
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| WebError::NotFound(format!("org `{org}` has no app `{id}`")))?;
    let (store, org, id) = (state.usage.clone(), org.to_string(), id.to_string());
    let people = tokio::task::spawn_blocking(move || {
        usage::app_users(store.as_ref(), &org, &id, chrono::Utc::now())
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?
    .map_err(WebError::from)?;
    Ok((app, people, inventory.directory_taken))
}

/// `62%`, or `—` when nobody is assigned.
fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".into(), |s| format!("{:.0}%", s * 100.0))
}

/// The explorer's search for an app's sign-ins (by one person, when given).
fn sign_ins_href(org: &str, app: &str, person: Option<&str>) -> String {
    let mut filter = format!(r#"{} and target.id eq "{app}""#, usage::SIGN_ON_FILTER);
    if let Some(person) = person {
        filter.push_str(&format!(r#" and actor.id eq "{person}""#));
    }
    format!("/?since=all&org={}&filter={}", encode(org), encode(&filter))
}

struct AppRow {
    app: AppUse,
    href: String,
    utilisation: String,
}

#[derive(Template)]
#[template(path = "apps.html")]
struct ListPage {
    user: SignedIn,
    orgs: Vec<String>,
    org: String,
    taken: String,
    apps: Vec<AppRow>,
    assigned: u64,
    idle: u64,
    idle_days: i64,
    problem: Option<String>,
}

/// `GET /apps`.
pub(crate) async fn list(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let (orgs, org) = pick_org(&state, query.as_deref()).await?;
    let (apps, taken, problem) = if org.is_empty() {
        (Vec::new(), String::new(), None)
    } else {
        match inventory(&state, &org).await {
            Ok(inventory) => (inventory.apps, inventory.directory_taken, None),
            Err(WebError::BadRequest(m)) => (Vec::new(), String::new(), Some(m)),
            Err(e) => return Err(e),
        }
    };
    let rows: Vec<AppRow> = apps
        .into_iter()
        .map(|app| AppRow {
            href: format!("/apps/{}/{}", encode(&org), encode(&app.id)),
            utilisation: percent(app.utilisation),
            app,
        })
        .collect();
    html(&ListPage {
        user,
        assigned: rows.iter().map(|r| r.app.assigned).sum(),
        idle: rows.iter().map(|r| r.app.idle).sum(),
        idle_days: IDLE_DAYS,
        orgs,
        org,
        taken: crate::schedules::minute(&taken),
        apps: rows,
        problem,
    })
}

struct PersonRow {
    person: AppUser,
    href: String,
}

#[derive(Template)]
#[template(path = "app.html")]
struct AppPage {
    user: SignedIn,
    back: String,
    org: String,
    app: AppUse,
    utilisation: String,
    sign_ins: String,
    taken: String,
    people: Vec<PersonRow>,
    idle_days: i64,
}

/// `GET /apps/{org}/{id}`.
pub(crate) async fn one(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let (app, people, taken) = one_app(&state, &org, &id).await?;
    html(&AppPage {
        user,
        utilisation: percent(app.utilisation),
        sign_ins: sign_ins_href(&org, &app.id, None),
        people: people
            .into_iter()
            .map(|person| PersonRow {
                href: sign_ins_href(&org, &app.id, Some(&person.id)),
                person,
            })
            .collect(),
        taken: crate::schedules::minute(&taken),
        idle_days: IDLE_DAYS,
        back: format!("/apps?org={}", encode(&org)),
        org,
        app,
    })
}

/// `GET /api/okwatch/v1/apps?org=`.
pub(crate) async fn api_list(
    State(state): State<WebState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (orgs, org) = pick_org(&state, query.as_deref()).await?;
    if org.is_empty() {
        return Ok(Json(json!({
            "org": null,
            "orgs": orgs,
            "apps": [],
            "note": "no org has a directory yet: okwatch lists each configured org's at start \
                     and every `directory_sync`",
        })));
    }
    let inventory = inventory(&state, &org).await?;
    let mut value = serde_json::to_value(inventory).unwrap_or_default();
    value["orgs"] = json!(orgs);
    Ok(Json(value))
}

/// `GET /api/okwatch/v1/apps/{org}/{id}`.
pub(crate) async fn api_one(
    State(state): State<WebState>,
    Path((org, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (app, people, taken) = one_app(&state, &org, &id).await?;
    Ok(Json(json!({
        "org": org,
        "directory_taken": taken,
        "app": app,
        "people": people,
    })))
}
