//! API tokens: created by `okwatch token create`, shown once, kept only as SHA-256 hashes.
//!
//! Tokens live in a small JSON file in the data directory, written atomically (temp file and
//! rename) with owner-only permissions. A running server notices a changed file, so a token
//! created or revoked while it runs takes effect at the next request.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// What okwatch keeps about a token: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Stable id, for revoking.
    pub id: String,
    /// What the person who made it called it.
    pub name: String,
    /// The token's first characters, to recognise it in a list.
    pub prefix: String,
    /// Hex SHA-256 of the token.
    pub sha256: String,
    /// When it was made (ISO 8601).
    pub created: String,
}

/// Why the token file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Reading or writing the file failed.
    #[error("{path}: {error}")]
    Io {
        /// The token file.
        path: PathBuf,
        /// What failed.
        #[source]
        error: std::io::Error,
    },
    /// The file is not a token list.
    #[error("{path} is not an okwatch token file: {error}")]
    Corrupt {
        /// The token file.
        path: PathBuf,
        /// The parse error.
        #[source]
        error: serde_json::Error,
    },
}

#[derive(Default)]
struct Cache {
    /// The file's modification time, size and inode when it was read.
    stamp: Option<(SystemTime, u64, u64)>,
    tokens: Vec<TokenInfo>,
}

/// How recent a modification must be for the cache not to trust the file's stamp: two writes
/// within the file system's timestamp granularity can leave the same modification time (and a
/// revocation can keep the size of a list), so a file changed this recently is read again.
const STAMP_GRANULARITY: std::time::Duration = std::time::Duration::from_secs(2);

/// The token file and a cache of it.
pub struct TokenStore {
    path: PathBuf,
    cache: Mutex<Cache>,
}

/// Hex SHA-256 of a presented token.
/// Hex SHA-256 of a secret: what okwatch keeps of API tokens and session ids.
pub fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new API token: the token itself, its first characters (to recognise it in a list) and
/// its hash (all that is kept).
pub fn new_token() -> (String, String, String) {
    let secret = format!("okw_{}", crate::random::base62(40));
    let prefix = secret[..8].to_string();
    let sha256 = digest(&secret);
    (secret, prefix, sha256)
}

/// The token in an `Authorization` header: `SSWS <token>` (also `SSWS<token>`, which Okta's
/// Python SDK sends) or `Bearer <token>`.
pub fn token_from_header(value: &str) -> Option<&str> {
    let value = value.trim();
    let rest = if value.len() >= 4 && value[..4].eq_ignore_ascii_case("ssws") {
        &value[4..]
    } else if value.len() >= 7 && value[..7].eq_ignore_ascii_case("bearer ") {
        &value[7..]
    } else {
        return None;
    };
    let token = rest.trim();
    (!token.is_empty()).then_some(token)
}

impl TokenStore {
    /// The token file at `path` (created at the first `create`).
    pub fn new(path: impl Into<PathBuf>) -> TokenStore {
        TokenStore {
            path: path.into(),
            cache: Mutex::new(Cache::default()),
        }
    }

