//! Evaluates filters and `q` keywords against one event held as a JSON value.
//!
//! These are the reference semantics. The store compilers must give the same answers, and the
//! property tests in `okwatch-store` hold them to it.
//!
//! Path resolution: each segment looks up a member of an object; an array met on the way (or
//! at the end) stands for its elements, so `target.id` reaches the id of every target and a
//! comparison holds when **any** reached value satisfies it. Arrays are unwrapped one level at
//! each step; an array directly inside an array is not searched into.
//!
//! Comparisons only hold between values of the same JSON type: strings compare byte-wise
//! (ISO 8601 UTC timestamps therefore compare chronologically), numbers numerically, booleans
//! by equality. `co`, `sw` and `ew` apply to strings only. A missing attribute satisfies no
//! comparison, not even `ne`. `x ne null` holds for any non-null value. `pr` holds for a
//! non-empty string, array or object, and for any number or boolean.

use crate::ast::{CompareOp, Expr, Literal};
use serde_json::Value;

/// Whether `event` satisfies `expr`.
pub fn matches(expr: &Expr, event: &Value) -> bool {
    match expr {
        Expr::And(items) => items.iter().all(|e| matches(e, event)),
        Expr::Or(items) => items.iter().any(|e| matches(e, event)),
        Expr::Not(inner) => !matches(inner, event),
        Expr::Present(path) => {
            let mut found = Vec::new();
            resolve(event, &path.segments, &mut found);
            found.into_iter().any(is_present)
        }
        Expr::Compare { path, op, value } => {
            let mut found = Vec::new();
            resolve(event, &path.segments, &mut found);
            found.into_iter().any(|v| compare(v, *op, value))
        }
    }
}

/// Collects every value reached by `segments` from `value` (see the module docs).
pub fn resolve<'a>(value: &'a Value, segments: &[String], out: &mut Vec<&'a Value>) {
    let Some((first, rest)) = segments.split_first() else {
        match value {
            Value::Array(items) => out.extend(items.iter()),
            other => out.push(other),
        }
        return;
    };
    match value {
        Value::Object(map) => {
            if let Some(child) = map.get(first.as_str()) {
                resolve(child, rest, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                if let Some(child) = item.as_object().and_then(|m| m.get(first.as_str())) {
                    resolve(child, rest, out);
                }
            }
        }
        _ => {}
    }
}

/// `pr` semantics for one reached value.
pub fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(_) | Value::Bool(_) => true,
    }
}

