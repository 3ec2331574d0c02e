//! SaaS usage equals hand counts: on a simulated org's 100 days of events and its directory,
//! every app's assigned, active (7, 30, 90 days), never-used and idle people, and each
//! person's state on an app page, are counted again here straight from the generated events
//! and the assignments, without the store; so are Okta's own numbers. Contracts imported from a
//! CSV (a bad row reported, the rest kept) give spend and savings equal to the arithmetic done
//! here, and renewals come in their windows.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use okwatch_engine::usage::contracts::{contracts_csv, import_contracts, Change};
use okwatch_engine::usage::people::person;
use okwatch_engine::usage::renewals::{notices_due, renewals};
use okwatch_engine::usage::{app_numbers, app_users, daily_active, inventory, Inventory, OKTA_APP};
use okwatch_store::directory::{
    AppAssignment, Directory, DirectoryApp, DirectoryGroup, DirectorySnapshot, DirectoryUser,
};
use okwatch_store::{Contracts, EventBatch, EventRow, Store};
use okwatch_store_duckdb::DuckDbStore;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 9, 30, 0).unwrap()
}

/// An app in the directory that nobody signs in to.
const SHELFWARE: &str = "0oashelfware000000001";

/// The org's directory as okwatch would list it, plus an app bought and never used.
fn directory(org: &okwatch_sim::Org) -> DirectorySnapshot {
    // Listed after the last event: nothing logged since to lay over it, so the numbers are
    // the listing's (the overlay has its own test below).
    let mut listing = org.listing(&okwatch_model::format_timestamp(
        now() + TimeDelta::minutes(10),
    ));
    listing
        .assignments
        .extend(org.users.iter().take(12).map(|u| AppAssignment {
            app_id: SHELFWARE.into(),
            user_id: u.id.clone(),
            scope: "USER".into(),
            assigned: None,
        }));
    listing.apps.push(DirectoryApp {
        id: SHELFWARE.into(),
        name: "shelfware".into(),
        label: "Shelfware".into(),
        status: "ACTIVE".into(),
        sign_on_mode: None,
    });
    listing.sorted()
}

/// (app id, person id, published) of every successful SSO, read from the events by hand; and
/// of every successful Okta session, as the app `okta`.
fn sign_ons(events: &[Value]) -> Vec<(String, String, DateTime<Utc>)> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e["eventType"].as_str(),
                Some("user.authentication.sso" | "user.session.start")
            ) && e["outcome"]["result"] == "SUCCESS"
        })
        .filter_map(|e| {
            let app = if e["eventType"] == "user.session.start" {
                OKTA_APP.to_string()
            } else {
                e["target"]
                    .as_array()?
                    .iter()
                    .find(|t| t["type"] == "AppInstance")?["id"]
                    .as_str()?
                    .to_string()
            };
            let person = e["actor"]["id"].as_str()?.to_string();
            let at = okwatch_model::parse_timestamp(e["published"].as_str()?)?;
            Some((app, person, at))
        })
        .collect()
}

/// A store with 100 days of a 160-person org's events and its directory.
fn org() -> (DuckDbStore, Vec<Value>, DirectorySnapshot) {
    let generator = okwatch_sim::Generator::new(23, 160);
    let events: Vec<Value> = generator
        .between(now() - TimeDelta::days(100), now())
        .collect();
    let store = DuckDbStore::open_in_memory().unwrap();
    let rows = events
        .iter()
        .map(|e| EventRow::decompose("acme", e.clone()).unwrap())
        .collect();
    store.insert(EventBatch::encode(rows).unwrap()).unwrap();
    let snapshot = directory(generator.org());
    store.replace_directory("acme", &snapshot).unwrap();
    (store, events, snapshot)
}

