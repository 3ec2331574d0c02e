//! The simulator and the System Log API over real HTTP on loopback: paging by `next` links,
//! polling order, Okta's errors, rate limits, faults and Event Hook deliveries.

use axum::routing;
use okwatch_okta::links;
use okwatch_sim::incidents::IncidentKind;
use okwatch_sim::server::faults::Faults;
use okwatch_sim::server::hooks::{request, Reply};
use okwatch_sim::server::{SimConfig, Simulator};
use okwatch_store::{EventQuery, Order, Store};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

const TOKEN: &str = "test-token";

fn config() -> SimConfig {
    SimConfig {
        seed: 11,
        users: 60,
        days: 3,
        events_per_minute: None,
        token: TOKEN.into(),
        rate_limit: 1000,
        faults: Faults::default(),
        incidents: Vec::new(),
        service_apps: Vec::new(),
    }
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{address}")
}

async fn start(config: SimConfig) -> (Arc<Simulator>, String) {
    let sim = Simulator::new(config).unwrap();
    let base = serve(sim.router()).await;
    (sim, base)
}

async fn get_as(url: &str, authorization: &str) -> Reply {
    request(
        url,
        "GET",
        &[("Authorization".into(), authorization.into())],
        b"",
    )
    .await
    .unwrap()
}

async fn get(url: &str) -> Reply {
    get_as(url, &format!("SSWS {TOKEN}")).await
}

fn json_of(reply: &Reply) -> Value {
    serde_json::from_slice(&reply.body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&reply.body)))
}

fn link(reply: &Reply, rel: &str) -> Option<String> {
    links::parse(reply.header_values("link"))
        .into_iter()
        .find(|(_, r)| r == rel)
        .map(|(url, _)| url)
}

fn uuids(events: &Value) -> Vec<String> {
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uuid"].as_str().unwrap().to_string())
        .collect()
}

