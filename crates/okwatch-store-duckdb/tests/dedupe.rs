//! Storing the same event twice changes nothing, whether the copies arrive in one batch, in two
//! batches, or mixed with new events; and new events get consecutive arrival numbers.

use okwatch_store::{EventBatch, EventQuery, EventRow, Order, Store};
use okwatch_store_duckdb::DuckDbStore;
use serde_json::{json, Value};

fn event(uuid: &str, published: &str) -> Value {
    json!({
        "uuid": uuid,
        "published": published,
        "eventType": "user.session.start",
        "outcome": {"result": "SUCCESS"},
        "actor": {"id": "00u1", "type": "User", "alternateId": "ana@example.com"},
    })
}

fn batch(events: &[Value]) -> EventBatch {
    let rows = events
        .iter()
        .map(|e| EventRow::decompose("acme", e.clone()).expect("valid event"))
        .collect();
    EventBatch::encode(rows).expect("encodes")
}

fn all(store: &DuckDbStore) -> Vec<(String, i64)> {
    let query = EventQuery {
        limit: 1000,
        order: Order::Asc,
        ..EventQuery::default()
    };
    store
        .search(&query)
        .expect("search")
        .events
        .into_iter()
        .map(|e| (e.event["uuid"].as_str().unwrap().to_string(), e.seq))
        .collect()
}

#[test]
fn repeated_events_are_stored_once_and_counted_as_duplicates() {
    let store = DuckDbStore::open_in_memory().unwrap();
    let a = event("a", "2026-01-01T10:00:00.000Z");
    let b = event("b", "2026-01-01T10:00:01.000Z");
    let c = event("c", "2026-01-01T10:00:02.000Z");
    // A copy inside the same batch.
    let first = store
        .insert(batch(&[a.clone(), b.clone(), a.clone()]))
        .unwrap();
    assert_eq!((first.stored, first.duplicates), (2, 1));
    // Already stored, mixed with a new one.
    let second = store
        .insert(batch(&[b.clone(), c.clone(), a.clone()]))
        .unwrap();
    assert_eq!((second.stored, second.duplicates), (1, 2));
    // Entirely repeated.
    let third = store.insert(batch(&[c, b, a])).unwrap();
    assert_eq!((third.stored, third.duplicates), (0, 3));

    let stored = all(&store);
    let uuids: Vec<&str> = stored.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(uuids, ["a", "b", "c"]);
    let seqs: Vec<i64> = stored.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        seqs,
        [seqs[0], seqs[0] + 1, seqs[0] + 2],
        "arrival numbers have no gaps"
    );
}

#[test]
fn same_uuid_at_another_time_is_another_event() {
    // Test fixtures reuse uuids; identity is (org, uuid, published).
    let store = DuckDbStore::open_in_memory().unwrap();
    let outcome = store
        .insert(batch(&[
            event("a", "2026-01-01T10:00:00.000Z"),
            event("a", "2026-01-02T10:00:00.000Z"),
        ]))
        .unwrap();
    assert_eq!((outcome.stored, outcome.duplicates), (2, 0));
}
