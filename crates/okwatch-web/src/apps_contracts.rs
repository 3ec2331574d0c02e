//! App contracts in the console and the API: the form of one app's contract
//! (`/apps/{org}/{id}/contract`), importing many from a CSV file (`/apps/{org}/contracts/import`;
//! a bad row is shown with its line and the others are kept) and exporting them
//! (`/apps/{org}/contracts.csv`, which the import reads back). In the API: `PUT` and `DELETE
//! /apps/{org}/{id}/contract`, `POST /apps/{org}/contracts` (a CSV body), `GET
//! /apps/{org}/contracts.csv`. Changing contracts is for analysts and admins.

use crate::apps::{app_exists, app_numbers, engine};
use crate::auth::SignedIn;
use crate::rest::ApiError;
use crate::{blocking, field, form, html, WebError, WebState};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use okwatch_engine::search_text::encode;
use okwatch_engine::usage::contracts::{
    self, contract_from_fields, usual_currency, Change, ContractFields, FieldProblem, ImportReport,
    COLUMNS,
};
use okwatch_engine::usage::AppUse;
use okwatch_store::{Billing, Contract};
use serde_json::{json, Value};

/// The currency a new contract of `org` starts in.
async fn currency_of(state: &WebState, org: &str) -> Result<String, WebError> {
    let (store, o) = (state.usage.clone(), org.to_string());
    let all = blocking(move || store.contracts(Some(&o))).await?;
    Ok(usual_currency(all.iter()))
}

/// Checks `fields` and keeps the contract; the problems when it cannot be kept.
async fn save(
    state: &WebState,
    org: &str,
    id: &str,
    fields: ContractFields,
    user: &SignedIn,
) -> Result<Result<Contract, Vec<FieldProblem>>, WebError> {
    let currency = currency_of(state, org).await?;
    let change = Change {
        by: &user.name,
        at: chrono::Utc::now(),
    };
    // A form or a PUT gives the whole contract: nothing is kept from before but the app.
    let contract = match contract_from_fields(org, id, None, &fields, &currency, &change) {
        Ok(contract) => contract,
        Err(problems) => return Ok(Err(problems)),
    };
    let (store, kept) = (state.usage.clone(), contract.clone());
    blocking(move || store.put_contracts(&[kept])).await?;
    crate::apps_renewals::notify_now(state);
    Ok(Ok(contract))
}

/// A form's values, as typed (kept when the form comes back with a problem).
#[derive(Default)]
struct Values {
    licences: String,
    price: String,
    billing: String,
    currency: String,
    renewal: String,
    notice_days: String,
    owner: String,
    notes: String,
}

impl Values {
    fn of(contract: Option<&Contract>, currency: &str) -> Values {
        let Some(c) = contract else {
            return Values {
                billing: Billing::LicenceMonth.as_str().into(),
                currency: currency.into(),
                notice_days: contracts::DEFAULT_NOTICE_DAYS.to_string(),
                ..Values::default()
            };
        };
        Values {
            licences: c.licences.map(|l| l.to_string()).unwrap_or_default(),
            price: c
                .price_cents
                .map(|p| format!("{}.{:02}", p / 100, p % 100))
                .unwrap_or_default(),
            billing: c.billing.as_str().into(),
            currency: c.currency.clone(),
            renewal: c.renewal.clone().unwrap_or_default(),
            notice_days: c.notice_days.to_string(),
            owner: c.owner.clone().unwrap_or_default(),
            notes: c.notes.clone().unwrap_or_default(),
        }
    }

    fn read(form: &[(String, String)]) -> Values {
        let f = |name| field(form, name).to_string();
        Values {
            licences: f("licences"),
            price: f("price"),
            billing: f("billing"),
            currency: f("currency"),
            renewal: f("renewal"),
            notice_days: f("notice_days"),
            owner: f("owner"),
            notes: f("notes"),
        }
    }

    fn fields(&self) -> ContractFields {
        ContractFields {
            licences: Some(self.licences.clone()),
            price: Some(self.price.clone()),
            billing: Some(self.billing.clone()),
            currency: Some(self.currency.clone()),
            renewal: Some(self.renewal.clone()),
            notice_days: Some(self.notice_days.clone()),
            owner: Some(self.owner.clone()),
            notes: Some(self.notes.clone()),
        }
    }
}

