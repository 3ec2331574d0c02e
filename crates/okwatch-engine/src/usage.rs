//! SaaS usage: for each app of an org's directory, who is assigned it and who uses it.
//!
//! "Uses" means a successful single sign-on into the app (`user.authentication.sso`, outcome
//! `SUCCESS`, the app as its `AppInstance` target), by the person who is the event's actor.
//! Assignments come from the directory snapshot; use comes from the System Log over all the
//! history okwatch holds, which can reach far beyond Okta's 90 days. An assigned person who
//! never signed in is a licence to reclaim; so is one idle for 30 days.

use crate::EngineError;
use chrono::{DateTime, TimeDelta, Utc};
use okwatch_model::format_timestamp;
use okwatch_query::{parse_and_validate, Dialect};
use okwatch_store::directory::{Directory, DirectorySnapshot};
use okwatch_store::{Aggregation, Bucket, EventQuery, Key, Store};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The events that count as using an app.
pub const SIGN_ON_FILTER: &str =
    r#"eventType eq "user.authentication.sso" and outcome.result eq "SUCCESS""#;

/// Idle this many days (or never active): a licence to reclaim.
pub const IDLE_DAYS: i64 = 30;

/// Enough (app, person) pairs for any org: a bound the SQL can hold.
const ALL_PAIRS: usize = 50_000_000;

/// What usage is computed from.
pub trait UsageStore: Store + Directory {}
impl<T: Store + Directory + ?Sized> UsageStore for T {}

/// One app's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppUse {
    /// Okta's id (`0oa…`).
    pub id: String,
    /// What people see.
    pub label: String,
    /// The catalogue name.
    pub name: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// People assigned it.
    pub assigned: u64,
    /// People who signed in to it in the last 7, 30 and 90 days (assigned or not).
    pub active_7: u64,
    pub active_30: u64,
    pub active_90: u64,
    /// The day of the latest sign-in in the last 90 days.
    pub last_used: Option<String>,
    /// Assigned people with no sign-in in the whole history.
    pub never_used: u64,
    /// Assigned people with no sign-in in the last [`IDLE_DAYS`] days (the never-active
    /// among them): the licences to reclaim.
    pub idle: u64,
    /// Active in 30 days over assigned, when anyone is assigned.
    pub utilisation: Option<f64>,
}

/// One person's use of one app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppUser {
    /// Okta's id.
    pub id: String,
    pub login: String,
    pub name: String,
    /// Whether the directory has them assigned.
    pub assigned: bool,
    /// The day of their latest sign-in in the last 90 days.
    pub last_used: Option<String>,
    /// Whether they signed in at all in the history okwatch holds.
    pub ever_used: bool,
    /// `active` (within [`IDLE_DAYS`]), `idle` (before) or `never`.
    pub state: &'static str,
}

/// Every app's numbers for one org.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    pub org: String,
    /// When the directory was listed.
    pub directory_taken: String,
    /// The moment the numbers are for.
    pub now: String,
    pub apps: Vec<AppUse>,
}

/// Who signed in to which app, from the events.
struct Use {
    /// (app, person) → the day of their latest sign-in in the last 90 days.
    last_day: BTreeMap<(String, String), DateTime<Utc>>,
    /// (app, person) who signed in within each of [`WINDOWS`] days of now.
    within: [BTreeSet<(String, String)>; 3],
    /// (app, person) who signed in at any time.
    ever: BTreeSet<(String, String)>,
}

/// The activity windows, in days.
const WINDOWS: [i64; 3] = [7, IDLE_DAYS, 90];

impl Use {
    fn active(&self, app: &str, window: usize) -> u64 {
        self.within[window].iter().filter(|(a, _)| a == app).count() as u64
    }

    fn recent(&self, app: &str, person: &str) -> bool {
        self.within[1].contains(&(app.to_string(), person.to_string()))
    }
}

