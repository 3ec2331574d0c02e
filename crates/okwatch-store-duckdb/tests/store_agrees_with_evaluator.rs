//! The store must answer exactly as the reference evaluator does, for any filter and any
//! event shape. One corpus (real Okta samples, generated activity, and randomly shaped events
//! full of nulls, wrong types and nested arrays) is stored once in a real DuckDB; random
//! filters and keyword searches are then run both ways.

use okwatch_query::{matches, AttrPath, CompareOp, Expr, Keywords, Literal};
use okwatch_sim::Generator;
use okwatch_store::{EventQuery, EventRow, Order, Store};
use okwatch_store_duckdb::DuckDbStore;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

const PATHS: &[&str] = &[
    "eventType",
    "displayMessage",
    "severity",
    "version",
    "legacyEventType",
    "actor",
    "actor.id",
    "actor.alternateId",
    "actor.displayName",
    "actor.type",
    "actor.detailEntry",
    "actor.detailEntry.k",
    "client",
    "client.ipAddress",
    "client.zone",
    "client.userAgent.browser",
    "client.userAgent",
    "client.geographicalContext",
    "client.geographicalContext.country",
    "client.geographicalContext.postalCode",
    "client.geographicalContext.geolocation.lat",
    "outcome",
    "outcome.result",
    "outcome.reason",
    "target",
    "target.id",
    "target.type",
    "target.displayName",
    "target.alternateId",
    "target.detailEntry.k",
    "request.ipChain",
    "request.ipChain.ip",
    "request.ipChain.geographicalContext.city",
    "debugContext",
    "debugContext.debugData",
    "debugContext.debugData.requestUri",
    "debugContext.debugData.factor",
    "debugContext.debugData.k",
    "debugContext.debugData.requestId",
    "securityContext.isProxy",
    "securityContext.asNumber",
    "securityContext.isp",
    "securityContext.userBehaviors.name",
    "authenticationContext.externalSessionId",
    "authenticationContext.authenticationStep",
    "authenticationContext.issuer.type",
    "transaction.id",
    "transaction.detail.k",
    "device",
    "device.id",
];

const STRINGS: &[&str] = &[
    "",
    "x",
    "null",
    "User",
    "AppInstance",
    "SUCCESS",
    "FAILURE",
    "user.session.start",
    "user.authentication.sso",
    "Slack",
    "United States",
    "102.89.34.17",
    "0",
    "a-b",
    "San Francisco",
    "k",
    "CHROME",
    "/app/",
    "WARN",
    "INFO",
];

fn arb_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..5).prop_map(|n| json!(n)),
        (-2.0f64..2.0).prop_map(|f| json!(f)),
        prop::sample::select(STRINGS).prop_map(|s| json!(s)),
    ]
}

fn arb_value() -> impl Strategy<Value = Value> {
    arb_scalar().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop::sample::select(
                        &["id", "type", "k", "name", "ip", "city", "displayName"][..]
                    ),
                    inner
                ),
                0..3
            )
            .prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

/// An event with random values planted at random known paths.
fn arb_event() -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(PATHS), arb_value()), 0..8).prop_map(|plants| {
        let mut event = json!({"eventType": "t", "published": "2024-01-01T00:00:00.000Z"});
        for (path, value) in plants {
            let mut node = &mut event;
            let segments: Vec<&str> = path.split('.').collect();
            for (i, seg) in segments.iter().enumerate() {
                if !node.is_object() {
                    break;
                }
                let map = node.as_object_mut().unwrap();
                if i + 1 == segments.len() {
                    map.insert(seg.to_string(), value.clone());
                    break;
                }
                node = map.entry(seg.to_string()).or_insert_with(|| json!({}));
            }
        }
        event
    })
}

/// This package's directory, looked up when the tests run rather than when they were built: a
/// shared build cache may hand back a test binary compiled in a checkout somewhere else.
fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_dir().expect("a working directory"))
}

fn samples() -> Vec<Value> {
    let dir = package_dir().join("../../../shared/samples/okta-real");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("shared samples") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ndjson") {
            for line in std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
            {
                out.push(serde_json::from_str(line).unwrap());
            }
        }
    }
    out
}

struct Corpus {
    store: DuckDbStore,
    events: Vec<Value>,
}

