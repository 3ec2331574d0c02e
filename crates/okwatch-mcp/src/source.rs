//! Where the MCP server reads events from.

use okwatch_store::{Store, StoreError};
use okwatch_store_duckdb::DuckDbStore;
use std::path::PathBuf;
use std::sync::Arc;

/// The store behind the tools.
#[derive(Clone)]
pub enum StoreSource {
    /// A store this process already has open (`okwatch serve`).
    Shared(Arc<dyn Store>),
    /// A store file opened read-only for each call (`okwatch mcp`). A desktop assistant keeps
    /// its MCP server running all day; holding the file open would lock out `okwatch import`.
    File(PathBuf),
}

/// A store call that failed, worded for the model and the person reading along.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The store refused.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The blocking task was lost (a panic in the store).
    #[error("the store call did not finish: {0}")]
    Lost(String),
}

impl StoreSource {
    /// Runs `call` on the store on a blocking thread (DuckDB calls block).
    pub async fn with<R, E>(
        &self,
        call: impl FnOnce(&dyn Store) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<SourceError> + Send + 'static,
    {
        let source = self.clone();
        tokio::task::spawn_blocking(move || match source {
            StoreSource::Shared(store) => call(store.as_ref()),
            StoreSource::File(path) => {
                let store = DuckDbStore::open_read_only(&path).map_err(SourceError::Store)?;
                call(&store)
            }
        })
        .await
        .map_err(|e| E::from(SourceError::Lost(e.to_string())))?
    }
}
