//! The `global` section and the scrape protocol names.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer};

use crate::values::{ByteSize, Duration};
use crate::yaml::null_default;

/// Label name validation (`metric_name_validation_scheme`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValidationScheme {
    #[default]
    Utf8,
    Legacy,
}

impl ValidationScheme {
    /// The scheme as the model and relabeling use it.
    pub fn name_validation(self) -> strata_relabel::NameValidation {
        match self {
            ValidationScheme::Utf8 => strata_relabel::NameValidation::Utf8,
            ValidationScheme::Legacy => strata_relabel::NameValidation::Legacy,
        }
    }
}

impl<'de> Deserialize<'de> for ValidationScheme {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "utf8" => Ok(ValidationScheme::Utf8),
            "legacy" => Ok(ValidationScheme::Legacy),
            _ => Err(serde::de::Error::custom(format!(
                "invalid name validation scheme {s:?}, must be either 'legacy' or 'utf8'"
            ))),
        }
    }
}

/// A scrape protocol that can be negotiated with targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScrapeProtocol {
    PrometheusProto,
    PrometheusText0_0_4,
    PrometheusText1_0_0,
    OpenMetricsText0_0_1,
    OpenMetricsText1_0_0,
}

impl ScrapeProtocol {
    const ALL: [ScrapeProtocol; 5] = [
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::PrometheusProto,
        ScrapeProtocol::PrometheusText0_0_4,
        ScrapeProtocol::PrometheusText1_0_0,
    ];

    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => "PrometheusProto",
            ScrapeProtocol::PrometheusText0_0_4 => "PrometheusText0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "PrometheusText1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "OpenMetricsText0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "OpenMetricsText1.0.0",
        }
    }

    /// The media type and parameters sent in the `Accept` header.
    pub fn header(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => {
                "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
            }
            ScrapeProtocol::PrometheusText0_0_4 => "text/plain;version=0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "text/plain;version=1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "application/openmetrics-text;version=0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "application/openmetrics-text;version=1.0.0",
        }
    }

    /// Prometheus' default negotiation order.
    pub const DEFAULT: &'static [ScrapeProtocol] = &[
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::PrometheusText1_0_0,
        ScrapeProtocol::PrometheusText0_0_4,
    ];

    /// The order used when native histograms are scraped (protobuf first).
    pub const PROTO_FIRST: &'static [ScrapeProtocol] = &[
        ScrapeProtocol::PrometheusProto,
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::PrometheusText1_0_0,
        ScrapeProtocol::PrometheusText0_0_4,
    ];
}

impl fmt::Display for ScrapeProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ScrapeProtocol {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ScrapeProtocol::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ScrapeProtocol::ALL.iter().map(|p| p.as_str()).collect();
                serde::de::Error::custom(format!(
                    "unknown scrape protocol {s}, supported: [{}]",
                    names.join(" ")
                ))
            })
    }
}

/// Checks a `scrape_protocols` list: non-empty, no duplicates.
pub(crate) fn validate_scrape_protocols(ps: &[ScrapeProtocol]) -> Result<(), String> {
    if ps.is_empty() {
        return Err("scrape_protocols cannot be empty".into());
    }
    for (i, p) in ps.iter().enumerate() {
        if ps[..i].contains(p) {
            let names: Vec<&str> = ps.iter().map(|p| p.as_str()).collect();
            return Err(format!(
                "duplicated protocol in scrape_protocols, got [{}]",
                names.join(" ")
            ));
        }
    }
    Ok(())
}

