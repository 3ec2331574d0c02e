//! The web console over real HTTP: pages need a signed-in user, sign-in is throttled, forms
//! carry a CSRF token, event fields are escaped, every page has its security headers; and a
//! real browser (Debian's headless Chromium, driven by Selenium) signs in, searches with a
//! quick filter and with a typed filter, sees a filter error at its position, opens an event,
//! pivots to the events around it and signs out.

mod support;

use serde_json::Value;
use support::{
    console_session as session_of, csrf_of, import_generated, okwatch, python_json, python_with,
    run, Server,
};

const PASSWORD: &str = "console-test-password";

fn client() -> reqwest::Client {
    support::browser_client()
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
        "client": {"ipAddress": "203.0.113.9",
                   "geographicalContext": {"city": "=1+1", "country": "@evil"}},
        "target": []
    })
}

fn start(dir: &std::path::Path) -> Server {
    let data = dir.join("data");
    // About 13 people over 30 days: enough failures for several pages.
    import_generated(&data, 5000, 11, "2026-11-30T00:00:00Z");
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
    support::post_sign_in(client, base, "admin", password, "%2Fevents%2Fx").await
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

        // A sign-in posted without the form's own token (from another site, say) is refused
        // before the password is even looked at.
        let forged = client
            .post(format!("{base}/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("name=admin&password={PASSWORD}&next=%2F"))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);
        assert!(forged.headers().get("set-cookie").is_some_and(|c| c
            .to_str()
            .unwrap()
            .starts_with("okwatch_login=")));
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
        // Export, streamed: spreadsheet formulas are neutralised; every match is exported.
        let export = |path: String| {
            let (client, session, base) = (client.clone(), session.clone(), base.clone());
            async move {
                let reply = client
                    .get(format!("{base}{path}"))
                    .header("cookie", &session)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reply.status(), 200, "{path}");
                assert!(reply.headers()["content-disposition"]
                    .to_str()
                    .unwrap()
                    .starts_with("attachment"));
                reply.text().await.unwrap()
            }
        };
        let csv = export("/export.csv?since=all&filter=actor.id%20eq%20%2200uevil%22".into()).await;
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2, "{csv}");
        assert!(lines[0].starts_with("published,eventType,"), "{csv}");
        assert!(lines[1].contains(",'=1+1,'@evil,"), "{csv}");
        let ndjson = export("/export.ndjson?since=all".into()).await;
        assert_eq!(ndjson.lines().count(), 5001, "every event once");
        let uuids: std::collections::HashSet<String> = ndjson
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["uuid"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(uuids.len(), 5001);
        let anonymous = client
            .get(format!("{base}/export.csv?since=all"))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 303, "no export without a session");

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
        let csrf = csrf_of(&page);
        let csrf = csrf.as_str();
        // Saving a search needs the token too.
        let save = |csrf: String| {
            let (client, session, base) = (client.clone(), session.clone(), base.clone());
            async move {
                client
                    .post(format!("{base}/saved"))
                    .header("cookie", &session)
                    .body(format!(
                        "csrf={csrf}&name=Evil%20failures&description=x&query=since%3Dall%26filter%3Dactor.id%2520eq%2520%252200uevil%2522&shared=yes"
                    ))
                    .send()
                    .await
                    .unwrap()
            }
        };
        assert_eq!(save("guess".into()).await.status(), 403);
        let saved = save(csrf.to_string()).await;
        assert_eq!(saved.status(), 303);
        let list = client
            .get(format!("{base}/saved"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(list.matches("Evil failures").count(), 2, "listed once (name and edit form)");
        assert!(
            list.contains("/?since=all&amp;filter=actor.id%20eq%20%2200uevil%22")
                || list.contains("/?since=all&#38;filter=actor.id%20eq%20%2200uevil%22"),
            "{list}"
        );

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
    for program in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            std::path::Path::new(program).exists(),
            "{program} is missing: the console's browser test drives Debian's headless Chromium \
             (apt-get install chromium chromium-driver)"
        );
    }
    let python = python_with("selenium-venv", "selenium==4.27.1", "selenium");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_generated(&data, 3000, 11, "2026-11-30T00:00:00Z");
    // An org whose events arrive by Event Hook while the browser watches (its API address
    // answers nothing: polling only retries).
    let config = dir.path().join("okwatch.toml");
    std::fs::write(
        &config,
        "[[org]]\nname = \"acme\"\nurl = \"http://127.0.0.1:9\"\n\
         api_token_env = \"OKWATCH_TEST_ACME_TOKEN\"\n\
         hook_secret_env = \"OKWATCH_TEST_HOOK_SECRET\"\n",
    )
    .unwrap();
    let secret = "browser-test-hook-secret";
    let server = Server::start_configured(
        &data,
        Some(&config),
        &[
            ("OKWATCH_ADMIN_PASSWORD", PASSWORD),
            ("OKWATCH_TEST_ACME_TOKEN", "unused"),
            ("OKWATCH_TEST_HOOK_SECRET", secret),
        ],
    );
    let hook = format!("{}/hooks/okta/acme", server.url);
    let seen = python_json(
        &python,
        "console_browser.py",
        &[
            &server.url,
            PASSWORD,
            &dir.path().display().to_string(),
            &hook,
            secret,
        ],
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
    // The top event type, clicked in the counts: its filter as a chip, and the count of the
    // narrowed search equals the count the statistics showed.
    let top = seen["stat_value"].as_str().unwrap();
    assert_eq!(
        seen["stat_chip"],
        format!("eventType eq \"{top}\" ×"),
        "{seen}"
    );
    assert_eq!(seen["stat_total"], seen["stat_count"], "{seen}");
    // Saved beside the searches okwatch ships, and reopened as it was.
    let names: Vec<&str> = seen["saved_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(names.contains(&"Top event type"), "{names:?}");
    for shipped in [
        "Failed sign-ins, last 7 days",
        "Admin privilege changes",
        "MFA factor changes",
        "Policy changes",
    ] {
        assert!(names.contains(&shipped), "{names:?}");
    }
    assert_eq!(seen["reopened_chip"], seen["stat_chip"], "{seen}");
    // Chosen columns and time zone stay chosen; times show in the zone with its offset.
    assert_eq!(
        seen["headings"],
        serde_json::json!([
            "Time (America/New_York, UTC-05:00)",
            "Event",
            "Actor",
            "Outcome",
            "Client IP",
            "Location",
            "Org"
        ]),
        "{seen}"
    );
    let (shown, utc) = (
        seen["shown_time"].as_str().unwrap(),
        seen["utc_time"].as_str().unwrap(),
    );
    let utc = chrono::DateTime::parse_from_rfc3339(utc).unwrap();
    let expected = (utc - chrono::TimeDelta::hours(5))
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string();
    assert_eq!(shown, expected, "{seen}");
    // Live: an event delivered by the Event Hook appears on top without a reload.
    assert_eq!(seen["live_row"], true, "{seen}");
    assert_eq!(seen["live_first"], seen["live_uuid"], "{seen}");
    assert_eq!(seen["after_sign_out"], "Sign in · okwatch");
    assert_eq!(seen["console_errors"], serde_json::json!([]), "{seen}");
}

#[test]
fn the_json_api_pages_counts_and_explains_its_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let token = support::create_token(&dir.path().join("data"), "api-test");
    let base = server.url.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        let get = |path: String, auth: bool| {
            let (client, base, token) = (client.clone(), base.clone(), token.clone());
            async move {
                let mut request = client.get(format!("{base}{path}"));
                if auth {
                    request = request.header("authorization", format!("Bearer {token}"));
                }
                let reply = request.send().await.unwrap();
                let status = reply.status().as_u16();
                let bytes = reply.bytes().await.unwrap();
                // Exports are CSV or NDJSON; everything else answers JSON.
                let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                    assert!(
                        path.contains("/export.") || path.ends_with(".csv"),
                        "{path} answers JSON"
                    );
                    Value::String(String::from_utf8_lossy(&bytes).into_owned())
                });
                (status, body)
            }
        };
        let failures = "filter=outcome.result%20eq%20%22FAILURE%22";
        let (status, body) = get(format!("/api/okwatch/v1/events?{failures}"), false).await;
        assert_eq!(status, 401);
        assert!(body["error"].as_str().unwrap().contains("API token"));

        // Every failure, page by page, each once.
        let (_, counted) = get(
            format!("/api/okwatch/v1/fields?{failures}&field=eventType&top=3"),
            true,
        )
        .await;
        let total = counted["total"].as_u64().unwrap();
        assert!(total > 20, "{counted}");
        let top = counted["fields"]["eventType"].as_array().unwrap();
        assert!((2..=3).contains(&top.len()), "{counted}");
        assert!(top[0]["count"].as_u64() >= top[1]["count"].as_u64());
        let mut seen = std::collections::HashSet::new();
        let mut path = format!("/api/okwatch/v1/events?{failures}&limit=7");
        loop {
            let (status, page) = get(path.clone(), true).await;
            assert_eq!(status, 200, "{page}");
            for event in page["events"].as_array().unwrap() {
                assert_eq!(event["outcome"]["result"], "FAILURE");
                assert!(seen.insert(event["uuid"].as_str().unwrap().to_string()));
            }
            match page["next_url"].as_str() {
                Some(next) => path = next.to_string(),
                None => break,
            }
        }
        assert_eq!(seen.len() as u64, total);
        let (_, histogram) = get(
            format!("/api/okwatch/v1/histogram?{failures}&bucket=day"),
            true,
        )
        .await;
        let sum: u64 = histogram["counts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["count"].as_u64().unwrap())
            .sum();
        assert_eq!(sum, total);

        let (status, one) = get(
            "/api/okwatch/v1/events/6a1f0000-0000-4000-8000-00000000beef".into(),
            true,
        )
        .await;
        assert_eq!(
            (status, one["actor"]["id"].as_str()),
            (200, Some("00uevil"))
        );
        let (status, missing) = get("/api/okwatch/v1/events/nope".into(), true).await;
        assert_eq!(status, 404, "{missing}");

        // Mistakes are named.
        let (status, error) = get(
            "/api/okwatch/v1/events?filter=outcome.result%20eq".into(),
            true,
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(error["position"], 17, "{error}");
        let (status, error) = get("/api/okwatch/v1/fields?field=outcome.reslt".into(), true).await;
        assert_eq!(status, 400);
        assert!(
            error["error"].as_str().unwrap().contains("outcome.reslt"),
            "{error}"
        );
        let (status, _) = get("/api/okwatch/v1/events?limit=5000".into(), true).await;
        assert_eq!(status, 400);

        // The OpenAPI document is served without a credential, and every route it says can
        // be read answers.
        let (status, doc) = get("/api/okwatch/v1/openapi.json".into(), false).await;
        assert_eq!(status, 200);
        for (path, methods) in doc["paths"].as_object().unwrap() {
            // (An alert's, a schedule's and an app's ids are the routes whose example would
            // need one.)
            if methods.get("get").is_none()
                || path.ends_with("/alerts/{id}")
                || path.ends_with("/schedules/{id}")
                || path.ends_with("/apps/{org}/{id}")
                || path.ends_with("/people/{org}/{id}")
            {
                continue;
            }
            let path = path
                .replace("{uuid}", "6a1f0000-0000-4000-8000-00000000beef")
                .replace(
                    "{id}",
                    if path.contains("/rules/") {
                        "okwatch.brute_force"
                    } else if path.contains("/reports/") {
                        "authentication"
                    } else {
                        "okwatch-1"
                    },
                );
            let path = if path.ends_with("/fields") {
                format!("{path}?field=eventType")
            } else {
                path
            };
            let (status, _) = get(path.clone(), true).await;
            // A token from `okwatch token create` reads as a viewer: users are for admins.
            let expected = if path.ends_with("/users") { 403 } else { 200 };
            assert_eq!(status, expected, "{path}");
        }
    });
}

