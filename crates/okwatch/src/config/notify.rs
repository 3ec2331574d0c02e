//! `[[notify]]` tables: where alerts are sent.
//!
//! ```toml
//! [[notify]]
//! name = "secops"
//! kind = "slack"                       # webhook | slack | email
//! url_env = "OKWATCH_SLACK_WEBHOOK"    # or url_file; the URL holds a token
//! min_severity = "medium"              # the default: attacks, not every change
//! rules = ["okwatch.password_spray"]   # optional: only these detections
//! renewals = true                      # also contract renewal notices (default false)
//!
//! [[notify]]
//! name = "soc-mail"
//! kind = "email"
//! smtp_host = "smtp.example.com"
//! smtp_port = 587
//! tls = "starttls"                     # starttls (default) | tls | none (loopback only)
//! username = "okwatch"
//! password_env = "OKWATCH_SMTP_PASSWORD"
//! from = "okwatch@example.com"
//! to = ["soc@example.com"]
//!
//! [[notify]]
//! name = "archive"
//! kind = "directory"                   # files: alerts as JSON; reports as CSV, JSON, HTML
//! path = "/var/lib/okwatch/reports"
//! ```

use super::{parse_duration, DeValue, Reader, Table};
use okwatch_collect::Secret;
use okwatch_notify::{Channel, Smtp, Target, Tls};
use std::ops::Range;
use std::time::Duration;

pub(super) const NOTIFY_KEYS: &[&str] = &[
    "name",
    "kind",
    "url_env",
    "url_file",
    "signing_secret_env",
    "smtp_host",
    "smtp_port",
    "tls",
    "username",
    "password_env",
    "password_file",
    "from",
    "to",
    "min_severity",
    "rules",
    "retry_base",
    "max_attempts",
    "path",
    "renewals",
];

