//! The tools, resources and prompts.

use crate::guide;
use crate::source::{SourceError, StoreSource};
use chrono::{TimeDelta, Utc};
use okwatch_engine::search_text::SearchText;
use okwatch_engine::{
    collection_status, failed_sign_ins, user_activity, EventSummary, FailureGrouping, Window,
};
use okwatch_model::{format_timestamp, parse_time_bound, Timestamp};
use okwatch_query::{parse_and_validate, AttrPath, Dialect, Expr, Keywords};
use okwatch_store::{Cursor, EventQuery, Order};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, GetPromptResult, Implementation, ListResourcesResult,
    PaginatedRequestParams, PromptMessage, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Resource, ResourceContents, Role, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{
    prompt, prompt_handler, prompt_router, schemars, tool, tool_handler, tool_router, ErrorData,
    RoleServer, ServerHandler,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// Events examined at most by the per-person and per-app answers.
pub(crate) const MAX_EXAMINED: usize = 20_000;
/// Default and largest page of `search_events`.
const DEFAULT_PAGE: usize = 20;
const MAX_PAGE: usize = 100;
/// The window used when a tool is given no `since`.
const DEFAULT_DAYS: i64 = 30;

const FILTER_GUIDE_URI: &str = "okwatch://guide/filter-language";
const EVENT_TYPES_URI: &str = "okwatch://store/event-types";
const STATUS_URI: &str = "okwatch://store/status";

/// okwatch's MCP server.
#[derive(Clone)]
pub struct OkwatchMcp {
    source: StoreSource,
}

impl OkwatchMcp {
    /// A server reading from `source`.
    pub fn new(source: StoreSource) -> OkwatchMcp {
        OkwatchMcp { source }
    }

    pub(crate) fn source(&self) -> &StoreSource {
        &self.source
    }

    /// Every tool: the search and summary tools, the alert tools of [`crate::alerts`], the
    /// report tools of [`crate::reports`] and the SaaS tools of [`crate::usage`].
    fn tools() -> rmcp::handler::server::router::tool::ToolRouter<OkwatchMcp> {
        Self::tool_router() + Self::alert_tools() + Self::report_tools() + Self::usage_tools()
    }
}

/// Why a tool gave no answer.
pub(crate) enum ToolError {
    /// Something the caller can correct: shown to the model as a tool error.
    Caller(String),
    /// The store failed.
    Store(String),
}

impl From<SourceError> for ToolError {
    fn from(e: SourceError) -> Self {
        match e {
            // Nothing the model did wrong, but something it should tell the person.
            SourceError::Store(
                okwatch_store::StoreError::Busy { .. } | okwatch_store::StoreError::Missing(_),
            ) => ToolError::Caller(e.to_string()),
            other => ToolError::Store(other.to_string()),
        }
    }
}

impl From<okwatch_store::StoreError> for ToolError {
    fn from(e: okwatch_store::StoreError) -> Self {
        SourceError::Store(e).into()
    }
}

impl From<okwatch_engine::EngineError> for ToolError {
    fn from(e: okwatch_engine::EngineError) -> Self {
        match e {
            okwatch_engine::EngineError::Store(e) => e.into(),
            okwatch_engine::EngineError::BadRequest(m) => ToolError::Caller(m),
        }
    }
}

/// Turns an answer into the tool result: compact JSON text, or a tool error.
pub(crate) fn reply(answer: Result<Value, ToolError>) -> Result<CallToolResult, ErrorData> {
    match answer {
        Ok(value) => Ok(CallToolResult::success(vec![ContentBlock::text(
            value.to_string(),
        )])),
        Err(ToolError::Caller(message)) => {
            Ok(CallToolResult::error(vec![ContentBlock::text(message)]))
        }
        Err(ToolError::Store(message)) => Err(ErrorData::internal_error(message, None)),
    }
}

pub(crate) fn to_json(value: impl serde::Serialize) -> Result<Value, ToolError> {
    serde_json::to_value(value).map_err(|e| ToolError::Store(e.to_string()))
}

fn bound(name: &str, text: Option<&str>, now: Timestamp) -> Result<Option<Timestamp>, ToolError> {
    text.filter(|t| !t.trim().is_empty())
        .map(|t| {
            parse_time_bound(t, now).map_err(|e| {
                ToolError::Caller(format!(
                    "{name}: {e}. Use ISO 8601 (2026-11-01T00:00:00Z) or relative (-7d, -24h, now)."
                ))
            })
        })
        .transpose()
}

/// The window from `since`/`until`, `since` defaulting to `DEFAULT_DAYS` ago.
pub(crate) fn window(since: Option<&str>, until: Option<&str>) -> Result<Window, ToolError> {
    let now = Utc::now();
    Ok(Window {
        since: Some(bound("since", since, now)?.unwrap_or(now - TimeDelta::days(DEFAULT_DAYS))),
        until: bound("until", until, now)?,
    })
}

pub(crate) fn window_json(window: Window) -> Value {
    json!({
        "since": window.since.map(format_timestamp),
        "until": window.until.map(format_timestamp).unwrap_or_else(|| "now".into()),
    })
}

fn parse_filter(text: &str) -> Result<Expr, ToolError> {
    parse_and_validate(text, Dialect::Okwatch).map_err(|e| {
        ToolError::Caller(format!(
            "invalid filter: {}\nRead {FILTER_GUIDE_URI} or call explain_filter.",
            e.render(text)
        ))
    })
}

/// `search_events` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    /// Okta System Log filter expression, e.g. `eventType eq "user.session.start" and
    /// outcome.result eq "FAILURE"`. See the resource okwatch://guide/filter-language.
    #[serde(default)]
    pub filter: Option<String>,
    /// Keywords: every word must appear as a whole token somewhere in the event (an IP address,
    /// a session id, a name).
    #[serde(default)]
    pub q: Option<String>,
    /// Start of the period: ISO 8601 or relative (-7d, -24h). Default: all stored history.
    #[serde(default)]
    pub since: Option<String>,
    /// End of the period (exclusive). Default: now.
    #[serde(default)]
    pub until: Option<String>,
    /// Events per page, 1 to 100. Default 20.
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page; pass the same filter, q, since and until with it.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `get_event` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct GetEventArgs {
    /// The event's uuid.
    pub uuid: String,
}

/// `explain_filter` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ExplainArgs {
    /// The filter expression to check.
    pub filter: String,
}

