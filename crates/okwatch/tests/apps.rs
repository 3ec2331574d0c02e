//! The SaaS usage overview end to end: `okwatch serve` lists a simulated org's directory over
//! real HTTP and collects its System Log; the apps API and console then show every app with
//! the org's own assignments, and active people equal to those the org's events show.

mod support;

use okwatch_sim::server::faults::Faults;
use okwatch_sim::server::{SimConfig, Simulator};
use okwatch_store::{EventQuery, Store};
use reqwest::Method;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use support::{api_call, console_get, console_session, Server};

const PASSWORD: &str = "apps-test-password";
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
    let server = Server::start_with_config(
        &data,
        dir.path(),
        &format!(
            "[[org]]\nname = \"acme\"\nurl = \"{sim_url}\"\napi_token_env = \"OKWATCH_TEST_APPS_TOKEN\"\nbackfill_since = \"-5d\"\nrate_limit_share = 1.0\npoll_interval = \"1s\"\n"
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
            if apps.len() != org.apps.len() {
                return Err(format!("{} apps of {}", apps.len(), org.apps.len()));
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
        let active = people.iter().filter(|p| p["state"] == "active").count();
        assert_eq!(active as u64, busiest["active_30"].as_u64().unwrap());
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
    });
}
