//! Every parser that reads text a stranger can send (filters, Sigma conditions, rule YAML,
//! report cadences and cron lines, contract CSV, Event Hook bodies' JSON) answers arbitrary
//! and deeply nested input with a value or an error: never a panic, never a stack overflow.
//! A stack overflow aborts the whole test process, so a failure here cannot go unseen.

use okwatch_engine::reports::cadence::Cadence;
use okwatch_engine::rules::definition::parse_one;
use okwatch_engine::rules::sigma::SigmaRule;
use proptest::prelude::*;

/// Pieces that parsers treat specially, so that random text reaches their deep paths.
fn tokens() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just("(".to_string()),
            Just(")".to_string()),
            Just("not ".to_string()),
            Just(" and ".to_string()),
            Just(" or ".to_string()),
            Just("selection".to_string()),
            Just("1 of ".to_string()),
            Just("all of them".to_string()),
            Just("eventType eq \"x\"".to_string()),
            Just("actor.id pr".to_string()),
            Just("\"".to_string()),
            Just("\\".to_string()),
            Just("[".to_string()),
            Just("]".to_string()),
            Just("{".to_string()),
            Just("}".to_string()),
            Just(": ".to_string()),
            Just("\n- ".to_string()),
            Just("&a ".to_string()),
            Just("*a".to_string()),
            Just(",".to_string()),
            Just("*/5".to_string()),
            "[ -~]{0,8}",
            "\\PC{0,4}",
        ],
        0..300,
    )
    .prop_map(|parts| parts.concat())
}

fn sigma_with(condition: &str) -> String {
    format!(
        "title: t\nlogsource:\n  product: okta\ndetection:\n  selection:\n    eventType: x\n  condition: '{}'\n",
        condition.replace('\'', "''")
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn filters_answer_anything(text in tokens()) {
        let _ = okwatch_query::parse_filter(&text);
    }

    #[test]
    fn sigma_conditions_answer_anything(text in tokens()) {
        let _ = SigmaRule::parse(&sigma_with(&text));
    }

    #[test]
    fn rule_yaml_answers_anything(text in tokens()) {
        let _ = parse_one(&text, 1);
    }

    #[test]
    fn cadences_answer_anything(text in tokens()) {
        let _ = Cadence::parse(&text);
        let _ = Cadence::parse(&format!("cron {text}"));
    }

    #[test]
    fn contract_csv_answers_anything(text in tokens()) {
        let _ = okwatch_model::csv::records(&text);
    }

    #[test]
    fn hook_bodies_answer_anything(text in tokens()) {
        let _ = serde_json::from_str::<serde_json::Value>(&text);
    }
}

/// Nesting far past any limit, in every parser: refused by name, not by the stack.
#[test]
fn deep_nesting_is_refused_by_every_parser() {
    for depth in [100, 3_000, 100_000] {
        let open = "(".repeat(depth);
        let close = ")".repeat(depth);
        let filter = okwatch_query::parse_filter(&format!("{open}actor.id pr{close}"));
        assert!(filter.is_err(), "filter at depth {depth}");
        let sigma = SigmaRule::parse(&sigma_with(&format!("{open}selection{close}")));
        let err = sigma.unwrap_err().to_string();
        assert!(err.contains("deep") || err.contains("words"), "{err}");
        let nots = SigmaRule::parse(&sigma_with(&format!("{}selection", "not ".repeat(depth))));
        assert!(nots.is_err(), "nots at depth {depth}");
        let yaml = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        assert!(parse_one(&yaml, 1).is_err(), "yaml at depth {depth}");
        // serde_json stops at 128 levels.
        let json = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&json).is_err(),
            depth > 128
        );
        let csv = format!("app\n{}", "\"".repeat(depth));
        let _ = okwatch_model::csv::records(&csv);
    }
}

#[test]
fn a_condition_within_the_limits_still_reads() {
    let ok = SigmaRule::parse(&sigma_with("((not (selection)))"));
    assert!(ok.is_ok(), "{:?}", ok.err());
}
