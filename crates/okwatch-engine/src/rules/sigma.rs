//! Sigma rules for Okta: a rule's `detection` (named selections and a condition) read from its
//! YAML and matched against System Log events, so the public detections run beside okwatch's
//! own, over history and live.
//!
//! Field names are Okta's own paths (`eventType`, `actor.alternateId`,
//! `debugContext.debugData.requestUri`), as Sigma's Okta rules write them. Supported: a selection
//! as a map (every field holds) or a list of maps (any map holds); a list of values (any one);
//! the modifiers `contains`, `startswith`, `endswith`, `re`, `all` and `expand` (a placeholder,
//! which matches nothing until given a value, and says so); conditions with `and`, `or`, `not`,
//! parentheses, `1 of`/`all of` a name pattern or `them`. Matching is case-insensitive, as Sigma
//! specifies, except `re`. Anything else (aggregations, `timeframe`, other modifiers) is refused
//! with the construct named.

use okwatch_query::{AttrPath, CompareOp, Expr, Literal};
use serde_json::Value;
use std::collections::BTreeMap;

/// Why a Sigma rule cannot run.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum SigmaError {
    /// Not YAML, or not a Sigma rule.
    #[error("{0}")]
    Invalid(String),
    /// A construct okwatch does not run.
    #[error("unsupported: {0}")]
    Unsupported(String),
}

/// A loaded Sigma rule.
#[derive(Debug, Clone)]
pub struct SigmaRule {
    /// Its `id` (a UUID), or the title when it has none.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: String,
    /// `informational`, `low`, `medium`, `high` or `critical`.
    pub level: String,
    /// Its author(s), kept for attribution (the rules' licence asks for it).
    pub author: String,
    /// What okwatch wants the person to know (an unfilled placeholder…).
    pub notes: Vec<String>,
    /// What it matches.
    pub detection: Detection,
}

/// A rule's detection: its selections and its condition.
#[derive(Debug, Clone)]
pub struct Detection {
    selections: BTreeMap<String, Selection>,
    condition: Cond,
}

#[derive(Debug, Clone)]
enum Selection {
    /// A map: every test holds.
    All(Vec<Test>),
    /// A list of maps: any one holds.
    Any(Vec<Vec<Test>>),
}

#[derive(Debug, Clone)]
struct Test {
    path: AttrPath,
    how: How,
    /// The values: any one matches (every one with `all`).
    values: Vec<Option<String>>,
    all: bool,
}

#[derive(Debug, Clone)]
enum How {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
    Regex(Vec<regex::Regex>),
    /// An `expand` placeholder with no value: matches nothing.
    Placeholder,
}

#[derive(Debug, Clone)]
enum Cond {
    Name(String),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// `1 of pattern` (false) or `all of pattern` (true).
    Of(bool, String),
}

fn text(value: &yaml_serde::Value) -> Option<Option<String>> {
    match value {
        yaml_serde::Value::Null => Some(None),
        yaml_serde::Value::String(s) => Some(Some(s.clone())),
        yaml_serde::Value::Bool(b) => Some(Some(b.to_string())),
        yaml_serde::Value::Number(n) => Some(Some(n.to_string())),
        _ => None,
    }
}

fn test(key: &str, value: &yaml_serde::Value, notes: &mut Vec<String>) -> Result<Test, SigmaError> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default();
    let (mut how, mut all, mut expand, mut regex) = (How::Equals, false, false, false);
    for modifier in parts {
        match modifier {
            "contains" => how = How::Contains,
            "startswith" => how = How::StartsWith,
            "endswith" => how = How::EndsWith,
            "re" => regex = true,
            "all" => all = true,
            "expand" => expand = true,
            other => {
                return Err(SigmaError::Unsupported(format!(
                    "the `{other}` modifier (in `{key}`)"
                )))
            }
        }
    }
    let values: Vec<Option<String>> = match value {
        yaml_serde::Value::Sequence(items) => items.iter().map(text).collect::<Option<_>>(),
        one => text(one).map(|v| vec![v]),
    }
    .ok_or_else(|| SigmaError::Unsupported(format!("a nested value for `{key}`")))?;
    if expand {
        notes.push(format!(
            "`{key}` names a placeholder ({}) that has no value here: that test matches nothing",
            values
                .iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
        how = How::Placeholder;
    } else if regex {
        let compiled = values
            .iter()
            .flatten()
            .map(|v| regex::Regex::new(v))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SigmaError::Invalid(format!("`{key}`: not a regular expression: {e}")))?;
        how = How::Regex(compiled);
    }
    Ok(Test {
        path: AttrPath::from_dotted(field),
        how,
        values,
        all,
    })
}