#[test]
fn every_apps_numbers_equal_hand_counts_from_events_and_assignments() {
    let (store, events, snapshot) = org();

    let uses = sign_ons(&events);
    let listed: BTreeSet<String> = snapshot.users.iter().map(|u| u.id.clone()).collect();
    let anyone = |app: &str, days: Option<i64>| -> BTreeSet<String> {
        uses.iter()
            .filter(|(a, _, at)| a == app && days.is_none_or(|d| *at >= now() - TimeDelta::days(d)))
            .map(|(_, p, _)| p.clone())
            .collect()
    };
    // Active users are people of the directory; anyone else is counted apart.
    let who = |app: &str, days: Option<i64>| -> BTreeSet<String> {
        anyone(app, days).intersection(&listed).cloned().collect()
    };
    let unlisted =
        |app: &str, days: i64| anyone(app, Some(days)).difference(&listed).count() as u64;
    let mut assigned: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for a in &snapshot.assignments {
        assigned
            .entry(a.app_id.as_str())
            .or_default()
            .insert(a.user_id.clone());
    }
    // Okta's licences are held by every account that is not deactivated.
    assigned.insert(
        OKTA_APP,
        snapshot
            .users
            .iter()
            .filter(|u| u.status != "DEPROVISIONED")
            .map(|u| u.id.clone())
            .collect(),
    );

    let inventory = inventory(&store, "acme", now()).unwrap();
    assert_eq!(inventory.changes_since_listing, 0);
    assert_eq!(inventory.apps.len(), snapshot.apps.len() + 1);
    assert_eq!(inventory.apps[0].id, OKTA_APP, "Okta comes first");
    assert!(inventory.apps[0].active_30 > 100, "{:?}", inventory.apps[0]);
    let mut reclaimable = 0;
    for app in &inventory.apps {
        let people = assigned.get(app.id.as_str()).cloned().unwrap_or_default();
        let (week, month, quarter, ever) = (
            who(&app.id, Some(7)),
            who(&app.id, Some(30)),
            who(&app.id, Some(90)),
            who(&app.id, None),
        );
        assert_eq!(app.assigned, people.len() as u64, "{}", app.label);
        assert_eq!(app.active_7, week.len() as u64, "{}", app.label);
        assert_eq!(app.active_30, month.len() as u64, "{}", app.label);
        assert_eq!(app.active_90, quarter.len() as u64, "{}", app.label);
        assert_eq!(
            (app.unlisted_7, app.unlisted_30, app.unlisted_90),
            (
                unlisted(&app.id, 7),
                unlisted(&app.id, 30),
                unlisted(&app.id, 90)
            ),
            "{}",
            app.label
        );
        let active_holders = people.intersection(&month).count() as u64;
        if app.assigned > 0 {
            assert_eq!(
                app.utilisation,
                Some(active_holders as f64 / app.assigned as f64),
                "{}: utilisation is of the people it was assigned to",
                app.label
            );
            assert!(app.utilisation.unwrap() <= 1.0);
        }
        assert_eq!(
            app.never_used,
            people.difference(&ever).count() as u64,
            "{}",
            app.label
        );
        assert_eq!(
            app.idle,
            people.difference(&month).count() as u64,
            "{}",
            app.label
        );
        let last = uses
            .iter()
            .filter(|(a, _, at)| a == &app.id && *at >= now() - TimeDelta::days(90))
            .map(|(_, _, at)| at.format("%Y-%m-%d").to_string())
            .max();
        assert_eq!(app.last_used, last, "{}", app.label);
        reclaimable += app.idle;
        // One app's numbers alone are the same as in the whole inventory.
        assert_eq!(
            app_numbers(&store, "acme", &app.id, now())
                .unwrap()
                .as_ref(),
            Some(app)
        );
    }
    // The org has real content to show: used apps, idle seats and an app nobody uses.
    let shelf = inventory.apps.iter().find(|a| a.id == SHELFWARE).unwrap();
    assert_eq!((shelf.assigned, shelf.never_used, shelf.idle), (12, 12, 12));
    assert_eq!(shelf.active_90, 0);
    assert!(reclaimable > 12, "{reclaimable}");
    assert!(inventory.apps.iter().filter(|a| a.active_30 > 0).count() >= 5);

    // One app's people: each person's state is what their sign-ins say.
    let busiest = inventory
        .apps
        .iter()
        .filter(|a| a.id != OKTA_APP)
        .max_by_key(|a| a.active_30)
        .unwrap();
    let people = app_users(&store, "acme", &busiest.id, now()).unwrap();
    let month = who(&busiest.id, Some(30));
    let ever = who(&busiest.id, None);
    let everyone: BTreeSet<String> = assigned[busiest.id.as_str()]
        .union(&ever)
        .cloned()
        .collect();
    assert_eq!(
        people.iter().map(|p| p.id.clone()).collect::<BTreeSet<_>>(),
        everyone
    );
    for person in &people {
        let expected = if month.contains(&person.id) {
            "active"
        } else if ever.contains(&person.id) {
            "idle"
        } else {
            "never"
        };
        assert_eq!(person.state, expected, "{}", person.login);
        assert_eq!(
            person.assigned,
            assigned[busiest.id.as_str()].contains(&person.id)
        );
    }
    // Its trend: the people signing in each day, counted by hand.
    let trend = daily_active(&store, "acme", &busiest.id, 14, now()).unwrap();
    let mut by_day: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    let first_day = (now() - TimeDelta::days(13)).format("%Y-%m-%d").to_string();
    for (a, p, at) in &uses {
        let day = at.format("%Y-%m-%d").to_string();
        if a == &busiest.id && day >= first_day && *at <= now() {
            by_day.entry(day).or_default().insert(p.as_str());
        }
    }
    let counted: Vec<(String, u64)> = by_day
        .into_iter()
        .map(|(d, people)| (d, people.len() as u64))
        .collect();
    let got: Vec<(String, u64)> = trend
        .iter()
        .map(|(t, n)| (t.format("%Y-%m-%d").to_string(), *n))
        .collect();
    assert_eq!(got, counted);
    assert!(got.len() >= 9, "weekdays of two weeks: {got:?}");

    // One person: every app they hold or used, in the state their own sign-ins say, and
    // their last use; Okta first.
    let someone = &people.iter().find(|p| p.state == "active").unwrap().id;
    let found = person(&store, "acme", someone, now()).unwrap().unwrap();
    assert_eq!(found.apps[0].id, OKTA_APP);
    let theirs: BTreeSet<String> = assigned
        .iter()
        .filter(|(app, people)| **app != OKTA_APP && people.contains(someone))
        .map(|(app, _)| app.to_string())
        .chain(
            uses.iter()
                .filter(|(a, p, _)| p == someone && a != OKTA_APP)
                .map(|(a, _, _)| a.clone()),
        )
        .collect();
    assert_eq!(
        found.apps[1..]
            .iter()
            .map(|a| a.id.clone())
            .collect::<BTreeSet<_>>(),
        theirs
    );
    for app in &found.apps {
        let mine = |days: Option<i64>| {
            uses.iter().any(|(a, p, at)| {
                a == &app.id
                    && p == someone
                    && days.is_none_or(|d| *at >= now() - TimeDelta::days(d))
            })
        };
        let state = if mine(Some(30)) {
            "active"
        } else if mine(None) {
            "idle"
        } else {
            "never"
        };
        assert_eq!(app.state, state, "{}", app.label);
        let last = uses
            .iter()
            .filter(|(a, p, at)| a == &app.id && p == someone && *at >= now() - TimeDelta::days(90))
            .map(|(_, _, at)| at.format("%Y-%m-%d").to_string())
            .max();
        assert_eq!(app.last_used, last, "{}", app.label);
    }
    assert!(person(&store, "acme", "00unobody", now())
        .unwrap()
        .is_none());

    // Licences to reclaim come first.
    let first_active = people.iter().position(|p| p.state == "active");
    let last_other = people.iter().rposition(|p| p.state != "active");
    if let (Some(a), Some(o)) = (first_active, last_other) {
        assert!(o < a, "idle and never-active people are listed first");
    }
}

