//! `okwatch bench --reports`: every shipped report over `--events` generated events, over the
//! last 90 days and over all history, timed as the server spends it (`run_report`, which the
//! console, the API, MCP and the CLI all call), median of `--runs`.

use super::bench::{history_store, median, END};
use super::EXIT_OK;
use crate::cli::BenchArgs;
use anyhow::Result;
use okwatch_engine::reports::{catalog, run_report, Period};
use okwatch_store::Store;
use std::path::Path;
use std::time::Instant;

pub fn run(data_dir: &Path, args: &BenchArgs) -> Result<u8> {
    let store = history_store(data_dir, args)?;
    let stats = store.stats()?;
    let end = okwatch_model::parse_timestamp(END).expect("a valid time");
    let periods = [
        (
            "last 90 days",
            Period::new(end - chrono::TimeDelta::days(90), end, true)?,
        ),
        (
            "all history",
            Period::parse("all", "", end, stats.oldest, false)?,
        ),
    ];
    println!(
        "## okwatch bench --reports: {} events (seed {}, {} to {}), median of {} runs\n",
        stats.events,
        args.seed,
        stats
            .oldest
            .map(okwatch_model::format_timestamp)
            .unwrap_or_default(),
        stats
            .newest
            .map(okwatch_model::format_timestamp)
            .unwrap_or_default(),
        args.runs
    );
    println!("| report | last 90 days (with the 90 before) | all history |");
    println!("|---|---:|---:|");
    let mut slowest: f64 = 0.0;
    for spec in catalog::all() {
        let mut cells = Vec::new();
        for (_, period) in &periods {
            let mut samples = Vec::new();
            for _ in 0..args.runs.max(1) {
                let started = Instant::now();
                run_report(&store, &spec, period, None)?;
                samples.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            let ms = median(samples);
            slowest = slowest.max(ms);
            cells.push(format!("{ms:.0} ms"));
        }
        println!("| {} | {} |", spec.title, cells.join(" | "));
    }
    println!("\nslowest: {slowest:.0} ms (goal: at most 500 ms each)");
    Ok(EXIT_OK)
}
