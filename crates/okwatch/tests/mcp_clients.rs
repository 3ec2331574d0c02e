//! The official Python MCP SDK (`mcp` from PyPI) asks okwatch every question it can answer,
//! over stdio (`okwatch mcp`, as Claude Desktop runs it) and over streamable HTTP (`/mcp` on
//! `okwatch serve`, with a token); every answer is checked against `okwatch search`.

mod support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::{create_token, import_generated, okwatch, python_json, python_with, run, Server};

const SDK: &str = "mcp==2.3.0";
const SINCE: &str = "2026-10-01T00:00:00Z";
const FAILED: &str = r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#;
/// A shared saved search made in the console while `okwatch serve` runs: the failures.
const SAVED: &str = "Failures since October";
const BAD_FILTER: &str = r#"eventType eq "user.session.start" and outcome.result equals "FAILURE""#;

/// `okwatch search ARGS --format json` (groups) or ndjson (events), parsed.
fn search(data: &Path, args: &[&str], format: &str) -> Vec<Value> {
    let out = run({
        let mut c = okwatch(data);
        c.arg("search").args(args).args(["--format", format]);
        c
    });
    match format {
        "ndjson" => out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        _ => serde_json::from_str::<Value>(&out)
            .unwrap()
            .as_array()
            .unwrap()
            .clone(),
    }
}

fn count(data: &Path, args: &[&str]) -> u64 {
    let out = run({
        let mut c = okwatch(data);
        c.args(["search", "--count", "--format", "json"]).args(args);
        c
    });
    serde_json::from_str::<Value>(&out).unwrap()["count"]
        .as_u64()
        .unwrap()
}

/// What the store says, gathered before a server holds it.
struct Expected {
    failed: u64,
    failed_all_time: u64,
    newest_failures: Vec<Value>,
    all_events: u64,
    filter_position: u64,
    user: String,
    user_events: u64,
    failing_ips: Vec<(String, u64)>,
    app: String,
    app_sign_ins: u64,
    app_people: u64,
}

