//! Activity answers: one person, failed sign-ins, apps, freshness.
//!
//! Counts that the store can do itself (totals, groups) come from the store over every event.
//! Answers that need several attributes of each event (a person's apps and devices, an app's
//! distinct users) walk the matching events newest first, up to a limit, and say how many they
//! examined out of how many matched.

use crate::summary::EventSummary;
use crate::{text_at as text, EngineError};
use chrono::Utc;
use okwatch_model::{format_timestamp, Timestamp};
use okwatch_query::{AttrPath, CompareOp, Expr, Literal};
use okwatch_store::{EventQuery, Order, Store};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A time range; `None` leaves that side open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub since: Option<Timestamp>,
    /// Exclusive end.
    pub until: Option<Timestamp>,
}

/// A value and how often it occurred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Counted {
    /// The value (`(none)` when the attribute was absent).
    pub value: String,
    /// How many events.
    pub count: u64,
}

/// Events read per store call when walking a result.
const PAGE: usize = 5_000;

fn equals(path: &str, value: &str) -> Expr {
    Expr::Compare {
        path: AttrPath::from_dotted(path),
        op: CompareOp::Eq,
        value: Literal::String(value.to_string()),
    }
}

fn query(filter: Expr, window: Window) -> EventQuery {
    EventQuery {
        filter: Some(filter),
        since: window.since,
        until: window.until,
        order: Order::Desc,
        limit: PAGE,
        ..EventQuery::default()
    }
}

/// Calls `each` on matching events, newest first, until `max` were seen; returns how many.
fn walk(
    store: &dyn Store,
    mut query: EventQuery,
    max: usize,
    mut each: impl FnMut(&Value),
) -> Result<usize, EngineError> {
    let mut seen = 0;
    while seen < max {
        query.limit = PAGE.min(max - seen);
        let page = store.search(&query)?;
        for event in &page.events {
            each(&event.event);
        }
        seen += page.events.len();
        match page.next {
            Some(next) if !page.events.is_empty() => query.after = Some(next),
            _ => break,
        }
    }
    Ok(seen)
}

/// Tallies values; `top` turns the tally into the most frequent first.
#[derive(Default)]
struct Tally(HashMap<String, u64>);

impl Tally {
    fn add(&mut self, value: impl Into<String>) {
        *self.0.entry(value.into()).or_default() += 1;
    }

    fn top(self, n: usize) -> Vec<Counted> {
        let mut all: Vec<Counted> = self
            .0
            .into_iter()
            .map(|(value, count)| Counted { value, count })
            .collect();
        all.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        all.truncate(n);
        all
    }
}

/// The attribute failed sign-ins are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureGrouping {
    /// The person's login (`actor.alternateId`).
    User,
    /// The client IP address.
    Ip,
    /// The client's country.
    Country,
    /// Okta's failure reason (`outcome.reason`).
    Reason,
}

impl FailureGrouping {
    /// Every grouping, by name.
    pub const ALL: [FailureGrouping; 4] = [
        FailureGrouping::User,
        FailureGrouping::Ip,
        FailureGrouping::Country,
        FailureGrouping::Reason,
    ];

