//! User management, for admins: list, add or change (role and password), remove. A changed or
//! removed user's sessions end at once.

use crate::auth::{set_user, AccountError, Role, SignedIn};
use crate::{field, form, html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;

pub(crate) struct Listed {
    name: String,
    role: String,
    created: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    user: SignedIn,
    users: Vec<Listed>,
    message: Option<String>,
    problem: Option<String>,
}

async fn page(
    state: &WebState,
    user: SignedIn,
    message: Option<String>,
    problem: Option<String>,
) -> Result<Response, WebError> {
    let accounts = state.accounts.clone();
    let users = tokio::task::spawn_blocking(move || accounts.users())
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??
        .into_iter()
        .map(|u| Listed {
            name: u.name,
            role: u.role,
            created: u.created.get(..10).unwrap_or_default().to_string(),
        })
        .collect();
    let mut response = html(&UsersPage {
        user,
        users,
        message,
        problem: problem.clone(),
    })?;
    if problem.is_some() {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

/// `GET /users`.
pub(crate) async fn list(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    RawQuery(query): RawQuery,
) -> Result<Response, WebError> {
    let pairs = okwatch_okta::server::query_pairs(query.as_deref());
    let message = pairs
        .iter()
        .find(|(k, _)| k == "done")
        .map(|(_, v)| format!("{v}."));
    page(&state, user, message, None).await
}

/// `POST /users`: adds a user, or gives an existing one a new role and password.
pub(crate) async fn save(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = form(&body);
    let name = field(&form, "name").trim().to_string();
    let Some(role) = Role::parse(field(&form, "role")) else {
        return page(&state, user, None, Some("Choose a role.".into())).await;
    };
    if name == user.name && role != Role::Admin {
        return page(
            &state,
            user,
            None,
            Some("You cannot take the admin role from yourself.".into()),
        )
        .await;
    }
    let password = field(&form, "password").to_string();
    let accounts = state.accounts.clone();
    let who = name.clone();
    let saved =
        tokio::task::spawn_blocking(move || set_user(accounts.as_ref(), &who, role, &password))
            .await
            .map_err(|e| WebError::Internal(e.to_string()))?;
    match saved {
        Ok(_) => {
            state.sessions.end_all_of(&name);
            tracing::info!(admin = %user.name, user = %name, role = role.as_str(), "user saved");
            Ok(Redirect::to("/users?done=Saved").into_response())
        }
        Err(AccountError::Invalid(problem)) => page(&state, user, None, Some(problem)).await,
        Err(e) => Err(WebError::Internal(e.to_string())),
    }
}

/// `POST /users/{name}/delete`.
pub(crate) async fn remove(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    if name == user.name {
        return page(
            &state,
            user,
            None,
            Some("You cannot remove yourself.".into()),
        )
        .await;
    }
    let accounts = state.accounts.clone();
    let who = name.clone();
    let removed = tokio::task::spawn_blocking(move || accounts.delete_user(&who))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    state.sessions.end_all_of(&name);
    if !removed {
        return Err(WebError::NotFound(format!("no user {name}")));
    }
    tracing::info!(admin = %user.name, user = %name, "user removed");
    Ok(Redirect::to("/users?done=Removed").into_response())
}
