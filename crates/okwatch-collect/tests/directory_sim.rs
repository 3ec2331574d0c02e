//! The directory sync against the simulated org over real HTTP on loopback: with 5xx answers
//! and dropped connections switched on and a rate limit that runs out mid-sync, the snapshot
//! holds exactly the org's people, groups, members, apps and assignments; a sync Okta refuses,
//! or one stopped half-way, leaves the previous snapshot as it was.

use okwatch_collect::directory::{DirectorySync, SyncError};
use okwatch_collect::{Credentials, Secret};
use okwatch_sim::server::faults::Faults;
use okwatch_sim::server::{SimConfig, Simulator};
use okwatch_store::directory::Directory;
use okwatch_store_duckdb::DuckDbStore;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

const TOKEN: &str = "directory-test-token";

async fn start_sim(faults: Faults, rate_limit: u32) -> (Arc<Simulator>, String) {
    let sim = Simulator::new(SimConfig {
        seed: 5,
        users: 450,
        days: 1,
        events_per_minute: None,
        token: TOKEN.into(),
        rate_limit,
        faults,
        incidents: Vec::new(),
        service_apps: Vec::new(),
    })
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = sim.router();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (sim, format!("http://{address}"))
}

fn sync(base: &str, token: &str) -> DirectorySync {
    DirectorySync {
        org: "acme".into(),
        base_url: base.into(),
        credentials: Credentials::ApiToken(Secret::new(token)),
        client: okwatch_collect::http::client(Duration::from_secs(10)).unwrap(),
        rate_limit_share: 1.0,
        every: Duration::from_secs(3600),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_snapshot_is_the_orgs_directory_despite_faults_and_the_rate_limit() {
    let faults = Faults {
        server_error: 0.15,
        drop: 0.1,
        ..Faults::default()
    };
    // 450 people: 3 pages of people, a page of members per group, 1–2 pages of users per
    // app; about 45 requests against a budget of 30 a minute.
    let (sim, base) = start_sim(faults, 30).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DuckDbStore::open(&dir.path().join("s.duckdb")).unwrap());
    let (_stop, mut stopped) = watch::channel(false);
    let started = Instant::now();
    let synced = sync(&base, TOKEN)
        .sync_once(store.clone(), &mut stopped)
        .await
        .unwrap();
    assert!(
        synced.requests > 45,
        "retries and waits show in the requests: {}",
        synced.requests
    );
    assert!(
        started.elapsed() < Duration::from_secs(150),
        "{:?}",
        started.elapsed()
    );

    // What the org holds, counted by hand from the simulator's own directory.
    let org = sim.org();
    let stored = store.directory("acme").unwrap().unwrap();
    assert!(
        stored == synced.snapshot,
        "the store gives back what was synced"
    );
    let people: BTreeSet<(String, String, Option<String>)> = org
        .users
        .iter()
        .map(|u| {
            (
                u.id.clone(),
                u.login.clone(),
                Some(org.groups[u.groups[1]].name.to_string()),
            )
        })
        .collect();
    let got: BTreeSet<(String, String, Option<String>)> = stored
        .users
        .iter()
        .map(|u| (u.id.clone(), u.login.clone(), u.department.clone()))
        .collect();
    assert_eq!(got, people);
    let assigned: BTreeSet<(String, String)> = org
        .users
        .iter()
        .flat_map(|u| {
            u.apps
                .iter()
                .map(|&a| (org.apps[a].id.clone(), u.id.clone()))
        })
        .collect();
    let got: BTreeSet<(String, String)> = stored
        .assignments
        .iter()
        .map(|a| (a.app_id.clone(), a.user_id.clone()))
        .collect();
    assert_eq!(got.len(), stored.assignments.len(), "an assignment twice");
    assert_eq!(got, assigned);
    let members: BTreeSet<(String, String)> = org
        .users
        .iter()
        .flat_map(|u| {
            u.groups
                .iter()
                .map(|&g| (org.groups[g].id.clone(), u.id.clone()))
        })
        .collect();
    let got: BTreeSet<(String, String)> = stored
        .memberships
        .iter()
        .map(|m| (m.group_id.clone(), m.user_id.clone()))
        .collect();
    assert_eq!(got, members);
    let apps: BTreeSet<(&str, &str)> = org
        .apps
        .iter()
        .map(|a| (a.id.as_str(), a.spec.label))
        .collect();
    let got: BTreeSet<(&str, &str)> = stored
        .apps
        .iter()
        .map(|a| (a.id.as_str(), a.label.as_str()))
        .collect();
    assert_eq!(got, apps);
    assert_eq!(stored.groups.len(), org.groups.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_or_stopped_sync_keeps_the_previous_snapshot() {
    let (_sim, base) = start_sim(Faults::default(), 100_000).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DuckDbStore::open(&dir.path().join("s.duckdb")).unwrap());
    let (stop, mut stopped) = watch::channel(false);
    let first = sync(&base, TOKEN)
        .sync_once(store.clone(), &mut stopped)
        .await
        .unwrap();

    // A revoked token: Okta's reason, and the snapshot untouched.
    let refused = sync(&base, "not-the-token")
        .sync_once(store.clone(), &mut stopped)
        .await
        .unwrap_err();
    match &refused {
        SyncError::Refused { status, code, .. } => {
            assert_eq!((*status, code.as_str()), (401, "E0000011"), "{refused}")
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        store.directory("acme").unwrap(),
        Some(first.snapshot.clone())
    );

    // Shutdown asked for: it stops without storing half a directory.
    stop.send(true).unwrap();
    let stopped_sync = sync(&base, TOKEN)
        .sync_once(store.clone(), &mut stopped)
        .await
        .unwrap_err();
    assert!(matches!(stopped_sync, SyncError::Stopped), "{stopped_sync}");
    let kept = store.directory("acme").unwrap();
    assert!(kept == Some(first.snapshot), "the snapshot is kept");
}
