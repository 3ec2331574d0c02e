//! Where events live: the [`Store`] trait, the columnar [`layout`] and the Arrow form of a batch
//! ([`arrow_batch`]) shared by backends, and the neutral types and errors every backend speaks.
//! No database is linked here: the DuckDB backend is `okwatch-store-duckdb`, and a PostgreSQL
//! backend implements the same trait.
//!
//! Invariants every backend keeps:
//! - an event is identified by `(org, uuid, published)`; storing it again changes nothing;
//! - what comes out is the JSON value that went in;
//! - searches give exactly the answers of [`okwatch_query::matches`] and
//!   [`okwatch_query::Keywords::matches`], newest first unless asked otherwise;
//! - `seq` grows with every stored batch, so it orders events by when okwatch stored them.

pub mod aggregate;
pub mod arrow_batch;
pub mod contracts;
pub mod directory;
pub mod layout;

pub use aggregate::{AggregateRow, Aggregation, Key};
pub use contracts::{Billing, Contract, Contracts};
pub use directory::{Directory, DirectorySnapshot};
pub use layout::EventRow;

/// Events encoded for storage, ready to be inserted in one transaction. Encoding is the
/// expensive part; do it on the thread that decomposed the events, then hand the batch over.
pub struct EventBatch {
    records: arrow_array::RecordBatch,
    earliest: Option<Timestamp>,
    latest: Option<Timestamp>,
    /// Each row's `q` tokens and their columns, for the keyword index.
    tokens: Vec<Vec<(u32, u8)>>,
}

impl EventBatch {
    /// Encodes decomposed events.
    pub fn encode(mut rows: Vec<EventRow>) -> Result<EventBatch, StoreError> {
        let earliest = rows.iter().map(|r| r.published).min();
        let latest = rows.iter().map(|r| r.published).max();
        let tokens = rows
            .iter_mut()
            .map(|r| std::mem::take(&mut r.tokens))
            .collect();
        Ok(EventBatch {
            records: arrow_batch::record_batch(rows)?,
            earliest,
            latest,
            tokens,
        })
    }

    /// The events as Arrow columns (`org, seq, ingested_at, irregular`, then [`layout::COLUMNS`]).
    pub fn records(&self) -> &arrow_array::RecordBatch {
        &self.records
    }

    /// The oldest and newest `published`, when there are events.
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        self.earliest.zip(self.latest)
    }

    /// The columns and each row's `q` tokens with their columns, for a backend to store.
    pub fn into_parts(self) -> (arrow_array::RecordBatch, Vec<Vec<(u32, u8)>>) {
        (self.records, self.tokens)
    }

    /// How many events.
    pub fn len(&self) -> usize {
        self.records.num_rows()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

use okwatch_model::Timestamp;
use okwatch_query::{AttrPath, Expr, Keywords};
use serde_json::Value;

/// Newest or oldest first, or in the order the store received them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Oldest `published` first.
    Asc,
    /// Newest `published` first.
    #[default]
    Desc,
    /// In the order events were stored, first stored first; `since` and `until` then bound the
    /// arrival time, not `published`. This is Okta's polling order: an event that arrives late
    /// with an old `published` still comes after everything a poller has already seen.
    Arrival,
}

/// A position in a time-ordered listing: the last event of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The last event's `published`, in microseconds since the epoch.
    pub published_micros: i64,
    /// The last event's `seq`.
    pub seq: i64,
}

impl Cursor {
    /// The opaque text form handed to clients.
    pub fn encode(&self) -> String {
        format!("{}_{}", self.published_micros, self.seq)
    }

    /// Reads a cursor given back by a client.
    pub fn decode(text: &str) -> Result<Cursor, StoreError> {
        let bad = || StoreError::BadCursor(text.to_string());
        let (p, s) = text.split_once('_').ok_or_else(bad)?;
        Ok(Cursor {
            published_micros: p.parse().map_err(|_| bad())?,
            seq: s.parse().map_err(|_| bad())?,
        })
    }
}

