//! App contracts, in the `app_contracts` table: one row per org and app.

use crate::{db_err, DuckDbStore};
use okwatch_store::{Billing, Contract, Contracts, StoreError};

pub(super) const CREATE_SQL: &str = "CREATE TABLE IF NOT EXISTS app_contracts (
    org VARCHAR NOT NULL,
    app_id VARCHAR NOT NULL,
    licences UBIGINT,
    price_cents BIGINT,
    billing VARCHAR NOT NULL,
    currency VARCHAR NOT NULL,
    renewal VARCHAR,
    notice_days UINTEGER NOT NULL,
    owner VARCHAR,
    notes VARCHAR,
    updated VARCHAR NOT NULL,
    updated_by VARCHAR NOT NULL,
    PRIMARY KEY (org, app_id));";

const COLUMNS: &str = "org, app_id, licences, price_cents, billing, currency, renewal, \
                       notice_days, owner, notes, updated, updated_by";

fn record(row: &::duckdb::Row<'_>) -> ::duckdb::Result<Contract> {
    let billing: String = row.get(4)?;
    Ok(Contract {
        org: row.get(0)?,
        app_id: row.get(1)?,
        licences: row.get(2)?,
        price_cents: row.get(3)?,
        // Only `Billing::as_str` names are written; an unknown one would be a newer okwatch's.
        billing: Billing::from_name(&billing).unwrap_or(Billing::LicenceMonth),
        currency: row.get(5)?,
        renewal: row.get(6)?,
        notice_days: row.get(7)?,
        owner: row.get(8)?,
        notes: row.get(9)?,
        updated: row.get(10)?,
        updated_by: row.get(11)?,
    })
}

impl DuckDbStore {
    fn select_contracts(
        &self,
        condition: &str,
        args: &[&str],
    ) -> Result<Vec<Contract>, StoreError> {
        let loan = self.loan()?;
        let conn = loan.reader().conn;
        // A store written before contracts existed, opened read-only, has none.
        if !crate::read::table_exists(conn, "app_contracts")? {
            return Ok(Vec::new());
        }
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM app_contracts WHERE {condition} ORDER BY org, app_id"
            ))
            .map_err(db_err("reading contracts"))?;
        let rows = stmt
            .query_map(::duckdb::params_from_iter(args), record)
            .map_err(db_err("reading contracts"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(db_err("reading contracts"))
    }
}

impl Contracts for DuckDbStore {
    fn put_contracts(&self, contracts: &[Contract]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction()
            .map_err(db_err("saving contracts"))?;
        {
            let mut insert = tx
                .prepare(&format!(
                    "INSERT INTO app_contracts ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                     ON CONFLICT (org, app_id) DO UPDATE SET licences = excluded.licences,
                         price_cents = excluded.price_cents, billing = excluded.billing,
                         currency = excluded.currency, renewal = excluded.renewal,
                         notice_days = excluded.notice_days, owner = excluded.owner,
                         notes = excluded.notes, updated = excluded.updated,
                         updated_by = excluded.updated_by"
                ))
                .map_err(db_err("saving contracts"))?;
            for c in contracts {
                insert
                    .execute(::duckdb::params![
                        c.org,
                        c.app_id,
                        c.licences,
                        c.price_cents,
                        c.billing.as_str(),
                        c.currency,
                        c.renewal,
                        c.notice_days,
                        c.owner,
                        c.notes,
                        c.updated,
                        c.updated_by
                    ])
                    .map_err(db_err("saving a contract"))?;
            }
        }
        tx.commit().map_err(db_err("saving contracts"))?;
        Ok(())
    }

    fn contract(&self, org: &str, app_id: &str) -> Result<Option<Contract>, StoreError> {
        Ok(self
            .select_contracts("org = ? AND app_id = ?", &[org, app_id])?
            .into_iter()
            .next())
    }

    fn contracts(&self, org: Option<&str>) -> Result<Vec<Contract>, StoreError> {
        match org {
            Some(org) => self.select_contracts("org = ?", &[org]),
            None => self.select_contracts("true", &[]),
        }
    }

    fn delete_contract(&self, org: &str, app_id: &str) -> Result<bool, StoreError> {
        let removed = self
            .lock()
            .conn
            .execute(
                "DELETE FROM app_contracts WHERE org = ? AND app_id = ?",
                [org, app_id],
            )
            .map_err(db_err("removing a contract"))?;
        Ok(removed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(org: &str, app: &str, licences: u64) -> Contract {
        Contract {
            org: org.into(),
            app_id: app.into(),
            licences: Some(licences),
            price_cents: Some(1_250),
            billing: Billing::LicenceMonth,
            currency: "USD".into(),
            renewal: Some("2027-03-01".into()),
            notice_days: 60,
            owner: Some("it@example.com".into()),
            notes: None,
            updated: "2026-12-02T00:00:00.000Z".into(),
            updated_by: "ana".into(),
        }
    }

    #[test]
    fn contracts_are_kept_replaced_per_app_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.duckdb");
        {
            let store = DuckDbStore::open(&path).unwrap();
            assert_eq!(store.contracts(None).unwrap(), []);
            store
                .put_contracts(&[
                    contract("acme", "0oaslack", 50),
                    contract("beta", "okta", 9),
                ])
                .unwrap();
            // The same app again: replaced, not added.
            let mut edited = contract("acme", "0oaslack", 40);
            edited.billing = Billing::ContractYear;
            edited.price_cents = None;
            edited.renewal = None;
            store
                .put_contracts(&[edited.clone(), contract("acme", "0oazoom", 5)])
                .unwrap();
        }
        let store = DuckDbStore::open(&path).unwrap();
        let acme = store.contracts(Some("acme")).unwrap();
        assert_eq!(acme.len(), 2);
        let mut edited = contract("acme", "0oaslack", 40);
        edited.billing = Billing::ContractYear;
        edited.price_cents = None;
        edited.renewal = None;
        assert_eq!(acme[0], edited);
        assert_eq!(store.contracts(None).unwrap().len(), 3);
        assert_eq!(
            store.contract("beta", "okta").unwrap(),
            Some(contract("beta", "okta", 9))
        );
        assert!(store.delete_contract("acme", "0oazoom").unwrap());
        assert!(!store.delete_contract("acme", "0oazoom").unwrap());
        assert_eq!(store.contract("acme", "0oazoom").unwrap(), None);
    }
}
