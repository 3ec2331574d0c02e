//! A person's page (`/people/{org}/{id}`): who they are in the directory, their groups, the
//! apps they hold and use with when, and from the System Log over 90 days their sign-ins, MFA
//! factors, devices, places (a map), failures, the alerts about them and their latest events.
//! The same as JSON in the API (`GET /people/{org}/{id}`).

use crate::apps::engine;
use crate::auth::SignedIn;
use crate::map::{drawn, Drawn};
use crate::rest::ApiError;
use crate::search::SearchText;
use crate::{html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::{Extension, Json};
use chrono::{TimeDelta, Utc};
use okwatch_engine::search_text::{encode, literal};
use okwatch_engine::usage::people::{person, Person};
use okwatch_engine::{user_activity, EventSummary, UserActivity, Window};
use okwatch_query::{parse_and_validate, Dialect};
use okwatch_store::{AlertFilter, AlertRecord, EventQuery};
use serde_json::{json, Value};

/// The period of a person's activity.
const DAYS: i64 = 90;
/// Events read at most for the activity summary.
const EXAMINED: usize = 20_000;
/// Latest events shown.
const LATEST: usize = 25;

/// Everything a person's page shows.
struct Everything {
    person: Person,
    activity: UserActivity,
    latest: Vec<EventSummary>,
    alerts: Vec<AlertRecord>,
}

/// The condition that selects what someone did or had done to them.
fn about(id: &str) -> String {
    format!("actor.id eq {0} or target.id eq {0}", literal(id))
}

async fn everything(state: &WebState, org: &str, id: &str) -> Result<Everything, WebError> {
    let (store, o, i) = (state.usage.clone(), org.to_string(), id.to_string());
    let found = engine(move || person(store.as_ref(), &o, &i, Utc::now()))
        .await
        .map_err(|e| match e {
            // No directory for the org: nothing there, as for an unknown person.
            WebError::BadRequest(m) => WebError::NotFound(m),
            e => e,
        })?
        .ok_or_else(|| WebError::NotFound(format!("org `{org}` has no person `{id}`")))?;
    let (store, o, i) = (state.store.clone(), org.to_string(), id.to_string());
    let (activity, latest) = engine(move || {
        let now = Utc::now();
        let window = Window {
            since: Some(now - TimeDelta::days(DAYS)),
            until: None,
        };
        let activity = user_activity(store.as_ref(), &i, window, EXAMINED)?;
        let filter = parse_and_validate(&about(&i), Dialect::Okwatch)
            .map_err(|e| okwatch_engine::EngineError::BadRequest(e.message))?;
        let page = store.search(&EventQuery {
            org: Some(o),
            filter: Some(filter),
            limit: LATEST,
            ..EventQuery::default()
        })?;
        let latest = page
            .events
            .iter()
            .map(|e| EventSummary::of(&e.event))
            .collect();
        Ok((activity, latest))
    })
    .await?;
    // Alerts name the person they are about (their login) in their group.
    let (alerts, login) = (state.alerts.clone(), found.user.login.to_lowercase());
    let alerts = crate::blocking(move || {
        alerts.alerts(&AlertFilter {
            limit: 1_000,
            ..AlertFilter::default()
        })
    })
    .await?
    .into_iter()
    .filter(|a| !login.is_empty() && a.group.to_lowercase().contains(&login))
    .collect();
    Ok(Everything {
        person: found,
        activity,
        latest,
        alerts,
    })
}

struct AppRow {
    app: okwatch_engine::usage::people::PersonApp,
    href: String,
    sign_ins: String,
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    user: SignedIn,
    org: String,
    back: String,
    p: Person,
    activity: UserActivity,
    apps: Vec<AppRow>,
    latest: Vec<EventSummary>,
    alerts: Vec<AlertRecord>,
    map: Drawn,
    everything_href: String,
    failures_href: String,
    days: i64,
}

/// `GET /people/{org}/{id}`.
pub(crate) async fn page(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let all = everything(&state, &org, &id).await?;
    let since = format!("-{DAYS}d");
    let mine = SearchText {
        since: since.clone(),
        filter: format!("actor.id eq {}", literal(&id)),
        org: org.clone(),
        ..SearchText::default()
    };
    let map = drawn(
        &state,
        &mine.and_filter(r#"eventType eq "user.session.start""#),
    )
    .await?;
    let apps = all
        .person
        .apps
        .iter()
        .cloned()
        .map(|app| {
            let filter = okwatch_engine::usage::sign_on_filter(&app.id);
            AppRow {
                href: format!("/apps/{}/{}", encode(&org), encode(&app.id)),
                sign_ins: format!(
                    "/?{}",
                    mine.with(|t| t.since = "all".into())
                        .and_filter(&filter)
                        .to_query()
                ),
                app,
            }
        })
        .collect();
    let everything_href = format!(
        "/?{}",
        SearchText {
            since: "all".into(),
            filter: about(&id),
            org: org.clone(),
            ..SearchText::default()
        }
        .to_query()
    );
    let failures_href = format!(
        "/?{}",
        mine.and_filter(r#"outcome.result eq "FAILURE" or outcome.result eq "DENY""#)
            .to_query()
    );
    html(&PersonPage {
        user,
        back: format!("/apps?org={}", encode(&org)),
        p: all.person,
        activity: all.activity,
        apps,
        latest: all.latest,
        alerts: all.alerts,
        map,
        everything_href,
        failures_href,
        days: DAYS,
        org,
    })
}

/// `GET /api/okwatch/v1/people/{org}/{id}`.
pub(crate) async fn api(
    State(state): State<WebState>,
    Path((org, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let all = everything(&state, &org, &id).await?;
    Ok(Json(json!({
        "person": all.person,
        "activity_days": DAYS,
        "activity": all.activity,
        "latest_events": all.latest,
        "alerts": all.alerts,
    })))
}
