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
fn loopback_url(address: SocketAddr) -> String {
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, address.port()))
}

/// The credential of one server run: its API accepts it beside the API tokens, and other
/// okwatch commands find it in `serve.json` once the server listens.
pub struct LocalAccess {
    token: String,
}

/// `serve.json` while it is published; dropping this withdraws it, on every way out.
pub struct Published {
    data_dir: PathBuf,
}

impl LocalAccess {
    /// A new credential, and who may call the server: the API `tokens` and it.
    pub fn new(tokens: TokenStore) -> (LocalAccess, std::sync::Arc<dyn Authenticate>) {
        let token = okwatch_okta::random::base62(40);
        let auth = ServeAuth {
            tokens,
            local: Secret::new(token.clone()),
        };
        (LocalAccess { token }, std::sync::Arc::new(auth))
    }

    /// Tells other commands that the server listening on `address` answers for `data_dir`.
    pub fn publish(self, data_dir: &Path, address: SocketAddr) -> Result<Published> {
        write(
            data_dir,
            &LocalServer {
                url: loopback_url(address),
                token: self.token,
                pid: std::process::id(),
            },
        )?;
        Ok(Published {
            data_dir: data_dir.to_path_buf(),
        })
    }
}

impl Drop for Published {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(path(&self.data_dir));
    }
}

/// Publishes the running server.
fn write(data_dir: &Path, server: &LocalServer) -> Result<()> {
    let text = serde_json::to_vec_pretty(server).expect("serialisable");
    // Created owner-only, renamed into place: nobody reads half a file or another user's
    // credential.
    let mut file = tempfile::NamedTempFile::new_in(data_dir)
        .with_context(|| format!("writing serve.json in {}", data_dir.display()))?;
    file.write_all(&text)?;
    file.persist(path(data_dir)).context("writing serve.json")?;
    Ok(())
}

/// The server running on `data_dir`, if one said so.
pub fn read(data_dir: &Path) -> Option<LocalServer> {
    let text = std::fs::read(path(data_dir)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Who may call `okwatch serve`: its API tokens, and the local credential of this run.
struct ServeAuth {
    tokens: TokenStore,
    local: Secret,
}

impl Authenticate for ServeAuth {
    fn authenticate(&self, token: &str) -> Option<String> {
        if self.local.matches(token.as_bytes()) {
            return Some(okwatch_web::rest::LOCAL_COMMANDS.into());
        }
        self.tokens.authenticate(token)
    }
}
