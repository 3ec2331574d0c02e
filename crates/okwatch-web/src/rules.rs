//! Detection rules in the console: the list (`/rules`: every rule, what it looks for, on or
//! off), one rule's page (`/rules/{id}`: its text in an editor, a try-out over recent history,
//! switch, remove or reset), and a new rule (`/rules/new`, optionally from a saved search).
//! Viewers see rules; analysts and admins change them. The JSON API is [`crate::rest_rules`].

use crate::auth::{Role, SignedIn};
use crate::rest_rules::MAX_SOURCE;
use crate::search::SearchText;
use crate::{blocking, field, form, html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use okwatch_engine::rules::catalog::{self, Catalog, CatalogError};
use okwatch_engine::rules::definition::starter;
use okwatch_engine::rules::{backtest::backtest, Alert};

/// How far back "Try it" looks.
const TRY_DAYS: i64 = 7;
/// Alerts a try-out lists.
const TRY_SHOWN: usize = 20;

struct Listed {
    id: String,
    name: String,
    description: String,
    severity: &'static str,
    origin: &'static str,
    condition: String,
    enabled: bool,
    changed: String,
}

struct Broken {
    id: String,
    error: String,
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    user: SignedIn,
    rules: Vec<Listed>,
    broken: Vec<Broken>,
    running: usize,
    can_change: bool,
    message: Option<String>,
}

/// What a rule would have raised over the last days.
struct TryOut {
    total: usize,
    newest: Vec<Tried>,
}

struct Tried {
    first: String,
    group: String,
    events: usize,
    explanation: String,
}

#[derive(Template)]
#[template(path = "rule.html")]
struct RulePage {
    user: SignedIn,
    /// Empty for a new rule.
    id: String,
    name: String,
    description: String,
    severity: &'static str,
    origin: &'static str,
    condition: String,
    filter: String,
    runbook: String,
    enabled: bool,
    changed: String,
    notes: Vec<String>,
    source: String,
    error: Option<String>,
    can_change: bool,
    message: Option<String>,
    tried: Option<TryOut>,
    explorer: String,
}

fn changed_text(record: Option<&okwatch_store::RuleRecord>) -> String {
    record.map_or(String::new(), |r| {
        format!(
            "{} by {}",
            r.updated.get(..16).unwrap_or(&r.updated).replace('T', " "),
            r.by
        )
    })
}

fn message_of(query: Option<&str>) -> Option<String> {
    let pairs = okwatch_okta::server::query_pairs(query);
    crate::rest::value_of(&pairs, "done").map(|done| {
        match done {
            "saved" => "Saved: it runs on new events within seconds.",
            "on" => "Switched on.",
            "off" => "Switched off.",
            "removed" => "Removed.",
            "reset" => "Back as shipped.",
            _ => "Done.",
        }
        .to_string()
    })
}

async fn load(state: &WebState) -> Result<Catalog, WebError> {
    let rules = state.rules.clone();
    blocking(move || Catalog::load(rules.as_ref())).await
}

/// `GET /rules`.
pub(crate) async fn list(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let catalog = load(&state).await?;
    let rules: Vec<Listed> = catalog
        .entries
        .iter()
        .map(|e| Listed {
            id: e.rule.id.clone(),
            name: e.rule.name.clone(),
            description: e.rule.description.clone(),
            severity: e.rule.severity.as_str(),
            origin: e.origin.as_str(),
            condition: e.rule.condition_words(),
            enabled: e.rule.enabled,
            changed: changed_text(e.record.as_ref()),
        })
        .collect();
    html(&RulesPage {
        running: rules.iter().filter(|r| r.enabled).count(),
        rules,
        broken: catalog
            .broken
            .iter()
            .map(|b| Broken {
                id: b.record.id.clone(),
                error: b.error.clone(),
            })
            .collect(),
        can_change: user.role >= Role::Analyst,
        user,
        message: message_of(query.as_deref()),
    })
}

fn page_of(catalog: &Catalog, id: &str, user: SignedIn) -> Option<RulePage> {
    let entry = catalog.get(id)?;
    let rule = &entry.rule;
    let explorer = format!(
        "/?{}",
        SearchText {
            since: format!("-{TRY_DAYS}d"),
            filter: rule.events_filter().to_string(),
            ..SearchText::default()
        }
        .to_query()
    );
    Some(RulePage {
        id: rule.id.clone(),
        name: rule.name.clone(),
        description: rule.description.clone(),
        severity: rule.severity.as_str(),
        origin: entry.origin.as_str(),
        condition: rule.condition_words(),
        filter: rule.filter.to_string(),
        runbook: rule.runbook.clone(),
        enabled: rule.enabled,
        changed: changed_text(entry.record.as_ref()),
        notes: entry.notes.clone(),
        source: entry.source.clone(),
        error: None,
        can_change: user.role >= Role::Analyst,
        user,
        message: None,
        tried: None,
        explorer,
    })
}

/// What the rule would have raised over the last days, newest first.
async fn try_out(state: &WebState, id: String) -> Result<TryOut, WebError> {
    let (store, rules) = (state.store.clone(), state.rules.clone());
    let alerts: Vec<Alert> = blocking(move || {
        let catalog = Catalog::load(rules.as_ref())?;
        let Some(entry) = catalog.get(&id) else {
            return Ok(Vec::new());
        };
        let mut rule = entry.rule.clone();
        rule.enabled = true;
        let since = chrono::Utc::now() - chrono::TimeDelta::days(TRY_DAYS);
        backtest(store.as_ref(), &[rule], Some(since), None).map_err(|e| match e {
            okwatch_engine::EngineError::Store(e) => e,
            okwatch_engine::EngineError::BadRequest(m) => okwatch_store::StoreError::Invalid(m),
        })
    })
    .await?;
    let total = alerts.len();
    let newest = alerts
        .into_iter()
        .rev()
        .take(TRY_SHOWN)
        .map(|a| Tried {
            first: a.first.get(..16).unwrap_or(&a.first).replace('T', " "),
            group: a.group,
            events: a.events.len(),
            explanation: a.explanation,
        })
        .collect();
    Ok(TryOut { total, newest })
}

/// `GET /rules/{id}` (`?try=1` adds what it would have raised over the last 7 days).
pub(crate) async fn one(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let catalog = load(&state).await?;
    let Some(mut page) = page_of(&catalog, &id, user) else {
        return Err(WebError::NotFound(format!("There is no rule {id}.")));
    };
    page.message = message_of(query.as_deref());
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    if crate::rest::value_of(&pairs, "try").is_some() {
        page.tried = Some(try_out(&state, id).await?);
    }
    html(&page)
}

/// `GET /rules/new?from=SAVED_SEARCH_ID`: an editor with a starting text.
pub(crate) async fn new_page(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let from = crate::rest::value_of(&pairs, "from").map(str::to_string);
    let saved = match from {
        Some(id) => {
            let store = state.saved.clone();
            let who = user.clone();
            blocking(move || {
                Ok(store
                    .saved_search(&id)?
                    .filter(|s| crate::saved::visible(s, &who)))
            })
            .await?
        }
        None => None,
    };
    let source = match &saved {
        Some(search) => {
            let text = SearchText::from_pairs(&okwatch_okta::server::query_pairs(Some(
                search.query.as_str(),
            )));
            starter(
                &format!("custom.{}", slug(&search.name)),
                &search.name,
                &search.description,
                &text.filter,
                &text.q,
            )
        }
        None => starter(
            "custom.my_rule",
            "My rule",
            "",
            r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#,
            "",
        ),
    };
    html(&new_rule_page(user, source, None))
}

fn new_rule_page(user: SignedIn, source: String, error: Option<String>) -> RulePage {
    RulePage {
        id: String::new(),
        name: "New rule".into(),
        description: String::new(),
        severity: "",
        origin: "custom",
        condition: String::new(),
        filter: String::new(),
        runbook: String::new(),
        enabled: true,
        changed: String::new(),
        notes: Vec::new(),
        source,
        error,
        can_change: user.role >= Role::Analyst,
        user,
        message: None,
        tried: None,
        explorer: String::new(),
    }
}

/// `Failed VPN sign-ins` → `failed_vpn_sign_ins`.
fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
    }
    let slug = slug.trim_end_matches('_');
    if slug.is_empty() {
        "rule".into()
    } else {
        slug.chars().take(60).collect()
    }
}

