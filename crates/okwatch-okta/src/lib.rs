//! Okta's System Log API as Okta serves it, over any [`okwatch_store::Store`].
//!
//! Both `okwatch serve` (over everything okwatch stored) and the org simulator (over its
//! synthetic org) answer `GET /api/v1/logs` with this code, so a script written for Okta works
//! against either: the same parameters and defaults, `Link` paging, polling and bounded
//! requests, error bodies and status codes, and `SSWS`/`Bearer` tokens.

pub mod auth;
pub mod client;
pub mod error;
pub mod links;
pub mod logs;
pub mod oauth;
pub mod random;
pub mod ratelimit;
pub mod server;

pub use auth::{TokenInfo, TokenStore};
pub use error::OktaError;
pub use logs::{LogsApi, LogsPolicy};
