//! How one event becomes one row, and back.
//!
//! A LogEvent is about 1.5 KB of JSON, mostly the same strings again and again (event types,
//! user agents, cities, app names). Stored as one JSON blob per event it compresses poorly and
//! every query has to parse it. So each event is split into typed columns, one per
//! commonly-queried leaf (`client.ipAddress` → `client_ip`), plus a few JSON columns for
//! subtrees of variable shape (`target`, `request.ipChain`, the rest of `debugData`) and one
//! `extra` column for whatever is left. Columnar storage then compresses each column on its own.
//!
//! **Invariant:** `reconstruct(decompose(e)) == e` as JSON values, for every event. A leaf is
//! moved into its column only when the column can give back exactly that JSON value (a string
//! into a text column; a number that is an integer into an integer column; a timestamp only if
//! it is already in Okta's canonical form). Anything else stays where it was, in the JSON
//! column that encloses it. An object emptied by this is dropped and re-created on the way
//! back; an object that was empty to begin with is kept.

use okwatch_model::{check_required, format_timestamp, EventError, Timestamp};
use okwatch_query::{push_text_tokens, push_tokens, Token};
use serde_json::{Map, Number, Value};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A JSON string.
    Str,
    /// A JSON integer that fits an `i64`.
    Int,
    /// A JSON number written with a fraction or exponent.
    Float,
    /// A JSON boolean.
    Bool,
    /// An ISO 8601 instant; the original text is kept aside unless it is canonical.
    Time,
    /// Any JSON value, stored as its text.
    Json,
}

/// One column of the events table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The SQL column name.
    pub name: &'static str,
    /// The attribute path it holds, dotted.
    pub path: &'static str,
    /// What it holds.
    pub kind: Kind,
}

impl Column {
    /// The path's segments.
    pub fn segments(&self) -> impl Iterator<Item = &'static str> {
        self.path.split('.')
    }
}

const fn col(name: &'static str, path: &'static str, kind: Kind) -> Column {
    Column { name, path, kind }
}

/// The columns, scalar and JSON. Order matters only for reading back: JSON columns are
/// restored before the scalar leaves that may live inside them.
pub const COLUMNS: &[Column] = &[
    col("uuid", "uuid", Kind::Str),
    col("published", "published", Kind::Time),
    col("event_type", "eventType", Kind::Str),
    col("version", "version", Kind::Str),
    col("severity", "severity", Kind::Str),
    col("legacy_event_type", "legacyEventType", Kind::Str),
    col("display_message", "displayMessage", Kind::Str),
    col("actor_id", "actor.id", Kind::Str),
    col("actor_type", "actor.type", Kind::Str),
    col("actor_alternate_id", "actor.alternateId", Kind::Str),
    col("actor_display_name", "actor.displayName", Kind::Str),
    col("actor_detail", "actor.detailEntry", Kind::Json),
    col("client_id", "client.id", Kind::Str),
    col("client_zone", "client.zone", Kind::Str),
    col("client_device", "client.device", Kind::Str),
    col("client_ip", "client.ipAddress", Kind::Str),
    col("ua_raw", "client.userAgent.rawUserAgent", Kind::Str),
    col("ua_os", "client.userAgent.os", Kind::Str),
    col("ua_browser", "client.userAgent.browser", Kind::Str),
    col("geo_city", "client.geographicalContext.city", Kind::Str),
    col("geo_state", "client.geographicalContext.state", Kind::Str),
    col(
        "geo_country",
        "client.geographicalContext.country",
        Kind::Str,
    ),
    col(
        "geo_postal",
        "client.geographicalContext.postalCode",
        Kind::Str,
    ),
    col(
        "geo_lat",
        "client.geographicalContext.geolocation.lat",
        Kind::Float,
    ),
    col(
        "geo_lon",
        "client.geographicalContext.geolocation.lon",
        Kind::Float,
    ),
    col("device", "device", Kind::Json),
    col(
        "auth_provider",
        "authenticationContext.authenticationProvider",
        Kind::Str,
    ),
    col(
        "credential_provider",
        "authenticationContext.credentialProvider",
        Kind::Str,
    ),
    col(
        "credential_type",
        "authenticationContext.credentialType",
        Kind::Str,
    ),
    col("auth_issuer", "authenticationContext.issuer", Kind::Json),
    col(
        "session_id",
        "authenticationContext.externalSessionId",
        Kind::Str,
    ),
    col(
        "root_session_id",
        "authenticationContext.rootSessionId",
        Kind::Str,
    ),
    col(
        "auth_interface",
        "authenticationContext.interface",
        Kind::Str,
    ),
    col(
        "auth_step",
        "authenticationContext.authenticationStep",
        Kind::Int,
    ),
    col("as_number", "securityContext.asNumber", Kind::Int),
    col("as_org", "securityContext.asOrg", Kind::Str),
    col("isp", "securityContext.isp", Kind::Str),
    col("net_domain", "securityContext.domain", Kind::Str),
    col("is_proxy", "securityContext.isProxy", Kind::Bool),
    col("debug_data", "debugContext.debugData", Kind::Json),
    col("request_id", "debugContext.debugData.requestId", Kind::Str),
    col(
        "request_uri",
        "debugContext.debugData.requestUri",
        Kind::Str,
    ),
    col("request_url", "debugContext.debugData.url", Kind::Str),
    col("outcome_result", "outcome.result", Kind::Str),
    col("outcome_reason", "outcome.reason", Kind::Str),
    col("target", "target", Kind::Json),
    col("transaction_type", "transaction.type", Kind::Str),
    col("transaction_id", "transaction.id", Kind::Str),
    col("transaction_detail", "transaction.detail", Kind::Json),
    col("ip_chain", "request.ipChain", Kind::Json),
    // Everything not claimed above, as a JSON object (NULL when nothing is left).
    col("extra", "", Kind::Json),
];

