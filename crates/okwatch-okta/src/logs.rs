//! `GET /api/v1/logs`: Okta's parameters, defaults, bounds, paging and errors over a store.
//!
//! Two kinds of request, as Okta defines them:
//! - **polling**: no `until`, ascending. Ordered by arrival in the store (Okta: persistence
//!   time), `since` bounds arrival, and the `next` link is always there, also on an empty page,
//!   so a poller can wait and follow it again. An event stored late with an old `published` is
//!   still seen after the cursor.
//! - **bounded**: `until` given, or descending. Ordered by `published`; `next` only while there
//!   may be more.

use crate::error::OktaError;
use crate::links;
use chrono::TimeDelta;
use okwatch_model::{parse_timestamp, Timestamp};
use okwatch_query::{parse_and_validate, Dialect, FilterError, FilterErrorKind, Keywords};
use okwatch_store::{Cursor, EventQuery, Order, Store, StoreError};
use serde_json::Value;
use std::sync::Arc;

/// The endpoint's path.
pub const PATH: &str = "/api/v1/logs";

/// Page size when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 100;
/// The largest `limit` Okta accepts.
pub const MAX_LIMIT: usize = 1000;

/// How far back requests may reach. Okta keeps 90 days and refuses a `since` over 180 days
/// back; okwatch serves its whole history.
#[derive(Debug, Clone, Default)]
pub struct LogsPolicy {
    /// A `since` further back than this is refused with Okta's `E0000053`.
    pub max_since_age: Option<TimeDelta>,
    /// Events published longer ago than this are not returned.
    pub retention: Option<TimeDelta>,
    /// Only this org's events.
    pub org: Option<String>,
}

impl LogsPolicy {
    /// Okta's own limits.
    pub fn okta() -> LogsPolicy {
        LogsPolicy {
            max_since_age: Some(TimeDelta::days(180)),
            retention: Some(TimeDelta::days(90)),
            org: None,
        }
    }
}

/// A validated request.
#[derive(Debug, Clone)]
pub struct LogsRequest {
    /// What to ask the store.
    pub query: EventQuery,
    /// Whether this is a polling request.
    pub polling: bool,
    /// The parameters as received, in order (for the links).
    params: Vec<(String, String)>,
    /// The `until` a bounded request ran with, pinned in its `next` link.
    effective_until: Option<Timestamp>,
}

/// One answered page.
#[derive(Debug, Clone)]
pub struct LogsPage {
    /// The events, exactly as stored.
    pub events: Vec<Value>,
    /// `rel="self"`.
    pub self_url: String,
    /// `rel="next"`.
    pub next_url: Option<String>,
}

/// The System Log API over one store.
pub struct LogsApi {
    store: Arc<dyn Store>,
    policy: LogsPolicy,
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn bad_date(name: &str) -> OktaError {
    OktaError::validation(vec![
        format!("{name}: The date format in your query is not recognized. Please enter dates using ISO8601 string format."),
        format!("{name}: must be a valid date-time or empty."),
    ])
}

fn date_param(params: &[(String, String)], name: &str) -> Result<Option<Timestamp>, OktaError> {
    match param(params, name).map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse_timestamp(text)
            .or_else(|| {
                // Okta also takes a date-time without an offset; it means UTC.
                chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|t| t.and_utc())
            })
            .map(Some)
            .ok_or_else(|| bad_date(name)),
    }
}

/// Okta's answer to a filter or `q` it refuses.
pub fn filter_error(text: &str, e: &FilterError) -> OktaError {
    match e.kind {
        FilterErrorKind::UnknownField => OktaError::invalid_filter(e.message.clone()),
        FilterErrorKind::UnsupportedCombination => OktaError::unsupported_search(e.message.clone()),
        FilterErrorKind::Keywords => OktaError::validation(vec![format!("q: {}", e.message)]),
        FilterErrorKind::Syntax | FilterErrorKind::UnknownOperator => {
            // Okta quotes the filter back; a refused 10,000-character one is shown by its start.
            const QUOTED: usize = 200;
            let quoted: String = text.chars().take(QUOTED).collect();
            let more = if text.chars().nth(QUOTED).is_some() {
                "…"
            } else {
                ""
            };
            OktaError::invalid_filter(format!(
                "Invalid filter '{quoted}{more}': {} at position {}",
                e.message, e.position
            ))
        }
    }
}

impl LogsApi {
    /// The API over `store` with `policy`.
    pub fn new(store: Arc<dyn Store>, policy: LogsPolicy) -> LogsApi {
        LogsApi { store, policy }
    }

