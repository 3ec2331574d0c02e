//! Detection rules: a filter that selects events, and a condition over the selected events of
//! one group (an actor, an IP, a session…) within a time window. The same evaluator runs over
//! history (a backtest, [`backtest`]) and, next, over events as they are stored.
//!
//! Conditions are the ones the best public detection sets use for Okta: any match; at least N
//! events; at least N distinct values of a field (one IP, many users: a spray), optionally with
//! at least M events too; an event of one kind, then one of another for the same key (a grant,
//! then an API token); and sign-ins farther apart than a speed allows (impossible travel).

pub mod backtest;
pub mod catalog;
pub mod definition;
mod eval;
pub mod live;
pub mod pack;
pub mod sigma;
pub mod yaml;

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
    /// Every severity, least first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

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
    /// A matching event not followed, within `within`, by an event matching `then` for the same
    /// group (a factor reset and no new factor): raised once `within` has passed.
    Absent {
        /// The event that should follow.
        then: Box<Expr>,
        /// Where the following event holds the group's value, when not where the first does.
        then_group_by: Option<String>,
        /// How long it may take.
        within: chrono::TimeDelta,
    },
    /// A value of `field` the group has not had before, once the group has at least `history`
    /// of past events to compare with (a user's first sign-in from a country).
    NewValue {
        /// The attribute (`client.geographicalContext.country`).
        field: String,
        /// How much of the group's past must be known before a value counts as new.
        history: chrono::TimeDelta,
    },
    /// Two matching events of one group whose places are farther apart than `max_kmh` allows
    /// for the time between them (from Okta's `client.geographicalContext.geolocation`).
    Travel {
        /// The fastest believable speed.
        max_kmh: f64,
    },
}

/// What raises an alert's severity: an event matching `when`, of the alert's group, at most
/// `within` after the alert's last event (a targeted user signing in from the spraying IP; an
/// accepted push after many denied).
#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    /// The follow-up.
    pub when: Expr,
    /// At most this long after the alert.
    pub within: chrono::TimeDelta,
    /// The alert's severity then.
    pub severity: Severity,
    /// For a distinct-values condition: the follow-up's value of that field must be one of the
    /// alert's (one of the sprayed users).
    pub among: bool,
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
    /// A follow-up that makes an alert worse (a success after a spray).
    pub escalate: Option<Escalation>,
    /// A Sigma rule's detection, which events must also match (its `filter` is then only
    /// what the store can narrow by).
    pub sigma: Option<std::sync::Arc<sigma::Detection>>,
}

impl Rule {
    /// Every event the rule looks at: its filter's, either step's of a sequence, and its
    /// escalation's follow-ups.
    pub fn events_filter(&self) -> Expr {
        let mut any = vec![self.filter.clone()];
        if let Condition::Sequence { then, .. } | Condition::Absent { then, .. } = &self.condition {
            any.push(then.as_ref().clone());
        }
        if let Some(escalate) = &self.escalate {
            any.push(escalate.when.clone());
        }
        if any.len() == 1 {
            any.pop().expect("one")
        } else {
            Expr::Or(any)
        }
    }

    /// How far back in time an event's judgement may look: its window or its suppression,
    /// whichever is longer (a day for travel).
    pub fn reach(&self) -> chrono::TimeDelta {
        let window = match &self.condition {
            Condition::Count { window, .. } | Condition::Distinct { window, .. } => *window,
            Condition::Sequence { within, .. } | Condition::Absent { within, .. } => *within,
            Condition::Travel { .. } => chrono::TimeDelta::hours(24),
            // Enough past for a value to count as new.
            Condition::NewValue { .. } => definition::LONGEST,
            Condition::Any => chrono::TimeDelta::zero(),
        };
        let escalation = self
            .escalate
            .as_ref()
            .map_or(chrono::TimeDelta::zero(), |e| window + e.within);
        window.max(self.suppress).max(escalation)
    }

    /// Its condition in words (`20 or more events within 1h, per actor.alternateId`).
    pub fn condition_words(&self) -> String {
        use definition::format_span;
        let what = match &self.condition {
            Condition::Any => "every match".to_string(),
            Condition::Count { at_least, window } => {
                format!("{at_least} or more events within {}", format_span(*window))
            }
            Condition::Distinct {
                field,
                at_least,
                events,
                window,
            } => {
                let mut text = format!("{at_least} or more distinct {field}");
                if *events > 0 {
                    text.push_str(&format!(" and {events} or more events"));
                }
                format!("{text} within {}", format_span(*window))
            }
            Condition::Sequence { then, within, .. } => {
                format!("then `{then}` within {}", format_span(*within))
            }
            Condition::Absent { then, within, .. } => {
                format!("no `{then}` within {} after it", format_span(*within))
            }
            Condition::NewValue { field, history } => {
                format!(
                    "a {field} not seen in at least {} of history",
                    format_span(*history)
                )
            }
            Condition::Travel { max_kmh } => {
                format!("sign-ins farther apart than {max_kmh:.0} km/h allows")
            }
        };
        match &self.group_by {
            Some(group) => format!("{what}, per {group}"),
            None => what,
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
            }
            | Condition::Absent {
                then_group_by: Some(path),
                ..
            } => fields.push(path.clone()),
            Condition::Distinct { field, .. } | Condition::NewValue { field, .. } => {
                fields.push(field.clone())
            }
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