/// Each column's path split at the dots, computed once.
fn column_segments() -> &'static [Vec<&'static str>] {
    static SEGMENTS: std::sync::OnceLock<Vec<Vec<&'static str>>> = std::sync::OnceLock::new();
    SEGMENTS.get_or_init(|| COLUMNS.iter().map(|c| c.segments().collect()).collect())
}

// The keyword index records a token's columns as bits of a 64-bit mask, and an event's tokens
// are sorted with their column's rank (below 2 × the column count) in 8 bits.
const _: () = assert!(COLUMNS.len() <= 64, "column masks are 64 bits");

/// Index of the `extra` column in [`COLUMNS`].
pub const EXTRA: usize = COLUMNS.len() - 1;

/// The column holding exactly `path`, if any.
pub fn column_for(path: &str) -> Option<(usize, &'static Column)> {
    COLUMNS
        .iter()
        .enumerate()
        .find(|(_, c)| c.path == path && !c.path.is_empty())
}

/// One decomposed cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing at this path (absent, or kept elsewhere).
    Null,
    /// Text (also the text of JSON columns).
    Str(String),
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// Microseconds since the Unix epoch.
    Time(i64),
}

/// An event ready to be appended: one cell per [`COLUMNS`] entry.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    /// The Okta org the event belongs to.
    pub org: String,
    /// `published`, for ordering and de-duplication.
    pub published: Timestamp,
    /// The event's uuid.
    pub uuid: String,
    /// The cells, aligned with [`COLUMNS`].
    pub cells: Vec<Cell>,
    /// Whether a typed column's path still reaches a non-null value left in the JSON columns
    /// (a number where a string belongs, an array of strings, `client` as an array). Queries on
    /// typed columns look into the JSON columns only for such rows.
    pub irregular: bool,
    /// When the event became visible to readers of the store; `None` means when it is inserted.
    /// The simulator sets it to model events that Okta committed late.
    pub arrival: Option<Timestamp>,
    /// The event's `q` tokens for the keyword index: each token's hash
    /// ([`okwatch_query::token_hashes`]) with the column it is searched in, the first of
    /// [`COLUMNS`] in [`search_rank`] order that holds it. Sorted by hash.
    pub tokens: Vec<(u32, u8)>,
}