async fn save_text(
    state: &WebState,
    user: &SignedIn,
    source: String,
    expected: Option<String>,
) -> Result<Result<String, String>, WebError> {
    if source.len() > MAX_SOURCE {
        return Ok(Err("A rule's text is at most 64 KiB.".into()));
    }
    let (rules, by) = (state.rules.clone(), user.name.clone());
    let saved = tokio::task::spawn_blocking(move || {
        if expected.is_none() {
            // A new rule must not replace one by accident.
            let parsed = okwatch_engine::rules::definition::parse_one(&source, 1)?;
            if Catalog::load(rules.as_ref())?
                .get(&parsed.rule.id)
                .is_some()
            {
                return Ok(Err(format!(
                    "A rule `{}` exists already: choose another id, or edit that rule.",
                    parsed.rule.id
                )));
            }
        }
        catalog::save(rules.as_ref(), &source, expected.as_deref(), &by).map(|r| Ok(r.id))
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?;
    match saved {
        Ok(outcome) => Ok(outcome),
        Err(CatalogError::Store(e)) => Err(e.into()),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// `POST /rules`: a new rule from the editor.
pub(crate) async fn create(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = form(&body);
    let source = field(&form, "source").to_string();
    match save_text(&state, &user, source.clone(), None).await? {
        Ok(id) => Ok(Redirect::to(&format!("/rules/{id}?done=saved")).into_response()),
        Err(error) => {
            let mut response = html(&new_rule_page(user, source, Some(error)))?;
            *response.status_mut() = StatusCode::BAD_REQUEST;
            Ok(response)
        }
    }
}

/// `POST /rules/{id}`: the rule's edited text.
pub(crate) async fn save(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = form(&body);
    let source = field(&form, "source").to_string();
    match save_text(&state, &user, source.clone(), Some(id.clone())).await? {
        Ok(id) => Ok(Redirect::to(&format!("/rules/{id}?done=saved")).into_response()),
        Err(error) => {
            let catalog = load(&state).await?;
            let Some(mut page) = page_of(&catalog, &id, user.clone()) else {
                let mut response = html(&new_rule_page(user, source, Some(error)))?;
                *response.status_mut() = StatusCode::BAD_REQUEST;
                return Ok(response);
            };
            page.source = source;
            page.error = Some(error);
            let mut response = html(&page)?;
            *response.status_mut() = StatusCode::BAD_REQUEST;
            Ok(response)
        }
    }
}

/// `POST /rules/{id}/switch` with `enabled=yes|no`.
pub(crate) async fn switch(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = form(&body);
    let enabled = field(&form, "enabled") == "yes";
    let back = if field(&form, "back") == "list" {
        "/rules".to_string()
    } else {
        format!("/rules/{id}")
    };
    let (rules, by, target) = (state.rules.clone(), user.name.clone(), id.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        catalog::set_enabled(rules.as_ref(), &target, enabled, &by)
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))?;
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!(
            "{back}?done={}",
            if enabled { "on" } else { "off" }
        ))
        .into_response()),
        Err(CatalogError::NotFound(_)) => {
            Err(WebError::NotFound(format!("There is no rule {id}.")))
        }
        Err(CatalogError::Store(e)) => Err(e.into()),
        Err(e) => Err(WebError::BadRequest(e.to_string())),
    }
}

/// `POST /rules/{id}/delete`: removes a rule someone added, or resets a tuned shipped one.
pub(crate) async fn remove(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let (rules, target) = (state.rules.clone(), id.clone());
    let outcome = tokio::task::spawn_blocking(move || catalog::remove(rules.as_ref(), &target))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    match outcome {
        Ok(None) => Ok(Redirect::to("/rules?done=removed").into_response()),
        Ok(Some(_)) => Ok(Redirect::to(&format!("/rules/{id}?done=reset")).into_response()),
        Err(CatalogError::NotFound(_)) => {
            Err(WebError::NotFound(format!("There is no rule {id}.")))
        }
        Err(CatalogError::Store(e)) => Err(e.into()),
        Err(e) => Err(WebError::BadRequest(e.to_string())),
    }
}
