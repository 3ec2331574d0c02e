//! `okwatch report`: one report over a period, as text, CSV or JSON, read from the store (or
//! through the running `serve`, which holds it).

use super::{open_reader, EXIT_OK};
use crate::cli::ReportArgs;
use anyhow::{bail, Result};
use okwatch_engine::reports::{catalog, render, run_report, Period};
use okwatch_store::Store;
use std::io::Write;
use std::path::Path;

/// Runs the command.
pub fn run(data_dir: &Path, args: &ReportArgs) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    let Some(name) = &args.name else {
        for spec in catalog::all() {
            writeln!(out, "{:<16} {}", spec.id, spec.description)?;
        }
        return Ok(EXIT_OK);
    };
    let Some(spec) = catalog::find(name) else {
        let names: Vec<&str> = catalog::all().iter().map(|s| s.id).collect();
        bail!("no report `{name}`; the reports are: {}", names.join(", "));
    };
    let store = open_reader(data_dir)?;
    let oldest = if args.since.trim() == "all" {
        store.stats()?.oldest
    } else {
        None
    };
    let period = Period::parse(
        &args.since,
        &args.until,
        chrono::Utc::now(),
        oldest,
        !args.no_compare,
    )?;
    let mut report = run_report(&store, &spec, &period, args.org.as_deref())?;
    okwatch_engine::reports::alerts::attach(&mut report, &store)?;
    match args.format.as_str() {
        "json" => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        "csv" => write!(out, "{}", render::csv(&report))?,
        _ => write!(out, "{}", render::text(&report))?,
    }
    Ok(EXIT_OK)
}
