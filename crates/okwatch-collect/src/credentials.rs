//! How okwatch proves itself to an Okta org.

use crate::secret::Secret;
use reqwest::header::HeaderValue;

/// An org's credentials for the Management API. (OAuth 2.0 service apps with
/// `private_key_jwt` come next; they will be a second variant here.)
#[derive(Debug, Clone)]
pub enum Credentials {
    /// An SSWS API token, sent as `Authorization: SSWS <token>`.
    ApiToken(Secret),
}

impl Credentials {
    /// The `Authorization` header for a request, marked sensitive so that the HTTP stack never
    /// prints it.
    pub fn authorization(&self) -> Option<HeaderValue> {
        let Credentials::ApiToken(token) = self;
        let mut value = HeaderValue::from_str(&format!("SSWS {}", token.expose())).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_token_is_sent_as_ssws_and_hidden_from_debug_output() {
        let credentials = Credentials::ApiToken(Secret::new("00tok"));
        let header = credentials.authorization().unwrap();
        assert_eq!(header.to_str().unwrap(), "SSWS 00tok");
        assert!(header.is_sensitive());
        assert!(!format!("{credentials:?} {header:?}").contains("00tok"));
        // A token that cannot be a header value is refused, not sent mangled.
        assert!(Credentials::ApiToken(Secret::new("bad\ntoken"))
            .authorization()
            .is_none());
    }
}
