//! Events from Okta, whether a polled page or an Event Hook delivery, into rows for the store.

use okwatch_model::check_required;
use okwatch_store::EventRow;
use serde_json::Value;
use std::io::Write;
use std::path::Path;

/// Splits `events` into rows the store takes and refusals (reason, the event as it came). The
/// members a row needs are checked while the event is still whole, so a refused event is kept
/// as it came without copying every event first.
pub(crate) fn decompose(org: &str, events: Vec<Value>) -> (Vec<EventRow>, Vec<(String, Value)>) {
    let mut rows = Vec::with_capacity(events.len());
    let mut refused = Vec::new();
    for event in events {
        if let Err(e) = check_required(&event) {
            refused.push((e.to_string(), event));
            continue;
        }
        match EventRow::decompose(org, event) {
            Ok(row) => rows.push(row),
            // Unreachable while check_required is decompose's only refusal; if that changes,
            // the reason still counts and is reported.
            Err(e) => refused.push((e.to_string(), Value::Null)),
        }
    }
    (rows, refused)
}

/// Appends events that cannot be stored to `DIR/<org>.<source>.rejects.ndjson` (`source`:
/// `poll` or `hook`), one JSON object per line with the reason, so that nothing Okta sent is
/// lost even when okwatch cannot store it. Without a directory they are only logged.
pub(crate) fn keep_aside(
    org: &str,
    source: &str,
    rejected: &[(String, Value)],
    dir: Option<&Path>,
) {
    for (reason, _) in rejected {
        tracing::warn!(%org, %source, "an event from Okta cannot be stored: {reason}");
    }
    let Some(dir) = dir else {
        return;
    };
    let path = dir.join(format!("{org}.{source}.rejects.ndjson"));
    let written = std::fs::create_dir_all(dir).and_then(|_| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        for (reason, event) in rejected {
            let record = serde_json::json!({ "org": org, "reason": reason, "event": event });
            writeln!(file, "{record}")?;
        }
        file.flush()
    });
    if let Err(e) = written {
        tracing::error!("could not keep rejected events in {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refused_events_are_kept_whole_with_their_reason() {
        let good = json!({"uuid": "a", "published": "2026-01-01T00:00:00.000Z", "eventType": "x"});
        let no_uuid = json!({"published": "2026-01-01T00:00:00.000Z", "eventType": "x"});
        let (rows, refused) = decompose("acme", vec![good, no_uuid.clone(), json!(7)]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].uuid, "a");
        assert_eq!(refused.len(), 2);
        assert_eq!(refused[0].1, no_uuid);
        assert!(refused[0].0.contains("uuid"), "{}", refused[0].0);
        assert_eq!(refused[1].1, json!(7));
    }
}