#[test]
fn every_route_answers_each_role_as_the_role_table_says() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let base = server.url.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        let admin = session_of(&client, &base, "admin", PASSWORD).await;
        for (name, role) in [("vera", "viewer"), ("ann", "analyst")] {
            let made = client
                .post(format!("{base}/users"))
                .header("cookie", &admin.0)
                .body(format!(
                    "csrf={}&name={name}&role={role}&password={PASSWORD}",
                    admin.1
                ))
                .send()
                .await
                .unwrap();
            assert_eq!(made.status(), 303, "the admin adds {name}");
        }
        let viewer = session_of(&client, &base, "vera", PASSWORD).await;
        let analyst = session_of(&client, &base, "ann", PASSWORD).await;
        let event = "/events/6a1f0000-0000-4000-8000-00000000beef";
        // (method, path, body with {csrf}, answers for: nobody, viewer, analyst, admin)
        let table: &[(&str, &str, &str, [u16; 4])] = &[
            ("GET", "/", "", [303, 200, 200, 200]),
            ("GET", event, "", [303, 200, 200, 200]),
            ("GET", "/saved", "", [303, 200, 200, 200]),
            ("GET", "/export.csv?since=all", "", [303, 200, 200, 200]),
            ("GET", "/users", "", [303, 403, 403, 200]),
            ("GET", "/tokens", "", [303, 200, 200, 200]),
            ("GET", "/rows?since=all", "", [303, 200, 200, 200]),
            ("GET", "/map?since=all", "", [303, 200, 200, 200]),
            ("GET", "/alerts", "", [303, 200, 200, 200]),
            ("GET", "/api/okwatch/v1/alerts", "", [401, 200, 200, 200]),
            ("GET", "/rules", "", [303, 200, 200, 200]),
            ("GET", "/reports", "", [303, 200, 200, 200]),
            ("GET", "/reports/mfa?since=all", "", [303, 200, 200, 200]),
            (
                "GET",
                "/reports/usage/export.csv?since=-7d",
                "",
                [303, 200, 200, 200],
            ),
            ("GET", "/reports/nonesuch", "", [303, 404, 404, 404]),
            ("GET", "/reports/schedules", "", [303, 200, 200, 200]),
            ("GET", "/apps", "", [303, 200, 200, 200]),
            ("GET", "/apps/acme/0oanonesuch", "", [303, 404, 404, 404]),
            ("GET", "/api/okwatch/v1/apps", "", [401, 200, 200, 200]),
            ("GET", "/apps/renewals", "", [303, 200, 200, 200]),
            ("GET", "/find?q=nobody", "", [303, 200, 200, 200]),
            ("GET", "/find/suggest?q=a", "", [303, 200, 200, 200]),
            ("GET", "/api/okwatch/v1/find?q=a", "", [401, 200, 200, 200]),
            ("GET", "/people/acme/00unobody", "", [303, 404, 404, 404]),
            ("GET", "/api/okwatch/v1/renewals", "", [401, 200, 200, 200]),
            ("GET", "/apps/acme/contracts.csv", "", [303, 200, 200, 200]),
            // Viewers cannot change contracts; here the org has no directory, so no app.
            (
                "POST",
                "/apps/acme/0oanonesuch/contract",
                "csrf={csrf}&licences=3",
                [303, 403, 404, 404],
            ),
            (
                "POST",
                "/apps/acme/contracts/import",
                "csrf={csrf}&csv=app%0AOkta",
                [303, 403, 400, 400],
            ),
            (
                "POST",
                "/apps/acme/contracts/import",
                "csrf=forged&csv=app",
                [303, 403, 403, 403],
            ),
            // No channel is configured here: the form comes back with the reason.
            (
                "POST",
                "/reports/schedules",
                "csrf={csrf}&name=Weekly&report=mfa&every=daily&at=08%3A00&timezone=UTC",
                [303, 403, 400, 400],
            ),
            (
                "GET",
                "/reports/schedules/nonesuch",
                "",
                [303, 404, 404, 404],
            ),
            ("GET", "/api/okwatch/v1/schedules", "", [401, 200, 200, 200]),
            (
                "GET",
                "/api/okwatch/v1/reports/lifecycle",
                "",
                [401, 200, 200, 200],
            ),
            (
                "GET",
                "/rules/okwatch.brute_force",
                "",
                [303, 200, 200, 200],
            ),
            ("GET", "/api/okwatch/v1/rules", "", [401, 200, 200, 200]),
            (
                "POST",
                "/rules/okwatch.brute_force/switch",
                "csrf={csrf}&enabled=yes",
                [303, 403, 303, 303],
            ),
            (
                "POST",
                "/rules/okwatch.brute_force/switch",
                "csrf=forged&enabled=no",
                [303, 403, 403, 403],
            ),
            (
                "POST",
                "/preferences",
                "csrf={csrf}&col=actor&tz=Europe%2FParis&back=%2F",
                [303, 303, 303, 303],
            ),
            ("POST", "/preferences", "csrf=forged", [303, 403, 403, 403]),
            ("GET", "/api/okwatch/v1/users", "", [401, 403, 403, 200]),
            (
                "GET",
                "/api/okwatch/v1/saved-searches",
                "",
                [401, 200, 200, 200],
            ),
            (
                "GET",
                "/api/okwatch/v1/events?limit=1",
                "",
                [401, 200, 200, 200],
            ),
            (
                "GET",
                "/api/okwatch/v1/openapi.json",
                "",
                [200, 200, 200, 200],
            ),
            ("GET", "/login", "", [200, 200, 200, 200]),
            (
                "POST",
                "/saved",
                "csrf={csrf}&name=n&query=since%3D-1h",
                [303, 403, 303, 303],
            ),
            (
                "POST",
                "/users",
                "csrf={csrf}&name=zed&role=viewer&password=long-enough-password",
                [303, 403, 403, 303],
            ),
            (
                "POST",
                "/users/vera/delete",
                "csrf=forged",
                [303, 403, 403, 403],
            ),
        ];
        let who = [None, Some(&viewer), Some(&analyst), Some(&admin)];
        for (method, path, body, expected) in table {
            for (i, caller) in who.iter().enumerate() {
                let url = format!("{base}{path}");
                let mut request = if *method == "GET" {
                    client.get(&url)
                } else {
                    client.post(&url)
                };
                if let Some((session, csrf)) = caller {
                    request = request.header("cookie", session.as_str());
                    request = request.body(body.replace("{csrf}", csrf));
                } else {
                    request = request.body(body.replace("{csrf}", "none"));
                }
                let status = request.send().await.unwrap().status().as_u16();
                assert_eq!(status, expected[i], "{method} {path} as caller {i}");
            }
        }
        // The map counts every match by place; a place's link is the search of its events,
        // whose total is the number the map gave.
        let map = client
            .get(format!("{base}/map?since=all"))
            .header("cookie", &viewer.0)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            map.contains("<path class=\"land\" d=\"M"),
            "the land is drawn"
        );
        let row = map
            .split("<table class=\"results places\">")
            .nth(1)
            .and_then(|t| t.split("<td><a href=\"").nth(1))
            .expect("at least one place");
        let href = row.split('"').next().unwrap().replace("&#38;", "&");
        let count: u64 = row
            .split("</a></td><td>")
            .nth(1)
            .and_then(|r| r.split('<').next())
            .unwrap()
            .parse()
            .unwrap();
        let page = client
            .get(format!("{base}{href}"))
            .header("cookie", &viewer.0)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&format!("<strong>{count}</strong> matching")),
            "{href} finds the {count} events the map counted"
        );
        // Removing a user ends their session at once.
        let removed = client
            .post(format!("{base}/users/vera/delete"))
            .header("cookie", &admin.0)
            .body(format!("csrf={}", admin.1))
            .send()
            .await
            .unwrap();
        assert_eq!(removed.status(), 303);
        let after = client
            .get(format!("{base}/"))
            .header("cookie", &viewer.0)
            .send()
            .await
            .unwrap();
        assert_eq!(after.status(), 303, "vera's session ended with her account");
    });
}

