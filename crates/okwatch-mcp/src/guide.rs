//! Reference text served as a resource, so a model can learn the filter language before it
//! writes one.

use okwatch_query::CompareOp;

/// The filter-language guide (`okwatch://guide/filter-language`).
pub fn filter_language() -> String {
    let operators: Vec<String> = CompareOp::ALL
        .iter()
        .map(|op| format!("- `{}`: {}", op.keyword(), op.words()))
        .collect();
    format!(
        "# Okta System Log filter language (as okwatch accepts it)

A filter is one or more comparisons `attribute operator value`, combined with `and`, `or`,
`not (...)` and parentheses. `and` binds tighter than `or`. Operators are case-insensitive.

## Operators
{}
- `pr`: the attribute is present and not empty (`target.id pr`, no value)

## Values
Strings in double quotes (`\"user.session.start\"`; `\\\"` and `\\\\` escape), numbers, `true`,
`false`, `null`. String comparisons are case-sensitive.

## Attributes
Dotted paths of the LogEvent, for example: `eventType`, `outcome.result` (SUCCESS, FAILURE,
SKIPPED, ALLOW, DENY, CHALLENGE, UNKNOWN), `outcome.reason`, `actor.id`, `actor.alternateId`
(the login), `actor.displayName`, `client.ipAddress`, `client.geographicalContext.country`,
`client.geographicalContext.city`, `client.userAgent.os`, `client.userAgent.browser`,
`authenticationContext.externalSessionId`, `debugContext.debugData.requestUri`,
`securityContext.isProxy`, `severity` (DEBUG, INFO, WARN, ERROR), `target.id`, `target.type`,
`target.displayName`, `target.alternateId`. On `target` (a list), a comparison holds when any
element matches. `published` cannot be filtered on: use `since` and `until`.

## Examples
- failed sign-ins: `eventType eq \"user.session.start\" and outcome.result eq \"FAILURE\"`
- one person: `actor.alternateId eq \"jane.doe@example.com\"`
- MFA events: `eventType sw \"user.authentication.auth_via_mfa\"`
- sign-ons to one app: `eventType eq \"user.authentication.sso\" and target.displayName eq \"Slack\"`
- policy changes: `eventType sw \"policy.\"`
- admin role grants: `eventType eq \"user.account.privilege.grant\"`
- from outside the US: `client.geographicalContext.country ne \"United States\"`

## Keywords (`q`)
Space-separated words; every word must appear as a whole token (between spaces or hyphens) in
some text value of the event, case-insensitively. Good for an IP address, a session id or a
name when you do not know the attribute.

## Time
`since` and `until` take ISO 8601 (`2026-11-01T00:00:00Z`) or relative values (`-7d`, `-24h`,
`-30m`, `now`).
",
        operators.join("\n")
    )
}
