//! `okwatch bench`: import speed, store size, and search latency on generated data, compared
//! with DuckDB querying the same NDJSON file directly.

use super::{open_store, search, EXIT_OK};
use crate::cli::{BenchArgs, SearchArgs};
use anyhow::{bail, Context, Result};
use clap::Parser;
use okwatch_import::{import, ImportOptions, Source};
use okwatch_sim::{users_for, Generator};
use okwatch_store::{EventQuery, Store};
use okwatch_store_duckdb::DuckDbStore;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Parses `okwatch search` arguments the way the command line does.
#[derive(Parser)]
struct SearchLine {
    #[command(flatten)]
    args: SearchArgs,
}

struct Case {
    name: &'static str,
    args: Vec<String>,
    /// The same question asked of DuckDB over the raw NDJSON (`{file}` is substituted).
    raw_sql: String,
}

/// The middle of `samples` (the upper one of an even count): what the benchmarks report.
pub(crate) fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

fn time_ms(runs: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f()?;
        samples.push(started.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median(samples))
}

/// The end of the generated history.
pub const END: &str = "2026-11-25T00:00:00Z";

/// The NDJSON file of `events` generated events (seed `seed`) in `dir`, made the first time.
pub fn generated(dir: &Path, events: u64, seed: u64) -> Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let ndjson = dir.join(format!("events-{events}-{seed}.ndjson"));
    let end = okwatch_model::parse_timestamp(END).expect("a valid time");
    if !ndjson.exists() {
        eprintln!("generating {events} events into {}", ndjson.display());
        let started = Instant::now();
        let generator = Generator::new(seed, users_for(events, 90));
        let partial = ndjson.with_extension("partial");
        let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&partial)?);
        for event in generator.last_events(events, end) {
            serde_json::to_writer(&mut out, &event)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        drop(out);
        // Only a whole file gets the name that later runs reuse.
        std::fs::rename(&partial, &ndjson)?;
        eprintln!("generated in {:.1}s", started.elapsed().as_secs_f64());
    }
    Ok(ndjson)
}

/// Imports the generated file into `store`, checking that every event was stored.
/// A store holding `--events` generated events (seed `--seed`), imported the first time and
/// kept in the bench directory for the next run (`--reports` and `--usage` share it).
pub fn history_store(data_dir: &Path, args: &BenchArgs) -> Result<DuckDbStore> {
    let dir = args.dir.clone().unwrap_or_else(|| data_dir.join("bench"));
    let ndjson = generated(&dir, args.events, args.seed)?;
    let store_dir = dir.join(format!("reports-store-{}-{}", args.events, args.seed));
    let store = open_store(&store_dir)?;
    if store.stats()?.events != args.events {
        drop(store);
        std::fs::remove_dir_all(&store_dir)?;
        import_file(&open_store(&store_dir)?, &ndjson, &dir, args.events)?;
    }
    open_store(&store_dir)
}

pub fn import_file(store: &DuckDbStore, ndjson: &Path, dir: &Path, events: u64) -> Result<()> {
    eprintln!("importing {}", ndjson.display());
    let summary = import(
        &Source::File(ndjson.to_path_buf()),
        store,
        &ImportOptions {
            org: "bench".into(),
            batch_size: 50_000,
            rejects_path: dir.join("rejects.ndjson"),
        },
        |r| eprintln!("{r}"),
        |_| {},
    )?;
    store.checkpoint()?;
    if summary.stored != events {
        bail!("stored {} of {events} generated events", summary.stored);
    }
    Ok(())
}

