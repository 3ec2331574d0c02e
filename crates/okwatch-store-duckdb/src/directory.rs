//! Each org's directory snapshot: one row in `directory_snapshots` and its people, groups,
//! apps, assignments and memberships in tables of their own, so that "who is assigned this
//! app" is a query, not a parse. A snapshot is replaced in one transaction.

use crate::{db_err, DuckDbStore};
use ::duckdb::{params, Connection};
use okwatch_store::directory::{
    best_matches, AppAssignment, Directory, DirectoryApp, DirectoryGroup, DirectoryMatch,
    DirectorySnapshot, DirectorySummary, DirectoryUser, GroupMembership,
};
use okwatch_store::StoreError;

pub(super) const CREATE_SQL: &str = "CREATE TABLE IF NOT EXISTS directory_snapshots (
    org VARCHAR PRIMARY KEY,
    taken VARCHAR NOT NULL);
    CREATE TABLE IF NOT EXISTS directory_users (
    org VARCHAR NOT NULL, id VARCHAR NOT NULL, login VARCHAR NOT NULL, name VARCHAR NOT NULL,
    email VARCHAR, status VARCHAR NOT NULL, department VARCHAR, created VARCHAR,
    last_login VARCHAR);
    CREATE TABLE IF NOT EXISTS directory_groups (
    org VARCHAR NOT NULL, id VARCHAR NOT NULL, name VARCHAR NOT NULL, kind VARCHAR NOT NULL);
    CREATE TABLE IF NOT EXISTS directory_apps (
    org VARCHAR NOT NULL, id VARCHAR NOT NULL, name VARCHAR NOT NULL, label VARCHAR NOT NULL,
    status VARCHAR NOT NULL, sign_on_mode VARCHAR);
    CREATE TABLE IF NOT EXISTS directory_assignments (
    org VARCHAR NOT NULL, app_id VARCHAR NOT NULL, user_id VARCHAR NOT NULL,
    scope VARCHAR NOT NULL, assigned VARCHAR);
    CREATE TABLE IF NOT EXISTS directory_memberships (
    org VARCHAR NOT NULL, group_id VARCHAR NOT NULL, user_id VARCHAR NOT NULL);";

/// The tables a snapshot's rows live in.
const PART_TABLES: [&str; 5] = [
    "directory_users",
    "directory_groups",
    "directory_apps",
    "directory_assignments",
    "directory_memberships",
];

fn write_parts(conn: &Connection, org: &str, s: &DirectorySnapshot) -> ::duckdb::Result<()> {
    let mut users = conn.appender("directory_users")?;
    for u in &s.users {
        users.append_row(params![
            org,
            u.id,
            u.login,
            u.name,
            u.email,
            u.status,
            u.department,
            u.created,
            u.last_login
        ])?;
    }
    users.flush()?;
    let mut groups = conn.appender("directory_groups")?;
    for g in &s.groups {
        groups.append_row(params![org, g.id, g.name, g.kind])?;
    }
    groups.flush()?;
    let mut apps = conn.appender("directory_apps")?;
    for a in &s.apps {
        apps.append_row(params![
            org,
            a.id,
            a.name,
            a.label,
            a.status,
            a.sign_on_mode
        ])?;
    }
    apps.flush()?;
    let mut assignments = conn.appender("directory_assignments")?;
    for a in &s.assignments {
        assignments.append_row(params![org, a.app_id, a.user_id, a.scope, a.assigned])?;
    }
    assignments.flush()?;
    let mut memberships = conn.appender("directory_memberships")?;
    for m in &s.memberships {
        memberships.append_row(params![org, m.group_id, m.user_id])?;
    }
    memberships.flush()
}

/// Rows of `sql` (one `?`: the org) read by `row`.
fn rows<T>(
    conn: &Connection,
    sql: &str,
    org: &str,
    row: impl FnMut(&::duckdb::Row<'_>) -> ::duckdb::Result<T>,
) -> ::duckdb::Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([org], row)?;
    rows.collect()
}

