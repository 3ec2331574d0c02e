//! The alert tools: what okwatch's detections found, and one alert with its events, its
//! history and the detection's runbook, so an assistant can answer "anything suspicious this
//! week?" and walk a person through one finding.

use crate::server::{reply, OkwatchMcp, ToolError};
use okwatch_engine::rules::catalog::Catalog;
use okwatch_engine::rules::events_search;
use okwatch_engine::EventSummary;
use okwatch_store::{AlertFilter, AlertRecord, Order, ALERT_STATUSES};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{schemars, tool, tool_router, ErrorData};
use serde::Deserialize;
use serde_json::{json, Value};

const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];
/// Events of one alert summarised by `get_alert`.
const EVENTS_SHOWN: usize = 20;

/// `list_alerts` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListAlertsArgs {
    /// `open` (default), `acknowledged`, `resolved` or `all`.
    #[serde(default)]
    pub status: Option<String>,
    /// The lowest severity listed: info, low, medium (default), high or critical.
    #[serde(default)]
    pub severity: Option<String>,
    /// Only this detection (its id, e.g. okwatch.password_spray).
    #[serde(default)]
    pub rule: Option<String>,
    /// How many, newest first, 1 to 100. Default 20.
    #[serde(default)]
    pub limit: Option<u32>,
}

/// `get_alert` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct GetAlertArgs {
    /// The alert's id, from list_alerts.
    pub id: String,
}

fn compact(alert: &AlertRecord, rules: &Catalog) -> Value {
    json!({
        "id": alert.id,
        "rule": alert.rule,
        "detection": rules.get(&alert.rule).map(|e| e.rule.name.clone()),
        "severity": alert.severity,
        "about": alert.group,
        "first": alert.first,
        "last": alert.last,
        "event_count": alert.events.len(),
        "explanation": alert.explanation,
        "status": alert.status,
        "assignee": alert.assignee,
    })
}

fn one_of<'a>(
    name: &str,
    value: Option<&'a str>,
    allowed: &[&str],
    default: &'a str,
) -> Result<&'a str, ToolError> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(default);
    if allowed.contains(&value) {
        Ok(value)
    } else {
        Err(ToolError::Caller(format!(
            "{name} `{value}`: use one of {}",
            allowed.join(", ")
        )))
    }
}

#[tool_router(router = alert_tools, vis = "pub(crate)")]
impl OkwatchMcp {
    #[tool(
        description = "The alerts okwatch's detections raised (brute force, password spray, MFA push fatigue, impossible travel, admin grants, policy changes…), newest first: id, detection, severity, who or what it is about, first and last event time, number of events, explanation in words, status (open, acknowledged, resolved) and assignee. By default open alerts of medium severity and above (attacks); pass status=all and severity=info for everything. Use get_alert for one alert's events and runbook.",
        annotations(read_only_hint = true)
    )]
    async fn list_alerts(
        &self,
        Parameters(args): Parameters<ListAlertsArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let answer = async {
            let mut statuses = ALERT_STATUSES.to_vec();
            statuses.push("all");
            let status = one_of("status", args.status.as_deref(), &statuses, "open")?.to_string();
            let min = one_of("severity", args.severity.as_deref(), &SEVERITIES, "medium")?;
            let from = SEVERITIES.iter().position(|s| *s == min).unwrap_or(0);
            let limit = args.limit.map_or(20, |l| l as usize).clamp(1, 100);
            let filter = AlertFilter {
                status: (status != "all").then_some(status),
                rule: args.rule.filter(|r| !r.trim().is_empty()),
                severities: SEVERITIES[from..].iter().map(|s| s.to_string()).collect(),
                assignee: None,
                // One more than asked, to say whether there are more.
                limit: limit + 1,
            };
            self.source()
                .with_alerts(move |alerts, _, rules| {
                    let found = alerts.alerts(&filter)?;
                    let more = found.len() > limit;
                    let rules = Catalog::load(rules)?;
                    let listed: Vec<Value> = found
                        .iter()
                        .take(limit)
                        .map(|a| compact(a, &rules))
                        .collect();
                    let mut answer = json!({ "returned": listed.len(), "alerts": listed });
                    if more {
                        answer["hint"] =
                            json!("More alerts match: raise limit, or narrow by rule or severity.");
                    }
                    Ok::<_, ToolError>(answer)
                })
                .await
        };
        reply(answer.await)
    }

    #[tool(
        description = "One alert by id (from list_alerts): what the detection found and why, the detection's runbook (what to do), its handling history (status changes, assignee, comments), and compact summaries of its first events (time, type, outcome, actor, IP, location). get_event gives an event's full JSON.",
        annotations(read_only_hint = true)
    )]
    async fn get_alert(
        &self,
        Parameters(args): Parameters<GetAlertArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let id = args.id.trim().to_string();
        let answer = self
            .source()
            .with_alerts(move |alerts, store, rules| {
                let alert = alerts.alert(&id)?.ok_or_else(|| {
                    ToolError::Caller(format!("no alert has id {id}; ids come from list_alerts"))
                })?;
                let notes = alerts.alert_notes(&id)?;
                let mut query = events_search(&alert, EVENTS_SHOWN)
                    .parse(chrono::Utc::now(), EVENTS_SHOWN)
                    .query;
                query.order = Order::Asc;
                query.fields = Some(EventSummary::FIELDS.iter().map(|f| f.to_string()).collect());
                let events: Vec<EventSummary> = store
                    .search(&query)?
                    .events
                    .iter()
                    .map(|e| EventSummary::of(&e.event))
                    .collect();
                let rules = Catalog::load(rules)?;
                let mut answer = compact(&alert, &rules);
                if let Some(entry) = rules.get(&alert.rule) {
                    answer["runbook"] = json!(entry.rule.runbook);
                }
                answer["raised"] = json!(alert.raised);
                answer["history"] = serde_json::to_value(&notes).unwrap_or_default();
                answer["events"] = serde_json::to_value(&events).unwrap_or_default();
                answer["event_uuids"] = json!(alert.events);
                if alert.events.len() > events.len() {
                    answer["hint"] = json!(format!(
                        "The first {} of {} events are summarised; every uuid is in event_uuids.",
                        events.len(),
                        alert.events.len()
                    ));
                }
                Ok::<_, ToolError>(answer)
            })
            .await;
        reply(answer)
    }
}
