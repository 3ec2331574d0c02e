//! `okwatch serve` as a hostile or careless client meets it: every route answers each kind of
//! caller as the one access table says; sign-in cannot be guessed in parallel nor locked from
//! elsewhere; no redirect leaves the site; the store API is the server's own; half-sent
//! requests neither hold the server nor its stop; bad input is a 4xx, never a crash or a 500.

mod support;

use okwatch_web::access::{Need, Surface, TABLE};
use okwatch_web::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use support::{console_session, import_generated, okwatch, post_sign_in, run, Server};

const PASSWORD: &str = "hardening-test-password";

/// An answer's JSON (`null` when it is not JSON).
async fn json_of(reply: reqwest::Response) -> Value {
    serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap_or(Value::Null)
}

fn client() -> reqwest::Client {
    support::browser_client()
}

fn start(dir: &std::path::Path) -> (Server, std::path::PathBuf) {
    let data = dir.join("data");
    import_generated(&data, 3000, 5, "2026-11-30T00:00:00Z");
    let server = Server::start_with(&data, &[("OKWATCH_ADMIN_PASSWORD", PASSWORD)]);
    (server, data)
}

/// A caller of the walk: how it proves who it is, and what the table should let it do.
struct Caller {
    name: &'static str,
    session: Option<(String, String)>,
    token: Option<String>,
    /// Its role when it is accepted at all.
    role: Option<Role>,
    local: bool,
}

impl Caller {
    /// What the table says this caller gets at `route`: `None` when it passes.
    fn refused_with(&self, need: Need, surface: Surface) -> Option<u16> {
        let accepted = match surface {
            Surface::Page => self.session.is_some(),
            Surface::Api => self.session.is_some() || self.role.is_some() && self.token.is_some(),
            Surface::Token => self.token.is_some() && self.role.is_some(),
        };
        if !accepted {
            return Some(if surface == Surface::Page { 303 } else { 401 });
        }
        let allowed = match need {
            Need::Open => true,
            Need::Role(role) => self.role.is_some_and(|r| r >= role),
            Need::Local => self.local,
        };
        (!allowed).then_some(403)
    }
}

fn concrete(path: &str) -> String {
    path.replace("{uuid}", "6a1f0000-0000-4000-8000-000000000000")
        .replace("{org}", "acme")
        .replace("{name}", "nobody-here")
        .replace("{op}", "stats")
        .replace("{id}", "nonesuch")
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    caller: &Caller,
    with_csrf: bool,
) -> (u16, String) {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client.request(method, format!("{base}{path}"));
    let mut body = String::new();
    if let Some((cookie, csrf)) = &caller.session {
        request = request.header("cookie", cookie);
        if with_csrf {
            request = request.header("x-csrf-token", csrf);
            body = format!("csrf={csrf}");
        }
    }
    if let Some(token) = &caller.token {
        request = request.bearer_auth(token);
    }
    let reply = request
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    let location = reply
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, location)
}

