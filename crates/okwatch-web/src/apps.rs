//! The SaaS usage overview in the console: every app of an org's directory, Okta itself first,
//! with its assigned and active people, licences, spend, savings and renewal, sortable by any
//! of them (`/apps`), and one app's numbers, contract and people (`/apps/{org}/{id}`); the same
//! as JSON in the API (`GET /apps`, `GET /apps/{org}/{id}`). Contracts are edited and imported
//! in `apps_contracts`, renewals listed in `apps_renewals`.

use crate::auth::SignedIn;
use crate::rest::ApiError;
use crate::{html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use axum::{Extension, Json};
use okwatch_engine::search_text::{encode, literal};
use okwatch_engine::usage::money::{format_cents, format_money};
use okwatch_engine::usage::{self, AppUse, AppUser, Inventory, Total, IDLE_DAYS, OKTA_APP};
use serde_json::{json, Value};

/// The orgs with a directory, and the one asked for (or the first).
pub(crate) async fn pick_org(
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

/// Runs an engine call on a blocking thread.
pub(crate) async fn engine<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, okwatch_engine::EngineError> + Send + 'static,
) -> Result<T, WebError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(WebError::from)
}

async fn inventory(state: &WebState, org: &str) -> Result<Inventory, WebError> {
    let (store, org) = (state.usage.clone(), org.to_string());
    engine(move || usage::inventory(store.as_ref(), &org, chrono::Utc::now())).await
}

/// One app's numbers and the directory's date; 404 when the org has no directory or no such
/// app.
pub(crate) async fn app_numbers(
    state: &WebState,
    org: &str,
    id: &str,
) -> Result<(AppUse, String), WebError> {
    let (store, o, i) = (state.usage.clone(), org.to_string(), id.to_string());
    let found = engine(move || {
        let taken = store.directory_taken(&o)?;
        let app = usage::app_numbers(store.as_ref(), &o, &i, chrono::Utc::now());
        Ok((app, taken))
    })
    .await?;
    match found {
        (app, Some(taken)) => app
            .map_err(WebError::from)?
            .map(|app| (app, taken))
            .ok_or_else(|| no_app(org, id)),
        (_, None) => Err(no_directory(org)),
    }
}

/// One app's numbers and people (from one reading of its sign-ins) and the directory's date;
/// 404 when the org has no directory or no such app.
async fn one_app(
    state: &WebState,
    org: &str,
    id: &str,
) -> Result<(AppUse, Vec<AppUser>, String), WebError> {
    let (store, o, i) = (state.usage.clone(), org.to_string(), id.to_string());
    let found = engine(move || {
        let Some(taken) = store.directory_taken(&o)? else {
            return Ok(Err(no_directory(&o)));
        };
        Ok(
            usage::app_detail(store.as_ref(), &o, &i, chrono::Utc::now())?
                .map(|(app, people)| (app, people, taken))
                .ok_or_else(|| no_app(&o, &i)),
        )
    })
    .await?;
    found
}

/// The 404 of an org without a directory.
fn no_directory(org: &str) -> WebError {
    WebError::NotFound(format!("org `{org}` has no directory yet"))
}

/// The 404 of an app the org's directory does not have.
fn no_app(org: &str, id: &str) -> WebError {
    WebError::NotFound(format!("org `{org}` has no app `{id}`"))
}

/// That `org`'s directory has the app `id` (or it is Okta's own), without computing its
/// numbers; 404 otherwise.
pub(crate) async fn app_exists(state: &WebState, org: &str, id: &str) -> Result<(), WebError> {
    let (store, o) = (state.usage.clone(), org.to_string());
    match crate::blocking(move || store.directory(&o)).await? {
        None => Err(no_directory(org)),
        Some(d) if id == OKTA_APP || d.apps.iter().any(|a| a.id == id) => Ok(()),
        Some(_) => Err(no_app(org, id)),
    }
}

/// `62%`, or `—` when there is nothing to divide by.
pub(crate) fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "—".into(), |s| format!("{:.0}%", s * 100.0))
}

