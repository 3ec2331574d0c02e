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

#[derive(Default)]
struct Group {
    recent: VecDeque<Seen>,
    /// The alert this group's matches join, and until when.
    open: Option<(usize, Timestamp)>,
    /// Travel: the last place seen (time, latitude, longitude, name, uuid).
    last_place: Option<(Timestamp, f64, f64, String, String)>,
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
        let first_half = matches(&self.rule.filter, event);
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
        // Within an alert's suppression, a match joins that alert.
        if let Some((index, until)) = group.open {
            if at < until {
                let alert = &mut self.alerts[index];
                // Events may come a little out of order (late arrivals): the span only widens.
                let stamp = format_timestamp(at);
                if stamp > alert.last {
                    alert.last = stamp;
                } else if stamp < alert.first {
                    alert.first = stamp;
                }
                alert.events.push(uuid);
                group.open = Some((index, at + suppress));
                return None;
            }
            group.open = None;
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
                group.recent.push_back(Seen {
                    at,
                    uuid,
                    value: None,
                });
                while group.recent.front().is_some_and(|s| s.at <= at - *window) {
                    group.recent.pop_front();
                }
                (group.recent.len() >= *at_least).then(|| {
                    let n = group.recent.len();
                    (
                        group.recent.drain(..).collect(),
                        format!("{n} events within {}", span(*window)),
                    )
                })
            }
            Condition::Distinct {
                field,
                at_least,
                events,
                window,
            } => {
                let value = self.value_path.as_ref().and_then(|p| text_at(event, p));
                group.recent.push_back(Seen { at, uuid, value });
                while group.recent.front().is_some_and(|s| s.at <= at - *window) {
                    group.recent.pop_front();
                }
                let distinct: HashSet<&str> = group
                    .recent
                    .iter()
                    .filter_map(|s| s.value.as_deref())
                    .collect();
                let (d, n) = (distinct.len(), group.recent.len());
                (d >= *at_least && n >= *events).then(|| {
                    (
                        group.recent.drain(..).collect(),
                        format!("{n} events, {d} distinct {field}, within {}", span(*window)),
                    )
                })
            }
            Condition::Sequence { within, .. } => {
                while group.recent.front().is_some_and(|s| s.at < at - *within) {
                    group.recent.pop_front();
                }
                let fired = (second_half && !group.recent.is_empty()).then(|| {
                    let mut seen: Vec<Seen> = group.recent.drain(..).collect();
                    let gap = at - seen[0].at;
                    seen.push(Seen {
                        at,
                        uuid: uuid.clone(),
                        value: None,
                    });
                    (
                        seen,
                        format!("the second step {} min after the first", gap.num_minutes()),
                    )
                });
                if first_half && fired.is_none() {
                    group.recent.push_back(Seen {
                        at,
                        uuid,
                        value: None,
                    });
                }
                fired
            }
            Condition::Travel { max_kmh } => {
                let place = place_of(event);
                let mut fired = None;
                if let (Some((lat, lon, name)), Some((then, lat0, lon0, name0, uuid0))) =
                    (&place, &group.last_place)
                {
                    let km = km_between((*lat0, *lon0), (*lat, *lon));
                    // A late event can be older than the last place seen: the pair is the
                    // same, told in time order.
                    let hours = (at - *then).num_milliseconds().abs() as f64 / 3.6e6;
                    let kmh = km / hours.max(1.0 / 3600.0);
                    if km > 300.0 && kmh > *max_kmh {
                        let earlier = Seen {
                            at: *then,
                            uuid: uuid0.clone(),
                            value: None,
                        };
                        let later = Seen {
                            at,
                            uuid: uuid.clone(),
                            value: None,
                        };
                        let (pair, from, to) = if at >= *then {
                            ([earlier, later], name0, name)
                        } else {
                            ([later, earlier], name, name0)
                        };
                        fired = Some((
                            pair.into_iter().collect(),
                            format!(
                                "{from} then {to}: {km:.0} km in {:.0} min ({kmh:.0} km/h)",
                                hours * 60.0
                            ),
                        ));
                    }
                }
                // The newest place is the one to compare the next sign-in with.
                if let Some((lat, lon, name)) = place {
                    if group.last_place.as_ref().is_none_or(|last| at >= last.0) {
                        group.last_place = Some((at, lat, lon, name, uuid));
                    }
                }
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
        group.open = Some((index, last + suppress));
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

    #[test]
    fn travel_told_in_time_order_even_when_the_later_sign_in_arrives_first() {
        let rule = Rule {
            id: "t".into(),
            name: "Impossible travel".into(),
            description: String::new(),
            severity: Severity::Medium,
            filter: okwatch_query::parse_and_validate(
                r#"eventType eq "user.session.start""#,
                okwatch_query::Dialect::Okwatch,
            )
            .unwrap(),
            group_by: Some("actor.alternateId".into()),
            condition: Condition::Travel { max_kmh: 900.0 },
            suppress: chrono::TimeDelta::hours(1),
            runbook: String::new(),
            enabled: true,
        };
        let mut evaluator = Evaluator::new(rule);
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
}
