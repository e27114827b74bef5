//! Command-line interface. Every flag can also be set through an environment variable
//! named `STRATA_<FLAG>` (dots and dashes become underscores).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::logging::LogArgs;

#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about = "Prometheus agent mode and the Thanos stack in one binary"
)]
pub struct Cli {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every component in one process on one port (single-node Prometheus replacement).
    Up(UpArgs),
    /// Scrape targets, keep a WAL and remote-write (Prometheus agent mode).
    Agent(AgentArgs),
    /// Accept remote write into per-tenant TSDBs (Thanos receive).
    Receive(ReceiveArgs),
    /// Answer PromQL over Store API endpoints (Thanos query).
    Query(QueryArgs),
    /// Serve blocks from object storage (Thanos store gateway).
    Store(StoreArgs),
    /// Compact and downsample blocks in object storage (Thanos compact).
    Compact(PendingArgs),
    /// Evaluate recording and alerting rules (Thanos rule).
    Rule(PendingArgs),
    /// Offline tools for data directories.
    Tools(ToolsArgs),
}

/// Arguments of components that are not built yet: accepted so that `--help` works.
#[derive(Debug, Args)]
pub struct PendingArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
}

/// `strata agent`: Prometheus' agent-mode flags, spelled as Prometheus spells them.
#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Prometheus configuration file (agent mode: no rules, alerting or local storage).
    #[arg(
        long = "config.file",
        env = "STRATA_CONFIG_FILE",
        default_value = "prometheus.yml"
    )]
    pub config_file: PathBuf,
    /// Directory of the WAL and the remote-write progress.
    #[arg(
        long = "storage.agent.path",
        env = "STRATA_STORAGE_AGENT_PATH",
        default_value = "data-agent/"
    )]
    pub storage_path: PathBuf,
    /// Address of the HTTP server (metrics, health, reload, targets); `:9090` means
    /// every interface.
    #[arg(
        long = "web.listen-address",
        env = "STRATA_WEB_LISTEN_ADDRESS",
        default_value = "0.0.0.0:9090"
    )]
    pub listen_address: String,
    /// Enable reload and quit over HTTP (`POST /-/reload`, `POST /-/quit`).
    #[arg(long = "web.enable-lifecycle", env = "STRATA_WEB_ENABLE_LIFECYCLE")]
    pub enable_lifecycle: bool,
    /// Samples older than this are deleted at WAL truncation even if not yet sent.
    #[arg(
        long = "storage.agent.retention.max-time",
        env = "STRATA_STORAGE_AGENT_RETENTION_MAX_TIME",
        default_value = "4h"
    )]
    pub retention_max_time: String,
    /// Series without samples for this long may be dropped from memory at truncation.
    #[arg(
        long = "storage.agent.retention.min-time",
        env = "STRATA_STORAGE_AGENT_RETENTION_MIN_TIME",
        default_value = "5m"
    )]
    pub retention_min_time: String,
    /// Compress WAL records with Snappy (`--no-storage.agent.wal-compression` turns it
    /// off, as in Prometheus).
    #[arg(
        long = "storage.agent.wal-compression",
        env = "STRATA_STORAGE_AGENT_WAL_COMPRESSION",
        default_value_t = true,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub wal_compression: bool,
    #[arg(
        long = "no-storage.agent.wal-compression",
        env = "STRATA_NO_STORAGE_AGENT_WAL_COMPRESSION",
        hide = true
    )]
    pub no_wal_compression: bool,
    /// How often the WAL is truncated (sent and expired segments deleted).
    #[arg(
        long = "storage.agent.wal-truncate-frequency",
        env = "STRATA_STORAGE_AGENT_WAL_TRUNCATE_FREQUENCY",
        default_value = "2h"
    )]
    pub wal_truncate_frequency: String,
    /// How long shutdown and reload keep sending what remote-write queues hold.
    #[arg(
        long = "storage.remote.flush-deadline",
        env = "STRATA_STORAGE_REMOTE_FLUSH_DEADLINE",
        default_value = "1m"
    )]
    pub flush_deadline: String,
    /// Prometheus feature flags (`agent`, ...): accepted and ignored, so Prometheus
    /// agent command lines work unchanged.
    #[arg(
        long = "enable-feature",
        env = "STRATA_ENABLE_FEATURE",
        value_delimiter = ','
    )]
    pub features: Vec<String>,
    /// Accepted for Prometheus command lines; only `/` is supported.
    #[arg(
        long = "web.route-prefix",
        env = "STRATA_WEB_ROUTE_PREFIX",
        hide = true
    )]
    pub route_prefix: Option<String>,
    /// Accepted for Prometheus command lines (there is no console UI).
    #[arg(
        long = "web.console.templates",
        env = "STRATA_WEB_CONSOLE_TEMPLATES",
        hide = true
    )]
    pub console_templates: Option<String>,
    #[arg(
        long = "web.console.libraries",
        env = "STRATA_WEB_CONSOLE_LIBRARIES",
        hide = true
    )]
    pub console_libraries: Option<String>,
    /// Not supported (TLS and authentication of the HTTP server); refused if set.
    #[arg(long = "web.config.file", env = "STRATA_WEB_CONFIG_FILE", hide = true)]
    pub web_config_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    /// Listen address of the HTTP API, UI and remote write.
    #[arg(
        long = "http-address",
        env = "STRATA_HTTP_ADDRESS",
        default_value = "127.0.0.1:9090"
    )]
    pub http_address: SocketAddr,
    /// Directory for the TSDB (blocks and WAL).
    #[arg(long = "data-dir", env = "STRATA_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub tsdb: TsdbFlags,
    /// Interval of the built-in self-scrape; 0s disables it.
    #[arg(
        long = "scrape-interval",
        env = "STRATA_SCRAPE_INTERVAL",
        default_value = "15s"
    )]
    pub scrape_interval: String,
    #[command(flatten)]
    pub receive: ReceiveCommonArgs,
}

