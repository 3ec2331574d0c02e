//! Answers built from stored events, shared by every surface (the web console, its API and
//! MCP): one person's activity, failed sign-ins grouped, app usage as the events show it, and
//! how fresh each org's data is. Each answer is a plain serialisable value that says how much
//! it looked at, so a caller can tell a complete answer from a sample. [`search_text`] is a
//! search as the console's URL and saved searches hold it, which every surface runs alike.

pub mod activity;
pub mod reports;
pub mod rules;
pub mod search_text;
pub mod summary;
pub mod usage;

pub use activity::{
    app_usage, collection_status, failed_sign_ins, user_activity, AppUsage, AppUsageReport,
    Counted, FailedSignIns, FailureGrouping, OrgStatus, UserActivity, Window,
};
pub use summary::EventSummary;

/// The non-empty string at `path` in `value`, if there is one.
pub(crate) fn text_at<'a>(value: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |at, segment| at.get(segment))?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// Why an answer could not be given.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] okwatch_store::StoreError),
    /// The question cannot be answered as asked (an unknown report, an empty period).
    #[error("{0}")]
    BadRequest(String),
}
