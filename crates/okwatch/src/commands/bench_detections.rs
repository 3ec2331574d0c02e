//! `okwatch bench --detections`: the shipped rules over a simulated org with every incident
//! planted. What a security team asks of a detection pack: does each incident raise its alert,
//! how many alerts does ordinary activity raise (per rule, per 1,000 people per day), and does
//! evaluation keep up with the events coming in (events judged per second, in a backtest and
//! live, against the store's own import speed).

use super::EXIT_OK;
use crate::cli::BenchArgs;
use anyhow::Result;
use okwatch_engine::rules::live::LiveDetections;
use okwatch_engine::rules::{backtest::backtest, pack, Alert, Severity};
use okwatch_sim::incidents::IncidentKind;
use okwatch_sim::server::faults::Faults;
use okwatch_sim::server::{SimConfig, Simulator};
use okwatch_store::{EventQuery, Store};
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

pub fn run(args: &BenchArgs) -> Result<u8> {
    eprintln!(
        "simulating {} people over {} days with every incident planted…",
        args.users, args.days
    );
    let started = Instant::now();
    let sim = Simulator::new(SimConfig {
        seed: args.seed,
        users: args.users,
        days: args.days,
        events_per_minute: None,
        token: "bench".into(),
        rate_limit: 1_000_000,
        faults: Faults::default(),
        incidents: IncidentKind::ALL.to_vec(),
        service_apps: Vec::new(),
    })?;
    let store = sim.store().as_ref();
    let events = store.count(&EventQuery::default())?;
    let rules = pack::builtin();
    let judged = store.count(&EventQuery {
        filter: Some(okwatch_query::Expr::Or(
            rules.iter().map(|r| r.events_filter()).collect(),
        )),
        ..EventQuery::default()
    })?;
    println!(
        "org: {} people, {} days, {events} events ({judged} of them read by the rules), simulated in {:.1} s",
        args.users,
        args.days,
        started.elapsed().as_secs_f64()
    );

    // The read alone (what the backtest asks the store for), to tell reading from judging.
    let started = Instant::now();
    let mut fields: Vec<String> = rules.iter().flat_map(|r| r.fields()).collect();
    fields.sort();
    fields.dedup();
    let query = EventQuery {
        filter: Some(okwatch_query::Expr::Or(
            rules.iter().map(|r| r.events_filter()).collect(),
        )),
        fields: Some(fields),
        order: okwatch_store::Order::Asc,
        ..EventQuery::default()
    };
    let read = store.scan(&query, &mut |_| true)?;
    let read_s = started.elapsed().as_secs_f64();
    println!(
        "the read alone: {read} events in {read_s:.2} s = {:.0} events/s",
        read as f64 / read_s
    );

    let started = Instant::now();
    let alerts = backtest(store, &rules, None, None)?;
    let backtest_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut live = LiveDetections::new(rules.clone(), chrono::DateTime::UNIX_EPOCH, 0);
    // Step after step, as `serve` does, until it has read everything; an alert that grew is
    // reported again, and the latest report counts.
    let mut latest = std::collections::HashMap::new();
    loop {
        for alert in live.step(store)? {
            latest.insert(okwatch_engine::rules::live::alert_id(&alert), alert);
        }
        if !live.behind() {
            break;
        }
    }
    let live_alerts: Vec<Alert> = latest.into_values().collect();
    let live_s = started.elapsed().as_secs_f64();
    println!(
        "backtest: {} rules, {} alerts in {backtest_s:.2} s = {:.0} stored events/s ({:.0} read events/s)",
        rules.len(),
        alerts.len(),
        events as f64 / backtest_s,
        judged as f64 / backtest_s
    );
    println!(
        "live (one pass, storage order): {} alerts in {live_s:.2} s = {:.0} stored events/s",
        live_alerts.len(),
        events as f64 / live_s
    );

    // Live reads in storage order, the backtest in time order: the same alerts are expected.
    let key = |a: &Alert| (a.rule.clone(), a.group.clone(), a.first.clone());
    let in_backtest: HashSet<_> = alerts.iter().map(key).collect();
    let in_live: HashSet<_> = live_alerts.iter().map(key).collect();
    for (only, which) in [
        (in_backtest.difference(&in_live), "backtest"),
        (in_live.difference(&in_backtest), "live"),
    ] {
        for (rule, group, first) in only {
            println!("only in the {which}: {rule} {group} {first}");
        }
    }

    let planted: HashSet<&str> = sim
        .ground_truth()
        .iter()
        .flat_map(|t| t.event_uuids.iter().map(String::as_str))
        .collect();
    let on_incident = |a: &Alert| a.events.iter().any(|u| planted.contains(u.as_str()));
    for truth in sim.ground_truth() {
        let own: HashSet<&str> = truth.event_uuids.iter().map(String::as_str).collect();
        let raised: Vec<String> = alerts
            .iter()
            .filter(|a| a.events.iter().any(|u| own.contains(u.as_str())))
            .map(|a| format!("{} ({})", a.rule, a.severity.as_str()))
            .collect();
        println!("incident {}: {}", truth.kind.name(), raised.join(", "));
    }
    let user_days = args.users as f64 * f64::from(args.days) / 1000.0;
    let mut per_rule: BTreeMap<&str, (Severity, usize)> = BTreeMap::new();
    for rule in &rules {
        per_rule.insert(&rule.id, (rule.severity, 0));
    }
    for alert in alerts.iter().filter(|a| !on_incident(a)) {
        if let Some((_, n)) = per_rule.get_mut(alert.rule.as_str()) {
            *n += 1;
        }
    }
    println!("alerts on clean activity, per rule (per 1,000 people per day):");
    for (rule, (severity, n)) in &per_rule {
        println!(
            "  {rule:<38} {:<8} {n:>6}  {:.3}",
            severity.as_str(),
            *n as f64 / user_days
        );
    }
    let attacks: usize = per_rule
        .values()
        .filter(|(s, _)| *s >= Severity::Medium)
        .map(|(_, n)| n)
        .sum();
    let all: usize = per_rule.values().map(|(_, n)| n).sum();
    println!(
        "false alerts, medium and above: {attacks} = {:.3} per 1,000 people per day (goal: at most 1); all severities: {all} = {:.3}",
        attacks as f64 / user_days,
        all as f64 / user_days
    );
    Ok(EXIT_OK)
}