/// TSDB flags shared by `strata receive` and `strata up` (Prometheus' spellings).
#[derive(Debug, Args, Clone)]
pub struct TsdbFlags {
    /// How long to keep blocks (Prometheus duration, e.g. 15d); 0 keeps everything.
    #[arg(
        long = "tsdb.retention",
        env = "STRATA_TSDB_RETENTION",
        default_value = "15d"
    )]
    pub retention: String,
    /// Block duration: the head is cut into blocks of this length.
    #[arg(
        long = "tsdb.min-block-duration",
        env = "STRATA_TSDB_MIN_BLOCK_DURATION",
        default_value = "2h"
    )]
    pub block_duration: String,
    /// Accept samples this much older than the newest one (0 disables).
    #[arg(
        long = "tsdb.out-of-order.time-window",
        env = "STRATA_TSDB_OUT_OF_ORDER_TIME_WINDOW",
        default_value = "0s"
    )]
    pub ooo_window: String,
    /// Fsync the WAL on every commit (slower, survives power loss, not only crashes).
    #[arg(
        long = "tsdb.wal-fsync",
        env = "STRATA_TSDB_WAL_FSYNC",
        default_value_t = false
    )]
    pub wal_fsync: bool,
}

/// Flags shared by `strata receive` and `strata up` (Thanos receive's spellings).
#[derive(Debug, Args, Clone)]
pub struct ReceiveCommonArgs {
    /// HTTP header that names the tenant of a write request.
    #[arg(
        long = "receive.tenant-header",
        env = "STRATA_RECEIVE_TENANT_HEADER",
        default_value = "THANOS-TENANT"
    )]
    pub tenant_header: String,
    /// Tenant of write requests that name none.
    #[arg(
        long = "receive.default-tenant-id",
        env = "STRATA_RECEIVE_DEFAULT_TENANT_ID",
        default_value = "default-tenant"
    )]
    pub default_tenant: String,
    /// Label carrying the tenant id on the tenant's data (empty: none).
    #[arg(
        long = "receive.tenant-label-name",
        env = "STRATA_RECEIVE_TENANT_LABEL_NAME",
        default_value = "tenant_id"
    )]
    pub tenant_label: String,
    /// YAML file with per-tenant write limits (Thanos' format); reloaded when it changes.
    #[arg(
        long = "receive.limits-config-file",
        env = "STRATA_RECEIVE_LIMITS_CONFIG_FILE"
    )]
    pub limits_file: Option<PathBuf>,
    /// External label of this receiver's data, `name="value"` (repeatable).
    #[arg(long = "label", env = "STRATA_LABEL")]
    pub labels: Vec<String>,
    /// Object storage configuration file (Thanos' objstore YAML); finished blocks are
    /// uploaded there.
    #[arg(long = "objstore.config-file", env = "STRATA_OBJSTORE_CONFIG_FILE")]
    pub objstore_config_file: Option<PathBuf>,
    /// Object storage configuration as YAML content (instead of a file).
    #[arg(long = "objstore.config", env = "STRATA_OBJSTORE_CONFIG")]
    pub objstore_config: Option<String>,
    /// How often finished blocks are uploaded.
    #[arg(
        long = "shipper.interval",
        env = "STRATA_SHIPPER_INTERVAL",
        default_value = "30s"
    )]
    pub shipper_interval: String,
    /// Flush and close a tenant's TSDB after this long without writes (0s: never).
    #[arg(
        long = "receive.tenant-idle-timeout",
        env = "STRATA_RECEIVE_TENANT_IDLE_TIMEOUT",
        default_value = "0s"
    )]
    pub tenant_idle_timeout: String,
}

