//! The command line, as typed data.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Watch user activity in an Okta org: collect the System Log, keep it, search it.
#[derive(Debug, Parser)]
#[command(name = "okwatch", version, about)]
pub struct Cli {
    /// Where okwatch keeps its store [default: $XDG_DATA_HOME/okwatch or ~/.local/share/okwatch]
    #[arg(long, global = true, env = "OKWATCH_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Try okwatch on a simulated Okta org: no configuration needed
    Demo(DemoArgs),
    /// Import System Log events from NDJSON, a JSON array, or an Event Hook delivery (.gz too)
    ///
    /// Exit status: 0 when every event was stored or already present, 3 when some lines were
    /// rejected (each is reported as FILE:LINE: reason and kept in a rejects file in the data
    /// directory), 1 when the import failed.
    Import(ImportArgs),
    /// Search stored events with Okta's filter language and q keywords
    Search(SearchArgs),
    /// Write synthetic but realistic Okta System Log events as NDJSON to standard output
    Generate(GenerateArgs),
    /// Delete events published before a cutoff (retention)
    Purge(PurgeArgs),
    /// Show how many events are stored, their time span and the store's size
    Stats,
    /// Measure import and search speed on generated data
    Bench(BenchArgs),
    /// Collect the orgs of a configuration file, and serve the stored history over an
    /// Okta-compatible API (GET /api/v1/logs), MCP (/mcp), /health and a status API
    Serve(ServeArgs),
    /// Show each org's collection (lag, newest event, rate limit, last error) from the
    /// running `okwatch serve`
    Status(StatusArgs),
    /// Check a configuration file: every problem at once, with its line
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Register, list and remove okwatch's Event Hook in an org (Okta then pushes new events
    /// to okwatch as they happen; polling still fills whatever a hook misses)
    #[command(subcommand)]
    Hooks(HooksCommand),
    /// Answer AI assistants (Claude Desktop and others) over MCP on standard input and output
    ///
    /// The assistant starts this command itself; see the README for the
    /// claude_desktop_config.json entry. The store is opened read-only for each question, so
    /// imports can run in between. While `okwatch serve` or `okwatch demo` holds the store,
    /// connect the assistant to their /mcp endpoint instead.
    Mcp,
    /// Run a simulated Okta org: System Log, users, groups, apps, Event Hooks, rate limits
    Sim(SimArgs),
    /// Create, list and revoke API tokens for `okwatch serve`
    #[command(subcommand)]
    Token(TokenCommand),
    /// Detection rules: list, check, import and export them; run them over stored history
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Run a report over a period: sign-ins, failures, MFA, devices, lifecycle, app access,
    /// admin activity, roles, policies, passwords, suspicious activity, usage
    ///
    /// Each figure is compared with the previous period of the same length. Without a name,
    /// lists the reports.
    Report(ReportArgs),
}

/// `okwatch report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The report (`okwatch report` lists them)
    pub name: Option<String>,
    /// Start: ISO 8601, relative (-7d) or `all` for all history
    #[arg(long, default_value = "-30d", allow_hyphen_values = true)]
    pub since: String,
    /// End (exclusive) [default: now]
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    pub until: String,
    /// Only this org
    #[arg(long)]
    pub org: Option<String>,
    /// `table` for people, `csv` for spreadsheets, `json` for programs
    #[arg(long, default_value = "table", value_parser = ["table", "csv", "json"])]
    pub format: String,
    /// Do not compare with the previous period
    #[arg(long)]
    pub no_compare: bool,
}

/// `okwatch rules`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Every rule (shipped, tuned, your own, Sigma): whether it runs, its severity, what it
    /// catches
    List {
        /// `table` for people, `json` for programs
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
    /// Run the rules over stored history and list the alerts they raise
    Backtest(BacktestArgs),
    /// Check rule files (okwatch YAML or Sigma; files, or folders searched for .yml/.yaml):
    /// each rule loads, or what is wrong is named with its file and line; exit status 1 if any
    /// is refused
    Validate {
        /// Files or folders
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
    },
    /// Add or replace rules from files (okwatch YAML or Sigma): all of them, or none if any is
    /// refused. Through the running `okwatch serve` when it holds the store; they run at once
    Import {
        /// Files or folders
        #[arg(required = true)]
        paths: Vec<std::path::PathBuf>,
    },
    /// Write rules as YAML, for version control: to standard output, or one file per rule
    Export {
        /// Write `ID.yml` files into this folder instead
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Only this rule (repeatable)
        #[arg(long = "rule", value_name = "ID")]
        rules: Vec<String>,
        /// Only the rules someone added or tuned
        #[arg(long)]
        changed: bool,
    },
}

