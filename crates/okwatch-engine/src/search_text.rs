//! A search as the console's URL and saved searches hold it: time range, Okta `filter`, `q`
//! keywords, org and paging cursor. Parsing it never fails as a whole: each bad part comes back as a problem
//! to show beside its input (a filter error with its position), and the rest still searches.

use okwatch_model::{format_timestamp, parse_time_bound, Timestamp};
use okwatch_query::{parse_and_validate, Dialect, Keywords};
use okwatch_store::{Bucket, Cursor, EventQuery};

/// The time presets offered, as `since` values; the empty one is all history.
pub const PRESETS: &[(&str, &str)] = &[
    ("Last 15 minutes", "-15m"),
    ("Last hour", "-1h"),
    ("Last 24 hours", "-24h"),
    ("Last 7 days", "-7d"),
    ("Last 30 days", "-30d"),
    ("Last 90 days", "-90d"),
    ("All history", "all"),
];

/// The default range.
pub const DEFAULT_SINCE: &str = "-24h";

/// The search parameters, as text, exactly as the URL holds them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchText {
    /// A preset (`-24h`), `all`, or a time.
    pub since: String,
    /// A time, or empty for now.
    pub until: String,
    /// An Okta filter expression.
    pub filter: String,
    /// Keywords.
    pub q: String,
    /// Only this org.
    pub org: String,
    /// The cursor of the page to show.
    pub after: String,
    /// An event to highlight (pivots to the events around one).
    pub highlight: String,
}

/// A filter problem, split around its position for showing a caret under it.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterProblem {
    /// What is wrong.
    pub message: String,
    /// 0-based character position.
    pub position: usize,
    /// The text before the position.
    pub before: String,
    /// The character at the position (a space past the end).
    pub at: String,
    /// The text after it.
    pub after: String,
}

/// A search ready to run, or what is wrong with its text.
#[derive(Debug, Clone)]
pub struct Search {
    /// The query (without the parts that had problems).
    pub query: EventQuery,
    /// The filter's problem.
    pub filter_problem: Option<FilterProblem>,
    /// Other problems (time, keywords, cursor), in words.
    pub problems: Vec<String>,
    /// The range's bounds, for the chart.
    pub since: Option<Timestamp>,
    /// The range's end.
    pub until: Timestamp,
}

impl SearchText {
    /// Reads the parameters of a query string (missing ones are empty; `since` defaults).
    pub fn from_pairs(pairs: &[(String, String)]) -> SearchText {
        let get = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let since = get("since");
        SearchText {
            since: if since.is_empty() {
                DEFAULT_SINCE.into()
            } else {
                since
            },
            until: get("until"),
            filter: get("filter"),
            q: get("q"),
            org: get("org"),
            after: get("after"),
            highlight: get("highlight"),
        }
    }

    /// Reads a URL query string (`since=-7d&filter=...`), as a saved search keeps it.
    pub fn from_query(query: &str) -> SearchText {
        SearchText::from_pairs(&okwatch_okta::server::query_pairs(Some(query)))
    }

