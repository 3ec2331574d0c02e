//! `okwatch demo`: no configuration. A simulated Okta org (the simulator, with 30 days of
//! history and live activity) served over HTTP, okwatch's poller collecting it exactly as it
//! would a real org, a short tour of what okwatch answers, then the simulator and okwatch's API
//! served side by side until Ctrl-C, the poller keeping the store current.

use super::{open_store, search, token_store, EXIT_OK};
use crate::cli::{DemoArgs, SearchArgs};
use anyhow::{bail, Context, Result};
use clap::Parser;
use okwatch_collect::hooks::HookAdmin;
use okwatch_collect::{CollectState, Credentials, Poller, PollerConfig, Secret, StatusBoard};
use okwatch_sim::incidents::IncidentKind;
use okwatch_sim::server::{SimConfig, Simulator};
use okwatch_store::Store;
use okwatch_store_duckdb::DuckDbStore;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct SearchLine {
    #[command(flatten)]
    args: SearchArgs,
}

const USERS: usize = 250;
const DAYS: u32 = 30;
/// The org name the demo's events are stored under.
const ORG: &str = "acme";

async fn bind(preferred: &str) -> Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(preferred).await {
        Ok(listener) => Ok(listener),
        // Taken: any free port will do for a demo.
        Err(_) => Ok(tokio::net::TcpListener::bind("127.0.0.1:0").await?),
    }
}

