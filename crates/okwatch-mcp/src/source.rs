//! Where the MCP server reads events from.

use okwatch_engine::usage::UsageStore;
use okwatch_store::{AlertStore, RuleStore, SavedSearches, Store, StoreError};
use std::sync::Arc;

/// The store behind the tools: its events, saved searches and alerts. `okwatch serve` passes the
/// store it holds; `okwatch mcp` a reader that opens the file read-only for each call (a
/// desktop assistant keeps its MCP server running all day; holding the file open would lock
/// out `okwatch import`) or asks the server that holds it.
#[derive(Clone)]
pub struct StoreSource {
    events: Arc<dyn Store>,
    saved: Arc<dyn SavedSearches>,
    alerts: Arc<dyn AlertStore>,
    rules: Arc<dyn RuleStore>,
    usage: Arc<dyn UsageStore>,
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
    /// The events, saved searches, alerts, rules, directories and contracts of `store`.
    pub fn new<S>(store: Arc<S>) -> StoreSource
    where
        S: Store + SavedSearches + AlertStore + RuleStore + UsageStore + 'static,
    {
        StoreSource {
            events: store.clone(),
            saved: store.clone(),
            alerts: store.clone(),
            rules: store.clone(),
            usage: store,
        }
    }

    /// Runs `call` on the directories, contracts and events, on a blocking thread.
    pub async fn with_usage<R, E>(
        &self,
        call: impl FnOnce(&dyn UsageStore) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<SourceError> + Send + 'static,
    {
        let usage = self.usage.clone();
        tokio::task::spawn_blocking(move || call(usage.as_ref()))
            .await
            .map_err(|e| E::from(SourceError::Lost(e.to_string())))?
    }

    /// Runs `call` on the events on a blocking thread (DuckDB calls block).
    pub async fn with<R, E>(
        &self,
        call: impl FnOnce(&dyn Store) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<SourceError> + Send + 'static,
    {
        let store = self.events.clone();
        tokio::task::spawn_blocking(move || call(store.as_ref()))
            .await
            .map_err(|e| E::from(SourceError::Lost(e.to_string())))?
    }

    /// Runs `call` on the saved searches and the events, on a blocking thread.
    pub async fn with_saved<R, E>(
        &self,
        call: impl FnOnce(&dyn SavedSearches, &dyn Store) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<SourceError> + Send + 'static,
    {
        let (saved, store) = (self.saved.clone(), self.events.clone());
        tokio::task::spawn_blocking(move || call(saved.as_ref(), store.as_ref()))
            .await
            .map_err(|e| E::from(SourceError::Lost(e.to_string())))?
    }

    /// Runs `call` on the alerts, the events and the rules, on a blocking thread.
    pub async fn with_alerts<R, E>(
        &self,
        call: impl FnOnce(&dyn AlertStore, &dyn Store, &dyn RuleStore) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<SourceError> + Send + 'static,
    {
        let (alerts, store, rules) = (self.alerts.clone(), self.events.clone(), self.rules.clone());
        tokio::task::spawn_blocking(move || call(alerts.as_ref(), store.as_ref(), rules.as_ref()))
            .await
            .map_err(|e| E::from(SourceError::Lost(e.to_string())))?
    }
}
