//! The Prometheus configuration file, read unchanged.
//!
//! [`parse`] and [`load`] turn a `prometheus.yml` into a [`Config`] with Prometheus'
//! defaults applied, everything inherited from `global` filled in, and the checks
//! Prometheus makes (unknown fields, duplicate job names, `scrape_timeout` above
//! `scrape_interval`, conflicting authentication, bad relabel rules, …). Errors name the
//! file, the field path (`scrape_configs[2].relabel_configs[0]`) and, for YAML and
//! per-field errors, the line and column.
//!
//! As in Prometheus, `$VAR`/`${VAR}` is expanded in `global.external_labels` values only.
//! [`Config::check_agent_mode`] rejects what Prometheus' agent mode rejects.
//!
//! Supported service discovery: `static_configs`, `file_sd_configs`,
//! `kubernetes_sd_configs`; other mechanisms are accepted and listed in
//! [`discovery::ServiceDiscovery::unsupported`].

pub mod alerting;
pub mod config;
pub mod discovery;
mod envexpand;
pub mod error;
pub mod global;
pub mod http;
pub mod otlp;
mod paths;
pub mod remote;
pub mod scrape;
mod scrape_files;
pub mod storage;
pub mod tracing_config;
pub mod values;
pub mod yaml;

use std::path::Path;

pub use config::Config;
pub use error::{Error, Position, Result};
pub use global::{GlobalConfig, ScrapeProtocol, ValidationScheme};
pub use remote::{ProtobufMessage, QueueConfig, RemoteWriteConfig};
pub use scrape::ScrapeConfig;
pub use strata_relabel::RelabelConfig;
pub use values::{ByteSize, Duration, HttpUrl, Secret};

/// Parses and validates a configuration from YAML text, expanding `$ENV` in external
/// label values from the process environment.
pub fn parse(yaml: &str) -> Result<Config> {
    parse_with_env(yaml, |name| {
        let v = std::env::var(name).unwrap_or_default();
        if v.is_empty() {
            tracing::warn!(name, "empty environment variable in external labels");
        }
        v
    })
}

/// Like [`parse`], with environment lookups through `env`.
pub fn parse_with_env(yaml: &str, mut env: impl FnMut(&str) -> String) -> Result<Config> {
    let mut cfg: Config = yaml::from_str(yaml)?;
    cfg.validate(&mut env)?;
    Ok(cfg)
}

/// Reads, parses and validates the file at `path`; relative paths inside it (TLS files,
/// credentials files, `file_sd_configs`, `rule_files`, …) become relative to its
/// directory, and the scrape configs of the files matching `scrape_config_files` are
/// appended to `scrape_configs`.
pub fn load(path: impl AsRef<Path>) -> Result<Config> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let mut cfg = parse(&text).map_err(|e| e.in_file(path.to_owned()))?;
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    paths::set_directory(&mut cfg, dir);
    scrape_files::load_scrape_config_files(&mut cfg)?;
    Ok(cfg)
}

/// [`load`] followed by [`Config::check_agent_mode`].
pub fn load_agent(path: impl AsRef<Path>) -> Result<Config> {
    let path = path.as_ref();
    let cfg = load(path)?;
    cfg.check_agent_mode()
        .map_err(|e| e.in_file(path.to_owned()))?;
    Ok(cfg)
}
