//! The directory as it is now: the latest listing, with every change the System Log recorded
//! since it began laid over it in time order — apps assigned and unassigned, people joining and
//! leaving groups, accounts created, activated, suspended, deactivated and deleted. A listing
//! runs every few hours; between two, this keeps the SaaS overview current to the last event
//! collected.
//!
//! Every change is idempotent (an assignment added twice is one), so events from around the
//! moment the listing began, which it may or may not already show, are simply applied again.

use crate::EngineError;
use chrono::{DateTime, TimeDelta, Utc};
use okwatch_model::parse_timestamp;
use okwatch_query::{parse_and_validate, Dialect};
use okwatch_store::directory::{AppAssignment, DirectorySnapshot, DirectoryUser, GroupMembership};
use okwatch_store::{EventQuery, Order, Store};
use serde_json::Value;

/// The event types that change what a listing shows.
const CHANGES: [&str; 13] = [
    "application.user_membership.add",
    "application.user_membership.remove",
    "group.user_membership.add",
    "group.user_membership.remove",
    "user.lifecycle.create",
    "user.lifecycle.activate",
    "user.lifecycle.reactivate",
    "user.lifecycle.unsuspend",
    "user.lifecycle.suspend",
    "user.lifecycle.deactivate",
    "user.lifecycle.delete.initiated",
    "user.lifecycle.delete.completed",
    "user.account.unlock",
];

/// How far before the listing's start events are applied again: a clock between Okta and
/// okwatch a little apart must not lose a change.
const MARGIN_MINUTES: i64 = 5;

/// The first target of type `kind` in `event`: its id, alternate id and display name.
fn target<'e>(event: &'e Value, kind: &str) -> Option<(&'e str, &'e str, &'e str)> {
    let t = event["target"]
        .as_array()?
        .iter()
        .find(|t| t["type"] == kind)?;
    Some((
        t["id"].as_str()?,
        t["alternateId"].as_str().unwrap_or_default(),
        t["displayName"].as_str().unwrap_or_default(),
    ))
}

/// The person an event is about (an `AppUser` target is the person assigned).
fn person(event: &Value) -> Option<(&str, &str, &str)> {
    target(event, "User").or_else(|| target(event, "AppUser"))
}

/// Lays one change over `d`; whether it changed anything it knows.
fn apply(d: &mut DirectorySnapshot, event: &Value) -> bool {
    let Some(kind) = event["eventType"].as_str() else {
        return false;
    };
    let Some((user, login, name)) = person(event) else {
        return false;
    };
    let status =
        |d: &mut DirectorySnapshot, status: &str| match d.users.iter_mut().find(|u| u.id == user) {
            Some(u) => {
                u.status = status.to_string();
                true
            }
            None => false,
        };
    match kind {
        "application.user_membership.add" => {
            let Some((app, _, _)) = target(event, "AppInstance") else {
                return false;
            };
            if d.assignments
                .iter()
                .any(|a| a.app_id == app && a.user_id == user)
            {
                return false;
            }
            d.assignments.push(AppAssignment {
                app_id: app.to_string(),
                user_id: user.to_string(),
                scope: "USER".into(),
                assigned: event["published"].as_str().map(str::to_string),
            });
            true
        }
        "application.user_membership.remove" => {
            let Some((app, _, _)) = target(event, "AppInstance") else {
                return false;
            };
            let before = d.assignments.len();
            d.assignments
                .retain(|a| !(a.app_id == app && a.user_id == user));
            d.assignments.len() != before
        }
        "group.user_membership.add" => {
            let Some((group, _, _)) = target(event, "UserGroup") else {
                return false;
            };
            if d.memberships
                .iter()
                .any(|m| m.group_id == group && m.user_id == user)
            {
                return false;
            }
            d.memberships.push(GroupMembership {
                group_id: group.to_string(),
                user_id: user.to_string(),
            });
            true
        }
        "group.user_membership.remove" => {
            let Some((group, _, _)) = target(event, "UserGroup") else {
                return false;
            };
            let before = d.memberships.len();
            d.memberships
                .retain(|m| !(m.group_id == group && m.user_id == user));
            d.memberships.len() != before
        }
        "user.lifecycle.create" => {
            if d.users.iter().any(|u| u.id == user) {
                return false;
            }
            d.users.push(DirectoryUser {
                id: user.to_string(),
                login: login.to_string(),
                name: name.to_string(),
                email: None,
                status: "STAGED".into(),
                department: None,
                created: event["published"].as_str().map(str::to_string),
                last_login: None,
            });
            true
        }
        "user.lifecycle.activate"
        | "user.lifecycle.reactivate"
        | "user.lifecycle.unsuspend"
        | "user.account.unlock" => status(d, "ACTIVE"),
        "user.lifecycle.suspend" => status(d, "SUSPENDED"),
        "user.lifecycle.deactivate" => status(d, "DEPROVISIONED"),
        "user.lifecycle.delete.initiated" | "user.lifecycle.delete.completed" => {
            let before = d.users.len();
            d.users.retain(|u| u.id != user);
            d.assignments.retain(|a| a.user_id != user);
            d.memberships.retain(|m| m.user_id != user);
            d.users.len() != before
        }
        _ => false,
    }
}

/// `snapshot` (of `org`) with the changes logged from its listing's start up to `now` laid
/// over it; how many changed it.
pub fn current(
    store: &dyn Store,
    org: &str,
    mut snapshot: DirectorySnapshot,
    now: DateTime<Utc>,
) -> Result<(DirectorySnapshot, u64), EngineError> {
    let Some(taken) = parse_timestamp(&snapshot.taken) else {
        return Ok((snapshot, 0));
    };
    let types: Vec<String> = CHANGES
        .iter()
        .map(|t| format!(r#"eventType eq "{t}""#))
        .collect();
    let filter = format!(
        r#"({}) and outcome.result eq "SUCCESS""#,
        types.join(" or ")
    );
    let expr = parse_and_validate(&filter, Dialect::Okwatch)
        .map_err(|e| EngineError::BadRequest(e.message))?;
    let query = EventQuery {
        org: Some(org.to_string()),
        filter: Some(expr),
        since: Some(taken - TimeDelta::minutes(MARGIN_MINUTES)),
        until: Some(now),
        order: Order::Asc,
        fields: Some(
            ["uuid", "published", "eventType", "target"]
                .map(str::to_string)
                .to_vec(),
        ),
        ..EventQuery::default()
    };
    let mut changed = 0;
    store.scan(&query, &mut |stored| {
        if apply(&mut snapshot, &stored.event) {
            changed += 1;
        }
        true
    })?;
    Ok((snapshot.sorted(), changed))
}
