//! The SaaS tools: `app_usage` (an app's sign-ons and assignment changes over a period, and
//! from the directory and its contract: licences, people assigned and active, unused licences,
//! spend, cost per active person, potential savings, renewal) and `renewals` (contracts coming
//! up, soonest first), so an assistant can answer "what do we spend on Slack, how many seats are
//! unused, when does it renew?".

use crate::server::{reply, to_json, window, window_json, OkwatchMcp, ToolError, MAX_EXAMINED};
use okwatch_engine::app_usage;
use okwatch_engine::usage::money::format_money;
use okwatch_engine::usage::renewals::{renewals, Renewal};
use okwatch_engine::usage::{inventory, AppUse, UsageStore};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{schemars, tool, tool_router, ErrorData};
use serde::Deserialize;
use serde_json::{json, Value};

/// `app_usage` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AppArgs {
    /// One app, by name (e.g. `Slack`, any case) or Okta app id (0oa...); `Okta` for Okta's own licences. Default: every app.
    #[serde(default)]
    pub app: Option<String>,
    /// Start of the period of the sign-on counts (ISO 8601 or -7d, -24h). Default: 30 days ago.
    #[serde(default)]
    pub since: Option<String>,
    /// End of that period. Default: now.
    #[serde(default)]
    pub until: Option<String>,
}

/// `renewals` arguments.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct RenewalsArgs {
    /// Days ahead, 1 to 365. Default 90.
    #[serde(default)]
    pub within_days: Option<i64>,
    /// Only this Okta org (its name in okwatch). Default: every org.
    #[serde(default)]
    pub org: Option<String>,
}

/// One app's licences, use and money, as an assistant reads them: amounts written out with
/// their currency, shares as percentages.
fn licences_and_spend(org: &str, app: &AppUse, today: chrono::NaiveDate) -> Value {
    let contract = app.contract.as_ref();
    let spend = app.spend.as_ref();
    let renewal = contract.and_then(|c| c.renewal.clone());
    let renews_in_days = renewal
        .as_deref()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| (d - today).num_days());
    json!({
        "org": org,
        "app": app.label,
        "id": app.id,
        "assigned": app.assigned,
        "licences": contract.and_then(|c| c.licences),
        "active_7_days": app.active_7,
        "active_30_days": app.active_30,
        "active_90_days": app.active_90,
        "utilisation": app.licence_utilisation.or(app.utilisation).map(|u| format!("{:.0}% of {}", u * 100.0, if app.licence_utilisation.is_some() { "licences" } else { "assigned" })),
        "assigned_idle_30_days_or_never": app.idle,
        "unused_licences": spend.map(|s| s.unused),
        "price": contract.and_then(|c| c.price_cents.map(|p| format!("{} {}", format_money(p, &c.currency), c.billing.describe()))),
        "annual_spend": app.money(|s| Some(s.annual_cents)),
        "annual_cost_per_active_user": app.money(|s| s.per_active_user_cents),
        "potential_annual_savings": app.money(|s| s.savings_cents),
        "renewal": renewal,
        "renews_in_days": renews_in_days,
        "owner": contract.and_then(|c| c.owner.clone()),
        "notes": contract.and_then(|c| c.notes.clone()),
        "last_used": app.last_used,
        "contract_recorded": contract.is_some(),
    })
}

/// Whether `wanted` names `app` (its label or catalogue name in any case, or its id).
fn names(app: &AppUse, wanted: &str) -> bool {
    app.id == wanted
        || app.label.eq_ignore_ascii_case(wanted)
        || app.name.eq_ignore_ascii_case(wanted)
}

/// Every org's apps (one app's, when `wanted`) with their licences and money.
fn inventories(store: &dyn UsageStore, wanted: Option<&str>) -> Result<Vec<Value>, ToolError> {
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    for summary in store
        .directory_summaries()
        .map_err(|e| ToolError::Store(e.to_string()))?
    {
        let found = inventory(store, &summary.org, now)?;
        out.extend(
            found
                .apps
                .iter()
                .filter(|a| wanted.is_none_or(|w| names(a, w)))
                .map(|a| licences_and_spend(&summary.org, a, now.date_naive())),
        );
    }
    Ok(out)
}

fn renewal_json(r: &Renewal) -> Value {
    let mut value = licences_and_spend(&r.org, &r.app, chrono::Utc::now().date_naive());
    value["notice_from"] = json!(r.notice_from);
    value
}

#[tool_router(router = usage_tools, vis = "pub(crate)")]
impl OkwatchMcp {
    #[tool(
        description = "App usage: per app (or one app), from the System Log over a period: successful and failed single sign-ons, distinct active users, last use, assignments added and removed; and from the Okta directory and the app's contract (as recorded in okwatch): people assigned, licences bought, people active in 7/30/90 days, utilisation, unused licences, price, annual spend, annual cost per active user, potential annual savings from unused licences, renewal date and days to it, owner. Okta itself is the app `Okta` (its licences against people who start sessions). Amounts are written with their currency.",
        annotations(read_only_hint = true)
    )]
    async fn app_usage(
        &self,
        Parameters(args): Parameters<AppArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let answer = async {
            let window = window(args.since.as_deref(), args.until.as_deref())?;
            let app = args
                .app
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty());
            let wanted = app.clone();
            let report = self
                .source()
                .with(move |store| {
                    app_usage(store, wanted.as_deref(), window, MAX_EXAMINED)
                        .map_err(ToolError::from)
                })
                .await?;
            let wanted = app.clone();
            let licences = self
                .source()
                .with_usage(move |store| inventories(store, wanted.as_deref()))
                .await?;
            if let (Some(app), true, true) = (&app, report.apps.is_empty(), licences.is_empty()) {
                return Err(ToolError::Caller(format!(
                    "no app named or identified {app:?} in the directory, and no sign-ons or assignments for one in this period; call app_usage without app to list the apps"
                )));
            }
            let mut value = to_json(report)?;
            value["window"] = window_json(window);
            value["licences_and_spend"] = json!(licences);
            if licences.is_empty() {
                value["licences_note"] = json!("no org's directory has been listed yet: okwatch serve lists each org's apps and assignments at start and every directory_sync");
            }
            Ok(value)
        };
        reply(answer.await)
    }

    #[tool(
        description = "Contracts renewing in the next days (default 90), soonest first: the renewal date and days to it, the day its notice goes out, and the app's licences, people assigned and active, utilisation, unused licences, annual spend and potential savings, owner and notes. Use it for \"what renews this quarter and how much of it do we use?\".",
        annotations(read_only_hint = true)
    )]
    async fn renewals(
        &self,
        Parameters(args): Parameters<RenewalsArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let answer = async {
            let within = args.within_days.unwrap_or(90);
            if !(1..=365).contains(&within) {
                return Err(ToolError::Caller(format!(
                    "within_days = {within}: a number of days from 1 to 365"
                )));
            }
            let org = args
                .org
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty());
            let found = self
                .source()
                .with_usage(move |store| {
                    renewals(store, org.as_deref(), chrono::Utc::now(), within)
                        .map_err(ToolError::from)
                })
                .await?;
            Ok(json!({
                "within_days": within,
                "renewals": found.iter().map(renewal_json).collect::<Vec<_>>(),
            }))
        };
        reply(answer.await)
    }
}
