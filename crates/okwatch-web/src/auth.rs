//! Who is signed in: users and their roles, argon2id password hashes, sessions (an HttpOnly,
//! SameSite=Strict cookie naming a server-side session that expires), a CSRF token per
//! session for every form that changes something, and a brake on password guessing.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use okwatch_okta::auth::digest;
use okwatch_store::{Accounts, StoreError, UserRecord};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
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
    /// How the caller proved who they are.
    pub via: Via,
}

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A console session (its changes carry the session's CSRF token).
    Session,
    /// A user's own API token.
    UserToken,
    /// A token of the data directory (`okwatch token create`).
    ServerToken,
    /// The server's own credential, which other okwatch commands on this machine use.
    Local,
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
            via: Via::Session,
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

/// A brake on password guessing. Attempts are counted when they start, before any hashing, per
/// (name, address) and per address, so that parallel guesses cannot slip past the count and a
/// guesser elsewhere cannot lock a user out: each pair has [`Throttle::PAIR_LIMIT`] failures per
/// [`Throttle::WINDOW`], each address [`Throttle::ADDRESS_LIMIT`] over all names. An attempt in
/// flight counts as a failure until it is known not to be one.
#[derive(Default)]
pub struct Throttle {
    keys: Mutex<HashMap<String, Tally>>,
}

#[derive(Default)]
struct Tally {
    failures: Vec<Instant>,
    in_flight: usize,
}

impl Tally {
    fn used(&mut self, now: Instant) -> usize {
        self.failures
            .retain(|t| now.duration_since(*t) < Throttle::WINDOW);
        self.failures.len() + self.in_flight
    }
}

/// The most of a submitted name that is kept (in the brake's keys and in logs).
pub const NAME_KEPT: usize = 100;

/// `name` cut to what okwatch keeps of it.
pub fn kept_name(name: &str) -> &str {
    match name.char_indices().nth(NAME_KEPT) {
        Some((at, _)) => &name[..at],
        None => name,
    }
}

impl Throttle {
    /// Failures (and attempts in flight) per name from one address, per window.
    pub const PAIR_LIMIT: usize = 5;
    /// Failures (and attempts in flight) per address over all names, per window.
    pub const ADDRESS_LIMIT: usize = 20;
    /// The window.
    pub const WINDOW: Duration = Duration::from_secs(300);
    /// Past this many keys, the ones with nothing recent are forgotten.
    const PRUNE_AT: usize = 10_000;

    fn keys_of(name: &str, address: &str) -> [(String, usize); 2] {
        [
            (
                format!("pair:{address}\u{0}{}", kept_name(name)),
                Self::PAIR_LIMIT,
            ),
            (format!("ip:{address}"), Self::ADDRESS_LIMIT),
        ]
    }

    /// Starts an attempt for `name` from `address`; `None` when either has used its allowance.
    pub fn begin(self: &Arc<Self>, name: &str, address: &str) -> Option<Attempt> {
        let keys = Self::keys_of(name, address);
        let mut tallies = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if tallies.len() > Self::PRUNE_AT {
            tallies.retain(|_, t| t.used(now) > 0);
        }
        let full = keys.iter().any(|(key, limit)| {
            tallies
                .get_mut(key)
                .is_some_and(|tally| tally.used(now) >= *limit)
        });
        if full {
            return None;
        }
        for (key, _) in &keys {
            tallies.entry(key.clone()).or_default().in_flight += 1;
        }
        Some(Attempt {
            throttle: self.clone(),
            keys: keys.map(|(key, _)| key),
            failed: false,
        })
    }

    fn settle(&self, keys: &[String; 2], failed: bool) {
        let mut tallies = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        for key in keys {
            let tally = tallies.entry(key.clone()).or_default();
            tally.in_flight = tally.in_flight.saturating_sub(1);
            if failed {
                tally.failures.push(Instant::now());
            }
        }
    }
}

/// One sign-in attempt in flight. It counts against its keys until dropped; [`Attempt::failed`]
/// turns it into a failure that counts for the whole window.
pub struct Attempt {
    throttle: Arc<Throttle>,
    keys: [String; 2],
    failed: bool,
}

impl Attempt {
    /// The password was wrong.
    pub fn failed(mut self) {
        self.failed = true;
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        self.throttle.settle(&self.keys, self.failed);
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
    fn guessing_is_stopped_per_name_and_address_and_per_address() {
        let throttle = Arc::new(Throttle::default());
        for _ in 0..Throttle::PAIR_LIMIT {
            throttle.begin("admin", "10.0.0.1").unwrap().failed();
        }
        assert!(throttle.begin("admin", "10.0.0.1").is_none());
        // Elsewhere, the same user still signs in: a guesser cannot lock them out.
        assert!(throttle.begin("admin", "10.0.0.2").is_some());
        // One address guessing many names is stopped too.
        for i in 0..Throttle::ADDRESS_LIMIT - Throttle::PAIR_LIMIT {
            throttle
                .begin(&format!("u{i}"), "10.0.0.1")
                .unwrap()
                .failed();
        }
        assert!(throttle.begin("bob", "10.0.0.1").is_none());
        assert!(throttle.begin("bob", "10.0.0.3").is_some());
    }

    #[test]
    fn attempts_in_flight_count_before_they_are_checked() {
        let throttle = Arc::new(Throttle::default());
        let in_flight: Vec<Attempt> = (0..Throttle::PAIR_LIMIT)
            .map(|_| throttle.begin("admin", "10.0.0.9").unwrap())
            .collect();
        assert!(
            throttle.begin("admin", "10.0.0.9").is_none(),
            "a sixth parallel guess waits for none of the five to fail"
        );
        drop(in_flight); // all five were right (or could not be checked): nothing counts
        assert!(throttle.begin("admin", "10.0.0.9").is_some());
        assert_eq!(kept_name(&"x".repeat(60_000)).len(), NAME_KEPT);
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
