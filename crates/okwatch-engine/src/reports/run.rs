//! Running a report: its figures, chart and tables asked of the store as aggregates over the
//! period (and the previous period of the same length), each number paired with its search.

use super::{
    search_of, Chart, ChartSpec, Figure, FigureSpec, Linked, Measure, Report, ReportSpec, Row,
    Series, Table, TableSpec, MAX_SERIES,
};
use crate::search_text::literal;
use crate::EngineError;
use chrono::{Months, TimeDelta};
use okwatch_model::Timestamp;
use okwatch_query::{parse_and_validate, Dialect, Expr};
use okwatch_store::{AggregateRow, Aggregation, Bucket, EventQuery, Key, Store};
use std::collections::{BTreeMap, BTreeSet};

/// Groups looked at when a table or chart needs more than it shows (the previous period's
/// rows, a table's exceptions, series totals).
const WIDE: usize = 1_000_000;

/// The period a report covers, `[since, until)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Start, inclusive.
    pub since: Timestamp,
    /// End, exclusive.
    pub until: Timestamp,
    /// Whether to compare with the previous period of the same length (not for "all
    /// history", which has none).
    pub compare: bool,
}

impl Period {
    /// A period; `since` must come before `until`.
    pub fn new(since: Timestamp, until: Timestamp, compare: bool) -> Result<Period, EngineError> {
        if since >= until {
            return Err(EngineError::BadRequest(format!(
                "the period must start before it ends ({} is not before {})",
                okwatch_model::format_timestamp(since),
                okwatch_model::format_timestamp(until)
            )));
        }
        Ok(Period {
            since,
            until,
            compare,
        })
    }

    /// A period as people write it: `since` a preset (`-30d`), a time or `all` (from the
    /// oldest stored event, `oldest`, with nothing to compare with); `until` a time, or empty
    /// for `now`. The default is the last 30 days.
    pub fn parse(
        since: &str,
        until: &str,
        now: Timestamp,
        oldest: Option<Timestamp>,
        compare: bool,
    ) -> Result<Period, EngineError> {
        let bound = |text: &str, what: &str| {
            okwatch_model::parse_time_bound(text, now).map_err(|_| {
                EngineError::BadRequest(format!(
                    "{what} `{text}` is not a time: use -30d, 2026-11-01 or 2026-11-01T08:00:00Z"
                ))
            })
        };
        let until = match until.trim() {
            "" | "now" => now,
            text => bound(text, "until")?,
        };
        match since.trim() {
            "all" => {
                let since = oldest
                    .unwrap_or(until - TimeDelta::days(1))
                    .min(until - TimeDelta::hours(1));
                Period::new(since, until, false)
            }
            "" => Period::new(until - TimeDelta::days(30), until, compare),
            text => Period::new(bound(text, "since")?, until, compare),
        }
    }

    /// The previous period of the same length, when compared.
    pub fn previous(&self) -> Option<Period> {
        self.compare.then(|| Period {
            since: self.since - (self.until - self.since),
            until: self.since,
            compare: false,
        })
    }

    /// The chart's bucket: hours up to two days, days up to 120, weeks up to three years.
    pub fn bucket(&self) -> Bucket {
        let span = self.until - self.since;
        if span <= TimeDelta::days(2) {
            Bucket::Hour
        } else if span <= TimeDelta::days(120) {
            Bucket::Day
        } else if span <= TimeDelta::days(3 * 366) {
            Bucket::Week
        } else {
            Bucket::Month
        }
    }

    /// The start of every bucket that overlaps the period, oldest first.
    pub fn buckets(&self, bucket: Bucket) -> Vec<Timestamp> {
        let mut out = Vec::new();
        let mut t = bucket.start_of(self.since);
        while t < self.until {
            out.push(t);
            t = match bucket {
                Bucket::Hour => t + TimeDelta::hours(1),
                Bucket::Day => t + TimeDelta::days(1),
                Bucket::Week => t + TimeDelta::days(7),
                Bucket::Month => t.checked_add_months(Months::new(1)).unwrap_or(self.until),
            };
        }
        out
    }
}