/// `user_activity` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct UserArgs {
    /// The person: their Okta login (usually an email, matched exactly) or Okta user id (00u...).
    pub user: String,
    /// Start of the period (ISO 8601 or -7d, -24h). Default: 30 days ago.
    #[serde(default)]
    pub since: Option<String>,
    /// End of the period. Default: now.
    #[serde(default)]
    pub until: Option<String>,
}

/// `failed_sign_ins` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct FailedArgs {
    /// Group by `user`, `ip`, `country` or `reason`.
    pub group_by: String,
    /// Start of the period (ISO 8601 or -7d, -24h). Default: 30 days ago.
    #[serde(default)]
    pub since: Option<String>,
    /// End of the period. Default: now.
    #[serde(default)]
    pub until: Option<String>,
    /// How many groups, largest first, 1 to 100. Default 10.
    #[serde(default)]
    pub top: Option<u32>,
}

/// `run_saved_search` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct RunSavedArgs {
    /// The saved search's id or its exact name, from list_saved_searches.
    pub search: String,
    /// Events per page, 1 to 100. Default 20.
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page of the same saved search.
    #[serde(default)]
    pub cursor: Option<String>,
}

/// `investigate_user` prompt arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct InvestigateArgs {
    /// The person's Okta login or user id.
    pub user: String,
    /// How many days back to look (default 30).
    #[serde(default)]
    pub days: Option<String>,
}

