//! Okta's official Python SDK (`okta` from PyPI) paging through `okwatch serve` exactly as it
//! pages through Okta: filters, keywords, time windows, polling, errors, token refusal.
//!
//! The SDK is installed once into a virtual environment under Cargo's target directory
//! (`pip install okta==3.4.6`, from PyPI). Without python3 or PyPI the test fails and says so:
//! compatibility with real clients is a promise, not an optional extra.

use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const SDK: &str = "okta==3.4.6";

fn okwatch(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_okwatch"));
    command.arg("--data-dir").arg(data);
    command
}

fn run(mut command: Command) -> String {
    let output = command.output().expect("runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A Python with the Okta SDK importable.
fn python_with_sdk() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("okta-sdk-venv");
    let python = venv.join("bin/python");
    let has_sdk = |python: &Path| {
        Command::new(python)
            .args(["-c", "import okta.client"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if has_sdk(&python) {
        return python;
    }
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .expect("python3 is needed to run Okta's Python SDK against okwatch");
    assert!(status.success(), "python3 -m venv failed");
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            SDK,
        ])
        .status()
        .expect("pip runs");
    assert!(
        status.success(),
        "pip install {SDK} failed (is PyPI reachable?)"
    );
    assert!(has_sdk(&python), "{SDK} installed but does not import");
    python
}

/// `okwatch serve` on a free port, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = okwatch(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("serve says where it listens").unwrap();
            if let Some(rest) = line.split("API at ").nth(1) {
                break rest.trim_end_matches("/api/v1/logs").to_string();
            }
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sdk(python: &Path, server: &Server, token: &str, params: Value) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/okta_sdk_logs.py");
    let out = run({
        let mut c = Command::new(python);
        c.arg(script)
            .arg(&server.url)
            .arg(token)
            .arg(params.to_string());
        c
    });
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
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
    let python = python_with_sdk();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("events.ndjson");
    let events = run({
        let mut c = okwatch(&data);
        c.args([
            "generate",
            "--events",
            "6000",
            "--seed",
            "5",
            "--end",
            "2026-11-20T00:00:00Z",
        ]);
        c
    });
    std::fs::write(&file, events).unwrap();
    run({
        let mut c = okwatch(&data);
        c.arg("import").arg(&file);
        c
    });
    let token = run({
        let mut c = okwatch(&data);
        c.args(["token", "create", "--name", "sdk-test"]);
        c
    })
    .trim()
    .to_string();

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
