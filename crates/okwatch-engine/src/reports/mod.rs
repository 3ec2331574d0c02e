//! Reports: the questions Okta admins ask of their System Log every week (who signed in, what
//! failed, who changed what), answered over any period of okwatch's history. Each report is a
//! declaration ([`catalog`]): filters in Okta's language and the keys to break them down by.
//! Running one ([`run`]) asks the store for aggregates and gives every number the search that
//! produced it, so a surface can link each figure to its events and a test can hold each figure
//! to the count of that search.

pub mod alerts;
pub mod cadence;
pub mod catalog;
pub mod email;
pub mod render;
mod run;

pub use run::{run_report, Period};

use crate::search_text::SearchText;
use okwatch_model::Timestamp;
use okwatch_store::Key;
use serde::Serialize;

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    /// Lines over time (activity that goes on).
    Line,
    /// Bars per time bucket (discrete changes).
    Bar,
}

/// What a number counts: events, or the distinct values of a key among them.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// Matching events.
    Events,
    /// Distinct values of the key (people, IPs, apps) among the matching events.
    Distinct(Key),
}

/// A headline figure: one number over the period, compared with the previous period.
#[derive(Debug, Clone)]
pub struct FigureSpec {
    /// What it is called.
    pub label: &'static str,
    /// The events it counts.
    pub filter: &'static str,
    /// What it counts of them.
    pub measure: Measure,
}

/// A table column taken from a key.
#[derive(Debug, Clone)]
pub struct ColumnSpec {
    /// Its heading; `None` for a key that only narrows the row's search (an app's id beside
    /// its name).
    pub label: Option<&'static str>,
    /// Where its values come from.
    pub key: Key,
}

/// A breakdown: the period's events grouped by some keys, the largest groups first.
#[derive(Debug, Clone)]
pub struct TableSpec {
    /// Its heading.
    pub title: &'static str,
    /// The events it breaks down.
    pub filter: &'static str,
    /// The group columns.
    pub columns: Vec<ColumnSpec>,
    /// The heading of the number column.
    pub measure_label: &'static str,
    /// What the number counts.
    pub measure: Measure,
    /// Keep only groups whose keys do not also occur among these events ("active users who
    /// never used MFA").
    pub except: Option<&'static str>,
    /// At most this many rows.
    pub top: usize,
}

/// The chart of a report: a filter counted per time bucket, one series per value of a key.
#[derive(Debug, Clone)]
pub struct ChartSpec {
    /// The events it draws.
    pub filter: &'static str,
    /// One series per value of this key (at most [`MAX_SERIES`], the largest); one series
    /// when `None`.
    pub split: Option<Key>,
    /// The series' name when there is no split.
    pub name: &'static str,
    /// What each point counts.
    pub measure: Measure,
    /// Line or bar.
    pub kind: ChartKind,
}

/// A report's declaration.
#[derive(Debug, Clone)]
pub struct ReportSpec {
    /// Its name in URLs, the CLI and MCP (`failed_sign_ins`).
    pub id: &'static str,
    /// Its title.
    pub title: &'static str,
    /// What it answers, in a sentence.
    pub description: &'static str,
    /// The chart.
    pub chart: ChartSpec,
    /// The headline figures.
    pub figures: Vec<FigureSpec>,
    /// The breakdowns.
    pub tables: Vec<TableSpec>,
}

/// The most series a chart draws; the rest of a split's values are in the tables.
pub const MAX_SERIES: usize = 6;

/// A number with the search that produced it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Linked {
    /// The number.
    pub value: u64,
    /// The explorer's search holding its events (a URL query string: `since`, `until`,
    /// `filter`, `org`).
    pub search: String,
}

/// A headline figure, run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    /// What it is called.
    pub label: String,
    /// `events` or `distinct`.
    pub unit: &'static str,
    /// This period.
    pub current: Linked,
    /// The previous period of the same length, when the report has one.
    pub previous: Option<Linked>,
    /// Change from the previous period in percent (`None` without one, or from 0).
    pub change_percent: Option<f64>,
}

/// One series of a chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// Its name (a value of the split key).
    pub name: String,
    /// One count per bucket of [`Chart::buckets`].
    pub values: Vec<u64>,
    /// The series' total over the period, and its search.
    pub total: Linked,
}

/// A chart, run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// Line or bar.
    pub kind: ChartKind,
    /// `hour`, `day`, `week` or `month`.
    pub bucket: &'static str,
    /// What a point counts (`events`, or `distinct` for distinct values per bucket).
    pub unit: &'static str,
    /// The start of every bucket of the period, oldest first (empty ones included).
    pub buckets: Vec<Timestamp>,
    /// The series, largest first.
    pub series: Vec<Series>,
}

/// A row of a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// One value per shown column (`None` where the events have none).
    pub keys: Vec<Option<String>>,
    /// This period.
    pub current: Linked,
    /// The previous period (0 when the group did not occur then).
    pub previous: Option<u64>,
}

/// A table, run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Its heading.
    pub title: String,
    /// The shown columns' headings.
    pub columns: Vec<String>,
    /// The number column's heading.
    pub measure: String,
    /// `events` or `distinct`.
    pub unit: &'static str,
    /// The rows, largest first.
    pub rows: Vec<Row>,
}

/// A report, run over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Its name.
    pub id: String,
    /// Its title.
    pub title: String,
    /// What it answers.
    pub description: String,
    /// The org it covers (all when `None`).
    pub org: Option<String>,
    /// The period's start (inclusive).
    pub since: Timestamp,
    /// The period's end (exclusive).
    pub until: Timestamp,
    /// The period compared with: the previous one of the same length, when asked for and the
    /// stored history reaches back over it.
    pub previous: Option<(Timestamp, Timestamp)>,
    /// The headline figures.
    pub figures: Vec<Figure>,
    /// The chart.
    pub chart: Chart,
    /// The breakdowns.
    pub tables: Vec<Table>,
    /// okwatch's own alerts in the period (the suspicious activity report), once attached
    /// with [`alerts::attach`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<alerts::AlertsRaised>,
}

/// The search behind a number: `filter` over `[since, until)` in `org`.
pub(crate) fn search_of(
    filter: &str,
    since: Timestamp,
    until: Timestamp,
    org: Option<&str>,
) -> SearchText {
    SearchText {
        since: crate::search_text::url_time(since),
        until: crate::search_text::url_time(until),
        filter: filter.to_string(),
        org: org.unwrap_or_default().to_string(),
        ..SearchText::default()
    }
}

impl Measure {
    fn unit(&self) -> &'static str {
        match self {
            Measure::Events => "events",
            Measure::Distinct(_) => "distinct",
        }
    }
}
