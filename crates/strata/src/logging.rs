//! Log setup: `tracing` with an env filter, as logfmt-like text or JSON lines (for
//! Fluent Bit and other collectors).

use clap::{Args, ValueEnum};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Logfmt,
    Json,
}

/// Flags shared by every subcommand, spelled as Thanos spells them.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Log filtering level (error, warn, info, debug) or a tracing filter directive.
    #[arg(
        long = "log.level",
        env = "STRATA_LOG_LEVEL",
        default_value = "info",
        global = true
    )]
    pub level: String,
    /// Log format: logfmt-like text or JSON lines.
    #[arg(
        long = "log.format",
        env = "STRATA_LOG_FORMAT",
        value_enum,
        default_value = "logfmt",
        global = true
    )]
    pub format: LogFormat,
}

pub fn init(args: &LogArgs) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&args.level)
        .map_err(|e| anyhow::anyhow!("invalid --log.level {:?}: {e}", args.level))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let res = match args.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Logfmt => builder.with_ansi(false).try_init(),
    };
    res.map_err(|e| anyhow::anyhow!("logging: {e}"))
}
