//! Detection rules people wrote, imported or tuned, in the `rules` table, and the running
//! detections' cursor in `okwatch_meta`.

use crate::{db_err, DuckDbStore};
use okwatch_store::{RuleRecord, RuleStore, StoreError};

pub(super) const CREATE_SQL: &str = "CREATE TABLE IF NOT EXISTS rules (
    id VARCHAR PRIMARY KEY,
    source VARCHAR,
    enabled BOOLEAN NOT NULL,
    updated VARCHAR NOT NULL,
    updated_by VARCHAR NOT NULL);";

/// The meta key holding the last event `seq` the detections looked at.
const CURSOR: &str = "detections_seq";

impl RuleStore for DuckDbStore {
    fn rule_records(&self) -> Result<Vec<RuleRecord>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        // A store written before rules were kept, opened read-only, has none.
        if !crate::read::table_exists(conn, "rules")? {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare("SELECT id, source, enabled, updated, updated_by FROM rules ORDER BY id")
            .map_err(db_err("reading rules"))?;
        let rows = stmt
            .query_map([], |row| {
                Ok(RuleRecord {
                    id: row.get(0)?,
                    source: row.get(1)?,
                    enabled: row.get(2)?,
                    updated: row.get(3)?,
                    by: row.get(4)?,
                })
            })
            .map_err(db_err("reading rules"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("reading rules"))
    }

    fn put_rule_record(&self, r: &RuleRecord) -> Result<(), StoreError> {
        self.lock()
            .conn
            .execute(
                "INSERT INTO rules (id, source, enabled, updated, updated_by) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET source = excluded.source,
                     enabled = excluded.enabled, updated = excluded.updated,
                     updated_by = excluded.updated_by",
                ::duckdb::params![r.id, r.source, r.enabled, r.updated, r.by],
            )
            .map_err(db_err("saving a rule"))?;
        Ok(())
    }

    fn delete_rule_record(&self, id: &str) -> Result<bool, StoreError> {
        let removed = self
            .lock()
            .conn
            .execute("DELETE FROM rules WHERE id = ?", [id])
            .map_err(db_err("removing a rule"))?;
        Ok(removed > 0)
    }

    fn detections_cursor(&self) -> Result<Option<i64>, StoreError> {
        let loan = self.loan()?;
        let value: Option<String> = loan
            .reader()
            .conn
            .query_row(
                "SELECT max(value) FROM okwatch_meta WHERE key = ?",
                [CURSOR],
                |r| r.get(0),
            )
            .map_err(db_err("reading the detections' cursor"))?;
        Ok(value.and_then(|v| v.parse().ok()))
    }

    fn set_detections_cursor(&self, seq: i64) -> Result<(), StoreError> {
        self.lock()
            .conn
            .execute(
                "INSERT INTO okwatch_meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [CURSOR, &seq.to_string()],
            )
            .map_err(db_err("saving the detections' cursor"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_the_cursor_outlive_the_process() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.duckdb");
        let rule = |id: &str, source: Option<&str>, enabled| RuleRecord {
            id: id.into(),
            source: source.map(String::from),
            enabled,
            updated: "2026-12-01T10:00:00.000Z".into(),
            by: "ana".into(),
        };
        {
            let store = DuckDbStore::open(&path).unwrap();
            assert_eq!(store.detections_cursor().unwrap(), None);
            store
                .put_rule_record(&rule("okwatch.brute_force", None, false))
                .unwrap();
            store
                .put_rule_record(&rule("acme.x", Some("id: acme.x"), true))
                .unwrap();
            store
                .put_rule_record(&rule("acme.x", Some("id: acme.x\nseverity: high"), false))
                .unwrap();
            store.set_detections_cursor(41).unwrap();
            store.set_detections_cursor(42).unwrap();
        }
        let store = DuckDbStore::open(&path).unwrap();
        assert_eq!(
            store.rule_records().unwrap(),
            [
                rule("acme.x", Some("id: acme.x\nseverity: high"), false),
                rule("okwatch.brute_force", None, false)
            ]
        );
        assert_eq!(store.detections_cursor().unwrap(), Some(42));
        assert!(store.delete_rule_record("acme.x").unwrap());
        assert!(!store.delete_rule_record("acme.x").unwrap());
        assert_eq!(store.rule_records().unwrap().len(), 1);
    }
}
