//! `okwatch config check`: every problem in a configuration file, or what it configures.

use super::{EXIT_FAILED, EXIT_OK};
use crate::cli::ConfigCommand;
use anyhow::Result;

pub fn run(command: ConfigCommand) -> Result<u8> {
    let ConfigCommand::Check { config } = command;
    match crate::config::load(&config) {
        Ok(parsed) => {
            println!("{}: no problems", config.display());
            if let Some(listen) = &parsed.listen {
                println!("  listen    {listen}");
            }
            if let Some(dir) = &parsed.data_dir {
                println!("  data_dir  {}", dir.display());
            }
            for org in &parsed.orgs {
                println!(
                    "  org       {}: {} (credentials from {}, backfill from {}, {:.0}% of the rate limit, polling every {:?}{})",
                    org.name,
                    org.url,
                    org.credentials_source,
                    org.backfill_since,
                    org.rate_limit_share * 100.0,
                    org.poll_interval,
                    if org.hook_secret.is_some() { ", Event Hook secret set" } else { "" }
                );
            }
            Ok(EXIT_OK)
        }
        Err(e) => {
            eprint!("{e}");
            Ok(EXIT_FAILED)
        }
    }
}
