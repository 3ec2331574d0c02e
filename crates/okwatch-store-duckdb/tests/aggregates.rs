//! Reports are built from `Store::aggregate`; DuckDB's SQL must give exactly what the reference
//! (every matching event read and aggregated in memory) gives, for any filter, keys, time
//! bucket, distinct count and `top`.

use okwatch_query::{parse_and_validate, Dialect};
use okwatch_sim::Generator;
use okwatch_store::aggregate::aggregate_by_scan;
use okwatch_store::{Aggregation, Bucket, EventQuery, EventRow, Key, Store};
use okwatch_store_duckdb::DuckDbStore;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use std::sync::OnceLock;

const FILTERS: &[&str] = &[
    "eventType eq \"user.authentication.sso\"",
    "eventType eq \"user.session.start\"",
    "outcome.result eq \"FAILURE\"",
    "eventType sw \"user.\" and outcome.result eq \"SUCCESS\"",
    "eventType eq \"application.user_membership.add\" or eventType eq \"user.authentication.sso\"",
    "client.geographicalContext.country pr",
    "target.type eq \"AppInstance\"",
    "displayMessage co \"o\"",
    "eventType eq \"no.such.event\"",
];

fn keys() -> Vec<Key> {
    vec![
        Key::field("eventType"),
        Key::field("outcome.result"),
        Key::field("outcome.reason"),
        Key::field("actor.alternateId"),
        Key::field("client.geographicalContext.country"),
        Key::field("debugContext.debugData.factor"),
        Key::field("authenticationContext.credentialType"),
        Key::target("AppInstance", "displayName"),
        Key::target("AppInstance", "id"),
        Key::target("User", "alternateId"),
        Key::target("NoSuchType", "id"),
    ]
}

fn store() -> &'static DuckDbStore {
    static STORE: OnceLock<DuckDbStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let end = okwatch_model::parse_timestamp("2026-11-25T00:00:00Z").unwrap();
        let mut events: Vec<Value> = Generator::new(5, 60).last_events(4_000, end).collect();
        // Shapes reports meet in real logs: no target, a null target, a target without a type,
        // a number where text belongs.
        let odd = [
            json!({"eventType": "user.authentication.sso", "outcome": {"result": "SUCCESS"}}),
            json!({"eventType": "user.authentication.sso", "target": null}),
            json!({"eventType": "user.authentication.sso", "target": [{"id": "x"}]}),
            json!({"eventType": "user.authentication.sso",
                   "target": [{"type": "AppInstance", "id": 7, "displayName": null}]}),
        ];
        for (i, mut e) in odd.into_iter().enumerate() {
            e["uuid"] = json!(format!("odd-{i}"));
            e["published"] = json!(format!("2026-11-2{i}T10:00:00.000Z"));
            events.push(e);
        }
        let store = DuckDbStore::open_in_memory().unwrap();
        let rows: Vec<EventRow> = events
            .into_iter()
            .map(|e| EventRow::decompose("acme", e).unwrap())
            .collect();
        store
            .insert(okwatch_store::EventBatch::encode(rows).unwrap())
            .unwrap();
        store
    })
}

fn arb_aggregation() -> impl Strategy<Value = Aggregation> {
    let bucket = prop::option::of(prop::sample::select(vec![
        Bucket::Hour,
        Bucket::Day,
        Bucket::Week,
        Bucket::Month,
    ]));
    (
        prop::sample::subsequence(keys(), 0..3),
        bucket,
        prop::option::of(prop::sample::select(keys())),
        1usize..30,
    )
        .prop_map(|(keys, bucket, distinct, top)| Aggregation {
            keys,
            bucket,
            distinct,
            top,
        })
}

#[test]
fn sql_aggregates_equal_the_reference() {
    let mut runner = TestRunner::new(Config {
        cases: 60,
        ..Config::default()
    });
    let filter = prop::option::of(prop::sample::select(FILTERS));
    runner
        .run(&(filter, arb_aggregation()), |(filter, aggregation)| {
            let query = EventQuery {
                filter: filter.map(|f| parse_and_validate(f, Dialect::Okwatch).unwrap()),
                ..Default::default()
            };
            let got = store().aggregate(&query, &aggregation).unwrap();
            let want = aggregate_by_scan(store(), &query, &aggregation).unwrap();
            prop_assert_eq!(&got, &want, "{:?} {:?}", filter, aggregation);
            Ok(())
        })
        .unwrap();
}

#[test]
fn distinct_users_per_app_are_counted_once_however_often_they_sign_in() {
    let query = EventQuery {
        filter: Some(
            parse_and_validate("eventType eq \"user.authentication.sso\"", Dialect::Okwatch)
                .unwrap(),
        ),
        ..Default::default()
    };
    let per_app = store()
        .aggregate(
            &query,
            &Aggregation {
                keys: vec![Key::target("AppInstance", "displayName")],
                bucket: None,
                distinct: Some(Key::field("actor.alternateId")),
                top: 100,
            },
        )
        .unwrap();
    assert!(per_app.len() > 3, "the generated org uses several apps");
    for row in per_app.iter().filter(|r| r.keys[0].is_some()) {
        let app = row.keys[0].clone().unwrap();
        let mut users = std::collections::BTreeSet::new();
        store()
            .scan(&query, &mut |e| {
                let target = e.event["target"].as_array().cloned().unwrap_or_default();
                let this_app = target
                    .iter()
                    .any(|t| t["type"] == "AppInstance" && t["displayName"].as_str() == Some(&app));
                if this_app {
                    users.insert(e.event["actor"]["alternateId"].to_string());
                }
                true
            })
            .unwrap();
        assert_eq!(row.count, users.len() as u64, "{app}");
    }
}
