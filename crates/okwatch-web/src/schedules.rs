//! Scheduled reports in the console: the list (`/reports/schedules`), a form to make one, a
//! schedule's page with its settings, "run now" and the history of its runs with what became
//! of every delivery. The REST API (`rest_schedules`) shares the checks and the record made
//! here.

use crate::auth::SignedIn;
use crate::{blocking, field, form, html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use chrono::Utc;
use okwatch_engine::reports::cadence::Cadence;
use okwatch_engine::reports::catalog;
use okwatch_engine::search_text::encode;
use okwatch_model::format_timestamp;
use okwatch_notify::schedule::{self, Scheduler};
use okwatch_store::{ReportRun, ScheduleRecord, StoreError};

/// What someone asks a schedule to be (from the form or the API).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// Its name.
    pub name: String,
    /// The report's id.
    pub report: String,
    /// `daily 08:00`, `weekly mon 08:00`, `monthly 1 08:00` or `cron …`.
    pub cadence: String,
    /// An IANA time zone.
    #[serde(default = "utc")]
    pub timezone: String,
    /// Only this org.
    #[serde(default)]
    pub org: Option<String>,
    /// The channels to deliver to.
    pub channels: Vec<String>,
    /// E-mail recipients instead of the channels' own.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Whether it runs (default yes).
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn utc() -> String {
    "UTC".into()
}

fn yes() -> bool {
    true
}

/// The schedule `input` makes, replacing `existing` if given, checked against the configured
/// channels; why not, in words.
pub(crate) fn build(
    state: &WebState,
    input: ScheduleInput,
    existing: Option<ScheduleRecord>,
    user: &SignedIn,
) -> Result<ScheduleRecord, String> {
    let now = format_timestamp(Utc::now());
    let cadence = Cadence::parse(input.cadence.trim()).map_err(|e| e.to_string())?;
    let org = input.org.filter(|o| !o.trim().is_empty());
    let mut record = ScheduleRecord {
        id: existing.as_ref().map_or_else(
            || format!("sch{}", okwatch_okta::random::base62(10)),
            |e| e.id.clone(),
        ),
        name: input.name.trim().to_string(),
        report: input.report.trim().to_string(),
        cadence: cadence.to_string(),
        timezone: input.timezone.trim().to_string(),
        org,
        channels: input.channels,
        recipients: input
            .recipients
            .iter()
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .collect(),
        enabled: input.enabled,
        owner: existing
            .as_ref()
            .map_or_else(|| user.name.clone(), |e| e.owner.clone()),
        created: existing
            .as_ref()
            .map_or_else(|| now.clone(), |e| e.created.clone()),
        updated: now.clone(),
        // A new schedule, or a new cadence, runs from now on: no catch-up for times before it.
        anchor: now.clone(),
    };
    if let Some(e) = existing {
        if e.cadence == record.cadence && e.timezone == record.timezone && e.enabled {
            record.anchor = e.anchor;
        }
    }
    if record.name.chars().count() > 200 {
        return Err("the name is longer than 200 characters".into());
    }
    schedule::check(&record, &state.channels)?;
    Ok(record)
}

/// A schedule as the list and the API show it.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Shown {
    #[serde(flatten)]
    pub record: ScheduleRecord,
    /// `every Monday at 08:00`.
    pub cadence_text: String,
    /// The report's title.
    pub report_title: String,
    /// When it runs next (ISO 8601), if enabled.
    pub next_run: Option<String>,
    /// The same, as people read it: in the schedule's time zone (`Mon 2026-12-07 09:00
    /// Europe/Paris`).
    #[serde(skip)]
    pub next_run_text: Option<String>,
}

/// A stored timestamp to the minute, for people (`2026-12-02 13:22`); the text itself when it
/// is not one.
pub(crate) fn minute(stamp: &str) -> String {
    okwatch_model::parse_timestamp(stamp).map_or_else(
        || stamp.to_string(),
        |t| t.format("%Y-%m-%d %H:%M").to_string(),
    )
}