/// What to search for. Build with [`EventQuery::default`] and set what you need.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Only this org's events; all orgs when `None`.
    pub org: Option<String>,
    /// A validated filter expression.
    pub filter: Option<Expr>,
    /// `q` keywords.
    pub keywords: Keywords,
    /// Inclusive lower bound on `published` (on arrival time with [`Order::Arrival`]).
    pub since: Option<Timestamp>,
    /// Exclusive upper bound on `published` (on arrival time with [`Order::Arrival`]).
    pub until: Option<Timestamp>,
    /// Sort order.
    pub order: Order,
    /// Page size.
    pub limit: usize,
    /// Continue after this position.
    pub after: Option<Cursor>,
    /// The attributes (dotted paths) the caller will look at, when it will not look at the
    /// rest: a search may then return events holding only those (and `published`), which
    /// reads far less for a table of a few columns. `None` returns whole events.
    pub fields: Option<Vec<String>>,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StoredEvent {
    /// The org it belongs to.
    pub org: String,
    /// Storage order.
    pub seq: i64,
    /// The event, exactly as received (only the asked-for attributes when the query named
    /// [`EventQuery::fields`]).
    pub event: Value,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    /// The events, in the requested order.
    pub events: Vec<StoredEvent>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}

/// Where a collector (the poller of one org) has got to. It is saved in the same transaction
/// as the events it collected, so that after a crash the store holds either both or neither:
/// a restart then continues exactly after the last stored page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The org whose events these are.
    pub org: String,
    /// Which collector (`poll`): one org can have several, each with its own position.
    pub collector: String,
    /// The collector's own state, as JSON text; the store keeps it as it is.
    pub state: String,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InsertOutcome {
    /// Events newly stored.
    pub stored: u64,
    /// Events that were already stored (or repeated within the batch).
    pub duplicates: u64,
}

/// Time bucket for histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bucket {
    /// Hourly.
    Hour,
    /// Daily (UTC).
    Day,
    /// Weekly, weeks starting Monday.
    Week,
    /// Monthly.
    Month,
}

impl Bucket {
    /// The unit name (`hour`, `day`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Bucket::Hour => "hour",
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }

    /// The start of the bucket holding `t` (UTC; weeks start on Monday).
    pub fn start_of(self, t: Timestamp) -> Timestamp {
        use chrono::{Datelike, DurationRound, TimeDelta};
        let day = t.duration_trunc(TimeDelta::days(1)).unwrap_or(t);
        match self {
            Bucket::Hour => t.duration_trunc(TimeDelta::hours(1)).unwrap_or(t),
            Bucket::Day => day,
            Bucket::Week => day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday())),
            Bucket::Month => day - TimeDelta::days(i64::from(day.day0())),
        }
    }
}

/// Size and span of what is stored.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct StoreStats {
    /// Number of events.
    pub events: u64,
    /// Oldest `published`.
    pub oldest: Option<Timestamp>,
    /// Newest `published`.
    pub newest: Option<Timestamp>,
    /// Per org, by name.
    pub orgs: Vec<OrgStats>,
    /// Bytes on disk, where the backend knows.
    pub bytes_on_disk: Option<u64>,
}

/// What is stored for one org, and how fresh it is.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OrgStats {
    /// The org's name.
    pub org: String,
    /// Number of events.
    pub events: u64,
    /// Oldest `published`.
    pub oldest: Option<Timestamp>,
    /// Newest `published`.
    pub newest: Option<Timestamp>,
    /// When okwatch last stored one of its events.
    pub last_stored: Option<Timestamp>,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("{context}: {source}")]
    Database {
        /// What okwatch was doing.
        context: String,
        /// The database's error (a backend's own type, boxed so that none leaks into the trait).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A batch could not be encoded for the database.
    #[error("encoding a batch of events: {0}")]
    Encoding(String),
    /// Another process has the store open for writing (DuckDB allows one writer, or any
    /// number of readers when there is no writer).
    #[error("the store at {path} is open in another okwatch process (`okwatch serve`, `okwatch demo` or an import): query that server through its API (GET /api/v1/logs) or /mcp, or stop it and try again ({detail})")]
    Busy {
        /// The store file.
        path: String,
        /// The database's message, naming the process.
        detail: String,
    },
    /// The store is answered by another process (`okwatch serve`), which refused or failed.
    #[error("{0}")]
    Remote(String),
    /// There is no store at this path yet.
    #[error("there is no store at {0} yet: import some events first (okwatch import FILE)")]
    Missing(String),
    /// A cursor not made by this store.
    #[error("`{0}` is not a cursor this store handed out")]
    BadCursor(String),
    /// A value the store refuses (an unknown alert status…), said in words.
    #[error("{0}")]
    Invalid(String),
    /// A field that cannot be grouped by.
    #[error("cannot group by `{0}`: choose a single-valued attribute such as client.ipAddress or actor.alternateId")]
    UnsupportedGroupBy(String),
    /// The store was written by a newer okwatch.
    #[error("the store at {path} has schema version {found}; this okwatch understands up to {supported}")]
    SchemaVersion {
        /// Where.
        path: String,
        /// What the file says.
        found: i64,
        /// What this build knows.
        supported: i64,
    },
}

