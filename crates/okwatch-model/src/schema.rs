//! The attribute paths of a LogEvent, as the filter language names them (`client.ipAddress`).
//!
//! One list serves three jobs: validating filter paths (so a typo is an error, not an empty
//! result), suggesting the right spelling, and telling which subtrees are free-form maps whose
//! keys nobody can list (`debugContext.debugData.*`).

/// Every documented attribute path of a LogEvent, objects included.
pub const KNOWN_PATHS: &[&str] = &[
    "uuid",
    "published",
    "eventType",
    "version",
    "severity",
    "legacyEventType",
    "displayMessage",
    "actor",
    "actor.id",
    "actor.type",
    "actor.alternateId",
    "actor.displayName",
    "actor.detailEntry",
    "client",
    "client.id",
    "client.zone",
    "client.device",
    "client.ipAddress",
    "client.userAgent",
    "client.userAgent.rawUserAgent",
    "client.userAgent.os",
    "client.userAgent.browser",
    "client.geographicalContext",
    "client.geographicalContext.city",
    "client.geographicalContext.state",
    "client.geographicalContext.country",
    "client.geographicalContext.postalCode",
    "client.geographicalContext.geolocation",
    "client.geographicalContext.geolocation.lat",
    "client.geographicalContext.geolocation.lon",
    "device",
    "device.id",
    "device.name",
    "device.os_platform",
    "device.os_version",
    "device.managed",
    "device.registered",
    "device.device_integrator",
    "device.disk_encryption_type",
    "device.screen_lock_type",
    "device.jailbreak",
    "device.secure_hardware_present",
    "authenticationContext",
    "authenticationContext.authenticationProvider",
    "authenticationContext.credentialProvider",
    "authenticationContext.credentialType",
    "authenticationContext.issuer",
    "authenticationContext.issuer.id",
    "authenticationContext.issuer.type",
    "authenticationContext.externalSessionId",
    "authenticationContext.rootSessionId",
    "authenticationContext.interface",
    "authenticationContext.authenticationStep",
    "securityContext",
    "securityContext.asNumber",
    "securityContext.asOrg",
    "securityContext.isp",
    "securityContext.domain",
    "securityContext.isProxy",
    "securityContext.ipDetails",
    "securityContext.ipDetails.asNumber",
    "securityContext.ipDetails.asOrg",
    "securityContext.ipDetails.isp",
    "securityContext.ipDetails.domain",
    "securityContext.ipDetails.ipServiceCategories",
    "securityContext.ipDetails.ipServiceCategories.type",
    "securityContext.ipDetails.ipServiceCategories.operator",
    "securityContext.ipDetails.ipServiceCategories.isAnonymous",
    "securityContext.risk",
    "securityContext.risk.level",
    "securityContext.risk.previousLevel",
    "securityContext.risk.reasons",
    "securityContext.risk.detectionName",
    "securityContext.risk.issuer",
    "securityContext.userBehaviors",
    "securityContext.userBehaviors.id",
    "securityContext.userBehaviors.name",
    "securityContext.userBehaviors.result",
    "securityContext.botProtection",
    "securityContext.botProtection.level",
    "debugContext",
    "debugContext.debugData",
    "outcome",
    "outcome.result",
    "outcome.reason",
    "target",
    "target.id",
    "target.type",
    "target.alternateId",
    "target.displayName",
    "target.detailEntry",
    "target.changeDetails",
    "target.changeDetails.from",
    "target.changeDetails.to",
    "transaction",
    "transaction.type",
    "transaction.id",
    "transaction.detail",
    "request",
    "request.ipChain",
    "request.ipChain.ip",
    "request.ipChain.version",
    "request.ipChain.source",
    "request.ipChain.geographicalContext",
    "request.ipChain.geographicalContext.city",
    "request.ipChain.geographicalContext.state",
    "request.ipChain.geographicalContext.country",
    "request.ipChain.geographicalContext.postalCode",
    "request.ipChain.geographicalContext.geolocation",
    "request.ipChain.geographicalContext.geolocation.lat",
    "request.ipChain.geographicalContext.geolocation.lon",
    "request.ipChain.ipDetails",
];

/// Subtrees whose keys are free-form: any path below them is valid.
pub const FREE_FORM_PREFIXES: &[&str] = &[
    "actor.detailEntry",
    "target.detailEntry",
    "target.changeDetails.from",
    "target.changeDetails.to",
    "debugContext.debugData",
    "transaction.detail",
    "device.device_integrator",
    "request.ipChain.ipDetails",
    "securityContext.risk.reasons",
];

/// Legacy snake_case spellings that Okta's own docs still use in examples.
pub const LEGACY_ALIASES: &[(&str, &str)] = &[
    ("event_type", "eventType"),
    ("display_message", "displayMessage"),
    ("legacy_event_type", "legacyEventType"),
];

/// Whether `path` names a documented attribute or lies under a free-form map.
pub fn is_known_path(path: &str) -> bool {
    KNOWN_PATHS.contains(&path)
        || FREE_FORM_PREFIXES.iter().any(|prefix| {
            path.strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('.') && rest.len() > 1)
        })
}

/// The known path a mistyped one most likely meant: same letters in another case, or at most
/// two edits away.
pub fn suggest_path(path: &str) -> Option<&'static str> {
    if let Some(exact) = KNOWN_PATHS.iter().find(|p| p.eq_ignore_ascii_case(path)) {
        return Some(exact);
    }
    KNOWN_PATHS
        .iter()
        .map(|p| {
            (
                edit_distance(&p.to_ascii_lowercase(), &path.to_ascii_lowercase()),
                *p,
            )
        })
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, p)| p)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev_diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev_diag + cost);
            prev_diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_and_free_form_paths_are_known() {
        assert!(is_known_path("client.geographicalContext.country"));
        assert!(is_known_path("debugContext.debugData.requestUri"));
        assert!(is_known_path("transaction.detail.requestApiTokenId"));
        assert!(is_known_path("request.ipChain.ip"));
        assert!(!is_known_path("debugContext.debugData."));
        assert!(!is_known_path("eventtype"));
        assert!(!is_known_path("some_invalid_field"));
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(suggest_path("eventtype"), Some("eventType"));
        assert_eq!(suggest_path("actor.alternatId"), Some("actor.alternateId"));
        assert_eq!(suggest_path("completely.different"), None);
    }
}
