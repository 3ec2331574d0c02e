//! SaaS usage equals hand counts: on a simulated org's 100 days of events and its directory,
//! every app's assigned, active (7, 30, 90 days), never-used and idle people, and each
//! person's state on an app page, are counted again here straight from the generated events
//! and the assignments, without the store.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use okwatch_engine::usage::{app_users, inventory};
use okwatch_store::directory::{
    AppAssignment, Directory, DirectoryApp, DirectoryGroup, DirectorySnapshot, DirectoryUser,
};
use okwatch_store::{EventBatch, EventRow, Store};
use okwatch_store_duckdb::DuckDbStore;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 9, 30, 0).unwrap()
}

/// An app in the directory that nobody signs in to.
const SHELFWARE: &str = "0oashelfware000000001";

/// The org's directory as okwatch would list it, plus an app bought and never used.
fn directory(org: &okwatch_sim::Org) -> DirectorySnapshot {
    let mut assignments: Vec<AppAssignment> = org
        .users
        .iter()
        .flat_map(|u| {
            u.apps.iter().map(|&a| AppAssignment {
                app_id: org.apps[a].id.clone(),
                user_id: u.id.clone(),
                scope: "USER".into(),
                assigned: None,
            })
        })
        .collect();
    assignments.extend(org.users.iter().take(12).map(|u| AppAssignment {
        app_id: SHELFWARE.into(),
        user_id: u.id.clone(),
        scope: "USER".into(),
        assigned: None,
    }));
    let mut apps: Vec<DirectoryApp> = org
        .apps
        .iter()
        .map(|a| DirectoryApp {
            id: a.id.clone(),
            name: a.spec.name.into(),
            label: a.spec.label.into(),
            status: "ACTIVE".into(),
            sign_on_mode: Some(a.spec.protocol.into()),
        })
        .collect();
    apps.push(DirectoryApp {
        id: SHELFWARE.into(),
        name: "shelfware".into(),
        label: "Shelfware".into(),
        status: "ACTIVE".into(),
        sign_on_mode: None,
    });
    DirectorySnapshot {
        taken: okwatch_model::format_timestamp(now() - TimeDelta::hours(2)),
        users: org
            .users
            .iter()
            .map(|u| DirectoryUser {
                id: u.id.clone(),
                login: u.login.clone(),
                name: u.display_name.clone(),
                email: Some(u.login.clone()),
                status: "ACTIVE".into(),
                department: None,
                created: None,
                last_login: None,
            })
            .collect(),
        groups: vec![DirectoryGroup {
            id: org.groups[0].id.clone(),
            name: "Everyone".into(),
            kind: "BUILT_IN".into(),
        }],
        apps,
        assignments,
        memberships: Vec::new(),
    }
    .sorted()
}

/// (app id, person id, published) of every successful SSO, read from the events by hand.
fn sign_ons(events: &[Value]) -> Vec<(String, String, DateTime<Utc>)> {
    events
        .iter()
        .filter(|e| {
            e["eventType"] == "user.authentication.sso" && e["outcome"]["result"] == "SUCCESS"
        })
        .filter_map(|e| {
            let app = e["target"]
                .as_array()?
                .iter()
                .find(|t| t["type"] == "AppInstance")?["id"]
                .as_str()?
                .to_string();
            let person = e["actor"]["id"].as_str()?.to_string();
            let at = okwatch_model::parse_timestamp(e["published"].as_str()?)?;
            Some((app, person, at))
        })
        .collect()
}

#[test]
fn every_apps_numbers_equal_hand_counts_from_events_and_assignments() {
    let generator = okwatch_sim::Generator::new(23, 160);
    let events: Vec<Value> = generator
        .between(now() - TimeDelta::days(100), now())
        .collect();
    let store = DuckDbStore::open_in_memory().unwrap();
    let rows = events
        .iter()
        .map(|e| EventRow::decompose("acme", e.clone()).unwrap())
        .collect();
    store.insert(EventBatch::encode(rows).unwrap()).unwrap();
    let snapshot = directory(generator.org());
    store.replace_directory("acme", &snapshot).unwrap();

    let uses = sign_ons(&events);
    let who = |app: &str, days: Option<i64>| -> BTreeSet<String> {
        uses.iter()
            .filter(|(a, _, at)| a == app && days.is_none_or(|d| *at >= now() - TimeDelta::days(d)))
            .map(|(_, p, _)| p.clone())
            .collect()
    };
    let mut assigned: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for a in &snapshot.assignments {
        assigned
            .entry(a.app_id.as_str())
            .or_default()
            .insert(a.user_id.clone());
    }

    let inventory = inventory(&store, "acme", now()).unwrap();
    assert_eq!(inventory.apps.len(), snapshot.apps.len());
    let mut reclaimable = 0;
    for app in &inventory.apps {
        let people = assigned.get(app.id.as_str()).cloned().unwrap_or_default();
        let (week, month, quarter, ever) = (
            who(&app.id, Some(7)),
            who(&app.id, Some(30)),
            who(&app.id, Some(90)),
            who(&app.id, None),
        );
        assert_eq!(app.assigned, people.len() as u64, "{}", app.label);
        assert_eq!(app.active_7, week.len() as u64, "{}", app.label);
        assert_eq!(app.active_30, month.len() as u64, "{}", app.label);
        assert_eq!(app.active_90, quarter.len() as u64, "{}", app.label);
        assert_eq!(
            app.never_used,
            people.difference(&ever).count() as u64,
            "{}",
            app.label
        );
        assert_eq!(
            app.idle,
            people.difference(&month).count() as u64,
            "{}",
            app.label
        );
        let last = uses
            .iter()
            .filter(|(a, _, at)| a == &app.id && *at >= now() - TimeDelta::days(90))
            .map(|(_, _, at)| at.format("%Y-%m-%d").to_string())
            .max();
        assert_eq!(app.last_used, last, "{}", app.label);
        reclaimable += app.idle;
    }
    // The org has real content to show: used apps, idle seats and an app nobody uses.
    let shelf = inventory.apps.iter().find(|a| a.id == SHELFWARE).unwrap();
    assert_eq!((shelf.assigned, shelf.never_used, shelf.idle), (12, 12, 12));
    assert_eq!(shelf.active_90, 0);
    assert!(reclaimable > 12, "{reclaimable}");
    assert!(inventory.apps.iter().filter(|a| a.active_30 > 0).count() >= 5);

    // One app's people: each person's state is what their sign-ins say.
    let busiest = inventory.apps.iter().max_by_key(|a| a.active_30).unwrap();
    let people = app_users(&store, "acme", &busiest.id, now()).unwrap();
    let month = who(&busiest.id, Some(30));
    let ever = who(&busiest.id, None);
    let everyone: BTreeSet<String> = assigned[busiest.id.as_str()]
        .union(&ever)
        .cloned()
        .collect();
    assert_eq!(
        people.iter().map(|p| p.id.clone()).collect::<BTreeSet<_>>(),
        everyone
    );
    for person in &people {
        let expected = if month.contains(&person.id) {
            "active"
        } else if ever.contains(&person.id) {
            "idle"
        } else {
            "never"
        };
        assert_eq!(person.state, expected, "{}", person.login);
        assert_eq!(
            person.assigned,
            assigned[busiest.id.as_str()].contains(&person.id)
        );
    }
    // Licences to reclaim come first.
    let first_active = people.iter().position(|p| p.state == "active");
    let last_other = people.iter().rposition(|p| p.state != "active");
    if let (Some(a), Some(o)) = (first_active, last_other) {
        assert!(o < a, "idle and never-active people are listed first");
    }
}
