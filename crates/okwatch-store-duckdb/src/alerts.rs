//! Alerts, in the `alerts` table beside the events (their uuids as a JSON list), and their
//! history (comments, status and assignee changes) in `alert_notes`.

use crate::{db_err, DuckDbStore};
use okwatch_store::{
    AlertChange, AlertFilter, AlertNote, AlertRecord, AlertStore, StoreError, ALERT_STATUSES,
};

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
    raised VARCHAR NOT NULL);
    ALTER TABLE alerts ADD COLUMN IF NOT EXISTS assignee VARCHAR;
    CREATE TABLE IF NOT EXISTS alert_notes (
    alert_id VARCHAR NOT NULL,
    seq BIGINT NOT NULL,
    noted_at VARCHAR NOT NULL,
    author VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    text VARCHAR NOT NULL,
    PRIMARY KEY (alert_id, seq));";

const COLUMNS: &str =
    "id, rule, severity, grp, first, last, events, explanation, status, raised, assignee";

fn record(row: &::duckdb::Row<'_>) -> ::duckdb::Result<AlertRecord> {
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
        assignee: row.get(10)?,
    })
}

fn now() -> String {
    okwatch_model::format_timestamp(chrono::Utc::now())
}

impl DuckDbStore {
    fn select_alerts(
        &self,
        tail: &str,
        args: &[&dyn ::duckdb::ToSql],
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        if !crate::read::table_exists(conn, "alerts")? {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare(&format!("SELECT {COLUMNS} FROM alerts {tail}"))
            .map_err(db_err("reading alerts"))?;
        let rows = stmt
            .query_map(args, record)
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
                &format!(
                    "INSERT INTO alerts ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (id) DO UPDATE SET last = excluded.last,
                         events = excluded.events, explanation = excluded.explanation,
                         severity = excluded.severity"
                ),
                ::duckdb::params![
                    a.id,
                    a.rule,
                    a.severity,
                    a.group,
                    a.first,
                    a.last,
                    events,
                    a.explanation,
                    a.status,
                    a.raised,
                    a.assignee,
                ],
            )
            .map_err(db_err("saving an alert"))?;
        Ok(())
    }

    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<AlertRecord>, StoreError> {
        let mut conditions = vec!["true".to_string()];
        let mut args: Vec<&dyn ::duckdb::ToSql> = Vec::new();
        if let Some(status) = &filter.status {
            conditions.push("status = ?".into());
            args.push(status);
        }
        if let Some(rule) = &filter.rule {
            conditions.push("rule = ?".into());
            args.push(rule);
        }
        if let Some(assignee) = &filter.assignee {
            conditions.push("assignee = ?".into());
            args.push(assignee);
        }
        if !filter.severities.is_empty() {
            let marks = vec!["?"; filter.severities.len()].join(", ");
            conditions.push(format!("severity IN ({marks})"));
            args.extend(filter.severities.iter().map(|s| s as &dyn ::duckdb::ToSql));
        }
        self.select_alerts(
            &format!(
                "WHERE {} ORDER BY last DESC, id LIMIT {}",
                conditions.join(" AND "),
                filter.limit
            ),
            &args,
        )
    }

    fn alert(&self, id: &str) -> Result<Option<AlertRecord>, StoreError> {
        Ok(self
            .select_alerts("WHERE id = ?", &[&id])?
            .into_iter()
            .next())
    }