impl EventRow {
    /// Splits an event into its row. Refuses events without `uuid`, `published` or `eventType`.
    pub fn decompose(org: &str, event: Value) -> Result<EventRow, EventError> {
        let (uuid, published) = {
            let (uuid, published) = check_required(&event)?;
            (uuid.to_string(), published)
        };
        let Value::Object(mut rest) = event else {
            unreachable!("check_required accepts objects only")
        };
        let mut cells = vec![Cell::Null; COLUMNS.len()];
        let mut tokens = TokenCollector::default();
        // Scalars first, so that a JSON column receives only what no scalar column took.
        for (i, column) in COLUMNS.iter().enumerate() {
            if column.kind == Kind::Json || column.path.is_empty() {
                continue;
            }
            let segments = &column_segments()[i];
            if column.kind == Kind::Time {
                // The column always gets the instant; the text leaves only if it round-trips.
                cells[i] = Cell::Time(published.timestamp_micros());
                let canonical = format_timestamp(published);
                let taken = take(&mut rest, segments, &|v| {
                    v.as_str() == Some(canonical.as_str())
                });
                if taken.is_some() {
                    tokens.text(i, &canonical);
                }
                continue;
            }
            if let Some(v) = take(&mut rest, segments, &|v| fits(column.kind, v)) {
                cells[i] = scalar_cell(column.kind, v);
                if let Cell::Str(text) = &cells[i] {
                    tokens.text(i, text);
                }
            }
        }
        let irregular = {
            let remaining = Value::Object(std::mem::take(&mut rest));
            let irregular = COLUMNS
                .iter()
                .zip(column_segments())
                .filter(|(c, _)| !matches!(c.kind, Kind::Json | Kind::Time))
                .any(|(_, segments)| reaches_value(&remaining, segments));
            let Value::Object(map) = remaining else {
                unreachable!()
            };
            rest = map;
            irregular
        };
        for (i, column) in COLUMNS.iter().enumerate() {
            if column.kind != Kind::Json || column.path.is_empty() {
                continue;
            }
            if let Some(v) = take(&mut rest, &column_segments()[i], &|_| true) {
                tokens.value(i, &v);
                cells[i] = Cell::Str(v.to_string());
            }
        }
        if !rest.is_empty() {
            let rest = Value::Object(rest);
            tokens.value(EXTRA, &rest);
            cells[EXTRA] = Cell::Str(rest.to_string());
        }
        Ok(EventRow {
            org: org.to_string(),
            published,
            uuid,
            cells,
            irregular,
            arrival: None,
            tokens: tokens.finish(),
        })
    }
}

/// The order in which `q` prefers columns when a token is in several: text columns, then JSON
/// ones (longer, and only a pre-filter in SQL), each in [`COLUMNS`] order. Recording only the
/// first lets a search for an IP address read `client_ip` and skip `request.ipChain`, which
/// repeats it.
pub fn search_rank(column: usize) -> usize {
    match COLUMNS[column].kind {
        Kind::Json => COLUMNS.len() + column,
        _ => column,
    }
}

/// Gathers an event's tokens column by column.
#[derive(Default)]
struct TokenCollector {
    scratch: Vec<Token>,
    /// One sort key per token occurrence: the stored hash (32 bits), 24 more bits of the
    /// token's identity, and the column's [`search_rank`] (8 bits). Sorting plain integers is
    /// several times cheaper than sorting tuples, and an import sorts ~100 per event.
    found: Vec<u64>,
}

impl TokenCollector {
    fn text(&mut self, column: usize, text: &str) {
        push_text_tokens(text, &mut self.scratch);
        self.keep(column);
    }

    fn value(&mut self, column: usize, value: &Value) {
        push_tokens(value, &mut self.scratch);
        self.keep(column);
    }

    fn keep(&mut self, column: usize) {
        let rank = search_rank(column) as u64;
        self.found.extend(
            self.scratch
                .drain(..)
                .map(|t| (u64::from(t.hash) << 32) | ((t.identity >> 40) << 8) | rank),
        );
    }

    /// Each distinct token once, with the column it ranks first in.
    fn finish(mut self) -> Vec<(u32, u8)> {
        self.found.sort_unstable();
        self.found.dedup_by_key(|key| *key >> 8);
        self.found
            .into_iter()
            .map(|key| {
                (
                    (key >> 32) as u32,
                    column_of_rank((key & 0xff) as usize) as u8,
                )
            })
            .collect()
    }
}

/// The column whose [`search_rank`] is `rank`.
fn column_of_rank(rank: usize) -> usize {
    rank % COLUMNS.len()
}

/// Whether `path` reaches a non-null value, with the evaluator's array fan-out.
fn reaches_value(value: &Value, path: &[&str]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return match value {
            Value::Null => false,
            Value::Array(items) => items.iter().any(|v| !v.is_null()),
            _ => true,
        };
    };
    match value {
        Value::Object(map) => map.get(*first).is_some_and(|v| reaches_value(v, rest)),
        Value::Array(items) => items
            .iter()
            .filter_map(|item| item.as_object()?.get(*first))
            .any(|v| reaches_value(v, rest)),
        _ => false,
    }
}

fn fits(kind: Kind, v: &Value) -> bool {
    match kind {
        Kind::Str => v.is_string(),
        Kind::Int => v.as_number().is_some_and(|n| n.is_i64()),
        Kind::Float => v.as_number().is_some_and(Number::is_f64),
        Kind::Bool => v.is_boolean(),
        Kind::Time | Kind::Json => true,
    }
}

