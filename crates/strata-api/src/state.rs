//! What the API serves from: storage, the engine, build and runtime information, the
//! flags, and pluggable providers for TSDB status, metadata and the PromQL parser.

use std::collections::BTreeMap;
use std::sync::Arc;

use strata_model::storage::Queryable;
use strata_promql::Engine;

use crate::errors::ApiError;

/// `/api/v1/status/buildinfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInfo {
    pub version: String,
    pub revision: String,
    pub branch: String,
    pub build_user: String,
    pub build_date: String,
    /// Reported under Prometheus' `goVersion` key (for Strata: the Rust toolchain).
    pub go_version: String,
}

/// `/api/v1/status/runtimeinfo`; times are Unix milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeInfo {
    pub start_time_ms: i64,
    pub cwd: String,
    pub hostname: String,
    pub server_time_ms: i64,
    pub reload_config_success: bool,
    pub last_config_time_ms: i64,
    pub corruption_count: i64,
    pub goroutine_count: i64,
    pub gomaxprocs: i64,
    pub gomemlimit: i64,
    pub gogc: String,
    pub godebug: String,
    pub storage_retention: String,
}

/// Produces runtime information on each request.
pub trait RuntimeInfoProvider: Send + Sync {
    fn runtime_info(&self) -> RuntimeInfo;
}

/// One `{"name":…,"value":…}` entry of the TSDB status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub name: String,
    pub value: u64,
}

/// The head's counters in the TSDB status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadStatus {
    pub num_series: u64,
    pub num_label_pairs: u64,
    pub chunk_count: u64,
    /// `i64::MAX` for an empty head, as Prometheus reports.
    pub min_time: i64,
    /// `i64::MIN` for an empty head.
    pub max_time: i64,
}

/// `/api/v1/status/tsdb`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsdbStatus {
    pub head_stats: HeadStatus,
    pub series_count_by_metric_name: Vec<Stat>,
    pub label_value_count_by_label_name: Vec<Stat>,
    pub memory_in_bytes_by_label_name: Vec<Stat>,
    pub series_count_by_label_value_pair: Vec<Stat>,
}

/// Computes the TSDB status with at most `limit` entries per list.
pub trait TsdbStatusProvider: Send + Sync {
    fn tsdb_status(&self, limit: usize) -> Result<TsdbStatus, ApiError>;
}

/// One metadata entry of `/api/v1/metadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricMetadata {
    pub kind: String,
    pub help: String,
    pub unit: String,
}

/// Metric metadata (type, help, unit) by metric name.
pub trait MetadataProvider: Send + Sync {
    /// At most `limit` metrics and `limit_per_metric` entries each (`None`: all), only
    /// `metric` when given.
    fn metadata(
        &self,
        metric: Option<&str>,
        limit: Option<usize>,
        limit_per_metric: Option<usize>,
    ) -> Result<BTreeMap<String, Vec<MetricMetadata>>, ApiError>;
}

/// Metadata storage that holds nothing yet: `/api/v1/metadata` answers `{}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoMetadata;

impl MetadataProvider for NoMetadata {
    fn metadata(
        &self,
        _: Option<&str>,
        _: Option<usize>,
        _: Option<usize>,
    ) -> Result<BTreeMap<String, Vec<MetricMetadata>>, ApiError> {
        Ok(BTreeMap::new())
    }
}

/// The PromQL parser behind `/api/v1/format_query` and `/api/v1/parse_query`. Errors
/// are the parser's message (`1:5: parse error: …`), reported as
/// `invalid parameter "query": <message>`.
pub trait QueryParser: Send + Sync {
    /// The query pretty-printed as Prometheus' `Pretty(0)` does.
    fn format_query(&self, query: &str) -> Result<String, String>;
    /// The query's syntax tree as the JSON document Prometheus' `parse_query` returns.
    fn parse_query_json(&self, query: &str) -> Result<String, String>;
}

/// Everything the API handlers need. Cheap to clone.
#[derive(Clone)]
pub struct ApiState {
    pub storage: Arc<dyn Queryable>,
    pub engine: Engine,
    /// Used in `/-/healthy` and `/-/ready` (`"<app_name> is Healthy.\n"`).
    pub app_name: String,
    pub build_info: BuildInfo,
    pub runtime_info: Option<Arc<dyn RuntimeInfoProvider>>,
    /// Command-line flags, as `/api/v1/status/flags` reports them.
    pub flags: BTreeMap<String, String>,
    pub tsdb_status: Option<Arc<dyn TsdbStatusProvider>>,
    pub metadata: Arc<dyn MetadataProvider>,
    pub parser: Option<Arc<dyn QueryParser>>,
}

impl ApiState {
    /// A state over `storage` with defaults: the Strata PromQL parser, no runtime info,
    /// flags or TSDB status, and empty metadata.
    pub fn new(storage: Arc<dyn Queryable>, engine: Engine) -> Self {
        ApiState {
            storage,
            engine,
            app_name: "Strata".into(),
            build_info: BuildInfo::default(),
            runtime_info: None,
            flags: BTreeMap::new(),
            tsdb_status: None,
            metadata: Arc::new(NoMetadata),
            parser: Some(Arc::new(crate::promql_parser::PromQlParser)),
        }
    }
}
