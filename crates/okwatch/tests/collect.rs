//! `okwatch serve --config` collecting a simulated org over real HTTP, through `kill -9` at
//! random moments and restarts: afterwards okwatch holds exactly the org's events, each once.
//! Also `okwatch config check`, `okwatch status` and `/health`.

mod support;

use okwatch_sim::server::faults::Faults;
use okwatch_sim::server::oauth::ServiceApp;
use okwatch_sim::server::{SimConfig, Simulator};
use okwatch_store::{EventQuery, Order, Store};
use serde_json::Value;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::okwatch;

const SIM_TOKEN: &str = "collect-test-token";

/// `okwatch serve --config CONFIG` on a free port; returns the child and its base URL.
fn start_serve(data: &Path, config: &Path) -> (Child, String) {
    let mut child = okwatch(data)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .env("OKTA_SIM_TOKEN", SIM_TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("serve says where it listens").unwrap();
        if let Some(rest) = line.split("API at ").nth(1) {
            break rest.trim_end_matches("/api/v1/logs").to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

/// Serves the simulated org on a free port and starts its live clock; returns its URL and the
/// clock, to stop it.
fn serve_sim(
    runtime: &tokio::runtime::Runtime,
    sim: &std::sync::Arc<Simulator>,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = sim.router();
    runtime.spawn(async move { axum::serve(listener, router).await });
    (url, runtime.spawn(sim.clone().run()))
}

fn write_config(dir: &Path, sim_url: &str) -> std::path::PathBuf {
    let path = dir.join("okwatch.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[[org]]
name = "acme"
url = "{sim_url}"
api_token_env = "OKTA_SIM_TOKEN"
backfill_since = "-5d"
rate_limit_share = 1.0
poll_interval = "1s"
"#
        ),
    )
    .unwrap();
    path
}

fn status_json(data: &Path) -> Option<Value> {
    let output = okwatch(data).args(["status", "--json"]).output().unwrap();
    output
        .status
        .success()
        .then(|| serde_json::from_slice(&output.stdout).unwrap())
}

fn uuids(store: &dyn Store) -> HashSet<String> {
    store
        .search(&EventQuery {
            order: Order::Arrival,
            limit: 10_000_000,
            fields: Some(vec!["uuid".into()]),
            ..EventQuery::default()
        })
        .unwrap()
        .events
        .into_iter()
        .map(|e| e.event["uuid"].as_str().unwrap().to_string())
        .collect()
}

/// A small deterministic generator for the kill moments (no test should depend on luck, but
/// the moments should not line up with the poller's rhythm either).
fn moments(seed: u64, n: usize) -> Vec<Duration> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Duration::from_millis(300 + x % 2_700)
        })
        .collect()
}

