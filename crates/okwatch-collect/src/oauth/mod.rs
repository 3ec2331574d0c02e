//! OAuth 2.0 for an Okta API service app: client credentials with a `private_key_jwt`
//! assertion, an access token kept until shortly before its hour ends, and DPoP when the app
//! requires it (a proof per request, Okta's nonce when it asks for one).
//!
//! Okta's token endpoint is called only when there is no usable token: at the first request,
//! when the token is about to expire, and after Okta refused it (a 401 from the API: revoked,
//! or the app's keys rotated).

pub mod keys;

use crate::secret::Secret;
use keys::{DpopKey, KeyError, SigningKey};
use okwatch_okta::oauth::{
    access_token_hash, proof_url, AssertionClaims, OAuthErrorBody, ProofClaims, TokenAnswer,
    ASSERTION_TYPE, DPOP_NONCE_HEADER, TOKEN_PATH,
};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use std::fmt;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The scopes okwatch asks for when none are configured: reading the System Log.
pub const DEFAULT_SCOPES: &[&str] = &["okta.logs.read"];

/// How long a client assertion is valid: long enough for a slow network, far below Okta's hour.
const ASSERTION_LIFETIME: i64 = 300;

/// A service app as configured.
#[derive(Debug, Clone)]
pub struct OAuthSettings {
    /// The app's client id (`0oa…`).
    pub client_id: String,
    /// The private key registered with the app.
    pub key: SigningKey,
    /// The scopes to ask for.
    pub scopes: Vec<String>,
    /// Whether the app requires DPoP-bound tokens.
    pub dpop: bool,
}

/// Why no access token could be had.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Okta refused the app: a wrong key or client id, scopes not granted, DPoP required or
    /// not. Retrying cannot help; the configuration or the app in Okta must change.
    #[error("Okta's token endpoint refused service app {client_id} (HTTP {status}, {error}: {description})")]
    Refused {
        /// The app.
        client_id: String,
        /// The HTTP status.
        status: u16,
        /// The OAuth error code (`invalid_client`, `invalid_scope`…).
        error: String,
        /// Okta's description.
        description: String,
    },
    /// The token endpoint could not be reached or failed (a timeout, a 5xx, a 429): retry later.
    #[error("asking Okta for an access token failed: {0}")]
    Unavailable(String),
    /// A credential that cannot be sent (an API token with a line break, say).
    #[error("{0}")]
    Unusable(String),
}

/// A token okwatch holds, and when to stop using it.
struct AccessToken {
    value: Secret,
    renew_at: Instant,
}

#[derive(Default)]
struct TokenState {
    token: Option<AccessToken>,
    /// The last nonce Okta asked proofs to carry.
    nonce: Option<String>,
}

/// A service app's client: signs assertions and proofs, and keeps the current token.
pub struct OAuthClient {
    settings: OAuthSettings,
    token_url: String,
    dpop: Option<DpopKey>,
    state: Mutex<TokenState>,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.settings.client_id)
            .field("token_url", &self.token_url)
            .field("dpop", &self.settings.dpop)
            .finish_non_exhaustive()
    }
}

/// The current time in seconds since the epoch, as JWTs count.
fn epoch_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A random `jti`.
fn unique_id() -> String {
    okwatch_okta::random::base62(32)
}

impl OAuthClient {
    /// A client of the org at `base_url` (its token endpoint is `/oauth2/v1/token` there).
    pub fn new(base_url: &str, settings: OAuthSettings) -> Result<OAuthClient, KeyError> {
        let dpop = if settings.dpop {
            Some(DpopKey::generate()?)
        } else {
            None
        };
        Ok(OAuthClient {
            token_url: format!("{}{TOKEN_PATH}", base_url.trim_end_matches('/')),
            settings,
            dpop,
            state: Mutex::new(TokenState::default()),
        })
    }

    /// The app's client id.
    pub fn client_id(&self) -> &str {
        &self.settings.client_id
    }

    /// The headers that authorize `method url`: `Authorization: Bearer …`, or `DPoP …` with a
    /// fresh proof. Asks Okta for a token first when okwatch holds no usable one.
    pub async fn authorize(
        &self,
        client: &reqwest::Client,
        method: &Method,
        url: &str,
    ) -> Result<HeaderMap, AuthError> {
        let token = self.token(client).await?;
        let mut headers = HeaderMap::new();
        let scheme = if self.dpop.is_some() {
            "DPoP"
        } else {
            "Bearer"
        };
        headers.insert(
            AUTHORIZATION,
            sensitive(&format!("{scheme} {}", token.expose()))?,
        );
        if let Some(key) = &self.dpop {
            let proof = key
                .prove(&ProofClaims {
                    htm: method.as_str().to_string(),
                    htu: proof_url(url).to_string(),
                    iat: epoch_seconds(),
                    jti: unique_id(),
                    nonce: None,
                    ath: Some(access_token_hash(token.expose())),
                })
                .map_err(|e| AuthError::Unusable(format!("signing a DPoP proof: {e}")))?;
            headers.insert("dpop", sensitive(&proof)?);
        }
        Ok(headers)
    }

    /// Forgets the token Okta just refused, so that the next request gets a new one.
    pub async fn forget_token(&self) {
        self.state.lock().await.token = None;
    }

