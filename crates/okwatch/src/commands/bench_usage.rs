//! `okwatch bench --usage`: the SaaS overview over `--events` generated events (the store
//! `--reports` uses) and the generated org's directory, listed six hours before the history's
//! end, with contracts for half its apps: the inventory, one app's numbers, people and trend, one
//! person's page data, renewals and the search box, timed as the server spends them, median of
//! `--runs`.

use super::bench::{history_store, median, END};
use super::EXIT_OK;
use crate::cli::BenchArgs;
use anyhow::Result;
use okwatch_engine::usage::{self, people, renewals};
use okwatch_sim::{users_for, Generator};
use okwatch_store::directory::Directory;
use okwatch_store::{Billing, Contract, Contracts, Store};
use std::path::Path;
use std::time::Instant;

pub fn run(data_dir: &Path, args: &BenchArgs) -> Result<u8> {
    // The same store as `--reports`: one import serves both.
    let store = history_store(data_dir, args)?;
    let end = okwatch_model::parse_timestamp(END).expect("a valid time");
    let generator = Generator::new(args.seed, users_for(args.events, 90));
    let org = generator.org();
    let taken = okwatch_model::format_timestamp(end - chrono::TimeDelta::hours(6));
    store.replace_directory("bench", &org.listing(&taken))?;
    let contracts: Vec<Contract> = org
        .apps
        .iter()
        .step_by(2)
        .enumerate()
        .map(|(i, app)| Contract {
            org: "bench".into(),
            app_id: app.id.clone(),
            licences: Some(org.users.len() as u64),
            price_cents: Some(500 + 100 * i as i64),
            billing: Billing::LicenceMonth,
            currency: "USD".into(),
            renewal: Some(
                (end + chrono::TimeDelta::days(10 * i as i64 + 5))
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
            notice_days: 30,
            owner: None,
            notes: None,
            updated: taken.clone(),
            updated_by: "bench".into(),
        })
        .collect();
    store.put_contracts(&contracts)?;
    let stats = store.stats()?;
    let inventory = usage::inventory(&store, "bench", end)?;
    let busiest = inventory
        .apps
        .iter()
        .filter(|a| a.id != usage::OKTA_APP)
        .max_by_key(|a| a.active_30)
        .expect("the org has apps")
        .clone();
    let someone = org.users[0].id.clone();
    println!(
        "## okwatch bench --usage: {} events (seed {}), {} people, {} apps, {} assignments, median of {} runs\n",
        stats.events,
        args.seed,
        org.users.len(),
        org.apps.len(),
        org.users.iter().map(|u| u.apps.len()).sum::<usize>(),
        args.runs
    );
    println!("| answer | time |");
    println!("|---|---:|");
    let time = |label: &str, work: &mut dyn FnMut() -> Result<()>| -> Result<()> {
        let mut samples = Vec::new();
        for _ in 0..args.runs.max(1) {
            let started = Instant::now();
            work()?;
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        println!("| {label} | {:.0} ms |", median(samples));
        Ok(())
    };
    time(
        "inventory (every app and Okta, spend, savings)",
        &mut || {
            usage::inventory(&store, "bench", end)?;
            Ok(())
        },
    )?;
    time(
        &format!("one app's numbers ({})", busiest.label),
        &mut || {
            usage::app_numbers(&store, "bench", &busiest.id, end)?;
            Ok(())
        },
    )?;
    time(
        &format!("one app's people ({})", busiest.label),
        &mut || {
            usage::app_users(&store, "bench", &busiest.id, end)?;
            Ok(())
        },
    )?;
    time("one app's people per day, 90 days", &mut || {
        usage::daily_active(&store, "bench", &busiest.id, 90, end)?;
        Ok(())
    })?;
    time("one person's apps and groups", &mut || {
        people::person(&store, "bench", &someone, end)?;
        Ok(())
    })?;
    time("renewals within 90 days", &mut || {
        renewals::renewals(&store, None, end, 90)?;
        Ok(())
    })?;
    time("search box: \"an\"", &mut || {
        store.find_in_directory("an", 8)?;
        Ok(())
    })?;
    Ok(EXIT_OK)
}
