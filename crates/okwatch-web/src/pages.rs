//! The explorer (`/`) and an event's page (`/events/{uuid}`).

use crate::auth::SignedIn;
use crate::chart::{self, Chart};
use crate::columns::{choices, headings, outcome_class, row, Choice, Prefs, Row};
use crate::search::{literal, url_time, FilterProblem, SearchText, PRESETS};
use crate::{html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use chrono::TimeDelta;
use okwatch_engine::EventSummary;
use okwatch_model::{format_timestamp, published_of};
use okwatch_store::EventQuery;
use serde_json::Value;
use std::time::Instant;

/// Events per page.
const PAGE: usize = 50;

pub(crate) struct Preset {
    label: &'static str,
    value: &'static str,
    selected: bool,
}

pub(crate) struct Link {
    label: String,
    href: String,
}

/// A bar of a count graph as a template draws it, linked to its events.
pub(crate) struct BarView {
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    pub href: String,
    pub title: String,
}

pub(crate) struct StatValue {
    value: String,
    count: u64,
    share: u64,
    include_href: String,
    exclude_href: String,
}

pub(crate) struct FieldStat {
    label: &'static str,
    values: Vec<StatValue>,
}

/// The fields whose top values are counted over all matches.
const STAT_FIELDS: &[(&str, &str)] = &[
    ("Event types", "eventType"),
    ("Outcomes", "outcome.result"),
    ("Actors", "actor.alternateId"),
    ("Client IPs", "client.ipAddress"),
    ("Countries", "client.geographicalContext.country"),
];

/// Values shown per field.
const STAT_TOP: usize = 5;

#[derive(Template)]
#[template(path = "explorer.html")]
pub(crate) struct ExplorerPage {
    user: SignedIn,
    text: SearchText,
    presets: Vec<Preset>,
    custom_range: bool,
    filter_problem: Option<FilterProblem>,
    problems: Vec<String>,
    chips: Vec<Link>,
    quick_filters: Vec<Link>,
    total: u64,
    elapsed_ms: u128,
    chart: Option<Chart>,
    bars: Vec<BarView>,
    rows: Vec<Row>,
    headings: Vec<&'static str>,
    choices: Vec<Choice>,
    time_zone: String,
    orgs: Vec<String>,
    /// The page's own address, to come back to after changing preferences.
    back: String,
    /// Whether new events can arrive in the range (it runs up to now).
    live: bool,
    older_url: Option<String>,
    stats: Vec<FieldStat>,
    export_query: String,
    can_save: bool,
}

fn explorer_href(text: &SearchText) -> String {
    format!("/?{}", text.to_query())
}

/// Categories a person clicks instead of typing a filter (Okta's event types).
const QUICK: &[(&str, &str)] = &[
    ("Sign-ins", r#"eventType eq "user.session.start""#),
    ("Failures", r#"outcome.result eq "FAILURE""#),
    ("SSO", r#"eventType eq "user.authentication.sso""#),
    (
        "MFA",
        r#"eventType sw "user.authentication.auth_via_mfa" or eventType sw "system.push" or eventType sw "user.mfa""#,
    ),
    ("User lifecycle", r#"eventType sw "user.lifecycle""#),
    (
        "Groups and apps",
        r#"eventType sw "group." or eventType sw "application.user_membership""#,
    ),
    (
        "Admin and policy",
        r#"eventType sw "user.account.privilege" or eventType sw "policy." or eventType sw "system.api_token""#,
    ),
    (
        "Threats",
        r#"eventType sw "security." or eventType eq "user.account.report_suspicious_activity_by_enduser""#,
    ),
];

/// `GET /`: the System Log explorer.
pub(crate) async fn explorer(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let text = SearchText::from_pairs(&pairs);
    let prefs = Prefs::of(&headers);
    let orgs = state.orgs().await;
    let started = Instant::now();
    let now = chrono::Utc::now();
    let search = text.parse(now, PAGE);
    let store = state.store.clone();
    let (page, total, counts, bucket, counted) = {
        let search = search.clone();
        tokio::task::spawn_blocking(move || -> Result<_, WebError> {
            let page = store.search(&search.query)?;
            let unpaged = EventQuery {
                after: None,
                ..search.query.clone()
            };
            let total = store.count(&unpaged)?;
            // For "all history", the chart starts at the oldest match.
            let oldest = if search.since.is_none() && total > 0 {
                crate::export::edge(store.as_ref(), &unpaged, okwatch_store::Order::Asc)?
            } else {
                None
            };
            let bucket = search.bucket(oldest);
            let counts = store.count_by_time(&unpaged, bucket)?;
            // Over every match, not a sample.
            let mut stats = Vec::new();
            for (label, path) in STAT_FIELDS {
                let field = okwatch_query::AttrPath::from_dotted(path);
                let top = if total == 0 {
                    Vec::new()
                } else {
                    store.count_by_field(&unpaged, &field, STAT_TOP)?
                };
                stats.push((*label, *path, top));
            }
            Ok((page, total, counts, bucket, stats))
        })
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??
    };
    let chart = chart::chart(&counts, bucket, search.since, search.until);
    let bars = chart
        .as_ref()
        .map(|c| {
            c.bars
                .iter()
                .map(|b| BarView {
                    x: format!("{:.2}", b.x),
                    y: format!("{:.2}", b.y),
                    w: format!("{:.2}", b.w),
                    h: format!("{:.2}", b.h),
                    href: explorer_href(&text.with(|t| {
                        t.since = url_time(b.start);
                        t.until = url_time(b.end);
                    })),
                    title: format!(
                        "{} events, {} to {} UTC",
                        b.count,
                        b.start.format("%Y-%m-%d %H:%M"),
                        b.end.format("%H:%M")
                    ),
                })
                .collect()
        })
        .unwrap_or_default();
    let rows = page.events.iter().map(|e| row(e, &text, &prefs)).collect();
    let older_url = page
        .next
        .map(|cursor| explorer_href(&text.with(|t| t.after = cursor.encode())));
    let chips = chips(&text);
    let quick_filters = QUICK
        .iter()
        .filter(|(_, f)| !text.filter.contains(*f))
        .map(|(label, f)| Link {
            label: (*label).into(),
            href: explorer_href(&text.and_filter(f)),
        })
        .collect();
    let stats = counted
        .into_iter()
        .map(|(label, path, top)| FieldStat {
            label,
            values: top
                .into_iter()
                .filter_map(|(value, count)| {
                    let value = value?;
                    let condition = format!("{path} eq {}", literal(&value));
                    Some(StatValue {
                        include_href: explorer_href(&text.and_filter(&condition)),
                        exclude_href: explorer_href(
                            &text.and_filter(&format!("not ({condition})")),
                        ),
                        share: (count * 100).checked_div(total).unwrap_or(0),
                        value,
                        count,
                    })
                })
                .collect(),
        })
        .filter(|s| !s.values.is_empty())
        .collect();
    let export_query = text.with(|_| {}).to_query();
    let custom_range = !PRESETS.iter().any(|(_, v)| *v == text.since);
    let page = ExplorerPage {
        presets: PRESETS
            .iter()
            .map(|(label, value)| Preset {
                label,
                value,
                selected: *value == text.since,
            })
            .collect(),
        custom_range,
        filter_problem: search.filter_problem,
        problems: search.problems,
        chips,
        quick_filters,
        total,
        elapsed_ms: started.elapsed().as_millis(),
        chart,
        bars,
        rows,
        older_url,
        stats,
        headings: headings(&prefs),
        choices: choices(&prefs),
        back: explorer_href(&text),
        live: text.until.is_empty(),
        time_zone: prefs.time_zone,
        orgs,
        export_query,
        can_save: user.role >= crate::auth::Role::Analyst,
        user,
        text,
    };
    html(&page)
}

/// The filter's top-level `and` conditions as removable chips (a filter that is not a plain
/// conjunction is one chip).
fn chips(text: &SearchText) -> Vec<Link> {
    let parts = split_and(&text.filter);
    if text.filter.is_empty() {
        return Vec::new();
    }
    (0..parts.len())
        .map(|i| {
            let rest: Vec<&str> = parts
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, p)| p.as_str())
                .collect();
            let rest = rest.join(" and ");
            Link {
                label: parts[i].clone(),
                href: explorer_href(&text.with(|t| t.filter = rest.clone())),
            }
        })
        .collect()
}

/// Splits `a and b and (c or d)` at its top-level `and`s, unwrapping one level of
/// parentheses around each part; quoted strings are respected.
fn split_and(filter: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0usize);
    let bytes = filter.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b'(' if !quoted => depth += 1,
            b')' if !quoted => depth -= 1,
            b' ' if !quoted && depth == 0 && filter[i..].starts_with(" and ") => {
                parts.push(filter[start..i].to_string());
                start = i + 5;
                i += 4;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(filter[start..].to_string());
    parts
        .into_iter()
        .map(|p| {
            let p = p.trim();
            let inner = p.strip_prefix('(').and_then(|r| r.strip_suffix(')'));
            match inner {
                Some(inner) if split_and(inner).len() == 1 && balanced(inner) => inner.to_string(),
                _ => p.to_string(),
            }
        })
        .filter(|p| !p.is_empty())
        .collect()
}

fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

#[derive(Template)]
#[template(path = "event.html")]
pub(crate) struct EventPage {
    user: SignedIn,
    uuid: String,
    event_type: String,
    message: String,
    outcome: String,
    outcome_class: &'static str,
    published: String,
    self_href: String,
    pivots: Vec<Link>,
    fields: Vec<(String, String)>,
    raw: String,
    time_zone: String,
}

/// Every leaf of `value` as (dotted path, text), in document order.
fn leaves(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&path, v, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                leaves(&format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Null => {}
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// `GET /events/{uuid}`.
pub(crate) async fn event(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Result<Response, WebError> {
    let store = state.store.clone();
    let id = uuid.clone();
    let found = tokio::task::spawn_blocking(move || store.get(None, &id))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    let Some(stored) = found else {
        return Err(WebError::NotFound(format!("no event with uuid {uuid}")));
    };
    let event = stored.event;
    let s = EventSummary::of(&event);
    let published = published_of(&event);
    let base = SearchText {
        since: "all".into(),
        ..SearchText::default()
    };
    let mut pivots = Vec::new();
    let mut pivot = |label: &str, path: &str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            pivots.push(Link {
                label: label.into(),
                href: explorer_href(&base.and_filter(&format!("{path} eq {}", literal(v)))),
            });
        }
    };
    pivot("This actor", "actor.id", event["actor"]["id"].as_str());
    pivot("This IP", "client.ipAddress", s.ip.as_deref());
    pivot(
        "This session",
        "authenticationContext.externalSessionId",
        event["authenticationContext"]["externalSessionId"].as_str(),
    );
    pivot(
        "This target",
        "target.id",
        event["target"][0]["id"].as_str(),
    );
    if let Some(at) = published {
        let around = |filter: String| SearchText {
            since: format_timestamp(at - TimeDelta::minutes(15)),
            until: format_timestamp(at + TimeDelta::minutes(15)),
            filter,
            highlight: s.uuid.clone(),
            ..SearchText::default()
        };
        pivots.push(Link {
            label: "Events around it (±15 min)".into(),
            href: explorer_href(&around(String::new())),
        });
        if let Some(actor) = event["actor"]["id"].as_str() {
            pivots.push(Link {
                label: "This actor around it".into(),
                href: explorer_href(&around(format!("actor.id eq {}", literal(actor)))),
            });
        }
    }
    let mut fields = Vec::new();
    leaves("", &event, &mut fields);
    let outcome = s.outcome.clone().unwrap_or_default();
    html(&EventPage {
        user,
        self_href: format!("/events/{}", crate::search::encode(&s.uuid)),
        uuid: s.uuid,
        event_type: s.event_type,
        message: s.message.unwrap_or_default(),
        outcome_class: outcome_class(&outcome),
        outcome,
        published: s.published,
        pivots,
        fields,
        raw: serde_json::to_string_pretty(&event).unwrap_or_default(),
        time_zone: Prefs::of(&headers).time_zone,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conjunction_becomes_chips_and_quotes_are_respected() {
        assert_eq!(
            split_and(r#"(a eq "x and y") and b eq 1 and (c eq 1 or d eq 2)"#),
            [r#"a eq "x and y""#, "b eq 1", "c eq 1 or d eq 2"]
        );
        assert_eq!(split_and("(a eq 1) or (b eq 2)"), ["(a eq 1) or (b eq 2)"]);
    }

    #[test]
    fn every_quick_filter_and_pivot_is_a_valid_filter() {
        let pivots = [
            "actor.id",
            "client.ipAddress",
            "authenticationContext.externalSessionId",
            "target.id",
            "eventType",
        ];
        let filters = QUICK
            .iter()
            .map(|(_, f)| f.to_string())
            .chain(pivots.iter().map(|p| format!("{p} eq {}", literal("x"))))
            .chain(
                STAT_FIELDS
                    .iter()
                    .map(|(_, p)| format!("not ({p} eq {})", literal("x"))),
            );
        for filter in filters {
            let parsed =
                okwatch_query::parse_and_validate(&filter, okwatch_query::Dialect::Okwatch);
            assert!(parsed.is_ok(), "{filter}: {parsed:?}");
        }
    }

    #[test]
    fn every_leaf_has_its_path() {
        let mut out = Vec::new();
        leaves(
            "",
            &serde_json::json!({"a": {"b": "x", "n": 3, "z": null}, "t": [{"id": "1"}]}),
            &mut out,
        );
        assert_eq!(
            out,
            [
                ("a.b".to_string(), "x".to_string()),
                ("a.n".into(), "3".into()),
                ("t[0].id".into(), "1".into())
            ]
        );
    }
}

#[derive(Template)]
#[template(path = "rows.html")]
struct RowsFragment {
    rows: Vec<Row>,
}

/// `GET /rows?{search}`: the first page of a search's rows as HTML table rows, with the
/// person's columns: what the explorer's live tail adds on top of its table.
pub(crate) async fn rows(
    State(state): State<WebState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let text = SearchText::from_pairs(&pairs);
    let search = text.parse(chrono::Utc::now(), PAGE);
    if let Some(problem) = search.filter_problem {
        return Err(WebError::BadRequest(problem.message));
    }
    let store = state.store.clone();
    let page = tokio::task::spawn_blocking(move || store.search(&search.query))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    let prefs = Prefs::of(&headers);
    let rows = page.events.iter().map(|e| row(e, &text, &prefs)).collect();
    let mut response = html(&RowsFragment { rows })?;
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}
