//! Detections on events as they are stored: the evaluators of [`super::Evaluator`], fed the
//! events stored since their last look (in storage order, whether they came by polling, by
//! hook or by import), report the alerts they raised or that grew.

use super::{Alert, Evaluator, Rule};
use crate::EngineError;
use okwatch_model::Timestamp;
use okwatch_query::Expr;
use okwatch_store::{Cursor, EventQuery, Order, Store};

/// Events read at a time.
const PAGE: usize = 5_000;

/// The shipped (or any) rules, running on new events.
pub struct LiveDetections {
    evaluators: Vec<Evaluator>,
    /// Per evaluator, how many events each of its alerts had when last reported.
    reported: Vec<Vec<usize>>,
    filter: Expr,
    fields: Vec<String>,
    /// Stored at or after this (the warm-up: events a window may still need).
    since: Timestamp,
    after: Option<Cursor>,
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
    /// Runs `rules` on the events stored from `since` on.
    pub fn new(rules: Vec<Rule>, since: Timestamp) -> LiveDetections {
        let rules: Vec<Rule> = rules.into_iter().filter(|r| r.enabled).collect();
        let filter = Expr::Or(rules.iter().map(Rule::events_filter).collect());
        let mut fields: Vec<String> = rules.iter().flat_map(Rule::fields).collect();
        fields.sort();
        fields.dedup();
        LiveDetections {
            reported: vec![Vec::new(); rules.len()],
            evaluators: rules.into_iter().map(Evaluator::new).collect(),
            filter,
            fields,
            since,
            after: None,
        }
    }

    /// Feeds every event stored since the last call; returns the alerts raised or grown.
    pub fn step(&mut self, store: &dyn Store) -> Result<Vec<Alert>, EngineError> {
        if self.evaluators.is_empty() {
            return Ok(Vec::new());
        }
        loop {
            let page = store.search(&EventQuery {
                filter: Some(self.filter.clone()),
                since: Some(self.since),
                order: Order::Arrival,
                limit: PAGE,
                after: self.after,
                fields: Some(self.fields.clone()),
                ..EventQuery::default()
            })?;
            for stored in &page.events {
                for evaluator in &mut self.evaluators {
                    evaluator.feed(&stored.event);
                }
            }
            if let Some(last) = page.events.last() {
                self.after = Some(Cursor {
                    published_micros: 0,
                    seq: last.seq,
                });
            }
            if page.next.is_none() {
                break;
            }
        }
        let mut changed = Vec::new();
        for (evaluator, reported) in self.evaluators.iter().zip(&mut self.reported) {
            for (i, alert) in evaluator.alerts().iter().enumerate() {
                if reported.get(i) != Some(&alert.events.len()) {
                    changed.push(alert.clone());
                }
            }
            *reported = evaluator.alerts().iter().map(|a| a.events.len()).collect();
        }
        Ok(changed)
    }
}
