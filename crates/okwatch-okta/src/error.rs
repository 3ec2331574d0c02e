//! Okta's error responses: an HTTP status and a JSON body whose `errorCode` is what clients
//! branch on (`errorSummary` is for people).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// One Okta API error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} ({status}): {summary}")]
pub struct OktaError {
    /// HTTP status.
    pub status: u16,
    /// Okta's error code, `E0000001` and so on.
    pub code: &'static str,
    /// The human summary.
    pub summary: String,
    /// `errorCauses[].errorSummary`.
    pub causes: Vec<String>,
}

impl OktaError {
    fn new(status: u16, code: &'static str, summary: impl Into<String>) -> OktaError {
        OktaError {
            status,
            code,
            summary: summary.into(),
            causes: Vec::new(),
        }
    }

    /// 400 `E0000001`: a parameter failed validation. `causes` name the parameter first, as
    /// Okta does (`until: must be a valid date-time or empty.`).
    pub fn validation(causes: Vec<String>) -> OktaError {
        let mut summary = String::from("Api validation failed: ");
        for (i, cause) in causes.iter().enumerate() {
            if i > 0 {
                summary.push_str(". ");
            }
            match cause.split_once(": ") {
                Some((param, text)) => summary.push_str(&format!("'{param}': {text}")),
                None => summary.push_str(cause),
            }
        }
        OktaError {
            causes,
            ..OktaError::new(400, "E0000001", summary)
        }
    }

    /// 401 `E0000011`: no token, or one okwatch does not know.
    pub fn invalid_token() -> OktaError {
        OktaError::new(401, "E0000011", "Invalid token provided")
    }

    /// 403 `E0000006`: the credential is valid but may not do this (an OAuth token without
    /// the scope).
    pub fn forbidden() -> OktaError {
        OktaError::new(
            403,
            "E0000006",
            "You do not have permission to perform the requested action",
        )
    }

    /// 400 `E0000053`: a filter or parameter Okta's System Log refuses.
    pub fn invalid_filter(summary: impl Into<String>) -> OktaError {
        OktaError::new(400, "E0000053", summary)
    }

    /// 400 `E0000031`: an operator Okta does not support on that field.
    pub fn unsupported_search(summary: impl Into<String>) -> OktaError {
        OktaError::new(400, "E0000031", summary)
    }

    /// 404 `E0000007`.
    pub fn not_found(what: impl std::fmt::Display) -> OktaError {
        OktaError::new(
            404,
            "E0000007",
            format!("Not found: Resource not found: {what}"),
        )
    }

    /// 405 `E0000022`.
    pub fn method_not_allowed() -> OktaError {
        OktaError::new(
            405,
            "E0000022",
            "The endpoint does not support the provided HTTP method",
        )
    }

    /// 400 `E0000003`: the request body is not what the endpoint takes.
    pub fn bad_body(detail: impl std::fmt::Display) -> OktaError {
        OktaError {
            causes: vec![detail.to_string()],
            ..OktaError::new(400, "E0000003", "The request body was not well-formed.")
        }
    }

    /// 429 `E0000047`.
    pub fn rate_limited() -> OktaError {
        OktaError::new(
            429,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        )
    }

    /// 500 `E0000009`: what Okta answers when a query takes too long or something breaks.
    pub fn internal() -> OktaError {
        OktaError::new(500, "E0000009", "Internal Server Error")
    }

    /// The JSON body, with a fresh `errorId`.
    pub fn body(&self) -> serde_json::Value {
        let causes: Vec<_> = self
            .causes
            .iter()
            .map(|c| json!({ "errorSummary": c }))
            .collect();
        json!({
            "errorCode": self.code,
            "errorSummary": self.summary,
            "errorLink": self.code,
            "errorId": crate::random::error_id(),
            "errorCauses": causes,
        })
    }
}

impl IntoResponse for OktaError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_summary_quotes_each_parameter_like_okta() {
        let e = OktaError::validation(vec![
            "until: The date format in your query is not recognized.".into(),
            "until: must be a valid date-time or empty.".into(),
        ]);
        assert_eq!(
            e.summary,
            "Api validation failed: 'until': The date format in your query is not recognized.. 'until': must be a valid date-time or empty."
        );
        let body = e.body();
        assert_eq!(body["errorCode"], "E0000001");
        assert_eq!(body["errorCauses"].as_array().unwrap().len(), 2);
        assert!(body["errorId"].as_str().unwrap().starts_with("oae"));
    }
}
