//! `okwatch serve`: the stored history over Okta's System Log API, and MCP for assistants.

use super::{api_router, open_store, token_store, EXIT_OK};
use crate::cli::ServeArgs;
use anyhow::Result;
use okwatch_okta::server::Authenticate;
use std::path::Path;
use std::sync::Arc;

pub fn run(data_dir: &Path, args: &ServeArgs) -> Result<u8> {
    let store = Arc::new(open_store(data_dir)?);
    let tokens = token_store(data_dir);
    if tokens.list()?.is_empty() {
        eprintln!(
            "note: there are no API tokens yet; make one with: okwatch token create --name NAME"
        );
    }
    let auth: Arc<dyn Authenticate> = Arc::new(tokens);
    let app = api_router(store, auth, args.public_url.as_deref());
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = super::listen(&args.listen).await?;
        let address = listener.local_addr()?;
        eprintln!("okwatch serve: System Log API at http://{address}/api/v1/logs");
        eprintln!("okwatch serve: MCP (streamable HTTP) at http://{address}/mcp");
        super::serve_until_interrupted(listener, app).await
    })?;
    Ok(EXIT_OK)
}