    /// The URL query string of this search (`after` and `highlight` included when set).
    pub fn to_query(&self) -> String {
        let mut pairs = vec![("since", self.since.as_str())];
        for (name, value) in [
            ("until", &self.until),
            ("filter", &self.filter),
            ("q", &self.q),
            ("org", &self.org),
            ("after", &self.after),
            ("highlight", &self.highlight),
        ] {
            if !value.is_empty() {
                pairs.push((name, value.as_str()));
            }
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The same search from its first page, with `change` applied.
    pub fn with(&self, change: impl FnOnce(&mut SearchText)) -> SearchText {
        let mut next = SearchText {
            after: String::new(),
            ..self.clone()
        };
        change(&mut next);
        next
    }

    /// This search narrowed by one more condition (`and`-ed to the filter).
    pub fn and_filter(&self, condition: &str) -> SearchText {
        self.with(|s| {
            s.filter = if s.filter.is_empty() {
                condition.to_string()
            } else {
                format!("({}) and {condition}", s.filter)
            }
        })
    }

    /// Parses the text into a query of `limit` events.
    pub fn parse(&self, now: Timestamp, limit: usize) -> Search {
        let mut problems = Vec::new();
        let mut time = |text: &str, what: &str| -> Option<Timestamp> {
            if text.is_empty() || text == "all" {
                return None;
            }
            match parse_time_bound(text, now) {
                Ok(t) => Some(t),
                Err(okwatch_model::TimeParseError::OutOfRange(_)) => {
                    problems.push(format!(
                        "{what} `{text}` is outside the years okwatch answers for (1970 to 9999)"
                    ));
                    None
                }
                Err(_) => {
                    problems.push(format!(
                        "{what} `{text}` is not a time: use -24h, -7d, 2026-11-30 or 2026-11-30T08:00:00Z"
                    ));
                    None
                }
            }
        };
        let since = time(&self.since, "From");
        let until = time(&self.until, "To");
        let mut filter_problem = None;
        let filter = if self.filter.is_empty() {
            None
        } else {
            match parse_and_validate(&self.filter, Dialect::Okwatch) {
                Ok(expr) => Some(expr),
                Err(e) => {
                    let chars: Vec<char> = self.filter.chars().collect();
                    let at = e.position.min(chars.len());
                    filter_problem = Some(FilterProblem {
                        message: e.message.clone(),
                        position: e.position,
                        before: chars[..at].iter().collect(),
                        at: chars.get(at).map_or(" ".into(), |c| c.to_string()),
                        after: chars
                            .get(at + 1..)
                            .map_or(String::new(), |r| r.iter().collect()),
                    });
                    None
                }
            }
        };
        let keywords = match Keywords::parse(&self.q) {
            Ok(k) => k,
            Err(e) => {
                problems.push(format!("Keywords: {}", e.message));
                Keywords::default()
            }
        };
        let after = if self.after.is_empty() {
            None
        } else {
            match Cursor::decode(&self.after) {
                Ok(c) => Some(c),
                Err(_) => {
                    problems.push("The page cursor is not valid; showing the first page.".into());
                    None
                }
            }
        };
        // An org is a name from the configuration: no control characters (a NUL would reach
        // the database as part of a name and fail there).
        let org = if self.org.chars().any(char::is_control) {
            problems.push("Org: an org name holds no control characters.".into());
            String::new()
        } else {
            self.org.clone()
        };
        Search {
            query: EventQuery {
                org: (!org.is_empty()).then_some(org),
                filter,
                keywords,
                since,
                until,
                limit,
                after,
                ..EventQuery::default()
            },
            filter_problem,
            problems,
            since,
            until: until.unwrap_or(now),
        }
    }
}

impl Search {
    /// The chart's bucket for the range: hours up to a week, days up to 120 days, then weeks.
    pub fn bucket(&self, oldest: Option<Timestamp>) -> Bucket {
        let start = self.since.or(oldest).unwrap_or(self.until);
        let span = self.until - start;
        if span <= chrono::TimeDelta::days(7) {
            Bucket::Hour
        } else if span <= chrono::TimeDelta::days(120) {
            Bucket::Day
        } else {
            Bucket::Week
        }
    }
}

/// RFC 3986's unreserved characters stay as they are; everything else is encoded.
const ENCODED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encoding of a query-string value or a path segment.
pub fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, ENCODED).to_string()
}

/// A string literal of Okta's filter language.
pub fn literal(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A time as the explorer's URL writes it.
pub fn url_time(t: Timestamp) -> String {
    format_timestamp(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_url_holds_the_whole_search_and_reads_back_the_same() {
        let text = SearchText::from_pairs(&pairs(&[
            ("since", "-7d"),
            ("filter", r#"outcome.result eq "FAILURE""#),
            ("q", "10.0.0.1"),
        ]));
        let again = SearchText::from_query(&text.to_query());
        assert_eq!(again, text);
        assert_eq!(SearchText::from_pairs(&[]).since, DEFAULT_SINCE);
    }

    #[test]
    fn a_bad_filter_is_shown_at_its_position_and_the_rest_still_searches() {
        let now = okwatch_model::parse_timestamp("2026-12-01T00:00:00Z").unwrap();
        let text = SearchText::from_pairs(&pairs(&[
            ("filter", r#"outcome.result eq "FAILURE" and"#),
            ("since", "yesterday-ish"),
        ]));
        let search = text.parse(now, 50);
        let problem = search.filter_problem.expect("a filter problem");
        assert_eq!(problem.before.chars().count(), problem.position);
        assert!(search.query.filter.is_none());
        assert_eq!(search.problems.len(), 1, "{:?}", search.problems);
        assert!(search.problems[0].contains("yesterday-ish"));
    }

    #[test]
    fn narrowing_ands_a_condition_and_starts_at_the_first_page() {
        let text = SearchText {
            filter: "a eq 1 or b eq 2".into(),
            after: "cursor".into(),
            ..SearchText::default()
        };
        let narrowed = text.and_filter(&format!("client.ipAddress eq {}", literal("1.2.3.4")));
        assert_eq!(
            narrowed.filter,
            r#"(a eq 1 or b eq 2) and client.ipAddress eq "1.2.3.4""#
        );
        assert!(narrowed.after.is_empty());
        assert_eq!(literal(r#"a"b\"#), r#""a\"b\\""#);
    }
}
