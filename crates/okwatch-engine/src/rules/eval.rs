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
    /// Travel: the places of the day around the sign-in judged and the newest, in time order.
    places: VecDeque<Place>,
    /// New value: the values the group has had, and its earliest event.
    values: HashSet<String>,
    since: Option<Timestamp>,
    /// Escalation: the group's alerts, and follow-ups not yet matched to one (in time order).
    raised: Vec<usize>,
    follow_ups: VecDeque<(Seen, String)>,
}

/// Runs one rule over events given oldest first.
pub struct Evaluator {
    rule: Rule,
    group_path: Option<AttrPath>,
    /// Where a sequence's second event holds the group.
    then_group_path: Option<AttrPath>,
    value_path: Option<AttrPath>,
    groups: HashMap<String, Group>,
    /// The alerts raised and not yet forgotten; the first one's index is `base`.
    alerts: VecDeque<Kept>,
    base: usize,
}

/// An alert and what its escalation needs.
struct Kept {
    alert: Alert,
    /// The values of a distinct-values condition behind it.
    values: HashSet<String>,
    escalated: bool,
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

/// Forgets what in `items` (kept in time order) `keep` wants neither near the newest of them
/// nor near `at`, the event being judged. Two neighbourhoods, because events come in two
/// streams at once: live ones near the newest, and older ones (an import of history, a
/// backfill) between two live pages. Judging an old event must not wipe the context the
/// next live event needs, nor the reverse.
fn forget_old<T>(
    items: &mut VecDeque<T>,
    at: Timestamp,
    time: impl Fn(&T) -> Timestamp,
    keep: impl Fn(chrono::TimeDelta) -> bool,
) {
    let newest = items.back().map_or(at, |x| time(x).max(at));
    items.retain(|x| keep(newest - time(x)) || keep((time(x) - at).abs()));
}

/// Puts `seen` among a group's recent events, kept in time order whatever order events come
/// in, keeping those within `window` of it or of the newest (events fed in time order keep
/// exactly the trailing window).
fn place(recent: &mut VecDeque<Seen>, seen: Seen, window: chrono::TimeDelta) {
    let at = seen.at;
    forget_old(recent, at, |s| s.at, |age| age < window);
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
            Condition::Distinct { field, .. } | Condition::NewValue { field, .. } => {
                Some(AttrPath::from_dotted(field))
            }
            _ => None,
        };
        let then_group_path = match &rule.condition {
            Condition::Sequence {
                then_group_by: Some(path),
                ..
            }
            | Condition::Absent {
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
            alerts: VecDeque::new(),
            base: 0,
        }
    }

