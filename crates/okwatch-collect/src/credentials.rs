//! How okwatch proves itself to an Okta org.

use crate::oauth::{AuthError, OAuthClient};
use crate::secret::Secret;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::Method;
use std::sync::Arc;

/// An org's credentials for the Management API.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// An SSWS API token, sent as `Authorization: SSWS <token>`.
    ApiToken(Secret),
    /// An OAuth 2.0 service app (client credentials with `private_key_jwt`, DPoP optional).
    OAuth(Arc<OAuthClient>),
}

impl Credentials {
    /// The headers that authorize `method url`. For a service app this may ask Okta for an
    /// access token first. Every value is marked sensitive, so that the HTTP stack never
    /// prints it.
    pub async fn authorize(
        &self,
        client: &reqwest::Client,
        method: &Method,
        url: &str,
    ) -> Result<HeaderMap, AuthError> {
        match self {
            Credentials::ApiToken(token) => {
                let mut headers = HeaderMap::new();
                headers.insert(AUTHORIZATION, ssws(token)?);
                Ok(headers)
            }
            Credentials::OAuth(app) => app.authorize(client, method, url).await,
        }
    }

    /// A credential that can never be sent, found before the first request.
    pub fn check(&self) -> Result<(), AuthError> {
        match self {
            Credentials::ApiToken(token) => ssws(token).map(|_| ()),
            Credentials::OAuth(_) => Ok(()),
        }
    }

    /// Okta answered 401 to a request these credentials authorized. An access token is
    /// forgotten so that the next request asks for a new one; returns whether that may help
    /// (an API token is what it is).
    pub async fn refused(&self) -> bool {
        match self {
            Credentials::ApiToken(_) => false,
            Credentials::OAuth(app) => {
                app.forget_token().await;
                true
            }
        }
    }

    /// What kind of credential this is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Credentials::ApiToken(_) => "an API token".into(),
            Credentials::OAuth(app) => format!("service app {}", app.client_id()),
        }
    }
}

fn ssws(token: &Secret) -> Result<HeaderValue, AuthError> {
    crate::oauth::sensitive(&format!("SSWS {}", token.expose())).map_err(|_| {
        AuthError::Unusable(
            "the API token holds characters that cannot be sent in an HTTP header".into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_api_token_is_sent_as_ssws_and_hidden_from_debug_output() {
        let client = crate::http::client(std::time::Duration::from_secs(5)).unwrap();
        let credentials = Credentials::ApiToken(Secret::new("00tok"));
        let headers = credentials
            .authorize(&client, &Method::GET, "https://a.okta.com/api/v1/logs")
            .await
            .unwrap();
        let header = &headers[AUTHORIZATION];
        assert_eq!(header.to_str().unwrap(), "SSWS 00tok");
        assert!(header.is_sensitive());
        assert!(!format!("{credentials:?} {header:?}").contains("00tok"));
        assert!(
            !credentials.refused().await,
            "a refused API token stays refused"
        );
        // A token that cannot be a header value is refused, not sent mangled.
        let bad = Credentials::ApiToken(Secret::new("bad\ntoken"));
        assert!(bad.check().is_err());
    }
}
