//! API tokens that users make for themselves, kept with the users in the store (only their
//! SHA-256). A token acts with its owner's role as it is at each request, and every request
//! looks it up in the store, so a revoked token, or one whose owner was removed, fails at the
//! very next request. The tokens `okwatch token create` writes to the data directory (for
//! scripts and assistants set up by whoever runs the server) are still accepted, as viewers.

use crate::auth::{Role, SignedIn};
use crate::{field, form, html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use okwatch_store::{Accounts, ApiTokenRecord, StoreError};

/// The user a presented token acts for: its owner, with the owner's role now. An API caller
/// has no session, so no CSRF token.
pub fn user_token_caller(
    accounts: &dyn Accounts,
    presented: &str,
) -> Result<Option<SignedIn>, StoreError> {
    let Some(token) = accounts.api_token_by_digest(&okwatch_okta::auth::digest(presented))? else {
        return Ok(None);
    };
    Ok(accounts
        .user(&token.owner)?
        .and_then(|user| Role::parse(&user.role))
        .map(|role| SignedIn {
            name: token.owner,
            role,
            csrf: String::new(),
            via: crate::auth::Via::UserToken,
        }))
}

/// Makes a token for `owner` called `name`; returns what is kept and the token itself, which
/// exists nowhere else from then on.
pub fn create(
    accounts: &dyn Accounts,
    owner: &str,
    name: &str,
) -> Result<(ApiTokenRecord, String), WebError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(WebError::BadRequest(
            "Name the token (up to 100 characters), after what will use it.".into(),
        ));
    }
    let (secret, prefix, sha256) = okwatch_okta::auth::new_token();
    let record = ApiTokenRecord {
        id: format!("utk{}", okwatch_okta::random::base62(12)),
        owner: owner.to_string(),
        name: name.to_string(),
        prefix,
        sha256,
        created: okwatch_model::format_timestamp(chrono::Utc::now()),
    };
    accounts.put_api_token(&record)?;
    tracing::info!(owner, token = %record.id, "API token created");
    Ok((record, secret))
}

/// The tokens `caller` sees: their own; an admin sees everyone's.
pub fn visible(
    accounts: &dyn Accounts,
    caller: &str,
    role: Role,
) -> Result<Vec<ApiTokenRecord>, StoreError> {
    Ok(accounts
        .api_tokens()?
        .into_iter()
        .filter(|t| role == Role::Admin || t.owner == caller)
        .collect())
}

/// What revoking `id` for `caller` did.
pub enum Revoked {
    /// Gone.
    Done,
    /// No such token (or not one the caller sees).
    Missing,
}

/// Revokes a token of the caller's own, or anyone's for an admin.
pub fn revoke(
    accounts: &dyn Accounts,
    caller: &str,
    role: Role,
    id: &str,
) -> Result<Revoked, StoreError> {
    let mine = visible(accounts, caller, role)?
        .into_iter()
        .any(|t| t.id == id);
    if mine && accounts.delete_api_token(id)? {
        tracing::info!(by = caller, token = id, "API token revoked");
        Ok(Revoked::Done)
    } else {
        Ok(Revoked::Missing)
    }
}

pub(crate) struct Listed {
    id: String,
    owner: String,
    name: String,
    prefix: String,
    created: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    user: SignedIn,
    tokens: Vec<Listed>,
    /// A token just made: shown this once.
    made: Option<(String, String)>,
    message: Option<String>,
}

async fn page(
    state: &WebState,
    user: SignedIn,
    made: Option<(String, String)>,
    message: Option<String>,
) -> Result<Response, WebError> {
    let accounts = state.accounts.clone();
    let (name, role) = (user.name.clone(), user.role);
    let tokens = tokio::task::spawn_blocking(move || visible(accounts.as_ref(), &name, role))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??
        .into_iter()
        .map(|t| Listed {
            id: t.id,
            owner: t.owner,
            name: t.name,
            prefix: t.prefix,
            created: t.created.get(..16).unwrap_or_default().replace('T', " "),
        })
        .collect();
    let mut response = html(&TokensPage {
        user,
        tokens,
        made,
        message,
    })?;
    // The page may hold a token: never from a cache.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// `GET /tokens`.
pub(crate) async fn list(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
) -> Result<Response, WebError> {
    page(&state, user, None, None).await
}

/// `POST /tokens`: makes a token and shows it once.
pub(crate) async fn make(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = form(&body);
    let accounts = state.accounts.clone();
    let (owner, name) = (user.name.clone(), field(&form, "name").to_string());
    let made = tokio::task::spawn_blocking(move || create(accounts.as_ref(), &owner, &name))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    match made {
        Ok((record, secret)) => page(&state, user, Some((record.name, secret)), None).await,
        Err(WebError::BadRequest(problem)) => {
            let mut response = page(&state, user, None, Some(problem)).await?;
            *response.status_mut() = StatusCode::BAD_REQUEST;
            Ok(response)
        }
        Err(e) => Err(e),
    }
}

/// `POST /tokens/{id}/revoke`.
pub(crate) async fn remove(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let accounts = state.accounts.clone();
    let (name, role) = (user.name.clone(), user.role);
    let revoked = tokio::task::spawn_blocking(move || revoke(accounts.as_ref(), &name, role, &id))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    match revoked {
        Revoked::Done => Ok(Redirect::to("/tokens").into_response()),
        Revoked::Missing => Err(WebError::NotFound("No such token.".into())),
    }
}
