//! `okwatch.toml`, the configuration of `okwatch serve`: read into typed settings, with every
//! problem in the file reported at once, each at its `file:line:column` with what to do.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! data_dir = "/var/lib/okwatch"
//!
//! [[org]]
//! name = "acme"
//! url = "https://acme.okta.com"
//! api_token_env = "OKTA_ACME_TOKEN"     # or api_token_file = "/run/secrets/okta"
//! hook_secret_env = "OKWATCH_ACME_HOOK_SECRET"
//! backfill_since = "-90d"
//! rate_limit_share = 0.5
//! poll_interval = "10s"
//! directory_sync = "6h"                 # people, groups, apps and assignments; "off" to skip
//! ```
//!
//! Secrets never appear in the file: it names the environment variable or file that holds
//! them, and they are read into [`Secret`]s, which never print.

use okwatch_collect::oauth::keys::{KeyError, SigningKey};
use okwatch_collect::oauth::DEFAULT_SCOPES;
use okwatch_collect::{Credentials, OAuthClient, OAuthSettings, Secret};
use std::fmt;
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The settings of `okwatch serve`.
#[derive(Debug)]
pub struct Config {
    /// Where to listen for HTTP.
    pub listen: Option<String>,
    /// Where the store lives.
    pub data_dir: Option<PathBuf>,
    /// The orgs to collect.
    pub orgs: Vec<OrgConfig>,
    /// Where alerts are sent.
    pub notify: Vec<okwatch_notify::Channel>,
}

/// One org to collect.
#[derive(Debug)]
pub struct OrgConfig {
    /// The `org` of its stored events.
    pub name: String,
    /// Its base URL, without a trailing slash.
    pub url: String,
    /// How okwatch authenticates to it.
    pub credentials: Credentials,
    /// Where the credentials come from, for messages (`$OKTA_ACME_TOKEN`, a file path).
    pub credentials_source: String,
    /// The `Authorization` value its Event Hook sends, when hooks are set up.
    pub hook_secret: Option<Secret>,
    /// Where a first collection starts: ISO 8601 or relative (`-90d`).
    pub backfill_since: String,
    /// The share of Okta's rate limit okwatch may use.
    pub rate_limit_share: f64,
    /// The pause between polls once caught up.
    pub poll_interval: Duration,
    /// How often the directory (people, groups, apps, assignments) is listed again; `None`:
    /// never.
    pub directory_sync: Option<Duration>,
}

/// One thing wrong in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

/// Everything wrong with a configuration file.
#[derive(Debug)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// Each problem, in file order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "{} has {n} problem{}:",
            self.path.display(),
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            writeln!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                p.line,
                p.column,
                p.message
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

const TOP_KEYS: &[&str] = &["listen", "data_dir", "org", "notify"];
const ORG_KEYS: &[&str] = &[
    "name",
    "url",
    "api_token_env",
    "api_token_file",
    "oauth",
    "hook_secret_env",
    "hook_secret_file",
    "backfill_since",
    "rate_limit_share",
    "poll_interval",
    "directory_sync",
];
const OAUTH_KEYS: &[&str] = &["client_id", "private_key_file", "key_id", "scopes", "dpop"];

/// Reads the configuration at `path`; secrets come from the process environment and files.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        problems: vec![Problem {
            line: 1,
            column: 1,
            message: format!("cannot read the file: {e}"),
        }],
    })?;
    parse(&text, path.parent().unwrap_or(Path::new(".")), &|name| {
        std::env::var(name).ok()
    })
    .map_err(|problems| ConfigError {
        path: path.to_path_buf(),
        problems,
    })
}

