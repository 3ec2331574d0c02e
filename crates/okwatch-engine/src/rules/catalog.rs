//! The rules that run: the shipped pack, as tuned or switched off in the store, and the rules
//! people wrote or imported. The console, the REST API, the command line and `okwatch serve`
//! all read and change rules through here, so they agree on what a change means.

use super::definition::{parse_one, to_yaml, Format, RuleError};
use super::{pack, Rule};
use okwatch_store::{RuleRecord, RuleStore, StoreError};
use serde::Serialize;

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Shipped with okwatch, as shipped.
    Shipped,
    /// Shipped with okwatch, changed by someone.
    Tuned,
    /// Written by someone in okwatch's format.
    Custom,
    /// An imported Sigma rule.
    Sigma,
}

impl Origin {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Shipped => "shipped",
            Origin::Tuned => "tuned",
            Origin::Custom => "custom",
            Origin::Sigma => "sigma",
        }
    }
}

/// One rule of the catalog.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The rule as it runs (its `enabled` says whether it does).
    pub rule: Rule,
    /// Where it comes from.
    pub origin: Origin,
    /// Its text: what was saved, or a shipped rule in okwatch's format.
    pub source: String,
    /// Its stored record, when someone changed or added it.
    pub record: Option<RuleRecord>,
    /// What the person should know about it.
    pub notes: Vec<String>,
}

/// A stored rule that no longer reads (written by another version of okwatch): shown, not run.
#[derive(Debug, Clone)]
pub struct Broken {
    /// The record.
    pub record: RuleRecord,
    /// Why it does not read.
    pub error: String,
}

/// Every rule.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The rules that read, shipped ones first, then the rest by id.
    pub entries: Vec<Entry>,
    /// The stored rules that do not.
    pub broken: Vec<Broken>,
}

/// Why a change to the rules was refused.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The text is not a rule okwatch can run.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// No rule has this id.
    #[error("no rule `{0}`")]
    NotFound(String),
    /// Shipped rules can be switched off or reset, not removed.
    #[error("`{0}` is shipped with okwatch: switch it off instead of removing it")]
    Shipped(String),
    /// The text's id is not the one it was saved under.
    #[error("the rule's id is `{found}`, not `{expected}`")]
    IdChanged {
        /// The id in the address.
        expected: String,
        /// The id in the text.
        found: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Catalog {
    /// The catalog made of the shipped rules and `records`.
    pub fn from_records(records: &[RuleRecord]) -> Catalog {
        let mut catalog = Catalog::default();
        let stored = |id: &str| records.iter().find(|r| r.id == id);
        for shipped in pack::builtin() {
            let record = stored(&shipped.id).cloned();
            let entry = match record.as_ref().and_then(|r| r.source.as_deref()) {
                None => {
                    let mut rule = shipped;
                    rule.enabled = record.as_ref().is_none_or(|r| r.enabled);
                    Entry {
                        source: to_yaml(&rule),
                        rule,
                        origin: Origin::Shipped,
                        record,
                        notes: Vec::new(),
                    }
                }
                Some(source) => match parse_one(source, 1) {
                    Ok(parsed) => {
                        let mut rule = parsed.rule;
                        rule.enabled = record.as_ref().is_none_or(|r| r.enabled);
                        Entry {
                            source: source.to_string(),
                            rule,
                            origin: Origin::Tuned,
                            record,
                            notes: parsed.notes,
                        }
                    }
                    Err(e) => {
                        // The shipped rule runs in place of its unreadable tuning.
                        let record = record.expect("a source comes from a record");
                        catalog.broken.push(Broken {
                            record: record.clone(),
                            error: e.to_string(),
                        });
                        Entry {
                            source: to_yaml(&shipped),
                            rule: shipped,
                            origin: Origin::Shipped,
                            record: None,
                            notes: Vec::new(),
                        }
                    }
                },
            };
            catalog.entries.push(entry);
        }
        let shipped_count = catalog.entries.len();
        for record in records {
            if catalog.entries[..shipped_count]
                .iter()
                .any(|e| e.rule.id == record.id)
            {
                continue;
            }
            let Some(source) = record.source.as_deref() else {
                continue; // A switch for a shipped rule this version no longer ships.
            };
            match parse_one(source, 1) {
                Ok(parsed) => {
                    let mut rule = parsed.rule;
                    rule.enabled = record.enabled;
                    catalog.entries.push(Entry {
                        origin: match parsed.format {
                            Format::Okwatch => Origin::Custom,
                            Format::Sigma => Origin::Sigma,
                        },
                        source: source.to_string(),
                        rule,
                        record: Some(record.clone()),
                        notes: parsed.notes,
                    });
                }
                Err(e) => catalog.broken.push(Broken {
                    record: record.clone(),
                    error: e.to_string(),
                }),
            }
        }
        catalog
    }

    /// The catalog of `store`.
    pub fn load(store: &dyn RuleStore) -> Result<Catalog, StoreError> {
        Ok(Catalog::from_records(&store.rule_records()?))
    }

    /// One rule.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.rule.id == id)
    }

    /// The rules that run.
    pub fn enabled(&self) -> Vec<Rule> {
        self.entries
            .iter()
            .filter(|e| e.rule.enabled)
            .map(|e| e.rule.clone())
            .collect()
    }

    /// Every rule, running or not.
    pub fn rules(&self) -> Vec<Rule> {
        self.entries.iter().map(|e| e.rule.clone()).collect()
    }
}