#[tool_router]
impl OkwatchMcp {
    #[tool(
        description = "Search the stored Okta System Log, newest first. Combine an Okta filter expression, keywords (q) and a period. Returns the total number of matches, one page of compact event summaries (uuid, time, type, outcome, actor, IP, location, targets) and next_cursor for the following page. Use get_event for an event's full JSON, and narrow with filter or since when the total is large.",
        annotations(read_only_hint = true)
    )]
    async fn search_events(
        &self,
        Parameters(args): Parameters<SearchArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        reply(self.search(args).await)
    }

    #[tool(
        description = "The full, original JSON of one System Log event, by uuid.",
        annotations(read_only_hint = true)
    )]
    async fn get_event(
        &self,
        Parameters(args): Parameters<GetEventArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let uuid = args.uuid.trim().to_string();
        reply(
            self.source
                .with(move |store| {
                    store
                        .get(None, &uuid)?
                        .map(|stored| stored.event)
                        .ok_or_else(|| {
                            ToolError::Caller(format!(
                                "no stored event has uuid {uuid}; uuids come from search_events"
                            ))
                        })
                })
                .await,
        )
    }

    #[tool(
        description = "Check an Okta System Log filter expression. If it is valid: its normalised form, what it means in words, the attributes it uses, and how many stored events match (all time and last 7 days). If not: the position of the mistake and what was expected there.",
        annotations(read_only_hint = true)
    )]
    async fn explain_filter(
        &self,
        Parameters(args): Parameters<ExplainArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let text = args.filter;
        let expr = match parse_and_validate(&text, Dialect::Okwatch) {
            Ok(expr) => expr,
            Err(e) => {
                return reply(Ok(json!({
                    "valid": false,
                    "position": e.position,
                    "message": e.message,
                    "pointer": e.render(&text),
                })))
            }
        };
        let week_ago = Utc::now() - TimeDelta::days(7);
        let answer = self
            .source
            .with(move |store| {
                let all = EventQuery {
                    filter: Some(expr.clone()),
                    ..EventQuery::default()
                };
                let recent = EventQuery {
                    since: Some(week_ago),
                    ..all.clone()
                };
                let mut attributes: Vec<String> = expr.paths().iter().map(|p| p.dotted()).collect();
                attributes.sort();
                attributes.dedup();
                Ok::<_, ToolError>(json!({
                    "valid": true,
                    "normalized": expr.to_string(),
                    "in_words": in_words(&expr),
                    "attributes": attributes,
                    "matching_events": store.count(&all)?,
                    "matching_events_last_7_days": store.count(&recent)?,
                }))
            })
            .await;
        reply(answer)
    }

    #[tool(
        description = "One person's activity over a period: sign-ins succeeded and failed, apps they signed in to (with counts and last use), MFA factors, devices (OS / browser), locations, IP addresses, failures by type and reason, their newest failures, and event types. Says how many of their events it examined.",
        annotations(read_only_hint = true)
    )]
    async fn user_activity(
        &self,
        Parameters(args): Parameters<UserArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let answer = async {
            let window = window(args.since.as_deref(), args.until.as_deref())?;
            let user = args.user.trim().to_string();
            if user.is_empty() {
                return Err(ToolError::Caller(
                    "user is empty: give a login or a user id".into(),
                ));
            }
            let activity = self
                .source
                .with(move |store| {
                    user_activity(store, &user, window, MAX_EXAMINED).map_err(ToolError::from)
                })
                .await?;
            let mut value = to_json(&activity)?;
            value["window"] = window_json(window);
            if activity.events == 0 {
                value["hint"] = json!("No events with this actor. Logins are matched exactly: try search_events with q set to part of the name.");
            }
            Ok(value)
        };
        reply(answer.await)
    }

    #[tool(
        description = "Failed sign-ins (eventType user.session.start with outcome FAILURE) over a period, counted per user, ip, country or reason, largest groups first, with the total.",
        annotations(read_only_hint = true)
    )]
    async fn failed_sign_ins(
        &self,
        Parameters(args): Parameters<FailedArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let answer = async {
            let by = FailureGrouping::parse(&args.group_by).ok_or_else(|| {
                ToolError::Caller(format!(
                    "group_by must be one of user, ip, country, reason (got {:?})",
                    args.group_by
                ))
            })?;
            let window = window(args.since.as_deref(), args.until.as_deref())?;
            let top = args.top.unwrap_or(10).clamp(1, 100) as usize;
            let answer = self
                .source
                .with(move |store| failed_sign_ins(store, window, by, top).map_err(ToolError::from))
                .await?;
            let mut value = to_json(answer)?;
            value["window"] = window_json(window);
            Ok(value)
        };
        reply(answer.await)
    }

    #[tool(
        description = "The saved searches shared in the okwatch console (including the ones okwatch ships, such as failed sign-ins and admin privilege changes): id, name, what each finds, and its period, filter and keywords.",
        annotations(read_only_hint = true)
    )]
    async fn list_saved_searches(&self) -> Result<CallToolResult, ErrorData> {
        let answer = self
            .source
            .with_saved(|saved, _| {
                let searches: Vec<Value> = saved
                    .saved_searches()?
                    .into_iter()
                    .filter(|s| s.shared)
                    .map(|s| {
                        let text = SearchText::from_query(&s.query);
                        json!({
                            "id": s.id,
                            "name": s.name,
                            "description": s.description,
                            "owner": s.owner,
                            "since": text.since,
                            "until": text.until,
                            "filter": text.filter,
                            "q": text.q,
                        })
                    })
                    .collect();
                Ok::<_, ToolError>(json!({ "saved_searches": searches }))
            })
            .await;
        reply(answer)
    }

    #[tool(
        description = "Run a saved search (by id or exact name, from list_saved_searches) over the stored System Log, newest first: the total number of matches and one page of compact event summaries, with next_cursor for the following page. Its period is relative to now (a saved -7d means the last 7 days).",
        annotations(read_only_hint = true)
    )]
    async fn run_saved_search(
        &self,
        Parameters(args): Parameters<RunSavedArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let wanted = args.search.trim().to_string();
        let found = self
            .source
            .with_saved(move |saved, _| {
                let searches = saved.saved_searches()?;
                searches
                    .into_iter()
                    .filter(|s| s.shared)
                    .find(|s| s.id == wanted || s.name == wanted)
                    .ok_or_else(|| {
                        ToolError::Caller(format!(
                            "no shared saved search has the id or name {wanted:?}; list_saved_searches lists them"
                        ))
                    })
            })
            .await;
        let search = match found {
            Ok(search) => search,
            Err(e) => return reply(Err(e)),
        };
        let text = SearchText::from_query(&search.query);
        let answer = self
            .search(SearchArgs {
                filter: Some(text.filter.clone()),
                q: Some(text.q.clone()),
                since: Some(text.since.clone()).filter(|s| s != "all"),
                until: Some(text.until.clone()).filter(|s| !s.is_empty()),
                limit: args.limit,
                cursor: args.cursor,
            })
            .await
            .map(|mut answer| {
                answer["saved_search"] = json!({
                    "id": search.id,
                    "name": search.name,
                    "description": search.description,
                    "since": text.since,
                    "filter": text.filter,
                    "q": text.q,
                });
                answer
            });
        reply(answer)
    }

    #[tool(
        description = "How fresh the stored data is, per Okta org: number of events, oldest and newest event, when okwatch last stored one, and the newest event's age in seconds.",
        annotations(read_only_hint = true)
    )]
    async fn collection_status(&self) -> Result<CallToolResult, ErrorData> {
        let answer = self
            .source
            .with(|store| {
                let orgs = collection_status(store)?;
                Ok::<_, ToolError>(json!({ "orgs": to_json(orgs)? }))
            })
            .await;
        reply(answer)
    }
}

