//! Detections on live events: failed sign-ins pushed by an Event Hook into a running
//! `okwatch serve` become a brute-force alert within seconds, with exactly the events behind
//! it; a restart looks at the same events again without doubling the alert.

mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{create_token, Server};

const SECRET: &str = "alerts-test-hook-secret";

fn start(dir: &std::path::Path) -> Server {
    let config = dir.join("okwatch.toml");
    std::fs::write(
        &config,
        "[[org]]\nname = \"acme\"\nurl = \"http://127.0.0.1:9\"\n\
         api_token_env = \"OKWATCH_TEST_ACME_TOKEN\"\n\
         hook_secret_env = \"OKWATCH_TEST_HOOK_SECRET\"\n",
    )
    .unwrap();
    Server::start_configured(
        &dir.join("data"),
        Some(&config),
        &[
            ("OKWATCH_TEST_ACME_TOKEN", "unused"),
            ("OKWATCH_TEST_HOOK_SECRET", SECRET),
        ],
    )
}

fn failed_sign_in(i: usize, at: chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "uuid": format!("bf000000-0000-4000-8000-{i:012}"),
        "published": okwatch_model::format_timestamp(at),
        "eventType": "user.session.start",
        "version": "0",
        "severity": "INFO",
        "displayMessage": "User login to Okta",
        "actor": {"id": "00uvictim", "type": "User", "alternateId": "victim@example.com"},
        "outcome": {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"},
        "client": {"ipAddress": "203.0.113.50"},
        "target": []
    })
}

async fn alerts(client: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let reply = client
        .get(format!("{base}/api/okwatch/v1/alerts"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let body: Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
    body["alerts"].as_array().unwrap().clone()
}

#[test]
fn hooked_failures_raise_one_brute_force_alert_within_seconds_and_a_restart_keeps_it_single() {
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(&dir.path().join("data"), "alerts-test");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = okwatch_collect::http::client(Duration::from_secs(10)).unwrap();
    let start_at = chrono::Utc::now() - chrono::TimeDelta::minutes(10);
    let events: Vec<Value> = (0..22)
        .map(|i| failed_sign_in(i, start_at + chrono::TimeDelta::seconds(10 * i as i64)))
        .collect();
    let uuids: Vec<&str> = events.iter().map(|e| e["uuid"].as_str().unwrap()).collect();
    {
        let server = start(dir.path());
        runtime.block_on(async {
            let delivered = client
                .post(format!("{}/hooks/okta/acme", server.url))
                .header("authorization", SECRET)
                .header("content-type", "application/json")
                .body(
                    json!({"eventType": "com.okta.event_hook", "data": {"events": events}})
                        .to_string(),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(delivered.status(), 200);
            let delivered_at = Instant::now();
            let alert = loop {
                let found: Vec<Value> = alerts(&client, &server.url, &token)
                    .await
                    .into_iter()
                    .filter(|a| a["rule"] == "okwatch.brute_force")
                    .collect();
                if !found.is_empty() {
                    assert_eq!(found.len(), 1, "{found:?}");
                    break found[0].clone();
                }
                assert!(
                    delivered_at.elapsed() < Duration::from_secs(15),
                    "no alert within 15 s"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            };
            assert!(delivered_at.elapsed() < Duration::from_secs(10));
            assert_eq!(alert["group"], "victim@example.com");
            assert_eq!(alert["severity"], "medium");
            assert_eq!(alert["status"], "open");
            // The 20 that crossed the threshold, then the 2 after it, which joined it.
            let behind: Vec<&str> = alert["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_str().unwrap())
                .collect();
            assert_eq!(behind, uuids);
            assert!(alert["explorer"].as_str().unwrap().starts_with("/?since="));
        });
    }
    // A restart evaluates the last day again: the same alert, not a second one.
    let server = start(dir.path());
    runtime.block_on(async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let found: Vec<Value> = alerts(&client, &server.url, &token)
            .await
            .into_iter()
            .filter(|a| a["rule"] == "okwatch.brute_force")
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["events"].as_array().unwrap().len(), uuids.len());
    });
}