#[test]
fn every_route_of_the_access_table_answers_every_kind_of_caller_as_declared() {
    let dir = tempfile::tempdir().unwrap();
    let (server, data) = start(dir.path());
    let base = server.url.clone();
    let server_token = support::create_token(&data, "walker");
    let local: Value =
        serde_json::from_slice(&std::fs::read(data.join("serve.json")).unwrap()).unwrap();
    let local_token = local["token"].as_str().unwrap().to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        let admin = console_session(&client, &base, "admin", PASSWORD).await;
        for (name, role) in [("vera", "viewer"), ("ann", "analyst")] {
            let (status, _) = send_form(
                &client,
                &base,
                &admin,
                "/users",
                &format!("name={name}&role={role}&password={PASSWORD}"),
            )
            .await;
            assert_eq!(status, 303, "the admin adds {name}");
        }
        let viewer = console_session(&client, &base, "vera", PASSWORD).await;
        let analyst = console_session(&client, &base, "ann", PASSWORD).await;
        let token_of = |session: (String, String)| {
            let client = client.clone();
            let base = base.clone();
            async move {
                let reply = client
                    .post(format!("{base}/api/okwatch/v1/tokens"))
                    .header("cookie", &session.0)
                    .header("x-csrf-token", &session.1)
                    .body(r#"{"name":"walk"}"#)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reply.status(), 201);
                let made = json_of(reply).await;
                (
                    made["token"].as_str().unwrap().to_string(),
                    made["id"].as_str().unwrap().to_string(),
                )
            }
        };
        let (viewer_token, _) = token_of(viewer.clone()).await;
        let (analyst_token, _) = token_of(analyst.clone()).await;
        let (admin_token, _) = token_of(admin.clone()).await;
        let (revoked, revoked_id) = token_of(viewer.clone()).await;
        let gone = client
            .delete(format!("{base}/api/okwatch/v1/tokens/{revoked_id}"))
            .header("cookie", &viewer.0)
            .header("x-csrf-token", &viewer.1)
            .send()
            .await
            .unwrap();
        assert!(gone.status().is_success());
        let session = |name, s: &(String, String), role| Caller {
            name,
            session: Some(s.clone()),
            token: None,
            role: Some(role),
            local: false,
        };
        let token = |name, t: &str, role| Caller {
            name,
            session: None,
            token: Some(t.to_string()),
            role,
            local: false,
        };
        let callers = [
            Caller {
                name: "anonymous",
                session: None,
                token: None,
                role: None,
                local: false,
            },
            session("viewer session", &viewer, Role::Viewer),
            session("analyst session", &analyst, Role::Analyst),
            session("admin session", &admin, Role::Admin),
            token("viewer token", &viewer_token, Some(Role::Viewer)),
            token("analyst token", &analyst_token, Some(Role::Analyst)),
            token("admin token", &admin_token, Some(Role::Admin)),
            token("server token", &server_token, Some(Role::Viewer)),
            token("revoked token", &revoked, None),
            Caller {
                name: "okwatch's own commands",
                session: None,
                token: Some(local_token),
                role: Some(Role::Analyst),
                local: true,
            },
        ];
        // Signing out ends the sessions the rest of the walk uses: last.
        let mut routes: Vec<_> = TABLE.iter().filter(|r| r.need != Need::Open).collect();
        routes.sort_by_key(|r| r.path == "/logout");
        let mut checked = 0;
        for route in routes {
            let path = concrete(route.path);
            // MCP answers its own methods (GET without a session is its 405): POST is the call.
            let methods: Vec<&str> = if route.method == "*" {
                vec!["POST"]
            } else {
                vec![route.method]
            };
            for method in methods {
                for caller in &callers {
                    let said = format!("{method} {path} as {}", caller.name);
                    let refusal = caller.refused_with(route.need, route.surface);
                    // A browser's change without its CSRF token is refused (asked first: a
                    // sign-out with it would end the session).
                    if refusal.is_none() && route.changes && caller.session.is_some() {
                        let (status, _) = send(&client, &base, method, &path, caller, false).await;
                        assert_eq!(status, 403, "{said} without its CSRF token");
                    }
                    let (status, location) =
                        send(&client, &base, method, &path, caller, true).await;
                    match refusal {
                        Some(303) => {
                            assert_eq!(status, 303, "{said}");
                            assert!(location.starts_with("/login"), "{said}: {location}");
                        }
                        Some(refusal) => assert_eq!(status, refusal, "{said}"),
                        None => {
                            assert!(
                                ![401, 403, 405].contains(&status) && status < 500,
                                "{said}: {status}"
                            );
                            // Signing out is the one answer that sends a browser to sign in.
                            if route.path != "/logout" {
                                assert!(!location.starts_with("/login"), "{said}: {location}");
                            }
                        }
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 900, "{checked} answers checked");
        // Fails closed: a method the table does not name for a path is answered 405.
        for route in TABLE.iter().filter(|r| r.method != "*") {
            let path = concrete(route.path);
            for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
                let declared = TABLE
                    .iter()
                    .any(|r| r.path == route.path && (r.method == method || r.method == "*"));
                if !declared {
                    let (status, _) = send(&client, &base, method, &path, &callers[3], true).await;
                    assert_eq!(status, 405, "{method} {path}");
                }
            }
        }
    });
}

async fn send_form(
    client: &reqwest::Client,
    base: &str,
    (cookie, csrf): &(String, String),
    path: &str,
    fields: &str,
) -> (u16, String) {
    let reply = client
        .post(format!("{base}{path}"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&{fields}"))
        .send()
        .await
        .unwrap();
    let status = reply.status().as_u16();
    (status, reply.text().await.unwrap_or_default())
}

#[test]
fn sign_in_resists_parallel_guessing_without_locking_the_user_out_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start(dir.path());
    let base = server.url.clone();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        // 40 wrong passwords at once, from one address: no more than the brake allows are
        // checked; the rest are refused before any hashing.
        let guesses = (0..40).map(|i| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                post_sign_in(&client, &base, "admin", &format!("wrong-{i}"), "%2F")
                    .await
                    .status()
                    .as_u16()
            }
        });
        let answers = futures_join(guesses).await;
        let checked = answers.iter().filter(|s| **s == 401).count();
        let braked = answers.iter().filter(|s| **s == 429).count();
        assert!(checked <= 5, "{checked} guesses were checked: {answers:?}");
        assert_eq!(checked + braked, 40, "{answers:?}");
        // The right password from this address waits…
        let here = post_sign_in(&client, &base, "admin", PASSWORD, "%2F").await;
        assert_eq!(here.status(), 429);
    });
    // …but the guesser (127.0.0.1) cannot lock admin out from another address: 127.0.0.2.
    let elsewhere = sign_in_from(&base, "127.0.0.2");
    assert_eq!(elsewhere, 303, "admin signs in from elsewhere");
}