pub(crate) fn shown(record: ScheduleRecord) -> Shown {
    let cadence_text = Cadence::parse(&record.cadence).map_or_else(
        |_| record.cadence.clone(),
        |c| format!("{} ({})", c.describe(), record.timezone),
    );
    let report_title =
        catalog::find(&record.report).map_or(record.report.clone(), |s| s.title.into());
    let next_run = record
        .enabled
        .then(|| schedule::next_run(&record, Utc::now()))
        .flatten()
        .map(format_timestamp);
    let next_run_text = next_run
        .as_deref()
        .and_then(okwatch_model::parse_timestamp)
        .map(
            |t| match okwatch_engine::reports::cadence::time_zone(&record.timezone) {
                Ok(tz) if tz != chrono_tz::UTC => format!(
                    "{} {} ({} UTC)",
                    t.with_timezone(&tz).format("%a %Y-%m-%d %H:%M"),
                    record.timezone,
                    t.format("%H:%M")
                ),
                _ => format!("{} UTC", t.format("%a %Y-%m-%d %H:%M")),
            },
        );
    Shown {
        record,
        cadence_text,
        report_title,
        next_run,
        next_run_text,
    }
}

/// One delivery of a run, as its notification stands.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Delivery {
    pub id: String,
    pub channel: String,
    /// `pending`, `sent` or `failed` (or `unknown` once the log forgot it).
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub sent: Option<String>,
}

/// A run with its deliveries.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct RunShown {
    #[serde(flatten)]
    pub run: ReportRun,
    pub delivered: Vec<Delivery>,
    /// What became of the run as a whole: `sent` (every delivery), `sending` (some still
    /// pending or retrying), `undelivered` (a delivery failed for good) or `failed` (the
    /// report could not be made).
    pub result: &'static str,
    /// The console's report over the run's period.
    pub report_href: String,
}

impl RunShown {
    fn new(run: ReportRun, delivered: Vec<Delivery>, report: &str, org: Option<&str>) -> Self {
        let result = if run.status == "failed" {
            "failed"
        } else if delivered.iter().any(|d| d.status == "failed") {
            "undelivered"
        } else if delivered.iter().all(|d| d.status == "sent") {
            "sent"
        } else {
            "sending"
        };
        let mut query = format!("since={}&until={}", encode(&run.since), encode(&run.until));
        if let Some(org) = org {
            query.push_str(&format!("&org={}", encode(org)));
        }
        RunShown {
            report_href: format!("/reports/{report}?{query}"),
            run,
            delivered,
            result,
        }
    }

    /// `2026-12-02 13:22`.
    pub fn started_text(&self) -> String {
        minute(&self.run.started)
    }

    /// `2026-11-25 13:22 → 2026-12-02 13:22`.
    pub fn period_text(&self) -> String {
        format!("{} → {}", minute(&self.run.since), minute(&self.run.until))
    }
}

