//! Reading the store through the running `okwatch serve`.
//!
//! DuckDB lets one process open a store file for writing and no other process open it
//! meanwhile, so while `serve` runs, `okwatch search`, `stats` and `okwatch mcp` ask it instead:
//! [`LocalReader`] opens the file read-only when it can and otherwise forwards each call to the
//! server named in `DATA_DIR/serve.json` ([`RemoteStore`], over the store API this module also
//! serves: `POST /api/okwatch/v1/store/{search,count,group,group_many,histogram,aggregate,get,stats,saved_searches,
//! alerts,alert,alert_counts,rules}`, and `{directory,directory_summaries,contracts}` in
//! [`super::remote_usage`]).

use super::local::{self, LocalServer};
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use okwatch_model::Timestamp;
use okwatch_query::{parse_and_validate, parse_filter, Dialect, Keywords};
use okwatch_store::{
    AlertChange, AlertFilter, AlertNote, AlertRecord, AlertStore, Bucket, Checkpoint, Cursor,
    EventBatch, EventPage, EventQuery, InsertOutcome, Order, RuleRecord, RuleStore, SavedSearch,
    SavedSearches, Store, StoreError, StoreStats, StoredEvent,
};
use okwatch_store_duckdb::DuckDbStore;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where the store API answers.
pub const STORE_API: &str = "/api/okwatch/v1/store";

/// The most events (or groups) one store API call answers with: a larger search is asked for
/// page by page, so no call can make the server hold more than one page in memory.
pub const MAX_PAGE: usize = 10_000;

/// An [`EventQuery`] as it crosses the wire: the filter and keywords as text, parsed again by
/// the server.
#[derive(Debug, Serialize, Deserialize)]
struct WireQuery {
    org: Option<String>,
    filter: Option<String>,
    q: Option<String>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    order: String,
    limit: usize,
    after: Option<String>,
    fields: Option<Vec<String>>,
}

impl WireQuery {
    fn of(query: &EventQuery) -> WireQuery {
        WireQuery {
            org: query.org.clone(),
            filter: query.filter.as_ref().map(|f| f.to_string()),
            q: (!query.keywords.is_empty()).then(|| query.keywords.words().join(" ")),
            since: query.since,
            until: query.until,
            order: match query.order {
                Order::Asc => "asc",
                Order::Desc => "desc",
                Order::Arrival => "arrival",
            }
            .into(),
            limit: query.limit,
            after: query.after.map(|c| c.encode()),
            fields: query.fields.clone(),
        }
    }

    fn query(self) -> Result<EventQuery, String> {
        let filter = match &self.filter {
            Some(text) => Some(
                parse_and_validate(text, Dialect::Okwatch)
                    .or_else(|_| parse_filter(text))
                    .map_err(|e| format!("filter: {e}"))?,
            ),
            None => None,
        };
        let keywords = match &self.q {
            Some(q) => Keywords::parse(q).map_err(|e| format!("q: {e}"))?,
            None => Keywords::default(),
        };
        let after = match &self.after {
            Some(cursor) => Some(Cursor::decode(cursor).map_err(|e| e.to_string())?),
            None => None,
        };
        let order = match self.order.as_str() {
            "asc" => Order::Asc,
            "desc" => Order::Desc,
            "arrival" => Order::Arrival,
            other => return Err(format!("unknown order `{other}`")),
        };
        Ok(EventQuery {
            org: self.org,
            filter,
            keywords,
            since: self.since,
            until: self.until,
            order,
            limit: self.limit,
            after,
            fields: self.fields,
        })
    }
}

fn bucket_of(name: &str) -> Option<Bucket> {
    [Bucket::Hour, Bucket::Day, Bucket::Week, Bucket::Month]
        .into_iter()
        .find(|b| b.name() == name)
}

/// The store API's routes over `store` (the caller puts them behind authentication).
pub fn routes(store: Arc<DuckDbStore>) -> axum::Router {
    use okwatch_web::access::Declared;
    axum::Router::new()
        .at(&format!("{STORE_API}/{{op}}"), axum::routing::post(answer))
        .with_state(store)
}

