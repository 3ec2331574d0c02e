//! The everyday traffic that surrounds sign-ins and admin work in a real org's System Log:
//! app sign-on policy evaluations and OAuth token grants, Okta Verify refreshing its tokens,
//! devices registering, leavers deactivated, profiles edited, the help desk unlocking accounts
//! and resetting factors, admins opening the Admin Console, blocked requests, and the rarer
//! role grants, zone and policy edits. Reports need it: without it a week of a simulated org
//! holds a dozen event types where a real one holds dozens.
//!
//! It is drawn from its own random stream after the day's other events, so adding it left
//! every earlier event of a seed exactly as it was.

use crate::activity::{target, user_actor, DayBuilder, Drawn, Origin, Spec};
use crate::catalog::{FIRST_NAMES, FOREIGN, LAST_NAMES, OFFICES};
use crate::rng::Rng;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Separates this stream from the day's main one.
const STREAM: u64 = 0x0072_6f75_7469_6e65;

/// Devices people register, with the OS Okta reports for them.
const DEVICES: &[(&str, &str)] = &[
    ("MacBook Pro", "Mac OS X"),
    ("MacBook Air", "Mac OS X"),
    ("Dell Latitude 7440", "Windows 10"),
    ("ThinkPad X1 Carbon", "Windows 10"),
    ("iPhone 15", "iOS"),
    ("iPhone 14", "iOS"),
    ("Pixel 8", "Android"),
    ("Galaxy S23", "Android"),
];

const ROLES: &[&str] = &[
    "Help Desk administrator",
    "Read only admin",
    "Application administrator (all)",
    "Group administrator",
];

const ZONES: &[&str] = &["Office networks", "Blocked countries", "VPN egress"];

