//! A compact, readable form of one event: what a person (or a model with a small context)
//! needs to tell events apart, with the uuid to ask for the whole thing.

use serde::Serialize;
use serde_json::Value;

/// One event in a few fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventSummary {
    /// The event's uuid (`get_event` returns the whole event).
    pub uuid: String,
    /// When it happened (Okta's `published`).
    pub published: String,
    /// Okta's event type.
    pub event_type: String,
    /// Okta's one-line description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `SUCCESS`, `FAILURE`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who did it: login, else display name, else id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// From which IP address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// From where: city, country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// What it was done to: `type: name` of each target.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
}

fn text(value: &Value, path: &[&str]) -> Option<String> {
    crate::text_at(value, path).map(str::to_string)
}

impl EventSummary {
    /// The attributes a summary reads: enough for [`okwatch_store::EventQuery::fields`].
    pub const FIELDS: &'static [&'static str] = &[
        "uuid",
        "published",
        "eventType",
        "displayMessage",
        "outcome",
        "actor",
        "client.ipAddress",
        "client.geographicalContext",
        "target",
    ];

    /// Summarises a LogEvent (any JSON object; missing parts are left out).
    pub fn of(event: &Value) -> EventSummary {
        let location = [
            text(event, &["client", "geographicalContext", "city"]),
            text(event, &["client", "geographicalContext", "country"]),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        let targets = event
            .get("target")
            .and_then(Value::as_array)
            .map(|targets| {
                targets
                    .iter()
                    .map(|t| {
                        let kind = text(t, &["type"]).unwrap_or_else(|| "target".into());
                        let name = text(t, &["displayName"])
                            .or_else(|| text(t, &["alternateId"]))
                            .or_else(|| text(t, &["id"]))
                            .unwrap_or_default();
                        format!("{kind}: {name}")
                    })
                    .collect()
            })
            .unwrap_or_default();
        EventSummary {
            uuid: text(event, &["uuid"]).unwrap_or_default(),
            published: text(event, &["published"]).unwrap_or_default(),
            event_type: text(event, &["eventType"]).unwrap_or_default(),
            message: text(event, &["displayMessage"]),
            outcome: text(event, &["outcome", "result"]),
            reason: text(event, &["outcome", "reason"]),
            actor: text(event, &["actor", "alternateId"])
                .or_else(|| text(event, &["actor", "displayName"]))
                .or_else(|| text(event, &["actor", "id"])),
            ip: text(event, &["client", "ipAddress"]),
            location: (!location.is_empty()).then_some(location),
            targets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_summarised_by_its_telling_fields() {
        let event = serde_json::json!({
            "uuid": "u1", "published": "2026-01-01T00:00:00.000Z",
            "eventType": "user.authentication.sso", "displayMessage": "User single sign on to app",
            "outcome": {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"},
            "actor": {"id": "00u1", "alternateId": "ana@example.com", "displayName": "Ana"},
            "client": {"ipAddress": "10.0.0.1",
                       "geographicalContext": {"city": "Lyon", "country": "France"}},
            "target": [{"type": "AppInstance", "displayName": "Slack", "id": "0oa1"},
                       {"type": "AppUser", "alternateId": "ana@example.com"}],
            "debugContext": {"debugData": {"requestUri": "/app/slack/sso"}}
        });
        let s = EventSummary::of(&event);
        assert_eq!(s.actor.as_deref(), Some("ana@example.com"));
        assert_eq!(s.location.as_deref(), Some("Lyon, France"));
        assert_eq!(s.reason.as_deref(), Some("INVALID_CREDENTIALS"));
        assert_eq!(
            s.targets,
            vec!["AppInstance: Slack", "AppUser: ana@example.com"]
        );
        let empty = EventSummary::of(&serde_json::json!({"uuid": "x"}));
        assert_eq!(empty.location, None);
        assert!(empty.targets.is_empty());

        // A store asked for `FIELDS` returns events holding only those: the summary must not
        // change.
        let mut only_fields = serde_json::json!({});
        for field in EventSummary::FIELDS {
            let path: Vec<&str> = field.split('.').collect();
            let Some(value) = path.iter().try_fold(&event, |v, key| v.get(key)) else {
                continue;
            };
            let (last, parents) = path.split_last().unwrap();
            let mut at = &mut only_fields;
            for key in parents {
                at = at
                    .as_object_mut()
                    .unwrap()
                    .entry(key.to_string())
                    .or_insert_with(|| serde_json::json!({}));
            }
            at[*last] = value.clone();
        }
        assert_ne!(
            only_fields, event,
            "the sample has fields a summary does not read"
        );
        assert_eq!(EventSummary::of(&only_fields), s);
    }
}