/// The store interface; DuckDB today, PostgreSQL behind the same trait later.
pub trait Store: Send + Sync {
    /// Stores a batch of events; duplicates of stored events are skipped.
    fn insert(&self, batch: EventBatch) -> Result<InsertOutcome, StoreError>;
    /// Stores a batch (possibly empty) and a collector's position after it in one
    /// transaction.
    fn insert_collected(
        &self,
        batch: EventBatch,
        checkpoint: &Checkpoint,
    ) -> Result<InsertOutcome, StoreError>;
    /// The position last saved by `org`'s `collector`, if any.
    fn checkpoint_of(&self, org: &str, collector: &str) -> Result<Option<Checkpoint>, StoreError>;
    /// One page of matching events.
    fn search(&self, query: &EventQuery) -> Result<EventPage, StoreError>;
    /// Every event `query` matches, in its order, after its cursor (its `limit` is ignored):
    /// `each` is given them one by one and answers whether to go on. For readers of whole
    /// spans (the detections, a backtest), without a page's overhead. Returns how many were
    /// given. By default, page after page of [`Store::search`].
    fn scan(
        &self,
        query: &EventQuery,
        each: &mut dyn FnMut(StoredEvent) -> bool,
    ) -> Result<u64, StoreError> {
        let mut query = EventQuery {
            limit: 5_000,
            ..query.clone()
        };
        let mut given = 0;
        loop {
            let page = self.search(&query)?;
            for event in page.events {
                given += 1;
                if !each(event) {
                    return Ok(given);
                }
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => return Ok(given),
            }
        }
    }
    /// How many events match (`limit` and `after` are ignored).
    fn count(&self, query: &EventQuery) -> Result<u64, StoreError>;
    /// Matching events counted per value of a field, largest first, at most `top` groups.
    fn count_by_field(
        &self,
        query: &EventQuery,
        field: &AttrPath,
        top: usize,
    ) -> Result<Vec<(Option<String>, u64)>, StoreError>;
    /// Matching events counted per combination of the values of `fields` (each key holds one
    /// value per field, in order), largest first, at most `top` groups.
    fn count_by_fields(
        &self,
        query: &EventQuery,
        fields: &[AttrPath],
        top: usize,
    ) -> Result<Vec<FieldsGroup>, StoreError>;
    /// Matching events counted per time bucket, oldest first; empty buckets are omitted.
    fn count_by_time(
        &self,
        query: &EventQuery,
        bucket: Bucket,
    ) -> Result<Vec<(Timestamp, u64)>, StoreError>;
    /// Events counted, or their distinct values counted, per group and time bucket (see
    /// [`aggregate`]). By default, one [`Store::scan`] aggregated in memory.
    fn aggregate(
        &self,
        query: &EventQuery,
        aggregation: &Aggregation,
    ) -> Result<Vec<AggregateRow>, StoreError> {
        aggregate::aggregate_by_scan(self, query, aggregation)
    }
    /// One event by uuid (the newest, if test data reuses a uuid).
    fn get(&self, org: Option<&str>, uuid: &str) -> Result<Option<StoredEvent>, StoreError>;
    /// Deletes events published before `cutoff`; returns how many.
    fn purge_before(&self, cutoff: Timestamp) -> Result<u64, StoreError>;
    /// Size and span.
    fn stats(&self) -> Result<StoreStats, StoreError>;
}

/// A group of [`Store::count_by_fields`]: one value per field (`None` where an event has
/// none), and how many matching events have them.
pub type FieldsGroup = (Vec<Option<String>>, u64);

