//! Query errors, classified as Prometheus' HTTP API classifies them.

pub type Result<T> = std::result::Result<T, QueryError>;

/// A failed query. The variant decides the API's `errorType` and HTTP status.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    /// The query does not parse or is semantically invalid (`bad_data`, 400).
    #[error("{0}")]
    BadData(String),
    /// Evaluation failed (`execution`, 422).
    #[error("{0}")]
    Execution(String),
    /// The query ran longer than its timeout (`timeout`, 503).
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    /// The caller cancelled the query (`canceled`, 499 / 503).
    #[error("query was canceled in {0}")]
    Canceled(&'static str),
    /// The query would load more samples than allowed (`execution`, 422).
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    /// Reading storage failed (`internal`, 500).
    #[error("{0}")]
    Storage(String),
}

impl From<strata_model::Error> for QueryError {
    fn from(e: strata_model::Error) -> Self {
        match e {
            strata_model::Error::Cancelled => QueryError::Canceled("query execution"),
            other => QueryError::Storage(other.to_string()),
        }
    }
}
