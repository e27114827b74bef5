//! Errors of the receiver, and the one place where they become HTTP statuses
//! ([`Error::status`]).

use std::path::PathBuf;

use axum::http::StatusCode;

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
    #[error("limits configuration: {0}")]
    LimitsConfig(String),
    #[error("invalid tenant {tenant:?}: {reason}")]
    InvalidTenant { tenant: String, reason: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("opening the TSDB of tenant {tenant:?}: {source}")]
    OpenTenant {
        tenant: String,
        #[source]
        source: strata_tsdb::Error,
    },
    #[error("tenant {tenant:?}: {source}")]
    Tsdb {
        tenant: String,
        #[source]
        source: strata_tsdb::Error,
    },
    /// The request's content type or encoding is not remote write.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The request is malformed or holds invalid data; nothing of it was written.
    #[error("{0}")]
    InvalidRequest(String),
    /// The request is larger than a size limit; the same request can never succeed.
    #[error("{0}")]
    RequestTooLarge(String),
    /// The tenant is over a limit that may clear later (head series, concurrency).
    #[error("{message}")]
    TooManyRequests { message: String, retry_after_s: u64 },
    /// Not every series reached its write quorum, for reasons a retry can fix.
    #[error("{0}")]
    Unavailable(String),
    /// Not every series reached its write quorum because replicas rejected samples as
    /// out of order, duplicate or too old; a retry cannot fix that.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The HTTP status of this error (Thanos receive's semantics).
    pub fn status(&self) -> StatusCode {
        match self {
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::InvalidRequest(_) | Error::InvalidTenant { .. } => StatusCode::BAD_REQUEST,
            Error::RequestTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Unavailable(_) | Error::OpenTenant { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::HashringConfig(_)
            | Error::HashringFile { .. }
            | Error::InsufficientNodes { .. }
            | Error::ReplicaOutOfRange { .. }
            | Error::NoMatchingHashring { .. }
            | Error::LimitsConfig(_)
            | Error::Io { .. }
            | Error::Tsdb { .. }
            | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
