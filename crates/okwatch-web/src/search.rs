//! The explorer's search, as its URL holds it: the engine's, so that the console, its API and
//! MCP's saved searches read a search the same way.

pub use okwatch_engine::search_text::*;