/// The explorer's search for an app's sign-ins (by one person, when given).
fn sign_ins_href(org: &str, app: &str, person: Option<&str>) -> String {
    let mut filter = usage::sign_on_filter(app);
    if let Some(person) = person {
        filter.push_str(&format!(" and actor.id eq {}", literal(person)));
    }
    format!("/?since=all&org={}&filter={}", encode(org), encode(&filter))
}

/// An app's figures as the console writes them.
pub(crate) struct Shown {
    pub app: AppUse,
    pub href: String,
    /// Active over licences when they are known, else over assigned.
    pub utilisation: String,
    pub utilisation_of: &'static str,
    pub licences: String,
    pub spend: String,
    /// The same in whole units, for the inventory's narrow columns.
    pub spend_whole: String,
    pub per_active: String,
    pub unused: String,
    pub savings: String,
    pub savings_whole: String,
    pub renewal: String,
    /// Days to the renewal, when it is within 90 days.
    pub renews_in: Option<i64>,
}

pub(crate) fn shown(org: &str, app: AppUse) -> Shown {
    let dash = |text: Option<String>| text.unwrap_or_else(|| "—".into());
    let spend = app.spend.as_ref();
    let renewal = app.contract.as_ref().and_then(|c| c.renewal.clone());
    let renews_in = renewal
        .as_deref()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| (d - chrono::Utc::now().date_naive()).num_days())
        .filter(|d| (0..=90).contains(d));
    Shown {
        href: format!("/apps/{}/{}", encode(org), encode(&app.id)),
        utilisation: percent(app.licence_utilisation.or(app.utilisation)),
        utilisation_of: if app.licence_utilisation.is_some() {
            "licences"
        } else {
            "assigned"
        },
        licences: app
            .contract
            .as_ref()
            .and_then(|c| c.licences)
            .map_or_else(|| "—".into(), |l| l.to_string()),
        spend: dash(app.money(|s| Some(s.annual_cents))),
        spend_whole: whole_money(spend, spend.map(|s| s.annual_cents)),
        per_active: dash(app.money(|s| s.per_active_user_cents)),
        unused: spend.map_or_else(|| app.idle.to_string(), |s| s.unused.to_string()),
        savings: dash(app.money(|s| s.savings_cents)),
        savings_whole: whole_money(spend, spend.and_then(|s| s.savings_cents)),
        renewal: renewal.unwrap_or_else(|| "—".into()),
        renews_in,
        app,
    }
}

/// A sortable column's heading.
struct Heading {
    label: &'static str,
    title: &'static str,
    href: String,
    /// `ascending`, `descending` or empty (not sorted by it).
    sorted: &'static str,
    num: bool,
}

fn headings(org: &str, by: &str, ascending: bool) -> Vec<Heading> {
    [
        ("app", "App", "", false),
        (
            "assigned",
            "Assigned",
            "People assigned it (Okta: accounts not deactivated)",
            true,
        ),
        ("", "Licences", "Licences bought, from the contract", true),
        ("", "7 days", "People who signed in to it in 7 days", true),
        (
            "active_30",
            "30 days",
            "People who signed in to it in 30 days",
            true,
        ),
        ("", "90 days", "People who signed in to it in 90 days", true),
        (
            "utilisation",
            "Utilisation",
            "Active in 30 days over licences (over assigned when the licences are not known)",
            true,
        ),
        (
            "idle",
            "To reclaim",
            "Assigned people idle 30 days or who never signed in",
            true,
        ),
        ("spend", "Spend / year", "A year of the contract", true),
        (
            "savings",
            "Savings / year",
            "What the licences unused in 30 days cost a year",
            true,
        ),
        ("renewal", "Renewal", "When the contract renews", false),
        (
            "last_used",
            "Last use",
            "The latest sign-in in 90 days",
            false,
        ),
    ]
    .into_iter()
    .map(|(key, label, title, num)| {
        let here = key == by;
        let next = if here {
            !ascending
        } else {
            Inventory::ascending_first(key)
        };
        Heading {
            label,
            title,
            href: if key.is_empty() {
                String::new()
            } else {
                format!(
                    "/apps?org={}&sort={key}&dir={}",
                    encode(org),
                    if next { "asc" } else { "desc" }
                )
            },
            sorted: match (here, ascending) {
                (false, _) => "",
                (true, true) => "ascending",
                (true, false) => "descending",
            },
            num,
        }
    })
    .collect()
}

