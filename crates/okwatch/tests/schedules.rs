//! Scheduled reports, end to end through `okwatch serve`: a schedule made in the API is run
//! now (a week up to now) and then by its cadence; the report reaches a real SMTP server (aiosmtpd, started here)
//! as an HTML message with the CSV attached, a local webhook (after a refusal, retried) with
//! the same numbers as the report API, and a directory as files; the run history says what was
//! sent where; bad schedules are refused with the reason.

mod support;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::{api_call, console_get, console_session, import_generated, Server, Smtp};

const PASSWORD: &str = "schedules-test-password";

/// What the local webhook was sent; it refuses the first `refusals` posts.
#[derive(Default)]
struct Received {
    posts: Mutex<Vec<Value>>,
    refusals: AtomicUsize,
}

async fn receive(State(received): State<Arc<Received>>, body: Bytes) -> (StatusCode, &'static str) {
    received
        .posts
        .lock()
        .unwrap()
        .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    if received
        .refusals
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        (StatusCode::SERVICE_UNAVAILABLE, "busy")
    } else {
        (StatusCode::OK, "ok")
    }
}

/// The channels: mail, a webhook and a directory.
fn channels(dir: &Path, smtp_port: u16) -> String {
    format!(
        r#"[[notify]]
name = "reports-mail"
kind = "email"
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
tls = "none"
from = "okwatch <okwatch@example.com>"
to = ["soc@example.com"]

[[notify]]
name = "reports-hook"
kind = "webhook"
url_env = "OKWATCH_TEST_REPORT_HOOK"
retry_base = "1s"

[[notify]]
name = "archive"
kind = "directory"
path = "{}"
"#,
        dir.join("outbox").display()
    )
}

