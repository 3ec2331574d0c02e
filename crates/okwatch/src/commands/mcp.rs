//! `okwatch mcp`: the MCP server on standard input and output, for desktop assistants.

use super::remote::LocalReader;
use super::EXIT_OK;
use anyhow::Result;
use okwatch_mcp::StoreSource;
use std::path::Path;
use std::sync::Arc;

pub fn run(data_dir: &Path) -> Result<u8> {
    let runtime = tokio::runtime::Runtime::new()?;
    // Opened read-only for each question (so imports can run in between), or answered by
    // `okwatch serve` while it holds the store.
    let source = StoreSource::new(Arc::new(LocalReader::new(data_dir)));
    runtime.block_on(okwatch_mcp::serve_stdio(source))?;
    Ok(EXIT_OK)
}