async fn answer(
    State(store): State<Arc<DuckDbStore>>,
    UrlPath(op): UrlPath<String>,
    Json(body): Json<Value>,
) -> Response {
    let result = tokio::task::spawn_blocking(move || serve_op(store.as_ref(), &op, body)).await;
    match result {
        Ok(Ok(value)) => Json(value).into_response(),
        Ok(Err((status, message))) => (status, Json(json!({ "error": message }))).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "error": format!("the store call did not finish: {e}") })),
        )
            .into_response(),
    }
}

pub(super) type OpError = (StatusCode, String);

pub(super) fn bad(message: impl Into<String>) -> OpError {
    (StatusCode::BAD_REQUEST, message.into())
}

/// The caller's mistakes are told as they are; the database's own failures are logged here and
/// told only as a failure (their text names tables and internals).
pub(super) fn store_error(e: StoreError) -> OpError {
    match e {
        StoreError::BadCursor(_) | StoreError::UnsupportedGroupBy(_) | StoreError::Invalid(_) => {
            (StatusCode::BAD_REQUEST, e.to_string())
        }
        e => {
            tracing::error!("store API call failed: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the store could not answer (the server's log says why)".into(),
            )
        }
    }
}

pub(super) fn field<T: DeserializeOwned>(body: &Value, name: &str) -> Result<T, OpError> {
    serde_json::from_value(body[name].clone()).map_err(|e| bad(format!("`{name}`: {e}")))
}

/// A grouping's `top`, within [`MAX_PAGE`].
fn top_of(body: &Value) -> Result<usize, OpError> {
    let top: usize = field(body, "top")?;
    if top > MAX_PAGE {
        return Err(bad(format!("`top` is at most {MAX_PAGE}")));
    }
    Ok(top)
}

fn serve_op(store: &DuckDbStore, op: &str, body: Value) -> Result<Value, OpError> {
    let query = || -> Result<EventQuery, OpError> {
        field::<WireQuery>(&body, "query")?.query().map_err(bad)
    };
    Ok(match op {
        "search" => {
            let query = query()?;
            if query.limit > MAX_PAGE {
                return Err(bad(format!(
                    "`limit` is at most {MAX_PAGE} a call (ask for the next page with `after`)"
                )));
            }
            let page = store.search(&query).map_err(store_error)?;
            json!({ "events": page.events, "next": page.next.map(|c| c.encode()) })
        }
        "count" => json!({ "count": store.count(&query()?).map_err(store_error)? }),
        "group" => {
            let path: String = field(&body, "field")?;
            let top = top_of(&body)?;
            let field = okwatch_query::AttrPath::from_dotted(&path);
            json!({ "groups": store.count_by_field(&query()?, &field, top).map_err(store_error)? })
        }
        "group_many" => {
            let paths: Vec<String> = field(&body, "fields")?;
            let top = top_of(&body)?;
            let fields: Vec<okwatch_query::AttrPath> = paths
                .iter()
                .map(|p| okwatch_query::AttrPath::from_dotted(p))
                .collect();
            json!({ "groups": store.count_by_fields(&query()?, &fields, top).map_err(store_error)? })
        }
        "histogram" => {
            let name: String = field(&body, "bucket")?;
            let bucket = bucket_of(&name).ok_or_else(|| bad(format!("unknown bucket `{name}`")))?;
            json!({ "buckets": store.count_by_time(&query()?, bucket).map_err(store_error)? })
        }
        "aggregate" => {
            let aggregation: okwatch_store::Aggregation = field(&body, "aggregation")?;
            json!({ "rows": store.aggregate(&query()?, &aggregation).map_err(store_error)? })
        }
        "get" => {
            let org: Option<String> = field(&body, "org")?;
            let uuid: String = field(&body, "uuid")?;
            let found = store.get(org.as_deref(), &uuid).map_err(store_error)?;
            json!({ "event": found })
        }
        "stats" => json!(store.stats().map_err(store_error)?),
        "saved_searches" => {
            json!({ "saved_searches": store.saved_searches().map_err(store_error)? })
        }
        "alerts" => {
            let filter: AlertFilter = field(&body, "filter")?;
            json!({ "alerts": store.alerts(&filter).map_err(store_error)? })
        }
        "alert" => {
            let id: String = field(&body, "id")?;
            json!({
                "alert": store.alert(&id).map_err(store_error)?,
                "notes": store.alert_notes(&id).map_err(store_error)?,
            })
        }
        "alert_counts" => json!({ "counts": store.alert_counts().map_err(store_error)? }),
        "rules" => json!({
            "rules": store.rule_records().map_err(store_error)?,
            "cursor": store.detections_cursor().map_err(store_error)?,
        }),
        "directory" | "directory_summaries" | "contracts" => {
            super::remote_usage::serve_op(store, op, &body)?
        }
        other => {
            return Err((
                StatusCode::NOT_FOUND,
                format!("no store operation `{other}`"),
            ))
        }
    })
}