/// An alert as the store keeps it: what a detection found, the events behind it, and where
/// its handling stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlertRecord {
    /// Stable id: the same rule, group and first event always make the same alert.
    pub id: String,
    /// The detection's id.
    pub rule: String,
    /// `info`, `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// The group it is about (a user, an IP, a session…).
    pub group: String,
    /// Its first event's time (ISO 8601).
    pub first: String,
    /// Its last event's time.
    pub last: String,
    /// The uuids of the events behind it, oldest first.
    pub events: Vec<String>,
    /// What happened, in words.
    pub explanation: String,
    /// `open`, `acknowledged` or `resolved`.
    pub status: String,
    /// When okwatch raised it (ISO 8601).
    pub raised: String,
    /// The console user handling it, if anyone.
    #[serde(default)]
    pub assignee: Option<String>,
}

/// The statuses an alert moves through, in order (a resolved alert can be opened again).
pub const ALERT_STATUSES: [&str; 3] = ["open", "acknowledged", "resolved"];

/// One entry of an alert's history: a comment, or a change of status or assignee, with who
/// made it and when.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlertNote {
    /// When (ISO 8601).
    pub at: String,
    /// The console user (or `okwatch` for the detections themselves).
    pub by: String,
    /// `comment`, `status` or `assignee`.
    pub kind: String,
    /// The comment, the new status, or the new assignee (empty: nobody).
    pub text: String,
}

/// What a person does to an alert: any of a new status, a new assignee, a comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertChange {
    /// Who.
    pub by: String,
    /// The new status (one of [`ALERT_STATUSES`]).
    pub status: Option<String>,
    /// The new assignee: `Some(None)` takes it off whoever had it.
    pub assignee: Option<Option<String>>,
    /// A comment.
    pub comment: Option<String>,
}

/// Which alerts to list. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlertFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only this rule.
    pub rule: Option<String>,
    /// Only these severities.
    pub severities: Vec<String>,
    /// Only alerts assigned to this user.
    pub assignee: Option<String>,
    /// At most this many, newest (by last event) first.
    pub limit: usize,
}

/// Alerts, kept in the store beside the events they point at.
pub trait AlertStore: Send + Sync {
    /// Keeps an alert a detection raised, or updates the one with its id (more events, a new
    /// severity or explanation) without changing when it was raised, its status or assignee.
    fn put_alert(&self, alert: &AlertRecord) -> Result<(), StoreError>;
    /// The newest alerts (by their last event) that pass `filter`.
    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError>;
    /// One alert.
    fn alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError>;
    /// Applies a person's change and records it in the alert's history, in one transaction;
    /// `None` if there is no such alert. A status outside [`ALERT_STATUSES`] is refused.
    fn change_alert(
        &self,
        id: &str,
        change: &AlertChange,
    ) -> Result<Option<AlertRecord>, StoreError>;
    /// An alert's history, oldest first.
    fn alert_notes(&self, id: &str) -> Result<Vec<AlertNote>, StoreError>;
    /// How many alerts there are per status and severity.
    fn alert_counts(&self) -> Result<Vec<(String, String, u64)>, StoreError>;
}

/// A detection rule as kept in the store: a rule people wrote or imported (okwatch's own YAML
/// or a Sigma rule), or a shipped rule's tuning. The engine reads the text; the store only
/// keeps it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleRecord {
    /// The rule's id (`okwatch.brute_force`, `acme.vpn_failures`, `sigma.{uuid}`).
    pub id: String,
    /// Its definition as YAML; `None` for a shipped rule kept as shipped (only switched on or
    /// off).
    pub source: Option<String>,
    /// Whether it runs.
    pub enabled: bool,
    /// When it was last changed (ISO 8601).
    pub updated: String,
    /// Who changed it.
    pub by: String,
}

/// Detection rules and how far the running detections have read, kept in the store.
pub trait RuleStore: Send + Sync {
    /// Every stored rule, by id.
    fn rule_records(&self) -> Result<Vec<RuleRecord>, StoreError>;
    /// Keeps a rule, or replaces the one with its id.
    fn put_rule_record(&self, rule: &RuleRecord) -> Result<(), StoreError>;
    /// Removes a rule; whether there was one.
    fn delete_rule_record(&self, id: &str) -> Result<bool, StoreError>;
    /// The `seq` of the last event the running detections looked at, and kept the alerts of.
    fn detections_cursor(&self) -> Result<Option<i64>, StoreError>;
    /// Records it.
    fn set_detections_cursor(&self, seq: i64) -> Result<(), StoreError>;
}

