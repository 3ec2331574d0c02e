//! The `okwatch` binary, driven as a user drives it: real files, a real DuckDB store in a
//! temporary data directory, output read back from stdout and stderr.

mod support;

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        Workspace {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn okwatch(&self, args: &[&str]) -> Output {
        self.okwatch_with_stdin(args, None)
    }

    fn okwatch_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_okwatch"))
            .arg("--data-dir")
            .arg(self.path("data"))
            .args(args)
            .env("COLUMNS", "200")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(bytes) = stdin {
            child.stdin.take().unwrap().write_all(bytes).unwrap();
        }
        child.wait_with_output().unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn samples() -> PathBuf {
    support::package_dir().join("../../../shared/samples")
}

fn ndjson(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write_generated(ws: &Workspace, events: u64) -> PathBuf {
    let out = ws.okwatch(&[
        "generate",
        "--events",
        &events.to_string(),
        "--seed",
        "7",
        "--end",
        "2026-11-25T00:00:00Z",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let path = ws.path("generated.ndjson");
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

#[test]
fn importing_the_same_file_twice_stores_nothing_twice() {
    let ws = Workspace::new();
    let file = write_generated(&ws, 2_000);
    let first = ws.okwatch(&["import", file.to_str().unwrap()]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("read 2000, stored 2000, duplicates 0, rejected 0"),
        "{}",
        stderr(&first)
    );
    let second = ws.okwatch(&["import", file.to_str().unwrap()]);
    assert!(
        stderr(&second).contains("read 2000, stored 0, duplicates 2000, rejected 0"),
        "{}",
        stderr(&second)
    );
    let count = ws.okwatch(&["search", "--count"]);
    assert_eq!(stdout(&count).trim(), "2000");
}

#[test]
fn every_real_sample_is_imported_and_exported_unchanged() {
    let ws = Workspace::new();
    let file = samples().join("okta-real/elastic-integrations-okta-system.ndjson");
    let out = ws.okwatch(&["import", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let exported = ws.okwatch(&["search", "--all", "--sort", "asc", "--format", "ndjson"]);
    let mut got: Vec<Value> = stdout(&exported)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut want = ndjson(&file);
    let key = |v: &Value| {
        (
            v["published"].as_str().unwrap().to_string(),
            v["uuid"].as_str().unwrap().to_string(),
        )
    };
    got.sort_by_key(key);
    want.sort_by_key(key);
    want.dedup_by_key(|v| key(v));
    assert_eq!(got, want);
}

#[test]
fn all_real_sample_files_import_without_rejections() {
    let ws = Workspace::new();
    for entry in std::fs::read_dir(samples().join("okta-real")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ndjson") {
            let out = ws.okwatch(&["import", path.to_str().unwrap()]);
            assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
            assert!(stderr(&out).contains("rejected 0"), "{}", stderr(&out));
        }
    }
}

#[test]
fn a_bad_line_is_reported_with_file_and_line_kept_aside_and_the_rest_imported() {
    let ws = Workspace::new();
    let good = write_generated(&ws, 10);
    let mut lines: Vec<String> = std::fs::read_to_string(&good)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    lines.insert(3, "{not json".into());
    lines.insert(6, r#"{"uuid": "x", "eventType": "user.session.start", "published": "2017-09-31T22:23:07.777Z"}"#.into());
    let file = ws.path("mixed.ndjson");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = ws.okwatch(&["import", file.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "exit status 3 means some lines were rejected"
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("{}:4: not valid JSON", file.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}:7: `published` is not a valid ISO 8601 timestamp",
            file.display()
        )),
        "{err}"
    );
    assert!(err.contains("stored 10"), "{err}");
    let rejects_dir = ws.path("data/rejects");
    let rejects: Vec<PathBuf> = std::fs::read_dir(&rejects_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(rejects.len(), 1);
    let kept = ndjson(&rejects[0]);
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0]["line"], 4);
    assert_eq!(kept[0]["text"], "{not json");
}

#[test]
fn json_arrays_gzip_stdin_and_hook_deliveries_are_all_accepted() {
    let ws = Workspace::new();
    let events = ndjson(&write_generated(&ws, 30));
    let array = ws.path("page.json");
    std::fs::write(&array, serde_json::to_string_pretty(&events[..10]).unwrap()).unwrap();
    let gz = ws.path("more.ndjson.gz");
    {
        let mut enc = flate2_writer(&gz);
        for e in &events[10..20] {
            writeln!(enc, "{e}").unwrap();
        }
    }
    let hook = serde_json::json!({"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "data": {"events": &events[20..25]}});
    let hook_file = ws.path("hook.json");
    std::fs::write(&hook_file, hook.to_string()).unwrap();
    for f in [&array, &gz, &hook_file] {
        let out = ws.okwatch(&["import", f.to_str().unwrap()]);
        assert!(out.status.success(), "{}: {}", f.display(), stderr(&out));
    }
    let stdin: String = events[25..].iter().map(|e| format!("{e}\n")).collect();
    let out = ws.okwatch_with_stdin(&["import", "-"], Some(stdin.as_bytes()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&ws.okwatch(&["search", "--count"])).trim(), "30");
}

fn flate2_writer(path: &Path) -> impl Write {
    flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    )
}

#[test]
fn a_malformed_filter_names_the_position_and_what_was_expected() {
    let ws = Workspace::new();
    let out = ws.okwatch(&[
        "search",
        "--filter",
        r#"eventType eq "x" and outcome.result eqq "FAILURE""#,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("unrecognized attribute operator `eqq`"),
        "{err}"
    );
    assert!(err.contains("^ position 36"), "{err}");
    let typo = ws.okwatch(&["search", "--filter", r#"eventtype eq "x""#]);
    assert!(
        stderr(&typo).contains("did you mean `eventType`?"),
        "{}",
        stderr(&typo)
    );
}

#[test]
fn searches_filter_and_format_the_way_the_flags_say() {
    let ws = Workspace::new();
    let file = write_generated(&ws, 5_000);
    assert!(ws
        .okwatch(&["import", file.to_str().unwrap()])
        .status
        .success());
    let all = ndjson(&file);
    let failed: Vec<&Value> = all
        .iter()
        .filter(|e| e["eventType"] == "user.session.start" && e["outcome"]["result"] == "FAILURE")
        .collect();
    assert!(!failed.is_empty());
    let filter = r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#;

    let count = ws.okwatch(&["search", "--filter", filter, "--count"]);
    assert_eq!(stdout(&count).trim(), failed.len().to_string());

    let csv = ws.okwatch(&[
        "search",
        "--filter",
        filter,
        "--format",
        "csv",
        "--limit",
        "5",
        "--fields",
        "published,actor.alternateId,outcome.result",
    ]);
    let text = stdout(&csv);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "published,actor.alternateId,outcome.result");
    assert_eq!(lines.len(), 6);
    assert!(lines[1..].iter().all(|l| l.ends_with(",FAILURE")));
    let newest = failed
        .iter()
        .map(|e| e["published"].as_str().unwrap())
        .max()
        .unwrap();
    assert!(
        lines[1].starts_with(newest),
        "newest first: {} vs {newest}",
        lines[1]
    );

    let ip = failed[0]["client"]["ipAddress"].as_str().unwrap();
    let q = ws.okwatch(&["search", "--q", ip, "--format", "ndjson", "--all"]);
    let found: Vec<Value> = stdout(&q)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected = all
        .iter()
        .filter(|e| e.to_string().contains(&format!("\"{ip}\"")))
        .count();
    assert_eq!(found.len(), expected);

    let groups = ws.okwatch(&[
        "search",
        "--filter",
        filter,
        "--group-by",
        "client.ipAddress",
        "--limit",
        "3",
        "--format",
        "csv",
    ]);
    let groups_text = stdout(&groups);
    let rows: Vec<&str> = groups_text.lines().collect();
    assert_eq!(rows[0], "client.ipAddress,count");
    assert_eq!(rows.len(), 4);

    let per_day = ws.okwatch(&[
        "search", "--filter", filter, "--per", "day", "--format", "csv",
    ]);
    let total: u64 = stdout(&per_day)
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total as usize, failed.len());

    let table = ws.okwatch(&["search", "--limit", "3"]);
    assert!(
        stdout(&table)
            .lines()
            .next()
            .unwrap()
            .starts_with("published"),
        "{}",
        stdout(&table)
    );
    assert!(stderr(&table).contains("more results: add --after"));

    let window = ws.okwatch(&[
        "search",
        "--since",
        "2026-11-24T00:00:00Z",
        "--until",
        "2026-11-24T12:00:00Z",
        "--count",
    ]);
    let in_window = all
        .iter()
        .filter(|e| {
            let p = e["published"].as_str().unwrap();
            ("2026-11-24T00:00:00.000Z".."2026-11-24T12:00:00.000Z").contains(&p)
        })
        .count();
    assert_eq!(stdout(&window).trim(), in_window.to_string());
}

#[test]
fn generation_is_deterministic_for_a_seed() {
    let ws = Workspace::new();
    let args = [
        "generate",
        "--events",
        "300",
        "--seed",
        "42",
        "--end",
        "2026-01-01T00:00:00Z",
    ];
    let a = ws.okwatch(&args);
    let b = ws.okwatch(&args);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(stdout(&a).lines().count(), 300);
}

#[test]
fn purge_deletes_only_what_is_older_than_the_cutoff() {
    let ws = Workspace::new();
    let file = write_generated(&ws, 3_000);
    assert!(ws
        .okwatch(&["import", file.to_str().unwrap()])
        .status
        .success());
    let cutoff = "2026-11-20T00:00:00Z";
    let older = ndjson(&file)
        .iter()
        .filter(|e| e["published"].as_str().unwrap() < cutoff)
        .count();
    assert!(older > 0);
    let out = ws.okwatch(&["purge", "--before", cutoff]);
    assert!(
        stdout(&out).contains(&format!("deleted {older} events")),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        stdout(&ws.okwatch(&["search", "--count"])).trim(),
        (3_000 - older).to_string()
    );
}

#[test]
fn the_demo_fills_a_store_of_its_own_and_tours_it() {
    let ws = Workspace::new();
    let first = ws.okwatch(&["demo", "--no-serve"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let out = stdout(&first);
    assert!(out.contains("## The newest failed sign-ins"), "{out}");
    assert!(
        out.contains("INVALID_CREDENTIALS"),
        "the tour shows failures: {out}"
    );
    // The demo's store is a normal store: searchable afterwards with the commands it printed.
    let demo = ws.path("data").join("demo");
    let count = Command::new(env!("CARGO_BIN_EXE_okwatch"))
        .arg("--data-dir")
        .arg(&demo)
        .args(["search", "--since", "-30d", "--count"])
        .output()
        .unwrap();
    let stored: u64 = stdout(&count).trim().parse().unwrap();
    assert!(stored > 40_000, "30 days of a 250-person org ({stored})");
    // A backtest of the shipped detections over it finds each planted incident once, by the
    // detection made for it, from the incident's own events.
    let backtest = Command::new(env!("CARGO_BIN_EXE_okwatch"))
        .arg("--data-dir")
        .arg(&demo)
        .args(["rules", "backtest", "--format", "json"])
        .output()
        .unwrap();
    assert!(backtest.status.success(), "{}", stderr(&backtest));
    let alerts: Vec<serde_json::Value> = serde_json::from_slice(&backtest.stdout).unwrap();
    let truth = std::fs::read_to_string(demo.join("ground-truth.ndjson")).unwrap();
    for line in truth.lines() {
        let incident: serde_json::Value = serde_json::from_str(line).unwrap();
        let rule = match incident["kind"].as_str().unwrap() {
            "password-spray" => "okwatch.password_spray",
            "brute-force" => "okwatch.brute_force",
            "mfa-push-fatigue" => "okwatch.mfa_push_fatigue",
            "impossible-travel" => "okwatch.impossible_travel",
            "admin-grant-then-api-token" => "okwatch.grant_then_token",
            "sign-on-policy-weakened" => "okwatch.policy_weakened",
            "session-from-second-country" => "okwatch.session_second_country",
            other => panic!("a planted incident without a detection: {other}"),
        };
        let own: Vec<&str> = incident["event_uuids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u.as_str().unwrap())
            .collect();
        let raised: Vec<&serde_json::Value> = alerts
            .iter()
            .filter(|a| a["rule"] == rule)
            .filter(|a| {
                a["events"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|u| own.contains(&u.as_str().unwrap()))
            })
            .collect();
        // One alert per incident; a sign-in from far away is impossible travel both from the
        // sign-in before it and to the one after it, which may be two alerts.
        let most = if rule == "okwatch.impossible_travel" {
            2
        } else {
            1
        };
        assert!(
            (1..=most).contains(&raised.len()),
            "{}: {raised:?}",
            incident["summary"]
        );
        for field in ["severity", "group", "first", "last", "explanation"] {
            assert!(raised[0].get(field).is_some(), "{field} in {}", raised[0]);
        }
    }
    // Running it again adds the history once only.
    assert!(ws.okwatch(&["demo", "--no-serve"]).status.success());
    let again = Command::new(env!("CARGO_BIN_EXE_okwatch"))
        .arg("--data-dir")
        .arg(&demo)
        .args(["search", "--since", "-30d", "--count"])
        .output()
        .unwrap();
    let after: u64 = stdout(&again).trim().parse().unwrap();
    assert!(
        // The 30-day window also moves on by the seconds between the runs.
        after.abs_diff(stored) < 100,
        "only minutes of new activity ({stored} -> {after})"
    );
}

#[test]
fn tokens_are_shown_once_listed_by_prefix_and_revocable() {
    let ws = Workspace::new();
    let created = ws.okwatch(&["token", "create", "--name", "siem"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let token = stdout(&created).trim().to_string();
    assert!(token.starts_with("okw_") && token.len() > 30);
    let list = stdout(&ws.okwatch(&["token", "list"]));
    assert!(list.contains("siem") && list.contains(&token[..8]));
    assert!(
        !list.contains(&token),
        "the token itself is never shown again"
    );
    let stored = std::fs::read_to_string(ws.path("data").join("tokens.json")).unwrap();
    assert!(!stored.contains(&token), "only a hash is kept");
    assert!(ws.okwatch(&["token", "revoke", "siem"]).status.success());
    assert!(!stdout(&ws.okwatch(&["token", "list"])).contains("siem"));
    assert_eq!(
        ws.okwatch(&["token", "revoke", "siem"]).status.code(),
        Some(1)
    );
}

#[test]
fn the_simulator_command_serves_the_org_and_writes_the_ground_truth() {
    let ws = Workspace::new();
    let truth_file = ws.path("truth.ndjson");
    let mut child = Command::new(env!("CARGO_BIN_EXE_okwatch"))
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--users",
            "40",
            "--days",
            "2",
        ])
        .args([
            "--token",
            "cli-test",
            "--incidents",
            "all",
            "--ground-truth",
        ])
        .arg(&truth_file)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap()));
    let base = loop {
        let line = lines.next().expect("sim prints its address").unwrap();
        if let Some(rest) = line.split("Okta API at ").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches("/api/v1/")
                .to_string();
        }
    };
    let truths: Vec<Value> = std::fs::read_to_string(&truth_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(truths.len(), 7, "one line per incident kind");
    let spray = truths
        .iter()
        .find(|t| t["kind"] == "password-spray")
        .unwrap();
    let ip = spray["ips"][0].as_str().unwrap().to_string();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let reply = runtime
        .block_on(okwatch_sim::server::hooks::request(
            &format!("{base}/api/v1/logs?limit=1000&q={ip}"),
            "GET",
            &[("Authorization".into(), "SSWS cli-test".into())],
            b"",
        ))
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(reply.status, 200);
    let events: Vec<Value> = serde_json::from_slice(&reply.body).unwrap();
    let served: std::collections::BTreeSet<&str> =
        events.iter().map(|e| e["uuid"].as_str().unwrap()).collect();
    for uuid in spray["event_uuids"].as_array().unwrap() {
        assert!(
            served.contains(uuid.as_str().unwrap()),
            "the spray's events are served"
        );
    }

    let bad = ws.okwatch(&["sim", "--faults", "meteor=0.5"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("unknown fault 'meteor'"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn sigma_rules_are_validated_and_run_in_a_backtest() {
    let ws = Workspace::new();
    let sigma = support::package_dir().join("../../../shared/samples/sigma-okta");
    let checked = ws.okwatch(&["rules", "validate", sigma.to_str().unwrap()]);
    assert!(checked.status.success(), "{}", stdout(&checked));
    assert!(stdout(&checked).contains("24 rules: 24 load, 0 refused"));
    assert!(
        stdout(&checked).contains("%legtimate_identifiers%"),
        "the placeholder is named"
    );

    let bad = ws.path("bad.yml");
    std::fs::write(
        &bad,
        "title: Counting\ndetection:\n  selection:\n    eventType: user.session.start\n  condition: selection | count() by actor.alternateId > 10\n",
    )
    .unwrap();
    let refused = ws.okwatch(&["rules", "validate", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stdout(&refused).contains("refused") && stdout(&refused).contains("aggregations"));

    let file = write_generated(&ws, 5_000);
    assert!(ws
        .okwatch(&["import", file.to_str().unwrap()])
        .status
        .success());
    let ran = ws.okwatch(&[
        "rules",
        "backtest",
        "--sigma",
        sigma.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(ran.status.success(), "{}", stderr(&ran));
    let alerts: Vec<serde_json::Value> = serde_json::from_slice(&ran.stdout).unwrap();
    let created = ndjson(&file)
        .iter()
        .filter(|e| e["eventType"] == "user.lifecycle.create")
        .count();
    let sigma_created: usize = alerts
        .iter()
        .filter(|a| a["rule"] == "sigma.b6c718dd-8f53-4b9f-98d8-93fdca966969")
        .map(|a| a["events"].as_array().unwrap().len())
        .sum();
    assert!(created > 0);
    assert_eq!(sigma_created, created, "one alert event per created user");
}

#[test]
fn rule_files_are_checked_imported_all_or_nothing_exported_and_backtested() {
    let ws = Workspace::new();
    let grants = "id: acme.grants\nname: New accounts\nseverity: medium\n\
                  filter: 'eventType eq \"user.lifecycle.create\"'\nrunbook: Check it.\n";
    let bad = "id: acme.bad\nname: Bad\nseverity: medium\nfilter: 'eventType eq'\n";
    let mixed = ws.path("mixed.yml");
    std::fs::write(&mixed, format!("{grants}---\n{bad}")).unwrap();
    // The refused rule is named with the line its document starts on.
    let checked = ws.okwatch(&["rules", "validate", mixed.to_str().unwrap()]);
    assert_eq!(checked.status.code(), Some(1));
    let out = stdout(&checked);
    assert!(
        out.contains("ok       ") && out.contains("acme.grants"),
        "{out}"
    );
    assert!(
        out.contains(&format!("refused  {}:7  `filter`", mixed.display())),
        "{out}"
    );
    // All or nothing: one refused rule imports none.
    let refused = ws.okwatch(&["rules", "import", mixed.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stdout(&refused).contains("nothing imported"));
    let listed = ws.okwatch(&["rules", "list"]);
    assert!(!stdout(&listed).contains("acme.grants"));

    let good = ws.path("good.yml");
    std::fs::write(&good, grants).unwrap();
    let imported = ws.okwatch(&["rules", "import", good.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let listed = stdout(&ws.okwatch(&["rules", "list"]));
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("on ") && l.contains("acme.grants") && l.contains("custom")),
        "{listed}"
    );

    // Exported and imported again: shipped rules stay shipped, the custom one is the same.
    let exported = ws.path("exported");
    let out = ws.okwatch(&["rules", "export", "--dir", exported.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = std::fs::read_dir(&exported).unwrap().count();
    assert_eq!(files, okwatch_engine::rules::pack::builtin().len() + 1);
    let again = ws.okwatch(&["rules", "import", exported.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stdout(&again));
    let listed: Vec<Value> =
        serde_json::from_slice(&ws.okwatch(&["rules", "list", "--format", "json"]).stdout).unwrap();
    for rule in &listed {
        let expected = if rule["id"] == "acme.grants" {
            "custom"
        } else {
            "shipped"
        };
        assert_eq!(rule["origin"], expected, "{rule}");
    }
    let changed = ws.okwatch(&["rules", "export", "--changed"]);
    assert_eq!(
        stdout(&changed).matches("\nid: ").count(),
        1,
        "{}",
        stdout(&changed)
    );

    // The imported rule runs in a backtest, over exactly the events its filter matches.
    let file = write_generated(&ws, 5_000);
    assert!(ws
        .okwatch(&["import", file.to_str().unwrap()])
        .status
        .success());
    let ran = ws.okwatch(&[
        "rules",
        "backtest",
        "--rule",
        "acme.grants",
        "--format",
        "json",
    ]);
    assert!(ran.status.success(), "{}", stderr(&ran));
    let alerts: Vec<Value> = serde_json::from_slice(&ran.stdout).unwrap();
    let granted = ndjson(&file)
        .iter()
        .filter(|e| e["eventType"] == "user.lifecycle.create")
        .count();
    let covered: usize = alerts
        .iter()
        .map(|a| a["events"].as_array().unwrap().len())
        .sum();
    assert!(granted > 0);
    assert_eq!(covered, granted);
}
