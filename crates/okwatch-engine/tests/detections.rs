//! The shipped detections over a simulated org with every planted incident: each incident
//! raises its detection's alert over its own events, and the org's ordinary activity raises
//! few others.

use okwatch_engine::rules::{backtest::backtest, pack, Alert, Severity};
use okwatch_sim::incidents::IncidentKind;
use okwatch_sim::server::faults::Faults;
use okwatch_sim::server::{SimConfig, Simulator};
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

#[test]
fn every_planted_incident_raises_its_alert_and_clean_activity_few_others() {
    let sim = Simulator::new(SimConfig {
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
    .unwrap();
    let alerts = backtest(sim.store().as_ref(), &pack::builtin(), None, None).unwrap();
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
