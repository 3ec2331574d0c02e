//! `okwatch rules`: the shipped detections, and backtests over stored history (through the
//! running `okwatch serve` when it holds the store).

use super::remote::LocalReader;
use super::{EXIT_FAILED, EXIT_OK};
use crate::cli::{BacktestArgs, RulesCommand};
use anyhow::{Context, Result};
use okwatch_engine::rules::sigma::{load_dir, SigmaError, SigmaRule};
use okwatch_engine::rules::{backtest::backtest, pack, Rule};
use okwatch_model::parse_time_bound;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

pub fn run(data_dir: &Path, command: RulesCommand) -> Result<u8> {
    match command {
        RulesCommand::List => {
            let mut out = std::io::stdout().lock();
            for rule in pack::builtin() {
                writeln!(
                    out,
                    "{:<38} {:<8} {}: {}",
                    rule.id,
                    rule.severity.as_str(),
                    rule.name,
                    rule.description
                )?;
            }
            Ok(EXIT_OK)
        }
        RulesCommand::Backtest(args) => run_backtest(data_dir, &args),
        RulesCommand::Validate { paths } => validate(&paths),
    }
}

/// The Sigma rules under `paths`: each file with the rule or why it cannot run.
fn sigma_files(
    paths: &[std::path::PathBuf],
) -> Result<Vec<(std::path::PathBuf, Result<SigmaRule, SigmaError>)>> {
    let mut all = Vec::new();
    for path in paths {
        all.extend(load_dir(path).with_context(|| format!("reading {}", path.display()))?);
    }
    Ok(all)
}

fn validate(paths: &[std::path::PathBuf]) -> Result<u8> {
    let files = sigma_files(paths)?;
    let mut out = std::io::stdout().lock();
    let mut refused = 0;
    for (path, loaded) in &files {
        match loaded {
            Ok(rule) => {
                writeln!(
                    out,
                    "ok       {}  sigma.{}  {} ({})",
                    path.display(),
                    rule.id,
                    rule.title,
                    rule.level
                )?;
                for note in &rule.notes {
                    writeln!(out, "         note: {note}")?;
                }
            }
            Err(e) => {
                refused += 1;
                writeln!(out, "refused  {}  {e}", path.display())?;
            }
        }
    }
    writeln!(
        out,
        "{} rule files: {} load, {refused} refused",
        files.len(),
        files.len() - refused
    )?;
    Ok(if refused == 0 && !files.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

fn run_backtest(data_dir: &Path, args: &BacktestArgs) -> Result<u8> {
    let now = chrono::Utc::now();
    let bound = |name: &str, text: &Option<String>| -> Result<_> {
        text.as_deref()
            .map(|t| parse_time_bound(t, now).with_context(|| format!("--{name} {t}")))
            .transpose()
    };
    let (since, until) = (bound("since", &args.since)?, bound("until", &args.until)?);
    let mut rules: Vec<Rule> = pack::builtin();
    for (path, loaded) in sigma_files(&args.sigma)? {
        match loaded {
            Ok(sigma) => rules.push(sigma.to_rule()),
            Err(e) => {
                eprintln!(
                    "{}: {e} (`okwatch rules validate` checks rule files)",
                    path.display()
                );
                return Ok(EXIT_FAILED);
            }
        }
    }
    if !args.rules.is_empty() {
        let unknown: Vec<&String> = args
            .rules
            .iter()
            .filter(|id| !rules.iter().any(|r| &r.id == *id))
            .collect();
        if !unknown.is_empty() {
            eprintln!(
                "no rule {}; `okwatch rules list` lists them",
                unknown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Ok(EXIT_FAILED);
        }
        rules.retain(|r| args.rules.contains(&r.id));
    }
    let store = LocalReader::new(data_dir);
    let started = Instant::now();
    let alerts = backtest(&store, &rules, since, until)?;
    let mut out = std::io::stdout().lock();
    if args.format == "json" {
        serde_json::to_writer_pretty(&mut out, &alerts)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{:<24}  {:<8}  {:<32}  {:>6}  what",
            "first", "severity", "rule", "events"
        )?;
        for a in &alerts {
            writeln!(
                out,
                "{:<24}  {:<8}  {:<32}  {:>6}  {}",
                a.first,
                a.severity.as_str(),
                a.rule,
                a.events.len(),
                a.explanation
            )?;
        }
    }
    eprintln!(
        "{} alerts from {} rules in {:.1} s",
        alerts.len(),
        rules.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(EXIT_OK)
}
