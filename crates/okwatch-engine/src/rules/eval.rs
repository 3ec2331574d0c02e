//! The evaluator of one rule: fed events in time order, it keeps per group only what its
//! condition needs (the events of the last window, the first halves of sequences, the last
//! place), so it runs over millions of events in little memory.

use super::{Alert, Condition, Rule};
use okwatch_model::{format_timestamp, published_of, Timestamp};
use okwatch_query::{matches, resolve, AttrPath};
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};

/// One event as a group remembers it.
struct Seen {
    at: Timestamp,
    uuid: String,
    /// The value a `Distinct` condition counts, or the place of a `Travel` condition.
    value: Option<String>,
}

/// Where and when one sign-in was.
struct Place {
    at: Timestamp,
    lat: f64,
    lon: f64,
    name: String,
    uuid: String,
}

/// How far apart in time two sign-ins may be and still be compared for travel.
const TRAVEL_HORIZON: chrono::TimeDelta = chrono::TimeDelta::hours(24);

#[derive(Default)]
struct Group {
    recent: VecDeque<Seen>,
    /// Sequence: second steps not yet preceded by a first.
    later: VecDeque<Seen>,
    /// The alert this group's matches join, and the span a match must fall in to join it
    /// (from its first event less the suppression to its last event plus it).
    open: Option<(usize, Timestamp, Timestamp)>,
    /// Travel: the places seen around the latest sign-in judged, in time order.
    places: VecDeque<Place>,
}

/// Runs one rule over events given oldest first.
pub struct Evaluator {
    rule: Rule,
    group_path: Option<AttrPath>,
    /// Where a sequence's second event holds the group.
    then_group_path: Option<AttrPath>,
    value_path: Option<AttrPath>,
    groups: HashMap<String, Group>,
    alerts: Vec<Alert>,
}