    /// Its name: `user`, `ip`, `country`, `reason`.
    pub fn name(self) -> &'static str {
        match self {
            FailureGrouping::User => "user",
            FailureGrouping::Ip => "ip",
            FailureGrouping::Country => "country",
            FailureGrouping::Reason => "reason",
        }
    }

    /// The LogEvent attribute it groups by.
    pub fn attribute(self) -> &'static str {
        match self {
            FailureGrouping::User => "actor.alternateId",
            FailureGrouping::Ip => "client.ipAddress",
            FailureGrouping::Country => "client.geographicalContext.country",
            FailureGrouping::Reason => "outcome.reason",
        }
    }

    /// The grouping called `name`.
    pub fn parse(name: &str) -> Option<FailureGrouping> {
        Self::ALL
            .into_iter()
            .find(|g| g.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// The filter for a failed sign-in, as the System Log records one.
pub const FAILED_SIGN_IN_FILTER: &str =
    r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#;

fn failed_sign_in() -> Expr {
    Expr::And(vec![
        equals("eventType", "user.session.start"),
        equals("outcome.result", "FAILURE"),
    ])
}

/// Failed sign-ins counted per group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailedSignIns {
    /// Failed sign-ins in the window.
    pub total: u64,
    /// The grouping's name.
    pub grouped_by: &'static str,
    /// The attribute grouped by.
    pub attribute: &'static str,
    /// The largest groups, largest first.
    pub groups: Vec<Counted>,
    /// Failures in groups not listed.
    pub in_other_groups: u64,
    /// The filter that selected the events, to search them in detail.
    pub filter: &'static str,
}

/// Failed sign-ins in `window`, the `top` largest groups by `by`.
pub fn failed_sign_ins(
    store: &dyn Store,
    window: Window,
    by: FailureGrouping,
    top: usize,
) -> Result<FailedSignIns, EngineError> {
    let query = query(failed_sign_in(), window);
    let total = store.count(&query)?;
    let groups: Vec<Counted> = store
        .count_by_field(&query, &AttrPath::from_dotted(by.attribute()), top)?
        .into_iter()
        .map(|(value, count)| Counted {
            value: value.unwrap_or_else(|| "(none)".into()),
            count,
        })
        .collect();
    let listed: u64 = groups.iter().map(|g| g.count).sum();
    Ok(FailedSignIns {
        total,
        grouped_by: by.name(),
        attribute: by.attribute(),
        groups,
        in_other_groups: total.saturating_sub(listed),
        filter: FAILED_SIGN_IN_FILTER,
    })
}

/// One app as one person used it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppUse {
    /// The app's name.
    pub app: String,
    /// Single sign-ons to it.
    pub sign_ins: u64,
    /// The latest one.
    pub last_used: String,
}

/// Sign-in outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SignIns {
    /// Successful sign-ins (`user.session.start`, SUCCESS).
    pub succeeded: u64,
    /// Failed ones.
    pub failed: u64,
}

/// What one person did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserActivity {
    /// Who was asked about.
    pub user: String,
    /// Their display name, as the events give it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Events they were the actor of, in the window.
    pub events: u64,
    /// How many of those (the newest) this summary is built from.
    pub examined: usize,
    /// Oldest examined event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Newest event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Sign-in outcomes.
    pub sign_ins: SignIns,
    /// Apps they signed in to, most used first.
    pub apps: Vec<AppUse>,
    /// MFA factors they verified with.
    pub factors: Vec<Counted>,
    /// Operating system and browser pairs.
    pub devices: Vec<Counted>,
    /// City, country pairs.
    pub locations: Vec<Counted>,
    /// Client IP addresses.
    pub ips: Vec<Counted>,
    /// Failures by event type and reason.
    pub failures: Vec<Counted>,
    /// The newest failures.
    pub recent_failures: Vec<EventSummary>,
    /// Event types, most frequent first.
    pub event_types: Vec<Counted>,
}

/// The actor filter for `user`: a login, an email, or an Okta user id.
pub fn actor_filter(user: &str) -> Expr {
    Expr::Or(vec![
        equals("actor.alternateId", user),
        equals("actor.id", user),
    ])
}

