//! SaaS usage: for each app of an org's directory, who is assigned it and who uses it, and
//! what its contract costs against that use.
//!
//! "Uses" means a successful single sign-on into the app (`user.authentication.sso`, outcome
//! `SUCCESS`, the app as its `AppInstance` target), by the person who is the event's actor.
//! Okta itself is an app here ([`OKTA_APP`]): everyone not deactivated holds one of its
//! licences, and using it is starting a session. Assignments come from the directory
//! snapshot; use comes from the System Log over all the history okwatch holds, which can reach
//! far beyond Okta's 90 days. An assigned person who never signed in is a licence to reclaim;
//! so is one idle for 30 days. Contracts ([`contracts`]) say what that costs ([`money`]);
//! [`renewals`] what is coming up.

pub mod contracts;
pub mod money;
pub mod overlay;
pub mod people;
pub mod renewals;

use crate::EngineError;
use chrono::{DateTime, TimeDelta, Utc};
use money::Spend;
use okwatch_model::format_timestamp;
use okwatch_query::{parse_and_validate, Dialect};
use okwatch_store::directory::{Directory, DirectoryApp, DirectorySnapshot};
use okwatch_store::{Aggregation, Bucket, Contract, Contracts, EventQuery, Key, Store};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The events that count as using an app.
pub const SIGN_ON_FILTER: &str =
    r#"eventType eq "user.authentication.sso" and outcome.result eq "SUCCESS""#;

/// The events that count as using Okta itself.
pub const OKTA_SIGN_ON_FILTER: &str =
    r#"eventType eq "user.session.start" and outcome.result eq "SUCCESS""#;

/// The events that count as using `app_id`: its single sign-ons, or for [`OKTA_APP`] the
/// sessions started. Every surface that links to "the sign-ins behind a number" uses it.
pub fn sign_on_filter(app_id: &str) -> String {
    if app_id == OKTA_APP {
        OKTA_SIGN_ON_FILTER.to_string()
    } else {
        format!(
            "{SIGN_ON_FILTER} and target.id eq {}",
            crate::search_text::literal(app_id)
        )
    }
}

/// The id Okta itself has among an org's apps (no app id of Okta's looks like it).
pub const OKTA_APP: &str = "okta";

/// Idle this many days (or never active): a licence to reclaim.
pub const IDLE_DAYS: i64 = 30;

/// Enough (app, person) pairs for any org: a bound the SQL can hold.
const ALL_PAIRS: usize = 50_000_000;

/// What usage is computed from.
pub trait UsageStore: Store + Directory + Contracts {}
impl<T: Store + Directory + Contracts + ?Sized> UsageStore for T {}

/// Okta itself, as one of an org's apps.
pub fn okta_app() -> DirectoryApp {
    DirectoryApp {
        id: OKTA_APP.into(),
        name: OKTA_APP.into(),
        label: "Okta".into(),
        status: "ACTIVE".into(),
        sign_on_mode: None,
    }
}

/// One app's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppUse {
    /// Okta's id (`0oa…`), or [`OKTA_APP`].
    pub id: String,
    /// What people see.
    pub label: String,
    /// The catalogue name.
    pub name: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// People assigned it (for Okta: every account not deactivated).
    pub assigned: u64,
    /// People of the directory who signed in to it in the last 7, 30 and 90 days (assigned
    /// or not).
    pub active_7: u64,
    pub active_30: u64,
    pub active_90: u64,
    /// People who signed in to it in the last 7, 30 and 90 days but are not (or no longer)
    /// in the directory: shown apart, never counted as its users.
    pub unlisted_7: u64,
    pub unlisted_30: u64,
    pub unlisted_90: u64,
    /// The day of the latest sign-in in the last 90 days.
    pub last_used: Option<String>,
    /// Assigned people with no sign-in in the whole history.
    pub never_used: u64,
    /// Assigned people with no sign-in in the last [`IDLE_DAYS`] days (the never-active
    /// among them): the licences to reclaim.
    pub idle: u64,
    /// Assigned people active in 30 days over assigned, when anyone is assigned (at most 1).
    pub utilisation: Option<f64>,
    /// Active in 30 days over licences bought, when the contract says how many.
    pub licence_utilisation: Option<f64>,
    /// Its contract, when someone recorded one.
    pub contract: Option<Contract>,
    /// What the contract costs against this use, when it has a price.
    pub spend: Option<Spend>,
}

