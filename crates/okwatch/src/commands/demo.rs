//! `okwatch demo`: no configuration, a simulated org's last 30 days in a store of its own, and
//! a short tour of what okwatch answers about it.

use super::{open_store, search, EXIT_OK};
use crate::cli::SearchArgs;
use anyhow::Result;
use chrono::{DurationRound, TimeDelta, Utc};
use clap::Parser;
use okwatch_import::{import, ImportOptions, Source};
use okwatch_sim::Generator;
use okwatch_store::Store;
use std::io::{BufWriter, Write};
use std::path::Path;

#[derive(Parser)]
struct SearchLine {
    #[command(flatten)]
    args: SearchArgs,
}

const USERS: usize = 250;
const DAYS: i64 = 30;

pub fn run(data_dir: &Path) -> Result<u8> {
    let demo_dir = data_dir.join("demo");
    let store = open_store(&demo_dir)?;
    // Whole days, so that running the demo again the same day adds nothing new.
    let end = Utc::now().duration_trunc(TimeDelta::days(1))?;
    let generator = Generator::new(7, USERS);
    let file = demo_dir.join("acme-last-30-days.ndjson");
    {
        let mut out = BufWriter::new(std::fs::File::create(&file)?);
        for event in generator.between(end - TimeDelta::days(DAYS), end) {
            serde_json::to_writer(&mut out, &event)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
    }
    println!(
        "okwatch demo: a simulated Okta org (acme.okta.com, {USERS} people, {} apps)",
        generator.org().apps.len()
    );
    let summary = import(
        &Source::File(file.clone()),
        &store,
        &ImportOptions {
            org: "acme".into(),
            batch_size: 50_000,
            rejects_path: demo_dir.join("rejects.ndjson"),
        },
        |r| eprintln!("{r}"),
        |_| {},
    )?;
    store.checkpoint()?;
    let stats = store.stats()?;
    println!(
        "imported {} events ({} new) covering the last {DAYS} days into {}",
        summary.read,
        summary.stored,
        demo_dir.display()
    );
    println!("the store now holds {} events\n", stats.events);

    let dir = demo_dir.display().to_string();
    let tour: [(&str, Vec<&str>); 4] = [
        (
            "Where failed sign-ins came from this week (top 8 IPs)",
            vec!["--since", "-7d", "--filter", r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#, "--group-by", "client.ipAddress", "--limit", "8"],
        ),
        (
            "The newest failed sign-ins",
            vec!["--filter", r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#, "--limit", "6", "--fields", "published,actor.alternateId,client.ipAddress,client.geographicalContext.country,outcome.reason"],
        ),
        (
            "Sign-ins per day, last 7 days",
            vec!["--since", "-7d", "--filter", r#"eventType eq "user.session.start" and outcome.result eq "SUCCESS""#, "--per", "day"],
        ),
        (
            "What happened this week, by event type",
            vec!["--since", "-7d", "--group-by", "eventType", "--limit", "8"],
        ),
    ];
    let mut stdout = std::io::stdout().lock();
    for (title, args) in tour {
        writeln!(stdout, "## {title}")?;
        let quoted: Vec<String> = args
            .iter()
            .map(|a| {
                if a.contains(' ') {
                    format!("'{a}'")
                } else {
                    a.to_string()
                }
            })
            .collect();
        writeln!(
            stdout,
            "$ okwatch --data-dir {dir} search {}",
            quoted.join(" ")
        )?;
        let mut argv = vec!["search"];
        argv.extend(args);
        let parsed = SearchLine::try_parse_from(argv)?.args;
        search::run(&store, &parsed, &mut stdout)?;
        writeln!(stdout)?;
    }
    writeln!(stdout, "Try your own searches against the demo store:")?;
    writeln!(
        stdout,
        "  okwatch --data-dir {dir} search --q <ip, login or word>"
    )?;
    writeln!(stdout, "  okwatch --data-dir {dir} search --filter 'target.type eq \"AppInstance\"' --format csv > sso.csv")?;
    Ok(EXIT_OK)
}
