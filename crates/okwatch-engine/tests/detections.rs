//! The shipped detections over a simulated org with every planted incident: each incident
//! raises its detection's alert over its own events, and the org's ordinary activity raises
//! few others — in a backtest over history, and live, on events stored in any order.

use okwatch_engine::rules::live::LiveDetections;
use okwatch_engine::rules::{backtest::backtest, pack, Alert, Severity};
use okwatch_sim::incidents::IncidentKind;
use okwatch_sim::server::faults::Faults;
use okwatch_sim::server::{SimConfig, Simulator};
use okwatch_store::{EventBatch, EventQuery, EventRow, Order, Store};
use okwatch_store_duckdb::DuckDbStore;
use std::collections::HashSet;

const USERS: usize = 300;
const DAYS: u32 = 21;

fn rule_for(kind: IncidentKind) -> &'static str {
    match kind {
        IncidentKind::PasswordSpray => "okwatch.password_spray",
        IncidentKind::BruteForce => "okwatch.brute_force",
        IncidentKind::MfaPushFatigue => "okwatch.mfa_push_fatigue",
        IncidentKind::ImpossibleTravel => "okwatch.impossible_travel",
        IncidentKind::AdminGrantThenApiToken => "okwatch.grant_then_token",
        IncidentKind::SignOnPolicyWeakened => "okwatch.policy_weakened",
        IncidentKind::SessionFromSecondCountry => "okwatch.session_second_country",
    }
}

fn simulated() -> std::sync::Arc<Simulator> {
    Simulator::new(SimConfig {
        seed: 5,
        users: USERS,
        days: DAYS,
        events_per_minute: None,
        token: "t".into(),
        rate_limit: 1_000,
        faults: Faults::default(),
        incidents: IncidentKind::ALL.to_vec(),
        service_apps: Vec::new(),
    })
    .unwrap()
}

#[test]
fn every_planted_incident_raises_its_alert_and_clean_activity_few_others() {
    let sim = simulated();
    let alerts = backtest(sim.store().as_ref(), &pack::builtin(), None, None).unwrap();
    check(&sim, &alerts);
    // The planted push fatigue ends with an accepted push: the worst case.
    let fatigue: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.rule == "okwatch.mfa_push_fatigue")
        .collect();
    assert!(
        fatigue
            .iter()
            .any(|a| a.severity == Severity::Critical && a.explanation.contains("; then ")),
        "{fatigue:#?}"
    );
}

/// The live detections on the same history stored newest page first (as a backfill that
/// pages backwards, or hooks racing polls, would store it): the same incidents, each once.
#[test]
fn live_detections_on_events_stored_out_of_order_find_the_same_incidents() {
    let sim = simulated();
    let mut events = Vec::new();
    let mut after = None;
    loop {
        let page = sim
            .store()
            .search(&EventQuery {
                order: Order::Desc,
                limit: 1_000,
                after,
                ..EventQuery::default()
            })
            .unwrap();
        events.extend(page.events.into_iter().map(|e| e.event));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let store = DuckDbStore::open_in_memory().unwrap();
    // Pages of 1,000 newest first, each page itself newest first.
    for page in events.chunks(1_000) {
        let rows = page
            .iter()
            .map(|e| EventRow::decompose("acme", e.clone()).unwrap())
            .collect();
        store.insert(EventBatch::encode(rows).unwrap()).unwrap();
    }
    let mut live = LiveDetections::new(pack::builtin(), chrono::DateTime::UNIX_EPOCH, 0);
    let alerts = live.step(&store).unwrap();
    check(&sim, &alerts);
    // No alert stretches far beyond what its detection looks at (a day, at most).
    for alert in &alerts {
        let (first, last) = (
            okwatch_model::parse_timestamp(&alert.first).unwrap(),
            okwatch_model::parse_timestamp(&alert.last).unwrap(),
        );
        assert!(last - first <= chrono::TimeDelta::hours(25), "{alert:?}");
    }
}

fn check(sim: &Simulator, alerts: &[Alert]) {
    let mut planted: HashSet<String> = HashSet::new();
    for truth in sim.ground_truth() {
        let rule = rule_for(truth.kind);
        let own: HashSet<&str> = truth.event_uuids.iter().map(String::as_str).collect();
        planted.extend(truth.event_uuids.iter().cloned());
        let raised: Vec<&Alert> = alerts
            .iter()
            .filter(|a| a.rule == rule && a.events.iter().any(|u| own.contains(u.as_str())))
            .collect();
        assert_eq!(
            raised.len(),
            1,
            "{}: {} alerts of {rule}: {raised:#?}",
            truth.summary,
            raised.len()
        );
        assert!(raised[0].severity >= Severity::Low, "{raised:?}");
    }
    // Alerts of attack detections (medium and above) over none of the planted events.
    let false_alerts: Vec<&Alert> = alerts
        .iter()
        .filter(|a| a.severity >= Severity::Medium)
        .filter(|a| !a.events.iter().any(|u| planted.contains(u)))
        .collect();
    let allowed = (USERS as f64 * DAYS as f64 / 1000.0).ceil() as usize;
    assert!(
        false_alerts.len() <= allowed,
        "{} false alerts (at most {allowed}): {false_alerts:#?}",
        false_alerts.len()
    );
}
