//! Detections on live events: failed sign-ins pushed by an Event Hook into a running
//! `okwatch serve` become a brute-force alert within seconds, with exactly the events behind
//! it; people handle it (acknowledge, assign, comment, resolve) in the console and the API, an
//! assistant reads it through MCP (the official SDK, over HTTP and stdio); the attack going on
//! opens it again; a restart looks at the same events again without doubling the alert or
//! forgetting its handling.

mod support;

use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{console_session, create_token, python_json, python_with, Server};

const SECRET: &str = "alerts-test-hook-secret";
const PASSWORD: &str = "alerts-test-password";

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
            ("OKWATCH_ADMIN_PASSWORD", PASSWORD),
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

async fn deliver(client: &reqwest::Client, base: &str, events: &[Value]) {
    let delivered = client
        .post(format!("{base}/hooks/okta/acme"))
        .header("authorization", SECRET)
        .header("content-type", "application/json")
        .body(json!({"eventType": "com.okta.event_hook", "data": {"events": events}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(delivered.status(), 200);
}

/// `PATCH /api/okwatch/v1/alerts/{id}` as a signed-in browser: status and body.
async fn patch(
    client: &reqwest::Client,
    base: &str,
    (session, csrf): &(String, String),
    id: &str,
    body: Value,
) -> (u16, Value) {
    let reply = client
        .patch(format!("{base}/api/okwatch/v1/alerts/{id}"))
        .header("cookie", session)
        .header("x-csrf-token", csrf)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (
        status,
        serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap(),
    )
}

async fn alerts(client: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let reply = client
        .get(format!(
            "{base}/api/okwatch/v1/alerts?status=all&severity=info"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let body: Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
    body["alerts"].as_array().unwrap().clone()
}

#[test]
fn hooked_failures_raise_one_brute_force_alert_within_seconds_people_handle_it_and_a_restart_keeps_it(
) {
    let dir = tempfile::tempdir().unwrap();
    let token = create_token(&dir.path().join("data"), "alerts-test");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    okwatch_collect::http::client(Duration::from_secs(10)).unwrap();
    // No redirects followed: the console's forms answer 303, looked at as such.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let python = python_with("mcp-sdk-venv", "mcp==2.3.0", "mcp.client.streamable_http");
    let start_at = chrono::Utc::now() - chrono::TimeDelta::minutes(10);
    let events: Vec<Value> = (0..22)
        .map(|i| failed_sign_in(i, start_at + chrono::TimeDelta::seconds(10 * i as i64)))
        .collect();
    let uuids: Vec<&str> = events.iter().map(|e| e["uuid"].as_str().unwrap()).collect();
    {
        let server = start(dir.path());
        runtime.block_on(async {
            deliver(&client, &server.url, &events).await;
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
            let id = alert["id"].as_str().unwrap().to_string();
            handle(&client, &server.url, &token, &id).await;
            reopened_when_the_attack_goes_on(&client, &server.url, &token, &id, start_at).await;
        });
        // An assistant asks: over stdio, `okwatch mcp` reads through the running server.
        let stdio = python_json(
            &python,
            "mcp_client.py",
            &[
                "alerts-stdio",
                env!("CARGO_BIN_EXE_okwatch"),
                dir.path().join("data").to_str().unwrap(),
            ],
        );
        let http = python_json(
            &python,
            "mcp_client.py",
            &["alerts-http", &format!("{}/mcp", server.url), &token],
        );
        for (transport, answers) in [("stdio", &stdio), ("http", &http)] {
            check_mcp(transport, answers, uuids.len() + 3);
        }
    }
    // A restart evaluates the last day again: the same alert, not a second one, and what
    // people did with it is kept.
    let server = start(dir.path());
    runtime.block_on(async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let found: Vec<Value> = alerts(&client, &server.url, &token)
            .await
            .into_iter()
            .filter(|a| a["rule"] == "okwatch.brute_force")
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0]["events"].as_array().unwrap().len(),
            uuids.len() + 3
        );
        assert_eq!(found[0]["status"], "open");
        assert_eq!(found[0]["assignee"], "admin");
    });
}

/// What MCP's alert tools say about the one alert, through either transport.
fn check_mcp(transport: &str, answers: &Value, events: usize) {
    let tools = answers["tools"].as_array().unwrap();
    assert!(tools.contains(&json!("list_alerts")) && tools.contains(&json!("get_alert")));
    let listed = answers["all"]["alerts"].as_array().unwrap();
    let brute: Vec<&Value> = listed
        .iter()
        .filter(|a| a["rule"] == "okwatch.brute_force")
        .collect();
    assert_eq!(brute.len(), 1, "{transport}: {listed:?}");
    assert_eq!(brute[0]["event_count"], events, "{transport}");
    assert_eq!(brute[0]["status"], "open", "{transport}: reopened");
    // Open medium alerts are what list_alerts gives by default.
    assert!(answers["open_attacks"]["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["id"] == brute[0]["id"]));
    let first = &answers["first"];
    assert_eq!(first["id"], listed[0]["id"], "{transport}");
    if first["rule"] == "okwatch.brute_force" {
        assert_eq!(
            first["events"].as_array().unwrap().len(),
            20,
            "{transport}: {first}"
        );
        assert_eq!(first["event_uuids"].as_array().unwrap().len(), events);
        assert!(first["runbook"].as_str().unwrap().contains("IP"), "{first}");
        let history: Vec<&str> = first["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            history,
            ["status", "assignee", "comment", "status", "comment", "status", "comment"],
            "{transport}"
        );
    }
    assert_eq!(answers["missing"]["is_error"], true, "{transport}");
    assert!(answers["bad_severity"]["text"]
        .as_str()
        .unwrap()
        .contains("critical"));
}

/// An admin acknowledges, assigns and comments in the console; the API resolves it; a viewer's
/// token may read but not change; mistakes are named.
async fn handle(client: &reqwest::Client, base: &str, token: &str, id: &str) {
    let admin = console_session(client, base, "admin", PASSWORD).await;
    let page = client
        .get(format!("{base}/alerts/{id}"))
        .header("cookie", &admin.0)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("victim@example.com") && page.contains("Acknowledge"));
    assert!(page.contains("Nobody has acted on it yet."));
    // The console form: acknowledge, take it, say why.
    let posted = client
        .post(format!("{base}/alerts/{id}"))
        .header("cookie", &admin.0)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={}&assignee=admin&comment=Checking+with+the+user&status=acknowledged",
            admin.1
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303);
    let page = client
        .get(format!("{base}/alerts/{id}"))
        .header("cookie", &admin.0)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for said in [
        "marked it acknowledged",
        "assigned it to admin",
        "Checking with the user",
    ] {
        assert!(page.contains(said), "{said}");
    }
    // A forged form changes nothing.
    let forged = client
        .post(format!("{base}/alerts/{id}"))
        .header("cookie", &admin.0)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=wrong&status=resolved")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    // The list's tabs: it is no longer open.
    let listed = client
        .get(format!("{base}/alerts?status=acknowledged&min=info"))
        .header("cookie", &admin.0)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains(&format!("/alerts/{id}")) && listed.contains("Acknowledged (1)"));
    let open = client
        .get(format!("{base}/alerts?status=open&min=info"))
        .header("cookie", &admin.0)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!open.contains(&format!("/alerts/{id}")));

    // The API: mistakes are 400s that say what is wrong, a viewer's token is refused.
    for (body, says) in [
        (json!({"status": "closed"}), "open, acknowledged, resolved"),
        (json!({"assignee": "nobody-here"}), "not a console user"),
        (json!({"colour": "red"}), "unknown field"),
    ] {
        let (status, answer) = patch(client, base, &admin, id, body).await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["error"].as_str().unwrap().contains(says), "{answer}");
    }
    let viewer = client
        .patch(format!("{base}/api/okwatch/v1/alerts/{id}"))
        .bearer_auth(token)
        .body(json!({"status": "resolved"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(viewer.status(), 403);
    let (status, resolved) = patch(
        client,
        base,
        &admin,
        id,
        json!({"status": "resolved", "comment": "User confirmed: not them. Blocked the IP."}),
    )
    .await;
    assert_eq!(status, 200, "{resolved}");
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["assignee"], "admin");
    assert_eq!(resolved["notes"].as_array().unwrap().len(), 5);
    assert!(resolved["runbook"].as_str().is_some());
    let (status, _) = patch(
        client,
        base,
        &admin,
        "no-such-alert",
        json!({"status": "open"}),
    )
    .await;
    assert_eq!(status, 404);
}

/// Three more failures after it was resolved: the same alert grows and okwatch opens it again,
/// saying why.
async fn reopened_when_the_attack_goes_on(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    id: &str,
    start_at: chrono::DateTime<chrono::Utc>,
) {
    let more: Vec<Value> = (22..25)
        .map(|i| failed_sign_in(i, start_at + chrono::TimeDelta::seconds(10 * i as i64)))
        .collect();
    deliver(client, base, &more).await;
    let waited = Instant::now();
    loop {
        let reply = client
            .get(format!("{base}/api/okwatch/v1/alerts/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let alert: Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
        if alert["status"] == "open" {
            assert_eq!(alert["events"].as_array().unwrap().len(), 25);
            let last = alert["notes"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(last["by"], "okwatch");
            assert!(
                last["text"].as_str().unwrap().contains("3 more event"),
                "{last}"
            );
            break;
        }
        assert!(
            waited.elapsed() < Duration::from_secs(15),
            "not reopened: {alert}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
