//! Known incidents planted in a simulated org's activity, each with its ground truth: what
//! happened, when, who and from where, and the uuid of every event it consists of. Detection
//! rules and reports are tested against this truth.

use crate::activity::{target, user_actor, DayBuilder, Origin, Spec};
use crate::catalog::{Place, ATTACK_AGENTS, FOREIGN};
use crate::org::{Org, User};
use chrono::{DurationRound, TimeDelta};
use okwatch_model::{format_timestamp, Timestamp};
use serde::Serialize;
use serde_json::{json, Value};

/// The kinds of incident the simulator can plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IncidentKind {
    /// One IP tries a common password against many users.
    PasswordSpray,
    /// Many password guesses against one user until the account locks.
    BruteForce,
    /// A stolen password, then push after push until the user accepts one.
    MfaPushFatigue,
    /// Sign-ins from two places too far apart for the time between them.
    ImpossibleTravel,
    /// An admin role granted, then the new admin creates an API token.
    AdminGrantThenApiToken,
    /// The sign-on policy's MFA rule loosened, then deactivated.
    SignOnPolicyWeakened,
    /// A session started at home is used from another country.
    SessionFromSecondCountry,
}

impl IncidentKind {
    /// Every kind, in a stable order.
    pub const ALL: [IncidentKind; 7] = [
        IncidentKind::PasswordSpray,
        IncidentKind::BruteForce,
        IncidentKind::MfaPushFatigue,
        IncidentKind::ImpossibleTravel,
        IncidentKind::AdminGrantThenApiToken,
        IncidentKind::SignOnPolicyWeakened,
        IncidentKind::SessionFromSecondCountry,
    ];

    /// The name used on the command line and in ground truth.
    pub fn name(self) -> &'static str {
        match self {
            IncidentKind::PasswordSpray => "password-spray",
            IncidentKind::BruteForce => "brute-force",
            IncidentKind::MfaPushFatigue => "mfa-push-fatigue",
            IncidentKind::ImpossibleTravel => "impossible-travel",
            IncidentKind::AdminGrantThenApiToken => "admin-grant-then-api-token",
            IncidentKind::SignOnPolicyWeakened => "sign-on-policy-weakened",
            IncidentKind::SessionFromSecondCountry => "session-from-second-country",
        }
    }

    /// Reads a list such as `password-spray,brute-force` or `all`.
    pub fn parse_list(names: &[String]) -> Result<Vec<IncidentKind>, String> {
        let mut kinds = Vec::new();
        for name in names.iter().flat_map(|n| n.split(',')).map(str::trim) {
            if name.is_empty() {
                continue;
            }
            if name == "all" {
                kinds.extend(IncidentKind::ALL);
                continue;
            }
            let kind = IncidentKind::ALL
                .into_iter()
                .find(|k| k.name() == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = IncidentKind::ALL.iter().map(|k| k.name()).collect();
                    format!(
                        "unknown incident '{name}'; known: {}, all",
                        known.join(", ")
                    )
                })?;
            kinds.push(kind);
        }
        Ok(kinds)
    }
}

/// What a planted incident is, for checking detections against.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroundTruth {
    /// Which kind.
    pub kind: IncidentKind,
    /// One sentence.
    pub summary: String,
    /// Its first event's `published`.
    pub started: String,
    /// Its last event's `published`.
    pub ended: String,
    /// Logins of the people involved (victims first, then actors).
    pub users: Vec<String>,
    /// Attacker IP addresses.
    pub ips: Vec<String>,
    /// Every event of the incident.
    pub event_uuids: Vec<String>,
}

/// One line for people: what was planted, when, and in a sentence.
impl std::fmt::Display for GroundTruth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at {}: {}",
            self.kind.name(),
            self.started,
            self.summary
        )
    }
}

/// A planted incident: its events (oldest first) and its truth.
#[derive(Debug, Clone)]
pub struct Incident {
    /// The events, oldest first.
    pub events: Vec<Value>,
    /// The truth.
    pub truth: GroundTruth,
}