/// Reads configuration `text`; relative secret files are found from `base_dir`, environment
/// variables through `env`.
pub fn parse(
    text: &str,
    base_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Vec<Problem>> {
    let (document, syntax_errors) = DeTable::parse_recoverable(text);
    let mut reader = Reader {
        text,
        problems: Vec::new(),
        base_dir,
        env,
    };
    for error in syntax_errors {
        let span = error.span().unwrap_or(0..0);
        reader.problem(span, format!("not valid TOML: {}", error.message()));
    }
    let root = document.get_ref();
    reader.known_keys(root, TOP_KEYS, "at the top level");
    let listen = reader.string(root, "listen").map(|(v, _)| v);
    let data_dir = reader
        .string(root, "data_dir")
        .map(|(v, _)| PathBuf::from(v));
    let mut orgs: Vec<OrgConfig> = Vec::new();
    match root.get("org") {
        None => reader.problem(
            0..0,
            "no org to collect: add an [[org]] table with name, url and api_token_env".into(),
        ),
        Some(value) => match value.get_ref() {
            DeValue::Array(items) => {
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::Table(table) => {
                            if let Some(org) = reader.org(table, item.span()) {
                                if let Some(first) = orgs.iter().find(|o| o.name == org.name) {
                                    reader.problem(
                                        item.span(),
                                        format!("org `{}` is configured twice", first.name),
                                    );
                                } else {
                                    orgs.push(org);
                                }
                            }
                        }
                        _ => reader.problem(item.span(), "each org must be a table".into()),
                    }
                }
            }
            _ => reader.problem(
                value.span(),
                "`org` must be written as [[org]] tables, one per org".into(),
            ),
        },
    }
    let notify = reader.channels(root);
    if reader.problems.is_empty() {
        Ok(Config {
            listen,
            data_dir,
            orgs,
            notify,
        })
    } else {
        reader.problems.sort_by_key(|p| (p.line, p.column));
        Err(reader.problems)
    }
}

mod notify;

struct Reader<'a> {
    text: &'a str,
    problems: Vec<Problem>,
    base_dir: &'a Path,
    env: &'a dyn Fn(&str) -> Option<String>,
}

type Table<'i> = DeTable<'i>;

