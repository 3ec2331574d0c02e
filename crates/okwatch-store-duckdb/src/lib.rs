//! okwatch's embedded store: the [`Store`] trait on one DuckDB file, no server. The only crate
//! that links DuckDB.
//!
//! DuckDB is columnar and compresses each column on its own, which suits System Log data: a few
//! hundred distinct event types, user agents and cities repeated millions of times. There are
//! no secondary indexes; DuckDB's per-block min/max statistics on `published` let time-bounded
//! queries skip whole blocks, and events arrive roughly in time order, so those blocks are
//! tight.
//!
//! One writer connection, behind a mutex, stores events ([`write`]); reads run on a pool of
//! other connections to the same database ([`read`]). DuckDB's MVCC gives each read a
//! consistent snapshot of committed data, so a long search never holds up a collector's insert
//! and an insert never holds up a search.

mod accounts;
mod aggregate;
mod alerts;
mod contracts;
mod directory;
mod keyword_index;
mod notifications;
mod plan;
mod read;
mod rules;
mod saved;
mod schedules;
pub mod sql;
mod write;

use ::duckdb::types::ValueRef;
use ::duckdb::Connection;
use okwatch_model::Timestamp;
use okwatch_query::AttrPath;
use okwatch_store::layout::{Kind, COLUMNS};
use okwatch_store::{
    Bucket, Checkpoint, EventBatch, EventPage, EventQuery, InsertOutcome, Store, StoreError,
    StoreStats, StoredEvent,
};
use read::Reader;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Bumped when the table layout changes; a store written by a newer okwatch is refused.
const SCHEMA_VERSION: i64 = 1;

/// How many candidate rows to fetch at a time when some need checking in Rust.
const VERIFY_CHUNK: usize = 1000;

/// The most rows a search reads in one round; longer results are read in rounds.
const FETCH_CHUNK: usize = 10_000;

/// Reading connections opened with the store, before any is asked for.
const READERS_AT_OPEN: usize = 2;

/// The writer's connection and what only the writer changes.
struct Inner {
    conn: Connection,
    next_seq: i64,
    open_block: keyword_index::OpenBlock,
}

/// The DuckDB-backed [`Store`].
pub struct DuckDbStore {
    inner: Mutex<Inner>,
    /// Reading connections not in use.
    idle: Mutex<Vec<Connection>>,
    /// A connection kept only to open more reading connections from, so that opening one
    /// never waits for the writer.
    template: Mutex<Connection>,
    /// The first `seq` the keyword index covers; `None` for a store that has no index (an old
    /// store opened read-only).
    keywords_indexed_from: Option<i64>,
    /// Whether the keyword index records columns (see [`keyword_index`]).
    index_has_masks: bool,
    path: Option<PathBuf>,
}

/// A reading connection on loan from the pool; it goes back when dropped.
struct Loan<'a> {
    store: &'a DuckDbStore,
    conn: Option<Connection>,
}

impl Loan<'_> {
    fn reader(&self) -> Reader<'_> {
        Reader {
            conn: self.conn.as_ref().expect("held until dropped"),
            keywords_indexed_from: self.store.keywords_indexed_from,
            index_has_masks: self.store.index_has_masks,
        }
    }
}

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.store
                .idle
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(conn);
        }
    }
}

