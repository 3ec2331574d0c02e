//! The explorer's result columns, which each person chooses, and the time zone times are shown
//! in. Both are kept in a cookie of the browser (`okwatch_prefs`), set by a small form; the
//! server renders the chosen columns, and the page's script shows times in the chosen zone
//! (the browser knows every zone's rules; without script, times stay in UTC).

use crate::search::{encode, literal, SearchText};
use crate::{cookie_value, field, form};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use okwatch_engine::EventSummary;
use okwatch_store::StoredEvent;
use serde_json::Value;

/// The preferences cookie.
pub const PREFS_COOKIE: &str = "okwatch_prefs";

/// A column a person can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// When it happened (always shown: it links to the event).
    Time,
    /// Event type and message.
    Event,
    /// Who.
    Actor,
    /// Outcome and reason.
    Outcome,
    /// Client IP.
    Ip,
    /// City, country.
    Location,
    /// Targets.
    Targets,
    /// The app (an `AppInstance` target).
    App,
    /// The org.
    Org,
    /// Okta's session id.
    Session,
    /// Browser and operating system.
    Client,
    /// Okta's severity.
    Severity,
    /// The event's uuid.
    Uuid,
}

/// Every column: (column, key in the cookie, heading, shown unless chosen otherwise).
pub const COLUMNS: &[(Column, &str, &str, bool)] = &[
    (Column::Time, "time", "Time", true),
    (Column::Event, "event", "Event", true),
    (Column::Actor, "actor", "Actor", true),
    (Column::Outcome, "outcome", "Outcome", true),
    (Column::Ip, "ip", "Client IP", true),
    (Column::Location, "location", "Location", true),
    (Column::Targets, "targets", "Targets", true),
    (Column::App, "app", "App", false),
    (Column::Org, "org", "Org", false),
    (Column::Session, "session", "Session", false),
    (Column::Client, "client", "Browser and OS", false),
    (Column::Severity, "severity", "Severity", false),
    (Column::Uuid, "uuid", "uuid", false),
];

/// What a person chose.
#[derive(Debug, Clone, PartialEq)]
pub struct Prefs {
    /// Shown columns, in the table's order.
    pub columns: Vec<Column>,
    /// An IANA time zone (`Europe/Paris`), or `UTC`.
    pub time_zone: String,
}

impl Default for Prefs {
    fn default() -> Prefs {
        Prefs {
            columns: COLUMNS.iter().filter(|c| c.3).map(|c| c.0).collect(),
            time_zone: "UTC".into(),
        }
    }
}

/// A time zone name as the IANA database spells them; anything else is not kept.
fn zone_name(text: &str) -> Option<String> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
    ok.then(|| text.to_string())
}

impl Prefs {
    /// The preferences in a request's cookie; the defaults where it says nothing usable.
    pub fn of(headers: &HeaderMap) -> Prefs {
        let Some(value) = cookie_value(headers, PREFS_COOKIE) else {
            return Prefs::default();
        };
        let pairs = okwatch_okta::server::query_pairs(Some(value));
        let mut prefs = Prefs::default();
        if let Some((_, cols)) = pairs.iter().find(|(k, _)| k == "cols") {
            let chosen: Vec<Column> = COLUMNS
                .iter()
                .filter(|c| c.0 == Column::Time || cols.split('.').any(|k| k == c.1))
                .map(|c| c.0)
                .collect();
            prefs.columns = chosen;
        }
        if let Some(zone) = pairs
            .iter()
            .find(|(k, _)| k == "tz")
            .and_then(|(_, v)| zone_name(v))
        {
            prefs.time_zone = zone;
        }
        prefs
    }

    fn cookie(&self) -> String {
        let cols: Vec<&str> = COLUMNS
            .iter()
            .filter(|c| self.columns.contains(&c.0))
            .map(|c| c.1)
            .collect();
        format!("cols={}&tz={}", cols.join("."), encode(&self.time_zone))
    }

    /// Whether `column` is shown.
    pub fn shows(&self, column: Column) -> bool {
        self.columns.contains(&column)
    }
}

/// A column's heading and whether it is shown, for the chooser.
pub(crate) struct Choice {
    pub key: &'static str,
    pub label: &'static str,
    pub shown: bool,
    pub fixed: bool,
}

pub(crate) fn choices(prefs: &Prefs) -> Vec<Choice> {
    COLUMNS
        .iter()
        .map(|(column, key, label, _)| Choice {
            key,
            label,
            shown: prefs.shows(*column),
            fixed: *column == Column::Time,
        })
        .collect()
}

pub(crate) fn headings(prefs: &Prefs) -> Vec<&'static str> {
    COLUMNS
        .iter()
        .filter(|c| prefs.shows(c.0))
        .map(|c| c.2)
        .collect()
}

/// One cell of a result row.
pub(crate) struct Cell {
    /// The cell's class.
    pub td: &'static str,
    /// The class of its text.
    pub class: &'static str,
    pub text: String,
    /// Where clicking the text goes (narrows the search to this value, or opens the event).
    pub href: Option<String>,
    /// Set on the time cell: the instant, for showing it in the chosen zone.
    pub time: Option<String>,
    /// A second, quieter line.
    pub sub: Option<String>,
}

impl Cell {
    fn plain(text: String) -> Cell {
        Cell {
            td: "",
            class: "",
            text,
            href: None,
            time: None,
            sub: None,
        }
    }
}

/// A result row.
pub(crate) struct Row {
    pub uuid: String,
    pub highlighted: bool,
    pub cells: Vec<Cell>,
}

