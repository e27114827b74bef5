//! Errors of the Store API and the gateway, and the one place where they become gRPC
//! statuses ([`Error::to_status`]).

use std::path::PathBuf;

use tonic::{Code, Status};

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong serving the Store API or syncing a bucket.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed (bad matcher, bad hints, missing label name, ...).
    #[error("{0}")]
    InvalidArgument(String),

    /// A per-request limit was exceeded; the message follows Thanos' wording
    /// (`exceeded series limit: limit 10 violated (got 11)`).
    #[error("exceeded {what} limit: limit {limit} violated (got {got})")]
    LimitExceeded {
        /// `series`, `samples` or `chunk bytes`.
        what: &'static str,
        limit: u64,
        got: u64,
    },

    /// A bucket operation failed.
    #[error(transparent)]
    Bucket(#[from] strata_objstore::Error),

    /// A block's local index (or another TSDB file) could not be read.
    #[error(transparent)]
    Tsdb(#[from] strata_tsdb::Error),

    /// The queried storage failed.
    #[error(transparent)]
    Storage(#[from] strata_model::Error),

    /// A chunk read from the bucket is malformed.
    #[error("block {block}: {reason}")]
    Corrupt { block: String, reason: String },

    /// A local file-system operation in the cache directory failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A background task panicked or was cancelled.
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(block: &str, reason: impl Into<String>) -> Self {
        Error::Corrupt {
            block: block.to_owned(),
            reason: reason.into(),
        }
    }

    /// The gRPC status of this error: `InvalidArgument` for bad requests,
    /// `ResourceExhausted` for limits, `Internal` for the rest.
    pub fn to_status(&self) -> Status {
        let code = match self {
            Error::InvalidArgument(_) => Code::InvalidArgument,
            Error::LimitExceeded { .. } => Code::ResourceExhausted,
            Error::Storage(strata_model::Error::Cancelled) => Code::Cancelled,
            _ => Code::Internal,
        };
        Status::new(code, self.to_string())
    }
}

impl From<strata_proto::Error> for Error {
    fn from(e: strata_proto::Error) -> Self {
        Error::InvalidArgument(e.to_string())
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Internal(format!("task failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_map_to_resource_exhausted_with_thanos_wording() {
        let s = Error::LimitExceeded {
            what: "series",
            limit: 2,
            got: 3,
        }
        .to_status();
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert_eq!(
            s.message(),
            "exceeded series limit: limit 2 violated (got 3)"
        );
        let s = Error::InvalidArgument("bad".into()).to_status();
        assert_eq!(s.code(), Code::InvalidArgument);
    }
}