fn corpus() -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut events = samples();
        let end = okwatch_model::parse_timestamp("2026-11-25T00:00:00Z").unwrap();
        events.extend(Generator::new(11, 40).last_events(3_000, end));
        let mut runner = TestRunner::deterministic();
        for _ in 0..600 {
            events.push(arb_event().new_tree(&mut runner).unwrap().current());
        }
        // Unique uuids and distinct times, so that identity never merges two corpus events.
        for (i, e) in events.iter_mut().enumerate() {
            e["uuid"] = json!(format!("corpus-{i}"));
            if e["eventType"].as_str().is_none_or(str::is_empty) {
                e["eventType"] = json!("planted.event");
            }
            let t = end - chrono::TimeDelta::seconds(i as i64);
            e["published"] = json!(okwatch_model::format_timestamp(t));
        }
        let store = DuckDbStore::open_in_memory().unwrap();
        let rows: Vec<EventRow> = events
            .iter()
            .map(|e| EventRow::decompose("acme", e.clone()).unwrap())
            .collect();
        let outcome = store
            .insert(okwatch_store::EventBatch::encode(rows).unwrap())
            .unwrap();
        assert_eq!(outcome.stored as usize, events.len());
        Corpus { store, events }
    })
}

fn arb_literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        4 => prop::sample::select(STRINGS).prop_map(|s| Literal::String(s.to_string())),
        1 => (-3i64..5).prop_map(|n| Literal::Number(n as f64)),
        1 => any::<bool>().prop_map(Literal::Bool),
        1 => Just(Literal::Null),
    ]
}

fn arb_leaf() -> impl Strategy<Value = Expr> {
    let path = prop::sample::select(PATHS).prop_map(AttrPath::from_dotted);
    prop_oneof![
        1 => path.clone().prop_map(Expr::Present),
        5 => (path, prop::sample::select(&CompareOp::ALL[..]), arb_literal())
            .prop_map(|(path, op, value)| Expr::Compare { path, op, value }),
    ]
}

