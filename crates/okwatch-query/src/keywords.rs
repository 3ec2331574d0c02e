//! `q`: Okta's free-text keyword search.
//!
//! Every keyword must match (AND). A keyword matches an event when some string value anywhere
//! in it (not a member name) contains the keyword, compared case-insensitively, with a token
//! boundary on each side. Boundaries are the start or end of the value, whitespace, or a hyphen:
//! Okta documents that `XOxBw-2JIRnCFd0gG0GjHAAABjY` matches `XOxBw`, the part after the hyphen,
//! and the whole value. So `102.89.34.17` finds that IP but not `102.89.34.170`, and
//! `francisco` finds `San Francisco`. Numbers and booleans are not searched.

use crate::parser::{FilterError, FilterErrorKind};
use serde_json::Value;

/// Most keywords Okta accepts in one `q`.
pub const MAX_KEYWORDS: usize = 10;
/// Longest keyword Okta accepts, in characters.
pub const MAX_KEYWORD_CHARS: usize = 40;

/// The parsed keywords of a `q`, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keywords(Vec<String>);

impl Keywords {
    /// Splits `q` on whitespace and checks Okta's limits.
    pub fn parse(q: &str) -> Result<Keywords, FilterError> {
        let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
        if words.len() > MAX_KEYWORDS {
            return Err(FilterError {
                position: 0,
                message: format!(
                    "Freeform search cannot contain more than {MAX_KEYWORDS} items; found {}",
                    words.len()
                ),
                kind: FilterErrorKind::Keywords,
            });
        }
        if let Some(long) = words.iter().find(|w| w.chars().count() > MAX_KEYWORD_CHARS) {
            return Err(FilterError {
                position: q.to_lowercase().find(long.as_str()).map_or(0, |b| q[..b].chars().count()),
                message: "Freeform search cannot contain items longer than 40 characters. Please shorten the items in your search or use an advanced filter to query by specific fields.".into(),
                kind: FilterErrorKind::Keywords,
            });
        }
        Ok(Keywords(words))
    }

    /// The lower-cased keywords.
    pub fn words(&self) -> &[String] {
        &self.0
    }

    /// True when there is nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Hashes (see [`token_hashes`]) of the tokens every matching event must contain: each
    /// hyphen-separated part of each keyword. A keyword can only match at token boundaries and
    /// holds no whitespace, so each of its parts is a whole token of the value it matched in.
    /// Sorted and deduplicated; empty when the keywords require nothing (`q=-`).
    pub fn required_tokens(&self) -> Vec<u32> {
        let mut hashes: Vec<u32> = self.0.iter().flat_map(|word| word_tokens(word)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        hashes
    }

    /// Whether every keyword matches some string value of `event`.
    pub fn matches(&self, event: &Value) -> bool {
        self.0
            .iter()
            .all(|word| any_string(event, &mut |s| token_match(&s.to_lowercase(), word)))
    }
}

/// Hashes of the tokens one keyword requires: its hyphen-separated parts, sorted and
/// deduplicated (none for a keyword of hyphens only).
pub fn word_tokens(word: &str) -> Vec<u32> {
    let mut hashes: Vec<u32> = word
        .split('-')
        .filter(|part| !part.is_empty())
        .map(|part| token_hash(part.as_bytes()))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

fn any_string(value: &Value, test: &mut dyn FnMut(&str) -> bool) -> bool {
    match value {
        Value::String(s) => test(s),
        Value::Array(items) => items.iter().any(|v| any_string(v, test)),
        Value::Object(map) => map.values().any(|v| any_string(v, test)),
        _ => false,
    }
}

/// Characters that end a token in `q` matching.
pub const TOKEN_BOUNDARIES: [char; 5] = [' ', '\t', '\n', '\r', '-'];

/// Hashes of every token of every string value of `event`, sorted and deduplicated: what a
/// keyword index stores per event. A token is a maximal run between [`TOKEN_BOUNDARIES`] of the
/// lower-cased value, the same split [`token_match`] uses, so an event that `q` matches
/// contains all of [`Keywords::required_tokens`]. The hash is part of the stored format: it
/// must never change.
pub fn token_hashes(event: &Value) -> Vec<u32> {
    let mut tokens = Vec::new();
    push_tokens(event, &mut tokens);
    let mut hashes: Vec<u32> = tokens.iter().map(|t| t.hash).collect();
    hashes.sort_unstable();
    hashes.dedup();
    hashes
}

/// One token of a string value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Token {
    /// The stored hash (FNV-1a 32 of the lower-cased token; see [`token_hashes`]).
    pub hash: u32,
    /// A 64-bit hash of the same bytes (FNV-1a 64), to tell apart tokens whose stored `hash`
    /// collides (about one pair in four billion); its high bits are the best mixed.
    pub identity: u64,
}

/// Appends the tokens of every string value of `value` (not deduplicated).
pub fn push_tokens(value: &Value, out: &mut Vec<Token>) {
    match value {
        Value::String(s) => push_text_tokens(s, out),
        Value::Array(items) => items.iter().for_each(|v| push_tokens(v, out)),
        Value::Object(map) => map.values().for_each(|v| push_tokens(v, out)),
        _ => {}
    }
}

/// Appends the tokens of one string value (not deduplicated).
pub fn push_text_tokens(text: &str, out: &mut Vec<Token>) {
    if text.is_ascii() {
        hash_tokens(text.as_bytes(), out);
    } else {
        hash_tokens(text.to_lowercase().as_bytes(), out);
    }
}

/// Hashes the tokens of `text`, lower-casing ASCII letters on the way (the caller lower-cases
/// anything else first). Every boundary character is ASCII, so splitting bytes is exact.
fn hash_tokens(text: &[u8], out: &mut Vec<Token>) {
    let (mut hash, mut identity, mut len) = (FNV_OFFSET, FNV64_OFFSET, 0);
    for &byte in text {
        if matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | b'-') {
            if len > 0 {
                out.push(Token { hash, identity });
            }
            (hash, identity, len) = (FNV_OFFSET, FNV64_OFFSET, 0);
        } else {
            let lower = byte.to_ascii_lowercase();
            hash = (hash ^ u32::from(lower)).wrapping_mul(FNV_PRIME);
            identity = (identity ^ u64::from(lower)).wrapping_mul(FNV64_PRIME);
            len += 1;
        }
    }
    if len > 0 {
        out.push(Token { hash, identity });
    }
}

