//! Every number a report shows must equal what its search finds: the count of the search's
//! events, or the count of distinct values among them. Checked for every figure, table row,
//! chart series and point of every shipped report, over a simulated org, for the period and
//! the one before it.

use chrono::{TimeDelta, TimeZone, Utc};
use okwatch_engine::reports::{catalog, render, run_report, Linked, Measure, Period, Report};
use okwatch_engine::search_text::SearchText;
use okwatch_model::Timestamp;
use okwatch_store::{EventBatch, EventRow, Key, Store};
use okwatch_store_duckdb::DuckDbStore;
use std::collections::BTreeSet;
use std::sync::OnceLock;

fn end() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()
}

fn store() -> &'static DuckDbStore {
    static STORE: OnceLock<DuckDbStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let generator = okwatch_sim::Generator::new(17, 300);
        let store = DuckDbStore::open_in_memory().unwrap();
        let rows = generator
            .between(end() - TimeDelta::days(60), end())
            .map(|e| EventRow::decompose("acme", e).unwrap())
            .collect();
        store.insert(EventBatch::encode(rows).unwrap()).unwrap();
        store
    })
}

/// What the search behind `linked` finds, measured as the report measures it.
fn measured(linked: &Linked, measure: &Measure) -> u64 {
    let search = SearchText::from_query(&linked.search).parse(end(), 100);
    assert!(
        search.filter_problem.is_none() && search.problems.is_empty(),
        "{}: {:?} {:?}",
        linked.search,
        search.filter_problem,
        search.problems
    );
    match measure {
        Measure::Events => store().count(&search.query).unwrap(),
        Measure::Distinct(key) => distinct(&search.query, key),
    }
}

fn distinct(query: &okwatch_store::EventQuery, key: &Key) -> u64 {
    let mut seen = BTreeSet::new();
    store()
        .scan(query, &mut |e| {
            if let Some(v) = key.value_in(&e.event) {
                seen.insert(v);
            }
            true
        })
        .unwrap();
    seen.len() as u64
}

fn run(id: &str, days: i64) -> Report {
    let spec = catalog::find(id).unwrap();
    let period = Period::new(end() - TimeDelta::days(days), end(), true).unwrap();
    run_report(store(), &spec, &period, None).unwrap()
}

#[test]
fn every_number_of_every_report_is_the_count_of_its_search() {
    for spec in catalog::all() {
        let report = run(spec.id, 30);
        for (figure, fs) in report.figures.iter().zip(&spec.figures) {
            assert_eq!(
                figure.current.value,
                measured(&figure.current, &fs.measure),
                "{} / {}",
                spec.id,
                figure.label
            );
            let previous = figure.previous.as_ref().expect("compared");
            assert_eq!(previous.value, measured(previous, &fs.measure));
        }
        for (table, ts) in report.tables.iter().zip(&spec.tables) {
            for row in &table.rows {
                assert_eq!(
                    row.current.value,
                    measured(&row.current, &ts.measure),
                    "{} / {} / {:?}",
                    spec.id,
                    table.title,
                    row.keys
                );
            }
            assert!(
                table
                    .rows
                    .windows(2)
                    .all(|w| w[0].current.value >= w[1].current.value),
                "{} / {}: largest first",
                spec.id,
                table.title
            );
        }
        for series in &report.chart.series {
            assert_eq!(
                series.total.value,
                measured(&series.total, &spec.chart.measure),
                "{} / chart / {}",
                spec.id,
                series.name
            );
            if spec.chart.measure == Measure::Events {
                assert_eq!(series.values.iter().sum::<u64>(), series.total.value);
            }
        }
    }
}

