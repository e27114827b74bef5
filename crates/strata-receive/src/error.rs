//! Errors of the receiver.

/// Everything that can go wrong while receiving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("hashring configuration: {0}")]
    HashringConfig(String),
}

pub type Result<T> = std::result::Result<T, Error>;
