//! One module per command. Each turns typed arguments into calls on the library crates.

mod bench;
mod bench_backfill;
mod bench_console;
mod bench_detections;
mod bench_reports;
mod bench_usage;
mod config;
mod demo;
mod demo_contracts;
mod generate;
mod hooks;
mod import;
pub mod local;
mod mcp;
pub mod remote;
mod remote_usage;
mod report;
mod rules;
pub mod search;
mod serve;
mod sim;
mod status;
mod token;

use crate::cli::{Cli, Command};
use anyhow::{Context, Result};
use okwatch_model::{format_timestamp, parse_time_bound};
use okwatch_store::Store;
use okwatch_store_duckdb::DuckDbStore;
use std::path::{Path, PathBuf};

/// Exit status: everything worked.
pub const EXIT_OK: u8 = 0;
/// Exit status: the command failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: an import finished but rejected some lines.
pub const EXIT_REJECTED: u8 = 3;

/// Runs the parsed command; returns the exit status.
pub fn run(cli: Cli) -> Result<u8> {
    let data_dir_arg = cli.data_dir.clone();
    let data_dir = cli.data_dir.unwrap_or_else(default_data_dir);
    match cli.command {
        Command::Import(args) => import::run(&data_dir, &args),
        Command::Search(args) => {
            // A mistyped filter is reported before anything else, store or not.
            search::build_query(&args)?;
            search::run(
                &open_reader(&data_dir)?,
                &args,
                &mut std::io::stdout().lock(),
            )
        }
        Command::Generate(args) => generate::run(&args),
        Command::Purge(args) => {
            let cutoff = parse_time_bound(&args.before, chrono::Utc::now())?;
            let deleted = open_store(&data_dir)?.purge_before(cutoff)?;
            println!(
                "deleted {deleted} events published before {}",
                format_timestamp(cutoff)
            );
            Ok(EXIT_OK)
        }
        Command::Stats => {
            let stats = open_reader(&data_dir)?.stats()?;
            println!("store      {}", store_path(&data_dir).display());
            println!("events     {}", stats.events);
            let span = |t: Option<okwatch_model::Timestamp>| {
                t.map(format_timestamp).unwrap_or_else(|| "-".into())
            };
            println!("oldest     {}", span(stats.oldest));
            println!("newest     {}", span(stats.newest));
            for org in &stats.orgs {
                println!(
                    "org        {}: {} events, newest {}, last stored {}",
                    org.org,
                    org.events,
                    span(org.newest),
                    span(org.last_stored)
                );
            }
            if let Some(bytes) = stats.bytes_on_disk {
                let per_event = bytes.checked_div(stats.events).unwrap_or(0);
                println!(
                    "on disk    {:.1} MB ({per_event} bytes per event)",
                    bytes as f64 / 1e6
                );
            }
            Ok(EXIT_OK)
        }
        Command::Bench(args) => bench::run(&data_dir, &args),
        Command::Demo(args) => demo::run(&data_dir, &args),
        // The configuration file may name the data directory too.
        Command::Serve(args) => serve::run(data_dir_arg, &args),
        Command::Status(args) => status::run(&data_dir, &args),
        Command::Config(command) => config::run(command),
        Command::Hooks(command) => hooks::run(command),
        Command::Mcp => mcp::run(&data_dir),
        Command::Sim(args) => sim::run(&args),
        Command::Token(command) => token::run(&data_dir, command),
        Command::Rules(command) => rules::run(&data_dir, command),
        Command::Report(args) => report::run(&data_dir, &args),
    }
}

/// `$XDG_DATA_HOME/okwatch`, else `~/.local/share/okwatch`, else `./okwatch-data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("okwatch");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/okwatch"),
        None => PathBuf::from("okwatch-data"),
    }
}

/// A listener on `address`, or an error that names the address.
pub async fn listen(address: &str) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening on {address}"))
}

/// Serves `app` on `listener` until Ctrl-C, then lets requests in flight finish.
pub async fn serve_until_interrupted(
    listener: tokio::net::TcpListener,
    app: axum::Router,
) -> Result<()> {
    serve_until_signal(listener, app).await
}

/// Serves `app` on `listener` until Ctrl-C or SIGTERM, then lets requests in flight finish.
pub async fn serve_until_signal(
    listener: tokio::net::TcpListener,
    app: axum::Router,
) -> Result<()> {
    crate::http::serve(listener, app, stop_signal())
        .await
        .context("serving")
}

/// Resolves at Ctrl-C (SIGINT) or SIGTERM (what `systemctl stop` and `docker stop` send).
pub async fn stop_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}

/// The API tokens of `okwatch serve`.
pub fn token_store(data_dir: &Path) -> okwatch_okta::TokenStore {
    okwatch_okta::TokenStore::new(data_dir.join("tokens.json"))
}

pub fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join("okwatch.duckdb")
}

/// Opens the store in `data_dir` for reading only, so that searches can run side by side. A
/// store another okwatch is writing is refused with a message that says so
/// ([`okwatch_store::StoreError::Busy`]).
pub fn open_reader(data_dir: &Path) -> Result<remote::LocalReader> {
    Ok(remote::LocalReader::new(data_dir))
}

/// Opens the store in `data_dir`, creating the directory if needed.
pub fn open_store(data_dir: &Path) -> Result<DuckDbStore> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    // The store, tokens and serve.json inside are the org's: for their owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700)) {
            tracing::warn!("cannot make {} owner-only: {e}", data_dir.display());
        }
    }
    Ok(DuckDbStore::open(&store_path(data_dir))?)
}
