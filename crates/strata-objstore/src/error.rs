//! Errors of object storage, block metadata and the shipper.

use std::path::PathBuf;

/// Everything that can go wrong talking to a bucket or shipping blocks.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object does not exist. Check with [`Error::is_not_found`].
    #[error("object {path:?} not found in bucket {bucket}")]
    NotFound { bucket: String, path: String },

    /// Any other failure of the object store.
    #[error("{op} {path:?} in bucket {bucket}: {source}")]
    Store {
        op: &'static str,
        bucket: String,
        path: String,
        #[source]
        source: Box<object_store::Error>,
    },

    /// An object name that is not a valid object path (empty segments, `.`/`..`, control
    /// characters).
    #[error("invalid object name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },

    /// The bucket configuration (Thanos objstore YAML) is invalid.
    #[error("bucket configuration: {0}")]
    Config(String),

    /// A local file-system operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A local block directory that cannot be shipped.
    #[error("block {}: {reason}", dir.display())]
    InvalidBlock { dir: PathBuf, reason: String },

    /// `meta.json` or a marker in the bucket could not be decoded or encoded.
    #[error("{what}: {reason}")]
    Json { what: String, reason: String },

    /// The shipper's state file `thanos.shipper.json` is unreadable.
    #[error("shipper state {}: {reason}", path.display())]
    ShipperState { path: PathBuf, reason: String },

    /// An error of the TSDB (reading a block's meta).
    #[error(transparent)]
    Tsdb(#[from] strata_tsdb::Error),
}

impl Error {
    /// True when the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
