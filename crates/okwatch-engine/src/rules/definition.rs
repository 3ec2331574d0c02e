//! Rules as text: okwatch's own YAML rule format (one rule per document, meant for version
//! control), and reading either it or a Sigma rule from a file, the console or the API.
//!
//! ```yaml
//! id: acme.vpn_failures            # letters, digits, `.`, `_`, `-`
//! name: Failed VPN sign-ins
//! description: Many failed sign-ins to the VPN app for one user.
//! severity: medium                 # info, low, medium, high or critical
//! filter: 'eventType eq "user.session.start" and outcome.result eq "FAILURE"'
//! group_by: actor.alternateId      # optional: without it, every event is one group
//! condition:                       # optional: without it, every match is an alert
//!   kind: count                    # any, count, distinct, sequence or travel
//!   at_least: 10
//!   within: 30m                    # s, m, h or d
//! suppress: 1h                     # optional: by default the condition's window
//! escalate:                        # optional: a follow-up that makes an alert worse
//!   when: 'eventType eq "user.session.start" and outcome.result eq "SUCCESS"'
//!   within: 3h
//!   severity: critical
//!   among: true                    # distinct: the follow-up's value is one of the alert's
//! runbook: Ask the user; block the source if it was not them.
//! enabled: true                    # optional
//! ```

use super::sigma::{SigmaError, SigmaRule};
use super::{pack, Condition, Escalation, Rule, Severity};
use chrono::TimeDelta;
use okwatch_query::{parse_and_validate, Dialect};
use serde::{Deserialize, Serialize};

/// Why a rule's text cannot run.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    /// Not YAML, or not shaped like a rule (the message names the line).
    #[error("{0}")]
    Yaml(String),
    /// One field is wrong.
    #[error("`{field}`: {message}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A Sigma rule okwatch cannot run.
    #[error("Sigma rule: {0}")]
    Sigma(#[from] SigmaError),
}

fn field_error(field: &'static str, message: impl Into<String>) -> RuleError {
    RuleError::Field {
        field,
        message: message.into(),
    }
}

/// Which format a rule's text is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// okwatch's own.
    Okwatch,
    /// A Sigma rule.
    Sigma,
}

/// A rule read from text.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The rule, ready to run.
    pub rule: Rule,
    /// Its format.
    pub format: Format,
    /// What the person should know (an unfilled Sigma placeholder…).
    pub notes: Vec<String>,
}