/// A [`Store`] answered by the running `okwatch serve`. Reading only: writes go through the
/// server's own commands.
pub struct RemoteStore {
    server: LocalServer,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
}

impl RemoteStore {
    /// A client of the server `serve.json` names.
    pub fn new(server: LocalServer) -> Result<RemoteStore, StoreError> {
        let remote = |e: String| StoreError::Remote(e);
        Ok(RemoteStore {
            client: okwatch_collect::http::client(Duration::from_secs(300))
                .map_err(|e| remote(e.to_string()))?,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| remote(e.to_string()))?,
            server,
        })
    }

    pub(super) fn call<T: DeserializeOwned + Send>(
        &self,
        op: &str,
        body: Value,
    ) -> Result<T, StoreError> {
        let url = format!("{}{STORE_API}/{op}", self.server.url);
        let request = self
            .client
            .post(&url)
            .bearer_auth(&self.server.token)
            .json_body(&body);
        let future = async move {
            let response = request.send().await.map_err(|e| {
                StoreError::Remote(format!(
                    "okwatch serve (pid {}) holds the store but did not answer at {}: {e}",
                    self.server.pid, self.server.url
                ))
            })?;
            let status = response.status();
            let bytes = response
                .bytes()
                .await
                .map_err(|e| StoreError::Remote(e.to_string()))?;
            let value: Value = serde_json::from_slice(&bytes)
                .map_err(|e| StoreError::Remote(format!("okwatch serve's answer: {e}")))?;
            if !status.is_success() {
                let message = value["error"].as_str().unwrap_or("no reason given");
                return Err(StoreError::Remote(format!("okwatch serve: {message}")));
            }
            serde_json::from_value(value)
                .map_err(|e| StoreError::Remote(format!("okwatch serve's answer: {e}")))
        };
        // Its own thread: the caller may itself be inside an async runtime (okwatch mcp).
        std::thread::scope(|scope| {
            scope
                .spawn(|| self.runtime.block_on(future))
                .join()
                .unwrap_or_else(|_| Err(StoreError::Remote("the request panicked".into())))
        })
    }
}

/// Why a reading store refuses to write.
pub(super) fn read_only() -> StoreError {
    StoreError::Remote(
        "okwatch serve holds the store: this command cannot write through it; stop the server first".into(),
    )
}

/// Sends JSON without reqwest's `json` feature.
trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
    }
}

#[derive(Deserialize)]
struct WirePage {
    events: Vec<StoredEvent>,
    next: Option<String>,
}

impl Store for RemoteStore {
    fn insert(&self, _: EventBatch) -> Result<InsertOutcome, StoreError> {
        Err(read_only())
    }

    fn insert_collected(&self, _: EventBatch, _: &Checkpoint) -> Result<InsertOutcome, StoreError> {
        Err(read_only())
    }

    fn checkpoint_of(&self, _: &str, _: &str) -> Result<Option<Checkpoint>, StoreError> {
        Err(read_only())
    }

    fn search(&self, query: &EventQuery) -> Result<EventPage, StoreError> {
        // The server answers at most MAX_PAGE events a call: a larger page is several calls.
        let mut asked = query.clone();
        let mut events = Vec::new();
        loop {
            asked.limit = query.limit.saturating_sub(events.len()).min(MAX_PAGE);
            let page: WirePage = self.call("search", json!({ "query": WireQuery::of(&asked) }))?;
            events.extend(page.events);
            let next = page.next.map(|c| Cursor::decode(&c)).transpose()?;
            match next {
                Some(cursor) if events.len() < query.limit => asked.after = Some(cursor),
                next => return Ok(EventPage { events, next }),
            }
        }
    }

