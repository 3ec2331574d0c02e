//! Reports through the real binary: `okwatch report` agrees with `okwatch search`, and a real
//! browser (Debian's headless Chromium, driven by Selenium) opens a report, follows a figure
//! and a table row to their events (the explorer counts what the report said) and downloads
//! the CSV.

mod support;

use serde_json::Value;
use support::{import_generated, okwatch, python_json, python_with, run, Server};

const PASSWORD: &str = "reports-test-password";

fn report_json(data: &std::path::Path, name: &str) -> Value {
    let text = run({
        let mut c = okwatch(data);
        c.args(["report", name, "--since", "all", "--format", "json"]);
        c
    });
    serde_json::from_str(&text).unwrap()
}

fn search_count(data: &std::path::Path, filter: &str) -> u64 {
    run({
        let mut c = okwatch(data);
        c.args([
            "search",
            "--since",
            "2000-01-01",
            "--filter",
            filter,
            "--count",
        ]);
        c
    })
    .trim()
    .parse()
    .unwrap()
}

#[test]
fn the_report_command_counts_what_search_counts_and_names_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_generated(&data, 6_000, 5, "2026-11-30T00:00:00Z");
    let report = report_json(&data, "authentication");
    let sign_ins = &report["figures"][0];
    assert_eq!(sign_ins["label"], "Sign-ins");
    let value = sign_ins["current"]["value"].as_u64().unwrap();
    assert!(value > 100, "{sign_ins}");
    assert_eq!(
        value,
        search_count(&data, "eventType eq \"user.session.start\"")
    );
    // All history has nothing before it to compare with.
    assert!(report["previous"].is_null());
    // Text for people, CSV for spreadsheets.
    let text = run({
        let mut c = okwatch(&data);
        c.args(["report", "failed_sign_ins", "--since", "all"]);
        c
    });
    assert!(text.starts_with("Failed sign-ins · "), "{text}");
    assert!(text.contains("Top accounts"), "{text}");
    let csv = run({
        let mut c = okwatch(&data);
        c.args(["report", "app_access", "--since", "all", "--format", "csv"]);
        c
    });
    assert!(csv.starts_with("section,measure,key 1"), "{csv}");
    assert!(csv.contains("\r\nSign-ins by app,Sign-ins,"), "{csv}");
    // Listing, and a name that is not a report.
    let list = run({
        let mut c = okwatch(&data);
        c.arg("report");
        c
    });
    assert_eq!(list.lines().count(), 12, "{list}");
    let wrong = okwatch(&data).args(["report", "logins"]).output().unwrap();
    assert!(!wrong.status.success());
    let message = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        message.contains("no report `logins`") && message.contains("failed_sign_ins"),
        "{message}"
    );
    let backwards = okwatch(&data)
        .args(["report", "usage", "--since=-1d", "--until=-2d"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&backwards.stderr).contains("must start before it ends"));
}

#[test]
fn a_browser_opens_a_report_follows_its_numbers_and_downloads_its_csv() {
    for program in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
        assert!(
            std::path::Path::new(program).exists(),
            "{program} is missing: the reports' browser test drives Debian's headless Chromium \
             (apt-get install chromium chromium-driver)"
        );
    }
    let python = python_with("selenium-venv", "selenium==4.27.1", "selenium");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    import_generated(&data, 8_000, 9, "2026-11-30T00:00:00Z");
    // One channel, a directory, for scheduled reports.
    let outbox = dir.path().join("outbox");
    let server = Server::start_with_config(
        &data,
        dir.path(),
        &format!(
            "[[notify]]\nname = \"archive\"\nkind = \"directory\"\npath = \"{}\"\n",
            outbox.display()
        ),
        &[("OKWATCH_ADMIN_PASSWORD", PASSWORD)],
    );
    // The report command, through the running server, agrees with it.
    let through_server = report_json(&data, "failed_sign_ins");
    let seen = python_json(
        &python,
        "reports_browser.py",
        &[&server.url, PASSWORD, &dir.path().display().to_string()],
    );
    assert_eq!(seen["listed"].as_array().unwrap().len(), 12, "{seen}");
    assert_eq!(seen["title"], "Failed sign-ins · Reports · okwatch");
    assert_eq!(seen["current_period"], "All history");
    assert!(seen["series"].as_u64().unwrap() >= 2, "{seen}");
    assert!(seen["bars"].as_u64().unwrap() >= 2, "{seen}");
    // A figure and a row, followed: the explorer counts exactly what the report showed.
    assert_eq!(seen["figure_label"], "Failures");
    assert_eq!(seen["figure_value"], seen["figure_total"], "{seen}");
    assert_eq!(
        seen["figure_value"], through_server["figures"][0]["current"]["value"],
        "the CLI through serve and the console agree"
    );
    assert!(seen["row_value"].as_u64().unwrap() > 0, "{seen}");
    assert_eq!(seen["row_value"], seen["row_total"], "{seen}");
    let key = seen["row_key"].as_str().unwrap();
    assert!(
        seen["row_chip"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().contains(key)),
        "{seen}"
    );
    let csv = &seen["csv"];
    assert_eq!(csv[0], 200);
    assert!(
        csv[1]
            .as_str()
            .unwrap()
            .contains("okwatch-failed_sign_ins-"),
        "{csv}"
    );
    let body = csv[2].as_str().unwrap();
    assert!(body.starts_with("section,measure,key 1"), "{body}");
    assert!(
        body.contains(&format!("\r\nTop accounts,Failures,{key},")),
        "{body}"
    );
    // Scheduled from the report's page: the form starts with the report, the browser's
    // time zone, and only the fields its cadence uses; "Run now" writes the files.
    assert_eq!(seen["schedule_name"], "Failed sign-ins, weekly");
    assert!(!seen["schedule_zone"].as_str().unwrap().is_empty());
    assert_eq!(seen["weekday_shown"], false);
    assert_eq!(seen["time_shown"], true);
    assert!(
        seen["schedule_when"]
            .as_str()
            .unwrap()
            .contains("every day at 08:00"),
        "{seen}"
    );
    let run = seen["run_row"].as_str().unwrap();
    assert!(
        run.contains("manual by admin") && run.contains("archive: sent"),
        "{run}"
    );
    let files: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    assert_eq!(seen["console_errors"], serde_json::json!([]), "{seen}");
}