impl OkwatchMcp {
    async fn search(&self, args: SearchArgs) -> Result<Value, ToolError> {
        let now = Utc::now();
        let filter = args
            .filter
            .as_deref()
            .filter(|f| !f.trim().is_empty())
            .map(parse_filter)
            .transpose()?;
        let keywords = Keywords::parse(args.q.as_deref().unwrap_or_default())
            .map_err(|e| ToolError::Caller(format!("q: {}", e.message)))?;
        let after = args
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| {
                Cursor::decode(c).map_err(|_| {
                    ToolError::Caller(format!(
                        "cursor {c:?} is not one this server handed out; use next_cursor from the previous page"
                    ))
                })
            })
            .transpose()?;
        let limit = args
            .limit
            .map_or(DEFAULT_PAGE, |l| l as usize)
            .clamp(1, MAX_PAGE);
        let query = EventQuery {
            filter,
            keywords,
            since: bound("since", args.since.as_deref(), now)?,
            until: bound("until", args.until.as_deref(), now)?,
            order: Order::Desc,
            limit,
            after,
            fields: Some(EventSummary::FIELDS.iter().map(|f| f.to_string()).collect()),
            ..EventQuery::default()
        };
        self.source
            .with(move |store| {
                let total = store.count(&EventQuery {
                    after: None,
                    ..query.clone()
                })?;
                let page = store.search(&query)?;
                let events: Vec<EventSummary> =
                    page.events.iter().map(|e| EventSummary::of(&e.event)).collect();
                let mut answer = json!({
                    "total": total,
                    "returned": events.len(),
                    "events": events,
                });
                if let Some(next) = page.next {
                    answer["next_cursor"] = json!(next.encode());
                    answer["hint"] = json!(
                        "More events match: pass next_cursor (with the same filter, q, since and until) for the next page, or narrow the search."
                    );
                }
                Ok(answer)
            })
            .await
    }
}

