//! `okwatch bench --backfill`: collection speed. The simulator holds `--events` events of
//! history and limits `/api/v1/logs` to `--rate-limit` requests a minute; okwatch's poller
//! backfills all of them over loopback HTTP into a store file, as `serve` would, while a second
//! thread keeps searching that store. Reported: events per second, the share of the allowed
//! requests okwatch used while it was behind, that nothing was lost or doubled, and search
//! latency during the backfill next to the same searches once it is over.

use super::{open_store, EXIT_OK};
use crate::cli::BenchArgs;
use anyhow::{bail, Context, Result};
use chrono::{TimeDelta, Utc};
use okwatch_collect::{CollectState, Credentials, Poller, PollerConfig, Secret, StatusBoard};
use okwatch_query::{parse_and_validate, Dialect};
use okwatch_sim::server::faults::Faults;
use okwatch_sim::server::{SimConfig, Simulator};
use okwatch_sim::users_for;
use okwatch_store::{Bucket, EventQuery, Store};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ORG: &str = "bench";
const TOKEN: &str = "bench-token";
/// Days of history the simulated org holds (inside Okta's 90-day retention).
const DAYS: u32 = 30;

/// The searches timed during and after the backfill.
fn searches() -> Result<Vec<(&'static str, EventQuery, Option<Bucket>)>> {
    let failures = parse_and_validate(r#"outcome.result eq "FAILURE""#, Dialect::Okwatch)?;
    let sign_in_failures = parse_and_validate(
        r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#,
        Dialect::Okwatch,
    )?;
    Ok(vec![
        (
            "newest 100 failures",
            EventQuery {
                filter: Some(failures),
                limit: 100,
                ..EventQuery::default()
            },
            None,
        ),
        (
            "daily failed sign-ins",
            EventQuery {
                filter: Some(sign_in_failures),
                ..EventQuery::default()
            },
            Some(Bucket::Day),
        ),
    ])
}

fn run_search(store: &dyn Store, query: &EventQuery, bucket: Option<Bucket>) -> Result<()> {
    match bucket {
        Some(bucket) => {
            store.count_by_time(query, bucket)?;
        }
        None => {
            store.search(query)?;
        }
    }
    Ok(())
}

fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[((samples.len() - 1) as f64 * p).round() as usize]
}

