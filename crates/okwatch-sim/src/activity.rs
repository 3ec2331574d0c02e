//! One day of an org's System Log: sign-ins with MFA, app launches, admin work, and the
//! background noise of the internet trying passwords.
//!
//! Each day is drawn from its own random stream (seed, day number), so any day can be
//! produced alone, in any order, and always comes out the same.

use crate::catalog::{Agent, Place, ATTACK_AGENTS, FIRST_NAMES, FOREIGN, LAST_NAMES};
use crate::org::{Org, User};
use crate::rng::Rng;
use chrono::{Datelike, TimeZone, Utc, Weekday};
use okwatch_model::{format_timestamp, Timestamp};
use serde_json::{json, Map, Value};

const MS_PER_DAY: i64 = 86_400_000;

/// Where a request came from.
#[derive(Clone, Copy)]
pub struct Origin<'a> {
    /// IP address.
    pub ip: &'a str,
    /// Its place.
    pub place: &'a Place,
    /// The client software.
    pub agent: &'a Agent,
}

/// One drawn event before it is placed in the day's order.
pub struct Drawn {
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The LogEvent.
    pub event: Value,
}

/// Builds the events of one day.
pub struct DayBuilder<'a> {
    pub(crate) org: &'a Org,
    pub(crate) rng: Rng,
    pub(crate) seed: u64,
    pub(crate) day_start_ms: i64,
    pub(crate) out: Vec<Drawn>,
}

/// What an event is about, beyond its type.
pub struct Spec<'a> {
    /// Okta event type.
    pub event_type: &'a str,
    /// displayMessage.
    pub display: &'a str,
    /// legacyEventType.
    pub legacy: Option<&'a str>,
    /// `INFO`, `WARN`, ...
    pub severity: &'a str,
    /// outcome.result.
    pub result: &'a str,
    /// outcome.reason.
    pub reason: Option<&'a str>,
    /// The actor.
    pub actor: Value,
    /// Where the request came from, or `None` for a background job.
    pub origin: Option<Origin<'a>>,
    /// The targets.
    pub targets: Vec<Value>,
    /// externalSessionId.
    pub session: Option<&'a str>,
    /// authenticationContext.credentialType.
    pub credential: Option<&'a str>,
    /// The request path.
    pub uri: &'a str,
    /// Extra debugData members.
    pub debug: Vec<(&'a str, Value)>,
}

impl<'a> Spec<'a> {
    /// A password sign-in to Okta; the two below say how it ended.
    fn password_sign_in(actor: Value, origin: Origin<'a>) -> Self {
        Spec {
            credential: Some("PASSWORD"),
            ..Spec::new(
                "user.session.start",
                "User login to Okta",
                actor,
                Some(origin),
            )
        }
    }

    /// A password sign-in to Okta that failed with `reason`.
    pub fn failed_password(actor: Value, origin: Origin<'a>, reason: &'a str) -> Self {
        Spec {
            legacy: Some("core.user_auth.login_failed"),
            severity: "WARN",
            result: "FAILURE",
            reason: Some(reason),
            ..Spec::password_sign_in(actor, origin)
        }
    }

    /// A password sign-in to Okta that succeeded and opened `session`.
    pub fn signed_in(actor: Value, origin: Origin<'a>, session: &'a str) -> Self {
        Spec {
            legacy: Some("core.user_auth.login_success"),
            session: Some(session),
            ..Spec::password_sign_in(actor, origin)
        }
    }

    /// The account locked after too many failed sign-ins.
    pub fn lockout(actor: Value, origin: Origin<'a>) -> Self {
        Spec {
            legacy: Some("core.user_auth.account_locked"),
            severity: "WARN",
            result: "FAILURE",
            reason: Some("LOCKED_OUT"),
            ..Spec::new(
                "user.account.lock",
                "Max sign in attempts exceeded",
                actor,
                Some(origin),
            )
        }
    }

