//! The SaaS usage overview end to end: `okwatch serve` lists a simulated org's directory over
//! real HTTP and collects its System Log; the apps API and console then show every app with
//! the org's own assignments, and active people equal to those the org's events show. Then
//! contracts, through the API, a CSV import and the console form: spend and savings from them,
//! renewals in their windows, and a renewal notice delivered to the channel set for renewals.

mod support;

use okwatch_sim::server::faults::Faults;
use okwatch_sim::server::{SimConfig, Simulator};
use okwatch_store::{EventQuery, Store};
use reqwest::Method;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use support::{
    api_call, console_get, console_post, console_session, create_token, python_json, python_with,
    Server,
};

const PASSWORD: &str = "apps-test-password";
const MCP_SDK: &str = "mcp==2.3.0";
const TOKEN: &str = "apps-test-token";

/// People who signed in to each app (by id) in the org's own events, counted by hand.
fn active_by_app(sim: &Simulator) -> BTreeMap<String, BTreeSet<String>> {
    let mut by_app: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    sim.store()
        .scan(&EventQuery::default(), &mut |e| {
            let event = &e.event;
            if event["eventType"] == "user.authentication.sso"
                && event["outcome"]["result"] == "SUCCESS"
            {
                let app = event["target"]
                    .as_array()
                    .and_then(|t| t.iter().find(|t| t["type"] == "AppInstance"));
                if let (Some(app), Some(person)) = (app, event["actor"]["id"].as_str()) {
                    by_app
                        .entry(app["id"].as_str().unwrap_or_default().to_string())
                        .or_default()
                        .insert(person.to_string());
                }
            }
            true
        })
        .unwrap();
    by_app
}