fn read_snapshot(conn: &Connection, org: &str) -> ::duckdb::Result<Option<DirectorySnapshot>> {
    let taken: Option<String> = rows(
        conn,
        "SELECT taken FROM directory_snapshots WHERE org = ?",
        org,
        |r| r.get(0),
    )?
    .into_iter()
    .next();
    let Some(taken) = taken else {
        return Ok(None);
    };
    Ok(Some(DirectorySnapshot {
        taken,
        users: rows(
            conn,
            "SELECT id, login, name, email, status, department, created, last_login
             FROM directory_users WHERE org = ? ORDER BY id",
            org,
            |r| {
                Ok(DirectoryUser {
                    id: r.get(0)?,
                    login: r.get(1)?,
                    name: r.get(2)?,
                    email: r.get(3)?,
                    status: r.get(4)?,
                    department: r.get(5)?,
                    created: r.get(6)?,
                    last_login: r.get(7)?,
                })
            },
        )?,
        groups: rows(
            conn,
            "SELECT id, name, kind FROM directory_groups WHERE org = ? ORDER BY id",
            org,
            |r| {
                Ok(DirectoryGroup {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    kind: r.get(2)?,
                })
            },
        )?,
        apps: rows(
            conn,
            "SELECT id, name, label, status, sign_on_mode FROM directory_apps
             WHERE org = ? ORDER BY id",
            org,
            |r| {
                Ok(DirectoryApp {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    label: r.get(2)?,
                    status: r.get(3)?,
                    sign_on_mode: r.get(4)?,
                })
            },
        )?,
        assignments: rows(
            conn,
            "SELECT app_id, user_id, scope, assigned FROM directory_assignments
             WHERE org = ? ORDER BY app_id, user_id",
            org,
            |r| {
                Ok(AppAssignment {
                    app_id: r.get(0)?,
                    user_id: r.get(1)?,
                    scope: r.get(2)?,
                    assigned: r.get(3)?,
                })
            },
        )?,
        memberships: rows(
            conn,
            "SELECT group_id, user_id FROM directory_memberships
             WHERE org = ? ORDER BY group_id, user_id",
            org,
            |r| {
                Ok(GroupMembership {
                    group_id: r.get(0)?,
                    user_id: r.get(1)?,
                })
            },
        )?,
    }))
}

