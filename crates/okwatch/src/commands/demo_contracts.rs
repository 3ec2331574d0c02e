//! The demo org's contracts: list-like prices, licences a little above the people assigned
//! (as bought seats usually are), renewals spread over the coming year with one inside its
//! notice period, so the Apps pages show spend, savings and renewals from the first run.

use chrono::{DateTime, TimeDelta, Utc};
use okwatch_store::{Billing, Contract};

/// (label, price in cents, billing, spare licences in %, renewal in days from today).
const PRICES: &[(&str, i64, Billing, u64, i64)] = &[
    ("Okta", 600, Billing::LicenceMonth, 10, 132),
    ("Slack", 875, Billing::LicenceMonth, 15, 24),
    ("Zoom", 14_990, Billing::LicenceYear, 20, 41),
    ("Salesforce", 16_500, Billing::LicenceMonth, 10, 58),
    ("GitHub Enterprise", 2_100, Billing::LicenceMonth, 10, 77),
    ("Jira", 860, Billing::LicenceMonth, 5, 190),
    ("Confluence", 605, Billing::LicenceMonth, 5, 190),
    ("Figma", 1_500, Billing::LicenceMonth, 25, 95),
    ("Notion", 1_000, Billing::LicenceMonth, 30, 260),
    ("Microsoft 365", 2_200, Billing::LicenceMonth, 5, 300),
    (
        "Adobe Creative Cloud",
        8_499,
        Billing::LicenceMonth,
        20,
        150,
    ),
    ("Datadog", 6_000_000, Billing::ContractYear, 0, 220),
    ("Zendesk", 5_500, Billing::LicenceMonth, 10, 88),
    ("Tableau Cloud", 7_500, Billing::LicenceMonth, 35, 120),
];

/// Contracts for the simulated org's apps (Okta's own included), as of `now`.
pub fn contracts(org_name: &str, org: &okwatch_sim::Org, now: DateTime<Utc>) -> Vec<Contract> {
    let owner = format!("it@{}", org.email_domain);
    PRICES
        .iter()
        .filter_map(|&(label, price, billing, spare, renews_in)| {
            let (id, assigned) = if label == "Okta" {
                ("okta".to_string(), org.users.len() as u64)
            } else {
                let index = org.apps.iter().position(|a| a.spec.label == label)?;
                let assigned = org.users.iter().filter(|u| u.apps.contains(&index)).count();
                (org.apps[index].id.clone(), assigned as u64)
            };
            Some(Contract {
                org: org_name.to_string(),
                app_id: id,
                licences: Some(assigned + assigned * spare / 100),
                price_cents: Some(price),
                billing,
                currency: "USD".into(),
                renewal: Some(
                    (now + TimeDelta::days(renews_in))
                        .format("%Y-%m-%d")
                        .to_string(),
                ),
                notice_days: if billing.per_licence() { 30 } else { 90 },
                owner: Some(owner.clone()),
                notes: None,
                updated: okwatch_model::format_timestamp(now),
                updated_by: "okwatch demo".into(),
            })
        })
        .collect()
}