/// A notification in the delivery queue: what to send on which channel, and how its delivery
/// stands. Kept in the store, so a restart loses none.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NotificationRecord {
    /// Stable: the channel and what it is about (an alert's id, or a test), so queueing the
    /// same notification twice keeps one.
    pub id: String,
    /// The channel's name (from the configuration).
    pub channel: String,
    /// The alert it tells of, if any (a test tells of none).
    pub alert: Option<String>,
    /// One line: what it says.
    pub subject: String,
    /// What the channel renders (the alert as JSON).
    pub payload: String,
    /// `pending`, `sent` or `failed` (every retry spent).
    pub status: String,
    /// Deliveries tried so far.
    pub attempts: u32,
    /// When to try next (ISO 8601), while pending.
    pub next_attempt: String,
    /// Why the last try failed.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created: String,
    /// When it was delivered.
    pub sent: Option<String>,
}

/// One delivery attempt, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeliveryAttempt {
    /// When (ISO 8601).
    pub at: String,
    /// Whether it was delivered.
    pub delivered: bool,
    /// What the far end said, or why it could not be reached.
    pub detail: String,
}

/// What became of one attempt: delivered, or failed with the time of the next try (`None`:
/// no more tries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    /// The attempt.
    pub attempt: DeliveryAttempt,
    /// When to try again, if it failed and tries remain.
    pub retry_at: Option<String>,
}

/// The notification queue and its delivery log.
pub trait Notifications: Send + Sync {
    /// Queues a notification; `false` if one with its id is already queued or sent.
    fn enqueue(&self, notification: &NotificationRecord) -> Result<bool, StoreError>;
    /// Pending notifications due at `now` (ISO 8601), oldest first.
    fn due_notifications(
        &self,
        now: &str,
        limit: usize,
    ) -> Result<Vec<NotificationRecord>, StoreError>;
    /// Records an attempt and moves the notification on (sent, retried later, or failed), in
    /// one transaction.
    fn record_attempt(&self, id: &str, outcome: &AttemptOutcome) -> Result<(), StoreError>;
    /// The newest notifications, at most `limit`.
    fn notifications(&self, limit: usize) -> Result<Vec<NotificationRecord>, StoreError>;
    /// One notification's attempts, oldest first.
    fn delivery_attempts(&self, id: &str) -> Result<Vec<DeliveryAttempt>, StoreError>;
    /// One notification, by id.
    fn notification(&self, id: &str) -> Result<Option<NotificationRecord>, StoreError>;
}

/// A person who signs in to the console. The password is kept only as a PHC hash string.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserRecord {
    /// The sign-in name.
    pub name: String,
    /// `admin`, `analyst` or `viewer`.
    pub role: String,
    /// The password's hash (argon2id, PHC string format).
    pub password_hash: String,
    /// When the user was created (ISO 8601).
    pub created: String,
}

/// The console's users, kept in the same store as the events they look at (so that a backup
/// of the store is a backup of everything, and the second backend keeps them too).
pub trait Accounts: Send + Sync {
    /// Every user, by name.
    fn users(&self) -> Result<Vec<UserRecord>, StoreError>;
    /// One user.
    fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Creates the user, or replaces the one of that name.
    fn put_user(&self, user: &UserRecord) -> Result<(), StoreError>;
    /// Removes a user and their API tokens; whether there was one.
    fn delete_user(&self, name: &str) -> Result<bool, StoreError>;
    /// Every API token (what is kept of it), oldest first.
    fn api_tokens(&self) -> Result<Vec<ApiTokenRecord>, StoreError>;
    /// The token whose SHA-256 is `sha256`, if any: asked at every API request, so a revoked
    /// token fails at the very next one.
    fn api_token_by_digest(&self, sha256: &str) -> Result<Option<ApiTokenRecord>, StoreError>;
    /// Keeps a new token.
    fn put_api_token(&self, token: &ApiTokenRecord) -> Result<(), StoreError>;
    /// Revokes a token; whether there was one.
    fn delete_api_token(&self, id: &str) -> Result<bool, StoreError>;
}

/// What is kept of an API token a user made: never the token, only its hash. The token acts
/// with its owner's role at the time of each request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiTokenRecord {
    /// Stable id, for revoking.
    pub id: String,
    /// The user it acts for.
    pub owner: String,
    /// What its owner called it.
    pub name: String,
    /// Its first characters, to recognise it in a list.
    pub prefix: String,
    /// Hex SHA-256 of the token.
    #[serde(skip_serializing)]
    pub sha256: String,
    /// When it was made (ISO 8601).
    pub created: String,
}