    /// The current token, or a new one.
    async fn token(&self, client: &reqwest::Client) -> Result<Secret, AuthError> {
        // Held across the request to Okta: concurrent callers wait for one new token instead
        // of each asking for their own.
        let mut state = self.state.lock().await;
        if let Some(token) = state.token.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(token.value.clone());
        }
        let answer = self.request_token(client, &mut state).await?;
        let lifetime = Duration::from_secs(answer.expires_in);
        // Renew ahead of the end (5 minutes of an hour, a fifth of anything shorter), so that
        // no request leaves with a token that expires on the way.
        let margin = (lifetime / 5).min(Duration::from_secs(300));
        let value = Secret::new(answer.access_token);
        state.token = Some(AccessToken {
            value: value.clone(),
            renew_at: Instant::now() + lifetime - margin,
        });
        tracing::info!(
            client_id = %self.settings.client_id,
            expires_in = answer.expires_in,
            token_type = %answer.token_type,
            "new access token from Okta"
        );
        Ok(value)
    }

    /// Asks the token endpoint, answering one `use_dpop_nonce` with the nonce Okta sent.
    async fn request_token(
        &self,
        client: &reqwest::Client,
        state: &mut TokenState,
    ) -> Result<TokenAnswer, AuthError> {
        let mut nonce_retry = true;
        loop {
            let response = self.send_token_request(client, state.nonce.clone()).await?;
            let status = response.status();
            let new_nonce = response
                .headers()
                .get(DPOP_NONCE_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if new_nonce.is_some() {
                state.nonce = new_nonce.clone();
            }
            let body = response
                .bytes()
                .await
                .map_err(|e| AuthError::Unavailable(e.to_string()))?;
            if status == StatusCode::OK {
                let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
                    AuthError::Unavailable(format!("the token answer is not Okta's ({e})"))
                })?;
                let expected = if self.dpop.is_some() {
                    "DPoP"
                } else {
                    "Bearer"
                };
                if !answer.token_type.eq_ignore_ascii_case(expected) {
                    return Err(self.refused(
                        status,
                        "unexpected_token_type",
                        format!(
                            "Okta issued a {} token where okwatch expected {expected}: set \
                             `dpop` to match the app's \"Require DPoP\" setting",
                            answer.token_type
                        ),
                    ));
                }
                return Ok(answer);
            }
            if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                return Err(AuthError::Unavailable(format!(
                    "the token endpoint answered {status}"
                )));
            }
            let error: OAuthErrorBody =
                serde_json::from_slice(&body).unwrap_or_else(|_| OAuthErrorBody {
                    error: "(none)".into(),
                    error_description: String::from_utf8_lossy(&body).chars().take(200).collect(),
                });
            if error.error == "use_dpop_nonce" && new_nonce.is_some() && nonce_retry {
                nonce_retry = false;
                tracing::debug!("Okta asked for a DPoP nonce; asking again with it");
                continue;
            }
            return Err(self.refused(status, &error.error, error.error_description));
        }
    }

    fn refused(&self, status: StatusCode, error: &str, description: String) -> AuthError {
        AuthError::Refused {
            client_id: self.settings.client_id.clone(),
            status: status.as_u16(),
            error: error.to_string(),
            description,
        }
    }

    async fn send_token_request(
        &self,
        client: &reqwest::Client,
        nonce: Option<String>,
    ) -> Result<reqwest::Response, AuthError> {
        let now = epoch_seconds();
        let claims = AssertionClaims {
            iss: self.settings.client_id.clone(),
            sub: self.settings.client_id.clone(),
            aud: self.token_url.clone(),
            iat: now,
            exp: now + ASSERTION_LIFETIME,
            jti: unique_id(),
        };
        let assertion = self
            .settings
            .key
            .sign(self.settings.key.header(), &claims)
            .map_err(|e| AuthError::Unusable(format!("signing the client assertion: {e}")))?;
        let scopes = self.settings.scopes.join(" ");
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", scopes.as_str()),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion.as_str()),
        ];
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", form_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = client
            .post(&self.token_url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(body);
        if let Some(key) = &self.dpop {
            let proof = key
                .prove(&ProofClaims {
                    htm: "POST".into(),
                    htu: self.token_url.clone(),
                    iat: now,
                    jti: unique_id(),
                    nonce,
                    ath: None,
                })
                .map_err(|e| AuthError::Unusable(format!("signing a DPoP proof: {e}")))?;
            request = request.header("dpop", sensitive(&proof)?);
        }
        request
            .send()
            .await
            .map_err(|e| AuthError::Unavailable(format!("{}: {e}", self.token_url)))
    }
}

/// A header value the HTTP stack will never print.
pub(crate) fn sensitive(value: &str) -> Result<HeaderValue, AuthError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| {
        AuthError::Unusable("a credential holds characters an HTTP header cannot carry".into())
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_encoded_as_browsers_do() {
        assert_eq!(
            form_encode("okta.logs.read okta.eventHooks.manage"),
            "okta.logs.read+okta.eventHooks.manage"
        );
        assert_eq!(
            form_encode("urn:ietf:params:a=b&c"),
            "urn%3Aietf%3Aparams%3Aa%3Db%26c"
        );
    }
}
