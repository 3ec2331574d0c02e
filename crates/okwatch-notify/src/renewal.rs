//! Notices of contracts coming up for renewal: when a contract enters its notice period, the
//! channels set for renewals (`renewals = true`) are told once — the app, when it renews, what
//! it costs and how much of it is used — so that whoever decides does so with the numbers.

use crate::channel::Channel;
use chrono::{DateTime, Utc};
use okwatch_engine::usage::renewals::{notices_due, Renewal};
use okwatch_engine::usage::UsageStore;
use okwatch_engine::EngineError;
use okwatch_store::{NotificationRecord, Notifications};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// A renewal's notice, written for every kind of channel.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RenewalNotice {
    /// One line: `[okwatch] Slack renews in 28 days (2027-01-15): 12 of 50 licences unused`.
    pub subject: String,
    /// The facts as text (the e-mail's plain part, Slack's message).
    pub text: String,
    /// The same as a small HTML page (the e-mail's body).
    pub html: String,
    /// The renewal as the API gives it.
    pub renewal: Value,
    /// The app's page in the console, when okwatch knows its public URL.
    pub url: Option<String>,
    /// File names' stem: `renewal-acme-0oa1-2027-01-15`.
    pub file_stem: String,
}

/// Every figure of a renewal, in order, as (label, value).
fn facts(r: &Renewal) -> Vec<(&'static str, String)> {
    let app = &r.app;
    let contract = app.contract.as_ref();
    let mut facts = vec![
        ("Renews", format!("{} (in {} days)", r.renewal, r.days_left)),
        ("Org", r.org.clone()),
    ];
    if let Some(licences) = contract.and_then(|c| c.licences) {
        facts.push(("Licences", licences.to_string()));
    }
    facts.push(("Assigned", app.assigned.to_string()));
    let share = app
        .licence_utilisation
        .or(app.utilisation)
        .map(|u| format!(" ({:.0}%)", u * 100.0))
        .unwrap_or_default();
    facts.push(("Active in 30 days", format!("{}{share}", app.active_30)));
    if let Some(spend) = &app.spend {
        facts.push(("Unused licences", spend.unused.to_string()));
    }
    if let Some(annual) = app.money(|s| Some(s.annual_cents)) {
        facts.push(("Spend a year", annual));
    }
    if let Some(per) = app.money(|s| s.per_active_user_cents) {
        facts.push(("Per active person a year", per));
    }
    if let Some(savings) = app.money(|s| s.savings_cents) {
        facts.push(("Potential savings a year", savings));
    }
    if let Some(owner) = contract.and_then(|c| c.owner.clone()) {
        facts.push(("Owner", owner));
    }
    if let Some(notes) = contract.and_then(|c| c.notes.clone()) {
        facts.push(("Notes", notes));
    }
    facts
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl RenewalNotice {
    /// The notice of `renewal`, linking to the console at `public_url` when known.
    pub fn of(renewal: &Renewal, public_url: Option<&str>) -> RenewalNotice {
        let app = &renewal.app;
        let unused = match (&app.spend, app.contract.as_ref().and_then(|c| c.licences)) {
            (Some(s), Some(l)) => format!(": {} of {l} licences unused", s.unused),
            (Some(s), None) => format!(": {} assigned people idle", s.unused),
            (None, _) => String::new(),
        };
        let subject = format!(
            "[okwatch] {} renews in {} days ({}){unused}",
            app.label, renewal.days_left, renewal.renewal
        );
        let url = public_url.map(|u| {
            format!(
                "{}/apps/{}/{}",
                u.trim_end_matches('/'),
                okwatch_engine::search_text::encode(&renewal.org),
                okwatch_engine::search_text::encode(&app.id)
            )
        });
        let facts = facts(renewal);
        let mut text = format!("{}\n\n", subject.trim_start_matches("[okwatch] "));
        for (label, value) in &facts {
            text.push_str(&format!("{label}: {value}\n"));
        }
        if let Some(url) = &url {
            text.push_str(&format!("\nIn okwatch: {url}\n"));
        }
        let rows: String = facts
            .iter()
            .map(|(l, v)| {
                format!(
                    "<tr><th align=\"left\" style=\"padding:2px 12px 2px 0;color:#555\">{}</th><td>{}</td></tr>",
                    escape(l),
                    escape(v)
                )
            })
            .collect();
        let link = url
            .as_ref()
            .map(|u| {
                format!(
                    "<p><a href=\"{}\">Open {} in okwatch</a></p>",
                    escape(u),
                    escape(&app.label)
                )
            })
            .unwrap_or_default();
        let html = format!(
            "<!doctype html><html><body style=\"font-family:sans-serif\"><h2>{}</h2><table>{rows}</table>{link}</body></html>",
            escape(subject.trim_start_matches("[okwatch] "))
        );
        let stem: String = format!("renewal-{}-{}-{}", renewal.org, app.id, renewal.renewal);
        RenewalNotice {
            subject,
            text,
            html,
            renewal: serde_json::to_value(renewal).unwrap_or_default(),
            url,
            file_stem: stem,
        }
    }

    /// The generic webhook's body.
    pub fn webhook_json(&self) -> Value {
        json!({
            "type": "okwatch.renewal",
            "subject": self.subject,
            "renewal": self.renewal,
            "url": self.url,
        })
    }

    /// Slack's body.
    pub fn slack_json(&self) -> Value {
        let mut text = self.text.clone();
        if let Some(url) = &self.url {
            text = text.replace(
                &format!("In okwatch: {url}"),
                &format!("<{url}|Open in okwatch>"),
            );
        }
        json!({
            "text": self.subject,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        })
    }
}

/// What the renewal notices are made from and queued in.
pub trait RenewalStore: UsageStore + Notifications {}
impl<T: UsageStore + Notifications + ?Sized> RenewalStore for T {}

/// Queues a notice, once per channel and renewal date, for every contract inside its notice
/// period at `now`, on each channel set for renewals; the notices queued now.
pub fn tick(
    store: &dyn RenewalStore,
    channels: &[Channel],
    public_url: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, EngineError> {
    let wanted: Vec<&Channel> = channels.iter().filter(|c| c.renewals).collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut queued = Vec::new();
    for renewal in notices_due(store, now)? {
        let notice = RenewalNotice::of(&renewal, public_url);
        let payload =
            serde_json::to_string(&crate::message::Payload::Renewal(Box::new(notice.clone())))
                .expect("a notice serializes");
        let stamp = okwatch_model::format_timestamp(now);
        for channel in &wanted {
            // A new renewal date (the contract renewed and was updated) is a new notice.
            let id = format!(
                "{}:renewal:{}:{}:{}",
                channel.name, renewal.org, renewal.app.id, renewal.renewal
            );
            let record = NotificationRecord {
                id: id.clone(),
                channel: channel.name.clone(),
                alert: None,
                subject: notice.subject.clone(),
                payload: payload.clone(),
                status: "pending".into(),
                attempts: 0,
                next_attempt: stamp.clone(),
                last_error: None,
                created: stamp.clone(),
                sent: None,
            };
            if store.enqueue(&record)? {
                queued.push(id);
            }
        }
    }
    Ok(queued)
}

/// Looks for renewal notices to send at start and every `every` (notices are by the day: an
/// hour is prompt enough) until `stopped` turns true.
pub async fn run<S>(
    store: Arc<S>,
    channels: Arc<Vec<Channel>>,
    public_url: Option<String>,
    every: Duration,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) where
    S: RenewalStore + 'static,
{
    if !channels.iter().any(|c| c.renewals) {
        return;
    }
    loop {
        let (store, channels, url) = (store.clone(), channels.clone(), public_url.clone());
        let ticked = tokio::task::spawn_blocking(move || {
            tick(store.as_ref(), &channels, url.as_deref(), Utc::now())
        })
        .await;
        match ticked {
            Ok(Ok(queued)) if !queued.is_empty() => {
                tracing::info!(notices = queued.len(), "renewal notices queued")
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!("cannot look at renewals: {e}"),
            Err(e) => tracing::error!("the renewal watcher stopped: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopped.changed() => return,
        }
    }
}
