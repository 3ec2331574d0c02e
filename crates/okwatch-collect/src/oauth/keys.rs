//! The keys okwatch signs with: the service app's private key (its client assertions), read
//! from a PEM or JWK file as Okta's Admin Console hands them out, and the DPoP key, made fresh
//! in memory at every start.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters, Jwk,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::path::Path;

/// Why a private key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The file could not be read.
    #[error("cannot read {path}: {error}")]
    Io {
        /// The key file.
        path: String,
        /// What failed.
        #[source]
        error: std::io::Error,
    },
    /// The file holds something okwatch cannot sign with.
    #[error("{0}")]
    Unusable(String),
}

fn unusable(message: impl Into<String>) -> KeyError {
    KeyError::Unusable(message.into())
}

/// A private key and the algorithm it signs with. `Debug` shows the algorithm and key id only.
#[derive(Clone)]
pub struct SigningKey {
    algorithm: Algorithm,
    key_id: Option<String>,
    key: EncodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Reads the key in `path`: an RSA key (RS256) or a P-256 EC key (ES256), as PEM (PKCS#1
    /// or PKCS#8) or as a private JWK. `key_id` is the `kid` Okta registered it under; a JWK's
    /// own `kid` serves when it is not given.
    pub fn from_file(path: &Path, key_id: Option<&str>) -> Result<SigningKey, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|error| KeyError::Io {
            path: path.display().to_string(),
            error,
        })?;
        SigningKey::from_text(&text, key_id)
    }

    /// [`SigningKey::from_file`] on the file's text.
    pub fn from_text(text: &str, key_id: Option<&str>) -> Result<SigningKey, KeyError> {
        let text = text.trim();
        let (algorithm, key, own_kid) = if text.starts_with('{') {
            from_jwk(text)?
        } else {
            from_pem(text)?
        };
        let key = SigningKey {
            algorithm,
            key_id: key_id.map(str::to_string).or(own_kid),
            key,
        };
        // Parsing checks the wrapping only; signing once finds a key ring refuses (RSA under
        // 2048 bits, an EC key on another curve) now rather than at the first token request.
        key.sign(Header::new(algorithm), &serde_json::json!({"probe": true}))
            .map_err(|e| {
                unusable(format!(
                    "the key cannot sign {algorithm:?} ({e}): okwatch needs an RSA key of at \
                     least 2048 bits or an EC key on P-256"
                ))
            })?;
        Ok(key)
    }

    /// The algorithm its JWTs carry.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The `kid` its JWTs carry.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// A JWT of `claims` under `header` (whose algorithm must be this key's).
    pub fn sign<T: Serialize>(
        &self,
        header: Header,
        claims: &T,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&header, claims, &self.key)
    }

    /// A header for this key: its algorithm and `kid`.
    pub fn header(&self) -> Header {
        let mut header = Header::new(self.algorithm);
        header.kid = self.key_id.clone();
        header
    }
}

fn from_pem(text: &str) -> Result<(Algorithm, EncodingKey, Option<String>), KeyError> {
    if text.contains("ENCRYPTED PRIVATE KEY") {
        return Err(unusable(
            "the private key is encrypted: okwatch reads unencrypted keys (decrypt it with \
             `openssl pkcs8 -in KEY -out KEY.pem`, and keep that file readable only by okwatch)",
        ));
    }
    if text.contains("BEGIN EC PRIVATE KEY") {
        return Err(unusable(
            "the EC key is in SEC1 form: convert it to PKCS#8 with \
             `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pem`",
        ));
    }
    if text.contains("PUBLIC KEY-----") || text.contains("CERTIFICATE-----") {
        return Err(unusable(
            "the file holds a public key or a certificate: okwatch signs with the app's \
             private key (-----BEGIN PRIVATE KEY-----)",
        ));
    }
    if !text.starts_with("-----BEGIN") {
        return Err(unusable(
            "the file is neither a PEM private key (-----BEGIN PRIVATE KEY-----) nor a JWK",
        ));
    }
    if let Ok(key) = EncodingKey::from_rsa_pem(text.as_bytes()) {
        return Ok((Algorithm::RS256, key, None));
    }
    if let Ok(key) = EncodingKey::from_ec_pem(text.as_bytes()) {
        return Ok((Algorithm::ES256, key, None));
    }
    Err(unusable(
        "the PEM file holds no RSA or EC private key (a public key or a certificate will not do)",
    ))
}

