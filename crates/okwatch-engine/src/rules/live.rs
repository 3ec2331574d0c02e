//! Detections on events as they are stored: the evaluators of [`super::Evaluator`], fed the
//! events stored since their last look (in storage order, whether they came by polling, by
//! hook or by import), report the alerts they raised or that grew.

use super::{Alert, Evaluator, Rule};
use crate::EngineError;
use okwatch_model::Timestamp;
use okwatch_query::Expr;
use okwatch_store::{Cursor, EventQuery, Order, Store};
use std::collections::HashMap;

/// Events read at a time.
const PAGE: usize = 5_000;

/// The shipped (or any) rules, running on new events.
pub struct LiveDetections {
    evaluators: Vec<Evaluator>,
    /// Per evaluator, how many events each of its alerts (by index) had when last reported.
    reported: Vec<HashMap<usize, usize>>,
    filter: Expr,
    fields: Vec<String>,
    /// The warm-up still to read, once, at the first step: for each set of evaluators that
    /// reach as far back, the events published since then and stored up to the cursor the
    /// detections started from, which the windows of new events may need.
    warm_up: Vec<(Timestamp, Vec<usize>)>,
    /// The cursor the detections started from.
    start: i64,
    /// When an event published more than a day ago was last fed (a backfill or an import in
    /// progress): while one came within the hour, nothing is forgotten, so an attack split
    /// across the pages of a backfill is still judged whole.
    old_fed: Option<std::time::Instant>,
    /// The `seq` of the last stored event looked at: every later one is read, whenever it was
    /// published (a backfill, an import, a late hook delivery).
    seq: i64,
}

/// A stable id for an alert: the same rule, group and first event always give the same id, so
/// evaluating the same events again (after a restart) updates alerts instead of doubling them.
pub fn alert_id(alert: &Alert) -> String {
    // FNV-1a: stable across builds and platforms, unlike the standard library's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let first = alert.events.first().map_or("", String::as_str);
    for byte in [alert.rule.as_str(), alert.group.as_str(), first]
        .join("\u{1f}")
        .bytes()
    {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("al{hash:016x}")
}

impl LiveDetections {
    /// Runs `rules` on every event stored after `cursor` (the `seq` the detections had
    /// reached, 0 for all), with the events stored up to `cursor` and published from
    /// `warm_from` on (or further back, as far as a rule's window reaches) as context.
    pub fn new(rules: Vec<Rule>, warm_from: Timestamp, cursor: i64) -> LiveDetections {
        let rules: Vec<Rule> = rules.into_iter().filter(|r| r.enabled).collect();
        let now = chrono::Utc::now();
        let mut warm_up: Vec<(Timestamp, Vec<usize>)> = Vec::new();
        if cursor > 0 {
            for (i, rule) in rules.iter().enumerate() {
                let from = warm_from.min(now - rule.reach());
                match warm_up.iter_mut().find(|(f, _)| *f == from) {
                    Some((_, members)) => members.push(i),
                    None => warm_up.push((from, vec![i])),
                }
            }
        }
        let filter = Expr::Or(rules.iter().map(Rule::events_filter).collect());
        let mut fields: Vec<String> = rules.iter().flat_map(Rule::fields).collect();
        fields.sort();
        fields.dedup();
        LiveDetections {
            reported: vec![HashMap::new(); rules.len()],
            evaluators: rules.into_iter().map(Evaluator::new).collect(),
            filter,
            fields,
            warm_up,
            start: cursor.max(0),
            old_fed: None,
            seq: cursor.max(0),
        }
    }

    /// The `seq` of the last stored event looked at (to start from after a restart).
    pub fn cursor(&self) -> i64 {
        self.seq
    }

    fn page(&self, filter: &Expr, since: Option<Timestamp>, after: Option<Cursor>) -> EventQuery {
        EventQuery {
            filter: Some(filter.clone()),
            since,
            order: Order::Arrival,
            limit: PAGE,
            after,
            fields: Some(self.fields.clone()),
            ..EventQuery::default()
        }
    }

    fn feed(&mut self, event: &serde_json::Value) {
        for evaluator in &mut self.evaluators {
            evaluator.feed(event);
        }
    }

    /// Feeds every event stored since the last call; returns the alerts raised or grown.
    pub fn step(&mut self, store: &dyn Store) -> Result<Vec<Alert>, EngineError> {
        if self.evaluators.is_empty() {
            return Ok(Vec::new());
        }
        for (from, members) in std::mem::take(&mut self.warm_up) {
            let filter = Expr::Or(
                members
                    .iter()
                    .map(|&i| self.evaluators[i].rule().events_filter())
                    .collect(),
            );
            let mut after = None;
            loop {
                let page = store.search(&self.page(&filter, Some(from), after))?;
                for stored in page.events.iter().filter(|e| e.seq <= self.start) {
                    for &i in &members {
                        self.evaluators[i].feed(&stored.event);
                    }
                }
                after = page.events.last().map(|e| Cursor {
                    published_micros: 0,
                    seq: e.seq,
                });
                if page.next.is_none() || page.events.last().is_none_or(|e| e.seq >= self.start) {
                    break;
                }
            }
        }
        loop {
            let after = Cursor {
                published_micros: 0,
                seq: self.seq,
            };
            let page = store.search(&self.page(&self.filter, None, Some(after)))?;
            let old = chrono::Utc::now() - chrono::TimeDelta::days(1);
            for stored in &page.events {
                if okwatch_model::published_of(&stored.event).is_some_and(|at| at < old) {
                    self.old_fed = Some(std::time::Instant::now());
                }
                self.feed(&stored.event);
            }
            if let Some(last) = page.events.last() {
                self.seq = last.seq;
            }
            if page.next.is_none() {
                break;
            }
        }
        // Absences whose time has passed are judged now, whether or not events came.
        let now = chrono::Utc::now();
        for evaluator in &mut self.evaluators {
            evaluator.advance(now);
        }
        let quiet = self
            .old_fed
            .is_none_or(|at| at.elapsed() > std::time::Duration::from_secs(3600));
        let mut changed = Vec::new();
        for (evaluator, reported) in self.evaluators.iter_mut().zip(&mut self.reported) {
            for (index, alert) in evaluator.alerts() {
                if reported.get(&index) != Some(&alert.events.len()) {
                    changed.push(alert.clone());
                    reported.insert(index, alert.events.len());
                }
            }
            // What no new event can change any more is let go: a day beyond the rule's reach.
            if quiet {
                let horizon = now - evaluator.rule().reach() - chrono::TimeDelta::days(1);
                evaluator.forget_before(horizon);
            }
            let kept: std::collections::HashSet<usize> =
                evaluator.alerts().map(|(index, _)| index).collect();
            reported.retain(|index, _| kept.contains(index));
        }
        Ok(changed)
    }
}
