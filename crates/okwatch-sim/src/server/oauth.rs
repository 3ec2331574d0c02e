//! The simulated org's authorization server: Okta's `/oauth2/v1/token` for API service apps
//! (client credentials, `private_key_jwt` only, as Okta requires for `okta.*` scopes), DPoP
//! with Okta's nonce dance, and the checks Okta makes when those tokens come back to the API.
//!
//! What it refuses, as Okta does: an assertion signed by another key, for another audience,
//! from another client, valid for more than an hour, or replayed (`jti`); scopes the app was
//! not granted; a DPoP app's request without a proof, with a bad one or without the current
//! nonce; at the API, an expired or unknown token, a DPoP token without its proof (or with a
//! proof for another request, key or token), and a scope the token lacks.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use okwatch_okta::auth::token_from_header;
use okwatch_okta::oauth::{
    access_token_hash, jwk_thumbprint, proof_url, OAuthErrorBody, ProofClaims, TokenAnswer,
    ASSERTION_TYPE, DPOP_NONCE_HEADER, DPOP_TYP, TOKEN_PATH,
};
use okwatch_okta::server::{base_url, query_pairs, Caller};
use okwatch_okta::OktaError;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An API service app registered with the simulated org.
#[derive(Clone)]
pub struct ServiceApp {
    /// Its client id.
    pub client_id: String,
    /// The scopes granted to it.
    pub scopes: Vec<String>,
    /// "Require DPoP header in token requests".
    pub require_dpop: bool,
    /// How long its access tokens live (Okta: one hour).
    pub token_lifetime: Duration,
    algorithm: Algorithm,
    key: DecodingKey,
}

impl fmt::Debug for ServiceApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceApp")
            .field("client_id", &self.client_id)
            .field("scopes", &self.scopes)
            .field("require_dpop", &self.require_dpop)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl ServiceApp {
    /// An app whose client assertions verify with `public_key`: a public JWK (RSA or EC
    /// P-256) or a PEM public key. Granted `okta.logs.read` and `okta.eventHooks.manage`,
    /// tokens for an hour, no DPoP.
    pub fn new(client_id: &str, public_key: &str) -> Result<ServiceApp, String> {
        let text = public_key.trim();
        let (algorithm, key) = if text.starts_with('{') {
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(text)
                .map_err(|e| format!("the public key is not a JWK: {e}"))?;
            let algorithm = match &jwk.algorithm {
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                _ => return Err("the JWK is neither an RSA nor an EC key".into()),
            };
            let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("the JWK: {e}"))?;
            (algorithm, key)
        } else if let Ok(key) = DecodingKey::from_rsa_pem(text.as_bytes()) {
            (Algorithm::RS256, key)
        } else {
            let key = DecodingKey::from_ec_pem(text.as_bytes())
                .map_err(|e| format!("the public key is neither a JWK nor a PEM key: {e}"))?;
            (Algorithm::ES256, key)
        };
        Ok(ServiceApp {
            client_id: client_id.to_string(),
            scopes: vec!["okta.logs.read".into(), "okta.eventHooks.manage".into()],
            require_dpop: false,
            token_lifetime: Duration::from_secs(3600),
            algorithm,
            key,
        })
    }
}

/// A token the server issued.
struct Issued {
    client_id: String,
    scopes: Vec<String>,
    expires: Instant,
    /// The thumbprint of the DPoP key it is bound to.
    jkt: Option<String>,
}

/// Ids of assertions and proofs already used, until they would have expired anyway.
#[derive(Default)]
struct Replay(HashMap<String, i64>);

impl Replay {
    /// Records `jti`; false if it was seen before.
    fn first_use(&mut self, jti: &str, until: i64, now: i64) -> bool {
        self.0.retain(|_, &mut expiry| expiry >= now);
        self.0.insert(jti.to_string(), until).is_none()
    }
}

/// The org's authorization server and the tokens it issued.
pub struct AuthorizationServer {
    apps: Vec<ServiceApp>,
    api_tokens: Vec<String>,
    issued: Mutex<HashMap<String, Issued>>,
    replay: Mutex<Replay>,
    nonce: String,
    token_requests: AtomicU64,
}

/// A refusal from the token endpoint.
struct TokenRefusal {
    error: &'static str,
    description: String,
    /// Sent with `use_dpop_nonce`.
    nonce: Option<String>,
}

fn refusal(error: &'static str, description: impl Into<String>) -> TokenRefusal {
    TokenRefusal {
        error,
        description: description.into(),
        nonce: None,
    }
}

