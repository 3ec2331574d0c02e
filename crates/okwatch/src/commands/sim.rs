//! `okwatch sim`: a simulated Okta org over HTTP.

use super::EXIT_OK;
use crate::cli::SimArgs;
use anyhow::{Context, Result};
use okwatch_sim::incidents::IncidentKind;
use okwatch_sim::server::oauth::ServiceApp;
use okwatch_sim::server::{SimConfig, Simulator};
use std::sync::Arc;

/// Builds the simulator from the command line (also used by `okwatch demo`).
pub fn simulator(args: &SimArgs) -> Result<Arc<Simulator>> {
    let faults = args.faults.parse()?;
    let incidents = IncidentKind::parse_list(&args.incidents).map_err(anyhow::Error::msg)?;
    let token = args
        .token
        .clone()
        .unwrap_or_else(|| format!("sim_{}", okwatch_okta::random::base62(32)));
    let mut service_apps = Vec::new();
    if let (Some(client_id), Some(path)) = (&args.oauth_client_id, &args.oauth_public_key) {
        let key =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut app = ServiceApp::new(client_id, &key)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        app.require_dpop = args.oauth_dpop;
        service_apps.push(app);
    }
    Ok(Simulator::new(SimConfig {
        seed: args.seed,
        users: args.users,
        days: args.days,
        events_per_minute: args.rate,
        token,
        rate_limit: args.rate_limit,
        faults,
        incidents,
        service_apps,
    })?)
}

/// Writes the ground truth of what the simulator planted, one JSON object a line.
pub fn write_ground_truth(sim: &Simulator, path: &std::path::Path) -> Result<()> {
    let mut text = String::new();
    for truth in sim.ground_truth() {
        text.push_str(&serde_json::to_string(truth)?);
        text.push('\n');
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

pub fn run(args: &SimArgs) -> Result<u8> {
    let started = std::time::Instant::now();
    let sim = simulator(args)?;
    if let Some(path) = &args.ground_truth {
        write_ground_truth(&sim, path)?;
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = super::listen(&args.listen).await?;
        let address = listener.local_addr()?;
        let org = sim.org();
        eprintln!(
            "okwatch sim: {} ({} people, {} apps, {} groups), {} days of history in {:.1}s",
            org.domain,
            org.users.len(),
            org.apps.len(),
            org.groups.len(),
            args.days,
            started.elapsed().as_secs_f64()
        );
        eprintln!(
            "  Okta API at http://{address}/api/v1/  (System Log, users, groups, apps, eventHooks)"
        );
        eprintln!("  token: {}", sim.token());
        if let Some(client_id) = &args.oauth_client_id {
            eprintln!(
                "  OAuth service app {client_id}{}: tokens at http://{address}/oauth2/v1/token",
                if args.oauth_dpop {
                    " (DPoP required)"
                } else {
                    ""
                }
            );
        }
        for truth in sim.ground_truth() {
            eprintln!("  planted {truth}");
        }
        eprintln!(
            "  try:   curl -H 'Authorization: SSWS {}' 'http://{address}/api/v1/logs?limit=5'",
            sim.token()
        );
        tokio::spawn(sim.clone().run());
        super::serve_until_interrupted(listener, sim.router()).await
    })?;
    Ok(EXIT_OK)
}
