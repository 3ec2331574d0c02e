//! The poller against the simulated org over real HTTP on loopback: with Okta's faults on, what
//! okwatch stores equals what the org logged, each event once; restarts continue where the last
//! stored page ended; the rate limit, refusals and long outages are handled as Okta requires.

use chrono::{TimeDelta, Utc};
use okwatch_collect::poller::COLLECTOR;
use okwatch_collect::{
    CollectState, Credentials, PollError, Poller, PollerConfig, Secret, StatusBoard,
};
use okwatch_model::{format_timestamp, parse_timestamp};
use okwatch_sim::server::faults::Faults;
use okwatch_sim::server::{SimConfig, Simulator};
use okwatch_store::{Checkpoint, EventBatch, EventQuery, Order, Store};
use okwatch_store_duckdb::DuckDbStore;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const TOKEN: &str = "poll-test-token";
const ORG: &str = "acme";

fn sim_config(seed: u64) -> SimConfig {
    SimConfig {
        seed,
        users: 120,
        days: 2,
        events_per_minute: None,
        token: TOKEN.into(),
        rate_limit: 100_000,
        faults: Faults::default(),
        incidents: Vec::new(),
        service_apps: Vec::new(),
    }
}

async fn start_sim(config: SimConfig) -> (Arc<Simulator>, String) {
    let sim = Simulator::new(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (sim, format!("http://{address}"))
}

fn poller_config(base: &str, token: &str) -> PollerConfig {
    let mut config = PollerConfig::new(
        ORG,
        base,
        Credentials::ApiToken(Secret::new(token)),
        Utc::now() - TimeDelta::days(3),
    );
    config.page_size = 200;
    config.poll_interval = Duration::from_millis(200);
    config.rate_limit_share = 1.0;
    config.request_timeout = Duration::from_secs(15);
    config
}

/// Every stored uuid, and how many events are stored.
fn stored_uuids(store: &dyn Store) -> (HashSet<String>, usize) {
    let page = store
        .search(&EventQuery {
            order: Order::Arrival,
            limit: 10_000_000,
            fields: Some(vec!["uuid".into()]),
            ..EventQuery::default()
        })
        .unwrap();
    let n = page.events.len();
    let uuids = page
        .events
        .into_iter()
        .map(|e| e.event["uuid"].as_str().unwrap().to_string())
        .collect();
    (uuids, n)
}

/// A checkpoint as a previous run of the poller would have left it.
fn save_checkpoint(store: &DuckDbStore, state: &serde_json::Value) {
    let checkpoint = Checkpoint {
        org: ORG.into(),
        collector: COLLECTOR.into(),
        state: state.to_string(),
    };
    store
        .insert_collected(EventBatch::encode(Vec::new()).unwrap(), &checkpoint)
        .unwrap();
}

struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), PollError>>,
}

fn spawn_poller(config: PollerConfig, store: Arc<DuckDbStore>, status: &StatusBoard) -> Running {
    let (stop, stopped) = watch::channel(false);
    let poller = Poller::new(config, store, status.clone()).unwrap();
    Running {
        stop,
        task: tokio::spawn(poller.run(stopped)),
    }
}

impl Running {
    async fn stop(self) -> Result<(), PollError> {
        self.stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(30), self.task)
            .await
            .expect("the poller stops when asked")
            .unwrap()
    }
}

