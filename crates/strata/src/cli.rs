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
    Agent(PendingArgs),
    /// Accept remote write into per-tenant TSDBs (Thanos receive).
    Receive(PendingArgs),
    /// Answer PromQL over Store API endpoints (Thanos query).
    Query(PendingArgs),
    /// Serve blocks from object storage (Thanos store gateway).
    Store(PendingArgs),
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
    /// Interval of the built-in self-scrape; 0s disables it.
    #[arg(
        long = "scrape-interval",
        env = "STRATA_SCRAPE_INTERVAL",
        default_value = "15s"
    )]
    pub scrape_interval: String,
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
