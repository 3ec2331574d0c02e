//! Renewals: contracts renewing within 30, 60 and 90 days, each with the use that should decide
//! it (`/apps/renewals`; `GET /renewals` in the API), and the channels their notices go to.
//! Saving a contract also looks for notices due at once ([`notify_now`]): a contract entered
//! inside its notice period is told about now, not at the next hourly look.

use crate::apps::{engine, shown, Shown};
use crate::auth::SignedIn;
use crate::rest::ApiError;
use crate::{html, WebError, WebState};
use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::{Extension, Json};
use okwatch_engine::search_text::encode;
use okwatch_engine::usage::renewals::{renewals, Renewal};
use serde_json::{json, Value};

/// The windows the page groups renewals in, in days.
const WINDOWS: [i64; 3] = [30, 60, 90];

/// Looks for the renewal notices due now (after a contract changed), beside the request: the
/// answer does not wait for every org's inventory. Failures are logged, as the hourly look
/// will try again.
pub(crate) fn notify_now(state: &WebState) {
    if !state.channels.iter().any(|c| c.renewals) {
        return;
    }
    let (store, channels, url) = (
        state.usage.clone(),
        state.channels.clone(),
        state.public_url.clone(),
    );
    tokio::spawn(async move {
        let queued = engine(move || {
            okwatch_notify::renewal::tick(
                store.as_ref(),
                &channels,
                url.as_deref(),
                chrono::Utc::now(),
            )
        })
        .await;
        if let Err(e) = queued {
            tracing::warn!("cannot look for renewal notices: {e:?}");
        }
    });
}

/// `?org=&within=` (days, 1 to 365, default 90).
fn asked(query: Option<&str>) -> Result<(Option<String>, i64), WebError> {
    let pairs = okwatch_okta::server::query_pairs(query);
    let org = crate::rest::value_of(&pairs, "org")
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_string);
    let within = match crate::rest::value_of(&pairs, "within").filter(|w| !w.is_empty()) {
        None => 90,
        Some(w) => w
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=365).contains(d))
            .ok_or_else(|| {
                WebError::BadRequest(format!("`within={w}`: a number of days from 1 to 365"))
            })?,
    };
    Ok((org, within))
}

async fn coming(
    state: &WebState,
    org: Option<String>,
    within: i64,
) -> Result<Vec<Renewal>, WebError> {
    let store = state.usage.clone();
    engine(move || renewals(store.as_ref(), org.as_deref(), chrono::Utc::now(), within)).await
}

/// A renewal as a row of the page: its date and notice, and its app's figures as the
/// inventory writes them.
struct Row {
    org: String,
    renewal: String,
    days_left: i64,
    notice_from: String,
    /// Whether its notice period has begun.
    noticed: bool,
    s: Shown,
}

struct Group {
    title: String,
    /// The last day from today it holds.
    until: i64,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "renewals.html")]
struct Page {
    user: SignedIn,
    org: Option<String>,
    back: String,
    within: i64,
    groups: Vec<Group>,
    channels: Vec<String>,
    total: usize,
}

/// `GET /apps/renewals`.
pub(crate) async fn page(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let (org, within) = asked(query.as_deref())?;
    let found = coming(&state, org.clone(), within).await?;
    let total = found.len();
    let today = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let mut groups: Vec<Group> = Vec::new();
    let mut from = 0;
    for to in WINDOWS.into_iter().filter(|w| *w < within).chain([within]) {
        groups.push(Group {
            title: if from == 0 {
                format!("Within {to} days")
            } else {
                format!("In {} to {to} days", from + 1)
            },
            until: to,
            rows: Vec::new(),
        });
        from = to;
    }
    for r in found {
        let row = Row {
            noticed: r.notice_from <= today,
            s: shown(&r.org, r.app),
            org: r.org,
            renewal: r.renewal,
            days_left: r.days_left,
            notice_from: r.notice_from,
        };
        if let Some(group) = groups.iter_mut().find(|g| row.days_left <= g.until) {
            group.rows.push(row);
        }
    }
    html(&Page {
        user,
        back: match &org {
            Some(o) => format!("/apps?org={}", encode(o)),
            None => "/apps".into(),
        },
        org,
        within,
        groups,
        channels: state
            .channels
            .iter()
            .filter(|c| c.renewals)
            .map(|c| c.name.clone())
            .collect(),
        total,
    })
}

/// `GET /api/okwatch/v1/renewals?org=&within=`: soonest first.
pub(crate) async fn api(
    State(state): State<WebState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (org, within) = asked(query.as_deref())?;
    let found = coming(&state, org.clone(), within).await?;
    Ok(Json(json!({
        "org": org,
        "within_days": within,
        "renewals": found,
        "notice_channels": state
            .channels
            .iter()
            .filter(|c| c.renewals)
            .map(|c| c.name.clone())
            .collect::<Vec<_>>(),
    })))
}
