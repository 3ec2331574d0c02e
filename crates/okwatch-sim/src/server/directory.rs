//! The org's directory as Okta's management API shows it: users, groups, apps and app
//! assignments, with Okta's object shapes and `limit`/`after` paging through `Link` headers.

use crate::org::Org;
use okwatch_okta::links;
use serde_json::{json, Value};

/// A fixed instant for "created" dates, so the same seed gives the same directory.
const ORG_CREATED: &str = "2021-03-01T09:00:00.000Z";

fn user_json(org: &Org, index: usize, base: &str) -> Value {
    let user = &org.users[index];
    let (first, last) = user
        .display_name
        .split_once(' ')
        .unwrap_or((&user.display_name, ""));
    json!({
        "id": user.id,
        "status": "ACTIVE",
        "created": ORG_CREATED,
        "activated": ORG_CREATED,
        "statusChanged": ORG_CREATED,
        "lastLogin": null,
        "lastUpdated": ORG_CREATED,
        "passwordChanged": ORG_CREATED,
        "type": {"id": "oty1defaultusertype"},
        "profile": {
            "firstName": first,
            "lastName": last,
            "login": user.login,
            "email": user.login,
            "city": user.home.city,
            "department": user.groups.get(1).map(|&g| org.groups[g].name),
            "countryCode": user.home.country,
            "mobilePhone": null,
            "secondEmail": null,
        },
        "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
        "_links": {"self": {"href": format!("{base}/api/v1/users/{}", user.id)}},
    })
}

fn group_json(org: &Org, index: usize, base: &str) -> Value {
    let group = &org.groups[index];
    let built_in = group.name == "Everyone";
    json!({
        "id": group.id,
        "created": ORG_CREATED,
        "lastUpdated": ORG_CREATED,
        "lastMembershipUpdated": ORG_CREATED,
        "objectClass": ["okta:user_group"],
        "type": if built_in { "BUILT_IN" } else { "OKTA_GROUP" },
        "profile": {"name": group.name, "description": null},
        "_links": {"self": {"href": format!("{base}/api/v1/groups/{}", group.id)}},
    })
}

fn app_json(org: &Org, index: usize, base: &str) -> Value {
    let app = &org.apps[index];
    json!({
        "id": app.id,
        "name": app.spec.name,
        "label": app.spec.label,
        "status": "ACTIVE",
        "created": ORG_CREATED,
        "lastUpdated": ORG_CREATED,
        "signOnMode": app.spec.protocol,
        "features": [],
        "visibility": {"autoSubmitToolbar": false, "hide": {"iOS": false, "web": false}},
        "_links": {
            "self": {"href": format!("{base}/api/v1/apps/{}", app.id)},
            "users": {"href": format!("{base}/api/v1/apps/{}/users", app.id)},
        },
    })
}

fn app_user_json(org: &Org, user_index: usize, base: &str, app_id: &str) -> Value {
    let user = &org.users[user_index];
    json!({
        "id": user.id,
        "externalId": null,
        "created": ORG_CREATED,
        "lastUpdated": ORG_CREATED,
        "scope": "USER",
        "status": "ACTIVE",
        "statusChanged": ORG_CREATED,
        "syncState": "DISABLED",
        "credentials": {"userName": user.login},
        "profile": {},
        "_links": {
            "app": {"href": format!("{base}/api/v1/apps/{app_id}")},
            "user": {"href": format!("{base}/api/v1/users/{}", user.id)},
        },
    })
}

