//! The reports okwatch ships: the ones Okta's Admin Console offers (authentication activity,
//! application access, admin activity, lockouts...) and the security views people build by
//! hand, as declarations over Okta's event types.

use super::{ChartKind, ChartSpec, ColumnSpec, FigureSpec, Measure, ReportSpec, TableSpec};
use okwatch_store::Key;

const SIGN_IN: &str = "eventType eq \"user.session.start\"";
const SIGN_IN_OK: &str = "eventType eq \"user.session.start\" and outcome.result eq \"SUCCESS\"";
const SIGN_IN_FAILED: &str =
    "eventType eq \"user.session.start\" and outcome.result eq \"FAILURE\"";
const MFA: &str = "eventType eq \"user.authentication.auth_via_mfa\"";
const MFA_OK: &str =
    "eventType eq \"user.authentication.auth_via_mfa\" and outcome.result eq \"SUCCESS\"";
const MFA_FAILED: &str =
    "eventType eq \"user.authentication.auth_via_mfa\" and outcome.result eq \"FAILURE\"";
const SSO: &str = "eventType eq \"user.authentication.sso\"";
const SSO_OK: &str = "eventType eq \"user.authentication.sso\" and outcome.result eq \"SUCCESS\"";
const FAILED: &str = "(eventType eq \"user.session.start\" or eventType eq \"user.authentication.auth_via_mfa\") and outcome.result eq \"FAILURE\"";
const DEVICES: &str = "eventType sw \"device.\"";
const LIFECYCLE: &str = "eventType sw \"user.lifecycle.\"";
const ADMIN: &str = "actor.type eq \"User\" and (eventType sw \"user.lifecycle.\" or eventType sw \"group.user_membership.\" or eventType sw \"group.lifecycle.\" or eventType sw \"group.privilege.\" or eventType sw \"application.user_membership.\" or eventType sw \"application.lifecycle.\" or eventType sw \"policy.lifecycle.\" or eventType sw \"policy.rule.\" or eventType sw \"zone.\" or eventType sw \"system.api_token.\" or eventType sw \"user.account.privilege.\" or eventType eq \"user.account.reset_password\" or eventType eq \"user.account.unlock_by_admin\" or eventType eq \"user.mfa.factor.reset_all\")";
const ROLES: &str = "eventType eq \"user.account.privilege.grant\" or eventType eq \"user.account.privilege.revoke\" or eventType eq \"group.privilege.grant\" or eventType eq \"group.privilege.revoke\"";
const GRANTS: &str =
    "eventType eq \"user.account.privilege.grant\" or eventType eq \"group.privilege.grant\"";
const REVOKES: &str =
    "eventType eq \"user.account.privilege.revoke\" or eventType eq \"group.privilege.revoke\"";
const POLICIES: &str =
    "eventType sw \"policy.lifecycle.\" or eventType sw \"policy.rule.\" or eventType sw \"zone.\"";
const PASSWORDS: &str = "eventType eq \"user.account.reset_password\" or eventType eq \"user.account.update_password\" or eventType eq \"user.account.lock\" or eventType eq \"user.account.unlock\" or eventType eq \"user.account.unlock_by_admin\"";
const SUSPICIOUS: &str = "eventType eq \"security.threat.detected\" or eventType eq \"user.account.report_suspicious_activity_by_enduser\" or eventType eq \"security.request.blocked\" or eventType eq \"user.mfa.okta_verify.deny_push\"";

fn person() -> Key {
    Key::field("actor.alternateId")
}

fn events(label: &'static str, filter: &'static str) -> FigureSpec {
    FigureSpec {
        label,
        filter,
        measure: Measure::Events,
    }
}

fn distinct(label: &'static str, filter: &'static str, key: Key) -> FigureSpec {
    FigureSpec {
        label,
        filter,
        measure: Measure::Distinct(key),
    }
}

fn column(label: &'static str, path: &str) -> ColumnSpec {
    ColumnSpec {
        label: Some(label),
        key: Key::field(path),
    }
}

/// The columns naming the first target of `kind`: its id (which narrows the search exactly,
/// names can repeat) and its name (shown).
fn target_columns(label: &'static str, kind: &str) -> Vec<ColumnSpec> {
    vec![
        ColumnSpec {
            label: None,
            key: Key::target(kind, "id"),
        },
        ColumnSpec {
            label: Some(label),
            key: Key::target(kind, "displayName"),
        },
    ]
}

fn table(
    title: &'static str,
    filter: &'static str,
    columns: Vec<ColumnSpec>,
    measure_label: &'static str,
) -> TableSpec {
    TableSpec {
        title,
        filter,
        columns,
        measure_label,
        measure: Measure::Events,
        except: None,
        top: 20,
    }
}