    /// The alert with this index, unless forgotten.
    fn kept(&mut self, index: usize) -> Option<&mut Kept> {
        let slot = index.checked_sub(self.base)?;
        self.alerts.get_mut(slot)
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
            Condition::Sequence { then, .. } | Condition::Absent { then, .. } => {
                matches(then, event)
            }
            _ => false,
        };
        let follow_up = self
            .rule
            .escalate
            .as_ref()
            .is_some_and(|e| matches(&e.when, event));
        if !first_half && !second_half && !follow_up {
            return None;
        }
        let at = published_of(event)?;
        let uuid = event["uuid"].as_str().unwrap_or_default().to_string();
        if follow_up {
            self.follow_up(event, at, &uuid);
            if !first_half && !second_half {
                return None;
            }
        }
        let absent = matches!(self.rule.condition, Condition::Absent { .. });
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
        // (An absence joins when it is judged, in `advance`.)
        let open = group
            .open
            .filter(|(index, _, _)| !absent && *index >= self.base);
        if let Some((index, from, until)) = open {
            if at >= from && at < until {
                let kept = &mut self.alerts[index - self.base];
                let alert = &mut kept.alert;
                // Events may come a little out of order (late arrivals): the span only widens.
                let stamp = format_timestamp(at);
                if stamp > alert.last {
                    alert.last = stamp;
                } else if stamp < alert.first {
                    alert.first = stamp;
                }
                alert.events.push(uuid);
                group.open = Some((index, from.min(at - suppress), until.max(at + suppress)));
                // A sprayed user who joins the alert counts for its escalation too.
                if let Some(value) = self.value_path.as_ref().and_then(|p| text_at(event, p)) {
                    kept.values.insert(value);
                }
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
                forget_old(&mut group.recent, at, |s| s.at, |age| age <= *within);
                forget_old(&mut group.later, at, |s| s.at, |age| age <= *within);
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
            Condition::Absent { within, .. } => {
                let within = *within;
                if second_half {
                    // It answers the first events before it, within the time allowed.
                    group
                        .recent
                        .retain(|a| !(a.at <= at && at <= a.at + within));
                    let position = group.later.partition_point(|s| s.at <= at);
                    group.later.insert(
                        position,
                        Seen {
                            at,
                            uuid: uuid.clone(),
                            value: None,
                        },
                    );
                    let newest = group.later.back().map_or(at, |s| s.at);
                    group.later.retain(|s| newest - s.at <= within);
                }
                if first_half {
                    let answered = group
                        .later
                        .iter()
                        .any(|b| at <= b.at && b.at <= at + within);
                    if !answered {
                        let position = group.recent.partition_point(|s| s.at <= at);
                        group.recent.insert(
                            position,
                            Seen {
                                at,
                                uuid,
                                value: None,
                            },
                        );
                    }
                }
                // Judged once the time allowed has passed (`advance`).
                None
            }
            Condition::NewValue { field, history } => {
                let value = self.value_path.as_ref().and_then(|p| text_at(event, p))?;
                let known = group.values.contains(&value);
                let since = group.since.map_or(at, |s| s.min(at));
                let old_enough = group.since.is_some_and(|s| at - s >= *history);
                group.since = Some(since);
                group.values.insert(value.clone());
                (!known && old_enough).then(|| {
                    (
                        vec![Seen {
                            at,
                            uuid,
                            value: Some(value.clone()),
                        }],
                        format!(
                            "{field} {value}, new after {} days of history",
                            (at - since).num_days()
                        ),
                    )
                })
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
                forget_old(&mut group.places, at, |p| p.at, |age| age < TRAVEL_HORIZON);
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
        Some(self.raise(key, seen, how))
    }

    /// Records an alert of group `key` over `seen` (or, for an absence judged late, joins the
    /// group's open alert); returns its index.
    fn raise(&mut self, key: String, seen: Vec<Seen>, how: String) -> usize {
        let suppress = self.rule.suppress;
        let first = seen
            .iter()
            .map(|s| s.at)
            .min()
            .expect("an alert has events");
        let last = seen
            .iter()
            .map(|s| s.at)
            .max()
            .expect("an alert has events");
        let group = self.groups.entry(key.clone()).or_default();
        if let Some((index, from, until)) = group.open.filter(|(i, _, _)| *i >= self.base) {
            if first >= from && first < until {
                let alert = &mut self.alerts[index - self.base].alert;
                let stamp = format_timestamp(first);
                if stamp > alert.last {
                    alert.last = stamp;
                } else if stamp < alert.first {
                    alert.first = stamp;
                }
                alert.events.extend(seen.into_iter().map(|s| s.uuid));
                group.open = Some((
                    index,
                    from.min(first - suppress),
                    until.max(last + suppress),
                ));
                return index;
            }
        }
        let explanation = match (key.is_empty(), how.is_empty()) {
            (true, true) => self.rule.name.clone(),
            (true, false) => format!("{}: {how}", self.rule.name),
            (false, true) => format!("{} ({key})", self.rule.name),
            (false, false) => format!("{} ({key}): {how}", self.rule.name),
        };
        let values: HashSet<String> = seen.iter().filter_map(|s| s.value.clone()).collect();
        self.alerts.push_back(Kept {
            alert: Alert {
                rule: self.rule.id.clone(),
                severity: self.rule.severity,
                group: key,
                first: format_timestamp(first),
                last: format_timestamp(last),
                events: seen.into_iter().map(|s| s.uuid).collect(),
                explanation,
            },
            values,
            escalated: false,
        });
        let index = self.base + self.alerts.len() - 1;
        group.open = Some((index, first - suppress, last + suppress));
        group.raised.push(index);
        // A follow-up seen before the alert was (events stored out of order).
        if let Some(escalate) = &self.rule.escalate {
            let within = escalate.within;
            let found = group.follow_ups.iter().position(|(f, _)| {
                f.at >= first
                    && f.at <= last + within
                    && (!escalate.among
                        || f.value
                            .as_ref()
                            .is_some_and(|v| self.alerts[index - self.base].values.contains(v)))
            });
            if let Some(position) = found {
                let (follow, what) = group.follow_ups.remove(position).expect("found");
                self.escalate(index, follow, what);
            }
        }
        index
    }

    /// A follow-up of the rule's escalation: it escalates an alert of its group it follows, or
    /// waits for one (a group with no events yet keeps none).
    fn follow_up(&mut self, event: &Value, at: Timestamp, uuid: &str) {
        let Some(escalate) = self.rule.escalate.clone() else {
            return;
        };
        let key = match &self.group_path {
            Some(path) => match text_at(event, path) {
                Some(key) => key,
                None => return,
            },
            None => String::new(),
        };
        let value = if escalate.among {
            self.value_path.as_ref().and_then(|p| text_at(event, p))
        } else {
            None
        };
        let Some(group) = self.groups.get_mut(&key) else {
            return;
        };
        let base = self.base;
        group.raised.retain(|&i| i >= base);
        let follows = group.raised.iter().copied().find(|&i| {
            let kept = &self.alerts[i - base];
            let alert = &kept.alert;
            let (Some(first), Some(last)) = (
                okwatch_model::parse_timestamp(&alert.first),
                okwatch_model::parse_timestamp(&alert.last),
            ) else {
                return false;
            };
            !kept.escalated
                && at >= first
                && at <= last + escalate.within
                && (!escalate.among || value.as_ref().is_some_and(|v| kept.values.contains(v)))
        });
        let seen = Seen {
            at,
            uuid: uuid.to_string(),
            value,
        };
        let what = what_happened(event);
        match follows {
            Some(index) => self.escalate(index, seen, what),
            None => {
                let position = group.follow_ups.partition_point(|(f, _)| f.at <= at);
                group.follow_ups.insert(position, (seen, what));
                let reach = escalate.within * 4;
                forget_old(&mut group.follow_ups, at, |(f, _)| f.at, |age| age <= reach);
            }
        }
    }

    fn escalate(&mut self, index: usize, follow: Seen, what: String) {
        let severity = self
            .rule
            .escalate
            .as_ref()
            .map_or(self.rule.severity, |e| e.severity);
        let Some(kept) = self.kept(index) else {
            return;
        };
        kept.escalated = true;
        let alert = &mut kept.alert;
        alert.severity = alert.severity.max(severity);
        let stamp = format_timestamp(follow.at);
        if stamp > alert.last {
            alert.last = stamp;
        }
        alert.explanation.push_str(&format!("; then {what}"));
        alert.events.push(follow.uuid);
    }

    /// Judges what only time can: first events of an absence whose time allowed has passed by
    /// `now` raise their alerts. Returns how many were raised or joined.
    pub fn advance(&mut self, now: Timestamp) -> usize {
        let Condition::Absent { within, then, .. } = &self.rule.condition else {
            return 0;
        };
        let (within, then) = (*within, then.to_string());
        let mut due: Vec<(String, Seen)> = Vec::new();
        for (key, group) in &mut self.groups {
            while group.recent.front().is_some_and(|a| a.at + within <= now) {
                let seen = group.recent.pop_front().expect("checked");
                due.push((key.clone(), seen));
            }
        }
        due.sort_by_key(|(_, seen)| seen.at);
        let count = due.len();
        for (key, seen) in due {
            let how = format!(
                "not followed by `{then}` within {}",
                super::definition::format_span(within)
            );
            self.raise(key, vec![seen], how);
        }
        count
    }

    /// The alerts raised and not forgotten, each with its index (stable for the evaluator's
    /// life).
    pub fn alerts(&self) -> impl Iterator<Item = (usize, &Alert)> {
        self.alerts
            .iter()
            .enumerate()
            .map(|(i, kept)| (self.base + i, &kept.alert))
    }

    /// The alerts raised, in the order raised.
    pub fn into_alerts(self) -> Vec<Alert> {
        self.alerts.into_iter().map(|kept| kept.alert).collect()
    }

    /// Forgets what only events published before `horizon` could still need: the oldest alerts
    /// whose last event is older (in the order raised), and groups with nothing newer. A
    /// long-running server stays in bounded memory; an event published before the horizon
    /// that arrives later is judged on its own.
    pub fn forget_before(&mut self, horizon: Timestamp) {
        let stamp = format_timestamp(horizon);
        while self.alerts.front().is_some_and(|k| k.alert.last < stamp) {
            self.alerts.pop_front();
            self.base += 1;
        }
        let base = self.base;
        self.groups.retain(|_, group| {
            group.recent.retain(|s| s.at >= horizon);
            group.later.retain(|s| s.at >= horizon);
            group.places.retain(|p| p.at >= horizon);
            group.follow_ups.retain(|(f, _)| f.at >= horizon);
            group.raised.retain(|&i| i >= base);
            if group
                .open
                .is_some_and(|(i, _, until)| i < base || until < horizon)
            {
                group.open = None;
            }
            // A new-value group's history is what it is for: kept.
            !(group.recent.is_empty()
                && group.later.is_empty()
                && group.places.is_empty()
                && group.follow_ups.is_empty()
                && group.raised.is_empty()
                && group.open.is_none()
                && group.values.is_empty())
        });
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
            escalate: None,
            sigma: None,
        }
    }

    /// A user's sign-ins counted: `at_least` within 10 minutes, suppressed for 10.
    fn count_in_ten_minutes(at_least: usize) -> Evaluator {
        Evaluator::new(sign_in_rule(
            "Sign-ins",
            Severity::High,
            Condition::Count {
                at_least,
                window: chrono::TimeDelta::minutes(10),
            },
            chrono::TimeDelta::minutes(10),
        ))
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
        let mut evaluator = count_in_ten_minutes(3);
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
    fn an_old_event_stored_in_the_middle_of_a_live_burst_does_not_break_it() {
        // An import of last month's history runs while collection stores a live attack: their
        // events interleave in storage order. The attack must still be counted whole.
        let mut evaluator = count_in_ten_minutes(3);
        let at = |uuid: &str, t: &str| sign_in(uuid, t, "Paris", 48.86, 2.35);
        for (uuid, t) in [
            ("a", "2026-11-23T10:00:00.000Z"),
            ("b", "2026-11-23T10:01:00.000Z"),
            ("imported", "2026-10-30T08:00:00.000Z"),
            ("c", "2026-11-23T10:02:00.000Z"),
        ] {
            evaluator.feed(&at(uuid, t));
        }
        let alerts = evaluator.into_alerts();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].events, ["a", "b", "c"]);
    }

