//! okwatch over the Model Context Protocol, so AI assistants can answer questions about Okta
//! activity from the stored System Log.
//!
//! One server type, [`OkwatchMcp`], serves both transports: stdio for desktop assistants
//! (`okwatch mcp`) and streamable HTTP behind an API token (`/mcp` on `okwatch serve`, see
//! [`http_service`]). Tools return compact JSON: summaries instead of whole events, totals
//! next to pages, and a hint saying how to narrow or page on. Errors a model can fix (a bad
//! filter, an unknown uuid) come back as tool errors with the position and what was expected;
//! only a broken store is a protocol error.

mod alerts;
mod guide;
mod reports;
mod server;
mod source;
mod usage;

pub use server::OkwatchMcp;
pub use source::StoreSource;

use rmcp::transport::streamable_http_server::{
    session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
};

/// The MCP endpoint as a tower service, to mount at `/mcp` behind authentication.
///
/// The Host check that guards unauthenticated local servers against DNS rebinding is off: every
/// request must carry an okwatch API token, which a rebinding page does not have, and a server
/// reached by its public name must not be refused.
pub fn http_service(source: StoreSource) -> StreamableHttpService<OkwatchMcp, LocalSessionManager> {
    StreamableHttpService::new(
        move || Ok(OkwatchMcp::new(source.clone())),
        LocalSessionManager::default().into(),
        StreamableHttpServerConfig::default().disable_allowed_hosts(),
    )
}

/// Serves MCP over stdin/stdout until the client closes the stream.
pub async fn serve_stdio(source: StoreSource) -> Result<(), McpServeError> {
    use rmcp::ServiceExt;
    let running = OkwatchMcp::new(source)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| McpServeError(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| McpServeError(e.to_string()))?;
    Ok(())
}

/// The MCP session could not be started or ended abnormally.
#[derive(Debug, thiserror::Error)]
#[error("MCP session: {0}")]
pub struct McpServeError(String);
