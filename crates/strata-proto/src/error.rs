//! Errors of converting between wire messages and Strata's model.

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// A wire message that does not make a valid model value.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A label set has an empty or repeated name.
    #[error("invalid labels in message: {0}")]
    InvalidLabels(#[source] strata_model::Error),
    /// A `LabelMatcher.type` value outside `EQ`, `NEQ`, `RE`, `NRE`.
    #[error(
        "label matcher for {name:?} has unknown type {value} (want 0 EQ, 1 NEQ, 2 RE or 3 NRE)"
    )]
    UnknownMatcherType { name: String, value: i32 },
    /// A regex matcher whose pattern does not compile.
    #[error("invalid label matcher: {0}")]
    InvalidMatcher(#[source] strata_model::Error),
}