    /// A spec with the usual defaults: INFO, SUCCESS, no targets.
    pub fn new(
        event_type: &'a str,
        display: &'a str,
        actor: Value,
        origin: Option<Origin<'a>>,
    ) -> Self {
        Spec {
            event_type,
            display,
            legacy: None,
            severity: "INFO",
            result: "SUCCESS",
            reason: None,
            actor,
            origin,
            targets: Vec::new(),
            session: None,
            credential: None,
            uri: "/api/v1/authn",
            debug: Vec::new(),
        }
    }
}

/// The actor object for a user.
pub fn user_actor(user: &User) -> Value {
    json!({"id": user.id, "type": "User", "alternateId": user.login, "displayName": user.display_name, "detailEntry": null})
}

/// A target object.
pub fn target(id: &str, kind: &str, alternate_id: &str, display_name: &str) -> Value {
    json!({"id": id, "type": kind, "alternateId": alternate_id, "displayName": display_name, "detailEntry": null})
}

fn geo(place: &Place) -> Value {
    json!({"city": place.city, "state": place.state, "country": place.country, "postalCode": place.postal,
           "geolocation": {"lat": place.lat, "lon": place.lon}})
}

impl<'a> DayBuilder<'a> {
    /// Starts the day that begins at `day_start` (UTC midnight).
    pub fn new(org: &'a Org, seed: u64, day_start: Timestamp) -> Self {
        let day_number = day_start.timestamp().div_euclid(86_400) as u64;
        DayBuilder {
            org,
            rng: Rng::new(seed, day_number),
            seed,
            day_start_ms: day_start.timestamp_millis(),
            out: Vec::new(),
        }
    }

    /// The day's random stream, for scenario code built on top.
    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Adds an event at `at_ms` (milliseconds since the epoch).
    pub fn push(&mut self, at_ms: i64, spec: Spec<'_>) {
        let rng = &mut self.rng;
        let request_id = format!("{}AAAB{}", rng.base62(22), rng.base62(2));
        let published = Timestamp::from_timestamp_millis(at_ms).expect("in range");
        let (client, security, ip_chain) = match spec.origin {
            Some(o) => {
                let geo = geo(o.place);
                (
                    json!({"userAgent": {"rawUserAgent": o.agent.raw, "os": o.agent.os, "browser": o.agent.browser},
                           "zone": "null", "device": o.agent.device, "id": null, "ipAddress": o.ip,
                           "geographicalContext": geo}),
                    json!({"asNumber": o.place.asn, "asOrg": o.place.isp, "isp": o.place.isp,
                           "domain": format!("{}.net", o.place.isp.split_whitespace().next().unwrap_or("isp")),
                           "isProxy": false}),
                    json!([{"ip": o.ip, "geographicalContext": geo, "version": "V4", "source": null}]),
                )
            }
            None => (
                json!({"userAgent": null, "zone": null, "device": null, "id": null, "ipAddress": null, "geographicalContext": null}),
                json!({"asNumber": null, "asOrg": null, "isp": null, "domain": null, "isProxy": null}),
                json!([]),
            ),
        };
        let mut debug = Map::new();
        debug.insert("requestId".into(), json!(request_id));
        debug.insert("requestUri".into(), json!(spec.uri));
        debug.insert("url".into(), json!(format!("{}?", spec.uri)));
        for (k, v) in spec.debug {
            debug.insert(k.into(), v);
        }
        let event = json!({
            "actor": spec.actor,
            "client": client,
            "device": null,
            "authenticationContext": {
                "authenticationProvider": null, "credentialProvider": null,
                "credentialType": spec.credential, "issuer": null, "interface": null,
                "authenticationStep": 0,
                "externalSessionId": spec.session.unwrap_or("unknown")
            },
            "displayMessage": spec.display,
            "eventType": spec.event_type,
            "outcome": {"result": spec.result, "reason": spec.reason},
            "published": format_timestamp(published),
            "securityContext": security,
            "severity": spec.severity,
            "debugContext": {"debugData": debug},
            "legacyEventType": spec.legacy,
            "transaction": {"type": if spec.origin.is_some() { "WEB" } else { "JOB" }, "id": request_id, "detail": {}},
            "uuid": rng.uuid(),
            "version": "0",
            "request": {"ipChain": ip_chain},
            "target": spec.targets,
        });
        self.out.push(Drawn { at_ms, event });
    }

