//! Checks that a parsed filter names real attributes, and rewrites legacy spellings.
//!
//! Parsing only knows the grammar; this pass knows the LogEvent schema. A typo such as
//! `eventtype` is an error with a suggestion rather than a search that silently finds nothing.

use crate::ast::{AttrPath, CompareOp, Expr};
use crate::parser::{FilterError, FilterErrorKind};
use okwatch_model::schema::{is_known_path, suggest_path, LEGACY_ALIASES};

/// Which rules apply on top of the grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// okwatch's own surfaces: everything Okta accepts, plus `changeDetails` paths and `co` on
    /// URL fields.
    Okwatch,
    /// The Okta-compatible `/api/v1/logs`: refuses what Okta refuses, with Okta's error kinds.
    Okta,
}

/// Rewrites legacy aliases (`event_type` → `eventType`) and checks every path and operator.
pub fn validate(expr: Expr, dialect: Dialect) -> Result<Expr, FilterError> {
    Ok(match expr {
        Expr::And(items) => Expr::And(
            items
                .into_iter()
                .map(|e| validate(e, dialect))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(items) => Expr::Or(
            items
                .into_iter()
                .map(|e| validate(e, dialect))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Not(inner) => Expr::Not(Box::new(validate(*inner, dialect)?)),
        Expr::Present(path) => Expr::Present(check_path(path, dialect)?),
        Expr::Compare { path, op, value } => {
            let path = check_path(path, dialect)?;
            let dotted = path.dotted();
            if dialect == Dialect::Okta
                && op == CompareOp::Co
                && matches!(
                    dotted.as_str(),
                    "debugContext.debugData.url" | "debugContext.debugData.requestUri"
                )
            {
                return Err(FilterError {
                    position: path.position,
                    message: format!(
                        "The supplied combination of operator and field is not currently supported. Operator: co, Field: {dotted}"
                    ),
                    kind: FilterErrorKind::UnsupportedCombination,
                });
            }
            Expr::Compare { path, op, value }
        }
    })
}

fn check_path(mut path: AttrPath, dialect: Dialect) -> Result<AttrPath, FilterError> {
    if let [only] = path.segments.as_slice() {
        if let Some((_, canonical)) = LEGACY_ALIASES.iter().find(|(alias, _)| alias == only) {
            path.segments = vec![canonical.to_string()];
        }
    }
    let dotted = path.dotted();
    let refuse = |message: String| FilterError {
        position: path.position,
        message,
        kind: FilterErrorKind::UnknownField,
    };
    if dotted == "published" {
        return Err(refuse(
            "`published` cannot be filtered on: bound the time with since and until instead".into(),
        ));
    }
    if dialect == Dialect::Okta && dotted.starts_with("target.changeDetails") {
        return Err(refuse(format!("field is not valid: {dotted}")));
    }
    if !is_known_path(&dotted) {
        let hint = suggest_path(&dotted)
            .map(|p| format!("; did you mean `{p}`?"))
            .unwrap_or_default();
        return Err(refuse(format!("field is not valid: {dotted}{hint}")));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse_filter;

    fn check(text: &str, dialect: Dialect) -> Result<Expr, FilterError> {
        validate(parse_filter(text).unwrap(), dialect)
    }

    #[test]
    fn unknown_fields_are_refused_with_a_suggestion_and_position() {
        let err = check(
            r#"outcome.result eq "FAILURE" and eventtype eq "x""#,
            Dialect::Okwatch,
        )
        .unwrap_err();
        assert_eq!(err.kind, FilterErrorKind::UnknownField);
        assert_eq!(err.position, 32);
        assert!(
            err.message.contains("did you mean `eventType`"),
            "{}",
            err.message
        );
        let err = check(r#"some_invalid_field eq "x""#, Dialect::Okta).unwrap_err();
        assert_eq!(err.message, "field is not valid: some_invalid_field");
    }

    #[test]
    fn legacy_aliases_become_canonical_paths() {
        let e = check(r#"event_type eq "user.lifecycle.create""#, Dialect::Okta).unwrap();
        assert_eq!(e.to_string(), r#"eventType eq "user.lifecycle.create""#);
    }

    #[test]
    fn published_is_bounded_by_since_and_until_not_by_filter() {
        let err = check(r#"published gt "2024-01-01T00:00:00Z""#, Dialect::Okwatch).unwrap_err();
        assert!(err.message.contains("since"), "{}", err.message);
    }

    #[test]
    fn okta_dialect_refuses_what_okta_refuses() {
        let err = check(r#"debugContext.debugData.url co "/api""#, Dialect::Okta).unwrap_err();
        assert_eq!(err.kind, FilterErrorKind::UnsupportedCombination);
        assert!(check(r#"debugContext.debugData.url co "/api""#, Dialect::Okwatch).is_ok());
        assert!(check(r#"target.changeDetails.to.status eq "x""#, Dialect::Okta).is_err());
        assert!(check(r#"target.changeDetails.to.status eq "x""#, Dialect::Okwatch).is_ok());
    }
}