/// Makes a token on the console's tokens page, as the person signed in to `session`; the
/// token the page shows once.
async fn token_from_page(
    client: &reqwest::Client,
    base: &str,
    session: &(String, String),
) -> String {
    let page = client
        .post(format!("{base}/tokens"))
        .header("cookie", &session.0)
        .body(format!("csrf={}&name=script", session.1))
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.headers()["cache-control"],
        "no-store",
        "a page with a token is never cached"
    );
    let page = page.text().await.unwrap();
    page.split("id=\"new-token\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the new token is shown once")
        .to_string()
}

#[test]
fn api_tokens_act_as_their_owner_now_and_fail_at_the_next_request_once_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path());
    let base = server.url.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        let admin = session_of(&client, &base, "admin", PASSWORD).await;
        for (name, role) in [("vera", "viewer"), ("ann", "analyst")] {
            let made = client
                .put(format!("{base}/api/okwatch/v1/users/{name}"))
                .header("cookie", &admin.0)
                .header("x-csrf-token", &admin.1)
                .header("content-type", "application/json")
                .body(serde_json::json!({ "role": role, "password": PASSWORD }).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(made.status(), 200, "the admin adds {name} through the API");
        }
        // Without its CSRF header a browser session changes nothing through the API.
        let forged = client
            .put(format!("{base}/api/okwatch/v1/users/zed"))
            .header("cookie", &admin.0)
            .header("content-type", "application/json")
            .body(serde_json::json!({ "role": "admin", "password": PASSWORD }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403);

        let vera = session_of(&client, &base, "vera", PASSWORD).await;
        let ann = session_of(&client, &base, "ann", PASSWORD).await;
        let vera_token = token_from_page(&client, &base, &vera).await;
        let ann_token = token_from_page(&client, &base, &ann).await;
        let made: Value = client
            .post(format!("{base}/api/okwatch/v1/tokens"))
            .header("cookie", &admin.0)
            .header("x-csrf-token", &admin.1)
            .header("content-type", "application/json")
            .body(serde_json::json!({ "name": "siem" }).to_string())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .map(|b| serde_json::from_slice(&b).unwrap())
            .unwrap();
        let admin_token = made["token"].as_str().unwrap().to_string();
        assert!(made.get("sha256").is_none(), "{made}");

        let call = |method: &'static str, path: &'static str, token: String, body: Value| {
            let client = client.clone();
            let url = format!("{base}{path}");
            async move {
                let request = match method {
                    "GET" => client.get(&url),
                    "POST" => client.post(&url).body(body.to_string()),
                    "PUT" => client.put(&url).body(body.to_string()),
                    _ => client.delete(&url),
                };
                let reply = request.bearer_auth(&token).send().await.unwrap();
                let status = reply.status().as_u16();
                let bytes = reply.bytes().await.unwrap();
                (
                    status,
                    serde_json::from_slice(&bytes).unwrap_or(Value::Null),
                )
            }
        };
        let saved = serde_json::json!({ "name": "mine", "query": "since=-1h" });
        let zed = serde_json::json!({ "role": "viewer", "password": PASSWORD });
        // (method, path, body, answers for the tokens of: vera (viewer), ann (analyst), admin)
        let table: Vec<(&str, &str, Value, [u16; 3])> = vec![
            (
                "GET",
                "/api/okwatch/v1/events?limit=1",
                Value::Null,
                [200, 200, 200],
            ),
            ("GET", "/api/v1/logs?limit=1", Value::Null, [200, 200, 200]),
            ("GET", "/api/okwatch/v1/users", Value::Null, [403, 403, 200]),
            (
                "POST",
                "/api/okwatch/v1/saved-searches",
                saved.clone(),
                [403, 201, 201],
            ),
            ("PUT", "/api/okwatch/v1/users/zed", zed, [403, 403, 200]),
            ("GET", "/", Value::Null, [303, 303, 303]),
        ];
        let tokens = [&vera_token, &ann_token, &admin_token];
        for (method, path, body, expected) in &table {
            for (i, token) in tokens.iter().enumerate() {
                let (status, answer) = call(method, path, token.to_string(), body.clone()).await;
                assert_eq!(
                    status, expected[i],
                    "{method} {path} with token {i}: {answer}"
                );
            }
        }
        // Each sees their own tokens; the admin sees everyone's.
        for (token, count) in [(&vera_token, 1), (&admin_token, 3)] {
            let (_, listed) = call(
                "GET",
                "/api/okwatch/v1/tokens",
                token.to_string(),
                Value::Null,
            )
            .await;
            assert_eq!(
                listed["tokens"].as_array().unwrap().len(),
                count,
                "{listed}"
            );
        }
        // Vera revokes her token with itself; its very next request fails, at both APIs.
        let (_, listed) = call(
            "GET",
            "/api/okwatch/v1/tokens",
            vera_token.clone(),
            Value::Null,
        )
        .await;
        let id = listed["tokens"][0]["id"].as_str().unwrap().to_string();
        let revoked = client
            .delete(format!("{base}/api/okwatch/v1/tokens/{id}"))
            .bearer_auth(&vera_token)
            .send()
            .await
            .unwrap();
        assert_eq!(revoked.status(), 204);
        for path in ["/api/okwatch/v1/events?limit=1", "/api/v1/logs?limit=1"] {
            let (status, _) = call("GET", path, vera_token.clone(), Value::Null).await;
            assert_eq!(status, 401, "{path} with a revoked token");
        }
        // A token acts with its owner's role now: ann made a viewer cannot save any more; ann
        // removed, her token fails.
        let (status, _) = call(
            "PUT",
            "/api/okwatch/v1/users/ann",
            admin_token.clone(),
            serde_json::json!({ "role": "viewer", "password": PASSWORD }),
        )
        .await;
        assert_eq!(status, 200);
        let (status, _) = call(
            "POST",
            "/api/okwatch/v1/saved-searches",
            ann_token.clone(),
            saved,
        )
        .await;
        assert_eq!(status, 403);
        let (status, _) = call(
            "DELETE",
            "/api/okwatch/v1/users/ann",
            admin_token.clone(),
            Value::Null,
        )
        .await;
        assert_eq!(status, 204);
        let (status, _) = call(
            "GET",
            "/api/okwatch/v1/events?limit=1",
            ann_token.clone(),
            Value::Null,
        )
        .await;
        assert_eq!(status, 401);

        // Saved searches through the API: the shipped ones and the admin's, each runnable.
        let (_, listed) = call(
            "GET",
            "/api/okwatch/v1/saved-searches",
            admin_token.clone(),
            Value::Null,
        )
        .await;
        let searches = listed["saved_searches"].as_array().unwrap();
        assert!(
            searches
                .iter()
                .any(|s| s["name"] == "Failed sign-ins, last 7 days"),
            "{listed}"
        );
        // Ann's private one stays hers (the admin sees it), and the admin's is there.
        let mine = searches
            .iter()
            .find(|s| s["name"] == "mine" && s["owner"] == "admin")
            .unwrap();
        let run = client
            .get(format!("{base}{}", mine["events"].as_str().unwrap()))
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(run.status(), 200);

        // The events around one: the event itself among them, oldest first, within ±15 min.
        let uuid = "6a1f0000-0000-4000-8000-00000000beef";
        let (status, around) = call(
            "GET",
            "/api/okwatch/v1/events/6a1f0000-0000-4000-8000-00000000beef/around",
            admin_token.clone(),
            Value::Null,
        )
        .await;
        assert_eq!(status, 200, "{around}");
        let events = around["events"].as_array().unwrap();
        assert!(events.iter().any(|e| e["uuid"] == uuid));
        let times: Vec<&str> = events
            .iter()
            .map(|e| e["published"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");
        assert!(times
            .iter()
            .all(|t| ("2026-11-29T09:45:00.000Z"..="2026-11-29T10:15:00.000Z").contains(t)));
    });
}
