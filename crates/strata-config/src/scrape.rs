//! `scrape_configs` entries (Prometheus `config.ScrapeConfig`).

use std::collections::BTreeMap;

use serde::Deserialize;
use strata_relabel::RelabelConfig;

use crate::discovery::{ServiceDiscovery, with_sd_fields};
use crate::global::{GlobalConfig, ScrapeProtocol, ValidationScheme, validate_scrape_protocols};
use crate::http::{HttpClientConfig, HttpDefaults};
use crate::values::{ByteSize, Duration};
use crate::yaml::null_default;

/// How a target is scraped. After [`crate::load`]/[`crate::parse`], everything inherited
/// from `global` is filled in (intervals, limits, protocols, validation scheme).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawScrapeConfig")]
pub struct ScrapeConfig {
    pub job_name: String,
    pub honor_labels: bool,
    /// Default true.
    pub honor_timestamps: bool,
    pub track_timestamps_staleness: bool,
    /// URL query parameters (`params: {module: [http_2xx]}`).
    pub params: BTreeMap<String, Vec<String>>,
    pub scrape_interval: Duration,
    pub scrape_timeout: Duration,
    pub scrape_protocols: Vec<ScrapeProtocol>,
    pub fallback_scrape_protocol: Option<ScrapeProtocol>,
    pub scrape_native_histograms: bool,
    pub always_scrape_classic_histograms: bool,
    pub convert_classic_histograms_to_nhcb: bool,
    pub scrape_failure_log_file: Option<String>,
    /// Default `/metrics`.
    pub metrics_path: String,
    /// `http` (default) or `https`.
    pub scheme: String,
    /// Default true: ask for gzip.
    pub enable_compression: bool,
    /// Limits; 0 means none.
    pub body_size_limit: ByteSize,
    pub sample_limit: u64,
    pub target_limit: u64,
    pub label_limit: u64,
    pub label_name_length_limit: u64,
    pub label_value_length_limit: u64,
    pub native_histogram_bucket_limit: u64,
    pub native_histogram_min_bucket_factor: f64,
    pub keep_dropped_targets: u64,
    pub metric_name_validation_scheme: ValidationScheme,
    /// `allow-utf-8`, `underscores`, `dots` or `values`.
    pub metric_name_escaping_scheme: String,
    pub extra_scrape_metrics: bool,
    pub service_discovery: ServiceDiscovery,
    pub http_client: HttpClientConfig,
    pub relabel_configs: Vec<RelabelConfig>,
    pub metric_relabel_configs: Vec<RelabelConfig>,
    /// What was set explicitly, to resolve inheritance from `global`.
    unset: Unset,
}

/// Fields left unset in the file (inherited from `global`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Unset {
    scrape_protocols: bool,
    scrape_native_histograms: bool,
    always_scrape_classic_histograms: bool,
    convert_classic_histograms_to_nhcb: bool,
    metric_name_validation_scheme: bool,
    extra_scrape_metrics: bool,
}

with_sd_fields! {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawScrapeConfig {
        #[serde(default)]
        job_name: Option<String>,
        #[serde(default)]
        honor_labels: Option<bool>,
        #[serde(default)]
        honor_timestamps: Option<bool>,
        #[serde(default)]
        track_timestamps_staleness: Option<bool>,
        #[serde(default, deserialize_with = "null_default")]
        params: BTreeMap<String, Vec<String>>,
        #[serde(default)]
        scrape_interval: Option<Duration>,
        #[serde(default)]
        scrape_timeout: Option<Duration>,
        #[serde(default)]
        scrape_protocols: Option<Vec<ScrapeProtocol>>,
        #[serde(default)]
        fallback_scrape_protocol: Option<ScrapeProtocol>,
        #[serde(default)]
        scrape_native_histograms: Option<bool>,
        #[serde(default)]
        always_scrape_classic_histograms: Option<bool>,
        #[serde(default)]
        convert_classic_histograms_to_nhcb: Option<bool>,
        #[serde(default)]
        scrape_failure_log_file: Option<String>,
        #[serde(default)]
        metrics_path: Option<String>,
        #[serde(default)]
        scheme: Option<String>,
        #[serde(default)]
        enable_compression: Option<bool>,
        #[serde(default)]
        body_size_limit: Option<ByteSize>,
        #[serde(default)]
        sample_limit: Option<u64>,
        #[serde(default)]
        target_limit: Option<u64>,
        #[serde(default)]
        label_limit: Option<u64>,
        #[serde(default)]
        label_name_length_limit: Option<u64>,
        #[serde(default)]
        label_value_length_limit: Option<u64>,
        #[serde(default)]
        native_histogram_bucket_limit: Option<u64>,
        #[serde(default)]
        native_histogram_min_bucket_factor: Option<f64>,
        #[serde(default)]
        keep_dropped_targets: Option<u64>,
        #[serde(default)]
        metric_name_validation_scheme: Option<ValidationScheme>,
        #[serde(default)]
        metric_name_escaping_scheme: Option<String>,
        #[serde(default)]
        extra_scrape_metrics: Option<bool>,
        #[serde(default, deserialize_with = "null_default")]
        relabel_configs: Vec<RelabelConfig>,
        #[serde(default, deserialize_with = "null_default")]
        metric_relabel_configs: Vec<RelabelConfig>,
    }
}