/// A schedule's newest runs, each with what became of its deliveries.
pub(crate) async fn history(
    state: &WebState,
    record: &ScheduleRecord,
    limit: usize,
) -> Result<Vec<RunShown>, WebError> {
    let store = state.reporting.clone();
    let (id, report, org) = (record.id.clone(), record.report.clone(), record.org.clone());
    blocking(move || {
        let runs = store.report_runs(Some(&id), limit)?;
        runs.into_iter()
            .map(|run| {
                let delivered = run
                    .deliveries
                    .iter()
                    .map(|n| {
                        Ok(match store.notification(n)? {
                            Some(n) => Delivery {
                                id: n.id,
                                channel: n.channel,
                                status: n.status,
                                attempts: n.attempts,
                                last_error: n.last_error,
                                sent: n.sent,
                            },
                            None => Delivery {
                                id: n.clone(),
                                channel: n.split(':').next().unwrap_or_default().into(),
                                status: "unknown".into(),
                                attempts: 0,
                                last_error: None,
                                sent: None,
                            },
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                Ok(RunShown::new(run, delivered, &report, org.as_deref()))
            })
            .collect()
    })
    .await
}

/// Runs a schedule now, for `user`; the run, as kept.
pub(crate) async fn run_now(
    state: &WebState,
    record: ScheduleRecord,
    user: &SignedIn,
) -> Result<ReportRun, WebError> {
    let store = state.reporting.clone();
    let scheduler = Scheduler {
        channels: state.channels.clone(),
        public_url: state.public_url.clone(),
    };
    let by = user.name.clone();
    blocking(move || {
        let run = schedule::run_schedule(
            store.as_ref(),
            &scheduler,
            &record,
            Utc::now(),
            "manual",
            Some(&by),
        );
        store.record_run(&run, None)?;
        Ok(run)
    })
    .await
}

// ---------------------------------------------------------------- console pages

struct Choice {
    value: String,
    label: String,
}

/// The form's values (a new schedule's defaults, a schedule's own, or what was typed).
struct FormValues {
    name: String,
    report: String,
    every: String,
    at: String,
    weekday: String,
    day: String,
    cron: String,
    timezone: String,
    org: String,
    channels: Vec<String>,
    recipients: String,
    enabled: bool,
}

impl FormValues {
    fn of(record: &ScheduleRecord) -> FormValues {
        let mut values = FormValues {
            name: record.name.clone(),
            report: record.report.clone(),
            every: "weekly".into(),
            at: "08:00".into(),
            weekday: "mon".into(),
            day: "1".into(),
            cron: String::new(),
            timezone: record.timezone.clone(),
            org: record.org.clone().unwrap_or_default(),
            channels: record.channels.clone(),
            recipients: record.recipients.join(", "),
            enabled: record.enabled,
        };
        let words: Vec<&str> = record.cadence.split_whitespace().collect();
        match words.as_slice() {
            ["daily", at] => (values.every, values.at) = ("daily".into(), (*at).into()),
            ["weekly", day, at] => {
                (values.every, values.weekday, values.at) =
                    ("weekly".into(), (*day).into(), (*at).into())
            }
            ["monthly", day, at] => {
                (values.every, values.day, values.at) =
                    ("monthly".into(), (*day).into(), (*at).into())
            }
            ["cron", rest @ ..] => (values.every, values.cron) = ("cron".into(), rest.join(" ")),
            _ => {}
        }
        values
    }

    fn fresh(report: &str) -> FormValues {
        let title = catalog::find(report).map_or("", |s| s.title);
        FormValues {
            name: if title.is_empty() {
                String::new()
            } else {
                format!("{title}, weekly")
            },
            report: report.into(),
            every: "weekly".into(),
            at: "08:00".into(),
            weekday: "mon".into(),
            day: "1".into(),
            cron: String::new(),
            timezone: "UTC".into(),
            org: String::new(),
            channels: Vec::new(),
            recipients: String::new(),
            enabled: true,
        }
    }

    fn read(form: &[(String, String)]) -> FormValues {
        FormValues {
            name: field(form, "name").into(),
            report: field(form, "report").into(),
            every: field(form, "every").into(),
            at: field(form, "at").into(),
            weekday: field(form, "weekday").into(),
            day: field(form, "day").into(),
            cron: field(form, "cron").into(),
            timezone: field(form, "timezone").into(),
            org: field(form, "org").into(),
            channels: form
                .iter()
                .filter(|(k, _)| k == "channel")
                .map(|(_, v)| v.clone())
                .collect(),
            recipients: field(form, "recipients").into(),
            enabled: field(form, "enabled") == "yes",
        }
    }

    fn input(&self) -> ScheduleInput {
        let cadence = match self.every.as_str() {
            "daily" => format!("daily {}", self.at),
            "monthly" => format!("monthly {} {}", self.day, self.at),
            "cron" => format!("cron {}", self.cron),
            _ => format!("weekly {} {}", self.weekday, self.at),
        };
        ScheduleInput {
            name: self.name.clone(),
            report: self.report.clone(),
            cadence,
            timezone: self.timezone.clone(),
            org: Some(self.org.clone()),
            channels: self.channels.clone(),
            recipients: self
                .recipients
                .split([',', ';', '\n'])
                .map(str::to_string)
                .collect(),
            enabled: self.enabled,
        }
    }
}

#[derive(Template)]
#[template(path = "schedules.html")]
struct ListPage {
    user: SignedIn,
    action: String,
    schedules: Vec<Shown>,
    form: FormValues,
    reports: Vec<Choice>,
    channels: Vec<Choice>,
    orgs: Vec<String>,
    problem: Option<String>,
    open_form: bool,
}

#[derive(Template)]
#[template(path = "schedule.html")]
struct OnePage {
    user: SignedIn,
    action: String,
    schedule: Shown,
    form: FormValues,
    reports: Vec<Choice>,
    channels: Vec<Choice>,
    orgs: Vec<String>,
    runs: Vec<RunShown>,
    problem: Option<String>,
    message: Option<String>,
}

fn choices(state: &WebState) -> (Vec<Choice>, Vec<Choice>) {
    let reports = catalog::all()
        .into_iter()
        .map(|s| Choice {
            value: s.id.into(),
            label: s.title.into(),
        })
        .collect();
    let channels = state
        .channels
        .iter()
        .map(|c| Choice {
            value: c.name.clone(),
            label: format!("{} ({}: {})", c.name, c.target.kind(), c.target.describe()),
        })
        .collect();
    (reports, channels)
}

async fn list_page(
    state: &WebState,
    user: SignedIn,
    form: FormValues,
    problem: Option<String>,
    open_form: bool,
) -> Result<Response, WebError> {
    let store = state.reporting.clone();
    let schedules = blocking(move || store.schedules()).await?;
    let (reports, channels) = choices(state);
    let page = ListPage {
        user,
        action: "/reports/schedules".into(),
        schedules: schedules.into_iter().map(shown).collect(),
        form,
        reports,
        channels,
        orgs: state.orgs().await,
        problem,
        open_form,
    };
    let status = if page.problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, html(&page)?).into_response())
}

/// `GET /reports/schedules` (`?new=REPORT` opens the form for that report).
pub(crate) async fn list(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let new = crate::rest::value_of(&pairs, "new");
    let form = FormValues::fresh(new.unwrap_or("failed_sign_ins"));
    list_page(&state, user, form, None, new.is_some()).await
}

/// `POST /reports/schedules`: makes a schedule.
pub(crate) async fn create(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = form(&body);
    let values = FormValues::read(&form);
    match build(&state, values.input(), None, &user) {
        Ok(record) => {
            let id = record.id.clone();
            let store = state.reporting.clone();
            blocking(move || store.put_schedule(&record)).await?;
            Ok(Redirect::to(&format!("/reports/schedules/{id}?done=saved")).into_response())
        }
        Err(problem) => list_page(&state, user, values, Some(problem), true).await,
    }
}

async fn find(state: &WebState, id: &str) -> Result<ScheduleRecord, WebError> {
    let store = state.reporting.clone();
    let lookup = id.to_string();
    blocking(move || store.schedule(&lookup))
        .await?
        .ok_or_else(|| WebError::NotFound(format!("There is no report schedule {id}.")))
}

async fn one_page(
    state: &WebState,
    user: SignedIn,
    record: ScheduleRecord,
    form: Option<FormValues>,
    problem: Option<String>,
    message: Option<String>,
) -> Result<Response, WebError> {
    let runs = history(state, &record, 50).await?;
    let (reports, channels) = choices(state);
    let page = OnePage {
        user,
        action: format!("/reports/schedules/{}", record.id),
        form: form.unwrap_or_else(|| FormValues::of(&record)),
        schedule: shown(record),
        reports,
        channels,
        orgs: state.orgs().await,
        runs,
        message,
        problem,
    };
    let status = if page.problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, html(&page)?).into_response())
}