fn store_count(sim: &Simulator, query: EventQuery) -> u64 {
    sim.store().count(&query).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_follows_next_links_through_every_event_once_and_keeps_a_next_link_at_the_end() {
    let (sim, base) = start(config()).await;
    let total = store_count(
        &sim,
        EventQuery {
            order: Order::Arrival,
            since: Some(chrono::Utc::now() - chrono::TimeDelta::days(7)),
            ..Default::default()
        },
    );
    assert!(total > 500, "the backfill has history ({total})");
    let mut url = format!("{base}/api/v1/logs?limit=1000");
    let mut seen = HashSet::new();
    let mut pages = 0;
    let last = loop {
        let reply = get(&url).await;
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let events = json_of(&reply);
        pages += 1;
        let next = link(&reply, "next").expect("polling always has a next link");
        if events.as_array().unwrap().is_empty() {
            assert_eq!(link(&reply, "self").as_deref(), Some(url.as_str()));
            break next;
        }
        for uuid in uuids(&events) {
            assert!(seen.insert(uuid), "no event twice");
        }
        url = next;
    };
    assert!(pages >= 2);
    assert_eq!(seen.len() as u64, total);

    // An event Okta commits late, published an hour ago, still comes after the cursor.
    let published = chrono::Utc::now() - chrono::TimeDelta::hours(1);
    sim.plant(vec![late_event("late-1", published)]);
    sim.tick().unwrap();
    let reply = get(&last).await;
    assert_eq!(uuids(&json_of(&reply)), ["late-1"]);
}

fn late_event(uuid: &str, published: chrono::DateTime<chrono::Utc>) -> Value {
    json!({
        "uuid": uuid,
        "published": okwatch_model::format_timestamp(published),
        "eventType": "user.session.start",
        "displayMessage": "User login to Okta",
        "severity": "INFO",
        "outcome": {"result": "SUCCESS"},
        "actor": {"id": "00ulate", "type": "User", "alternateId": "late@acme.example"},
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn bounded_descending_pages_match_the_store_and_end_without_next() {
    let (sim, base) = start(config()).await;
    let until = chrono::Utc::now() - chrono::TimeDelta::hours(2);
    let since = until - chrono::TimeDelta::days(1);
    let filter = "outcome.result eq \"FAILURE\" or eventType sw \"user.authentication\"";
    let params = vec![
        ("since".to_string(), okwatch_model::format_timestamp(since)),
        ("until".to_string(), okwatch_model::format_timestamp(until)),
        ("filter".to_string(), filter.to_string()),
        ("sortOrder".to_string(), "DESCENDING".to_string()),
        ("limit".to_string(), "20".to_string()),
    ];
    let mut url = links::url(&base, "/api/v1/logs", &params);
    let mut published = Vec::new();
    loop {
        let reply = get(&url).await;
        assert_eq!(reply.status, 200);
        for e in json_of(&reply).as_array().unwrap() {
            published.push(e["published"].as_str().unwrap().to_string());
        }
        match link(&reply, "next") {
            Some(next) => url = next,
            None => break,
        }
    }
    let expected = store_count(
        &sim,
        EventQuery {
            filter: Some(okwatch_query::parse_filter(filter).unwrap()),
            since: Some(since),
            until: Some(until),
            ..Default::default()
        },
    );
    assert!(expected > 20, "more than one page ({expected})");
    assert_eq!(published.len() as u64, expected);
    let mut sorted = published.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(published, sorted, "newest first");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_oktas_error_codes() {
    let (_sim, base) = start(config()).await;
    let cases = [
        ("filter=eventType%20eqq%20%22x%22", 400, "E0000053"),
        ("filter=nosuch.field%20eq%20%22x%22", 400, "E0000053"),
        (
            "filter=debugContext.debugData.url%20co%20%22x%22",
            400,
            "E0000031",
        ),
        ("until=yesterday", 400, "E0000001"),
        ("limit=1001", 400, "E0000001"),
        ("sortOrder=UP", 400, "E0000001"),
        ("since=2001-01-01T00:00:00Z", 400, "E0000053"),
        (
            "q=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            400,
            "E0000001",
        ),
        ("after=garbage", 400, "E0000001"),
    ];
    // Nested 3,000 deep (this once overflowed a server thread's stack and aborted the process),
    // and longer than any filter the server takes; the requests after them show it still runs.
    let deep = format!(
        "filter={}eventType%20eq%20%22x%22{}",
        "%28".repeat(3000),
        "%29".repeat(3000)
    );
    let long = format!("filter={}x%20pr", "not%20".repeat(3_000));
    let cases = [
        (deep.as_str(), 400, "E0000053"),
        (long.as_str(), 400, "E0000053"),
    ]
    .into_iter()
    .chain(cases);
    for (query, status, code) in cases {
        let reply = get(&format!("{base}/api/v1/logs?{query}")).await;
        let body = json_of(&reply);
        assert_eq!(reply.status, status, "{query}: {body}");
        assert_eq!(body["errorCode"], code, "{query}: {body}");
        assert!(body["errorId"]
            .as_str()
            .is_some_and(|id| id.starts_with("oae")));
    }
    let position = json_of(
        &get(&format!(
            "{base}/api/v1/logs?filter=eventType%20eqq%20%22x%22"
        ))
        .await,
    );
    assert!(
        position["errorSummary"]
            .as_str()
            .unwrap()
            .contains("position 10"),
        "{position}"
    );
    for authorization in ["", "SSWS wrong", "Basic dGVzdDp0ZXN0"] {
        let reply = get_as(&format!("{base}/api/v1/logs"), authorization).await;
        assert_eq!(reply.status, 401);
        assert_eq!(json_of(&reply)["errorCode"], "E0000011");
    }
    // Okta's Python SDK sends no space after SSWS.
    assert_eq!(
        get_as(
            &format!("{base}/api/v1/logs?limit=1"),
            &format!("SSWS{TOKEN}")
        )
        .await
        .status,
        200
    );
    assert_eq!(
        get_as(
            &format!("{base}/api/v1/logs?limit=1"),
            &format!("Bearer {TOKEN}")
        )
        .await
        .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rate_limit_answers_429_until_the_reset_it_announces() {
    let (_sim, base) = start(SimConfig {
        rate_limit: 3,
        ..config()
    })
    .await;
    let url = format!("{base}/api/v1/logs?limit=1");
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let reply = get(&url).await;
        assert_eq!(reply.status, 200);
        remaining.push(reply.header_values("x-rate-limit-remaining")[0].to_string());
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let refused = get(&url).await;
    assert_eq!(refused.status, 429);
    assert_eq!(json_of(&refused)["errorCode"], "E0000047");
    assert_eq!(refused.header_values("x-rate-limit-limit"), ["3"]);
    let reset: u64 = refused.header_values("x-rate-limit-reset")[0]
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        reset > now && reset <= now + 61,
        "reset {reset} is within the minute after {now}"
    );
    // The directory is another bucket.
    assert_eq!(
        get(&format!("{base}/api/v1/users?limit=1")).await.status,
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_break_connections_and_repeat_events_when_switched_on() {
    let (_sim, base) = start(SimConfig {
        faults: Faults {
            drop: 1.0,
            ..Faults::default()
        },
        ..config()
    })
    .await;
    let broken = request(
        &format!("{base}/api/v1/logs?limit=50"),
        "GET",
        &[("Authorization".into(), format!("SSWS {TOKEN}"))],
        b"",
    )
    .await;
    assert!(broken.is_err(), "the body is cut short: {broken:?}");

    let (_sim, base) = start(SimConfig {
        faults: Faults {
            duplicates: 1.0,
            ..Faults::default()
        },
        ..config()
    })
    .await;
    let first = get(&format!("{base}/api/v1/logs?limit=10")).await;
    let second = get(&link(&first, "next").unwrap()).await;
    let first: HashSet<String> = uuids(&json_of(&first)).into_iter().collect();
    let repeated = uuids(&json_of(&second))
        .into_iter()
        .filter(|u| first.contains(u))
        .count();
    assert!(repeated >= 1, "the second page repeats some of the first");
}

#[tokio::test(flavor = "multi_thread")]
async fn directory_pages_and_app_assignments_agree_with_the_org() {
    let (sim, base) = start(config()).await;
    let mut url = format!("{base}/api/v1/users?limit=25");
    let mut logins = Vec::new();
    loop {
        let reply = get(&url).await;
        for u in json_of(&reply).as_array().unwrap() {
            logins.push(u["profile"]["login"].as_str().unwrap().to_string());
        }
        match link(&reply, "next") {
            Some(next) => url = next,
            None => break,
        }
    }
    let expected: Vec<String> = sim.org().users.iter().map(|u| u.login.clone()).collect();
    assert_eq!(logins, expected);

    let apps = json_of(&get(&format!("{base}/api/v1/apps?limit=200")).await);
    assert_eq!(apps.as_array().unwrap().len(), sim.org().apps.len());
    let app = &sim.org().apps[0];
    let assigned = json_of(&get(&format!("{base}/api/v1/apps/{}/users?limit=500", app.id)).await);
    let expected = sim
        .org()
        .users
        .iter()
        .filter(|u| u.apps.contains(&0))
        .count();
    assert_eq!(assigned.as_array().unwrap().len(), expected);
    let missing = get(&format!("{base}/api/v1/apps/0oanosuchapp/users")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(json_of(&missing)["errorCode"], "E0000007");
}

/// A receiver that answers the verification challenge and keeps deliveries with their
/// Authorization header.
async fn receiver(secret: &'static str) -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = received.clone();
    let router = axum::Router::new().route(
        "/okta",
        routing::get(|headers: axum::http::HeaderMap| async move {
            let challenge = headers
                .get("x-okta-verification-challenge")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            axum::Json(json!({ "verification": challenge }))
        })
        .post(
            move |headers: axum::http::HeaderMap, body: axum::Json<Value>| async move {
                if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(secret) {
                    return axum::http::StatusCode::UNAUTHORIZED;
                }
                kept.lock().unwrap().push(body.0);
                axum::http::StatusCode::NO_CONTENT
            },
        ),
    );
    (serve(router).await, received)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_active_verified_hook_receives_new_events_with_its_secret() {
    let (sim, base) = start(config()).await;
    let (receiver_base, received) = receiver("Bearer hook-secret").await;
    let auth = [
        ("Authorization".to_string(), format!("SSWS {TOKEN}")),
        ("Content-Type".to_string(), "application/json".to_string()),
    ];
    let definition = json!({
        "name": "okwatch",
        "events": {"type": "EVENT_TYPE", "items": ["user.session.start"]},
        "channel": {"type": "HTTP", "version": "1.0.0", "config": {
            "uri": format!("{receiver_base}/okta"),
            "authScheme": {"type": "HEADER", "key": "Authorization", "value": "Bearer hook-secret"}}},
    });
    let created = request(
        &format!("{base}/api/v1/eventHooks"),
        "POST",
        &auth,
        definition.to_string().as_bytes(),
    )
    .await
    .unwrap();
    let hook = json_of(&created);
    assert_eq!(created.status, 200, "{hook}");
    assert_eq!(hook["status"], "ACTIVE");
    assert_eq!(hook["verificationStatus"], "UNVERIFIED");
    assert!(
        hook["channel"]["config"]["authScheme"]
            .get("value")
            .is_none(),
        "the secret is write-only"
    );
    let id = hook["id"].as_str().unwrap();

    let verified = request(
        &format!("{base}/api/v1/eventHooks/{id}/lifecycle/verify"),
        "POST",
        &auth,
        b"",
    )
    .await
    .unwrap();
    assert_eq!(json_of(&verified)["verificationStatus"], "VERIFIED");
    let refused_delete = request(
        &format!("{base}/api/v1/eventHooks/{id}"),
        "DELETE",
        &auth,
        b"",
    )
    .await
    .unwrap();
    assert_eq!(
        refused_delete.status, 400,
        "an active hook cannot be deleted"
    );

    tokio::spawn(sim.clone().run());
    let now = chrono::Utc::now();
    sim.plant(vec![
        late_event("hooked-1", now),
        json!({"uuid": "not-subscribed", "published": okwatch_model::format_timestamp(now),
               "eventType": "user.account.lock", "outcome": {"result": "SUCCESS"}}),
    ]);
    let mut delivered = Vec::new();
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        delivered = received.lock().unwrap().clone();
        if !delivered.is_empty() {
            break;
        }
    }
    assert!(!delivered.is_empty(), "a delivery arrived");
    let mut got = Vec::new();
    for body in &delivered {
        assert_eq!(body["eventType"], "com.okta.event_hook");
        for e in body["data"]["events"].as_array().unwrap() {
            assert_eq!(
                e["eventType"], "user.session.start",
                "only subscribed types"
            );
            got.push(e["uuid"].as_str().unwrap().to_string());
        }
    }
    assert!(got.contains(&"hooked-1".to_string()), "{got:?}");

    let deactivated = request(
        &format!("{base}/api/v1/eventHooks/{id}/lifecycle/deactivate"),
        "POST",
        &auth,
        b"",
    )
    .await
    .unwrap();
    assert_eq!(json_of(&deactivated)["status"], "INACTIVE");
    let deleted = request(
        &format!("{base}/api/v1/eventHooks/{id}"),
        "DELETE",
        &auth,
        b"",
    )
    .await
    .unwrap();
    assert_eq!(deleted.status, 204);
    assert_eq!(
        get(&format!("{base}/api/v1/eventHooks/{id}")).await.status,
        404
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn planted_incidents_are_in_the_log_where_their_ground_truth_says() {
    let (sim, base) = start(SimConfig {
        incidents: IncidentKind::ALL.to_vec(),
        service_apps: Vec::new(),
        ..config()
    })
    .await;
    let truths = sim.ground_truth().to_vec();
    assert_eq!(truths.len(), IncidentKind::ALL.len());
    for truth in truths {
        let ended = okwatch_model::parse_timestamp(&truth.ended).unwrap();
        let params = vec![
            ("since".to_string(), truth.started.clone()),
            (
                "until".to_string(),
                okwatch_model::format_timestamp(ended + chrono::TimeDelta::milliseconds(1)),
            ),
            ("limit".to_string(), "1000".to_string()),
        ];
        let mut url = links::url(&base, "/api/v1/logs", &params);
        let mut found = HashSet::new();
        loop {
            let reply = get(&url).await;
            assert_eq!(reply.status, 200);
            found.extend(uuids(&json_of(&reply)));
            match link(&reply, "next") {
                Some(next) => url = next,
                None => break,
            }
        }
        for uuid in &truth.event_uuids {
            assert!(
                found.contains(uuid),
                "{:?}: {uuid} is served in its window",
                truth.kind
            );
        }
    }
}