impl AppUse {
    /// One of its spend's amounts (`|s| Some(s.annual_cents)`) written with the currency,
    /// `USD 1,200.50`; `None` without a price or that amount.
    pub fn money(&self, pick: impl Fn(&Spend) -> Option<i64>) -> Option<String> {
        let spend = self.spend.as_ref()?;
        Some(money::format_money(pick(spend)?, &spend.currency))
    }
}

/// Money summed over apps, in one currency (amounts in different currencies are never added).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Total {
    pub currency: String,
    /// A year of every priced contract.
    pub annual_cents: i64,
    /// What their unused licences cost a year.
    pub savings_cents: i64,
    /// Apps counted.
    pub apps: u64,
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
    /// Whether the directory lists them at all (someone who signed in but is not, or no
    /// longer, listed is shown apart and not counted among the app's users).
    pub listed: bool,
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
    /// Changes the System Log recorded since then, laid over the listing (assignments,
    /// group memberships, accounts created, deactivated, deleted…).
    pub changes_since_listing: u64,
    /// The moment the numbers are for.
    pub now: String,
    pub apps: Vec<AppUse>,
    /// Spend and savings per currency.
    pub totals: Vec<Total>,
}

/// What an inventory can be ordered by.
pub const SORTS: [&str; 9] = [
    "app",
    "assigned",
    "active_30",
    "utilisation",
    "idle",
    "last_used",
    "spend",
    "savings",
    "renewal",
];

impl Inventory {
    /// The direction people expect first: names A to Z and renewals soonest first, numbers
    /// largest first.
    pub fn ascending_first(by: &str) -> bool {
        matches!(by, "app" | "renewal")
    }

    /// Orders the apps by one of [`SORTS`]; apps without the value last either way, ties by
    /// label.
    pub fn sort(&mut self, by: &str, ascending: bool) -> Result<(), EngineError> {
        if !SORTS.contains(&by) {
            return Err(EngineError::BadRequest(format!(
                "cannot sort by `{by}`: one of {}",
                SORTS.join(", ")
            )));
        }
        // Each app's value as a sortable number or text; `None` sorts last.
        fn value(app: &AppUse, by: &str) -> Option<Result<f64, String>> {
            let n = |v: u64| Some(Ok(v as f64));
            match by {
                "app" => Some(Err(app.label.to_lowercase())),
                "assigned" => n(app.assigned),
                "active_30" => n(app.active_30),
                "utilisation" => app.licence_utilisation.or(app.utilisation).map(Ok),
                "idle" => n(app.idle),
                "last_used" => app.last_used.clone().map(Err),
                "spend" => app.spend.as_ref().map(|s| Ok(s.annual_cents as f64)),
                "savings" => app
                    .spend
                    .as_ref()
                    .and_then(|s| s.savings_cents)
                    .map(|c| Ok(c as f64)),
                _ => app
                    .contract
                    .as_ref()
                    .and_then(|c| c.renewal.clone())
                    .map(Err),
            }
        }
        self.apps.sort_by(|a, b| {
            let order = match (value(a, by), value(b, by)) {
                (Some(x), Some(y)) => {
                    let o = match (x, y) {
                        (Ok(x), Ok(y)) => x.total_cmp(&y),
                        (Err(x), Err(y)) => x.cmp(&y),
                        _ => std::cmp::Ordering::Equal,
                    };
                    if ascending {
                        o
                    } else {
                        o.reverse()
                    }
                }
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            };
            order.then_with(|| a.label.to_lowercase().cmp(&b.label.to_lowercase()))
        });
        Ok(())
    }
}

