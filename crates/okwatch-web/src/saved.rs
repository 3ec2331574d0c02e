//! Saved searches: an analyst saves the explorer's current search with a name and a
//! description, optionally shared with every user; the list opens, edits and deletes them.
//! okwatch ships a few that every org needs, saved once at the first start.

use crate::auth::{Role, SignedIn};
use crate::search::SearchText;
use crate::{blocking, field, form, html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use okwatch_store::{SavedSearch, SavedSearches, StoreError};

/// The owner of the searches okwatch ships.
pub const SHIPPED: &str = "okwatch";

/// The searches okwatch ships: (name, description, since, filter).
const DEFAULTS: &[(&str, &str, &str, &str)] = &[
    (
        "Failed sign-ins, last 7 days",
        "Okta sign-ins that failed: wrong passwords, locked accounts, denied MFA.",
        "-7d",
        r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#,
    ),
    (
        "Admin privilege changes",
        "Administrator roles granted to or revoked from users and groups.",
        "-90d",
        r#"eventType sw "user.account.privilege" or eventType sw "group.privilege""#,
    ),
    (
        "MFA factor changes",
        "Factors enrolled, activated, reset or deactivated.",
        "-30d",
        r#"eventType sw "user.mfa.factor""#,
    ),
    (
        "Policy changes",
        "Sign-on, password and MFA policies and their rules created, changed or removed.",
        "-90d",
        r#"eventType sw "policy.lifecycle" or eventType sw "policy.rule""#,
    ),
];

/// Saves the shipped searches, once in the store's life.
pub fn seed(store: &dyn SavedSearches) -> Result<bool, StoreError> {
    let now = okwatch_model::format_timestamp(chrono::Utc::now());
    let defaults: Vec<SavedSearch> = DEFAULTS
        .iter()
        .enumerate()
        .map(|(i, (name, description, since, filter))| SavedSearch {
            id: format!("okwatch-{}", i + 1),
            name: (*name).into(),
            description: (*description).into(),
            query: SearchText {
                since: (*since).into(),
                filter: (*filter).into(),
                ..SearchText::default()
            }
            .to_query(),
            owner: SHIPPED.into(),
            shared: true,
            updated: now.clone(),
        })
        .collect();
    store.seed_saved_searches(&defaults)
}

/// Whether `user` sees `search`.
pub(crate) fn visible(search: &SavedSearch, user: &SignedIn) -> bool {
    search.shared || search.owner == user.name || user.role == Role::Admin
}

/// Whether `user` may change `search`: its owner, or an admin (who also looks after the
/// shipped ones).
pub(crate) fn editable(search: &SavedSearch, user: &SignedIn) -> bool {
    user.role >= Role::Analyst && (search.owner == user.name || user.role == Role::Admin)
}

pub(crate) struct Listed {
    id: String,
    name: String,
    description: String,
    query: String,
    owner: String,
    shared: bool,
    editable: bool,
}

#[derive(Template)]
#[template(path = "saved.html")]
struct SavedPage {
    user: SignedIn,
    searches: Vec<Listed>,
    message: Option<String>,
}

/// The saved searches `user` sees.
pub fn visible_to(
    store: &dyn SavedSearches,
    user: &SignedIn,
) -> Result<Vec<SavedSearch>, StoreError> {
    Ok(store
        .saved_searches()?
        .into_iter()
        .filter(|s| visible(s, user))
        .collect())
}

/// `GET /saved`.
pub(crate) async fn list(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let store = state.saved.clone();
    let who = user.clone();
    let searches = tokio::task::spawn_blocking(move || visible_to(store.as_ref(), &who))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let message = pairs
        .iter()
        .find(|(k, _)| k == "done")
        .map(|(_, v)| match v.as_str() {
            "saved" => "Saved.",
            "deleted" => "Deleted.",
            _ => "Done.",
        })
        .map(str::to_string);
    let searches = searches
        .into_iter()
        .map(|s| Listed {
            editable: editable(&s, &user),
            id: s.id,
            name: s.name,
            description: s.description,
            query: s.query,
            owner: s.owner,
            shared: s.shared,
        })
        .collect();
    html(&SavedPage {
        user,
        searches,
        message,
    })
}

fn forbidden(message: &str) -> Response {
    (StatusCode::FORBIDDEN, message.to_string()).into_response()
}

/// The fields of a save or edit form, checked; `Err` is the answer to send.
#[allow(clippy::result_large_err)] // a response, sent at once, on a path that is not hot
fn read_form(body: &[u8]) -> Result<(String, String, String, bool), Response> {
    let form = form(body);
    let name = field(&form, "name").trim().to_string();
    let description = field(&form, "description").trim().to_string();
    let query = field(&form, "query");
    if name.is_empty() || name.chars().count() > 200 || description.chars().count() > 1000 {
        return Err((
            StatusCode::BAD_REQUEST,
            "A name (up to 200 characters) is needed.",
        )
            .into_response());
    }
    let query = canonical_query(query)
        .map_err(|problem| (StatusCode::BAD_REQUEST, problem).into_response())?;
    Ok((name, description, query, field(&form, "shared") == "yes"))
}

/// A search to save, in its canonical form, which is also what the explorer's links are made
/// of (no page cursor, no highlighted event).
pub(crate) fn canonical_query(query: &str) -> Result<String, String> {
    let query = SearchText::from_pairs(&okwatch_okta::server::query_pairs(Some(query.trim())))
        .with(|t| t.highlight.clear())
        .to_query();
    if query.len() > 12_000 {
        return Err("The search is too long to save.".into());
    }
    Ok(query)
}

/// `POST /saved`: saves a new search.
pub(crate) async fn create(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let (name, description, query, shared) = match read_form(&body) {
        Ok(fields) => fields,
        Err(response) => return Ok(response),
    };
    let search = SavedSearch {
        id: format!("s{}", okwatch_okta::random::base62(12)),
        name,
        description,
        query,
        owner: user.name.clone(),
        shared,
        updated: okwatch_model::format_timestamp(chrono::Utc::now()),
    };
    let store = state.saved.clone();
    blocking(move || store.put_saved_search(&search)).await?;
    Ok(Redirect::to("/saved?done=saved").into_response())
}

/// `POST /saved/{id}`: changes a saved search.
pub(crate) async fn update(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let (name, description, query, shared) = match read_form(&body) {
        Ok(fields) => fields,
        Err(response) => return Ok(response),
    };
    let store = state.saved.clone();
    let lookup = id.clone();
    let Some(mut search) = blocking(move || store.saved_search(&lookup)).await? else {
        return Err(WebError::NotFound(format!("no saved search {id}")));
    };
    // Another person's private search is as absent as a missing one: no id is confirmed.
    if !visible(&search, &user) {
        return Err(WebError::NotFound(format!("no saved search {id}")));
    }
    if !editable(&search, &user) {
        return Ok(forbidden(
            "Only its owner or an admin can change this search.",
        ));
    }
    search.name = name;
    search.description = description;
    search.query = query;
    search.shared = shared;
    search.updated = okwatch_model::format_timestamp(chrono::Utc::now());
    let store = state.saved.clone();
    blocking(move || store.put_saved_search(&search)).await?;
    Ok(Redirect::to("/saved?done=saved").into_response())
}

/// `POST /saved/{id}/delete`.
pub(crate) async fn delete(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let store = state.saved.clone();
    let lookup = id.clone();
    let Some(search) = blocking(move || store.saved_search(&lookup)).await? else {
        return Err(WebError::NotFound(format!("no saved search {id}")));
    };
    if !visible(&search, &user) {
        return Err(WebError::NotFound(format!("no saved search {id}")));
    }
    if !editable(&search, &user) {
        return Ok(forbidden(
            "Only its owner or an admin can delete this search.",
        ));
    }
    let store = state.saved.clone();
    blocking(move || store.delete_saved_search(&id)).await?;
    Ok(Redirect::to("/saved?done=deleted").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, role: Role) -> SignedIn {
        SignedIn {
            name: name.into(),
            role,
            csrf: "t".into(),
            via: crate::auth::Via::Session,
        }
    }

    #[test]
    fn who_sees_and_who_changes_a_search() {
        let private = SavedSearch {
            id: "s1".into(),
            name: "mine".into(),
            description: String::new(),
            query: "since=-7d".into(),
            owner: "ana".into(),
            shared: false,
            updated: String::new(),
        };
        let ana = user("ana", Role::Analyst);
        let bob = user("bob", Role::Analyst);
        let admin = user("root", Role::Admin);
        let viewer = user("ana", Role::Viewer);
        assert!(visible(&private, &ana) && !visible(&private, &bob) && visible(&private, &admin));
        assert!(
            editable(&private, &ana) && !editable(&private, &bob) && editable(&private, &admin)
        );
        assert!(
            !editable(&private, &viewer),
            "a viewer changes nothing, not even their own"
        );
        let shared = SavedSearch {
            shared: true,
            ..private
        };
        assert!(visible(&shared, &bob) && !editable(&shared, &bob));
    }

    #[test]
    fn the_shipped_searches_are_valid_filters() {
        for (name, _, _, filter) in DEFAULTS {
            assert!(
                okwatch_query::parse_and_validate(filter, okwatch_query::Dialect::Okwatch).is_ok(),
                "{name}"
            );
        }
    }
}