/// What `user` did in `window`, from their newest `max_events` events.
pub fn user_activity(
    store: &dyn Store,
    user: &str,
    window: Window,
    max_events: usize,
) -> Result<UserActivity, EngineError> {
    let query = query(actor_filter(user), window);
    let events = store.count(&query)?;
    let mut activity = UserActivity {
        user: user.to_string(),
        display_name: None,
        events,
        examined: 0,
        first_seen: None,
        last_seen: None,
        sign_ins: SignIns::default(),
        apps: Vec::new(),
        factors: Vec::new(),
        devices: Vec::new(),
        locations: Vec::new(),
        ips: Vec::new(),
        failures: Vec::new(),
        recent_failures: Vec::new(),
        event_types: Vec::new(),
    };
    let (mut factors, mut devices, mut locations, mut ips, mut failures, mut types) = (
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
        Tally::default(),
    );
    let mut apps: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut oldest = None;
    activity.examined = walk(store, query, max_events, |event| {
        let published = text(event, &["published"]).unwrap_or_default().to_string();
        if activity.last_seen.is_none() {
            activity.last_seen = Some(published.clone());
        }
        oldest = Some(published.clone());
        if activity.display_name.is_none() {
            activity.display_name = text(event, &["actor", "displayName"]).map(str::to_string);
        }
        let event_type = text(event, &["eventType"]).unwrap_or_default();
        let outcome = text(event, &["outcome", "result"]).unwrap_or_default();
        types.add(event_type);
        match (event_type, outcome) {
            ("user.session.start", "SUCCESS") => activity.sign_ins.succeeded += 1,
            ("user.session.start", "FAILURE") => activity.sign_ins.failed += 1,
            _ => {}
        }
        if outcome == "FAILURE" {
            let reason = text(event, &["outcome", "reason"]).unwrap_or("no reason given");
            failures.add(format!("{event_type}: {reason}"));
            if activity.recent_failures.len() < 5 {
                activity.recent_failures.push(EventSummary::of(event));
            }
        }
        if event_type == "user.authentication.sso" && outcome == "SUCCESS" {
            for app in app_targets(event) {
                let entry = apps.entry(app.name).or_insert((0, published.clone()));
                entry.0 += 1;
            }
        }
        if event_type == "user.authentication.auth_via_mfa" {
            if let Some(factor) = text(event, &["debugContext", "debugData", "factor"])
                .or_else(|| text(event, &["authenticationContext", "credentialType"]))
            {
                factors.add(factor);
            }
        }
        let os = text(event, &["client", "userAgent", "os"]);
        let browser = text(event, &["client", "userAgent", "browser"]);
        if os.is_some() || browser.is_some() {
            devices.add(format!(
                "{} / {}",
                os.unwrap_or("unknown OS"),
                browser.unwrap_or("unknown browser")
            ));
        }
        let city = text(event, &["client", "geographicalContext", "city"]);
        let country = text(event, &["client", "geographicalContext", "country"]);
        if city.is_some() || country.is_some() {
            locations.add(
                [city, country]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        if let Some(ip) = text(event, &["client", "ipAddress"]) {
            ips.add(ip);
        }
    })?;
    activity.first_seen = oldest;
    let mut apps: Vec<AppUse> = apps
        .into_iter()
        .map(|(app, (sign_ins, last_used))| AppUse {
            app,
            sign_ins,
            last_used,
        })
        .collect();
    apps.sort_by(|a, b| b.sign_ins.cmp(&a.sign_ins).then_with(|| a.app.cmp(&b.app)));
    activity.apps = apps;
    activity.factors = factors.top(10);
    activity.devices = devices.top(10);
    activity.locations = locations.top(10);
    activity.ips = ips.top(10);
    activity.failures = failures.top(10);
    activity.event_types = types.top(15);
    Ok(activity)
}

struct AppRef {
    id: String,
    name: String,
}

/// The apps an event targets (`AppInstance` targets).
fn app_targets(event: &Value) -> Vec<AppRef> {
    event
        .get("target")
        .and_then(Value::as_array)
        .map(|targets| {
            targets
                .iter()
                .filter(|t| text(t, &["type"]) == Some("AppInstance"))
                .map(|t| AppRef {
                    id: text(t, &["id"]).unwrap_or_default().to_string(),
                    name: text(t, &["displayName"])
                        .or_else(|| text(t, &["alternateId"]))
                        .or_else(|| text(t, &["id"]))
                        .unwrap_or("unnamed app")
                        .to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One app's use, as the events show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppUsage {
    /// The app's name.
    pub app: String,
    /// Its Okta id.
    pub app_id: String,
    /// Successful single sign-ons.
    pub sign_ins: u64,
    /// Failed ones.
    pub failed_sign_ins: u64,
    /// Distinct people who signed in successfully.
    pub active_users: u64,
    /// The latest successful sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    /// Assignments added (`application.user_membership.add`).
    pub assignments_added: u64,
    /// Assignments removed (`application.user_membership.remove`).
    pub assignments_removed: u64,
}

/// App usage over a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppUsageReport {
    /// Apps, most active users first.
    pub apps: Vec<AppUsage>,
    /// Sign-on and assignment events that matched.
    pub events_total: u64,
    /// How many of them (the newest) were examined.
    pub events_examined: usize,
    /// What the events cannot say.
    pub note: &'static str,
}

/// Per app (or for the app named or identified by `app`), its use in `window`, from the newest
/// `max_events` sign-on and assignment events.
pub fn app_usage(
    store: &dyn Store,
    app: Option<&str>,
    window: Window,
    max_events: usize,
) -> Result<AppUsageReport, EngineError> {
    let kinds = Expr::Or(vec![
        equals("eventType", "user.authentication.sso"),
        equals("eventType", "application.user_membership.add"),
        equals("eventType", "application.user_membership.remove"),
    ]);
    let filter = match app {
        Some(app) => Expr::And(vec![
            kinds,
            Expr::Or(vec![
                equals("target.displayName", app),
                equals("target.alternateId", app),
                equals("target.id", app),
            ]),
        ]),
        None => kinds,
    };
    let query = query(filter, window);
    let events_total = store.count(&query)?;
    let mut apps: BTreeMap<String, (AppUsage, BTreeSet<String>)> = BTreeMap::new();
    let events_examined = walk(store, query, max_events, |event| {
        let event_type = text(event, &["eventType"]).unwrap_or_default();
        let success = text(event, &["outcome", "result"]) == Some("SUCCESS");
        let actor = text(event, &["actor", "alternateId"])
            .or_else(|| text(event, &["actor", "id"]))
            .unwrap_or_default()
            .to_string();
        for target in app_targets(event) {
            if let Some(wanted) = app {
                if ![&target.name, &target.id].contains(&&wanted.to_string()) {
                    continue;
                }
            }
            let (usage, users) = apps.entry(target.id.clone()).or_insert_with(|| {
                (
                    AppUsage {
                        app: target.name.clone(),
                        app_id: target.id.clone(),
                        sign_ins: 0,
                        failed_sign_ins: 0,
                        active_users: 0,
                        last_used: None,
                        assignments_added: 0,
                        assignments_removed: 0,
                    },
                    BTreeSet::new(),
                )
            });
            match event_type {
                "user.authentication.sso" if success => {
                    usage.sign_ins += 1;
                    if usage.last_used.is_none() {
                        usage.last_used = text(event, &["published"]).map(str::to_string);
                    }
                    users.insert(actor.clone());
                }
                "user.authentication.sso" => usage.failed_sign_ins += 1,
                "application.user_membership.add" => usage.assignments_added += 1,
                "application.user_membership.remove" => usage.assignments_removed += 1,
                _ => {}
            }
        }
    })?;
    let mut apps: Vec<AppUsage> = apps
        .into_values()
        .map(|(mut usage, users)| {
            usage.active_users = users.len() as u64;
            usage
        })
        .collect();
    apps.sort_by(|a, b| {
        b.active_users
            .cmp(&a.active_users)
            .then_with(|| b.sign_ins.cmp(&a.sign_ins))
            .then_with(|| a.app.cmp(&b.app))
    });
    Ok(AppUsageReport {
        apps,
        events_total,
        events_examined,
        note: "From System Log events only: licences bought, spend and renewal dates are not \
               tracked yet, and assigned users are the assignments made or removed in the window.",
    })
}

/// How fresh one org's data is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrgStatus {
    /// The org.
    pub org: String,
    /// Events stored.
    pub events: u64,
    /// Oldest event's `published`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest: Option<String>,
    /// Newest event's `published`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest: Option<String>,
    /// When okwatch last stored an event of this org.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_stored: Option<String>,
    /// Seconds from the newest event to now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_age_seconds: Option<i64>,
}

/// Per org: how much is stored and how fresh it is.
pub fn collection_status(store: &dyn Store) -> Result<Vec<OrgStatus>, EngineError> {
    let now = Utc::now();
    Ok(store
        .stats()?
        .orgs
        .into_iter()
        .map(|org| OrgStatus {
            org: org.org,
            events: org.events,
            oldest: org.oldest.map(format_timestamp),
            newest: org.newest.map(format_timestamp),
            last_stored: org.last_stored.map(format_timestamp),
            newest_age_seconds: org.newest.map(|t| (now - t).num_seconds()),
        })
        .collect())
}