pub fn run(data_dir: &Path, args: &BenchArgs) -> Result<u8> {
    if args.backfill {
        return super::bench_backfill::run(data_dir, args);
    }
    if args.console {
        return super::bench_console::run(data_dir, args);
    }
    if args.detections {
        return super::bench_detections::run(args);
    }
    if args.usage {
        return super::bench_usage::run(data_dir, args);
    }
    if args.reports {
        return super::bench_reports::run(data_dir, args);
    }
    let dir = args.dir.clone().unwrap_or_else(|| data_dir.join("bench"));
    let ndjson = generated(&dir, args.events, args.seed)?;
    let file_bytes = std::fs::metadata(&ndjson)?.len();

    let store_dir = dir.join("store");
    let _ = std::fs::remove_dir_all(&store_dir);
    let store = open_store(&store_dir)?;
    let started = Instant::now();
    import_file(&store, &ndjson, &dir, args.events)?;
    let import_seconds = started.elapsed().as_secs_f64();
    let stats = store.stats()?;
    let bytes = stats.bytes_on_disk.unwrap_or(0);
    eprintln!(
        "imported in {import_seconds:.1}s ({:.0} events/s); store {:.0} MB ({:.0} bytes/event)",
        args.events as f64 / import_seconds,
        bytes as f64 / 1e6,
        bytes as f64 / args.events as f64
    );

    // Pick a realistic user and IP to look for: the most attacked ones.
    let failures = okwatch_query::parse_and_validate(
        r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#,
        okwatch_query::Dialect::Okwatch,
    )?;
    let failed = EventQuery {
        filter: Some(failures),
        ..Default::default()
    };
    let top = |field: &str| -> Result<String> {
        store
            .count_by_field(&failed, &okwatch_query::AttrPath::from_dotted(field), 1)?
            .into_iter()
            .find_map(|(k, _)| k)
            .context("no failed sign-ins to benchmark with")
    };
    let user = top("actor.alternateId")?;
    let ip = top("client.ipAddress")?;
    let since_90d = "2026-08-27T00:00:00Z";
    let fail = r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#;
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let raw_failed = "json_extract_string(json, '$.eventType') = 'user.session.start' AND json_extract_string(json, '$.outcome.result') = 'FAILURE'";
    let cases = vec![
        Case {
            name: "one user's failed sign-ins",
            args: s(&["--filter", &format!(r#"{fail} and actor.alternateId eq "{user}""#), "--limit", "100"]),
            raw_sql: format!("SELECT json FROM read_ndjson_objects('{{file}}') WHERE {raw_failed} AND json_extract_string(json, '$.actor.alternateId') = '{user}' ORDER BY json_extract_string(json, '$.published') DESC LIMIT 100"),
        },
        Case {
            name: "newest 100 failures",
            args: s(&["--filter", r#"outcome.result eq "FAILURE""#, "--limit", "100"]),
            raw_sql: "SELECT json FROM read_ndjson_objects('{file}') WHERE json_extract_string(json, '$.outcome.result') = 'FAILURE' ORDER BY json_extract_string(json, '$.published') DESC LIMIT 100".into(),
        },
        Case {
            name: "daily failed sign-ins over 90 days",
            args: s(&["--filter", fail, "--since", since_90d, "--per", "day"]),
            raw_sql: format!("SELECT date_trunc('day', CAST(json_extract_string(json, '$.published') AS TIMESTAMP)) AS d, count(*) FROM read_ndjson_objects('{{file}}') WHERE {raw_failed} AND json_extract_string(json, '$.published') >= '{since_90d}' GROUP BY d ORDER BY d"),
        },
        Case {
            name: "requestUri sw \"/app/\"",
            args: s(&["--filter", r#"debugContext.debugData.requestUri sw "/app/""#, "--limit", "100"]),
            raw_sql: "SELECT json FROM read_ndjson_objects('{file}') WHERE starts_with(json_extract_string(json, '$.debugContext.debugData.requestUri'), '/app/') ORDER BY json_extract_string(json, '$.published') DESC LIMIT 100".into(),
        },
        Case {
            name: "q on an IP address",
            args: s(&["--q", &ip, "--limit", "100"]),
            raw_sql: format!("SELECT json FROM read_ndjson_objects('{{file}}') WHERE contains(json, '\"{ip}\"') ORDER BY json_extract_string(json, '$.published') DESC LIMIT 100"),
        },
        Case {
            name: "top 10 failing IPs",
            args: s(&["--filter", fail, "--group-by", "client.ipAddress", "--limit", "10"]),
            raw_sql: format!("SELECT json_extract_string(json, '$.client.ipAddress') AS ip, count(*) AS n FROM read_ndjson_objects('{{file}}') WHERE {raw_failed} GROUP BY ip ORDER BY n DESC LIMIT 10"),
        },
    ];

    let argv_of = |case: &Case| -> Vec<String> {
        let mut argv = vec!["search".to_string()];
        argv.extend(case.args.iter().cloned());
        argv
    };
    // Searches in this process, on a read-only store as `okwatch search` opens it.
    drop(store);
    let reader = DuckDbStore::open_read_only(&store_dir.join("okwatch.duckdb"))?;
    let mut in_process_ms = Vec::new();
    for case in &cases {
        let parsed = SearchLine::try_parse_from(argv_of(case))?.args;
        in_process_ms.push(time_ms(args.runs, || {
            search::run(&reader, &parsed, &mut std::io::sink())?;
            Ok(())
        })?);
    }
    drop(reader);

    let exe = std::env::current_exe()?;
    let raw = DuckDbStore::open_in_memory()?;
    let raw_runs = args.runs.clamp(1, 3);
    let mut table = Vec::new();
    for (case, in_process) in cases.iter().zip(in_process_ms) {
        let argv = argv_of(case);
        let command = time_ms(args.runs, || {
            let status = Command::new(&exe)
                .arg("--data-dir")
                .arg(&store_dir)
                .args(&argv)
                .stdout(Stdio::null())
                .status()?;
            if !status.success() {
                bail!("okwatch {} failed", argv.join(" "));
            }
            Ok(())
        })?;
        let sql = case
            .raw_sql
            .replace("{file}", &ndjson.display().to_string());
        let direct = time_ms(raw_runs, || {
            raw.query_text(&sql)?;
            Ok(())
        })?;
        eprintln!("{}: {in_process:.1} ms in process, {command:.1} ms as a command, {direct:.0} ms DuckDB on NDJSON", case.name);
        table.push((case.name, in_process, command, direct));
    }

    println!(
        "## okwatch bench: {} events (seed {}), {}",
        args.events,
        args.seed,
        chrono::Utc::now().format("%Y-%m-%d")
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| NDJSON file | {:.0} MB ({:.0} bytes/event) |",
        file_bytes as f64 / 1e6,
        file_bytes as f64 / args.events as f64
    );
    println!(
        "| import | {:.1} s, {:.0} events/s |",
        import_seconds,
        args.events as f64 / import_seconds
    );
    println!(
        "| store on disk | {:.0} MB, {:.0} bytes/event |",
        bytes as f64 / 1e6,
        bytes as f64 / args.events as f64
    );
    println!();
    println!("| search (median of {} runs; NDJSON: {raw_runs}) | in process | whole `okwatch search` | DuckDB on the NDJSON | speed-up |", args.runs);
    println!("|---|---:|---:|---:|---:|");
    for (name, in_process, command, direct) in table {
        println!(
            "| {name} | {in_process:.1} ms | {command:.1} ms | {direct:.0} ms | {:.0}× |",
            direct / in_process.max(0.001)
        );
    }
    Ok(EXIT_OK)
}