    /// Where the tokens are kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self) -> impl FnOnce(std::io::Error) -> TokenError + '_ {
        |error| TokenError::Io {
            path: self.path.clone(),
            error,
        }
    }

    fn read(&self) -> Result<Vec<TokenInfo>, TokenError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| TokenError::Corrupt {
                path: self.path.clone(),
                error,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(self.io()(e)),
        }
    }

    fn write(&self, tokens: &[TokenInfo]) -> Result<(), TokenError> {
        use std::io::Write;
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        std::fs::create_dir_all(dir).map_err(self.io())?;
        let text = serde_json::to_vec_pretty(tokens).expect("tokens serialize");
        // A temporary file (created owner-only) renamed over the old one: readers see the
        // old list or the new one, never half of either.
        let mut file = tempfile::NamedTempFile::new_in(dir).map_err(self.io())?;
        file.write_all(&text).map_err(self.io())?;
        file.as_file().sync_all().map_err(self.io())?;
        file.persist(&self.path)
            .map(|_| ())
            .map_err(|e| self.io()(e.error))
    }

    /// Makes a token called `name`; returns what is kept and the token, which exists nowhere
    /// else from then on.
    pub fn create(&self, name: &str) -> Result<(TokenInfo, String), TokenError> {
        let (secret, prefix, sha256) = new_token();
        let info = TokenInfo {
            id: format!("tok{}", crate::random::base62(12)),
            name: name.to_string(),
            prefix,
            sha256,
            created: okwatch_model::format_timestamp(chrono::Utc::now()),
        };
        let mut tokens = self.read()?;
        tokens.push(info.clone());
        self.write(&tokens)?;
        Ok((info, secret))
    }

    /// Every token, oldest first.
    pub fn list(&self) -> Result<Vec<TokenInfo>, TokenError> {
        self.read()
    }

    /// Removes the token with this id or name; whether there was one.
    pub fn revoke(&self, id_or_name: &str) -> Result<bool, TokenError> {
        let mut tokens = self.read()?;
        let before = tokens.len();
        tokens.retain(|t| t.id != id_or_name && t.name != id_or_name);
        if tokens.len() == before {
            return Ok(false);
        }
        self.write(&tokens)?;
        Ok(true)
    }

    /// The token a request presented, if it is a current one. Re-reads the file when it has
    /// changed since the last look.
    pub fn verify(&self, presented: &str) -> Option<TokenInfo> {
        use std::os::unix::fs::MetadataExt;
        let stamp = std::fs::metadata(&self.path)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len(), m.ino())));
        let recent = stamp.is_none_or(|(modified, _, _)| {
            SystemTime::now()
                .duration_since(modified)
                .map_or(true, |age| age < STAMP_GRANULARITY)
        });
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.stamp != stamp || recent {
            match self.read() {
                Ok(tokens) => {
                    cache.tokens = tokens;
                    cache.stamp = stamp;
                }
                Err(e) => {
                    tracing::error!("cannot read API tokens: {e}");
                    return None;
                }
            }
        }
        let wanted = digest(presented);
        cache.tokens.iter().find(|t| t.sha256 == wanted).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_is_seen_at_once_however_fast_it_follows() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path().join("tokens.json"));
        let other = TokenStore::new(store.path());
        for round in 0..50 {
            let (_, secret) = store.create(&format!("t{round}")).unwrap();
            assert!(store.verify(&secret).is_some());
            assert!(other.revoke(&format!("t{round}")).unwrap());
            assert!(store.verify(&secret).is_none(), "round {round}");
        }
    }

    #[test]
    fn header_forms_that_clients_send() {
        assert_eq!(token_from_header("SSWS abc"), Some("abc"));
        assert_eq!(token_from_header("SSWSabc"), Some("abc"));
        assert_eq!(token_from_header("ssws  abc "), Some("abc"));
        assert_eq!(token_from_header("Bearer abc"), Some("abc"));
        assert_eq!(token_from_header("Basic abc"), None);
        assert_eq!(token_from_header("SSWS "), None);
    }

    #[test]
    fn created_tokens_verify_until_revoked_and_only_hashes_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path().join("tokens.json"));
        let (info, secret) = store.create("splunk").unwrap();
        assert_eq!(store.verify(&secret).map(|t| t.id), Some(info.id.clone()));
        assert!(store.verify("okw_not-a-token").is_none());
        let file = std::fs::read_to_string(store.path()).unwrap();
        assert!(!file.contains(&secret), "the token itself is never written");

        // A second handle (another process) sees the new token and the revocation.
        let other = TokenStore::new(store.path());
        let (_, second) = other.create("grafana").unwrap();
        assert!(store.verify(&second).is_some());
        assert!(other.revoke("splunk").unwrap());
        // At the very next request, even within the same clock tick as the write.
        assert!(store.verify(&secret).is_none());
        assert!(!other.revoke("splunk").unwrap());
    }
}
