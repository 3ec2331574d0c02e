//! When a scheduled report runs: every day, week or month at a time of day, or a cron
//! expression, always in a time zone (a report "every Monday at 08:00" in Paris stays at 08:00
//! Paris time across daylight-saving changes).
//!
//! Every cadence is a cron expression inside. The next run is found by walking forward in UTC,
//! an hour at a time until the date and hour match, then to the matching minute. Two rules
//! keep daylight-saving days sane: a local time that does not exist (02:30 on the spring
//! change) runs at the first minute after the gap, and a local time that happens twice (01:30
//! on the autumn change) runs once, at its first occurrence.

use crate::EngineError;
use chrono::{DateTime, Datelike, LocalResult, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use std::fmt;

/// How often a scheduled report runs, as people write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cadence {
    /// `daily 08:00`.
    Daily { hour: u32, minute: u32 },
    /// `weekly mon 08:00` (0 = Sunday … 6 = Saturday).
    Weekly {
        weekday: u32,
        hour: u32,
        minute: u32,
    },
    /// `monthly 1 08:00` (days past a month's end run on its last day).
    Monthly { day: u32, hour: u32, minute: u32 },
    /// `cron 0 8 * * 1-5`: minute, hour, day of month, month, day of week.
    Cron(String),
}

const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn bad(message: impl Into<String>) -> EngineError {
    EngineError::BadRequest(message.into())
}

/// `08:00` → (8, 0).
fn time_of_day(text: &str) -> Result<(u32, u32), EngineError> {
    let parsed = text.split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
        (h < 24 && m < 60 && text.len() <= 5).then_some((h, m))
    });
    parsed.ok_or_else(|| bad(format!("`{text}` is not a time of day such as 08:00")))
}

impl Cadence {
    /// Reads `daily 08:00`, `weekly mon 08:00`, `monthly 1 08:00` or `cron M H DOM MON DOW`.
    pub fn parse(text: &str) -> Result<Cadence, EngineError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let cadence = match words.as_slice() {
            ["daily", at] => {
                let (hour, minute) = time_of_day(at)?;
                Cadence::Daily { hour, minute }
            }
            ["weekly", day, at] => {
                let lower = day.to_ascii_lowercase();
                let weekday = WEEKDAYS
                    .iter()
                    .position(|d| lower.starts_with(d) && lower.len() >= 3)
                    .ok_or_else(|| bad(format!("`{day}` is not a day of the week")))?;
                let (hour, minute) = time_of_day(at)?;
                Cadence::Weekly {
                    weekday: weekday as u32,
                    hour,
                    minute,
                }
            }
            ["monthly", day, at] => {
                let day = day
                    .parse::<u32>()
                    .ok()
                    .filter(|d| (1..=31).contains(d))
                    .ok_or_else(|| bad(format!("`{day}` is not a day of the month (1-31)")))?;
                let (hour, minute) = time_of_day(at)?;
                Cadence::Monthly { day, hour, minute }
            }
            ["cron", fields @ ..] => {
                let expression = fields.join(" ");
                Cron::parse(&expression)?;
                Cadence::Cron(expression)
            }
            _ => {
                return Err(bad(format!(
                    "`{text}` is not a cadence: write `daily 08:00`, `weekly mon 08:00`, \
                     `monthly 1 08:00` or `cron 0 8 * * 1-5`"
                )))
            }
        };
        Ok(cadence)
    }

    /// In words: `every day at 08:00`, `every Monday at 08:00`, `cron 0 8 * * 1-5`.
    pub fn describe(&self) -> String {
        const NAMES: [&str; 7] = [
            "Sunday",
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
        ];
        match self {
            Cadence::Daily { hour, minute } => format!("every day at {hour:02}:{minute:02}"),
            Cadence::Weekly {
                weekday,
                hour,
                minute,
            } => format!(
                "every {} at {hour:02}:{minute:02}",
                NAMES[*weekday as usize]
            ),
            Cadence::Monthly { day, hour, minute } => {
                format!("monthly on day {day} at {hour:02}:{minute:02}")
            }
            Cadence::Cron(expression) => format!("cron {expression}"),
        }
    }

    fn cron(&self) -> Cron {
        let expression = match self {
            Cadence::Daily { hour, minute } => format!("{minute} {hour} * * *"),
            Cadence::Weekly {
                weekday,
                hour,
                minute,
            } => format!("{minute} {hour} * * {weekday}"),
            // 28-31 also run on a shorter month's last day: see `Cron::last_day`.
            Cadence::Monthly { day, hour, minute } => format!("{minute} {hour} {day} * *"),
            Cadence::Cron(expression) => expression.clone(),
        };
        let mut cron = Cron::parse(&expression).expect("a parsed cadence is a valid cron");
        if let Cadence::Monthly { day, .. } = self {
            cron.last_day = *day > 28;
        }
        cron
    }

    /// The first run strictly after `after`, in `tz`; `None` if there is none within 5 years
    /// (`cron 0 0 30 2 *`).
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        self.cron().next_after(after, tz)
    }

    /// The last run at or before `at`, in `tz`, looking back at most 5 years.
    pub fn last_at_or_before(&self, at: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        self.cron().last_at_or_before(at, tz)
    }
}