impl Reader<'_> {
    /// Every `[[notify]]` channel; names must differ.
    fn channels(&mut self, root: &Table<'_>) -> Vec<okwatch_notify::Channel> {
        let mut channels: Vec<okwatch_notify::Channel> = Vec::new();
        let Some(value) = root.get("notify") else {
            return channels;
        };
        let DeValue::Array(items) = value.get_ref() else {
            self.problem(
                value.span(),
                "`notify` must be written as [[notify]] tables, one per channel".into(),
            );
            return channels;
        };
        for item in items.iter() {
            let DeValue::Table(table) = item.get_ref() else {
                self.problem(item.span(), "each notify channel must be a table".into());
                continue;
            };
            if let Some(channel) = self.channel(table, item.span()) {
                if channels.iter().any(|c| c.name == channel.name) {
                    self.problem(
                        item.span(),
                        format!("notify channel `{}` is configured twice", channel.name),
                    );
                } else {
                    channels.push(channel);
                }
            }
        }
        channels
    }

    /// A `true`/`false` key; false when absent (or wrong, which is a problem).
    fn boolean(&mut self, table: &Table<'_>, key: &str) -> bool {
        match Self::value(table, key) {
            None => false,
            Some(v) => match v.get_ref() {
                DeValue::Boolean(b) => *b,
                _ => {
                    self.problem(v.span(), format!("`{key}` must be true or false"));
                    false
                }
            },
        }
    }

    fn problem(&mut self, span: Range<usize>, message: String) {
        let before = &self.text[..span.start.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        self.problems.push(Problem {
            line,
            column,
            message,
        });
    }

    fn known_keys(&mut self, table: &Table<'_>, known: &[&str], place: &str) {
        for (key, _) in table.iter() {
            let name: &str = key.get_ref().as_ref();
            if known.contains(&name) {
                continue;
            }
            let hint = known
                .iter()
                .find(|k| edit_distance(k, name) <= 2)
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_else(|| format!("; known keys: {}", known.join(", ")));
            self.problem(key.span(), format!("unknown key `{name}` {place}{hint}"));
        }
    }

    fn value<'t, 'i>(table: &'t Table<'i>, key: &str) -> Option<&'t Spanned<DeValue<'i>>> {
        table.get(key)
    }

    fn string(&mut self, table: &Table<'_>, key: &str) -> Option<(String, Range<usize>)> {
        let value = Self::value(table, key)?;
        match value.get_ref().as_str() {
            Some(s) => Some((s.to_string(), value.span())),
            None => {
                self.problem(
                    value.span(),
                    format!(
                        "`{key}` must be a string in double quotes (found {})",
                        value.get_ref().type_str()
                    ),
                );
                None
            }
        }
    }

    fn org(&mut self, table: &Table<'_>, span: Range<usize>) -> Option<OrgConfig> {
        self.known_keys(table, ORG_KEYS, "in [[org]]");
        let before = self.problems.len();
        let name = match self.string(table, "name") {
            Some((name, span)) => {
                let valid = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !valid {
                    self.problem(
                        span,
                        format!("org name `{name}` must be letters, digits, - and _ only (it names the org in stored events and URLs)"),
                    );
                }
                name
            }
            None => {
                if Self::value(table, "name").is_none() {
                    self.problem(span.clone(), "this org has no `name`".into());
                }
                String::new()
            }
        };
        let url = match self.string(table, "url") {
            Some((url, span)) => self.org_url(&url, span),
            None => {
                if Self::value(table, "url").is_none() {
                    self.problem(
                        span.clone(),
                        format!("org `{name}` has no `url` (such as \"https://{name}.okta.com\")"),
                    );
                }
                None
            }
        };
        let credentials = self.credentials(table, &name, url.as_deref(), span.clone());
        let hook_secret = self
            .secret_from(
                table,
                "hook_secret_env",
                "hook_secret_file",
                &format!("org `{name}`"),
            )
            .map(|(s, _)| s);
        let backfill_since = match self.string(table, "backfill_since") {
            Some((since, span)) => {
                if okwatch_model::parse_time_bound(&since, chrono::Utc::now()).is_err() {
                    self.problem(
                        span,
                        format!("`backfill_since = \"{since}\"` is not a time: use -90d, -24h or a date such as 2026-01-31"),
                    );
                }
                since
            }
            None => "-90d".into(),
        };
        let rate_limit_share = match Self::value(table, "rate_limit_share") {
            None => 0.5,
            Some(v) => {
                let number = match v.get_ref() {
                    DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
                    DeValue::Integer(i) => i.as_str().parse::<f64>().ok(),
                    _ => None,
                };
                match number.filter(|n| *n > 0.0 && *n <= 1.0) {
                    Some(n) => n,
                    None => {
                        self.problem(
                            v.span(),
                            "`rate_limit_share` must be a number above 0 and at most 1 (0.5 leaves half of Okta's rate limit to other integrations)".into(),
                        );
                        0.5
                    }
                }
            }
        };
        let poll_interval = match self.string(table, "poll_interval") {
            None => Duration::from_secs(10),
            Some((text, span)) => match parse_duration(&text) {
                Some(d) if d >= Duration::from_secs(1) => d,
                _ => {
                    self.problem(
                        span,
                        format!("`poll_interval = \"{text}\"` must be a duration of at least 1s, such as \"10s\" or \"1m\""),
                    );
                    Duration::from_secs(10)
                }
            },
        };
        let directory_sync = match self.string(table, "directory_sync") {
            None => Some(Duration::from_secs(6 * 3600)),
            Some((text, _)) if text == "off" => None,
            Some((text, span)) => match parse_duration(&text) {
                Some(d) if d >= Duration::from_secs(60) => Some(d),
                _ => {
                    self.problem(
                        span,
                        format!("`directory_sync = \"{text}\"` must be \"off\" or a duration of at least 1m, such as \"6h\""),
                    );
                    None
                }
            },
        };
        if self.problems.len() > before {
            return None;
        }
        let (credentials, credentials_source) = credentials?;
        Some(OrgConfig {
            name,
            url: url?,
            credentials,
            credentials_source,
            hook_secret,
            backfill_since,
            rate_limit_share,
            poll_interval,
            directory_sync,
        })
    }

    /// `https://…`, or `http://…` for a loopback address only (the simulator, tests).
    fn org_url(&mut self, url: &str, span: Range<usize>) -> Option<String> {
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        let host_port = rest.split('/').next().unwrap_or_default();
        let host = if let Some(bracketed) = host_port.strip_prefix('[') {
            bracketed.split(']').next().unwrap_or_default()
        } else {
            host_port.rsplit_once(':').map_or(host_port, |(h, _)| h)
        };
        let loopback =
            host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        let path = &rest[host_port.len()..];
        let message = match scheme {
            _ if host.is_empty() => Some(format!("`{url}` is not a URL such as https://acme.okta.com")),
            "https" if path.trim_matches('/').is_empty() => None,
            "http" if loopback && path.trim_matches('/').is_empty() => None,
            "http" if !loopback => Some(format!(
                "`{url}` uses http://, which would send the API token in the clear: use https:// (http:// is allowed only for loopback addresses such as the simulator)"
            )),
            "http" | "https" => Some(format!(
                "`{url}` has a path; give only the org's address, such as https://acme.okta.com"
            )),
            _ => Some(format!("`{url}` must start with https://")),
        };
        match message {
            Some(message) => {
                self.problem(span, message);
                None
            }
            None => Some(url.trim_end_matches('/').to_string()),
        }
    }

    fn credentials(
        &mut self,
        table: &Table<'_>,
        org: &str,
        url: Option<&str>,
        span: Range<usize>,
    ) -> Option<(Credentials, String)> {
        let oauth = Self::value(table, "oauth");
        let token = self.secret_from(
            table,
            "api_token_env",
            "api_token_file",
            &format!("org `{org}`"),
        );
        match (oauth, token) {
            (Some(oauth), token) => {
                if token.is_some()
                    || Self::value(table, "api_token_env").is_some()
                    || Self::value(table, "api_token_file").is_some()
                {
                    self.problem(
                        oauth.span(),
                        format!("org `{org}` has both an API token and [org.oauth]: keep one"),
                    );
                    return None;
                }
                self.oauth(oauth, org, url)
            }
            (None, Some((token, source))) => Some((Credentials::ApiToken(token), source)),
            (None, None) => {
                if Self::value(table, "api_token_env").is_none()
                    && Self::value(table, "api_token_file").is_none()
                {
                    self.problem(
                        span,
                        format!("org `{org}` has no credentials: set api_token_env to the name of an environment variable holding its API token (or api_token_file), or add an [org.oauth] service app"),
                    );
                }
                None
            }
        }
    }

    /// `[org.oauth]`: an API service app with `private_key_jwt`.
    fn oauth(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        org: &str,
        url: Option<&str>,
    ) -> Option<(Credentials, String)> {
        let DeValue::Table(table) = value.get_ref() else {
            self.problem(
                value.span(),
                "`oauth` must be a table: [org.oauth] with client_id and private_key_file".into(),
            );
            return None;
        };
        self.known_keys(table, OAUTH_KEYS, "in [org.oauth]");
        let before = self.problems.len();
        let client_id = self.string(table, "client_id");
        if Self::value(table, "client_id").is_none() {
            self.problem(
                value.span(),
                format!("[org.oauth] of org `{org}` has no `client_id` (the service app's client id, 0oa…)"),
            );
        }
        let key_id = self.string(table, "key_id").map(|(k, _)| k);
        let key = match self.string(table, "private_key_file") {
            Some((file, span)) => {
                let path = self.base_dir.join(&file);
                match SigningKey::from_file(&path, key_id.as_deref()) {
                    Ok(key) => Some((key, path)),
                    Err(KeyError::Io { error, .. }) => {
                        self.problem(
                            span,
                            format!("cannot read {} (org `{org}`): {error}", path.display()),
                        );
                        None
                    }
                    Err(e) => {
                        self.problem(span, format!("{}: {e} (org `{org}`)", path.display()));
                        None
                    }
                }
            }
            None => {
                if Self::value(table, "private_key_file").is_none() {
                    self.problem(
                        value.span(),
                        format!("[org.oauth] of org `{org}` has no `private_key_file` (the PEM or JWK private key registered with the app)"),
                    );
                }
                None
            }
        };
        let scopes = match Self::value(table, "scopes") {
            None => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            Some(v) => {
                let scopes: Option<Vec<String>> = match v.get_ref() {
                    DeValue::Array(items) => items
                        .iter()
                        .map(|i| i.get_ref().as_str().map(str::to_string))
                        .collect(),
                    _ => None,
                };
                match scopes.filter(|s| !s.is_empty()) {
                    Some(scopes) => scopes,
                    None => {
                        self.problem(
                            v.span(),
                            "`scopes` must be a list of strings, such as [\"okta.logs.read\", \"okta.eventHooks.manage\"]".into(),
                        );
                        Vec::new()
                    }
                }
            }
        };
        let dpop = self.boolean(table, "dpop");
        if self.problems.len() > before {
            return None;
        }
        let ((client_id, _), (key, path)) = (client_id?, key?);
        let settings = OAuthSettings {
            client_id: client_id.clone(),
            key,
            scopes,
            dpop,
        };
        match OAuthClient::new(url?, settings) {
            Ok(client) => Some((
                Credentials::OAuth(Arc::new(client)),
                format!("service app {client_id}, key {}", path.display()),
            )),
            Err(e) => {
                self.problem(value.span(), format!("org `{org}`: {e}"));
                None
            }
        }
    }

    /// A secret named by an environment variable (`env_key`) or a file (`file_key`), not both.
    fn secret_from(
        &mut self,
        table: &Table<'_>,
        env_key: &str,
        file_key: &str,
        whose: &str,
    ) -> Option<(Secret, String)> {
        let from_env = self.string(table, env_key);
        let from_file = self.string(table, file_key);
        match (from_env, from_file) {
            (Some(_), Some((_, span))) => {
                self.problem(span, format!("give `{env_key}` or `{file_key}`, not both"));
                None
            }
            (Some((name, span)), None) => match (self.env)(&name) {
                Some(value) if !value.trim().is_empty() => {
                    Some((Secret::new(value.trim()), format!("${name}")))
                }
                Some(_) => {
                    self.problem(
                        span,
                        format!("environment variable {name} is empty ({whose})"),
                    );
                    None
                }
                None => {
                    self.problem(span, format!("environment variable {name} is not set ({whose}): export it before starting okwatch"));
                    None
                }
            },
            (None, Some((file, span))) => {
                let path = self.base_dir.join(&file);
                match std::fs::read_to_string(&path) {
                    Ok(value) if !value.trim().is_empty() => {
                        Some((Secret::new(value.trim()), path.display().to_string()))
                    }
                    Ok(_) => {
                        self.problem(span, format!("{} is empty ({whose})", path.display()));
                        None
                    }
                    Err(e) => {
                        self.problem(
                            span,
                            format!("cannot read {} ({whose}): {e}", path.display()),
                        );
                        None
                    }
                }
            }
            (None, None) => None,
        }
    }
}

