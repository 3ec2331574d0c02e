//! Fills the simulator's store: days of history at start, then live events as time passes.
//!
//! Events become visible ("arrive") a moment after they are published, as Okta commits them;
//! with the `late` fault some arrive minutes later, so a poller that pages by `published`
//! instead of following `next` misses them.

use super::faults::FaultInjector;
use crate::activity::Drawn;
use crate::Generator;
use chrono::{DurationRound, TimeDelta};
use okwatch_model::{format_timestamp, Timestamp};
use okwatch_store::{EventBatch, EventRow, Store, StoreError};
use okwatch_store_duckdb::DuckDbStore;
use serde_json::Value;
use std::sync::Arc;

const MS_PER_DAY: i64 = 86_400_000;

/// Draws events in time and stores them.
pub struct Feeder {
    generator: Arc<Generator>,
    store: Arc<DuckDbStore>,
    org: String,
    injector: Arc<FaultInjector>,
    /// Simulated milliseconds per real millisecond (1 = the org's natural pace).
    speed: f64,
    real_start_ms: i64,
    /// Simulated time at start: what was drawn for earlier is history, not live activity.
    start_ms: i64,
    /// Drawn but not yet due, sorted by time (latest last).
    pending: Vec<Drawn>,
    /// The next day to draw, in simulated time.
    next_day_ms: i64,
    /// Where simulated time has got to.
    cursor_ms: i64,
    /// Published but held back: (real arrival ms, event).
    late: Vec<(i64, Value)>,
}

fn published_ms(event: &Value) -> i64 {
    okwatch_model::published_of(event).map_or(0, |t| t.timestamp_millis())
}

fn at(ms: i64) -> Timestamp {
    Timestamp::from_timestamp_millis(ms).unwrap_or_default()
}

impl Feeder {
    /// A feeder starting at `now`. `events_per_minute`, when given, speeds simulated time up or
    /// down to produce about that many events a minute; events are then stamped with real time.
    pub fn new(
        generator: Arc<Generator>,
        store: Arc<DuckDbStore>,
        org: &str,
        injector: Arc<FaultInjector>,
        events_per_minute: Option<f64>,
        now: Timestamp,
    ) -> Feeder {
        let natural = generator.org().users.len() as f64 * crate::EVENTS_PER_USER_DAY / 1440.0;
        let speed = events_per_minute.map_or(1.0, |rate| (rate / natural.max(1e-9)).max(1e-6));
        let now_ms = now.timestamp_millis();
        let today = now
            .duration_trunc(TimeDelta::days(1))
            .unwrap_or(now)
            .timestamp_millis();
        let mut feeder = Feeder {
            generator,
            store,
            org: org.to_string(),
            injector,
            speed,
            real_start_ms: now_ms,
            start_ms: now_ms,
            pending: Vec::new(),
            next_day_ms: today,
            cursor_ms: now_ms,
            late: Vec::new(),
        };
        // Yesterday may spill past midnight into today.
        feeder.draw_day(today - MS_PER_DAY);
        feeder
    }

    fn draw_day(&mut self, day_ms: i64) {
        let start_ms = self.start_ms;
        self.pending.extend(
            self.generator
                .day(at(day_ms))
                .into_iter()
                .filter(|d| d.at_ms >= start_ms),
        );
        self.pending.sort_by_key(|d| std::cmp::Reverse(d.at_ms));
    }

    fn store_events(&self, events: Vec<(Value, Option<i64>)>) -> Result<u64, StoreError> {
        if events.is_empty() {
            return Ok(0);
        }
        let mut rows = Vec::with_capacity(events.len());
        for (event, arrival_ms) in events {
            match EventRow::decompose(&self.org, event) {
                Ok(mut row) => {
                    row.arrival = arrival_ms.map(at);
                    rows.push(row);
                }
                Err(e) => tracing::error!("simulator drew an unstorable event: {e}"),
            }
        }
        Ok(self.store.insert(EventBatch::encode(rows)?)?.stored)
    }

    /// Stores `days` days of history up to `now`, each event arriving 0.2–3 s after it was
    /// published.
    pub fn backfill(&self, days: u32, now: Timestamp) -> Result<u64, StoreError> {
        let start = now - TimeDelta::days(i64::from(days));
        let now_ms = now.timestamp_millis();
        let mut lag = crate::rng::Rng::new(0xbacf111, days.into());
        let mut batch = Vec::with_capacity(10_000);
        let mut stored = 0;
        for event in self.generator.between(start, now) {
            let published = published_ms(&event);
            if published >= now_ms {
                break;
            }
            let arrival = (published + lag.range(200, 3_000) as i64).min(now_ms);
            batch.push((event, Some(arrival)));
            if batch.len() == 10_000 {
                stored += self.store_events(std::mem::take(&mut batch))?;
            }
        }
        stored += self.store_events(batch)?;
        Ok(stored)
    }