const ESCAPING_SCHEMES: [&str; 4] = ["allow-utf-8", "underscores", "dots", "values"];

impl TryFrom<RawScrapeConfig> for ScrapeConfig {
    type Error = String;

    fn try_from(mut r: RawScrapeConfig) -> Result<Self, String> {
        let job_name = r.job_name.take().unwrap_or_default();
        if job_name.is_empty() {
            return Err("job_name is empty".into());
        }
        let http_client = r.take_http_client(HttpDefaults::STANDARD)?;
        let service_discovery = r.take_service_discovery();
        if r.relabel_configs.is_empty() {
            service_discovery.check_static_targets()?;
        }
        // Like Prometheus, any scheme loads; targets whose `__scheme__` is neither http nor
        // https are rejected when they are created.
        let scheme = r.scheme.unwrap_or_else(|| "http".into());
        let unset = Unset {
            scrape_protocols: r.scrape_protocols.is_none(),
            scrape_native_histograms: r.scrape_native_histograms.is_none(),
            always_scrape_classic_histograms: r.always_scrape_classic_histograms.is_none(),
            convert_classic_histograms_to_nhcb: r.convert_classic_histograms_to_nhcb.is_none(),
            metric_name_validation_scheme: r.metric_name_validation_scheme.is_none(),
            extra_scrape_metrics: r.extra_scrape_metrics.is_none(),
        };
        Ok(ScrapeConfig {
            job_name,
            honor_labels: r.honor_labels.unwrap_or(false),
            honor_timestamps: r.honor_timestamps.unwrap_or(true),
            track_timestamps_staleness: r.track_timestamps_staleness.unwrap_or(false),
            params: r.params,
            scrape_interval: r.scrape_interval.unwrap_or_default(),
            scrape_timeout: r.scrape_timeout.unwrap_or_default(),
            scrape_protocols: r.scrape_protocols.unwrap_or_default(),
            fallback_scrape_protocol: r.fallback_scrape_protocol,
            scrape_native_histograms: r.scrape_native_histograms.unwrap_or(false),
            always_scrape_classic_histograms: r.always_scrape_classic_histograms.unwrap_or(false),
            convert_classic_histograms_to_nhcb: r
                .convert_classic_histograms_to_nhcb
                .unwrap_or(false),
            scrape_failure_log_file: r.scrape_failure_log_file,
            metrics_path: r.metrics_path.unwrap_or_else(|| "/metrics".into()),
            scheme,
            enable_compression: r.enable_compression.unwrap_or(true),
            body_size_limit: r.body_size_limit.unwrap_or_default(),
            sample_limit: r.sample_limit.unwrap_or(0),
            target_limit: r.target_limit.unwrap_or(0),
            label_limit: r.label_limit.unwrap_or(0),
            label_name_length_limit: r.label_name_length_limit.unwrap_or(0),
            label_value_length_limit: r.label_value_length_limit.unwrap_or(0),
            native_histogram_bucket_limit: r.native_histogram_bucket_limit.unwrap_or(0),
            native_histogram_min_bucket_factor: r.native_histogram_min_bucket_factor.unwrap_or(0.0),
            keep_dropped_targets: r.keep_dropped_targets.unwrap_or(0),
            metric_name_validation_scheme: r.metric_name_validation_scheme.unwrap_or_default(),
            metric_name_escaping_scheme: r.metric_name_escaping_scheme.unwrap_or_default(),
            extra_scrape_metrics: r.extra_scrape_metrics.unwrap_or(false),
            service_discovery,
            http_client,
            relabel_configs: r.relabel_configs,
            metric_relabel_configs: r.metric_relabel_configs,
            unset,
        })
    }
}