/// Waits until the poller has read the whole history (its last page was not full).
async fn caught_up(status: &StatusBoard, limit: Duration) -> Result<()> {
    let started = Instant::now();
    loop {
        let org = status.get(ORG).unwrap_or_default();
        match org.state {
            CollectState::Tailing => return Ok(()),
            CollectState::Stopped => bail!(
                "collecting the simulated org failed: {}",
                org.last_error.unwrap_or_default()
            ),
            _ if started.elapsed() > limit => bail!(
                "the simulated org's history was not collected within {limit:?} ({} pages so far)",
                org.pages
            ),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

pub fn run(data_dir: &Path, args: &DemoArgs) -> Result<u8> {
    let started = Instant::now();
    let demo_dir = data_dir.join("demo");
    let store = Arc::new(open_store(&demo_dir)?);
    let sim = Simulator::new(SimConfig {
        seed: 7,
        users: USERS,
        days: DAYS,
        events_per_minute: Some(60.0),
        token: format!("sim_{}", okwatch_okta::random::base62(32)),
        rate_limit: 600,
        faults: Default::default(),
        incidents: IncidentKind::ALL.to_vec(),
        service_apps: Vec::new(),
    })?;
    // Contracts, so that the Apps pages have spend, savings and renewals to show; kept as
    // people edit them when the demo runs again.
    if okwatch_store::Contracts::contracts(store.as_ref(), Some(ORG))?.is_empty() {
        let contracts = super::demo_contracts::contracts(ORG, sim.org(), chrono::Utc::now());
        okwatch_store::Contracts::put_contracts(store.as_ref(), &contracts)?;
    }
    println!(
        "okwatch demo: a simulated Okta org ({}, {USERS} people, {} apps) with {DAYS} days of history",
        sim.org().domain,
        sim.org().apps.len()
    );
    let runtime = tokio::runtime::Runtime::new()?;
    let status = StatusBoard::default();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sim_listener = runtime.block_on(bind("127.0.0.1:9090"))?;
    let sim_address = sim_listener.local_addr()?;
    let sim_url = format!("http://{sim_address}");
    {
        let _entered = runtime.enter();
        let sim_app = sim.router();
        tokio::spawn(async move { axum::serve(sim_listener, sim_app).await });
        // The simulated org is new at every run: collect it from the start; events stored by
        // an earlier run are recognised and skipped.
        let mut config = PollerConfig::new(
            ORG,
            &sim_url,
            Credentials::ApiToken(Secret::new(sim.token())),
            chrono::Utc::now() - chrono::TimeDelta::days(i64::from(DAYS) + 1),
        );
        config.ignore_checkpoint = true;
        config.poll_interval = Duration::from_secs(2);
        config.rejects_dir = Some(demo_dir.join("rejects"));
        let poller = Poller::new(config, store.clone(), status.clone())?;
        // The demo's store is its own: every event it holds is looked at (alerts already
        // raised by an earlier run are recognised by their ids).
        tokio::spawn(crate::detections::run(
            store.clone(),
            chrono::DateTime::UNIX_EPOCH,
            crate::detections::Notify::default(),
            stopped.clone(),
        ));
        // Scheduled reports can be tried in the demo: its one channel writes them as files
        // into DATA_DIR/demo/outbox.
        tokio::spawn(okwatch_notify::worker::run(
            store.clone(),
            demo_channels(&demo_dir),
            stopped.clone(),
        ));
        tokio::spawn(okwatch_notify::schedule::run(
            store.clone(),
            okwatch_notify::schedule::Scheduler {
                channels: demo_channels(&demo_dir),
                public_url: None,
            },
            stopped.clone(),
        ));
        tokio::spawn(okwatch_notify::renewal::run(
            store.clone(),
            demo_channels(&demo_dir),
            None,
            Duration::from_secs(60),
            stopped.clone(),
        ));
        // The org's directory (people, groups, apps, assignments), as serve lists it.
        let directory = okwatch_collect::directory::DirectorySync {
            org: ORG.into(),
            base_url: sim_url.clone(),
            credentials: Credentials::ApiToken(Secret::new(sim.token())),
            client: okwatch_collect::http::client(Duration::from_secs(30))?,
            rate_limit_share: 0.5,
            every: Duration::from_secs(6 * 3600),
        };
        tokio::spawn(directory.run(store.clone(), stopped.clone()));
        tokio::spawn(poller.run(stopped));
    }
    // The console first, so that a newcomer can open it at once and watch the history arrive.
    let console = if args.no_serve {
        None
    } else {
        let console = runtime.block_on(start_console(&store, &demo_dir, &status))?;
        println!("Open the console: http://{}/", console.address);
        println!(
            "  sign in as admin, password {} (it fills as okwatch collects the history)\n",
            console.admin_password
        );
        Some(console)
    };
    println!("okwatch collects it through the System Log API at {sim_url}/api/v1/logs ...");
    runtime.block_on(caught_up(&status, Duration::from_secs(300)))?;
    // Compacting after the backfill only saves space; the demo goes on without it.
    if let Err(e) = store.checkpoint() {
        tracing::warn!("{e}");
    }
    let stats = store.stats()?;
    let collected = status.get(ORG).unwrap_or_default();
    println!(
        "okwatch's store in {} holds {} events ({} pages in {:.1}s)\n",
        demo_dir.display(),
        stats.events,
        collected.pages,
        started.elapsed().as_secs_f64()
    );
    tour(&store)?;
    println!("## Incidents planted in this history (the simulator's ground truth)");
    for truth in sim.ground_truth() {
        println!("- {truth}");
    }
    let truth_file = demo_dir.join("ground-truth.ndjson");
    super::sim::write_ground_truth(&sim, &truth_file)?;
    println!(
        "  (details with every event uuid: {})\n",
        truth_file.display()
    );
    let Some(console) = console else {
        let _ = stop.send(true);
        return Ok(EXIT_OK);
    };

    let sim_token = sim.token().to_string();
    let demo_dir_text = demo_dir.display().to_string();
    let Console {
        address: api,
        admin_password,
        token,
        hook_secret,
        published: _published,
    } = console;
    runtime.block_on(async move {
        let admin = HookAdmin::new(&sim_url, Credentials::ApiToken(Secret::new(sim.token())))?;
        let hook = admin
            .register(&format!("http://{api}/hooks/okta/{ORG}"), &hook_secret)
            .await
            .context("registering the demo's Event Hook on the simulator")?;
        // Live activity: the org logs about one event a second; the hook pushes it and the
        // poller reads it too (each event is stored once).
        tokio::spawn(sim.clone().run());
        println!("Running. Open the console: http://{api}/");
        println!("  sign in as admin, password {admin_password}; the System Log's Live button shows new events as they come\n");
        println!("okwatch's Okta-compatible System Log API (the whole history):");
        println!("  http://{api}/api/v1/logs   token: {token}");
        println!("  curl -H 'Authorization: SSWS {token}' 'http://{api}/api/v1/logs?q=FAILURE&limit=5'");
        println!("MCP for AI assistants (streamable HTTP, same token as a Bearer token):");
        println!("  http://{api}/mcp");
        println!("Collection status: http://{api}/health");
        println!(
            "Event Hook {} delivers the org's new events to http://{api}/hooks/okta/{ORG}",
            hook.id
        );
        println!("The simulated Okta org (live events, users, apps, event hooks):");
        println!("  {sim_url}/api/v1/   token: {sim_token}");
        println!(
            "Meanwhile `okwatch --data-dir {demo_dir_text} search ...` and `okwatch --data-dir {demo_dir_text} status` ask it. Ctrl-C stops both."
        );
        super::stop_signal().await;
        let _ = stop.send(true);
        Ok::<_, anyhow::Error>(())
    })
    .context("running the demo")?;
    Ok(EXIT_OK)
}

/// The demo's running server: console, APIs, MCP, hooks.
struct Console {
    address: std::net::SocketAddr,
    admin_password: String,
    /// The demo's API token.
    token: String,
    /// What the simulated org's Event Hook must send.
    hook_secret: Secret,
    /// `serve.json`, withdrawn when dropped.
    published: super::local::Published,
}

/// Starts what `okwatch serve` would serve, over the demo's store.
/// The demo's notification channels: one, `outbox`, that writes reports, renewal notices (and
/// alerts sent to it) as files under the demo's data directory.
fn demo_channels(demo_dir: &Path) -> Arc<Vec<okwatch_notify::Channel>> {
    Arc::new(vec![okwatch_notify::Channel {
        name: "outbox".into(),
        target: okwatch_notify::Target::Directory {
            path: demo_dir.join("outbox"),
        },
        // Alerts are not sent to it: only schedules that name it.
        min_severity: "critical".into(),
        rules: vec!["okwatch.none".into()],
        // Renewal notices of the demo's contracts land here as files.
        renewals: true,
        retry_base: Duration::from_secs(5),
        max_attempts: 5,
    }])
}

async fn start_console(
    store: &Arc<DuckDbStore>,
    demo_dir: &Path,
    status: &StatusBoard,
) -> Result<Console> {
    // The demo is a throwaway: its admin gets a fresh password at every run (or the one in
    // OKWATCH_ADMIN_PASSWORD), shown with the console's address.
    let admin_password = std::env::var("OKWATCH_ADMIN_PASSWORD")
        .unwrap_or_else(|_| okwatch_okta::random::base62(16));
    okwatch_web::auth::set_user(
        store.as_ref(),
        "admin",
        okwatch_web::auth::Role::Admin,
        &admin_password,
    )
    .context("creating the console's admin")?;
    okwatch_web::saved::seed(store.as_ref()).context("saving the shipped searches")?;
    let web = okwatch_web::WebState::new(store.clone(), false)
        .with_channels(demo_channels(demo_dir), None);
    let tokens = token_store(demo_dir);
    // One demo token at a time: the previous run's is revoked.
    while tokens.revoke("demo")? {}
    let (_, token) = tokens.create("demo")?;
    let listener = bind("127.0.0.1:8080").await?;
    let address = listener.local_addr()?;
    // Like `okwatch serve`: other commands on the demo's data directory go through it.
    let (access, auth) = super::local::LocalAccess::new(tokens);
    // Users' own tokens (made in the console) work at every API too, as their owners.
    let web = web.with_tokens(auth);
    let published = access.publish(demo_dir, address)?;
    // Live events also come by Event Hook, as they would from a real org.
    let hook_secret = Secret::new(okwatch_okta::random::base62(32));
    let app = crate::api::router(crate::api::ApiParts {
        store: store.clone(),
        public_url: None,
        status: status.clone(),
        hook_secrets: [(ORG.to_string(), hook_secret.clone())].into(),
        rejects_dir: Some(demo_dir.join("rejects")),
        web,
    });
    tokio::spawn(crate::http::serve(listener, app, std::future::pending()));
    Ok(Console {
        address,
        admin_password,
        token,
        hook_secret,
        published,
    })
}

/// A few searches over the demo store, each shown with the command that runs it.
fn tour(store: &DuckDbStore) -> Result<()> {
    let tour: [(&str, Vec<&str>); 4] = [
        (
            "Where failed sign-ins came from this week (top 8 IPs)",
            vec!["--since", "-7d", "--filter", r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#, "--group-by", "client.ipAddress", "--limit", "8"],
        ),
        (
            "The newest failed sign-ins",
            vec!["--filter", r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#, "--limit", "6", "--fields", "published,actor.alternateId,client.ipAddress,client.geographicalContext.country,outcome.reason"],
        ),
        (
            "Sign-ins per day, last 7 days",
            vec!["--since", "-7d", "--filter", r#"eventType eq "user.session.start" and outcome.result eq "SUCCESS""#, "--per", "day"],
        ),
        (
            "What happened this week, by event type",
            vec!["--since", "-7d", "--group-by", "eventType", "--limit", "8"],
        ),
    ];
    let mut stdout = std::io::stdout().lock();
    for (title, args) in tour {
        writeln!(stdout, "## {title}")?;
        let quoted: Vec<String> = args
            .iter()
            .map(|a| {
                if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    a.to_string()
                }
            })
            .collect();
        writeln!(stdout, "$ okwatch search {}", quoted.join(" "))?;
        let mut argv = vec!["search"];
        argv.extend(args);
        let parsed = SearchLine::try_parse_from(argv)?.args;
        search::run(store, &parsed, &mut stdout)?;
        writeln!(stdout)?;
    }
    Ok(())
}