#[test]
fn serve_collects_an_org_exactly_once_across_kill_9_and_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = Simulator::new(SimConfig {
        seed: 41,
        users: 400,
        days: 4,
        events_per_minute: Some(1_200.0),
        token: SIM_TOKEN.into(),
        rate_limit: 100_000,
        faults: Faults {
            server_error: 0.05,
            slow: 0.02,
            drop: 0.05,
            late: 0.1,
            duplicates: 0.1,
        },
        incidents: Vec::new(),
        service_apps: Vec::new(),
    })
    .unwrap();
    let (sim_url, clock) = serve_sim(&runtime, &sim);
    let config = write_config(dir.path(), &sim_url);

    // Killed without warning, during the backfill and then while tailing live activity.
    for wait in moments(7, 6) {
        let (mut serve, _) = start_serve(&data, &config);
        std::thread::sleep(wait);
        serve.kill().unwrap(); // SIGKILL
        serve.wait().unwrap();
    }
    // The org stops logging; okwatch runs to the end.
    clock.abort();
    let (mut serve, url) = start_serve(&data, &config);
    let expected = uuids(sim.store().as_ref());
    let started = Instant::now();
    let mut tailing_rounds = 0;
    while tailing_rounds < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "okwatch did not catch up: {:?}",
            status_json(&data)
        );
        std::thread::sleep(Duration::from_millis(700));
        let Some(status) = status_json(&data) else {
            continue;
        };
        let org = &status["orgs"][0];
        assert_eq!(org["org"], "acme");
        assert_ne!(org["state"], "stopped", "{status}");
        if org["state"] == "tailing" {
            tailing_rounds += 1;
        } else {
            tailing_rounds = 0;
        }
    }
    // /health needs no credential; the status API and /metrics do.
    let local: Value =
        serde_json::from_slice(&std::fs::read(data.join("serve.json")).unwrap()).unwrap();
    let token = local["token"].as_str().unwrap().to_string();
    let (health, anonymous, metrics) = runtime.block_on(async {
        let client = okwatch_collect::http::client(Duration::from_secs(10)).unwrap();
        let metrics = client
            .get(format!("{url}/metrics"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // The simulator answers 5 % of polls with a 5xx, so a single look may catch the org
        // between a failed poll and its retry ("retrying"); it must be back to tailing soon.
        let mut code = 0;
        let mut body = String::new();
        for _ in 0..40 {
            let health = client.get(format!("{url}/health")).send().await.unwrap();
            code = health.status().as_u16();
            body = health.text().await.unwrap();
            if code != 200 || body.contains("\"tailing\"") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let anonymous = client
            .get(format!("{url}/api/okwatch/v1/status"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        ((code, body), anonymous, metrics)
    });
    assert!(
        metrics.contains("okwatch_collector_up{org=\"acme\"} 1")
            && metrics.contains("okwatch_events_polled_total{org=\"acme\"}"),
        "{metrics}"
    );
    assert!(
        health.0 == 200 && health.1.contains("\"tailing\""),
        "{health:?}"
    );
    assert_eq!(anonymous, 401);
    // A stop by SIGTERM is clean: the server withdraws its serve.json.
    let terminated = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    assert!(serve.wait().unwrap().success());
    assert!(!data.join("serve.json").exists());

    let store =
        okwatch_store_duckdb::DuckDbStore::open_read_only(&data.join("okwatch.duckdb")).unwrap();
    let stored = uuids(&store);
    let count = store.count(&EventQuery::default()).unwrap();
    assert_eq!(count as usize, stored.len(), "an event is stored twice");
    let missing = expected.difference(&stored).count();
    let extra = stored.difference(&expected).count();
    assert_eq!(
        (missing, extra),
        (0, 0),
        "{} events expected, {} stored",
        expected.len(),
        stored.len()
    );
    assert!(
        expected.len() > 5_000,
        "a real backfill: {}",
        expected.len()
    );
}

#[test]
fn config_check_lists_every_problem_and_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "listen = \"127.0.0.1:8080\"\ndatadir = \"/tmp\"\n\n[[org]]\nname = \"acme\"\nurl = \"http://acme.okta.com\"\napi_token_env = \"OKWATCH_TEST_NOT_SET\"\n",
    )
    .unwrap();
    let output = okwatch(dir.path())
        .args(["config", "check", "--config"])
        .arg(&bad)
        .env_remove("OKWATCH_TEST_NOT_SET")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stderr).unwrap();
    let at = |line: usize| format!("{}:{line}:", bad.display());
    assert!(text.contains("has 3 problems"), "{text}");
    for (line, words) in [
        (2, "did you mean `data_dir`"),
        (6, "https://"),
        (7, "OKWATCH_TEST_NOT_SET is not set"),
    ] {
        assert!(
            text.lines()
                .any(|l| l.starts_with(&at(line)) && l.contains(words)),
            "line {line}: {words} in {text}"
        );
    }

    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[[org]]\nname = \"acme\"\nurl = \"https://acme.okta.com\"\napi_token_env = \"OKWATCH_TEST_TOKEN\"\n",
    )
    .unwrap();
    let output = okwatch(dir.path())
        .args(["config", "check", "--config"])
        .arg(&good)
        .env("OKWATCH_TEST_TOKEN", "00super-secret-value")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("no problems") && text.contains("$OKWATCH_TEST_TOKEN"),
        "{text}"
    );
    assert!(!text.contains("super-secret"), "{text}");
}