/// A search someone saved: the explorer's URL query string and what it is for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SavedSearch {
    /// Stable id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it finds, in words.
    pub description: String,
    /// The explorer's query string (`since=-7d&filter=...`).
    pub query: String,
    /// Who saved it (`okwatch` for the ones okwatch ships).
    pub owner: String,
    /// Whether other users see it.
    pub shared: bool,
    /// When it was saved or last changed (ISO 8601).
    pub updated: String,
}

/// Saved searches, kept in the store.
pub trait SavedSearches: Send + Sync {
    /// Every saved search, by name.
    fn saved_searches(&self) -> Result<Vec<SavedSearch>, StoreError>;
    /// One saved search.
    fn saved_search(&self, id: &str) -> Result<Option<SavedSearch>, StoreError>;
    /// Saves a search, or replaces the one with its id.
    fn put_saved_search(&self, search: &SavedSearch) -> Result<(), StoreError>;
    /// Removes a saved search; whether there was one.
    fn delete_saved_search(&self, id: &str) -> Result<bool, StoreError>;
    /// Saves `defaults` once in the store's life (not again after users delete them); whether
    /// this call saved them.
    fn seed_saved_searches(&self, defaults: &[SavedSearch]) -> Result<bool, StoreError>;
}

/// A report sent on a schedule: which report, when, where to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScheduleRecord {
    /// Stable id.
    pub id: String,
    /// What people call it.
    pub name: String,
    /// The report's id (`failed_sign_ins`).
    pub report: String,
    /// When it runs: `daily 08:00`, `weekly mon 08:00`, `monthly 1 08:00`, `cron 0 8 * * 1-5`.
    pub cadence: String,
    /// The IANA time zone of the cadence's times.
    pub timezone: String,
    /// Only this org's events (all orgs when `None`).
    pub org: Option<String>,
    /// The notification channels it is delivered to, by name.
    pub channels: Vec<String>,
    /// E-mail recipients in place of the e-mail channels' own (empty: the channels').
    pub recipients: Vec<String>,
    /// Whether it runs.
    pub enabled: bool,
    /// Who made it.
    pub owner: String,
    /// When it was made (ISO 8601).
    pub created: String,
    /// When it was last changed.
    pub updated: String,
    /// Runs are due at the cadence's times after this (ISO 8601): its creation, the last
    /// scheduled run's time, or the moment its cadence changed. It only moves forward.
    pub anchor: String,
}

/// One run of a schedule: the period it reported on and the notifications it queued.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportRun {
    /// Stable id: the schedule and the time it was due (or started, for "run now").
    pub id: String,
    /// The schedule's id.
    pub schedule: String,
    /// `schedule`, `catch-up` (due while okwatch was down) or `manual` (run now).
    pub trigger: String,
    /// When it started (ISO 8601).
    pub started: String,
    /// The period reported on.
    pub since: String,
    /// Its end.
    pub until: String,
    /// `queued` (deliveries handed to the notification queue) or `failed`.
    pub status: String,
    /// What happened, in words.
    pub detail: String,
    /// The notifications queued, by id (their delivery log says what became of them).
    pub deliveries: Vec<String>,
    /// Who asked, for a manual run.
    pub by: Option<String>,
}

/// Report schedules and their run history.
pub trait ReportSchedules: Send + Sync {
    /// Every schedule, by name.
    fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError>;
    /// One schedule.
    fn schedule(&self, id: &str) -> Result<Option<ScheduleRecord>, StoreError>;
    /// Creates or replaces a schedule; the stored anchor is kept when it is later than the
    /// given one (a run that finished meanwhile is not run again).
    fn put_schedule(&self, schedule: &ScheduleRecord) -> Result<(), StoreError>;
    /// Removes a schedule and its history; whether there was one.
    fn delete_schedule(&self, id: &str) -> Result<bool, StoreError>;
    /// Records a run and, for a scheduled one, moves the schedule's anchor to `due`, in one
    /// transaction.
    fn record_run(&self, run: &ReportRun, due: Option<&str>) -> Result<(), StoreError>;
    /// A schedule's runs (every schedule's when `None`), newest first, at most `limit`.
    fn report_runs(
        &self,
        schedule: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ReportRun>, StoreError>;
}