impl fmt::Display for Cadence {
    /// The canonical text, which [`Cadence::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cadence::Daily { hour, minute } => write!(f, "daily {hour:02}:{minute:02}"),
            Cadence::Weekly {
                weekday,
                hour,
                minute,
            } => write!(
                f,
                "weekly {} {hour:02}:{minute:02}",
                WEEKDAYS[*weekday as usize]
            ),
            Cadence::Monthly { day, hour, minute } => {
                write!(f, "monthly {day} {hour:02}:{minute:02}")
            }
            Cadence::Cron(expression) => write!(f, "cron {expression}"),
        }
    }
}

/// A time zone by its IANA name (`Europe/Paris`, `UTC`).
pub fn time_zone(name: &str) -> Result<Tz, EngineError> {
    name.parse::<Tz>().map_err(|_| {
        bad(format!(
            "`{name}` is not a time zone: use an IANA name such as Europe/Paris or UTC"
        ))
    })
}

/// Five cron fields as sets of allowed values (bit i set: value i allowed).
#[derive(Debug, Clone)]
struct Cron {
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    /// Whether day of month and day of week were both restricted: cron then runs on a day
    /// that matches either.
    either_day: bool,
    /// `monthly 31`: a month without that day runs on its last day.
    last_day: bool,
}

/// How far the search looks: a cadence with no run in 5 years (`0 0 30 2 *`) has none.
const HORIZON: TimeDelta = TimeDelta::days(5 * 366);

impl Cron {
    fn parse(expression: &str) -> Result<Cron, EngineError> {
        let fields: Vec<&str> = expression.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields.as_slice() else {
            return Err(bad(format!(
                "cron `{expression}` needs five fields: minute hour day-of-month month day-of-week"
            )));
        };
        let mut weekdays = field(weekday, 0, 7, &WEEKDAYS, "day of week")?;
        // 7 is Sunday too.
        if weekdays & (1 << 7) != 0 {
            weekdays |= 1;
        }
        Ok(Cron {
            minutes: field(minute, 0, 59, &[], "minute")?,
            hours: field(hour, 0, 23, &[], "hour")? as u32,
            days: field(day, 1, 31, &[], "day of month")? as u32,
            months: (field(month, 1, 12, &MONTHS, "month")? >> 1) as u16,
            weekdays: (weekdays & 0x7f) as u8,
            either_day: !day.starts_with('*') && !weekday.starts_with('*'),
            last_day: false,
        })
    }

    fn day_matches(&self, local: &NaiveDateTime) -> bool {
        let dom = local.day();
        let mut day_ok = self.days & (1 << dom) != 0;
        if self.last_day && !day_ok {
            // The last day of a month shorter than the asked day.
            let last = last_day_of_month(local.year(), local.month());
            let asked = 31 - self.days.leading_zeros();
            day_ok = dom == last && asked > last;
        }
        let weekday_ok = self.weekdays & (1 << local.weekday().num_days_from_sunday()) != 0;
        let month_ok = self.months & (1 << (local.month() - 1)) != 0;
        month_ok
            && if self.either_day {
                day_ok || weekday_ok
            } else {
                day_ok && weekday_ok
            }
    }