    /// The store behind it.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Validates the query parameters as Okta does.
    pub fn request(
        &self,
        params: Vec<(String, String)>,
        now: Timestamp,
    ) -> Result<LogsRequest, OktaError> {
        let limit = match param(&params, "limit").map(str::trim) {
            None | Some("") => DEFAULT_LIMIT,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if n <= MAX_LIMIT => n,
                _ => {
                    return Err(OktaError::validation(vec![format!(
                        "limit: must be a whole number between 0 and {MAX_LIMIT}, not '{text}'."
                    )]))
                }
            },
        };
        let descending = match param(&params, "sortOrder").map(str::trim) {
            None | Some("") => false,
            Some(o) if o.eq_ignore_ascii_case("ASCENDING") => false,
            Some(o) if o.eq_ignore_ascii_case("DESCENDING") => true,
            Some(o) => {
                return Err(OktaError::validation(vec![format!(
                    "sortOrder: must be ASCENDING or DESCENDING, not '{o}'."
                )]))
            }
        };
        let since = date_param(&params, "since")?;
        let until = date_param(&params, "until")?;
        if let (Some(age), Some(since)) = (self.policy.max_since_age, since) {
            if since < now - age {
                return Err(OktaError::invalid_filter(format!(
                    "Invalid parameter: The since parameter is over {} days prior to the current day.",
                    age.num_days()
                )));
            }
        }
        if let (Some(s), Some(u)) = (since, until) {
            if s > u {
                return Err(OktaError::validation(vec![
                    "since: must not be later than until.".into(),
                ]));
            }
        }
        let filter = match param(&params, "filter").map(str::trim) {
            None | Some("") => None,
            Some(text) => {
                Some(parse_and_validate(text, Dialect::Okta).map_err(|e| filter_error(text, &e))?)
            }
        };
        let keywords = match param(&params, "q") {
            None => Keywords::default(),
            Some(text) => Keywords::parse(text).map_err(|e| filter_error(text, &e))?,
        };
        let after = match param(&params, "after").map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(Cursor::decode(text).map_err(|_| {
                OktaError::validation(vec![format!(
                    "after: '{text}' is not a cursor from this server; take it from a next link."
                )])
            })?),
        };
        let polling = until.is_none() && !descending;
        let default_window = TimeDelta::days(7);
        let (order, since, until) = if polling {
            (Order::Arrival, since.unwrap_or(now - default_window), None)
        } else {
            let until = until.unwrap_or(now);
            let since = since.unwrap_or(until - default_window);
            let order = if descending { Order::Desc } else { Order::Asc };
            (order, since, Some(until))
        };
        let since = match self.policy.retention {
            Some(retention) => since.max(now - retention),
            None => since,
        };
        Ok(LogsRequest {
            query: EventQuery {
                org: self.policy.org.clone(),
                filter,
                keywords,
                since: Some(since),
                until,
                order,
                limit,
                after,
                // The API returns whole events.
                fields: None,
            },
            polling,
            params,
            effective_until: until,
        })
    }

    /// Answers a validated request. `base` is the scheme and host clients reach this server by.
    /// Blocking: call it off the async runtime.
    pub fn page(&self, base: &str, request: &LogsRequest) -> Result<LogsPage, OktaError> {
        let page = self.store.search(&request.query).map_err(|e| match e {
            StoreError::BadCursor(_) => {
                OktaError::validation(vec!["after: not a valid cursor.".into()])
            }
            StoreError::Invalid(why) => OktaError::validation(vec![why]),
            other => {
                tracing::error!("System Log query failed: {other}");
                OktaError::internal()
            }
        })?;
        let self_url = links::url(base, PATH, &request.params);
        let next_after = if request.polling {
            // Always a next link: after the last event, or the same position when none came.
            Some(
                page.events
                    .last()
                    .map(|e| {
                        Cursor {
                            published_micros: okwatch_model::published_of(&e.event)
                                .map_or(0, |t| t.timestamp_micros()),
                            seq: e.seq,
                        }
                        .encode()
                    })
                    .or_else(|| request.query.after.map(|c| c.encode())),
            )
        } else {
            page.next.map(|c| Some(c.encode()))
        };
        let next_url = next_after.map(|after| {
            let mut params: Vec<(String, String)> = request
                .params
                .iter()
                .filter(|(k, _)| k != "after" && k != "until")
                .cloned()
                .collect();
            if let Some(until) = request.effective_until {
                params.push(("until".into(), okwatch_model::format_timestamp(until)));
            }
            if let Some(after) = after {
                params.push(("after".into(), after));
            }
            links::url(base, PATH, &params)
        });
        Ok(LogsPage {
            events: page.events.into_iter().map(|e| e.event).collect(),
            self_url,
            next_url,
        })
    }
}