/// okwatch's rule file, as written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    id: String,
    name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    description: String,
    severity: String,
    filter: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group_by: Option<String>,
    #[serde(default)]
    condition: ConditionFile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    suppress: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    escalate: Option<EscalationFile>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    runbook: String,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EscalationFile {
    when: String,
    within: String,
    severity: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    among: bool,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
enum ConditionFile {
    #[default]
    Any,
    Count {
        at_least: usize,
        within: String,
    },
    Distinct {
        field: String,
        at_least: usize,
        #[serde(default, skip_serializing_if = "is_zero")]
        events: usize,
        within: String,
    },
    Sequence {
        then: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        then_group_by: Option<String>,
        within: String,
    },
    Absent {
        then: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        then_group_by: Option<String>,
        within: String,
    },
    #[serde(rename = "new_value")]
    NewValue {
        field: String,
        history: String,
    },
    Travel {
        max_kmh: f64,
    },
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The longest window or suppression a rule may ask for: the running detections keep a
/// group's events for as long as its window.
pub(crate) const LONGEST: TimeDelta = TimeDelta::days(30);

/// `30s`, `10m`, `12h`, `2d`.
pub fn parse_span(text: &str) -> Option<TimeDelta> {
    let text = text.trim();
    let split = text.len().checked_sub(1)?;
    let (number, unit) = text.split_at(split);
    let n: i64 = number.trim().parse().ok()?;
    let span = match unit {
        "s" => TimeDelta::try_seconds(n)?,
        "m" => TimeDelta::try_minutes(n)?,
        "h" => TimeDelta::try_hours(n)?,
        "d" => TimeDelta::try_days(n)?,
        _ => return None,
    };
    (span > TimeDelta::zero()).then_some(span)
}

/// A span in the largest unit that holds it exactly.
pub fn format_span(span: TimeDelta) -> String {
    let seconds = span.num_seconds();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds % size == 0 && seconds >= size {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

fn span_of(field: &'static str, text: &str) -> Result<TimeDelta, RuleError> {
    let span = parse_span(text).ok_or_else(|| {
        field_error(
            field,
            format!("`{text}` is not a span like 30s, 10m, 12h or 2d"),
        )
    })?;
    if span > LONGEST {
        return Err(field_error(field, "at most 30d"));
    }
    Ok(span)
}

fn severity_of(text: &str) -> Result<Severity, RuleError> {
    Severity::ALL
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| {
            field_error(
                "severity",
                format!("`{text}`: one of info, low, medium, high, critical"),
            )
        })
}

/// Letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 100.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn path_of(field: &'static str, text: &str) -> Result<String, RuleError> {
    let ok = !text.is_empty()
        && text.split('.').all(|segment| {
            !segment.is_empty()
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if ok {
        Ok(text.to_string())
    } else {
        Err(field_error(
            field,
            format!("`{text}` is not an attribute path like actor.alternateId"),
        ))
    }
}

impl RuleFile {
    fn into_rule(self) -> Result<Rule, RuleError> {
        if !valid_id(&self.id) {
            return Err(field_error(
                "id",
                format!(
                    "`{}`: letters, digits, `.`, `_` and `-`, starting with a letter or digit",
                    self.id
                ),
            ));
        }
        if self.id.starts_with("sigma.") {
            return Err(field_error(
                "id",
                "`sigma.` names imported Sigma rules; choose another prefix",
            ));
        }
        if self.id.starts_with("okwatch.") && !pack::builtin().iter().any(|r| r.id == self.id) {
            return Err(field_error(
                "id",
                format!(
                    "`{}`: `okwatch.` names the shipped rules (tune one by its id); name yours like `acme.vpn_failures`",
                    self.id
                ),
            ));
        }
        if self.name.trim().is_empty() {
            return Err(field_error("name", "a rule needs a name"));
        }
        let filter = |field: &'static str, text: &str| {
            parse_and_validate(text, Dialect::Okwatch)
                .map_err(|e| field_error(field, e.to_string()))
        };
        let condition = match self.condition {
            ConditionFile::Any => Condition::Any,
            ConditionFile::Count { at_least, within } => Condition::Count {
                at_least: at_least.max(1),
                window: span_of("condition.within", &within)?,
            },
            ConditionFile::Distinct {
                field,
                at_least,
                events,
                within,
            } => Condition::Distinct {
                field: path_of("condition.field", &field)?,
                at_least: at_least.max(1),
                events,
                window: span_of("condition.within", &within)?,
            },
            ConditionFile::Sequence {
                then,
                then_group_by,
                within,
            } => Condition::Sequence {
                then: Box::new(filter("condition.then", &then)?),
                then_group_by: then_group_by
                    .map(|p| path_of("condition.then_group_by", &p))
                    .transpose()?,
                within: span_of("condition.within", &within)?,
            },
            ConditionFile::Absent {
                then,
                then_group_by,
                within,
            } => Condition::Absent {
                then: Box::new(filter("condition.then", &then)?),
                then_group_by: then_group_by
                    .map(|p| path_of("condition.then_group_by", &p))
                    .transpose()?,
                within: span_of("condition.within", &within)?,
            },
            ConditionFile::NewValue { field, history } => Condition::NewValue {
                field: path_of("condition.field", &field)?,
                history: span_of("condition.history", &history)?,
            },
            ConditionFile::Travel { max_kmh } => {
                if !(max_kmh.is_finite() && max_kmh > 0.0) {
                    return Err(field_error("condition.max_kmh", "a speed above 0"));
                }
                Condition::Travel { max_kmh }
            }
        };
        let suppress = match &self.suppress {
            Some(text) => span_of("suppress", text)?,
            None => default_suppression(&condition),
        };
        let escalate = match self.escalate {
            None => None,
            Some(e) => {
                if e.among && !matches!(condition, Condition::Distinct { .. }) {
                    return Err(field_error(
                        "escalate.among",
                        "only for a distinct condition (the follow-up's value among the alert's)",
                    ));
                }
                Some(Escalation {
                    when: filter("escalate.when", &e.when)?,
                    within: span_of("escalate.within", &e.within)?,
                    severity: severity_of(&e.severity)?,
                    among: e.among,
                })
            }
        };
        Ok(Rule {
            escalate,
            filter: filter("filter", &self.filter)?,
            group_by: self.group_by.map(|p| path_of("group_by", &p)).transpose()?,
            severity: severity_of(&self.severity)?,
            id: self.id,
            name: self.name.trim().to_string(),
            description: self.description.trim().to_string(),
            condition,
            suppress,
            runbook: self.runbook.trim().to_string(),
            enabled: self.enabled,
            sigma: None,
        })
    }
}

/// How long further matches join an alert when the rule does not say: its window, or an hour.
pub fn default_suppression(condition: &Condition) -> TimeDelta {
    match condition {
        Condition::Count { window, .. } | Condition::Distinct { window, .. } => *window,
        Condition::Sequence { within, .. } | Condition::Absent { within, .. } => *within,
        Condition::Any | Condition::Travel { .. } | Condition::NewValue { .. } => {
            TimeDelta::minutes(60)
        }
    }
}

/// yaml_serde's message, with the line counted from the start of the whole text.
fn yaml_error(e: &yaml_serde::Error, first_line: usize) -> RuleError {
    let text = e.to_string();
    let message = text
        .rfind(" at line ")
        .map_or(text.as_str(), |at| &text[..at]);
    match e.location() {
        Some(at) => RuleError::Yaml(format!(
            "line {}: {message}",
            first_line + at.line().max(1) - 1
        )),
        None => RuleError::Yaml(message.to_string()),
    }
}

/// Reads one rule, in okwatch's format or Sigma's (a rule with a `detection` is Sigma's).
/// `first_line` is where the text starts in its file, for messages.
pub fn parse_one(text: &str, first_line: usize) -> Result<Parsed, RuleError> {
    let doc: yaml_serde::Value =
        super::yaml::from_str(text).map_err(|e| yaml_error(&e, first_line))?;
    if !doc.is_mapping() {
        return Err(RuleError::Yaml(format!(
            "line {first_line}: a rule is a mapping (`id: …`, `name: …`)"
        )));
    }
    if doc.get("detection").is_some() {
        let sigma = SigmaRule::parse(text)?;
        return Ok(Parsed {
            rule: sigma.to_rule(),
            format: Format::Sigma,
            notes: sigma.notes,
        });
    }
    let file: RuleFile = super::yaml::from_str(text).map_err(|e| yaml_error(&e, first_line))?;
    Ok(Parsed {
        rule: file.into_rule()?,
        format: Format::Okwatch,
        notes: Vec::new(),
    })
}

/// The documents of a YAML text (separated by `---` lines), each with the line it starts on.
pub fn documents(text: &str) -> Vec<(usize, String)> {
    let mut docs = Vec::new();
    let (mut start, mut current) = (1, String::new());
    for (i, line) in text.lines().enumerate() {
        if line.trim_end() == "---" {
            if !current.trim().is_empty() {
                docs.push((start, std::mem::take(&mut current)));
            }
            current.clear();
            start = i + 2;
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    if !current.trim().is_empty() {
        docs.push((start, current));
    }
    docs
}

/// A rule in okwatch's format: what `okwatch rules export` writes, and what the console's
/// editor starts from. Reading it back gives the same rule.
pub fn to_yaml(rule: &Rule) -> String {
    let within = |span: &TimeDelta| format_span(*span);
    let condition = match &rule.condition {
        Condition::Any => ConditionFile::Any,
        Condition::Count { at_least, window } => ConditionFile::Count {
            at_least: *at_least,
            within: within(window),
        },
        Condition::Distinct {
            field,
            at_least,
            events,
            window,
        } => ConditionFile::Distinct {
            field: field.clone(),
            at_least: *at_least,
            events: *events,
            within: within(window),
        },
        Condition::Sequence {
            then,
            then_group_by,
            within: w,
        } => ConditionFile::Sequence {
            then: then.to_string(),
            then_group_by: then_group_by.clone(),
            within: within(w),
        },
        Condition::Absent {
            then,
            then_group_by,
            within: w,
        } => ConditionFile::Absent {
            then: then.to_string(),
            then_group_by: then_group_by.clone(),
            within: within(w),
        },
        Condition::NewValue { field, history } => ConditionFile::NewValue {
            field: field.clone(),
            history: within(history),
        },
        Condition::Travel { max_kmh } => ConditionFile::Travel { max_kmh: *max_kmh },
    };
    let suppress =
        (rule.suppress != default_suppression(&rule.condition)).then(|| within(&rule.suppress));
    let file = RuleFile {
        id: rule.id.clone(),
        name: rule.name.clone(),
        description: rule.description.clone(),
        severity: rule.severity.as_str().into(),
        filter: rule.filter.to_string(),
        group_by: rule.group_by.clone(),
        condition,
        suppress,
        escalate: rule.escalate.as_ref().map(|e| EscalationFile {
            when: e.when.to_string(),
            within: within(&e.within),
            severity: e.severity.as_str().into(),
            among: e.among,
        }),
        runbook: rule.runbook.clone(),
        enabled: rule.enabled,
    };
    yaml_serde::to_string(&file).expect("a rule serializes")
}

/// One rule read from a file.
#[derive(Debug)]
pub struct FileRule {
    /// The file.
    pub path: std::path::PathBuf,
    /// The line its document starts on.
    pub line: usize,
    /// Its text.
    pub text: String,
    /// The rule, or why it cannot run.
    pub parsed: Result<Parsed, RuleError>,
}

/// Every rule in `paths`: files, and folders searched for `.yml`/`.yaml` files (sorted), each
/// document of each file.
pub fn read_files(paths: &[std::path::PathBuf]) -> std::io::Result<Vec<FileRule>> {
    let mut files = Vec::new();
    for path in paths {
        let mut found = Vec::new();
        let mut pending = vec![path.clone()];
        while let Some(at) = pending.pop() {
            if at.is_dir() {
                for entry in std::fs::read_dir(&at)? {
                    pending.push(entry?.path());
                }
            } else if at == *path || at.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                found.push(at);
            }
        }
        found.sort();
        files.extend(found);
    }
    let mut rules = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        for (line, doc) in documents(&text) {
            rules.push(FileRule {
                path: path.clone(),
                line,
                parsed: parse_one(&doc, line),
                text: doc,
            });
        }
    }
    Ok(rules)
}

/// A YAML scalar holding `text` exactly, quoted as YAML needs.
fn scalar(text: &str) -> String {
    yaml_serde::to_string(text)
        .expect("a string serializes")
        .trim_end()
        .to_string()
}

/// A new rule's text to start editing from: a search (a saved search's, or none), alerting on
/// every match per actor, with the other conditions shown in comments.
pub fn starter(id: &str, name: &str, description: &str, filter: &str, keywords: &str) -> String {
    let mut text = String::new();
    if !keywords.trim().is_empty() {
        text.push_str(&format!(
            "# The search also had the keywords {}: rules run on the filter only.\n",
            scalar(keywords.trim())
        ));
    }
    text.push_str(&format!("id: {}\n", scalar(id)));
    text.push_str(&format!("name: {}\n", scalar(name)));
    if !description.trim().is_empty() {
        text.push_str(&format!("description: {}\n", scalar(description.trim())));
    }
    text.push_str("severity: medium    # info, low, medium, high or critical\n");
    text.push_str(&format!("filter: {}\n", scalar(filter)));
    text.push_str("group_by: actor.alternateId    # or client.ipAddress, target.alternateId…\n");
    text.push_str(
        "condition:\n  kind: any    # every match; or:\n\
         #  kind: count, at_least: 10, within: 30m\n\
         #  kind: distinct, field: actor.alternateId, at_least: 5, events: 15, within: 1h\n\
         #  kind: sequence, then: 'eventType eq \"system.api_token.create\"', within: 1h\n\
         #  kind: travel, max_kmh: 900\n",
    );
    text.push_str("# suppress: 1h    # further matches of a group within this join its alert\n");
    text.push_str("runbook: What to check, and what to do.\n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_rule_reads_back_from_its_yaml_as_the_same_rule() {
        for rule in pack::builtin() {
            let yaml = to_yaml(&rule);
            let back = parse_one(&yaml, 1)
                .unwrap_or_else(|e| panic!("{}: {e}\n{yaml}", rule.id))
                .rule;
            assert_eq!(back.id, rule.id);
            assert_eq!(back.severity, rule.severity);
            assert_eq!(back.filter, rule.filter, "{yaml}");
            assert_eq!(back.group_by, rule.group_by);
            assert_eq!(back.condition, rule.condition, "{yaml}");
            assert_eq!(back.suppress, rule.suppress);
            assert_eq!(back.escalate, rule.escalate, "{yaml}");
            assert_eq!(
                (back.name, back.description, back.runbook),
                (rule.name, rule.description, rule.runbook)
            );
        }
    }

    #[test]
    fn a_custom_rule_reads_with_its_condition_and_defaults() {
        let parsed = parse_one(
            "id: acme.vpn_failures\nname: Failed VPN sign-ins\nseverity: high\n\
             filter: 'eventType eq \"user.session.start\" and outcome.result eq \"FAILURE\"'\n\
             group_by: client.ipAddress\n\
             condition:\n  kind: distinct\n  field: actor.alternateId\n  at_least: 3\n  within: 30m\n",
            1,
        )
        .unwrap();
        assert_eq!(parsed.format, Format::Okwatch);
        let rule = parsed.rule;
        assert_eq!(rule.severity, Severity::High);
        assert!(rule.enabled);
        assert_eq!(
            rule.condition,
            Condition::Distinct {
                field: "actor.alternateId".into(),
                at_least: 3,
                events: 0,
                window: TimeDelta::minutes(30)
            }
        );
        assert_eq!(rule.suppress, TimeDelta::minutes(30));
    }

    #[test]
    fn mistakes_are_named_by_field_or_line() {
        let base = "id: acme.x\nname: X\nseverity: medium\nfilter: 'eventType eq \"a\"'\n";
        let error = |extra: &str| {
            parse_one(&format!("{base}{extra}"), 1)
                .unwrap_err()
                .to_string()
        };
        assert!(error("colour: red\n").contains("unknown field `colour`"));
        assert!(
            error("colour: red\n").starts_with("line 5"),
            "{}",
            error("colour: red\n")
        );
        assert!(
            error("condition:\n  kind: count\n  at_least: 3\n  within: 10 minutes\n")
                .contains("`condition.within`: `10 minutes` is not a span")
        );
        assert!(
            error("condition:\n  kind: count\n  at_least: 3\n  within: 10m\n  window: 5m\n")
                .contains("unknown field `window`")
        );
        assert!(error("condition:\n  kind: often\n").contains("often"));
        let bad_filter = parse_one(
            "id: acme.x\nname: X\nseverity: medium\nfilter: 'eventType eq'\n",
            1,
        )
        .unwrap_err()
        .to_string();
        assert!(bad_filter.starts_with("`filter`:"), "{bad_filter}");
        assert!(parse_one(&base.replace("medium", "urgent"), 1)
            .unwrap_err()
            .to_string()
            .contains("one of info, low, medium, high, critical"));
        assert!(parse_one(&base.replace("acme.x", "okwatch.mine"), 1)
            .unwrap_err()
            .to_string()
            .contains("names the shipped rules"));
        assert!(parse_one(&base.replace("acme.x", "a b"), 1).is_err());
        // A document starting on line 10 of its file names the file's lines.
        let late = parse_one("id: [\n", 10).unwrap_err().to_string();
        assert!(
            late.starts_with("line 10") || late.starts_with("line 11"),
            "{late}"
        );
    }

    #[test]
    fn a_starter_reads_as_a_rule_with_the_search_it_came_from() {
        let text = starter(
            "custom.admin_changes",
            "Admin changes: 'grants'",
            "Roles granted",
            r#"eventType sw "user.account.privilege""#,
            "root",
        );
        let rule = parse_one(&text, 1)
            .unwrap_or_else(|e| panic!("{e}\n{text}"))
            .rule;
        assert_eq!(rule.name, "Admin changes: 'grants'");
        assert_eq!(
            rule.filter.to_string(),
            r#"eventType sw "user.account.privilege""#
        );
        assert_eq!(rule.condition, Condition::Any);
        assert!(text.contains("keywords root"));
    }

    #[test]
    fn documents_split_on_their_separators_and_keep_their_lines() {
        let docs = documents("---\nid: a\n---\nid: b\nname: B\n---\n");
        assert_eq!(
            docs,
            [
                (2, "id: a\n".to_string()),
                (4, "id: b\nname: B\n".to_string())
            ]
        );
        assert_eq!(parse_span("90m"), Some(TimeDelta::minutes(90)));
        assert_eq!(format_span(TimeDelta::minutes(90)), "90m");
        assert_eq!(format_span(TimeDelta::hours(24)), "1d");
        assert_eq!(parse_span("0m"), None);
        assert_eq!(parse_span("m"), None);
    }
}