    fn matches(&self, local: &NaiveDateTime) -> bool {
        self.day_matches(local)
            && self.hours & (1 << local.hour()) != 0
            && self.minutes & (1 << local.minute()) != 0
    }

    /// Whether the schedule runs at `t` (a whole UTC minute).
    fn runs_at(&self, t: DateTime<Utc>, tz: Tz) -> bool {
        let local = t.with_timezone(&tz).naive_local();
        if self.matches(&local) {
            // A local time that happens twice runs at its first occurrence only.
            return match tz.from_local_datetime(&local) {
                LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc) == t,
                _ => true,
            };
        }
        // A local time skipped by a daylight-saving gap that ends at `t` runs at `t`.
        let before = (t - TimeDelta::minutes(1)).with_timezone(&tz).naive_local();
        let skipped = (local - before).num_minutes() - 1;
        (1..=skipped.min(24 * 60)).any(|m| self.matches(&(before + TimeDelta::minutes(m))))
    }

    fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let mut t = whole_minute(after) + TimeDelta::minutes(1);
        let end = after + HORIZON;
        while t <= end {
            let local = t.with_timezone(&tz).naive_local();
            let minute = i64::from(local.minute());
            // Off by date or hour (and not the end of a gap): to the next local hour.
            if (!self.day_matches(&local) || self.hours & (1 << local.hour()) == 0)
                && !self.runs_at(t, tz)
            {
                t += TimeDelta::minutes(60 - minute);
                continue;
            }
            if self.runs_at(t, tz) {
                return Some(t);
            }
            t += TimeDelta::minutes(1);
        }
        None
    }

    fn last_at_or_before(&self, at: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let mut t = whole_minute(at);
        let end = at - HORIZON;
        while t >= end {
            let local = t.with_timezone(&tz).naive_local();
            if (!self.day_matches(&local) || self.hours & (1 << local.hour()) == 0)
                && !self.runs_at(t, tz)
            {
                // Back to the last minute of the previous local hour.
                t -= TimeDelta::minutes(i64::from(local.minute()) + 1);
                continue;
            }
            if self.runs_at(t, tz) {
                return Some(t);
            }
            t -= TimeDelta::minutes(1);
        }
        None
    }
}

fn whole_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(t)
}

fn last_day_of_month(year: i32, month: u32) -> u32 {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    chrono::NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.pred_opt())
        .map_or(28, |d| d.day())
}

