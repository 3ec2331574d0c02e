//! Notifications, end to end: an attack pushed into `okwatch serve` by an Event Hook raises an
//! alert, which reaches a generic webhook (signed, after two refusals, retried), Slack's format
//! and a real SMTP server (aiosmtpd, started here); every attempt is in the delivery log; "send
//! test" works from the API; a notification its receiver refuses stays queued across a restart
//! and goes out once the receiver is back.

mod support;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{console_session, create_token, Server, Smtp};

const HOOK_SECRET: &str = "notify-test-hook-secret";
const SIGNING: &str = "notify-test-signing-key";
const PASSWORD: &str = "notify-test-password";

/// What the local receiver was sent: (path, signature header, body).
#[derive(Default)]
struct Received {
    posts: Mutex<Vec<(String, Option<String>, Value)>>,
    /// `/hook` refuses this many posts before accepting.
    hook_refusals: AtomicUsize,
    /// `/flaky` refuses until this turns true.
    flaky_up: AtomicBool,
}

async fn receive(
    State(received): State<Arc<Received>>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let signature = headers
        .get("x-okwatch-signature")
        .map(|v| v.to_str().unwrap().to_string());
    received
        .posts
        .lock()
        .unwrap()
        .push((path.clone(), signature, value));
    match path.as_str() {
        "hook"
            if received
                .hook_refusals
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok() =>
        {
            (StatusCode::INTERNAL_SERVER_ERROR, "busy, try later")
        }
        "flaky" if !received.flaky_up.load(Ordering::SeqCst) => {
            (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance")
        }
        _ => (StatusCode::OK, "ok"),
    }
}

fn config(dir: &Path, receiver: &str, smtp_port: u16) -> std::path::PathBuf {
    let path = dir.join("okwatch.toml");
    std::fs::write(
        &path,
        format!(
            r#"[[org]]
name = "acme"
url = "http://127.0.0.1:9"
api_token_env = "OKWATCH_TEST_ACME_TOKEN"
hook_secret_env = "OKWATCH_TEST_HOOK_SECRET"

[[notify]]
name = "soc-webhook"
kind = "webhook"
url_env = "OKWATCH_TEST_WEBHOOK_URL"
signing_secret_env = "OKWATCH_TEST_SIGNING"
retry_base = "1s"

[[notify]]
name = "secops-slack"
kind = "slack"
url_file = "slack-url"
min_severity = "medium"

[[notify]]
name = "soc-mail"
kind = "email"
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
tls = "none"
from = "okwatch <okwatch@example.com>"
to = ["soc@example.com"]

[[notify]]
name = "flaky"
kind = "webhook"
url_env = "OKWATCH_TEST_FLAKY_URL"
retry_base = "1s"
max_attempts = 100
"#
        ),
    )
    .unwrap();
    std::fs::write(dir.join("slack-url"), format!("{receiver}/slack")).unwrap();
    path
}

fn start(dir: &Path, config: &Path, receiver: &str) -> Server {
    let hook = format!("{receiver}/hook");
    let flaky = format!("{receiver}/flaky");
    Server::start_configured(
        &dir.join("data"),
        Some(config),
        &[
            ("OKWATCH_TEST_ACME_TOKEN", "unused"),
            ("OKWATCH_TEST_HOOK_SECRET", HOOK_SECRET),
            ("OKWATCH_TEST_WEBHOOK_URL", hook.as_str()),
            ("OKWATCH_TEST_FLAKY_URL", flaky.as_str()),
            ("OKWATCH_TEST_SIGNING", SIGNING),
            ("OKWATCH_ADMIN_PASSWORD", PASSWORD),
        ],
    )
}

fn failed_sign_ins(at: chrono::DateTime<chrono::Utc>) -> Vec<Value> {
    (0..21)
        .map(|i| {
            json!({
                "uuid": format!("af000000-0000-4000-8000-{i:012}"),
                "published": okwatch_model::format_timestamp(at + chrono::TimeDelta::seconds(5 * i)),
                "eventType": "user.session.start",
                "version": "0",
                "severity": "INFO",
                "displayMessage": "User login to Okta",
                "actor": {"id": "00utarget", "type": "User", "alternateId": "target@example.com"},
                "outcome": {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"},
                "client": {"ipAddress": "198.51.100.7"},
                "target": []
            })
        })
        .collect()
}

async fn delivery_log(client: &reqwest::Client, base: &str, token: &str) -> Value {
    let reply = client
        .get(format!("{base}/api/okwatch/v1/notifications"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap()
}

/// Waits until `ready` holds for the delivery log, up to `limit`.
async fn wait_for(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    limit: Duration,
    ready: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let log = delivery_log(client, base, token).await;
        let listed = log["notifications"].as_array().unwrap().clone();
        if ready(&listed) {
            return listed;
        }
        assert!(
            started.elapsed() < limit,
            "not within {limit:?}: {listed:#?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn of<'a>(listed: &'a [Value], channel: &str) -> Vec<&'a Value> {
    listed.iter().filter(|n| n["channel"] == channel).collect()
}

#[test]
fn an_alert_reaches_a_webhook_slack_and_smtp_with_retries_and_a_queued_one_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("mail");
    let smtp = Smtp::start(&maildir);
    let token = create_token(&dir.path().join("data"), "notify-test");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let received = Arc::new(Received::default());
    received.hook_refusals.store(2, Ordering::SeqCst);
    let receiver = runtime.block_on(async {
        let app = axum::Router::new()
            .route("/{path}", axum::routing::post(receive))
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    });
    let config = config(dir.path(), &receiver, smtp.port);
    let client = okwatch_collect::http::client(Duration::from_secs(10)).unwrap();
    {
        let server = start(dir.path(), &config, &receiver);
        runtime.block_on(async {
            let events = failed_sign_ins(chrono::Utc::now() - chrono::TimeDelta::minutes(5));
            let delivered = client
                .post(format!("{}/hooks/okta/acme", server.url))
                .header("authorization", HOOK_SECRET)
                .header("content-type", "application/json")
                .body(
                    json!({"eventType": "com.okta.event_hook", "data": {"events": events}})
                        .to_string(),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(delivered.status(), 200);
            // Webhook (after two refusals and two retries), Slack and e-mail: all sent.
            let listed = wait_for(&client, &server.url, &token, Duration::from_secs(30), |l| {
                ["soc-webhook", "secops-slack", "soc-mail"]
                    .iter()
                    .all(|c| of(l, c).first().is_some_and(|n| n["status"] == "sent"))
                    && of(l, "flaky")
                        .first()
                        .is_some_and(|n| n["attempts"].as_u64() >= Some(1))
            })
            .await;
            let webhook = of(&listed, "soc-webhook")[0];
            let tries: Vec<bool> = webhook["attempts_log"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["delivered"].as_bool().unwrap())
                .collect();
            assert_eq!(tries, [false, false, true]);
            assert!(webhook["attempts_log"][0]["detail"]
                .as_str()
                .unwrap()
                .contains("HTTP 500"));
            let flaky = of(&listed, "flaky")[0];
            assert_eq!(flaky["status"], "pending");
            assert!(
                flaky["last_error"].as_str().unwrap().contains("HTTP 503"),
                "{flaky}"
            );
            // The console's page shows the same.
            let alert_id = webhook["alert"].as_str().unwrap().to_string();

            let posts = received.posts.lock().unwrap().clone();
            let hook: Vec<&(String, Option<String>, Value)> =
                posts.iter().filter(|(p, _, _)| p == "hook").collect();
            assert_eq!(hook.len(), 3);
            let (_, signature, body) = hook[2];
            assert_eq!(body["type"], "okwatch.alert");
            assert_eq!(body["alert"]["id"], alert_id.as_str());
            assert_eq!(body["alert"]["rule"], "okwatch.brute_force");
            assert_eq!(body["alert"]["group"], "target@example.com");
            assert_eq!(body["alert"]["events"].as_array().unwrap().len(), 21);
            // The signature is the HMAC-SHA256 of the body under the shared key.
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SIGNING.as_bytes());
            let tag = ring::hmac::sign(&key, body.to_string().as_bytes());
            let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(signature.as_deref(), Some(format!("sha256={hex}").as_str()));

            let slack: Vec<&Value> = posts
                .iter()
                .filter(|(p, _, _)| p == "slack")
                .map(|(_, _, b)| b)
                .collect();
            assert_eq!(slack.len(), 1);
            assert!(slack[0]["text"]
                .as_str()
                .unwrap()
                .contains("MEDIUM Brute force on one user"));
            assert_eq!(slack[0]["blocks"][0]["type"], "header");
            assert!(slack[0]["blocks"]
                .to_string()
                .contains("target@example.com"));

            // Send test, from the API, to Slack.
            let tested = client
                .post(format!("{}/api/okwatch/v1/notifications/test", server.url))
                .bearer_auth(&token)
                .body(json!({"channel": "secops-slack"}).to_string())
                .send()
                .await
                .unwrap();
            // A data-directory token is a viewer: tests are for analysts and admins.
            assert_eq!(tested.status(), 403);
            let console = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let (session, csrf) = console_session(&console, &server.url, "admin", PASSWORD).await;
            let tested = console
                .post(format!("{}/api/okwatch/v1/notifications/test", server.url))
                .header("cookie", &session)
                .header("x-csrf-token", &csrf)
                .body(json!({"channel": "secops-slack"}).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(tested.status(), 202);
            let unknown = console
                .post(format!("{}/api/okwatch/v1/notifications/test", server.url))
                .header("cookie", &session)
                .header("x-csrf-token", &csrf)
                .body(json!({"channel": "pager"}).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(unknown.status(), 404);
            wait_for(&client, &server.url, &token, Duration::from_secs(15), |l| {
                of(l, "secops-slack")
                    .iter()
                    .any(|n| n["alert"].is_null() && n["status"] == "sent")
            })
            .await;
            let tests: Vec<Value> = received
                .posts
                .lock()
                .unwrap()
                .iter()
                .filter(|(p, _, b)| p == "slack" && b["text"].as_str().unwrap().contains("(test)"))
                .map(|(_, _, b)| b.clone())
                .collect();
            assert_eq!(tests.len(), 1);
            // The console's page lists the channels and the log.
            let page = console
                .get(format!("{}/notifications", server.url))
                .header("cookie", &session)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            for shown in [
                "soc-webhook",
                "secops-slack",
                "soc-mail",
                "Send test",
                "HTTP 503",
                "delivered",
            ] {
                assert!(page.contains(shown), "{shown}");
            }
            assert!(
                !page.contains(SIGNING) && !page.contains("/slack"),
                "no secrets on the page"
            );
        });
    }
    // The mail, as the SMTP server received it.
    let mails: Vec<String> = std::fs::read_dir(maildir.join("new"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0].contains("Subject: [okwatch] MEDIUM Brute force on one user"),
        "{}",
        mails[0]
    );
    assert!(mails[0].contains("soc@example.com") && mails[0].contains("target@example.com"));
    assert!(mails[0].contains("text/html"));

    // The flaky receiver comes back while okwatch is down; the restarted server still has the
    // notification queued and delivers it. Nothing else is sent twice.
    received.flaky_up.store(true, Ordering::SeqCst);
    let before = received.posts.lock().unwrap().len();
    let server = start(dir.path(), &config, &receiver);
    runtime.block_on(async {
        let listed = wait_for(&client, &server.url, &token, Duration::from_secs(30), |l| {
            of(l, "flaky")
                .first()
                .is_some_and(|n| n["status"] == "sent")
        })
        .await;
        let about_alerts = listed.iter().filter(|n| !n["alert"].is_null()).count();
        assert_eq!(about_alerts, 4, "one notification per channel: {listed:#?}");
        tokio::time::sleep(Duration::from_secs(3)).await;
        let posts = received.posts.lock().unwrap();
        let after: Vec<&String> = posts[before..].iter().map(|(p, _, _)| p).collect();
        assert!(after.iter().all(|p| *p == "flaky"), "{after:?}");
        assert_eq!(after.len(), 1);
    });
}
