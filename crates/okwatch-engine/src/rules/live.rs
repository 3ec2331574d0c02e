//! Detections on events as they are stored: the evaluators of [`super::Evaluator`], fed the
//! events stored since their last look (in storage order, whether they came by polling, by
//! hook or by import), report the alerts they raised or that grew.

use super::{Alert, Evaluator, Rule};
use crate::EngineError;
use okwatch_model::Timestamp;
use okwatch_query::Expr;
use okwatch_store::{Cursor, EventQuery, Order, Store};
use std::collections::HashMap;

/// Events read in one step at most, so that alerts about a large import come as it is read.
pub const STEP: usize = 250_000;

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
    /// Whether the last step stopped at [`STEP`] events.
    behind: bool,
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
            behind: false,
            seq: cursor.max(0),
        }
    }

    /// The `seq` of the last stored event looked at (to start from after a restart).
    pub fn cursor(&self) -> i64 {
        self.seq
    }

    fn query(&self, filter: Expr, order: Order) -> EventQuery {
        EventQuery {
            filter: Some(filter),
            order,
            fields: Some(self.fields.clone()),
            ..EventQuery::default()
        }
    }

    /// Whether the last step stopped with events still to read (a large import): the next
    /// should come at once.
    pub fn behind(&self) -> bool {
        self.behind
    }

    /// Feeds every event stored since the last call (up to [`STEP`] of them); returns the
    /// alerts raised or grown.
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
            let query = EventQuery {
                since: Some(from),
                ..self.query(filter, Order::Asc)
            };
            let (start, evaluators) = (self.start, &mut self.evaluators);
            store.scan(&query, &mut |stored| {
                if stored.seq <= start {
                    for &i in &members {
                        evaluators[i].feed(&stored.event);
                    }
                }
                true
            })?;
        }
        let query = EventQuery {
            after: Some(Cursor {
                published_micros: 0,
                seq: self.seq,
            }),
            ..self.query(self.filter.clone(), Order::Arrival)
        };
        let old = chrono::Utc::now() - chrono::TimeDelta::days(1);
        let (mut seq, mut read, mut old_fed) = (self.seq, 0, false);
        let evaluators = &mut self.evaluators;
        store.scan(&query, &mut |stored| {
            if okwatch_model::published_of(&stored.event).is_some_and(|at| at < old) {
                old_fed = true;
            }
            for evaluator in evaluators.iter_mut() {
                evaluator.feed(&stored.event);
            }
            seq = stored.seq;
            read += 1;
            read < STEP
        })?;
        self.seq = seq;
        self.behind = read >= STEP;
        if old_fed {
            self.old_fed = Some(std::time::Instant::now());
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