#[derive(Template)]
#[template(path = "contract.html")]
struct ContractPage {
    user: SignedIn,
    app: AppUse,
    org: String,
    back: String,
    action: String,
    values: Values,
    billings: Vec<(&'static str, &'static str)>,
    problems: Vec<FieldProblem>,
    exists: bool,
}

impl ContractPage {
    /// The problem with one field, if any.
    fn problem(&self, name: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|p| p.field == name)
            .map(|p| p.message.as_str())
    }
}

async fn contract_page(
    state: &WebState,
    user: SignedIn,
    org: String,
    id: String,
    values: Option<Values>,
    problems: Vec<FieldProblem>,
) -> Result<Response, WebError> {
    let (app, _) = app_numbers(state, &org, &id).await?;
    let currency = currency_of(state, &org).await?;
    let base = format!("/apps/{}/{}", encode(&org), encode(&id));
    let page = ContractPage {
        user,
        exists: app.contract.is_some(),
        values: values.unwrap_or_else(|| Values::of(app.contract.as_ref(), &currency)),
        billings: Billing::ALL
            .iter()
            .map(|b| (b.as_str(), b.describe()))
            .collect(),
        action: format!("{base}/contract"),
        back: base,
        problems,
        app,
        org,
    };
    let status = if page.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, html(&page)?).into_response())
}

/// `GET /apps/{org}/{id}/contract`: the form.
pub(crate) async fn page(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    contract_page(&state, user, org, id, None, Vec::new()).await
}