fn day_after(days: i64) -> String {
    (now() + TimeDelta::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

#[test]
fn imported_contracts_give_spend_savings_and_renewals_by_hand_arithmetic() {
    let (store, _, _) = org();
    let before = inventory(&store, "acme", now()).unwrap();
    let apps: Vec<_> = before
        .apps
        .iter()
        .filter(|a| a.id != OKTA_APP && a.id != SHELFWARE)
        .collect();
    let (busiest, second, third) = (apps[0], apps[1], apps[2]);
    let okta_active = before.apps[0].active_30;
    let licences = busiest.assigned + 5;
    let csv = format!(
        "App,Licenses,Price,Billing,Currency,Renewal,Notice days,Owner,Notes\r\n\
         {busy},{licences},8.00,licence_month,USD,{in20},30,it@example.com,\"seats, SSO\"\r\n\
         Shelfware,12,\"1,200.00\",contract_year,USD,{in75},90,,\r\n\
         okta,200,4,per licence per month,usd,{in200},,,\r\n\
         Nope,1,1,licence_month,USD,,,,\r\n\
         {second},ten,1,licence_month,USD,,,,\r\n\
         {busy},1,1,licence_month,USD,,,,\r\n\
         {third_id},5,20,licence_year,EUR,2026-02-30,,,\r\n\
         {fourth},5,20.5,licence_year,EUR,{in45},,,\r\n",
        busy = busiest.label,
        second = second.label,
        third_id = third.id,
        fourth = apps[3].name,
        in20 = day_after(20),
        in45 = day_after(45),
        in75 = day_after(75),
        in200 = day_after(200),
    );
    let change = Change {
        by: "ana",
        at: now(),
    };
    let report = import_contracts(&store, "acme", &csv, &change).unwrap();
    assert_eq!(
        report.imported.iter().map(|r| r.line).collect::<Vec<_>>(),
        [2, 3, 4, 9]
    );
    let problems: Vec<(usize, String)> = report
        .problems
        .iter()
        .map(|p| (p.line, p.problems[0].field.clone()))
        .collect();
    assert_eq!(
        problems,
        [
            (5, "app".to_string()),
            (6, "licences".to_string()),
            (7, "app".to_string()),
            (8, "renewal".to_string())
        ]
    );
    assert!(report.problems[2].problems[0]
        .message
        .contains("already on line 2"));
    assert_eq!(store.contract("acme", &third.id).unwrap(), None);

    let mut after = inventory(&store, "acme", now()).unwrap();
    let find = |inv: &Inventory, id: &str| inv.apps.iter().find(|a| a.id == id).unwrap().clone();
    // Per licence per month: 8.00 × 12 × licences; every licence not active in 30 days unused.
    let busy = find(&after, &busiest.id);
    let spend = busy.spend.clone().unwrap();
    let annual = 800 * 12 * licences as i64;
    let unused = licences - busy.active_30;
    assert_eq!(spend.annual_cents, annual);
    assert_eq!(
        (spend.unused, spend.savings_cents),
        (unused, Some(9_600 * unused as i64))
    );
    assert_eq!(
        spend.per_active_user_cents,
        Some(annual / busy.active_30 as i64)
    );
    assert_eq!(
        busy.licence_utilisation,
        Some(busy.active_30 as f64 / licences as f64)
    );
    assert_eq!(
        busy.contract.as_ref().unwrap().notes.as_deref(),
        Some("seats, SSO")
    );
    // A contract price shared by 12 licences nobody uses: all of it could be saved.
    let shelf = find(&after, SHELFWARE).spend.unwrap();
    assert_eq!(
        (shelf.annual_cents, shelf.unused, shelf.savings_cents),
        (120_000, 12, Some(120_000))
    );
    // Okta: 200 licences at 4.00 a month against the people who started a session.
    let okta = find(&after, OKTA_APP).spend.unwrap();
    assert_eq!(okta.annual_cents, 400 * 12 * 200);
    assert_eq!(okta.unused, 200u64.saturating_sub(okta_active));
    // Totals per currency, never mixed.
    let usd = annual + 120_000 + 960_000;
    let usd_savings = 9_600 * unused as i64 + 120_000 + 4_800 * okta.unused as i64;
    assert_eq!(after.totals.len(), 2);
    assert_eq!(
        (
            after.totals[0].currency.as_str(),
            after.totals[0].annual_cents
        ),
        ("EUR", 5 * 2_050)
    );
    assert_eq!(
        (
            after.totals[1].currency.as_str(),
            after.totals[1].annual_cents,
            after.totals[1].savings_cents,
            after.totals[1].apps
        ),
        ("USD", usd, usd_savings, 3)
    );
    // Sorting by spend puts the dearest first and apps without a price last.
    after.sort("spend", false).unwrap();
    let spends: Vec<i64> = after
        .apps
        .iter()
        .filter_map(|a| a.spend.as_ref().map(|s| s.annual_cents))
        .collect();
    assert!(spends.windows(2).all(|w| w[0] >= w[1]), "{spends:?}");
    assert!(after.apps[..4].iter().all(|a| a.spend.is_some()));
    assert!(after.sort("price", true).is_err());

    // Renewals in 30, 60 and 90 days; notices for those inside their notice period.
    let ids = |r: Vec<okwatch_engine::usage::renewals::Renewal>| -> Vec<String> {
        r.into_iter().map(|r| r.app.id).collect()
    };
    assert_eq!(
        ids(renewals(&store, Some("acme"), now(), 30).unwrap()),
        vec![busiest.id.clone()]
    );
    assert_eq!(
        ids(renewals(&store, None, now(), 60).unwrap()),
        [busiest.id.clone(), apps[3].id.clone()]
    );
    let ninety = renewals(&store, None, now(), 90).unwrap();
    assert_eq!(ninety[2].app.id, SHELFWARE);
    assert_eq!(
        (ninety[2].days_left, ninety[2].notice_from.clone()),
        (75, day_after(-15))
    );
    assert_eq!(
        ids(notices_due(&store, now()).unwrap()),
        [busiest.id.clone(), SHELFWARE.to_string()]
    );

    // Exported and imported again, the contracts stay the same; a file without a column
    // keeps what is stored in it.
    let exported = contracts_csv(&store, "acme").unwrap();
    let kept = store.contracts(Some("acme")).unwrap();
    let again = import_contracts(&store, "acme", &exported, &change).unwrap();
    assert_eq!(
        (again.imported.len(), again.problems.len()),
        (4, 0),
        "{exported}"
    );
    assert_eq!(store.contracts(Some("acme")).unwrap(), kept);
    import_contracts(
        &store,
        "acme",
        "app,owner\nShelfware,finance@example.com\n",
        &change,
    )
    .unwrap();
    let shelf = store.contract("acme", SHELFWARE).unwrap().unwrap();
    assert_eq!(
        (shelf.licences, shelf.owner.as_deref()),
        (Some(12), Some("finance@example.com"))
    );
    let unknown =
        import_contracts(&store, "acme", "app,seats\nShelfware,3\n", &change).unwrap_err();
    assert!(
        unknown
            .to_string()
            .contains("line 1: unknown column `seats`"),
        "{unknown}"
    );
}

/// An event of `kind` at `at` about `person`, with `more` targets.
fn change(
    kind: &str,
    at: DateTime<Utc>,
    person: (&str, &str),
    more: Vec<Value>,
    ok: bool,
) -> Value {
    let mut targets = vec![serde_json::json!({
        "id": person.0, "type": if kind.starts_with("application.") { "AppUser" } else { "User" },
        "alternateId": person.1, "displayName": person.1,
    })];
    targets.extend(more);
    serde_json::json!({
        "uuid": format!("{kind}-{}-{}", person.0, at.timestamp_millis()),
        "published": okwatch_model::format_timestamp(at),
        "eventType": kind,
        "outcome": {"result": if ok { "SUCCESS" } else { "FAILURE" }},
        "actor": {"id": "00uadmin", "type": "User", "alternateId": "admin@example.com"},
        "target": targets,
    })
}

#[test]
fn changes_logged_since_the_listing_are_laid_over_it() {
    let taken = now() - TimeDelta::hours(3);
    let user = |id: &str| DirectoryUser {
        id: id.into(),
        login: format!("{id}@example.com"),
        name: id.into(),
        email: None,
        status: "ACTIVE".into(),
        department: None,
        created: None,
        last_login: None,
    };
    let app = |id: &str| DirectoryApp {
        id: id.into(),
        name: id.into(),
        label: id.into(),
        status: "ACTIVE".into(),
        sign_on_mode: None,
    };
    let assign = |app: &str, user: &str| AppAssignment {
        app_id: app.into(),
        user_id: user.into(),
        scope: "USER".into(),
        assigned: None,
    };
    let listing = DirectorySnapshot {
        taken: okwatch_model::format_timestamp(taken),
        users: vec![user("00u1"), user("00u2"), user("00u3")],
        groups: vec![DirectoryGroup {
            id: "00gsales".into(),
            name: "Sales".into(),
            kind: "OKTA_GROUP".into(),
        }],
        apps: vec![app("0oaA"), app("0oaB")],
        assignments: vec![
            assign("0oaA", "00u1"),
            assign("0oaA", "00u3"),
            assign("0oaB", "00u1"),
        ],
        memberships: Vec::new(),
    }
    .sorted();
    let a = serde_json::json!({"id": "0oaA", "type": "AppInstance", "displayName": "A"});
    let b = serde_json::json!({"id": "0oaB", "type": "AppInstance", "displayName": "B"});
    let sales = serde_json::json!({"id": "00gsales", "type": "UserGroup", "displayName": "Sales"});
    let at = |minutes: i64| taken + TimeDelta::minutes(minutes);
    let events = vec![
        // Before the listing (and its margin): already in it, not applied again.
        change(
            "application.user_membership.remove",
            taken - TimeDelta::hours(1),
            ("00u1", "u1"),
            vec![b.clone()],
            true,
        ),
        change(
            "application.user_membership.remove",
            at(10),
            ("00u1", "u1"),
            vec![a.clone()],
            true,
        ),
        change(
            "application.user_membership.add",
            at(20),
            ("00u2", "u2"),
            vec![b.clone()],
            true,
        ),
        // A failed assignment changes nothing.
        change(
            "application.user_membership.add",
            at(25),
            ("00u2", "u2"),
            vec![a.clone()],
            false,
        ),
        change(
            "user.lifecycle.deactivate",
            at(30),
            ("00u3", "u3"),
            vec![],
            true,
        ),
        change(
            "user.lifecycle.create",
            at(40),
            ("00u4", "u4@example.com"),
            vec![],
            true,
        ),
        change(
            "application.user_membership.add",
            at(41),
            ("00u4", "u4@example.com"),
            vec![a.clone()],
            true,
        ),
        change(
            "group.user_membership.add",
            at(42),
            ("00u4", "u4@example.com"),
            vec![sales],
            true,
        ),
        // Added, then removed: gone.
        change(
            "application.user_membership.add",
            at(50),
            ("00u2", "u2"),
            vec![a.clone()],
            true,
        ),
        change(
            "application.user_membership.remove",
            at(51),
            ("00u2", "u2"),
            vec![a],
            true,
        ),
        // After `now`: not yet.
        change(
            "application.user_membership.remove",
            now() + TimeDelta::minutes(1),
            ("00u1", "u1"),
            vec![b],
            true,
        ),
    ];
    let store = DuckDbStore::open_in_memory().unwrap();
    let rows = events
        .iter()
        .map(|e| EventRow::decompose("acme", e.clone()).unwrap())
        .collect();
    store.insert(EventBatch::encode(rows).unwrap()).unwrap();
    store.replace_directory("acme", &listing).unwrap();

    let found = inventory(&store, "acme", now()).unwrap();
    let assigned = |id: &str| found.apps.iter().find(|x| x.id == id).unwrap().assigned;
    // A: u1 removed, u3 deactivated (holds no licence), u4 created and added → 1.
    assert_eq!(assigned("0oaA"), 1);
    // B: u1 kept, u2 added → 2.
    assert_eq!(assigned("0oaB"), 2);
    // Okta: u1, u2 and the new u4; u3 deactivated.
    assert_eq!(assigned(OKTA_APP), 3);
    assert_eq!(found.changes_since_listing, 8);
    let people: Vec<String> = app_users(&store, "acme", "0oaA", now())
        .unwrap()
        .into_iter()
        .filter(|p| p.assigned)
        .map(|p| p.login)
        .collect();
    assert_eq!(people, ["u4@example.com"]);
    let newcomer = person(&store, "acme", "00u4", now()).unwrap().unwrap();
    assert_eq!(newcomer.user.status, "STAGED");
    assert_eq!(newcomer.groups.len(), 1);
}
