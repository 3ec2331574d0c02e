//! How other okwatch commands reach the running `okwatch serve`: while it runs it keeps
//! `DATA_DIR/serve.json`, holding its loopback URL and a credential made at start (owner-only,
//! written atomically), and removes it when it stops.

use anyhow::{Context, Result};
use okwatch_collect::Secret;
use okwatch_okta::server::Authenticate;
use okwatch_okta::TokenStore;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

/// What `serve.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The credential for this server's run (a Bearer token).
    pub token: String,
    /// The server's process id.
    pub pid: u32,
}

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("serve.json")
}

/// The URL this machine reaches a server listening on `address` by.
pub fn loopback_url(address: SocketAddr) -> String {
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, address.port()))
}

/// Publishes the running server.
pub fn write(data_dir: &Path, server: &LocalServer) -> Result<()> {
    let text = serde_json::to_vec_pretty(server).expect("serialisable");
    // Created owner-only, renamed into place: nobody reads half a file or another user's
    // credential.
    let mut file = tempfile::NamedTempFile::new_in(data_dir)
        .with_context(|| format!("writing serve.json in {}", data_dir.display()))?;
    file.write_all(&text)?;
    file.persist(path(data_dir)).context("writing serve.json")?;
    Ok(())
}

/// Withdraws it (at shutdown).
pub fn remove(data_dir: &Path) {
    let _ = std::fs::remove_file(path(data_dir));
}

/// The server running on `data_dir`, if one said so.
pub fn read(data_dir: &Path) -> Option<LocalServer> {
    let text = std::fs::read(path(data_dir)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Who may call `okwatch serve`: its API tokens, and the local credential of this run.
pub struct ServeAuth {
    tokens: TokenStore,
    local: Secret,
}

impl ServeAuth {
    /// Accepts `tokens` and `local`.
    pub fn new(tokens: TokenStore, local: Secret) -> ServeAuth {
        ServeAuth { tokens, local }
    }
}

impl Authenticate for ServeAuth {
    fn authenticate(&self, token: &str) -> Option<String> {
        if self.local.matches(token.as_bytes()) {
            return Some("local".into());
        }
        self.tokens.authenticate(token)
    }
}
