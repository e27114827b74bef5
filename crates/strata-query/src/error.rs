//! Errors of the distributed querier.

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything the querier reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An `--endpoint` (or file SD target) that cannot be used.
    #[error("invalid endpoint {spec:?}: {reason}")]
    InvalidEndpoint { spec: String, reason: String },
    /// `dnssrv+` and `dnssrvnoa+` endpoints need an SRV resolver, which Strata lacks.
    #[error(
        "endpoint {0:?}: DNS SRV discovery (dnssrv+/dnssrvnoa+) is not supported yet; list the addresses, use dns+<host>:<port> (A/AAAA) or a file SD file"
    )]
    SrvUnsupported(String),
    /// A file SD file that cannot be read or parsed.
    #[error("endpoint SD file {path}: {reason}")]
    SdFile { path: String, reason: String },
    /// The tenant named by a request is not a valid tenant name (Thanos' rule: no `/`,
    /// not empty).
    #[error("tenant name not valid: {0:?}")]
    InvalidTenant(String),
    /// A store failed and partial response is disabled.
    #[error("{0}")]
    StoreFailed(String),
    /// No store is available and partial response is disabled (Thanos'
    /// `ErrorNoStoresAvailable`).
    #[error("No StoreAPIs available")]
    NoStoresAvailable,
    /// A chunk a store sent does not decode.
    #[error("series {series} from store {store}: {reason}")]
    BadChunk {
        store: String,
        series: String,
        reason: String,
    },
    /// A series a store sent has invalid labels.
    #[error("store {store} sent invalid labels: {reason}")]
    BadLabels { store: String, reason: String },
    /// The fan-out did not finish in time or its runtime went away.
    #[error("querying stores: {0}")]
    Fanout(String),
    /// An option value that is not allowed.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// No tokio runtime to run the gRPC calls on.
    #[error("the distributed querier must be created inside a tokio runtime")]
    NoRuntime,
}

impl From<Error> for strata_model::Error {
    fn from(e: Error) -> Self {
        strata_model::Error::storage(e)
    }
}
