//! The report tools: what reports there are, and one report run over a period, so an assistant
//! can answer "how did sign-in failures change this month?" or "who changed admin roles?" with
//! the same numbers as the console, each with its search.

use crate::server::{reply, OkwatchMcp, ToolError};
use okwatch_engine::reports::{catalog, run_report, Period};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{schemars, tool, tool_router, ErrorData};
use serde::Deserialize;
use serde_json::{json, Value};

/// `run_report` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct RunReportArgs {
    /// The report's id, from list_reports (e.g. failed_sign_ins).
    pub report: String,
    /// Start of the period: ISO 8601, relative (-7d, -30d) or `all` for all history. Default: 30 days ago.
    #[serde(default)]
    pub since: Option<String>,
    /// End of the period (exclusive). Default: now.
    #[serde(default)]
    pub until: Option<String>,
    /// Only this Okta org (its name in okwatch). Default: every org.
    #[serde(default)]
    pub org: Option<String>,
}

#[tool_router(router = report_tools, vis = "pub(crate)")]
impl OkwatchMcp {
    #[tool(
        description = "The reports okwatch computes over its stored Okta history (authentication activity, failed sign-ins, MFA enrolment and usage, device enrolments, user lifecycle, application access, admin activity, admin role assignments, policy and zone changes, password resets and lockouts, suspicious activity, Okta usage): id, title and what each answers. Run one with run_report.",
        annotations(read_only_hint = true)
    )]
    async fn list_reports(&self) -> Result<CallToolResult, ErrorData> {
        let reports: Vec<Value> = catalog::all()
            .iter()
            .map(|s| json!({"id": s.id, "title": s.title, "description": s.description}))
            .collect();
        reply(Ok(json!({ "reports": reports })))
    }

    #[tool(
        description = "Run one report (id from list_reports) over a period: headline figures with the previous period of the same length and the change in percent, the chart's series per hour/day/week, and breakdown tables (largest groups first, each with its previous-period value). Every number carries `search`: the explorer query (since, until, filter) whose events it counts, usable with search_events' filter.",
        annotations(read_only_hint = true)
    )]
    async fn run_report(
        &self,
        Parameters(args): Parameters<RunReportArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let answer = async {
            let name = args.report.trim().to_string();
            let spec = catalog::find(&name).ok_or_else(|| {
                let names: Vec<&str> = catalog::all().iter().map(|s| s.id).collect();
                ToolError::Caller(format!(
                    "no report `{name}`; use one of {} (list_reports describes them)",
                    names.join(", ")
                ))
            })?;
            let since = args.since.unwrap_or_default();
            let until = args.until.unwrap_or_default();
            let org = args
                .org
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty());
            let report = self
                .source()
                .with_alerts(move |alerts, store, _| {
                    let oldest = if since.trim() == "all" {
                        store.stats()?.oldest
                    } else {
                        None
                    };
                    let period = Period::parse(&since, &until, chrono::Utc::now(), oldest, true)?;
                    let mut report = run_report(store, &spec, &period, org.as_deref())?;
                    okwatch_engine::reports::alerts::attach(&mut report, alerts)?;
                    Ok::<_, ToolError>(report)
                })
                .await?;
            serde_json::to_value(report).map_err(|e| ToolError::Store(e.to_string()))
        };
        reply(answer.await)
    }
}