/// `POST /apps/{org}/{id}/contract`: keeps the form's contract.
pub(crate) async fn submit(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path((org, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = form(&body);
    // The app must exist: a contract for nothing would never show.
    app_exists(&state, &org, &id).await?;
    let values = Values::read(&form);
    match save(&state, &org, &id, values.fields(), &user).await? {
        Ok(_) => {
            Ok(Redirect::to(&format!("/apps/{}/{}", encode(&org), encode(&id))).into_response())
        }
        Err(problems) => contract_page(&state, user, org, id, Some(values), problems).await,
    }
}

/// `POST /apps/{org}/{id}/contract/delete`.
pub(crate) async fn remove(
    State(state): State<WebState>,
    Path((org, id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let (store, o, i) = (state.usage.clone(), org.clone(), id.clone());
    blocking(move || store.delete_contract(&o, &i)).await?;
    Ok(Redirect::to(&format!("/apps/{}/{}", encode(&org), encode(&id))).into_response())
}

#[derive(Template)]
#[template(path = "contracts_import.html")]
struct ImportPage {
    user: SignedIn,
    org: String,
    org_path: String,
    columns: String,
    text: String,
    report: Option<ImportReport>,
    problem: Option<String>,
}

async fn import(
    state: &WebState,
    org: &str,
    text: String,
    user: &SignedIn,
) -> Result<ImportReport, WebError> {
    let (store, org, by) = (state.usage.clone(), org.to_string(), user.name.clone());
    let report = engine(move || {
        let change = Change {
            by: &by,
            at: chrono::Utc::now(),
        };
        contracts::import_contracts(store.as_ref(), &org, &text, &change)
    })
    .await;
    if report.is_ok() {
        crate::apps_renewals::notify_now(state);
    }
    report
}

fn import_page(
    user: SignedIn,
    org: String,
    text: String,
    report: Option<ImportReport>,
    problem: Option<String>,
) -> Result<Response, WebError> {
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = ImportPage {
        user,
        org_path: encode(&org),
        org,
        columns: format!("app,{}", COLUMNS.join(",")),
        text,
        report,
        problem,
    };
    Ok((status, html(&page)?).into_response())
}

/// `GET /apps/{org}/contracts/import`.
pub(crate) async fn import_form(
    Extension(user): Extension<SignedIn>,
    Path(org): Path<String>,
) -> Result<Response, WebError> {
    import_page(user, org, String::new(), None, None)
}

/// `POST /apps/{org}/contracts/import`: the pasted (or chosen) file's text.
pub(crate) async fn import_submit(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(org): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, WebError> {
    let form = form(&body);
    let text = field(&form, "csv").to_string();
    match import(&state, &org, text.clone(), &user).await {
        Ok(report) => {
            // The box keeps the header and the rows to mend, nothing already imported.
            let text = rows_to_mend(&text, &report);
            import_page(user, org, text, Some(report), None)
        }
        Err(WebError::BadRequest(m)) => import_page(user, org, text, None, Some(m)),
        Err(e) => Err(e),
    }
}

/// `text`'s header and its rows that were not imported, as CSV again.
fn rows_to_mend(text: &str, report: &ImportReport) -> String {
    if report.problems.is_empty() {
        return String::new();
    }
    let field = |v: &String| {
        if v.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", v.replace('"', "\"\""))
        } else {
            v.clone()
        }
    };
    let records = okwatch_model::csv::records(text).unwrap_or_default();
    records
        .iter()
        .enumerate()
        .filter(|(i, r)| *i == 0 || report.problems.iter().any(|p| p.line == r.line))
        .map(|(_, r)| r.fields.iter().map(field).collect::<Vec<_>>().join(",") + "\n")
        .collect()
}

async fn csv_of(state: &WebState, org: &str) -> Result<Response, WebError> {
    let (store, o) = (state.usage.clone(), org.to_string());
    let text = engine(move || contracts::contracts_csv(store.as_ref(), &o)).await?;
    let name = format!(
        "attachment; filename=\"okwatch-contracts-{}.csv\"",
        org.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        text,
    )
        .into_response())
}

/// `GET /apps/{org}/contracts.csv` (the console's and the API's).
pub(crate) async fn export(
    State(state): State<WebState>,
    Path(org): Path<String>,
) -> Result<Response, ApiError> {
    Ok(csv_of(&state, &org).await?)
}

/// A JSON body's facts as text: numbers as written; `null` and facts left out cleared, as a
/// PUT replaces the whole contract.
fn fields_of(body: &[u8]) -> Result<ContractFields, ApiError> {
    let shape = "a contract is {\"licences\", \"price\", \"billing\", \"currency\", \"renewal\", \
                 \"notice_days\", \"owner\", \"notes\"}, each optional";
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("{shape}: {e}")))?;
    let Value::Object(map) = value else {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, shape));
    };
    let mut fields = ContractFields::default();
    for column in COLUMNS {
        fields.set(column, String::new());
    }
    for (key, value) in map {
        let text = match value {
            Value::Null => String::new(),
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            _ => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    format!("`{key}` must be a string or a number"),
                ))
            }
        };
        if !fields.set(&key, text) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("unknown field `{key}`: {shape}"),
            ));
        }
    }
    Ok(fields)
}

/// `PUT /api/okwatch/v1/apps/{org}/{id}/contract`: the whole contract (facts left out are
/// cleared); the app's numbers with it.
pub(crate) async fn api_put(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path((org, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    app_exists(&state, &org, &id).await?;
    let fields = fields_of(&body)?;
    match save(&state, &org, &id, fields, &user).await? {
        Ok(contract) => {
            let (app, _) = app_numbers(&state, &org, &id).await?;
            Ok(Json(json!({"contract": contract, "app": app})))
        }
        Err(problems) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .with("problems", json!(problems))),
    }
}

/// `DELETE /api/okwatch/v1/apps/{org}/{id}/contract`.
pub(crate) async fn api_delete(
    State(state): State<WebState>,
    Path((org, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (store, o, i) = (state.usage.clone(), org.clone(), id.clone());
    if crate::blocking(move || store.delete_contract(&o, &i)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("org `{org}` has no contract for `{id}`"),
        ))
    }
}

/// `POST /api/okwatch/v1/apps/{org}/contracts`: a CSV file; the rows kept and the rows not,
/// each with its line.
pub(crate) async fn api_import(
    State(state): State<WebState>,
    Extension(user): Extension<SignedIn>,
    Path(org): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "the CSV file is not UTF-8 text"))?;
    let report = import(&state, &org, text, &user).await?;
    Ok(Json(json!(report)))
}