/// A filter in words, e.g. `eventType equals "user.session.start" and ...`.
fn in_words(expr: &Expr) -> String {
    fn item(e: &Expr) -> String {
        match e {
            Expr::And(_) | Expr::Or(_) => format!("({})", in_words(e)),
            _ => in_words(e),
        }
    }
    match expr {
        Expr::And(items) => items.iter().map(item).collect::<Vec<_>>().join(" and "),
        Expr::Or(items) => items.iter().map(item).collect::<Vec<_>>().join(" or "),
        Expr::Not(inner) => format!("not ({})", in_words(inner)),
        Expr::Compare { path, op, value } => {
            let any = if path.segments.first().map(String::as_str) == Some("target") {
                "some target's "
            } else {
                ""
            };
            format!("{any}{path} {} {value}", op.words())
        }
        Expr::Present(path) => format!("{path} is present"),
    }
}

#[prompt_router]
impl OkwatchMcp {
    /// Investigate one person's recent Okta activity for signs of compromise.
    #[prompt(name = "investigate_user")]
    async fn investigate_user(
        &self,
        Parameters(args): Parameters<InvestigateArgs>,
    ) -> Result<GetPromptResult, ErrorData> {
        let days = args
            .days
            .as_deref()
            .and_then(|d| d.trim().parse::<u32>().ok())
            .unwrap_or(30);
        let user = args.user;
        let text = format!(
            "Investigate the Okta activity of {user} over the last {days} days using the okwatch tools.\n\
             1. Call user_activity with user={user:?} and since=\"-{days}d\".\n\
             2. Look for: sign-ins from new countries or IPs, impossible travel (two countries too close in time), \
             bursts of failures, MFA push denials or many pushes in a row, a lockout, new devices, password or factor resets, \
             privilege grants, and apps they rarely use.\n\
             3. For anything suspicious, call search_events with a filter on actor.alternateId eq {user:?} (and the IP, \
             event type or time range) to read the events, and get_event for the full JSON of the key ones.\n\
             4. Report: a one-paragraph verdict (benign / suspicious / compromised, with confidence), a timeline of the \
             notable events with their uuids, and recommended actions."
        );
        Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description(format!("Investigate {user} over {days} days")),
        )
    }

    /// A weekly review of access to Okta: failures, attacks, app use and administrative changes.
    #[prompt(name = "weekly_access_review")]
    async fn weekly_access_review(&self) -> Result<GetPromptResult, ErrorData> {
        let text = "Prepare this week's Okta access review with the okwatch tools, for the last 7 days (since=\"-7d\").\n\
             1. collection_status: say whether the data is complete and fresh enough to trust.\n\
             2. failed_sign_ins grouped by ip, then by user, then by country: name any password spraying (one IP, many users) \
             or brute force (one user, many failures) and any lockouts.\n\
             3. search_events with filter eventType sw \"user.account.privilege\" or eventType sw \"policy.\" or \
             eventType sw \"system.api_token\" for admin grants, policy changes and API tokens; list who changed what.\n\
             4. app_usage: apps with assignments added or removed, apps with few active users, unused licences and what they cost; renewals coming up.\n\
             5. Write the review: a summary, findings ordered by risk (each with the evidence's uuids), and follow-ups.";
        Ok(
            GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
                .with_description("Weekly Okta access review"),
        )
    }
}

