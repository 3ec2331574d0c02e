//! The public Sigma rules for Okta (SigmaHQ's, in `../shared/samples/sigma-okta`): every one
//! loads and runs, each matches what its detection says and nothing else, and as okwatch rules
//! they raise alerts over exactly their events in a backtest.

use okwatch_engine::rules::backtest::backtest;
use okwatch_engine::rules::sigma::{load_dir, SigmaError, SigmaRule};
use serde_json::{json, Value};
use std::path::PathBuf;

fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_dir().expect("a working directory"))
}

fn rules() -> Vec<SigmaRule> {
    let dir = package_dir().join("../../../shared/samples/sigma-okta");
    let loaded = load_dir(&dir).expect("the Sigma samples are next to the repository");
    assert_eq!(loaded.len(), 24, "{loaded:?}");
    loaded
        .into_iter()
        .map(|(path, rule)| rule.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

fn rule(rules: &[SigmaRule], file_title: &str) -> SigmaRule {
    rules
        .iter()
        .find(|r| r.title == file_title)
        .unwrap_or_else(|| panic!("no rule titled {file_title}"))
        .clone()
}

fn event(fields: Value) -> Value {
    let mut base = json!({
        "uuid": "e1", "published": "2026-11-30T10:00:00.000Z", "eventType": "user.session.start",
        "actor": {"alternateId": "ana@example.com", "type": "User"},
        "outcome": {"result": "SUCCESS"}, "target": [], "displayMessage": "User login to Okta",
        "securityContext": {"isProxy": false},
    });
    for (k, v) in fields.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

#[test]
fn every_public_okta_sigma_rule_loads_and_a_placeholder_is_said_to_match_nothing() {
    let rules = rules();
    let placeholders: Vec<&SigmaRule> = rules.iter().filter(|r| !r.notes.is_empty()).collect();
    assert_eq!(placeholders.len(), 1);
    assert!(placeholders[0].notes[0].contains("%legtimate_identifiers%"));
    for r in &rules {
        let as_rule = r.to_rule();
        assert!(as_rule.id.starts_with("sigma."), "{}", as_rule.id);
        assert!(as_rule.runbook.contains("Detection Rule License"));
    }
}

#[test]
fn each_construct_matches_as_sigma_says() {
    let rules = rules();
    let token = rule(&rules, "Okta API Token Created");
    assert!(token
        .detection
        .matches(&event(json!({"eventType": "system.api_token.create"}))));
    assert!(!token
        .detection
        .matches(&event(json!({"eventType": "system.api_token.revoke"}))));

    // A list of values: any one; matching ignores case.
    let mfa = rule(&rules, "Okta MFA Reset or Deactivated");
    assert!(mfa
        .detection
        .matches(&event(json!({"eventType": "user.mfa.factor.reset_all"}))));
    assert!(mfa
        .detection
        .matches(&event(json!({"eventType": "USER.MFA.FACTOR.DEACTIVATE"}))));

    // A boolean written as 'true' in the rule matches Okta's JSON true.
    let proxy = rule(
        &rules,
        "Okta User Session Start Via An Anonymising Proxy Service",
    );
    let mut proxied = event(json!({}));
    proxied["securityContext"]["isProxy"] = json!(true);
    assert!(proxy.detection.matches(&proxied));
    assert!(!proxy.detection.matches(&event(json!({}))));

    // `all of selection_*` and a list of maps, with `contains`.
    let admin = rule(&rules, "Okta New Admin Console Behaviours");
    let evaluated = |behaviors: &str| {
        event(json!({"eventType": "policy.evaluate_sign_on",
            "target": [{"displayName": "Okta Admin Console", "type": "AppInstance"}],
            "debugContext": {"debugData": {"behaviors": behaviors}}}))
    };
    assert!(admin.detection.matches(&evaluated(
        "{New Geo-Location=POSITIVE, New Device=NEGATIVE}"
    )));
    assert!(!admin
        .detection
        .matches(&evaluated("{New Geo-Location=NEGATIVE}")));

    // `re` and `selection and not filter`: a password typed as the user name.
    let typed = rule(&rules, "Potential Okta Password in AlternateID Field");
    let failed_as = |who: &str| {
        event(json!({"legacyEventType": "core.user_auth.login_failed",
                     "actor": {"alternateId": who, "type": "User"}}))
    };
    assert!(typed.detection.matches(&failed_as("Winter2026!")));
    assert!(!typed.detection.matches(&failed_as("ana@example.com")));
    assert!(!typed.detection.matches(&failed_as("0oa1b2c3d4")));

    // `not 1 of filter_main_*`: Okta's own system actor is left out.
    let impersonation = rule(
        &rules,
        "Okta Session Impersonation Granted From Untrusted Domain",
    );
    let granted_by = |who: &str| {
        event(json!({"eventType": "user.session.impersonation.grant",
                     "actor": {"alternateId": who, "type": "User"}}))
    };
    assert!(impersonation
        .detection
        .matches(&granted_by("ana@example.com")));
    assert!(!impersonation
        .detection
        .matches(&granted_by("system@okta.com")));

    // Field values inside Okta's target array.
    let apt = rule(&rules, "Okta 2023 Breach Indicator Of Compromise");
    let created = |name: &str| {
        event(json!({"eventType": "user.lifecycle.create",
                     "target": [{"displayName": name, "type": "User"}]}))
    };
    assert!(apt.detection.matches(&created("svc_network_backup_2")));
    assert!(!apt.detection.matches(&created("ana")));
}

#[test]
fn constructs_okwatch_cannot_run_are_named() {
    let aggregated = "title: t\nlogsource: {product: okta}\ndetection:\n  selection:\n    eventType: a\n  condition: selection | count() > 5\n";
    assert_eq!(
        SigmaRule::parse(aggregated).unwrap_err(),
        SigmaError::Unsupported("aggregations in the condition (`| count()`…)".into())
    );
    let modifier =
        "title: t\ndetection:\n  selection:\n    eventType|base64: a\n  condition: selection\n";
    assert!(
        matches!(SigmaRule::parse(modifier), Err(SigmaError::Unsupported(m)) if m.contains("`base64`"))
    );
    let unknown =
        "title: t\ndetection:\n  selection:\n    eventType: a\n  condition: selection and filter\n";
    assert!(
        matches!(SigmaRule::parse(unknown), Err(SigmaError::Invalid(m)) if m.contains("`filter`"))
    );
}

#[test]
fn as_okwatch_rules_they_run_in_a_backtest_over_exactly_their_events() {
    let rules = rules();
    let store = okwatch_store_duckdb::DuckDbStore::open_in_memory().unwrap();
    let end = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 1, 0, 0, 0).unwrap();
    let events: Vec<Value> = okwatch_sim::Generator::new(8, 120)
        .last_events(20_000, end)
        .collect();
    let rows = events
        .iter()
        .map(|e| okwatch_store::EventRow::decompose("acme", e.clone()).unwrap())
        .collect();
    okwatch_store::Store::insert(&store, okwatch_store::EventBatch::encode(rows).unwrap()).unwrap();
    let okwatch_rules: Vec<_> = rules.iter().map(SigmaRule::to_rule).collect();
    let alerts = backtest(&store, &okwatch_rules, None, None).unwrap();
    // Every rule ran; each alert's events are exactly the events its detection matches.
    for (sigma, as_rule) in rules.iter().zip(&okwatch_rules) {
        let mut expected: Vec<&str> = events
            .iter()
            .filter(|e| sigma.detection.matches(e))
            .map(|e| e["uuid"].as_str().unwrap())
            .collect();
        let mut raised: Vec<&str> = alerts
            .iter()
            .filter(|a| a.rule == as_rule.id)
            .flat_map(|a| a.events.iter().map(String::as_str))
            .collect();
        expected.sort();
        raised.sort();
        assert_eq!(raised, expected, "{}", sigma.title);
    }
    assert!(
        !alerts.is_empty(),
        "the generated org does what some rules look for"
    );
}