impl IntoResponse for TokenRefusal {
    fn into_response(self) -> Response {
        let status = if self.error == "invalid_client" {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::BAD_REQUEST
        };
        let body = OAuthErrorBody {
            error: self.error.into(),
            error_description: self.description,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(v) = self.nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
            response.headers_mut().insert(DPOP_NONCE_HEADER, v);
        }
        response
    }
}

fn now_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

/// How far a proof's `iat` may be from the server's clock.
const PROOF_WINDOW: i64 = 300;

#[derive(Deserialize)]
struct AssertionPeek {
    iss: Option<String>,
}

#[derive(Deserialize)]
struct CheckedAssertion {
    sub: String,
    exp: i64,
    jti: Option<String>,
}

impl AuthorizationServer {
    /// A server for `apps`, also accepting the plain API tokens `api_tokens` at the API.
    pub fn new(apps: Vec<ServiceApp>, api_tokens: Vec<String>, seed: u64) -> AuthorizationServer {
        AuthorizationServer {
            apps,
            api_tokens,
            issued: Mutex::default(),
            replay: Mutex::default(),
            nonce: format!("sim-nonce-{seed:x}-{}", okwatch_okta::random::base62(16)),
            token_requests: AtomicU64::new(0),
        }
    }

    /// Requests made to the token endpoint so far.
    pub fn token_requests(&self) -> u64 {
        self.token_requests.load(Ordering::Relaxed)
    }

    /// Revokes every access token issued (as an admin revoking the app's tokens would).
    pub fn revoke_all(&self) {
        self.issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn replayed(&self, jti: &str, until: i64) -> bool {
        !self
            .replay
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .first_use(jti, until, now_seconds())
    }

    /// `POST /oauth2/v1/token`.
    fn token(
        &self,
        token_url: &str,
        form: &[(String, String)],
        proof: Option<&str>,
    ) -> Result<TokenAnswer, TokenRefusal> {
        self.token_requests.fetch_add(1, Ordering::Relaxed);
        let field = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if field("grant_type") != Some("client_credentials") {
            return Err(refusal(
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server. \
                 Configured grant types: [client_credentials].",
            ));
        }
        if field("client_assertion_type") != Some(ASSERTION_TYPE) {
            return Err(refusal(
                "invalid_client",
                "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
            ));
        }
        let assertion = field("client_assertion")
            .ok_or_else(|| refusal("invalid_client", "The client_assertion is missing."))?;
        let app = self.check_assertion(assertion, token_url)?;
        let requested: Vec<String> = field("scope")
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if requested.is_empty() {
            return Err(refusal(
                "invalid_scope",
                "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
            ));
        }
        let refused: Vec<&str> = requested
            .iter()
            .filter(|s| !app.scopes.contains(s))
            .map(String::as_str)
            .collect();
        if !refused.is_empty() {
            return Err(refusal(
                "invalid_scope",
                format!(
                    "The following scopes are not allowed: {}",
                    refused.join(", ")
                ),
            ));
        }
        let jkt = if app.require_dpop {
            let proof = proof.ok_or_else(|| {
                refusal(
                    "invalid_dpop_proof",
                    "The DPoP proof JWT header is missing.",
                )
            })?;
            Some(self.check_proof(proof, "POST", token_url, None, true)?)
        } else {
            None
        };
        let access_token = format!("sim.{}", okwatch_okta::random::base62(48));
        self.issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                access_token.clone(),
                Issued {
                    client_id: app.client_id.clone(),
                    scopes: requested.clone(),
                    expires: Instant::now() + app.token_lifetime,
                    jkt: jkt.clone(),
                },
            );
        Ok(TokenAnswer {
            token_type: if jkt.is_some() { "DPoP" } else { "Bearer" }.into(),
            expires_in: app.token_lifetime.as_secs(),
            access_token,
            scope: requested.join(" "),
        })
    }

