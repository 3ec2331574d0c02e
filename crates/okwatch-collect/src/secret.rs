//! Credentials in memory: a type that never prints what it holds.

use std::fmt;

/// An API token, client secret or hook secret. `Debug` and `Display` print `***`, so a secret
/// can sit in any struct that is logged, printed or put in an error message without leaking.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The credential itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is this secret, in time that does not depend on where they differ
    /// (a receiver that compared byte by byte and stopped early would tell an attacker how
    /// much of a guess was right).
    pub fn matches(&self, presented: &[u8]) -> bool {
        let expected = self.0.as_bytes();
        let mut difference = expected.len() ^ presented.len();
        for (i, &byte) in expected.iter().enumerate() {
            difference |= usize::from(byte ^ presented.get(i).copied().unwrap_or(!byte));
        }
        difference == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let secret = Secret::new("00abcDEF-real-token");
        #[derive(Debug)]
        #[allow(dead_code)] // read only through Debug
        struct Holder {
            token: Secret,
        }
        let shown = format!(
            "{secret} {secret:?} {:?} {:#?}",
            Holder {
                token: secret.clone()
            },
            Some(&secret)
        );
        assert!(!shown.contains("real-token"), "{shown}");
        assert!(shown.contains("***"));
        assert_eq!(secret.expose(), "00abcDEF-real-token");
    }

    #[test]
    fn matching_needs_the_whole_secret() {
        let secret = Secret::new("hook-secret");
        assert!(secret.matches(b"hook-secret"));
        for wrong in [
            &b""[..],
            b"hook-secre",
            b"hook-secret!",
            b"Hook-secret",
            b"xxxx-secret",
        ] {
            assert!(!secret.matches(wrong), "{}", String::from_utf8_lossy(wrong));
        }
    }
}