/// `GET /reports/schedules/{id}`.
pub(crate) async fn one(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let record = find(&state, &id).await?;
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let message = crate::rest::value_of(&pairs, "done")
        .map(|v| match v {
            "saved" => "Saved.",
            "ran" => "Ran now: the report is on its way. Each delivery's status is below; reload to follow it.",
            _ => "Done.",
        })
        .map(str::to_string);
    one_page(&state, user, record, None, None, message).await
}

/// `POST /reports/schedules/{id}`: changes a schedule.
pub(crate) async fn save(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = form(&body);
    let existing = find(&state, &id).await?;
    let values = FormValues::read(&form);
    match build(&state, values.input(), Some(existing.clone()), &user) {
        Ok(record) => {
            let store = state.reporting.clone();
            blocking(move || store.put_schedule(&record)).await?;
            Ok(Redirect::to(&format!("/reports/schedules/{id}?done=saved")).into_response())
        }
        Err(problem) => one_page(&state, user, existing, Some(values), Some(problem), None).await,
    }
}

/// `POST /reports/schedules/{id}/run`: runs it now.
pub(crate) async fn run(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let record = find(&state, &id).await?;
    let run = run_now(&state, record.clone(), &user).await?;
    if run.status == "failed" {
        return one_page(
            &state,
            user,
            record,
            None,
            Some(format!("The run failed: {}", run.detail)),
            None,
        )
        .await;
    }
    Ok(Redirect::to(&format!("/reports/schedules/{id}?done=ran")).into_response())
}

/// `POST /reports/schedules/{id}/delete`.
pub(crate) async fn remove(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let store = state.reporting.clone();
    blocking(move || store.delete_schedule(&id)).await?;
    Ok(Redirect::to("/reports/schedules").into_response())
}
