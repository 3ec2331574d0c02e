//! Directories and contracts through the running server, for `okwatch mcp`'s SaaS tools: the
//! store API's `directory`, `directory_summaries` and `contracts` operations, and the reading
//! side of [`Directory`] and [`Contracts`] on [`RemoteStore`] and [`LocalReader`]. Both are
//! read-only here: directories are listed by `serve`, contracts changed in the console or API.

use super::remote::{bad, field, read_only, store_error, LocalReader, OpError, RemoteStore};
use okwatch_store::directory::{Directory, DirectorySnapshot, DirectorySummary};
use okwatch_store::{Contract, Contracts, StoreError};
use okwatch_store_duckdb::DuckDbStore;
use serde::Deserialize;
use serde_json::{json, Value};

/// The server's side of the operations.
pub(super) fn serve_op(store: &DuckDbStore, op: &str, body: &Value) -> Result<Value, OpError> {
    Ok(match op {
        "directory" => {
            let org: String = field(body, "org")?;
            json!({ "directory": store.directory(&org).map_err(store_error)? })
        }
        "directory_summaries" => {
            json!({ "summaries": store.directory_summaries().map_err(store_error)? })
        }
        "contracts" => {
            let org: Option<String> = field(body, "org")?;
            json!({ "contracts": store.contracts(org.as_deref()).map_err(store_error)? })
        }
        other => return Err(bad(format!("no store operation `{other}`"))),
    })
}

#[derive(Deserialize)]
struct WireDirectory {
    directory: Option<DirectorySnapshot>,
}

#[derive(Deserialize)]
struct WireSummaries {
    summaries: Vec<DirectorySummary>,
}

#[derive(Deserialize)]
struct WireContracts {
    contracts: Vec<Contract>,
}

impl Directory for RemoteStore {
    fn replace_directory(&self, _: &str, _: &DirectorySnapshot) -> Result<(), StoreError> {
        Err(read_only())
    }

    fn directory_taken(&self, org: &str) -> Result<Option<String>, StoreError> {
        Ok(self.directory(org)?.map(|d| d.taken))
    }

    fn directory(&self, org: &str) -> Result<Option<DirectorySnapshot>, StoreError> {
        Ok(self
            .call::<WireDirectory>("directory", json!({ "org": org }))?
            .directory)
    }

    fn directory_summaries(&self) -> Result<Vec<DirectorySummary>, StoreError> {
        Ok(self
            .call::<WireSummaries>("directory_summaries", json!({}))?
            .summaries)
    }
}

impl Contracts for RemoteStore {
    fn put_contracts(&self, _: &[Contract]) -> Result<(), StoreError> {
        Err(read_only())
    }

    fn contract(&self, org: &str, app_id: &str) -> Result<Option<Contract>, StoreError> {
        Ok(self
            .contracts(Some(org))?
            .into_iter()
            .find(|c| c.app_id == app_id))
    }

    fn contracts(&self, org: Option<&str>) -> Result<Vec<Contract>, StoreError> {
        Ok(self
            .call::<WireContracts>("contracts", json!({ "org": org }))?
            .contracts)
    }

    fn delete_contract(&self, _: &str, _: &str) -> Result<bool, StoreError> {
        Err(read_only())
    }
}

impl Directory for LocalReader {
    fn replace_directory(&self, _: &str, _: &DirectorySnapshot) -> Result<(), StoreError> {
        Err(read_only())
    }

    fn directory_taken(&self, org: &str) -> Result<Option<String>, StoreError> {
        self.either(|s| s.directory_taken(org), |s| s.directory_taken(org))
    }

    fn directory(&self, org: &str) -> Result<Option<DirectorySnapshot>, StoreError> {
        self.either(|s| s.directory(org), |s| s.directory(org))
    }

    fn directory_summaries(&self) -> Result<Vec<DirectorySummary>, StoreError> {
        self.either(|s| s.directory_summaries(), |s| s.directory_summaries())
    }
}

impl Contracts for LocalReader {
    fn put_contracts(&self, _: &[Contract]) -> Result<(), StoreError> {
        Err(read_only())
    }

    fn contract(&self, org: &str, app_id: &str) -> Result<Option<Contract>, StoreError> {
        self.either(|s| s.contract(org, app_id), |s| s.contract(org, app_id))
    }

    fn contracts(&self, org: Option<&str>) -> Result<Vec<Contract>, StoreError> {
        self.either(|s| s.contracts(org), |s| s.contracts(org))
    }

    fn delete_contract(&self, _: &str, _: &str) -> Result<bool, StoreError> {
        Err(read_only())
    }
}
