//! okwatch's own alerts in the suspicious activity report: how many its detections raised in
//! the period, per detection, beside the period before. Alerts are not events, so these
//! numbers link to the alerts list over the same period (by the time of each alert's first
//! event), not to an explorer search.

use super::Report;
use crate::EngineError;
use okwatch_model::{format_timestamp, Timestamp};
use okwatch_store::{AlertFilter, AlertRecord, AlertStore};
use serde::Serialize;
use std::collections::BTreeMap;

/// The reports that show alerts.
const WITH_ALERTS: &[&str] = &["suspicious"];

/// Alerts raised in a period, per detection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertsRaised {
    /// Every alert whose first event is in the period.
    pub total: u64,
    /// The same in the previous period, when the report compares.
    pub previous: Option<u64>,
    /// The alerts list over the period.
    pub href: String,
    /// Per detection, most alerts first.
    pub rows: Vec<AlertsRow>,
}

/// One detection's alerts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertsRow {
    /// The detection's id.
    pub rule: String,
    /// Its name (the shipped pack's; the id for people's own rules).
    pub name: String,
    /// Alerts in the period.
    pub count: u64,
    /// Alerts in the previous period.
    pub previous: Option<u64>,
    /// The alerts list: this detection, over the period.
    pub href: String,
}

/// The console's alerts list over `[since, until)`, every status and severity, of `rule`.
pub fn alerts_href(since: Timestamp, until: Timestamp, rule: Option<&str>) -> String {
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let mut href = format!(
        "/alerts?status=all&min=info&since={}&until={}",
        encode(&format_timestamp(since)),
        encode(&format_timestamp(until))
    );
    if let Some(rule) = rule {
        href.push_str(&format!("&rule={}", encode(rule)));
    }
    href
}

fn within(alert: &AlertRecord, since: Timestamp, until: Timestamp) -> bool {
    okwatch_model::parse_timestamp(&alert.first)
        .is_some_and(|first| first >= since && first < until)
}

/// Adds the alerts raised to `report` if it is one that shows them. Alerts belong to no org
/// in particular, so an org's report shows every org's.
pub fn attach(report: &mut Report, alerts: &dyn AlertStore) -> Result<(), EngineError> {
    if !WITH_ALERTS.contains(&report.id.as_str()) {
        return Ok(());
    }
    let all = alerts.alerts(&AlertFilter {
        // Every alert: they number in the thousands at most.
        limit: 1_000_000,
        ..AlertFilter::default()
    })?;
    let names: BTreeMap<String, String> = crate::rules::pack::builtin()
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let count = |since, until| {
        let mut per_rule: BTreeMap<&str, u64> = BTreeMap::new();
        for alert in all.iter().filter(|a| within(a, since, until)) {
            *per_rule.entry(alert.rule.as_str()).or_default() += 1;
        }
        per_rule
    };
    let current = count(report.since, report.until);
    let before = report.previous.map(|(s, u)| count(s, u));
    let mut rows: Vec<AlertsRow> = current
        .iter()
        .map(|(rule, n)| AlertsRow {
            rule: (*rule).to_string(),
            name: names
                .get(*rule)
                .cloned()
                .unwrap_or_else(|| (*rule).to_string()),
            count: *n,
            previous: before.as_ref().map(|b| b.get(rule).copied().unwrap_or(0)),
            href: alerts_href(report.since, report.until, Some(rule)),
        })
        .collect();
    rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.rule.cmp(&b.rule)));
    report.alerts = Some(AlertsRaised {
        total: current.values().sum(),
        previous: before.map(|b| b.values().sum()),
        href: alerts_href(report.since, report.until, None),
        rows,
    });
    Ok(())
}
