//! The embedded store: one DuckDB file, no server.
//!
//! DuckDB is columnar and compresses each column on its own, which suits System Log data: a few
//! hundred distinct event types, user agents and cities repeated millions of times. There are
//! no secondary indexes; DuckDB's per-block min/max statistics on `published` let time-bounded
//! queries skip whole blocks, and events arrive roughly in time order, so those blocks are
//! tight.

pub(crate) mod batch;
mod keyword_index;
pub mod sql;

use crate::layout::{column_for, reconstruct, Cell, Column, Kind, COLUMNS};
use crate::{
    Bucket, Checkpoint, Cursor, EventBatch, EventPage, EventQuery, InsertOutcome, Order, OrgStats,
    Store, StoreError, StoreStats, StoredEvent,
};
use ::duckdb::types::{TimeUnit, ValueRef};
use ::duckdb::Connection;
use chrono::{Datelike, DurationRound, TimeDelta};
use okwatch_model::Timestamp;
use okwatch_query::{matches, resolve, AttrPath};
use serde_json::Value;
use sql::{compile_filter, compile_keywords, quote, Pred, Rows};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Bumped when the table layout changes; a store written by a newer okwatch is refused.
const SCHEMA_VERSION: i64 = 1;

/// How many candidate rows to fetch at a time when some need checking in Rust.
const VERIFY_CHUNK: usize = 1000;

/// The most rows a search reads in one round; longer results are read in rounds.
const FETCH_CHUNK: usize = 10_000;

struct Inner {
    conn: Connection,
    next_seq: i64,
    /// The first `seq` the keyword index covers; `None` for a store that has no index (an old
    /// store opened read-only).
    keywords_indexed_from: Option<i64>,
    /// Whether the keyword index records columns (see [`keyword_index`]).
    index_has_masks: bool,
    open_block: keyword_index::OpenBlock,
}

/// A query compiled for regular and for irregular rows (see [`Rows`]).
struct Plan {
    branches: [(&'static str, Pred); 2],
    exact: bool,
    /// A `seq` condition from the keyword index that every match satisfies.
    keyword_blocks: Option<String>,
}

/// The DuckDB-backed [`Store`].
pub struct DuckDbStore {
    inner: Mutex<Inner>,
    path: Option<PathBuf>,
}

pub(crate) fn db_err(context: impl Into<String>) -> impl FnOnce(::duckdb::Error) -> StoreError {
    let context = context.into();
    move |source| StoreError::Database { context, source }
}

/// Like [`db_err`], recognising a store held by another process. DuckDB reports it only in
/// its message ("Could not set lock on file ... Conflicting lock is held in ... (PID ...)").
fn open_err(path: &Path, context: impl Into<String>) -> impl FnOnce(::duckdb::Error) -> StoreError {
    let path = path.display().to_string();
    let context = context.into();
    move |source| {
        let detail = source.to_string();
        if detail.contains("Could not set lock on file") {
            StoreError::Busy { path, detail }
        } else {
            StoreError::Database { context, source }
        }
    }
}

fn sql_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Str | Kind::Json => "VARCHAR",
        Kind::Int => "BIGINT",
        Kind::Float => "DOUBLE",
        Kind::Bool => "BOOLEAN",
        Kind::Time => "TIMESTAMP",
    }
}

