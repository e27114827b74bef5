//! The one place where query, storage and parameter errors become the API's error
//! envelope: `{"status":"error","errorType":"…","error":"…"}` with Prometheus' status
//! codes (`bad_data` 400, `execution` 422, `canceled` 499, `timeout` 503,
//! `unavailable` 503, `internal` 500, `not_found` 404).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use strata_model::gofmt::go_quote;
use strata_promql::QueryError;

use crate::json::{JsonStyle, json_response, write_str};

/// Prometheus' `errorType` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    BadData,
    Execution,
    Canceled,
    Timeout,
    Internal,
    NotFound,
    Unavailable,
}

impl ErrorType {
    /// The `errorType` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::BadData => "bad_data",
            ErrorType::Execution => "execution",
            ErrorType::Canceled => "canceled",
            ErrorType::Timeout => "timeout",
            ErrorType::Internal => "internal",
            ErrorType::NotFound => "not_found",
            ErrorType::Unavailable => "unavailable",
        }
    }

    /// The HTTP status Prometheus answers with.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorType::BadData => StatusCode::BAD_REQUEST,
            ErrorType::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            // Non-standard (nginx's "client closed request"), as Prometheus uses it.
            ErrorType::Canceled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
            ErrorType::Timeout | ErrorType::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorType::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorType::NotFound => StatusCode::NOT_FOUND,
        }
    }
}

/// A failed API call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorType,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
    }

    pub fn bad_data(message: impl Into<String>) -> Self {
        Self::new(ErrorType::BadData, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Internal, message)
    }

    /// `invalid parameter "<name>": <reason>` (Prometheus' `invalidParamError`).
    pub fn invalid_param(name: &str, reason: impl std::fmt::Display) -> Self {
        Self::bad_data(format!("invalid parameter {}: {reason}", go_quote(name)))
    }

    /// The error of a query: parse and type errors are reported against the `query`
    /// parameter as Prometheus does; everything else keeps the engine's text.
    pub fn from_query(e: QueryError) -> Self {
        match e {
            QueryError::BadData(msg) => Self::invalid_param("query", msg),
            other => Self::from(other),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        let kind = match &e {
            QueryError::BadData(_) => ErrorType::BadData,
            QueryError::Execution(_) | QueryError::TooManySamples(_) => ErrorType::Execution,
            QueryError::Timeout(_) => ErrorType::Timeout,
            QueryError::Canceled(_) => ErrorType::Canceled,
            QueryError::Storage(_) => ErrorType::Internal,
        };
        ApiError::new(kind, e.to_string())
    }
}

impl From<strata_model::Error> for ApiError {
    fn from(e: strata_model::Error) -> Self {
        match e {
            strata_model::Error::Cancelled => ApiError::new(ErrorType::Canceled, e.to_string()),
            strata_model::Error::InvalidSelector { .. }
            | strata_model::Error::InvalidRegex { .. }
            | strata_model::Error::InvalidLabelName { .. }
            | strata_model::Error::InvalidDuration { .. } => ApiError::bad_data(e.to_string()),
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        if e.is_cancelled() {
            ApiError::new(ErrorType::Canceled, "request canceled")
        } else {
            ApiError::internal(format!("request handler failed: {e}"))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = String::with_capacity(64 + self.message.len());
        body.push_str(r#"{"status":"error","errorType":"#);
        write_str(&mut body, self.kind.as_str(), JsonStyle::Iter);
        body.push_str(r#","error":"#);
        write_str(&mut body, &self.message, JsonStyle::Iter);
        body.push('}');
        json_response(self.kind.status(), body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_query_errors() {
        let e = ApiError::from_query(QueryError::BadData("1:1: parse error".into()));
        assert_eq!(e.kind, ErrorType::BadData);
        assert_eq!(e.message, r#"invalid parameter "query": 1:1: parse error"#);
        let e = ApiError::from(QueryError::Canceled("query execution"));
        assert_eq!(e.kind.status().as_u16(), 499);
        let e = ApiError::from(QueryError::Timeout("query execution"));
        assert_eq!(e.kind.status().as_u16(), 503);
        assert_eq!(e.message, "query timed out in query execution");
        let e = ApiError::from(QueryError::TooManySamples("query execution"));
        assert_eq!(e.kind.status().as_u16(), 422);
        let e = ApiError::from(QueryError::Storage("disk".into()));
        assert_eq!(e.kind.status().as_u16(), 500);
    }
}
