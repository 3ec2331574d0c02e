//! Where notifications go, as the configuration describes them.

use okwatch_collect::secret::Secret;
use okwatch_store::AlertRecord;
use std::time::Duration;

/// Severities, least first.
pub const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

/// One channel: where to, and which alerts.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Its name, as the console and the delivery log show it.
    pub name: String,
    /// Where to.
    pub target: Target,
    /// The least severity sent (default `medium`: attacks, not every change).
    pub min_severity: String,
    /// Only these detections (empty: every one).
    pub rules: Vec<String>,
    /// Whether contract renewal notices go here too.
    pub renewals: bool,
    /// The first retry's delay; each next one doubles, up to an hour.
    pub retry_base: Duration,
    /// Tries before a notification is marked failed.
    pub max_attempts: u32,
}

/// The kinds of channel.
#[derive(Debug, Clone)]
pub enum Target {
    /// A JSON POST of the alert; with a secret, signed (`X-Okwatch-Signature: sha256=HMAC`).
    Webhook {
        /// The URL (it may carry a token, so it is a secret).
        url: Secret,
        /// The HMAC-SHA256 key of the signature header.
        signing_secret: Option<Secret>,
    },
    /// Slack's incoming-webhook format.
    Slack {
        /// The incoming webhook's URL.
        url: Secret,
    },
    /// E-mail.
    Email(Smtp),
    /// Files in a directory on okwatch's machine (an archive, or a folder another tool picks
    /// up): an alert as JSON; a report as CSV, JSON and HTML.
    Directory {
        /// The directory; made if missing.
        path: std::path::PathBuf,
    },
}

/// An SMTP server and the addresses.
#[derive(Debug, Clone)]
pub struct Smtp {
    /// The server's host name or address.
    pub host: String,
    /// Its port (587 for STARTTLS, 465 for TLS, 25).
    pub port: u16,
    /// How the connection is protected.
    pub tls: Tls,
    /// The account, if the server wants one.
    pub username: Option<String>,
    /// Its password.
    pub password: Option<Secret>,
    /// The sender.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
}

/// SMTP connection security.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// STARTTLS, required.
    StartTls,
    /// TLS from the first byte (SMTPS).
    Tls,
    /// None: only for a server on a loopback address.
    None,
}

impl Target {
    /// `webhook`, `slack` or `email`.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Webhook { .. } => "webhook",
            Target::Slack { .. } => "slack",
            Target::Email(_) => "email",
            Target::Directory { .. } => "directory",
        }
    }

    /// Where it goes, without secrets: the URL's host, or the recipients.
    pub fn describe(&self) -> String {
        let host = |url: &Secret| {
            reqwest::Url::parse(url.expose())
                .ok()
                .and_then(|u| u.host_str().map(|h| format!("{}://{h}/…", u.scheme())))
                .unwrap_or_else(|| "(a URL)".into())
        };
        match self {
            Target::Webhook { url, .. } | Target::Slack { url } => host(url),
            Target::Email(smtp) => {
                format!("{} via {}:{}", smtp.to.join(", "), smtp.host, smtp.port)
            }
            Target::Directory { path } => path.display().to_string(),
        }
    }
}

impl Channel {
    /// Whether this channel tells of `alert`.
    pub fn wants(&self, alert: &AlertRecord) -> bool {
        let rank = |s: &str| SEVERITIES.iter().position(|x| *x == s).unwrap_or(0);
        rank(&alert.severity) >= rank(&self.min_severity)
            && (self.rules.is_empty() || self.rules.contains(&alert.rule))
    }

    /// The wait before try number `attempts + 1`, after `attempts` failed ones.
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(16));
        self.retry_base
            .saturating_mul(factor)
            .min(Duration::from_secs(3600))
    }
}

/// Whether `text` is an address e-mail can be sent to or from (`soc@example.com`, or
/// `SOC <soc@example.com>`).
pub fn valid_address(text: &str) -> bool {
    text.parse::<lettre::message::Mailbox>().is_ok()
}
