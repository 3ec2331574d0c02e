//! The typed LogEvent, as `/api/v1/logs` and Event Hooks deliver it.
//!
//! Every struct keeps the members it does not know in `extra`, every optional member remembers
//! whether it was absent or `null` ([`Field`]), and numbers stay [`serde_json::Number`] so that
//! `37` does not come back as `37.0`. Together these make `parse → serialize` give back the same
//! JSON value for any event Okta sends, including fields Okta adds after this was written.

use crate::field::Field;
use crate::time::{parse_timestamp, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

type Extra = Map<String, Value>;

macro_rules! okta_struct {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        okta_struct! { $(#[$meta])* $name, rename_all = "camelCase" { $( $(#[$fmeta])* $field : $ty ),* } }
    };
    (
        $(#[$meta:meta])*
        $name:ident, rename_all = $case:literal {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
        #[serde(rename_all = $case)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(default, skip_serializing_if = "Field::is_absent")]
                pub $field: Field<$ty>,
            )*
            /// Members okwatch does not model, kept verbatim.
            #[serde(flatten)]
            pub extra: Extra,
        }
    };
}

/// One System Log event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    /// Unique id of the event (not unique in some public test fixtures).
    pub uuid: String,
    /// When Okta published the event, ISO 8601 with milliseconds, kept as sent.
    pub published: String,
    /// The event type, e.g. `user.session.start`.
    pub event_type: String,
    /// Always `"0"` in real data; Okta's own spec example has the number `0`.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub version: Field<Value>,
    /// `DEBUG`, `INFO`, `WARN` or `ERROR`.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub severity: Field<String>,
    /// The old Events API action name, e.g. `core.user_auth.login_success`.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub legacy_event_type: Field<String>,
    /// Human-readable summary, e.g. `User login to Okta`.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub display_message: Field<String>,
    /// Who performed the action.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub actor: Field<Actor>,
    /// The HTTP client the request came from.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub client: Field<Client>,
    /// The Okta Verify-registered device (Identity Engine).
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub device: Field<Device>,
    /// How the actor authenticated.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub authentication_context: Field<AuthenticationContext>,
    /// What Okta knows about the client's network.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub security_context: Field<SecurityContext>,
    /// Free-form diagnostics; keys are not a stable contract.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub debug_context: Field<DebugContext>,
    /// Result of the action.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub outcome: Field<Outcome>,
    /// What the action was performed on: users, apps, groups, policies, ...
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub target: Field<Vec<Target>>,
    /// The request or job that caused the event.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub transaction: Field<Transaction>,
    /// The IP chain of the request.
    #[serde(default, skip_serializing_if = "Field::is_absent")]
    pub request: Field<Request>,
    /// Members okwatch does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Extra,
}

okta_struct! {
    /// Who performed the action (`LogActor`).
    Actor {
        id: String,
        #[serde(rename = "type")]
        kind: String,
        alternate_id: String,
        display_name: String,
        detail_entry: Map<String, Value>,
    }
}

okta_struct! {
    /// One entity acted upon (`LogTarget`).
    Target {
        id: String,
        #[serde(rename = "type")]
        kind: String,
        alternate_id: String,
        display_name: String,
        detail_entry: Map<String, Value>,
        change_details: ChangeDetails,
    }
}

okta_struct! {
    /// Before and after values of a changed target.
    ChangeDetails {
        from: Map<String, Value>,
        to: Map<String, Value>,
    }
}

okta_struct! {
    /// The HTTP client (`LogClient`).
    Client {
        id: String,
        user_agent: UserAgent,
        /// Network zone name; real data often has the *string* `"null"`.
        zone: String,
        /// Client kind: `Computer`, `Mobile`, `Unknown`, ...
        device: String,
        /// Client IP; can be the string `"null"`.
        ip_address: String,
        geographical_context: GeographicalContext,
    }
}

okta_struct! {
    /// The parsed user agent.
    UserAgent {
        raw_user_agent: String,
        os: String,
        browser: String,
    }
}

okta_struct! {
    /// Where an IP address is.
    GeographicalContext {
        city: String,
        state: String,
        country: String,
        /// A string in real data; a number in one of Okta's own examples.
        postal_code: Value,
        geolocation: Geolocation,
    }
}

okta_struct! {
    /// Latitude and longitude, kept as JSON numbers.
    Geolocation {
        lat: Number,
        lon: Number,
    }
}

okta_struct! {
    /// An Okta Verify-registered device. Okta spells these members in snake_case.
    Device, rename_all = "snake_case" {
        id: String,
        name: String,
        os_platform: String,
        os_version: String,
        managed: bool,
        registered: bool,
        /// An object, or in real data sometimes a JSON string.
        device_integrator: Value,
        disk_encryption_type: String,
        screen_lock_type: String,
        jailbreak: bool,
        secure_hardware_present: bool,
    }
}

okta_struct! {
    /// How the actor authenticated (`LogAuthenticationContext`).
    AuthenticationContext {
        authentication_provider: String,
        credential_provider: String,
        credential_type: String,
        issuer: Issuer,
        /// Groups the events of one sign-in session.
        external_session_id: String,
        root_session_id: String,
        interface: String,
        authentication_step: Number,
    }
}

okta_struct! {
    /// The issuer of the credential.
    Issuer {
        id: String,
        #[serde(rename = "type")]
        kind: String,
    }
}

okta_struct! {
    /// Network intelligence about the client (`LogSecurityContext`).
    SecurityContext {
        as_number: Number,
        as_org: String,
        isp: String,
        domain: String,
        is_proxy: bool,
        ip_details: IpDetails,
        risk: Risk,
        user_behaviors: Vec<UserBehavior>,
        bot_protection: BotProtection,
    }
}

okta_struct! {
    /// Detailed IP intelligence.
    IpDetails {
        as_number: Number,
        as_org: String,
        isp: String,
        domain: String,
        ip_service_categories: Vec<IpServiceCategory>,
    }
}

okta_struct! {
    /// A VPN, proxy or Tor classification of an IP.
    IpServiceCategory {
        #[serde(rename = "type")]
        kind: String,
        operator: String,
        is_anonymous: bool,
    }
}

okta_struct! {
    /// Okta's risk assessment.
    Risk {
        level: String,
        previous_level: String,
        reasons: Value,
        detection_name: String,
        issuer: String,
    }
}

okta_struct! {
    /// A behaviour detection such as `New Device` or `New Geo-Location`.
    UserBehavior {
        id: String,
        name: String,
        result: String,
    }
}

okta_struct! {
    /// Bot protection level.
    BotProtection {
        level: String,
    }
}

okta_struct! {
    /// Free-form diagnostics.
    DebugContext {
        debug_data: Map<String, Value>,
    }
}

okta_struct! {
    /// Result of the action (`LogOutcome`).
    Outcome {
        /// `SUCCESS`, `FAILURE`, `ALLOW`, `DENY`, `CHALLENGE`, ... (an open set).
        result: String,
        reason: String,
    }
}

okta_struct! {
    /// The request or job behind the event.
    Transaction {
        #[serde(rename = "type")]
        kind: String,
        id: String,
        detail: Map<String, Value>,
    }
}

okta_struct! {
    /// The request's IP chain.
    Request {
        ip_chain: Vec<IpAddress>,
    }
}

okta_struct! {
    /// One hop of the IP chain.
    IpAddress {
        ip: String,
        geographical_context: GeographicalContext,
        version: String,
        source: String,
        ip_details: IpDetails,
    }
}

/// Why a JSON value is not a LogEvent okwatch can store.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EventError {
    /// The value is not a JSON object.
    #[error("an event must be a JSON object, found {0}")]
    NotAnObject(&'static str),
    /// A required member is missing or null.
    #[error("missing `{0}`")]
    Missing(&'static str),
    /// A member has the wrong JSON type.
    #[error("`{field}` must be {expected}, found {found}")]
    WrongType {
        /// The member.
        field: &'static str,
        /// What it should be.
        expected: &'static str,
        /// What it is.
        found: &'static str,
    },
    /// `published` is not an ISO 8601 timestamp.
    #[error("`published` is not a valid ISO 8601 timestamp: {0:?}")]
    BadPublished(String),
    /// Some member does not fit the LogEvent schema.
    #[error("does not fit the LogEvent schema: {0}")]
    Schema(String),
}

/// The JSON type of a value, for error messages.
pub fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The three members okwatch cannot store an event without, checked on a raw JSON value.
///
/// The store keeps events as JSON values (so nothing is lost); this is the gate every source
/// passes them through. Returns the event's uuid and publication time.
pub fn check_required(value: &Value) -> Result<(&str, Timestamp), EventError> {
    let obj = value
        .as_object()
        .ok_or(EventError::NotAnObject(json_type_name(value)))?;
    let string = |field: &'static str| -> Result<&str, EventError> {
        match obj.get(field) {
            None | Some(Value::Null) => Err(EventError::Missing(field)),
            Some(Value::String(s)) if s.is_empty() => Err(EventError::Missing(field)),
            Some(Value::String(s)) => Ok(s.as_str()),
            Some(other) => Err(EventError::WrongType {
                field,
                expected: "a string",
                found: json_type_name(other),
            }),
        }
    };
    let uuid = string("uuid")?;
    let published = string("published")?;
    string("eventType")?;
    let at =
        parse_timestamp(published).ok_or_else(|| EventError::BadPublished(published.into()))?;
    Ok((uuid, at))
}

impl LogEvent {
    /// Parses a LogEvent from a JSON value, checking the required members first.
    pub fn from_value(value: Value) -> Result<Self, EventError> {
        check_required(&value)?;
        serde_json::from_value(value).map_err(|e| EventError::Schema(e.to_string()))
    }

    /// The event as a JSON value, equal to the value it was parsed from.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a LogEvent always serialises")
    }

    /// `published` as a timestamp (`None` only for an event built by hand with a bad value).
    pub fn published_at(&self) -> Option<Timestamp> {
        parse_timestamp(&self.published)
    }

    /// The actor's login (`actor.alternateId`), if any.
    pub fn actor_login(&self) -> Option<&str> {
        self.actor.as_ref()?.alternate_id.as_str()
    }

    /// `outcome.result`, if any.
    pub fn outcome_result(&self) -> Option<&str> {
        self.outcome.as_ref()?.result.as_str()
    }

    /// `client.ipAddress`, if any and not Okta's `"null"` placeholder.
    pub fn client_ip(&self) -> Option<&str> {
        self.client
            .as_ref()?
            .ip_address
            .as_str()
            .filter(|ip| *ip != "null")
    }

    /// The targets of the given `type` (e.g. `AppInstance`).
    pub fn targets_of_type<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Target> + 'a {
        self.target
            .as_ref()
            .into_iter()
            .flatten()
            .filter(move |t| t.kind.as_str() == Some(kind))
    }
}