    /// Stores past events (planted into the history) as if Okta had committed each a moment
    /// after it was published.
    pub fn store_history(&self, events: Vec<Value>, now: Timestamp) -> Result<u64, StoreError> {
        let now_ms = now.timestamp_millis();
        let events = events
            .into_iter()
            .map(|e| {
                let arrival = (published_ms(&e) + 1_000).min(now_ms);
                (e, Some(arrival))
            })
            .collect();
        self.store_events(events)
    }

    /// Adds events to the live stream (planted incidents), drawn at their `published` time in
    /// simulated time.
    pub fn plant(&mut self, events: Vec<Value>) {
        self.pending.extend(events.into_iter().map(|event| Drawn {
            at_ms: published_ms(&event),
            event,
        }));
        self.pending.sort_by_key(|d| std::cmp::Reverse(d.at_ms));
    }

    /// Simulated time at real time `now`.
    pub fn simulated_ms(&self, now: Timestamp) -> i64 {
        let real = now.timestamp_millis();
        self.real_start_ms + ((real - self.real_start_ms) as f64 * self.speed) as i64
    }

    /// Stores what became due up to `now`; returns how many events were stored.
    pub fn tick(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        let now_ms = now.timestamp_millis();
        let target = self.simulated_ms(now);
        while self.next_day_ms <= target {
            let day = self.next_day_ms;
            self.draw_day(day);
            self.next_day_ms += MS_PER_DAY;
        }
        let mut due = Vec::new();
        let restamp = self.speed != 1.0;
        while self.pending.last().is_some_and(|d| d.at_ms <= target) {
            let mut drawn = self.pending.pop().expect("checked");
            if restamp {
                // Simulated time runs at another pace: the event happens now, in real time,
                // keeping its order within this tick.
                let offset = (target - drawn.at_ms).min(999);
                drawn.event["published"] =
                    Value::String(format_timestamp(at((now_ms - offset).max(self.cursor_ms))));
            }
            if self.injector.roll(self.injector.faults.late) {
                let delay = self.injector.between(60_000, 300_000) as i64;
                self.late.push((now_ms + delay, drawn.event));
            } else {
                due.push((drawn.event, None));
            }
        }
        self.cursor_ms = now_ms;
        let (released, held): (Vec<_>, Vec<_>) =
            self.late.drain(..).partition(|(when, _)| *when <= now_ms);
        self.late = held;
        due.extend(released.into_iter().map(|(_, event)| (event, None)));
        self.store_events(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::faults::Faults;
    use okwatch_model::parse_timestamp;
    use okwatch_store::{EventQuery, Order};

    fn feeder(late: f64, now: Timestamp) -> Feeder {
        let generator = Arc::new(Generator::new(5, 2_000));
        let store = Arc::new(DuckDbStore::open_in_memory().unwrap());
        let injector = Arc::new(FaultInjector::new(
            Faults {
                late,
                ..Faults::default()
            },
            5,
        ));
        Feeder::new(generator, store, "sim", injector, None, now)
    }

    fn arrivals(f: &Feeder) -> Vec<(String, i64)> {
        let page = f
            .store
            .search(&EventQuery {
                order: Order::Arrival,
                limit: 100_000,
                ..EventQuery::default()
            })
            .unwrap();
        page.events
            .into_iter()
            .map(|e| (e.event["published"].as_str().unwrap().to_string(), e.seq))
            .collect()
    }

    #[test]
    fn live_events_appear_as_their_time_comes() {
        // A weekday morning in a 2,000-person org: plenty happens in ten minutes.
        let start = parse_timestamp("2026-11-24T15:00:00Z").unwrap();
        let mut f = feeder(0.0, start);
        assert_eq!(f.tick(start).unwrap(), 0);
        let stored = f.tick(start + TimeDelta::minutes(10)).unwrap();
        assert!(stored > 20, "{stored} events in ten minutes");
        let got = arrivals(&f);
        let end = format_timestamp(start + TimeDelta::minutes(10));
        assert!(
            got.iter().all(|(p, _)| p.as_str() <= end.as_str()),
            "nothing from the future"
        );
        assert!(
            got.windows(2).all(|w| w[0].0 <= w[1].0),
            "in publication order"
        );
    }

    #[test]
    fn late_events_arrive_minutes_after_their_published_time() {
        let start = parse_timestamp("2026-11-24T15:00:00Z").unwrap();
        let mut f = feeder(1.0, start);
        let on_time = f.tick(start + TimeDelta::minutes(1)).unwrap();
        assert_eq!(on_time, 0, "every event is held back at least a minute");
        let mut released = 0;
        for minute in 2..=20 {
            released += f.tick(start + TimeDelta::minutes(minute)).unwrap();
        }
        assert!(
            released > 20,
            "held events are released after one to five minutes"
        );
        let end = (start + TimeDelta::minutes(20)).timestamp_millis();
        assert!(
            f.late.iter().all(|(when, _)| *when > end),
            "nothing due is still held"
        );
        // Stored after newer ones were published: arrival order is not publication order.
        let got = arrivals(&f);
        assert!(
            got.windows(2).any(|w| w[0].0 > w[1].0),
            "some arrive out of order"
        );
    }
}
