//! `okwatch generate`: synthetic activity as NDJSON on standard output.

use crate::cli::GenerateArgs;
use anyhow::{Context, Result};
use okwatch_model::parse_time_bound;
use okwatch_sim::{users_for, Generator};
use std::io::{BufWriter, IsTerminal, Write};

pub fn run(args: &GenerateArgs) -> Result<u8> {
    let now = chrono::Utc::now();
    let end = match &args.end {
        Some(text) => parse_time_bound(text, now)?,
        None => now,
    };
    let users = args
        .users
        .unwrap_or_else(|| users_for(args.events, args.days));
    let generator = Generator::new(args.seed, users);
    let progress = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(args.events);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "generating {bar:40} {human_pos}/{human_len} events, {per_sec}, {eta} left",
            )
            .expect("a valid template"),
        );
        bar
    });
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    for (i, event) in generator.last_events(args.events, end).enumerate() {
        serde_json::to_writer(&mut out, &event)?;
        out.write_all(b"\n")?;
        if i % 10_000 == 0 {
            if let Some(bar) = &progress {
                bar.set_position(i as u64);
            }
        }
    }
    out.flush().context("writing events")?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
        eprintln!(
            "generated {} events for {users} people (seed {})",
            args.events, args.seed
        );
    }
    Ok(super::EXIT_OK)
}