pub(crate) fn db_err(context: impl Into<String>) -> impl FnOnce(::duckdb::Error) -> StoreError {
    let context = context.into();
    move |source| match source {
        // DuckDB takes no NUL in text: a value asked for with one is the asker's mistake
        // (no stored value holds one), not the store's failure.
        ::duckdb::Error::NulError(_) => StoreError::Invalid(
            "a value asked for holds a NUL character, which no stored value has".into(),
        ),
        source => StoreError::Database {
            context,
            source: Box::new(source),
        },
    }
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
            StoreError::Database {
                context,
                source: Box::new(source),
            }
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
        let store = Self::init(conn, Some(path.to_path_buf()), true)?;
        owner_only(path);
        Ok(store)
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
        let open_reader = || {
            conn.try_clone()
                .map_err(db_err("opening a reading connection"))
        };
        let template = open_reader()?;
        let idle = (0..READERS_AT_OPEN)
            .map(|_| open_reader())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(DuckDbStore {
            inner: Mutex::new(Inner {
                conn,
                next_seq,
                open_block: Default::default(),
            }),
            idle: Mutex::new(idle),
            template: Mutex::new(template),
            keywords_indexed_from: keywords_indexed_from.and_then(|v| v.parse().ok()),
            index_has_masks,
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
             {}
             {}
             {}
             {}
             {}
             {}
             {}
             {}
             {}",
            columns.join(",\n                 "),
            keyword_index::CREATE_SQL,
            accounts::CREATE_SQL,
            alerts::CREATE_SQL,
            saved::CREATE_SQL,
            notifications::CREATE_SQL,
            rules::CREATE_SQL,
            schedules::CREATE_SQL,
            directory::CREATE_SQL,
            contracts::CREATE_SQL,
        ))
        .map_err(db_err("creating the store's tables"))
    }

    /// The arrival number of the newest stored event (0 when empty).
    pub fn last_seq(&self) -> i64 {
        self.lock().next_seq - 1
    }

    /// A reading connection: an idle one, or a new one to the same database.
    fn loan(&self) -> Result<Loan<'_>, StoreError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self
                .template
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .try_clone()
                .map_err(db_err("opening a reading connection"))?,
        };
        Ok(Loan {
            store: self,
            conn: Some(conn),
        })
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
        // DuckDB refuses while another connection's transaction writes (a search's temporary
        // tables count); those last milliseconds, so wait for a quiet moment, up to 5 s.
        let mut waited = std::time::Duration::ZERO;
        loop {
            let done = self.lock().conn.execute_batch("CHECKPOINT");
            match done {
                Ok(()) => return Ok(()),
                Err(e)
                    if e.to_string().contains("other write transactions")
                        && waited < std::time::Duration::from_secs(5) =>
                {
                    let pause = std::time::Duration::from_millis(50);
                    std::thread::sleep(pause);
                    waited += pause;
                }
                Err(e) => return Err(db_err("checkpointing the store")(e)),
            }
        }
    }

    /// Runs a SQL query and returns its rows as text, for benchmarks and diagnostics.
    pub fn query_text(&self, sql: &str) -> Result<Vec<Vec<String>>, StoreError> {
        let loan = self.loan()?;
        let reader = loan.reader();
        let mut stmt = reader
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
        read::checkpoint_of(&self.loan()?.reader(), org, collector)
    }

    fn search(&self, query: &EventQuery) -> Result<EventPage, StoreError> {
        read::search(&self.loan()?.reader(), query)
    }

    fn scan(
        &self,
        query: &EventQuery,
        each: &mut dyn FnMut(okwatch_store::StoredEvent) -> bool,
    ) -> Result<u64, StoreError> {
        read::scan(&self.loan()?.reader(), query, each)
    }

    fn count(&self, query: &EventQuery) -> Result<u64, StoreError> {
        read::count(&self.loan()?.reader(), query)
    }

    fn count_by_field(
        &self,
        query: &EventQuery,
        field: &AttrPath,
        top: usize,
    ) -> Result<Vec<(Option<String>, u64)>, StoreError> {
        read::count_by_field(&self.loan()?.reader(), query, field, top)
    }

    fn count_by_fields(
        &self,
        query: &EventQuery,
        fields: &[AttrPath],
        top: usize,
    ) -> Result<Vec<okwatch_store::FieldsGroup>, StoreError> {
        read::count_by_fields(&self.loan()?.reader(), query, fields, top)
    }

    fn count_by_time(
        &self,
        query: &EventQuery,
        bucket: Bucket,
    ) -> Result<Vec<(Timestamp, u64)>, StoreError> {
        read::count_by_time(&self.loan()?.reader(), query, bucket)
    }

    fn aggregate(
        &self,
        query: &EventQuery,
        aggregation: &okwatch_store::Aggregation,
    ) -> Result<Vec<okwatch_store::AggregateRow>, StoreError> {
        let in_sql = aggregate::in_sql(&self.loan()?.reader(), query, aggregation)?;
        match in_sql {
            Some(rows) => Ok(rows),
            None => okwatch_store::aggregate::aggregate_by_scan(self, query, aggregation),
        }
    }

    fn get(&self, org: Option<&str>, uuid: &str) -> Result<Option<StoredEvent>, StoreError> {
        read::get(&self.loan()?.reader(), org, uuid)
    }

    fn purge_before(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        self.purge(cutoff)
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        read::stats(&self.loan()?.reader(), self.path.as_deref())
    }
}

/// The store holds an org's whole activity: readable by its owner only (the store file and
/// DuckDB's write-ahead log beside it), like the API tokens.
fn owner_only(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let wal = PathBuf::from(format!("{}.wal", path.display()));
        for file in [path.to_path_buf(), wal] {
            if file.exists() {
                if let Err(e) =
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                {
                    tracing::warn!("cannot make {} owner-only: {e}", file.display());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use okwatch_store::EventRow;
    use serde_json::json;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn reads_do_not_wait_for_the_writer() {
        let store = std::sync::Arc::new(DuckDbStore::open_in_memory().unwrap());
        let event = json!({"uuid": "a", "published": "2026-01-01T00:00:00.000Z", "eventType": "x"});
        let rows = vec![EventRow::decompose("acme", event).unwrap()];
        store.insert(EventBatch::encode(rows).unwrap()).unwrap();
        // The writer is busy (as during a long insert)...
        let writer = store.lock();
        // ...and searches, counts and statistics still answer, from other connections.
        let (done, finished) = mpsc::channel();
        let reader = store.clone();
        std::thread::spawn(move || {
            // More at once than the pool holds: the extra ones are opened without the writer.
            let held: Vec<_> = (0..READERS_AT_OPEN + 1)
                .map(|_| reader.loan().unwrap())
                .collect();
            drop(held);
            for _ in 0..(READERS_AT_OPEN + 1) {
                let page = reader
                    .search(&EventQuery {
                        limit: 10,
                        ..EventQuery::default()
                    })
                    .unwrap();
                done.send(page.events.len()).unwrap();
            }
            done.send(reader.count(&EventQuery::default()).unwrap() as usize)
                .unwrap();
            done.send(reader.stats().unwrap().events as usize).unwrap();
        });
        for _ in 0..(READERS_AT_OPEN + 3) {
            let seen = finished
                .recv_timeout(Duration::from_secs(20))
                .expect("a read waited for the writer");
            assert_eq!(seen, 1);
        }
        drop(writer);
    }
}