/// The first value at `path` as text.
fn text_at(event: &Value, path: &AttrPath) -> Option<String> {
    let mut found = Vec::new();
    resolve(event, &path.segments, &mut found);
    match found.into_iter().next()? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Great-circle distance in kilometres.
fn km_between(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

fn place_of(event: &Value) -> Option<(f64, f64, String)> {
    let geo = &event["client"]["geographicalContext"];
    let lat = geo["geolocation"]["lat"].as_f64()?;
    let lon = geo["geolocation"]["lon"].as_f64()?;
    let name = [geo["city"].as_str(), geo["country"].as_str()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    Some((lat, lon, name))
}

/// One event in words: who did what to whom (`ana@… : Grant user privilege → bob@…`).
fn what_happened(event: &Value) -> String {
    let actor = event["actor"]["alternateId"]
        .as_str()
        .filter(|a| !a.is_empty() && *a != "unknown")
        .or_else(|| event["actor"]["displayName"].as_str())
        .unwrap_or("someone");
    let action = event["displayMessage"]
        .as_str()
        .or_else(|| event["eventType"].as_str())
        .unwrap_or("an event");
    let targets: Vec<&str> = event["target"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter_map(|t| {
                    t["displayName"]
                        .as_str()
                        .or_else(|| t["alternateId"].as_str())
                })
                .collect()
        })
        .unwrap_or_default();
    if targets.is_empty() {
        format!("{actor}: {action}")
    } else {
        format!("{actor}: {action} → {}", targets.join(", "))
    }
}

/// Puts `seen` among a group's recent events, kept in time order whatever order events come
/// in, and keeps only those within `window` of it: the neighbourhood of the event being judged
/// (events fed in time order keep exactly the trailing window).
fn place(recent: &mut VecDeque<Seen>, seen: Seen, window: chrono::TimeDelta) {
    let at = seen.at;
    recent.retain(|s| (s.at - at).abs() < window);
    let position = recent.partition_point(|s| s.at <= at);
    recent.insert(position, seen);
}

/// The earliest span of `window` that holds the event at `at` and whose events satisfy `fires`;
/// those events are taken out of `recent` (they belong to the alert now).
fn take_window(
    recent: &mut VecDeque<Seen>,
    at: Timestamp,
    window: chrono::TimeDelta,
    fires: impl Fn(&[&Seen]) -> bool,
) -> Option<Vec<Seen>> {
    let starts = recent
        .iter()
        .enumerate()
        .filter(|(_, s)| s.at > at - window && s.at <= at);
    let (from, to) = starts
        .map(|(i, s)| {
            let end = recent.partition_point(|e| e.at < s.at + window);
            (i, end)
        })
        .find(|(from, to)| {
            let seen: Vec<&Seen> = recent.range(*from..*to).collect();
            fires(&seen)
        })?;
    Some(recent.drain(from..to).collect())
}

fn span(window: chrono::TimeDelta) -> String {
    let minutes = window.num_minutes();
    if minutes % 60 == 0 {
        format!("{} h", minutes / 60)
    } else {
        format!("{minutes} min")
    }
}

impl Evaluator {
    /// An evaluator of `rule`.
    pub fn new(rule: Rule) -> Evaluator {
        let value_path = match &rule.condition {
            Condition::Distinct { field, .. } => Some(AttrPath::from_dotted(field)),
            _ => None,
        };
        let then_group_path = match &rule.condition {
            Condition::Sequence {
                then_group_by: Some(path),
                ..
            } => Some(AttrPath::from_dotted(path)),
            _ => None,
        };
        Evaluator {
            group_path: rule.group_by.as_deref().map(AttrPath::from_dotted),
            then_group_path,
            value_path,
            rule,
            groups: HashMap::new(),
            alerts: Vec::new(),
        }
    }

    /// The rule.
    pub fn rule(&self) -> &Rule {
        &self.rule
    }

    /// Looks at the next event (events must come oldest first). Returns the index of the
    /// alert it raised, if it raised one.
    pub fn feed(&mut self, event: &Value) -> Option<usize> {
        let first_half = matches(&self.rule.filter, event)
            && self.rule.sigma.as_ref().is_none_or(|d| d.matches(event));
        let second_half = match &self.rule.condition {
            Condition::Sequence { then, .. } => matches(then, event),
            _ => false,
        };
        if !first_half && !second_half {
            return None;
        }
        let at = published_of(event)?;
        let uuid = event["uuid"].as_str().unwrap_or_default().to_string();
        let path = if second_half && !first_half {
            self.then_group_path.as_ref().or(self.group_path.as_ref())
        } else {
            self.group_path.as_ref()
        };
        let key = match path {
            Some(path) => text_at(event, path)?,
            None => String::new(),
        };
        let suppress = self.rule.suppress;
        let group = self.groups.entry(key.clone()).or_default();
        // Within an alert's suppression, a match joins that alert. A late arrival much older
        // than the alert is judged on its own and leaves the alert open.
        if let Some((index, from, until)) = group.open {
            if at >= from && at < until {
                let alert = &mut self.alerts[index];
                // Events may come a little out of order (late arrivals): the span only widens.
                let stamp = format_timestamp(at);
                if stamp > alert.last {
                    alert.last = stamp;
                } else if stamp < alert.first {
                    alert.first = stamp;
                }
                alert.events.push(uuid);
                group.open = Some((index, from.min(at - suppress), until.max(at + suppress)));
                return None;
            }
            if at >= until {
                group.open = None;
            }
        }
        let fired: Option<(Vec<Seen>, String)> = match &self.rule.condition {
            Condition::Any => Some((
                vec![Seen {
                    at,
                    uuid,
                    value: None,
                }],
                what_happened(event),
            )),
            Condition::Count { at_least, window } => {
                place(
                    &mut group.recent,
                    Seen {
                        at,
                        uuid,
                        value: None,
                    },
                    *window,
                );
                take_window(&mut group.recent, at, *window, |seen| {
                    seen.len() >= *at_least
                })
                .map(|seen| {
                    let n = seen.len();
                    (seen, format!("{n} events within {}", span(*window)))
                })
            }
            Condition::Distinct {
                field,
                at_least,
                events,
                window,
            } => {
                let value = self.value_path.as_ref().and_then(|p| text_at(event, p));
                place(&mut group.recent, Seen { at, uuid, value }, *window);
                let distinct = |seen: &[&Seen]| {
                    seen.iter()
                        .filter_map(|s| s.value.as_deref())
                        .collect::<HashSet<&str>>()
                        .len()
                };
                take_window(&mut group.recent, at, *window, |seen| {
                    seen.len() >= *events && distinct(seen) >= *at_least
                })
                .map(|seen| {
                    let refs: Vec<&Seen> = seen.iter().collect();
                    let (d, n) = (distinct(&refs), seen.len());
                    (
                        seen,
                        format!("{n} events, {d} distinct {field}, within {}", span(*window)),
                    )
                })
            }
            Condition::Sequence { within, .. } => {
                // Both steps are kept in time order near the event judged: first steps in
                // `recent`, second steps in `later` (which a late first step can complete).
                group.recent.retain(|s| (s.at - at).abs() <= *within);
                group.later.retain(|s| (s.at - at).abs() <= *within);
                let this = || Seen {
                    at,
                    uuid: uuid.clone(),
                    value: None,
                };
                let told = |seen: Vec<Seen>| {
                    let gap = seen[seen.len() - 1].at - seen[0].at;
                    let text = format!("the second step {} min after the first", gap.num_minutes());
                    (seen, text)
                };
                let mut fired = None;
                let before = group.recent.partition_point(|s| s.at <= at);
                if second_half && before > 0 {
                    let mut seen: Vec<Seen> = group.recent.drain(..before).collect();
                    seen.push(this());
                    fired = Some(told(seen));
                }
                let after = group.later.partition_point(|s| s.at < at);
                if fired.is_none() && first_half && after < group.later.len() {
                    let mut seen = vec![this()];
                    seen.extend(group.later.drain(after..));
                    fired = Some(told(seen));
                }
                if fired.is_none() {
                    if first_half {
                        let position = group.recent.partition_point(|s| s.at <= at);
                        group.recent.insert(position, this());
                    }
                    if second_half {
                        let position = group.later.partition_point(|s| s.at <= at);
                        group.later.insert(position, this());
                    }
                }
                fired
            }
            Condition::Travel { max_kmh } => {
                let (lat, lon, name) = place_of(event)?;
                let here = Place {
                    at,
                    lat,
                    lon,
                    name,
                    uuid,
                };
                // Compared with the sign-ins just before and just after it in time, whatever
                // order they were stored in.
                group.places.retain(|p| (p.at - at).abs() < TRAVEL_HORIZON);
                let position = group.places.partition_point(|p| p.at <= at);
                let neighbours = [
                    position.checked_sub(1).and_then(|i| group.places.get(i)),
                    group.places.get(position),
                ];
                let fired = neighbours.into_iter().flatten().find_map(|other| {
                    let (earlier, later) = if other.at <= here.at {
                        (other, &here)
                    } else {
                        (&here, other)
                    };
                    let km = km_between((earlier.lat, earlier.lon), (later.lat, later.lon));
                    let hours = (later.at - earlier.at).num_milliseconds() as f64 / 3.6e6;
                    let kmh = km / hours.max(1.0 / 3600.0);
                    (km > 300.0 && kmh > *max_kmh).then(|| {
                        let seen = |p: &Place| Seen {
                            at: p.at,
                            uuid: p.uuid.clone(),
                            value: None,
                        };
                        (
                            vec![seen(earlier), seen(later)],
                            format!(
                                "{} then {}: {km:.0} km in {:.0} min ({kmh:.0} km/h)",
                                earlier.name,
                                later.name,
                                hours * 60.0
                            ),
                        )
                    })
                });
                group.places.insert(position, here);
                fired
            }
        };
        let (seen, how) = fired?;
        let first = seen.iter().map(|s| s.at).min().unwrap_or(at);
        let last = seen.iter().map(|s| s.at).max().unwrap_or(at);
        let explanation = match (key.is_empty(), how.is_empty()) {
            (true, true) => self.rule.name.clone(),
            (true, false) => format!("{}: {how}", self.rule.name),
            (false, true) => format!("{} ({key})", self.rule.name),
            (false, false) => format!("{} ({key}): {how}", self.rule.name),
        };
        self.alerts.push(Alert {
            rule: self.rule.id.clone(),
            severity: self.rule.severity,
            group: key,
            first: format_timestamp(first),
            last: format_timestamp(last),
            events: seen.into_iter().map(|s| s.uuid).collect(),
            explanation,
        });
        let index = self.alerts.len() - 1;
        group.open = Some((index, first - suppress, last + suppress));
        Some(index)
    }

    /// The alerts raised so far.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// The alerts raised, oldest first.
    pub fn into_alerts(self) -> Vec<Alert> {
        self.alerts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Severity;
    use serde_json::json;

    fn sign_in(uuid: &str, at: &str, city: &str, lat: f64, lon: f64) -> Value {
        json!({"uuid": uuid, "published": at, "eventType": "user.session.start",
               "outcome": {"result": "SUCCESS"}, "actor": {"alternateId": "ana@example.com"},
               "client": {"geographicalContext": {"city": city, "country": "X",
                          "geolocation": {"lat": lat, "lon": lon}}}})
    }

    /// A rule over sign-ins of each user.
    fn sign_in_rule(
        name: &str,
        severity: Severity,
        condition: Condition,
        suppress: chrono::TimeDelta,
    ) -> Rule {
        Rule {
            id: "t".into(),
            name: name.into(),
            description: String::new(),
            severity,
            filter: okwatch_query::parse_and_validate(
                r#"eventType eq "user.session.start""#,
                okwatch_query::Dialect::Okwatch,
            )
            .unwrap(),
            group_by: Some("actor.alternateId".into()),
            condition,
            suppress,
            runbook: String::new(),
            enabled: true,
            sigma: None,
        }
    }

    #[test]
    fn travel_told_in_time_order_even_when_the_later_sign_in_arrives_first() {
        let mut evaluator = Evaluator::new(sign_in_rule(
            "Impossible travel",
            Severity::Medium,
            Condition::Travel { max_kmh: 900.0 },
            chrono::TimeDelta::hours(1),
        ));
        // Moscow at 10:30 stored before Paris at 10:00: 2,500 km in 30 minutes either way.
        evaluator.feed(&sign_in(
            "b",
            "2026-12-01T10:30:00.000Z",
            "Moscow",
            55.75,
            37.62,
        ));
        evaluator.feed(&sign_in(
            "a",
            "2026-12-01T10:00:00.000Z",
            "Paris",
            48.86,
            2.35,
        ));
        let alerts = evaluator.into_alerts();
        assert_eq!(alerts.len(), 1);
        let alert = &alerts[0];
        assert_eq!(alert.events, ["a", "b"]);
        assert_eq!(
            (alert.first.as_str(), alert.last.as_str()),
            ("2026-12-01T10:00:00.000Z", "2026-12-01T10:30:00.000Z")
        );
        assert!(
            alert.explanation.contains("Paris, X then Moscow, X")
                && alert.explanation.contains("in 30 min"),
            "{}",
            alert.explanation
        );
    }

    #[test]
    fn a_late_arrival_days_older_than_an_alert_does_not_join_it() {
        let mut evaluator = Evaluator::new(sign_in_rule(
            "Denied pushes",
            Severity::High,
            Condition::Count {
                at_least: 3,
                window: chrono::TimeDelta::minutes(10),
            },
            chrono::TimeDelta::minutes(10),
        ));
        let at = |uuid: &str, t: &str| sign_in(uuid, t, "Paris", 48.86, 2.35);
        for (uuid, t) in [
            ("a", "2026-11-23T10:00:00.000Z"),
            ("b", "2026-11-23T10:01:00.000Z"),
            ("c", "2026-11-23T10:02:00.000Z"),
            // Stored later, but from 11 days before: its own matter, not this alert's.
            ("old", "2026-11-12T06:00:00.000Z"),
            // Minutes after the burst: the same attack going on.
            ("d", "2026-11-23T10:05:00.000Z"),
        ] {
            evaluator.feed(&at(uuid, t));
        }
        let alerts = evaluator.into_alerts();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].events, ["a", "b", "c", "d"]);
        assert_eq!(alerts[0].first, "2026-11-23T10:00:00.000Z");
    }

    #[test]
    fn a_burst_stored_newest_first_after_an_unrelated_later_event_is_judged_on_its_own_span() {
        let mut evaluator = Evaluator::new(sign_in_rule(
            "Denied pushes",
            Severity::High,
            Condition::Count {
                at_least: 5,
                window: chrono::TimeDelta::minutes(10),
            },
            chrono::TimeDelta::minutes(10),
        ));
        let at = |uuid: &str, t: &str| sign_in(uuid, t, "Paris", 48.86, 2.35);
        // One failure eleven days later is stored first, then a burst, newest first.
        evaluator.feed(&at("later", "2026-11-23T22:58:00.000Z"));
        for (i, minute) in [32, 31, 30, 29, 28, 27].iter().enumerate() {
            evaluator.feed(&at(
                &format!("b{i}"),
                &format!("2026-11-12T06:{minute}:00.000Z"),
            ));
        }
        let alerts = evaluator.into_alerts();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].events, ["b4", "b3", "b2", "b1", "b0", "b5"]);
        assert_eq!(
            (alerts[0].first.as_str(), alerts[0].last.as_str()),
            ("2026-11-12T06:27:00.000Z", "2026-11-12T06:32:00.000Z")
        );
        assert!(alerts[0].explanation.contains("5 events within 10 min"));
    }
}