impl Reader<'_> {
    /// A list of strings (`to`, `rules`).
    fn strings(&mut self, table: &Table<'_>, key: &str) -> Option<Vec<String>> {
        let value = Self::value(table, key)?;
        let list = match value.get_ref() {
            DeValue::Array(items) => items
                .iter()
                .map(|i| i.get_ref().as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>(),
            _ => None,
        };
        if list.is_none() {
            self.problem(
                value.span(),
                format!("`{key}` must be a list of strings, such as [\"a\", \"b\"]"),
            );
        }
        list
    }

    fn integer(&mut self, table: &Table<'_>, key: &str, range: Range<i64>) -> Option<i64> {
        let value = Self::value(table, key)?;
        let number = match value.get_ref() {
            DeValue::Integer(i) => i.as_str().parse::<i64>().ok(),
            _ => None,
        };
        match number.filter(|n| range.contains(n)) {
            Some(n) => Some(n),
            None => {
                self.problem(
                    value.span(),
                    format!(
                        "`{key}` must be a whole number from {} to {}",
                        range.start,
                        range.end - 1
                    ),
                );
                None
            }
        }
    }

    /// A secret named by `{base}_env` or `{base}_file`; a problem if `required` and absent.
    fn channel_secret(
        &mut self,
        table: &Table<'_>,
        base: &str,
        channel: &str,
        required: bool,
        span: Range<usize>,
    ) -> Option<Secret> {
        let (env_key, file_key) = (format!("{base}_env"), format!("{base}_file"));
        let found = self
            .secret_from(table, &env_key, &file_key, &format!("notify `{channel}`"))
            .map(|(s, _)| s);
        if found.is_none()
            && required
            && Self::value(table, &env_key).is_none()
            && Self::value(table, &file_key).is_none()
        {
            self.problem(
                span,
                format!("notify `{channel}` needs `{env_key}` (or `{file_key}`)"),
            );
        }
        found
    }

    pub(super) fn channel(&mut self, table: &Table<'_>, span: Range<usize>) -> Option<Channel> {
        self.known_keys(table, NOTIFY_KEYS, "in [[notify]]");
        let before = self.problems.len();
        let name = match self.string(table, "name") {
            Some((name, _)) if !name.trim().is_empty() => name,
            _ => {
                self.problem(span.clone(), "this [[notify]] channel has no `name`".into());
                String::new()
            }
        };
        let kind = self.string(table, "kind");
        let target = match kind.as_ref().map(|(k, s)| (k.as_str(), s.clone())) {
            Some(("webhook", _)) => {
                let url = self.channel_secret(table, "url", &name, true, span.clone());
                let signing_secret =
                    self.string(table, "signing_secret_env")
                        .and_then(|(var, at)| match (self.env)(&var) {
                            Some(v) if !v.trim().is_empty() => Some(Secret::new(v.trim())),
                            _ => {
                                self.problem(
                                    at,
                                    format!(
                                        "environment variable {var} is not set (notify `{name}`)"
                                    ),
                                );
                                None
                            }
                        });
                url.map(|url| Target::Webhook {
                    url,
                    signing_secret,
                })
            }
            Some(("slack", _)) => self
                .channel_secret(table, "url", &name, true, span.clone())
                .map(|url| Target::Slack { url }),
            Some(("email", _)) => self.smtp(table, &name, span.clone()).map(Target::Email),
            Some(("directory", _)) => match self.string(table, "path") {
                Some((path, _)) if !path.trim().is_empty() => Some(Target::Directory {
                    path: std::path::PathBuf::from(path),
                }),
                _ => {
                    self.problem(
                        span.clone(),
                        format!("notify `{name}` (directory) has no `path`"),
                    );
                    None
                }
            },
            Some((other, at)) => {
                self.problem(
                    at,
                    format!("notify kind `{other}`: use webhook, slack, email or directory"),
                );
                None
            }
            None => {
                self.problem(
                    span.clone(),
                    format!("notify `{name}` has no `kind` (webhook, slack, email or directory)"),
                );
                None
            }
        };
        let min_severity = match self.string(table, "min_severity") {
            None => "medium".to_string(),
            Some((s, at)) => {
                if !okwatch_notify::channel::SEVERITIES.contains(&s.as_str()) {
                    self.problem(
                        at,
                        format!(
                            "`min_severity = \"{s}\"`: use info, low, medium, high or critical"
                        ),
                    );
                }
                s
            }
        };
        let rules = self.strings(table, "rules").unwrap_or_default();
        let retry_base = match self.string(table, "retry_base") {
            None => Duration::from_secs(30),
            Some((text, at)) => parse_duration(&text)
                .filter(|d| *d >= Duration::from_secs(1))
                .unwrap_or_else(|| {
                    self.problem(at, format!("`retry_base = \"{text}\"` must be a duration of at least 1s, such as \"30s\""));
                    Duration::from_secs(30)
                }),
        };
        let max_attempts = self.integer(table, "max_attempts", 1..101).unwrap_or(10) as u32;
        let renewals = self.boolean(table, "renewals");
        if self.problems.len() > before {
            return None;
        }
        Some(Channel {
            name,
            target: target?,
            min_severity,
            rules,
            renewals,
            retry_base,
            max_attempts,
        })
    }

    fn smtp(&mut self, table: &Table<'_>, name: &str, span: Range<usize>) -> Option<Smtp> {
        let host = self.string(table, "smtp_host");
        if host.is_none() && Self::value(table, "smtp_host").is_none() {
            self.problem(
                span.clone(),
                format!("notify `{name}` (email) has no `smtp_host`"),
            );
        }
        let tls = match self.string(table, "tls") {
            None => Tls::StartTls,
            Some((t, at)) => match t.as_str() {
                "starttls" => Tls::StartTls,
                "tls" => Tls::Tls,
                "none" => {
                    let loopback = host.as_ref().is_some_and(|(h, _)| {
                        h == "localhost"
                            || h.parse::<std::net::IpAddr>()
                                .is_ok_and(|ip| ip.is_loopback())
                    });
                    if !loopback {
                        self.problem(at, "`tls = \"none\"` sends passwords and alerts in clear: allowed only for a server on a loopback address".into());
                    }
                    Tls::None
                }
                other => {
                    self.problem(
                        at,
                        format!("`tls = \"{other}\"`: use starttls, tls or none"),
                    );
                    Tls::StartTls
                }
            },
        };
        let default_port = match tls {
            Tls::StartTls => 587,
            Tls::Tls => 465,
            Tls::None => 25,
        };
        let port = self
            .integer(table, "smtp_port", 1..65536)
            .unwrap_or(default_port) as u16;
        let username = self.string(table, "username").map(|(u, _)| u);
        let password =
            self.channel_secret(table, "password", name, username.is_some(), span.clone());
        let from = self.string(table, "from");
        if from.is_none() && Self::value(table, "from").is_none() {
            self.problem(
                span.clone(),
                format!("notify `{name}` (email) has no `from` address"),
            );
        }
        let to = self.strings(table, "to").filter(|t| !t.is_empty());
        let bad_to: Vec<String> = to
            .iter()
            .flatten()
            .filter(|a| !okwatch_notify::channel::valid_address(a))
            .cloned()
            .collect();
        if let (false, Some(value)) = (bad_to.is_empty(), Self::value(table, "to")) {
            self.problem(
                value.span(),
                format!("not e-mail addresses: {}", bad_to.join(", ")),
            );
        }
        if to.is_none() {
            self.problem(
                span,
                format!("notify `{name}` (email) needs `to`, a list of addresses"),
            );
        }
        for (address, at) in from.iter().map(|(f, at)| (f.clone(), at.clone())) {
            if !okwatch_notify::channel::valid_address(&address) {
                self.problem(
                    at,
                    format!("`from = \"{address}\"` is not an e-mail address"),
                );
            }
        }
        Some(Smtp {
            host: host?.0,
            port,
            tls,
            username,
            password,
            from: from?.0,
            to: to?,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{parse, Problem};
    use std::path::Path;

    const ORG: &str =
        "[[org]]\nname = \"acme\"\nurl = \"https://acme.okta.com\"\napi_token_env = \"T\"\n";

    fn env(name: &str) -> Option<String> {
        match name {
            "T" => Some("00token".into()),
            "SLACK" => Some("https://hooks.slack.example/services/T0/B0/secret-part".into()),
            "PW" => Some("smtp-password".into()),
            _ => None,
        }
    }

    fn read(notify: &str) -> Result<crate::config::Config, Vec<Problem>> {
        parse(&format!("{ORG}\n{notify}"), Path::new("/nonexistent"), &env)
    }

    #[test]
    fn channels_are_read_with_their_defaults_and_their_secrets_never_print() {
        let config = read(
            r#"[[notify]]
name = "secops"
kind = "slack"
url_env = "SLACK"

[[notify]]
name = "mail"
kind = "email"
smtp_host = "smtp.example.com"
username = "okwatch"
password_env = "PW"
from = "okwatch@example.com"
to = ["soc@example.com", "Ana <ana@example.com>"]
min_severity = "high"
rules = ["okwatch.brute_force"]
"#,
        )
        .unwrap();
        let [slack, mail] = &config.notify[..] else {
            panic!("two channels: {:?}", config.notify)
        };
        assert_eq!(
            (slack.name.as_str(), slack.target.kind()),
            ("secops", "slack")
        );
        assert_eq!(slack.min_severity, "medium");
        assert_eq!(slack.max_attempts, 10);
        let okwatch_notify::Target::Email(smtp) = &mail.target else {
            panic!("{mail:?}")
        };
        assert_eq!((smtp.port, smtp.tls), (587, okwatch_notify::Tls::StartTls));
        assert_eq!(smtp.to.len(), 2);
        let printed = format!("{:?}", config.notify);
        assert!(
            !printed.contains("secret-part") && !printed.contains("smtp-password"),
            "{printed}"
        );
        assert_eq!(slack.target.describe(), "https://hooks.slack.example/…");
    }

    #[test]
    fn channel_mistakes_are_reported_at_their_lines() {
        let problems = read(
            r#"[[notify]]
name = "a"
kind = "pager"

[[notify]]
name = "b"
kind = "email"
smtp_host = "smtp.example.com"
tls = "none"
from = "not an address"
to = []
colour = "red"

[[notify]]
name = "c"
kind = "slack"
url_env = "MISSING"
min_severity = "urgent"
"#,
        )
        .unwrap_err();
        let said: Vec<(usize, &str)> = problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        let has =
            |line: usize, text: &str| said.iter().any(|(l, m)| *l == line + 5 && m.contains(text));
        assert!(has(3, "notify kind `pager`"), "{said:#?}");
        assert!(has(9, "loopback"), "{said:#?}");
        assert!(has(10, "not an e-mail address"), "{said:#?}");
        assert!(has(5, "needs `to`"), "{said:#?}");
        assert!(has(12, "unknown key `colour` in [[notify]]"), "{said:#?}");
        assert!(has(17, "MISSING is not set (notify `c`)"), "{said:#?}");
        assert!(has(18, "urgent"), "{said:#?}");
    }
}