/// Runs futures at once on the current runtime.
async fn futures_join<F: std::future::Future<Output = u16> + Send + 'static>(
    all: impl Iterator<Item = F>,
) -> Vec<u16> {
    let handles: Vec<_> = all.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// Signs admin in through a client bound to another loopback address.
fn sign_in_from(base: &str, from: &str) -> u16 {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .local_address(from.parse::<std::net::IpAddr>().ok())
            .build()
            .unwrap();
        post_sign_in(&client, base, "admin", PASSWORD, "%2F")
            .await
            .status()
            .as_u16()
    })
}

#[test]
fn no_redirect_after_sign_in_leaves_the_site() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        for next in [
            "%2F%09%2Fevil.example",
            "%2F%0A%2Fevil.example",
            "%2F%5Cevil.example",
            "%2F%252F%2Fevil.example",
        ] {
            let reply = post_sign_in(&client, &server.url, "admin", PASSWORD, next).await;
            assert_eq!(reply.status(), 303, "{next}");
            assert_eq!(reply.headers()["location"], "/", "{next}");
        }
        let reply = post_sign_in(&client, &server.url, "admin", PASSWORD, "%2Falerts").await;
        assert_eq!(reply.headers()["location"], "/alerts");
    });
}

#[test]
fn the_store_api_is_only_the_servers_own_and_answers_in_bounded_pages() {
    let dir = tempfile::tempdir().unwrap();
    let (server, data) = start(dir.path());
    let token = support::create_token(&data, "reader");
    let local: Value =
        serde_json::from_slice(&std::fs::read(data.join("serve.json")).unwrap()).unwrap();
    let local = local["token"].as_str().unwrap().to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        let call = |token: String, op: &str, body: Value| {
            let request = client
                .post(format!("{}/api/okwatch/v1/store/{op}", server.url))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body.to_string());
            async move {
                let reply = request.send().await.unwrap();
                let status = reply.status().as_u16();
                (status, json_of(reply).await)
            }
        };
        let (status, _) = call(token.clone(), "saved_searches", json!({})).await;
        assert_eq!(status, 403, "an API token does not reach the store API");
        let query = |limit: u64| {
            json!({"query": {"org": null, "filter": null, "q": null, "since": null,
                "until": null, "order": "desc", "limit": limit, "after": null, "fields": null}})
        };
        let (status, body) = call(local.clone(), "search", query(1_000_000_000_000)).await;
        assert_eq!(status, 400, "{body}");
        assert!(body["error"].as_str().unwrap().contains("at most"));
        let (status, body) = call(local.clone(), "search", query(10)).await;
        assert_eq!(status, 200);
        assert_eq!(body["events"].as_array().unwrap().len(), 10);
        let mut group = query(10);
        group["field"] = json!("actor.\"x'y");
        group["top"] = json!(5);
        let (status, body) = call(local, "group", group).await;
        assert_eq!(status, 400, "{body}");
        assert!(!body.to_string().contains("Binder"), "{body}");
    });
    // The CLI still reads more than a page through the server, page by page.
    let out = run({
        let mut c = okwatch(&data);
        c.args(["search", "--limit", "2500", "--format", "csv"]);
        c
    });
    assert_eq!(out.lines().count(), 1 + 2500, "a header and 2,500 rows");
}