#[test]
fn serve_lists_the_directory_and_shows_each_apps_assigned_and_active_people() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = Simulator::new(SimConfig {
        seed: 8,
        users: 140,
        days: 3,
        events_per_minute: None,
        token: TOKEN.into(),
        rate_limit: 100_000,
        faults: Faults::default(),
        incidents: Vec::new(),
        service_apps: Vec::new(),
    })
    .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let sim_url = format!("http://{}", listener.local_addr().unwrap());
    let router = sim.router();
    runtime.spawn(async move { axum::serve(listener, router).await });
    let expected_active = active_by_app(&sim);

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let notices = dir.path().join("notices");
    let token = create_token(&data, "apps-mcp");
    let server = Server::start_with_config(
        &data,
        dir.path(),
        &format!(
            "[[org]]\nname = \"acme\"\nurl = \"{sim_url}\"\napi_token_env = \"OKWATCH_TEST_APPS_TOKEN\"\nbackfill_since = \"-5d\"\nrate_limit_share = 1.0\npoll_interval = \"1s\"\n\n[[notify]]\nname = \"finance\"\nkind = \"directory\"\npath = \"{}\"\nrenewals = true\n",
            notices.display()
        ),
        &[
            ("OKWATCH_TEST_APPS_TOKEN", TOKEN),
            ("OKWATCH_ADMIN_PASSWORD", PASSWORD),
        ],
    );
    okwatch_collect::http::client(Duration::from_secs(10)).unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    runtime.block_on(async {
        let session = console_session(&client, &server.url, "admin", PASSWORD).await;
        let base = format!("{}/api/okwatch/v1", server.url);
        // The directory is listed at start and the events collected meanwhile: wait until
        // okwatch shows what the org holds, every app's assigned and active people.
        let org = sim.org();
        let matches = |inventory: &Value| -> Result<(), String> {
            let apps = inventory["apps"].as_array().ok_or("no apps")?;
            // The org's apps, and Okta itself.
            if apps.len() != org.apps.len() + 1 {
                return Err(format!("{} apps of {}", apps.len(), org.apps.len() + 1));
            }
            for (i, app) in org.apps.iter().enumerate() {
                let shown = apps
                    .iter()
                    .find(|a| a["id"] == app.id.as_str())
                    .ok_or(format!("{} missing", app.spec.label))?;
                let assigned = org.users.iter().filter(|u| u.apps.contains(&i)).count() as u64;
                let active = expected_active.get(&app.id).map_or(0, |s| s.len()) as u64;
                let got = (
                    &shown["label"],
                    shown["assigned"].as_u64(),
                    shown["active_90"].as_u64(),
                );
                if got != (&Value::from(app.spec.label), Some(assigned), Some(active)) {
                    return Err(format!(
                        "{}: {got:?}, not {assigned} assigned, {active} active",
                        app.spec.label
                    ));
                }
            }
            Ok(())
        };
        let started = Instant::now();
        let inventory = loop {
            let (status, inventory) = api_call(
                &client,
                Method::GET,
                &format!("{base}/apps"),
                &session,
                None,
            )
            .await;
            let checked = if status == 200 {
                matches(&inventory)
            } else {
                Err(format!("{status} {inventory}"))
            };
            match checked {
                Ok(()) => break inventory,
                Err(why) => assert!(started.elapsed() < Duration::from_secs(120), "{why}"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        assert_eq!(inventory["org"], "acme");
        let apps = inventory["apps"].as_array().unwrap();

        // One app: its people, assigned or active, each with a state.
        let busiest = apps
            .iter()
            .max_by_key(|a| a["active_30"].as_u64().unwrap())
            .unwrap();
        let id = busiest["id"].as_str().unwrap();
        let (status, one) = api_call(
            &client,
            Method::GET,
            &format!("{base}/apps/acme/{id}"),
            &session,
            None,
        )
        .await;
        assert_eq!(status, 200, "{one}");
        let people = one["people"].as_array().unwrap();
        let active = |listed: bool| {
            people
                .iter()
                .filter(|p| p["state"] == "active" && p["listed"] == listed)
                .count() as u64
        };
        assert_eq!(active(true), busiest["active_30"].as_u64().unwrap());
        // Someone who signed in but is not in the directory is shown apart, not counted.
        assert_eq!(active(false), busiest["unlisted_30"].as_u64().unwrap());
        let (status, _) = api_call(
            &client,
            Method::GET,
            &format!("{base}/apps/acme/0oanonesuch"),
            &session,
            None,
        )
        .await;
        assert_eq!(status, 404);

        // The console shows the same.
        let (status, page) = console_get(&client, &server.url, &session, "/apps").await;
        assert_eq!(status, 200);
        for app in &org.apps {
            assert!(page.contains(app.spec.label), "{}", app.spec.label);
        }
        let (status, page) =
            console_get(&client, &server.url, &session, &format!("/apps/acme/{id}")).await;
        assert_eq!(status, 200);
        assert!(page.contains(busiest["label"].as_str().unwrap()));
        assert!(page.contains("Licences to reclaim first"));

        contracts(
            &client,
            &server.url,
            &session,
            apps,
            &notices,
            (&data, &token),
        )
        .await;
    });
}

/// `1,200.50`, as okwatch writes amounts.
fn money(cents: i64) -> String {
    okwatch_engine::usage::money::format_cents(cents)
}

fn day_after(days: i64) -> String {
    (chrono::Utc::now() + chrono::TimeDelta::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// Contracts through the API, a CSV import and the console; spend, savings, renewals and a
/// renewal notice from them.
async fn contracts(
    client: &reqwest::Client,
    url: &str,
    session: &(String, String),
    apps: &[Value],
    notices: &std::path::Path,
    (data, token): (&std::path::Path, &str),
) {
    let base = format!("{url}/api/okwatch/v1");
    let call = |method: Method, path: &str, body: Option<String>| {
        let url = format!("{base}{path}");
        async move { api_call(client, method, &url, session, body.as_deref()).await }
    };
    let others: Vec<&Value> = apps.iter().filter(|a| a["id"] != "okta").collect();
    let busiest = others
        .iter()
        .max_by_key(|a| a["active_30"].as_u64().unwrap())
        .unwrap();
    let id = busiest["id"].as_str().unwrap();
    let label = busiest["label"].as_str().unwrap();
    let active = busiest["active_30"].as_u64().unwrap();
    let licences = busiest["assigned"].as_u64().unwrap() + 10;

    // A bad fact is refused with the field named; nothing is kept.
    let (status, refused) = call(
        Method::PUT,
        &format!("/apps/acme/{id}/contract"),
        Some(r#"{"licences": 10, "price": "12.345"}"#.into()),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["problems"][0]["field"], "price");
    let (status, refused) = call(
        Method::PUT,
        &format!("/apps/acme/{id}/contract"),
        Some(r#"{"seats": 10}"#.into()),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"]
        .as_str()
        .unwrap()
        .contains("unknown field `seats`"));

    // A good one: a year of it and its unused licences, by the arithmetic.
    let body = format!(
        r#"{{"licences": {licences}, "price": 12.5, "billing": "licence_month", "currency": "eur",
            "renewal": "{}", "notice_days": 30, "owner": "it@example.com"}}"#,
        day_after(10)
    );
    let (status, saved) = call(
        Method::PUT,
        &format!("/apps/acme/{id}/contract"),
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["contract"]["currency"], "EUR");
    let spend = &saved["app"]["spend"];
    assert_eq!(spend["annual_cents"], 1250 * 12 * licences);
    assert_eq!(spend["unused"], licences - active);
    assert_eq!(spend["savings_cents"], 1250 * 12 * (licences - active));

    // It renews in 10 days with a 30-day notice: the notice reaches the finance channel.
    let started = Instant::now();
    let notice = loop {
        let found = std::fs::read_dir(notices)
            .into_iter()
            .flatten()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with("renewal-acme-"));
        if let Some(file) = found {
            break std::fs::read_to_string(file.path()).unwrap();
        }
        if started.elapsed() > Duration::from_secs(30) {
            let (_, log) = call(Method::GET, "/notifications", None).await;
            let (_, renewals) = call(Method::GET, "/renewals", None).await;
            panic!("no renewal notice: {log} {renewals}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let notice: Value = serde_json::from_str(&notice).unwrap();
    assert_eq!(notice["type"], "okwatch.renewal");
    assert_eq!(notice["renewal"]["app"]["id"], id);
    assert_eq!(
        notice["subject"],
        format!(
            "[okwatch] {label} renews in 10 days ({}): {} of {licences} licences unused",
            day_after(10),
            licences - active
        )
    );

    // A CSV file: the good row kept, each bad row reported with its line.
    let second = others.iter().find(|a| a["id"] != id).unwrap();
    let csv = format!(
        "app,licences,price,billing,renewal\nOkta,200,4,licence_month,{}\nNope,1,1,licence_month,\n{},x,1,,\n",
        day_after(45),
        second["label"].as_str().unwrap()
    );
    let (status, report) = call(Method::POST, "/apps/acme/contracts", Some(csv)).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["imported"].as_array().unwrap().len(), 1);
    assert_eq!(report["imported"][0]["app_id"], "okta");
    let lines: Vec<u64> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4]);
    assert_eq!(report["problems"][1]["problems"][0]["field"], "licences");
    let (status, refused) = call(
        Method::POST,
        "/apps/acme/contracts",
        Some("app,seats\n".into()),
    )
    .await;
    assert_eq!(status, 400, "{refused}");

    // Renewals in their windows, soonest first.
    let renewing = |within: u32| {
        let call = &call;
        async move {
            let (status, found) =
                call(Method::GET, &format!("/renewals?within={within}"), None).await;
            assert_eq!(status, 200, "{found}");
            assert_eq!(found["notice_channels"], serde_json::json!(["finance"]));
            found["renewals"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["app"]["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(renewing(30).await, [id]);
    assert_eq!(renewing(60).await, [id, "okta"]);

    // The inventory sorted by spend, with totals per currency.
    let (status, sorted) = call(Method::GET, "/apps?sort=spend&dir=desc", None).await;
    assert_eq!(status, 200, "{sorted}");
    let okta_spend = 400 * 12 * 200;
    let (first, second_app) = if okta_spend > 1250 * 12 * licences {
        ("okta", id)
    } else {
        (id, "okta")
    };
    assert_eq!(sorted["apps"][0]["id"], first);
    assert_eq!(sorted["apps"][1]["id"], second_app);
    // A contract imported without a currency takes the org's usual one (EUR here): one total.
    assert_eq!(
        sorted["totals"].as_array().unwrap().len(),
        1,
        "{}",
        sorted["totals"]
    );
    assert_eq!(sorted["totals"][0]["currency"], "EUR");
    assert_eq!(
        sorted["totals"][0]["annual_cents"],
        okta_spend + 1250 * 12 * licences
    );
    let (status, _) = call(Method::GET, "/apps?sort=price", None).await;
    assert_eq!(status, 400);

    // Exported, the file imports back whole.
    let exported = client
        .get(format!("{base}/apps/acme/contracts.csv"))
        .header("cookie", &session.0)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        exported.starts_with("app,licences,price,billing,currency,renewal"),
        "{exported}"
    );
    let (status, again) = call(Method::POST, "/apps/acme/contracts", Some(exported)).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            again["imported"].as_array().unwrap().len(),
            again["problems"].as_array().unwrap().len()
        ),
        (2, 0),
        "{again}"
    );

    // The console: the form refuses a bad date on its page and keeps a good one.
    let form = format!("/apps/acme/{}/contract", second["id"].as_str().unwrap());
    let (status, page) = console_get(client, url, session, &form).await;
    assert_eq!(status, 200);
    assert!(page.contains("Licences bought"));
    // The form as a person fills it, with this renewal date and these notes.
    let send = |renewal: &'static str, notes: &'static str| {
        let form = form.clone();
        async move {
            let fields = [
                ("licences", "5"),
                ("price", "3"),
                ("billing", "licence_year"),
                ("currency", "USD"),
                ("renewal", renewal),
                ("notice_days", "30"),
                ("owner", ""),
                ("notes", notes),
            ];
            console_post(client, url, session, &form, &fields).await
        }
    };
    let (status, _, page) = send("31/12/2027", "").await;
    assert_eq!(status, 400);
    assert!(page.contains("is not a date"), "{page}");
    let (status, location, _) = send("2027-12-31", "two\nlines").await;
    assert_eq!(status, 303);
    let (_, page) = console_get(client, url, session, &location).await;
    assert!(page.contains("USD 3.00 per licence per year"), "{page}");
    let (status, page) = console_get(client, url, session, "/apps/renewals?within=365").await;
    assert_eq!(status, 200);
    assert!(page.contains(label) && page.contains("finance"));
    let (status, _, page) = console_post(
        client,
        url,
        session,
        "/apps/acme/contracts/import",
        &[("csv", "app,licences\nOkta,210\nNope,3\n")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("1 contract imported") && page.contains("no app of the org"),
        "{page}"
    );

    // An assistant asks the same through MCP, with the official SDK, over HTTP (a token) and
    // over stdio (`okwatch mcp`, which asks the running server).
    let python = python_with("mcp-sdk-venv", MCP_SDK, "mcp.client.streamable_http");
    let mcp_url = format!("{url}/mcp");
    let over_http = python_json(
        &python,
        "mcp_client.py",
        &["usage-http", &mcp_url, token, label],
    );
    let binary = env!("CARGO_BIN_EXE_okwatch");
    let data = data.to_str().unwrap();
    let over_stdio = python_json(
        &python,
        "mcp_client.py",
        &["usage-stdio", binary, data, label],
    );
    for (transport, answers) in [("http", &over_http), ("stdio", &over_stdio)] {
        let tools = answers["tools"].as_array().unwrap();
        assert!(tools.contains(&"renewals".into()), "{transport}: {tools:?}");
        let app = &answers["app"]["licences_and_spend"];
        assert_eq!(app.as_array().unwrap().len(), 1, "{transport}: {app}");
        let app = &app[0];
        assert_eq!(app["id"], id);
        assert_eq!(app["licences"], licences);
        assert_eq!(app["unused_licences"], licences - active);
        assert_eq!(
            app["annual_spend"],
            format!("EUR {}", money(1250 * 12 * licences as i64))
        );
        assert_eq!(
            app["potential_annual_savings"],
            format!("EUR {}", money(1250 * 12 * (licences - active) as i64))
        );
        assert_eq!(app["renewal"], day_after(10));
        assert_eq!(app["renews_in_days"], 10);
        assert_eq!(app["owner"], "it@example.com");
        // The period's sign-on counts come with it.
        assert!(answers["app"]["apps"].as_array().is_some(), "{transport}");
        let okta = &answers["okta"]["licences_and_spend"][0];
        assert_eq!(
            (&okta["id"], &okta["licences"]),
            (&"okta".into(), &210.into())
        );
        let renewing: Vec<&str> = answers["renewals"]["renewals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(renewing, [id, "okta"], "{transport}");
        assert_eq!(
            answers["renewals_soon"]["renewals"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(answers["bad_within"]["is_error"], true, "{transport}");
        assert_eq!(answers["no_app"]["is_error"], true, "{transport}");
    }

    // A browser walks from the search box to the app and to one of its people.
    browser_walk(url, label);

    // Removed once; then there is none.
    let (status, _) = call(Method::DELETE, &format!("/apps/acme/{id}/contract"), None).await;
    assert_eq!(status, 204);
    let (status, _) = call(Method::DELETE, &format!("/apps/acme/{id}/contract"), None).await;
    assert_eq!(status, 404);
}

/// The search box on every page leads to the app, the app to its people, a person to their
/// page; a name several answer lists them.
fn browser_walk(url: &str, label: &str) {
    for program in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            std::path::Path::new(program).exists(),
            "{program} is missing: apt-get install chromium chromium-driver"
        );
    }
    let python = python_with("selenium-venv", "selenium==4.27.1", "selenium");
    // The label's first letters, in another case: the box finds by part of a name.
    let typed: String = label.chars().take(4).collect::<String>().to_uppercase();
    let seen = python_json(&python, "apps_browser.py", &[url, PASSWORD, &typed, "an"]);
    assert_eq!(seen["focused"], "find", "Ctrl+K: {seen}");
    let suggested = seen["suggested"].as_array().unwrap();
    assert!(suggested[0].as_str().unwrap().starts_with(label), "{seen}");
    assert_eq!(seen["chosen"], "find-0", "{seen}");
    assert_eq!(seen["app_title"], label, "{seen}");
    let person = seen["person_clicked"].as_str().unwrap();
    assert!(
        seen["person_title"].as_str().unwrap().starts_with(person),
        "{seen}"
    );
    let apps: Vec<&str> = seen["person_apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(apps[0], "Okta", "{seen}");
    assert!(apps.contains(&label), "{seen}");
    assert_eq!(seen["person_map"], 1, "{seen}");
    assert_eq!(
        seen["closed_kept"],
        serde_json::json!([false, "an"]),
        "Escape: {seen}"
    );
    assert_eq!(seen["find_title"], "Find “an”", "{seen}");
    assert!(seen["find_rows"].as_u64().unwrap() > 1, "{seen}");
    assert_eq!(seen["errors"], serde_json::json!([]), "{seen}");
}