/// Which listing.
pub enum Listing<'a> {
    /// `/api/v1/users` (optional `q`: prefix of login, first or last name).
    Users,
    /// `/api/v1/groups` (optional `q`: prefix of the name).
    Groups,
    /// `/api/v1/apps` (optional `q`: prefix of the label or name).
    Apps,
    /// `/api/v1/apps/{id}/users`.
    AppUsers(&'a str),
    /// `/api/v1/groups/{id}/users`.
    GroupUsers(&'a str),
}

/// A page of a listing: the objects and the `next` URL if more remain. `None` when the app of
/// an app-user listing does not exist.
pub fn page(
    org: &Org,
    listing: Listing<'_>,
    base: &str,
    path: &str,
    params: &[(String, String)],
) -> Result<(Vec<Value>, Option<String>), okwatch_okta::OktaError> {
    let get = |name: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (default_limit, max_limit) = match listing {
        Listing::Users => (200, 200),
        Listing::Groups => (10_000, 10_000),
        Listing::Apps => (20, 200),
        Listing::AppUsers(_) => (50, 500),
        Listing::GroupUsers(_) => (1000, 1000),
    };
    let limit = match get("limit") {
        None => default_limit,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => n.min(max_limit),
            _ => {
                return Err(okwatch_okta::OktaError::validation(vec![format!(
                    "limit: must be a positive whole number, not '{text}'."
                )]))
            }
        },
    };
    let prefix = get("q").map(str::to_lowercase);
    let starts = |s: &str| {
        prefix
            .as_deref()
            .is_none_or(|p| s.to_lowercase().starts_with(p))
    };
    let items: Vec<(String, Value)> = match listing {
        Listing::Users => (0..org.users.len())
            .filter(|&i| {
                let u = &org.users[i];
                starts(&u.login) || u.display_name.split(' ').any(starts)
            })
            .map(|i| (org.users[i].id.clone(), user_json(org, i, base)))
            .collect(),
        Listing::Groups => (0..org.groups.len())
            .filter(|&i| starts(org.groups[i].name))
            .map(|i| (org.groups[i].id.clone(), group_json(org, i, base)))
            .collect(),
        Listing::Apps => (0..org.apps.len())
            .filter(|&i| starts(org.apps[i].spec.label) || starts(org.apps[i].spec.name))
            .map(|i| (org.apps[i].id.clone(), app_json(org, i, base)))
            .collect(),
        Listing::AppUsers(app_id) => {
            let app = org
                .apps
                .iter()
                .position(|a| a.id == app_id)
                .ok_or_else(|| {
                    okwatch_okta::OktaError::not_found(format!("{app_id} (AppInstance)"))
                })?;
            (0..org.users.len())
                .filter(|&i| org.users[i].apps.contains(&app))
                .map(|i| (org.users[i].id.clone(), app_user_json(org, i, base, app_id)))
                .collect()
        }
        Listing::GroupUsers(group_id) => {
            let group = org
                .groups
                .iter()
                .position(|g| g.id == group_id)
                .ok_or_else(|| {
                    okwatch_okta::OktaError::not_found(format!("{group_id} (UserGroup)"))
                })?;
            (0..org.users.len())
                .filter(|&i| org.users[i].groups.contains(&group))
                .map(|i| (org.users[i].id.clone(), user_json(org, i, base)))
                .collect()
        }
    };
    let start = match get("after") {
        Some(after) => items
            .iter()
            .position(|(id, _)| id == after)
            .map_or(items.len(), |i| i + 1),
        None => 0,
    };
    let end = (start + limit).min(items.len());
    let next = (end < items.len()).then(|| {
        let mut next_params: Vec<(String, String)> = params
            .iter()
            .filter(|(k, _)| k != "after")
            .cloned()
            .collect();
        next_params.push(("after".into(), items[end - 1].0.clone()));
        links::url(base, path, &next_params)
    });
    Ok((
        items[start..end].iter().map(|(_, v)| v.clone()).collect(),
        next,
    ))
}

/// One user, group or app by id (users also by login, as Okta allows).
pub fn find(org: &Org, kind: &str, id: &str, base: &str) -> Option<Value> {
    match kind {
        "users" => org
            .users
            .iter()
            .position(|u| u.id == id || u.login.eq_ignore_ascii_case(id))
            .map(|i| user_json(org, i, base)),
        "groups" => org
            .groups
            .iter()
            .position(|g| g.id == id)
            .map(|i| group_json(org, i, base)),
        "apps" => org
            .apps
            .iter()
            .position(|a| a.id == id)
            .map(|i| app_json(org, i, base)),
        _ => None,
    }
}