/// One report over `period`, in `org` (all orgs when `None`).
pub fn run_report(
    store: &dyn Store,
    spec: &ReportSpec,
    period: &Period,
    org: Option<&str>,
) -> Result<Report, EngineError> {
    let runner = Runner { store, org };
    // A comparison with a period the history barely reaches would say "+900,000%": compare
    // only when the stored history starts within the previous period's first tenth.
    let previous = match period.previous() {
        Some(p) => {
            let early = EventQuery {
                org: org.map(str::to_string),
                until: Some(p.since + (p.until - p.since) / 10),
                ..EventQuery::default()
            };
            (store.count(&early)? > 0).then_some(p)
        }
        None => None,
    };
    // Each figure, the chart and each table are independent queries: asked at once, on
    // connections of their own, a report costs about its slowest section, not their sum.
    let (figures, chart, tables) = std::thread::scope(|scope| {
        let runner = &runner;
        let previous = previous.as_ref();
        let figures: Vec<_> = spec
            .figures
            .iter()
            .map(|f| scope.spawn(move || runner.figure(f, period, previous)))
            .collect();
        let chart = scope.spawn(move || runner.chart(&spec.chart, period));
        let tables: Vec<_> = spec
            .tables
            .iter()
            .map(|t| scope.spawn(move || runner.table(t, period, previous)))
            .collect();
        let figures: Result<Vec<Figure>, EngineError> = figures.into_iter().map(joined).collect();
        let tables: Result<Vec<Table>, EngineError> = tables.into_iter().map(joined).collect();
        (figures, joined(chart), tables)
    });
    let (figures, chart, tables) = (figures?, chart?, tables?);
    Ok(Report {
        id: spec.id.to_string(),
        title: spec.title.to_string(),
        description: spec.description.to_string(),
        org: org.map(str::to_string),
        since: period.since,
        until: period.until,
        previous: previous.map(|p| (p.since, p.until)),
        figures,
        chart,
        tables,
        alerts: None,
    })
}

/// A section's answer; a panic in it goes on in the caller.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The condition a row's key value adds to its search.
pub(crate) fn key_condition(key: &Key, value: Option<&str>) -> String {
    match (key, value) {
        (Key::Field(path), Some(v)) => format!("{path} eq {}", literal(v)),
        (Key::Field(path), None) => format!("not ({path} pr)"),
        (Key::Target { field, .. }, Some(v)) => format!("target.{field} eq {}", literal(v)),
        (Key::Target { kind, .. }, None) => format!("not (target.type eq {})", literal(kind)),
    }
}

/// `filter` narrowed by key conditions.
pub(crate) fn narrowed(filter: &str, conditions: &[String]) -> String {
    let mut parts = vec![format!("({filter})")];
    parts.extend(conditions.iter().cloned());
    if conditions.is_empty() {
        filter.to_string()
    } else {
        parts.join(" and ")
    }
}

struct Runner<'a> {
    store: &'a dyn Store,
    org: Option<&'a str>,
}