/// The `global` section, with Prometheus' defaults applied.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawGlobalConfig")]
pub struct GlobalConfig {
    /// Default 1m.
    pub scrape_interval: Duration,
    /// Default min(10s, scrape_interval).
    pub scrape_timeout: Duration,
    /// `None` when not set: scrape configs then pick a default by their own settings.
    pub scrape_protocols: Option<Vec<ScrapeProtocol>>,
    /// Default 1m.
    pub evaluation_interval: Duration,
    pub rule_query_offset: Duration,
    pub query_log_file: Option<String>,
    pub scrape_failure_log_file: Option<String>,
    /// Labels added to every series sent out; values have `$ENV` expanded by `load`.
    pub external_labels: BTreeMap<String, String>,
    /// 0 means no limit (likewise for the other limits).
    pub body_size_limit: ByteSize,
    pub sample_limit: u64,
    pub target_limit: u64,
    pub label_limit: u64,
    pub label_name_length_limit: u64,
    pub label_value_length_limit: u64,
    pub keep_dropped_targets: u64,
    pub metric_name_validation_scheme: ValidationScheme,
    /// Empty when not set.
    pub metric_name_escaping_scheme: String,
    pub scrape_native_histograms: bool,
    pub convert_classic_histograms_to_nhcb: bool,
    pub always_scrape_classic_histograms: bool,
    pub extra_scrape_metrics: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawGlobalConfig {
    scrape_interval: Option<Duration>,
    scrape_timeout: Option<Duration>,
    scrape_protocols: Option<Vec<ScrapeProtocol>>,
    evaluation_interval: Option<Duration>,
    rule_query_offset: Option<Duration>,
    query_log_file: Option<String>,
    scrape_failure_log_file: Option<String>,
    #[serde(deserialize_with = "null_default")]
    external_labels: BTreeMap<String, String>,
    body_size_limit: Option<ByteSize>,
    sample_limit: Option<u64>,
    target_limit: Option<u64>,
    label_limit: Option<u64>,
    label_name_length_limit: Option<u64>,
    label_value_length_limit: Option<u64>,
    keep_dropped_targets: Option<u64>,
    metric_name_validation_scheme: Option<ValidationScheme>,
    metric_name_escaping_scheme: Option<String>,
    scrape_native_histograms: Option<bool>,
    convert_classic_histograms_to_nhcb: Option<bool>,
    always_scrape_classic_histograms: Option<bool>,
    extra_scrape_metrics: Option<bool>,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        // The empty raw config is valid.
        GlobalConfig::try_from(RawGlobalConfig::default()).unwrap_or_else(|_| unreachable!())
    }
}

impl TryFrom<RawGlobalConfig> for GlobalConfig {
    type Error = String;

    fn try_from(r: RawGlobalConfig) -> Result<Self, String> {
        let scheme = r.metric_name_validation_scheme.unwrap_or_default();
        for name in r.external_labels.keys() {
            if strata_model::labels::validate_label_name(name, scheme.name_validation()).is_err() {
                return Err(format!("{name:?} is not a valid label name"));
            }
        }
        let scrape_interval = r
            .scrape_interval
            .filter(|d| !d.is_zero())
            .unwrap_or(Duration::from_secs(60));
        let timeout = r.scrape_timeout.unwrap_or_default();
        if timeout > scrape_interval {
            return Err("global scrape timeout greater than scrape interval".into());
        }
        let scrape_timeout = if timeout.is_zero() {
            Duration::from_secs(10).min(scrape_interval)
        } else {
            timeout
        };
        if let Some(ps) = &r.scrape_protocols {
            validate_scrape_protocols(ps).map_err(|e| format!("{e} for global config"))?;
        }
        Ok(GlobalConfig {
            scrape_interval,
            scrape_timeout,
            scrape_protocols: r.scrape_protocols,
            evaluation_interval: r
                .evaluation_interval
                .filter(|d| !d.is_zero())
                .unwrap_or(Duration::from_secs(60)),
            rule_query_offset: r.rule_query_offset.unwrap_or_default(),
            query_log_file: r.query_log_file,
            scrape_failure_log_file: r.scrape_failure_log_file,
            external_labels: r.external_labels,
            body_size_limit: r.body_size_limit.unwrap_or_default(),
            sample_limit: r.sample_limit.unwrap_or(0),
            target_limit: r.target_limit.unwrap_or(0),
            label_limit: r.label_limit.unwrap_or(0),
            label_name_length_limit: r.label_name_length_limit.unwrap_or(0),
            label_value_length_limit: r.label_value_length_limit.unwrap_or(0),
            keep_dropped_targets: r.keep_dropped_targets.unwrap_or(0),
            metric_name_validation_scheme: scheme,
            metric_name_escaping_scheme: r.metric_name_escaping_scheme.unwrap_or_default(),
            scrape_native_histograms: r.scrape_native_histograms.unwrap_or(false),
            convert_classic_histograms_to_nhcb: r
                .convert_classic_histograms_to_nhcb
                .unwrap_or(false),
            always_scrape_classic_histograms: r.always_scrape_classic_histograms.unwrap_or(false),
            extra_scrape_metrics: r.extra_scrape_metrics.unwrap_or(false),
        })
    }
}
