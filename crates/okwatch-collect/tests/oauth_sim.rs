//! OAuth 2.0 service apps against the simulated org's authorization server over loopback:
//! `private_key_jwt` with RSA and EC keys, Bearer and DPoP tokens (with Okta's nonce), tokens
//! renewed before they expire and after a revocation, and every way Okta refuses an app
//! stopping the org with the reason.

use base64::Engine;
use chrono::{TimeDelta, Utc};
use okwatch_collect::hooks::HookAdmin;
use okwatch_collect::oauth::keys::{p256_public_jwk, SigningKey};
use okwatch_collect::{
    CollectState, Credentials, OAuthClient, OAuthSettings, PollError, Poller, PollerConfig,
    StatusBoard,
};
use okwatch_okta::oauth::{AssertionClaims, ASSERTION_TYPE};
use okwatch_sim::server::faults::Faults;
use okwatch_sim::server::oauth::ServiceApp;
use okwatch_sim::server::{SimConfig, Simulator};
use okwatch_store::{EventQuery, Order, Store};
use okwatch_store_duckdb::DuckDbStore;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const ORG: &str = "acme";
const CLIENT_ID: &str = "0oatestapp";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn rsa_public() -> String {
    std::fs::read_to_string(fixture("rsa-test-key.public.jwk")).unwrap()
}

fn rsa_private() -> SigningKey {
    SigningKey::from_file(&fixture("rsa-test-key.pem"), Some("okwatch-test-rsa")).unwrap()
}

/// A new P-256 key: its private half as a PKCS#8 PEM (as `openssl genpkey` writes it) and
/// its public half as a JWK.
fn ec_key() -> (String, String) {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode(pkcs8.as_ref());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    let jwk = p256_public_jwk(pair.public_key().as_ref()).unwrap();
    (pem, serde_json::to_string(&jwk).unwrap())
}

