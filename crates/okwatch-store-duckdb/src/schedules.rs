//! Report schedules (`report_schedules`) and their run history (`report_runs`). Lists are kept
//! as JSON text: they are read whole and never queried into.

use crate::{db_err, DuckDbStore};
use okwatch_store::{ReportRun, ReportSchedules, ScheduleRecord, StoreError};

pub(super) const CREATE_SQL: &str = "CREATE TABLE IF NOT EXISTS report_schedules (
    id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    report VARCHAR NOT NULL,
    cadence VARCHAR NOT NULL,
    timezone VARCHAR NOT NULL,
    org VARCHAR,
    channels VARCHAR NOT NULL,
    recipients VARCHAR NOT NULL,
    enabled BOOLEAN NOT NULL,
    owner VARCHAR NOT NULL,
    created VARCHAR NOT NULL,
    updated VARCHAR NOT NULL,
    anchor VARCHAR NOT NULL);
    CREATE TABLE IF NOT EXISTS report_runs (
    id VARCHAR PRIMARY KEY,
    schedule VARCHAR NOT NULL,
    trigger VARCHAR NOT NULL,
    started VARCHAR NOT NULL,
    since VARCHAR NOT NULL,
    until VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    detail VARCHAR NOT NULL,
    deliveries VARCHAR NOT NULL,
    run_by VARCHAR);";

const SCHEDULE_COLUMNS: &str = "id, name, report, cadence, timezone, org, channels, recipients, \
     enabled, owner, created, updated, anchor";

const RUN_COLUMNS: &str =
    "id, schedule, trigger, started, since, until, status, detail, deliveries, run_by";

fn list(text: String) -> ::duckdb::Result<Vec<String>> {
    serde_json::from_str(&text).map_err(|e| {
        ::duckdb::Error::FromSqlConversionFailure(0, ::duckdb::types::Type::Text, e.into())
    })
}

fn schedule(row: &::duckdb::Row<'_>) -> ::duckdb::Result<ScheduleRecord> {
    Ok(ScheduleRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        report: row.get(2)?,
        cadence: row.get(3)?,
        timezone: row.get(4)?,
        org: row.get(5)?,
        channels: list(row.get(6)?)?,
        recipients: list(row.get(7)?)?,
        enabled: row.get(8)?,
        owner: row.get(9)?,
        created: row.get(10)?,
        updated: row.get(11)?,
        anchor: row.get(12)?,
    })
}

fn run(row: &::duckdb::Row<'_>) -> ::duckdb::Result<ReportRun> {
    Ok(ReportRun {
        id: row.get(0)?,
        schedule: row.get(1)?,
        trigger: row.get(2)?,
        started: row.get(3)?,
        since: row.get(4)?,
        until: row.get(5)?,
        status: row.get(6)?,
        detail: row.get(7)?,
        deliveries: list(row.get(8)?)?,
        by: row.get(9)?,
    })
}

fn json(list: &[String]) -> String {
    serde_json::to_string(list).expect("a list of strings serializes")
}

impl DuckDbStore {
    fn select_schedules(&self, tail: &str, arg: &str) -> Result<Vec<ScheduleRecord>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        // A store written before schedules existed, opened read-only, has none.
        if !crate::read::table_exists(conn, "report_schedules")? {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {SCHEDULE_COLUMNS} FROM report_schedules {tail}"
            ))
            .map_err(db_err("reading report schedules"))?;
        let rows = stmt
            .query_map([arg], schedule)
            .map_err(db_err("reading report schedules"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("reading report schedules"))
    }
}

impl ReportSchedules for DuckDbStore {
    fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError> {
        self.select_schedules("WHERE id <> ? ORDER BY lower(name), id", "")
    }

    fn schedule(&self, id: &str) -> Result<Option<ScheduleRecord>, StoreError> {
        Ok(self
            .select_schedules("WHERE id = ?", id)?
            .into_iter()
            .next())
    }

    fn put_schedule(&self, s: &ScheduleRecord) -> Result<(), StoreError> {
        self.lock()
            .conn
            .execute(
                &format!(
                    "INSERT INTO report_schedules ({SCHEDULE_COLUMNS})
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                         report = excluded.report, cadence = excluded.cadence,
                         timezone = excluded.timezone, org = excluded.org,
                         channels = excluded.channels, recipients = excluded.recipients,
                         enabled = excluded.enabled, owner = excluded.owner,
                         updated = excluded.updated,
                         anchor = greatest(excluded.anchor, report_schedules.anchor)"
                ),
                ::duckdb::params![
                    s.id,
                    s.name,
                    s.report,
                    s.cadence,
                    s.timezone,
                    s.org,
                    json(&s.channels),
                    json(&s.recipients),
                    s.enabled,
                    s.owner,
                    s.created,
                    s.updated,
                    s.anchor
                ],
            )
            .map_err(db_err("saving a report schedule"))?;
        Ok(())
    }