fn scalar_cell(kind: Kind, v: Value) -> Cell {
    match (kind, v) {
        (Kind::Str, Value::String(s)) => Cell::Str(s),
        (Kind::Int, Value::Number(n)) => n.as_i64().map_or(Cell::Null, Cell::Int),
        (Kind::Float, Value::Number(n)) => n.as_f64().map_or(Cell::Null, Cell::Float),
        (Kind::Bool, Value::Bool(b)) => Cell::Bool(b),
        _ => unreachable!("`fits` checked the kind"),
    }
}

/// Removes the value at `path` if `accept` likes it, dropping objects that this empties.
fn take(
    obj: &mut Map<String, Value>,
    path: &[&str],
    accept: &dyn Fn(&Value) -> bool,
) -> Option<Value> {
    let (first, rest) = path.split_first()?;
    if rest.is_empty() {
        return if accept(obj.get(*first)?) {
            obj.remove(*first)
        } else {
            None
        };
    }
    let child = obj.get_mut(*first)?.as_object_mut()?;
    let taken = take(child, rest, accept)?;
    if child.is_empty() {
        obj.remove(*first);
    }
    Some(taken)
}

/// Puts `value` at `path`, creating the objects on the way; never overwrites.
fn put(obj: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        obj.entry(first.to_string()).or_insert(value);
        return;
    }
    let child = obj
        .entry(first.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(child) = child {
        put(child, rest, value);
    }
}

