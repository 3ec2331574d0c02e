//! `okwatch token`: API tokens for `okwatch serve`.

use super::{token_store, EXIT_FAILED, EXIT_OK};
use crate::cli::TokenCommand;
use anyhow::Result;
use std::path::Path;

pub fn run(data_dir: &Path, command: TokenCommand) -> Result<u8> {
    let tokens = token_store(data_dir);
    match command {
        TokenCommand::Create { name } => {
            let (info, secret) = tokens.create(&name)?;
            eprintln!(
                "created token {} ({name}); it is shown once, okwatch keeps only its hash:",
                info.id
            );
            println!("{secret}");
            eprintln!("use it as: Authorization: SSWS {secret}");
        }
        TokenCommand::List => {
            let list = tokens.list()?;
            if list.is_empty() {
                eprintln!("no tokens; make one with: okwatch token create --name NAME");
            }
            for t in list {
                println!("{}  {}…  {}  {}", t.id, t.prefix, t.created, t.name);
            }
        }
        TokenCommand::Revoke { id_or_name } => {
            if !tokens.revoke(&id_or_name)? {
                eprintln!("no token with id or name {id_or_name:?}");
                return Ok(EXIT_FAILED);
            }
            eprintln!("revoked {id_or_name}");
        }
    }
    Ok(EXIT_OK)
}
