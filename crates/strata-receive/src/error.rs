//! Errors of the receiver.

use std::path::PathBuf;

/// Everything that can go wrong while receiving.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The hashrings configuration is malformed or invalid; the message says where and why.
    #[error("hashring configuration: {0}")]
    HashringConfig(String),

    /// The hashrings file could not be read.
    #[error("reading hashring configuration file {path}: {source}")]
    HashringFile {
        path: PathBuf,
        source: std::io::Error,
    },

    /// A ring was asked for replica `want - 1` but has only `have` endpoints (Thanos'
    /// `insufficientNodesError`, same message).
    #[error("insufficient nodes; have {have}, want {want}")]
    InsufficientNodes { have: u64, want: u64 },

    /// A ketama ring precomputes `replication_factor` replicas per section; replica `n` is
    /// beyond them.
    #[error("replica {n} requested from a ring built for replication factor {replication_factor}")]
    ReplicaOutOfRange { n: u64, replication_factor: u64 },

    /// No hashring in the configuration accepts this tenant (Thanos: "no matching hashring to
    /// handle tenant").
    #[error("no matching hashring to handle tenant {tenant:?}")]
    NoMatchingHashring { tenant: String },
}

pub type Result<T> = std::result::Result<T, Error>;