/// Rebuilds the event from its cells (aligned with [`COLUMNS`]).
pub fn reconstruct(cells: &[Cell]) -> Value {
    let mut event = match &cells[EXTRA] {
        Cell::Str(text) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        },
        _ => Map::new(),
    };
    // JSON columns first: scalar leaves may belong inside them (debugData.requestUri).
    for (column, cell) in COLUMNS.iter().zip(cells) {
        if column.kind != Kind::Json || column.path.is_empty() {
            continue;
        }
        if let Cell::Str(text) = cell {
            let value = serde_json::from_str(text).unwrap_or(Value::String(text.clone()));
            put(&mut event, &column.segments().collect::<Vec<_>>(), value);
        }
    }
    for ((column, cell), segments) in COLUMNS.iter().zip(cells).zip(column_segments()) {
        let value = match (column.kind, cell) {
            (Kind::Json, _) | (_, Cell::Null) => continue,
            (Kind::Time, Cell::Time(micros)) => match Timestamp::from_timestamp_micros(*micros) {
                Some(t) => Value::String(format_timestamp(t)),
                None => continue,
            },
            (_, Cell::Str(s)) => Value::String(s.clone()),
            (_, Cell::Int(i)) => Value::Number((*i).into()),
            (_, Cell::Float(f)) => match Number::from_f64(*f) {
                Some(n) => Value::Number(n),
                None => continue,
            },
            (_, Cell::Bool(b)) => Value::Bool(*b),
            (_, Cell::Time(_)) => continue,
        };
        put(&mut event, segments, value);
    }
    Value::Object(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(event: Value) {
        let row = EventRow::decompose("org", event.clone()).unwrap();
        assert_eq!(reconstruct(&row.cells), event);
    }

    fn base() -> Value {
        json!({"uuid": "u1", "published": "2024-08-13T15:58:20.353Z", "eventType": "user.session.start"})
    }

    fn with(extra: Value) -> Value {
        let mut e = base();
        e.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        e
    }

    #[test]
    fn leaves_move_into_columns_and_nothing_is_left_over() {
        let e = with(
            json!({"client": {"ipAddress": "1.2.3.4", "geographicalContext": {"geolocation": {"lat": 1.5, "lon": -2.25}}},
                            "outcome": {"result": "SUCCESS"}, "securityContext": {"isProxy": false, "asNumber": 7}}),
        );
        let row = EventRow::decompose("org", e.clone()).unwrap();
        assert_eq!(row.cells[EXTRA], Cell::Null, "every leaf has a column");
        assert!(!row.irregular);
        assert_eq!(
            row.cells[column_for("client.ipAddress").unwrap().0],
            Cell::Str("1.2.3.4".into())
        );
        assert_eq!(reconstruct(&row.cells), e);
    }

    #[test]
    fn each_token_is_indexed_once_in_the_first_column_that_holds_it() {
        let e = with(json!({
            "displayMessage": "Sign-in from 1.2.3.4",
            "client": {"ipAddress": "1.2.3.4"},
            "request": {"ipChain": [{"ip": "1.2.3.4", "version": "V4"}]},
            "custom": ["v4", {"deep": "only-here"}],
            "securityContext": {"asNumber": 7}
        }));
        let row = EventRow::decompose("org", e.clone()).unwrap();
        let hashes: Vec<u32> = row.tokens.iter().map(|t| t.0).collect();
        assert_eq!(
            hashes,
            okwatch_query::token_hashes(&e),
            "the same tokens as the event's"
        );
        let column_of = |word: &str| {
            let hash = okwatch_query::word_tokens(word)[0];
            let (_, column) = row.tokens.iter().find(|t| t.0 == hash).unwrap();
            COLUMNS[usize::from(*column)].name
        };
        assert_eq!(
            column_of("1.2.3.4"),
            "display_message",
            "text columns in order"
        );
        assert_eq!(column_of("in"), "display_message");
        assert_eq!(column_of("user.session.start"), "event_type");
        assert_eq!(column_of("2024"), "published");
        assert_eq!(column_of("v4"), "ip_chain", "JSON columns before `extra`");
        assert_eq!(column_of("here"), "extra");
        assert!(
            !row.tokens
                .iter()
                .any(|t| t.0 == okwatch_query::word_tokens("7")[0]),
            "numbers are not searched"
        );
        for column in 0..COLUMNS.len() {
            assert!(search_rank(column) < 256);
            assert_eq!(column_of_rank(search_rank(column)), column);
        }
    }

    #[test]
    fn null_absent_and_empty_stay_distinct() {
        round_trip(with(json!({"target": null})));
        round_trip(with(json!({"target": []})));
        round_trip(with(json!({"client": {}})));
        round_trip(with(json!({"client": {"ipAddress": null, "zone": "null"}})));
        round_trip(with(json!({"debugContext": {"debugData": {}}})));
        round_trip(with(json!({"debugContext": {}})));
        round_trip(with(json!({"request": {"ipChain": []}})));
    }

    #[test]
    fn values_of_unexpected_types_stay_where_they_were() {
        round_trip(with(
            json!({"version": 0, "client": {"geographicalContext": {"postalCode": 10013,
            "geolocation": {"lat": 37, "lon": -122}}}}),
        ));
        round_trip(with(
            json!({"authenticationContext": {"authenticationStep": 1.5}, "securityContext": {"asNumber": 18446744073709551615u64}}),
        ));
        round_trip(with(
            json!({"debugContext": {"debugData": {"requestUri": 5, "other": "x"}}}),
        ));
        round_trip(with(json!({"client": "not an object", "actor": [1, 2]})));
    }

    #[test]
    fn values_a_typed_column_could_not_take_mark_the_row_irregular() {
        let irregular = |e: Value| EventRow::decompose("org", e).unwrap().irregular;
        assert!(irregular(with(
            json!({"client": {"ipAddress": ["1.2.3.4"]}})
        )));
        assert!(irregular(with(
            json!({"client": [{"ipAddress": "1.2.3.4"}]})
        )));
        assert!(irregular(with(json!({"version": 0}))));
        assert!(!irregular(with(
            json!({"client": {"ipAddress": null}, "version": "0"})
        )));
        assert!(!irregular(with(
            json!({"debugContext": {"debugData": {"other": [1]}}})
        )));
    }

    #[test]
    fn non_canonical_timestamps_keep_their_text() {
        let e = json!({"uuid": "u", "published": "2024-08-13T17:58:20+02:00", "eventType": "x"});
        let row = EventRow::decompose("org", e.clone()).unwrap();
        assert_eq!(format_timestamp(row.published), "2024-08-13T15:58:20.000Z");
        assert_eq!(reconstruct(&row.cells), e);
    }

    #[test]
    fn unknown_members_anywhere_survive() {
        round_trip(with(
            json!({"insertionTimestamp": null, "newTopLevel": {"a": [1, {"b": "c"}]},
            "client": {"ipAddress": "1.1.1.1", "newInClient": true},
            "debugContext": {"debugData": {"requestUri": "/x", "dtHash": "abc"}}}),
        ));
    }

    #[test]
    fn events_missing_required_members_are_refused() {
        let err = EventRow::decompose("org", json!({"uuid": "u", "eventType": "x"})).unwrap_err();
        assert_eq!(err, EventError::Missing("published"));
        assert!(EventRow::decompose("org", json!([1])).is_err());
    }
}