#[tool_handler(router = Self::tools())]
#[prompt_handler]
impl ServerHandler for OkwatchMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new("okwatch", env!("CARGO_PKG_VERSION")))
        .with_instructions(
            "okwatch keeps the Okta System Log of one or more orgs, beyond Okta's 90 days. Start with \
             collection_status to see what is stored; use failed_sign_ins, user_activity and app_usage (with licences, spend and \
             savings) and renewals for summaries, search_events to find events (Okta filter syntax: read okwatch://guide/filter-language \
             or check a filter with explain_filter) and get_event for one event's full JSON.",
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(vec![
            Resource::new(FILTER_GUIDE_URI, "filter-language")
                .with_title("Okta filter language")
                .with_description(
                    "How to write filter expressions for search_events, with examples",
                )
                .with_mime_type("text/markdown"),
            Resource::new(EVENT_TYPES_URI, "event-types")
                .with_title("Event types in the store")
                .with_description("Every event type stored, with how many events of each")
                .with_mime_type("application/json"),
            Resource::new(STATUS_URI, "status")
                .with_title("Collection status")
                .with_description("Per org: events stored, oldest and newest, freshness")
                .with_mime_type("application/json"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri;
        let text = match uri.as_str() {
            FILTER_GUIDE_URI => guide::filter_language(),
            EVENT_TYPES_URI => self
                .source
                .with(|store| {
                    let types = store.count_by_field(
                        &EventQuery::default(),
                        &AttrPath::from_dotted("eventType"),
                        1000,
                    )?;
                    let types: Vec<Value> = types
                        .into_iter()
                        .map(|(t, n)| json!({"event_type": t, "events": n}))
                        .collect();
                    Ok::<_, ToolError>(Value::Array(types).to_string())
                })
                .await
                .map_err(resource_error)?,
            STATUS_URI => self
                .source
                .with(|store| Ok::<_, ToolError>(to_json(collection_status(store)?)?.to_string()))
                .await
                .map_err(resource_error)?,
            _ => {
                return Err(ErrorData::resource_not_found(
                    format!("no resource {uri}; list_resources names them"),
                    None,
                ))
            }
        };
        Ok(ReadResourceResult::new(vec![ResourceContents::text(text, uri)]).into())
    }
}

fn resource_error(e: ToolError) -> ErrorData {
    match e {
        ToolError::Caller(m) | ToolError::Store(m) => ErrorData::internal_error(m, None),
    }
}
