//! `okwatch bench --console`: the web console over `--events` generated events. The console
//! runs in this process on a loopback port, as `serve` runs it; a signed-in client asks for the
//! explorer's first page (results, total, count graph, field statistics), the map and the JSON
//! API's search, and reports each page's own server time (the explorer prints it) and the whole
//! request's. Then an export of every event as CSV: rows per second, and how far the process's
//! memory rose while it streamed.

use super::bench::{generated, import_file, median, END};
use super::{open_store, EXIT_OK};
use crate::cli::BenchArgs;
use anyhow::{bail, Context, Result};
use okwatch_store::Store;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench-console-password";

/// The process's resident memory now, in bytes (Linux).
fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

pub fn run(data_dir: &Path, args: &BenchArgs) -> Result<u8> {
    let dir = args.dir.clone().unwrap_or_else(|| data_dir.join("bench"));
    let ndjson = generated(&dir, args.events, args.seed)?;
    let store_dir = dir.join(format!("console-store-{}-{}", args.events, args.seed));
    let store = Arc::new(open_store(&store_dir)?);
    if store.stats()?.events != args.events {
        drop(store);
        std::fs::remove_dir_all(&store_dir)?;
        import_file(&open_store(&store_dir)?, &ndjson, &dir, args.events)?;
    }
    let store = Arc::new(open_store(&store_dir)?);
    okwatch_web::auth::set_user(
        store.as_ref(),
        "admin",
        okwatch_web::auth::Role::Admin,
        PASSWORD,
    )?;
    let runtime = tokio::runtime::Runtime::new()?;
    let base = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let app = okwatch_web::router(
            okwatch_web::WebState::new(store.clone(), false),
            axum::Router::new(),
        );
        tokio::spawn(crate::http::serve(listener, app, std::future::pending()));
        Ok::<_, anyhow::Error>(format!("http://{address}"))
    })?;
    let client = okwatch_collect::http::client(Duration::from_secs(600))?;
    let cookie = runtime.block_on(sign_in(&base))?;

    // The generated history ends at END: "the last 7 days" are the 7 days before it.
    let end = okwatch_model::parse_timestamp(END).expect("a valid time");
    let week = format!(
        "since={}&until={}",
        okwatch_model::format_timestamp(end - chrono::TimeDelta::days(7)),
        okwatch_model::format_timestamp(end)
    );
    let failures = "filter=outcome.result%20eq%20%22FAILURE%22";
    let pages: Vec<(String, String)> = vec![
        ("explorer, last 7 days".into(), format!("/?{week}")),
        ("explorer, all history".into(), "/?since=all".into()),
        (
            "explorer, last 7 days, failures".into(),
            format!("/?{week}&{failures}"),
        ),
        (
            "explorer, all history, q=FAILURE".into(),
            "/?since=all&q=FAILURE".into(),
        ),
        ("map, all history".into(), "/map?since=all".into()),
        (
            "API search, last 7 days, 100 events".into(),
            format!("/api/okwatch/v1/events?{week}&limit=100"),
        ),
        (
            "API search, all history, failures, 100 events".into(),
            format!("/api/okwatch/v1/events?since=all&{failures}&limit=100"),
        ),
    ];
    println!(
        "## okwatch bench --console: {} events (seed {}), median of {} runs\n",
        args.events, args.seed, args.runs
    );
    println!("| page | server time | whole request |");
    println!("|---|---:|---:|");
    for (name, path) in &pages {
        let mut server = Vec::new();
        let mut whole = Vec::new();
        for _ in 0..args.runs {
            let started = Instant::now();
            let body = runtime.block_on(get(&client, &base, path, &cookie))?;
            whole.push(started.elapsed().as_secs_f64() * 1000.0);
            // The explorer says how long its queries took: "(NN ms)".
            if let Some(ms) = body
                .split("<span class=\"muted\">(")
                .nth(1)
                .and_then(|rest| rest.split(" ms)").next())
                .and_then(|n| n.parse::<f64>().ok())
            {
                server.push(ms);
            }
        }
        let server = if server.is_empty() {
            "–".to_string()
        } else {
            format!("{:.0} ms", median(server))
        };
        println!("| {name} | {server} | {:.0} ms |", median(whole));
    }

    // Export everything as CSV, sampling this process's memory while it streams.
    let baseline = resident_bytes();
    let peak = Arc::new(AtomicU64::new(baseline));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(resident_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let started = Instant::now();
    let (rows, bytes) = runtime.block_on(export(&client, &base, &cookie))?;
    let seconds = started.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    if rows != args.events {
        bail!("the export held {rows} rows, not {}", args.events);
    }
    let rise = peak.load(Ordering::Relaxed).saturating_sub(baseline);
    println!(
        "\nexport, all history as CSV: {rows} rows, {:.0} MB in {seconds:.1} s: {:.0} rows/s; \
         resident memory rose by at most {:.0} MB while streaming (from {:.0} MB)",
        bytes as f64 / 1e6,
        rows as f64 / seconds,
        rise as f64 / 1e6,
        baseline as f64 / 1e6
    );
    Ok(EXIT_OK)
}

async fn sign_in(base: &str) -> Result<String> {
    // Not following the redirect: the session cookie is on the sign-in's own answer.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    // The form's page first: its token, in the page and in a cookie.
    let page = client.get(format!("{base}/login")).send().await?;
    let form_cookie = page
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("the sign-in page set no cookie")?
        .to_string();
    let text = page.text().await?;
    let csrf = text
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("the sign-in form has no token")?;
    let reply = client
        .post(format!("{base}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", form_cookie)
        .body(format!(
            "name=admin&password={PASSWORD}&next=%2F&csrf={csrf}"
        ))
        .send()
        .await?;
    let cookie = reply
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("signing in to the console gave no session")?;
    Ok(cookie.to_string())
}

async fn get(client: &reqwest::Client, base: &str, path: &str, cookie: &str) -> Result<String> {
    let reply = client
        .get(format!("{base}{path}"))
        .header("cookie", cookie)
        .send()
        .await?;
    if !reply.status().is_success() {
        bail!("{path}: {}", reply.status());
    }
    Ok(reply.text().await?)
}

/// Streams `/export.csv?since=all`; the data rows and bytes received.
async fn export(client: &reqwest::Client, base: &str, cookie: &str) -> Result<(u64, u64)> {
    let mut reply = client
        .get(format!("{base}/export.csv?since=all"))
        .header("cookie", cookie)
        .send()
        .await?;
    let (mut lines, mut bytes) = (0u64, 0u64);
    while let Some(chunk) = reply.chunk().await? {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
    }
    // The header line is not a row.
    Ok((lines.saturating_sub(1), bytes))
}
