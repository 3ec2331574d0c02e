//! The model must keep every real Okta event exactly: parse → serialize gives the same value.

use okwatch_model::LogEvent;
use serde_json::Value;
use std::path::PathBuf;

/// This package's directory, looked up when the tests run rather than when they were built: a
/// shared build cache may hand back a test binary compiled in a checkout somewhere else.
fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::current_dir().expect("a working directory"))
}

fn samples_dir(name: &str) -> PathBuf {
    package_dir().join("../../../shared/samples").join(name)
}

fn ndjson_values(dir: &str) -> Vec<(String, usize, Value)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(samples_dir(dir))
        .expect("shared/samples is next to the repository")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ndjson"))
        .collect();
    files.sort();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let value: Value = serde_json::from_str(line).unwrap();
            out.push((path.display().to_string(), i + 1, value));
        }
    }
    out
}

#[test]
fn every_real_sample_event_round_trips_through_the_typed_model() {
    let samples = ndjson_values("okta-real");
    assert!(
        samples.len() >= 80,
        "expected the shared samples, found {}",
        samples.len()
    );
    for (file, line, value) in samples {
        let event =
            LogEvent::from_value(value.clone()).unwrap_or_else(|e| panic!("{file}:{line}: {e}"));
        assert_eq!(
            event.to_value(),
            value,
            "{file}:{line} changed on the way through"
        );
    }
}

#[test]
fn typed_accessors_read_real_events() {
    let samples = ndjson_values("okta-real");
    let logins: Vec<LogEvent> = samples
        .into_iter()
        .map(|(_, _, v)| LogEvent::from_value(v).unwrap())
        .filter(|e| e.event_type == "user.session.start")
        .collect();
    assert!(!logins.is_empty());
    assert!(logins.iter().any(|e| e.outcome_result() == Some("FAILURE")));
    assert!(logins.iter().all(|e| e.published_at().is_some()));
    assert!(logins
        .iter()
        .any(|e| e.actor_login().is_some_and(|l| l.contains('@'))));
}

#[test]
fn malformed_samples_are_refused_with_the_reason() {
    let samples = ndjson_values("okta-malformed");
    let mut refused = 0;
    for (file, line, value) in samples {
        match LogEvent::from_value(value.clone()) {
            Ok(event) => assert_eq!(event.to_value(), value, "{file}:{line}"),
            Err(e) => {
                refused += 1;
                let text = e.to_string();
                assert!(
                    text.contains("uuid")
                        || text.contains("published")
                        || text.contains("eventType"),
                    "{file}:{line}: unhelpful error {text}"
                );
            }
        }
    }
    assert!(
        refused >= 5,
        "the malformed samples have null uuids and bad dates; refused {refused}"
    );
}
