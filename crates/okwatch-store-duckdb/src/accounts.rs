//! The console's users and their API tokens, in the `users` and `api_tokens` tables beside
//! the events.

use crate::{db_err, DuckDbStore};
use okwatch_store::{Accounts, ApiTokenRecord, StoreError, UserRecord};

pub(super) const CREATE_SQL: &str = "CREATE TABLE IF NOT EXISTS users (
    name VARCHAR PRIMARY KEY,
    role VARCHAR NOT NULL,
    password_hash VARCHAR NOT NULL,
    created VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS api_tokens (
    id VARCHAR PRIMARY KEY,
    owner VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    prefix VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL UNIQUE,
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

    /// API tokens matching `condition` (with one `?` for `arg`), oldest first.
    fn select_tokens(&self, condition: &str, arg: &str) -> Result<Vec<ApiTokenRecord>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        if !crate::read::table_exists(conn, "api_tokens")? {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare(&format!(
                "SELECT id, owner, name, prefix, sha256, created FROM api_tokens
                 WHERE {condition} ORDER BY created, id"
            ))
            .map_err(db_err("reading API tokens"))?;
        let rows = stmt
            .query_map([arg], |row| {
                Ok(ApiTokenRecord {
                    id: row.get(0)?,
                    owner: row.get(1)?,
                    name: row.get(2)?,
                    prefix: row.get(3)?,
                    sha256: row.get(4)?,
                    created: row.get(5)?,
                })
            })
            .map_err(db_err("reading API tokens"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("reading API tokens"))
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
        let mut writer = self.lock();
        let tx = writer
            .conn
            .transaction()
            .map_err(db_err("removing a user"))?;
        tx.execute("DELETE FROM api_tokens WHERE owner = ?", [name])
            .map_err(db_err("removing a user's tokens"))?;
        let removed = tx
            .execute("DELETE FROM users WHERE name = ?", [name])
            .map_err(db_err("removing a user"))?;
        tx.commit().map_err(db_err("removing a user"))?;
        Ok(removed > 0)
    }

    fn api_tokens(&self) -> Result<Vec<ApiTokenRecord>, StoreError> {
        self.select_tokens("id <> ?", "")
    }

    fn api_token_by_digest(&self, sha256: &str) -> Result<Option<ApiTokenRecord>, StoreError> {
        Ok(self.select_tokens("sha256 = ?", sha256)?.into_iter().next())
    }

    fn put_api_token(&self, token: &ApiTokenRecord) -> Result<(), StoreError> {
        self.lock()
            .conn
            .execute(
                "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?)",
                [
                    &token.id,
                    &token.owner,
                    &token.name,
                    &token.prefix,
                    &token.sha256,
                    &token.created,
                ],
            )
            .map_err(db_err("saving an API token"))?;
        Ok(())
    }

    fn delete_api_token(&self, id: &str) -> Result<bool, StoreError> {
        let removed = self
            .lock()
            .conn
            .execute("DELETE FROM api_tokens WHERE id = ?", [id])
            .map_err(db_err("revoking an API token"))?;
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

    fn token(id: &str, owner: &str) -> ApiTokenRecord {
        ApiTokenRecord {
            id: id.into(),
            owner: owner.into(),
            name: format!("{owner}'s script"),
            prefix: format!("okw_{id}"),
            sha256: format!("{id:0>64}"),
            created: format!("2026-12-01T00:00:0{id}.000Z"),
        }
    }

    #[test]
    fn tokens_are_found_by_hash_revoked_and_leave_with_their_owner() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("okwatch.duckdb");
        {
            let store = DuckDbStore::open(&path).unwrap();
            store.put_user(&user("bob", "viewer")).unwrap();
            store.put_user(&user("eve", "analyst")).unwrap();
            for (id, owner) in [("1", "bob"), ("2", "eve"), ("3", "bob")] {
                store.put_api_token(&token(id, owner)).unwrap();
            }
            // The same token twice is refused: a hash names one token.
            let mut again = token("4", "eve");
            again.sha256 = token("1", "bob").sha256;
            assert!(store.put_api_token(&again).is_err());
        }
        let store = DuckDbStore::open(&path).unwrap();
        let found = store
            .api_token_by_digest(&token("2", "eve").sha256)
            .unwrap();
        assert_eq!(found.map(|t| t.owner), Some("eve".to_string()));
        assert!(store.delete_api_token("2").unwrap());
        assert!(!store.delete_api_token("2").unwrap());
        assert!(store
            .api_token_by_digest(&token("2", "eve").sha256)
            .unwrap()
            .is_none());
        assert!(store.delete_user("bob").unwrap());
        assert!(store.api_tokens().unwrap().is_empty());
    }
}
