//! A synthetic Okta org: seeded, realistic System Log activity.
//!
//! [`Generator`] draws an org ([`Org`]: people with homes, devices, factors and app
//! assignments) and then any day of its System Log: sign-ins through the sign-on policy and
//! MFA, app launches, admin work, users locking themselves out, and the internet guessing
//! passwords. Days follow the working week and each person's time zone. The same seed gives
//! the same org and the same events, whatever days are asked for and in whatever order.
//!
//! This is the seed of the Okta org simulator (`okwatch sim`), which serves these events
//! through Okta's API and Event Hooks.

pub mod activity;
pub mod catalog;
pub mod incidents;
pub mod org;
pub mod rng;
pub mod routine;
pub mod server;

pub use org::Org;

use activity::{DayBuilder, Drawn};
use chrono::{DurationRound, TimeDelta};
use okwatch_model::Timestamp;
use serde_json::Value;

/// Roughly how many events one person produces per calendar day (measured on the generator).
pub const EVENTS_PER_USER_DAY: f64 = 13.0;

/// How many people an org needs so that `events` span about `days` days.
pub fn users_for(events: u64, days: u64) -> usize {
    let per_day = events as f64 / days.max(1) as f64;
    ((per_day / EVENTS_PER_USER_DAY).round() as usize).clamp(10, 200_000)
}

/// Draws an org and its System Log.
pub struct Generator {
    org: Org,
    seed: u64,
}

fn day_start(t: Timestamp) -> Timestamp {
    t.duration_trunc(TimeDelta::days(1)).unwrap_or(t)
}

impl Generator {
    /// An org of `users` people drawn from `seed`.
    pub fn new(seed: u64, users: usize) -> Generator {
        Generator {
            org: Org::new(seed, users),
            seed,
        }
    }

    /// The org.
    pub fn org(&self) -> &Org {
        &self.org
    }

    /// Every event drawn for the UTC day starting at `start` (which may spill past midnight).
    pub fn day(&self, start: Timestamp) -> Vec<Drawn> {
        let mut day = DayBuilder::new(&self.org, self.seed, day_start(start));
        let weekend = day.ordinary_day();
        day.routine(weekend);
        day.finish()
    }

    /// Exactly `count` events, the newest just before `end`, oldest first.
    pub fn last_events(&self, count: u64, end: Timestamp) -> impl Iterator<Item = Value> + '_ {
        let end_ms = end.timestamp_millis();
        let mut first_day = day_start(end);
        let mut total = 0u64;
        // Walk back until enough events were drawn; each day is cheap to draw again later.
        while total < count {
            total += self
                .day(first_day)
                .iter()
                .filter(|d| d.at_ms < end_ms)
                .count() as u64;
            if total >= count {
                break;
            }
            first_day -= TimeDelta::days(1);
            if end - first_day > TimeDelta::days(365 * 50) {
                break;
            }
        }
        let skip = total.saturating_sub(count) as usize;
        Stream::new(self, first_day, end).skip(skip)
    }

    /// Every event drawn for the days from `start` up to `end`, in publication order.
    pub fn between(&self, start: Timestamp, end: Timestamp) -> impl Iterator<Item = Value> + '_ {
        let start_ms = start.timestamp_millis();
        Stream::new(self, day_start(start), end).filter(move |e| {
            okwatch_model::published_of(e).is_some_and(|t| t.timestamp_millis() >= start_ms)
        })
    }
}

/// Days drawn one after another, merged so that spill-over past midnight stays in order.
struct Stream<'a> {
    generator: &'a Generator,
    next_day: Timestamp,
    end_ms: i64,
    pending: std::collections::VecDeque<Drawn>,
    ready: std::collections::VecDeque<Value>,
}

impl<'a> Stream<'a> {
    fn new(generator: &'a Generator, first_day: Timestamp, end: Timestamp) -> Self {
        Stream {
            generator,
            next_day: first_day,
            end_ms: end.timestamp_millis(),
            pending: Default::default(),
            ready: Default::default(),
        }
    }
}

