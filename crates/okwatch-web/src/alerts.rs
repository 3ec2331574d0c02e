//! Alerts in the console: the list (`/alerts`, by status, severity, detection and assignee)
//! and one alert's page (`/alerts/{id}`): what happened, the detection's runbook, the events
//! behind it, and its handling — acknowledge, assign, comment, resolve, reopen — with its
//! history. The JSON API over the same store is in [`crate::rest_alerts`].

use crate::auth::{Role, SignedIn};
use crate::{blocking, field, form, html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use okwatch_engine::rules::catalog::Catalog;
use okwatch_engine::rules::{events_search, Rule};
use okwatch_store::{AlertChange, AlertFilter, AlertNote, AlertRecord, StoreError, ALERT_STATUSES};

/// Alerts listed at most.
pub(crate) const MAX: usize = 1_000;

/// Severities, least first.
pub(crate) const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

/// The severities at or above `min`.
pub(crate) fn at_least(min: &str) -> Vec<String> {
    let from = SEVERITIES.iter().position(|s| *s == min).unwrap_or(0);
    SEVERITIES[from..].iter().map(|s| s.to_string()).collect()
}

/// The detection an alert came from, for its name, description and runbook (a rule since
/// removed has none).
pub(crate) async fn rule_of(state: &WebState, id: &str) -> Result<Option<Rule>, WebError> {
    let (rules, id) = (state.rules.clone(), id.to_string());
    blocking(move || {
        Ok(Catalog::load(rules.as_ref())?
            .get(&id)
            .map(|e| e.rule.clone()))
    })
    .await
}

pub(crate) fn events_href(alert: &AlertRecord) -> String {
    format!("/?{}", events_search(alert, 50).to_query())
}

/// `2026-12-01T10:00:00.000Z` as `2026-12-01 10:00:00`.
fn time(t: &str) -> String {
    t.get(..19).unwrap_or(t).replace('T', " ")
}

pub(crate) struct Listed {
    id: String,
    severity: String,
    rule: String,
    group: String,
    first: String,
    last: String,
    events: usize,
    explanation: String,
    status: String,
    assignee: String,
}

/// One choice of a filter menu: its label, the link that applies it, whether it is applied.
pub(crate) struct Choice {
    label: String,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    user: SignedIn,
    alerts: Vec<Listed>,
    statuses: Vec<Choice>,
    severities: Vec<Choice>,
    rules: Vec<(String, String)>,
    rule: String,
    status: String,
    min: String,
    mine: bool,
    /// Alerts of this status below the severity shown.
    hidden: u64,
    /// The period shown (a report's link), in words, and the same list over all time.
    period: Option<(String, String)>,
    /// The period's `since` and `until`, kept by the filter form.
    period_fields: Vec<(&'static str, String)>,
}

/// The list's filters, read from its URL.
#[derive(Clone)]
struct ListQuery {
    status: String,
    min: String,
    rule: String,
    mine: bool,
    /// Only alerts whose first event is in `[since, until)` (ISO 8601; a report's link).
    period: Option<(String, String)>,
}

impl ListQuery {
    fn read(query: Option<&str>) -> ListQuery {
        let pairs = okwatch_okta::server::query_pairs(query);
        let value = |name| {
            crate::rest::value_of(&pairs, name)
                .unwrap_or_default()
                .to_string()
        };
        let status = value("status");
        let min = value("min");
        ListQuery {
            status: if status == "all" || ALERT_STATUSES.contains(&status.as_str()) {
                status
            } else {
                "open".into()
            },
            min: if SEVERITIES.contains(&min.as_str()) {
                min
            } else {
                "medium".into()
            },
            rule: value("rule"),
            mine: value("mine") == "yes",
            period: {
                let bound = |name| okwatch_model::parse_timestamp(&value(name));
                bound("since").zip(bound("until")).map(|(s, u)| {
                    (
                        okwatch_model::format_timestamp(s),
                        okwatch_model::format_timestamp(u),
                    )
                })
            },
        }
    }

    /// Whether `alert` is in the period asked for (every alert when none is).
    fn in_period(&self, alert: &okwatch_store::AlertRecord) -> bool {
        // Both sides are okwatch's own ISO 8601 form, so they compare as text.
        self.period.as_ref().is_none_or(|(since, until)| {
            okwatch_model::parse_timestamp(&alert.first)
                .map(okwatch_model::format_timestamp)
                .is_some_and(|first| first >= *since && first < *until)
        })
    }

    fn href(&self, change: impl FnOnce(&mut ListQuery)) -> String {
        let mut q = self.clone();
        change(&mut q);
        let mut pairs = vec![("status", q.status.clone()), ("min", q.min.clone())];
        if !q.rule.is_empty() {
            pairs.push(("rule", q.rule.clone()));
        }
        if q.mine {
            pairs.push(("mine", "yes".into()));
        }
        if let Some((since, until)) = &q.period {
            pairs.push(("since", since.clone()));
            pairs.push(("until", until.clone()));
        }
        let query = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::search::encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        format!("/alerts?{query}")
    }

    fn filter(&self, user: &SignedIn, min: &str) -> AlertFilter {
        AlertFilter {
            status: (self.status != "all").then(|| self.status.clone()),
            rule: (!self.rule.is_empty()).then(|| self.rule.clone()),
            severities: at_least(min),
            assignee: self.mine.then(|| user.name.clone()),
            limit: MAX,
        }
    }
}

/// `GET /alerts?status=open&min=medium&rule=…&mine=yes`: open attacks first by default; every
/// filter is one click.
pub(crate) async fn page(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let q = ListQuery::read(query.as_deref());
    let (store, rules) = (state.alerts.clone(), state.rules.clone());
    let (filter, filter_all) = (q.filter(&user, &q.min), q.filter(&user, "info"));
    let within = q.clone();
    let (alerts, counts, all_of_status, rules) = blocking(move || {
        let rules = Catalog::load(rules.as_ref())?.rules();
        if within.period.is_none() {
            let alerts = store.alerts(&filter)?;
            let counts = store.alert_counts()?;
            // How many this page hides below its severity, for "show all".
            let all_of_status = if filter_all.rule.is_none() && filter_all.assignee.is_none() {
                None
            } else {
                Some(store.alerts(&filter_all)?.len() as u64)
            };
            return Ok((alerts, counts, all_of_status, rules));
        }
        // Over a period, the counts too are the period's.
        let mut alerts = store.alerts(&filter_all)?;
        alerts.retain(|a| within.in_period(a));
        let all_of_status = Some(alerts.len() as u64);
        let wanted = at_least(&within.min);
        alerts.retain(|a| wanted.contains(&a.severity));
        let mut counts: Vec<(String, String, u64)> = Vec::new();
        let every = store.alerts(&AlertFilter {
            limit: 1_000_000,
            ..AlertFilter::default()
        })?;
        for a in every.iter().filter(|a| within.in_period(a)) {
            match counts
                .iter_mut()
                .find(|(s, sev, _)| *s == a.status && *sev == a.severity)
            {
                Some(entry) => entry.2 += 1,
                None => counts.push((a.status.clone(), a.severity.clone(), 1)),
            }
        }
        Ok((alerts, counts, all_of_status, rules))
    })
    .await?;
    let count = |status: Option<&str>, min: &str| -> u64 {
        let wanted = at_least(min);
        counts
            .iter()
            .filter(|(s, sev, _)| status.is_none_or(|st| st == s) && wanted.contains(sev))
            .map(|(_, _, n)| n)
            .sum()
    };
    let status_filter = (q.status != "all").then_some(q.status.as_str());
    let hidden = all_of_status
        .unwrap_or_else(|| count(status_filter, "info"))
        .saturating_sub(alerts.len() as u64);
    let statuses = ["open", "acknowledged", "resolved", "all"]
        .iter()
        .map(|s| Choice {
            label: format!(
                "{} ({})",
                capitalised(s),
                count((*s != "all").then_some(*s), &q.min)
            ),
            href: q.href(|q| q.status = s.to_string()),
            current: q.status == *s,
        })
        .collect();
    let severities = [
        ("critical", "Critical"),
        ("high", "High and above"),
        ("medium", "Medium and above"),
        ("info", "All severities"),
    ]
    .iter()
    .map(|(value, label)| Choice {
        label: (*label).into(),
        href: q.href(|q| q.min = value.to_string()),
        current: q.min == *value,
    })
    .collect();
    let rules = rules.into_iter().map(|r| (r.id, r.name)).collect();
    let alerts = alerts
        .iter()
        .map(|a| Listed {
            id: a.id.clone(),
            severity: a.severity.clone(),
            rule: a.rule.clone(),
            group: a.group.clone(),
            first: time(&a.first),
            last: time(&a.last),
            events: a.events.len(),
            explanation: a.explanation.clone(),
            status: a.status.clone(),
            assignee: a.assignee.clone().unwrap_or_default(),
        })
        .collect();
    html(&AlertsPage {
        user,
        alerts,
        statuses,
        severities,
        rules,
        rule: q.rule.clone(),
        status: q.status.clone(),
        min: q.min.clone(),
        mine: q.mine,
        hidden,
        period_fields: q
            .period
            .iter()
            .flat_map(|(since, until)| [("since", since.clone()), ("until", until.clone())])
            .collect(),
        period: q.period.as_ref().map(|(since, until)| {
            let day = |t: &str| t[..16.min(t.len())].replace('T', " ");
            (
                format!("{} → {} UTC", day(since), day(until)),
                q.href(|q| q.period = None),
            )
        }),
    })
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// One event behind an alert, as its page lists it.
pub(crate) struct EventLine {
    uuid: String,
    published: String,
    event_type: String,
    actor: String,
    ip: String,
    place: String,
    outcome: String,
}

/// A line of an alert's history, in words.
pub(crate) struct HistoryLine {
    at: String,
    by: String,
    said: String,
    comment: bool,
}

fn history_line(note: &AlertNote) -> HistoryLine {
    let said = match note.kind.as_str() {
        "status" => format!("marked it {}", note.text),
        "assignee" if note.text.is_empty() => "unassigned it".into(),
        "assignee" => format!("assigned it to {}", note.text),
        _ => note.text.clone(),
    };
    HistoryLine {
        at: time(&note.at),
        by: note.by.clone(),
        said,
        comment: note.kind == "comment",
    }
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertPage {
    user: SignedIn,
    alert: AlertRecord,
    first: String,
    last: String,
    raised: String,
    name: String,
    description: String,
    runbook: String,
    explorer: String,
    events: Vec<EventLine>,
    history: Vec<HistoryLine>,
    /// Console users one can assign it to.
    people: Vec<String>,
    can_change: bool,
    message: Option<&'static str>,
}

/// Events shown on an alert's page (the explorer has them all).
const SHOWN_EVENTS: usize = 25;

/// `GET /alerts/{id}`.
pub(crate) async fn one(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let (alerts, accounts) = (state.alerts.clone(), state.accounts.clone());
    let lookup = id.clone();
    let found = blocking(move || {
        let Some(alert) = alerts.alert(&lookup)? else {
            return Ok(None);
        };
        let notes = alerts.alert_notes(&lookup)?;
        let people = accounts
            .users()?
            .into_iter()
            .map(|u| u.name)
            .collect::<Vec<_>>();
        Ok(Some((alert, notes, people)))
    })
    .await?;
    let Some((alert, notes, people)) = found else {
        return Err(WebError::NotFound(format!("There is no alert {id}.")));
    };
    let mut parsed = events_search(&alert, SHOWN_EVENTS)
        .parse(chrono::Utc::now(), SHOWN_EVENTS)
        .query;
    parsed.order = okwatch_store::Order::Asc;
    let store = state.store.clone();
    let page = blocking(move || store.search(&parsed)).await?;
    let events = page
        .events
        .iter()
        .map(|stored| {
            let e = &stored.event;
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
            let geo = &e["client"]["geographicalContext"];
            let place = [text(&geo["city"]), text(&geo["country"])]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            EventLine {
                uuid: text(&e["uuid"]),
                published: time(e["published"].as_str().unwrap_or_default()),
                event_type: text(&e["eventType"]),
                actor: text(&e["actor"]["alternateId"]),
                ip: text(&e["client"]["ipAddress"]),
                place,
                outcome: text(&e["outcome"]["result"]),
            }
        })
        .collect();
    let rule = rule_of(&state, &alert.rule).await?;
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let message = match crate::rest::value_of(&pairs, "done") {
        Some("changed") => Some("Saved."),
        _ => None,
    };
    html(&AlertPage {
        first: time(&alert.first),
        last: time(&alert.last),
        raised: time(&alert.raised),
        name: rule.as_ref().map_or(alert.rule.clone(), |r| r.name.clone()),
        description: rule
            .as_ref()
            .map_or(String::new(), |r| r.description.clone()),
        runbook: rule.map_or(String::new(), |r| r.runbook),
        explorer: events_href(&alert),
        events,
        history: notes.iter().map(history_line).collect(),
        people,
        can_change: user.role >= Role::Analyst,
        message,
        user,
        alert,
    })
}

/// `POST /alerts/{id}` (form): `status` (a button), `assignee` (empty: nobody), `comment`.
pub(crate) async fn change(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = form(&body);
    let comment = field(&form, "comment").trim();
    if comment.chars().count() > 4000 {
        return Err(WebError::BadRequest(
            "A comment holds up to 4,000 characters.".into(),
        ));
    }
    let change = AlertChange {
        by: user.name.clone(),
        status: Some(field(&form, "status"))
            .filter(|s| !s.is_empty())
            .map(Into::into),
        assignee: form
            .iter()
            .any(|(k, _)| k == "assignee")
            .then(|| Some(field(&form, "assignee").to_string()).filter(|a| !a.is_empty())),
        comment: Some(comment.to_string()).filter(|c| !c.is_empty()),
    };
    let store = state.alerts.clone();
    let target = id.clone();
    match blocking(move || store.change_alert(&target, &change)).await {
        Ok(Some(_)) => Ok(Redirect::to(&format!(
            "/alerts/{}?done=changed",
            crate::search::encode(&id)
        ))
        .into_response()),
        Ok(None) => Err(WebError::NotFound(format!("There is no alert {id}."))),
        Err(WebError::Store(StoreError::Invalid(problem))) => Err(WebError::BadRequest(problem)),
        Err(e) => Err(e),
    }
}
