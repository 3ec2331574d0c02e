//! Reports in the console: the list (`/reports`), one report over a period
//! (`/reports/{id}?since=-30d&until=&org=`: figures with their trend, the chart, the
//! breakdowns, every number a link to its events in the explorer) and its CSV
//! (`/reports/{id}/export.csv`). The JSON API is [`crate::rest_reports`].

use crate::auth::SignedIn;
use crate::report_chart::{self, View};
use crate::{html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use okwatch_engine::reports::{catalog, render, run_report, Period, Report};
use okwatch_engine::search_text::encode;
use okwatch_engine::EngineError;
use std::sync::Arc;

/// The periods offered, as `since` values.
pub(crate) const PERIODS: &[(&str, &str)] = &[
    ("Last 24 hours", "-24h"),
    ("Last 7 days", "-7d"),
    ("Last 30 days", "-30d"),
    ("Last 90 days", "-90d"),
    ("Last 12 months", "-365d"),
    ("All history", "all"),
];

/// What a report is asked for: the period and org, as the URL holds them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Asked {
    pub(crate) since: String,
    pub(crate) until: String,
    pub(crate) org: String,
}

impl Asked {
    pub(crate) fn read(query: Option<&str>) -> Asked {
        let pairs = okwatch_okta::server::query_pairs(query);
        let get = |name: &str| {
            crate::rest::value_of(&pairs, name)
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let since = get("since");
        Asked {
            since: if since.is_empty() {
                "-30d".into()
            } else {
                since
            },
            until: get("until"),
            org: get("org"),
        }
    }

    fn query(&self) -> String {
        let mut out = format!("since={}", encode(&self.since));
        if !self.until.is_empty() {
            out.push_str(&format!("&until={}", encode(&self.until)));
        }
        if !self.org.is_empty() {
            out.push_str(&format!("&org={}", encode(&self.org)));
        }
        out
    }
}

/// Runs report `id` as asked, off the async threads.
pub(crate) async fn run(state: &WebState, id: &str, asked: &Asked) -> Result<Report, WebError> {
    let spec = catalog::find(id).ok_or_else(|| WebError::NotFound(format!("no report `{id}`")))?;
    let store: Arc<dyn okwatch_store::Store> = state.store.clone();
    let alerts = state.alerts.clone();
    let asked = asked.clone();
    tokio::task::spawn_blocking(move || -> Result<Report, EngineError> {
        let oldest = if asked.since == "all" {
            store.stats()?.oldest
        } else {
            None
        };
        let period = Period::parse(&asked.since, &asked.until, chrono::Utc::now(), oldest, true)?;
        let org = (!asked.org.is_empty()).then_some(asked.org.as_str());
        let mut report = run_report(store.as_ref(), &spec, &period, org)?;
        okwatch_engine::reports::alerts::attach(&mut report, alerts.as_ref())?;
        Ok(report)
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?
    .map_err(WebError::from)
}

struct Listed {
    id: &'static str,
    title: &'static str,
    description: &'static str,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ListPage {
    user: SignedIn,
    reports: Vec<Listed>,
}

/// `GET /reports`.
pub(crate) async fn list(Extension(user): Extension<SignedIn>) -> Result<Response, WebError> {
    let reports = catalog::all()
        .into_iter()
        .map(|s| Listed {
            id: s.id,
            title: s.title,
            description: s.description,
        })
        .collect();
    html(&ListPage { user, reports })
}

/// A number on the page, with its link and trend.
struct Number {
    value: u64,
    href: String,
    previous: Option<u64>,
    change: String,
    /// `up`, `down` or `same`, for the trend's colour.
    direction: &'static str,
}

impl Number {
    fn new(value: u64, search: &str, previous: Option<u64>) -> Number {
        Number::linked(value, explorer(search), previous)
    }

    /// A number whose link is not an explorer search (alerts).
    fn linked(value: u64, href: String, previous: Option<u64>) -> Number {
        let (change, direction) = match previous {
            Some(p) => {
                let text = render::change_text(value, p);
                let direction = match value.cmp(&p) {
                    _ if text == "=" => "same",
                    std::cmp::Ordering::Greater => "up",
                    std::cmp::Ordering::Less => "down",
                    std::cmp::Ordering::Equal => "same",
                };
                (text, direction)
            }
            None => (String::new(), "same"),
        };
        Number {
            value,
            href,
            previous,
            change,
            direction,
        }
    }
}

fn explorer(search: &str) -> String {
    format!("/?{search}")
}

struct FigureView {
    label: String,
    number: Number,
}

struct RowView {
    keys: Vec<String>,
    number: Number,
}

struct TableView {
    title: String,
    columns: Vec<String>,
    measure: String,
    rows: Vec<RowView>,
}

struct Choice {
    label: &'static str,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    user: SignedIn,
    id: String,
    title: String,
    description: String,
    period: String,
    compared: String,
    choices: Vec<Choice>,
    since: String,
    until: String,
    org: String,
    figures: Vec<FigureView>,
    chart: View,
    tables: Vec<TableView>,
    csv: String,
    map: Option<String>,
}

/// `GET /reports/{id}`.
pub(crate) async fn one(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let asked = Asked::read(query.as_deref());
    let report = run(&state, &id, &asked).await?;
    let figures = report
        .figures
        .iter()
        .map(|f| FigureView {
            label: f.label.clone(),
            number: Number::new(
                f.current.value,
                &f.current.search,
                f.previous.as_ref().map(|p| p.value),
            ),
        })
        .collect();
    let mut tables: Vec<TableView> = report
        .tables
        .iter()
        .map(|t| TableView {
            title: t.title.clone(),
            columns: t.columns.clone(),
            measure: t.measure.clone(),
            rows: t
                .rows
                .iter()
                .map(|r| RowView {
                    keys: r
                        .keys
                        .iter()
                        .map(|k| k.clone().unwrap_or_else(|| "(none)".into()))
                        .collect(),
                    number: Number::new(r.current.value, &r.current.search, r.previous),
                })
                .collect(),
        })
        .collect();
    let choices = PERIODS
        .iter()
        .map(|(label, since)| Choice {
            label,
            href: format!(
                "/reports/{id}?{}",
                Asked {
                    since: since.to_string(),
                    until: String::new(),
                    ..asked.clone()
                }
                .query()
            ),
            current: asked.since == *since && asked.until.is_empty(),
        })
        .collect();
    let compared = match report.previous {
        Some((since, until)) => format!(
            "Compared with {}",
            render::period_text(&Report {
                since,
                until,
                ..report.clone()
            })
        ),
        None if asked.since == "all" => "All history: nothing before it to compare with".into(),
        None => {
            "The stored history does not reach back over the period before: nothing to compare with"
                .into()
        }
    };
    // okwatch's own alerts, each count opening the alerts list over the period.
    if let Some(alerts) = &report.alerts {
        tables.push(TableView {
            title: format!("Alerts raised by okwatch ({})", alerts.total),
            columns: vec!["Detection".into()],
            measure: "Alerts".into(),
            rows: alerts
                .rows
                .iter()
                .map(|r| RowView {
                    keys: vec![r.name.clone()],
                    number: Number::linked(r.count, r.href.clone(), r.previous),
                })
                .collect(),
        });
    }
    // Where app sign-ins came from, on the explorer's map.
    let map =
        (report.id == "app_access").then(|| format!("/map?{}", report.figures[0].current.search));
    html(&ReportPage {
        user,
        id: report.id.clone(),
        title: report.title.clone(),
        description: report.description.clone(),
        period: render::period_text(&report),
        compared,
        choices,
        since: asked.since.clone(),
        until: asked.until.clone(),
        org: asked.org.clone(),
        figures,
        chart: report_chart::view(&report.chart, explorer),
        tables,
        csv: format!("/reports/{}/export.csv?{}", report.id, asked.query()),
        map,
    })
}

/// `GET /reports/{id}/export.csv`.
pub(crate) async fn csv(
    State(state): State<WebState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let asked = Asked::read(query.as_deref());
    let report = run(&state, &id, &asked).await?;
    let name = format!(
        "okwatch-{}-{}.csv",
        report.id,
        report.until.format("%Y-%m-%d")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        render::csv(&report),
    )
        .into_response())
}
