//! Aggregates: events counted (or their distinct values counted) per group and per time
//! bucket, in one pass. Reports are built from these. The reference semantics is
//! [`aggregate_by_scan`], which every backend's own implementation must equal (a property test
//! in the DuckDB crate holds it to that); the trait's default uses it, so a new backend works
//! before it has its own SQL.

use crate::{Bucket, EventQuery, Store, StoreError};
use okwatch_model::Timestamp;
use okwatch_query::{resolve, AttrPath};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Where a group key (or a counted distinct value) is read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Key {
    /// An attribute path (`outcome.result`, `actor.alternateId`), read as
    /// [`Store::count_by_fields`] reads it: its first value, as text.
    Field(String),
    /// An attribute of the first target of a type: `{kind: "AppInstance", field:
    /// "displayName"}` is the app of an SSO event. Okta's `target` is a list of entities of
    /// mixed types, and the filter language cannot say "the target that is an app", so this is
    /// the one way to group by one kind of target.
    Target {
        /// The target's `type`.
        kind: String,
        /// Its attribute: `id`, `alternateId` or `displayName`.
        field: String,
    },
}

impl Key {
    /// A key on an attribute path.
    pub fn field(path: &str) -> Key {
        Key::Field(path.to_string())
    }

    /// A key on an attribute of the first target of type `kind`.
    pub fn target(kind: &str, field: &str) -> Key {
        Key::Target {
            kind: kind.to_string(),
            field: field.to_string(),
        }
    }

    /// This key's value in `event`; `None` where the event has none.
    pub fn value_in(&self, event: &Value) -> Option<String> {
        let found = match self {
            Key::Field(path) => {
                let mut found = Vec::new();
                resolve(event, &AttrPath::from_dotted(path).segments, &mut found);
                found.first().copied()?
            }
            Key::Target { kind, field } => event
                .get("target")?
                .as_array()?
                .iter()
                .find(|t| t.get("type").and_then(Value::as_str) == Some(kind))?
                .get(field)?,
        };
        match found {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }
}

/// What to aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregation {
    /// The group keys; none for one group of everything.
    pub keys: Vec<Key>,
    /// Also group by the time bucket of `published` (UTC).
    pub bucket: Option<Bucket>,
    /// Count the distinct non-null values of this key in each group instead of its events
    /// (a group whose events all lack it counts 0).
    pub distinct: Option<Key>,
    /// At most this many key combinations: those whose counts (summed over buckets) are
    /// largest, ties by key.
    pub top: usize,
}

/// One group of an [`Aggregation`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateRow {
    /// The start of its time bucket, when the aggregation has one.
    pub time: Option<Timestamp>,
    /// One value per key, in order (`None` where the events have none).
    pub keys: Vec<Option<String>>,
    /// Events, or distinct values of `distinct`.
    pub count: u64,
}

/// Sorts rows as every backend returns them: by time, then count (largest first), then keys.
pub fn sort_rows(rows: &mut [AggregateRow]) {
    rows.sort_by(|a, b| {
        a.time
            .cmp(&b.time)
            .then_with(|| b.count.cmp(&a.count))
            .then_with(|| a.keys.cmp(&b.keys))
    });
}

/// Keeps the `top` key combinations with the largest summed counts (ties by key), and sorts.
pub fn keep_top(rows: Vec<AggregateRow>, top: usize) -> Vec<AggregateRow> {
    let mut totals: BTreeMap<&Vec<Option<String>>, u64> = BTreeMap::new();
    for row in &rows {
        *totals.entry(&row.keys).or_default() += row.count;
    }
    let mut ranked: Vec<(&Vec<Option<String>>, u64)> = totals.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let kept: BTreeSet<Vec<Option<String>>> = ranked
        .into_iter()
        .take(top)
        .map(|(k, _)| k.clone())
        .collect();
    let mut rows: Vec<AggregateRow> = rows
        .into_iter()
        .filter(|r| kept.contains(&r.keys))
        .collect();
    sort_rows(&mut rows);
    rows
}

/// The reference answer: every matching event read once and aggregated in memory.
pub fn aggregate_by_scan(
    store: &(impl Store + ?Sized),
    query: &EventQuery,
    aggregation: &Aggregation,
) -> Result<Vec<AggregateRow>, StoreError> {
    type Group = (Option<Timestamp>, Vec<Option<String>>);
    let mut events: BTreeMap<Group, u64> = BTreeMap::new();
    let mut values: BTreeMap<Group, BTreeSet<String>> = BTreeMap::new();
    let query = EventQuery {
        after: None,
        fields: None,
        ..query.clone()
    };
    store.scan(&query, &mut |stored| {
        let event = &stored.event;
        let time = match aggregation.bucket {
            Some(bucket) => okwatch_model::published_of(event).map(|t| bucket.start_of(t)),
            None => None,
        };
        let keys = aggregation.keys.iter().map(|k| k.value_in(event)).collect();
        let group = (time, keys);
        match &aggregation.distinct {
            Some(distinct) => {
                let seen = values.entry(group).or_default();
                if let Some(value) = distinct.value_in(event) {
                    seen.insert(value);
                }
            }
            None => *events.entry(group).or_default() += 1,
        }
        true
    })?;
    let rows: Vec<AggregateRow> = match aggregation.distinct {
        Some(_) => values
            .into_iter()
            .map(|((time, keys), seen)| AggregateRow {
                time,
                keys,
                count: seen.len() as u64,
            })
            .collect(),
        None => events
            .into_iter()
            .map(|((time, keys), count)| AggregateRow { time, keys, count })
            .collect(),
    };
    Ok(keep_top(rows, aggregation.top))
}
