//! Contracts as people write them — a console form, a JSON body, a CSV row — checked into the
//! store's [`Contract`], every problem named; and a CSV file of them imported row by row, a bad
//! row reported with its line while the good ones land.

use super::money::parse_cents;
use super::UsageStore;
use crate::EngineError;
use chrono::{DateTime, NaiveDate, Utc};
use okwatch_model::csv::records;
use okwatch_store::directory::DirectoryApp;
use okwatch_store::{Billing, Contract};
use serde::Serialize;
use std::collections::BTreeMap;

/// Days before a renewal its notice is sent, unless the contract says otherwise.
pub const DEFAULT_NOTICE_DAYS: u32 = 30;
/// The currency when nothing says otherwise.
pub const DEFAULT_CURRENCY: &str = "USD";
/// Rows one import may hold.
const MAX_ROWS: usize = 10_000;

/// A contract's facts as text, as a form, a CSV row or a JSON body gives them. `None` leaves a
/// fact as it was (a CSV without that column); an empty text clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractFields {
    pub licences: Option<String>,
    pub price: Option<String>,
    pub billing: Option<String>,
    pub currency: Option<String>,
    pub renewal: Option<String>,
    pub notice_days: Option<String>,
    pub owner: Option<String>,
    pub notes: Option<String>,
}

/// The column names of a contracts CSV, after `app`, in the order okwatch writes them.
pub const COLUMNS: [&str; 8] = [
    "licences",
    "price",
    "billing",
    "currency",
    "renewal",
    "notice_days",
    "owner",
    "notes",
];

impl ContractFields {
    fn slot(&mut self, column: &str) -> Option<&mut Option<String>> {
        Some(match column {
            "licences" => &mut self.licences,
            "price" => &mut self.price,
            "billing" => &mut self.billing,
            "currency" => &mut self.currency,
            "renewal" => &mut self.renewal,
            "notice_days" => &mut self.notice_days,
            "owner" => &mut self.owner,
            "notes" => &mut self.notes,
            _ => return None,
        })
    }

    /// Sets the fact named `column` (one of [`COLUMNS`]); `false` for another name.
    pub fn set(&mut self, column: &str, value: String) -> bool {
        match self.slot(column) {
            Some(slot) => {
                *slot = Some(value);
                true
            }
            None => false,
        }
    }
}

/// A fact that cannot be kept, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    /// The fact's name (one of [`COLUMNS`], or `app`).
    pub field: String,
    pub message: String,
}

/// Who changed a contract, and when.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub by: &'a str,
    pub at: DateTime<Utc>,
}

