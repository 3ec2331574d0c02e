//! Event categories: the groups a person thinks in ("sign-ins", "MFA", "admin changes"),
//! derived from Okta's event type names.

/// A coarse group of event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Category {
    /// Sign-in to Okta, sessions, sign-on policy evaluation.
    SignIn,
    /// Single sign-on and OAuth access to applications.
    AppAccess,
    /// Authenticator enrolment and verification.
    Mfa,
    /// Passwords, lockouts, recovery.
    Password,
    /// User creation, activation, suspension, deletion, profile changes.
    UserLifecycle,
    /// Group and application membership and assignment.
    Membership,
    /// Admin roles and privileges.
    Privilege,
    /// Policies, network zones, org settings.
    Policy,
    /// API tokens and OAuth clients.
    ApiAccess,
    /// Threats, risk, rate limits.
    Security,
    /// Devices.
    Device,
    /// Anything else.
    Other,
}

impl Category {
    /// Every category, in display order.
    pub const ALL: [Category; 12] = [
        Category::SignIn,
        Category::AppAccess,
        Category::Mfa,
        Category::Password,
        Category::UserLifecycle,
        Category::Membership,
        Category::Privilege,
        Category::Policy,
        Category::ApiAccess,
        Category::Security,
        Category::Device,
        Category::Other,
    ];

    /// The category's short name, as typed on a command line (`sign-in`, `mfa`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Category::SignIn => "sign-in",
            Category::AppAccess => "app-access",
            Category::Mfa => "mfa",
            Category::Password => "password",
            Category::UserLifecycle => "user-lifecycle",
            Category::Membership => "membership",
            Category::Privilege => "privilege",
            Category::Policy => "policy",
            Category::ApiAccess => "api-access",
            Category::Security => "security",
            Category::Device => "device",
            Category::Other => "other",
        }
    }

    /// Looks a category up by [`Category::name`].
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The category of an event type. Order matters: the most specific prefixes come first.
    pub fn of(event_type: &str) -> Category {
        const RULES: &[(&str, Category)] = &[
            ("user.session.", Category::SignIn),
            ("policy.evaluate_sign_on", Category::SignIn),
            ("user.authentication.sso", Category::AppAccess),
            ("user.authentication.auth_via_mfa", Category::Mfa),
            ("user.authentication.", Category::SignIn),
            ("user.mfa.", Category::Mfa),
            ("system.mfa.", Category::Mfa),
            ("system.push.", Category::Mfa),
            ("system.sms.send_factor", Category::Mfa),
            ("system.voice.send_mfa", Category::Mfa),
            ("system.email.send_factor", Category::Mfa),
            ("security.authenticator.", Category::Mfa),
            ("user.account.privilege.", Category::Privilege),
            ("user.privileged_account.", Category::Privilege),
            ("group.privilege.", Category::Privilege),
            ("iam.", Category::Privilege),
            ("user.account.update_profile", Category::UserLifecycle),
            ("user.account.update_primary_email", Category::UserLifecycle),
            (
                "user.account.update_secondary_email",
                Category::UserLifecycle,
            ),
            ("user.account.", Category::Password),
            ("system.email.password_reset", Category::Password),
            ("user.lifecycle.", Category::UserLifecycle),
            ("user.import.", Category::UserLifecycle),
            ("group.user_membership.", Category::Membership),
            ("group.application_assignment.", Category::Membership),
            ("application.user_membership.", Category::Membership),
            ("app.access_request.", Category::Membership),
            ("group.", Category::Membership),
            ("app.oauth2.", Category::AppAccess),
            ("app.generic.unauth_app_access_attempt", Category::AppAccess),
            (
                "application.policy.sign_on.deny_access",
                Category::AppAccess,
            ),
            ("policy.", Category::Policy),
            ("zone.", Category::Policy),
            ("network_zone.", Category::Policy),
            ("application.policy.", Category::Policy),
            ("application.lifecycle.", Category::Policy),
            ("system.feature.", Category::Policy),
            ("security.attack_protection.", Category::Policy),
            ("security.trusted_origin.", Category::Policy),
            ("event_hook.", Category::Policy),
            ("system.log_stream.", Category::Policy),
            ("system.idp.", Category::Policy),
            ("system.api_token.", Category::ApiAccess),
            ("oauth2.", Category::ApiAccess),
            ("app.oauth2.client_id_rate_limit", Category::Security),
            ("security.", Category::Security),
            ("user.risk.", Category::Security),
            ("system.org.rate_limit.", Category::Security),
            ("system.operation.rate_limit.", Category::Security),
            ("system.client.", Category::Security),
            ("core.concurrency.", Category::Security),
            ("device.", Category::Device),
            ("user.credential.enroll", Category::Device),
        ];
        RULES
            .iter()
            .find(|(prefix, _)| event_type.starts_with(prefix))
            .map(|&(_, c)| c)
            .unwrap_or(Category::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_land_in_the_category_an_admin_expects() {
        assert_eq!(Category::of("user.session.start"), Category::SignIn);
        assert_eq!(Category::of("policy.evaluate_sign_on"), Category::SignIn);
        assert_eq!(Category::of("user.authentication.sso"), Category::AppAccess);
        assert_eq!(
            Category::of("user.authentication.auth_via_mfa"),
            Category::Mfa
        );
        assert_eq!(Category::of("user.account.lock"), Category::Password);
        assert_eq!(
            Category::of("user.account.privilege.grant"),
            Category::Privilege
        );
        assert_eq!(Category::of("policy.rule.update"), Category::Policy);
        assert_eq!(Category::of("system.api_token.create"), Category::ApiAccess);
        assert_eq!(Category::of("security.threat.detected"), Category::Security);
        assert_eq!(Category::of("made.up.type"), Category::Other);
    }

    #[test]
    fn category_names_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::from_name(c.name()), Some(c));
        }
    }
}
