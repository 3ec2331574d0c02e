//! `okwatch serve`: the stored history over Okta's System Log API.

use super::{open_store, token_store, EXIT_OK};
use crate::cli::ServeArgs;
use anyhow::Result;
use okwatch_okta::server::{logs_router, request_id, Authenticate, LogsState};
use okwatch_okta::{LogsApi, LogsPolicy};
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
    let state = LogsState {
        api: Arc::new(LogsApi::new(store, LogsPolicy::default())),
        public_url: args.public_url.as_deref().map(Arc::from),
    };
    let auth: Arc<dyn Authenticate> = Arc::new(tokens);
    let app = logs_router(state, auth).layer(axum::middleware::from_fn(request_id));
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = super::listen(&args.listen).await?;
        let address = listener.local_addr()?;
        eprintln!("okwatch serve: System Log API at http://{address}/api/v1/logs");
        super::serve_until_interrupted(listener, app).await
    })?;
    Ok(EXIT_OK)
}
