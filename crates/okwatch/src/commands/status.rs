//! `okwatch status`: each org's collection, asked of the running `okwatch serve`.

use super::{local, EXIT_OK};
use crate::cli::StatusArgs;
use crate::output::{terminal_width, write_table};
use anyhow::{bail, Context, Result};
use okwatch_collect::OrgStatus;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

pub fn run(data_dir: &Path, args: &StatusArgs) -> Result<u8> {
    let Some(server) = local::read(data_dir) else {
        bail!(
            "okwatch serve is not running on the data directory {} (it keeps serve.json there while it runs); start it with okwatch serve --config FILE",
            data_dir.display()
        );
    };
    let url = format!("{}{}", server.url, crate::api::STATUS_PATH);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let body = runtime.block_on(async {
        let client = okwatch_collect::http::client(Duration::from_secs(10))?;
        let response = client
            .get(&url)
            .bearer_auth(&server.token)
            .send()
            .await
            .with_context(|| {
                format!(
                    "asking okwatch serve at {} (pid {})",
                    server.url, server.pid
                )
            })?;
        let status = response.status();
        let body = response.bytes().await?;
        if !status.is_success() {
            bail!(
                "okwatch serve answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(body)
    })?;
    let answer: Value = serde_json::from_slice(&body).context("reading the status")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(EXIT_OK);
    }
    let orgs: Vec<OrgStatus> = answer["orgs"]
        .as_array()
        .map(|orgs| {
            orgs.iter()
                .filter_map(|o| serde_json::from_value(o.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    if orgs.is_empty() {
        println!(
            "okwatch serve ({}) collects no org: give it a configuration with [[org]] tables",
            server.url
        );
        return Ok(EXIT_OK);
    }
    let headers: Vec<String> = [
        "org",
        "state",
        "lag",
        "newest event",
        "stored",
        "pages",
        "retries",
        "429s",
        "rate limit",
        "last error",
    ]
    .map(String::from)
    .to_vec();
    let rows: Vec<Vec<String>> = orgs.iter().map(row).collect();
    write_table(
        &mut std::io::stdout().lock(),
        &headers,
        &rows,
        terminal_width(),
    )?;
    for org in &orgs {
        for gap in &org.gaps {
            println!(
                "gap in {}: events from {} to {} were not collected: {}",
                org.org,
                okwatch_model::format_timestamp(gap.from),
                okwatch_model::format_timestamp(gap.to),
                gap.reason
            );
        }
    }
    Ok(EXIT_OK)
}

fn row(s: &OrgStatus) -> Vec<String> {
    let lag = s.lag_seconds.map_or("-".into(), |secs| match secs {
        0..=119 => format!("{secs}s"),
        120..=7199 => format!("{}m", secs / 60),
        _ => format!("{}h", secs / 3600),
    });
    vec![
        s.org.clone(),
        serde_json::to_value(s.state)
            .ok()
            .and_then(|v| v.as_str().map(|t| t.replace('_', " ")))
            .unwrap_or_default(),
        lag,
        s.newest_published
            .map(okwatch_model::format_timestamp)
            .unwrap_or_else(|| "-".into()),
        s.events_stored.to_string(),
        s.pages.to_string(),
        s.retries.to_string(),
        s.rate_limited.to_string(),
        s.rate_limit.map_or("-".into(), |r| {
            format!(
                "{} of {} used (okwatch's share {})",
                r.limit - r.remaining,
                r.limit,
                r.allowed
            )
        }),
        s.last_error.clone().unwrap_or_else(|| "-".into()),
    ]
}
