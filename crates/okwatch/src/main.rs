//! The `okwatch` binary: parses the command line, runs one command, maps the outcome to an
//! exit status. Everything else lives in the library crates and in `commands`.

mod api;
mod cli;
mod commands;
mod config;
mod detections;
mod http;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OKWATCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(commands::EXIT_FAILED)
        }
    }
}