fn chart(filter: &'static str, split: Option<&str>, kind: ChartKind) -> ChartSpec {
    ChartSpec {
        filter,
        split: split.map(Key::field),
        name: "Events",
        measure: Measure::Events,
        kind,
    }
}

/// Every shipped report, in the order the console lists them.
pub fn all() -> Vec<ReportSpec> {
    vec![
        ReportSpec {
            id: "authentication",
            title: "Authentication activity",
            description: "Sign-ins to Okta and to apps, how people proved who they are, and what failed.",
            chart: chart(SIGN_IN, Some("outcome.result"), ChartKind::Line),
            figures: vec![
                events("Sign-ins", SIGN_IN),
                events("Failed sign-ins", SIGN_IN_FAILED),
                events("MFA verifications", MFA_OK),
                events("Failed MFA", MFA_FAILED),
                events("App sign-ins (SSO)", SSO_OK),
                distinct("People signed in", SIGN_IN_OK, person()),
            ],
            tables: vec![
                table(
                    "Sign-ins by method",
                    SIGN_IN,
                    vec![
                        column("Credential", "authenticationContext.credentialType"),
                        column("Outcome", "outcome.result"),
                    ],
                    "Sign-ins",
                ),
                table(
                    "MFA by factor",
                    MFA,
                    vec![
                        column("Factor", "debugContext.debugData.factor"),
                        column("Outcome", "outcome.result"),
                    ],
                    "Verifications",
                ),
            ],
        },
        ReportSpec {
            id: "failed_sign_ins",
            title: "Failed sign-ins",
            description: "Failed passwords and MFA: who was targeted, from where, and why it failed.",
            chart: chart(FAILED, Some("outcome.reason"), ChartKind::Bar),
            figures: vec![
                events("Failures", FAILED),
                distinct("Accounts", FAILED, person()),
                distinct("Source IPs", FAILED, Key::field("client.ipAddress")),
                distinct(
                    "Countries",
                    FAILED,
                    Key::field("client.geographicalContext.country"),
                ),
                events("Lockouts", "eventType eq \"user.account.lock\""),
            ],
            tables: vec![
                table("Top accounts", FAILED, vec![column("Account", "actor.alternateId")], "Failures"),
                table(
                    "Top source IPs",
                    FAILED,
                    vec![
                        column("IP", "client.ipAddress"),
                        column("Country", "client.geographicalContext.country"),
                    ],
                    "Failures",
                ),
                table(
                    "Countries",
                    FAILED,
                    vec![column("Country", "client.geographicalContext.country")],
                    "Failures",
                ),
                table("Reasons", FAILED, vec![column("Reason", "outcome.reason")], "Failures"),
            ],
        },
        ReportSpec {
            id: "mfa",
            title: "MFA enrolment and usage",
            description: "Which factors people enrol and use, and who signs in without MFA.",
            chart: chart(MFA_OK, Some("debugContext.debugData.factor"), ChartKind::Line),
            figures: vec![
                events("MFA verifications", MFA_OK),
                distinct("People using MFA", MFA_OK, person()),
                events("Factors enrolled", "eventType eq \"user.mfa.factor.activate\""),
                events("Factors removed", "eventType eq \"user.mfa.factor.deactivate\""),
                events("Factor resets", "eventType eq \"user.mfa.factor.reset_all\""),
            ],
            tables: vec![
                table(
                    "Verifications by factor",
                    MFA,
                    vec![
                        column("Factor", "debugContext.debugData.factor"),
                        column("Outcome", "outcome.result"),
                    ],
                    "Verifications",
                ),
                table(
                    "Enrolments by factor",
                    "eventType eq \"user.mfa.factor.activate\"",
                    vec![column("Factor", "debugContext.debugData.factor")],
                    "Enrolments",
                ),
                TableSpec {
                    except: Some(MFA_OK),
                    top: 50,
                    ..table(
                        "Active people who never used MFA",
                        SIGN_IN_OK,
                        vec![column("Person", "actor.alternateId")],
                        "Sign-ins",
                    )
                },
            ],
        },
        ReportSpec {
            id: "devices",
            title: "Device enrolments",
            description: "Devices registered with Okta, and devices deactivated, suspended or deleted.",
            chart: chart(DEVICES, Some("eventType"), ChartKind::Bar),
            figures: vec![
                events("Devices enrolled", "eventType eq \"device.enrollment.create\""),
                events("Devices added to people", "eventType eq \"device.user.add\""),
                events("Deactivated", "eventType eq \"device.lifecycle.deactivate\""),
                events("Suspended", "eventType eq \"device.lifecycle.suspend\""),
                events("Deleted", "eventType eq \"device.lifecycle.delete\""),
            ],
            tables: vec![
                table(
                    "Enrolments by platform",
                    "eventType eq \"device.enrollment.create\"",
                    vec![column("Platform", "client.userAgent.os")],
                    "Enrolments",
                ),
                table(
                    "Enrolments by person",
                    "eventType eq \"device.enrollment.create\"",
                    vec![column("Person", "actor.alternateId")],
                    "Enrolments",
                ),
                table("Device events", DEVICES, vec![column("Event", "eventType")], "Events"),
            ],
        },
        ReportSpec {
            id: "lifecycle",
            title: "User lifecycle",
            description: "People created, activated, deactivated, suspended and deleted, and by whom.",
            chart: chart(LIFECYCLE, Some("eventType"), ChartKind::Bar),
            figures: vec![
                events("Created", "eventType eq \"user.lifecycle.create\""),
                events("Activated", "eventType eq \"user.lifecycle.activate\""),
                events("Deactivated", "eventType eq \"user.lifecycle.deactivate\""),
                events("Suspended", "eventType eq \"user.lifecycle.suspend\""),
                events("Reactivated", "eventType eq \"user.lifecycle.reactivate\" or eventType eq \"user.lifecycle.unsuspend\""),
                events("Deleted", "eventType eq \"user.lifecycle.delete.initiated\""),
            ],
            tables: vec![
                table("Changes", LIFECYCLE, vec![column("Change", "eventType")], "Events"),
                table(
                    "People changed",
                    LIFECYCLE,
                    vec![
                        ColumnSpec { label: Some("Person"), key: Key::target("User", "alternateId") },
                        column("Change", "eventType"),
                    ],
                    "Events",
                ),
                table("By administrator", LIFECYCLE, vec![column("Administrator", "actor.alternateId")], "Changes"),
            ],
        },
        ReportSpec {
            id: "app_access",
            title: "Application access",
            description: "Single sign-on to each app: sign-ins, the people using it, failures, and where from.",
            chart: ChartSpec {
                split: Some(Key::target("AppInstance", "displayName")),
                ..chart(SSO_OK, None, ChartKind::Line)
            },
            figures: vec![
                events("App sign-ins", SSO_OK),
                events("Failed app sign-ins", "eventType eq \"user.authentication.sso\" and outcome.result eq \"FAILURE\""),
                distinct("Apps used", SSO_OK, Key::target("AppInstance", "id")),
                distinct("People using apps", SSO_OK, person()),
            ],
            tables: vec![
                table("Sign-ins by app", SSO_OK, target_columns("App", "AppInstance"), "Sign-ins"),
                TableSpec {
                    measure: Measure::Distinct(person()),
                    ..table("People by app", SSO_OK, target_columns("App", "AppInstance"), "People")
                },
                table(
                    "Where from",
                    SSO,
                    vec![
                        column("Country", "client.geographicalContext.country"),
                        column("City", "client.geographicalContext.city"),
                    ],
                    "Sign-ins",
                ),
            ],
        },
        ReportSpec {
            id: "admin_activity",
            title: "Admin activity",
            description: "Who changed what: people, groups, app assignments, policies, zones and API tokens.",
            chart: chart(ADMIN, Some("actor.alternateId"), ChartKind::Bar),
            figures: vec![
                events("Changes", ADMIN),
                distinct("Administrators", ADMIN, person()),
                events("Admin Console sign-ins", "eventType eq \"user.session.access_admin_app\""),
            ],
            tables: vec![
                table("By administrator", ADMIN, vec![column("Administrator", "actor.alternateId")], "Changes"),
                table("By change", ADMIN, vec![column("Change", "eventType")], "Changes"),
                table(
                    "Administrator and change",
                    ADMIN,
                    vec![column("Administrator", "actor.alternateId"), column("Change", "eventType")],
                    "Changes",
                ),
            ],
        },
        ReportSpec {
            id: "admin_roles",
            title: "Admin role assignments",
            description: "Administrator roles granted and revoked, to whom and by whom.",
            chart: chart(ROLES, Some("eventType"), ChartKind::Bar),
            figures: vec![
                events("Roles granted", GRANTS),
                events("Roles revoked", REVOKES),
                // Each figure counts what its label says: granting is not revoking.
                distinct("People granting", GRANTS, person()),
                distinct("People revoking", REVOKES, person()),
            ],
            tables: vec![
                table(
                    "Assignments",
                    ROLES,
                    vec![
                        ColumnSpec { label: Some("Person"), key: Key::target("User", "alternateId") },
                        column("Role", "debugContext.debugData.privilegeGranted"),
                        column("Change", "eventType"),
                    ],
                    "Events",
                ),
                table("By administrator", ROLES, vec![column("Administrator", "actor.alternateId")], "Changes"),
            ],
        },
        ReportSpec {
            id: "policy_changes",
            title: "Policy and zone changes",
            description: "Sign-on, MFA and password policies, their rules, and network zones: what changed and who changed it.",
            chart: chart(POLICIES, Some("eventType"), ChartKind::Bar),
            figures: vec![
                events("Policy changes", "eventType sw \"policy.lifecycle.\""),
                events("Rule changes", "eventType sw \"policy.rule.\""),
                events("Zone changes", "eventType sw \"zone.\""),
                distinct("Administrators", POLICIES, person()),
            ],
            tables: vec![
                table("By policy", POLICIES, target_columns("Policy", "PolicyEntity"), "Changes"),
                table("By zone", "eventType sw \"zone.\"", target_columns("Zone", "NetworkZone"), "Changes"),
                table(
                    "By administrator and change",
                    POLICIES,
                    vec![column("Administrator", "actor.alternateId"), column("Change", "eventType")],
                    "Changes",
                ),
            ],
        },
        ReportSpec {
            id: "passwords",
            title: "Password resets and lockouts",
            description: "Passwords changed and reset, accounts locked out and unlocked.",
            chart: chart(PASSWORDS, Some("eventType"), ChartKind::Bar),
            figures: vec![
                events("Password changes", "eventType eq \"user.account.update_password\""),
                events("Password resets", "eventType eq \"user.account.reset_password\""),
                events("Lockouts", "eventType eq \"user.account.lock\""),
                events("Unlocks", "eventType eq \"user.account.unlock\" or eventType eq \"user.account.unlock_by_admin\""),
                distinct("People locked out", "eventType eq \"user.account.lock\"", person()),
            ],
            tables: vec![
                table("Locked out", "eventType eq \"user.account.lock\"", vec![column("Person", "actor.alternateId")], "Lockouts"),
                table(
                    "Resets",
                    "eventType eq \"user.account.reset_password\"",
                    vec![
                        ColumnSpec { label: Some("Person"), key: Key::target("User", "alternateId") },
                        column("Reset by", "actor.alternateId"),
                    ],
                    "Resets",
                ),
                table("By event", PASSWORDS, vec![column("Event", "eventType")], "Events"),
            ],
        },
        ReportSpec {
            id: "suspicious",
            title: "Suspicious activity",
            description: "ThreatInsight detections, requests Okta blocked, pushes people denied and activity they reported.",
            chart: chart(SUSPICIOUS, Some("eventType"), ChartKind::Bar),
            figures: vec![
                events("ThreatInsight detections", "eventType eq \"security.threat.detected\""),
                events("Let through", "eventType eq \"security.threat.detected\" and outcome.result ne \"DENY\""),
                events("Blocked requests", "eventType eq \"security.request.blocked\""),
                events("Pushes denied", "eventType eq \"user.mfa.okta_verify.deny_push\""),
                events("Reported by people", "eventType eq \"user.account.report_suspicious_activity_by_enduser\""),
            ],
            tables: vec![
                table(
                    "Source IPs",
                    SUSPICIOUS,
                    vec![
                        column("IP", "client.ipAddress"),
                        column("Country", "client.geographicalContext.country"),
                    ],
                    "Events",
                ),
                table(
                    "Detections",
                    "eventType eq \"security.threat.detected\"",
                    vec![column("Detection", "outcome.reason"), column("Outcome", "outcome.result")],
                    "Events",
                ),
                table(
                    "People involved",
                    "eventType eq \"user.account.report_suspicious_activity_by_enduser\" or eventType eq \"user.mfa.okta_verify.deny_push\"",
                    vec![column("Person", "actor.alternateId"), column("Event", "eventType")],
                    "Events",
                ),
            ],
        },
        ReportSpec {
            id: "usage",
            title: "Okta usage",
            description: "Active people per day, week or month, sign-ins and app launches.",
            chart: ChartSpec {
                name: "Active people",
                measure: Measure::Distinct(person()),
                ..chart(SIGN_IN_OK, None, ChartKind::Line)
            },
            figures: vec![
                distinct("Active people", SIGN_IN_OK, person()),
                events("Sign-ins", SIGN_IN_OK),
                events("App launches", SSO_OK),
                distinct("Apps used", SSO_OK, Key::target("AppInstance", "id")),
            ],
            tables: vec![
                table("Most active people", SIGN_IN_OK, vec![column("Person", "actor.alternateId")], "Sign-ins"),
                table("Events by type", "eventType pr", vec![column("Event type", "eventType")], "Events"),
            ],
        },
    ]
}

/// The shipped report named `id`.
pub fn find(id: &str) -> Option<ReportSpec> {
    all().into_iter().find(|r| r.id == id)
}
