//! One delivery attempt on one channel: what the far end answered, or why it could not be
//! reached, in words for the delivery log.

use crate::channel::{Channel, Smtp, Target, Tls};
use crate::message::Told;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// How long one attempt may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Delivers `told` on `channel`: `Ok` with the far end's answer, `Err` with why not.
pub async fn deliver(channel: &Channel, told: &Told) -> Result<String, String> {
    match &channel.target {
        Target::Webhook {
            url,
            signing_secret,
        } => {
            let body = told.webhook_json().to_string();
            let signature = signing_secret.as_ref().map(|key| {
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.expose().as_bytes());
                let tag = ring::hmac::sign(&key, body.as_bytes());
                let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
                format!("sha256={hex}")
            });
            post(url.expose(), body, signature).await
        }
        Target::Slack { url } => post(url.expose(), told.slack_json().to_string(), None).await,
        Target::Email(smtp) => mail(smtp, told).await,
    }
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

async fn mail(smtp: &Smtp, told: &Told) -> Result<String, String> {
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| format!("sender {}: {e}", smtp.from))?;
    let mut message = Message::builder().from(from).subject(told.subject());
    for to in &smtp.to {
        message = message.to(to.parse().map_err(|e| format!("recipient {to}: {e}"))?);
    }
    let message = message
        .multipart(MultiPart::alternative_plain_html(
            told.text(),
            crate::message::html(told),
        ))
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