/// `okwatch rules backtest`.
#[derive(Debug, Args)]
pub struct BacktestArgs {
    /// Start: ISO 8601 or relative (-30d) [default: all history]
    #[arg(long, allow_hyphen_values = true)]
    pub since: Option<String>,
    /// End (exclusive) [default: now]
    #[arg(long, allow_hyphen_values = true)]
    pub until: Option<String>,
    /// Only this rule (repeatable), by id, whether it runs or not
    #[arg(long = "rule", value_name = "ID")]
    pub rules: Vec<String>,
    /// Also run the rules in this file or folder (okwatch YAML or Sigma; repeatable), without
    /// importing them. Sigma rules' ids are `sigma.{id}`
    #[arg(long = "file", visible_alias = "sigma", value_name = "PATH")]
    pub files: Vec<std::path::PathBuf>,
    /// `table` for people, `json` for programs: each alert's rule, severity, group, first,
    /// last, events (uuids) and explanation
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

/// `okwatch demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Stop after the tour instead of serving (for tests)
    #[arg(long, hide = true)]
    pub no_serve: bool,
}

/// `okwatch serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The configuration file: orgs to collect, where to listen, the data directory
    #[arg(long, value_name = "FILE", env = "OKWATCH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: the configuration's `listen`, else 127.0.0.1:8080]
    #[arg(long)]
    pub listen: Option<String>,
    /// The URL clients reach the server by, for paging links [default: http:// and the Host header]
    #[arg(long)]
    pub public_url: Option<String>,
}

/// `okwatch status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the status as JSON
    #[arg(long)]
    pub json: bool,
}

/// `okwatch hooks`.
#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Create the hook, delivering every eligible event type to URL, and have Okta verify it
    /// (okwatch serve must be running and reachable at URL)
    Register {
        /// The configuration file (the org's URL, API token and hook secret)
        #[arg(long, value_name = "FILE", env = "OKWATCH_CONFIG")]
        config: PathBuf,
        /// The org, by its name in the configuration
        #[arg(long)]
        org: String,
        /// Where Okta delivers: okwatch's public https:// URL and /hooks/okta/ORG
        #[arg(long)]
        url: String,
    },
    /// List the org's Event Hooks
    List {
        /// The configuration file
        #[arg(long, value_name = "FILE", env = "OKWATCH_CONFIG")]
        config: PathBuf,
        /// The org, by its name in the configuration
        #[arg(long)]
        org: String,
    },
    /// Deactivate and delete a hook
    Remove {
        /// The configuration file
        #[arg(long, value_name = "FILE", env = "OKWATCH_CONFIG")]
        config: PathBuf,
        /// The org, by its name in the configuration
        #[arg(long)]
        org: String,
        /// The hook's id (`okwatch hooks list` shows it)
        id: String,
    },
}

/// `okwatch config`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Read a configuration file and report every problem in it (exit status 1 if any)
    Check {
        /// The configuration file
        #[arg(long, value_name = "FILE", env = "OKWATCH_CONFIG")]
        config: PathBuf,
    },
}

