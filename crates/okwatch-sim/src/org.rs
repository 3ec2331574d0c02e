//! The synthetic org: its people, apps and groups, drawn once from the seed.

use crate::catalog::{
    Agent, AppSpec, Place, AGENTS, APPS, FACTORS, FIRST_NAMES, GROUPS, LAST_NAMES, OFFICES,
    OFFICE_WEIGHTS,
};
use crate::rng::Rng;

/// A person in the org.
#[derive(Debug, Clone)]
pub struct User {
    /// Okta user id (`00u…`).
    pub id: String,
    /// Login and e-mail.
    pub login: String,
    /// "First Last".
    pub display_name: String,
    /// Where they usually work from.
    pub home: &'static Place,
    /// Their usual IP address.
    pub home_ip: String,
    /// Their computer's browser.
    pub desktop: &'static Agent,
    /// Their phone's browser.
    pub mobile: &'static Agent,
    /// Index into [`FACTORS`].
    pub factor: usize,
    /// Indexes into [`Org::apps`] they are assigned.
    pub apps: Vec<usize>,
    /// Indexes into [`Org::groups`].
    pub groups: Vec<usize>,
    /// How busy they are (1.0 is typical).
    pub activity: f64,
    /// Whether they hold an admin role.
    pub is_admin: bool,
}

/// An application instance.
#[derive(Debug, Clone)]
pub struct App {
    /// Okta app id (`0oa…`).
    pub id: String,
    /// What it is.
    pub spec: &'static AppSpec,
}

/// A group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Okta group id (`00g…`).
    pub id: String,
    /// Its name.
    pub name: &'static str,
}

/// The whole synthetic org.
#[derive(Debug, Clone)]
pub struct Org {
    /// The Okta org host, e.g. `acme.okta.com`.
    pub domain: String,
    /// Users' e-mail domain.
    pub email_domain: String,
    /// People.
    pub users: Vec<User>,
    /// Applications.
    pub apps: Vec<App>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Indexes of admins in `users`.
    pub admins: Vec<usize>,
    /// Id of the `SystemPrincipal` actor.
    pub system_id: String,
    /// Id of the org's API token used by integrations.
    pub api_token_id: String,
    /// Ids of sign-on policies.
    pub policies: Vec<(String, &'static str)>,
}

impl Org {
    /// The org's directory as okwatch lists it from Okta's management API (everyone active,
    /// every group with its members, every app with the people assigned it), as of `taken`.
    pub fn listing(&self, taken: &str) -> okwatch_store::DirectorySnapshot {
        use okwatch_store::directory::{
            AppAssignment, DirectoryApp, DirectoryGroup, DirectorySnapshot, DirectoryUser,
            GroupMembership,
        };
        DirectorySnapshot {
            taken: taken.to_string(),
            users: self
                .users
                .iter()
                .map(|u| DirectoryUser {
                    id: u.id.clone(),
                    login: u.login.clone(),
                    name: u.display_name.clone(),
                    email: Some(u.login.clone()),
                    status: "ACTIVE".into(),
                    department: None,
                    created: None,
                    last_login: None,
                })
                .collect(),
            groups: self
                .groups
                .iter()
                .enumerate()
                .map(|(i, g)| DirectoryGroup {
                    id: g.id.clone(),
                    name: g.name.to_string(),
                    // The first group is Okta's own Everyone.
                    kind: if i == 0 { "BUILT_IN" } else { "OKTA_GROUP" }.into(),
                })
                .collect(),
            apps: self
                .apps
                .iter()
                .map(|a| DirectoryApp {
                    id: a.id.clone(),
                    name: a.spec.name.into(),
                    label: a.spec.label.into(),
                    status: "ACTIVE".into(),
                    sign_on_mode: Some(a.spec.protocol.into()),
                })
                .collect(),
            assignments: self
                .users
                .iter()
                .flat_map(|u| {
                    u.apps.iter().map(|&a| AppAssignment {
                        app_id: self.apps[a].id.clone(),
                        user_id: u.id.clone(),
                        scope: "USER".into(),
                        assigned: None,
                    })
                })
                .collect(),
            memberships: self
                .users
                .iter()
                .flat_map(|u| {
                    u.groups.iter().map(|&g| GroupMembership {
                        group_id: self.groups[g].id.clone(),
                        user_id: u.id.clone(),
                    })
                })
                .collect(),
        }
        .sorted()
    }

