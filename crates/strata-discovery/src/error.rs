//! Errors of building and running discovery providers.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Why a provider could not be created, or why one of its reads failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A `file_sd` file does not hold a list of target groups.
    #[error("{path}: {message}")]
    TargetFile { path: PathBuf, message: String },
    /// The in-cluster Kubernetes configuration is not available.
    #[error("unable to load in-cluster configuration: {0}")]
    InCluster(String),
    /// A kubeconfig file is unusable.
    #[error("kubeconfig {path}: {message}")]
    Kubeconfig { path: PathBuf, message: String },
    /// The HTTP client configuration cannot be turned into a client (bad certificate,
    /// bad header value, ...).
    #[error("HTTP client: {0}")]
    HttpClient(String),
    /// A configured feature this implementation does not provide.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// A request to the Kubernetes API server failed.
    #[error("kubernetes API {url}: {message}")]
    Api {
        url: String,
        /// The HTTP status, when the server answered.
        status: Option<u16>,
        message: String,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// The HTTP status of an API error (410 Gone asks for a new list).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => *status,
            _ => None,
        }
    }
}