impl ScrapeConfig {
    /// Fills what is inherited from `global` and checks what depends on it (Prometheus'
    /// `ScrapeConfig.Validate`). Errors are relative to this scrape config.
    pub(crate) fn apply_global(&mut self, g: &GlobalConfig) -> Result<(), (String, String)> {
        let job = self.job_name.clone();
        let here = |field: &str, msg: String| (field.to_owned(), msg);
        if self.scrape_interval.is_zero() {
            self.scrape_interval = g.scrape_interval;
        }
        if self.scrape_timeout > self.scrape_interval {
            return Err(here(
                "scrape_timeout",
                format!(
                    "scrape timeout greater than scrape interval for scrape config with job name {job:?}"
                ),
            ));
        }
        if self.scrape_timeout.is_zero() {
            self.scrape_timeout = g.scrape_timeout.min(self.scrape_interval);
        }
        inherit(&mut self.body_size_limit.0, g.body_size_limit.0);
        inherit(&mut self.sample_limit, g.sample_limit);
        inherit(&mut self.target_limit, g.target_limit);
        inherit(&mut self.label_limit, g.label_limit);
        inherit(&mut self.label_name_length_limit, g.label_name_length_limit);
        inherit(
            &mut self.label_value_length_limit,
            g.label_value_length_limit,
        );
        inherit(&mut self.keep_dropped_targets, g.keep_dropped_targets);
        if self.scrape_failure_log_file.is_none() {
            self.scrape_failure_log_file = g.scrape_failure_log_file.clone();
        }
        if self.unset.scrape_native_histograms {
            self.scrape_native_histograms = g.scrape_native_histograms;
        }
        if self.unset.extra_scrape_metrics {
            self.extra_scrape_metrics = g.extra_scrape_metrics;
        }
        if self.unset.scrape_protocols {
            self.scrape_protocols = match &g.scrape_protocols {
                Some(ps) => ps.clone(),
                None if self.scrape_native_histograms => ScrapeProtocol::PROTO_FIRST.to_vec(),
                None => ScrapeProtocol::DEFAULT.to_vec(),
            };
        }
        validate_scrape_protocols(&self.scrape_protocols).map_err(|e| {
            here(
                "scrape_protocols",
                format!("{e} for scrape config with job name {job:?}"),
            )
        })?;
        if self.unset.metric_name_validation_scheme {
            self.metric_name_validation_scheme = g.metric_name_validation_scheme;
        }
        let global_escaping = match g.metric_name_escaping_scheme.as_str() {
            "" if g.metric_name_validation_scheme == ValidationScheme::Legacy => "underscores",
            "" => "allow-utf-8",
            s if ESCAPING_SCHEMES.contains(&s) => s,
            s => {
                return Err(here(
                    "metric_name_escaping_scheme",
                    format!(
                        "unknown global name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {s:?}"
                    ),
                ));
            }
        };
        if self.metric_name_escaping_scheme.is_empty() {
            self.metric_name_escaping_scheme = if self.unset.metric_name_validation_scheme {
                global_escaping.to_owned()
            } else if self.metric_name_validation_scheme == ValidationScheme::Legacy {
                "underscores".to_owned()
            } else {
                "allow-utf-8".to_owned()
            };
        }
        match self.metric_name_escaping_scheme.as_str() {
            "allow-utf-8" if self.metric_name_validation_scheme != ValidationScheme::Utf8 => {
                return Err(here(
                    "metric_name_escaping_scheme",
                    "utf8 metric names requested but validation scheme is not set to UTF8".into(),
                ));
            }
            s if !ESCAPING_SCHEMES.contains(&s) => {
                return Err(here(
                    "metric_name_escaping_scheme",
                    format!(
                        "unknown scrape config name escaping method specified, must be one of 'allow-utf-8', 'underscores', 'dots', or 'values', got {s:?}"
                    ),
                ));
            }
            _ => {}
        }
        if self.unset.convert_classic_histograms_to_nhcb {
            self.convert_classic_histograms_to_nhcb = g.convert_classic_histograms_to_nhcb;
        }
        if self.unset.always_scrape_classic_histograms {
            self.always_scrape_classic_histograms = g.always_scrape_classic_histograms;
        }
        self.unset = Unset::default();
        let nv = self.metric_name_validation_scheme.name_validation();
        for (i, rc) in self.relabel_configs.iter_mut().enumerate() {
            rc.validate(nv)
                .map_err(|e| here(&format!("relabel_configs[{i}]"), e.to_string()))?;
        }
        for (i, rc) in self.metric_relabel_configs.iter_mut().enumerate() {
            rc.validate(nv)
                .map_err(|e| here(&format!("metric_relabel_configs[{i}]"), e.to_string()))?;
        }
        Ok(())
    }
}

fn inherit(v: &mut u64, global: u64) {
    if *v == 0 {
        *v = global;
    }
}