#[derive(Debug, Args)]
pub struct ReceiveArgs {
    /// Listen address of the remote-write endpoints (`/api/v1/receive`, `/api/v1/write`).
    #[arg(
        long = "remote-write.address",
        env = "STRATA_REMOTE_WRITE_ADDRESS",
        default_value = "0.0.0.0:19291"
    )]
    pub remote_write_address: SocketAddr,
    /// Listen address of the HTTP server (metrics, health, Prometheus query API).
    #[arg(
        long = "http-address",
        env = "STRATA_HTTP_ADDRESS",
        default_value = "0.0.0.0:10902"
    )]
    pub http_address: SocketAddr,
    /// Listen address of the gRPC server (Store API, forwarding between receivers).
    #[arg(
        long = "grpc-address",
        env = "STRATA_GRPC_ADDRESS",
        default_value = "0.0.0.0:10901"
    )]
    pub grpc_address: SocketAddr,
    /// Directory of the tenants' TSDBs.
    #[arg(long = "tsdb.path", env = "STRATA_TSDB_PATH", default_value = "./data")]
    pub tsdb_path: PathBuf,
    #[command(flatten)]
    pub tsdb: TsdbFlags,
    /// Hashrings file (Thanos' JSON format); without it this receiver only ingests.
    #[arg(long = "receive.hashrings-file", env = "STRATA_RECEIVE_HASHRINGS_FILE")]
    pub hashrings_file: Option<PathBuf>,
    /// How often the hashrings and limits files are checked for changes.
    #[arg(
        long = "receive.hashrings-file-refresh-interval",
        env = "STRATA_RECEIVE_HASHRINGS_FILE_REFRESH_INTERVAL",
        default_value = "5s"
    )]
    pub hashrings_refresh: String,
    /// Hashring algorithm of rings that do not name one: ketama or hashmod.
    #[arg(
        long = "receive.hashrings-algorithm",
        env = "STRATA_RECEIVE_HASHRINGS_ALGORITHM",
        default_value = "ketama"
    )]
    pub hashrings_algorithm: String,
    /// This receiver's endpoint as it appears in the hashring (unset: router only).
    #[arg(long = "receive.local-endpoint", env = "STRATA_RECEIVE_LOCAL_ENDPOINT")]
    pub local_endpoint: Option<String>,
    /// How many receivers store each series; a write needs RF/2+1 of them.
    #[arg(
        long = "receive.replication-factor",
        env = "STRATA_RECEIVE_REPLICATION_FACTOR",
        default_value_t = 1
    )]
    pub replication_factor: u64,
    /// Timeout of a forward request to a peer receiver.
    #[arg(
        long = "receive-forward-timeout",
        env = "STRATA_RECEIVE_FORWARD_TIMEOUT",
        default_value = "5s"
    )]
    pub forward_timeout: String,
    /// Concurrent forward requests per write request.
    #[arg(
        long = "receive.forward.async-workers",
        env = "STRATA_RECEIVE_FORWARD_ASYNC_WORKERS",
        default_value_t = 5
    )]
    pub forward_workers: usize,
    #[command(flatten)]
    pub common: ReceiveCommonArgs,
}

