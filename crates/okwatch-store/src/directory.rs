//! An org's directory as Okta's management API lists it: people, groups, apps, who is in which
//! group and who is assigned which app. okwatch keeps the latest complete listing of each org
//! (a snapshot); what changed since it was taken is read from the System Log, so the snapshot
//! itself is only ever replaced whole.

use crate::StoreError;
use serde::{Deserialize, Serialize};

/// A person (`/api/v1/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryUser {
    /// Okta's id (`00u…`).
    pub id: String,
    /// The sign-in name (`profile.login`).
    pub login: String,
    /// First and last name.
    pub name: String,
    /// `profile.email`.
    pub email: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, `DEPROVISIONED`, `STAGED`, …
    pub status: String,
    /// `profile.department`, when the profile has one.
    pub department: Option<String>,
    /// When the account was made (ISO 8601).
    pub created: Option<String>,
    /// Okta's own last sign-in (ISO 8601), which it keeps beyond the log's 90 days.
    pub last_login: Option<String>,
}

/// A group (`/api/v1/groups`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryGroup {
    /// Okta's id (`00g…`).
    pub id: String,
    /// `profile.name`.
    pub name: String,
    /// `OKTA_GROUP`, `APP_GROUP` or `BUILT_IN`.
    pub kind: String,
}

/// An app integration (`/api/v1/apps`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryApp {
    /// Okta's id (`0oa…`), the `id` of the app's `AppInstance` targets in events.
    pub id: String,
    /// The catalogue name (`slack`, `zoomus`, …).
    pub name: String,
    /// What people see (`Slack`).
    pub label: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// `SAML_2_0`, `OPENID_CONNECT`, `BROWSER_PLUGIN`, …
    pub sign_on_mode: Option<String>,
}

/// A person assigned an app (`/api/v1/apps/{id}/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppAssignment {
    /// The app's id.
    pub app_id: String,
    /// The person's id.
    pub user_id: String,
    /// `USER` (assigned directly) or `GROUP` (through a group).
    pub scope: String,
    /// When the assignment was made (ISO 8601).
    pub assigned: Option<String>,
}

/// A person in a group (`/api/v1/groups/{id}/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMembership {
    /// The group's id.
    pub group_id: String,
    /// The person's id.
    pub user_id: String,
}

/// One org's complete directory at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorySnapshot {
    /// When the listing began (ISO 8601): events from then on may not be in it yet.
    pub taken: String,
    pub users: Vec<DirectoryUser>,
    pub groups: Vec<DirectoryGroup>,
    pub apps: Vec<DirectoryApp>,
    pub assignments: Vec<AppAssignment>,
    pub memberships: Vec<GroupMembership>,
}

impl DirectorySnapshot {
    /// The same snapshot in the order a store gives it back: every list by its ids.
    pub fn sorted(mut self) -> DirectorySnapshot {
        self.users.sort_by(|a, b| a.id.cmp(&b.id));
        self.groups.sort_by(|a, b| a.id.cmp(&b.id));
        self.apps.sort_by(|a, b| a.id.cmp(&b.id));
        self.assignments
            .sort_by(|a, b| (&a.app_id, &a.user_id).cmp(&(&b.app_id, &b.user_id)));
        self.memberships
            .sort_by(|a, b| (&a.group_id, &a.user_id).cmp(&(&b.group_id, &b.user_id)));
        self
    }
}

/// How big a stored snapshot is, and when it was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectorySummary {
    pub org: String,
    pub taken: String,
    pub users: u64,
    pub groups: u64,
    pub apps: u64,
    pub assignments: u64,
    pub memberships: u64,
}

/// An app or a person whose name matches what someone typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryMatch {
    /// `app` or `person`.
    pub kind: String,
    pub org: String,
    /// Okta's id.
    pub id: String,
    /// The app's label, or the person's name.
    pub title: String,
    /// The app's catalogue name, or the person's login.
    pub detail: String,
}

impl DirectoryMatch {
    /// How well it answers `wanted` (lower case): 0 its title or detail exactly, 1 one
    /// starting with it, 2 a word of them starting with it, 3 containing it; `None` no match.
    pub fn rank(&self, wanted: &str) -> Option<u8> {
        let fields = [self.title.to_lowercase(), self.detail.to_lowercase()];
        if fields.iter().any(|f| f == wanted) {
            Some(0)
        } else if fields.iter().any(|f| f.starts_with(wanted)) {
            Some(1)
        } else if fields.iter().any(|f| {
            f.split(|c: char| !c.is_alphanumeric())
                .any(|w| w.starts_with(wanted))
        }) {
            Some(2)
        } else if fields.iter().any(|f| f.contains(wanted)) {
            Some(3)
        } else {
            None
        }
    }
}

/// The best `limit` of `found` for `wanted` (lower case): by rank, apps before people, then
/// by title, org and id.
pub fn best_matches(
    mut found: Vec<DirectoryMatch>,
    wanted: &str,
    limit: usize,
) -> Vec<DirectoryMatch> {
    found.retain(|m| m.rank(wanted).is_some());
    found.sort_by(|a, b| {
        (
            a.rank(wanted),
            &a.kind,
            a.title.to_lowercase(),
            &a.org,
            &a.id,
        )
            .cmp(&(
                b.rank(wanted),
                &b.kind,
                b.title.to_lowercase(),
                &b.org,
                &b.id,
            ))
    });
    found.truncate(limit);
    found
}

/// Each org's latest directory snapshot.
pub trait Directory: Send + Sync {
    /// Replaces `org`'s snapshot with `snapshot`, all of it or nothing (one transaction): a
    /// listing cut short never replaces a complete one.
    fn replace_directory(&self, org: &str, snapshot: &DirectorySnapshot) -> Result<(), StoreError>;
    /// When `org`'s snapshot was taken, if one was.
    fn directory_taken(&self, org: &str) -> Result<Option<String>, StoreError>;
    /// `org`'s snapshot, if one was ever taken, in [`DirectorySnapshot::sorted`] order.
    fn directory(&self, org: &str) -> Result<Option<DirectorySnapshot>, StoreError>;
    /// Every org's snapshot, summed up, by org.
    fn directory_summaries(&self) -> Result<Vec<DirectorySummary>, StoreError>;

    /// Apps (by label or catalogue name) and people (by name or login) of every org
    /// whose names contain `text` (any case), the best `limit` as [`best_matches`] orders them.
    /// The default reads every snapshot; a backend answers it with a query.
    fn find_in_directory(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<DirectoryMatch>, StoreError> {
        let wanted = text.trim().to_lowercase();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        for summary in self.directory_summaries()? {
            let Some(snapshot) = self.directory(&summary.org)? else {
                continue;
            };
            found.extend(snapshot.apps.iter().map(|a| DirectoryMatch {
                kind: "app".into(),
                org: summary.org.clone(),
                id: a.id.clone(),
                title: a.label.clone(),
                detail: a.name.clone(),
            }));
            found.extend(snapshot.users.iter().map(|u| DirectoryMatch {
                kind: "person".into(),
                org: summary.org.clone(),
                id: u.id.clone(),
                title: u.name.clone(),
                detail: u.login.clone(),
            }));
        }
        Ok(best_matches(found, &wanted, limit))
    }
}
