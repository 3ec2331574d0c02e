//! Runs rules over stored history: each rule's events are read oldest first, a page at a time,
//! and fed to its evaluator, exactly as live events will be.

use super::{Alert, Evaluator, Rule};
use crate::EngineError;
use okwatch_model::Timestamp;
use okwatch_store::{EventQuery, Order, Store};

/// Events read at a time.
const PAGE: usize = 5_000;

/// The alerts `rules` raise over the events published in [`since`, `until`), oldest first.
pub fn backtest(
    store: &dyn Store,
    rules: &[Rule],
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Vec<Alert>, EngineError> {
    let mut alerts = Vec::new();
    for rule in rules.iter().filter(|r| r.enabled) {
        let mut query = EventQuery {
            filter: Some(rule.events_filter()),
            fields: Some(rule.fields()),
            since,
            until,
            order: Order::Asc,
            limit: PAGE,
            ..EventQuery::default()
        };
        let mut evaluator = Evaluator::new(rule.clone());
        loop {
            let page = store.search(&query)?;
            for stored in &page.events {
                evaluator.feed(&stored.event);
            }
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        alerts.extend(evaluator.into_alerts());
    }
    alerts.sort_by(|a, b| a.first.cmp(&b.first).then_with(|| a.rule.cmp(&b.rule)));
    Ok(alerts)
}
