//! The HTTP client okwatch talks to Okta with (and the simulator delivers Event Hooks with).

use std::sync::Once;
use std::time::Duration;

/// A client for Okta's API: rustls with the `ring` provider and the platform's certificate
/// store (so a corporate root CA installed on the host is trusted), a connect timeout, and an
/// overall timeout per request above Okta's own 30-second query limit.
pub fn client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        // Fails only if another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
        .user_agent(concat!("okwatch/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(timeout)
        .build()
}
