//! `q` searches narrowed by the keyword index give exactly the evaluator's answers, across
//! many index blocks, after duplicates and purges, and on a store written before the index
//! existed.

use chrono::{TimeZone, Utc};
use okwatch_query::Keywords;
use okwatch_sim::Generator;
use okwatch_store::{EventBatch, EventQuery, EventRow, Store};
use okwatch_store_duckdb::DuckDbStore;
use serde_json::Value;
use std::collections::BTreeSet;

fn events(count: u64) -> Vec<Value> {
    let end = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    Generator::new(5, 60).last_events(count, end).collect()
}

fn insert(store: &DuckDbStore, events: &[Value], batch_size: usize) {
    for chunk in events.chunks(batch_size) {
        let rows = chunk
            .iter()
            .map(|e| EventRow::decompose("acme", e.clone()).expect("valid event"))
            .collect();
        store
            .insert(EventBatch::encode(rows).expect("encodes"))
            .expect("inserts");
    }
}

fn uuids(events: impl IntoIterator<Item = Value>) -> BTreeSet<String> {
    events
        .into_iter()
        .map(|e| e["uuid"].as_str().expect("uuid").to_string())
        .collect()
}

/// Asserts the store's search and count for `q` equal the evaluator's over `all`.
fn assert_q_agrees(store: &DuckDbStore, all: &[Value], q: &str) {
    let keywords = Keywords::parse(q).expect("valid q");
    let expected = uuids(all.iter().filter(|e| keywords.matches(e)).cloned());
    let query = EventQuery {
        keywords,
        limit: 100_000,
        ..EventQuery::default()
    };
    let found = uuids(
        store
            .search(&query)
            .expect("search")
            .events
            .into_iter()
            .map(|e| e.event),
    );
    assert_eq!(found, expected, "q={q}");
    assert_eq!(
        store.count(&query).expect("count"),
        expected.len() as u64,
        "q={q}"
    );
}

/// Keywords drawn from events at the start, middle and end of `all`: rare tokens (an IP, a
/// uuid, a session id and one of its hyphen parts), a person, two-word and common searches.
fn probes(all: &[Value]) -> Vec<String> {
    let mut probes = vec![
        "chrome".to_string(),
        "success windows".to_string(),
        "-".to_string(),
    ];
    for e in [&all[3], &all[all.len() / 2], &all[all.len() - 2]] {
        probes.push(e["uuid"].as_str().unwrap().to_string());
        if let Some(ip) = e["client"]["ipAddress"].as_str() {
            probes.push(ip.to_string());
        }
        if let Some(who) = e["actor"]["alternateId"].as_str() {
            probes.push(who.to_uppercase());
            probes.push(format!("{who} {}", e["eventType"].as_str().unwrap()));
        }
        if let Some(session) = e["authenticationContext"]["externalSessionId"].as_str() {
            probes.push(session.to_string());
            if let Some(part) = session.split('-').next_back() {
                probes.push(part.to_string());
            }
        }
    }
    probes
}

#[test]
fn q_over_many_index_blocks_agrees_with_the_evaluator() {
    let all = events(12_000);
    let store = DuckDbStore::open_in_memory().unwrap();
    // Odd batch sizes so batches straddle index blocks; then everything again as duplicates.
    insert(&store, &all, 777);
    insert(&store, &all[5_000..6_000], 333);
    for q in probes(&all) {
        assert_q_agrees(&store, &all, &q);
    }
}

#[test]
fn purged_blocks_leave_the_index_and_new_events_are_found() {
    let all = events(9_000);
    let store = DuckDbStore::open_in_memory().unwrap();
    insert(&store, &all, 1_000);
    let cutoff = okwatch_model::published_of(&all[6_000]).unwrap();
    store.purge_before(cutoff).unwrap();
    let kept: Vec<Value> = all
        .iter()
        .filter(|e| okwatch_model::published_of(e).unwrap() >= cutoff)
        .cloned()
        .collect();
    for q in probes(&all) {
        assert_q_agrees(&store, &kept, &q);
    }
    // Purge everything, then store the oldest events again: they must be found.
    store
        .purge_before(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap())
        .unwrap();
    insert(&store, &all[..2_500], 600);
    for q in probes(&all[..2_500]) {
        assert_q_agrees(&store, &all[..2_500], &q);
    }
}