#[test]
fn status_says_when_no_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let output = okwatch(dir.path()).arg("status").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8(output.stderr).unwrap();
    assert!(text.contains("okwatch serve is not running"), "{text}");
}

/// The test key in okwatch-collect's fixtures.
fn test_key(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../okwatch-collect/tests/fixtures")
        .join(name)
}

/// Also: the org is reached through an OAuth 2.0 service app with DPoP, for polling and for
/// the Event Hooks API alike.
#[test]
fn an_event_hook_registered_through_oktas_api_delivers_live_events_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sim = Simulator::new(SimConfig {
        seed: 43,
        users: 300,
        days: 1,
        events_per_minute: Some(600.0),
        token: SIM_TOKEN.into(),
        rate_limit: 100_000,
        faults: Faults::default(),
        incidents: Vec::new(),
        service_apps: vec![{
            let public = std::fs::read_to_string(test_key("rsa-test-key.public.jwk")).unwrap();
            let mut app = ServiceApp::new("0oaokwatch", &public).unwrap();
            app.require_dpop = true;
            app
        }],
    })
    .unwrap();
    let (sim_url, clock) = serve_sim(&runtime, &sim);
    // Polling only every 30 s: live events reach okwatch by hook first.
    let config = dir.path().join("okwatch.toml");
    std::fs::write(
        &config,
        format!(
            "[[org]]\nname = \"acme\"\nurl = \"{sim_url}\"\nhook_secret_env = \"HOOK_SECRET\"\nbackfill_since = \"-2d\"\npoll_interval = \"30s\"\n\
             [org.oauth]\nclient_id = \"0oaokwatch\"\nprivate_key_file = \"{}\"\nkey_id = \"okwatch-test-rsa\"\n\
             scopes = [\"okta.logs.read\", \"okta.eventHooks.manage\"]\ndpop = true\n",
            test_key("rsa-test-key.pem").display()
        ),
    )
    .unwrap();
    let mut serve = okwatch(&data)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .env("OKTA_SIM_TOKEN", SIM_TOKEN)
        .env("HOOK_SECRET", "the-hook-secret")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(serve.stderr.take().unwrap()).lines();
    let hook_url = loop {
        let line = lines.next().expect("serve prints the hook URL").unwrap();
        if let Some(rest) = line.split("deliveries for acme at ").nth(1) {
            break rest.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    let hooks = |args: &[&str]| {
        okwatch(&data)
            .arg("hooks")
            .args(args)
            .arg("--config")
            .arg(&config)
            .args(["--org", "acme"])
            .env("OKTA_SIM_TOKEN", SIM_TOKEN)
            .env("HOOK_SECRET", "the-hook-secret")
            .output()
            .unwrap()
    };
    let registered = hooks(&["register", "--url", &hook_url]);
    let said = String::from_utf8_lossy(&registered.stdout).to_string();
    assert!(
        registered.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&registered.stderr)
    );
    assert!(said.contains("ACTIVE VERIFIED"), "{said}");
    let listed = String::from_utf8(hooks(&["list"]).stdout).unwrap();
    assert!(
        listed.contains(&hook_url) && listed.contains("VERIFIED"),
        "{listed}"
    );

    // Deliveries arrive within seconds.
    let started = Instant::now();
    let org = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no hook delivery"
        );
        std::thread::sleep(Duration::from_millis(500));
        if let Some(status) = status_json(&data) {
            let org = status["orgs"][0].clone();
            if org["hook_events_stored"].as_u64().unwrap_or(0) > 0 {
                break org;
            }
        }
    };
    assert_eq!(org["hook_refused"], 0, "{org}");
    // A delivery without the secret, or too large, is refused and counted.
    let (wrong, huge) = runtime.block_on(async {
        let client = okwatch_collect::http::client(Duration::from_secs(10)).unwrap();
        let body = r#"{"data": {"events": []}}"#;
        let wrong = client
            .post(&hook_url)
            .header("Authorization", "not-the-secret")
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        // The server refuses by Content-Length without reading the 9 MB: on a busy machine it
        // can close the connection while the client is still writing, and the client sees a
        // broken pipe instead of the 413 — the same refusal, seen from the other side.
        let huge = match client
            .post(&hook_url)
            .header("Authorization", "the-hook-secret")
            .body(vec![b' '; 9 * 1024 * 1024])
            .send()
            .await
        {
            Ok(answer) => answer.status().as_u16(),
            Err(e) => {
                let chain = format!("{e:?}");
                assert!(
                    chain.contains("BodyWrite")
                        || chain.contains("BrokenPipe")
                        || chain.contains("reset"),
                    "not a refusal mid-body: {chain}"
                );
                413
            }
        };
        (wrong, huge)
    });
    assert_eq!((wrong, huge), (401, 413));
    let refused = status_json(&data).unwrap()["orgs"][0]["hook_refused"].clone();
    assert_eq!(refused, 1, "the wrong secret is counted");

    // A delivery holding an event okwatch cannot store: the rest is stored, and that one is
    // kept aside with its reason, never dropped.
    let good = serde_json::json!({"uuid": "hook-kept-1", "published": "2026-11-30T10:00:00.000Z",
        "eventType": "user.session.start", "actor": {"alternateId": "ana@example.com"}});
    let bad = serde_json::json!({"published": "2026-11-30T10:00:01.000Z",
        "eventType": "user.session.start", "displayMessage": "no uuid"});
    let answered = runtime.block_on(async {
        okwatch_collect::http::client(Duration::from_secs(10))
            .unwrap()
            .post(&hook_url)
            .header("Authorization", "the-hook-secret")
            .header("Content-Type", "application/json")
            .body(serde_json::json!({"data": {"events": [good, bad]}}).to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(answered, 200);
    let kept = std::fs::read_to_string(data.join("rejects/acme.hook.rejects.ndjson"))
        .expect("the rejected event is kept aside");
    let kept: Vec<Value> = kept
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0]["event"]["displayMessage"], "no uuid");
    assert!(
        kept[0]["reason"].as_str().unwrap().contains("uuid"),
        "{}",
        kept[0]
    );
    let org = status_json(&data).unwrap()["orgs"][0].clone();
    assert_eq!(org["rejected"], 1, "{org}");

    // Removing the hook through Okta's API.
    let id = listed.split_whitespace().next().unwrap().to_string();
    let removed = hooks(&["remove", &id]);
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    assert!(String::from_utf8(hooks(&["list"]).stdout)
        .unwrap()
        .trim()
        .is_empty());

    clock.abort();
    Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status()
        .unwrap();
    assert!(serve.wait().unwrap().success());
    // Delivered by hook and read again by the poller: each event once, all of them the org's.
    let store =
        okwatch_store_duckdb::DuckDbStore::open_read_only(&data.join("okwatch.duckdb")).unwrap();
    let stored = uuids(&store);
    assert_eq!(
        store.count(&EventQuery::default()).unwrap() as usize,
        stored.len()
    );
    let mut expected = uuids(sim.store().as_ref());
    // The good event of the delivery with a bad one was stored.
    assert!(stored.contains("hook-kept-1"));
    expected.insert("hook-kept-1".to_string());
    assert!(stored.is_subset(&expected));
    // The backfill came through the service app too (a nonce, then a token, per process).
    assert!(stored.len() > 1_000, "{} events", stored.len());
    assert!(sim.authorization_server().token_requests() >= 2);
}