/// Whether one reached value satisfies `op literal`.
pub fn compare(value: &Value, op: CompareOp, literal: &Literal) -> bool {
    use std::cmp::Ordering;
    let ordered = |ord: Option<Ordering>| -> bool {
        let Some(ord) = ord else { return false };
        match op {
            CompareOp::Eq => ord == Ordering::Equal,
            CompareOp::Ne => ord != Ordering::Equal,
            CompareOp::Gt => ord == Ordering::Greater,
            CompareOp::Ge => ord != Ordering::Less,
            CompareOp::Lt => ord == Ordering::Less,
            CompareOp::Le => ord != Ordering::Greater,
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
        }
    };
    match (value, literal) {
        (Value::String(s), Literal::String(l)) => match op {
            CompareOp::Co => s.contains(l.as_str()),
            CompareOp::Sw => s.starts_with(l.as_str()),
            CompareOp::Ew => s.ends_with(l.as_str()),
            _ => ordered(Some(s.as_str().cmp(l.as_str()))),
        },
        (Value::Number(n), Literal::Number(l)) => {
            ordered(n.as_f64().and_then(|n| n.partial_cmp(l)))
        }
        (Value::Bool(b), Literal::Bool(l)) => match op {
            CompareOp::Eq => b == l,
            CompareOp::Ne => b != l,
            _ => false,
        },
        (Value::Null, Literal::Null) => op == CompareOp::Eq,
        (_, Literal::Null) => op == CompareOp::Ne,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_filter;
    use serde_json::json;

    fn event() -> Value {
        json!({
            "uuid": "e1",
            "eventType": "user.session.start",
            "displayMessage": "User login to Okta",
            "actor": {"id": "00u1", "alternateId": "ana@example.com", "displayName": "Ana Lima"},
            "client": {"ipAddress": "102.89.34.17", "zone": "null",
                       "geographicalContext": {"country": "Nigeria", "geolocation": {"lat": 6.45, "lon": 3.39}}},
            "outcome": {"result": "FAILURE", "reason": "INVALID_CREDENTIALS"},
            "securityContext": {"isProxy": false, "asNumber": 29465},
            "target": [
                {"id": "00uxc78lMKUMVIHLTAXY", "type": "User"},
                {"id": "0oabe82gnXOFVCDUMVAK", "type": "AppInstance", "alternateId": ""}
            ],
            "request": {"ipChain": [{"ip": "102.89.34.17"}, {"ip": "10.0.0.1"}]},
            "debugContext": {"debugData": {"requestUri": "/app/x/sso", "grantedScopes": ["a", "b"]}},
            "device": null
        })
    }

    fn m(text: &str) -> bool {
        matches(&parse_filter(text).unwrap(), &event())
    }

    #[test]
    fn string_operators_follow_their_names() {
        assert!(m(r#"eventType eq "user.session.start""#));
        assert!(
            !m(r#"eventType eq "USER.SESSION.START""#),
            "values are case-sensitive"
        );
        assert!(m(r#"eventType sw "user.session""#));
        assert!(
            m(r#"eventType sw "user.session.start""#),
            "identical strings start with each other"
        );
        assert!(m(r#"eventType ew "start""#));
        assert!(m(r#"eventType co "session""#));
        assert!(m(r#"eventType ne "user.session.end""#));
        assert!(m(
            r#"outcome.result gt "ALLOW" and outcome.result lt "SUCCESS""#
        ));
        assert!(m(
            r#"outcome.result ge "FAILURE" and outcome.result le "FAILURE""#
        ));
    }

    #[test]
    fn arrays_match_when_any_element_matches_and_terms_may_use_different_elements() {
        assert!(m(r#"target.id eq "0oabe82gnXOFVCDUMVAK""#));
        assert!(m(
            r#"target.id eq "00uxc78lMKUMVIHLTAXY" and target.id eq "0oabe82gnXOFVCDUMVAK""#
        ));
        assert!(m(r#"request.ipChain.ip eq "10.0.0.1""#));
        assert!(m(r#"debugContext.debugData.grantedScopes eq "b""#));
        assert!(!m(r#"target.id eq "nobody""#));
    }

    #[test]
    fn missing_attributes_satisfy_nothing_not_even_ne() {
        assert!(!m(r#"outcome.missing ne "x""#));
        assert!(!m(r#"device.id ne "x""#));
        assert!(m(r#"not (outcome.missing eq "x")"#));
    }

    #[test]
    fn types_must_agree() {
        assert!(m("securityContext.asNumber eq 29465"));
        assert!(!m(r#"securityContext.asNumber eq "29465""#));
        assert!(m("securityContext.asNumber gt 29000.5"));
        assert!(m("securityContext.isProxy eq false"));
        assert!(!m("securityContext.isProxy gt false"));
        assert!(m("client.geographicalContext.geolocation.lat lt 7"));
        assert!(!m(r#"securityContext.asNumber co "29""#));
    }

    #[test]
    fn present_means_non_empty() {
        assert!(m("actor.alternateId pr"));
        assert!(m("client.geographicalContext pr"));
        assert!(!m("device pr"), "null is not present");
        assert!(!m("nothing.here pr"));
        assert!(
            !m("target.alternateId pr"),
            "an empty string is not present"
        );
        assert!(m("securityContext.isProxy pr"), "false is a value");
        assert!(m("client.zone pr"), "Okta's \"null\" string is a value");
    }

    #[test]
    fn null_literals_test_for_null() {
        assert!(m("device eq null"));
        assert!(!m("client eq null"));
        assert!(m("client ne null"));
        assert!(!m("missing eq null"));
    }
}
