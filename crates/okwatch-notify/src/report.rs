//! A scheduled report as a notification: rendered once when it runs, kept in the queue as it
//! will be sent, delivered (and retried) like an alert.

use crate::channel::Channel;
use okwatch_store::{NotificationRecord, Notifications, StoreError};
use serde_json::{json, Value};

/// A report, rendered for every kind of channel.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ReportMail {
    /// The schedule's id.
    pub schedule: String,
    /// The schedule's name.
    pub schedule_name: String,
    /// The report's id.
    pub report: String,
    /// One line: `[okwatch] Failed sign-ins · 2026-11-30 → 2026-12-07`.
    pub subject: String,
    /// The report as text (the e-mail's plain part).
    pub text: String,
    /// The report as an HTML page with its chart (the e-mail's body, the directory's `.html`).
    pub html: String,
    /// The report as CSV (attached to the e-mail; the directory's `.csv`).
    pub csv: String,
    /// The report as the REST API gives it (the webhook's body; the directory's `.json`).
    pub json: Value,
    /// File names' stem: `failed_sign_ins-20261207T0700Z`.
    pub file_stem: String,
    /// E-mail recipients instead of the channel's own (empty: the channel's).
    #[serde(default)]
    pub recipients: Vec<String>,
    /// The report in the console, when okwatch knows its public URL.
    pub url: Option<String>,
}

impl ReportMail {
    /// The generic webhook's body.
    pub fn webhook_json(&self) -> Value {
        json!({
            "type": "okwatch.report",
            "subject": self.subject,
            "schedule": {"id": self.schedule, "name": self.schedule_name},
            "report": self.json,
            "url": self.url,
        })
    }

    /// Slack's body: the subject, the headline figures, a link.
    pub fn slack_json(&self) -> Value {
        let figures: Vec<String> = self.json["figures"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                format!(
                    "*{}*: {}",
                    f["label"].as_str().unwrap_or_default(),
                    f["current"]["value"]
                )
            })
            .collect();
        let mut blocks = vec![
            json!({"type": "header", "text": {"type": "plain_text", "text": self.subject}}),
            json!({"type": "section", "text": {"type": "mrkdwn", "text": figures.join("\n")}}),
        ];
        if let Some(url) = &self.url {
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
                "text": format!("<{url}|Open the report in okwatch>")}}));
        }
        json!({"text": self.subject, "blocks": blocks})
    }
}

/// Queues `mail` on each channel named in `channels`, once per `key` (the schedule and the
/// time it ran for: queueing the same run again keeps one); the notifications' ids. A name
/// that is not a configured channel is an error, and nothing is queued.
pub fn queue_report(
    store: &dyn Notifications,
    configured: &[Channel],
    channels: &[String],
    mail: &ReportMail,
    key: &str,
) -> Result<Vec<String>, String> {
    let unknown: Vec<&str> = channels
        .iter()
        .filter(|name| !configured.iter().any(|c| &c.name == *name))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "no notification channel is named {}",
            unknown.join(", ")
        ));
    }
    let now = okwatch_model::format_timestamp(chrono::Utc::now());
    let payload = serde_json::to_string(mail).expect("a report mail serializes");
    let mut ids = Vec::new();
    for name in channels {
        let id = format!("{name}:report:{key}");
        let record = NotificationRecord {
            id: id.clone(),
            channel: name.clone(),
            alert: None,
            subject: mail.subject.clone(),
            payload: payload.clone(),
            status: "pending".into(),
            attempts: 0,
            next_attempt: now.clone(),
            last_error: None,
            created: now.clone(),
            sent: None,
        };
        store
            .enqueue(&record)
            .map_err(|e: StoreError| format!("cannot queue the delivery to {name}: {e}"))?;
        ids.push(id);
    }
    Ok(ids)
}