fn from_jwk(text: &str) -> Result<(Algorithm, EncodingKey, Option<String>), KeyError> {
    let mut jwk: Value =
        serde_json::from_str(text).map_err(|e| unusable(format!("the JWK is not JSON: {e}")))?;
    // Okta's console offers a key set too; one key in it is unambiguous.
    if let Some(keys) = jwk.get("keys").and_then(Value::as_array) {
        match keys.as_slice() {
            [one] => jwk = one.clone(),
            _ => {
                return Err(unusable(format!(
                    "the file is a key set with {} keys: keep only the one registered for okwatch",
                    keys.len()
                )))
            }
        }
    }
    let member = |name: &str| -> Result<Vec<u8>, KeyError> {
        let text = jwk[name].as_str().ok_or_else(|| {
            unusable(format!(
                "the JWK has no `{name}`: it must be the private key (with `d`), not the public one"
            ))
        })?;
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|e| unusable(format!("the JWK's `{name}` is not base64url: {e}")))
    };
    let kid = jwk["kid"].as_str().map(str::to_string);
    match jwk["kty"].as_str() {
        Some("RSA") => {
            let mut parts = Vec::new();
            for name in ["n", "e", "d", "p", "q", "dp", "dq", "qi"] {
                parts.push(member(name)?);
            }
            Ok((
                Algorithm::RS256,
                EncodingKey::from_rsa_der(&der::rsa_private_key(&parts)),
                kid,
            ))
        }
        Some("EC") => {
            if jwk["crv"].as_str() != Some("P-256") {
                return Err(unusable(format!(
                    "the JWK's curve is {}: okwatch signs ES256, on P-256",
                    jwk["crv"]
                )));
            }
            let (d, x, y) = (member("d")?, member("x")?, member("y")?);
            if d.len() != 32 || x.len() != 32 || y.len() != 32 {
                return Err(unusable("the JWK's P-256 members are not 32 bytes each"));
            }
            Ok((
                Algorithm::ES256,
                EncodingKey::from_ec_der(&der::p256_pkcs8(&d, &x, &y)),
                kid,
            ))
        }
        other => Err(unusable(format!(
            "the JWK's key type is {}: okwatch signs with RSA or EC keys",
            other.unwrap_or("missing")
        ))),
    }
}

/// A P-256 key made at start for DPoP proofs. It lives only in memory, like the tokens bound
/// to it: after a restart okwatch asks for a new token with a new key.
pub struct DpopKey {
    key: EncodingKey,
    public: Jwk,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DpopKey(ES256)")
    }
}

impl DpopKey {
    /// A new random key.
    pub fn generate() -> Result<DpopKey, KeyError> {
        use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| unusable("no randomness for a DPoP key"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| unusable("a fresh DPoP key did not load"))?;
        let public = p256_public_jwk(pair.public_key().as_ref())
            .ok_or_else(|| unusable("a fresh DPoP key has no uncompressed public point"))?;
        Ok(DpopKey {
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            public,
        })
    }

    /// The public half, as proofs carry it.
    pub fn public_jwk(&self) -> &Jwk {
        &self.public
    }

    /// A proof JWT of `claims`.
    pub fn prove<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(okwatch_okta::oauth::DPOP_TYP.into());
        header.jwk = Some(self.public.clone());
        jsonwebtoken::encode(&header, claims, &self.key)
    }
}

/// The public JWK of a P-256 key from its uncompressed point (`04 || x || y`).
pub fn p256_public_jwk(point: &[u8]) -> Option<Jwk> {
    if point.len() != 65 || point[0] != 4 {
        return None;
    }
    Some(Jwk {
        common: CommonParameters::default(),
        algorithm: AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
            curve: EllipticCurve::P256,
            x: URL_SAFE_NO_PAD.encode(&point[1..33]),
            y: URL_SAFE_NO_PAD.encode(&point[33..]),
            ..EllipticCurveKeyParameters::default()
        }),
    })
}

