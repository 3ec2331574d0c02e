//! Collecting an Okta org's System Log into a [`okwatch_store::Store`]: the poller (one per
//! org), the org's directory (people, groups, apps, assignments), Event Hook deliveries and the hook's registration, the credentials okwatch sends,
//! its share of Okta's rate limit, and the status each org's collection reports. This crate is
//! the only one that makes requests to Okta.

pub mod backoff;
pub mod budget;
pub mod credentials;
pub mod directory;
mod hook_event_types;
pub mod hooks;
mod intake;
/// The HTTP client (shared with the simulator, in okwatch-okta).
pub mod http {
    pub use okwatch_okta::client::client;
}
pub mod oauth;
pub mod poller;
pub mod secret;
pub mod status;

pub use credentials::Credentials;
pub use oauth::{AuthError, OAuthClient, OAuthSettings};
pub use poller::{PollError, Poller, PollerConfig};
pub use secret::Secret;
pub use status::{CollectState, OrgStatus, StatusBoard};
