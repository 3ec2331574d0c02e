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

    /// Whether every keyword matches some string value of `event`.
    pub fn matches(&self, event: &Value) -> bool {
        self.0
            .iter()
            .all(|word| any_string(event, &mut |s| token_match(&s.to_lowercase(), word)))
    }
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
    fn okta_limits_are_enforced() {
        let long = "a".repeat(41);
        let err = Keywords::parse(&format!("ok {long}")).unwrap_err();
        assert!(err.message.contains("longer than 40 characters"));
        assert_eq!(err.position, 3);
        assert!(Keywords::parse("1 2 3 4 5 6 7 8 9 10 11").is_err());
        assert!(Keywords::parse(&"a".repeat(40)).is_ok());
    }
}
