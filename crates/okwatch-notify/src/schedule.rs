//! Scheduled reports: each schedule runs its report at its cadence's times and hands the result
//! to the notification queue, which delivers and retries it like an alert.
//!
//! A schedule keeps an anchor: the time of its last scheduled run (or of its creation, or of
//! its last change of cadence). A run is due when the cadence has a time after the anchor and
//! at or before now. However many times passed while okwatch was down, one run is made, for
//! the latest of them (a "catch-up"): a week-old daily report nobody asked for is noise. The
//! run and the anchor's move are kept in one transaction after its notifications are queued
//! (with ids made from the run, so queueing twice keeps one): a crash between the two runs the
//! report again and sends it once.

use crate::channel::Channel;
use crate::report::{queue_report, ReportMail};
use chrono::{DateTime, TimeDelta, Utc};
use okwatch_engine::reports::cadence::{time_zone, Cadence};
use okwatch_engine::reports::{catalog, email, render, run_report, Period};
use okwatch_engine::search_text::encode;
use okwatch_model::{format_timestamp, parse_timestamp};
use okwatch_store::{
    AlertStore, Notifications, ReportRun, ReportSchedules, ScheduleRecord, Store, StoreError,
};
use std::sync::Arc;
use std::time::Duration;

/// How often schedules are looked at.
const EVERY: Duration = Duration::from_secs(15);

/// A run that starts this long after its time is a catch-up (okwatch was down at the time).
const LATE: TimeDelta = TimeDelta::minutes(5);

/// What a schedule runner needs from the store.
pub trait ScheduleStore: Store + AlertStore + ReportSchedules + Notifications {}
impl<T: Store + AlertStore + ReportSchedules + Notifications + ?Sized> ScheduleStore for T {}

/// Where reports go and how links in them start.
#[derive(Clone, Default)]
pub struct Scheduler {
    /// The configured notification channels.
    pub channels: Arc<Vec<Channel>>,
    /// The console's address as people reach it.
    pub public_url: Option<String>,
}

/// Why a schedule cannot be saved or run, in words.
pub fn check(
    schedule: &ScheduleRecord,
    channels: &[Channel],
) -> Result<(Cadence, chrono_tz::Tz), String> {
    if schedule.name.trim().is_empty() {
        return Err("a schedule needs a name".into());
    }
    if catalog::find(&schedule.report).is_none() {
        return Err(format!("there is no report `{}`", schedule.report));
    }
    let cadence = Cadence::parse(&schedule.cadence).map_err(|e| e.to_string())?;
    let tz = time_zone(&schedule.timezone).map_err(|e| e.to_string())?;
    if schedule.channels.is_empty() {
        return Err("a schedule needs at least one channel to deliver to".into());
    }
    for name in &schedule.channels {
        if !channels.iter().any(|c| &c.name == name) {
            let known: Vec<&str> = channels.iter().map(|c| c.name.as_str()).collect();
            return Err(if known.is_empty() {
                format!(
                    "no notification channel is named `{name}`: none is configured ([[notify]] in the configuration)"
                )
            } else {
                format!(
                    "no notification channel is named `{name}` (there are: {})",
                    known.join(", ")
                )
            });
        }
    }
    for to in &schedule.recipients {
        if !crate::channel::valid_address(to) {
            return Err(format!("`{to}` is not an e-mail address"));
        }
    }
    Ok((cadence, tz))
}

/// The time a schedule is due to run for at `now`, if any, and whether it is a catch-up.
pub fn due(schedule: &ScheduleRecord, now: DateTime<Utc>) -> Option<(DateTime<Utc>, bool)> {
    let cadence = Cadence::parse(&schedule.cadence).ok()?;
    let tz = time_zone(&schedule.timezone).ok()?;
    let anchor = parse_timestamp(&schedule.anchor)?;
    let next = cadence.next_after(anchor, tz)?;
    if next > now {
        return None;
    }
    let latest = cadence.last_at_or_before(now, tz).unwrap_or(next).max(next);
    Some((latest, latest > next || now - latest > LATE))
}

/// The next time a schedule runs, after its anchor and now.
pub fn next_run(schedule: &ScheduleRecord, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let cadence = Cadence::parse(&schedule.cadence).ok()?;
    let tz = time_zone(&schedule.timezone).ok()?;
    let anchor = parse_timestamp(&schedule.anchor)?;
    cadence.next_after(anchor.max(now), tz)
}

/// The period a run at `until` reports on: from the cadence's time before it, so that runs
/// cover the history between them without gap or overlap (a run off the cadence, "run now",
/// covers the same length up to now).
fn period(cadence: &Cadence, tz: chrono_tz::Tz, until: DateTime<Utc>) -> Option<Period> {
    let last = cadence.last_at_or_before(until, tz)?;
    let before = cadence.last_at_or_before(last - TimeDelta::minutes(1), tz)?;
    Period::new(until - (last - before), until, true).ok()
}