/// Stores `old`, rewrites the file with `downgrade` (SQL that leaves it as an older okwatch
/// would have), then checks `q` on it read-only, and again after a writable open stores `new`.
fn assert_older_store_searched_correctly(old: &[Value], new: &[Value], downgrade: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("okwatch.duckdb");
    {
        let store = DuckDbStore::open(&path).unwrap();
        insert(&store, old, 1_000);
        for sql in downgrade {
            store.query_text(sql).unwrap();
        }
        store.checkpoint().unwrap();
    }
    {
        let reader = DuckDbStore::open_read_only(&path).unwrap();
        for q in probes(old) {
            assert_q_agrees(&reader, old, &q);
        }
    }
    let store = DuckDbStore::open(&path).unwrap();
    insert(&store, new, 1_000);
    let all: Vec<Value> = old.iter().chain(new).cloned().collect();
    for q in probes(&all) {
        assert_q_agrees(&store, &all, &q);
    }
}

#[test]
fn a_store_written_before_the_index_is_still_searched_in_full() {
    let all = events(7_000);
    let (old, new) = all.split_at(4_000);
    // What an okwatch without the index left behind.
    assert_older_store_searched_correctly(
        old,
        new,
        &[
            "DROP TABLE keyword_blocks",
            "DELETE FROM okwatch_meta WHERE key = 'keywords_indexed_from'",
        ],
    );
}

#[test]
fn a_keyword_is_found_in_whichever_column_holds_it() {
    // The index records each token only in the first column that holds it (an IP in
    // `client.ipAddress`, not again in `request.ipChain`); events in the same block that hold
    // it elsewhere, or hold a longer keyword around it, must still be found.
    let event = |n: u32, extra: Value| {
        let mut e = serde_json::json!({
            "uuid": format!("00000000-0000-0000-0000-{n:012}"),
            "published": format!("2026-03-01T00:00:{:02}.000Z", n % 60),
            "eventType": "user.session.start",
        });
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    let all = vec![
        event(
            1,
            serde_json::json!({"client": {"ipAddress": "10.1.1.1"},
                               "request": {"ipChain": [{"ip": "10.1.1.1"}]}}),
        ),
        event(
            2,
            serde_json::json!({"request": {"ipChain": [{"ip": "10.1.1.1"}]}}),
        ),
        event(
            3,
            serde_json::json!({"custom": {"note": "seen from 10.1.1.1"}}),
        ),
        event(
            4,
            serde_json::json!({"displayMessage": "abc", "actor": {"displayName": "x -abc"}}),
        ),
        event(5, serde_json::json!({"outcome": {"reason": "zzz-abc"}})),
        event(
            6,
            serde_json::json!({"debugContext": {"debugData": {"why": "ABC"}}}),
        ),
    ];
    let store = DuckDbStore::open_in_memory().unwrap();
    insert(&store, &all, 2);
    for q in [
        "10.1.1.1",
        "abc",
        "-abc",
        "zzz-abc",
        "x",
        "seen 10.1.1.1",
        "abc 10.1.1.1",
    ] {
        assert_q_agrees(&store, &all, q);
    }
    let found = |q: &str| {
        let query = EventQuery {
            keywords: Keywords::parse(q).unwrap(),
            limit: 100,
            ..EventQuery::default()
        };
        store.count(&query).unwrap()
    };
    // The evaluator agreeing is only half of it: these are the answers a person expects.
    assert_eq!(found("10.1.1.1"), 3);
    assert_eq!(found("abc"), 3);
    assert_eq!(found("-abc"), 1);
}

#[test]
fn an_index_written_before_it_recorded_columns_is_still_used_correctly() {
    let all = events(6_000);
    let (old, new) = all.split_at(3_500);
    // The index as the first okwatch with one wrote it: tokens and blocks, no columns.
    assert_older_store_searched_correctly(
        old,
        new,
        &["ALTER TABLE keyword_blocks DROP COLUMN col_mask"],
    );
}
