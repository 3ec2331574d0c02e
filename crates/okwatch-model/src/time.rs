//! Timestamps: Okta's ISO 8601 format, and the `since`/`until` forms people type.

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};

/// A UTC instant with microsecond precision (what the store keeps).
pub type Timestamp = DateTime<Utc>;

/// Parses an RFC 3339 / ISO 8601 date-time with an offset (`2024-08-13T15:58:20.353Z`,
/// `2024-08-13T17:58:20+02:00`). Returns `None` for anything else, including impossible dates
/// such as `2017-09-31` that appear in Okta's own examples.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The `published` time of an event held as JSON, if it has a valid one.
pub fn published_of(event: &serde_json::Value) -> Option<Timestamp> {
    event
        .get("published")
        .and_then(serde_json::Value::as_str)
        .and_then(parse_timestamp)
}

/// Formats a timestamp the way Okta does: milliseconds and `Z`, e.g. `2024-08-13T15:58:20.353Z`.
pub fn format_timestamp(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Why a `since`/`until` value could not be understood.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TimeParseError {
    /// Not a time at all.
    #[error("{0:?} is not a time: use ISO 8601 (2024-08-13T15:58:20Z, 2024-08-13) or a relative time (now, -7d, -24h, -30m, -2w)")]
    Unreadable(String),
    /// A time, but outside the years okwatch keeps.
    #[error("{0:?} is outside the years okwatch answers for ({EARLIEST_YEAR} to {LATEST_YEAR})")]
    OutOfRange(String),
}

/// The first year a time bound may name (Okta's System Log began long after).
pub const EARLIEST_YEAR: i32 = 1970;
/// The last year a time bound may name.
pub const LATEST_YEAR: i32 = 9999;

/// Parses a time bound as a user writes it, relative to `now`:
/// `now`, `-7d` / `now-7d` (units `s`, `m`, `h`, `d`, `w`), an RFC 3339 date-time, a date-time
/// without offset (taken as UTC), or a bare date (midnight UTC).
/// Times are held between [`EARLIEST_YEAR`] and [`LATEST_YEAR`], so that a period and the
/// one before it (or a rule's window before it) can always be computed.
pub fn parse_time_bound(input: &str, now: Timestamp) -> Result<Timestamp, TimeParseError> {
    use chrono::Datelike;
    let time = read_time_bound(input, now)?;
    if !(EARLIEST_YEAR..=LATEST_YEAR).contains(&time.year()) {
        return Err(TimeParseError::OutOfRange(input.to_string()));
    }
    Ok(time)
}

fn read_time_bound(input: &str, now: Timestamp) -> Result<Timestamp, TimeParseError> {
    let err = || TimeParseError::Unreadable(input.to_string());
    let text = input.trim();
    if text.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    let relative = text
        .strip_prefix("now")
        .unwrap_or(text)
        .strip_prefix('-')
        .filter(|_| text.starts_with('-') || text.to_ascii_lowercase().starts_with("now-"));
    if let Some(rel) = relative {
        let split = rel.find(|c: char| !c.is_ascii_digit()).ok_or_else(err)?;
        let (digits, unit) = rel.split_at(split);
        let n: i64 = digits.parse().map_err(|_| err())?;
        let span = match unit {
            "s" => Duration::try_seconds(n),
            "m" | "min" => Duration::try_minutes(n),
            "h" => Duration::try_hours(n),
            "d" => Duration::try_days(n),
            "w" => Duration::try_weeks(n),
            _ => None,
        }
        .ok_or_else(err)?;
        return now.checked_sub_signed(span).ok_or_else(err);
    }
    if let Some(t) = parse_timestamp(text) {
        return Ok(t);
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(naive.and_utc());
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_hms_opt(0, 0, 0).ok_or_else(err)?.and_utc());
    }
    Err(err())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        parse_timestamp("2026-11-25T12:00:00Z").unwrap()
    }

    #[test]
    fn times_beyond_the_kept_years_are_refused_not_overflowed() {
        for far in [
            "-90000000d",
            "-9000000w",
            "0001-01-01",
            "+10000-01-01T00:00:00Z",
        ] {
            assert!(parse_time_bound(far, now()).is_err(), "{far}");
        }
        let err = parse_time_bound("-90000000d", now()).unwrap_err();
        assert!(err.to_string().contains("1970 to 9999"), "{err}");
        assert!(parse_time_bound("-20000d", now()).is_ok());
    }

    #[test]
    fn okta_timestamps_round_trip_in_okta_format() {
        let t = parse_timestamp("2024-08-13T15:58:20.353Z").unwrap();
        assert_eq!(format_timestamp(t), "2024-08-13T15:58:20.353Z");
        let offset = parse_timestamp("2024-08-13T17:58:20.353+02:00").unwrap();
        assert_eq!(offset, t);
    }

    #[test]
    fn impossible_dates_are_not_timestamps() {
        assert_eq!(parse_timestamp("2017-09-31T22:15:36.000Z"), None);
        assert_eq!(parse_timestamp("redacted"), None);
    }

    #[test]
    fn relative_bounds_count_back_from_now() {
        let n = now();
        assert_eq!(parse_time_bound("now", n).unwrap(), n);
        assert_eq!(parse_time_bound("-7d", n).unwrap(), n - Duration::days(7));
        assert_eq!(
            parse_time_bound("now-24h", n).unwrap(),
            n - Duration::hours(24)
        );
        assert_eq!(
            parse_time_bound("-30m", n).unwrap(),
            n - Duration::minutes(30)
        );
        assert_eq!(parse_time_bound("-2w", n).unwrap(), n - Duration::weeks(2));
    }

    #[test]
    fn absolute_bounds_accept_dates_and_naive_times_as_utc() {
        let n = now();
        assert_eq!(
            format_timestamp(parse_time_bound("2024-01-02", n).unwrap()),
            "2024-01-02T00:00:00.000Z"
        );
        assert_eq!(
            format_timestamp(parse_time_bound("2024-01-02T03:04:05", n).unwrap()),
            "2024-01-02T03:04:05.000Z"
        );
    }

    #[test]
    fn nonsense_bounds_are_rejected_with_the_accepted_forms() {
        let e = parse_time_bound("last tuesday", now()).unwrap_err();
        assert!(e.to_string().contains("-7d"), "{e}");
        assert!(parse_time_bound("-7y", now()).is_err());
        assert!(parse_time_bound("-d", now()).is_err());
    }
}