    /// The app whose key signed `assertion`, for this token endpoint, now, for the first time.
    fn check_assertion(
        &self,
        assertion: &str,
        token_url: &str,
    ) -> Result<&ServiceApp, TokenRefusal> {
        let invalid = |d: &str| refusal("invalid_client", d.to_string());
        // Which app claims to have signed it decides which key verifies it.
        let claimed = assertion
            .split('.')
            .nth(1)
            .and_then(|payload| {
                use base64::Engine;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(payload)
                    .ok()
            })
            .and_then(|bytes| serde_json::from_slice::<AssertionPeek>(&bytes).ok())
            .and_then(|peek| peek.iss)
            .ok_or_else(|| invalid("The client_assertion token is not a valid JWT."))?;
        let app = self
            .apps
            .iter()
            .find(|a| a.client_id == claimed)
            .ok_or_else(|| {
                invalid("Client authentication failed: no client with this client_id.")
            })?;
        let mut validation = Validation::new(app.algorithm);
        validation.set_audience(&[token_url]);
        validation.set_issuer(&[&app.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        validation.leeway = 30;
        let claims = jsonwebtoken::decode::<CheckedAssertion>(assertion, &app.key, &validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                invalid(match e.kind() {
                    ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                        "The client_assertion signature is invalid."
                    }
                    ErrorKind::ExpiredSignature => "The client_assertion token is expired.",
                    ErrorKind::InvalidAudience => {
                        "The audience claim for client_assertion must be the endpoint invoked for the request."
                    }
                    _ => "The client_assertion token is invalid.",
                })
            })?
            .claims;
        let now = now_seconds();
        if claims.sub != app.client_id {
            return Err(invalid(
                "The sub claim of the client_assertion must be the client_id.",
            ));
        }
        if claims.exp > now + 3600 + 30 {
            return Err(invalid(
                "The client_assertion token has an expiration too far into the future.",
            ));
        }
        if let Some(jti) = &claims.jti {
            if self.replayed(jti, claims.exp) {
                return Err(invalid(
                    "The client_assertion token has already been used (jti).",
                ));
            }
        }
        Ok(app)
    }

    /// Verifies a DPoP proof for `method url`; returns its key's thumbprint.
    fn check_proof(
        &self,
        proof: &str,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce_required: bool,
    ) -> Result<String, TokenRefusal> {
        let invalid = |d: &str| refusal("invalid_dpop_proof", d.to_string());
        let header = jsonwebtoken::decode_header(proof)
            .map_err(|_| invalid("The DPoP proof is not a valid JWT."))?;
        if header.typ.as_deref() != Some(DPOP_TYP) {
            return Err(invalid("The DPoP proof 'typ' must be 'dpop+jwt'."));
        }
        let jwk = header
            .jwk
            .ok_or_else(|| invalid("The DPoP proof has no 'jwk' header."))?;
        let thumbprint = jwk_thumbprint(&jwk)
            .ok_or_else(|| invalid("The DPoP proof key must be an RSA or EC key."))?;
        let key =
            DecodingKey::from_jwk(&jwk).map_err(|_| invalid("The DPoP proof key is invalid."))?;
        let mut validation = Validation::new(header.alg);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<ProofClaims>(proof, &key, &validation)
            .map_err(|_| invalid("The DPoP proof signature is invalid."))?
            .claims;
        if !claims.htm.eq_ignore_ascii_case(method) || claims.htu != proof_url(url) {
            return Err(invalid(
                "The DPoP proof 'htm' or 'htu' does not match the request.",
            ));
        }
        let now = now_seconds();
        if (claims.iat - now).abs() > PROOF_WINDOW {
            return Err(invalid(
                "The DPoP proof 'iat' is outside the allowed window.",
            ));
        }
        if self.replayed(&claims.jti, claims.iat + PROOF_WINDOW) {
            return Err(invalid("The DPoP proof 'jti' has already been used."));
        }
        if nonce_required && claims.nonce.as_deref() != Some(self.nonce.as_str()) {
            return Err(TokenRefusal {
                nonce: Some(self.nonce.clone()),
                ..refusal(
                    "use_dpop_nonce",
                    "Authorization server requires nonce in DPoP proof.",
                )
            });
        }
        if let Some(token) = access_token {
            if claims.ath.as_deref() != Some(access_token_hash(token).as_str()) {
                return Err(invalid(
                    "The DPoP proof 'ath' does not match the access token.",
                ));
            }
        }
        Ok(thumbprint)
    }