fn map_tests(map: &yaml_serde::Mapping, notes: &mut Vec<String>) -> Result<Vec<Test>, SigmaError> {
    map.iter()
        .map(|(k, v)| {
            let key = k.as_str().ok_or_else(|| {
                SigmaError::Invalid("a selection's keys must be field names".into())
            })?;
            test(key, v, notes)
        })
        .collect()
}

impl SigmaRule {
    /// Reads one rule from its YAML.
    pub fn parse(yaml: &str) -> Result<SigmaRule, SigmaError> {
        let doc: yaml_serde::Value = super::yaml::from_str(yaml)
            .map_err(|e| SigmaError::Invalid(format!("not YAML: {e}")))?;
        let field = |name: &str| {
            doc.get(name)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let title = field("title");
        if title.is_empty() {
            return Err(SigmaError::Invalid("no `title`: not a Sigma rule".into()));
        }
        let detection = doc
            .get("detection")
            .and_then(|d| d.as_mapping())
            .ok_or_else(|| SigmaError::Invalid("no `detection`".into()))?;
        let mut notes = Vec::new();
        let mut selections = BTreeMap::new();
        let mut condition_text = None;
        for (key, value) in detection {
            let key = key.as_str().unwrap_or_default();
            match (key, value) {
                ("condition", yaml_serde::Value::String(c)) => condition_text = Some(c.clone()),
                ("condition", _) => {
                    return Err(SigmaError::Unsupported("a list of conditions".into()))
                }
                ("timeframe", _) => return Err(SigmaError::Unsupported("`timeframe`".into())),
                (name, yaml_serde::Value::Mapping(map)) => {
                    selections.insert(
                        name.to_string(),
                        Selection::All(map_tests(map, &mut notes)?),
                    );
                }
                (name, yaml_serde::Value::Sequence(items)) => {
                    let maps = items
                        .iter()
                        .map(|item| match item {
                            yaml_serde::Value::Mapping(map) => map_tests(map, &mut notes),
                            _ => Err(SigmaError::Unsupported(format!(
                                "keyword lists (in `{name}`)"
                            ))),
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    selections.insert(name.to_string(), Selection::Any(maps));
                }
                (name, _) => {
                    return Err(SigmaError::Unsupported(format!(
                        "the selection `{name}`'s form"
                    )))
                }
            }
        }
        let condition_text =
            condition_text.ok_or_else(|| SigmaError::Invalid("no `condition`".into()))?;
        let condition = Parser::new(&condition_text).parse()?;
        condition.check(&selections)?;
        let author = field("author");
        let id = Some(field("id"))
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| title.clone());
        Ok(SigmaRule {
            id,
            description: field("description"),
            level: Some(field("level"))
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| "medium".into()),
            title,
            author,
            notes,
            detection: Detection {
                selections,
                condition,
            },
        })
    }
}

/// Every string an attribute holds in `event` (an array gives each element's).
fn values_at(event: &Value, segments: &[String]) -> Vec<String> {
    let Some((first, rest)) = segments.split_first() else {
        return match event {
            Value::String(s) => vec![s.clone()],
            Value::Bool(b) => vec![b.to_string()],
            Value::Number(n) => vec![n.to_string()],
            Value::Array(items) => items.iter().flat_map(|i| values_at(i, &[])).collect(),
            _ => Vec::new(),
        };
    };
    match event {
        Value::Array(items) => items.iter().flat_map(|i| values_at(i, segments)).collect(),
        Value::Object(map) => map.get(first).map_or_else(Vec::new, |v| values_at(v, rest)),
        _ => Vec::new(),
    }
}

impl Test {
    fn holds(&self, event: &Value) -> bool {
        let found = values_at(event, &self.path.segments);
        let one = |wanted: &Option<String>, i: usize| -> bool {
            let Some(wanted) = wanted else {
                return found.is_empty();
            };
            let wanted_lower = wanted.to_lowercase();
            found.iter().any(|f| {
                let f_lower = f.to_lowercase();
                match &self.how {
                    How::Equals => f_lower == wanted_lower,
                    How::Contains => f_lower.contains(&wanted_lower),
                    How::StartsWith => f_lower.starts_with(&wanted_lower),
                    How::EndsWith => f_lower.ends_with(&wanted_lower),
                    How::Regex(patterns) => patterns.get(i).is_some_and(|p| p.is_match(f)),
                    How::Placeholder => false,
                }
            })
        };
        if self.all {
            self.values.iter().enumerate().all(|(i, v)| one(v, i))
        } else {
            self.values.iter().enumerate().any(|(i, v)| one(v, i))
        }
    }
}

impl Selection {
    fn holds(&self, event: &Value) -> bool {
        match self {
            Selection::All(tests) => tests.iter().all(|t| t.holds(event)),
            Selection::Any(maps) => maps
                .iter()
                .any(|tests| tests.iter().all(|t| t.holds(event))),
        }
    }