/// `10s`, `2m`, `1h`, `500ms`, or a number of seconds.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "" | "s" => number,
        "ms" => number / 1000.0,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return None,
    };
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "OKTA_ACME_TOKEN" => Some("00acme-secret-token".into()),
            "EMPTY" => Some("  ".into()),
            _ => None,
        }
    }

    fn read(text: &str) -> Result<Config, Vec<Problem>> {
        parse(text, Path::new("/nonexistent"), &env)
    }

    #[test]
    fn a_complete_file_is_read_with_its_defaults() {
        let config = read(
            r#"
listen = "127.0.0.1:9000"
data_dir = "/var/lib/okwatch"

[[org]]
name = "acme"
url = "https://acme.okta.com/"
api_token_env = "OKTA_ACME_TOKEN"

[[org]]
name = "sim"
url = "http://127.0.0.1:9090"
api_token_env = "OKTA_ACME_TOKEN"
backfill_since = "-7d"
rate_limit_share = 0.8
poll_interval = "2s"
directory_sync = "off"
"#,
        )
        .unwrap();
        assert_eq!(config.listen.as_deref(), Some("127.0.0.1:9000"));
        assert_eq!(config.data_dir, Some(PathBuf::from("/var/lib/okwatch")));
        let acme = &config.orgs[0];
        assert_eq!(acme.url, "https://acme.okta.com");
        assert_eq!(acme.backfill_since, "-90d");
        assert_eq!(acme.rate_limit_share, 0.5);
        assert_eq!(acme.poll_interval, Duration::from_secs(10));
        assert_eq!(acme.directory_sync, Some(Duration::from_secs(6 * 3600)));
        assert_eq!(acme.credentials_source, "$OKTA_ACME_TOKEN");
        let Credentials::ApiToken(token) = &acme.credentials else {
            panic!("an API token: {:?}", acme.credentials)
        };
        assert_eq!(token.expose(), "00acme-secret-token");
        let sim = &config.orgs[1];
        assert_eq!(
            (sim.rate_limit_share, sim.poll_interval),
            (0.8, Duration::from_secs(2))
        );
        assert_eq!(sim.directory_sync, None);
        // Printing the whole configuration never shows a token.
        assert!(!format!("{config:?}").contains("secret-token"));
    }

    #[test]
    fn every_problem_is_reported_at_once_with_its_line() {
        let problems = read(
            r#"listen = 8080
lissen = "x"

[[org]]
name = "acme"
url = "http://acme.okta.com"
api_token_env = "OKTA_MISSING"
rate_limit_share = 2
poll_interval = "soon"
backfil_since = "-90d"

[[org]]
name = "bad name"
url = "https://b.okta.com"
api_token_env = "OKTA_ACME_TOKEN"
api_token_file = "token.txt"

[[org]]
url = "https://c.okta.com/api/v1"
"#,
        )
        .unwrap_err();
        let lines: Vec<(usize, &str)> = problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        let expect = [
            (1, "`listen` must be a string"),
            (
                2,
                "unknown key `lissen` at the top level; did you mean `listen`?",
            ),
            (6, "uses http://"),
            (7, "OKTA_MISSING is not set"),
            (8, "`rate_limit_share` must be a number above 0"),
            (9, "`poll_interval = \"soon\"`"),
            (10, "did you mean `backfill_since`?"),
            (13, "org name `bad name`"),
            (16, "not both"),
            (18, "this org has no `name`"),
            (18, "has no credentials"),
            (19, "has a path"),
        ];
        for (line, text) in expect {
            assert!(
                lines.iter().any(|(l, m)| *l == line && m.contains(text)),
                "no problem on line {line} containing {text:?} in {lines:#?}"
            );
        }
        assert_eq!(lines.len(), expect.len(), "{lines:#?}");
        assert!(problems
            .iter()
            .all(|p| !p.message.contains("00acme-secret-token")));
    }

    #[test]
    fn syntax_errors_unknown_sections_and_missing_orgs_are_problems_too() {
        let problems = read("listen = \"x\"\n[[org]\nname = \"a\"\n").unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.line == 2 && p.message.starts_with("not valid TOML")),
            "{problems:?}"
        );
        let problems = read("listen = \"127.0.0.1:1\"\n").unwrap_err();
        assert!(
            problems[0].message.contains("no org to collect"),
            "{problems:?}"
        );
        let problems = read(
            "[[org]]\nname = \"a\"\nurl = \"https://a.okta.com\"\napi_token_env = \"EMPTY\"\n[org.oauth]\nclient_id = \"x\"\n",
        )
        .unwrap_err();
        let messages: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(
            messages.iter().any(|m| m.contains("EMPTY is empty")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("both an API token and [org.oauth]")),
            "{messages:?}"
        );
    }

    #[test]
    fn a_token_file_is_read_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("acme.token"), "00from-a-file\n").unwrap();
        let config = parse(
            "[[org]]\nname = \"acme\"\nurl = \"https://acme.okta.com\"\napi_token_file = \"acme.token\"\n",
            dir.path(),
            &env,
        )
        .unwrap();
        let Credentials::ApiToken(token) = &config.orgs[0].credentials else {
            panic!("an API token")
        };
        assert_eq!(token.expose(), "00from-a-file");
    }

    /// The test key of okwatch-collect's fixtures.
    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../okwatch-collect/tests/fixtures")
            .join(name)
    }

    #[test]
    fn a_service_app_is_read_with_its_key() {
        let dir = fixture("");
        for (file, key_id) in [
            ("rsa-test-key.pem", "\nkey_id = \"k1\""),
            ("rsa-test-key.jwk", ""),
        ] {
            let text = format!(
                "[[org]]\nname = \"acme\"\nurl = \"https://acme.okta.com\"\n[org.oauth]\nclient_id = \"0oa1\"\nprivate_key_file = \"{file}\"{key_id}\nscopes = [\"okta.logs.read\", \"okta.eventHooks.manage\"]\ndpop = true\n"
            );
            let config = parse(&text, &dir, &env).unwrap();
            let org = &config.orgs[0];
            let Credentials::OAuth(app) = &org.credentials else {
                panic!("a service app: {:?}", org.credentials)
            };
            assert_eq!(app.client_id(), "0oa1");
            assert!(
                org.credentials_source.contains(file),
                "{}",
                org.credentials_source
            );
            // The private key never shows in what okwatch prints about its configuration.
            let shown = format!("{config:?}");
            let key = std::fs::read_to_string(dir.join(file)).unwrap();
            let private_part = key.lines().nth(3).unwrap().trim();
            assert!(!shown.contains(private_part), "{shown}");
        }
    }

    #[test]
    fn service_app_problems_are_reported_at_their_lines() {
        let dir = fixture("");
        let problems = parse(
            r#"[[org]]
name = "acme"
url = "https://acme.okta.com"
[org.oauth]
client_id = "0oa1"
private_key_file = "rsa-test-key.public.pem"
dpop = "yes"
scope = ["okta.logs.read"]

[[org]]
name = "beta"
url = "https://beta.okta.com"
[org.oauth]
private_key_file = "missing.pem"
"#,
            &dir,
            &env,
        )
        .unwrap_err();
        let lines: Vec<(usize, &str)> = problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        let expect = [
            (6, "holds a public key"),
            (7, "`dpop` must be true or false"),
            (8, "did you mean `scopes`?"),
            (13, "has no `client_id`"),
            (14, "missing.pem"),
        ];
        for (line, text) in expect {
            assert!(
                lines.iter().any(|(l, m)| *l == line && m.contains(text)),
                "no problem on line {line} containing {text:?} in {lines:#?}"
            );
        }
        assert_eq!(lines.len(), expect.len(), "{lines:#?}");
    }

    #[test]
    fn durations_and_distances() {
        assert_eq!(parse_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("15"), Some(Duration::from_secs(15)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(edit_distance("lissen", "listen"), 1);
        assert_eq!(edit_distance("backfil_since", "backfill_since"), 1);
    }
}
