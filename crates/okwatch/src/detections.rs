//! The detections running inside `okwatch serve` (and the demo): every two seconds the shipped
//! rules look at the events stored since their last look, and the alerts they raise or grow are
//! kept in the store, where the console, its API and MCP read them. A newly raised alert about
//! recent events is queued for the notification channels that want it.

use okwatch_engine::rules::live::{alert_id, LiveDetections};
use okwatch_engine::rules::{pack, Alert};
use okwatch_model::{format_timestamp, Timestamp};
use okwatch_notify::message::Told;
use okwatch_notify::Channel;
use okwatch_store::{AlertChange, AlertRecord, AlertStore, Notifications, Store};
use std::sync::Arc;
use std::time::Duration;

/// How often new events are looked at.
const EVERY: Duration = Duration::from_secs(2);

/// Alerts whose last event is older than this when raised (a first backfill of 90 days, an
/// import of old files) are kept but not sent: a notification is for what is happening now.
const NOTIFY_WITHIN: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// Where new alerts are told.
#[derive(Clone, Default)]
pub struct Notify {
    /// The configured channels.
    pub channels: Arc<Vec<Channel>>,
    /// The console's address as people reach it, for links.
    pub public_url: Option<String>,
}

impl Notify {
    fn queue(&self, store: &dyn Notifications, alert: &AlertRecord) -> Result<(), String> {
        let recent = okwatch_model::parse_timestamp(&alert.last)
            .is_some_and(|last| chrono::Utc::now() - last < NOTIFY_WITHIN);
        if self.channels.is_empty() || !recent {
            return Ok(());
        }
        let rule = pack::builtin().into_iter().find(|r| r.id == alert.rule);
        let told = Told {
            alert: alert.clone(),
            detection: rule.as_ref().map_or(alert.rule.clone(), |r| r.name.clone()),
            runbook: rule.map(|r| r.runbook).unwrap_or_default(),
            url: self
                .public_url
                .as_ref()
                .map(|u| format!("{}/alerts/{}", u.trim_end_matches('/'), alert.id)),
            test: false,
        };
        okwatch_notify::queue_alert(store, &self.channels, &told)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

fn record(alert: &Alert, raised: Timestamp) -> AlertRecord {
    AlertRecord {
        id: alert_id(alert),
        rule: alert.rule.clone(),
        severity: alert.severity.as_str().into(),
        group: alert.group.clone(),
        first: alert.first.clone(),
        last: alert.last.clone(),
        events: alert.events.clone(),
        explanation: alert.explanation.clone(),
        status: "open".into(),
        raised: format_timestamp(raised),
        assignee: None,
    }
}

/// Runs the shipped detections on events stored from `since` on, until `stopped` turns true.
pub async fn run<S>(
    store: Arc<S>,
    since: Timestamp,
    notify: Notify,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) where
    S: Store + AlertStore + Notifications + 'static,
{
    let mut live = Some(LiveDetections::new(pack::builtin(), since));
    loop {
        let (mut detections, store_now, notify) = (
            live.take().expect("put back after each step"),
            store.clone(),
            notify.clone(),
        );
        let stepped = tokio::task::spawn_blocking(move || {
            let span = tracing::info_span!("detections");
            let _entered = span.enter();
            let result = detections.step(store_now.as_ref()).map_err(|e| e.to_string()).and_then(|changed| {
                let now = chrono::Utc::now();
                for alert in &changed {
                    let kept = record(alert, now);
                    let before = store_now.alert(&kept.id).map_err(|e| e.to_string())?;
                    // The store keeps a person's status and assignee as the alert grows.
                    store_now.put_alert(&kept).map_err(|e| e.to_string())?;
                    if before.is_none() {
                        notify.queue(store_now.as_ref(), &kept)?;
                    }
                    // But an attack that goes on after someone resolved it is not over.
                    if let Some(before) = before.filter(|b| {
                        b.status == "resolved" && kept.events.len() > b.events.len()
                    }) {
                        let reopen = AlertChange {
                            by: "okwatch".into(),
                            status: Some("open".into()),
                            comment: Some(format!(
                                "{} more event(s) after it was resolved: opened again.",
                                kept.events.len() - before.events.len()
                            )),
                            ..AlertChange::default()
                        };
                        store_now.change_alert(&kept.id, &reopen).map_err(|e| e.to_string())?;
                    }
                    tracing::info!(rule = %alert.rule, group = %alert.group, events = alert.events.len(), "alert");
                }
                Ok(changed.len())
            });
            (detections, result)
        })
        .await;
        match stepped {
            Ok((detections, result)) => {
                live = Some(detections);
                if let Err(e) = result {
                    tracing::error!("detections: {e}");
                }
            }
            Err(e) => {
                // A panic in a rule must not stop the server; the rules start again.
                tracing::error!("detections stopped and restart: {e}");
                live = Some(LiveDetections::new(pack::builtin(), since));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stopped.changed() => return,
        }
    }
}