const FNV64_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV64_PRIME: u64 = 0x0000_0100_0000_01b3;
const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// 32-bit FNV-1a of a lower-cased token: stable across builds and platforms, and a collision
/// only costs reading a few more rows.
fn token_hash(token: &[u8]) -> u32 {
    token.iter().fold(FNV_OFFSET, |hash, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(FNV_PRIME)
    })
}

/// Whether `word` occurs in `haystack` (both already lower-cased) between token boundaries.
pub fn token_match(haystack: &str, word: &str) -> bool {
    haystack.match_indices(word).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + word.len()..].chars().next();
        before.is_none_or(|c| TOKEN_BOUNDARIES.contains(&c))
            && after.is_none_or(|c| TOKEN_BOUNDARIES.contains(&c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(text: &str, event: &Value) -> bool {
        Keywords::parse(text).unwrap().matches(event)
    }

    #[test]
    fn keywords_match_whole_tokens_case_insensitively() {
        let e = json!({"client": {"ipAddress": "102.89.34.17",
                                  "geographicalContext": {"city": "San Francisco"}},
                       "actor": {"displayName": "Jane Doe"}});
        assert!(q("102.89.34.17", &e));
        assert!(!q("102.89.34.1", &e), "a prefix of a token is not a token");
        assert!(q("san francisco", &e));
        assert!(q("FRANCISCO", &e));
        assert!(q("jane doe", &e));
        assert!(!q("jane smith", &e), "all keywords must match");
        assert!(!q("ipaddress", &e), "member names are not searched");
    }

    #[test]
    fn hyphenated_values_match_whole_and_by_part() {
        let e =
            json!({"authenticationContext": {"externalSessionId": "XOxBw-2JIRnCFd0gG0GjHAAABjY"}});
        assert!(q("XOxBw", &e));
        assert!(q("2JIRnCFd0gG0GjHAAABjY", &e));
        assert!(q("XOxBw-2JIRnCFd0gG0GjHAAABjY", &e));
        assert!(!q("XOx", &e));
    }

    #[test]
    fn a_later_occurrence_can_match_when_an_earlier_one_does_not() {
        assert!(token_match("xabc abc", "abc"));
        assert!(!token_match("xabc abcx", "abc"));
    }

    #[test]
    fn matching_events_contain_the_required_tokens() {
        let e = json!({"client": {"ipAddress": "102.89.34.17"},
                       "actor": {"displayName": "Zoë Ünal"},
                       "authenticationContext": {"externalSessionId": "XOxBw-2JIRnCFd0gG0GjHAAABjY"},
                       "outcome": {"reason": "Bad\tpassword"}});
        let tokens = token_hashes(&e);
        for text in [
            "102.89.34.17",
            "zoë",
            "ÜNAL",
            "xoxbw-2jirncfd0gg0gjhaaabjy",
            "xoxbw",
            "password",
        ] {
            let keywords = Keywords::parse(text).unwrap();
            assert!(keywords.matches(&e), "{text}");
            let required = keywords.required_tokens();
            assert!(!required.is_empty());
            assert!(
                required.iter().all(|h| tokens.binary_search(h).is_ok()),
                "{text}"
            );
        }
        assert!(Keywords::parse("-").unwrap().required_tokens().is_empty());
        assert!(!tokens.contains(&token_hash(b"102.89.34.1")));
        assert!(
            !tokens.contains(&token_hash(b"ipaddress")),
            "member names are not tokens"
        );
        for boundary in TOKEN_BOUNDARIES {
            let split = token_hashes(&json!(format!("a{boundary}b")));
            assert_eq!(split.len(), 2, "{boundary:?} splits tokens");
        }
    }

    #[test]
    fn the_token_hash_never_changes() {
        // Stored indexes depend on these values; this is FNV-1a 32 as published.
        assert_eq!(token_hash(b""), 0x811c_9dc5);
        assert_eq!(token_hash(b"a"), 0xe40c_292c);
        assert_eq!(token_hash(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn okta_limits_are_enforced() {
        let long = "a".repeat(41);
        let err = Keywords::parse(&format!("ok {long}")).unwrap_err();
        assert!(err.message.contains("longer than 40 characters"));
        assert_eq!(err.position, 3);
        assert!(Keywords::parse("1 2 3 4 5 6 7 8 9 10 11").is_err());
        assert!(Keywords::parse(&"a".repeat(40)).is_ok());
    }
}
