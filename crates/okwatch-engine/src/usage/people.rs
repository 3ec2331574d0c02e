//! One person as the SaaS overview sees them: who they are in the directory, their groups, and
//! each app they hold or use with when they last signed in to it — the usage side of a person's
//! page (their activity comes from [`crate::activity::user_activity`]).

use super::{directory_now, holders, okta_app, sign_ons, Signing, UsageStore, OKTA_APP};
use crate::EngineError;
use chrono::{DateTime, Utc};
use okwatch_store::directory::{DirectoryGroup, DirectoryUser};
use serde::Serialize;
use std::collections::BTreeSet;

/// One app of one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonApp {
    /// The app's id.
    pub id: String,
    pub label: String,
    /// Whether the directory has them assigned.
    pub assigned: bool,
    /// The day of their latest sign-in in 90 days.
    pub last_used: Option<String>,
    /// Whether they ever signed in to it in the history okwatch holds.
    pub ever_used: bool,
    /// `active` (within 30 days), `idle` or `never`.
    pub state: &'static str,
}

/// One person of an org's directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub org: String,
    /// When the directory was listed.
    pub directory_taken: String,
    pub user: DirectoryUser,
    /// Their groups, by name.
    pub groups: Vec<DirectoryGroup>,
    /// The apps they are assigned or signed in to, Okta first, then the ones used latest.
    pub apps: Vec<PersonApp>,
}

/// `org`'s person `id` at `now`; `None` when the directory has no such person.
pub fn person(
    store: &dyn UsageStore,
    org: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Person>, EngineError> {
    let (directory, _) = directory_now(store, org, now)?;
    let Some(user) = directory.users.iter().find(|u| u.id == id).cloned() else {
        return Ok(None);
    };
    let used = sign_ons(store, org, Signing::Person(id), now)?;
    let okta_used = sign_ons(store, org, Signing::OktaOf(id), now)?;
    let mut groups: Vec<DirectoryGroup> = directory
        .memberships
        .iter()
        .filter(|m| m.user_id == id)
        .filter_map(|m| {
            directory
                .groups
                .iter()
                .find(|g| g.id == m.group_id)
                .cloned()
        })
        .collect();
    groups.sort_by_key(|g| g.name.to_lowercase());
    let assigned: BTreeSet<&str> = directory
        .assignments
        .iter()
        .filter(|a| a.user_id == id)
        .map(|a| a.app_id.as_str())
        .collect();
    let okta = okta_app();
    let mut app_ids: BTreeSet<&str> = assigned.clone();
    app_ids.extend(used.ever.iter().map(|(app, _)| app.as_str()));
    let one = |app_id: &str, label: String, used: &super::Use, assigned: bool| {
        let (state, ever_used, last_used) = used.of(app_id, id);
        PersonApp {
            id: app_id.to_string(),
            label,
            assigned,
            last_used,
            ever_used,
            state,
        }
    };
    let mut apps: Vec<PersonApp> = app_ids
        .into_iter()
        .map(|app_id| {
            let label = directory
                .apps
                .iter()
                .find(|a| a.id == app_id)
                .map_or_else(|| app_id.to_string(), |a| a.label.clone());
            one(app_id, label, &used, assigned.contains(app_id))
        })
        .collect();
    apps.sort_by(|a, b| {
        b.last_used
            .cmp(&a.last_used)
            .then_with(|| b.ever_used.cmp(&a.ever_used))
            .then_with(|| a.label.to_lowercase().cmp(&b.label.to_lowercase()))
    });
    let holds_okta = holders(&directory, OKTA_APP).contains(id);
    apps.insert(0, one(OKTA_APP, okta.label, &okta_used, holds_okta));
    Ok(Some(Person {
        org: org.to_string(),
        directory_taken: directory.taken,
        user,
        groups,
        apps,
    }))
}