/// `fields` over `base` (the stored contract, or nothing to start afresh) for `org`'s app
/// `app_id`: the contract to keep, or every problem with it.
pub fn contract_from_fields(
    org: &str,
    app_id: &str,
    base: Option<&Contract>,
    fields: &ContractFields,
    default_currency: &str,
    change: &Change<'_>,
) -> Result<Contract, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut problem = |field: &str, message: String| {
        problems.push(FieldProblem {
            field: field.to_string(),
            message,
        })
    };
    // The text of a fact: `Some(None)` cleared, `Some(Some(t))` given, `None` left as it was.
    let given = |value: &Option<String>| -> Option<Option<String>> {
        value.as_ref().map(|v| {
            let v = v.trim();
            (!v.is_empty()).then(|| v.to_string())
        })
    };
    let mut contract = base.cloned().unwrap_or_else(|| Contract {
        org: org.to_string(),
        app_id: app_id.to_string(),
        licences: None,
        price_cents: None,
        billing: Billing::LicenceMonth,
        currency: default_currency.to_string(),
        renewal: None,
        notice_days: DEFAULT_NOTICE_DAYS,
        owner: None,
        notes: None,
        updated: String::new(),
        updated_by: String::new(),
    });
    if let Some(text) = given(&fields.licences) {
        contract.licences = None;
        if let Some(text) = text {
            match text.replace([',', ' '], "").parse::<u64>() {
                Ok(n) if n <= 10_000_000 => contract.licences = Some(n),
                _ => problem(
                    "licences",
                    format!("`{text}` is not a number of licences (a whole number, 0 or more)"),
                ),
            }
        }
    }
    if let Some(text) = given(&fields.price) {
        contract.price_cents = None;
        if let Some(text) = text {
            match parse_cents(&text) {
                Ok(cents) => contract.price_cents = Some(cents),
                Err(e) => problem("price", e),
            }
        }
    }
    if let Some(text) = given(&fields.billing) {
        let name = billing_name(&text.unwrap_or_default());
        match Billing::from_name(&name) {
            Some(billing) => contract.billing = billing,
            None if name.is_empty() => contract.billing = Billing::LicenceMonth,
            None => problem(
                "billing",
                format!(
                    "`{name}` is not a billing: one of {}",
                    Billing::ALL.map(Billing::as_str).join(", ")
                ),
            ),
        }
    }
    if let Some(text) = given(&fields.currency) {
        let code = text
            .unwrap_or_else(|| default_currency.to_string())
            .to_uppercase();
        if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
            contract.currency = code;
        } else {
            problem(
                "currency",
                format!("`{code}` is not a currency code: three letters, such as USD or EUR"),
            );
        }
    }
    if let Some(text) = given(&fields.renewal) {
        contract.renewal = None;
        if let Some(text) = text {
            match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
                Ok(day) => contract.renewal = Some(day.format("%Y-%m-%d").to_string()),
                Err(_) => problem(
                    "renewal",
                    format!("`{text}` is not a date: write it as YYYY-MM-DD, such as 2027-03-31"),
                ),
            }
        }
    }
    if let Some(text) = given(&fields.notice_days) {
        match text.map(|t| t.parse::<u32>()) {
            None => contract.notice_days = DEFAULT_NOTICE_DAYS,
            Some(Ok(days)) if days <= 365 => contract.notice_days = days,
            Some(_) => problem(
                "notice_days",
                "the notice is a number of days from 0 to 365".to_string(),
            ),
        }
    }
    for (field, value, limit) in [
        ("owner", &fields.owner, 200),
        ("notes", &fields.notes, 4_000),
    ] {
        if let Some(text) = given(value) {
            if text.as_ref().is_some_and(|t| t.chars().count() > limit) {
                problem(field, format!("at most {limit} characters"));
                continue;
            }
            match field {
                "owner" => contract.owner = text,
                _ => contract.notes = text,
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    contract.updated = okwatch_model::format_timestamp(change.at);
    contract.updated_by = change.by.to_string();
    Ok(contract)
}

/// `per licence per month`, `License / month`, `contract yearly` → `licence_month`,
/// `contract_year`: the words people write for a billing, as [`Billing::as_str`] names it.
fn billing_name(text: &str) -> String {
    text.to_lowercase()
        .replace("license", "licence")
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !matches!(*w, "" | "per" | "a" | "the"))
        .map(|w| match w {
            "monthly" => "month",
            "yearly" | "annual" | "annually" => "year",
            other => other,
        })
        .collect::<Vec<_>>()
        .join("_")
}

/// A row of an import that was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportedRow {
    pub line: usize,
    pub app_id: String,
    pub label: String,
}

/// A row of an import that was not kept, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    /// The line of the file the row starts on (the header is line 1).
    pub line: usize,
    /// What the row's `app` cell says.
    pub app: String,
    pub problems: Vec<FieldProblem>,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub imported: Vec<ImportedRow>,
    pub problems: Vec<RowProblem>,
}

