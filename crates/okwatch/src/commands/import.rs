//! `okwatch import`.

use super::{open_store, EXIT_OK, EXIT_REJECTED};
use crate::cli::ImportArgs;
use anyhow::{Context, Result};
use okwatch_import::{import, rejects_path_for, ImportOptions, Source};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;

/// Rejections printed to the terminal before the rest go only to the rejects file.
const SHOWN_REJECTIONS: u64 = 20;

pub fn run(data_dir: &Path, args: &ImportArgs) -> Result<u8> {
    let store = open_store(data_dir)?;
    let mut any_rejected = false;
    for file in &args.files {
        let source = Source::from_arg(file);
        let options = ImportOptions {
            org: args.org.clone(),
            batch_size: args.batch_size,
            rejects_path: rejects_path_for(data_dir, &source),
        };
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} {bar:40} {binary_bytes}/{binary_total_bytes} ({eta} left)",
                )
                .expect("a valid template"),
            );
            bar.set_message(source.name());
            bar
        });
        let started = Instant::now();
        let mut shown = 0;
        let summary = import(
            &source,
            &store,
            &options,
            |rejection| {
                shown += 1;
                if shown <= SHOWN_REJECTIONS {
                    match &bar {
                        Some(bar) => bar.println(rejection.to_string()),
                        None => eprintln!("{rejection}"),
                    }
                }
            },
            |progress| {
                if let Some(bar) = &bar {
                    if let Some(total) = progress.bytes_total {
                        bar.set_length(total);
                    }
                    bar.set_position(progress.bytes_read);
                }
            },
        )
        .with_context(|| format!("importing {}", source.name()))?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{}: read {}, stored {}, duplicates {}, rejected {} in {:.1}s ({:.0} events/s)",
            source.name(),
            summary.read,
            summary.stored,
            summary.duplicates,
            summary.rejected,
            seconds,
            summary.read as f64 / seconds.max(1e-9),
        );
        if let Some(path) = &summary.rejects_file {
            any_rejected = true;
            if summary.rejected > SHOWN_REJECTIONS {
                eprintln!(
                    "({} more rejections not shown)",
                    summary.rejected - SHOWN_REJECTIONS
                );
            }
            eprintln!("rejected lines are kept in {}", path.display());
        }
    }
    store.checkpoint()?;
    Ok(if any_rejected { EXIT_REJECTED } else { EXIT_OK })
}
