//! One delivery attempt on one channel: what the far end answered, or why it could not be
//! reached, in words for the delivery log.

use crate::channel::{Channel, Smtp, Target, Tls};
use crate::message::{Payload, Told};
use crate::report::ReportMail;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one attempt may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Delivers `payload` on `channel`: `Ok` with the far end's answer, `Err` with why not.
pub async fn deliver(channel: &Channel, payload: &Payload) -> Result<String, String> {
    match (&channel.target, payload) {
        (
            Target::Webhook {
                url,
                signing_secret,
            },
            _,
        ) => {
            let body = match payload {
                Payload::Alert(told) => told.webhook_json(),
                Payload::Report(mail) => mail.webhook_json(),
                Payload::Renewal(notice) => notice.webhook_json(),
            }
            .to_string();
            let signature = signing_secret.as_ref().map(|key| {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.expose().as_bytes());
                let tag = ring::hmac::sign(&key, body.as_bytes());
                let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
                format!("sha256={hex}")
            });
            post(url.expose(), body, signature).await
        }
        (Target::Slack { url }, Payload::Alert(told)) => {
            post(url.expose(), told.slack_json().to_string(), None).await
        }
        (Target::Slack { url }, Payload::Report(mail)) => {
            post(url.expose(), mail.slack_json().to_string(), None).await
        }
        (Target::Slack { url }, Payload::Renewal(notice)) => {
            post(url.expose(), notice.slack_json().to_string(), None).await
        }
        (Target::Email(smtp), Payload::Renewal(notice)) => {
            let body = MultiPart::alternative_plain_html(notice.text.clone(), notice.html.clone());
            mail(smtp, &smtp.to, (notice.subject.clone(), body)).await
        }
        (Target::Email(smtp), Payload::Alert(told)) => {
            mail(smtp, &smtp.to, alert_message(told)).await
        }
        (Target::Email(smtp), Payload::Report(report)) => {
            let to = if report.recipients.is_empty() {
                &smtp.to
            } else {
                &report.recipients
            };
            mail(smtp, to, report_message(report)).await
        }
        (Target::Directory { path }, _) => {
            let path = path.clone();
            let payload = payload.clone();
            tokio::task::spawn_blocking(move || write_files(&path, &payload))
                .await
                .map_err(|e| format!("the file writer stopped: {e}"))?
        }
    }
}

/// An alert's e-mail: its text and its HTML.
fn alert_message(told: &Told) -> (String, MultiPart) {
    (
        told.subject(),
        MultiPart::alternative_plain_html(told.text(), crate::message::html(told)),
    )
}

/// A report's e-mail: the HTML page with its chart (text beside it), the CSV attached.
fn report_message(report: &ReportMail) -> (String, MultiPart) {
    let body = MultiPart::alternative_plain_html(report.text.clone(), report.html.clone());
    let csv = Attachment::new(format!("{}.csv", report.file_stem)).body(
        report.csv.clone(),
        ContentType::parse("text/csv; charset=utf-8").expect("a valid content type"),
    );
    (
        report.subject.clone(),
        MultiPart::mixed().multipart(body).singlepart(csv),
    )
}

/// Writes the payload's files into `dir`, each whole or not at all (written aside, then
/// renamed), so a tool watching the directory never reads half a file.
fn write_files(dir: &std::path::Path, payload: &Payload) -> Result<String, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    let files: Vec<(String, String)> = match payload {
        Payload::Alert(told) => vec![(
            format!(
                "alert-{}-{}.json",
                safe_name(&told.alert.id),
                told.alert.severity
            ),
            serde_json::to_string_pretty(&told.webhook_json()).unwrap_or_default(),
        )],
        Payload::Renewal(notice) => vec![(
            format!("{}.json", safe_name(&notice.file_stem)),
            serde_json::to_string_pretty(&notice.webhook_json()).unwrap_or_default(),
        )],
        Payload::Report(report) => {
            let stem = safe_name(&report.file_stem);
            vec![
                (format!("{stem}.csv"), report.csv.clone()),
                (
                    format!("{stem}.json"),
                    serde_json::to_string_pretty(&report.json).unwrap_or_default(),
                ),
                (format!("{stem}.html"), report.html.clone()),
            ]
        }
    };
    let mut written = Vec::new();
    for (name, content) in files {
        let target = dir.join(&name);
        let aside = dir.join(format!(".{name}.partial"));
        std::fs::write(&aside, content)
            .and_then(|()| std::fs::rename(&aside, &target))
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
        written.push(name);
    }
    Ok(format!("wrote {} in {}", written.join(", "), dir.display()))
}

/// A file name made only of letters, digits, `-`, `_` and `.` (ids come from the store, but a
/// path separator must never reach the file system).
fn safe_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_string()
}

async fn post(url: &str, body: String, signature: Option<String>) -> Result<String, String> {
    let client = okwatch_collect::http::client(TIMEOUT).map_err(|e| e.to_string())?;
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", concat!("okwatch/", env!("CARGO_PKG_VERSION")));
    if let Some(signature) = signature {
        request = request.header("x-okwatch-signature", signature);
    }
    // The URL can hold a token: errors name the host only.
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let answer = request
        .body(body)
        .send()
        .await
        .map_err(|e| format!("cannot reach {host}: {}", without_url(&e)))?;
    let status = answer.status();
    let text = answer.text().await.unwrap_or_default();
    let said: String = text.chars().take(200).collect();
    if status.is_success() {
        Ok(format!("HTTP {}", status.as_u16()))
    } else {
        Err(format!(
            "HTTP {} from {host}: {}",
            status.as_u16(),
            said.trim()
        ))
    }
}

/// reqwest's error without the URL it carries.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection refused or failed"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut deepest = None;
    while let Some(inner) = source {
        deepest = Some(inner.to_string());
        source = inner.source();
    }
    match deepest {
        Some(cause) => format!("{kind} ({cause})"),
        None => kind.to_string(),
    }
}

async fn mail(
    smtp: &Smtp,
    to: &[String],
    (subject, body): (String, MultiPart),
) -> Result<String, String> {
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| format!("sender {}: {e}", smtp.from))?;
    let mut message = Message::builder().from(from).subject(subject);
    for to in to {
        message = message.to(to.parse().map_err(|e| format!("recipient {to}: {e}"))?);
    }
    let message = message
        .multipart(body)
        .map_err(|e| format!("cannot build the message: {e}"))?;
    let builder = match smtp.tls {
        Tls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host),
        Tls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host),
        Tls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            &smtp.host,
        )),
    }
    .map_err(|e| format!("SMTP server {}: {e}", smtp.host))?;
    let mut builder = builder.port(smtp.port).timeout(Some(TIMEOUT));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose().into()));
    }
    let answer = builder
        .build()
        .send(message)
        .await
        .map_err(|e| format!("SMTP {}:{}: {e}", smtp.host, smtp.port))?;
    Ok(format!(
        "SMTP {} {}",
        answer.code(),
        answer.message().collect::<Vec<_>>().join(" ")
    ))
}
