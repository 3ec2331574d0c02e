//! The parts of Okta's OAuth 2.0 that both sides share: okwatch as a client of an org's
//! authorization server, and the simulator as that server. Client credentials with a
//! `private_key_jwt` assertion (RFC 7523), and DPoP proofs (RFC 9449).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The org authorization server's token endpoint, under the org's URL.
pub const TOKEN_PATH: &str = "/oauth2/v1/token";

/// `client_assertion_type` for a signed JWT.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The `typ` of a DPoP proof's header.
pub const DPOP_TYP: &str = "dpop+jwt";

/// The response header that carries the server's DPoP nonce.
pub const DPOP_NONCE_HEADER: &str = "dpop-nonce";

/// The claims of a client assertion: who the client is, for which token endpoint, until when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssertionClaims {
    /// The client id.
    pub iss: String,
    /// The client id again.
    pub sub: String,
    /// The token endpoint's URL.
    pub aud: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at; Okta refuses more than an hour after `iat`.
    pub exp: i64,
    /// A unique id, so that a captured assertion cannot be replayed.
    pub jti: String,
}

/// The claims of a DPoP proof: this request, now, once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofClaims {
    /// The request's method.
    pub htm: String,
    /// The request's URL without query or fragment.
    pub htu: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// A unique id.
    pub jti: String,
    /// The server's nonce, once it asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// `access_token_hash` of the token the request carries (resource requests only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
}

/// The `ath` claim: base64url of the SHA-256 of the access token.
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// `htu`: the URL a proof is for, without its query or fragment.
pub fn proof_url(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// The RFC 7638 thumbprint of a public JWK (what a DPoP-bound token's `cnf.jkt` holds): the
/// SHA-256 of its required members, in lexicographic order, without whitespace. `None` for a
/// key type DPoP does not use here.
pub fn jwk_thumbprint(jwk: &Jwk) -> Option<String> {
    let canonical = match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(ec) => {
            let crv = serde_json::to_value(&ec.curve).ok()?;
            format!(
                r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
                crv,
                serde_json::Value::from(ec.x.as_str()),
                serde_json::Value::from(ec.y.as_str())
            )
        }
        AlgorithmParameters::RSA(rsa) => format!(
            r#"{{"e":{},"kty":"RSA","n":{}}}"#,
            serde_json::Value::from(rsa.e.as_str()),
            serde_json::Value::from(rsa.n.as_str())
        ),
        _ => return None,
    };
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// An OAuth error answer from the token endpoint (`invalid_client`, `use_dpop_nonce`…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    /// The error code.
    pub error: String,
    /// What is wrong, in words.
    #[serde(default)]
    pub error_description: String,
}

/// A successful token answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenAnswer {
    /// `Bearer` or `DPoP`.
    pub token_type: String,
    /// Seconds the token lives.
    pub expires_in: u64,
    /// The token.
    pub access_token: String,
    /// The scopes granted, space-separated.
    #[serde(default)]
    pub scope: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        // RFC 7638 §3.1's example key and thumbprint.
        let jwk: Jwk = serde_json::from_str(
            r#"{"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29",
            "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}"#,
        )
        .unwrap();
        assert_eq!(
            jwk_thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn a_proof_is_for_the_url_without_its_query() {
        assert_eq!(
            proof_url("https://acme.okta.com/api/v1/logs?after=1_2&limit=1000"),
            "https://acme.okta.com/api/v1/logs"
        );
        assert_eq!(proof_url("https://a/b#c"), "https://a/b");
        assert_eq!(proof_url("https://a/b"), "https://a/b");
    }

    #[test]
    fn the_access_token_hash_is_base64url_sha256() {
        // SHA-256("abc"), base64url without padding.
        assert_eq!(
            access_token_hash("abc"),
            "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
        );
    }
}