impl Runner<'_> {
    fn query(&self, filter: &str, period: &Period) -> Result<EventQuery, EngineError> {
        let expr: Expr = parse_and_validate(filter, Dialect::Okwatch)
            .map_err(|e| EngineError::BadRequest(format!("filter `{filter}`: {}", e.message)))?;
        Ok(EventQuery {
            org: self.org.map(str::to_string),
            filter: Some(expr),
            since: Some(period.since),
            until: Some(period.until),
            ..EventQuery::default()
        })
    }

    fn linked(&self, value: u64, filter: &str, period: &Period) -> Linked {
        Linked {
            value,
            search: search_of(filter, period.since, period.until, self.org).to_query(),
        }
    }

    fn aggregate(
        &self,
        filter: &str,
        period: &Period,
        keys: Vec<Key>,
        bucket: Option<Bucket>,
        measure: &Measure,
        top: usize,
    ) -> Result<Vec<AggregateRow>, EngineError> {
        let aggregation = Aggregation {
            keys,
            bucket,
            distinct: match measure {
                Measure::Events => None,
                Measure::Distinct(key) => Some(key.clone()),
            },
            top,
        };
        Ok(self
            .store
            .aggregate(&self.query(filter, period)?, &aggregation)?)
    }

    fn total(&self, filter: &str, measure: &Measure, period: &Period) -> Result<u64, EngineError> {
        Ok(match measure {
            Measure::Events => self.store.count(&self.query(filter, period)?)?,
            Measure::Distinct(_) => self
                .aggregate(filter, period, Vec::new(), None, measure, 1)?
                .first()
                .map_or(0, |r| r.count),
        })
    }

    fn figure(
        &self,
        spec: &FigureSpec,
        period: &Period,
        previous: Option<&Period>,
    ) -> Result<Figure, EngineError> {
        let current = self.total(spec.filter, &spec.measure, period)?;
        let before = previous
            .map(|p| -> Result<Linked, EngineError> {
                let n = self.total(spec.filter, &spec.measure, p)?;
                Ok(self.linked(n, spec.filter, p))
            })
            .transpose()?;
        let change_percent = before
            .as_ref()
            .filter(|b| b.value > 0)
            .map(|b| (current as f64 - b.value as f64) * 100.0 / b.value as f64);
        Ok(Figure {
            label: spec.label.to_string(),
            unit: spec.measure.unit(),
            current: self.linked(current, spec.filter, period),
            previous: before,
            change_percent,
        })
    }

    fn chart(&self, spec: &ChartSpec, period: &Period) -> Result<Chart, EngineError> {
        let bucket = period.bucket();
        let buckets = period.buckets(bucket);
        let index: BTreeMap<Timestamp, usize> =
            buckets.iter().enumerate().map(|(i, t)| (*t, i)).collect();
        let keys: Vec<Key> = spec.split.iter().cloned().collect();
        // The series are the values with the most over the whole period.
        let totals = self.aggregate(
            spec.filter,
            period,
            keys.clone(),
            None,
            &spec.measure,
            MAX_SERIES,
        )?;
        let points =
            self.aggregate(spec.filter, period, keys, Some(bucket), &spec.measure, WIDE)?;
        let mut series: Vec<Series> = totals
            .iter()
            .map(|total| {
                let name = match (&spec.split, total.keys.first()) {
                    (Some(_), Some(Some(value))) => value.clone(),
                    (Some(_), _) => "(none)".to_string(),
                    (None, _) => spec.name.to_string(),
                };
                let filter = match &spec.split {
                    Some(key) => {
                        narrowed(spec.filter, &[key_condition(key, total.keys[0].as_deref())])
                    }
                    None => spec.filter.to_string(),
                };
                let mut values = vec![0; buckets.len()];
                for point in points.iter().filter(|p| p.keys == total.keys) {
                    if let Some(i) = point.time.and_then(|t| index.get(&t)) {
                        values[*i] = point.count;
                    }
                }
                Series {
                    name,
                    values,
                    total: self.linked(total.count, &filter, period),
                }
            })
            .collect();
        series.retain(|s| s.total.value > 0 || spec.split.is_none());
        Ok(Chart {
            kind: spec.kind,
            bucket: bucket.name(),
            unit: spec.measure.unit(),
            buckets,
            series,
        })
    }

    fn table(
        &self,
        spec: &TableSpec,
        period: &Period,
        previous: Option<&Period>,
    ) -> Result<Table, EngineError> {
        let keys: Vec<Key> = spec.columns.iter().map(|c| c.key.clone()).collect();
        let mut rows = match spec.except {
            None => self.aggregate(
                spec.filter,
                period,
                keys.clone(),
                None,
                &spec.measure,
                spec.top,
            )?,
            Some(except) => {
                let excluded: BTreeSet<Vec<Option<String>>> = self
                    .aggregate(except, period, keys.clone(), None, &Measure::Events, WIDE)?
                    .into_iter()
                    .map(|r| r.keys)
                    .collect();
                let mut all =
                    self.aggregate(spec.filter, period, keys.clone(), None, &spec.measure, WIDE)?;
                all.retain(|r| !excluded.contains(&r.keys));
                all.truncate(spec.top);
                all
            }
        };
        let before: Option<BTreeMap<Vec<Option<String>>, u64>> = previous
            .map(|p| -> Result<_, EngineError> {
                Ok(self
                    .aggregate(spec.filter, p, keys.clone(), None, &spec.measure, WIDE)?
                    .into_iter()
                    .map(|r| (r.keys, r.count))
                    .collect())
            })
            .transpose()?;
        let rows = rows
            .drain(..)
            .map(|row| {
                let conditions: Vec<String> = keys
                    .iter()
                    .zip(&row.keys)
                    .map(|(key, value)| key_condition(key, value.as_deref()))
                    .collect();
                let filter = narrowed(spec.filter, &conditions);
                Row {
                    previous: before
                        .as_ref()
                        .map(|b| b.get(&row.keys).copied().unwrap_or(0)),
                    current: self.linked(row.count, &filter, period),
                    keys: spec
                        .columns
                        .iter()
                        .zip(row.keys)
                        .filter(|(c, _)| c.label.is_some())
                        .map(|(_, v)| v)
                        .collect(),
                }
            })
            .collect();
        Ok(Table {
            title: spec.title.to_string(),
            columns: spec
                .columns
                .iter()
                .filter_map(|c| c.label.map(str::to_string))
                .collect(),
            measure: spec.measure_label.to_string(),
            unit: spec.measure.unit(),
            rows,
        })
    }
}
