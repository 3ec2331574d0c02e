//! Contracts coming up for renewal, with the use that should decide them, and which of them
//! are inside their notice period (the ones to tell someone about).

use super::{inventory, AppUse, UsageStore};
use crate::EngineError;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;
use std::collections::BTreeSet;

/// One contract renewing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Renewal {
    pub org: String,
    /// The day it renews (`YYYY-MM-DD`).
    pub renewal: String,
    /// Days from today to then (0: today).
    pub days_left: i64,
    /// The first day of its notice period: the day its notice goes out.
    pub notice_from: String,
    /// The app, its use, its contract and spend.
    pub app: AppUse,
}

/// The renewals of every org's contracts from today to `within_days` ahead, soonest first.
pub fn renewals(
    store: &dyn UsageStore,
    org: Option<&str>,
    now: DateTime<Utc>,
    within_days: i64,
) -> Result<Vec<Renewal>, EngineError> {
    let today = now.date_naive();
    let last = today + TimeDelta::days(within_days.max(0));
    let contracts = store.contracts(org)?;
    let coming = |day: &Option<String>| -> Option<NaiveDate> {
        let day = NaiveDate::parse_from_str(day.as_deref()?, "%Y-%m-%d").ok()?;
        (today <= day && day <= last).then_some(day)
    };
    let orgs: BTreeSet<&str> = contracts
        .iter()
        .filter(|c| coming(&c.renewal).is_some())
        .map(|c| c.org.as_str())
        .collect();
    let mut out = Vec::new();
    for org in orgs {
        // An org whose directory was never listed has no apps to show use for yet.
        if store.directory_taken(org)?.is_none() {
            continue;
        }
        for app in inventory(store, org, now)?.apps {
            let Some(contract) = &app.contract else {
                continue;
            };
            let Some(day) = coming(&contract.renewal) else {
                continue;
            };
            out.push(Renewal {
                org: org.to_string(),
                renewal: day.format("%Y-%m-%d").to_string(),
                days_left: (day - today).num_days(),
                notice_from: (day - TimeDelta::days(i64::from(contract.notice_days)))
                    .format("%Y-%m-%d")
                    .to_string(),
                app,
            });
        }
    }
    out.sort_by(|a, b| (&a.renewal, &a.org, &a.app.label).cmp(&(&b.renewal, &b.org, &b.app.label)));
    Ok(out)
}

/// The renewals whose notice period has begun at `now` and which have not renewed yet: each
/// to be told once.
pub fn notices_due(
    store: &dyn UsageStore,
    now: DateTime<Utc>,
) -> Result<Vec<Renewal>, EngineError> {
    let today = now.date_naive().format("%Y-%m-%d").to_string();
    // The longest notice a contract may have.
    let all = renewals(store, None, now, 365)?;
    Ok(all.into_iter().filter(|r| r.notice_from <= today).collect())
}