    fn delete_schedule(&self, id: &str) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction()
            .map_err(db_err("removing a report schedule"))?;
        tx.execute("DELETE FROM report_runs WHERE schedule = ?", [id])
            .map_err(db_err("removing a schedule's runs"))?;
        let removed = tx
            .execute("DELETE FROM report_schedules WHERE id = ?", [id])
            .map_err(db_err("removing a report schedule"))?;
        tx.commit().map_err(db_err("removing a report schedule"))?;
        Ok(removed > 0)
    }

    fn record_run(&self, r: &ReportRun, due: Option<&str>) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction()
            .map_err(db_err("recording a report run"))?;
        tx.execute(
            &format!(
                "INSERT INTO report_runs ({RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status,
                     detail = excluded.detail, deliveries = excluded.deliveries"
            ),
            ::duckdb::params![
                r.id,
                r.schedule,
                r.trigger,
                r.started,
                r.since,
                r.until,
                r.status,
                r.detail,
                json(&r.deliveries),
                r.by
            ],
        )
        .map_err(db_err("recording a report run"))?;
        if let Some(due) = due {
            tx.execute(
                "UPDATE report_schedules SET anchor = greatest(anchor, ?) WHERE id = ?",
                [due, r.schedule.as_str()],
            )
            .map_err(db_err("moving a schedule on"))?;
        }
        tx.commit().map_err(db_err("recording a report run"))?;
        Ok(())
    }

    fn report_runs(
        &self,
        schedule: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ReportRun>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        if !crate::read::table_exists(conn, "report_runs")? {
            return Ok(Vec::new());
        }
        let condition = if schedule.is_some() {
            "schedule = ?"
        } else {
            "schedule <> ?"
        };
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {RUN_COLUMNS} FROM report_runs WHERE {condition}
                 ORDER BY started DESC, id LIMIT {limit}"
            ))
            .map_err(db_err("reading report runs"))?;
        let rows = stmt
            .query_map([schedule.unwrap_or("")], run)
            .map_err(db_err("reading report runs"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("reading report runs"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(id: &str, anchor: &str) -> ScheduleRecord {
        ScheduleRecord {
            id: id.into(),
            name: "Failed sign-ins, weekly".into(),
            report: "failed_sign_ins".into(),
            cadence: "weekly mon 08:00".into(),
            timezone: "Europe/Paris".into(),
            org: None,
            channels: vec!["soc-mail".into(), "archive".into()],
            recipients: vec!["ciso@example.com".into()],
            enabled: true,
            owner: "ana".into(),
            created: "2026-12-01T00:00:00.000Z".into(),
            updated: "2026-12-01T00:00:00.000Z".into(),
            anchor: anchor.into(),
        }
    }

    fn run(id: &str, started: &str) -> ReportRun {
        ReportRun {
            id: id.into(),
            schedule: "s1".into(),
            trigger: "schedule".into(),
            started: started.into(),
            since: "2026-11-30T07:00:00.000Z".into(),
            until: "2026-12-07T07:00:00.000Z".into(),
            status: "queued".into(),
            detail: "2 deliveries queued".into(),
            deliveries: vec!["soc-mail:report:s1:x".into()],
            by: None,
        }
    }

    #[test]
    fn schedules_keep_their_runs_and_their_anchor_only_moves_forward() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("okwatch.duckdb");
        {
            let store = DuckDbStore::open(&path).unwrap();
            store
                .put_schedule(&schedule("s1", "2026-12-01T00:00:00.000Z"))
                .unwrap();
            store
                .record_run(
                    &run("r1", "2026-12-07T07:00:01.000Z"),
                    Some("2026-12-07T07:00:00.000Z"),
                )
                .unwrap();
        }
        let store = DuckDbStore::open(&path).unwrap();
        let kept = store.schedule("s1").unwrap().unwrap();
        assert_eq!(kept.anchor, "2026-12-07T07:00:00.000Z");
        assert_eq!(kept.channels, ["soc-mail", "archive"]);
        // An edit made from a copy read before the run does not move the anchor back.
        let mut edited = schedule("s1", "2026-12-01T00:00:00.000Z");
        edited.name = "Failed sign-ins".into();
        store.put_schedule(&edited).unwrap();
        let kept = store.schedule("s1").unwrap().unwrap();
        assert_eq!(kept.name, "Failed sign-ins");
        assert_eq!(kept.anchor, "2026-12-07T07:00:00.000Z");
        // A manual run leaves the anchor alone.
        store
            .record_run(&run("r2", "2026-12-08T10:00:00.000Z"), None)
            .unwrap();
        assert_eq!(
            store.schedule("s1").unwrap().unwrap().anchor,
            "2026-12-07T07:00:00.000Z"
        );
        let runs = store.report_runs(Some("s1"), 10).unwrap();
        assert_eq!(
            runs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["r2", "r1"]
        );
        assert_eq!(runs[1].deliveries, ["soc-mail:report:s1:x"]);
        assert_eq!(store.report_runs(None, 1).unwrap().len(), 1);
        assert!(store.delete_schedule("s1").unwrap());
        assert!(store.report_runs(Some("s1"), 10).unwrap().is_empty());
        assert!(store.schedules().unwrap().is_empty());
    }
}
