//! The detections okwatch ships, on by default: Okta's real event types, and the thresholds of
//! the best public detection sets.

use super::{Condition, Escalation, Rule, Severity};
use chrono::TimeDelta;
use okwatch_query::{parse_and_validate, Dialect, Expr};

const SIGN_IN_FAILED: &str = r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#;

fn filter(text: &str) -> Expr {
    parse_and_validate(text, Dialect::Okwatch)
        .unwrap_or_else(|e| panic!("a shipped detection's filter is invalid: {text}: {e:?}"))
}

struct Spec {
    id: &'static str,
    name: &'static str,
    description: &'static str,
    severity: Severity,
    filter: &'static str,
    group_by: Option<&'static str>,
    condition: Condition,
    runbook: &'static str,
    escalate: Option<Escalation>,
}

fn minutes(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

/// A spray's or stuffing's follow-up: a targeted user signing in from the attacking IP within
/// 3 hours.
fn signed_in_from_the_attacker() -> Escalation {
    Escalation {
        when: filter(r#"eventType eq "user.session.start" and outcome.result eq "SUCCESS""#),
        within: minutes(180),
        severity: Severity::Critical,
        among: true,
    }
}

fn specs() -> Vec<Spec> {
    use Severity::*;
    let any = |id, name, description, severity, filter: &'static str, group_by, runbook| Spec {
        id,
        name,
        description,
        severity,
        filter,
        group_by,
        condition: Condition::Any,
        runbook,
        escalate: None,
    };
    vec![
        Spec {
            id: "okwatch.brute_force",
            name: "Brute force on one user",
            description: "20 or more failed sign-ins for one user within an hour.",
            severity: Medium,
            filter: SIGN_IN_FAILED,
            group_by: Some("actor.alternateId"),
            condition: Condition::Count { at_least: 20, window: minutes(60) },
            runbook: "Check where the attempts came from; if not the user, block the IPs (network zone) and make sure the account is locked or has MFA.",
            escalate: None,
        },
        Spec {
            id: "okwatch.lockout_spike",
            name: "Repeated lockouts",
            description: "3 or more lockouts of one user within 3 hours.",
            severity: Medium,
            filter: r#"eventType eq "user.account.lock""#,
            group_by: Some("actor.alternateId"),
            condition: Condition::Count { at_least: 3, window: minutes(180) },
            runbook: "Someone keeps guessing this user's password: find the source IPs and block them.",
            escalate: None,
        },
        Spec {
            id: "okwatch.password_spray",
            name: "Password spray from one IP",
            description: "One IP fails to sign in as 5 or more users, 15 or more times, within an hour.",
            severity: High,
            filter: SIGN_IN_FAILED,
            group_by: Some("client.ipAddress"),
            condition: Condition::Distinct {
                field: "actor.alternateId".into(),
                at_least: 5,
                events: 15,
                window: minutes(60),
            },
            runbook: "Block the IP in a network zone; check whether any targeted user then signed in successfully from it, and reset those passwords.",
            escalate: Some(signed_in_from_the_attacker()),
        },
        Spec {
            id: "okwatch.credential_stuffing",
            name: "Credential stuffing from one IP",
            description: "One IP fails to sign in as 15 or more users, 25 or more times, within an hour.",
            severity: High,
            filter: SIGN_IN_FAILED,
            group_by: Some("client.ipAddress"),
            condition: Condition::Distinct {
                field: "actor.alternateId".into(),
                at_least: 15,
                events: 25,
                window: minutes(60),
            },
            runbook: "Leaked passwords are being tried: block the IP, and reset the password of every targeted user who then signed in from it.",
            escalate: Some(signed_in_from_the_attacker()),
        },
        Spec {
            id: "okwatch.mfa_push_fatigue",
            name: "MFA push fatigue",
            description: "5 or more denied Okta Verify pushes for one user within 10 minutes.",
            severity: High,
            filter: r#"eventType eq "user.mfa.okta_verify.deny_push" or (eventType eq "user.authentication.auth_via_mfa" and outcome.result eq "FAILURE")"#,
            group_by: Some("actor.alternateId"),
            condition: Condition::Count { at_least: 5, window: minutes(10) },
            runbook: "The attacker has the password: reset it, clear the user's sessions, and check whether a push was accepted afterwards.",
            escalate: Some(Escalation {
                when: filter(r#"(eventType eq "user.authentication.auth_via_mfa" or eventType eq "user.mfa.okta_verify") and outcome.result eq "SUCCESS""#),
                within: minutes(60),
                severity: Critical,
                among: false,
            }),
        },
        Spec {
            id: "okwatch.impossible_travel",
            name: "Impossible travel",
            description: "Two sign-ins of one user farther apart than 900 km/h allows.",
            severity: Medium,
            filter: r#"eventType eq "user.session.start" and outcome.result eq "SUCCESS""#,
            group_by: Some("actor.alternateId"),
            condition: Condition::Travel { max_kmh: 900.0 },
            runbook: "Ask the user whether both sign-ins were theirs; if not, clear their sessions and reset their password and factors.",
            escalate: None,
        },
        Spec {
            id: "okwatch.new_country",
            name: "Sign-in from a new country",
            description: "A user signed in from a country not seen in at least 14 days of their history.",
            severity: Low,
            filter: r#"eventType eq "user.session.start" and outcome.result eq "SUCCESS" and client.geographicalContext.country pr"#,
            group_by: Some("actor.alternateId"),
            condition: Condition::NewValue {
                field: "client.geographicalContext.country".into(),
                history: TimeDelta::days(14),
            },
            runbook: "Ask the user whether they are travelling; if not, clear their sessions and reset their password and factors.",
            escalate: None,
        },
        Spec {
            id: "okwatch.session_second_country",
            name: "Session used from a second country",
            description: "One Okta session seen from two countries within 12 hours.",
            severity: High,
            // Sign-ins and single sign-ons carry the session and the place; reading every
            // event of every session would cost far more and add nothing.
            filter: r#"(eventType eq "user.session.start" or eventType eq "user.authentication.sso" or eventType sw "user.authentication.auth_via") and authenticationContext.externalSessionId pr and not (authenticationContext.externalSessionId eq "unknown")"#,
            group_by: Some("authenticationContext.externalSessionId"),
            condition: Condition::Distinct {
                field: "client.geographicalContext.country".into(),
                at_least: 2,
                events: 0,
                window: minutes(12 * 60),
            },
            runbook: "A stolen session cookie: clear the user's sessions, then find how it was taken.",
            escalate: None,
        },
        any(
            "okwatch.admin_granted",
            "Admin privilege granted",
            "An administrator role was granted to a user or group.",
            Low,
            r#"eventType eq "user.account.privilege.grant" or eventType eq "group.privilege.grant""#,
            None,
            "Confirm the grant was requested and approved.",
        ),
        any(
            "okwatch.api_token_created",
            "API token created",
            "Someone created an Okta API token, which acts with their privileges.",
            Low,
            r#"eventType eq "system.api_token.create""#,
            None,
            "Confirm the token is for a known integration, and that its creator should have one.",
        ),
        Spec {
            id: "okwatch.grant_then_token",
            name: "Admin granted, then an API token",
            description: "A user given an admin role creates an API token within an hour.",
            severity: High,
            filter: r#"eventType eq "user.account.privilege.grant""#,
            group_by: Some("target.alternateId"),
            condition: Condition::Sequence {
                then: Box::new(filter(r#"eventType eq "system.api_token.create""#)),
                then_group_by: Some("actor.alternateId".into()),
                within: minutes(60),
            },
            runbook: "A common persistence step: revoke the token and the role unless both were planned, then review who granted it.",
            escalate: None,
        },
        any(
            "okwatch.policy_weakened",
            "Sign-on, password or MFA policy weakened",
            "A policy or one of its rules was deactivated or deleted.",
            Medium,
            r#"eventType eq "policy.lifecycle.deactivate" or eventType eq "policy.lifecycle.delete" or eventType eq "policy.rule.deactivate" or eventType eq "policy.rule.delete""#,
            Some("actor.alternateId"),
            "Restore the policy unless its removal was approved; check what signed in while it was off.",
        ),
        any(
            "okwatch.policy_changed",
            "Policy changed",
            "A policy or one of its rules was changed (review that it was not loosened).",
            Low,
            r#"eventType eq "policy.lifecycle.update" or eventType eq "policy.rule.update""#,
            Some("actor.alternateId"),
            "Compare the policy with its previous version.",
        ),
        Spec {
            id: "okwatch.factor_reset",
            name: "MFA factor reset and not re-enrolled",
            description: "A user's MFA factors were reset or one was deactivated, and no factor was set up within 12 hours.",
            severity: Medium,
            filter: r#"eventType eq "user.mfa.factor.reset_all" or eventType eq "user.mfa.factor.deactivate""#,
            group_by: Some("target.alternateId"),
            condition: Condition::Absent {
                then: Box::new(filter(r#"eventType eq "user.mfa.factor.activate""#)),
                then_group_by: None,
                within: minutes(12 * 60),
            },
            runbook: "An account left without MFA is easy to take over: confirm the reset was asked for, and have the user enroll, or suspend the account.",
            escalate: None,
        },
        any(
            "okwatch.zone_or_log_stream_changed",
            "Network zone or log stream changed",
            "A network zone or a log stream was changed, deactivated or deleted.",
            Medium,
            r#"eventType sw "zone." or eventType sw "system.log_stream.""#,
            None,
            "Attackers loosen zones and cut log streams: confirm the change was planned.",
        ),
        any(
            "okwatch.user_suspended_or_deactivated",
            "User suspended, deactivated or reactivated",
            "A user's account was suspended, deactivated or reactivated.",
            Info,
            r#"eventType eq "user.lifecycle.suspend" or eventType eq "user.lifecycle.deactivate" or eventType eq "user.lifecycle.reactivate""#,
            Some("target.alternateId"),
            "Expected during offboarding; a reactivation nobody asked for is not.",
        ),
        any(
            "okwatch.threat_insight",
            "Okta ThreatInsight detection",
            "Okta ThreatInsight saw a known-bad source and did not deny it (log-only mode, or an exempt zone). Denied attempts are Okta doing its job: they show in search and reports, not as alerts.",
            Medium,
            r#"eventType eq "security.threat.detected" and not (outcome.result eq "DENY")"#,
            Some("client.ipAddress"),
            "Check what the source tried and whether anything succeeded from it.",
        ),
        any(
            "okwatch.user_reported_suspicious",
            "User reported suspicious activity",
            "A user told Okta that activity on their account was not theirs.",
            High,
            r#"eventType eq "user.account.report_suspicious_activity_by_enduser""#,
            Some("actor.alternateId"),
            "Treat as an account takeover: clear sessions, reset password and factors, review recent activity.",
        ),
        any(
            "okwatch.support_access",
            "Okta support access granted",
            "Okta support was given access to the org, or used it.",
            Medium,
            r#"eventType sw "user.session.impersonation""#,
            None,
            "Confirm a support case asked for it.",
        ),
        any(
            "okwatch.rate_limit_violation",
            "Rate limit violated",
            "An API client went over an Okta rate limit.",
            Low,
            r#"eventType eq "system.org.rate_limit.violation""#,
            None,
            "Find the client: a misbehaving integration, or enumeration.",
        ),
    ]
}

/// The shipped detections.
pub fn builtin() -> Vec<Rule> {
    specs()
        .into_iter()
        .map(|s| Rule {
            id: s.id.into(),
            name: s.name.into(),
            description: s.description.into(),
            severity: s.severity,
            filter: filter(s.filter),
            group_by: s.group_by.map(str::to_string),
            suppress: super::definition::default_suppression(&s.condition),
            condition: s.condition,
            runbook: s.runbook.into(),
            enabled: true,
            escalate: s.escalate,
            sigma: None,
        })
        .collect()
}
