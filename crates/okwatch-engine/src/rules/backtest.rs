//! Runs rules over stored history: the events any rule looks at are read once, oldest first, in
//! one scan (only the fields the rules read), and fed to every rule's evaluator, exactly
//! as live events will be.

use super::{Alert, Evaluator, Rule};
use crate::EngineError;
use okwatch_model::Timestamp;
use okwatch_query::Expr;
use okwatch_store::{EventQuery, Order, Store};

/// The alerts `rules` raise over the events published in [`since`, `until`), oldest first.
pub fn backtest(
    store: &dyn Store,
    rules: &[Rule],
    since: Option<Timestamp>,
    until: Option<Timestamp>,
) -> Result<Vec<Alert>, EngineError> {
    let rules: Vec<&Rule> = rules.iter().filter(|r| r.enabled).collect();
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields: Vec<String> = rules.iter().flat_map(|r| r.fields()).collect();
    fields.sort();
    fields.dedup();
    let query = EventQuery {
        filter: Some(Expr::Or(rules.iter().map(|r| r.events_filter()).collect())),
        fields: Some(fields),
        since,
        until,
        order: Order::Asc,
        ..EventQuery::default()
    };
    let mut evaluators: Vec<Evaluator> =
        rules.iter().map(|r| Evaluator::new((*r).clone())).collect();
    store.scan(&query, &mut |stored| {
        for evaluator in &mut evaluators {
            evaluator.feed(&stored.event);
        }
        true
    })?;
    let mut alerts = Vec::new();
    // Absences are judged at the end of the span looked at (or now).
    let end = until.unwrap_or_else(chrono::Utc::now);
    for mut evaluator in evaluators {
        evaluator.advance(end);
        alerts.extend(evaluator.into_alerts());
    }
    alerts.sort_by(|a, b| a.first.cmp(&b.first).then_with(|| a.rule.cmp(&b.rule)));
    Ok(alerts)
}
