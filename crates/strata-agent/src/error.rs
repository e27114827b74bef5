//! Errors of the agent storage and the remote-write queues.

use std::path::PathBuf;

/// Result alias of the agent crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What the agent storage and remote write report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// WAL, checkpoint or replay failure (names the segment and offset).
    #[error(transparent)]
    Tsdb(#[from] strata_tsdb::Error),

    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("empty label set")]
    EmptyLabels,

    /// A series ref came without labels and the series is gone (garbage-collected):
    /// the caller appends again with the labels.
    #[error("unknown series ref {0}")]
    UnknownRef(u64),

    /// As in Prometheus' agent, a sample not after the newest one of its series is out of
    /// order (there is no out-of-order window). Cheap to build: scrapes can hit it often.
    #[error("out of order sample for series ref {series_ref}: timestamp {t} is not after {latest}")]
    OutOfOrder {
        series_ref: u64,
        t: i64,
        latest: i64,
    },

    #[error("the agent storage is closed")]
    Closed,

    /// A `remote_write` entry that cannot be run (unsupported option, bad TLS material).
    #[error("remote_write {name:?}: {reason}")]
    RemoteConfig { name: String, reason: String },

    /// The configuration file cannot be read or is invalid (names the file and field).
    #[error(transparent)]
    Config(#[from] strata_config::Error),

    /// The configuration was read but parts of it could not be applied (each part
    /// named); the rest was applied.
    #[error("one or more errors occurred while applying the new configuration: {0}")]
    Apply(String),
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// True for [`Error::OutOfOrder`], which scrapers count rather than report.
    pub fn is_out_of_order(&self) -> bool {
        matches!(self, Error::OutOfOrder { .. })
    }
}