    fn count(&self, query: &EventQuery) -> Result<u64, StoreError> {
        #[derive(Deserialize)]
        struct Count {
            count: u64,
        }
        let answer: Count = self.call("count", json!({ "query": WireQuery::of(query) }))?;
        Ok(answer.count)
    }

    fn count_by_field(
        &self,
        query: &EventQuery,
        field: &okwatch_query::AttrPath,
        top: usize,
    ) -> Result<Vec<(Option<String>, u64)>, StoreError> {
        #[derive(Deserialize)]
        struct Groups {
            groups: Vec<(Option<String>, u64)>,
        }
        let body = json!({ "query": WireQuery::of(query), "field": field.dotted(), "top": top.min(MAX_PAGE) });
        Ok(self.call::<Groups>("group", body)?.groups)
    }

    fn count_by_fields(
        &self,
        query: &EventQuery,
        fields: &[okwatch_query::AttrPath],
        top: usize,
    ) -> Result<Vec<okwatch_store::FieldsGroup>, StoreError> {
        #[derive(Deserialize)]
        struct Groups {
            groups: Vec<(Vec<Option<String>>, u64)>,
        }
        let paths: Vec<String> = fields.iter().map(|f| f.dotted()).collect();
        let body =
            json!({ "query": WireQuery::of(query), "fields": paths, "top": top.min(MAX_PAGE) });
        Ok(self.call::<Groups>("group_many", body)?.groups)
    }

    fn count_by_time(
        &self,
        query: &EventQuery,
        bucket: Bucket,
    ) -> Result<Vec<(Timestamp, u64)>, StoreError> {
        #[derive(Deserialize)]
        struct Buckets {
            buckets: Vec<(Timestamp, u64)>,
        }
        let body = json!({ "query": WireQuery::of(query), "bucket": bucket.name() });
        Ok(self.call::<Buckets>("histogram", body)?.buckets)
    }

    fn aggregate(
        &self,
        query: &EventQuery,
        aggregation: &okwatch_store::Aggregation,
    ) -> Result<Vec<okwatch_store::AggregateRow>, StoreError> {
        #[derive(Deserialize)]
        struct Rows {
            rows: Vec<okwatch_store::AggregateRow>,
        }
        let body = json!({ "query": WireQuery::of(query), "aggregation": aggregation });
        Ok(self.call::<Rows>("aggregate", body)?.rows)
    }

    fn get(&self, org: Option<&str>, uuid: &str) -> Result<Option<StoredEvent>, StoreError> {
        #[derive(Deserialize)]
        struct Found {
            event: Option<StoredEvent>,
        }
        let found: Found = self.call("get", json!({ "org": org, "uuid": uuid }))?;
        Ok(found.event)
    }

    fn purge_before(&self, _: Timestamp) -> Result<u64, StoreError> {
        Err(read_only())
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        self.call("stats", json!({}))
    }
}

/// Saved searches are read through the server; saving goes through the console or its API.
impl SavedSearches for RemoteStore {
    fn saved_searches(&self) -> Result<Vec<SavedSearch>, StoreError> {
        #[derive(Deserialize)]
        struct Listed {
            saved_searches: Vec<SavedSearch>,
        }
        Ok(self
            .call::<Listed>("saved_searches", json!({}))?
            .saved_searches)
    }

    fn saved_search(&self, id: &str) -> Result<Option<SavedSearch>, StoreError> {
        Ok(self.saved_searches()?.into_iter().find(|s| s.id == id))
    }

    fn put_saved_search(&self, _: &SavedSearch) -> Result<(), StoreError> {
        Err(read_only())
    }

    fn delete_saved_search(&self, _: &str) -> Result<bool, StoreError> {
        Err(read_only())
    }

    fn seed_saved_searches(&self, _: &[SavedSearch]) -> Result<bool, StoreError> {
        Err(read_only())
    }
}