/// The app a CSV's `app` cell names: its id, its label or its catalogue name (any case), or
/// `Okta` for the org itself.
fn find_app<'a>(
    apps: &'a [DirectoryApp],
    okta: &'a DirectoryApp,
    cell: &str,
) -> Result<&'a DirectoryApp, String> {
    let wanted = cell.trim();
    if wanted.is_empty() {
        return Err("the row names no app".into());
    }
    if let Some(app) = apps.iter().chain([okta]).find(|a| a.id == wanted) {
        return Ok(app);
    }
    let lower = wanted.to_lowercase();
    let named: Vec<&DirectoryApp> = apps
        .iter()
        .chain([okta])
        .filter(|a| a.label.to_lowercase() == lower || a.name.to_lowercase() == lower)
        .collect();
    match named.as_slice() {
        [app] => Ok(app),
        [] => Err(format!(
            "no app of the org's directory has the id, label or name `{wanted}`"
        )),
        several => Err(format!(
            "{} apps answer to `{wanted}`: write the id of the one meant ({})",
            several.len(),
            several
                .iter()
                .map(|a| a.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Imports `org`'s contracts from a CSV file: a header row with `app` and any of [`COLUMNS`]
/// (columns left out keep what is stored), one row per app. Rows with a problem are reported
/// with their line and the rest are kept, in one transaction.
pub fn import_contracts(
    store: &dyn UsageStore,
    org: &str,
    text: &str,
    change: &Change<'_>,
) -> Result<ImportReport, EngineError> {
    let bad = |m: String| EngineError::BadRequest(m);
    let rows = records(text).map_err(|e| bad(format!("the file is not CSV: {e}")))?;
    let Some((header, rows)) = rows.split_first() else {
        return Err(bad(
            "the file is empty: it needs a header row (app, licences, price, …) and a row per app"
                .into(),
        ));
    };
    if rows.len() > MAX_ROWS {
        return Err(bad(format!(
            "{} rows: at most {MAX_ROWS} per import",
            rows.len()
        )));
    }
    let columns: Vec<String> = header
        .fields
        .iter()
        .map(|c| {
            c.trim()
                .to_lowercase()
                .replace([' ', '-'], "_")
                .replace("license", "licence")
        })
        .collect();
    let unknown: Vec<&String> = columns
        .iter()
        .filter(|c| c.as_str() != "app" && !COLUMNS.contains(&c.as_str()))
        .collect();
    if !unknown.is_empty() {
        return Err(bad(format!(
            "line 1: unknown column{} {}; the columns are app, {}",
            if unknown.len() > 1 { "s" } else { "" },
            unknown
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
            COLUMNS.join(", ")
        )));
    }
    let Some(app_column) = columns.iter().position(|c| c == "app") else {
        return Err(bad(
            "line 1: there is no `app` column (an app's id, label or name)".into(),
        ));
    };
    let directory = super::snapshot(store, org)?;
    let okta = super::okta_app();
    let stored: BTreeMap<String, Contract> = store
        .contracts(Some(org))?
        .into_iter()
        .map(|c| (c.app_id.clone(), c))
        .collect();
    let currency = usual_currency(stored.values());
    let mut report = ImportReport {
        imported: Vec::new(),
        problems: Vec::new(),
    };
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut keep = Vec::new();
    for row in rows {
        let cell = row.fields.get(app_column).cloned().unwrap_or_default();
        let mut refuse = |problems: Vec<FieldProblem>| {
            report.problems.push(RowProblem {
                line: row.line,
                app: cell.clone(),
                problems,
            })
        };
        let app_problem = |message: String| {
            vec![FieldProblem {
                field: "app".into(),
                message,
            }]
        };
        if row.fields.len() != columns.len() {
            refuse(app_problem(format!(
                "{} cells where the header has {}",
                row.fields.len(),
                columns.len()
            )));
            continue;
        }
        let app = match find_app(&directory.apps, &okta, &cell) {
            Ok(app) => app,
            Err(message) => {
                refuse(app_problem(message));
                continue;
            }
        };
        if let Some(first) = seen.get(&app.id) {
            refuse(app_problem(format!(
                "{} is already on line {first}",
                app.label
            )));
            continue;
        }
        let mut fields = ContractFields::default();
        for (column, value) in columns.iter().zip(&row.fields) {
            fields.set(column, value.clone());
        }
        match contract_from_fields(
            org,
            &app.id,
            stored.get(&app.id),
            &fields,
            &currency,
            change,
        ) {
            Ok(contract) => {
                seen.insert(app.id.clone(), row.line);
                report.imported.push(ImportedRow {
                    line: row.line,
                    app_id: app.id.clone(),
                    label: app.label.clone(),
                });
                keep.push(contract);
            }
            Err(problems) => refuse(problems),
        }
    }
    store.put_contracts(&keep)?;
    Ok(report)
}

/// The currency most of `contracts` are in, for a new one: a European org's contracts are in
/// euros, so its next one likely is too.
pub fn usual_currency<'a>(contracts: impl Iterator<Item = &'a Contract>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in contracts {
        *counts.entry(c.currency.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(c, _)| c.to_string())
        .unwrap_or_else(|| DEFAULT_CURRENCY.to_string())
}

/// `org`'s contracts as a CSV file [`import_contracts`] reads back, labels as the app column.
pub fn contracts_csv(store: &dyn UsageStore, org: &str) -> Result<String, EngineError> {
    use okwatch_model::csv::cell;
    let directory = store.directory(org)?.unwrap_or_default();
    let okta = super::okta_app();
    let mut out = format!("app,{}\n", COLUMNS.join(","));
    for c in store.contracts(Some(org))? {
        let app = directory
            .apps
            .iter()
            .chain([&okta])
            .find(|a| a.id == c.app_id);
        // A label two apps share would not name one: the id does.
        let unique = app.filter(|a| {
            directory
                .apps
                .iter()
                .filter(|b| b.label.eq_ignore_ascii_case(&a.label))
                .count()
                <= 1
        });
        let name = unique.map(|a| a.label.clone()).unwrap_or(c.app_id.clone());
        let cells = [
            name,
            c.licences.map(|l| l.to_string()).unwrap_or_default(),
            c.price_cents
                .map(|p| format!("{}.{:02}", p / 100, p % 100))
                .unwrap_or_default(),
            c.billing.as_str().to_string(),
            c.currency.clone(),
            c.renewal.clone().unwrap_or_default(),
            c.notice_days.to_string(),
            c.owner.clone().unwrap_or_default(),
            c.notes.clone().unwrap_or_default(),
        ];
        out.push_str(&cells.iter().map(|v| cell(v)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    Ok(out)
}
