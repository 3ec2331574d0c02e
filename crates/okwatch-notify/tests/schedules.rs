//! Report schedules over a real store of simulated events: a schedule runs at its times and
//! not between them, runs missed while okwatch was down make one catch-up run, the report it
//! delivers holds the same numbers as the report run by hand, and a directory channel gets
//! its CSV, JSON and HTML.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use okwatch_engine::reports::{catalog, run_report, Period};
use okwatch_model::format_timestamp;
use okwatch_notify::message::Payload;
use okwatch_notify::schedule::{due, tick, Scheduler};
use okwatch_notify::{Channel, Target};
use okwatch_store::{EventBatch, EventRow, Notifications, ReportSchedules, ScheduleRecord, Store};
use okwatch_store_duckdb::DuckDbStore;
use std::sync::Arc;
use std::time::Duration;

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn store() -> DuckDbStore {
    let store = DuckDbStore::open_in_memory().unwrap();
    let generator = okwatch_sim::Generator::new(5, 120);
    let rows = generator
        .between(at(2026, 11, 1, 0, 0), at(2026, 12, 2, 0, 0))
        .map(|e| EventRow::decompose("acme", e).unwrap())
        .collect();
    store.insert(EventBatch::encode(rows).unwrap()).unwrap();
    store
}

fn directory(path: &std::path::Path) -> Channel {
    Channel {
        name: "archive".into(),
        target: Target::Directory {
            path: path.to_path_buf(),
        },
        min_severity: "critical".into(),
        rules: Vec::new(),
        renewals: false,
        retry_base: Duration::from_secs(1),
        max_attempts: 3,
    }
}

fn schedule(cadence: &str, anchor: DateTime<Utc>) -> ScheduleRecord {
    ScheduleRecord {
        id: "weekly-failures".into(),
        name: "Failed sign-ins, weekly".into(),
        report: "failed_sign_ins".into(),
        cadence: cadence.into(),
        timezone: "Europe/Paris".into(),
        org: None,
        channels: vec!["archive".into()],
        recipients: Vec::new(),
        enabled: true,
        owner: "ana".into(),
        created: format_timestamp(anchor),
        updated: format_timestamp(anchor),
        anchor: format_timestamp(anchor),
    }
}

#[test]
fn a_schedule_runs_at_its_times_and_catches_up_once() {
    let store = store();
    let dir = tempfile::tempdir().unwrap();
    let scheduler = Scheduler {
        channels: Arc::new(vec![directory(dir.path())]),
        public_url: Some("https://okwatch.example.com".into()),
    };
    // Made on Wednesday 2026-11-04; runs every Monday at 08:00 Paris time (07:00 UTC).
    store
        .put_schedule(&schedule("weekly mon 08:00", at(2026, 11, 4, 12, 0)))
        .unwrap();
    // Nothing is due before the first Monday.
    assert!(tick(&store, &scheduler, at(2026, 11, 9, 6, 59))
        .unwrap()
        .is_empty());
    let runs = tick(&store, &scheduler, at(2026, 11, 9, 7, 0)).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].trigger, "schedule");
    assert_eq!(runs[0].status, "queued", "{}", runs[0].detail);
    assert_eq!(runs[0].since, "2026-11-02T07:00:00.000Z");
    assert_eq!(runs[0].until, "2026-11-09T07:00:00.000Z");
    // Not twice.
    assert!(tick(&store, &scheduler, at(2026, 11, 9, 7, 1))
        .unwrap()
        .is_empty());

    // okwatch is down for three Mondays; when it comes back, one run, for the latest.
    let back = at(2026, 11, 30, 9, 15);
    let kept = store.schedule("weekly-failures").unwrap().unwrap();
    assert_eq!(due(&kept, back), Some((at(2026, 11, 30, 7, 0), true)));
    let runs = tick(&store, &scheduler, back).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].trigger, "catch-up");
    assert_eq!(runs[0].until, "2026-11-30T07:00:00.000Z");
    assert!(tick(&store, &scheduler, back + TimeDelta::minutes(1))
        .unwrap()
        .is_empty());
    let history = store.report_runs(Some("weekly-failures"), 10).unwrap();
    assert_eq!(history.len(), 2);

    // What it queued is the report for that week, with the numbers of the report run by hand.
    let queued = store
        .notification(&history[0].deliveries[0])
        .unwrap()
        .unwrap();
    assert_eq!(queued.channel, "archive");
    let Payload::Report(mail) = serde_json::from_str::<Payload>(&queued.payload).unwrap() else {
        panic!("a report was queued");
    };
    let by_hand = run_report(
        &store,
        &catalog::find("failed_sign_ins").unwrap(),
        &Period::new(at(2026, 11, 23, 7, 0), at(2026, 11, 30, 7, 0), true).unwrap(),
        None,
    )
    .unwrap();
    assert_eq!(mail.json, serde_json::to_value(&by_hand).unwrap());
    assert!(
        by_hand.figures[0].current.value > 0,
        "the week has failures"
    );
    assert!(mail.subject.contains("2026-11-23 07:00 → 2026-11-30 07:00"));
    assert!(
        mail.html.contains("https://okwatch.example.com/?"),
        "numbers link to searches"
    );
    assert!(mail.csv.starts_with("section,measure,"));

    // The directory channel writes the three files whole.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let channel = directory(dir.path());
    let said = runtime
        .block_on(okwatch_notify::deliver::deliver(
            &channel,
            &Payload::Report(mail.clone()),
        ))
        .unwrap();
    assert!(
        said.contains("failed_sign_ins-20261130T0700Z.csv"),
        "{said}"
    );
    let csv =
        std::fs::read_to_string(dir.path().join("failed_sign_ins-20261130T0700Z.csv")).unwrap();
    assert_eq!(csv, mail.csv);
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("failed_sign_ins-20261130T0700Z.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["id"], "failed_sign_ins");
    assert!(dir
        .path()
        .join("failed_sign_ins-20261130T0700Z.html")
        .exists());
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(leftovers, 0, "no partial file is left behind");
}

#[test]
fn a_schedule_that_cannot_run_says_why_and_is_not_retried_every_tick() {
    let store = store();
    let scheduler = Scheduler {
        channels: Arc::new(Vec::new()),
        public_url: None,
    };
    store
        .put_schedule(&schedule("daily 06:00", at(2026, 11, 4, 0, 0)))
        .unwrap();
    let runs = tick(&store, &scheduler, at(2026, 11, 4, 5, 0)).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "failed");
    assert!(runs[0]
        .detail
        .contains("no notification channel is named `archive`"));
    assert!(tick(&store, &scheduler, at(2026, 11, 4, 5, 1))
        .unwrap()
        .is_empty());
    assert!(store.notifications(10).unwrap().is_empty());
}