fn expected(data: &Path) -> Expected {
    let failed_args = ["--filter", FAILED, "--since", SINCE];
    let newest_failures = search(
        data,
        &[&failed_args[..], &["--limit", "14"]].concat(),
        "ndjson",
    );
    let top_user = search(
        data,
        &[
            "--since",
            SINCE,
            "--group-by",
            "actor.alternateId",
            "--limit",
            "1",
        ],
        "json",
    );
    let user = top_user[0]["actor.alternateId"]
        .as_str()
        .unwrap()
        .to_string();
    let user_filter = format!(r#"actor.alternateId eq "{user}" or actor.id eq "{user}""#);
    let failing_ips = search(
        data,
        &[
            &failed_args[..],
            &["--group-by", "client.ipAddress", "--limit", "3"],
        ]
        .concat(),
        "json",
    )
    .iter()
    .map(|g| {
        (
            g["client.ipAddress"].as_str().unwrap().to_string(),
            g["count"].as_u64().unwrap(),
        )
    })
    .collect();
    // The app with the most successful single sign-ons, and the people behind them.
    let sso = r#"eventType eq "user.authentication.sso" and outcome.result eq "SUCCESS""#;
    let first_sso = search(data, &["--filter", sso, "--limit", "1"], "ndjson");
    let app = first_sso[0]["target"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "AppInstance")
        .unwrap()["displayName"]
        .as_str()
        .unwrap()
        .to_string();
    let app_filter = format!(r#"{sso} and target.displayName eq "{app}""#);
    let people = search(
        data,
        &[
            "--filter",
            &app_filter,
            "--since",
            SINCE,
            "--group-by",
            "actor.alternateId",
            "--limit",
            "100000",
        ],
        "json",
    );
    // Where the CLI points at the mistake.
    let error = Command::new(env!("CARGO_BIN_EXE_okwatch"))
        .args(["search", "--filter", BAD_FILTER])
        .output()
        .unwrap();
    let message = String::from_utf8_lossy(&error.stderr).to_string();
    let filter_position = message
        .split("position ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no position in {message}"));
    Expected {
        failed: count(data, &failed_args),
        failed_all_time: count(data, &["--filter", FAILED]),
        newest_failures,
        all_events: count(data, &[]),
        filter_position,
        user_events: count(data, &["--filter", &user_filter, "--since", SINCE]),
        user,
        failing_ips,
        app_sign_ins: count(data, &["--filter", &app_filter, "--since", SINCE]),
        app_people: people.len() as u64,
        app,
    }
}

fn ask(python: &Path, mode_args: &[&str], e: &Expected) -> Value {
    let scenario = json!({
        "since": SINCE, "filter": FAILED, "bad_filter": BAD_FILTER,
        "user": e.user, "app": e.app, "saved": SAVED,
    });
    let scenario = scenario.to_string();
    let mut args = mode_args.to_vec();
    args.push(&scenario);
    python_json(python, "mcp_client.py", &args)
}

fn uuids(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events in {page}"))
        .iter()
        .map(|e| e["uuid"].as_str().unwrap().to_string())
        .collect()
}

/// Every answer, against the store.
fn check(answers: &Value, e: &Expected, transport: &str) {
    let names: Vec<&str> = answers["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "app_usage",
            "collection_status",
            "explain_filter",
            "failed_sign_ins",
            "get_alert",
            "get_event",
            "list_alerts",
            "list_reports",
            "list_saved_searches",
            "renewals",
            "run_report",
            "run_saved_search",
            "search_events",
            "user_activity"
        ],
        "{transport}"
    );
    assert_eq!(answers["tools_described"], true, "{transport}");
    assert_eq!(answers["required"]["get_event"], json!(["uuid"]));
    assert_eq!(answers["required"]["failed_sign_ins"], json!(["group_by"]));
    assert_eq!(answers["required"]["run_report"], json!(["report"]));

    // Reports: the list, and one run whose failed sign-ins are the store's count.
    assert_eq!(answers["reports"]["reports"].as_array().unwrap().len(), 12);
    let report = &answers["report"];
    assert_eq!(report["figures"][1]["label"], "Failed sign-ins", "{report}");
    assert_eq!(
        report["figures"][1]["current"]["value"], e.failed,
        "{transport}: {report}"
    );
    let unknown = &answers["report_unknown"];
    assert_eq!(unknown["is_error"], true, "{unknown}");
    assert!(
        unknown["text"]
            .as_str()
            .unwrap()
            .contains("failed_sign_ins"),
        "{unknown}"
    );

    // search_events: the total, then two pages that are the store's newest 14, in order.
    let page1 = &answers["page1"];
    assert_eq!(page1["total"], e.failed, "{transport}: {page1}");
    let expected: Vec<String> = e
        .newest_failures
        .iter()
        .map(|ev| ev["uuid"].as_str().unwrap().to_string())
        .collect();
    let mut got = uuids(page1);
    got.extend(uuids(&answers["page2"]));
    assert_eq!(got, expected, "{transport}");
    assert!(page1["hint"].as_str().unwrap().contains("next_cursor"));
    let bad = &answers["search_bad"];
    assert_eq!(bad["is_error"], true, "{transport}: {bad}");
    let text = bad["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("position {}", e.filter_position)),
        "{text}"
    );

    // get_event gives back the stored event exactly; an unknown uuid is a tool error.
    assert_eq!(answers["get_event"], e.newest_failures[0], "{transport}");
    assert_eq!(answers["get_missing"]["is_error"], true);

    let explained = &answers["explain_ok"];
    assert_eq!(explained["valid"], true);
    assert_eq!(explained["matching_events"], e.failed_all_time);
    assert_eq!(
        explained["attributes"],
        json!(["eventType", "outcome.result"])
    );
    let wrong = &answers["explain_bad"];
    assert_eq!(wrong["valid"], false);
    assert_eq!(wrong["position"], e.filter_position, "{transport}: {wrong}");
    // A filter nested past the bound is refused where the bound is crossed (the 65th `(`).
    let deep = &answers["search_deep"];
    assert_eq!(deep["is_error"], true, "{transport}: {deep}");
    assert!(deep["text"].as_str().unwrap().contains("deep"), "{deep}");
    let deep = &answers["explain_deep"];
    assert_eq!(deep["valid"], false, "{transport}: {deep}");
    assert_eq!(deep["position"], 64, "{transport}: {deep}");

    let user = &answers["user"];
    assert_eq!(user["user"], e.user.as_str());
    assert_eq!(user["events"], e.user_events, "{transport}: {user}");

    let failed = &answers["failed_by_ip"];
    assert_eq!(failed["total"], e.failed);
    let groups: Vec<(String, u64)> = failed["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["value"].as_str().unwrap().to_string(),
                g["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(groups, e.failing_ips, "{transport}");
    assert_eq!(answers["failed_bad_group"]["is_error"], true);

    let app = &answers["app"]["apps"][0];
    assert_eq!(app["app"], e.app.as_str());
    assert_eq!(app["sign_ins"], e.app_sign_ins, "{transport}: {app}");
    assert_eq!(app["active_users"], e.app_people, "{transport}: {app}");
    let all_apps: BTreeSet<&str> = answers["apps"]["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["app"].as_str().unwrap())
        .collect();
    assert!(all_apps.len() > 1 && all_apps.contains(e.app.as_str()));

    assert_eq!(answers["status"]["orgs"][0]["events"], e.all_events);

    // Saved searches: an imported store has none yet; `okwatch serve` saves the shipped ones,
    // and the one shared in the console runs as the same search would.
    let listed = answers["saved_list"]["saved_searches"].as_array().unwrap();
    let run = &answers["saved_run"];
    if transport == "stdio" {
        assert!(listed.is_empty(), "{listed:?}");
        assert_eq!(run["is_error"], true, "{run}");
        assert!(run["text"]
            .as_str()
            .unwrap()
            .contains("list_saved_searches"));
    } else {
        let names: BTreeSet<&str> = listed.iter().map(|s| s["name"].as_str().unwrap()).collect();
        assert!(
            names.contains("Failed sign-ins, last 7 days") && names.contains(SAVED),
            "{names:?}"
        );
        assert_eq!(run["total"], e.failed, "{transport}: {run}");
        assert_eq!(uuids(run), expected[..7], "{transport}");
        assert_eq!(run["saved_search"]["filter"], FAILED);
    }

    assert_eq!(
        answers["resources"],
        json!([
            "okwatch://guide/filter-language",
            "okwatch://store/event-types",
            "okwatch://store/status"
        ])
    );
    assert_eq!(answers["guide_mentions_operators"], true);
    let typed: u64 = answers["event_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["events"].as_u64().unwrap())
        .sum();
    assert_eq!(typed, e.all_events);

    assert_eq!(
        answers["prompts"],
        json!(["investigate_user", "weekly_access_review"])
    );
    let prompt = answers["investigate_text"].as_str().unwrap();
    assert!(
        prompt.contains(&e.user) && prompt.contains("14 days"),
        "{prompt}"
    );
}

const ADMIN_PASSWORD: &str = "mcp-test-admin-password";

/// Signs in to the console as admin and shares [`SAVED`] through the console's API.
fn share_a_saved_search(base: &str) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let _ = okwatch_collect::http::client(std::time::Duration::from_secs(5));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let (session, csrf) =
            support::console_session(&client, base, "admin", ADMIN_PASSWORD).await;
        let query = format!(
            "since={}&filter={}",
            SINCE,
            okwatch_web::search::encode(FAILED)
        );
        let saved = client
            .post(format!("{base}/api/okwatch/v1/saved-searches"))
            .header("cookie", &session)
            .header("x-csrf-token", csrf)
            .header("content-type", "application/json")
            .body(json!({ "name": SAVED, "query": query, "shared": true }).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(saved.status(), 201);
    });
}

#[test]
fn the_python_mcp_sdk_gets_answers_that_agree_with_the_store() {
    let python = python_with("mcp-sdk-venv", SDK, "mcp.client.streamable_http");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_generated(&data, 8000, 9, "2026-11-20T00:00:00Z");
    let e = expected(&data);
    assert!(
        e.failed > 14,
        "enough failures for two pages ({})",
        e.failed
    );

    // stdio: the SDK starts `okwatch mcp` itself, as a desktop assistant does.
    let data_text = data.display().to_string();
    let answers = ask(
        &python,
        &["stdio", env!("CARGO_BIN_EXE_okwatch"), &data_text],
        &e,
    );
    check(&answers, &e, "stdio");

    // Streamable HTTP on `okwatch serve`, with a token; refused without one.
    let token = create_token(&data, "mcp-test");
    let server = Server::start_with(&data, &[("OKWATCH_ADMIN_PASSWORD", ADMIN_PASSWORD)]);
    share_a_saved_search(&server.url);
    let url = format!("{}/mcp", server.url);
    let answers = ask(&python, &["http", &url, &token], &e);
    check(&answers, &e, "http");
    assert_eq!(answers["anonymous_status"], 401);

    // While `serve` holds the store, `okwatch mcp` answers through it (found by the
    // serve.json it keeps in the data directory)...
    let busy = python_json(
        &python,
        "mcp_client.py",
        &["busy", env!("CARGO_BIN_EXE_okwatch"), &data_text, SAVED],
    );
    assert_eq!(busy["orgs"][0]["events"], e.all_events, "{busy}");
    assert_eq!(busy["saved_run"]["total"], e.failed, "{busy}");
    // ...and so does the command line.
    let search = okwatch(&data).args(["search", "--count"]).output().unwrap();
    assert!(
        search.status.success(),
        "{}",
        String::from_utf8_lossy(&search.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&search.stdout).trim(),
        e.all_events.to_string()
    );
    let failures = okwatch(&data)
        .args([
            "search", "--filter", FAILED, "--limit", "3", "--format", "json",
        ])
        .output()
        .unwrap();
    let got: Value = serde_json::from_slice(&failures.stdout).unwrap();
    assert_eq!(
        got.as_array().unwrap()[..],
        e.newest_failures[..3],
        "the same events, in order"
    );
    drop(server);
}
