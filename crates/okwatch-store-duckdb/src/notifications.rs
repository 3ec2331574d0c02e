//! The notification queue (`notifications`) and its delivery log (`delivery_attempts`).

use crate::{db_err, DuckDbStore};
use okwatch_store::{
    AttemptOutcome, DeliveryAttempt, NotificationRecord, Notifications, StoreError,
};

pub(super) const CREATE_SQL: &str = "CREATE TABLE IF NOT EXISTS notifications (
    id VARCHAR PRIMARY KEY,
    channel VARCHAR NOT NULL,
    alert VARCHAR,
    subject VARCHAR NOT NULL,
    payload VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt VARCHAR NOT NULL,
    last_error VARCHAR,
    created VARCHAR NOT NULL,
    sent VARCHAR);
    CREATE TABLE IF NOT EXISTS delivery_attempts (
    notification VARCHAR NOT NULL,
    seq BIGINT NOT NULL,
    tried_at VARCHAR NOT NULL,
    delivered BOOLEAN NOT NULL,
    detail VARCHAR NOT NULL,
    PRIMARY KEY (notification, seq));";

const COLUMNS: &str =
    "id, channel, alert, subject, payload, status, attempts, next_attempt, last_error, created, sent";

fn record(row: &::duckdb::Row<'_>) -> ::duckdb::Result<NotificationRecord> {
    Ok(NotificationRecord {
        id: row.get(0)?,
        channel: row.get(1)?,
        alert: row.get(2)?,
        subject: row.get(3)?,
        payload: row.get(4)?,
        status: row.get(5)?,
        attempts: row.get(6)?,
        next_attempt: row.get(7)?,
        last_error: row.get(8)?,
        created: row.get(9)?,
        sent: row.get(10)?,
    })
}

