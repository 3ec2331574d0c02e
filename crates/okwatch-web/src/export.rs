//! Export of the explorer's current search as CSV or NDJSON, streamed: a blocking thread reads
//! the store a page at a time (cursor paging, as the explorer does) into a small bounded
//! channel, so an export of millions of rows holds a few pages in memory, and a client that
//! goes away stops the reading.

use crate::search::SearchText;
use crate::{WebError, WebState};
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use okwatch_engine::EventSummary;
use okwatch_model::{published_of, Timestamp};
use okwatch_store::{EventQuery, Order, Store, StoreError};
use serde_json::Value;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Rows read from the store at a time.
const PAGE: usize = 2_000;

/// About how many events one time window of an export should hold.
const WINDOW_ROWS: usize = 50_000;

/// The CSV's columns: what the explorer shows, one value per cell.
const COLUMNS: &[&str] = &[
    "published",
    "eventType",
    "displayMessage",
    "outcome",
    "reason",
    "actor",
    "actorName",
    "clientIp",
    "city",
    "country",
    "targets",
    "uuid",
];

pub use okwatch_model::csv::cell as csv_cell;

fn csv_row(event: &Value) -> String {
    let s = EventSummary::of(event);
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let geo = &event["client"]["geographicalContext"];
    let cells = [
        s.published,
        s.event_type,
        s.message.unwrap_or_default(),
        s.outcome.unwrap_or_default(),
        s.reason.unwrap_or_default(),
        s.actor.unwrap_or_default(),
        text(&event["actor"]["displayName"]),
        s.ip.unwrap_or_default(),
        text(&geo["city"]),
        text(&geo["country"]),
        s.targets.join("; "),
        s.uuid,
    ];
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

/// The two formats.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Ndjson,
}

/// Reads every match into `sender`, newest first; stops when the receiver is gone.
///
/// Cursor paging over the whole range would make every page find the newest events before the
/// cursor among all older ones (each page would cost as much as the range), so the range is cut
/// into time windows, newest first, and each window is paged on its own: a page's query then
/// reads only its window. Windows start at a day and adapt to keep each between roughly
/// [`WINDOW_ROWS`] / 4 and [`WINDOW_ROWS`] events.
fn produce(store: &dyn Store, mut query: EventQuery, format: Format, sender: mpsc::Sender<Bytes>) {
    if format == Format::Csv {
        let header = format!("{}\r\n", COLUMNS.join(","));
        if sender.blocking_send(Bytes::from(header)).is_err() {
            return;
        }
        // A CSV row reads a few attributes: the store need not rebuild whole events.
        query.fields = Some(EventSummary::FIELDS.iter().map(|f| f.to_string()).collect());
    }
    query.limit = PAGE;
    let fail = |e: StoreError| {
        // The status line is gone already; the truncated file must say so.
        tracing::error!("export stopped: {e}");
        let _ = sender.blocking_send(Bytes::from(format!("\r\n# export failed: {e}\r\n")));
    };
    let (newest, oldest) = match (
        edge(store, &query, Order::Desc),
        edge(store, &query, Order::Asc),
    ) {
        (Ok(Some(newest)), Ok(Some(oldest))) => (newest, oldest),
        (Ok(_), Ok(_)) => return,
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let mut window = TimeDelta::days(1);
    // The first window is open at the top (the range's own end), the last at the bottom.
    let mut until = query.until;
    let mut since = newest - window;
    loop {
        let last = since <= oldest;
        let mut part = EventQuery {
            since: if last { query.since } else { Some(since) },
            until,
            after: None,
            ..query.clone()
        };
        let mut rows = 0;
        loop {
            let page = match store.search(&part) {
                Ok(page) => page,
                Err(e) => return fail(e),
            };
            rows += page.events.len();
            let mut chunk = String::with_capacity(page.events.len() * 400);
            for stored in &page.events {
                match format {
                    Format::Csv => chunk.push_str(&csv_row(&stored.event)),
                    Format::Ndjson => {
                        chunk.push_str(&stored.event.to_string());
                        chunk.push('\n');
                    }
                }
            }
            if sender.blocking_send(Bytes::from(chunk)).is_err() {
                return;
            }
            match page.next {
                Some(next) => part.after = Some(next),
                None => break,
            }
        }
        if last {
            return;
        }
        if rows > WINDOW_ROWS && window > TimeDelta::minutes(10) {
            window = window / 2;
        } else if rows < WINDOW_ROWS / 4 && window < TimeDelta::days(60) {
            window = window * 2;
        }
        until = Some(since);
        since -= window;
    }
}

/// The newest (`Desc`) or oldest (`Asc`) time among the matches.
pub(crate) fn edge(
    store: &dyn Store,
    query: &EventQuery,
    order: Order,
) -> Result<Option<Timestamp>, StoreError> {
    let page = store.search(&EventQuery {
        limit: 1,
        order,
        after: None,
        fields: Some(vec!["published".into()]),
        ..query.clone()
    })?;
    Ok(page.events.first().and_then(|e| published_of(&e.event)))
}

/// A response body fed by a channel.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(http_body::Frame::data(bytes))))
    }
}

pub(crate) async fn export(
    state: WebState,
    query: Option<String>,
    format: Format,
) -> Result<Response, WebError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let text = SearchText::from_pairs(&pairs);
    let search = text.parse(chrono::Utc::now(), PAGE);
    if let Some(problem) = search.filter_problem {
        return Err(WebError::BadRequest(format!(
            "the filter has a mistake at character {}: {}",
            problem.position + 1,
            problem.message
        )));
    }
    if let Some(problem) = search.problems.first() {
        return Err(WebError::BadRequest(problem.clone()));
    }
    let mut query = search.query;
    query.after = None;
    let (sender, receiver) = mpsc::channel(4);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || produce(store.as_ref(), query, format, sender));
    let (kind, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Ndjson => ("application/x-ndjson", "ndjson"),
    };
    let name = format!(
        "okwatch-events-{}.{extension}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::new(ChannelBody(receiver)),
    )
        .into_response())
}

/// `GET /export.csv`.
pub(crate) async fn csv(
    State(state): State<WebState>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    export(state, query, Format::Csv).await
}

/// `GET /export.ndjson`.
pub(crate) async fn ndjson(
    State(state): State<WebState>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    export(state, query, Format::Ndjson).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_separators_quoted() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "+1");
        assert_eq!(csv_cell("-2+3"), "'-2+3");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
        assert_eq!(csv_cell("plain"), "plain");
    }

    #[test]
    fn a_row_has_every_column() {
        let row = csv_row(&serde_json::json!({"uuid": "u", "eventType": "x.y"}));
        assert_eq!(row.trim_end().split(',').count(), COLUMNS.len());
        assert!(row.ends_with("\r\n"));
    }
}