#[test]
fn every_report_has_content_in_a_simulated_month_most_figures_too() {
    for spec in catalog::all() {
        let report = run(spec.id, 30);
        // A figure may be 0 (nothing let through), but no report is empty.
        assert!(
            report
                .figures
                .iter()
                .filter(|f| f.current.value > 0)
                .count()
                * 2
                >= report.figures.len(),
            "{}: {:?}",
            spec.id,
            report
                .figures
                .iter()
                .map(|f| (&f.label, f.current.value))
                .collect::<Vec<_>>()
        );
        assert!(!report.chart.series.is_empty(), "{}: chart", spec.id);
        for table in &report.tables {
            assert!(!table.rows.is_empty(), "{} / {}", spec.id, table.title);
        }
    }
}

#[test]
fn chart_points_count_their_own_bucket() {
    let report = run("authentication", 7);
    assert_eq!(report.chart.bucket, "day");
    assert_eq!(report.chart.buckets.len(), 7);
    let spec = catalog::find("authentication").unwrap();
    for series in &report.chart.series {
        for (i, start) in report.chart.buckets.iter().enumerate() {
            let one_day = Linked {
                value: series.values[i],
                search: SearchText::from_query(&series.total.search)
                    .with(|s| {
                        s.since = okwatch_engine::search_text::url_time(*start);
                        s.until =
                            okwatch_engine::search_text::url_time(*start + TimeDelta::days(1));
                    })
                    .to_query(),
            };
            assert_eq!(one_day.value, measured(&one_day, &spec.chart.measure));
        }
    }
}

#[test]
fn daily_active_people_are_counted_once_a_day() {
    let report = run("usage", 14);
    let series = &report.chart.series[0];
    assert_eq!(report.chart.unit, "distinct");
    let weekday_peak = *series.values.iter().max().unwrap();
    assert!(weekday_peak > 150 && weekday_peak <= 301, "{weekday_peak}");
    // Over the period more people are active than on any one day, and fewer than sign-ins.
    let active = report.figures[0].current.value;
    let sign_ins = report.figures[1].current.value;
    assert!(active >= weekday_peak && active < sign_ins);
}

#[test]
fn trends_compare_with_the_previous_period_of_the_same_length() {
    let report = run("failed_sign_ins", 7);
    let (since, until) = report.previous.unwrap();
    assert_eq!(until, report.since);
    assert_eq!(until - since, report.until - report.since);
    let figure = &report.figures[0];
    let before = figure.previous.as_ref().unwrap().value as f64;
    let change = figure.change_percent.unwrap();
    assert!((change - (figure.current.value as f64 - before) * 100.0 / before).abs() < 1e-9);
}

#[test]
fn people_who_never_used_mfa_are_found() {
    let report = run("mfa", 30);
    let table = report
        .tables
        .iter()
        .find(|t| t.title.starts_with("Active people who never"))
        .unwrap();
    let people: Vec<&str> = table
        .rows
        .iter()
        .filter_map(|r| r.keys[0].as_deref())
        .collect();
    assert_eq!(people, ["svc-integration@acme.example"], "{people:?}");
}

#[test]
fn an_empty_or_backwards_period_is_refused() {
    assert!(Period::new(end(), end(), false).is_err());
    assert!(Period::new(end(), end() - TimeDelta::days(1), false).is_err());
}

