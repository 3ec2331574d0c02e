//! Where every route of the console lives, registered only where the access table declares
//! it ([`crate::access`]), and what every answer carries: the table's layer, and security
//! headers (a CSP with no inline script, no framing, no sniffing).

use crate::access::{self, Declared};
use crate::{
    alerts, apps, apps_contracts, apps_renewals, columns, export, find, login, login_page, logout,
    map, notifications, pages, people, reports, rest, rest_alerts, rest_manage, rest_reports,
    rest_rules, rest_schedules, rules, saved, schedules, tokens, users, WebState,
};
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");
const ICON: &str = include_str!("../assets/favicon.svg");

/// Every route `okwatch serve` answers: the console's, and `others` (Okta's System Log API,
/// MCP, status, the store API, `/health`, Event Hooks), each allowed only to the callers its
/// entry in [`access::TABLE`] names, enforced by one layer.
pub fn router(state: WebState, others: Router) -> Router {
    let pages = Router::new()
        .at("/", get(pages::explorer))
        .at("/events/{uuid}", get(pages::event))
        .at("/rows", get(pages::rows))
        .at("/map", get(map::map))
        .at("/alerts", get(alerts::page))
        .at("/alerts/{id}", get(alerts::one).post(alerts::change))
        .at("/apps", get(apps::list))
        .at("/apps/renewals", get(apps_renewals::page))
        .at("/find", get(find::page))
        .at("/find/suggest", get(find::suggest))
        .at("/people/{org}/{id}", get(people::page))
        .at("/apps/{org}/{id}", get(apps::one))
        .at(
            "/apps/{org}/{id}/contract",
            get(apps_contracts::page).post(apps_contracts::submit),
        )
        .at(
            "/apps/{org}/{id}/contract/delete",
            axum::routing::post(apps_contracts::remove),
        )
        .at(
            "/apps/{org}/contracts/import",
            get(apps_contracts::import_form).post(apps_contracts::import_submit),
        )
        .at("/apps/{org}/contracts.csv", get(apps_contracts::export))
        .at("/reports", get(reports::list))
        .at(
            "/reports/schedules",
            get(schedules::list).post(schedules::create),
        )
        .at(
            "/reports/schedules/{id}",
            get(schedules::one).post(schedules::save),
        )
        .at(
            "/reports/schedules/{id}/run",
            axum::routing::post(schedules::run),
        )
        .at(
            "/reports/schedules/{id}/delete",
            axum::routing::post(schedules::remove),
        )
        .at("/reports/{id}", get(reports::one))
        .at("/reports/{id}/export.csv", get(reports::csv))
        .at("/rules", get(rules::list).post(rules::create))
        .at("/rules/new", get(rules::new_page))
        .at("/rules/{id}", get(rules::one).post(rules::save))
        .at("/rules/{id}/switch", axum::routing::post(rules::switch))
        .at("/rules/{id}/delete", axum::routing::post(rules::remove))
        .at("/notifications", get(notifications::page))
        .at(
            "/notifications/test",
            axum::routing::post(notifications::test),
        )
        .at("/preferences", axum::routing::post(columns::save))
        .at("/export.csv", get(export::csv))
        .at("/export.ndjson", get(export::ndjson))
        .at("/logout", axum::routing::post(logout))
        .at("/saved", get(saved::list).post(saved::create))
        .at("/saved/{id}", axum::routing::post(saved::update))
        .at("/saved/{id}/delete", axum::routing::post(saved::delete))
        .at("/users", get(users::list).post(users::save))
        .at("/users/{name}/delete", axum::routing::post(users::remove))
        .at("/tokens", get(tokens::list).post(tokens::make))
        .at("/tokens/{id}/revoke", axum::routing::post(tokens::remove));
    let api = Router::new()
        .at(&format!("{}/events", rest::BASE), get(rest::events))
        .at(&format!("{}/events/{{uuid}}", rest::BASE), get(rest::event))
        .at(&format!("{}/histogram", rest::BASE), get(rest::histogram))
        .at(&format!("{}/fields", rest::BASE), get(rest::fields))
        .at(
            &format!("{}/events/{{uuid}}/around", rest::BASE),
            get(rest_manage::around),
        )
        .at(&format!("{}/export.csv", rest::BASE), get(export::csv))
        .at(
            &format!("{}/export.ndjson", rest::BASE),
            get(export::ndjson),
        )
        .at(
            &format!("{}/saved-searches", rest::BASE),
            get(rest_manage::saved_list).post(rest_manage::saved_create),
        )
        .at(
            &format!("{}/saved-searches/{{id}}", rest::BASE),
            get(rest_manage::saved_one).delete(rest_manage::saved_delete),
        )
        .at(
            &format!("{}/tokens", rest::BASE),
            get(rest_manage::tokens_list).post(rest_manage::tokens_create),
        )
        .at(
            &format!("{}/tokens/{{id}}", rest::BASE),
            axum::routing::delete(rest_manage::tokens_delete),
        )
        .at(&format!("{}/apps", rest::BASE), get(apps::api_list))
        .at(
            &format!("{}/apps/{{org}}/{{id}}", rest::BASE),
            get(apps::api_one),
        )
        .at(
            &format!("{}/apps/{{org}}/{{id}}/contract", rest::BASE),
            axum::routing::put(apps_contracts::api_put).delete(apps_contracts::api_delete),
        )
        .at(
            &format!("{}/apps/{{org}}/contracts", rest::BASE),
            axum::routing::post(apps_contracts::api_import),
        )
        .at(
            &format!("{}/apps/{{org}}/contracts.csv", rest::BASE),
            get(apps_contracts::export),
        )
        .at(&format!("{}/renewals", rest::BASE), get(apps_renewals::api))
        .at(&format!("{}/find", rest::BASE), get(find::api))
        .at(
            &format!("{}/people/{{org}}/{{id}}", rest::BASE),
            get(people::api),
        )
        .at(&format!("{}/reports", rest::BASE), get(rest_reports::list))
        .at(
            &format!("{}/reports/{{id}}", rest::BASE),
            get(rest_reports::one),
        )
        .at(
            &format!("{}/schedules", rest::BASE),
            get(rest_schedules::list).post(rest_schedules::create),
        )
        .at(
            &format!("{}/schedules/{{id}}", rest::BASE),
            get(rest_schedules::one)
                .put(rest_schedules::replace)
                .delete(rest_schedules::remove),
        )
        .at(
            &format!("{}/schedules/{{id}}/run", rest::BASE),
            axum::routing::post(rest_schedules::run),
        )
        .at(&format!("{}/alerts", rest::BASE), get(rest_alerts::list))
        .at(
            &format!("{}/alerts/{{id}}", rest::BASE),
            get(rest_alerts::one).patch(rest_alerts::change),
        )
        .at(
            &format!("{}/rules", rest::BASE),
            get(rest_rules::list).post(rest_rules::create),
        )
        .at(
            &format!("{}/rules/{{id}}", rest::BASE),
            get(rest_rules::one)
                .put(rest_rules::replace)
                .patch(rest_rules::switch)
                .delete(rest_rules::remove),
        )
        .at(
            &format!("{}/notifications", rest::BASE),
            get(notifications::list),
        )
        .at(
            &format!("{}/notifications/test", rest::BASE),
            axum::routing::post(notifications::api_test),
        )
        .at(
            &format!("{}/users", rest::BASE),
            get(rest_manage::users_list),
        )
        .at(
            &format!("{}/users/{{name}}", rest::BASE),
            axum::routing::put(rest_manage::users_put).delete(rest_manage::users_delete),
        );
    Router::new()
        .at(&format!("{}/openapi.json", rest::BASE), get(rest::openapi))
        .merge(api)
        .at("/login", get(login_page).post(login))
        .at("/assets/app.css", get(|| asset(CSS, "text/css")))
        .at("/assets/app.js", get(|| asset(JS, "text/javascript")))
        .at("/assets/favicon.svg", get(|| asset(ICON, "image/svg+xml")))
        .at("/favicon.ico", get(|| asset(ICON, "image/svg+xml")))
        .merge(pages)
        .with_state(state.clone())
        .merge(others)
        .layer(from_fn_with_state(state, access::enforce))
        .layer(from_fn(security_headers))
}

async fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Headers on every console answer: a CSP with no inline script, no framing, no sniffing.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    set("x-content-type-options", "nosniff");
    set("x-frame-options", "DENY");
    set("referrer-policy", "same-origin");
    response
}
