//! Each answer, computed by hand over the same generated events, must come out the same.

use chrono::{TimeZone, Utc};
use okwatch_engine::{
    app_usage, collection_status, failed_sign_ins, user_activity, FailureGrouping, Window,
};
use okwatch_store::{EventBatch, EventRow, Store};
use okwatch_store_duckdb::DuckDbStore;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

fn stored(count: u64) -> (DuckDbStore, Vec<Value>) {
    let end = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
    let events: Vec<Value> = okwatch_sim::Generator::new(21, 40)
        .last_events(count, end)
        .collect();
    let store = DuckDbStore::open_in_memory().unwrap();
    let rows = events
        .iter()
        .map(|e| EventRow::decompose("acme", e.clone()).unwrap())
        .collect();
    store.insert(EventBatch::encode(rows).unwrap()).unwrap();
    (store, events)
}

fn s<'a>(e: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(e, |at, p| at.get(p))?.as_str()
}

fn is_failed_sign_in(e: &Value) -> bool {
    s(e, &["eventType"]) == Some("user.session.start")
        && s(e, &["outcome", "result"]) == Some("FAILURE")
}

#[test]
fn failed_sign_ins_by_ip_match_a_hand_count() {
    let (store, events) = stored(6_000);
    let answer = failed_sign_ins(&store, Window::default(), FailureGrouping::Ip, 5).unwrap();
    let mut by_ip: HashMap<&str, u64> = HashMap::new();
    for e in events.iter().filter(|e| is_failed_sign_in(e)) {
        *by_ip
            .entry(s(e, &["client", "ipAddress"]).unwrap_or("(none)"))
            .or_default() += 1;
    }
    assert_eq!(answer.total, by_ip.values().sum::<u64>());
    assert!(answer.total > 0, "the generator makes failures");
    for group in &answer.groups {
        assert_eq!(by_ip[group.value.as_str()], group.count, "{}", group.value);
    }
    let largest = by_ip.values().max().copied().unwrap();
    assert_eq!(answer.groups[0].count, largest);
    let listed: u64 = answer.groups.iter().map(|g| g.count).sum();
    assert_eq!(answer.in_other_groups, answer.total - listed);
}

#[test]
fn a_persons_activity_matches_their_events() {
    let (store, events) = stored(6_000);
    // The person with the most events.
    let mut per_user: HashMap<&str, u64> = HashMap::new();
    for e in &events {
        if let Some(who) = s(e, &["actor", "alternateId"]) {
            *per_user.entry(who).or_default() += 1;
        }
    }
    let (user, &count) = per_user.iter().max_by_key(|(u, n)| (**n, *u)).unwrap();
    let theirs: Vec<&Value> = events
        .iter()
        .filter(|e| s(e, &["actor", "alternateId"]) == Some(user))
        .collect();
    let answer = user_activity(&store, user, Window::default(), 100_000).unwrap();
    assert_eq!(answer.events, count);
    assert_eq!(answer.examined as u64, count);
    let succeeded = theirs
        .iter()
        .filter(|e| {
            s(e, &["eventType"]) == Some("user.session.start")
                && s(e, &["outcome", "result"]) == Some("SUCCESS")
        })
        .count() as u64;
    assert_eq!(answer.sign_ins.succeeded, succeeded);
    let apps: BTreeSet<&str> = theirs
        .iter()
        .filter(|e| s(e, &["eventType"]) == Some("user.authentication.sso"))
        .flat_map(|e| e["target"].as_array().unwrap().iter())
        .filter(|t| t["type"] == "AppInstance")
        .filter_map(|t| t["displayName"].as_str())
        .collect();
    let answered: BTreeSet<&str> = answer.apps.iter().map(|a| a.app.as_str()).collect();
    assert_eq!(answered, apps);
    let newest = theirs
        .iter()
        .filter_map(|e| s(e, &["published"]))
        .max()
        .unwrap();
    assert_eq!(answer.last_seen.as_deref(), Some(newest));
    // Only the newest events when asked for fewer.
    let partial = user_activity(&store, user, Window::default(), 3).unwrap();
    assert_eq!((partial.events, partial.examined), (count, 3));
}

#[test]
fn app_usage_counts_distinct_people_per_app() {
    let (store, events) = stored(6_000);
    let answer = app_usage(&store, None, Window::default(), 100_000).unwrap();
    let mut people: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for e in events.iter().filter(|e| {
        s(e, &["eventType"]) == Some("user.authentication.sso")
            && s(e, &["outcome", "result"]) == Some("SUCCESS")
    }) {
        for t in e["target"].as_array().unwrap() {
            if t["type"] == "AppInstance" {
                people
                    .entry(t["id"].as_str().unwrap())
                    .or_default()
                    .insert(s(e, &["actor", "alternateId"]).unwrap());
            }
        }
    }
    assert!(!answer.apps.is_empty());
    for app in &answer.apps {
        let expected = people
            .get(app.app_id.as_str())
            .map_or(0, |p| p.len() as u64);
        assert_eq!(app.active_users, expected, "{}", app.app);
    }
    // Asking for one app by name gives that app alone, with the same numbers.
    let first = &answer.apps[0];
    let one = app_usage(&store, Some(&first.app), Window::default(), 100_000).unwrap();
    assert_eq!(one.apps, vec![first.clone()]);
}

#[test]
fn collection_status_reports_each_orgs_newest_event() {
    let (store, events) = stored(500);
    let status = collection_status(&store).unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].events, 500);
    let newest = events
        .iter()
        .filter_map(|e| s(e, &["published"]))
        .max()
        .unwrap();
    assert_eq!(status[0].newest.as_deref(), Some(newest));
    assert!(status[0].newest_age_seconds.unwrap() > 0);
}
