//! The detections running inside `okwatch serve` (and the demo): every two seconds the rules
//! (the shipped pack as tuned, and the rules people added, from the store) look at the events
//! stored since their last look, and the alerts they raise or grow are kept in the store, where
//! the console, its API and MCP read them. How far they have read is kept too, so a restart
//! looks at exactly what it has not seen. A change to the rules takes effect at the next look.
//! A newly raised alert about recent events is queued for the notification channels that want
//! it.

use okwatch_engine::rules::catalog::Catalog;
use okwatch_engine::rules::live::{alert_id, LiveDetections};
use okwatch_engine::rules::{Alert, Rule};
use okwatch_model::{format_timestamp, Timestamp};
use okwatch_notify::message::Told;
use okwatch_notify::Channel;
use okwatch_store::{
    AlertChange, AlertRecord, AlertStore, Notifications, RuleRecord, RuleStore, Store,
};
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
    fn queue(
        &self,
        store: &dyn Notifications,
        rules: &[Rule],
        alert: &AlertRecord,
    ) -> Result<(), String> {
        let recent = okwatch_model::parse_timestamp(&alert.last)
            .is_some_and(|last| chrono::Utc::now() - last < NOTIFY_WITHIN);
        if self.channels.is_empty() || !recent {
            return Ok(());
        }
        let rule = rules.iter().find(|r| r.id == alert.rule);
        let told = Told {
            alert: alert.clone(),
            detection: rule.map_or(alert.rule.clone(), |r| r.name.clone()),
            runbook: rule.map(|r| r.runbook.clone()).unwrap_or_default(),
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

/// The running detections and the rules they were made of.
struct Running {
    live: LiveDetections,
    records: Vec<RuleRecord>,
    rules: Vec<Rule>,
}

impl Running {
    /// The detections of the rules in `records`, from `cursor` on.
    fn new(records: Vec<RuleRecord>, warm_from: Timestamp, cursor: i64) -> Running {
        let catalog = Catalog::from_records(&records);
        for broken in &catalog.broken {
            tracing::warn!(rule = %broken.record.id, "a stored rule does not read and does not run: {}", broken.error);
        }
        let rules = catalog.enabled();
        Running {
            live: LiveDetections::new(rules.clone(), warm_from, cursor),
            records,
            rules,
        }
    }
}

/// Looks once: rules changed since the last look are taken up (and look again at the warm-up,
/// so a new rule judges the recent past), new events are fed, alerts kept, notifications
/// queued, and the cursor saved.
fn look<S>(
    store: &S,
    running: Option<Running>,
    warm_from: Timestamp,
    notify: &Notify,
) -> (Option<Running>, Result<usize, String>)
where
    S: Store + AlertStore + Notifications + RuleStore,
{
    let records = match store.rule_records() {
        Ok(records) => records,
        Err(e) => return (running, Err(e.to_string())),
    };
    let mut running = match running {
        Some(running) if running.records == records => running,
        other => {
            let cursor = match other {
                Some(before) => before.live.cursor(),
                None => match store.detections_cursor() {
                    Ok(cursor) => cursor.unwrap_or(0),
                    Err(e) => return (None, Err(e.to_string())),
                },
            };
            Running::new(records, warm_from, cursor)
        }
    };
    let before = running.live.cursor();
    let result = running
        .live
        .step(store)
        .map_err(|e| e.to_string())
        .and_then(|changed| {
            let now = chrono::Utc::now();
            for alert in &changed {
                keep(store, &running.rules, notify, alert, now)?;
            }
            // Saved once the alerts are: a crash before this looks at these events again,
            // which updates the same alerts instead of losing or doubling them.
            if running.live.cursor() != before {
                store
                    .set_detections_cursor(running.live.cursor())
                    .map_err(|e| e.to_string())?;
            }
            Ok(changed.len())
        });
    (Some(running), result)
}

/// Keeps one alert raised or grown, queues its notification if it is new, and opens it again
/// if it grew after someone resolved it.
fn keep<S>(
    store: &S,
    rules: &[Rule],
    notify: &Notify,
    alert: &Alert,
    now: Timestamp,
) -> Result<(), String>
where
    S: AlertStore + Notifications,
{
    let kept = record(alert, now);
    let before = store.alert(&kept.id).map_err(|e| e.to_string())?;
    // The store keeps a person's status and assignee as the alert grows.
    store.put_alert(&kept).map_err(|e| e.to_string())?;
    let rank = |severity: &str| {
        okwatch_engine::rules::Severity::ALL
            .iter()
            .position(|s| s.as_str() == severity)
    };
    let worse = before
        .as_ref()
        .is_some_and(|b| rank(&kept.severity) > rank(&b.severity));
    if before.is_none() || worse {
        notify.queue(store, rules, &kept)?;
    }
    // But an attack that goes on after someone resolved it is not over.
    if let Some(before) =
        before.filter(|b| b.status == "resolved" && kept.events.len() > b.events.len())
    {
        let reopen = AlertChange {
            by: "okwatch".into(),
            status: Some("open".into()),
            comment: Some(format!(
                "{} more event(s) after it was resolved: opened again.",
                kept.events.len() - before.events.len()
            )),
            ..AlertChange::default()
        };
        store
            .change_alert(&kept.id, &reopen)
            .map_err(|e| e.to_string())?;
    }
    tracing::info!(rule = %alert.rule, group = %alert.group, events = alert.events.len(), "alert");
    Ok(())
}

/// Runs the detections on events stored after the saved cursor (all of them the first time),
/// with those published from `warm_from` on as context, until `stopped` turns true.
pub async fn run<S>(
    store: Arc<S>,
    warm_from: Timestamp,
    notify: Notify,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) where
    S: Store + AlertStore + Notifications + RuleStore + 'static,
{
    let mut running: Option<Running> = None;
    loop {
        let (store_now, notify) = (store.clone(), notify.clone());
        let taken = running.take();
        let stepped = tokio::task::spawn_blocking(move || {
            let span = tracing::info_span!("detections");
            let _entered = span.enter();
            look(store_now.as_ref(), taken, warm_from, &notify)
        })
        .await;
        let mut behind = false;
        match stepped {
            Ok((kept, result)) => {
                running = kept;
                behind = running.as_ref().is_some_and(|r| r.live.behind());
                if let Err(e) = result {
                    tracing::error!("detections: {e}");
                }
            }
            // A panic in a rule must not stop the server; the rules start again from the
            // saved cursor.
            Err(e) => tracing::error!("detections stopped and restart: {e}"),
        }
        // Behind a large import, the next look comes at once.
        let pause = if behind { Duration::ZERO } else { EVERY };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => return,
        }
    }
}
