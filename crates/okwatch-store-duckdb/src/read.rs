//! Reading: paging, counting, grouping, histograms, single events, statistics, collector
//! checkpoints, each over a query planned by [`super::plan`]. Every
//! function here runs on a [`Reader`], one of the store's reading connections, so reads never
//! wait for the writer and the writer never waits for them.

use super::plan::{plan_query, rows_query, select_list, union_all, union_of, verify, Plan};
use super::sql::quote;
use super::{db_err, micros_literal, FETCH_CHUNK, VERIFY_CHUNK};
use ::duckdb::types::{TimeUnit, ValueRef};
use ::duckdb::Connection;
use okwatch_model::Timestamp;
use okwatch_query::{resolve, AttrPath};
use okwatch_store::layout::{column_for, reconstruct, Cell, Kind, COLUMNS};
use okwatch_store::{
    Bucket, Checkpoint, Cursor, EventPage, EventQuery, Order, OrgStats, StoreError, StoreStats,
    StoredEvent,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A connection for reading, with what planning needs to know about the store.
pub(super) struct Reader<'a> {
    pub(super) conn: &'a Connection,
    /// The first `seq` the keyword index covers; `None` for a store without one.
    pub(super) keywords_indexed_from: Option<i64>,
    /// Whether the keyword index records columns.
    pub(super) index_has_masks: bool,
}