/// Runs `schedule` for `until` and queues its deliveries; the run, as kept. `due` is the
/// scheduled time (`None` for "run now", by `by`).
pub fn run_schedule(
    store: &dyn ScheduleStore,
    scheduler: &Scheduler,
    schedule: &ScheduleRecord,
    until: DateTime<Utc>,
    trigger: &str,
    by: Option<&str>,
) -> ReportRun {
    let started = Utc::now();
    let id = match by {
        None => format!("{}:{}", schedule.id, until.format("%Y%m%dT%H%MZ")),
        Some(_) => format!("{}:manual:{}", schedule.id, started.timestamp_micros()),
    };
    let mut run = ReportRun {
        id: id.clone(),
        schedule: schedule.id.clone(),
        trigger: trigger.into(),
        started: format_timestamp(started),
        since: String::new(),
        until: format_timestamp(until),
        status: "failed".into(),
        detail: String::new(),
        deliveries: Vec::new(),
        by: by.map(str::to_string),
    };
    let span = tracing::info_span!("report_schedule", schedule = %schedule.id, run = %id);
    let _entered = span.enter();
    let result = (|| -> Result<(Vec<String>, String), String> {
        let (cadence, tz) = check(schedule, &scheduler.channels)?;
        let period = period(&cadence, tz, until)
            .ok_or_else(|| "the cadence has no earlier time to report from".to_string())?;
        run.since = format_timestamp(period.since);
        let spec = catalog::find(&schedule.report)
            .ok_or_else(|| format!("there is no report `{}`", schedule.report))?;
        let report = run_report(store, &spec, &period, schedule.org.as_deref())
            .and_then(|mut r| okwatch_engine::reports::alerts::attach(&mut r, store).map(|()| r))
            .map_err(|e| format!("the report failed: {e}"))?;
        let base = scheduler.public_url.as_deref();
        let day = |t: DateTime<Utc>| format_timestamp(t)[..16].replace('T', " ");
        let mail = ReportMail {
            schedule: schedule.id.clone(),
            schedule_name: schedule.name.clone(),
            report: report.id.clone(),
            subject: format!(
                "[okwatch] {} · {} → {} UTC",
                schedule.name,
                day(period.since),
                day(period.until)
            ),
            text: render::text(&report),
            html: email::html(&report, base),
            csv: render::csv(&report),
            json: serde_json::to_value(&report).unwrap_or_default(),
            file_stem: format!("{}-{}", report.id, until.format("%Y%m%dT%H%MZ")),
            recipients: schedule.recipients.clone(),
            url: base.map(|b| {
                format!(
                    "{}/reports/{}?{}",
                    b.trim_end_matches('/'),
                    report.id,
                    period_query(&period, schedule.org.as_deref())
                )
            }),
        };
        let ids = queue_report(store, &scheduler.channels, &schedule.channels, &mail, &id)?;
        let summary = report
            .figures
            .first()
            .map(|f| format!("; {}: {}", f.label, f.current.value))
            .unwrap_or_default();
        Ok((ids, format!("to {}{summary}", schedule.channels.join(", "))))
    })();
    match result {
        Ok((ids, detail)) => {
            run.status = "queued".into();
            run.deliveries = ids;
            run.detail = detail;
            tracing::info!(report = %schedule.report, "scheduled report queued");
        }
        Err(why) => {
            tracing::warn!(report = %schedule.report, "scheduled report failed: {why}");
            run.detail = why;
        }
    }
    run
}

/// The console's query string for a period (`since=…&until=…&org=…`).
fn period_query(period: &Period, org: Option<&str>) -> String {
    let mut query = format!(
        "since={}&until={}",
        encode(&format_timestamp(period.since)),
        encode(&format_timestamp(period.until))
    );
    if let Some(org) = org {
        query.push_str(&format!("&org={}", encode(org)));
    }
    query
}

/// Runs every enabled schedule that is due at `now`; the runs made.
pub fn tick(
    store: &dyn ScheduleStore,
    scheduler: &Scheduler,
    now: DateTime<Utc>,
) -> Result<Vec<ReportRun>, StoreError> {
    let mut runs = Vec::new();
    for schedule in store.schedules()?.into_iter().filter(|s| s.enabled) {
        let Some((at, late)) = due(&schedule, now) else {
            continue;
        };
        let trigger = if late { "catch-up" } else { "schedule" };
        let run = run_schedule(store, scheduler, &schedule, at, trigger, None);
        store.record_run(&run, Some(&format_timestamp(at)))?;
        runs.push(run);
    }
    Ok(runs)
}

/// Runs due schedules until `stopped` turns true.
pub async fn run<S>(
    store: Arc<S>,
    scheduler: Scheduler,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) where
    S: ScheduleStore + 'static,
{
    loop {
        let (store, scheduler) = (store.clone(), scheduler.clone());
        let ticked =
            tokio::task::spawn_blocking(move || tick(store.as_ref(), &scheduler, Utc::now())).await;
        match ticked {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!("cannot run report schedules: {e}"),
            Err(e) => tracing::error!("the report scheduler stopped: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stopped.changed() => return,
        }
    }
}
