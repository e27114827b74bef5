//! Errors of the TSDB.

use std::path::PathBuf;

/// Result alias of the TSDB crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything the TSDB can report. Append errors name the series and the timestamps
/// involved; corruption errors name the file and the byte offset.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("corrupt {what} at offset {offset}: {reason}")]
    Corruption {
        what: String,
        offset: u64,
        reason: String,
    },

    #[error("corrupt WAL segment {segment} at offset {offset}: {reason}")]
    WalCorruption {
        segment: u32,
        offset: u64,
        reason: String,
    },

    #[error("decode: {0}")]
    Decode(String),

    #[error("out of order sample for series {series}: timestamp {t} is before the latest {latest}")]
    OutOfOrder { series: String, t: i64, latest: i64 },

    #[error(
        "duplicate sample for series {series} at timestamp {t}: stored value {stored}, new value {new}"
    )]
    DuplicateSample {
        series: String,
        t: i64,
        stored: f64,
        new: f64,
    },

    #[error("duplicate sample for series {series} at timestamp {t}: {detail}")]
    DuplicateHistogram {
        series: String,
        t: i64,
        detail: String,
    },

    #[error("invalid native histogram for series {series} at timestamp {t}: {reason}")]
    InvalidHistogram {
        series: String,
        t: i64,
        reason: String,
    },

    #[error(
        "sample for series {series} at timestamp {t} is too old: out-of-bounds before {min_valid}"
    )]
    OutOfBounds {
        series: String,
        t: i64,
        min_valid: i64,
    },

    #[error("invalid series: {0}")]
    InvalidLabels(#[from] strata_model::Error),

    #[error("unsupported {what}: {detail}")]
    Unsupported { what: &'static str, detail: String },

    #[error("invalid block {dir}: {reason}")]
    InvalidBlock { dir: PathBuf, reason: String },

    #[error("database is closed")]
    Closed,
}

impl Error {
    /// An I/O error with the operation and the path it failed on.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// A corruption report for `what` at `offset`.
    pub fn corruption(what: impl Into<String>, offset: u64, reason: impl Into<String>) -> Self {
        Error::Corruption {
            what: what.into(),
            offset,
            reason: reason.into(),
        }
    }

    /// True for the errors that reject one sample but leave the store healthy.
    pub fn is_sample_rejection(&self) -> bool {
        matches!(
            self,
            Error::OutOfOrder { .. }
                | Error::DuplicateSample { .. }
                | Error::DuplicateHistogram { .. }
                | Error::InvalidHistogram { .. }
                | Error::OutOfBounds { .. }
        )
    }
}

impl From<Error> for strata_model::Error {
    fn from(e: Error) -> Self {
        strata_model::Error::storage(e)
    }
}