/// Who signed in to which app, from the events.
pub(crate) struct Use {
    /// (app, person) → the day of their latest sign-in in the last 90 days.
    pub(crate) last_day: BTreeMap<(String, String), DateTime<Utc>>,
    /// (app, person) who signed in within each of [`WINDOWS`] days of now.
    within: [BTreeSet<(String, String)>; 3],
    /// (app, person) who signed in at any time.
    pub(crate) ever: BTreeSet<(String, String)>,
}

/// The activity windows, in days.
const WINDOWS: [i64; 3] = [7, IDLE_DAYS, 90];

impl Use {
    /// People who signed in to `app` within the window, (in the directory, not in it).
    fn active(&self, app: &str, window: usize, listed: &BTreeSet<&str>) -> (u64, u64) {
        let (mut inside, mut outside) = (0, 0);
        for (_, person) in self.within[window].iter().filter(|(a, _)| a == app) {
            if listed.contains(person.as_str()) {
                inside += 1;
            } else {
                outside += 1;
            }
        }
        (inside, outside)
    }

    pub(crate) fn recent(&self, app: &str, person: &str) -> bool {
        self.within[1].contains(&(app.to_string(), person.to_string()))
    }

    /// One person's use of one app: their state (`active` within [`IDLE_DAYS`], `idle`
    /// before, `never`), whether they ever signed in, and the day of their latest sign-in
    /// in 90 days.
    pub(crate) fn of(&self, app: &str, person: &str) -> (&'static str, bool, Option<String>) {
        let key = (app.to_string(), person.to_string());
        let ever = self.ever.contains(&key);
        let state = if self.within[1].contains(&key) {
            "active"
        } else if ever {
            "idle"
        } else {
            "never"
        };
        (state, ever, self.last_day.get(&key).map(|d| day(*d)))
    }
}