    #[test]
    fn travel_is_judged_across_an_old_sign_in_stored_between_two_live_ones() {
        let mut evaluator = Evaluator::new(sign_in_rule(
            "Impossible travel",
            Severity::Medium,
            Condition::Travel { max_kmh: 900.0 },
            chrono::TimeDelta::hours(1),
        ));
        for (uuid, t, city, lat, lon) in [
            ("paris", "2026-12-01T10:00:00.000Z", "Paris", 48.86, 2.35),
            ("imported", "2026-11-02T09:00:00.000Z", "Paris", 48.86, 2.35),
            ("moscow", "2026-12-01T10:30:00.000Z", "Moscow", 55.75, 37.62),
        ] {
            evaluator.feed(&sign_in(uuid, t, city, lat, lon));
        }
        let alerts = evaluator.into_alerts();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].events, ["paris", "moscow"]);
    }

    #[test]
    fn a_burst_stored_newest_first_after_an_unrelated_later_event_is_judged_on_its_own_span() {
        let mut evaluator = count_in_ten_minutes(5);
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

    fn event(uuid: &str, at: &str, kind: &str, result: &str, who: &str, ip: &str) -> Value {
        json!({"uuid": uuid, "published": at, "eventType": kind,
               "outcome": {"result": result}, "actor": {"alternateId": who},
               "target": [{"alternateId": who}],
               "client": {"ipAddress": ip, "geographicalContext": {"country": "France"}}})
    }

    fn rule_from(yaml: &str) -> Rule {
        crate::rules::definition::parse_one(yaml, 1).unwrap().rule
    }

    #[test]
    fn a_factor_reset_alerts_only_when_no_factor_follows_in_time() {
        let rule = crate::rules::pack::builtin()
            .into_iter()
            .find(|r| r.id == "okwatch.factor_reset")
            .unwrap();
        let mut evaluator = Evaluator::new(rule);
        let reset = |uuid, at, who| {
            event(
                uuid,
                at,
                "user.mfa.factor.reset_all",
                "SUCCESS",
                who,
                "198.51.100.1",
            )
        };
        evaluator.feed(&reset("r1", "2026-12-01T08:00:00.000Z", "ana@example.com"));
        evaluator.feed(&reset("r2", "2026-12-01T08:00:00.000Z", "bob@example.com"));
        // Bob sets a factor up three hours later; Ana never does.
        evaluator.feed(&event(
            "a1",
            "2026-12-01T11:00:00.000Z",
            "user.mfa.factor.activate",
            "SUCCESS",
            "bob@example.com",
            "198.51.100.2",
        ));
        let at = |t: &str| okwatch_model::parse_timestamp(t).unwrap();
        assert_eq!(
            evaluator.advance(at("2026-12-01T19:59:00.000Z")),
            0,
            "not yet 12 h"
        );
        assert_eq!(evaluator.advance(at("2026-12-01T20:00:00.000Z")), 1);
        let alerts = evaluator.into_alerts();
        assert_eq!(alerts.len(), 1);
        assert_eq!(
            (alerts[0].group.as_str(), alerts[0].events.as_slice()),
            ("ana@example.com", &["r1".to_string()][..])
        );
        assert!(
            alerts[0].explanation.contains("within 12h"),
            "{}",
            alerts[0].explanation
        );
    }

    #[test]
    fn a_country_is_new_only_against_enough_history() {
        let mut evaluator = Evaluator::new(rule_from(
            "id: t.new\nname: New country\nseverity: low\nfilter: 'eventType eq \"user.session.start\"'\n\
             group_by: actor.alternateId\ncondition:\n  kind: new_value\n  field: client.geographicalContext.country\n  history: 14d\n",
        ));
        let sign_in = |uuid: &str, day: u32, who: &str, country: &str| {
            let mut e = event(
                uuid,
                &format!("2026-11-{day:02}T09:00:00.000Z"),
                "user.session.start",
                "SUCCESS",
                who,
                "198.51.100.1",
            );
            e["client"]["geographicalContext"]["country"] = json!(country);
            e
        };
        for day in 1..=20 {
            evaluator.feed(&sign_in(
                &format!("ana{day}"),
                day,
                "ana@example.com",
                "France",
            ));
        }
        evaluator.feed(&sign_in("ana-de", 21, "ana@example.com", "Germany"));
        evaluator.feed(&sign_in("ana-de2", 22, "ana@example.com", "Germany"));
        // Bob is new: his second country is not news yet.
        evaluator.feed(&sign_in("bob1", 18, "bob@example.com", "France"));
        evaluator.feed(&sign_in("bob2", 21, "bob@example.com", "Spain"));
        let alerts = evaluator.into_alerts();
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        assert_eq!(alerts[0].events, ["ana-de"]);
        assert!(
            alerts[0].explanation.contains("Germany, new after 20 days"),
            "{}",
            alerts[0].explanation
        );
    }

    #[test]
    fn a_spray_escalates_when_a_targeted_user_then_signs_in_from_the_spraying_ip() {
        let spray = || {
            crate::rules::pack::builtin()
                .into_iter()
                .find(|r| r.id == "okwatch.password_spray")
                .unwrap()
        };
        let failure = |i: usize, ip: &str| {
            event(
                &format!("f{i}"),
                &format!("2026-12-01T10:{:02}:00.000Z", i),
                "user.session.start",
                "FAILURE",
                &format!("user{}@example.com", i % 6),
                ip,
            )
        };
        let success = |uuid: &str, at: &str, who: &str, ip: &str| {
            event(uuid, at, "user.session.start", "SUCCESS", who, ip)
        };
        // In time order: the spray, a success by someone not targeted, then by a target.
        let mut evaluator = Evaluator::new(spray());
        for i in 0..16 {
            evaluator.feed(&failure(i, "203.0.113.9"));
        }
        evaluator.feed(&success(
            "s-other",
            "2026-12-01T10:30:00.000Z",
            "zoe@example.com",
            "203.0.113.9",
        ));
        evaluator.feed(&success(
            "s-elsewhere",
            "2026-12-01T10:31:00.000Z",
            "user1@example.com",
            "198.51.100.7",
        ));
        evaluator.feed(&success(
            "s-target",
            "2026-12-01T11:40:00.000Z",
            "user2@example.com",
            "203.0.113.9",
        ));
        let alerts = evaluator.into_alerts();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].severity, Severity::Critical);
        assert_eq!(
            alerts[0].events.last().map(String::as_str),
            Some("s-target")
        );
        assert!(!alerts[0]
            .events
            .iter()
            .any(|e| e == "s-other" || e == "s-elsewhere"));
        assert!(
            alerts[0].explanation.contains("; then user2@example.com"),
            "{}",
            alerts[0].explanation
        );

        // Stored out of order: the success first, the spray after it.
        let mut evaluator = Evaluator::new(spray());
        evaluator.feed(&failure(0, "203.0.113.9"));
        evaluator.feed(&success(
            "s-target",
            "2026-12-01T11:40:00.000Z",
            "user2@example.com",
            "203.0.113.9",
        ));
        for i in 1..16 {
            evaluator.feed(&failure(i, "203.0.113.9"));
        }
        let alerts = evaluator.into_alerts();
        assert_eq!(alerts[0].severity, Severity::Critical, "{alerts:#?}");

        // No follow-up: as shipped.
        let mut evaluator = Evaluator::new(spray());
        for i in 0..16 {
            evaluator.feed(&failure(i, "203.0.113.9"));
        }
        assert_eq!(evaluator.into_alerts()[0].severity, Severity::High);
    }

    #[test]
    fn threatinsight_alerts_only_on_what_okta_let_through() {
        let rule = crate::rules::pack::builtin()
            .into_iter()
            .find(|r| r.id == "okwatch.threat_insight")
            .unwrap();
        let mut evaluator = Evaluator::new(rule);
        let threat = |uuid, result| {
            event(
                uuid,
                "2026-12-01T08:00:00.000Z",
                "security.threat.detected",
                result,
                "unknown",
                "198.51.100.7",
            )
        };
        assert_eq!(evaluator.feed(&threat("denied", "DENY")), None);
        assert!(evaluator.feed(&threat("allowed", "ALLOW")).is_some());
        let alerts = evaluator.into_alerts();
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].events, vec!["allowed".to_string()]);
    }
}