async fn start_sim(seed: u64, apps: Vec<ServiceApp>) -> (Arc<Simulator>, String) {
    let sim = Simulator::new(SimConfig {
        seed,
        users: 60,
        days: 1,
        events_per_minute: None,
        token: "unused-api-token".into(),
        rate_limit: 100_000,
        faults: Faults::default(),
        incidents: Vec::new(),
        service_apps: apps,
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (sim, format!("http://{address}"))
}

fn app(public_key: &str, dpop: bool, lifetime: Duration) -> ServiceApp {
    let mut app = ServiceApp::new(CLIENT_ID, public_key).unwrap();
    app.require_dpop = dpop;
    app.token_lifetime = lifetime;
    app
}

fn credentials(base: &str, key: SigningKey, dpop: bool, scopes: &[&str]) -> Credentials {
    let settings = OAuthSettings {
        client_id: CLIENT_ID.into(),
        key,
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        dpop,
    };
    Credentials::OAuth(Arc::new(OAuthClient::new(base, settings).unwrap()))
}

fn poller_config(base: &str, credentials: Credentials) -> PollerConfig {
    let mut config = PollerConfig::new(ORG, base, credentials, Utc::now() - TimeDelta::days(2));
    config.page_size = 200;
    config.poll_interval = Duration::from_millis(200);
    config.rate_limit_share = 1.0;
    config.request_timeout = Duration::from_secs(15);
    config
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

/// Waits until okwatch holds exactly the simulator's events.
async fn until_caught_up(sim: &Simulator, store: &DuckDbStore, status: &StatusBoard) {
    let started = Instant::now();
    loop {
        let (expected, got) = (uuids(sim.store().as_ref()), uuids(store));
        if expected == got {
            return;
        }
        let s = status.get(ORG).unwrap();
        assert_ne!(s.state, CollectState::Stopped, "{:?}", s.last_error);
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} of {} events after a minute: {:?}",
            got.len(),
            expected.len(),
            s.last_error
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs a poller until it stops on its own; its error.
async fn refusal(config: PollerConfig) -> (PollError, StatusBoard) {
    let store = Arc::new(DuckDbStore::open_in_memory().unwrap());
    let status = StatusBoard::default();
    let poller = Poller::new(config, store, status.clone()).unwrap();
    let (_stop, stopped) = watch::channel(false);
    let result = tokio::time::timeout(Duration::from_secs(20), poller.run(stopped))
        .await
        .expect("a refused app stops the org");
    (result.expect_err("refused"), status)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_app_collects_with_bearer_tokens_renewed_before_they_expire() {
    let (sim, base) = start_sim(61, vec![app(&rsa_public(), false, Duration::from_secs(3))]).await;
    let store = Arc::new(DuckDbStore::open_in_memory().unwrap());
    let status = StatusBoard::default();
    let config = poller_config(
        &base,
        credentials(&base, rsa_private(), false, &["okta.logs.read"]),
    );
    let poller = Poller::new(config, store.clone(), status.clone()).unwrap();
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(poller.run(stopped));
    until_caught_up(&sim, &store, &status).await;

    // Tailing for longer than two token lifetimes: okwatch renews ahead of each expiry, so
    // the org never sees an expired token (a 401 would show as a retry or a stop).
    let before = sim.authorization_server().token_requests();
    tokio::time::sleep(Duration::from_secs(7)).await;
    let renewals = sim.authorization_server().token_requests() - before;
    assert!(
        (2..=4).contains(&renewals),
        "{renewals} token requests in 7 s of 3 s tokens"
    );

    // An admin revokes the app's tokens: the next request is refused, okwatch gets a new
    // token and goes on, and what the org logs meanwhile arrives.
    sim.authorization_server().revoke_all();
    sim.plant(okwatch_sim_events(&sim, 5));
    assert!(sim.tick().unwrap() >= 5);
    let s = status.get(ORG).unwrap();
    until_caught_up(&sim, &store, &status).await;
    let after = status.get(ORG).unwrap();
    assert_eq!(after.retries, s.retries, "{:?}", after.last_error);
    assert_ne!(after.state, CollectState::Stopped);
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();
}

/// `n` sign-in events published now, for the live stream.
fn okwatch_sim_events(sim: &Simulator, n: usize) -> Vec<serde_json::Value> {
    let page = sim
        .store()
        .search(&EventQuery {
            order: Order::Arrival,
            limit: n,
            ..EventQuery::default()
        })
        .unwrap();
    page.events
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let mut event = e.event;
            event["uuid"] = format!("0a0a0a0a-0000-4000-8000-{i:012}").into();
            event["published"] = okwatch_model::format_timestamp(Utc::now()).into();
            event
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dpop_app_answers_the_nonce_and_proves_every_request() {
    let (pem, public) = ec_key();
    let (sim, base) = start_sim(62, vec![app(&public, true, Duration::from_secs(3600))]).await;
    let key = SigningKey::from_text(&pem, Some("ec1")).unwrap();
    let store = Arc::new(DuckDbStore::open_in_memory().unwrap());
    let status = StatusBoard::default();
    let creds = credentials(
        &base,
        key,
        true,
        &["okta.logs.read", "okta.eventHooks.manage"],
    );
    let poller = Poller::new(
        poller_config(&base, creds.clone()),
        store.clone(),
        status.clone(),
    )
    .unwrap();
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(poller.run(stopped));
    until_caught_up(&sim, &store, &status).await;
    // The first token request is answered with `use_dpop_nonce`, the second with a token that
    // served every page since (each with its own proof, which the simulator checks).
    assert_eq!(sim.authorization_server().token_requests(), 2);
    assert!(status.get(ORG).unwrap().pages > 1);

    // The Event Hooks API takes the same token, with proofs for its own method and URL.
    let hooks = HookAdmin::new(&base, creds).unwrap();
    assert!(hooks.list().await.unwrap().is_empty());
    assert_eq!(sim.authorization_server().token_requests(), 2);
    stop.send(true).unwrap();
    task.await.unwrap().unwrap();

    // A DPoP token is worth nothing without a proof for that very request: not for another
    // URL, not twice, not without the proof, not as a Bearer token.
    let client = okwatch_collect::http::client(Duration::from_secs(10)).unwrap();
    let logs = format!("{base}/api/v1/logs?limit=1");
    let Credentials::OAuth(app) = &credentials(
        &base,
        SigningKey::from_text(&pem, None).unwrap(),
        true,
        &["okta.logs.read"],
    ) else {
        unreachable!()
    };
    let headers = app
        .authorize(&client, &reqwest::Method::GET, &logs)
        .await
        .unwrap();
    let send = |url: String, headers: reqwest::header::HeaderMap| {
        let client = client.clone();
        async move {
            client
                .get(url)
                .headers(headers)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        send(format!("{base}/api/v1/eventHooks"), headers.clone()).await,
        401
    );
    let mut no_proof = headers.clone();
    no_proof.remove("dpop");
    assert_eq!(send(logs.clone(), no_proof).await, 401);
    let mut as_bearer = headers.clone();
    let token = headers["authorization"]
        .to_str()
        .unwrap()
        .replacen("DPoP", "Bearer", 1);
    as_bearer.insert("authorization", token.parse().unwrap());
    assert_eq!(send(logs.clone(), as_bearer).await, 401);
    assert_eq!(send(logs.clone(), headers.clone()).await, 200);
    assert_eq!(
        send(logs.clone(), headers).await,
        401,
        "a proof is good once"
    );
    let fresh = app
        .authorize(&client, &reqwest::Method::GET, &logs)
        .await
        .unwrap();
    assert_eq!(send(logs, fresh).await, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn okta_refusing_the_app_stops_the_org_with_the_reason() {
    let (ec_pem, ec_public) = ec_key();
    let (sim, base) = start_sim(
        63,
        vec![ServiceApp::new("0oaother", &rsa_public()).unwrap(), {
            let mut dpop_app = app(&ec_public, true, Duration::from_secs(3600));
            dpop_app.client_id = "0oadpop".into();
            dpop_app
        }],
    )
    .await;
    let with = |client_id: &str, key: SigningKey, dpop: bool, scopes: &[&str]| {
        let settings = OAuthSettings {
            client_id: client_id.into(),
            key,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            dpop,
        };
        poller_config(
            &base,
            Credentials::OAuth(Arc::new(OAuthClient::new(&base, settings).unwrap())),
        )
    };
    let (other_pem, _) = ec_key();
    let other_key = SigningKey::from_text(&other_pem, None).unwrap();
    let cases = [
        // Signed with a key the app never registered.
        (
            with("0oadpop", rsa_private(), true, &["okta.logs.read"]),
            401,
            "invalid_client",
        ),
        (
            with("0oadpop", other_key, true, &["okta.logs.read"]),
            401,
            "invalid_client",
        ),
        // A client id Okta does not know.
        (
            with(CLIENT_ID, rsa_private(), false, &["okta.logs.read"]),
            401,
            "invalid_client",
        ),
        // A scope the app was not granted.
        (
            with("0oaother", rsa_private(), false, &["okta.users.manage"]),
            400,
            "invalid_scope",
        ),
        // DPoP required, okwatch configured without it.
        (
            with(
                "0oadpop",
                SigningKey::from_text(&ec_pem, None).unwrap(),
                false,
                &["okta.logs.read"],
            ),
            400,
            "invalid_dpop_proof",
        ),
        // DPoP configured, the app does not bind tokens: Okta issues a Bearer token.
        (
            with("0oaother", rsa_private(), true, &["okta.logs.read"]),
            200,
            "unexpected_token_type",
        ),
    ];
    for (config, status_code, error) in cases {
        let (e, status) = refusal(config).await;
        match &e {
            PollError::Refused { status, code, .. } => {
                assert_eq!((*status, code.as_str()), (status_code, error), "{e}")
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        let s = status.get(ORG).unwrap();
        assert_eq!(s.state, CollectState::Stopped);
        let shown = s.last_error.unwrap();
        assert!(shown.contains(error), "{shown}");
        assert!(!shown.contains("sim."), "no token in messages: {shown}");
    }
    assert!(sim.store().last_seq() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_endpoint_refuses_a_replayed_or_overlong_assertion() {
    let (_sim, base) = start_sim(
        64,
        vec![app(&rsa_public(), false, Duration::from_secs(3600))],
    )
    .await;
    let client = okwatch_collect::http::client(Duration::from_secs(10)).unwrap();
    let token_url = format!("{base}/oauth2/v1/token");
    let key = rsa_private();
    let now = Utc::now().timestamp();
    let assertion = |exp: i64, jti: &str| {
        key.sign(
            key.header(),
            &AssertionClaims {
                iss: CLIENT_ID.into(),
                sub: CLIENT_ID.into(),
                aud: token_url.clone(),
                iat: now,
                exp,
                jti: jti.into(),
            },
        )
        .unwrap()
    };
    let ask = |assertion: String| {
        let client = client.clone();
        let token_url = token_url.clone();
        async move {
            let body = format!(
                "grant_type=client_credentials&scope=okta.logs.read&client_assertion_type={}&client_assertion={assertion}",
                ASSERTION_TYPE.replace(':', "%3A")
            );
            let reply = client
                .post(&token_url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = reply.status().as_u16();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&reply.bytes().await.unwrap()).unwrap(),
            )
        }
    };
    let once = assertion(now + 300, "jti-1");
    let (status, body) = ask(once.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let (status, body) = ask(once).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("already been used"));
    let (status, body) = ask(assertion(now + 7200, "jti-2")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("too far"));
    let (status, _) = ask(assertion(now - 600, "jti-3")).await;
    assert_eq!(status, 401, "an expired assertion");
}
