//! Errors of the scrape engine.

/// Result alias used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What can go wrong outside a single scrape (scrape failures are reported per target,
/// see [`crate::ScrapeStatus`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The HTTP client of a scrape config cannot be built (bad CA file, unsupported
    /// setting, ...).
    #[error("job {job:?}: HTTP client: {reason}")]
    HttpClient { job: String, reason: String },
    /// A scrape config is unusable (e.g. an unknown escaping scheme).
    #[error("job {job:?}: {reason}")]
    Config { job: String, reason: String },
    /// Some scrape pools failed to apply a new configuration; the others did.
    #[error("failed to apply the new configuration: {0}")]
    Apply(String),
}