    /// A time on this day at a local working hour for someone at `place`.
    pub(crate) fn working_time(&mut self, place: &Place) -> i64 {
        // Mostly 8:00–18:00 local with a morning peak; a few late-evening sessions.
        let hour = if self.rng.chance(0.08) {
            19.0 + self.rng.unit() * 4.0
        } else {
            let a = self.rng.unit();
            let b = self.rng.unit();
            8.0 + (a + b) * 5.0
        };
        let local_ms = (hour * 3_600_000.0) as i64;
        let utc_ms = (local_ms - place.utc_offset * 3_600_000).rem_euclid(MS_PER_DAY);
        self.day_start_ms + utc_ms
    }

    pub(crate) fn any_time(&mut self) -> i64 {
        self.day_start_ms + self.rng.below(MS_PER_DAY as u64) as i64
    }

    fn session_id(&mut self) -> String {
        format!("102{}", self.rng.base62(22))
    }

    /// One user's sign-in: password, sign-on policy, MFA, session, then apps.
    pub fn sign_in(&mut self, user_index: usize, start_ms: i64, mobile: bool, launch_apps: bool) {
        let org = self.org;
        let user = &org.users[user_index];
        let agent = if mobile { user.mobile } else { user.desktop };
        let ip = if mobile {
            format!(
                "{}.{}.{}",
                user.home.ip_prefix,
                200 + (user_index % 50),
                self.rng.range(1, 254)
            )
        } else {
            user.home_ip.clone()
        };
        let origin = Origin {
            ip: &ip,
            place: user.home,
            agent,
        };
        let actor = user_actor(user);
        let mut t = start_ms;
        if self.rng.chance(0.035) {
            let failed = Spec::failed_password(actor.clone(), origin, "INVALID_CREDENTIALS");
            self.push(t, failed);
            t += 8_000 + self.rng.below(30_000) as i64;
        }
        let session = self.session_id();
        let policy = &org.policies[if user.is_admin { 2 } else { 1 }];
        let mut evaluate = Spec::new(
            "policy.evaluate_sign_on",
            "Evaluation of sign-on policy",
            actor.clone(),
            Some(origin),
        );
        evaluate.result = "CHALLENGE";
        evaluate.reason = Some("Sign-on policy evaluation resulted in CHALLENGE");
        evaluate.targets = vec![target(&policy.0, "PolicyEntity", &policy.0, policy.1)];
        evaluate.session = Some(&session);
        evaluate.debug = vec![(
            "behaviors",
            json!("{New Geo-Location=NEGATIVE, New Device=NEGATIVE, New IP=NEGATIVE}"),
        )];
        self.push(t, evaluate);
        t += 400 + self.rng.below(1_500) as i64;
        let (factor, credential) = org.factor_of(user);
        if factor == "OKTA_VERIFY_PUSH" {
            let mut push = Spec::new(
                "system.push.send_factor_verify_push",
                "Push notification sent for verify",
                actor.clone(),
                Some(origin),
            );
            push.session = Some(&session);
            push.uri = "/idp/idx/challenge";
            self.push(t, push);
            t += 3_000 + self.rng.below(12_000) as i64;
        }
        let mfa_ok = !self.rng.chance(0.012);
        let mut mfa = Spec::new(
            "user.authentication.auth_via_mfa",
            "Authentication of user via MFA",
            actor.clone(),
            Some(origin),
        );
        mfa.session = Some(&session);
        mfa.credential = credential;
        mfa.uri = "/idp/idx/challenge/answer";
        mfa.debug = vec![("factor", json!(factor))];
        if !mfa_ok {
            mfa.result = "FAILURE";
            mfa.reason = Some("INVALID_CREDENTIALS");
            mfa.severity = "WARN";
        }
        self.push(t, mfa);
        if !mfa_ok {
            return;
        }
        t += 300 + self.rng.below(800) as i64;
        self.push(t, Spec::signed_in(actor.clone(), origin, &session));
        if launch_apps {
            let apps = user.apps.clone();
            for app_index in apps {
                let app = &org.apps[app_index];
                if !self
                    .rng
                    .chance(app.spec.daily_use * user.activity.min(1.0) * 0.8)
                {
                    continue;
                }
                t += 20_000 + self.rng.below(1_800_000) as i64;
                let mut sso = Spec::new(
                    "user.authentication.sso",
                    "User single sign on to app",
                    actor.clone(),
                    Some(origin),
                );
                sso.legacy = Some("app.auth.sso");
                sso.session = Some(&session);
                let sso_uri = format!("/app/{}/{}/sso/saml", app.spec.name, app.id);
                sso.uri = &sso_uri;
                sso.targets = vec![
                    target(&app.id, "AppInstance", app.spec.label, app.spec.label),
                    target(&user.id, "AppUser", &user.login, &user.display_name),
                ];
                self.push(t, sso);
            }
        }
        if self.rng.chance(0.3) {
            t += 600_000 + self.rng.below(14_400_000) as i64;
            let mut end = Spec::new(
                "user.session.end",
                "User logout from Okta",
                actor,
                Some(origin),
            );
            end.legacy = Some("core.user_auth.logout_success");
            end.session = Some(&session);
            end.uri = "/login/signout";
            self.push(t, end);
        }
    }