impl DayBuilder<'_> {
    /// Adds the day's routine traffic (see the module's documentation).
    pub fn routine(&mut self, weekend: bool) {
        let day_number = self.day_start_ms.div_euclid(86_400_000) as u64;
        let main = std::mem::replace(&mut self.rng, Rng::new(self.seed ^ STREAM, day_number));
        let drawn: Vec<(i64, Value)> = self
            .out
            .iter()
            .filter(|d| {
                matches!(
                    d.event["eventType"].as_str(),
                    Some("user.authentication.sso" | "user.session.start" | "user.account.lock")
                )
            })
            .map(|d| (d.at_ms, d.event.clone()))
            .collect();
        let by_id: HashMap<&str, usize> = self
            .org
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.as_str(), i))
            .collect();
        for (at, event) in &drawn {
            self.follow(*at, event, &by_id);
        }
        let busy = if weekend { 0.1 } else { 1.0 };
        self.devices(busy);
        self.leavers(busy);
        self.people_and_factors(busy);
        self.admin_changes(busy);
        self.blocked_and_reported();
        self.service_account(weekend);
        self.rng = main;
    }

    /// A copy of `base` (same actor, client and session) as another event.
    fn derive(
        &mut self,
        at_ms: i64,
        base: &Value,
        event_type: &str,
        display: &str,
        targets: Value,
        debug: &[(&str, Value)],
    ) {
        let mut event = base.clone();
        event["uuid"] = json!(self.rng.uuid());
        event["published"] = json!(okwatch_model::format_timestamp(
            okwatch_model::Timestamp::from_timestamp_millis(at_ms).expect("in range")
        ));
        event["eventType"] = json!(event_type);
        event["displayMessage"] = json!(display);
        event["legacyEventType"] = Value::Null;
        event["severity"] = json!("INFO");
        event["outcome"] = json!({"result": "SUCCESS", "reason": null});
        event["target"] = targets;
        let request_id = format!("{}AAAB{}", self.rng.base62(22), self.rng.base62(2));
        event["transaction"]["id"] = json!(request_id);
        if let Some(data) = event["debugContext"]["debugData"].as_object_mut() {
            data.insert("requestId".into(), json!(request_id));
            data.remove("factor");
            for (k, v) in debug {
                data.insert((*k).into(), v.clone());
            }
        }
        self.out.push(Drawn { at_ms, event });
    }

    /// What follows an app sign-in, an Okta sign-in or a lockout.
    fn follow(&mut self, at: i64, event: &Value, by_id: &HashMap<&str, usize>) {
        let org = self.org;
        let ok = event["outcome"]["result"] == "SUCCESS";
        let app_target = |name: &str, id: &str| json!({"id": id, "type": "AppInstance", "alternateId": name, "displayName": name, "detailEntry": null});
        match event["eventType"].as_str() {
            Some("user.authentication.sso") if ok => {
                let Some(app) = event["target"].as_array().and_then(|t| t.first()).cloned() else {
                    return;
                };
                self.derive(
                    at - 250,
                    event,
                    "policy.evaluate_sign_on",
                    "Evaluation of sign-on policy",
                    json!([app.clone()]),
                    &[(
                        "behaviors",
                        json!("{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=NEGATIVE}"),
                    )],
                );
                // Now and then someone opens an app they are not assigned to.
                if self.rng.chance(0.004) {
                    let other = &org.apps[self.rng.below(org.apps.len() as u64) as usize];
                    if app["id"] != other.id.as_str() {
                        let denied = json!({"id": other.id, "type": "AppInstance", "alternateId": other.spec.label, "displayName": other.spec.label, "detailEntry": null});
                        self.derive(
                            at - 30_000,
                            event,
                            "user.authentication.sso",
                            "User single sign on to app",
                            json!([denied]),
                            &[],
                        );
                        if let Some(last) = self.out.last_mut() {
                            last.event["outcome"] = json!({"result": "FAILURE", "reason": "User is not assigned to this application"});
                            last.event["severity"] = json!("WARN");
                        }
                    }
                }
                let oidc = org
                    .apps
                    .iter()
                    .any(|a| app["id"] == a.id.as_str() && a.spec.protocol == "OIDC");
                if oidc {
                    for (i, kind) in ["id_token", "access_token"].iter().enumerate() {
                        let token_id = format!("tok{}", self.rng.base62(17));
                        self.derive(
                            at + 150 + 40 * i as i64,
                            event,
                            &format!("app.oauth2.as.token.grant.{kind}"),
                            &format!("OIDC {} is granted", kind.replace('_', " ")),
                            json!([app.clone(), {"id": token_id, "type": if i == 0 { "id_token" } else { "access_token" }, "alternateId": null, "displayName": if i == 0 { "ID Token" } else { "Access Token" }, "detailEntry": {"expires": "3600"}}]),
                            &[("grantType", json!("authorization_code"))],
                        );
                    }
                }
            }
            Some("user.session.start") if ok => {
                let dashboard = app_target("Okta Dashboard", &org.system_id.replace("00u", "0oa"));
                self.derive(
                    at + 500,
                    event,
                    "app.oauth2.as.token.grant.id_token",
                    "OIDC id token is granted",
                    json!([dashboard.clone()]),
                    &[("grantType", json!("implicit"))],
                );
                let user = event["actor"]["id"].as_str().and_then(|id| by_id.get(id));
                let Some(&user) = user else { return };
                if org.factor_of(&org.users[user]).0 != "OKTA_VERIFY_PUSH" {
                    return;
                }
                // Okta Verify on the phone keeps its tokens fresh through the day.
                let verify = app_target("Okta Verify", &org.api_token_id.replace("00T", "0oa"));
                for _ in 0..self.rng.poisson(5.0) {
                    let later = at + 60_000 + self.rng.below(10 * 3_600_000) as i64;
                    self.derive(
                        later,
                        event,
                        "app.oauth2.as.token.grant.access_token",
                        "OAuth2 access token is granted",
                        json!([verify.clone()]),
                        &[("grantType", json!("refresh_token"))],
                    );
                }
            }
            Some("user.account.lock") => {
                let later = at + 1_200_000 + self.rng.below(3_600_000) as i64;
                let by_admin = self.rng.chance(0.5);
                let user = event["actor"].clone();
                let target = json!([{"id": user["id"], "type": "User", "alternateId": user["alternateId"], "displayName": user["displayName"], "detailEntry": null}]);
                if by_admin {
                    let admin = &org.users[*self.rng.pick(&org.admins)];
                    let mut base = event.clone();
                    base["actor"] = user_actor(admin);
                    base["client"]["ipAddress"] = json!(admin.home_ip);
                    self.derive(
                        later,
                        &base,
                        "user.account.unlock_by_admin",
                        "Unlock user account by admin",
                        target,
                        &[],
                    );
                } else {
                    self.derive(
                        later,
                        event,
                        "user.account.unlock",
                        "User account unlocked",
                        target,
                        &[],
                    );
                }
            }
            _ => {}
        }
    }

    fn some_user(&mut self) -> usize {
        self.rng.below(self.org.users.len() as u64) as usize
    }

    fn someone_new(&mut self) -> Value {
        let first = *self.rng.pick(FIRST_NAMES);
        let last = *self.rng.pick(LAST_NAMES);
        let login = format!(
            "{}.{}{}@{}",
            first.to_lowercase(),
            last.to_lowercase(),
            self.rng.below(100),
            self.org.email_domain
        );
        target(
            &self.rng.okta_id("00u"),
            "User",
            &login,
            &format!("{first} {last}"),
        )
    }

    /// People registering laptops and phones; admins retiring old ones.
    fn devices(&mut self, busy: f64) {
        let org = self.org;
        let scale = org.users.len() as f64;
        for _ in 0..self.rng.poisson(scale / 250.0 * busy) {
            let user = &org.users[self.some_user()];
            let &(model, os) = self.rng.pick(DEVICES);
            let agent = if os == "iOS" || os == "Android" {
                user.mobile
            } else {
                user.desktop
            };
            let origin = Origin {
                ip: &user.home_ip,
                place: user.home,
                agent,
            };
            let device = target(&self.rng.okta_id("guo"), "Device", model, model);
            let mut t = self.working_time(user.home);
            let mut enrol = Spec::new(
                "device.enrollment.create",
                "Device Enrolled",
                user_actor(user),
                Some(origin),
            );
            enrol.targets = vec![device.clone()];
            enrol.uri = "/idp/authenticators/enroll";
            enrol.debug = vec![("platform", json!(os))];
            self.push(t, enrol);
            t += 2_000;
            let mut add = Spec::new(
                "device.user.add",
                "Add device user",
                user_actor(user),
                Some(origin),
            );
            add.targets = vec![
                device,
                target(&user.id, "User", &user.login, &user.display_name),
            ];
            self.push(t, add);
        }
        for _ in 0..self.rng.poisson(scale / 400.0 * busy) {
            let admin = &org.users[*self.rng.pick(&org.admins)];
            let origin = self.admin_origin(admin);
            let &(model, _) = self.rng.pick(DEVICES);
            let device = target(&self.rng.okta_id("guo"), "Device", model, model);
            let t = self.working_time(admin.home);
            let (kind, display) = *self.rng.pick(&[
                ("device.lifecycle.deactivate", "Deactivate Device"),
                ("device.lifecycle.suspend", "Suspend Device"),
                ("device.lifecycle.delete", "Delete Device"),
            ]);
            let mut change = Spec::new(kind, display, user_actor(admin), Some(origin));
            change.targets = vec![device];
            change.uri = "/api/v1/devices";
            self.push(t, change);
        }
    }

    /// Leavers deactivated and removed from their apps and groups; the occasional suspension,
    /// reactivation and deletion.
    fn leavers(&mut self, busy: f64) {
        let org = self.org;
        let scale = org.users.len() as f64;
        let admin = &org.users[*self.rng.pick(&org.admins)];
        let origin = self.admin_origin(admin);
        let actor = user_actor(admin);
        for _ in 0..self.rng.poisson(scale / 500.0 * busy) {
            let leaver = self.someone_new();
            let mut t = self.working_time(admin.home);
            let mut deactivate = Spec::new(
                "user.lifecycle.deactivate",
                "Deactivate Okta user",
                actor.clone(),
                Some(origin),
            );
            deactivate.legacy = Some("core.user.config.user_deactivated");
            deactivate.targets = vec![leaver.clone()];
            deactivate.uri = "/api/v1/users/lifecycle/deactivate";
            self.push(t, deactivate);
            for app in org.apps.iter().filter(|a| a.spec.reach > 0.9) {
                t += 800;
                let mut remove = Spec::new(
                    "application.user_membership.remove",
                    "Remove user from application membership",
                    actor.clone(),
                    Some(origin),
                );
                let mut app_user = leaver.clone();
                app_user["type"] = json!("AppUser");
                remove.targets = vec![
                    app_user,
                    target(&app.id, "AppInstance", app.spec.label, app.spec.label),
                ];
                remove.uri = "/api/v1/apps/users";
                self.push(t, remove);
            }
            let group = &org.groups[1 + self.rng.below(8) as usize];
            let mut out = Spec::new(
                "group.user_membership.remove",
                "Remove user from group membership",
                actor.clone(),
                Some(origin),
            );
            out.targets = vec![
                leaver.clone(),
                target(&group.id, "UserGroup", group.name, group.name),
            ];
            out.uri = "/api/v1/groups/users";
            self.push(t + 1_000, out);
            if self.rng.chance(0.3) {
                let mut delete = Spec::new(
                    "user.lifecycle.delete.initiated",
                    "Delete Okta user",
                    actor.clone(),
                    Some(origin),
                );
                delete.targets = vec![leaver];
                delete.uri = "/api/v1/users";
                self.push(t + 3_600_000, delete);
            }
        }
        if self.rng.chance(0.2 * busy) {
            let person = self.someone_new();
            let t = self.working_time(admin.home);
            let mut suspend = Spec::new(
                "user.lifecycle.suspend",
                "Suspend Okta user",
                actor.clone(),
                Some(origin),
            );
            suspend.targets = vec![person.clone()];
            suspend.uri = "/api/v1/users/lifecycle/suspend";
            self.push(t, suspend);
            if self.rng.chance(0.6) {
                let mut back = Spec::new(
                    "user.lifecycle.unsuspend",
                    "Unsuspend Okta user",
                    actor.clone(),
                    Some(origin),
                );
                back.targets = vec![person];
                back.uri = "/api/v1/users/lifecycle/unsuspend";
                self.push(t + 7_200_000, back);
            }
        }
        if self.rng.chance(0.15 * busy) {
            let person = self.someone_new();
            let t = self.working_time(admin.home);
            let mut back = Spec::new(
                "user.lifecycle.reactivate",
                "Reactivate Okta user",
                actor,
                Some(origin),
            );
            back.targets = vec![person];
            back.uri = "/api/v1/users/lifecycle/reactivate";
            self.push(t, back);
        }
    }

    /// Profiles edited, factors replaced, and the help desk resetting factors (which people
    /// then set up again).
    fn people_and_factors(&mut self, busy: f64) {
        let org = self.org;
        let scale = org.users.len() as f64;
        for _ in 0..self.rng.poisson(scale / 60.0 * busy) {
            let user = &org.users[self.some_user()];
            let origin = Origin {
                ip: &user.home_ip,
                place: user.home,
                agent: user.desktop,
            };
            let t = self.working_time(user.home);
            let mut edit = Spec::new(
                "user.account.update_profile",
                "User update profile for Okta",
                user_actor(user),
                Some(origin),
            );
            edit.targets = vec![target(&user.id, "User", &user.login, &user.display_name)];
            edit.uri = "/api/v1/users/me";
            self.push(t, edit);
        }
        for _ in 0..self.rng.poisson(scale / 600.0 * busy) {
            let user = &org.users[self.some_user()];
            let admin = &org.users[*self.rng.pick(&org.admins)];
            let (factor, _) = org.factor_of(user);
            let origin = Origin {
                ip: &user.home_ip,
                place: user.home,
                agent: user.mobile,
            };
            let me = target(&user.id, "User", &user.login, &user.display_name);
            let mut t = self.working_time(admin.home);
            if self.rng.chance(0.5) {
                let mut reset = Spec::new(
                    "user.mfa.factor.reset_all",
                    "Reset all factors for user",
                    user_actor(admin),
                    Some(self.admin_origin(admin)),
                );
                reset.targets = vec![me.clone()];
                reset.uri = "/api/v1/users/lifecycle/reset_factors";
                self.push(t, reset);
            } else {
                t = self.working_time(user.home);
                let mut off = Spec::new(
                    "user.mfa.factor.deactivate",
                    "User reset factor",
                    user_actor(user),
                    Some(origin),
                );
                off.targets = vec![me.clone()];
                off.debug = vec![("factor", json!(factor))];
                off.uri = "/api/v1/users/me/factors";
                self.push(t, off);
            }
            // A new phone set up within hours.
            t += 600_000 + self.rng.below(4 * 3_600_000) as i64;
            let mut enrol = Spec::new(
                "user.mfa.factor.activate",
                "User set up factor",
                user_actor(user),
                Some(origin),
            );
            enrol.legacy = Some("core.user.factor.activate");
            enrol.targets = vec![me];
            enrol.debug = vec![("factor", json!(factor))];
            enrol.uri = "/idp/idx/credential/enroll";
            self.push(t, enrol);
        }
    }

    /// Admins opening the Admin Console, and the rarer changes: roles, zones, policies.
    fn admin_changes(&mut self, busy: f64) {
        let org = self.org;
        for &a in &org.admins {
            if !self.rng.chance(0.8 * busy) {
                continue;
            }
            let admin = &org.users[a];
            let t = self.working_time(admin.home);
            let mut console = Spec::new(
                "user.session.access_admin_app",
                "User accessing Okta admin app",
                user_actor(admin),
                Some(self.admin_origin(admin)),
            );
            console.targets = vec![target(
                &org.system_id.replace("00u", "0oa"),
                "AppInstance",
                "Okta Admin Console",
                "Okta Admin Console",
            )];
            console.uri = "/admin/sso/callback";
            self.push(t, console);
        }
        let admin = &org.users[*self.rng.pick(&org.admins)];
        let origin = self.admin_origin(admin);
        let actor = user_actor(admin);
        if self.rng.chance(0.25 * busy) {
            let user = &org.users[self.some_user()];
            let role = *self.rng.pick(ROLES);
            let grant = self.rng.chance(0.6);
            let mut change = Spec::new(
                if grant {
                    "user.account.privilege.grant"
                } else {
                    "user.account.privilege.revoke"
                },
                if grant {
                    "Grant user privilege"
                } else {
                    "Revoke user privilege"
                },
                actor.clone(),
                Some(origin),
            );
            change.legacy = Some(if grant {
                "core.user.admin_privilege.granted"
            } else {
                "core.user.admin_privilege.revoked"
            });
            change.targets = vec![target(&user.id, "User", &user.login, &user.display_name)];
            change.debug = vec![(
                if grant {
                    "privilegeGranted"
                } else {
                    "privilegeRevoked"
                },
                json!(role),
            )];
            change.uri = "/api/internal/administrators";
            let t = self.working_time(admin.home);
            self.push(t, change);
        }
        if self.rng.chance(0.15 * busy) {
            let zone = *self.rng.pick(ZONES);
            let id = format!(
                "nzo{}",
                &org.system_id[3..].chars().rev().collect::<String>()
            );
            let mut change = Spec::new(
                "zone.update",
                "Update network zone",
                actor.clone(),
                Some(origin),
            );
            change.targets = vec![target(
                &format!("{id}{}", zone.len()),
                "NetworkZone",
                zone,
                zone,
            )];
            change.uri = "/api/v1/zones";
            let t = self.working_time(admin.home);
            self.push(t, change);
        }
        if self.rng.chance(0.15 * busy) {
            let policy = &org.policies[self.rng.below(org.policies.len() as u64) as usize];
            let mut change = Spec::new(
                "policy.lifecycle.update",
                "Update policy",
                actor,
                Some(origin),
            );
            change.targets = vec![target(&policy.0, "PolicyEntity", &policy.0, policy.1)];
            change.uri = "/api/v1/policies";
            let t = self.working_time(admin.home);
            self.push(t, change);
        }
    }

    /// Requests from blocked zones, and people reporting a sign-in they did not make.
    fn blocked_and_reported(&mut self) {
        let org = self.org;
        let scale = org.users.len() as f64;
        for _ in 0..self.rng.poisson(scale / 150.0) {
            let place = &FOREIGN[self.rng.below(FOREIGN.len() as u64) as usize];
            let ip = format!(
                "{}.{}.{}",
                place.ip_prefix,
                self.rng.range(1, 254),
                self.rng.range(1, 254)
            );
            let agent = &crate::catalog::ATTACK_AGENTS
                [self.rng.below(crate::catalog::ATTACK_AGENTS.len() as u64) as usize];
            let origin = Origin {
                ip: &ip,
                place,
                agent,
            };
            let actor = json!({"id": ip, "type": "IP address", "alternateId": "unknown", "displayName": "Unknown", "detailEntry": null});
            let mut blocked = Spec::new(
                "security.request.blocked",
                "Request from blocked IP address",
                actor,
                Some(origin),
            );
            blocked.result = "DENY";
            blocked.reason = Some("Blocklisted zone");
            blocked.severity = "WARN";
            let t = self.any_time();
            self.push(t, blocked);
        }
        if self.rng.chance(scale / 1_500.0) {
            let user = &org.users[self.some_user()];
            let origin = Origin {
                ip: &user.home_ip,
                place: user.home,
                agent: user.mobile,
            };
            let mut report = Spec::new(
                "user.account.report_suspicious_activity_by_enduser",
                "User report suspicious activity",
                user_actor(user),
                Some(origin),
            );
            report.severity = "WARN";
            report.targets = vec![target(&user.id, "User", &user.login, &user.display_name)];
            report.uri = "/api/v1/users/me/suspicious-activity";
            let t = self.working_time(user.home);
            self.push(t, report);
        }
        if self.rng.chance(0.05) {
            let system = json!({"id": org.system_id, "type": "SystemPrincipal", "alternateId": "system@okta.com", "displayName": "Okta System", "detailEntry": null});
            let mut warning = Spec::new(
                "system.org.rate_limit.warning",
                "Rate limit warning",
                system,
                None,
            );
            warning.severity = "WARN";
            warning.uri = "/api/v1/users";
            let t = self.any_time();
            self.push(t, warning);
        }
    }

    /// An integration's service account, which signs in with a password alone: the org's one
    /// active account without MFA.
    fn service_account(&mut self, weekend: bool) {
        let org = self.org;
        let place = &OFFICES[0];
        let login = format!("svc-integration@{}", org.email_domain);
        let id = format!("00u{}", &org.api_token_id[3..]);
        let ip = format!("{}.250.10", place.ip_prefix);
        let agent = &crate::catalog::AGENTS[0];
        let origin = Origin {
            ip: &ip,
            place,
            agent,
        };
        let actor = json!({"id": id, "type": "User", "alternateId": login, "displayName": "Integration Service", "detailEntry": null});
        let runs = if weekend {
            1
        } else {
            2 + self.rng.poisson(1.0)
        };
        for _ in 0..runs {
            let t = self.any_time();
            let session = format!("102{}", self.rng.base62(22));
            let mut sign_in = Spec::new(
                "user.session.start",
                "User login to Okta",
                actor.clone(),
                Some(origin),
            );
            sign_in.legacy = Some("core.user_auth.login_success");
            sign_in.credential = Some("PASSWORD");
            sign_in.session = Some(&session);
            self.push(t, sign_in);
        }
    }
}