fn arb_filter() -> impl Strategy<Value = Expr> {
    arb_leaf().prop_recursive(3, 10, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Expr::Or),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

fn store_uuids(query: &EventQuery) -> BTreeSet<String> {
    let page = corpus().store.search(query).unwrap();
    page.events
        .iter()
        .map(|e| e.event["uuid"].as_str().unwrap().to_string())
        .collect()
}

fn expected_uuids(pred: impl Fn(&Value) -> bool) -> BTreeSet<String> {
    corpus()
        .events
        .iter()
        .filter(|e| pred(e))
        .map(|e| e["uuid"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_stored_event_comes_back_unchanged() {
    let c = corpus();
    let page = c
        .store
        .search(&EventQuery {
            limit: usize::MAX,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(page.events.len(), c.events.len());
    let mut by_uuid: std::collections::HashMap<&str, &Value> = std::collections::HashMap::new();
    for e in &c.events {
        by_uuid.insert(e["uuid"].as_str().unwrap(), e);
    }
    for stored in &page.events {
        let uuid = stored.event["uuid"].as_str().unwrap();
        assert_eq!(
            &stored.event, by_uuid[uuid],
            "event {uuid} changed in the store"
        );
    }
}

#[test]
fn filters_select_exactly_what_the_evaluator_selects() {
    let mut runner = TestRunner::new(Config {
        cases: 400,
        ..Config::default()
    });
    runner
        .run(&arb_filter(), |filter| {
            let query = EventQuery {
                filter: Some(filter.clone()),
                limit: usize::MAX,
                ..Default::default()
            };
            let expected = expected_uuids(|e| matches(&filter, e));
            let got = store_uuids(&query);
            prop_assert_eq!(&got, &expected, "filter: {}", filter);
            prop_assert_eq!(
                corpus().store.count(&query).unwrap() as usize,
                expected.len(),
                "count for {}",
                filter
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn keyword_searches_find_exactly_what_the_evaluator_finds() {
    let words = prop::collection::vec(
        prop::sample::select(
            &[
                "slack",
                "102.89.34.17",
                "san",
                "francisco",
                "user",
                "success",
                "a",
                "b",
                "a-b",
                "acme.example",
                "2024-01-01t00:00:00.000z",
                "chrome",
                "app",
                "null",
                "x",
                "mfa",
                "k",
            ][..],
        ),
        1..3,
    );
    let mut runner = TestRunner::new(Config {
        cases: 120,
        ..Config::default()
    });
    runner
        .run(&words, |words| {
            let keywords = Keywords::parse(&words.join(" ")).unwrap();
            let query = EventQuery {
                keywords: keywords.clone(),
                limit: usize::MAX,
                ..Default::default()
            };
            let expected = expected_uuids(|e| keywords.matches(e));
            prop_assert_eq!(store_uuids(&query), expected, "q: {:?}", words);
            Ok(())
        })
        .unwrap();
}

#[test]
fn paging_with_cursors_visits_every_match_once_in_order() {
    let filter = okwatch_query::parse_and_validate(
        r#"target.type eq "AppInstance" or outcome.result eq "FAILURE""#,
        okwatch_query::Dialect::Okwatch,
    )
    .unwrap();
    for order in [Order::Desc, Order::Asc] {
        let mut query = EventQuery {
            filter: Some(filter.clone()),
            limit: 97,
            order,
            ..Default::default()
        };
        let mut seen = Vec::new();
        loop {
            let page = corpus().store.search(&query).unwrap();
            seen.extend(
                page.events
                    .iter()
                    .map(|e| e.event["published"].as_str().unwrap().to_string()),
            );
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        let expected = expected_uuids(|e| matches(&filter, e));
        assert_eq!(seen.len(), expected.len());
        let mut sorted = seen.clone();
        sorted.sort();
        if order == Order::Desc {
            sorted.reverse();
        }
        assert_eq!(seen, sorted, "pages come in {order:?} order");
    }
}

#[test]
fn grouped_counts_add_up_to_the_filtered_count() {
    let filter = okwatch_query::parse_and_validate(
        r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#,
        okwatch_query::Dialect::Okwatch,
    )
    .unwrap();
    let query = EventQuery {
        filter: Some(filter.clone()),
        ..Default::default()
    };
    let groups = corpus()
        .store
        .count_by_field(
            &query,
            &AttrPath::from_dotted("client.ipAddress"),
            1_000_000,
        )
        .unwrap();
    let total: u64 = groups.iter().map(|(_, n)| n).sum();
    assert_eq!(total, corpus().store.count(&query).unwrap());
    assert!(groups.windows(2).all(|w| w[0].1 >= w[1].1), "largest first");
    let days = corpus()
        .store
        .count_by_time(&query, okwatch_store::Bucket::Day)
        .unwrap();
    assert_eq!(days.iter().map(|(_, n)| n).sum::<u64>(), total);
}

#[test]
fn events_read_for_some_fields_hold_those_fields_exactly() {
    let fields = prop::collection::vec(prop::sample::select(PATHS), 1..4);
    let mut runner = TestRunner::new(Config {
        cases: 60,
        ..Config::default()
    });
    runner
        .run(&(arb_filter(), fields), |(filter, fields)| {
            let whole = EventQuery {
                filter: Some(filter.clone()),
                limit: 50,
                ..Default::default()
            };
            let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
            let narrow = EventQuery {
                fields: Some(fields.clone()),
                ..whole.clone()
            };
            let whole = corpus().store.search(&whole).unwrap();
            let narrow = corpus().store.search(&narrow).unwrap();
            let seqs = |page: &okwatch_store::EventPage| -> Vec<i64> {
                page.events.iter().map(|e| e.seq).collect()
            };
            prop_assert_eq!(seqs(&narrow), seqs(&whole), "the same events, in order");
            prop_assert_eq!(narrow.next, whole.next, "the same next page");
            for (narrow, whole) in narrow.events.iter().zip(&whole.events) {
                for field in &fields {
                    let path = AttrPath::from_dotted(field);
                    let (mut got, mut want) = (Vec::new(), Vec::new());
                    okwatch_query::resolve(&narrow.event, &path.segments, &mut got);
                    okwatch_query::resolve(&whole.event, &path.segments, &mut want);
                    prop_assert_eq!(got, want, "{} of event {}", field, whole.seq);
                }
            }
            Ok(())
        })
        .unwrap();
}

/// The value at a dotted path as a group key: text as it is, numbers and booleans as JSON.
fn key_at(event: &Value, path: &str) -> Option<String> {
    let value = path.split('.').try_fold(event, |v, k| v.get(k))?;
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

#[test]
fn counts_by_several_fields_agree_with_the_evaluator() {
    let fields = [
        "client.geographicalContext.city",
        "client.geographicalContext.country",
        "outcome.result",
        "client.geographicalContext.geolocation.lat",
    ];
    let paths: Vec<AttrPath> = fields.iter().map(|f| AttrPath::from_dotted(f)).collect();
    let mut runner = TestRunner::new(Config {
        cases: 40,
        ..Config::default()
    });
    runner
        .run(&arb_filter(), |filter| {
            let query = EventQuery {
                filter: Some(filter.clone()),
                ..Default::default()
            };
            let got = corpus()
                .store
                .count_by_fields(&query, &paths, 1_000_000)
                .unwrap();
            // Latitudes are compared as numbers: the store writes its doubles its own way.
            let normal = |key: &[Option<String>]| -> Vec<Option<String>> {
                let mut key = key.to_vec();
                key[3] = key[3]
                    .as_deref()
                    .map(|t| t.parse::<f64>().map_or(t.to_string(), |n| n.to_string()));
                key
            };
            let mut expected: std::collections::BTreeMap<Vec<Option<String>>, u64> =
                Default::default();
            for event in corpus().events.iter().filter(|e| matches(&filter, e)) {
                let key: Vec<Option<String>> = fields.iter().map(|f| key_at(event, f)).collect();
                *expected.entry(normal(&key)).or_default() += 1;
            }
            let got_map: std::collections::BTreeMap<Vec<Option<String>>, u64> =
                got.iter().map(|(k, n)| (normal(k), *n)).collect();
            prop_assert_eq!(got_map.len(), got.len(), "each combination once");
            prop_assert_eq!(
                got_map.values().sum::<u64>(),
                expected.values().sum::<u64>()
            );
            // The hostile part of the corpus puts arrays, objects and numbers where Okta has
            // text; the store groups those by a value of theirs or under none, as
            // `count_by_field` does. Every other combination must be counted exactly.
            let text = |v: &Option<String>| {
                v.as_deref().is_none_or(|v| {
                    !v.starts_with(['[', '{'])
                        && v.parse::<f64>().is_err()
                        && v.parse::<bool>().is_err()
                })
            };
            let number = |v: &Option<String>| v.as_deref().is_none_or(|v| v.parse::<f64>().is_ok());
            let plain = |map: &std::collections::BTreeMap<Vec<Option<String>>, u64>| {
                map.iter()
                    .filter(|(k, _)| k.iter().any(Option::is_some))
                    .filter(|(k, _)| k[..3].iter().all(text) && number(&k[3]))
                    .map(|(k, n)| (k.clone(), *n))
                    .collect::<std::collections::BTreeMap<_, _>>()
            };
            // Each combination of plain values the events have is counted exactly.
            let differing: Vec<_> = plain(&expected)
                .into_iter()
                .filter(|(k, n)| got_map.get(k) != Some(n))
                .collect();
            prop_assert!(differing.is_empty(), "differing groups: {:?}", differing);
            prop_assert!(got.windows(2).all(|w| w[0].1 >= w[1].1), "largest first");
            Ok(())
        })
        .unwrap();
}

/// Every event paging through `search` gives, in order.
fn paged(query: &EventQuery) -> Vec<i64> {
    let mut query = EventQuery {
        limit: 97,
        ..query.clone()
    };
    let mut seqs = Vec::new();
    loop {
        let page = corpus().store.search(&query).unwrap();
        seqs.extend(page.events.iter().map(|e| e.seq));
        match page.next {
            Some(next) => query.after = Some(next),
            None => return seqs,
        }
    }
}

/// The detections read whole spans with `scan`: it must give exactly the events, order and
/// values that paging through `search` gives, after any cursor and with any fields.
#[test]
fn a_scan_gives_what_paging_gives() {
    let fields = prop::option::of(prop::collection::vec(prop::sample::select(PATHS), 1..4));
    let order = prop::sample::select(vec![Order::Asc, Order::Desc, Order::Arrival]);
    let mut runner = TestRunner::new(Config {
        cases: 20,
        ..Config::default()
    });
    runner
        .run(
            &(arb_filter(), fields, order, 0usize..60),
            |(filter, fields, order, skip)| {
                let mut query = EventQuery {
                    filter: Some(filter.clone()),
                    fields: fields.map(|f| f.iter().map(|p| p.to_string()).collect()),
                    order,
                    limit: skip.max(1),
                    ..Default::default()
                };
                if skip > 0 {
                    query.after = corpus().store.search(&query).unwrap().next;
                }
                let want = paged(&query);
                let mut got = Vec::new();
                let mut values = Vec::new();
                let given = corpus()
                    .store
                    .scan(&query, &mut |e| {
                        got.push(e.seq);
                        values.push(e.event);
                        true
                    })
                    .unwrap();
                prop_assert_eq!(given as usize, got.len());
                prop_assert_eq!(&got, &want, "{:?} after {}", order, skip);
                if let Some(fields) = &query.fields {
                    let whole = EventQuery {
                        fields: None,
                        ..query.clone()
                    };
                    let mut originals = Vec::new();
                    corpus()
                        .store
                        .scan(&whole, &mut |e| {
                            originals.push(e.event);
                            true
                        })
                        .unwrap();
                    prop_assert_eq!(originals.len(), values.len());
                    for ((seq, event), original) in got.iter().zip(&values).zip(&originals) {
                        for field in fields {
                            let path = AttrPath::from_dotted(field);
                            let (mut have, mut want) = (Vec::new(), Vec::new());
                            okwatch_query::resolve(event, &path.segments, &mut have);
                            okwatch_query::resolve(original, &path.segments, &mut want);
                            prop_assert_eq!(have, want, "{} of event {}", field, seq);
                        }
                    }
                }
                // Stopping early stops: the callback is not called again.
                let mut calls = 0;
                corpus()
                    .store
                    .scan(&query, &mut |_| {
                        calls += 1;
                        calls < 3
                    })
                    .unwrap();
                prop_assert_eq!(calls, want.len().min(3));
                Ok(())
            },
        )
        .unwrap();
}