/// Positions (ascending) of the rows in `records` that must not be stored: already in the
/// store, or an earlier row of the same batch has the same identity. Identity is (org, uuid,
/// published): real uuids are unique, and a repeated event has the same `published`, which lets
/// the block statistics skip everything outside the batch's time span. Only the key columns
/// are staged, so the common case (nothing repeated) appends the batch straight to `events`.
fn repeated_rows(
    conn: &Connection,
    records: &::duckdb::arrow::record_batch::RecordBatch,
    min: Timestamp,
    max: Timestamp,
) -> Result<Vec<i64>, StoreError> {
    let keys = batch::keys(records)?;
    conn.execute_batch("DELETE FROM staging_keys")
        .map_err(db_err("clearing the staging table"))?;
    {
        let mut appender = conn
            .appender("staging_keys")
            .map_err(db_err("opening the appender"))?;
        appender
            .append_record_batch(keys)
            .map_err(db_err("staging event keys"))?;
        appender.flush().map_err(db_err("staging event keys"))?;
    }
    let sql = format!(
        "SELECT i FROM staging_keys s
         QUALIFY row_number() OVER (PARTITION BY org, uuid, published ORDER BY i) > 1
            OR EXISTS (
                SELECT 1 FROM events e
                WHERE e.published BETWEEN {lo} AND {hi}
                  AND e.org = s.org AND e.uuid = s.uuid AND e.published = s.published)
         ORDER BY i",
        lo = timestamp_literal(min),
        hi = timestamp_literal(max),
    );
    let mut stmt = conn
        .prepare(&sql)
        .map_err(db_err("looking for stored events"))?;
    let rows = stmt
        .query_map([], |r| r.get::<_, i64>(0))
        .map_err(db_err("looking for stored events"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(db_err("looking for stored events"))
}

fn timestamp_literal(t: Timestamp) -> String {
    format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.6f"))
}

fn micros_literal(micros: i64) -> String {
    Timestamp::from_timestamp_micros(micros)
        .map(timestamp_literal)
        .unwrap_or_else(|| "NULL".into())
}

impl DuckDbStore {
    /// Opens (creating if needed) the store file at `path`.
    pub fn open(path: &Path) -> Result<DuckDbStore, StoreError> {
        let conn = Connection::open(path).map_err(open_err(
            path,
            format!("opening the store at {}", path.display()),
        ))?;
        Self::init(conn, Some(path.to_path_buf()), true)
    }

    /// Opens an existing store for reading only. Any number of processes may read a store at
    /// once, as long as none has it open for writing.
    pub fn open_read_only(path: &Path) -> Result<DuckDbStore, StoreError> {
        let context = format!("opening the store at {} for reading", path.display());
        if !path.exists() {
            return Err(StoreError::Missing(path.display().to_string()));
        }
        let config = ::duckdb::Config::default()
            .access_mode(::duckdb::AccessMode::ReadOnly)
            .map_err(db_err(context.clone()))?;
        let conn = Connection::open_with_flags(path, config).map_err(open_err(path, context))?;
        Self::init(conn, Some(path.to_path_buf()), false)
    }

    /// An in-memory store, for tests and one-off runs.
    pub fn open_in_memory() -> Result<DuckDbStore, StoreError> {
        let conn = Connection::open_in_memory().map_err(db_err("opening an in-memory store"))?;
        Self::init(conn, None, true)
    }

    fn init(
        conn: Connection,
        path: Option<PathBuf>,
        writable: bool,
    ) -> Result<DuckDbStore, StoreError> {
        if writable {
            Self::create_tables(&conn)?;
        }
        let found: String = conn
            .query_row(
                "SELECT value FROM okwatch_meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .map_err(db_err("reading the store's schema version"))?;
        let found: i64 = found.parse().unwrap_or(i64::MAX);
        if found > SCHEMA_VERSION {
            return Err(StoreError::SchemaVersion {
                path: path
                    .as_ref()
                    .map_or("memory".into(), |p| p.display().to_string()),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let next_seq: i64 = conn
            .query_row("SELECT COALESCE(max(seq), 0) + 1 FROM events", [], |r| {
                r.get(0)
            })
            .map_err(db_err("reading the last sequence number"))?;
        let keywords_indexed_from: Option<String> = conn
            .query_row(
                "SELECT max(value) FROM okwatch_meta WHERE key = ?",
                [keyword_index::INDEXED_FROM_KEY],
                |r| r.get(0),
            )
            .map_err(db_err("reading the keyword index's coverage"))?;
        let index_has_masks = keyword_index::has_column_masks(&conn)?;
        Ok(DuckDbStore {
            inner: Mutex::new(Inner {
                conn,
                next_seq,
                keywords_indexed_from: keywords_indexed_from.and_then(|v| v.parse().ok()),
                index_has_masks,
                open_block: Default::default(),
            }),
            path,
        })
    }

    fn create_tables(conn: &Connection) -> Result<(), StoreError> {
        let columns: Vec<String> = COLUMNS
            .iter()
            .map(|c| {
                let not_null = if matches!(c.name, "uuid" | "published") {
                    " NOT NULL"
                } else {
                    ""
                };
                format!("{} {}{not_null}", c.name, sql_type(c.kind))
            })
            .collect();
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS okwatch_meta (key VARCHAR PRIMARY KEY, value VARCHAR);
             CREATE TABLE IF NOT EXISTS events (
                 org VARCHAR NOT NULL,
                 seq BIGINT NOT NULL,
                 ingested_at TIMESTAMP NOT NULL,
                 irregular BOOLEAN NOT NULL,
                 {});
             INSERT INTO okwatch_meta VALUES ('schema_version', '{SCHEMA_VERSION}') ON CONFLICT DO NOTHING;
             CREATE TABLE IF NOT EXISTS collector_checkpoints (
                 org VARCHAR NOT NULL,
                 collector VARCHAR NOT NULL,
                 state VARCHAR NOT NULL,
                 saved_at TIMESTAMP NOT NULL,
                 PRIMARY KEY (org, collector));
             CREATE TEMP TABLE staging_keys (i BIGINT, org VARCHAR, uuid VARCHAR, published TIMESTAMP);
             {}",
            columns.join(",\n                 "),
            keyword_index::CREATE_SQL,
        ))
        .map_err(db_err("creating the store's tables"))
    }

    /// The arrival number of the newest stored event (0 when empty).
    pub fn last_seq(&self) -> i64 {
        self.lock().next_seq - 1
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves DuckDB itself consistent (it has its own
        // transactions), so carrying on is safe.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes everything to the database file and truncates the write-ahead log.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.lock()
            .conn
            .execute_batch("CHECKPOINT")
            .map_err(db_err("checkpointing the store"))
    }

    /// Runs a SQL query and returns its rows as text, for benchmarks and diagnostics.
    pub fn query_text(&self, sql: &str) -> Result<Vec<Vec<String>>, StoreError> {
        let inner = self.lock();
        let mut stmt = inner
            .conn
            .prepare(sql)
            .map_err(db_err("preparing a query"))?;
        let mut rows = stmt.query([]).map_err(db_err("running a query"))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db_err("reading a row"))? {
            let n = row.as_ref().column_count();
            let mut cells = Vec::with_capacity(n);
            for i in 0..n {
                cells.push(match row.get_ref(i).map_err(db_err("reading a cell"))? {
                    ValueRef::Null => String::new(),
                    ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    other => format!("{:?}", other.to_owned()),
                });
            }
            out.push(cells);
        }
        Ok(out)
    }

    fn base_where(query: &EventQuery) -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(org) = &query.org {
            parts.push(format!("org = {}", quote(org)));
        }
        let time = match query.order {
            Order::Arrival => "ingested_at",
            Order::Asc | Order::Desc => "published",
        };
        if let Some(since) = query.since {
            parts.push(format!("{time} >= {}", timestamp_literal(since)));
        }
        if let Some(until) = query.until {
            parts.push(format!("{time} < {}", timestamp_literal(until)));
        }
        parts
    }

    fn predicate(query: &EventQuery, rows: Rows, hits: Option<&keyword_index::Hits>) -> Pred {
        let mut preds = Vec::new();
        if let Some(filter) = &query.filter {
            preds.push(compile_filter(filter, rows));
        }
        if !query.keywords.is_empty() {
            let word_columns = hits.map(|h| h.word_columns.as_slice());
            preds.push(compile_keywords(&query.keywords, word_columns));
        }
        Pred::and(preds)
    }

    fn plan(inner: &Inner, query: &EventQuery) -> Result<Plan, StoreError> {
        let hits = if query.keywords.is_empty() {
            None
        } else {
            keyword_index::lookup(
                &inner.conn,
                &query.keywords,
                inner.keywords_indexed_from,
                inner.index_has_masks,
            )?
        };
        let regular = Self::predicate(query, Rows::Regular, hits.as_ref());
        let irregular = Self::predicate(query, Rows::Irregular, hits.as_ref());
        Ok(Plan {
            exact: regular.is_exact() && irregular.is_exact(),
            branches: [("NOT irregular", regular), ("irregular", irregular)],
            keyword_blocks: hits.map(|h| h.seq_condition),
        })
    }

    /// `SELECT select FROM events WHERE …` for regular and for irregular rows, glued with
    /// UNION ALL. Each branch's own predicate (`pick` chooses `sure`, `maybe` or a mix) stays a
    /// plain conjunction DuckDB can push into the scan; the irregular branch is almost always
    /// skipped whole by the block statistics on `irregular`.
    fn union(
        query: &EventQuery,
        plan: &Plan,
        select: impl Fn(&Pred) -> String,
        pick: impl Fn(&Pred) -> String,
        extra: &[String],
    ) -> String {
        Self::union_of(query, plan, |_| true, select, pick, extra)
    }

    /// Like [`Self::union`], over the branches whose predicate `keep` accepts (an empty string
    /// when there are none).
    fn union_of(
        query: &EventQuery,
        plan: &Plan,
        keep: impl Fn(&Pred) -> bool,
        select: impl Fn(&Pred) -> String,
        pick: impl Fn(&Pred) -> String,
        extra: &[String],
    ) -> String {
        let branches: Vec<String> = plan
            .branches
            .iter()
            .filter(|(_, pred)| keep(pred))
            .map(|(rows, pred)| {
                let mut conditions = Self::base_where(query);
                conditions.extend(plan.keyword_blocks.clone());
                conditions.push(rows.to_string());
                conditions.push(pick(pred));
                conditions.extend(extra.iter().cloned());
                format!(
                    "SELECT {} FROM events WHERE {}",
                    select(pred),
                    conditions.join(" AND ")
                )
            })
            .collect();
        branches.join(" UNION ALL ")
    }

    /// The whole rows of a window of page keys, by position. The query (see
    /// [`Self::rows_query`]) repeats the search's filter, so a selective filter lets DuckDB read
    /// the wide columns only for rows that pass it, and bounds the position range, so a page of
    /// recent events reads only recent blocks.
    fn fetch_window(
        &self,
        inner: &Inner,
        query: &EventQuery,
        plan: &Plan,
        extra: &[String],
        window: &[(i64, i64, bool)],
        fields: Option<&[String]>,
    ) -> Result<std::collections::HashMap<i64, StoredEvent>, StoreError> {
        let (Some(lo), Some(hi)) = (
            window.iter().map(|k| k.0).min(),
            window.iter().map(|k| k.0).max(),
        ) else {
            return Ok(Default::default());
        };
        let mut bounded = extra.to_vec();
        bounded.push(format!("seq BETWEEN {lo} AND {hi}"));
        // Rows the Rust evaluator still has to check need every column.
        let fields = fields.filter(|_| window.iter().all(|&(_, _, sure)| sure));
        let list = Self::select_list(fields);
        let union = Self::union(query, plan, |_| list.clone(), |p| p.maybe.clone(), &bounded);
        let seqs: Vec<String> = window.iter().map(|k| k.0.to_string()).collect();
        let sql = format!("SELECT * FROM ({union}) WHERE seq IN ({})", seqs.join(","));
        tracing::debug!(%sql, "page rows");
        fetch_rows(&inner.conn, &sql)
    }

    /// The query whose conditions [`Self::fetch_window`] repeats: the search without `q`,
    /// which is no filter DuckDB can push into its scan, only a second evaluation over every
    /// row of the range.
    fn rows_query(query: &EventQuery) -> EventQuery {
        EventQuery {
            keywords: Default::default(),
            ..query.clone()
        }
    }

    /// The reference check for rows SQL could not decide.
    fn verify(query: &EventQuery, event: &Value) -> bool {
        query.filter.as_ref().is_none_or(|f| matches(f, event)) && query.keywords.matches(event)
    }

    /// `org, seq` and every column of [`COLUMNS`], in order; with `fields`, the columns none
    /// of them needs are NULL (the event then holds only those fields).
    fn select_list(fields: Option<&[String]>) -> String {
        let names: Vec<String> = COLUMNS
            .iter()
            .map(|c| match fields {
                Some(fields) if !fields.iter().any(|f| Self::column_serves(c, f)) => {
                    format!("CAST(NULL AS {}) AS {}", sql_type(c.kind), c.name)
                }
                _ => c.name.to_string(),
            })
            .collect();
        format!("org, seq, {}", names.join(", "))
    }

    /// Whether `field` (dotted) can need `column`: it is the field, inside it, or encloses it.
    /// `published` (for the cursor) and `extra` (where anything can end up) always serve.
    fn column_serves(column: &Column, field: &str) -> bool {
        let within = |outer: &str, inner: &str| {
            inner.len() > outer.len()
                && inner.starts_with(outer)
                && inner.as_bytes()[outer.len()] == b'.'
        };
        column.kind == Kind::Time
            || column.path.is_empty()
            || column.path == field
            || within(column.path, field)
            || within(field, column.path)
    }
}

fn cell_of(value: ValueRef<'_>) -> Cell {
    match value {
        ValueRef::Null => Cell::Null,
        ValueRef::Text(t) => Cell::Str(String::from_utf8_lossy(t).into_owned()),
        ValueRef::BigInt(i) => Cell::Int(i),
        ValueRef::Int(i) => Cell::Int(i.into()),
        ValueRef::Double(f) => Cell::Float(f),
        ValueRef::Boolean(b) => Cell::Bool(b),
        ValueRef::Timestamp(unit, v) => Cell::Time(match unit {
            TimeUnit::Second => v.saturating_mul(1_000_000),
            TimeUnit::Millisecond => v.saturating_mul(1_000),
            TimeUnit::Microsecond => v,
            TimeUnit::Nanosecond => v / 1_000,
        }),
        _ => Cell::Null,
    }
}

/// `(seq, published µs, sure)` of a page, in page order.
fn page_keys(conn: &Connection, sql: &str) -> Result<Vec<(i64, i64, bool)>, StoreError> {
    let mut stmt = conn.prepare(sql).map_err(db_err("preparing a search"))?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(db_err("running a search"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(db_err("reading search results"))
}

/// The rows `sql` selects, by position.
fn fetch_rows(
    conn: &Connection,
    sql: &str,
) -> Result<std::collections::HashMap<i64, StoredEvent>, StoreError> {
    let mut rows = std::collections::HashMap::new();
    read_events(conn, sql, |event, _| {
        rows.insert(event.seq, event);
        true
    })?;
    Ok(rows)
}

/// Reads `org, seq, <COLUMNS...>[, sure]` rows.
fn read_events(
    conn: &Connection,
    sql: &str,
    mut each: impl FnMut(StoredEvent, bool) -> bool,
) -> Result<usize, StoreError> {
    let mut stmt = conn.prepare(sql).map_err(db_err("preparing a search"))?;
    let mut rows = stmt.query([]).map_err(db_err("running a search"))?;
    let mut seen = 0;
    while let Some(row) = rows.next().map_err(db_err("reading search results"))? {
        seen += 1;
        let org: String = row.get(0).map_err(db_err("reading org"))?;
        let seq: i64 = row.get(1).map_err(db_err("reading seq"))?;
        let mut cells = Vec::with_capacity(COLUMNS.len());
        for i in 0..COLUMNS.len() {
            cells.push(cell_of(
                row.get_ref(i + 2).map_err(db_err("reading a column"))?,
            ));
        }
        let sure = match row.get_ref(COLUMNS.len() + 2) {
            Ok(ValueRef::Boolean(b)) => b,
            _ => true,
        };
        let event = StoredEvent {
            org,
            seq,
            event: reconstruct(&cells),
        };
        if !each(event, sure) {
            break;
        }
    }
    Ok(seen)
}

fn truncate(t: Timestamp, bucket: Bucket) -> Timestamp {
    let day = t.duration_trunc(TimeDelta::days(1)).unwrap_or(t);
    match bucket {
        Bucket::Hour => t.duration_trunc(TimeDelta::hours(1)).unwrap_or(t),
        Bucket::Day => day,
        Bucket::Week => day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday())),
        Bucket::Month => day - TimeDelta::days(i64::from(day.day0())),
    }
}

/// The group key of one event for `count_by_field`, matching the SQL key expression.
fn group_key(event: &Value, field: &AttrPath) -> Option<String> {
    let mut found = Vec::new();
    resolve(event, &field.segments, &mut found);
    match found.first()? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Store for DuckDbStore {
    fn insert(&self, batch: EventBatch) -> Result<InsertOutcome, StoreError> {
        if batch.is_empty() {
            return Ok(InsertOutcome::default());
        }
        self.insert_with(batch, None)
    }

    fn insert_collected(
        &self,
        batch: EventBatch,
        checkpoint: &Checkpoint,
    ) -> Result<InsertOutcome, StoreError> {
        self.insert_with(batch, Some(checkpoint))
    }

    fn checkpoint_of(&self, org: &str, collector: &str) -> Result<Option<Checkpoint>, StoreError> {
        let inner = self.lock();
        // A store written before checkpoints existed and opened read-only has no such table.
        let exists: i64 = inner
            .conn
            .query_row(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'collector_checkpoints'",
                [],
                |r| r.get(0),
            )
            .map_err(db_err("looking for collector checkpoints"))?;
        if exists == 0 {
            return Ok(None);
        }
        let mut stmt = inner
            .conn
            .prepare("SELECT state FROM collector_checkpoints WHERE org = ? AND collector = ?")
            .map_err(db_err("reading a collector checkpoint"))?;
        let mut rows = stmt
            .query([org, collector])
            .map_err(db_err("reading a collector checkpoint"))?;
        let Some(row) = rows
            .next()
            .map_err(db_err("reading a collector checkpoint"))?
        else {
            return Ok(None);
        };
        Ok(Some(Checkpoint {
            org: org.to_string(),
            collector: collector.to_string(),
            state: row
                .get(0)
                .map_err(db_err("reading a collector checkpoint"))?,
        }))
    }

    fn search(&self, query: &EventQuery) -> Result<EventPage, StoreError> {
        if query.limit == 0 {
            return Ok(EventPage {
                events: Vec::new(),
                next: None,
            });
        }
        let inner = self.lock();
        let plan = Self::plan(&inner, query)?;
        let exact = plan.exact;
        let (order_by, cmp) = match query.order {
            Order::Asc => ("p ASC, seq ASC", ">"),
            Order::Desc => ("p DESC, seq DESC", "<"),
            Order::Arrival => ("seq ASC", ">"),
        };
        let chunk = if exact {
            query.limit
        } else {
            query.limit.max(VERIFY_CHUNK)
        }
        .min(FETCH_CHUNK);
        let rows_query = Self::rows_query(query);
        let rows_plan = Self::plan(&inner, &rows_query)?;
        let mut events = Vec::new();
        let mut after = query.after;
        loop {
            let mut extra = Vec::new();
            match (after, query.order) {
                (Some(c), Order::Arrival) => extra.push(format!("seq > {}", c.seq)),
                (Some(c), _) => {
                    let p = micros_literal(c.published_micros);
                    extra.push(format!(
                        "published {cmp}= {p} AND (published {cmp} {p} OR seq {cmp} {})",
                        c.seq
                    ));
                }
                (None, _) => {}
            }
            // Two steps: first the positions of the page (narrow columns, so the top-N runs on
            // a few bytes a row), then the whole rows of just those positions. One query that
            // sorts whole rows would materialise every matching row's ~50 columns first.
            let union = Self::union(
                query,
                &plan,
                |p| format!("seq, epoch_us(published) AS p, {} AS sure", p.sure),
                |p| p.maybe.clone(),
                &extra,
            );
            let sql =
                format!("SELECT seq, p, sure FROM ({union}) ORDER BY {order_by} LIMIT {chunk}");
            tracing::debug!(%sql, "search");
            let keys = page_keys(&inner.conn, &sql)?;
            let mut last = None;
            // Whole rows are read a window at a time, only as many as the page still needs:
            // most candidates are sure, so one window of `limit - found` rows usually ends it.
            let mut start = 0;
            while start < keys.len() && events.len() < query.limit {
                let need = query.limit - events.len();
                let window = &keys[start..(start + need).min(keys.len())];
                start += window.len();
                let mut rows = self.fetch_window(
                    &inner,
                    &rows_query,
                    &rows_plan,
                    &extra,
                    window,
                    query.fields.as_deref(),
                )?;
                for &(seq, published_micros, sure) in window {
                    last = Some(Cursor {
                        published_micros,
                        seq,
                    });
                    let Some(event) = rows.remove(&seq) else {
                        continue;
                    };
                    if sure || Self::verify(query, &event.event) {
                        events.push(event);
                    }
                }
            }
            if events.len() >= query.limit || keys.len() < chunk {
                break;
            }
            after = last;
        }
        let next = (events.len() == query.limit)
            .then(|| {
                events.last().map(|e| Cursor {
                    published_micros: event_published_micros(e),
                    seq: e.seq,
                })
            })
            .flatten();
        Ok(EventPage { events, next })
    }

    fn count(&self, query: &EventQuery) -> Result<u64, StoreError> {
        let inner = self.lock();
        let plan = Self::plan(&inner, query)?;
        let union = Self::union(
            query,
            &plan,
            |_| "count(*) AS n".into(),
            |p| p.sure.clone(),
            &[],
        );
        let sure: i64 = inner
            .conn
            .query_row(
                &format!("SELECT CAST(sum(n) AS BIGINT) FROM ({union})"),
                [],
                |r| r.get(0),
            )
            .map_err(db_err("counting events"))?;
        let mut total = sure as u64;
        if !plan.exact {
            total += self.count_unsure(&inner, query, &plan, |_| ())?;
        }
        Ok(total)
    }

    fn count_by_field(
        &self,
        query: &EventQuery,
        field: &AttrPath,
        top: usize,
    ) -> Result<Vec<(Option<String>, u64)>, StoreError> {
        let key = group_key_sql(field)?;
        let inner = self.lock();
        let plan = Self::plan(&inner, query)?;
        let union = Self::union(
            query,
            &plan,
            |_| format!("{key} AS k"),
            |p| p.sure.clone(),
            &[],
        );
        let limit = if plan.exact {
            format!("LIMIT {top}")
        } else {
            String::new()
        };
        let sql =
            format!("SELECT k, count(*) AS n FROM ({union}) GROUP BY k ORDER BY n DESC, k {limit}");
        let mut groups: Vec<(Option<String>, u64)> = Vec::new();
        {
            let mut stmt = inner
                .conn
                .prepare(&sql)
                .map_err(db_err("preparing a group count"))?;
            let mut rows = stmt.query([]).map_err(db_err("grouping events"))?;
            while let Some(row) = rows.next().map_err(db_err("reading groups"))? {
                let k: Option<String> = row.get(0).map_err(db_err("reading a group key"))?;
                let n: i64 = row.get(1).map_err(db_err("reading a group count"))?;
                groups.push((k, n as u64));
            }
        }
        if !plan.exact {
            let mut extra: Vec<Option<String>> = Vec::new();
            self.count_unsure(&inner, query, &plan, |e| extra.push(group_key(e, field)))?;
            for k in extra {
                match groups.iter_mut().find(|(g, _)| *g == k) {
                    Some((_, n)) => *n += 1,
                    None => groups.push((k, 1)),
                }
            }
            groups.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            groups.truncate(top);
        }
        Ok(groups)
    }

    fn count_by_time(
        &self,
        query: &EventQuery,
        bucket: Bucket,
    ) -> Result<Vec<(Timestamp, u64)>, StoreError> {
        let inner = self.lock();
        let plan = Self::plan(&inner, query)?;
        let union = Self::union(
            query,
            &plan,
            |_| "published".into(),
            |p| p.sure.clone(),
            &[],
        );
        let sql = format!(
            "SELECT epoch_us(date_trunc('{}', published)) AS b, count(*) FROM ({union}) GROUP BY b ORDER BY b",
            bucket.name()
        );
        tracing::debug!(%sql, "histogram");
        let mut buckets: Vec<(Timestamp, u64)> = Vec::new();
        {
            let mut stmt = inner
                .conn
                .prepare(&sql)
                .map_err(db_err("preparing a histogram"))?;
            let mut rows = stmt
                .query([])
                .map_err(db_err("counting events over time"))?;
            while let Some(row) = rows.next().map_err(db_err("reading a histogram"))? {
                let micros: i64 = row.get(0).map_err(db_err("reading a bucket"))?;
                let n: i64 = row.get(1).map_err(db_err("reading a bucket count"))?;
                if let Some(t) = Timestamp::from_timestamp_micros(micros) {
                    buckets.push((t, n as u64));
                }
            }
        }
        if !plan.exact {
            let mut extra = Vec::new();
            self.count_unsure(&inner, query, &plan, |e| {
                if let Some(t) = okwatch_model::published_of(e) {
                    extra.push(truncate(t, bucket));
                }
            })?;
            for t in extra {
                match buckets.iter_mut().find(|(b, _)| *b == t) {
                    Some((_, n)) => *n += 1,
                    None => buckets.push((t, 1)),
                }
            }
            buckets.sort();
        }
        Ok(buckets)
    }

    fn get(&self, org: Option<&str>, uuid: &str) -> Result<Option<StoredEvent>, StoreError> {
        let org_clause = org
            .map(|o| format!(" AND org = {}", quote(o)))
            .unwrap_or_default();
        let sql = format!(
            "SELECT {} FROM events WHERE uuid = {}{org_clause} ORDER BY published DESC, seq DESC LIMIT 1",
            Self::select_list(None),
            quote(uuid)
        );
        let inner = self.lock();
        let mut found = None;
        read_events(&inner.conn, &sql, |e, _| {
            found = Some(e);
            false
        })?;
        Ok(found)
    }

    fn purge_before(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let n = inner
            .conn
            .execute(
                &format!(
                    "DELETE FROM events WHERE published < {}",
                    timestamp_literal(cutoff)
                ),
                [],
            )
            .map_err(db_err("purging old events"))?;
        // Index rows of blocks now wholly purged; a partly purged block keeps its rows (they
        // only widen a scan) and the open block's memory is dropped in case it was emptied.
        inner
            .conn
            .execute(
                &format!(
                    "DELETE FROM keyword_blocks WHERE block < (SELECT COALESCE(min(seq), {}) FROM events) >> {}",
                    inner.next_seq,
                    keyword_index::BLOCK_SHIFT
                ),
                [],
            )
            .map_err(db_err("purging the keyword index"))?;
        inner.open_block.forget();
        Ok(n as u64)
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        let inner = self.lock();
        let (events, oldest, newest): (i64, Option<i64>, Option<i64>) = inner
            .conn
            .query_row(
                "SELECT count(*), epoch_us(min(published)), epoch_us(max(published)) FROM events",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(db_err("measuring the store"))?;
        let mut orgs = Vec::new();
        {
            let mut stmt = inner
                .conn
                .prepare(
                    "SELECT org, count(*), epoch_us(min(published)), epoch_us(max(published)),
                            epoch_us(max(ingested_at))
                     FROM events GROUP BY org ORDER BY org",
                )
                .map_err(db_err("listing orgs"))?;
            let mut rows = stmt.query([]).map_err(db_err("listing orgs"))?;
            let time = |micros: Option<i64>| micros.and_then(Timestamp::from_timestamp_micros);
            while let Some(row) = rows.next().map_err(db_err("listing orgs"))? {
                let read = |e| db_err("listing orgs")(e);
                let events: i64 = row.get(1).map_err(read)?;
                orgs.push(OrgStats {
                    org: row.get(0).map_err(read)?,
                    events: events as u64,
                    oldest: time(row.get(2).map_err(read)?),
                    newest: time(row.get(3).map_err(read)?),
                    last_stored: time(row.get(4).map_err(read)?),
                });
            }
        }
        let bytes_on_disk = self.path.as_ref().map(|p| {
            let wal = PathBuf::from(format!("{}.wal", p.display()));
            [p.as_path(), wal.as_path()]
                .iter()
                .filter_map(|f| std::fs::metadata(f).ok())
                .map(|m| m.len())
                .sum()
        });
        Ok(StoreStats {
            events: events as u64,
            oldest: oldest.and_then(Timestamp::from_timestamp_micros),
            newest: newest.and_then(Timestamp::from_timestamp_micros),
            orgs,
            bytes_on_disk,
        })
    }
}

impl DuckDbStore {
    /// Stores the batch, and the checkpoint if there is one, in one transaction.
    fn insert_with(
        &self,
        batch: EventBatch,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<InsertOutcome, StoreError> {
        let total = batch.len() as u64;
        let mut inner = self.lock();
        let inner = &mut *inner;
        let result = Self::insert_locked(inner, batch, checkpoint);
        match result {
            Ok(stored) => inner.next_seq += stored as i64,
            // The rows went away with the transaction; so did their index rows.
            Err(_) => inner.open_block.forget(),
        }
        let stored = result?;
        Ok(InsertOutcome {
            stored,
            duplicates: total - stored,
        })
    }

    /// Stores the batch's new events, their keyword index rows and the checkpoint in one
    /// transaction; returns how many events were new.
    fn insert_locked(
        inner: &mut Inner,
        batch: EventBatch,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<u64, StoreError> {
        let first_seq = inner.next_seq;
        let tx = inner
            .conn
            .transaction()
            .map_err(db_err("starting an insert"))?;
        if let Some(checkpoint) = checkpoint {
            tx.execute(
                "INSERT INTO collector_checkpoints VALUES (?, ?, ?, now())
                 ON CONFLICT (org, collector) DO UPDATE
                 SET state = excluded.state, saved_at = excluded.saved_at",
                [&checkpoint.org, &checkpoint.collector, &checkpoint.state],
            )
            .map_err(db_err("saving the collector's checkpoint"))?;
        }
        let (Some(min), Some(max)) = (batch.earliest, batch.latest) else {
            tx.commit().map_err(db_err("committing a checkpoint"))?;
            return Ok(0);
        };
        let repeated = repeated_rows(&tx, &batch.records, min, max)?;
        let is_new = |i: usize| repeated.binary_search(&(i as i64)).is_err();
        let fresh = if repeated.is_empty() {
            batch.records
        } else {
            let keep: ::duckdb::arrow::array::BooleanArray = (0..batch.records.num_rows())
                .map(|i| Some(is_new(i)))
                .collect();
            ::duckdb::arrow::compute::filter_record_batch(&batch.records, &keep)
                .map_err(|e| StoreError::Encoding(e.to_string()))?
        };
        let stored = fresh.num_rows() as u64;
        if stored > 0 {
            let now = chrono::Utc::now().timestamp_micros();
            let fresh = batch::with_arrival(fresh, first_seq, now)?;
            let mut appender = tx
                .appender("events")
                .map_err(db_err("opening the appender"))?;
            appender
                .append_record_batch(fresh)
                .map_err(db_err("storing events"))?;
            appender.flush().map_err(db_err("storing events"))?;
            let new_tokens = batch
                .tokens
                .iter()
                .enumerate()
                .filter(|(i, _)| is_new(*i))
                .zip(first_seq..)
                .map(|((_, tokens), seq)| (seq, tokens.as_slice()));
            if let Some(index_rows) = inner.open_block.rows_for(new_tokens)? {
                let mut appender = tx
                    .appender("keyword_blocks")
                    .map_err(db_err("opening the appender"))?;
                appender
                    .append_record_batch(index_rows)
                    .map_err(db_err("indexing keywords"))?;
                appender.flush().map_err(db_err("indexing keywords"))?;
            }
        }
        tx.commit().map_err(db_err("committing events"))?;
        Ok(stored)
    }

    /// Streams the rows SQL could not decide, verifies each, and hands the matching events to
    /// `each`; returns how many matched.
    fn count_unsure(
        &self,
        inner: &Inner,
        query: &EventQuery,
        plan: &Plan,
        mut each: impl FnMut(&Value),
    ) -> Result<u64, StoreError> {
        // Only branches where SQL can be undecided: a branch whose `maybe` is its `sure` has
        // none, and scanning it anyway would fetch every column of every matching row.
        let list = Self::select_list(None);
        let sql = Self::union_of(
            query,
            plan,
            |p| p.maybe != p.sure,
            |_| list.clone(),
            |p| format!("{} AND NOT {}", p.maybe, p.sure),
            &[],
        );
        if sql.is_empty() {
            return Ok(0);
        }
        tracing::debug!(%sql, "undecided rows");
        let mut n = 0;
        read_events(&inner.conn, &sql, |e, _| {
            if Self::verify(query, &e.event) {
                each(&e.event);
                n += 1;
            }
            true
        })?;
        Ok(n)
    }
}

fn event_published_micros(e: &StoredEvent) -> i64 {
    okwatch_model::published_of(&e.event).map_or(0, |t| t.timestamp_micros())
}

/// SQL for the group key of `field`: the typed column, else the enclosing JSON text.
fn group_key_sql(field: &AttrPath) -> Result<String, StoreError> {
    let dotted = field.dotted();
    let unsupported = || StoreError::UnsupportedGroupBy(dotted.clone());
    if dotted == "published" {
        return Err(unsupported());
    }
    let mut parts = Vec::new();
    if let Some((_, column)) = column_for(&dotted).filter(|(_, c)| c.kind != Kind::Json) {
        parts.push(format!("CAST({} AS VARCHAR)", column.name));
    }
    let json = COLUMNS
        .iter()
        .filter(|c| c.kind == Kind::Json)
        .filter(|c| {
            c.path.is_empty() || dotted == c.path || dotted.starts_with(&format!("{}.", c.path))
        })
        .max_by_key(|c| c.path.len())
        .expect("the extra column encloses every path");
    if ["target", "request.ipChain"].contains(&json.path) {
        return Err(unsupported());
    }
    let skip = if json.path.is_empty() {
        0
    } else {
        json.segments().count()
    };
    let relative: Vec<String> = field.segments[skip..]
        .iter()
        .map(|s| format!(".\"{s}\""))
        .collect();
    parts.push(format!(
        "json_extract_string({}, {})",
        json.name,
        quote(&format!("${}", relative.concat()))
    ));
    Ok(format!("COALESCE({})", parts.join(", ")))
}
