//! `okwatch demo`: no configuration. A simulated Okta org (the simulator, with 30 days of
//! history and live activity), okwatch's store filled from it, a short tour of what okwatch
//! answers, then the simulator and okwatch's API served side by side until Ctrl-C.

use super::{open_store, search, token_store, EXIT_OK};
use crate::cli::{DemoArgs, SearchArgs};
use anyhow::{Context, Result};
use clap::Parser;
use okwatch_okta::server::Authenticate;
use okwatch_sim::incidents::IncidentKind;
use okwatch_sim::server::{SimConfig, Simulator};
use okwatch_store::{Cursor, DuckDbStore, EventBatch, EventQuery, EventRow, Order, Store};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

#[derive(Parser)]
struct SearchLine {
    #[command(flatten)]
    args: SearchArgs,
}

const USERS: usize = 250;
const DAYS: u32 = 30;
/// The org name the demo's events are stored under.
const ORG: &str = "acme";

/// Copies the simulator's events stored after `after_seq` into okwatch's store; returns the
/// new position. (Stands in for the collector, which will poll the simulator's API instead.)
fn copy_new(sim: &Simulator, store: &DuckDbStore, mut after_seq: i64) -> Result<i64> {
    loop {
        let page = sim.store().search(&EventQuery {
            order: Order::Arrival,
            limit: 20_000,
            after: Some(Cursor {
                published_micros: 0,
                seq: after_seq,
            }),
            ..EventQuery::default()
        })?;
        let Some(last) = page.events.last() else {
            return Ok(after_seq);
        };
        after_seq = last.seq;
        let rows = page
            .events
            .into_iter()
            .filter_map(|e| EventRow::decompose(ORG, e.event).ok())
            .collect();
        store.insert(EventBatch::encode(rows)?)?;
    }
}

async fn bind(preferred: &str) -> Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(preferred).await {
        Ok(listener) => Ok(listener),
        // Taken: any free port will do for a demo.
        Err(_) => Ok(tokio::net::TcpListener::bind("127.0.0.1:0").await?),
    }
}

pub fn run(data_dir: &Path, args: &DemoArgs) -> Result<u8> {
    let started = std::time::Instant::now();
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
    })?;
    println!(
        "okwatch demo: a simulated Okta org ({}, {USERS} people, {} apps) with {DAYS} days of history",
        sim.org().domain,
        sim.org().apps.len()
    );
    let position = copy_new(&sim, &store, 0)?;
    store.checkpoint()?;
    let stats = store.stats()?;
    println!(
        "okwatch's store in {} holds {} events ({:.1}s)\n",
        demo_dir.display(),
        stats.events,
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
    if args.no_serve {
        return Ok(EXIT_OK);
    }

    let sim_token = sim.token().to_string();
    let demo_dir_text = demo_dir.display().to_string();
    let tokens = token_store(&demo_dir);
    // One demo token at a time: the previous run's is revoked.
    while tokens.revoke("demo")? {}
    let (_, token) = tokens.create("demo")?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let api_listener = bind("127.0.0.1:8080").await?;
        let sim_listener = bind("127.0.0.1:9090").await?;
        let api = api_listener.local_addr()?;
        let sim_address = sim_listener.local_addr()?;
        let auth: Arc<dyn Authenticate> = Arc::new(tokens);
        let app = super::api_router(store.clone(), auth, None);
        tokio::spawn(async move { axum::serve(api_listener, app).await });
        let sim_app = sim.router();
        tokio::spawn(async move { axum::serve(sim_listener, sim_app).await });
        tokio::spawn(sim.clone().run());
        // Keep okwatch's store in step with the simulator's live activity.
        tokio::spawn(async move {
            let mut position = position;
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                let (sim, store) = (sim.clone(), store.clone());
                match tokio::task::spawn_blocking(move || copy_new(&sim, &store, position)).await {
                    Ok(Ok(p)) => position = p,
                    Ok(Err(e)) => tracing::error!("demo: copying live events failed: {e:#}"),
                    Err(e) => tracing::error!("demo: copying live events panicked: {e}"),
                }
            }
        });
        println!("Running. okwatch's Okta-compatible System Log API (the whole history):");
        println!("  http://{api}/api/v1/logs   token: {token}");
        println!("  curl -H 'Authorization: SSWS {token}' 'http://{api}/api/v1/logs?q=FAILURE&limit=5'");
        println!("MCP for AI assistants (streamable HTTP, same token as a Bearer token):");
        println!("  http://{api}/mcp");
        println!("The simulated Okta org (live events, users, apps, event hooks):");
        println!("  http://{sim_address}/api/v1/   token: {sim_token}");
        println!(
            "Ctrl-C stops both; then `okwatch --data-dir {demo_dir_text} search ...` works on the demo store."
        );
        tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(EXIT_OK)
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