#[test]
fn the_suspicious_activity_report_counts_the_alerts_raised_in_its_period() {
    use okwatch_store::{AlertRecord, AlertStore};
    let store = DuckDbStore::open_in_memory().unwrap();
    let alert = |id: &str, rule: &str, days_before_end: i64| AlertRecord {
        id: id.into(),
        rule: rule.into(),
        severity: "high".into(),
        group: "someone@example.com".into(),
        first: okwatch_model::format_timestamp(end() - TimeDelta::days(days_before_end)),
        last: okwatch_model::format_timestamp(end() - TimeDelta::days(days_before_end)),
        events: vec!["e1".into()],
        explanation: "why".into(),
        status: "open".into(),
        raised: okwatch_model::format_timestamp(end()),
        assignee: None,
    };
    for a in [
        alert("a1", "okwatch.password_spray", 1),
        alert("a2", "okwatch.password_spray", 3),
        alert("a3", "okwatch.brute_force", 2),
        // The week before, and long before: only the first is compared with.
        alert("a4", "okwatch.brute_force", 9),
        alert("a5", "okwatch.brute_force", 40),
    ] {
        store.put_alert(&a).unwrap();
    }
    let spec = catalog::find("suspicious").unwrap();
    let period = Period::new(end() - TimeDelta::days(7), end(), true).unwrap();
    // Other reports show no alerts.
    let mut other = run_report(&store, &catalog::find("mfa").unwrap(), &period, None).unwrap();
    okwatch_engine::reports::alerts::attach(&mut other, &store).unwrap();
    assert!(other.alerts.is_none());
    let mut report = run_report(&store, &spec, &period, None).unwrap();
    // The compared period needs stored history; pretend it is there.
    report.previous = Some((period.since - TimeDelta::days(7), period.since));
    okwatch_engine::reports::alerts::attach(&mut report, &store).unwrap();
    let alerts = report
        .alerts
        .expect("the suspicious activity report shows alerts");
    assert_eq!(alerts.total, 3);
    assert_eq!(alerts.previous, Some(1));
    let rows: Vec<(&str, &str, u64, Option<u64>)> = alerts
        .rows
        .iter()
        .map(|r| (r.rule.as_str(), r.name.as_str(), r.count, r.previous))
        .collect();
    assert_eq!(rows[0].0, "okwatch.password_spray");
    assert_eq!((rows[0].2, rows[0].3), (2, Some(0)));
    assert_eq!(rows[1].0, "okwatch.brute_force");
    assert_eq!((rows[1].2, rows[1].3), (1, Some(1)));
    assert_ne!(rows[0].1, rows[0].0, "shipped detections are shown by name");
    assert!(alerts.rows[0]
        .href
        .starts_with("/alerts?status=all&min=info&since="));
    assert!(alerts.rows[0]
        .href
        .ends_with("&rule=okwatch%2Epassword%5Fspray"));
    // Text and CSV carry them.
    assert!(render::text(&report_with(alerts.clone())).contains("Alerts raised by okwatch: 3"));
    assert!(render::csv(&report_with(alerts)).contains("alerts raised,Alerts,"));

    fn report_with(alerts: okwatch_engine::reports::alerts::AlertsRaised) -> Report {
        let mut report = run("suspicious", 7);
        report.alerts = Some(alerts);
        report
    }
}

/// A figure counts what its label says: someone who only revoked roles is not "granting".
#[test]
fn people_granting_roles_are_only_those_who_granted() {
    let store = DuckDbStore::open_in_memory().unwrap();
    let event = |n: u32, actor: &str, kind: &str| {
        serde_json::json!({
            "uuid": format!("role-{n}"), "published": format!("2026-04-20T10:{:02}:00.000Z", n % 60),
            "eventType": format!("user.account.privilege.{kind}"), "version": "0", "severity": "INFO",
            "actor": {"id": actor, "type": "User", "alternateId": format!("{actor}@example.com")},
            "outcome": {"result": "SUCCESS"},
            "target": [{"id": "00utarget", "type": "User", "alternateId": "t@example.com"}]
        })
    };
    let mut events: Vec<_> = (0..32).map(|n| event(n, "00urevoker", "revoke")).collect();
    events.push(event(40, "00ugranter", "grant"));
    let rows = events
        .into_iter()
        .map(|e| EventRow::decompose("acme", e).unwrap())
        .collect();
    store.insert(EventBatch::encode(rows).unwrap()).unwrap();
    let spec = catalog::find("admin_roles").unwrap();
    let period = Period::new(end() - TimeDelta::days(30), end(), true).unwrap();
    let report = run_report(&store, &spec, &period, None).unwrap();
    let figure = |label: &str| {
        report
            .figures
            .iter()
            .find(|f| f.label == label)
            .unwrap_or_else(|| panic!("{label}"))
            .current
            .value
    };
    assert_eq!(figure("People granting"), 1);
    assert_eq!(figure("People revoking"), 1);
    assert_eq!(figure("Roles revoked"), 32);
}
