//! Saved searches, in the `saved_searches` table beside the events.

use crate::{db_err, DuckDbStore};
use okwatch_store::{SavedSearch, SavedSearches, StoreError};

pub(super) const CREATE_SQL: &str = "CREATE TABLE IF NOT EXISTS saved_searches (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    query VARCHAR NOT NULL,
    owner VARCHAR NOT NULL,
    shared BOOLEAN NOT NULL,
    updated VARCHAR NOT NULL);";

/// The meta key set once the shipped searches were saved.
const SEEDED: &str = "saved_searches_seeded";

fn record(row: &::duckdb::Row<'_>) -> ::duckdb::Result<SavedSearch> {
    Ok(SavedSearch {
        id: row.get(0)?,
        name: row.get(1)?,
        description: row.get(2)?,
        query: row.get(3)?,
        owner: row.get(4)?,
        shared: row.get(5)?,
        updated: row.get(6)?,
    })
}

const COLUMNS: &str = "id, name, description, query, owner, shared, updated";

fn insert(conn: &::duckdb::Connection, s: &SavedSearch) -> Result<(), StoreError> {
    conn.execute(
        &format!(
            "INSERT INTO saved_searches ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                 description = excluded.description, query = excluded.query,
                 owner = excluded.owner, shared = excluded.shared, updated = excluded.updated"
        ),
        ::duckdb::params![
            s.id,
            s.name,
            s.description,
            s.query,
            s.owner,
            s.shared,
            s.updated
        ],
    )
    .map_err(db_err("saving a search"))?;
    Ok(())
}

impl DuckDbStore {
    fn select_saved(&self, condition: &str, arg: &str) -> Result<Vec<SavedSearch>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        // A store written before saved searches existed, opened read-only, has none.
        if !crate::read::table_exists(conn, "saved_searches")? {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM saved_searches WHERE {condition} ORDER BY lower(name), id"
            ))
            .map_err(db_err("reading saved searches"))?;
        let rows = stmt
            .query_map([arg], record)
            .map_err(db_err("reading saved searches"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("reading saved searches"))
    }
}

impl SavedSearches for DuckDbStore {
    fn saved_searches(&self) -> Result<Vec<SavedSearch>, StoreError> {
        self.select_saved("id <> ?", "")
    }

    fn saved_search(&self, id: &str) -> Result<Option<SavedSearch>, StoreError> {
        Ok(self.select_saved("id = ?", id)?.into_iter().next())
    }

    fn put_saved_search(&self, search: &SavedSearch) -> Result<(), StoreError> {
        insert(&self.lock().conn, search)
    }

    fn delete_saved_search(&self, id: &str) -> Result<bool, StoreError> {
        let removed = self
            .lock()
            .conn
            .execute("DELETE FROM saved_searches WHERE id = ?", [id])
            .map_err(db_err("removing a saved search"))?;
        Ok(removed > 0)
    }

    fn seed_saved_searches(&self, defaults: &[SavedSearch]) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction()
            .map_err(db_err("starting to seed saved searches"))?;
        let seeded: i64 = tx
            .query_row(
                "SELECT count(*) FROM okwatch_meta WHERE key = ?",
                [SEEDED],
                |r| r.get(0),
            )
            .map_err(db_err("reading the store's metadata"))?;
        if seeded > 0 {
            return Ok(false);
        }
        for search in defaults {
            insert(&tx, search)?;
        }
        tx.execute("INSERT INTO okwatch_meta VALUES (?, 'true')", [SEEDED])
            .map_err(db_err("recording the seeded searches"))?;
        tx.commit().map_err(db_err("seeding saved searches"))?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(id: &str, name: &str) -> SavedSearch {
        SavedSearch {
            id: id.into(),
            name: name.into(),
            description: "what it finds".into(),
            query: "since=-7d&filter=outcome.result%20eq%20%22FAILURE%22".into(),
            owner: "ana".into(),
            shared: false,
            updated: "2026-12-01T00:00:00.000Z".into(),
        }
    }

    #[test]
    fn saved_searches_are_kept_edited_removed_and_seeded_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("okwatch.duckdb");
        {
            let store = DuckDbStore::open(&path).unwrap();
            assert!(store
                .seed_saved_searches(&[search("s1", "Failed sign-ins")])
                .unwrap());
            store
                .put_saved_search(&search("s2", "admin changes"))
                .unwrap();
            let mut edited = search("s2", "Admin changes");
            edited.shared = true;
            store.put_saved_search(&edited).unwrap();
        }
        let store = DuckDbStore::open(&path).unwrap();
        let names: Vec<String> = store
            .saved_searches()
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["Admin changes", "Failed sign-ins"]);
        assert!(store.saved_search("s2").unwrap().unwrap().shared);
        assert!(store.delete_saved_search("s1").unwrap());
        assert!(!store.delete_saved_search("s1").unwrap());
        // Deleted defaults stay deleted.
        assert!(!store
            .seed_saved_searches(&[search("s1", "Failed sign-ins")])
            .unwrap());
        assert!(store.saved_search("s1").unwrap().is_none());
    }
}
