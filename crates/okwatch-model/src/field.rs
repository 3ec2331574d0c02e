//! `Field<T>`: a JSON member that distinguishes *absent*, *null* and *a value*.
//!
//! Okta omits some null members and sends others as explicit `null` (`"target": null` next to
//! events with no `target` at all). Exporting an event must give back the same JSON value, so
//! the model cannot fold the two into one `Option`. And real events do not always keep to
//! Okta's schema (`detailEntry: ""`, `postalCode: 10013`), so a value of another shape is kept
//! verbatim rather than refused.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A JSON object member that may be absent, explicitly `null`, or hold a value.
///
/// Use with `#[serde(default, skip_serializing_if = "Field::is_absent")]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Field<T> {
    /// The member is not in the object.
    #[default]
    Absent,
    /// The member is present with the value `null`.
    Null,
    /// The member holds a value of the modelled type.
    Value(T),
    /// The member holds a value of another shape, kept as sent.
    Other(Value),
}

impl<T> Field<T> {
    /// True when the member is not in the object (used by `skip_serializing_if`).
    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }

    /// The value, if there is one.
    pub fn as_ref(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Mutable access to the value, if there is one.
    pub fn as_mut(&mut self) -> Option<&mut T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Converts into an `Option`, forgetting the absent/null distinction.
    pub fn into_option(self) -> Option<T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl Field<String> {
    /// The string value, if there is one.
    pub fn as_str(&self) -> Option<&str> {
        self.as_ref().map(String::as_str)
    }
}

impl<T> From<T> for Field<T> {
    fn from(value: T) -> Self {
        Field::Value(value)
    }
}

impl<T> From<Option<T>> for Field<T> {
    fn from(value: Option<T>) -> Self {
        match value {
            Some(v) => Field::Value(v),
            None => Field::Null,
        }
    }
}

impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            // Only reached when a container forgot `skip_serializing_if`; null is the closest.
            Field::Absent | Field::Null => serializer.serialize_none(),
            Field::Value(v) => v.serialize(serializer),
            Field::Other(v) => v.serialize(serializer),
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Called only when the member is present; `#[serde(default)]` covers absence.
        let raw = Value::deserialize(deserializer)?;
        if raw.is_null() {
            return Ok(Field::Null);
        }
        Ok(match T::deserialize(&raw) {
            Ok(typed) => Field::Value(typed),
            Err(_) => Field::Other(raw),
        })
    }
}