    fn tests(&self) -> Vec<&Test> {
        match self {
            Selection::All(tests) => tests.iter().collect(),
            Selection::Any(maps) => maps.iter().flatten().collect(),
        }
    }
}

fn named<'s>(pattern: &str, selections: &'s BTreeMap<String, Selection>) -> Vec<&'s Selection> {
    selections
        .iter()
        .filter(|(name, _)| match pattern {
            "them" => !name.starts_with('_'),
            p => match p.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => *name == p,
            },
        })
        .map(|(_, s)| s)
        .collect()
}

impl Cond {
    fn holds(&self, event: &Value, selections: &BTreeMap<String, Selection>) -> bool {
        match self {
            Cond::Name(name) => selections.get(name).is_some_and(|s| s.holds(event)),
            Cond::Not(inner) => !inner.holds(event, selections),
            Cond::And(all) => all.iter().all(|c| c.holds(event, selections)),
            Cond::Or(any) => any.iter().any(|c| c.holds(event, selections)),
            Cond::Of(true, pattern) => named(pattern, selections).iter().all(|s| s.holds(event)),
            Cond::Of(false, pattern) => named(pattern, selections).iter().any(|s| s.holds(event)),
        }
    }

    /// Every name it uses exists; every pattern matches something.
    fn check(&self, selections: &BTreeMap<String, Selection>) -> Result<(), SigmaError> {
        match self {
            Cond::Name(name) if !selections.contains_key(name) => Err(SigmaError::Invalid(
                format!("the condition names `{name}`, which is not a selection"),
            )),
            Cond::Of(_, pattern) if named(pattern, selections).is_empty() => Err(
                SigmaError::Invalid(format!("no selection matches `{pattern}` in the condition")),
            ),
            Cond::Not(inner) => inner.check(selections),
            Cond::And(parts) | Cond::Or(parts) => {
                parts.iter().try_for_each(|c| c.check(selections))
            }
            _ => Ok(()),
        }
    }

    /// The selections an event must pass whatever else holds (positive, under `and` only).
    fn required<'c>(&'c self, out: &mut Vec<&'c str>) {
        match self {
            Cond::Name(name) => out.push(name),
            Cond::And(parts) => parts.iter().for_each(|p| p.required(out)),
            _ => {}
        }
    }
}

/// How deep parentheses and `not`s may nest in a condition: a real one nests two or three
/// deep; a hostile one would overflow the stack of the thread parsing it.
pub const MAX_CONDITION_DEPTH: usize = 32;

/// The most tokens a condition may hold.
pub const MAX_CONDITION_TOKENS: usize = 2_000;