fn now() -> String {
    okwatch_model::format_timestamp(chrono::Utc::now())
}

/// Saves a rule from its text (okwatch's format or Sigma's), replacing the rule with its id, and
/// returns the rule. With `expected`, the text must keep that id (an edit, not a copy). A shipped
/// rule's id saves a tuning of it; its `enabled`, like any rule's, comes from the text.
pub fn save(
    store: &dyn RuleStore,
    text: &str,
    expected: Option<&str>,
    by: &str,
) -> Result<Rule, CatalogError> {
    let parsed = parse_one(text, 1)?;
    if let Some(expected) = expected.filter(|e| *e != parsed.rule.id) {
        return Err(CatalogError::IdChanged {
            expected: expected.to_string(),
            found: parsed.rule.id,
        });
    }
    // A shipped rule saved as shipped (an export read back) stays shipped: it follows the
    // pack as later versions change it.
    let as_shipped = pack::builtin().into_iter().any(|mut shipped| {
        shipped.enabled = parsed.rule.enabled;
        shipped.id == parsed.rule.id && to_yaml(&shipped) == to_yaml(&parsed.rule)
    });
    store.put_rule_record(&RuleRecord {
        id: parsed.rule.id.clone(),
        source: (!as_shipped).then(|| text.to_string()),
        enabled: parsed.rule.enabled,
        updated: now(),
        by: by.to_string(),
    })?;
    Ok(parsed.rule)
}

/// Switches a rule on or off.
pub fn set_enabled(
    store: &dyn RuleStore,
    id: &str,
    enabled: bool,
    by: &str,
) -> Result<(), CatalogError> {
    let catalog = Catalog::load(store)?;
    let entry = catalog
        .get(id)
        .ok_or_else(|| CatalogError::NotFound(id.to_string()))?;
    store.put_rule_record(&RuleRecord {
        id: id.to_string(),
        source: entry.record.as_ref().and_then(|r| r.source.clone()),
        enabled,
        updated: now(),
        by: by.to_string(),
    })?;
    Ok(())
}

/// Removes a rule someone added, or puts a tuned shipped rule back as shipped (running).
/// Returns what the rule is now: `None` when removed, `Some(Origin::Shipped)` when reset.
pub fn remove(store: &dyn RuleStore, id: &str) -> Result<Option<Origin>, CatalogError> {
    let catalog = Catalog::load(store)?;
    let origin = match catalog.get(id) {
        Some(entry) => entry.origin,
        // A stored rule that no longer reads can still be removed.
        None if catalog.broken.iter().any(|b| b.record.id == id) => Origin::Custom,
        None => return Err(CatalogError::NotFound(id.to_string())),
    };
    match origin {
        Origin::Shipped => Err(CatalogError::Shipped(id.to_string())),
        Origin::Tuned => {
            store.delete_rule_record(id)?;
            Ok(Some(Origin::Shipped))
        }
        Origin::Custom | Origin::Sigma => {
            store.delete_rule_record(id)?;
            Ok(None)
        }
    }
}