fn foreign_place(builder: &mut DayBuilder<'_>, not_country: &str) -> &'static Place {
    loop {
        let place = &FOREIGN[builder.rng().below(FOREIGN.len() as u64) as usize];
        if place.country != not_country {
            return place;
        }
    }
}

fn ip_in(builder: &mut DayBuilder<'_>, place: &Place) -> String {
    let (a, b) = (builder.rng().range(1, 254), builder.rng().range(1, 254));
    format!("{}.{a}.{b}", place.ip_prefix)
}

fn some_admin(org: &Org, builder: &mut DayBuilder<'_>) -> usize {
    if org.admins.is_empty() {
        0
    } else {
        *builder.rng().pick(&org.admins)
    }
}

fn home(user: &User) -> Origin<'_> {
    Origin {
        ip: &user.home_ip,
        place: user.home,
        agent: user.desktop,
    }
}

/// Draws an incident of `kind` starting at `start`. `salt` makes several incidents of one kind
/// differ.
pub fn plant(org: &Org, seed: u64, kind: IncidentKind, start: Timestamp, salt: u64) -> Incident {
    let day = start.duration_trunc(TimeDelta::days(1)).unwrap_or(start);
    let stream = seed ^ 0x1bc1_dea7_0000_0000 ^ ((kind as u64) << 16) ^ salt;
    let mut b = DayBuilder::new(org, stream, day);
    let mut t = start.timestamp_millis();
    let pick_user = |b: &mut DayBuilder<'_>| b.rng().below(org.users.len() as u64) as usize;
    let mut users = Vec::new();
    let mut ips = Vec::new();
    let summary;
    match kind {
        IncidentKind::PasswordSpray => {
            let place = foreign_place(&mut b, "");
            let ip = ip_in(&mut b, place);
            let agent = &ATTACK_AGENTS[0];
            let origin = Origin {
                ip: &ip,
                place,
                agent,
            };
            let count = 25 + b.rng().below(15) as usize;
            let mut victims: Vec<usize> = Vec::new();
            while victims.len() < count.min(org.users.len()) {
                let u = pick_user(&mut b);
                if !victims.contains(&u) {
                    victims.push(u);
                }
            }
            for &u in &victims {
                let failed =
                    Spec::failed_password(user_actor(&org.users[u]), origin, "INVALID_CREDENTIALS");
                b.push(t, failed);
                t += 3_000 + b.rng().below(15_000) as i64;
                users.push(org.users[u].login.clone());
            }
            summary = format!(
                "{ip} ({}) tried one password against {} users in {} minutes",
                place.country,
                victims.len(),
                (t - start.timestamp_millis()) / 60_000 + 1
            );
            ips.push(ip);
        }
        IncidentKind::BruteForce => {
            let user = &org.users[pick_user(&mut b)];
            let place = foreign_place(&mut b, user.home.country);
            let ip = ip_in(&mut b, place);
            let agent = &ATTACK_AGENTS[1 % ATTACK_AGENTS.len()];
            let origin = Origin {
                ip: &ip,
                place,
                agent,
            };
            let guesses = 30 + b.rng().below(20);
            for _ in 0..guesses {
                let failed = Spec::failed_password(user_actor(user), origin, "INVALID_CREDENTIALS");
                b.push(t, failed);
                t += 1_000 + b.rng().below(4_000) as i64;
            }
            b.push(t, Spec::lockout(user_actor(user), origin));
            summary = format!(
                "{guesses} password guesses at {} from {ip} ({}) until the account locked",
                user.login, place.country
            );
            users.push(user.login.clone());
            ips.push(ip);
        }
        IncidentKind::MfaPushFatigue => {
            let user = &org.users[pick_user(&mut b)];
            let place = foreign_place(&mut b, user.home.country);
            let ip = ip_in(&mut b, place);
            let session = format!("102{}", b.rng().base62(22));
            let origin = Origin {
                ip: &ip,
                place,
                agent: &ATTACK_AGENTS[0],
            };
            // The attacker has the password: identity verified, then the pushes begin.
            let mut password = Spec::signed_in(user_actor(user), origin, &session);
            password.legacy = None;
            password.event_type = "user.authentication.verify";
            password.display = "Verify user identity";
            b.push(t, password);
            let pushes = 8 + b.rng().below(8);
            for i in 0..pushes {
                t += 20_000 + b.rng().below(40_000) as i64;
                let mut push = Spec::new(
                    "system.push.send_factor_verify_push",
                    "Push notification sent for verify",
                    user_actor(user),
                    Some(origin),
                );
                push.session = Some(&session);
                push.uri = "/idp/idx/challenge";
                b.push(t, push);
                t += 5_000 + b.rng().below(10_000) as i64;
                let accepted = i + 1 == pushes;
                let mut answer = if accepted {
                    let mut ok = Spec::new(
                        "user.authentication.auth_via_mfa",
                        "Authentication of user via MFA",
                        user_actor(user),
                        Some(origin),
                    );
                    ok.credential = Some("OTP");
                    ok.debug = vec![("factor", json!("OKTA_VERIFY_PUSH"))];
                    ok
                } else {
                    let mut deny = Spec::new(
                        "user.mfa.okta_verify.deny_push",
                        "User rejected Okta push verify",
                        user_actor(user),
                        Some(origin),
                    );
                    deny.severity = "WARN";
                    deny.result = "FAILURE";
                    deny.reason = Some("User rejected Okta push verify");
                    deny
                };
                answer.session = Some(&session);
                answer.uri = "/idp/idx/challenge/answer";
                b.push(t, answer);
            }
            t += 500;
            b.push(t, Spec::signed_in(user_actor(user), origin, &session));
            summary = format!(
                "{} denied {} Okta Verify pushes from {ip} ({}) and accepted the next",
                user.login,
                pushes - 1,
                place.country
            );
            users.push(user.login.clone());
            ips.push(ip);
        }
        IncidentKind::ImpossibleTravel => {
            let user = &org.users[pick_user(&mut b)];
            let s1 = format!("102{}", b.rng().base62(22));
            b.push(t, Spec::signed_in(user_actor(user), home(user), &s1));
            let place = foreign_place(&mut b, user.home.country);
            let ip = ip_in(&mut b, place);
            t += 20 * 60_000 + b.rng().below(30 * 60_000) as i64;
            let s2 = format!("102{}", b.rng().base62(22));
            let origin = Origin {
                ip: &ip,
                place,
                agent: user.desktop,
            };
            b.push(t, Spec::signed_in(user_actor(user), origin, &s2));
            summary = format!(
                "{} signed in from {} and {} minutes later from {} ({ip})",
                user.login,
                user.home.city,
                (t - start.timestamp_millis()) / 60_000,
                place.city
            );
            users.push(user.login.clone());
            ips.push(ip);
        }
        IncidentKind::AdminGrantThenApiToken => {
            let admin = &org.users[some_admin(org, &mut b)];
            let mut grantee = pick_user(&mut b);
            while org.users[grantee].is_admin {
                grantee = pick_user(&mut b);
            }
            let grantee = &org.users[grantee];
            let mut grant = Spec::new(
                "user.account.privilege.grant",
                "Grant user privilege",
                user_actor(admin),
                Some(home(admin)),
            );
            grant.legacy = Some("core.user.admin_privilege.granted");
            grant.targets = vec![target(
                &grantee.id,
                "User",
                &grantee.login,
                &grantee.display_name,
            )];
            grant.debug = vec![("privilegeGranted", json!("Super administrator"))];
            grant.uri = "/api/v1/users/roles";
            b.push(t, grant);
            t += 3 * 60_000 + b.rng().below(10 * 60_000) as i64;
            let token_id = b.rng().okta_id("00T");
            let mut token = Spec::new(
                "system.api_token.create",
                "Create API token",
                user_actor(grantee),
                Some(home(grantee)),
            );
            token.legacy = Some("api.token.create");
            token.targets = vec![target(&token_id, "Token", &token_id, "automation")];
            token.uri = "/api/internal/tokens";
            b.push(t, token);
            summary = format!(
                "{} made {} a super administrator, who created an API token {} minutes later",
                admin.login,
                grantee.login,
                (t - start.timestamp_millis()) / 60_000
            );
            users.push(grantee.login.clone());
            users.push(admin.login.clone());
        }
        IncidentKind::SignOnPolicyWeakened => {
            let admin = &org.users[some_admin(org, &mut b)];
            let policy = &org.policies[0];
            let rule_id = b.rng().okta_id("0pr");
            let targets = vec![
                target(&rule_id, "PolicyRule", &rule_id, "Require MFA"),
                target(&policy.0, "PolicyEntity", &policy.0, policy.1),
            ];
            let mut update = Spec::new(
                "policy.rule.update",
                "Update policy rule",
                user_actor(admin),
                Some(home(admin)),
            );
            update.targets = targets.clone();
            update.uri = "/api/v1/policies/rules";
            update.debug = vec![(
                "changedAttributes",
                json!("factorPromptMode: ALWAYS -> SESSION, factorLifetime: 15 -> 43200"),
            )];
            b.push(t, update);
            t += 60_000 + b.rng().below(5 * 60_000) as i64;
            let mut deactivate = Spec::new(
                "policy.rule.deactivate",
                "Deactivate policy rule",
                user_actor(admin),
                Some(home(admin)),
            );
            deactivate.targets = targets;
            deactivate.uri = "/api/v1/policies/rules/lifecycle/deactivate";
            b.push(t, deactivate);
            summary = format!(
                "{} loosened and then deactivated the Require MFA rule of {}",
                admin.login, policy.1
            );
            users.push(admin.login.clone());
        }
        IncidentKind::SessionFromSecondCountry => {
            let user = &org.users[pick_user(&mut b)];
            let session = format!("102{}", b.rng().base62(22));
            b.push(t, Spec::signed_in(user_actor(user), home(user), &session));
            let place = foreign_place(&mut b, user.home.country);
            let ip = ip_in(&mut b, place);
            let origin = Origin {
                ip: &ip,
                place,
                agent: &ATTACK_AGENTS[0],
            };
            for _ in 0..3 {
                t += 5 * 60_000 + b.rng().below(20 * 60_000) as i64;
                let app = &org.apps[b.rng().below(org.apps.len() as u64) as usize];
                let mut sso = Spec::new(
                    "user.authentication.sso",
                    "User single sign on to app",
                    user_actor(user),
                    Some(origin),
                );
                sso.session = Some(&session);
                sso.targets = vec![target(
                    &app.id,
                    "AppInstance",
                    app.spec.label,
                    app.spec.label,
                )];
                sso.uri = "/app/sso/saml";
                b.push(t, sso);
            }
            summary = format!(
                "{}'s session from {} was used from {} ({ip})",
                user.login, user.home.city, place.country
            );
            users.push(user.login.clone());
            ips.push(ip);
        }
    }
    let events: Vec<Value> = b.finish().into_iter().map(|d| d.event).collect();
    let stamp = |e: Option<&Value>| {
        e.and_then(|e| e["published"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format_timestamp(start))
    };
    let truth = GroundTruth {
        kind,
        summary,
        started: stamp(events.first()),
        ended: stamp(events.last()),
        users,
        ips,
        event_uuids: events
            .iter()
            .filter_map(|e| e["uuid"].as_str().map(str::to_string))
            .collect(),
    };
    Incident { events, truth }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_plants_events_matching_its_truth() {
        let org = Org::new(3, 80);
        let start = okwatch_model::parse_timestamp("2026-11-02T10:00:00Z").unwrap();
        for kind in IncidentKind::ALL {
            let incident = plant(&org, 3, kind, start, 0);
            let truth = &incident.truth;
            assert!(incident.events.len() >= 2, "{kind:?}");
            assert_eq!(truth.event_uuids.len(), incident.events.len());
            assert!(truth.started.as_str() <= truth.ended.as_str());
            assert!(truth.started.as_str() >= "2026-11-02T10:00:00.000Z");
            for login in &truth.users {
                let in_events = incident
                    .events
                    .iter()
                    .any(|e| e.to_string().contains(login.as_str()));
                assert!(in_events, "{kind:?}: {login} appears in the events");
            }
            for ip in &truth.ips {
                let n = incident
                    .events
                    .iter()
                    .filter(|e| e["client"]["ipAddress"] == ip.as_str())
                    .count();
                assert!(n >= 1, "{kind:?}: {ip} is the client of some event");
            }
            // Drawn again, the same incident.
            assert_eq!(plant(&org, 3, kind, start, 0).truth, incident.truth);
        }
    }

    #[test]
    fn incident_lists_are_read_by_name_or_all() {
        assert_eq!(
            IncidentKind::parse_list(&["brute-force,password-spray".into()]).unwrap(),
            [IncidentKind::BruteForce, IncidentKind::PasswordSpray]
        );
        assert_eq!(IncidentKind::parse_list(&["all".into()]).unwrap().len(), 7);
        let e = IncidentKind::parse_list(&["spray".into()]).unwrap_err();
        assert!(e.contains("password-spray"), "{e}");
    }
}