    fn change_alert(
        &self,
        id: &str,
        change: &AlertChange,
    ) -> Result<Option<AlertRecord>, StoreError> {
        if let Some(status) = &change.status {
            if !ALERT_STATUSES.contains(&status.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "`{status}` is not an alert status: use one of {}",
                    ALERT_STATUSES.join(", ")
                )));
            }
        }
        let at = now();
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction()
            .map_err(db_err("starting to change an alert"))?;
        let current: Option<(String, Option<String>)> = tx
            .query_row(
                "SELECT status, assignee FROM alerts WHERE id = ?",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map(Some)
            .or_else(|e| match e {
                ::duckdb::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })
            .map_err(db_err("reading an alert"))?;
        let Some((status, assignee)) = current else {
            return Ok(None);
        };
        let mut notes: Vec<(&str, String)> = Vec::new();
        if let Some(new) = change.status.as_ref().filter(|s| **s != status) {
            notes.push(("status", new.clone()));
        }
        if let Some(new) = change.assignee.as_ref().filter(|a| **a != assignee) {
            notes.push(("assignee", new.clone().unwrap_or_default()));
        }
        if let Some(comment) = change.comment.as_ref().filter(|c| !c.trim().is_empty()) {
            notes.push(("comment", comment.trim().to_string()));
        }
        let next: i64 = tx
            .query_row(
                "SELECT coalesce(max(seq), 0) + 1 FROM alert_notes WHERE alert_id = ?",
                [id],
                |r| r.get(0),
            )
            .map_err(db_err("reading an alert's history"))?;
        for (i, (kind, text)) in notes.iter().enumerate() {
            tx.execute(
                "INSERT INTO alert_notes VALUES (?, ?, ?, ?, ?, ?)",
                ::duckdb::params![id, next + i as i64, at, change.by, kind, text],
            )
            .map_err(db_err("recording an alert's history"))?;
        }
        let status = change.status.clone().unwrap_or(status);
        let assignee = change.assignee.clone().unwrap_or(assignee);
        tx.execute(
            "UPDATE alerts SET status = ?, assignee = ? WHERE id = ?",
            ::duckdb::params![status, assignee, id],
        )
        .map_err(db_err("changing an alert"))?;
        tx.commit().map_err(db_err("changing an alert"))?;
        drop(inner);
        self.alert(id)
    }

    fn alert_notes(&self, id: &str) -> Result<Vec<AlertNote>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        if !crate::read::table_exists(conn, "alert_notes")? {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare(
                "SELECT noted_at, author, kind, text FROM alert_notes WHERE alert_id = ? ORDER BY seq",
            )
            .map_err(db_err("reading an alert's history"))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok(AlertNote {
                    at: r.get(0)?,
                    by: r.get(1)?,
                    kind: r.get(2)?,
                    text: r.get(3)?,
                })
            })
            .map_err(db_err("reading an alert's history"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("reading an alert's history"))
    }

    fn alert_counts(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        if !crate::read::table_exists(conn, "alerts")? {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare("SELECT status, severity, count(*) FROM alerts GROUP BY ALL ORDER BY ALL")
            .map_err(db_err("counting alerts"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64))
            })
            .map_err(db_err("counting alerts"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("counting alerts"))
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
            assignee: None,
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
        let listed = store
            .alerts(&AlertFilter {
                limit: 10,
                ..AlertFilter::default()
            })
            .unwrap();
        assert_eq!(
            listed.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(listed[0].events, ["e1", "e2"]);
        assert_eq!(listed[0].raised, "2026-12-01T10:05:00.000Z", "raised once");
        assert!(store.alert("c").unwrap().is_none());
    }

    #[test]
    fn a_person_acknowledges_assigns_comments_and_resolves_and_the_detections_do_not_undo_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = DuckDbStore::open(&dir.path().join("okwatch.duckdb")).unwrap();
        let raised = AlertRecord {
            id: "a1".into(),
            rule: "okwatch.password_spray".into(),
            severity: "high".into(),
            group: "203.0.113.9".into(),
            first: "2026-12-01T10:00:00.000Z".into(),
            last: "2026-12-01T10:20:00.000Z".into(),
            events: vec!["e1".into()],
            explanation: "spray".into(),
            status: "open".into(),
            raised: "2026-12-01T10:21:00.000Z".into(),
            assignee: None,
        };
        store.put_alert(&raised).unwrap();
        let change =
            |status: Option<&str>, assignee: Option<Option<&str>>, comment: Option<&str>| {
                AlertChange {
                    by: "ana".into(),
                    status: status.map(Into::into),
                    assignee: assignee.map(|a| a.map(Into::into)),
                    comment: comment.map(Into::into),
                }
            };
        let changed = store
            .change_alert(
                "a1",
                &change(Some("acknowledged"), Some(Some("bo")), Some(" looking ")),
            )
            .unwrap()
            .unwrap();
        assert_eq!(changed.status, "acknowledged");
        assert_eq!(changed.assignee.as_deref(), Some("bo"));
        // The detection grows the alert: its events change, the person's decisions stay.
        let mut grown = raised.clone();
        grown.events.push("e2".into());
        grown.last = "2026-12-01T10:40:00.000Z".into();
        store.put_alert(&grown).unwrap();
        let kept = store.alert("a1").unwrap().unwrap();
        assert_eq!(
            (kept.status.as_str(), kept.assignee.as_deref()),
            ("acknowledged", Some("bo"))
        );
        assert_eq!(kept.events, ["e1", "e2"]);

        let refused = store.change_alert("a1", &change(Some("closed"), None, None));
        assert!(
            matches!(refused, Err(StoreError::Invalid(ref m)) if m.contains("open, acknowledged, resolved"))
        );
        assert!(store
            .change_alert("nope", &change(Some("resolved"), None, None))
            .unwrap()
            .is_none());
        store
            .change_alert(
                "a1",
                &change(Some("resolved"), Some(None), Some("reset her password")),
            )
            .unwrap();
        let notes = store.alert_notes("a1").unwrap();
        let told: Vec<(&str, &str)> = notes
            .iter()
            .map(|n| (n.kind.as_str(), n.text.as_str()))
            .collect();
        assert_eq!(
            told,
            [
                ("status", "acknowledged"),
                ("assignee", "bo"),
                ("comment", "looking"),
                ("status", "resolved"),
                ("assignee", ""),
                ("comment", "reset her password"),
            ]
        );
        assert!(notes.iter().all(|n| n.by == "ana"));
        let open = AlertFilter {
            status: Some("open".into()),
            limit: 10,
            ..AlertFilter::default()
        };
        assert!(store.alerts(&open).unwrap().is_empty());
        let resolved = AlertFilter {
            status: Some("resolved".into()),
            severities: vec!["high".into()],
            limit: 10,
            ..AlertFilter::default()
        };
        assert_eq!(store.alerts(&resolved).unwrap().len(), 1);
        assert_eq!(
            store.alert_counts().unwrap(),
            [("resolved".to_string(), "high".to_string(), 1)]
        );
    }
}