/// One cron field (`*`, `5`, `1-5`, `*/15`, `1,15`, `mon-fri`) as a bit set over `min..=max`.
fn field(text: &str, min: u32, max: u32, names: &[&str], what: &str) -> Result<u64, EngineError> {
    let value = |v: &str| -> Result<u32, EngineError> {
        let lower = v.to_ascii_lowercase();
        let named = names.iter().position(|n| *n == lower).map(|i| {
            // Months are named from 1, days of the week from 0.
            i as u32 + min.min(1)
        });
        named
            .or_else(|| v.parse::<u32>().ok())
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| bad(format!("cron {what} `{v}` is not in {min}-{max}")))
    };
    let mut bits = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step = step
                    .parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| bad(format!("cron {what} step `{step}` is not a number")))?;
                (range, step)
            }
            None => (part, 1),
        };
        let (low, high) = match range {
            "*" => (min, max),
            _ => match range.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if step > 1 => (value(range)?, max),
                None => {
                    let v = value(range)?;
                    (v, v)
                }
            },
        };
        if low > high {
            return Err(bad(format!("cron {what} range `{range}` runs backwards")));
        }
        for v in (low..=high).step_by(step as usize) {
            bits |= 1 << v;
        }
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn next(cadence: &str, tz: &str, after: &str) -> String {
        Cadence::parse(cadence)
            .unwrap()
            .next_after(at(after), time_zone(tz).unwrap())
            .map_or("none".into(), |t| t.to_rfc3339())
    }

    #[test]
    fn daily_weekly_and_monthly_run_at_their_local_time() {
        assert_eq!(
            next("daily 08:00", "UTC", "2026-12-02T07:59:00Z"),
            "2026-12-02T08:00:00+00:00"
        );
        assert_eq!(
            next("daily 08:00", "UTC", "2026-12-02T08:00:00Z"),
            "2026-12-03T08:00:00+00:00"
        );
        // Paris is UTC+1 in winter.
        assert_eq!(
            next("daily 08:00", "Europe/Paris", "2026-12-02T08:00:00Z"),
            "2026-12-03T07:00:00+00:00"
        );
        // 2026-12-02 is a Wednesday.
        assert_eq!(
            next(
                "weekly mon 09:30",
                "America/New_York",
                "2026-12-02T00:00:00Z"
            ),
            "2026-12-07T14:30:00+00:00"
        );
        assert_eq!(
            next("monthly 1 06:00", "Asia/Kolkata", "2026-12-02T00:00:00Z"),
            "2027-01-01T00:30:00+00:00"
        );
        // Day 31 in a 30-day month: its last day.
        assert_eq!(
            next("monthly 31 00:00", "UTC", "2026-11-01T00:00:00Z"),
            "2026-11-30T00:00:00+00:00"
        );
    }

    #[test]
    fn cron_fields_take_lists_ranges_steps_and_names() {
        assert_eq!(
            next("cron */15 9-17 * * mon-fri", "UTC", "2026-12-05T12:00:00Z"),
            "2026-12-07T09:00:00+00:00"
        );
        assert_eq!(
            next("cron 0 8 1,15 * *", "UTC", "2026-12-02T00:00:00Z"),
            "2026-12-15T08:00:00+00:00"
        );
        // Day of month and day of week both given: either.
        assert_eq!(
            next("cron 0 0 25 * 0", "UTC", "2026-12-21T00:00:00Z"),
            "2026-12-25T00:00:00+00:00"
        );
        assert_eq!(
            next("cron 0 0 30 2 *", "UTC", "2026-12-02T00:00:00Z"),
            "none"
        );
    }

    #[test]
    fn daylight_saving_days_neither_skip_nor_double_a_run() {
        // Paris springs forward at 02:00 local on 2027-03-28: 02:30 does not exist, so the
        // run is at 03:00 local (01:00 UTC).
        assert_eq!(
            next("daily 02:30", "Europe/Paris", "2027-03-27T12:00:00Z"),
            "2027-03-28T01:00:00+00:00"
        );
        // It falls back at 03:00 local on 2027-10-31: 02:30 happens twice, and runs once.
        let first = next("daily 02:30", "Europe/Paris", "2027-10-30T12:00:00Z");
        assert_eq!(first, "2027-10-31T00:30:00+00:00");
        assert_eq!(
            next("daily 02:30", "Europe/Paris", &first),
            "2027-11-01T01:30:00+00:00"
        );
        // Across the change, 08:00 stays 08:00 local.
        assert_eq!(
            next("daily 08:00", "Europe/Paris", "2027-03-28T12:00:00Z"),
            "2027-03-29T06:00:00+00:00"
        );
    }

    #[test]
    fn the_last_run_is_found_looking_back() {
        let cadence = Cadence::parse("weekly mon 08:00").unwrap();
        let tz = time_zone("UTC").unwrap();
        assert_eq!(
            cadence.last_at_or_before(at("2026-12-02T00:00:00Z"), tz),
            Some(at("2026-11-30T08:00:00Z"))
        );
        assert_eq!(
            cadence.last_at_or_before(at("2026-11-30T08:00:00Z"), tz),
            Some(at("2026-11-30T08:00:00Z"))
        );
    }

    #[test]
    fn mistakes_are_named() {
        let error = |text: &str| Cadence::parse(text).unwrap_err().to_string();
        assert!(error("daily 25:00").contains("`25:00` is not a time of day"));
        assert!(error("weekly someday 08:00").contains("not a day of the week"));
        assert!(error("monthly 32 08:00").contains("1-31"));
        assert!(error("cron 0 8 * *").contains("five fields"));
        assert!(error("cron 61 8 * * *").contains("minute `61` is not in 0-59"));
        assert!(error("cron 0 8 * * 5-1").contains("runs backwards"));
        assert!(error("hourly").contains("is not a cadence"));
        assert!(time_zone("Mars/Olympus").is_err());
        for text in [
            "daily 08:00",
            "weekly mon 08:00",
            "monthly 1 08:00",
            "cron 0 8 * * 1-5",
        ] {
            assert_eq!(Cadence::parse(text).unwrap().to_string(), text);
        }
    }
}