/// `okwatch sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub listen: String,
    /// Random seed: the same seed gives the same org and history
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// People in the org
    #[arg(long, default_value_t = 250)]
    pub users: usize,
    /// Days of history to backfill
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Live events per minute [default: the org's natural rhythm]
    #[arg(long, value_name = "EVENTS_PER_MIN")]
    pub rate: Option<f64>,
    /// The API token clients must send (SSWS or Bearer) [default: a new random one, printed]
    #[arg(long, env = "OKWATCH_SIM_TOKEN")]
    pub token: Option<String>,
    /// /api/v1/logs requests per minute per token before 429 (Okta: half of 120)
    #[arg(long, default_value_t = 60)]
    pub rate_limit: u32,
    /// Faults to inject, e.g. 5xx=0.05,slow=0.05,drop=0.02,late=0.1,duplicates=0.05
    #[arg(long, default_value = "")]
    pub faults: String,
    /// Incidents to plant (comma-separated, or `all`): password-spray, brute-force,
    /// mfa-push-fatigue, impossible-travel, admin-grant-then-api-token,
    /// sign-on-policy-weakened, session-from-second-country
    #[arg(long, value_delimiter = ',')]
    pub incidents: Vec<String>,
    /// Write the planted incidents' ground truth here (one JSON object a line)
    #[arg(long, value_name = "FILE")]
    pub ground_truth: Option<PathBuf>,
    /// Register an OAuth 2.0 API service app with this client id (with --oauth-public-key)
    #[arg(long, value_name = "CLIENT_ID", requires = "oauth_public_key")]
    pub oauth_client_id: Option<String>,
    /// The app's public key, a JWK or PEM file: client assertions must verify with it
    #[arg(long, value_name = "FILE", requires = "oauth_client_id")]
    pub oauth_public_key: Option<PathBuf>,
    /// The app requires DPoP-bound tokens
    #[arg(long, requires = "oauth_client_id")]
    pub oauth_dpop: bool,
}

/// `okwatch token`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token; it is printed once and only its hash is kept
    Create {
        /// What the token is for
        #[arg(long)]
        name: String,
    },
    /// List tokens (never the tokens themselves)
    List,
    /// Revoke a token by id or name
    Revoke {
        /// The token's id or name
        id_or_name: String,
    },
}

/// `okwatch import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import; `-` reads standard input
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// The Okta org these events came from
    #[arg(long, default_value = "default")]
    pub org: String,
    /// Events per transaction
    #[arg(long, default_value_t = 50_000, hide = true)]
    pub batch_size: usize,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Columns that fit the terminal
    Table,
    /// One JSON array
    Json,
    /// One raw event per line
    Ndjson,
    /// Comma-separated values with a header
    Csv,
}

/// Sort orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Sort {
    /// Oldest first
    Asc,
    /// Newest first
    Desc,
}

/// Histogram buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Per {
    /// Per hour
    Hour,
    /// Per day (UTC)
    Day,
    /// Per week (from Monday)
    Week,
    /// Per month
    Month,
}

/// `okwatch search`.
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// Okta filter expression, e.g. 'eventType eq "user.session.start" and outcome.result eq "FAILURE"'
    #[arg(long)]
    pub filter: Option<String>,
    /// Keywords; every one must match a whole word of some value (case-insensitive)
    #[arg(long)]
    pub q: Option<String>,
    /// Oldest time: ISO 8601 or relative (-7d, -24h, now) [default: all history]
    #[arg(long, allow_hyphen_values = true)]
    pub since: Option<String>,
    /// Newest time (exclusive): ISO 8601 or relative [default: now]
    #[arg(long, allow_hyphen_values = true)]
    pub until: Option<String>,
    /// Most events to show
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Show every match (pages through the whole result)
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
    /// Continue after this cursor (printed when there are more results)
    #[arg(long)]
    pub after: Option<String>,
    /// Order by time
    #[arg(long, value_enum, default_value_t = Sort::Desc)]
    pub sort: Sort,
    /// Attributes to show in table and csv output, comma-separated
    #[arg(long, value_delimiter = ',')]
    pub fields: Vec<String>,
    /// Print only how many events match
    #[arg(long)]
    pub count: bool,
    /// Count matches per value of this attribute (largest first; --limit groups)
    #[arg(long, value_name = "FIELD", conflicts_with = "count")]
    pub group_by: Option<String>,
    /// Count matches per time bucket
    #[arg(long, value_enum, conflicts_with_all = ["count", "group_by"])]
    pub per: Option<Per>,
    /// Only this org's events
    #[arg(long)]
    pub org: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `okwatch generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// How many events
    #[arg(long, default_value_t = 10_000)]
    pub events: u64,
    /// Random seed: the same seed gives the same org and events
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// People in the org [default: enough for the events to span --days]
    #[arg(long)]
    pub users: Option<usize>,
    /// Days of history to aim for when choosing the org's size
    #[arg(long, default_value_t = 90)]
    pub days: u64,
    /// Time of the newest event: ISO 8601 or relative [default: now]
    #[arg(long, allow_hyphen_values = true)]
    pub end: Option<String>,
}

/// `okwatch purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Delete events published before this time: ISO 8601 or relative (-400d)
    #[arg(long, allow_hyphen_values = true, value_name = "TIME")]
    pub before: String,
}

