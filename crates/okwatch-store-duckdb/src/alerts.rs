//! Alerts, in the `alerts` table beside the events (their uuids as a JSON list).

use crate::{db_err, DuckDbStore};
use okwatch_store::{AlertRecord, AlertStore, StoreError};

pub(super) const CREATE_SQL: &str = "CREATE TABLE IF NOT EXISTS alerts (
    id VARCHAR PRIMARY KEY,
    rule VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    grp VARCHAR NOT NULL,
    first VARCHAR NOT NULL,
    last VARCHAR NOT NULL,
    events VARCHAR NOT NULL,
    explanation VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    raised VARCHAR NOT NULL);";

impl DuckDbStore {
    fn select_alerts(&self, tail: &str, arg: &str) -> Result<Vec<AlertRecord>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        if !crate::read::table_exists(conn, "alerts")? {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare(&format!(
                "SELECT id, rule, severity, grp, first, last, events, explanation, status, raised
                 FROM alerts {tail}"
            ))
            .map_err(db_err("reading alerts"))?;
        let rows = stmt
            .query_map([arg], |row| {
                let events: String = row.get(6)?;
                Ok(AlertRecord {
                    id: row.get(0)?,
                    rule: row.get(1)?,
                    severity: row.get(2)?,
                    group: row.get(3)?,
                    first: row.get(4)?,
                    last: row.get(5)?,
                    events: serde_json::from_str(&events).unwrap_or_default(),
                    explanation: row.get(7)?,
                    status: row.get(8)?,
                    raised: row.get(9)?,
                })
            })
            .map_err(db_err("reading alerts"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("reading alerts"))
    }
}

impl AlertStore for DuckDbStore {
    fn put_alert(&self, a: &AlertRecord) -> Result<(), StoreError> {
        let events = serde_json::to_string(&a.events).expect("uuids serialize");
        self.lock()
            .conn
            .execute(
                "INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET last = excluded.last, events = excluded.events,
                     explanation = excluded.explanation, status = excluded.status",
                [
                    &a.id,
                    &a.rule,
                    &a.severity,
                    &a.group,
                    &a.first,
                    &a.last,
                    &events,
                    &a.explanation,
                    &a.status,
                    &a.raised,
                ],
            )
            .map_err(db_err("saving an alert"))?;
        Ok(())
    }

    fn alerts(&self, limit: usize) -> Result<Vec<AlertRecord>, StoreError> {
        self.select_alerts(
            &format!("WHERE id <> ? ORDER BY last DESC, id LIMIT {limit}"),
            "",
        )
    }

    fn alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
        Ok(self.select_alerts("WHERE id = ?", id)?.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alert_is_kept_updated_in_place_and_listed_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("okwatch.duckdb");
        let alert = |id: &str, last: &str, events: &[&str]| AlertRecord {
            id: id.into(),
            rule: "okwatch.brute_force".into(),
            severity: "medium".into(),
            group: "ana@example.com".into(),
            first: "2026-12-01T10:00:00.000Z".into(),
            last: last.into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            explanation: "x".into(),
            status: "open".into(),
            raised: "2026-12-01T10:05:00.000Z".into(),
        };
        {
            let store = DuckDbStore::open(&path).unwrap();
            store
                .put_alert(&alert("a", "2026-12-01T10:01:00.000Z", &["e1"]))
                .unwrap();
            store
                .put_alert(&alert("b", "2026-12-01T11:00:00.000Z", &["e9"]))
                .unwrap();
            let mut grown = alert("a", "2026-12-01T12:00:00.000Z", &["e1", "e2"]);
            grown.raised = "later".into();
            store.put_alert(&grown).unwrap();
        }
        let store = DuckDbStore::open(&path).unwrap();
        let listed = store.alerts(10).unwrap();
        assert_eq!(
            listed.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(listed[0].events, ["e1", "e2"]);
        assert_eq!(listed[0].raised, "2026-12-01T10:05:00.000Z", "raised once");
        assert!(store.alert("c").unwrap().is_none());
    }
}
