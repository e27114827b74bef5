//! Errors of relabel configuration: parsing and validation.

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Why a relabel configuration is rejected. Messages follow Prometheus' wording so users
/// can search for them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `action` is not one of Prometheus' actions.
    #[error("unknown relabel action {0:?}")]
    UnknownAction(String),
    /// `regex` does not compile.
    #[error("invalid relabel regex {pattern:?}: {reason}")]
    InvalidRegex { pattern: String, reason: String },
    /// The rule's fields do not fit its action.
    #[error("{0}")]
    Invalid(String),
}
