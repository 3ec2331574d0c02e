//! `okwatch mcp`: the MCP server on standard input and output, for desktop assistants.

use super::{store_path, EXIT_OK};
use anyhow::Result;
use okwatch_mcp::StoreSource;
use std::path::Path;

pub fn run(data_dir: &Path) -> Result<u8> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(okwatch_mcp::serve_stdio(StoreSource::File(store_path(
        data_dir,
    ))))?;
    Ok(EXIT_OK)
}
