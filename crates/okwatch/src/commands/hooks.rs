//! `okwatch hooks`: okwatch's Event Hook in an org, through Okta's Event Hooks API.

use super::EXIT_OK;
use crate::cli::HooksCommand;
use crate::config::OrgConfig;
use anyhow::{anyhow, bail, Result};
use okwatch_collect::hooks::HookAdmin;
use std::path::Path;

fn org_of(config: &Path, name: &str) -> Result<OrgConfig> {
    let config = crate::config::load(config)?;
    let known: Vec<String> = config.orgs.iter().map(|o| o.name.clone()).collect();
    config
        .orgs
        .into_iter()
        .find(|o| o.name == name)
        .ok_or_else(|| {
            anyhow!(
                "no org `{name}` in the configuration (it has: {})",
                known.join(", ")
            )
        })
}

pub fn run(command: HooksCommand) -> Result<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match command {
        HooksCommand::Register { config, org, url } => {
            let org = org_of(&config, &org)?;
            let Some(secret) = &org.hook_secret else {
                bail!(
                    "org `{}` has no hook secret: set hook_secret_env (or hook_secret_file) in the configuration; okwatch serve refuses deliveries without it",
                    org.name
                );
            };
            if !url.ends_with(&format!("/hooks/okta/{}", org.name)) {
                bail!("--url must end with /hooks/okta/{} (where okwatch serve receives this org's deliveries)", org.name);
            }
            let admin = HookAdmin::new(&org.url, org.credentials.clone())?;
            let hook = runtime.block_on(admin.register(&url, secret))?;
            println!(
                "registered Event Hook {} in {}: {} {} delivering {} event types to {}",
                hook.id,
                org.url,
                hook.status,
                hook.verification,
                okwatch_collect::hooks::HOOK_EVENT_TYPES.len(),
                hook.uri
            );
        }
        HooksCommand::List { config, org } => {
            let org = org_of(&config, &org)?;
            let admin = HookAdmin::new(&org.url, org.credentials.clone())?;
            let hooks = runtime.block_on(admin.list())?;
            if hooks.is_empty() {
                eprintln!("{} has no Event Hooks", org.url);
            }
            for hook in hooks {
                println!(
                    "{}  {}  {} {}  {}",
                    hook.id, hook.name, hook.status, hook.verification, hook.uri
                );
            }
        }
        HooksCommand::Remove { config, org, id } => {
            let org = org_of(&config, &org)?;
            let admin = HookAdmin::new(&org.url, org.credentials.clone())?;
            runtime.block_on(admin.remove(&id))?;
            println!("removed Event Hook {id} from {}", org.url);
        }
    }
    Ok(EXIT_OK)
}
