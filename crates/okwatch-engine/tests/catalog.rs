//! The rule catalog over a real store: what saving, switching, removing and resetting mean for
//! shipped rules, people's rules and Sigma rules, and stored text that no longer reads.

use okwatch_engine::rules::catalog::{self, Catalog, CatalogError, Origin};
use okwatch_engine::rules::definition::to_yaml;
use okwatch_engine::rules::pack;
use okwatch_store::{RuleRecord, RuleStore};
use okwatch_store_duckdb::DuckDbStore;

const MINE: &str = "id: acme.grants\nname: Grants\nseverity: low\n\
                    filter: 'eventType eq \"user.account.privilege.grant\"'\n";

fn store() -> DuckDbStore {
    DuckDbStore::open_in_memory().unwrap()
}

#[test]
fn shipped_rules_are_switched_tuned_and_reset_but_never_removed() {
    let store = store();
    let shipped = pack::builtin();
    let catalog = Catalog::load(&store).unwrap();
    assert_eq!(catalog.enabled().len(), shipped.len());

    catalog::set_enabled(&store, "okwatch.brute_force", false, "ana").unwrap();
    let catalog = Catalog::load(&store).unwrap();
    let entry = catalog.get("okwatch.brute_force").unwrap();
    assert_eq!((entry.origin, entry.rule.enabled), (Origin::Shipped, false));
    assert_eq!(catalog.enabled().len(), shipped.len() - 1);

    // Saved exactly as shipped (an export read back), it stays shipped.
    let as_exported = to_yaml(&entry.rule);
    catalog::save(&store, &as_exported, None, "ana").unwrap();
    let records = store.rule_records().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].source, None,
        "no copy of the shipped text is kept"
    );

    // Tuned: its text is kept and runs; reset, it runs as shipped again.
    let tuned = as_exported.replace("at_least: 20", "at_least: 30");
    catalog::save(&store, &tuned, Some("okwatch.brute_force"), "ana").unwrap();
    let catalog = Catalog::load(&store).unwrap();
    let entry = catalog.get("okwatch.brute_force").unwrap();
    assert_eq!(entry.origin, Origin::Tuned);
    assert!(entry.rule.condition_words().starts_with("30 or more"));
    assert!(matches!(
        catalog::remove(&store, "okwatch.lockout_spike"),
        Err(CatalogError::Shipped(_))
    ));
    assert_eq!(
        catalog::remove(&store, "okwatch.brute_force").unwrap(),
        Some(Origin::Shipped)
    );
    let entry = Catalog::load(&store).unwrap();
    let entry = entry.get("okwatch.brute_force").unwrap();
    assert_eq!((entry.origin, entry.rule.enabled), (Origin::Shipped, true));
    assert!(entry.rule.condition_words().starts_with("20 or more"));
}

#[test]
fn peoples_rules_and_sigma_rules_are_added_edited_and_removed() {
    let store = store();
    let rule = catalog::save(&store, MINE, None, "ana").unwrap();
    assert_eq!(rule.id, "acme.grants");
    // An edit must keep the id it was opened with.
    assert!(matches!(
        catalog::save(
            &store,
            &MINE.replace("acme.grants", "acme.other"),
            Some("acme.grants"),
            "ana"
        ),
        Err(CatalogError::IdChanged { .. })
    ));
    let sigma =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../../shared/samples/sigma-okta/rules/identity/okta/okta_api_token_created.yml",
        ))
        .unwrap();
    let imported = catalog::save(&store, &sigma, None, "ana").unwrap();
    assert!(imported.id.starts_with("sigma."));
    let catalog = Catalog::load(&store).unwrap();
    assert_eq!(catalog.get("acme.grants").unwrap().origin, Origin::Custom);
    assert_eq!(catalog.get(&imported.id).unwrap().origin, Origin::Sigma);
    assert_eq!(
        catalog.get(&imported.id).unwrap().source,
        sigma,
        "kept as written"
    );
    assert_eq!(catalog::remove(&store, "acme.grants").unwrap(), None);
    assert!(matches!(
        catalog::remove(&store, "acme.grants"),
        Err(CatalogError::NotFound(_))
    ));
    assert!(Catalog::load(&store).unwrap().get("acme.grants").is_none());
}

#[test]
fn stored_text_that_no_longer_reads_is_shown_not_run_and_can_be_removed() {
    let store = store();
    store
        .put_rule_record(&RuleRecord {
            id: "acme.old".into(),
            source: Some(
                "id: acme.old\nname: Old\nseverity: medium\nfilter: 'eventType eq'\n".into(),
            ),
            enabled: true,
            updated: "2026-01-01T00:00:00.000Z".into(),
            by: "ana".into(),
        })
        .unwrap();
    let catalog = Catalog::load(&store).unwrap();
    assert!(catalog.get("acme.old").is_none());
    assert_eq!(catalog.broken.len(), 1);
    assert!(catalog.broken[0].error.contains("`filter`"));
    assert_eq!(catalog::remove(&store, "acme.old").unwrap(), None);
    assert!(Catalog::load(&store).unwrap().broken.is_empty());
}