/// Alerts are read through the server; people change them in the console or its API.
impl AlertStore for RemoteStore {
    fn put_alert(&self, _: &AlertRecord) -> Result<(), StoreError> {
        Err(read_only())
    }

    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        #[derive(Deserialize)]
        struct Listed {
            alerts: Vec<AlertRecord>,
        }
        Ok(self
            .call::<Listed>("alerts", json!({ "filter": filter }))?
            .alerts)
    }

    fn alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
        Ok(self.call::<OneAlert>("alert", json!({ "id": id }))?.alert)
    }

    fn change_alert(&self, _: &str, _: &AlertChange) -> Result<Option<AlertRecord>, StoreError> {
        Err(read_only())
    }

    fn alert_notes(&self, id: &str) -> Result<Vec<AlertNote>, StoreError> {
        Ok(self.call::<OneAlert>("alert", json!({ "id": id }))?.notes)
    }

    fn alert_counts(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        #[derive(Deserialize)]
        struct Counts {
            counts: Vec<(String, String, u64)>,
        }
        Ok(self.call::<Counts>("alert_counts", json!({}))?.counts)
    }
}

#[derive(Deserialize)]
struct OneAlert {
    alert: Option<AlertRecord>,
    notes: Vec<AlertNote>,
}

#[derive(Deserialize)]
struct WireRules {
    rules: Vec<RuleRecord>,
    cursor: Option<i64>,
}

/// Rules are read through the server; people change them in the console, its API, or with
/// `okwatch rules import`, which sends them to the server's API.
impl RuleStore for RemoteStore {
    fn rule_records(&self) -> Result<Vec<RuleRecord>, StoreError> {
        Ok(self.call::<WireRules>("rules", json!({}))?.rules)
    }

    fn put_rule_record(&self, _: &RuleRecord) -> Result<(), StoreError> {
        Err(read_only())
    }

    fn delete_rule_record(&self, _: &str) -> Result<bool, StoreError> {
        Err(read_only())
    }

    fn detections_cursor(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.call::<WireRules>("rules", json!({}))?.cursor)
    }

    fn set_detections_cursor(&self, _: i64) -> Result<(), StoreError> {
        Err(read_only())
    }
}

/// The store of a data directory for reading: the file itself, opened read-only for each call,
/// or, while `okwatch serve` holds it, the server.
pub struct LocalReader {
    path: PathBuf,
    data_dir: PathBuf,
    /// The client of the server last found in `serve.json`, reused while that file names the
    /// same run (`search --all` asks once per page).
    remote: std::sync::Mutex<Option<Arc<RemoteStore>>>,
}

impl LocalReader {
    /// Reads the store in `data_dir`.
    pub fn new(data_dir: &Path) -> LocalReader {
        LocalReader {
            path: super::store_path(data_dir),
            data_dir: data_dir.to_path_buf(),
            remote: Default::default(),
        }
    }

    /// A client of the running server, made once per server run.
    fn remote(&self, server: LocalServer) -> Result<Arc<RemoteStore>, StoreError> {
        let mut cached = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        match cached.as_ref() {
            Some(remote) if remote.server.token == server.token => Ok(remote.clone()),
            _ => {
                let remote = Arc::new(RemoteStore::new(server)?);
                *cached = Some(remote.clone());
                Ok(remote)
            }
        }
    }

    /// Calls `call` on the file opened read-only, or on the server that holds it.
    pub(super) fn either<T>(
        &self,
        file: impl FnOnce(&DuckDbStore) -> Result<T, StoreError>,
        server: impl FnOnce(&RemoteStore) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match DuckDbStore::open_read_only(&self.path) {
            Ok(store) => file(&store),
            Err(busy @ StoreError::Busy { .. }) => match local::read(&self.data_dir) {
                Some(running) => server(self.remote(running)?.as_ref()),
                // Held by something that is not a server (an import): say so.
                None => Err(busy),
            },
            Err(e) => Err(e),
        }
    }

    fn with<T>(&self, call: impl Fn(&dyn Store) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.either(|store| call(store), |remote| call(remote))
    }
}

impl SavedSearches for LocalReader {
    fn saved_searches(&self) -> Result<Vec<SavedSearch>, StoreError> {
        self.either(|s| s.saved_searches(), |s| s.saved_searches())
    }

