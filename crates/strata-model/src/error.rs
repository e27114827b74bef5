//! Errors of the data model and of the storage trait.

/// Result alias used across the model crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong while building model values or reading storage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A label name is empty, badly formed or repeated.
    #[error("invalid label name {name:?}: {reason}")]
    InvalidLabelName { name: String, reason: &'static str },
    /// A label set as a whole is invalid.
    #[error("invalid label set {labels}: {reason}")]
    InvalidLabels { labels: String, reason: String },
    /// A regular expression in a matcher does not compile.
    #[error("invalid regular expression {pattern:?} in matcher for {name:?}: {reason}")]
    InvalidRegex {
        name: String,
        pattern: String,
        reason: String,
    },
    /// A selector string does not parse.
    #[error("invalid selector {selector:?}: {reason}")]
    InvalidSelector { selector: String, reason: String },
    /// A duration string does not parse.
    #[error("invalid duration {input:?}: {reason}")]
    InvalidDuration { input: String, reason: String },
    /// A storage backend failed; the source says which and why.
    #[error("storage: {0}")]
    Storage(Box<dyn std::error::Error + Send + Sync>),
    /// The query was cancelled by its caller.
    #[error("query cancelled")]
    Cancelled,
}

impl Error {
    /// Wraps any backend error as a storage error.
    pub fn storage<E: std::error::Error + Send + Sync + 'static>(e: E) -> Self {
        Error::Storage(Box::new(e))
    }
}