pub fn run(data_dir: &std::path::Path, args: &BenchArgs) -> Result<u8> {
    if !(args.share > 0.0 && args.share <= 1.0) {
        bail!("--share must be above 0 and at most 1");
    }
    let dir = args.dir.clone().unwrap_or_else(|| data_dir.join("bench"));
    let store_dir = dir.join("backfill-store");
    let _ = std::fs::remove_dir_all(&store_dir);

    eprintln!(
        "simulating an org with about {} events over {DAYS} days",
        args.events
    );
    let started = Instant::now();
    let sim = Simulator::new(SimConfig {
        seed: args.seed,
        users: users_for(args.events, u64::from(DAYS)),
        days: DAYS,
        events_per_minute: None,
        token: TOKEN.into(),
        rate_limit: args.rate_limit,
        faults: Faults::default(),
        incidents: Vec::new(),
        service_apps: Vec::new(),
    })?;
    let total = sim.store().count(&EventQuery::default())?;
    eprintln!(
        "the org holds {total} events ({:.0} s to simulate); okwatch may use {:.0} of {} requests a minute",
        started.elapsed().as_secs_f64(),
        f64::from(args.rate_limit) * args.share,
        args.rate_limit
    );

    let store = Arc::new(open_store(&store_dir)?);
    let status = StatusBoard::default();
    let runtime = tokio::runtime::Runtime::new()?;
    let base = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let router = sim.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        anyhow::Ok(base)
    })?;
    let mut config = PollerConfig::new(
        ORG,
        &base,
        Credentials::ApiToken(Secret::new(TOKEN)),
        Utc::now() - TimeDelta::days(i64::from(DAYS) + 1),
    );
    config.rate_limit_share = args.share;
    config.poll_interval = Duration::from_secs(1);
    let poller = Poller::new(config, store.clone(), status.clone())?;
    let (stop, stopped) = tokio::sync::watch::channel(false);

    // Searches on the store while the poller writes to it.
    let cases = searches()?;
    let done = Arc::new(AtomicBool::new(false));
    let searcher = {
        let (store, done, cases) = (store.clone(), done.clone(), cases.clone());
        std::thread::spawn(move || -> Result<Vec<Vec<f64>>> {
            let mut samples = vec![Vec::new(); cases.len()];
            while !done.load(Ordering::Relaxed) {
                for (i, (_, query, bucket)) in cases.iter().enumerate() {
                    let t = Instant::now();
                    run_search(store.as_ref(), query, *bucket)?;
                    samples[i].push(t.elapsed().as_secs_f64() * 1e3);
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            Ok(samples)
        })
    };

    let started = Instant::now();
    let task = runtime.spawn(poller.run(stopped));
    let mut last_report = Instant::now();
    let (elapsed, requests, limited) = loop {
        std::thread::sleep(Duration::from_millis(200));
        let s = status.get(ORG).context("the poller reports")?;
        if s.state == CollectState::Stopped {
            bail!("collection stopped: {:?}", s.last_error);
        }
        if s.events_stored >= total && s.state == CollectState::Tailing {
            break (started.elapsed(), s.requests, s.rate_limited);
        }
        if last_report.elapsed() >= Duration::from_secs(15) {
            last_report = Instant::now();
            eprintln!(
                "  {:>4.0} s: {} of {total} events, {} requests",
                started.elapsed().as_secs_f64(),
                s.events_stored,
                s.requests
            );
        }
    };
    done.store(true, Ordering::Relaxed);
    let mut during = searcher.join().expect("the search thread")?;
    let _ = stop.send(true);
    runtime
        .block_on(task)
        .context("the poller")?
        .context("the poller")?;

    // Nothing lost, nothing twice.
    let stored = store.count(&EventQuery::default())?;
    let distinct = store
        .count_by_field(
            &EventQuery::default(),
            &okwatch_query::AttrPath::from_dotted("uuid"),
            total as usize + 1,
        )?
        .len() as u64;
    let expected = total;
    let mut after = Vec::new();
    for (_, query, bucket) in &cases {
        let mut samples = Vec::new();
        for _ in 0..args.runs.max(1) {
            let t = Instant::now();
            run_search(store.as_ref(), query, *bucket)?;
            samples.push(t.elapsed().as_secs_f64() * 1e3);
        }
        after.push(samples);
    }

    let seconds = elapsed.as_secs_f64();
    // The requests okwatch was allowed while it was behind: its share of each minute-long
    // window, over the backfill's duration.
    let allowed = f64::from(args.rate_limit) * args.share * seconds / 60.0;
    println!(
        "## okwatch bench --backfill: {total} events, {} requests/min at a share of {}, {}",
        args.rate_limit,
        args.share,
        Utc::now().format("%Y-%m-%d")
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| backfill | {seconds:.1} s, **{:.0} events/s** |",
        total as f64 / seconds
    );
    println!(
        "| requests | {requests} ({limited} answered 429), {:.1} a minute |",
        requests as f64 * 60.0 / seconds
    );
    println!(
        "| share of the allowed requests used | **{:.0} %** ({requests} of {allowed:.0}) |",
        100.0 * requests as f64 / allowed.max(1.0)
    );
    println!(
        "| stored | {stored} events, {distinct} distinct uuids, the org has {expected}: {} |",
        if stored == expected && distinct == expected {
            "none lost, none twice"
        } else {
            "MISMATCH"
        }
    );
    println!();
    println!("| search | during the backfill (median / p95, n) | after it (median) |");
    println!("|---|---:|---:|");
    for (((name, _, _), d), a) in cases.iter().zip(during.iter_mut()).zip(after.iter_mut()) {
        let n = d.len();
        println!(
            "| {name} | {:.1} / {:.1} ms ({n}) | {:.1} ms |",
            percentile(d, 0.5),
            percentile(d, 0.95),
            percentile(a, 0.5)
        );
    }
    if stored != expected || distinct != expected {
        bail!("okwatch stored {stored} events ({distinct} distinct) of the org's {expected}");
    }
    Ok(EXIT_OK)
}