/// The whole rows of a window of page keys, by position. The query (see
/// [`rows_query`]) repeats the search's filter, so a selective filter lets DuckDB read
/// the wide columns only for rows that pass it, and bounds the position range, so a page of
/// recent events reads only recent blocks.
fn fetch_window(
    r: &Reader<'_>,
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
    let list = select_list(fields);
    let union = union_all(query, plan, |_| list.clone(), |p| p.maybe.clone(), &bounded);
    let seqs: Vec<String> = window.iter().map(|k| k.0.to_string()).collect();
    let sql = format!("SELECT * FROM ({union}) WHERE seq IN ({})", seqs.join(","));
    tracing::debug!(%sql, "page rows");
    fetch_rows(r.conn, &sql)
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

/// Whether the store has `table`: one written by an older okwatch and opened read-only may
/// lack the tables added since.
pub(super) fn table_exists(conn: &::duckdb::Connection, table: &str) -> Result<bool, StoreError> {
    let count: i64 = conn
        .query_row(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
            [table],
            |r| r.get(0),
        )
        .map_err(db_err(format!("looking for the table {table}")))?;
    Ok(count > 0)
}

pub(super) fn checkpoint_of(
    r: &Reader<'_>,
    org: &str,
    collector: &str,
) -> Result<Option<Checkpoint>, StoreError> {
    // A store written before checkpoints existed and opened read-only has no such table.
    if !table_exists(r.conn, "collector_checkpoints")? {
        return Ok(None);
    }
    let mut stmt = r
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

/// The SQL condition for what comes after `after` in `order`: a page's or a scan's cursor.
fn after_cursor(after: Option<Cursor>, order: Order) -> Option<String> {
    let c = after?;
    let cmp = match order {
        Order::Arrival => return Some(format!("seq > {}", c.seq)),
        Order::Asc => ">",
        Order::Desc => "<",
    };
    let p = micros_literal(c.published_micros);
    Some(format!(
        "published {cmp}= {p} AND (published {cmp} {p} OR seq {cmp} {})",
        c.seq
    ))
}

pub(super) fn search(r: &Reader<'_>, query: &EventQuery) -> Result<EventPage, StoreError> {
    if query.limit == 0 {
        return Ok(EventPage {
            events: Vec::new(),
            next: None,
        });
    }
    let plan = plan_query(r, query)?;
    let exact = plan.exact;
    let order_by = match query.order {
        Order::Asc => "p ASC, seq ASC",
        Order::Desc => "p DESC, seq DESC",
        Order::Arrival => "seq ASC",
    };
    let chunk = if exact {
        query.limit
    } else {
        query.limit.max(VERIFY_CHUNK)
    }
    .min(FETCH_CHUNK);
    let rows_query = rows_query(query);
    let rows_plan = plan_query(r, &rows_query)?;
    let mut events = Vec::new();
    let mut after = query.after;
    loop {
        let extra: Vec<String> = after_cursor(after, query.order).into_iter().collect();
        // Two steps: first the positions of the page (narrow columns, so the top-N runs on
        // a few bytes a row), then the whole rows of just those positions. One query that
        // sorts whole rows would materialise every matching row's ~50 columns first.
        let union = union_all(
            query,
            &plan,
            |p| format!("seq, epoch_us(published) AS p, {} AS sure", p.sure),
            |p| p.maybe.clone(),
            &extra,
        );
        let sql = format!("SELECT seq, p, sure FROM ({union}) ORDER BY {order_by} LIMIT {chunk}");
        tracing::debug!(%sql, "search");
        let keys = page_keys(r.conn, &sql)?;
        let mut last = None;
        // Whole rows are read a window at a time, only as many as the page still needs:
        // most candidates are sure, so one window of `limit - found` rows usually ends it.
        let mut start = 0;
        while start < keys.len() && events.len() < query.limit {
            let need = query.limit - events.len();
            let window = &keys[start..(start + need).min(keys.len())];
            start += window.len();
            let mut rows = fetch_window(
                r,
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
                if sure || verify(query, &event.event) {
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

/// Every matching event in the query's order, from one query that DuckDB streams: no pages,
/// no top-N per page, no list of positions to fetch. With `fields`, only their columns are
/// read, and rows SQL could not decide are checked on those fields plus the filter's own.
pub(super) fn scan(
    r: &Reader<'_>,
    query: &EventQuery,
    each: &mut dyn FnMut(StoredEvent) -> bool,
) -> Result<u64, StoreError> {
    let plan = plan_query(r, query)?;
    let order_by = match query.order {
        Order::Asc => "published ASC, seq ASC",
        Order::Desc => "published DESC, seq DESC",
        Order::Arrival => "seq ASC",
    };
    let extra: Vec<String> = after_cursor(query.after, query.order).into_iter().collect();
    let fields: Option<Vec<String>> = query.fields.as_ref().map(|fields| {
        let mut all = fields.clone();
        if let Some(filter) = &query.filter {
            all.extend(filter.paths().iter().map(|p| p.dotted()));
        }
        if !query.keywords.is_empty() {
            // Keywords may be anywhere: an undecided row is checked whole.
            all.clear();
        }
        all
    });
    let fields = fields.filter(|f| !f.is_empty());
    let list = select_list(fields.as_deref());
    let union = union_all(
        query,
        &plan,
        |p| format!("{list}, {} AS sure", p.sure),
        |p| p.maybe.clone(),
        &extra,
    );
    let sql = format!("SELECT * FROM ({union}) ORDER BY {order_by}");
    tracing::debug!(%sql, "scan");
    let mut given = 0;
    read_events(r.conn, &sql, |event, sure| {
        if sure || verify(query, &event.event) {
            given += 1;
            each(event)
        } else {
            true
        }
    })?;
    Ok(given)
}

pub(super) fn count(r: &Reader<'_>, query: &EventQuery) -> Result<u64, StoreError> {
    let plan = plan_query(r, query)?;
    let union = union_all(
        query,
        &plan,
        |_| "count(*) AS n".into(),
        |p| p.sure.clone(),
        &[],
    );
    let sure: i64 = r
        .conn
        .query_row(
            &format!("SELECT CAST(sum(n) AS BIGINT) FROM ({union})"),
            [],
            |r| r.get(0),
        )
        .map_err(db_err("counting events"))?;
    let mut total = sure as u64;
    if !plan.exact {
        total += count_unsure(r, query, &plan, |_| ())?;
    }
    Ok(total)
}

pub(super) fn count_by_field(
    r: &Reader<'_>,
    query: &EventQuery,
    field: &AttrPath,
    top: usize,
) -> Result<Vec<(Option<String>, u64)>, StoreError> {
    Ok(count_by_fields(r, query, std::slice::from_ref(field), top)?
        .into_iter()
        .map(|(mut keys, n)| (keys.pop().flatten(), n))
        .collect())
}

/// Matching events counted per combination of the values of `fields`.
pub(super) fn count_by_fields(
    r: &Reader<'_>,
    query: &EventQuery,
    fields: &[AttrPath],
    top: usize,
) -> Result<Vec<okwatch_store::FieldsGroup>, StoreError> {
    let keys = fields
        .iter()
        .enumerate()
        .map(|(i, f)| Ok(format!("{} AS k{i}", group_key_sql(f)?)))
        .collect::<Result<Vec<_>, StoreError>>()?
        .join(", ");
    let names = (0..fields.len())
        .map(|i| format!("k{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let plan = plan_query(r, query)?;
    let union = union_all(query, &plan, |_| keys.clone(), |p| p.sure.clone(), &[]);
    let limit = if plan.exact {
        format!("LIMIT {top}")
    } else {
        String::new()
    };
    let sql = format!(
        "SELECT {names}, count(*) AS n FROM ({union}) GROUP BY {names} ORDER BY n DESC, {names} {limit}"
    );
    let mut groups: Vec<(Vec<Option<String>>, u64)> = Vec::new();
    {
        let mut stmt = r
            .conn
            .prepare(&sql)
            .map_err(db_err("preparing a group count"))?;
        let mut rows = stmt.query([]).map_err(db_err("grouping events"))?;
        while let Some(row) = rows.next().map_err(db_err("reading groups"))? {
            let mut key = Vec::with_capacity(fields.len());
            for i in 0..fields.len() {
                key.push(row.get(i).map_err(db_err("reading a group key"))?);
            }
            let n: i64 = row
                .get(fields.len())
                .map_err(db_err("reading a group count"))?;
            groups.push((key, n as u64));
        }
    }
    if !plan.exact {
        let mut extra: Vec<Vec<Option<String>>> = Vec::new();
        count_unsure(r, query, &plan, |e| {
            extra.push(fields.iter().map(|f| group_key(e, f)).collect())
        })?;
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

pub(super) fn count_by_time(
    r: &Reader<'_>,
    query: &EventQuery,
    bucket: Bucket,
) -> Result<Vec<(Timestamp, u64)>, StoreError> {
    let plan = plan_query(r, query)?;
    let union = union_all(
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
        let mut stmt = r
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
        count_unsure(r, query, &plan, |e| {
            if let Some(t) = okwatch_model::published_of(e) {
                extra.push(bucket.start_of(t));
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

pub(super) fn get(
    r: &Reader<'_>,
    org: Option<&str>,
    uuid: &str,
) -> Result<Option<StoredEvent>, StoreError> {
    let org_clause = org
        .map(|o| format!(" AND org = {}", quote(o)))
        .unwrap_or_default();
    let sql = format!(
            "SELECT {} FROM events WHERE uuid = {}{org_clause} ORDER BY published DESC, seq DESC LIMIT 1",
            select_list(None),
            quote(uuid)
        );
    let mut found = None;
    read_events(r.conn, &sql, |e, _| {
        found = Some(e);
        false
    })?;
    Ok(found)
}

pub(super) fn stats(r: &Reader<'_>, path: Option<&Path>) -> Result<StoreStats, StoreError> {
    let (events, oldest, newest): (i64, Option<i64>, Option<i64>) = r
        .conn
        .query_row(
            "SELECT count(*), epoch_us(min(published)), epoch_us(max(published)) FROM events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(db_err("measuring the store"))?;
    let mut orgs = Vec::new();
    {
        let mut stmt = r
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
    let bytes_on_disk = path.map(|p| {
        let wal = PathBuf::from(format!("{}.wal", p.display()));
        [p, wal.as_path()]
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

/// Streams the rows SQL could not decide, verifies each, and hands the matching events to
/// `each`; returns how many matched.
pub(super) fn count_unsure(
    r: &Reader<'_>,
    query: &EventQuery,
    plan: &Plan,
    mut each: impl FnMut(&Value),
) -> Result<u64, StoreError> {
    // Only branches where SQL can be undecided: a branch whose `maybe` is its `sure` has
    // none, and scanning it anyway would fetch every column of every matching row.
    let list = select_list(None);
    let sql = union_of(
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
    read_events(r.conn, &sql, |e, _| {
        if verify(query, &e.event) {
            each(&e.event);
            n += 1;
        }
        true
    })?;
    Ok(n)
}

fn event_published_micros(e: &StoredEvent) -> i64 {
    okwatch_model::published_of(&e.event).map_or(0, |t| t.timestamp_micros())
}

/// SQL for the group key of `field`: the typed column, else the enclosing JSON text.
pub(super) fn group_key_sql(field: &AttrPath) -> Result<String, StoreError> {
    let dotted = field.dotted();
    let unsupported = || StoreError::UnsupportedGroupBy(dotted.clone());
    // A segment becomes part of a JSON path inside a string: nothing that could end either.
    let plain = |s: &String| {
        !s.is_empty()
            && !s
                .chars()
                .any(|c| c == '"' || c == '\\' || c == '\'' || c.is_control())
    };
    if dotted == "published" || !field.segments.iter().all(plain) {
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
