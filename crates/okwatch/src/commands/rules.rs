//! `okwatch rules`: the rules (shipped, tuned, people's own, Sigma) listed, checked, imported
//! and exported as files, and backtests over stored history. Reading goes through the running
//! `okwatch serve` when it holds the store; so does an import, over its rules API.

use super::remote::LocalReader;
use super::{local, open_store, EXIT_FAILED, EXIT_OK};
use crate::cli::{BacktestArgs, RulesCommand};
use anyhow::{bail, Context, Result};
use okwatch_engine::rules::catalog::{self, Catalog, Origin};
use okwatch_engine::rules::definition::{read_files, FileRule};
use okwatch_engine::rules::{backtest::backtest, Rule};
use okwatch_model::parse_time_bound;
use okwatch_store::StoreError;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub fn run(data_dir: &Path, command: RulesCommand) -> Result<u8> {
    match command {
        RulesCommand::List { format } => list(data_dir, &format),
        RulesCommand::Backtest(args) => run_backtest(data_dir, &args),
        RulesCommand::Validate { paths } => validate(&paths),
        RulesCommand::Import { paths } => import(data_dir, &paths),
        RulesCommand::Export {
            dir,
            rules,
            changed,
        } => export(data_dir, dir.as_deref(), &rules, changed),
    }
}

fn catalog_of(data_dir: &Path) -> Result<Catalog> {
    Ok(Catalog::load(&LocalReader::new(data_dir))?)
}

fn list(data_dir: &Path, format: &str) -> Result<u8> {
    let catalog = catalog_of(data_dir)?;
    let mut out = std::io::stdout().lock();
    if format == "json" {
        let rules: Vec<serde_json::Value> = catalog
            .entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "id": e.rule.id, "name": e.rule.name, "severity": e.rule.severity,
                    "origin": e.origin, "enabled": e.rule.enabled,
                    "condition": e.rule.condition_words(), "description": e.rule.description,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &rules)?;
        writeln!(out)?;
    } else {
        for e in &catalog.entries {
            writeln!(
                out,
                "{:<3} {:<44} {:<8} {:<7} {}: {}",
                if e.rule.enabled { "on" } else { "off" },
                e.rule.id,
                e.rule.severity.as_str(),
                e.origin.as_str(),
                e.rule.name,
                e.rule.condition_words()
            )?;
        }
    }
    for broken in &catalog.broken {
        eprintln!(
            "{}: stored, but does not read and does not run: {}",
            broken.record.id, broken.error
        );
    }
    Ok(EXIT_OK)
}

/// `path:line`, or just the path for a file's first document.
fn place(rule: &FileRule) -> String {
    if rule.line > 1 {
        format!("{}:{}", rule.path.display(), rule.line)
    } else {
        rule.path.display().to_string()
    }
}

/// Prints each rule read from `paths` as loading or refused; the rules, or `None` if any was
/// refused or there were none.
fn checked(paths: &[PathBuf], out: &mut impl Write) -> Result<Option<Vec<FileRule>>> {
    let rules = read_files(paths)?;
    let mut refused = 0;
    for rule in &rules {
        match &rule.parsed {
            Ok(parsed) => {
                writeln!(
                    out,
                    "ok       {}  {}  {} ({})",
                    place(rule),
                    parsed.rule.id,
                    parsed.rule.name,
                    parsed.rule.severity.as_str()
                )?;
                for note in &parsed.notes {
                    writeln!(out, "         note: {note}")?;
                }
            }
            Err(e) => {
                refused += 1;
                writeln!(out, "refused  {}  {e}", place(rule))?;
            }
        }
    }
    let mut ids: Vec<&str> = rules
        .iter()
        .filter_map(|r| r.parsed.as_ref().ok())
        .map(|p| p.rule.id.as_str())
        .collect();
    ids.sort_unstable();
    let twice: Vec<&str> = ids
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    for id in &twice {
        refused += 1;
        writeln!(out, "refused  {id}: defined more than once")?;
    }
    writeln!(
        out,
        "{} rules: {} load, {refused} refused",
        rules.len(),
        rules.len().saturating_sub(refused)
    )?;
    Ok((refused == 0 && !rules.is_empty()).then_some(rules))
}