impl Iterator for Stream<'_> {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(v) = self.ready.pop_front() {
                return Some(v);
            }
            if self.next_day.timestamp_millis() >= self.end_ms {
                // Nothing more will be drawn: release what is left before the end.
                let end_ms = self.end_ms;
                let rest: Vec<Value> = self
                    .pending
                    .drain(..)
                    .filter(|d| d.at_ms < end_ms)
                    .map(|d| d.event)
                    .collect();
                if rest.is_empty() {
                    return None;
                }
                self.ready.extend(rest);
                continue;
            }
            let day = self.next_day;
            self.next_day += TimeDelta::days(1);
            let mut merged: Vec<Drawn> = self.pending.drain(..).collect();
            merged.extend(self.generator.day(day));
            merged.sort_by_key(|d| d.at_ms);
            // Later days never draw events before their own midnight, so everything before
            // the next midnight is final.
            let boundary = self.next_day.timestamp_millis().min(self.end_ms);
            for d in merged {
                if d.at_ms < boundary {
                    self.ready.push_back(d.event);
                } else {
                    self.pending.push_back(d);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use okwatch_model::{parse_timestamp, LogEvent};
    use std::collections::HashMap;

    fn end() -> Timestamp {
        parse_timestamp("2026-11-25T12:00:00Z").unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_events() {
        let a: Vec<Value> = Generator::new(7, 50).last_events(500, end()).collect();
        let b: Vec<Value> = Generator::new(7, 50).last_events(500, end()).collect();
        let c: Vec<Value> = Generator::new(8, 50).last_events(500, end()).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn exactly_the_requested_count_oldest_first_before_the_end() {
        let events: Vec<Value> = Generator::new(1, 40).last_events(3_000, end()).collect();
        assert_eq!(events.len(), 3_000);
        let times: Vec<Timestamp> = events
            .iter()
            .map(|e| parse_timestamp(e["published"].as_str().unwrap()).unwrap())
            .collect();
        assert!(
            times.windows(2).all(|w| w[0] <= w[1]),
            "events are in publication order"
        );
        assert!(*times.last().unwrap() < end());
    }

    #[test]
    fn events_are_valid_log_events_with_unique_uuids() {
        let events: Vec<Value> = Generator::new(2, 60).last_events(5_000, end()).collect();
        let mut uuids = std::collections::HashSet::new();
        for e in &events {
            let parsed = LogEvent::from_value(e.clone()).expect("a valid LogEvent");
            assert_eq!(&parsed.to_value(), e);
            assert!(
                uuids.insert(parsed.uuid.clone()),
                "duplicate uuid {}",
                parsed.uuid
            );
        }
    }

    #[test]
    fn the_mix_looks_like_a_real_org() {
        let events: Vec<Value> = Generator::new(3, 200).last_events(40_000, end()).collect();
        let mut by_type: HashMap<&str, usize> = HashMap::new();
        let mut failures = 0;
        let mut sign_ins = 0;
        for e in &events {
            let t = e["eventType"].as_str().unwrap();
            *by_type.entry(t).or_default() += 1;
            if t == "user.session.start" {
                sign_ins += 1;
                if e["outcome"]["result"] == "FAILURE" {
                    failures += 1;
                }
            }
        }
        for t in [
            "user.session.start",
            "user.authentication.sso",
            "user.authentication.auth_via_mfa",
            "policy.evaluate_sign_on",
            "user.session.end",
            "application.user_membership.add",
            "security.threat.detected",
            "user.account.update_password",
        ] {
            assert!(by_type.contains_key(t), "no {t} in {by_type:?}");
        }
        let failure_rate = failures as f64 / sign_ins as f64;
        assert!(
            (0.02..0.25).contains(&failure_rate),
            "sign-in failure rate {failure_rate}"
        );
        assert!(by_type["user.authentication.sso"] > by_type["user.session.start"] / 2);
    }

    /// Issue 17 measured a week of a 150-person org at 14 event types and 6.6 events per person
    /// per day; real orgs show dozens of types a week and tens of events per person per day.
    #[test]
    fn a_week_holds_dozens_of_event_types_and_tens_of_events_a_person_a_day() {
        let people = 150;
        let events: Vec<Value> = Generator::new(8, people)
            .between(end() - TimeDelta::days(7), end())
            .collect();
        let types: std::collections::BTreeSet<&str> = events
            .iter()
            .map(|e| e["eventType"].as_str().unwrap())
            .collect();
        assert!(types.len() >= 25, "{} types: {types:?}", types.len());
        let per_person_day = events.len() as f64 / (people as f64 * 7.0);
        assert!(
            per_person_day >= 10.0,
            "{per_person_day} events a person a day"
        );
    }

    #[test]
    fn weekdays_are_busier_than_weekends() {
        let g = Generator::new(4, 300);
        let monday = parse_timestamp("2026-11-23T00:00:00Z").unwrap();
        let sunday = parse_timestamp("2026-11-22T00:00:00Z").unwrap();
        assert!(g.day(monday).len() > 3 * g.day(sunday).len());
    }

    #[test]
    fn the_calibration_constant_is_close_to_what_the_generator_does() {
        let users = 300;
        let events = Generator::new(5, users)
            .between(end() - TimeDelta::days(28), end())
            .count() as f64;
        let per_user_day = events / (users as f64 * 28.0);
        assert!(
            (per_user_day / EVENTS_PER_USER_DAY - 1.0).abs() < 0.25,
            "measured {per_user_day}"
        );
    }
}