/// Just enough DER to hand a JWK's private key to the signer, which reads PKCS#1 for RSA and
/// PKCS#8 for EC.
mod der {
    fn length(out: &mut Vec<u8>, len: usize) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes: Vec<u8> = len
                .to_be_bytes()
                .into_iter()
                .skip_while(|&b| b == 0)
                .collect();
            out.push(0x80 | bytes.len() as u8);
            out.extend(bytes);
        }
    }

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        length(&mut out, content.len());
        out.extend_from_slice(content);
        out
    }

    /// An unsigned big-endian number as a DER INTEGER: no superfluous leading zeros, and one
    /// zero in front when the top bit is set (else it would read as negative).
    fn unsigned(value: &[u8]) -> Vec<u8> {
        let start = value
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(value.len().saturating_sub(1));
        let trimmed = &value[start.min(value.len())..];
        let mut content = Vec::with_capacity(trimmed.len() + 1);
        if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
            content.push(0);
        }
        content.extend_from_slice(trimmed);
        tlv(0x02, &content)
    }

    /// PKCS#1 `RSAPrivateKey` from n, e, d, p, q, dp, dq, qi.
    pub fn rsa_private_key(parts: &[Vec<u8>]) -> Vec<u8> {
        let mut content = unsigned(&[0]);
        for part in parts {
            content.extend(unsigned(part));
        }
        tlv(0x30, &content)
    }

    /// PKCS#8 of a P-256 key with its public point, in the form ring writes and reads.
    pub fn p256_pkcs8(d: &[u8], x: &[u8], y: &[u8]) -> Vec<u8> {
        const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
        const PRIME256V1: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
        let mut point = vec![0x00, 0x04];
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        let mut ec_private = unsigned(&[1]);
        ec_private.extend(tlv(0x04, d));
        ec_private.extend(tlv(0xa1, &tlv(0x03, &point)));
        let mut content = unsigned(&[0]);
        content.extend(tlv(0x30, &[EC_PUBLIC_KEY, PRIME256V1].concat()));
        content.extend(tlv(0x04, &tlv(0x30, &ec_private)));
        tlv(0x30, &content)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn integers_are_minimal_and_never_negative() {
            assert_eq!(unsigned(&[0]), [2, 1, 0]);
            assert_eq!(unsigned(&[0, 0, 5]), [2, 1, 5]);
            assert_eq!(unsigned(&[0x80]), [2, 2, 0, 0x80]);
            assert_eq!(unsigned(&[1, 0, 1]), [2, 3, 1, 0, 1]);
            let long = tlv(0x04, &[7; 300]);
            assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

    #[test]
    fn a_p256_jwk_becomes_the_same_pkcs8_ring_makes() {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let bytes = pkcs8.as_ref();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, bytes, &rng).unwrap();
        let point = pair.public_key().as_ref();
        // ring's layout: the 32-byte private scalar follows the `04 20` of its OCTET STRING.
        let at = bytes
            .windows(2)
            .position(|w| w == [0x04, 0x20])
            .expect("the scalar")
            + 2;
        let d = &bytes[at..at + 32];
        assert_eq!(der::p256_pkcs8(d, &point[1..33], &point[33..]), bytes);

        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "kid": "k1",
            "d": URL_SAFE_NO_PAD.encode(d),
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        });
        let key = SigningKey::from_text(&jwk.to_string(), None).unwrap();
        assert_eq!(
            (key.algorithm(), key.key_id()),
            (Algorithm::ES256, Some("k1"))
        );
    }

    #[test]
    fn an_rsa_key_reads_the_same_from_pem_and_from_jwk() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let pem = SigningKey::from_file(&fixtures.join("rsa-test-key.pem"), Some("k")).unwrap();
        let jwk = SigningKey::from_file(&fixtures.join("rsa-test-key.jwk"), None).unwrap();
        assert_eq!(pem.algorithm(), Algorithm::RS256);
        assert_eq!(jwk.key_id(), Some("okwatch-test-rsa"), "the JWK's own kid");
        // RS256 signatures are deterministic: the same key signs the same bytes alike.
        let claims = serde_json::json!({"iss": "0oa1", "exp": 1});
        let header = Header::new(Algorithm::RS256);
        assert_eq!(
            pem.sign(header.clone(), &claims).unwrap(),
            jwk.sign(header, &claims).unwrap()
        );
        assert!(!format!("{pem:?}").contains("MII"));
    }

    #[test]
    fn unusable_keys_are_refused_with_the_way_out() {
        let cases = [
            ("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----", "encrypted"),
            ("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----", "openssl pkcs8 -topk8"),
            ("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----", "public key"),
            ("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHOeXbOWN1c6zd02H8bvTNb0HSxLt0ceVrKN9fz8Qagd\n-----END PRIVATE KEY-----", "no RSA or EC private key"),
            (r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#, "has no `d`"),
            (r#"{"kty":"EC","crv":"P-384","d":"AA","x":"AA","y":"AA"}"#, "P-384"),
            (r#"{"keys":[{"kty":"EC"},{"kty":"EC"}]}"#, "2 keys"),
            ("ssws-token-pasted-by-mistake", "neither a PEM"),
        ];
        for (text, expected) in cases {
            let error = SigningKey::from_text(text, None).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn dpop_proofs_carry_the_public_key_and_verify_with_it() {
        let key = DpopKey::generate().unwrap();
        let proof = key
            .prove(&serde_json::json!({"htm": "GET", "htu": "https://a/b", "iat": 1, "jti": "j"}))
            .unwrap();
        let header = jsonwebtoken::decode_header(&proof).unwrap();
        assert_eq!(header.typ.as_deref(), Some("dpop+jwt"));
        let jwk = header.jwk.expect("the public key");
        assert_eq!(&jwk, key.public_jwk());
        let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let decoded = jsonwebtoken::decode::<Value>(
            &proof,
            &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.claims["htu"], "https://a/b");
        assert!(!format!("{key:?}").contains(&proof));
    }
}