fn validate(paths: &[PathBuf]) -> Result<u8> {
    let loaded = checked(paths, &mut std::io::stdout().lock())?;
    Ok(if loaded.is_some() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

fn who() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .map_or_else(
            || "okwatch rules import".into(),
            |u| format!("{u} (okwatch rules import)"),
        )
}

fn import(data_dir: &Path, paths: &[PathBuf]) -> Result<u8> {
    let mut out = std::io::stdout().lock();
    let Some(rules) = checked(paths, &mut out)? else {
        writeln!(out, "nothing imported: fix the refused rules first")?;
        return Ok(EXIT_FAILED);
    };
    match open_store(data_dir) {
        Ok(store) => {
            for rule in &rules {
                catalog::save(&store, &rule.text, None, &who())
                    .with_context(|| format!("saving {}", place(rule)))?;
            }
        }
        Err(e)
            if matches!(
                e.downcast_ref::<StoreError>(),
                Some(StoreError::Busy { .. })
            ) =>
        {
            let Some(server) = local::read(data_dir) else {
                return Err(e);
            };
            import_through(&server, &rules)?;
        }
        Err(e) => return Err(e),
    }
    writeln!(out, "imported {} rules", rules.len())?;
    Ok(EXIT_OK)
}

/// Sends each rule to the running server's rules API.
fn import_through(server: &local::LocalServer, rules: &[FileRule]) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = okwatch_collect::http::client(std::time::Duration::from_secs(60))?;
    runtime.block_on(async {
        for rule in rules {
            let id = &rule.parsed.as_ref().expect("checked").rule.id;
            let url = format!(
                "{}{}/rules/{}",
                server.url,
                okwatch_web::rest::BASE,
                percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
            );
            let response = client
                .put(&url)
                .bearer_auth(&server.token)
                .header(reqwest::header::CONTENT_TYPE, "application/yaml")
                .body(rule.text.clone())
                .send()
                .await
                .with_context(|| format!("okwatch serve (pid {}) did not answer", server.pid))?;
            if !response.status().is_success() {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                bail!("okwatch serve refused {}: {status} {body}", place(rule));
            }
        }
        Ok(())
    })
}

fn export(data_dir: &Path, dir: Option<&Path>, only: &[String], changed: bool) -> Result<u8> {
    let catalog = catalog_of(data_dir)?;
    if let Some(unknown) = only.iter().find(|id| catalog.get(id).is_none()) {
        eprintln!("no rule {unknown}; `okwatch rules list` lists them");
        return Ok(EXIT_FAILED);
    }
    let chosen = catalog.entries.iter().filter(|e| {
        (only.is_empty() || only.contains(&e.rule.id)) && !(changed && e.origin == Origin::Shipped)
    });
    let mut written = 0;
    let mut out = std::io::stdout().lock();
    for entry in chosen {
        // A Sigma rule is kept as it was written; okwatch's own carry their switch.
        let text = match entry.origin {
            Origin::Sigma => entry.source.clone(),
            _ => okwatch_engine::rules::definition::to_yaml(&entry.rule),
        };
        match dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let path = dir.join(format!("{}.yml", entry.rule.id));
                std::fs::write(&path, &text)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            None => write!(out, "---\n{text}")?,
        }
        written += 1;
    }
    eprintln!(
        "exported {written} rules{}",
        dir.map_or(String::new(), |d| format!(" to {}", d.display()))
    );
    Ok(EXIT_OK)
}

fn run_backtest(data_dir: &Path, args: &BacktestArgs) -> Result<u8> {
    let now = chrono::Utc::now();
    let bound = |name: &str, text: &Option<String>| -> Result<_> {
        text.as_deref()
            .map(|t| parse_time_bound(t, now).with_context(|| format!("--{name} {t}")))
            .transpose()
    };
    let (since, until) = (bound("since", &args.since)?, bound("until", &args.until)?);
    let catalog = catalog_of(data_dir)?;
    let mut rules: Vec<Rule> = catalog.rules();
    for file in read_files(&args.files)? {
        let at = place(&file);
        match file.parsed {
            Ok(parsed) => {
                rules.retain(|r| r.id != parsed.rule.id);
                rules.push(parsed.rule);
            }
            Err(e) => {
                eprintln!("{at}: {e} (`okwatch rules validate` checks rule files)");
                return Ok(EXIT_FAILED);
            }
        }
    }
    if args.rules.is_empty() {
        // What runs: the switched-on rules and every rule from --file.
        let from_files: Vec<String> = rules
            .iter()
            .filter(|r| catalog.get(&r.id).is_none())
            .map(|r| r.id.clone())
            .collect();
        rules.retain(|r| r.enabled || from_files.contains(&r.id));
    } else {
        let unknown: Vec<&str> = args
            .rules
            .iter()
            .filter(|id| !rules.iter().any(|r| &r.id == *id))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            eprintln!(
                "no rule {}; `okwatch rules list` lists them",
                unknown.join(", ")
            );
            return Ok(EXIT_FAILED);
        }
        rules.retain(|r| args.rules.contains(&r.id));
    }
    for rule in &mut rules {
        rule.enabled = true;
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
