//! Who is signed in: users and their roles, argon2id password hashes, sessions (an HttpOnly,
//! SameSite=Strict cookie naming a server-side session that expires), a CSRF token per
//! session for every form that changes something, and a brake on password guessing.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use okwatch_okta::auth::digest;
use okwatch_store::{Accounts, StoreError, UserRecord};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a user may do; each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also saves searches.
    Analyst,
    /// Also manages users, tokens and orgs.
    Admin,
}

impl Role {
    /// The role named `text`.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "viewer" => Some(Role::Viewer),
            "analyst" => Some(Role::Analyst),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Admin => "admin",
        }
    }
}

/// Why a user could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed (no randomness for the salt).
    #[error("hashing the password: {0}")]
    Hash(String),
    /// The name or password is not acceptable.
    #[error("{0}")]
    Invalid(String),
}

/// An argon2id hash of `password` in PHC form, with a new random salt.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hash(e.to_string()))
}

/// Whether `password` is the one `hash` was made from.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Creates (or replaces) a user.
pub fn set_user(
    accounts: &dyn Accounts,
    name: &str,
    role: Role,
    password: &str,
) -> Result<UserRecord, AccountError> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(AccountError::Invalid(format!(
            "user name `{name}`: letters, digits and . _ - @ only"
        )));
    }
    if password.chars().count() < 12 {
        return Err(AccountError::Invalid(
            "a password needs at least 12 characters".into(),
        ));
    }
    let user = UserRecord {
        name: name.to_string(),
        role: role.as_str().to_string(),
        password_hash: hash_password(password)?,
        created: okwatch_model::format_timestamp(chrono::Utc::now()),
    };
    accounts.put_user(&user)?;
    Ok(user)
}

/// The first run's administrator: `admin` with `password` when given, else with a generated
/// password, which is returned so that it can be shown once. Nothing when users exist.
pub fn ensure_admin(
    accounts: &dyn Accounts,
    password: Option<&str>,
) -> Result<Option<String>, AccountError> {
    if !accounts.users()?.is_empty() {
        return Ok(None);
    }
    let password = match password {
        Some(p) => p.to_string(),
        None => okwatch_okta::random::base62(20),
    };
    set_user(accounts, "admin", Role::Admin, &password)?;
    Ok(Some(password))
}

/// A signed-in user, as handlers see it.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The user's name.
    pub name: String,
    /// The user's role.
    pub role: Role,
    /// The token this session's forms must carry.
    pub csrf: String,
}

struct Session {
    user: String,
    role: Role,
    csrf: String,
    expires: Instant,
}

/// How long a session lasts without being used.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 3600);

/// Sessions, kept in memory under the SHA-256 of their cookie (a restart signs everyone out).
#[derive(Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session; returns the cookie value.
    pub fn start(&self, user: &str, role: Role) -> String {
        let id = okwatch_okta::random::base62(40);
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(
            digest(&id),
            Session {
                user: user.to_string(),
                role,
                csrf: okwatch_okta::random::base62(32),
                expires: now + SESSION_IDLE,
            },
        );
        id
    }

    /// The user of a live session, which is extended.
    pub fn find(&self, id: &str) -> Option<SignedIn> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let key = digest(id);
        let now = Instant::now();
        let session = sessions.get_mut(&key)?;
        if session.expires <= now {
            sessions.remove(&key);
            return None;
        }
        session.expires = now + SESSION_IDLE;
        Some(SignedIn {
            name: session.user.clone(),
            role: session.role,
            csrf: session.csrf.clone(),
        })
    }

    /// Ends a session.
    pub fn end(&self, id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&digest(id));
    }

    /// Ends every session of `user` (removed, or given a new role or password).
    pub fn end_all_of(&self, user: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, s| s.user != user);
    }
}

/// Failed sign-ins per user name and per client address: after [`Throttle::LIMIT`] failures
/// within [`Throttle::WINDOW`], further attempts are refused until the window has passed.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Throttle {
    /// Failures allowed per window.
    pub const LIMIT: usize = 5;
    /// The window.
    pub const WINDOW: Duration = Duration::from_secs(300);

    /// Whether any of `keys` has used up its failures.
    pub fn blocked(&self, keys: &[&str]) -> bool {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        keys.iter().any(|key| {
            failures.get_mut(*key).is_some_and(|times| {
                times.retain(|t| now.duration_since(*t) < Self::WINDOW);
                times.len() >= Self::LIMIT
            })
        })
    }

    /// Records a failure for each of `keys`.
    pub fn failed(&self, keys: &[&str]) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            failures
                .entry(key.to_string())
                .or_default()
                .push(Instant::now());
        }
    }
}

/// Constant-time comparison of a presented CSRF token with the session's.
pub fn csrf_matches(expected: &str, presented: &str) -> bool {
    let (a, b) = (expected.as_bytes(), presented.as_bytes());
    let mut difference = a.len() ^ b.len();
    for (i, &byte) in a.iter().enumerate() {
        difference |= usize::from(byte ^ b.get(i).copied().unwrap_or(!byte));
    }
    // An empty expected token (an API caller has no session) matches nothing.
    difference == 0 && !a.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse batterz"));
        assert!(!verify_password("not a hash", "correct horse battery"));
        assert_ne!(
            hash,
            hash_password("correct horse battery").unwrap(),
            "salted"
        );
    }

    #[test]
    fn sessions_end_and_are_kept_only_as_digests() {
        let sessions = Sessions::default();
        let id = sessions.start("ana", Role::Analyst);
        let signed_in = sessions.find(&id).unwrap();
        assert_eq!(
            (signed_in.name.as_str(), signed_in.role),
            ("ana", Role::Analyst)
        );
        assert!(sessions.find("forged").is_none());
        assert!(
            !sessions.sessions.lock().unwrap().contains_key(&id),
            "the cookie itself is not kept"
        );
        sessions.end(&id);
        assert!(sessions.find(&id).is_none());
        let again = sessions.start("ana", Role::Analyst);
        sessions.end_all_of("ana");
        assert!(sessions.find(&again).is_none());
    }

    #[test]
    fn guessing_is_stopped_per_name_and_per_address() {
        let throttle = Throttle::default();
        for _ in 0..Throttle::LIMIT {
            assert!(!throttle.blocked(&["user:admin", "ip:10.0.0.1"]));
            throttle.failed(&["user:admin", "ip:10.0.0.1"]);
        }
        assert!(throttle.blocked(&["user:admin", "ip:10.0.0.2"]));
        assert!(throttle.blocked(&["user:bob", "ip:10.0.0.1"]));
        assert!(!throttle.blocked(&["user:bob", "ip:10.0.0.2"]));
    }

    #[test]
    fn roles_order_and_names() {
        assert!(Role::Admin > Role::Analyst && Role::Analyst > Role::Viewer);
        for role in [Role::Viewer, Role::Analyst, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(
            csrf_matches("abc", "abc") && !csrf_matches("abc", "abd") && !csrf_matches("abc", "")
        );
    }
}
