//! What a notification says, per channel: the same facts — severity, detection, who or what,
//! when, how many events, what to do, where to look — in each channel's format.

use crate::report::ReportMail;
use okwatch_store::AlertRecord;
use serde_json::{json, Value};

/// What a queued notification holds: a renewal notice or a report (tried first: their fields
/// are their own) or an alert.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Payload {
    /// A contract's renewal coming up.
    Renewal(Box<crate::renewal::RenewalNotice>),
    /// A scheduled report.
    Report(Box<ReportMail>),
    /// An alert (or a channel test).
    Alert(Box<Told>),
}

/// What a notification carries: the alert, the detection's name and runbook, and links.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Told {
    /// The alert.
    pub alert: AlertRecord,
    /// The detection's name.
    pub detection: String,
    /// What to do.
    pub runbook: String,
    /// The alert's page in the console, when okwatch knows its public URL.
    pub url: Option<String>,
    /// Whether this is a channel test rather than an alert.
    #[serde(default)]
    pub test: bool,
}

impl Told {
    /// One line: `[okwatch] HIGH Password spray from one IP — 203.0.113.9`.
    pub fn subject(&self) -> String {
        let test = if self.test { " (test)" } else { "" };
        format!(
            "[okwatch{test}] {} {} — {}",
            self.alert.severity.to_uppercase(),
            self.detection,
            self.alert.group
        )
    }

    /// The body as plain text (e-mail, and the fallback text of Slack).
    pub fn text(&self) -> String {
        let a = &self.alert;
        let mut text = format!(
            "{}\n\nSeverity: {}\nAbout: {}\nEvents: {} from {} to {}\nDetection: {} ({})\n",
            a.explanation,
            a.severity,
            a.group,
            a.events.len(),
            a.first,
            a.last,
            self.detection,
            a.rule
        );
        if !self.runbook.is_empty() {
            text.push_str(&format!("\nWhat to do: {}\n", self.runbook));
        }
        if let Some(url) = &self.url {
            text.push_str(&format!("\nOpen it: {url}\n"));
        }
        if self.test {
            text.push_str("\nThis is a test of the channel, sent from okwatch's console.\n");
        }
        text
    }

    /// The generic webhook's body.
    pub fn webhook_json(&self) -> Value {
        json!({
            "type": if self.test { "okwatch.test" } else { "okwatch.alert" },
            "subject": self.subject(),
            "alert": self.alert,
            "detection": self.detection,
            "runbook": self.runbook,
            "url": self.url,
        })
    }

    /// Slack's incoming-webhook body: the subject, the facts as fields, the runbook, a link.
    pub fn slack_json(&self) -> Value {
        let a = &self.alert;
        let escape = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let mut blocks = vec![
            json!({"type": "header", "text": {"type": "plain_text", "text": self.subject()}}),
            json!({"type": "section", "text": {"type": "mrkdwn", "text": escape(&a.explanation)},
            "fields": [
                {"type": "mrkdwn", "text": format!("*Severity*\n{}", a.severity)},
                {"type": "mrkdwn", "text": format!("*About*\n{}", escape(&a.group))},
                {"type": "mrkdwn", "text": format!("*Events*\n{}", a.events.len())},
                {"type": "mrkdwn", "text": format!("*When*\n{} – {}", a.first, a.last)},
            ]}),
        ];
        if !self.runbook.is_empty() {
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
                "text": format!("*What to do:* {}", escape(&self.runbook))}}));
        }
        if let Some(url) = &self.url {
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn",
                "text": format!("<{url}|Open the alert in okwatch>")}}));
        }
        json!({ "text": self.subject(), "blocks": blocks })
    }
}

/// The e-mail's HTML part: the same facts as the text, laid out, every value escaped.
pub fn html(told: &Told) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let a = &told.alert;
    let row =
        |k: &str, v: &str| format!("<tr><th align=\"left\">{k}</th><td>{}</td></tr>", escape(v));
    let mut html = format!(
        "<h2>{}</h2><p>{}</p><table cellpadding=\"4\">{}{}{}{}</table>",
        escape(&told.subject()),
        escape(&a.explanation),
        row("Severity", &a.severity),
        row("About", &a.group),
        row(
            "Events",
            &format!("{} from {} to {}", a.events.len(), a.first, a.last)
        ),
        row("Detection", &format!("{} ({})", told.detection, a.rule)),
    );
    if !told.runbook.is_empty() {
        html.push_str(&format!(
            "<p><strong>What to do:</strong> {}</p>",
            escape(&told.runbook)
        ));
    }
    if let Some(url) = &told.url {
        html.push_str(&format!(
            "<p><a href=\"{}\">Open the alert in okwatch</a></p>",
            escape(url)
        ));
    }
    html
}