    /// Who a request to the API is: a plain API token, a Bearer token, or a DPoP token with
    /// its proof. `Err` is the answer to send.
    fn caller(&self, request: &Request) -> Result<String, Box<Response>> {
        let headers = request.headers();
        let authorization = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let unauthorized = |error: &str, description: &str| {
            let mut response = OktaError::invalid_token().into_response();
            let challenge = format!(r#"Bearer error="{error}", error_description="{description}""#);
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            Box::new(response)
        };
        if let Some(i) = token_from_header(authorization)
            .and_then(|token| self.api_tokens.iter().position(|t| t == token))
        {
            return Ok(format!("token{i}"));
        }
        let (scheme, token) = authorization.split_once(' ').unwrap_or_default();
        let token = token.trim();
        let dpop = scheme.eq_ignore_ascii_case("dpop");
        if !dpop && !scheme.eq_ignore_ascii_case("bearer") {
            return Err(unauthorized(
                "invalid_token",
                "The access token is invalid.",
            ));
        }
        let (client_id, scopes, jkt) = {
            let issued = self.issued.lock().unwrap_or_else(|e| e.into_inner());
            let Some(found) = issued.get(token) else {
                return Err(unauthorized(
                    "invalid_token",
                    "The access token is invalid.",
                ));
            };
            if Instant::now() >= found.expires {
                return Err(unauthorized("invalid_token", "The token has expired."));
            }
            (
                found.client_id.clone(),
                found.scopes.clone(),
                found.jkt.clone(),
            )
        };
        match (&jkt, dpop) {
            (Some(_), false) => {
                return Err(unauthorized(
                    "invalid_token",
                    "A DPoP-bound access token must be sent with the DPoP scheme.",
                ))
            }
            (None, true) => {
                return Err(unauthorized(
                    "invalid_token",
                    "The access token is not DPoP-bound.",
                ))
            }
            (Some(jkt), true) => {
                let url = format!("{}{}", base_url(None, headers), request.uri().path());
                let proof = headers
                    .get("dpop")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        unauthorized("invalid_dpop_proof", "The DPoP proof is missing.")
                    })?;
                let thumbprint = self
                    .check_proof(proof, request.method().as_str(), &url, Some(token), false)
                    .map_err(|r| unauthorized("invalid_dpop_proof", &r.description))?;
                if &thumbprint != jkt {
                    return Err(unauthorized(
                        "invalid_dpop_proof",
                        "The DPoP proof key is not the one the token is bound to.",
                    ));
                }
            }
            (None, false) => {}
        }
        let needed = required_scope(request.method().as_str(), request.uri().path());
        if let Some(needed) = needed {
            if !needed.iter().any(|s| scopes.iter().any(|g| g == s)) {
                let mut response = OktaError::forbidden().into_response();
                let challenge = format!(
                    r#"Bearer error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="{}""#,
                    request.uri().path()
                );
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                return Err(Box::new(response));
            }
        }
        Ok(client_id)
    }
}

/// The scopes any one of which lets an OAuth token make this request.
fn required_scope(method: &str, path: &str) -> Option<&'static [&'static str]> {
    let read = method == "GET";
    let section = path.trim_start_matches("/api/v1/").split('/').next()?;
    Some(match section {
        "logs" => &["okta.logs.read"],
        "eventHooks" if read => &["okta.eventHooks.read", "okta.eventHooks.manage"],
        "eventHooks" => &["okta.eventHooks.manage"],
        "users" => &["okta.users.read", "okta.users.manage"],
        "groups" => &["okta.groups.read", "okta.groups.manage"],
        "apps" => &["okta.apps.read", "okta.apps.manage"],
        _ => return None,
    })
}

/// `POST /oauth2/v1/token`.
pub async fn token_endpoint(
    State(server): State<Arc<AuthorizationServer>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = query_pairs(std::str::from_utf8(&body).ok());
    let token_url = format!("{}{TOKEN_PATH}", base_url(None, &headers));
    let proof = headers.get("dpop").and_then(|v| v.to_str().ok());
    match server.token(&token_url, &form, proof) {
        Ok(answer) => {
            let mut response = axum::Json(answer).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// Refuses API requests without an accepted credential, and records who made the others.
pub async fn authenticate(
    State(server): State<Arc<AuthorizationServer>>,
    mut request: Request,
    next: Next,
) -> Response {
    match server.caller(&request) {
        Ok(caller) => {
            request.extensions_mut().insert(Caller(caller));
            next.run(request).await
        }
        Err(response) => *response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_api_needs_its_scope() {
        assert_eq!(
            required_scope("GET", "/api/v1/logs"),
            Some(&["okta.logs.read"][..])
        );
        assert!(required_scope("GET", "/api/v1/eventHooks/who1")
            .unwrap()
            .contains(&"okta.eventHooks.read"));
        assert_eq!(
            required_scope("POST", "/api/v1/eventHooks"),
            Some(&["okta.eventHooks.manage"][..])
        );
        assert_eq!(required_scope("GET", "/nothing"), None);
    }

    #[test]
    fn an_id_is_accepted_once_until_it_expires() {
        let mut replay = Replay::default();
        assert!(replay.first_use("a", 100, 50));
        assert!(!replay.first_use("a", 100, 60));
        // Forgotten once it could no longer be used anyway.
        assert!(replay.first_use("a", 300, 200));
    }
}