    /// Everyone's ordinary working day; answers whether it was a weekend.
    pub fn ordinary_day(&mut self) -> bool {
        let org = self.org;
        let weekday = Utc
            .timestamp_millis_opt(self.day_start_ms)
            .single()
            .map(|d| d.weekday())
            .unwrap_or(Weekday::Mon);
        let weekend = matches!(weekday, Weekday::Sat | Weekday::Sun);
        for (i, user) in org.users.iter().enumerate() {
            let active = if weekend { 0.1 } else { 0.93 };
            if !self.rng.chance(active * user.activity.min(1.0)) {
                continue;
            }
            let sessions = 1 + self.rng.poisson(if weekend { 0.1 } else { 0.5 });
            for s in 0..sessions {
                let at = self.working_time(user.home);
                self.sign_in(i, at, false, s == 0);
            }
            if self.rng.chance(0.25) {
                let at = self.working_time(user.home);
                self.sign_in(i, at, true, false);
            }
        }
        self.admin_work(weekend);
        self.internet_noise();
        weekend
    }

    pub(crate) fn admin_origin(&self, admin: &'a User) -> Origin<'a> {
        Origin {
            ip: &admin.home_ip,
            place: admin.home,
            agent: admin.desktop,
        }
    }

    /// Routine administration: onboarding, app assignments, password and MFA changes.
    pub(crate) fn admin_work(&mut self, weekend: bool) {
        let org = self.org;
        let scale = org.users.len() as f64;
        let busy = if weekend { 0.1 } else { 1.0 };
        let admin = &org.users[*self.rng.pick(&org.admins)];
        let origin = self.admin_origin(admin);
        let admin_actor = user_actor(admin);
        // New hires: created, activated, put in groups and apps.
        for _ in 0..self.rng.poisson(scale / 400.0 * busy) {
            let mut t = self.working_time(admin.home);
            let first = *self.rng.pick(FIRST_NAMES);
            let last = *self.rng.pick(LAST_NAMES);
            let id = self.rng.okta_id("00u");
            let login = format!(
                "{}.{}{}@{}",
                first.to_lowercase(),
                last.to_lowercase(),
                self.rng.below(100),
                org.email_domain
            );
            let name = format!("{first} {last}");
            let new_user = target(&id, "User", &login, &name);
            let mut create = Spec::new(
                "user.lifecycle.create",
                "Create okta user",
                admin_actor.clone(),
                Some(origin),
            );
            create.legacy = Some("core.user.config.user_creation.success");
            create.targets = vec![new_user.clone()];
            create.uri = "/api/v1/users";
            self.push(t, create);
            t += 2_000;
            let mut activate = Spec::new(
                "user.lifecycle.activate",
                "Activate Okta user",
                admin_actor.clone(),
                Some(origin),
            );
            activate.targets = vec![new_user.clone()];
            activate.uri = "/api/v1/users/lifecycle/activate";
            self.push(t, activate);
            let group = &org.groups[1 + self.rng.below(8) as usize];
            t += 5_000;
            let mut add = Spec::new(
                "group.user_membership.add",
                "Add user to group membership",
                admin_actor.clone(),
                Some(origin),
            );
            add.legacy = Some("core.user_group_member.user_add");
            add.targets = vec![
                new_user.clone(),
                target(&group.id, "UserGroup", group.name, group.name),
            ];
            add.uri = "/api/v1/groups/users";
            self.push(t, add);
            for app in org.apps.iter().filter(|a| a.spec.reach > 0.9) {
                t += 1_000;
                let mut assign = Spec::new(
                    "application.user_membership.add",
                    "Add user to application membership",
                    admin_actor.clone(),
                    Some(origin),
                );
                assign.targets = vec![
                    target(&id, "AppUser", &login, &name),
                    target(&app.id, "AppInstance", app.spec.label, app.spec.label),
                ];
                assign.uri = "/api/v1/apps/users";
                self.push(t, assign);
            }
        }
        // Existing users given new apps.
        for _ in 0..self.rng.poisson(scale / 120.0 * busy) {
            let t = self.working_time(admin.home);
            let user = &org.users[self.rng.below(org.users.len() as u64) as usize];
            let app = &org.apps[self.rng.below(org.apps.len() as u64) as usize];
            let mut assign = Spec::new(
                "application.user_membership.add",
                "Add user to application membership",
                admin_actor.clone(),
                Some(origin),
            );
            assign.targets = vec![
                target(&user.id, "AppUser", &user.login, &user.display_name),
                target(&app.id, "AppInstance", app.spec.label, app.spec.label),
            ];
            assign.uri = "/api/v1/apps/users";
            self.push(t, assign);
        }
        // Users changing passwords and enrolling authenticators.
        for _ in 0..self.rng.poisson(scale / 150.0 * busy) {
            let user = &org.users[self.rng.below(org.users.len() as u64) as usize];
            let t = self.working_time(user.home);
            let origin = Origin {
                ip: &user.home_ip,
                place: user.home,
                agent: user.desktop,
            };
            let mut change = Spec::new(
                "user.account.update_password",
                "User update password for Okta",
                user_actor(user),
                Some(origin),
            );
            change.legacy = Some("core.user.config.password_update.success");
            change.targets = vec![target(&user.id, "User", &user.login, &user.display_name)];
            change.uri = "/api/v1/users/me/credentials/change_password";
            self.push(t, change);
        }
        for _ in 0..self.rng.poisson(scale / 250.0 * busy) {
            let user = &org.users[self.rng.below(org.users.len() as u64) as usize];
            let t = self.working_time(user.home);
            let origin = Origin {
                ip: &user.home_ip,
                place: user.home,
                agent: user.desktop,
            };
            let (factor, _) = org.factor_of(user);
            let mut enroll = Spec::new(
                "user.mfa.factor.activate",
                "User set up factor",
                user_actor(user),
                Some(origin),
            );
            enroll.legacy = Some("core.user.factor.activate");
            enroll.targets = vec![target(&user.id, "User", &user.login, &user.display_name)];
            enroll.debug = vec![("factor", json!(factor))];
            enroll.uri = "/idp/idx/credential/enroll";
            self.push(t, enroll);
        }
        // Occasional policy tuning.
        if self.rng.chance(0.25 * busy) {
            let t = self.working_time(admin.home);
            let policy = &org.policies[self.rng.below(org.policies.len() as u64) as usize];
            let rule_id = self.rng.okta_id("0pr");
            let mut update = Spec::new(
                "policy.rule.update",
                "Update policy rule",
                admin_actor.clone(),
                Some(origin),
            );
            update.targets = vec![
                target(&rule_id, "PolicyRule", &rule_id, "Catch-all Rule"),
                target(&policy.0, "PolicyEntity", &policy.0, policy.1),
            ];
            update.uri = "/api/v1/policies/rules";
            self.push(t, update);
        }
        // Users who forget their password and get locked out, then reset by the help desk.
        for _ in 0..self.rng.poisson(scale / 900.0 * busy) {
            let user = &org.users[self.rng.below(org.users.len() as u64) as usize];
            let mut t = self.working_time(user.home);
            let user_origin = Origin {
                ip: &user.home_ip,
                place: user.home,
                agent: user.desktop,
            };
            for _ in 0..5 {
                let failed =
                    Spec::failed_password(user_actor(user), user_origin, "INVALID_CREDENTIALS");
                self.push(t, failed);
                t += 5_000 + self.rng.below(20_000) as i64;
            }
            self.push(t, Spec::lockout(user_actor(user), user_origin));
            t += 900_000 + self.rng.below(3_600_000) as i64;
            let mut reset = Spec::new(
                "user.account.reset_password",
                "Fired when the user's Okta password is reset",
                admin_actor.clone(),
                Some(origin),
            );
            reset.targets = vec![target(&user.id, "User", &user.login, &user.display_name)];
            reset.uri = "/api/v1/users/lifecycle/reset_password";
            self.push(t, reset);
        }
        // A background job: the nightly directory import.
        let t = self.day_start_ms + 3 * 3_600_000 + self.rng.below(600_000) as i64;
        let system = json!({"id": org.system_id, "type": "SystemPrincipal", "alternateId": "system@okta.com", "displayName": "Okta System", "detailEntry": null});
        let mut import = Spec::new("system.import.start", "Import started", system, None);
        import.uri = "/api/internal/import";
        self.push(t, import);
    }

    /// Password guessing and probing from the internet, blocked or failed.
    fn internet_noise(&mut self) {
        let org = self.org;
        let scale = org.users.len() as f64;
        for _ in 0..self.rng.poisson(scale / 60.0) {
            let place = &FOREIGN[self.rng.below(FOREIGN.len() as u64) as usize];
            let agent = &ATTACK_AGENTS[self.rng.below(ATTACK_AGENTS.len() as u64) as usize];
            let ip = format!(
                "{}.{}.{}",
                place.ip_prefix,
                self.rng.range(1, 254),
                self.rng.range(1, 254)
            );
            let origin = Origin {
                ip: &ip,
                place,
                agent,
            };
            let t = self.any_time();
            if self.rng.chance(0.4) {
                let actor = json!({"id": ip, "type": "IP address", "alternateId": "unknown", "displayName": "Unknown", "detailEntry": null});
                let mut threat = Spec::new(
                    "security.threat.detected",
                    "Request from suspicious actor",
                    actor,
                    Some(origin),
                );
                threat.severity = "WARN";
                threat.result = "DENY";
                threat.reason = Some("Password Spray");
                threat.debug = vec![
                    ("threatSuspected", json!("true")),
                    (
                        "threatDetections",
                        json!("{\"Password Spray\":\"[RECOGNIZED_IP]\"}"),
                    ),
                ];
                self.push(t, threat);
            } else {
                let user = &org.users[self.rng.below(org.users.len() as u64) as usize];
                let guessed = if self.rng.chance(0.5) {
                    user_actor(user)
                } else {
                    let login =
                        format!("{}@{}", self.rng.base62(6).to_lowercase(), org.email_domain);
                    json!({"id": "unknown", "type": "User", "alternateId": login, "displayName": "unknown", "detailEntry": null})
                };
                let reason = if self.rng.chance(0.7) {
                    "INVALID_CREDENTIALS"
                } else {
                    "VERIFICATION_ERROR"
                };
                let failed = Spec::failed_password(guessed, origin, reason);
                self.push(t, failed);
            }
        }
    }

    /// The day's events in publication order. A session that starts late may run past
    /// midnight, so the last events can belong to the next day.
    pub fn finish(mut self) -> Vec<Drawn> {
        self.out.sort_by_key(|d| d.at_ms);
        self.out
    }
}
