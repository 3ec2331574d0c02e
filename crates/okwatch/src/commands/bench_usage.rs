//! `okwatch bench --usage`: the SaaS overview over `--events` generated events (the store
//! `--reports` uses) and the generated org's directory, listed six hours before the history's
//! end, with contracts for half its apps: the inventory, one app's numbers, people and trend, one
//! person's page data, renewals and the search box, timed as the server spends them, median of
//! `--runs`.

use super::bench::{generated, import_file, median, END};
use super::{open_store, EXIT_OK};
use crate::cli::BenchArgs;
use anyhow::Result;
use okwatch_engine::usage::{self, people, renewals};
use okwatch_sim::{users_for, Generator};
use okwatch_store::directory::{
    AppAssignment, Directory, DirectoryApp, DirectoryGroup, DirectorySnapshot, DirectoryUser,
};
use okwatch_store::{Billing, Contract, Contracts, Store};
use std::path::Path;
use std::time::Instant;

/// The generated org's directory as a listing would give it.
fn listing(org: &okwatch_sim::Org, taken: &str) -> DirectorySnapshot {
    DirectorySnapshot {
        taken: taken.to_string(),
        users: org
            .users
            .iter()
            .map(|u| DirectoryUser {
                id: u.id.clone(),
                login: u.login.clone(),
                name: u.display_name.clone(),
                email: Some(u.login.clone()),
                status: "ACTIVE".into(),
                department: None,
                created: None,
                last_login: None,
            })
            .collect(),
        groups: org
            .groups
            .iter()
            .map(|g| DirectoryGroup {
                id: g.id.clone(),
                name: g.name.to_string(),
                kind: "OKTA_GROUP".into(),
            })
            .collect(),
        apps: org
            .apps
            .iter()
            .map(|a| DirectoryApp {
                id: a.id.clone(),
                name: a.spec.name.into(),
                label: a.spec.label.into(),
                status: "ACTIVE".into(),
                sign_on_mode: Some(a.spec.protocol.into()),
            })
            .collect(),
        assignments: org
            .users
            .iter()
            .flat_map(|u| {
                u.apps.iter().map(|&a| AppAssignment {
                    app_id: org.apps[a].id.clone(),
                    user_id: u.id.clone(),
                    scope: "USER".into(),
                    assigned: None,
                })
            })
            .collect(),
        memberships: Vec::new(),
    }
    .sorted()
}

pub fn run(data_dir: &Path, args: &BenchArgs) -> Result<u8> {
    let dir = args.dir.clone().unwrap_or_else(|| data_dir.join("bench"));
    let ndjson = generated(&dir, args.events, args.seed)?;
    // The same store as `--reports`: one import serves both.
    let store_dir = dir.join(format!("reports-store-{}-{}", args.events, args.seed));
    let store = open_store(&store_dir)?;
    if store.stats()?.events != args.events {
        drop(store);
        std::fs::remove_dir_all(&store_dir)?;
        import_file(&open_store(&store_dir)?, &ndjson, &dir, args.events)?;
    }
    let store = open_store(&store_dir)?;
    let end = okwatch_model::parse_timestamp(END).expect("a valid time");
    let generator = Generator::new(args.seed, users_for(args.events, 90));
    let org = generator.org();
    let taken = okwatch_model::format_timestamp(end - chrono::TimeDelta::hours(6));
    store.replace_directory("bench", &listing(org, &taken))?;
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