#[derive(Debug, Args)]
pub struct ToolsArgs {
    #[command(subcommand)]
    pub command: ToolsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ToolsCommand {
    /// TSDB tools, as `promtool tsdb` offers them.
    Tsdb(TsdbArgs),
}

#[derive(Debug, Args)]
pub struct TsdbArgs {
    #[command(subcommand)]
    pub command: TsdbCommand,
}

#[derive(Debug, Subcommand)]
pub enum TsdbCommand {
    /// Print every sample as `promtool tsdb dump` does.
    Dump(DumpArgs),
    /// Report blocks, series, label cardinality and churn, like `promtool tsdb analyze`.
    Analyze(AnalyzeArgs),
    /// Create blocks from an OpenMetrics file, like `promtool tsdb create-blocks-from openmetrics`.
    ImportOpenmetrics(ImportArgs),
    /// List the blocks of a data directory, like `promtool tsdb list`.
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Data directory (blocks and WAL).
    #[arg(default_value = "data/")]
    pub dir: PathBuf,
    /// Series selector.
    #[arg(
        long = "match",
        env = "STRATA_TSDB_DUMP_MATCH",
        default_value = "{__name__=~'(?s:.*)'}"
    )]
    pub selector: String,
    /// Minimum timestamp (ms).
    #[arg(long = "min-time", env = "STRATA_TSDB_DUMP_MIN_TIME", default_value_t = i64::MIN, allow_negative_numbers = true)]
    pub min_time: i64,
    /// Maximum timestamp (ms).
    #[arg(long = "max-time", env = "STRATA_TSDB_DUMP_MAX_TIME", default_value_t = i64::MAX, allow_negative_numbers = true)]
    pub max_time: i64,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Data directory.
    #[arg(default_value = "data/")]
    pub dir: PathBuf,
    /// Block to analyze (default: the newest).
    pub block_id: Option<String>,
    /// How many items to show in each list.
    #[arg(long, env = "STRATA_TSDB_ANALYZE_LIMIT", default_value_t = 20)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// OpenMetrics input file.
    pub input: PathBuf,
    /// Output directory for the blocks.
    #[arg(default_value = "data/")]
    pub output: PathBuf,
    /// Maximum duration of created blocks (a multiple of 2h).
    #[arg(
        long = "max-block-duration",
        env = "STRATA_TSDB_MAX_BLOCK_DURATION",
        default_value = "2h"
    )]
    pub max_block_duration: String,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Data directory.
    #[arg(default_value = "data/")]
    pub dir: PathBuf,
    /// Print sizes and durations for humans.
    #[arg(
        short = 'r',
        long = "human-readable",
        env = "STRATA_TSDB_LIST_HUMAN_READABLE"
    )]
    pub human: bool,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// Listen address of the HTTP API (Prometheus query API, `/api/v1/stores`).
    #[arg(
        long = "http-address",
        env = "STRATA_HTTP_ADDRESS",
        default_value = "0.0.0.0:10902"
    )]
    pub http_address: SocketAddr,
    /// A Store API endpoint, `host:port`, `dns+host:port` (repeatable).
    #[arg(long = "endpoint", env = "STRATA_ENDPOINT", value_delimiter = ',')]
    pub endpoints: Vec<String>,
    /// Files listing Store API endpoints (file SD format), re-read when they change.
    #[arg(
        long = "endpoint.sd-files",
        env = "STRATA_ENDPOINT_SD_FILES",
        value_delimiter = ','
    )]
    pub sd_files: Vec<PathBuf>,
    /// How often endpoints are re-resolved and asked for their Info.
    #[arg(
        long = "store.sd-interval",
        env = "STRATA_STORE_SD_INTERVAL",
        default_value = "5s"
    )]
    pub sd_interval: String,
    /// Label whose values tell replicas apart; deduplicated away (repeatable).
    #[arg(
        long = "query.replica-label",
        env = "STRATA_QUERY_REPLICA_LABEL",
        value_delimiter = ','
    )]
    pub replica_labels: Vec<String>,
    /// Deduplication algorithm: penalty (HA Prometheus pairs) or chain (receivers).
    #[arg(
        long = "deduplication.func",
        env = "STRATA_DEDUPLICATION_FUNC",
        default_value = "penalty"
    )]
    pub dedup_func: String,
    /// Answer with the stores that responded, plus warnings, when some fail (default of
    /// the `partial_response` parameter).
    #[arg(
        long = "query.partial-response",
        env = "STRATA_QUERY_PARTIAL_RESPONSE",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub partial_response: bool,
    /// Every query sees only the series of the caller's tenant.
    #[arg(
        long = "query.enforce-tenancy",
        env = "STRATA_QUERY_ENFORCE_TENANCY",
        default_value_t = false
    )]
    pub enforce_tenancy: bool,
    /// HTTP header naming the tenant.
    #[arg(
        long = "query.tenant-header",
        env = "STRATA_QUERY_TENANT_HEADER",
        default_value = "THANOS-TENANT"
    )]
    pub tenant_header: String,
    /// Tenant of requests that name none.
    #[arg(
        long = "query.default-tenant-id",
        env = "STRATA_QUERY_DEFAULT_TENANT_ID",
        default_value = "default-tenant"
    )]
    pub default_tenant: String,
    /// Label carrying the tenant on stored series.
    #[arg(
        long = "query.tenant-label-name",
        env = "STRATA_QUERY_TENANT_LABEL_NAME",
        default_value = "tenant_id"
    )]
    pub tenant_label: String,
    /// Longest wait for one store's answer.
    #[arg(
        long = "store.response-timeout",
        env = "STRATA_STORE_RESPONSE_TIMEOUT",
        default_value = "2m"
    )]
    pub store_timeout: String,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Listen address of the gRPC Store API.
    #[arg(
        long = "grpc-address",
        env = "STRATA_GRPC_ADDRESS",
        default_value = "0.0.0.0:10901"
    )]
    pub grpc_address: SocketAddr,
    /// Listen address of the HTTP server (metrics, health, readiness).
    #[arg(
        long = "http-address",
        env = "STRATA_HTTP_ADDRESS",
        default_value = "0.0.0.0:10902"
    )]
    pub http_address: SocketAddr,
    /// Local cache directory (per-block index files).
    #[arg(long = "data-dir", env = "STRATA_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Object storage configuration file (Thanos' objstore YAML).
    #[arg(long = "objstore.config-file", env = "STRATA_OBJSTORE_CONFIG_FILE")]
    pub objstore_config_file: Option<PathBuf>,
    /// Object storage configuration as YAML content.
    #[arg(long = "objstore.config", env = "STRATA_OBJSTORE_CONFIG")]
    pub objstore_config: Option<String>,
    /// How often the bucket's block list is synced.
    #[arg(
        long = "sync-block-duration",
        env = "STRATA_SYNC_BLOCK_DURATION",
        default_value = "15m"
    )]
    pub sync_block_duration: String,
    /// Bytes of chunk data cached in memory.
    #[arg(
        long = "chunk-pool-size",
        env = "STRATA_CHUNK_POOL_SIZE",
        default_value = "2GB"
    )]
    pub chunk_pool_size: String,
    /// Index cache size (accepted for compatibility: indexes are memory-mapped files).
    #[arg(
        long = "index-cache-size",
        env = "STRATA_INDEX_CACHE_SIZE",
        default_value = "250MB"
    )]
    pub index_cache_size: String,
    /// Blocks opened concurrently during a sync.
    #[arg(
        long = "block-sync-concurrency",
        env = "STRATA_BLOCK_SYNC_CONCURRENCY",
        default_value_t = 20
    )]
    pub block_sync_concurrency: usize,
    /// A block marked for deletion is still served this long after the mark.
    #[arg(
        long = "ignore-deletion-marks-delay",
        env = "STRATA_IGNORE_DELETION_MARKS_DELAY",
        default_value = "24h"
    )]
    pub ignore_deletion_marks_delay: String,
    /// Samples one Series call may return (0: unlimited).
    #[arg(
        long = "store.grpc.series-sample-limit",
        env = "STRATA_STORE_GRPC_SERIES_SAMPLE_LIMIT",
        default_value_t = 0
    )]
    pub series_sample_limit: u64,
    /// Series one Series call may return (0: unlimited).
    #[arg(
        long = "store.limits.request-series",
        env = "STRATA_STORE_LIMITS_REQUEST_SERIES",
        default_value_t = 0
    )]
    pub series_limit: u64,
    /// Bytes of chunks one Series call may return (0: unlimited).
    #[arg(
        long = "store.grpc.downloaded-bytes-limit",
        env = "STRATA_STORE_GRPC_DOWNLOADED_BYTES_LIMIT",
        default_value_t = 0
    )]
    pub bytes_limit: u64,
    /// Concurrent Series calls; more wait.
    #[arg(
        long = "store.grpc.series-max-concurrency",
        env = "STRATA_STORE_GRPC_SERIES_MAX_CONCURRENCY",
        default_value_t = 20
    )]
    pub series_max_concurrency: usize,
}