impl DuckDbStore {
    fn select_notifications(
        &self,
        tail: &str,
        args: &[&dyn ::duckdb::ToSql],
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        if !crate::read::table_exists(conn, "notifications")? {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare(&format!("SELECT {COLUMNS} FROM notifications {tail}"))
            .map_err(db_err("reading notifications"))?;
        let rows = stmt
            .query_map(args, record)
            .map_err(db_err("reading notifications"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("reading notifications"))
    }
}

impl Notifications for DuckDbStore {
    fn enqueue(&self, n: &NotificationRecord) -> Result<bool, StoreError> {
        let added = self
            .lock()
            .conn
            .execute(
                &format!(
                    "INSERT INTO notifications ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (id) DO NOTHING"
                ),
                ::duckdb::params![
                    n.id,
                    n.channel,
                    n.alert,
                    n.subject,
                    n.payload,
                    n.status,
                    n.attempts,
                    n.next_attempt,
                    n.last_error,
                    n.created,
                    n.sent,
                ],
            )
            .map_err(db_err("queueing a notification"))?;
        Ok(added > 0)
    }

    fn due_notifications(
        &self,
        now: &str,
        limit: usize,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        self.select_notifications(
            &format!(
                "WHERE status = 'pending' AND next_attempt <= ? ORDER BY next_attempt, id LIMIT {limit}"
            ),
            &[&now],
        )
    }

    fn record_attempt(&self, id: &str, outcome: &AttemptOutcome) -> Result<(), StoreError> {
        let a = &outcome.attempt;
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction()
            .map_err(db_err("starting to record a delivery"))?;
        let next: i64 = tx
            .query_row(
                "SELECT coalesce(max(seq), 0) + 1 FROM delivery_attempts WHERE notification = ?",
                [id],
                |r| r.get(0),
            )
            .map_err(db_err("reading the delivery log"))?;
        tx.execute(
            "INSERT INTO delivery_attempts VALUES (?, ?, ?, ?, ?)",
            ::duckdb::params![id, next, a.at, a.delivered, a.detail],
        )
        .map_err(db_err("recording a delivery"))?;
        let (status, next_attempt, error, sent) = if a.delivered {
            ("sent", None, None, Some(a.at.as_str()))
        } else if let Some(retry) = &outcome.retry_at {
            (
                "pending",
                Some(retry.as_str()),
                Some(a.detail.as_str()),
                None,
            )
        } else {
            ("failed", None, Some(a.detail.as_str()), None)
        };
        tx.execute(
            "UPDATE notifications SET status = ?, attempts = attempts + 1,
                 next_attempt = coalesce(?, next_attempt), last_error = ?, sent = ?
             WHERE id = ?",
            ::duckdb::params![status, next_attempt, error, sent, id],
        )
        .map_err(db_err("recording a delivery"))?;
        tx.commit().map_err(db_err("recording a delivery"))?;
        Ok(())
    }

    fn notifications(&self, limit: usize) -> Result<Vec<NotificationRecord>, StoreError> {
        self.select_notifications(&format!("ORDER BY created DESC, id LIMIT {limit}"), &[])
    }

    fn notification(&self, id: &str) -> Result<Option<NotificationRecord>, StoreError> {
        Ok(self
            .select_notifications("WHERE id = ?", &[&id])?
            .into_iter()
            .next())
    }

    fn delivery_attempts(&self, id: &str) -> Result<Vec<DeliveryAttempt>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        if !crate::read::table_exists(conn, "delivery_attempts")? {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare(
                "SELECT tried_at, delivered, detail FROM delivery_attempts
                 WHERE notification = ? ORDER BY seq",
            )
            .map_err(db_err("reading the delivery log"))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok(DeliveryAttempt {
                    at: r.get(0)?,
                    delivered: r.get(1)?,
                    detail: r.get(2)?,
                })
            })
            .map_err(db_err("reading the delivery log"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("reading the delivery log"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_notification_is_retried_until_delivered_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("okwatch.duckdb");
        let queued = NotificationRecord {
            id: "slack:al1".into(),
            channel: "slack".into(),
            alert: Some("al1".into()),
            subject: "HIGH: spray".into(),
            payload: "{}".into(),
            status: "pending".into(),
            attempts: 0,
            next_attempt: "2026-12-01T10:00:00.000Z".into(),
            last_error: None,
            created: "2026-12-01T10:00:00.000Z".into(),
            sent: None,
        };
        {
            let store = DuckDbStore::open(&path).unwrap();
            assert!(store.enqueue(&queued).unwrap());
            assert!(!store.enqueue(&queued).unwrap(), "queued once");
            assert!(store
                .due_notifications("2026-12-01T09:59:59.000Z", 10)
                .unwrap()
                .is_empty());
            let due = store
                .due_notifications("2026-12-01T10:00:00.000Z", 10)
                .unwrap();
            assert_eq!(due.len(), 1);
            let failed = AttemptOutcome {
                attempt: DeliveryAttempt {
                    at: "2026-12-01T10:00:01.000Z".into(),
                    delivered: false,
                    detail: "HTTP 500".into(),
                },
                retry_at: Some("2026-12-01T10:00:31.000Z".into()),
            };
            store.record_attempt("slack:al1", &failed).unwrap();
        }
        // After a restart it is still there, waiting for its retry.
        let store = DuckDbStore::open(&path).unwrap();
        assert!(store
            .due_notifications("2026-12-01T10:00:30.000Z", 10)
            .unwrap()
            .is_empty());
        let due = store
            .due_notifications("2026-12-01T10:00:31.000Z", 10)
            .unwrap();
        assert_eq!(
            (due[0].attempts, due[0].last_error.as_deref()),
            (1, Some("HTTP 500"))
        );
        let delivered = AttemptOutcome {
            attempt: DeliveryAttempt {
                at: "2026-12-01T10:00:32.000Z".into(),
                delivered: true,
                detail: "HTTP 200".into(),
            },
            retry_at: None,
        };
        store.record_attempt("slack:al1", &delivered).unwrap();
        let listed = store.notifications(10).unwrap();
        assert_eq!(listed[0].status, "sent");
        assert_eq!(listed[0].sent.as_deref(), Some("2026-12-01T10:00:32.000Z"));
        assert!(store
            .due_notifications("2026-12-02T00:00:00.000Z", 10)
            .unwrap()
            .is_empty());
        let log = store.delivery_attempts("slack:al1").unwrap();
        assert_eq!(
            log.iter().map(|a| a.delivered).collect::<Vec<_>>(),
            [false, true]
        );
    }
}
