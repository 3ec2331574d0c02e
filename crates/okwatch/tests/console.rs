//! The web console over real HTTP: pages need a signed-in user, sign-in is throttled, forms
//! carry a CSRF token, event fields are escaped, every page has its security headers; and a
//! real browser (Debian's headless Chromium, driven by Selenium) signs in, searches with a
//! quick filter and with a typed filter, sees a filter error at its position, opens an event,
//! pivots to the events around it and signs out.

mod support;

use serde_json::Value;
use std::time::Duration;
use support::{import_generated, okwatch, python_json, python_with, run, Server};

const PASSWORD: &str = "console-test-password";

fn client() -> reqwest::Client {
    // No redirects followed: the tests look at where the console sends a browser.
    let _ = okwatch_collect::http::client(Duration::from_secs(5));
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// An event whose fields are HTML.
fn hostile_event() -> Value {
    serde_json::json!({
        "uuid": "6a1f0000-0000-4000-8000-00000000beef",
        "published": "2026-11-29T10:00:00.000Z",
        "eventType": "user.session.start",
        "version": "0",
        "severity": "INFO",
        "displayMessage": "<img src=x onerror=alert(2)>",
        "actor": {"id": "00uevil", "type": "User", "alternateId": "evil@example.com",
                  "displayName": "<script>alert(1)</script>"},
        "outcome": {"result": "FAILURE", "reason": "</td><b>bold</b>"},
        "client": {"ipAddress": "203.0.113.9"},
        "target": []
    })
}

fn start(dir: &std::path::Path) -> Server {
    let data = dir.join("data");
    import_generated(&data, 3000, 11, "2026-11-30T00:00:00Z");
    let file = dir.join("hostile.ndjson");
    std::fs::write(&file, format!("{}\n", hostile_event())).unwrap();
    run({
        let mut c = okwatch(&data);
        c.arg("import").arg(&file);
        c
    });
    Server::start_with(&data, &[("OKWATCH_ADMIN_PASSWORD", PASSWORD)])
}

async fn sign_in(client: &reqwest::Client, base: &str, password: &str) -> reqwest::Response {
    client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("name=admin&password={password}&next=%2Fevents%2Fx"))
        .send()
        .await
        .unwrap()
}

#[test]
fn console_pages_need_a_user_escape_event_fields_and_check_csrf() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let base = server.url.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        // Without a session every page sends the browser to sign in, and says where it was.
        for path in [
            "/",
            "/?since=-7d",
            "/events/6a1f0000-0000-4000-8000-00000000beef",
        ] {
            let reply = client.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(reply.status(), 303, "{path}");
            let location = reply.headers()["location"].to_str().unwrap();
            assert!(location.starts_with("/login?next=%2F"), "{location}");
        }
        let logout = client.post(format!("{base}/logout")).send().await.unwrap();
        assert_eq!(logout.status(), 303);

        let login = client.get(format!("{base}/login")).send().await.unwrap();
        assert_eq!(login.status(), 200);
        let csp = login.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert_eq!(login.headers()["x-content-type-options"], "nosniff");

        assert_eq!(
            sign_in(&client, &base, "wrong-password").await.status(),
            401
        );
        let signed_in = sign_in(&client, &base, PASSWORD).await;
        assert_eq!(signed_in.status(), 303);
        assert_eq!(
            signed_in.headers()["location"],
            "/events/x",
            "back where it was"
        );
        let cookie = signed_in.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let session = cookie.split(';').next().unwrap().to_string();

        // HTML in an event is shown as text, on the explorer and on the event's page.
        for path in [
            "/?since=all&filter=actor.id%20eq%20%2200uevil%22".to_string(),
            "/events/6a1f0000-0000-4000-8000-00000000beef".to_string(),
        ] {
            let page = client
                .get(format!("{base}{path}"))
                .header("cookie", &session)
                .send()
                .await
                .unwrap();
            assert_eq!(page.status(), 200, "{path}");
            let body = page.text().await.unwrap();
            assert!(
                body.contains("evil@example.com"),
                "{path}: the event is shown"
            );
            for raw in ["<script>alert(1)", "<img src=x", "<b>bold</b>"] {
                assert!(!body.contains(raw), "{path}: {raw} is not escaped");
            }
            // Present, as text: the page shows what the event says.
            assert!(body.contains("alert(2)"), "{path}: the message is shown");
        }
        let missing = client
            .get(format!("{base}/events/no-such-event"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);

        // Signing out needs the session's CSRF token; a forged form is refused.
        let forged = client
            .post(format!("{base}/logout"))
            .header("cookie", &session)
            .body("csrf=guess")
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        let page = client
            .get(format!("{base}/"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the page's sign-out form carries its token");
        let out = client
            .post(format!("{base}/logout"))
            .header("cookie", &session)
            .body(format!("csrf={csrf}"))
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 303);
        let after = client
            .get(format!("{base}/"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        assert_eq!(after.status(), 303, "the session is over");

        // Guessing: five failures, then even the right password waits.
        for _ in 0..4 {
            assert_eq!(sign_in(&client, &base, "guess").await.status(), 401);
        }
        assert_eq!(sign_in(&client, &base, PASSWORD).await.status(), 429);
    });
}

#[test]
fn a_browser_signs_in_searches_opens_an_event_and_pivots() {
    let python = python_with("selenium-venv", "selenium==4.27.1", "selenium");
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let seen = python_json(
        &python,
        "console_browser.py",
        &[&server.url, PASSWORD, &dir.path().display().to_string()],
    );
    assert_eq!(seen["title"], "System Log · okwatch", "{seen}");
    assert!(seen["rows"].as_u64().unwrap() > 0, "{seen}");
    // A typed filter with a mistake: the error is shown at its position.
    let problem = seen["filter_problem"].as_str().unwrap();
    assert!(problem.contains("At character 32"), "{problem}");
    assert_eq!(seen["caret"], " ", "the caret marks the end of the filter");
    // The "Failures" quick filter: a chip, and only failures listed.
    assert_eq!(seen["chip"], "outcome.result eq \"FAILURE\" ×", "{seen}");
    let outcomes: Vec<&str> = seen["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap())
        .collect();
    assert!(
        !outcomes.is_empty() && outcomes.iter().all(|o| *o == "FAILURE"),
        "{outcomes:?}"
    );
    // The event's page shows its raw JSON; the pivot lists the events around it with it
    // highlighted.
    let uuid = seen["event_uuid"].as_str().unwrap();
    assert!(seen["raw"].as_str().unwrap().contains(uuid), "{seen}");
    assert_eq!(
        seen["highlighted_href"],
        format!("/events/{uuid}"),
        "{seen}"
    );
    assert!(seen["around_rows"].as_u64().unwrap() >= 1);
    assert_eq!(seen["after_sign_out"], "Sign in · okwatch");
    assert_eq!(seen["console_errors"], serde_json::json!([]), "{seen}");
}