/// Whose sign-ins are read: the apps' (all, or one) or Okta's own, by everyone or by one person.
#[derive(Clone, Copy)]
pub(crate) enum Signing<'a> {
    Apps(Option<&'a str>),
    Okta,
    Person(&'a str),
    OktaOf(&'a str),
}

impl<'a> Signing<'a> {
    /// Everyone's sign-ins to `app_id` (Okta's sessions with [`OKTA_APP`]).
    fn of_app(app_id: &'a str) -> Signing<'a> {
        if app_id == OKTA_APP {
            Signing::Okta
        } else {
            Signing::Apps(Some(app_id))
        }
    }
}

pub(crate) fn sign_ons(
    store: &dyn UsageStore,
    org: &str,
    signing: Signing<'_>,
    now: DateTime<Utc>,
) -> Result<Use, EngineError> {
    let (filter, keys) = match signing {
        Signing::Apps(app) => {
            let filter = app.map_or_else(|| SIGN_ON_FILTER.to_string(), sign_on_filter);
            let keys = vec![Key::target("AppInstance", "id"), Key::field("actor.id")];
            (filter, keys)
        }
        Signing::Okta => (
            OKTA_SIGN_ON_FILTER.to_string(),
            vec![Key::field("actor.id")],
        ),
        Signing::Person(id) => (
            format!(
                r#"{SIGN_ON_FILTER} and actor.id eq "{}""#,
                id.replace('"', "")
            ),
            vec![Key::target("AppInstance", "id"), Key::field("actor.id")],
        ),
        Signing::OktaOf(id) => (
            format!(
                r#"{OKTA_SIGN_ON_FILTER} and actor.id eq "{}""#,
                id.replace('"', "")
            ),
            vec![Key::field("actor.id")],
        ),
    };
    let expr = parse_and_validate(&filter, Dialect::Okwatch)
        .map_err(|e| EngineError::BadRequest(e.message))?;
    let pairs = |since: Option<DateTime<Utc>>,
                 until: DateTime<Utc>,
                 bucket: Option<Bucket>|
     -> Result<Vec<okwatch_store::AggregateRow>, EngineError> {
        let query = EventQuery {
            org: Some(org.to_string()),
            filter: Some(expr.clone()),
            since,
            until: Some(until),
            ..EventQuery::default()
        };
        Ok(store.aggregate(
            &query,
            &Aggregation {
                keys: keys.clone(),
                bucket,
                distinct: None,
                top: ALL_PAIRS,
            },
        )?)
    };
    let pair = |keys: &[Option<String>]| match keys {
        [Some(app), Some(person)] => Some((app.clone(), person.clone())),
        [Some(person)] => Some((OKTA_APP.to_string(), person.clone())),
        _ => None,
    };
    let set = |since: Option<DateTime<Utc>>,
               until: DateTime<Utc>|
     -> Result<BTreeSet<(String, String)>, EngineError> {
        Ok(pairs(since, until, None)?
            .iter()
            .filter_map(|row| pair(&row.keys))
            .collect())
    };
    // Each event is read as few times as the answers allow (parsing the app out of an event's
    // targets is what costs): the last 90 days by day give the latest use and the 90-day
    // window; 7 and 30 days need their exact bounds; older history is read once, for "ever".
    let quarter_start = now - TimeDelta::days(WINDOWS[2]);
    let mut last_day = BTreeMap::new();
    for row in pairs(Some(quarter_start), now, Some(Bucket::Day))? {
        if let (Some(key), Some(day)) = (pair(&row.keys), row.time) {
            let latest = last_day.entry(key).or_insert(day);
            *latest = (*latest).max(day);
        }
    }
    let quarter: BTreeSet<(String, String)> = last_day.keys().cloned().collect();
    let mut ever = set(None, quarter_start)?;
    ever.extend(quarter.iter().cloned());
    let within = [
        set(Some(now - TimeDelta::days(WINDOWS[0])), now)?,
        set(Some(now - TimeDelta::days(WINDOWS[1])), now)?,
        quarter,
    ];
    Ok(Use {
        last_day,
        within,
        ever,
    })
}

pub(crate) fn snapshot(
    store: &dyn UsageStore,
    org: &str,
) -> Result<DirectorySnapshot, EngineError> {
    store.directory(org)?.ok_or_else(|| {
        EngineError::BadRequest(format!(
            "org `{org}` has no directory yet: okwatch lists it at start and every \
             `directory_sync` (see okwatch status)"
        ))
    })
}

/// `org`'s directory as it is at `now`: the latest listing with the changes logged since laid
/// over it ([`overlay`]); how many changes that was.
pub(crate) fn directory_now(
    store: &dyn UsageStore,
    org: &str,
    now: DateTime<Utc>,
) -> Result<(DirectorySnapshot, u64), EngineError> {
    overlay::current(store, org, snapshot(store, org)?, now)
}

/// Who holds an app's licences: those assigned it, or for Okta every account not deactivated.
pub(crate) fn holders<'a>(directory: &'a DirectorySnapshot, app_id: &str) -> BTreeSet<&'a str> {
    if app_id == OKTA_APP {
        return directory
            .users
            .iter()
            .filter(|u| u.status != "DEPROVISIONED")
            .map(|u| u.id.as_str())
            .collect();
    }
    let gone = deactivated(directory);
    directory
        .assignments
        .iter()
        .filter(|a| a.app_id == app_id && !gone.contains(a.user_id.as_str()))
        .map(|a| a.user_id.as_str())
        .collect()
}

/// Everyone the directory lists, whatever their status.
fn listed(directory: &DirectorySnapshot) -> BTreeSet<&str> {
    directory.users.iter().map(|u| u.id.as_str()).collect()
}

/// The deactivated: a deactivated person holds no licence, whatever assignment is left behind.
fn deactivated(directory: &DirectorySnapshot) -> BTreeSet<&str> {
    directory
        .users
        .iter()
        .filter(|u| u.status == "DEPROVISIONED")
        .map(|u| u.id.as_str())
        .collect()
}

/// One app's numbers from its holders, its sign-ins and its contract.
fn app_use(
    app: &DirectoryApp,
    people: &BTreeSet<&str>,
    listed: &BTreeSet<&str>,
    used: &Use,
    contract: Option<Contract>,
) -> AppUse {
    let never_used = people
        .iter()
        .filter(|p| !used.ever.contains(&(app.id.clone(), p.to_string())))
        .count() as u64;
    let idle = people.iter().filter(|p| !used.recent(&app.id, p)).count() as u64;
    let (active_7, unlisted_7) = used.active(&app.id, 0, listed);
    let (active_30, unlisted_30) = used.active(&app.id, 1, listed);
    let (active_90, unlisted_90) = used.active(&app.id, 2, listed);
    let assigned = people.len() as u64;
    let spend = contract
        .as_ref()
        .and_then(|c| money::spend(c, assigned, active_30, idle));
    AppUse {
        id: app.id.clone(),
        label: app.label.clone(),
        name: app.name.clone(),
        status: app.status.clone(),
        assigned,
        active_7,
        active_30,
        active_90,
        unlisted_7,
        unlisted_30,
        unlisted_90,
        last_used: used
            .last_day
            .iter()
            .filter(|((a, _), _)| a == &app.id)
            .map(|(_, d)| *d)
            .max()
            .map(day),
        never_used,
        idle,
        utilisation: (assigned > 0).then(|| (assigned - idle) as f64 / assigned as f64),
        licence_utilisation: contract
            .as_ref()
            .and_then(|c| c.licences)
            .filter(|l| *l > 0)
            .map(|l| active_30 as f64 / l as f64),
        contract,
        spend,
    }
}

/// Spend and savings summed per currency, over the apps that have a price.
fn totals(apps: &[AppUse]) -> Vec<Total> {
    let mut by: BTreeMap<&str, Total> = BTreeMap::new();
    for spend in apps.iter().filter_map(|a| a.spend.as_ref()) {
        let total = by.entry(spend.currency.as_str()).or_insert_with(|| Total {
            currency: spend.currency.clone(),
            annual_cents: 0,
            savings_cents: 0,
            apps: 0,
        });
        total.annual_cents = total.annual_cents.saturating_add(spend.annual_cents);
        total.savings_cents = total
            .savings_cents
            .saturating_add(spend.savings_cents.unwrap_or(0));
        total.apps += 1;
    }
    by.into_values().collect()
}

/// Every app of `org`'s directory, and Okta itself first, with its numbers at `now`; the
/// rest most assigned first.
pub fn inventory(
    store: &dyn UsageStore,
    org: &str,
    now: DateTime<Utc>,
) -> Result<Inventory, EngineError> {
    let (directory, changes) = directory_now(store, org, now)?;
    let used = sign_ons(store, org, Signing::Apps(None), now)?;
    let okta_used = sign_ons(store, org, Signing::Okta, now)?;
    let mut contracts: BTreeMap<String, Contract> = store
        .contracts(Some(org))?
        .into_iter()
        .map(|c| (c.app_id.clone(), c))
        .collect();
    let gone = deactivated(&directory);
    let listed = listed(&directory);
    let mut assigned: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for a in directory
        .assignments
        .iter()
        .filter(|a| !gone.contains(a.user_id.as_str()))
    {
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
            app_use(app, &people, &listed, &used, contracts.remove(&app.id))
        })
        .collect();
    apps.sort_by(|a, b| {
        b.assigned
            .cmp(&a.assigned)
            .then_with(|| a.label.to_lowercase().cmp(&b.label.to_lowercase()))
    });
    let okta = okta_app();
    let everyone = holders(&directory, OKTA_APP);
    apps.insert(
        0,
        app_use(
            &okta,
            &everyone,
            &listed,
            &okta_used,
            contracts.remove(OKTA_APP),
        ),
    );
    Ok(Inventory {
        org: org.to_string(),
        directory_taken: directory.taken,
        changes_since_listing: changes,
        now: format_timestamp(now),
        totals: totals(&apps),
        apps,
    })
}