fn explorer_href(text: &SearchText) -> String {
    format!("/?{}", text.to_query())
}

pub(crate) fn outcome_class(outcome: &str) -> &'static str {
    match outcome {
        "SUCCESS" | "ALLOW" => "outcome ok",
        "FAILURE" | "DENY" => "outcome bad",
        "" => "",
        _ => "outcome other",
    }
}

fn str_at<'v>(event: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(event, |v, k| v.get(k))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// A cell whose value narrows the search to events with the same value at `path`.
fn pivot(text: &SearchText, path: &str, value: Option<&str>, shown: Option<String>) -> Cell {
    match value {
        Some(v) => Cell {
            class: "pivot",
            href: Some(explorer_href(
                &text.and_filter(&format!("{path} eq {}", literal(v))),
            )),
            ..Cell::plain(shown.unwrap_or_else(|| v.to_string()))
        },
        None => Cell::plain(String::new()),
    }
}

/// The row of `stored` with the chosen columns.
pub(crate) fn row(stored: &StoredEvent, text: &SearchText, prefs: &Prefs) -> Row {
    let event = &stored.event;
    let s = EventSummary::of(event);
    let app = event["target"].as_array().and_then(|targets| {
        targets
            .iter()
            .find(|t| t["type"] == "AppInstance")
            .and_then(|t| t["displayName"].as_str())
    });
    let cells = COLUMNS
        .iter()
        .filter(|c| prefs.shows(c.0))
        .map(|(column, ..)| match column {
            Column::Time => Cell {
                td: "time",
                href: Some(format!("/events/{}", encode(&s.uuid))),
                time: Some(s.published.clone()),
                ..Cell::plain(
                    s.published
                        .replace('T', " ")
                        .trim_end_matches('Z')
                        .to_string(),
                )
            },
            Column::Event => Cell {
                sub: s.message.clone(),
                ..pivot(text, "eventType", Some(&s.event_type), None)
            },
            Column::Actor => pivot(
                text,
                "actor.id",
                str_at(event, &["actor", "id"]),
                s.actor.clone(),
            ),
            Column::Outcome => {
                let outcome = s.outcome.clone().unwrap_or_default();
                Cell {
                    class: outcome_class(&outcome),
                    sub: s.reason.clone(),
                    ..Cell::plain(outcome)
                }
            }
            Column::Ip => Cell {
                td: "nowrap",
                ..pivot(text, "client.ipAddress", s.ip.as_deref(), None)
            },
            Column::Location => Cell::plain(s.location.clone().unwrap_or_default()),
            Column::Targets => Cell {
                td: "targets",
                ..Cell::plain(s.targets.join(", "))
            },
            Column::App => pivot(text, "target.displayName", app, None),
            Column::Org => Cell {
                td: "nowrap",
                class: "pivot",
                href: Some(explorer_href(&text.with(|t| t.org = stored.org.clone()))),
                ..Cell::plain(stored.org.clone())
            },
            Column::Session => pivot(
                text,
                "authenticationContext.externalSessionId",
                str_at(event, &["authenticationContext", "externalSessionId"]),
                None,
            ),
            Column::Client => {
                let agent = &event["client"]["userAgent"];
                let parts: Vec<&str> = [&agent["browser"], &agent["os"]]
                    .iter()
                    .filter_map(|v| v.as_str())
                    .filter(|v| !v.is_empty() && *v != "UNKNOWN")
                    .collect();
                Cell::plain(parts.join(" · "))
            }
            Column::Severity => Cell::plain(str_at(event, &["severity"]).unwrap_or("").into()),
            Column::Uuid => Cell {
                td: "uuid",
                ..Cell::plain(s.uuid.clone())
            },
        })
        .collect();
    Row {
        highlighted: !text.highlight.is_empty() && text.highlight == s.uuid,
        uuid: s.uuid,
        cells,
    }
}

/// `POST /preferences`: keeps the chosen columns and time zone, then returns to the page.
pub(crate) async fn save(body: axum::body::Bytes) -> Response {
    let form = form(&body);
    let chosen: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "col")
        .map(|(_, v)| v.as_str())
        .collect();
    let prefs = Prefs {
        columns: COLUMNS
            .iter()
            .filter(|c| c.0 == Column::Time || chosen.contains(&c.1))
            .map(|c| c.0)
            .collect(),
        time_zone: zone_name(field(&form, "tz")).unwrap_or_else(|| "UTC".into()),
    };
    let back = crate::safe_next(field(&form, "back"));
    let mut response = Redirect::to(&back).into_response();
    // `=`, `&`, `.` and percent-escapes are all allowed in a cookie's value.
    let cookie = format!(
        "{PREFS_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
        prefs.cookie()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn the_cookie_keeps_columns_and_zone_and_ignores_what_it_does_not_know() {
        let prefs = Prefs {
            columns: vec![Column::Time, Column::Actor, Column::Org],
            time_zone: "America/Argentina/Buenos_Aires".into(),
        };
        let cookie = format!("{PREFS_COOKIE}={}", prefs.cookie());
        assert_eq!(Prefs::of(&headers(&cookie)), prefs);
        // The time column cannot be dropped; unknown columns and a hostile zone are ignored.
        let odd = format!("{PREFS_COOKIE}=cols=actor.planet&tz=%3Cscript%3E");
        let read = Prefs::of(&headers(&odd));
        assert_eq!(read.columns, [Column::Time, Column::Actor]);
        assert_eq!(read.time_zone, "UTC");
        assert_eq!(Prefs::of(&HeaderMap::new()), Prefs::default());
    }
}