/// `okwatch bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Events to generate and import
    #[arg(long, default_value_t = 2_000_000)]
    pub events: u64,
    /// Random seed
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Repetitions per search (the median is reported)
    #[arg(long, default_value_t = 11)]
    pub runs: usize,
    /// Working directory [default: DATA_DIR/bench]
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Measure collection instead: the poller backfills --events from the simulator over
    /// HTTP while searches run on the same store
    #[arg(long)]
    pub backfill: bool,
    /// With --backfill: the simulator's /api/v1/logs requests per minute
    #[arg(long, default_value_t = 600)]
    pub rate_limit: u32,
    /// With --backfill: okwatch's share of the rate limit
    #[arg(long, default_value_t = 0.5)]
    pub share: f64,
    /// Measure the web console instead: its pages and JSON API over --events generated
    /// events, as the server's time, and an export's rows per second and memory
    #[arg(long, conflicts_with = "backfill")]
    pub console: bool,
    /// Measure the detections instead: the shipped rules over a simulated org of --users
    /// people and --days days with every incident planted, in a backtest and live; alerts on
    /// clean activity per rule, and events judged per second
    #[arg(long, conflicts_with_all = ["backfill", "console"])]
    pub detections: bool,
    /// Measure the reports instead: every report over the last 90 days and over all history
    /// of --events generated events, as the engine's time (what the server spends)
    #[arg(long, conflicts_with_all = ["backfill", "console", "detections"])]
    pub reports: bool,
    /// Measure the SaaS overview instead: the inventory, one app, one person, renewals and
    /// the search box over --events generated events and the generated org's directory
    #[arg(long, conflicts_with_all = ["backfill", "console", "detections", "reports"])]
    pub usage: bool,
    /// With --detections: people in the simulated org
    #[arg(long, default_value_t = 2_000)]
    pub users: usize,
    /// With --detections: days of history
    #[arg(long, default_value_t = 30)]
    pub days: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// Options that take a time, by their long name.
    const TIME_OPTIONS: [&str; 4] = ["since", "until", "before", "end"];

    fn time_options(command: &clap::Command, path: &str, found: &mut Vec<String>) {
        for arg in command.get_arguments() {
            if arg.get_long().is_some_and(|l| TIME_OPTIONS.contains(&l)) {
                assert!(
                    arg.is_allow_hyphen_values_set(),
                    "`okwatch{path} --{}` must take `-7d` after a space",
                    arg.get_long().unwrap_or_default()
                );
                found.push(format!("{path} --{}", arg.get_long().unwrap_or_default()));
            }
        }
        for sub in command.get_subcommands() {
            time_options(sub, &format!("{path} {}", sub.get_name()), found);
        }
    }

    #[test]
    fn every_time_option_takes_a_relative_time_after_a_space() {
        let mut found = Vec::new();
        time_options(&Cli::command(), "", &mut found);
        assert!(found.len() >= 8, "{found:?}");
        for line in [
            "okwatch report usage --since -7d --until -1d",
            "okwatch rules backtest --since -7d --until -1h",
            "okwatch search --since -7d --until -1h",
            "okwatch purge --before -400d",
            "okwatch generate --end -1d",
        ] {
            let parsed = Cli::try_parse_from(line.split(' '));
            assert!(parsed.is_ok(), "{line}: {:?}", parsed.err());
        }
    }
}