#[test]
fn bad_input_is_a_4xx_and_the_store_is_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let (server, data) = start(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        let admin = console_session(&client, &server.url, "admin", PASSWORD).await;
        for path in [
            "/api/okwatch/v1/reports/usage?since=-90000000d",
            "/api/okwatch/v1/events?org=%00",
            "/api/okwatch/v1/events?filter=actor.id%20eq%20%22%5Cu0000%22",
            "/api/okwatch/v1/events/%00",
            "/api/okwatch/v1/reports/usage?org=%00",
            "/api/okwatch/v1/events?since=0001-01-01",
            "/reports/usage?since=-90000000d",
        ] {
            let reply = client
                .get(format!("{}{path}", server.url))
                .header("cookie", &admin.0)
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 400, "{path}");
        }
        // Another person's private saved search is as absent as a missing one.
        let (status, _) = send_form(
            &client,
            &server.url,
            &admin,
            "/users",
            &format!("name=ann&role=analyst&password={PASSWORD}"),
        )
        .await;
        assert_eq!(status, 303);
        let (status, _) = send_form(
            &client,
            &server.url,
            &admin,
            "/saved",
            "name=mine&query=since%3D-1h",
        )
        .await;
        assert_eq!(status, 303);
        let listed = json_of(
            client
                .get(format!("{}/api/okwatch/v1/saved-searches", server.url))
                .header("cookie", &admin.0)
                .send()
                .await
                .unwrap(),
        )
        .await;
        let mine = listed["saved_searches"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "mine")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        let ann = console_session(&client, &server.url, "ann", PASSWORD).await;
        let (private, _) = send_form(
            &client,
            &server.url,
            &ann,
            &format!("/saved/{mine}/delete"),
            "x=1",
        )
        .await;
        let (missing, _) =
            send_form(&client, &server.url, &ann, "/saved/nonesuch/delete", "x=1").await;
        assert_eq!((private, missing), (404, 404));
    });
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join("okwatch.duckdb")), 0o600);
}

#[test]
fn hostile_rules_are_refused_and_the_server_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        let admin = console_session(&client, &server.url, "admin", PASSWORD).await;
        let nested = format!("{}selection{}", "(".repeat(3000), ")".repeat(3000));
        let nots = format!("{}selection", "not ".repeat(7000));
        let sigma = |condition: &str| {
            format!(
                "title: deep\nid: deep-rule\nlogsource:\n  product: okta\ndetection:\n  selection:\n    eventType: user.session.start\n  condition: {condition}\nlevel: high\n"
            )
        };
        let mut laughs = String::from("title: laughs\nid: laughs\nextra:\n  a0: &a0 [\"lol\"]\n");
        for level in 1..10 {
            let refs = vec![format!("*a{}", level - 1); 10].join(", ");
            laughs.push_str(&format!("  a{level}: &a{level} [{refs}]\n"));
        }
        laughs.push_str("detection:\n  selection:\n    eventType: x\n  condition: selection\n");
        for (what, text) in [("nesting", sigma(&nested)), ("nots", sigma(&nots)), ("aliases", laughs)] {
            let started = Instant::now();
            let reply = client
                .post(format!("{}/api/okwatch/v1/rules", server.url))
                .header("cookie", &admin.0)
                .header("x-csrf-token", &admin.1)
                .header("content-type", "application/yaml")
                .body(text)
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 400, "{what}");
            assert!(started.elapsed() < Duration::from_secs(3), "{what}");
        }
        let rules = client
            .get(format!("{}/api/okwatch/v1/rules", server.url))
            .header("cookie", &admin.0)
            .send()
            .await
            .unwrap();
        assert_eq!(rules.status(), 200, "the server lives on");
        let text = rules.text().await.unwrap();
        assert!(!text.contains("laughs"), "nothing refused was stored");
    });
}

/// Opens a connection and sends half a request.
fn half_sent(address: &str) -> std::net::TcpStream {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    stream
}

