//! The console's users, in the `users` table beside the events.

use crate::{db_err, DuckDbStore};
use okwatch_store::{Accounts, StoreError, UserRecord};

pub(super) const CREATE_SQL: &str = "CREATE TABLE IF NOT EXISTS users (
    name VARCHAR PRIMARY KEY,
    role VARCHAR NOT NULL,
    password_hash VARCHAR NOT NULL,
    created VARCHAR NOT NULL);";

fn record(row: &::duckdb::Row<'_>) -> ::duckdb::Result<UserRecord> {
    Ok(UserRecord {
        name: row.get(0)?,
        role: row.get(1)?,
        password_hash: row.get(2)?,
        created: row.get(3)?,
    })
}

impl DuckDbStore {
    /// Users matching `condition` (SQL after WHERE, with one `?` for `arg`), by name. A store
    /// written before users existed, opened read-only, has none.
    fn select_users(&self, condition: &str, arg: &str) -> Result<Vec<UserRecord>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        if !crate::read::table_exists(conn, "users")? {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare(&format!(
                "SELECT name, role, password_hash, created FROM users WHERE {condition} ORDER BY name"
            ))
            .map_err(db_err("reading users"))?;
        let rows = stmt
            .query_map([arg], record)
            .map_err(db_err("reading users"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("reading users"))
    }
}

impl Accounts for DuckDbStore {
    fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.select_users("name <> ?", "")
    }

    fn user(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        Ok(self.select_users("name = ?", name)?.into_iter().next())
    }

    fn put_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        self.lock()
            .conn
            .execute(
                "INSERT INTO users VALUES (?, ?, ?, ?)
                 ON CONFLICT (name) DO UPDATE SET role = excluded.role,
                     password_hash = excluded.password_hash",
                [&user.name, &user.role, &user.password_hash, &user.created],
            )
            .map_err(db_err("saving a user"))?;
        Ok(())
    }

    fn delete_user(&self, name: &str) -> Result<bool, StoreError> {
        let removed = self
            .lock()
            .conn
            .execute("DELETE FROM users WHERE name = ?", [name])
            .map_err(db_err("removing a user"))?;
        Ok(removed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, role: &str) -> UserRecord {
        UserRecord {
            name: name.into(),
            role: role.into(),
            password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$hash-of-{name}"),
            created: "2026-12-01T00:00:00.000Z".into(),
        }
    }

    #[test]
    fn users_are_kept_replaced_and_removed_across_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("okwatch.duckdb");
        {
            let store = DuckDbStore::open(&path).unwrap();
            assert!(store.users().unwrap().is_empty());
            store.put_user(&user("bob", "viewer")).unwrap();
            store.put_user(&user("admin", "admin")).unwrap();
            store.put_user(&user("bob", "analyst")).unwrap();
        }
        let store = DuckDbStore::open(&path).unwrap();
        let names: Vec<(String, String)> = store
            .users()
            .unwrap()
            .into_iter()
            .map(|u| (u.name, u.role))
            .collect();
        assert_eq!(
            names,
            [
                ("admin".into(), "admin".into()),
                ("bob".into(), "analyst".into())
            ]
        );
        assert_eq!(store.user("bob").unwrap().unwrap().role, "analyst");
        assert!(store.user("carol").unwrap().is_none());
        assert!(store.delete_user("bob").unwrap());
        assert!(!store.delete_user("bob").unwrap());
        assert_eq!(store.users().unwrap().len(), 1);
    }
}
