//! Okta's official Python SDK (`okta` from PyPI) paging through `okwatch serve` exactly as it
//! pages through Okta: filters, keywords, time windows, polling, errors, token refusal.
//!
//! The SDK is installed once into a virtual environment under Cargo's target directory
//! (`pip install okta==3.4.6`, from PyPI). Without python3 or PyPI the test fails and says so:
//! compatibility with real clients is a promise, not an optional extra.

mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use support::{create_token, import_generated, okwatch, python_json, python_with, run, Server};

const SDK: &str = "okta==3.4.6";

fn sdk(python: &Path, server: &Server, token: &str, params: Value) -> Value {
    let params = params.to_string();
    python_json(python, "okta_sdk_logs.py", &[&server.url, token, &params])
}

fn uuids_of(answer: &Value) -> Vec<String> {
    answer["uuids"]
        .as_array()
        .unwrap_or_else(|| panic!("no uuids: {answer}"))
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect()
}

/// What `okwatch search` finds, oldest first.
fn search(data: &Path, args: &[&str]) -> Vec<String> {
    let out = run({
        let mut c = okwatch(data);
        c.args(["search", "--all", "--sort", "asc", "--format", "ndjson"])
            .args(args);
        c
    });
    out.lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["uuid"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn oktas_python_sdk_pages_through_okwatch_like_through_okta() {
    let python = python_with("okta-sdk-venv", SDK, "okta.client");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_generated(&data, 6000, 5, "2026-11-20T00:00:00Z");
    let token = create_token(&data, "sdk-test");

    // Expectations come from the store before the server holds it.
    let window = [
        "--since",
        "2026-10-01T00:00:00Z",
        "--until",
        "2026-11-19T00:00:00Z",
    ];
    let filter =
        "outcome.result eq \"FAILURE\" or eventType sw \"user.authentication.auth_via_mfa\"";
    let mut args = window.to_vec();
    args.extend(["--filter", filter]);
    let failures = search(&data, &args);
    assert!(
        failures.len() > 30,
        "enough failures to page ({})",
        failures.len()
    );
    let all = search(&data, &[]);
    let ip = {
        let out = run({
            let mut c = okwatch(&data);
            c.args([
                "search",
                "--group-by",
                "client.ipAddress",
                "--limit",
                "1",
                "--format",
                "json",
            ]);
            c
        });
        let groups: Value = serde_json::from_str(&out).unwrap();
        groups[0]["client.ipAddress"].as_str().unwrap().to_string()
    };
    let with_ip = search(&data, &["--q", &ip]);

    let server = Server::start(&data);

    // A bounded window with a filter, 10 a page: every failure, oldest first, nothing twice.
    let answer = sdk(
        &python,
        &server,
        &token,
        serde_json::json!({
            "since": "2026-10-01T00:00:00Z", "until": "2026-11-19T00:00:00Z",
            "filter": filter, "limit": 50,
        }),
    );
    assert_eq!(uuids_of(&answer), failures);
    assert!(answer["pages"].as_u64().unwrap() >= 3);

    // Polling (no until) with q: everything stored with that IP, in arrival order.
    let answer = sdk(
        &python,
        &server,
        &token,
        serde_json::json!({"q": ip, "limit": 200}),
    );
    let got: BTreeSet<String> = uuids_of(&answer).into_iter().collect();
    let expected: BTreeSet<String> = with_ip.into_iter().collect();
    assert_eq!(got, expected);

    // The whole history, from further back than Okta's 180-day limit on `since`.
    let answer = sdk(
        &python,
        &server,
        &token,
        serde_json::json!({
            "since": "2025-01-01T00:00:00Z", "until": "2026-11-21T00:00:00Z", "limit": 1000,
        }),
    );
    assert_eq!(uuids_of(&answer), all);

    // Okta's errors reach the SDK as Okta's errors.
    let bad = sdk(
        &python,
        &server,
        &token,
        serde_json::json!({"filter": "eventType eqq \"x\""}),
    );
    let error = bad["error"].as_str().unwrap();
    assert!(
        error.contains("E0000053") && error.contains("position 10"),
        "{error}"
    );
    let refused = sdk(&python, &server, "okw_wrong", serde_json::json!({}));
    assert!(
        refused["error"].as_str().unwrap().contains("E0000011"),
        "{refused}"
    );
}