/// Waits until okwatch holds exactly the simulator's events; returns how long it took.
async fn until_caught_up(sim: &Simulator, store: &DuckDbStore, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (expected, _) = stored_uuids(sim.store().as_ref());
        let (got, n) = stored_uuids(store);
        assert_eq!(n, got.len(), "an event is stored twice");
        if got == expected {
            return started.elapsed();
        }
        assert!(
            got.is_subset(&expected),
            "okwatch stored events the org never logged"
        );
        assert!(
            started.elapsed() < limit,
            "after {limit:?}: {} of {} events stored",
            got.len(),
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_event_is_stored_once_with_every_fault_switched_on() {
    let mut config = sim_config(31);
    config.events_per_minute = Some(1_500.0);
    config.faults = Faults {
        server_error: 0.1,
        slow: 0.05,
        drop: 0.1,
        late: 0.2,
        duplicates: 0.2,
    };
    let (sim, base) = start_sim(config).await;
    // The org keeps logging while okwatch backfills, some events committed minutes late.
    let clock = tokio::spawn(sim.clone().run());
    let store = Arc::new(DuckDbStore::open_in_memory().unwrap());
    let status = StatusBoard::default();
    let mut config = poller_config(&base, TOKEN);
    // Small pages: more requests, so more of them meet a fault.
    config.page_size = 100;
    let poller = spawn_poller(config, store.clone(), &status);
    tokio::time::sleep(Duration::from_secs(8)).await;
    clock.abort();
    until_caught_up(&sim, &store, Duration::from_secs(120)).await;
    poller.stop().await.unwrap();

    let s = status.get(ORG).unwrap();
    let (_, stored) = stored_uuids(store.as_ref());
    assert_eq!(s.events_stored, stored as u64, "{s:?}");
    assert!(
        s.pages as usize > stored / 100,
        "every full page and then some: {s:?}"
    );
    assert_eq!(s.rejected, 0);
    // The checkpoint is the `next` link after the last stored page.
    let checkpoint = store.checkpoint_of(ORG, COLLECTOR).unwrap().unwrap();
    assert!(
        checkpoint.state.contains(&format!("{base}/api/v1/logs?")),
        "{checkpoint:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_poller_continues_after_the_last_stored_page() {
    let (sim, base) = start_sim(sim_config(32)).await;
    let store = Arc::new(DuckDbStore::open_in_memory().unwrap());
    let status = StatusBoard::default();
    let mut config = poller_config(&base, TOKEN);
    config.page_size = 50;
    let first = spawn_poller(config.clone(), store.clone(), &status);
    // Stop part-way through the backfill.
    let started = Instant::now();
    while status.get(ORG).map_or(0, |s| s.pages) < 5 {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.stop().await.unwrap();
    let requests_before = status.get(ORG).unwrap().requests;
    let (partial, _) = stored_uuids(store.as_ref());
    let (all, _) = stored_uuids(sim.store().as_ref());
    assert!(!partial.is_empty() && partial.len() < all.len());

    let second_status = StatusBoard::default();
    let second = spawn_poller(config, store.clone(), &second_status);
    until_caught_up(&sim, &store, Duration::from_secs(60)).await;
    second.stop().await.unwrap();
    let s = second_status.get(ORG).unwrap();
    assert_eq!(
        s.duplicates, 0,
        "the second run began exactly after the first one's last page: {s:?}"
    );
    assert_eq!(
        s.events_stored as usize + partial.len(),
        all.len(),
        "{s:?} after {requests_before} requests"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cursor_okta_no_longer_accepts_falls_back_to_since_and_loses_nothing() {
    let (sim, base) = start_sim(sim_config(33)).await;
    let store = Arc::new(DuckDbStore::open_in_memory().unwrap());
    // A checkpoint whose cursor the org refuses (400), from a run that had stored events up to
    // a day ago.
    let newest = Utc::now() - TimeDelta::days(1);
    let state = serde_json::json!({
        "next": format!("{base}/api/v1/logs?after=not-a-cursor&limit=200"),
        "newest_published": format_timestamp(newest),
    });
    save_checkpoint(&store, &state);
    let status = StatusBoard::default();
    let poller = spawn_poller(poller_config(&base, TOKEN), store.clone(), &status);
    let started = Instant::now();
    while status.get(ORG).is_none_or(|s| s.pages == 0) {
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // From the newest stored event minus the overlap: the last day, not the whole history.
    let (expected, _) = stored_uuids(sim.store().as_ref());
    let recent = sim
        .store()
        .count(&EventQuery {
            order: Order::Arrival,
            // The fallback starts 15 minutes before the newest stored event.
            since: Some(newest - TimeDelta::minutes(14)),
            ..EventQuery::default()
        })
        .unwrap();
    let started = Instant::now();
    loop {
        let (got, n) = stored_uuids(store.as_ref());
        assert_eq!(n, got.len());
        assert!(got.is_subset(&expected));
        if got.len() as u64 >= recent {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{} of {recent}",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    poller.stop().await.unwrap();
    let (got, _) = stored_uuids(store.as_ref());
    assert!(
        (got.len() as u64) < expected.len() as u64,
        "it did not start over"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn okwatch_uses_only_its_share_of_the_rate_limit() {
    let mut config = sim_config(34);
    config.rate_limit = 12;
    let (_sim, base) = start_sim(config).await;
    let store = Arc::new(DuckDbStore::open_in_memory().unwrap());
    let status = StatusBoard::default();
    let mut config = poller_config(&base, TOKEN);
    config.page_size = 10; // far more pages than the window allows
    config.rate_limit_share = 0.5;
    let poller = spawn_poller(config, store, &status);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let s = status.get(ORG).unwrap();
    poller.stop().await.unwrap();
    assert_eq!(s.requests, 6, "half of 12: {s:?}");
    assert_eq!(s.rate_limited, 0, "never refused: {s:?}");
    assert_eq!(s.state, CollectState::WaitingForRateLimit);
    let rate = s.rate_limit.unwrap();
    assert_eq!((rate.limit, rate.remaining, rate.allowed), (12, 6, 6));
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_429_nothing_is_sent_before_the_reset() {
    let mut config = sim_config(35);
    config.rate_limit = 3;
    let (_sim, base) = start_sim(config).await;
    // Another integration with the same token has used the whole window.
    let client = okwatch_collect::http::client(Duration::from_secs(10)).unwrap();
    for _ in 0..3 {
        let reply = client
            .get(format!("{base}/api/v1/logs?limit=1"))
            .header("Authorization", format!("SSWS {TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
    }
    let store = Arc::new(DuckDbStore::open_in_memory().unwrap());
    let status = StatusBoard::default();
    let poller = spawn_poller(poller_config(&base, TOKEN), store.clone(), &status);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let s = status.get(ORG).unwrap();
    poller.stop().await.unwrap();
    assert_eq!((s.requests, s.rate_limited), (1, 1), "{s:?}");
    assert_eq!(s.state, CollectState::WaitingForRateLimit);
    assert!(store.checkpoint_of(ORG, COLLECTOR).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_stops_the_org_and_never_moves_its_checkpoint() {
    let (_sim, base) = start_sim(sim_config(36)).await;
    let store = Arc::new(DuckDbStore::open_in_memory().unwrap());
    let status = StatusBoard::default();
    let poller = Poller::new(
        poller_config(&base, "wrong-token"),
        store.clone(),
        status.clone(),
    )
    .unwrap();
    let (_stop, stopped) = watch::channel(false);
    let result = tokio::time::timeout(Duration::from_secs(10), poller.run(stopped))
        .await
        .expect("a refused token ends the run");
    match result {
        Err(PollError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (401, "E0000011"));
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let s = status.get(ORG).unwrap();
    assert_eq!(s.state, CollectState::Stopped);
    let error = s.last_error.unwrap();
    assert!(
        error.contains("401") && !error.contains("wrong-token"),
        "{error}"
    );
    assert!(store.checkpoint_of(ORG, COLLECTOR).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outage_longer_than_oktas_retention_is_reported_as_a_gap() {
    let (_sim, base) = start_sim(sim_config(37)).await;
    let store = Arc::new(DuckDbStore::open_in_memory().unwrap());
    // Saved with millisecond precision, as Okta writes times.
    let last_seen = parse_timestamp(&format_timestamp(Utc::now() - TimeDelta::days(100))).unwrap();
    let state = serde_json::json!({
        "next": format!("{base}/api/v1/logs?since={}&limit=200", format_timestamp(Utc::now() - TimeDelta::days(1))),
        "newest_published": format_timestamp(last_seen),
    });
    save_checkpoint(&store, &state);
    let status = StatusBoard::default();
    let poller = spawn_poller(poller_config(&base, TOKEN), store, &status);
    tokio::time::sleep(Duration::from_millis(500)).await;
    poller.stop().await.unwrap();
    let gaps = status.get(ORG).unwrap().gaps;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0].from, last_seen);
    let expected_end = Utc::now() - TimeDelta::days(90);
    assert!(
        (gaps[0].to - expected_end).num_seconds().abs() < 60,
        "{gaps:?}"
    );
}