    /// Draws an org of `user_count` people from `seed`.
    pub fn new(seed: u64, user_count: usize) -> Org {
        let mut rng = Rng::new(seed, u64::MAX);
        let apps: Vec<App> = APPS
            .iter()
            .map(|spec| App {
                id: rng.okta_id("0oa"),
                spec,
            })
            .collect();
        let groups: Vec<Group> = GROUPS
            .iter()
            .map(|name| Group {
                id: rng.okta_id("00g"),
                name,
            })
            .collect();
        let mut taken = std::collections::HashSet::new();
        let mut users = Vec::with_capacity(user_count);
        for i in 0..user_count {
            let first = rng.pick(FIRST_NAMES);
            let last = rng.pick(LAST_NAMES);
            let mut login = format!(
                "{}.{}@acme.example",
                first.to_lowercase(),
                last.to_lowercase()
            );
            if !taken.insert(login.clone()) {
                login = format!(
                    "{}.{}{}@acme.example",
                    first.to_lowercase(),
                    last.to_lowercase(),
                    i
                );
                taken.insert(login.clone());
            }
            let home = &OFFICES[rng.weighted(OFFICE_WEIGHTS)];
            let home_ip = format!(
                "{}.{}.{}",
                home.ip_prefix,
                rng.range(1, 254),
                rng.range(1, 254)
            );
            let desktop = &AGENTS[rng.weighted(&[35.0, 30.0, 10.0, 10.0, 8.0, 7.0, 0.0, 0.0])];
            let mobile = &AGENTS[6 + rng.below(2) as usize];
            let factor = rng.weighted(&FACTORS.iter().map(|f| f.2).collect::<Vec<_>>());
            let department = 1 + rng.below(8) as usize;
            let mut user_apps: Vec<usize> = (0..apps.len())
                .filter(|&a| rng.chance(apps[a].spec.reach))
                .collect();
            if user_apps.is_empty() {
                user_apps.push(0);
            }
            let is_admin = i < (user_count / 150).max(2);
            let mut user_groups = vec![0, department];
            if is_admin {
                user_groups.push(GROUPS.len() - 1);
            }
            users.push(User {
                id: rng.okta_id("00u"),
                login,
                display_name: format!("{first} {last}"),
                home,
                home_ip,
                desktop,
                mobile,
                factor,
                apps: user_apps,
                groups: user_groups,
                activity: 0.6 + rng.unit() * 0.8,
                is_admin,
            });
        }
        let admins = (0..users.len()).filter(|&i| users[i].is_admin).collect();
        let policies = vec![
            (rng.okta_id("00p"), "Default Policy"),
            (rng.okta_id("00p"), "Require MFA for all users"),
            (rng.okta_id("00p"), "Admins: phishing-resistant MFA"),
            (rng.okta_id("00p"), "Contractors: restricted network zone"),
        ];
        Org {
            domain: "acme.okta.com".into(),
            email_domain: "acme.example".into(),
            users,
            apps,
            groups,
            admins,
            system_id: rng.okta_id("00u"),
            api_token_id: rng.okta_id("00T"),
            policies,
        }
    }

    /// The MFA factor a user verifies with: (debugData name, credential type).
    pub fn factor_of(&self, user: &User) -> (&'static str, Option<&'static str>) {
        let (name, kind, _) = FACTORS[user.factor];
        (name, kind)
    }
}