/// People who signed in to an app (Okta itself with [`OKTA_APP`]) each day of the `days` before
/// `now`: (the day's start, distinct people), days without anyone left out.
pub fn daily_active(
    store: &dyn UsageStore,
    org: &str,
    app_id: &str,
    days: i64,
    now: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, u64)>, EngineError> {
    let expr = parse_and_validate(&sign_on_filter(app_id), Dialect::Okwatch)
        .map_err(|e| EngineError::BadRequest(e.message))?;
    let rows = store.aggregate(
        &EventQuery {
            org: Some(org.to_string()),
            filter: Some(expr),
            since: Some(Bucket::Day.start_of(now - TimeDelta::days(days - 1))),
            until: Some(now),
            ..EventQuery::default()
        },
        &Aggregation {
            keys: Vec::new(),
            bucket: Some(Bucket::Day),
            distinct: Some(Key::field("actor.id")),
            top: 1,
        },
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|r| r.time.map(|t| (t, r.count)))
        .filter(|(_, n)| *n > 0)
        .collect())
}

/// One app's numbers (Okta's with [`OKTA_APP`]); `None` when the directory has no such app.
pub fn app_numbers(
    store: &dyn UsageStore,
    org: &str,
    app_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<AppUse>, EngineError> {
    Ok(app_detail(store, org, app_id, now)?.map(|(app, _)| app))
}

/// One app's numbers and its people, from one reading of the directory and of the app's
/// sign-ins; `None` when the directory has no such app.
pub fn app_detail(
    store: &dyn UsageStore,
    org: &str,
    app_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<(AppUse, Vec<AppUser>)>, EngineError> {
    let (directory, _) = directory_now(store, org, now)?;
    let okta = okta_app();
    let Some(app) = directory
        .apps
        .iter()
        .chain([&okta])
        .find(|a| a.id == app_id)
    else {
        return Ok(None);
    };
    let used = sign_ons(store, org, Signing::of_app(app_id), now)?;
    let contract = store.contract(org, app_id)?;
    let assigned = holders(&directory, app_id);
    let numbers = app_use(app, &assigned, &listed(&directory), &used, contract);
    Ok(Some((
        numbers,
        people_of(&directory, &assigned, &used, app_id),
    )))
}

pub(crate) fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// The people of one app: everyone assigned it and everyone who signed in to it, idle and
/// never-active first (the licences to reclaim), then by latest use. Nobody for an app the
/// directory does not have.
pub fn app_users(
    store: &dyn UsageStore,
    org: &str,
    app_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<AppUser>, EngineError> {
    Ok(app_detail(store, org, app_id, now)?
        .map(|(_, people)| people)
        .unwrap_or_default())
}

fn people_of(
    directory: &DirectorySnapshot,
    assigned: &BTreeSet<&str>,
    used: &Use,
    app_id: &str,
) -> Vec<AppUser> {
    let by_id: BTreeMap<&str, &okwatch_store::directory::DirectoryUser> =
        directory.users.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut ids: BTreeSet<&str> = assigned.clone();
    ids.extend(
        used.ever
            .iter()
            .filter(|(a, _)| a == app_id)
            .map(|(_, p)| p.as_str()),
    );
    let mut people: Vec<AppUser> = ids
        .into_iter()
        .map(|id| {
            let person = by_id.get(id);
            let (state, ever_used, last_used) = used.of(app_id, id);
            AppUser {
                id: id.to_string(),
                login: person.map(|p| p.login.clone()).unwrap_or_default(),
                name: person.map(|p| p.name.clone()).unwrap_or_default(),
                assigned: assigned.contains(id),
                listed: person.is_some(),
                last_used,
                ever_used,
                state,
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
    people
}