impl Directory for DuckDbStore {
    fn replace_directory(&self, org: &str, snapshot: &DirectorySnapshot) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction()
            .map_err(db_err("replacing a directory snapshot"))?;
        for table in PART_TABLES {
            tx.execute(&format!("DELETE FROM {table} WHERE org = ?"), [org])
                .map_err(db_err("replacing a directory snapshot"))?;
        }
        tx.execute(
            "INSERT INTO directory_snapshots (org, taken) VALUES (?, ?)
             ON CONFLICT (org) DO UPDATE SET taken = excluded.taken",
            [org, snapshot.taken.as_str()],
        )
        .map_err(db_err("replacing a directory snapshot"))?;
        write_parts(&tx, org, snapshot).map_err(db_err("writing a directory snapshot"))?;
        tx.commit()
            .map_err(db_err("replacing a directory snapshot"))?;
        Ok(())
    }

    fn directory_taken(&self, org: &str) -> Result<Option<String>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        if !crate::read::table_exists(conn, "directory_snapshots")? {
            return Ok(None);
        }
        let taken = rows(
            conn,
            "SELECT taken FROM directory_snapshots WHERE org = ?",
            org,
            |r| r.get(0),
        )
        .map_err(db_err("reading a directory snapshot"))?;
        Ok(taken.into_iter().next())
    }

    fn directory(&self, org: &str) -> Result<Option<DirectorySnapshot>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        // A store written before directories existed, opened read-only, has none.
        if !crate::read::table_exists(conn, "directory_snapshots")? {
            return Ok(None);
        }
        read_snapshot(conn, org).map_err(db_err("reading a directory snapshot"))
    }

    fn directory_summaries(&self) -> Result<Vec<DirectorySummary>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        if !crate::read::table_exists(conn, "directory_snapshots")? {
            return Ok(Vec::new());
        }
        let count = |table: &str| format!("(SELECT count(*) FROM {table} t WHERE t.org = s.org)");
        let sql = format!(
            "SELECT org, taken, {}, {}, {}, {}, {} FROM directory_snapshots s ORDER BY org",
            count(PART_TABLES[0]),
            count(PART_TABLES[1]),
            count(PART_TABLES[2]),
            count(PART_TABLES[3]),
            count(PART_TABLES[4]),
        );
        let mut stmt = conn
            .prepare(&sql)
            .map_err(db_err("summing up directories"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(DirectorySummary {
                    org: r.get(0)?,
                    taken: r.get(1)?,
                    users: r.get(2)?,
                    groups: r.get(3)?,
                    apps: r.get(4)?,
                    assignments: r.get(5)?,
                    memberships: r.get(6)?,
                })
            })
            .map_err(db_err("summing up directories"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("summing up directories"))
    }

    fn find_in_directory(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<DirectoryMatch>, StoreError> {
        let wanted = text.trim().to_lowercase();
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        if wanted.is_empty() || !crate::read::table_exists(conn, "directory_snapshots")? {
            return Ok(Vec::new());
        }
        // `contains` on lower-cased names (no LIKE: `%` and `_` typed are plain characters);
        // the ranking is the trait's, over what matched.
        let mut stmt = conn
            .prepare(
                "SELECT 'app', org, id, label, name FROM directory_apps
                 WHERE contains(lower(label), ?1) OR contains(lower(name), ?1)
                 UNION ALL
                 SELECT 'person', org, id, name, login FROM directory_users
                 WHERE contains(lower(name), ?1) OR contains(lower(login), ?1)",
            )
            .map_err(db_err("finding in directories"))?;
        let found = stmt
            .query_map([&wanted], |r| {
                Ok(DirectoryMatch {
                    kind: r.get(0)?,
                    org: r.get(1)?,
                    id: r.get(2)?,
                    title: r.get(3)?,
                    detail: r.get(4)?,
                })
            })
            .map_err(db_err("finding in directories"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_err("finding in directories"))?;
        Ok(best_matches(found, &wanted, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(taken: &str, people: usize) -> DirectorySnapshot {
        let users: Vec<DirectoryUser> = (0..people)
            .map(|i| DirectoryUser {
                id: format!("00u{i}"),
                login: format!("p{i}@example.com"),
                name: format!("Person {i}"),
                email: Some(format!("p{i}@example.com")),
                status: "ACTIVE".into(),
                department: (i % 2 == 0).then(|| "Sales".to_string()),
                created: Some("2024-01-01T00:00:00.000Z".into()),
                last_login: None,
            })
            .collect();
        DirectorySnapshot {
            taken: taken.into(),
            assignments: users
                .iter()
                .map(|u| AppAssignment {
                    app_id: "0oaslack".into(),
                    user_id: u.id.clone(),
                    scope: "USER".into(),
                    assigned: None,
                })
                .collect(),
            memberships: users
                .iter()
                .map(|u| GroupMembership {
                    group_id: "00geveryone".into(),
                    user_id: u.id.clone(),
                })
                .collect(),
            users,
            groups: vec![DirectoryGroup {
                id: "00geveryone".into(),
                name: "Everyone".into(),
                kind: "BUILT_IN".into(),
            }],
            apps: vec![DirectoryApp {
                id: "0oaslack".into(),
                name: "slack".into(),
                label: "Slack".into(),
                status: "ACTIVE".into(),
                sign_on_mode: Some("SAML_2_0".into()),
            }],
        }
    }

    #[test]
    fn a_snapshot_is_replaced_whole_and_each_org_keeps_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let store = DuckDbStore::open(&dir.path().join("s.duckdb")).unwrap();
        assert_eq!(store.directory("acme").unwrap(), None);
        let first = snapshot("2026-12-01T00:00:00.000Z", 3);
        store.replace_directory("acme", &first).unwrap();
        store
            .replace_directory("other", &snapshot("2026-12-01T01:00:00.000Z", 1))
            .unwrap();
        assert_eq!(store.directory("acme").unwrap().as_ref(), Some(&first));
        // A later listing with fewer people: those who left are gone, the other org is kept.
        let second = snapshot("2026-12-02T00:00:00.000Z", 2);
        store.replace_directory("acme", &second).unwrap();
        assert_eq!(store.directory("acme").unwrap(), Some(second));
        assert_eq!(
            store.directory_taken("acme").unwrap().as_deref(),
            Some("2026-12-02T00:00:00.000Z")
        );
        let summaries = store.directory_summaries().unwrap();
        assert_eq!(summaries.len(), 2);
        assert_eq!(
            (
                summaries[0].org.as_str(),
                summaries[0].users,
                summaries[0].assignments
            ),
            ("acme", 2, 2)
        );
        assert_eq!(
            (summaries[1].org.as_str(), summaries[1].users),
            ("other", 1)
        );
        // Finding by part of a name: the store's query answers as the trait's reference does.
        for text in ["slack", "SLA", "person 1", "p0@", "Sales", "%", ""] {
            let reference = ReferenceFind(&store).find_in_directory(text, 10).unwrap();
            assert_eq!(
                store.find_in_directory(text, 10).unwrap(),
                reference,
                "{text}"
            );
        }
        let found = store.find_in_directory("slack", 10).unwrap();
        assert_eq!(found.len(), 2, "one app in each org");
        assert!(found.iter().all(|m| m.kind == "app" && m.title == "Slack"));
        let people = store.find_in_directory("person 1", 10).unwrap();
        assert_eq!(
            people
                .iter()
                .map(|m| (m.org.as_str(), m.detail.as_str()))
                .collect::<Vec<_>>(),
            [("acme", "p1@example.com")]
        );
    }

    /// The trait's own `find_in_directory`, over the same store.
    struct ReferenceFind<'a>(&'a DuckDbStore);

    impl Directory for ReferenceFind<'_> {
        fn replace_directory(&self, org: &str, s: &DirectorySnapshot) -> Result<(), StoreError> {
            self.0.replace_directory(org, s)
        }
        fn directory_taken(&self, org: &str) -> Result<Option<String>, StoreError> {
            self.0.directory_taken(org)
        }
        fn directory(&self, org: &str) -> Result<Option<DirectorySnapshot>, StoreError> {
            self.0.directory(org)
        }
        fn directory_summaries(&self) -> Result<Vec<DirectorySummary>, StoreError> {
            self.0.directory_summaries()
        }
    }
}