#[test]
fn half_sent_requests_time_out_hold_neither_health_nor_the_stop() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_generated(&data, 1000, 5, "2026-11-30T00:00:00Z");
    let mut server =
        Server::start_with_file_limit(&data, 1024, &[("OKWATCH_ADMIN_PASSWORD", PASSWORD)]);
    let address = server.url.trim_start_matches("http://").to_string();
    // One half-sent request is closed by the server after its header timeout.
    let mut lone = half_sent(&address);
    lone.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = lone.read_to_end(&mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "closed after {:?}",
        started.elapsed()
    );
    // Many at once do not keep /health from answering (the server's file limit is lowered
    // below their number by the test's `ulimit`, so the connection cap is what lets it in).
    let held: Vec<_> = (0..1100).map(|_| half_sent(&address)).collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let started = Instant::now();
        let health = client()
            .get(format!("{}/health", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
    });
    // A stop is not held up by them.
    let started = Instant::now();
    server.terminate();
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "stopped after {:?}",
        started.elapsed()
    );
    drop(held);
}

#[test]
fn health_stays_fast_under_searching_clients_and_hook_writers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_generated(&data, 20_000, 9, "2026-11-30T00:00:00Z");
    let secret = "hook-secret-for-the-load-test";
    let config = "[[org]]\nname = \"idle\"\nurl = \"http://127.0.0.1:9\"\napi_token_env = \"OKWATCH_TEST_IDLE_TOKEN\"\nhook_secret_env = \"OKWATCH_TEST_HOOK\"\n";
    let path = dir.path().join("load.toml");
    std::fs::write(&path, config).unwrap();
    let server = Server::start_configured(
        &data,
        Some(&path),
        &[
            ("OKWATCH_ADMIN_PASSWORD", PASSWORD),
            ("OKWATCH_TEST_IDLE_TOKEN", "unused"),
            ("OKWATCH_TEST_HOOK", secret),
        ],
    );
    let token = support::create_token(&data, "load");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = client();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut load = Vec::new();
        for i in 0..20 {
            let (client, base, token) = (client.clone(), server.url.clone(), token.clone());
            load.push(tokio::spawn(async move {
                let searches = [
                    "/api/okwatch/v1/events?since=all&q=FAILURE&limit=200",
                    "/api/okwatch/v1/histogram?since=all",
                    "/api/okwatch/v1/fields?since=all",
                ];
                let mut n = 0;
                while Instant::now() < deadline {
                    let path = searches[(i + n) % searches.len()];
                    let _ = client
                        .get(format!("{base}{path}"))
                        .bearer_auth(&token)
                        .send()
                        .await;
                    n += 1;
                }
            }));
        }
        for w in 0..4 {
            let (client, base) = (client.clone(), server.url.clone());
            load.push(tokio::spawn(async move {
                let mut n = 0;
                while Instant::now() < deadline {
                    let events: Vec<Value> = (0..50)
                        .map(|e| {
                            json!({"uuid": format!("load-{w}-{n}-{e}"), "published": "2026-11-29T10:00:00.000Z",
                                "eventType": "user.session.start", "version": "0", "severity": "INFO",
                                "actor": {"id": "00uload", "type": "User"}, "outcome": {"result": "SUCCESS"}})
                        })
                        .collect();
                    let body = json!({"eventType": "com.okta.event_hook", "data": {"events": events}});
                    let _ = client
                        .post(format!("{base}/hooks/okta/idle"))
                        .header("authorization", secret)
                        .body(body.to_string())
                        .send()
                        .await;
                    n += 1;
                }
            }));
        }
        let mut times = Vec::new();
        while Instant::now() < deadline {
            let started = Instant::now();
            let health = client
                .get(format!("{}/health", server.url))
                .send()
                .await
                .unwrap();
            assert!(health.status().is_success() || health.status() == 503);
            times.push(started.elapsed());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for task in load {
            task.await.unwrap();
        }
        times.sort();
        let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
        eprintln!(
            "/health under load: p50 {:?}, p99 {p99:?}, max {:?} over {} checks",
            times[times.len() / 2],
            times[times.len() - 1],
            times.len()
        );
        assert!(times.len() > 50, "{} health checks", times.len());
        assert!(p99 < Duration::from_secs(1), "p99 {p99:?} over {} checks", times.len());
    });
}
