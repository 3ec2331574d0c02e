//! A collector's checkpoint is stored with the events it follows, read back after the store is
//! reopened, and moves with every page, also one that held nothing new.

use okwatch_store::{Checkpoint, EventBatch, EventQuery, EventRow, Store};
use okwatch_store_duckdb::DuckDbStore;
use serde_json::{json, Value};

fn event(uuid: &str, published: &str) -> Value {
    json!({
        "uuid": uuid,
        "published": published,
        "eventType": "user.session.start",
        "outcome": {"result": "SUCCESS"},
    })
}

fn batch(events: &[Value]) -> EventBatch {
    let rows = events
        .iter()
        .map(|e| EventRow::decompose("acme", e.clone()).expect("valid event"))
        .collect();
    EventBatch::encode(rows).expect("encodes")
}

fn checkpoint(state: &str) -> Checkpoint {
    Checkpoint {
        org: "acme".into(),
        collector: "poll".into(),
        state: state.into(),
    }
}

#[test]
fn the_checkpoint_moves_with_each_page_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("okwatch.duckdb");
    let a = event("a", "2026-01-01T10:00:00.000Z");
    let b = event("b", "2026-01-01T10:00:01.000Z");
    {
        let store = DuckDbStore::open(&path).unwrap();
        assert_eq!(store.checkpoint_of("acme", "poll").unwrap(), None);
        let page = store
            .insert_collected(batch(&[a.clone(), b.clone()]), &checkpoint("after-page-1"))
            .unwrap();
        assert_eq!((page.stored, page.duplicates), (2, 0));
        assert_eq!(
            store.checkpoint_of("acme", "poll").unwrap(),
            Some(checkpoint("after-page-1"))
        );
        // A page of events already stored still moves the checkpoint (a collector that waited
        // for something new would never get past it).
        let repeated = store
            .insert_collected(batch(std::slice::from_ref(&b)), &checkpoint("after-page-2"))
            .unwrap();
        assert_eq!((repeated.stored, repeated.duplicates), (0, 1));
        // So does an empty page.
        store
            .insert_collected(batch(&[]), &checkpoint("after-page-3"))
            .unwrap();
        // Another collector of the same org, and another org, keep their own.
        let mut other = checkpoint("hooks-position");
        other.collector = "hooks".into();
        store.insert_collected(batch(&[]), &other).unwrap();
        let mut beta = checkpoint("beta-position");
        beta.org = "beta".into();
        store.insert_collected(batch(&[]), &beta).unwrap();
    }
    let store = DuckDbStore::open(&path).unwrap();
    assert_eq!(
        store.checkpoint_of("acme", "poll").unwrap(),
        Some(checkpoint("after-page-3"))
    );
    assert_eq!(
        store.checkpoint_of("acme", "hooks").unwrap().unwrap().state,
        "hooks-position"
    );
    assert_eq!(
        store.checkpoint_of("beta", "poll").unwrap().unwrap().state,
        "beta-position"
    );
    assert_eq!(store.count(&EventQuery::default()).unwrap(), 2);
    drop(store);
    // Readers see it too.
    let reader = DuckDbStore::open_read_only(&path).unwrap();
    assert_eq!(
        reader.checkpoint_of("acme", "poll").unwrap(),
        Some(checkpoint("after-page-3"))
    );
}
