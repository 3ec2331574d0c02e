//! The queue's two ends: [`queue_alert`] (and [`queue_test`]) put notifications in the store;
//! [`run`] delivers what is due, logs each attempt and schedules retries.

use crate::channel::Channel;
use crate::deliver::deliver;
use crate::message::{Payload, Told};
use chrono::{DateTime, Utc};
use okwatch_store::{
    AlertRecord, AttemptOutcome, DeliveryAttempt, NotificationRecord, Notifications, StoreError,
};
use std::sync::Arc;
use std::time::Duration;

/// How often the queue is looked at.
const EVERY: Duration = Duration::from_secs(1);
/// Notifications delivered per look, at most.
const BATCH: usize = 20;

fn stamp(at: DateTime<Utc>) -> String {
    okwatch_model::format_timestamp(at)
}

fn record(channel: &Channel, id: String, told: &Told, now: DateTime<Utc>) -> NotificationRecord {
    NotificationRecord {
        id,
        channel: channel.name.clone(),
        alert: (!told.test).then(|| told.alert.id.clone()),
        subject: told.subject(),
        payload: serde_json::to_string(told).expect("a notification serializes"),
        status: "pending".into(),
        attempts: 0,
        next_attempt: stamp(now),
        last_error: None,
        created: stamp(now),
        sent: None,
    }
}

/// Queues the notification of a newly raised alert on every channel that wants it; how many.
pub fn queue_alert(
    store: &dyn Notifications,
    channels: &[Channel],
    told: &Told,
) -> Result<usize, StoreError> {
    let now = Utc::now();
    let mut queued = 0;
    for channel in channels.iter().filter(|c| c.wants(&told.alert)) {
        // One per alert and severity: an alert that grows worse (a spray, then a success from
        // its IP) is told again.
        let id = format!("{}:{}:{}", channel.name, told.alert.id, told.alert.severity);
        if store.enqueue(&record(channel, id, told, now))? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Queues a test on `channel`: a made-up alert, said to be a test; its id.
pub fn queue_test(
    store: &dyn Notifications,
    channel: &Channel,
    by: &str,
    public_url: Option<&str>,
) -> Result<String, StoreError> {
    let now = Utc::now();
    let told = Told {
        alert: AlertRecord {
            id: "test".into(),
            rule: "okwatch.test".into(),
            severity: "high".into(),
            group: format!("a test sent by {by}"),
            first: stamp(now),
            last: stamp(now),
            events: Vec::new(),
            explanation: format!(
                "A test of the channel {}: if you read this, it works.",
                channel.name
            ),
            status: "open".into(),
            raised: stamp(now),
            assignee: None,
        },
        detection: "Channel test".into(),
        runbook: String::new(),
        url: public_url.map(|u| format!("{}/notifications", u.trim_end_matches('/'))),
        test: true,
    };
    let id = format!("{}:test:{}", channel.name, now.timestamp_micros());
    store.enqueue(&record(channel, id.clone(), &told, now))?;
    Ok(id)
}

/// Some spread of retry times, so that many failed notifications do not all come back at once.
fn jitter(id: &str, attempts: u32, delay: Duration) -> Duration {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(attempts);
    for byte in id.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    delay.mul_f64((hash % 1000) as f64 / 10_000.0)
}

/// Delivers one notification and says what became of it.
async fn attempt(channels: &[Channel], n: &NotificationRecord) -> AttemptOutcome {
    let Some(channel) = channels.iter().find(|c| c.name == n.channel) else {
        return AttemptOutcome {
            attempt: DeliveryAttempt {
                at: stamp(Utc::now()),
                delivered: false,
                detail: format!("channel `{}` is no longer configured", n.channel),
            },
            retry_at: None,
        };
    };
    let result = match serde_json::from_str::<Payload>(&n.payload) {
        Ok(payload) => deliver(channel, &payload).await,
        Err(e) => Err(format!("the queued notification cannot be read: {e}")),
    };
    let now = Utc::now();
    let tries = n.attempts + 1;
    match result {
        Ok(detail) => AttemptOutcome {
            attempt: DeliveryAttempt {
                at: stamp(now),
                delivered: true,
                detail,
            },
            retry_at: None,
        },
        Err(detail) => {
            let retry_at = (tries < channel.max_attempts).then(|| {
                let delay = channel.retry_delay(tries);
                let wait = delay + jitter(&n.id, tries, delay);
                stamp(now + chrono::TimeDelta::from_std(wait).unwrap_or_default())
            });
            AttemptOutcome {
                attempt: DeliveryAttempt {
                    at: stamp(now),
                    delivered: false,
                    detail,
                },
                retry_at,
            }
        }
    }
}

/// Delivers due notifications until `stopped` turns true.
pub async fn run<S>(
    store: Arc<S>,
    channels: Arc<Vec<Channel>>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) where
    S: Notifications + ?Sized + 'static,
{
    loop {
        let reader = store.clone();
        let due = tokio::task::spawn_blocking(move || {
            reader.due_notifications(&stamp(Utc::now()), BATCH)
        })
        .await;
        match due {
            Ok(Ok(due)) => {
                for n in due {
                    let span = tracing::info_span!("notify", channel = %n.channel, id = %n.id);
                    let outcome =
                        tracing::Instrument::instrument(attempt(&channels, &n), span).await;
                    if outcome.attempt.delivered {
                        tracing::info!(channel = %n.channel, subject = %n.subject, "notification delivered");
                    } else {
                        tracing::warn!(channel = %n.channel, retry = ?outcome.retry_at, "notification not delivered: {}", outcome.attempt.detail);
                    }
                    let writer = store.clone();
                    let id = n.id.clone();
                    let saved =
                        tokio::task::spawn_blocking(move || writer.record_attempt(&id, &outcome))
                            .await;
                    if !matches!(saved, Ok(Ok(()))) {
                        tracing::error!("cannot record the delivery of {}: {saved:?}", n.id);
                    }
                }
            }
            Ok(Err(e)) => tracing::error!("cannot read the notification queue: {e}"),
            Err(e) => tracing::error!("the notification queue's reader stopped: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stopped.changed() => return,
        }
    }
}
