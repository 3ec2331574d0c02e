//! Detection rules: a filter that selects events, and a condition over the selected events of
//! one group (an actor, an IP, a session…) within a time window. The same evaluator runs over
//! history (a backtest, [`backtest`]) and, next, over events as they are stored.
//!
//! Conditions are the ones the best public detection sets use for Okta: any match; at least N
//! events; at least N distinct values of a field (one IP, many users: a spray), optionally with
//! at least M events too; an event of one kind, then one of another for the same key (a grant,
//! then an API token); and sign-ins farther apart than a speed allows (impossible travel).

pub mod backtest;
mod eval;
pub mod live;
pub mod pack;
pub mod sigma;

pub use eval::Evaluator;

use okwatch_query::Expr;
use serde::Serialize;

/// How much an alert matters: a change worth knowing about is info or low, an attack medium or
/// above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Worth a look.
    Low,
    /// Likely an attack.
    Medium,
    /// An attack, act now.
    High,
    /// An attack that succeeded.
    Critical,
}

impl Severity {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// What must hold, within a group, for a rule to raise an alert.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Every matching event.
    Any,
    /// At least `at_least` matching events within `window`.
    Count {
        /// The threshold.
        at_least: usize,
        /// The window.
        window: chrono::TimeDelta,
    },
    /// At least `at_least` distinct values of `field` (and at least `events` events) within
    /// `window`.
    Distinct {
        /// The attribute whose values are counted.
        field: String,
        /// Distinct values needed.
        at_least: usize,
        /// Events needed as well (0: no minimum).
        events: usize,
        /// The window.
        window: chrono::TimeDelta,
    },
    /// A matching event, then an event matching `then` for the same group within `within`.
    Sequence {
        /// The second event.
        then: Box<Expr>,
        /// Where the second event holds the group's value, when not where the first does (a
        /// grant's target is the token's creator: `actor.alternateId`).
        then_group_by: Option<String>,
        /// At most this long after the first.
        within: chrono::TimeDelta,
    },
    /// Two matching events of one group whose places are farther apart than `max_kmh` allows
    /// for the time between them (from Okta's `client.geographicalContext.geolocation`).
    Travel {
        /// The fastest believable speed.
        max_kmh: f64,
    },
}

/// A detection rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable id (`okwatch.brute_force`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// What it catches and why it matters.
    pub description: String,
    /// How much its alerts matter.
    pub severity: Severity,
    /// The events it looks at.
    pub filter: Expr,
    /// The attribute whose value is the group (`actor.alternateId`, `client.ipAddress`…);
    /// `None` puts every event in one group.
    pub group_by: Option<String>,
    /// What must hold within a group.
    pub condition: Condition,
    /// After an alert, further matches of the same group within this long join it instead of
    /// raising another.
    pub suppress: chrono::TimeDelta,
    /// What to do about an alert.
    pub runbook: String,
    /// Whether it runs.
    pub enabled: bool,
    /// A Sigma rule's detection, which events must also match (its `filter` is then only
    /// what the store can narrow by).
    pub sigma: Option<std::sync::Arc<sigma::Detection>>,
}

impl Rule {
    /// Every event the rule looks at: its filter's, or either step's of a sequence.
    pub fn events_filter(&self) -> Expr {
        match &self.condition {
            Condition::Sequence { then, .. } => {
                Expr::Or(vec![self.filter.clone(), then.as_ref().clone()])
            }
            _ => self.filter.clone(),
        }
    }

    /// The attributes its evaluator reads, for a store asked for only those: the filters',
    /// the group and counted values, the place, and what an explanation quotes.
    pub fn fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self
            .events_filter()
            .paths()
            .iter()
            .map(|p| p.dotted())
            .collect();
        fields.extend(
            [
                "uuid",
                "published",
                "eventType",
                "displayMessage",
                "actor",
                "target",
                "client.geographicalContext",
            ]
            .map(String::from),
        );
        fields.extend(self.group_by.clone());
        if let Some(sigma) = &self.sigma {
            fields.extend(sigma.fields());
        }
        match &self.condition {
            Condition::Sequence {
                then_group_by: Some(path),
                ..
            } => fields.push(path.clone()),
            Condition::Distinct { field, .. } => fields.push(field.clone()),
            _ => {}
        }
        fields.sort();
        fields.dedup();
        fields
    }
}

/// An alert: a rule's condition held for a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The rule's id.
    pub rule: String,
    /// Its severity.
    pub severity: Severity,
    /// The group's value (`""` for a rule without groups).
    pub group: String,
    /// When the first event behind it happened (ISO 8601).
    pub first: String,
    /// When the last one did.
    pub last: String,
    /// The uuids of the events behind it, oldest first.
    pub events: Vec<String>,
    /// What happened, in words.
    pub explanation: String,
}

/// The search that finds an alert's first `max` events: their uuids, within its span (and a
/// minute either side). The console's link to the explorer, the alert's page and MCP's
/// `get_alert` use it.
pub fn events_search(
    alert: &okwatch_store::AlertRecord,
    max: usize,
) -> crate::search_text::SearchText {
    let margin = chrono::TimeDelta::minutes(1);
    let at = |text: &str| okwatch_model::parse_timestamp(text);
    let filter = alert
        .events
        .iter()
        .take(max)
        .map(|uuid| format!("uuid eq {}", crate::search_text::literal(uuid)))
        .collect::<Vec<_>>()
        .join(" or ");
    crate::search_text::SearchText {
        since: at(&alert.first).map_or("all".into(), |t| {
            okwatch_model::format_timestamp(t - margin)
        }),
        until: at(&alert.last).map_or(String::new(), |t| {
            okwatch_model::format_timestamp(t + margin)
        }),
        filter,
        ..Default::default()
    }
}