/// Waits until the schedule's page in the API satisfies `ready`.
async fn wait_for(
    client: &reqwest::Client,
    url: &str,
    session: &(String, String),
    limit: Duration,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let (status, schedule) = api_call(client, Method::GET, url, session, None).await;
        assert_eq!(status, 200);
        if ready(&schedule) {
            return schedule;
        }
        assert!(
            started.elapsed() < limit,
            "not within {limit:?}: {schedule:#}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn all_sent(run: &Value) -> bool {
    let delivered = run["delivered"].as_array().unwrap();
    delivered.len() == 3
        && delivered.iter().all(|d| d["status"] == "sent")
        && run["result"] == "sent"
}

#[test]
fn a_scheduled_report_reaches_smtp_a_webhook_and_a_directory_now_and_on_its_cadence() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let end = okwatch_model::format_timestamp(chrono::Utc::now());
    import_generated(&data, 4000, 11, &end);
    let maildir = dir.path().join("mail");
    let smtp = Smtp::start(&maildir);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let received = Arc::new(Received::default());
    received.refusals.store(1, Ordering::SeqCst);
    let hook = runtime.block_on(async {
        let app = axum::Router::new()
            .route("/reports", axum::routing::post(receive))
            .with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/reports", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    });
    let server = Server::start_with_config(
        &data,
        dir.path(),
        &channels(dir.path(), smtp.port),
        &[
            ("OKWATCH_TEST_REPORT_HOOK", hook.as_str()),
            ("OKWATCH_ADMIN_PASSWORD", PASSWORD),
        ],
    );
    // okwatch's own client installs the TLS provider that reqwest is built without.
    okwatch_collect::http::client(Duration::from_secs(10)).unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("{}/api/okwatch/v1", server.url);
    runtime.block_on(async {
        let session = console_session(&client, &server.url, "admin", PASSWORD).await;
        let make = |body: Value| {
            let (client, base, session) = (&client, &base, &session);
            async move {
                api_call(
                    client,
                    Method::POST,
                    &format!("{base}/schedules"),
                    session,
                    Some(&body.to_string()),
                )
                .await
            }
        };
        let schedule = json!({
            "name": "Failed sign-ins for the CISO",
            "report": "failed_sign_ins",
            "cadence": "weekly mon 08:00",
            "timezone": "Europe/Paris",
            "channels": ["reports-mail", "reports-hook", "archive"],
            "recipients": ["ciso@example.com"],
        });
        // Mistakes are refused with the reason.
        for (change, reason) in [
            (json!({"cadence": "hourly"}), "is not a cadence"),
            (
                json!({"cadence": "cron 0 25 * * *"}),
                "hour `25` is not in 0-23",
            ),
            (json!({"timezone": "Mars/Olympus"}), "is not a time zone"),
            (
                json!({"channels": ["pager"]}),
                "no notification channel is named `pager`",
            ),
            (json!({"report": "nope"}), "there is no report `nope`"),
            (
                json!({"recipients": ["not an address"]}),
                "is not an e-mail address",
            ),
            (json!({"colour": "red"}), "unknown field `colour`"),
        ] {
            let mut body = schedule.clone();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let (status, answer) = make(body).await;
            assert_eq!(status, 400, "{change}");
            assert!(
                answer["errorSummary"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(reason)
                    || answer.to_string().contains(reason),
                "{change}: {answer}"
            );
        }
        let (status, made) = make(schedule.clone()).await;
        assert_eq!(status, 201, "{made}");
        assert_eq!(made["cadence"], "weekly mon 08:00");
        assert!(made["next_run"].is_string());
        let id = made["id"].as_str().unwrap().to_string();
        let url = format!("{base}/schedules/{id}");

        // Run now: three deliveries queued, all sent (the webhook after one refusal).
        let (status, run) =
            api_call(&client, Method::POST, &format!("{url}/run"), &session, None).await;
        assert_eq!(status, 202, "{run}");
        assert_eq!(run["trigger"], "manual");
        assert_eq!(run["by"], "admin");
        assert_eq!(run["deliveries"].as_array().unwrap().len(), 3);
        let shown = wait_for(&client, &url, &session, Duration::from_secs(30), |s| {
            s["runs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["trigger"] == "manual" && all_sent(r))
        })
        .await;
        let manual = shown["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["trigger"] == "manual")
            .unwrap()
            .clone();
        let hook_delivery = manual["delivered"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["channel"] == "reports-hook")
            .unwrap();
        assert_eq!(hook_delivery["attempts"], 2, "retried after the refusal");

        // The webhook got the report the report API gives for the same period.
        let posts = received.posts.lock().unwrap().clone();
        let body = posts.last().unwrap();
        assert_eq!(body["type"], "okwatch.report");
        assert_eq!(body["schedule"]["id"], id.as_str());
        let (since, until) = (
            manual["since"].as_str().unwrap(),
            manual["until"].as_str().unwrap(),
        );
        let (status, report) = api_call(
            &client,
            Method::GET,
            &format!("{base}/reports/failed_sign_ins?since={since}&until={until}"),
            &session,
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["report"]["figures"], report["figures"]);
        assert_eq!(body["report"]["tables"], report["tables"]);

        // The directory has the three files.
        let files: Vec<String> = std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        for ext in ["csv", "json", "html"] {
            assert!(
                files
                    .iter()
                    .any(|f| f.starts_with("failed_sign_ins-") && f.ends_with(ext)),
                "{files:?}"
            );
        }

        assert!(body["report"]["figures"][0]["current"]["value"].as_u64() > Some(0));

        // Changed to run every minute, it runs by itself.
        let mut every_minute = schedule.clone();
        every_minute["cadence"] = json!("cron * * * * *");
        let (status, changed) = api_call(
            &client,
            Method::PUT,
            &url,
            &session,
            Some(&every_minute.to_string()),
        )
        .await;
        assert_eq!(status, 200, "{changed}");
        assert_eq!(changed["cadence_text"], "cron * * * * * (Europe/Paris)");
        wait_for(&client, &url, &session, Duration::from_secs(90), |s| {
            s["runs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["trigger"] == "schedule" && all_sent(r))
        })
        .await;

        // The console's page shows the runs and what became of each delivery.
        let (status, page) = console_get(
            &client,
            &server.url,
            &session,
            &format!("/reports/schedules/{id}"),
        )
        .await;
        assert_eq!(status, 200);
        for shown in [
            "Failed sign-ins for the CISO",
            "manual by admin",
            "schedule",
            "reports-hook",
            "sent",
            "Run now",
        ] {
            assert!(page.contains(shown), "{shown}");
        }
        let (status, list) =
            console_get(&client, &server.url, &session, "/reports/schedules").await;
        assert_eq!(status, 200);
        assert!(list.contains("Failed sign-ins for the CISO") && list.contains("Europe/Paris"));
    });

    // The mail, as a mail client reads it: to the schedule's recipient, the report as HTML
    // with its chart and as text, the CSV attached under the report's name.
    let python = support::python_with("smtp-venv", "aiosmtpd==1.4.6", "aiosmtpd");
    let mails = support::python_json(&python, "mail_parts.py", &[&maildir.display().to_string()]);
    let mails = mails.as_array().unwrap();
    assert!(mails.len() >= 2, "{mails:?}");
    for mail in mails {
        assert!(
            mail["subject"]
                .as_str()
                .unwrap()
                .starts_with("[okwatch] Failed sign-ins for the CISO"),
            "{mail}"
        );
        assert_eq!(mail["to"], "ciso@example.com");
        let parts = mail["parts"].as_array().unwrap();
        let part = |kind: &str| parts.iter().find(|p| p["content_type"] == kind).unwrap();
        assert!(part("text/plain")["text"]
            .as_str()
            .unwrap()
            .contains("Failed sign-ins"));
        let html = part("text/html")["text"].as_str().unwrap();
        assert!(
            html.contains("<table") && html.contains("Failures"),
            "{html}"
        );
        let csv = part("text/csv");
        assert_eq!(csv["attachment"], true);
        let name = csv["filename"].as_str().unwrap();
        assert!(
            name.starts_with("failed_sign_ins-") && name.ends_with(".csv"),
            "{name}"
        );
        assert!(
            csv["text"].as_str().unwrap().starts_with("section,"),
            "{csv}"
        );
    }
}
