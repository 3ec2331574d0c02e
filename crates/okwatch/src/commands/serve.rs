//! `okwatch serve`: the one always-on process. It owns the store, collects every org of its
//! configuration, and serves the stored history (Okta's System Log API, MCP), `/health` and a
//! status API; other okwatch commands reach it through `DATA_DIR/serve.json`.

use super::local::LocalAccess;
use super::{open_store, token_store, EXIT_OK};
use crate::cli::ServeArgs;
use crate::config::OrgConfig;
use anyhow::{Context, Result};
use okwatch_collect::{Poller, PollerConfig, StatusBoard};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long a stop waits for pollers to commit the page they are storing.
const STOP_GRACE: Duration = Duration::from_secs(30);

pub fn run(data_dir: Option<PathBuf>, args: &ServeArgs) -> Result<u8> {
    let config = match &args.config {
        Some(path) => Some(crate::config::load(path)?),
        None => None,
    };
    let data_dir = data_dir
        .or_else(|| config.as_ref().and_then(|c| c.data_dir.clone()))
        .unwrap_or_else(super::default_data_dir);
    let listen = args
        .listen
        .clone()
        .or_else(|| config.as_ref().and_then(|c| c.listen.clone()))
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let (orgs, channels) = config.map(|c| (c.orgs, c.notify)).unwrap_or_default();
    let channels = Arc::new(channels);
    let store = Arc::new(open_store(&data_dir)?);
    let tokens = token_store(&data_dir);
    if tokens.list()?.is_empty() {
        eprintln!(
            "note: there are no API tokens yet; make one with: okwatch token create --name NAME"
        );
    }
    let admin_password = std::env::var("OKWATCH_ADMIN_PASSWORD").ok();
    let generated = okwatch_web::auth::ensure_admin(store.as_ref(), admin_password.as_deref())
        .context("creating the console's first user")?
        .filter(|_| admin_password.is_none());
    let web = okwatch_web::WebState::new(
        store.clone(),
        args.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")),
    );
    okwatch_web::saved::seed(store.as_ref()).context("saving the shipped searches")?;
    let (access, auth) = LocalAccess::new(tokens);
    // Users' own tokens (made in the console) work at every API too, as their owners.
    let web = web
        .with_tokens(auth)
        .with_channels(channels.clone(), args.public_url.clone());
    let status = StatusBoard::default();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let mut pollers = tokio::task::JoinSet::new();
        for org in &orgs {
            let poller = Poller::new(
                poller_config(org, &data_dir)?,
                store.clone(),
                status.clone(),
            )?;
            eprintln!(
                "okwatch serve: collecting org {} from {} (credentials from {})",
                org.name, org.url, org.credentials_source
            );
            pollers.spawn(poller.run(stopped.clone()));
            if let Some(every) = org.directory_sync {
                let sync = okwatch_collect::directory::DirectorySync {
                    org: org.name.clone(),
                    base_url: org.url.clone(),
                    credentials: org.credentials.clone(),
                    client: okwatch_collect::http::client(std::time::Duration::from_secs(30))?,
                    rate_limit_share: org.rate_limit_share,
                    every,
                };
                // Its own task: a directory listing never holds up the System Log.
                tokio::spawn(sync.run(store.clone(), stopped.clone()));
            }
        }
        // The detections start after the last event they looked at, with at least the last day
        // of stored events (more if a rule's window reaches further) as context, so a restart
        // neither misses nor doubles an alert.
        let warm_up = chrono::Utc::now() - chrono::TimeDelta::hours(24);
        let notify = crate::detections::Notify {
            channels: channels.clone(),
            public_url: args.public_url.clone(),
        };
        tokio::spawn(crate::detections::run(
            store.clone(),
            warm_up,
            notify,
            stopped.clone(),
        ));
        // Notifications queued in the store are delivered (and retried) from here.
        tokio::spawn(okwatch_notify::worker::run(
            store.clone(),
            channels.clone(),
            stopped.clone(),
        ));
        // Report schedules run from here; their deliveries go through the queue above.
        tokio::spawn(okwatch_notify::schedule::run(
            store.clone(),
            okwatch_notify::schedule::Scheduler {
                channels: channels.clone(),
                public_url: args.public_url.clone(),
            },
            stopped.clone(),
        ));
        tokio::spawn(okwatch_notify::renewal::run(
            store.clone(),
            channels.clone(),
            args.public_url.clone(),
            std::time::Duration::from_secs(3600),
            stopped.clone(),
        ));
        let app = crate::api::router(crate::api::ApiParts {
            store: store.clone(),
            public_url: args.public_url.clone(),
            status: status.clone(),
            hook_secrets: orgs
                .iter()
                .filter_map(|o| Some((o.name.clone(), o.hook_secret.clone()?)))
                .collect(),
            rejects_dir: Some(data_dir.join("rejects")),
            web,
        });
        let listener = super::listen(&listen).await?;
        let address = listener.local_addr()?;
        let _published = access.publish(&data_dir, address)?;
        eprintln!("okwatch serve: console at http://{address}/");
        if let Some(password) = &generated {
            eprintln!(
                "okwatch serve: first run: sign in as admin with password {password} (shown once; \
                 set OKWATCH_ADMIN_PASSWORD to choose it)"
            );
        }
        eprintln!("okwatch serve: System Log API at http://{address}/api/v1/logs");
        eprintln!("okwatch serve: MCP (streamable HTTP) at http://{address}/mcp");
        eprintln!("okwatch serve: health at http://{address}/health, status: okwatch status");
        for org in orgs.iter().filter(|o| o.hook_secret.is_some()) {
            eprintln!(
                "okwatch serve: Event Hook deliveries for {} at http://{address}/hooks/okta/{}",
                org.name, org.name
            );
        }
        let served = super::serve_until_signal(listener, app).await;
        // Stop collecting; each poller returns once the page it is storing is committed.
        let _ = stop.send(true);
        let drained = tokio::time::timeout(STOP_GRACE, async {
            while let Some(finished) = pollers.join_next().await {
                if let Ok(Err(e)) = finished {
                    eprintln!("okwatch serve: {e}");
                }
            }
        })
        .await;
        if drained.is_err() {
            eprintln!("okwatch serve: a collector did not stop within {STOP_GRACE:?}");
        }
        served
    })?;
    Ok(EXIT_OK)
}

/// The poller settings of one configured org.
fn poller_config(org: &OrgConfig, data_dir: &Path) -> Result<PollerConfig> {
    let since = okwatch_model::parse_time_bound(&org.backfill_since, chrono::Utc::now())
        .with_context(|| format!("org {}: backfill_since", org.name))?;
    let mut config = PollerConfig::new(&org.name, &org.url, org.credentials.clone(), since);
    config.rate_limit_share = org.rate_limit_share;
    config.poll_interval = org.poll_interval;
    config.rejects_dir = Some(data_dir.join("rejects"));
    Ok(config)
}