    fn saved_search(&self, id: &str) -> Result<Option<SavedSearch>, StoreError> {
        self.either(|s| s.saved_search(id), |s| s.saved_search(id))
    }

    fn put_saved_search(&self, _: &SavedSearch) -> Result<(), StoreError> {
        Err(read_only())
    }

    fn delete_saved_search(&self, _: &str) -> Result<bool, StoreError> {
        Err(read_only())
    }

    fn seed_saved_searches(&self, _: &[SavedSearch]) -> Result<bool, StoreError> {
        Err(read_only())
    }
}

impl AlertStore for LocalReader {
    fn put_alert(&self, _: &AlertRecord) -> Result<(), StoreError> {
        Err(read_only())
    }

    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        self.either(|s| s.alerts(filter), |s| s.alerts(filter))
    }

    fn alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
        self.either(|s| s.alert(id), |s| s.alert(id))
    }

    fn change_alert(&self, _: &str, _: &AlertChange) -> Result<Option<AlertRecord>, StoreError> {
        Err(read_only())
    }

    fn alert_notes(&self, id: &str) -> Result<Vec<AlertNote>, StoreError> {
        self.either(|s| s.alert_notes(id), |s| s.alert_notes(id))
    }

    fn alert_counts(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        self.either(|s| s.alert_counts(), |s| s.alert_counts())
    }
}

impl RuleStore for LocalReader {
    fn rule_records(&self) -> Result<Vec<RuleRecord>, StoreError> {
        self.either(|s| s.rule_records(), |s| s.rule_records())
    }

    fn put_rule_record(&self, _: &RuleRecord) -> Result<(), StoreError> {
        Err(read_only())
    }

    fn delete_rule_record(&self, _: &str) -> Result<bool, StoreError> {
        Err(read_only())
    }

    fn detections_cursor(&self) -> Result<Option<i64>, StoreError> {
        self.either(|s| s.detections_cursor(), |s| s.detections_cursor())
    }

    fn set_detections_cursor(&self, _: i64) -> Result<(), StoreError> {
        Err(read_only())
    }
}

impl Store for LocalReader {
    fn insert(&self, _: EventBatch) -> Result<InsertOutcome, StoreError> {
        Err(read_only())
    }

    fn insert_collected(&self, _: EventBatch, _: &Checkpoint) -> Result<InsertOutcome, StoreError> {
        Err(read_only())
    }

    fn checkpoint_of(&self, org: &str, collector: &str) -> Result<Option<Checkpoint>, StoreError> {
        self.with(|s| s.checkpoint_of(org, collector))
    }

    fn search(&self, query: &EventQuery) -> Result<EventPage, StoreError> {
        self.with(|s| s.search(query))
    }

    fn count(&self, query: &EventQuery) -> Result<u64, StoreError> {
        self.with(|s| s.count(query))
    }

    fn count_by_field(
        &self,
        query: &EventQuery,
        field: &okwatch_query::AttrPath,
        top: usize,
    ) -> Result<Vec<(Option<String>, u64)>, StoreError> {
        self.with(|s| s.count_by_field(query, field, top))
    }

    fn count_by_fields(
        &self,
        query: &EventQuery,
        fields: &[okwatch_query::AttrPath],
        top: usize,
    ) -> Result<Vec<okwatch_store::FieldsGroup>, StoreError> {
        self.with(|s| s.count_by_fields(query, fields, top))
    }

    fn count_by_time(
        &self,
        query: &EventQuery,
        bucket: Bucket,
    ) -> Result<Vec<(Timestamp, u64)>, StoreError> {
        self.with(|s| s.count_by_time(query, bucket))
    }

    fn aggregate(
        &self,
        query: &EventQuery,
        aggregation: &okwatch_store::Aggregation,
    ) -> Result<Vec<okwatch_store::AggregateRow>, StoreError> {
        self.with(|s| s.aggregate(query, aggregation))
    }

    fn get(&self, org: Option<&str>, uuid: &str) -> Result<Option<StoredEvent>, StoreError> {
        self.with(|s| s.get(org, uuid))
    }

    fn purge_before(&self, _: Timestamp) -> Result<u64, StoreError> {
        Err(read_only())
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        self.with(|s| s.stats())
    }
}