fn sign_ons(
    store: &dyn UsageStore,
    org: &str,
    app: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Use, EngineError> {
    let mut filter = SIGN_ON_FILTER.to_string();
    if let Some(app) = app {
        filter.push_str(&format!(r#" and target.id eq "{}""#, app.replace('"', "")));
    }
    let expr = parse_and_validate(&filter, Dialect::Okwatch)
        .map_err(|e| EngineError::BadRequest(e.message))?;
    let pairs = |since: Option<DateTime<Utc>>,
                 bucket: Option<Bucket>|
     -> Result<Vec<okwatch_store::AggregateRow>, EngineError> {
        let query = EventQuery {
            org: Some(org.to_string()),
            filter: Some(expr.clone()),
            since,
            until: Some(now),
            ..EventQuery::default()
        };
        Ok(store.aggregate(
            &query,
            &Aggregation {
                keys: vec![Key::target("AppInstance", "id"), Key::field("actor.id")],
                bucket,
                distinct: None,
                top: ALL_PAIRS,
            },
        )?)
    };
    let pair = |keys: &[Option<String>]| match keys {
        [Some(app), Some(person)] => Some((app.clone(), person.clone())),
        _ => None,
    };
    let set = |since: Option<DateTime<Utc>>| -> Result<BTreeSet<(String, String)>, EngineError> {
        Ok(pairs(since, None)?
            .iter()
            .filter_map(|row| pair(&row.keys))
            .collect())
    };
    let mut last_day = BTreeMap::new();
    for row in pairs(Some(now - TimeDelta::days(90)), Some(Bucket::Day))? {
        if let (Some(key), Some(day)) = (pair(&row.keys), row.time) {
            let latest = last_day.entry(key).or_insert(day);
            *latest = (*latest).max(day);
        }
    }
    let within = [
        set(Some(now - TimeDelta::days(WINDOWS[0])))?,
        set(Some(now - TimeDelta::days(WINDOWS[1])))?,
        set(Some(now - TimeDelta::days(WINDOWS[2])))?,
    ];
    Ok(Use {
        last_day,
        within,
        ever: set(None)?,
    })
}

fn snapshot(store: &dyn UsageStore, org: &str) -> Result<DirectorySnapshot, EngineError> {
    store.directory(org)?.ok_or_else(|| {
        EngineError::BadRequest(format!(
            "org `{org}` has no directory yet: okwatch lists it at start and every \
             `directory_sync` (see okwatch status)"
        ))
    })
}

/// Every app of `org`'s directory with its numbers at `now`, most assigned first.
pub fn inventory(
    store: &dyn UsageStore,
    org: &str,
    now: DateTime<Utc>,
) -> Result<Inventory, EngineError> {
    let directory = snapshot(store, org)?;
    let used = sign_ons(store, org, None, now)?;
    let mut assigned: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for a in &directory.assignments {
        assigned
            .entry(a.app_id.as_str())
            .or_default()
            .insert(a.user_id.as_str());
    }
    let mut apps: Vec<AppUse> = directory
        .apps
        .iter()
        .map(|app| {
            let people = assigned.get(app.id.as_str()).cloned().unwrap_or_default();
            let never_used = people
                .iter()
                .filter(|p| !used.ever.contains(&(app.id.clone(), p.to_string())))
                .count() as u64;
            let idle = people.iter().filter(|p| !used.recent(&app.id, p)).count() as u64;
            let active_30 = used.active(&app.id, 1);
            AppUse {
                id: app.id.clone(),
                label: app.label.clone(),
                name: app.name.clone(),
                status: app.status.clone(),
                assigned: people.len() as u64,
                active_7: used.active(&app.id, 0),
                active_30,
                active_90: used.active(&app.id, 2),
                last_used: used
                    .last_day
                    .iter()
                    .filter(|((a, _), _)| a == &app.id)
                    .map(|(_, d)| *d)
                    .max()
                    .map(day),
                never_used,
                idle,
                utilisation: (!people.is_empty()).then(|| active_30 as f64 / people.len() as f64),
            }
        })
        .collect();
    apps.sort_by(|a, b| {
        b.assigned
            .cmp(&a.assigned)
            .then_with(|| a.label.to_lowercase().cmp(&b.label.to_lowercase()))
    });
    Ok(Inventory {
        org: org.to_string(),
        directory_taken: directory.taken,
        now: format_timestamp(now),
        apps,
    })
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// The people of one app: everyone assigned it and everyone who signed in to it, idle and
/// never-active first (the licences to reclaim), then by latest use.
pub fn app_users(
    store: &dyn UsageStore,
    org: &str,
    app_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<AppUser>, EngineError> {
    let directory = snapshot(store, org)?;
    let used = sign_ons(store, org, Some(app_id), now)?;
    let assigned: BTreeSet<&str> = directory
        .assignments
        .iter()
        .filter(|a| a.app_id == app_id)
        .map(|a| a.user_id.as_str())
        .collect();
    let mut ids: BTreeSet<String> = assigned.iter().map(|s| s.to_string()).collect();
    ids.extend(used.ever.iter().map(|(_, p)| p.clone()));
    let mut people: Vec<AppUser> = ids
        .into_iter()
        .map(|id| {
            let person = directory.users.iter().find(|u| u.id == id);
            let key = (app_id.to_string(), id.clone());
            let ever_used = used.ever.contains(&key);
            AppUser {
                login: person.map(|p| p.login.clone()).unwrap_or_default(),
                name: person.map(|p| p.name.clone()).unwrap_or_default(),
                assigned: assigned.contains(id.as_str()),
                last_used: used.last_day.get(&key).map(|d| day(*d)),
                ever_used,
                state: if used.recent(app_id, &id) {
                    "active"
                } else if ever_used {
                    "idle"
                } else {
                    "never"
                },
                id,
            }
        })
        .collect();
    let rank = |s: &str| match s {
        "never" => 0,
        "idle" => 1,
        _ => 2,
    };
    people.sort_by(|a, b| {
        rank(a.state)
            .cmp(&rank(b.state))
            .then_with(|| b.last_used.cmp(&a.last_used))
            .then_with(|| a.login.cmp(&b.login))
    });
    Ok(people)
}