/// `selection and not 1 of filter_*`: not > and > or, with parentheses.
struct Parser {
    tokens: Vec<String>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn new(text: &str) -> Parser {
        let spaced = text.replace('(', " ( ").replace(')', " ) ");
        Parser {
            tokens: spaced.split_whitespace().map(str::to_string).collect(),
            at: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> Option<String> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn parse(mut self) -> Result<Cond, SigmaError> {
        if self.tokens.len() > MAX_CONDITION_TOKENS {
            return Err(SigmaError::Invalid(format!(
                "the condition has {} words and brackets; at most {MAX_CONDITION_TOKENS} are read",
                self.tokens.len()
            )));
        }
        if self.tokens.iter().any(|t| t == "|") {
            return Err(SigmaError::Unsupported(
                "aggregations in the condition (`| count()`…)".into(),
            ));
        }
        let cond = self.or()?;
        match self.peek() {
            None => Ok(cond),
            Some(extra) => Err(SigmaError::Invalid(format!(
                "unexpected `{extra}` in the condition"
            ))),
        }
    }

    fn or(&mut self) -> Result<Cond, SigmaError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some("or") {
            self.next();
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Cond, SigmaError> {
        let mut parts = vec![self.not()?];
        while self.peek() == Some("and") {
            self.next();
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Cond::And(parts)
        })
    }

    /// One level deeper (a `not` or a `(`), refused past [`MAX_CONDITION_DEPTH`].
    fn deeper(&mut self) -> Result<(), SigmaError> {
        self.depth += 1;
        if self.depth > MAX_CONDITION_DEPTH {
            return Err(SigmaError::Invalid(format!(
                "the condition nests parentheses or `not` more than {MAX_CONDITION_DEPTH} deep"
            )));
        }
        Ok(())
    }

    fn not(&mut self) -> Result<Cond, SigmaError> {
        if self.peek() == Some("not") {
            self.next();
            self.deeper()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(inner)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Cond, SigmaError> {
        match self.next().as_deref() {
            Some("(") => {
                self.deeper()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.next().as_deref() {
                    Some(")") => Ok(inner),
                    _ => Err(SigmaError::Invalid(
                        "a `(` without its `)` in the condition".into(),
                    )),
                }
            }
            Some(count @ ("1" | "all" | "any")) => {
                if self.next().as_deref() != Some("of") {
                    return Err(SigmaError::Invalid(format!(
                        "`{count}` must be followed by `of`"
                    )));
                }
                let pattern = self
                    .next()
                    .ok_or_else(|| SigmaError::Invalid(format!("`{count} of` what?")))?;
                Ok(Cond::Of(count == "all", pattern))
            }
            Some(name) if !["and", "or", ")"].contains(&name) => Ok(Cond::Name(name.to_string())),
            Some(other) => Err(SigmaError::Invalid(format!(
                "unexpected `{other}` in the condition"
            ))),
            None => Err(SigmaError::Invalid("the condition ends too soon".into())),
        }
    }
}

impl Detection {
    /// Whether `event` matches.
    pub fn matches(&self, event: &Value) -> bool {
        self.condition.holds(event, &self.selections)
    }

    /// The attributes it reads.
    pub fn fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self
            .selections
            .values()
            .flat_map(|s| s.tests())
            .map(|t| t.path.dotted())
            .collect();
        fields.sort();
        fields.dedup();
        fields
    }

    /// A filter the store can run that every match passes (the event types a required
    /// selection names, when it names them), so that a backtest reads only those events.
    pub fn prefilter(&self) -> Expr {
        let mut required = Vec::new();
        self.condition.required(&mut required);
        for name in required {
            if let Some(Selection::All(tests)) = self.selections.get(name) {
                if let Some(t) = tests.iter().find(|t| {
                    t.path.dotted() == "eventType" && matches!(t.how, How::Equals) && !t.all
                }) {
                    if t.values.iter().all(Option::is_some) {
                        return Expr::Or(
                            t.values
                                .iter()
                                .flatten()
                                .map(|v| Expr::Compare {
                                    path: AttrPath::from_dotted("eventType"),
                                    op: CompareOp::Eq,
                                    value: Literal::String(v.to_lowercase()),
                                })
                                .collect(),
                        );
                    }
                }
            }
        }
        Expr::Present(AttrPath::from_dotted("uuid"))
    }
}

impl SigmaRule {
    /// The rule as okwatch runs it: an alert per matching event, grouped by actor (further
    /// matches of the same actor within an hour join it), severity from its `level`.
    pub fn to_rule(&self) -> super::Rule {
        let severity = match self.level.as_str() {
            "informational" => super::Severity::Info,
            "low" => super::Severity::Low,
            "high" => super::Severity::High,
            "critical" => super::Severity::Critical,
            _ => super::Severity::Medium,
        };
        let mut runbook = format!("Sigma rule \"{}\"", self.title);
        if !self.author.is_empty() {
            runbook.push_str(&format!(" by {}", self.author));
        }
        runbook.push_str(" (SigmaHQ, Detection Rule License 1.1).");
        for note in &self.notes {
            runbook.push_str(&format!(" Note: {note}."));
        }
        super::Rule {
            id: format!("sigma.{}", self.id),
            name: self.title.clone(),
            description: self.description.trim().to_string(),
            severity,
            filter: self.detection.prefilter(),
            group_by: Some("actor.alternateId".into()),
            condition: super::Condition::Any,
            suppress: chrono::TimeDelta::hours(1),
            runbook,
            enabled: true,
            escalate: None,
            sigma: Some(std::sync::Arc::new(self.detection.clone())),
        }
    }
}

/// Every `.yml`/`.yaml` file under `dir` (recursively), sorted, each read as a Sigma rule.
pub fn load_dir(
    dir: &std::path::Path,
) -> std::io::Result<Vec<(std::path::PathBuf, Result<SigmaRule, SigmaError>)>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        if at.is_dir() {
            for entry in std::fs::read_dir(&at)? {
                pending.push(entry?.path());
            }
        } else if at.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            files.push(at);
        }
    }
    files.sort();
    Ok(files
        .into_iter()
        .map(|path| {
            let loaded = std::fs::read_to_string(&path)
                .map_err(|e| SigmaError::Invalid(format!("cannot read: {e}")))
                .and_then(|text| SigmaRule::parse(&text));
            (path, loaded)
        })
        .collect())
}