/// A total as the figures show it: whole units (a figure is read at a glance; the cents are in
/// the table).
struct TotalShown {
    currency: String,
    spend: String,
    savings: String,
    apps: u64,
}

/// `USD 19,800`, or `—` without an amount.
fn whole_money(spend: Option<&okwatch_engine::usage::money::Spend>, cents: Option<i64>) -> String {
    spend.zip(cents).map_or_else(
        || "—".into(),
        |(s, c)| format!("{} {}", s.currency, whole(c)),
    )
}

fn whole(cents: i64) -> String {
    let rounded = format_cents((cents + 50) / 100 * 100);
    rounded.trim_end_matches(".00").to_string()
}

fn totals_shown(totals: &[Total]) -> Vec<TotalShown> {
    totals
        .iter()
        .map(|t| TotalShown {
            currency: t.currency.clone(),
            spend: whole(t.annual_cents),
            savings: whole(t.savings_cents),
            apps: t.apps,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "apps.html")]
struct ListPage {
    user: SignedIn,
    orgs: Vec<String>,
    org: String,
    /// `org` percent-encoded, for links.
    org_path: String,
    taken: String,
    /// Changes logged since the listing, laid over it.
    changes: u64,
    apps: Vec<Shown>,
    headings: Vec<Heading>,
    totals: Vec<TotalShown>,
    assigned: u64,
    idle: u64,
    idle_days: i64,
    problem: Option<String>,
}

/// The sort a query asks for (`sort=spend&dir=asc`), checked.
fn sort_of(query: Option<&str>) -> Result<Option<(String, bool)>, WebError> {
    let pairs = okwatch_okta::server::query_pairs(query);
    let Some(by) = crate::rest::value_of(&pairs, "sort").filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if !usage::SORTS.contains(&by) {
        return Err(WebError::BadRequest(format!(
            "cannot sort by `{by}`: one of {}",
            usage::SORTS.join(", ")
        )));
    }
    let ascending = match crate::rest::value_of(&pairs, "dir") {
        Some("asc") => true,
        Some("desc") => false,
        _ => Inventory::ascending_first(by),
    };
    Ok(Some((by.to_string(), ascending)))
}

/// `GET /apps` (`?org=`, `?sort=&dir=`).
pub(crate) async fn list(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let (orgs, org) = pick_org(&state, query.as_deref()).await?;
    let sort = sort_of(query.as_deref())?;
    let (mut found, mut problem) = (None, None);
    if !org.is_empty() {
        match inventory(&state, &org).await {
            Ok(inventory) => found = Some(inventory),
            Err(WebError::BadRequest(m)) => problem = Some(m),
            Err(e) => return Err(e),
        }
    }
    let (mut apps, taken, totals, changes) = match found {
        Some(mut inventory) => {
            if let Some((by, ascending)) = &sort {
                inventory.sort(by, *ascending)?;
            }
            (
                inventory.apps,
                inventory.directory_taken,
                inventory.totals,
                inventory.changes_since_listing,
            )
        }
        None => (Vec::new(), String::new(), Vec::new(), 0),
    };
    let assigned = apps
        .iter()
        .filter(|a| a.id != OKTA_APP)
        .map(|a| a.assigned)
        .sum();
    let idle = apps
        .iter()
        .filter(|a| a.id != OKTA_APP)
        .map(|a| a.idle)
        .sum();
    let rows: Vec<Shown> = apps.drain(..).map(|app| shown(&org, app)).collect();
    let (by, ascending) = sort.unwrap_or_default();
    html(&ListPage {
        user,
        headings: headings(&org, &by, ascending),
        totals: totals_shown(&totals),
        assigned,
        idle,
        idle_days: IDLE_DAYS,
        orgs,
        taken: crate::schedules::minute(&taken),
        changes,
        apps: rows,
        org_path: encode(&org),
        org,
        problem,
    })
}

struct PersonRow {
    person: AppUser,
    /// Their sign-ins to the app.
    href: String,
    /// Their page.
    page: String,
}

/// Days of the trend on an app's page.
const TREND_DAYS: i64 = 90;

/// The app's trend as bars: people who signed in each day, each bar opening that day's
/// sign-ins.
async fn trend(
    state: &WebState,
    org: &str,
    app: &AppUse,
    sign_ins: &str,
) -> Result<(Option<crate::chart::Chart>, Vec<crate::pages::BarView>), WebError> {
    let (store, o, id) = (state.usage.clone(), org.to_string(), app.id.clone());
    let now = chrono::Utc::now();
    let counts =
        engine(move || usage::daily_active(store.as_ref(), &o, &id, TREND_DAYS, now)).await?;
    let since = now - chrono::TimeDelta::days(TREND_DAYS - 1);
    let chart = crate::chart::chart(&counts, okwatch_store::Bucket::Day, Some(since), now);
    let text = crate::search::SearchText::from_query(sign_ins.trim_start_matches("/?"));
    let bars = chart
        .iter()
        .flat_map(|c| &c.bars)
        .map(|b| crate::pages::BarView {
            x: format!("{:.2}", b.x),
            y: format!("{:.2}", b.y),
            w: format!("{:.2}", b.w),
            h: format!("{:.2}", b.h),
            href: format!(
                "/?{}",
                text.with(|t| {
                    t.since = okwatch_engine::search_text::url_time(b.start);
                    t.until = okwatch_engine::search_text::url_time(b.end);
                })
                .to_query()
            ),
            title: format!("{} people on {}", b.count, b.start.format("%a %Y-%m-%d")),
        })
        .collect();
    Ok((chart, bars))
}

#[derive(Template)]
#[template(path = "app.html")]
struct AppPage {
    user: SignedIn,
    back: String,
    org: String,
    app: Shown,
    sign_ins: String,
    contract_href: String,
    taken: String,
    people: Vec<PersonRow>,
    idle_days: i64,
    chart: Option<crate::chart::Chart>,
    bars: Vec<crate::pages::BarView>,
    trend_days: i64,
}

/// `GET /apps/{org}/{id}`.
pub(crate) async fn one(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let (app, people, taken) = one_app(&state, &org, &id).await?;
    let sign_ins = sign_ins_href(&org, &app.id, None);
    let (chart, bars) = trend(&state, &org, &app, &sign_ins).await?;
    html(&AppPage {
        user,
        chart,
        bars,
        trend_days: TREND_DAYS,
        sign_ins,
        contract_href: format!("/apps/{}/{}/contract", encode(&org), encode(&app.id)),
        people: people
            .into_iter()
            .map(|person| PersonRow {
                href: sign_ins_href(&org, &app.id, Some(&person.id)),
                page: format!("/people/{}/{}", encode(&org), encode(&person.id)),
                person,
            })
            .collect(),
        taken: crate::schedules::minute(&taken),
        idle_days: IDLE_DAYS,
        back: format!("/apps?org={}", encode(&org)),
        app: shown(&org, app),
        org,
    })
}

/// `GET /api/okwatch/v1/apps?org=&sort=&dir=`.
pub(crate) async fn api_list(
    State(state): State<WebState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (orgs, org) = pick_org(&state, query.as_deref()).await?;
    let sort = sort_of(query.as_deref())?;
    if org.is_empty() {
        return Ok(Json(json!({
            "org": null,
            "orgs": orgs,
            "apps": [],
            "totals": [],
            "note": "no org has a directory yet: okwatch lists each configured org's at start \
                     and every `directory_sync`",
        })));
    }
    let mut inventory = inventory(&state, &org).await?;
    if let Some((by, ascending)) = sort {
        inventory.sort(&by, ascending).map_err(WebError::from)?;
    }
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

/// `USD 1,200.50`, for templates.
pub(crate) fn money(cents: &i64, currency: &str) -> String {
    format_money(*cents, currency)
}
