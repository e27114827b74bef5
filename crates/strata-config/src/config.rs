//! The whole configuration file and the checks that span sections.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use crate::alerting::AlertingConfig;
use crate::error::{Error, Result};
use crate::global::{GlobalConfig, ValidationScheme};
use crate::otlp::OtlpConfig;
use crate::remote::{RemoteReadConfig, RemoteWriteConfig};
use crate::scrape::ScrapeConfig;
use crate::storage::StorageConfig;
use crate::tracing_config::TracingConfig;
use crate::yaml::null_default;

/// `runtime` (Go runtime tuning; parsed and ignored).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RuntimeConfig {
    pub gogc: Option<i64>,
}

/// A Prometheus configuration file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    #[serde(deserialize_with = "null_default")]
    pub global: GlobalConfig,
    #[serde(deserialize_with = "null_default")]
    pub runtime: RuntimeConfig,
    #[serde(deserialize_with = "null_default")]
    pub alerting: AlertingConfig,
    #[serde(deserialize_with = "null_default")]
    pub rule_files: Vec<String>,
    /// Glob patterns of files holding more `scrape_configs` ([`crate::load`] reads them;
    /// [`crate::parse`] does not touch the file system).
    #[serde(deserialize_with = "null_default")]
    pub scrape_config_files: Vec<String>,
    #[serde(deserialize_with = "null_default")]
    pub scrape_configs: Vec<ScrapeConfig>,
    #[serde(deserialize_with = "null_default")]
    pub storage: StorageConfig,
    /// Present only when the file has a `tracing` section.
    pub tracing: Option<TracingConfig>,
    #[serde(deserialize_with = "null_default")]
    pub remote_write: Vec<RemoteWriteConfig>,
    #[serde(deserialize_with = "null_default")]
    pub remote_read: Vec<RemoteReadConfig>,
    #[serde(deserialize_with = "null_default")]
    pub otlp: OtlpConfig,
}

/// A rule or scrape config file pattern: `*` only in the last path component.
static FILE_PATTERN: LazyLock<Regex> = LazyLock::new(|| {
    // Constant pattern.
    #[allow(clippy::expect_used)]
    Regex::new(r"^[^*]*(\*[^/]*)?$").expect("constant regex")
});

impl Config {
    /// Cross-section validation and inheritance from `global` (Prometheus'
    /// `Config.UnmarshalYAML` and `Load`), then `$ENV` expansion of external labels.
    pub(crate) fn validate(&mut self, env: &mut dyn FnMut(&str) -> String) -> Result<()> {
        for (i, rf) in self.rule_files.iter().enumerate() {
            if !FILE_PATTERN.is_match(rf) {
                return Err(Error::invalid(
                    format!("rule_files[{i}]"),
                    format!("invalid rule file path {rf:?}"),
                ));
            }
        }
        for (i, sf) in self.scrape_config_files.iter().enumerate() {
            if !FILE_PATTERN.is_match(sf) {
                return Err(Error::invalid(
                    format!("scrape_config_files[{i}]"),
                    format!("invalid scrape config file path {sf:?}"),
                ));
            }
        }
        let mut jobs = HashSet::new();
        for (i, sc) in self.scrape_configs.iter_mut().enumerate() {
            sc.apply_global(&self.global)
                .map_err(|(f, m)| Error::invalid(format!("scrape_configs[{i}].{f}"), m))?;
            if !jobs.insert(sc.job_name.clone()) {
                return Err(Error::invalid(
                    format!("scrape_configs[{i}].job_name"),
                    format!(
                        "found multiple scrape configs with job name {:?}",
                        sc.job_name
                    ),
                ));
            }
        }
        let nv = self.global.metric_name_validation_scheme.name_validation();
        for (i, rc) in self.alerting.alert_relabel_configs.iter_mut().enumerate() {
            rc.validate(nv).map_err(|e| {
                Error::invalid(
                    format!("alerting.alert_relabel_configs[{i}]"),
                    e.to_string(),
                )
            })?;
        }
        for (i, am) in self.alerting.alertmanagers.iter_mut().enumerate() {
            for (list, rules) in [
                ("alert_relabel_configs", &mut am.alert_relabel_configs),
                ("relabel_configs", &mut am.relabel_configs),
            ] {
                for (j, rc) in rules.iter_mut().enumerate() {
                    rc.validate(nv).map_err(|e| {
                        Error::invalid(
                            format!("alerting.alertmanagers[{i}].{list}[{j}]"),
                            e.to_string(),
                        )
                    })?;
                }
            }
        }
        let mut names = HashSet::new();
        for (i, rw) in self.remote_write.iter_mut().enumerate() {
            if !rw.name.is_empty() && !names.insert(rw.name.clone()) {
                return Err(Error::invalid(
                    format!("remote_write[{i}].name"),
                    format!(
                        "found multiple remote write configs with job name {:?}",
                        rw.name
                    ),
                ));
            }
            for (j, rc) in rw.write_relabel_configs.iter_mut().enumerate() {
                rc.validate(nv).map_err(|e| {
                    Error::invalid(
                        format!("remote_write[{i}].write_relabel_configs[{j}]"),
                        e.to_string(),
                    )
                })?;
            }
        }
        let mut names = HashSet::new();
        for (i, rr) in self.remote_read.iter().enumerate() {
            if !rr.name.is_empty() && !names.insert(rr.name.clone()) {
                return Err(Error::invalid(
                    format!("remote_read[{i}].name"),
                    format!(
                        "found multiple remote read configs with job name {:?}",
                        rr.name
                    ),
                ));
            }
        }
        self.storage
            .validate()
            .map_err(|(f, m)| Error::invalid(f, m))?;
        if let Some(t) = &self.tracing {
            t.validate().map_err(|m| Error::invalid("tracing", m))?;
        }
        let legacy = self.global.metric_name_validation_scheme == ValidationScheme::Legacy;
        self.otlp
            .validate(legacy)
            .map_err(|m| Error::invalid("otlp", m))?;
        for (name, value) in self.global.external_labels.iter_mut() {
            let expanded = crate::envexpand::expand(value, &mut *env);
            if expanded != *value {
                tracing::debug!(label = %name, input = %value, output = %expanded, "external label expanded");
                *value = expanded;
            }
        }
        Ok(())
    }

    /// Rejects what Prometheus' agent mode rejects: `alerting`, `rule_files` and
    /// `remote_read`.
    pub fn check_agent_mode(&self) -> Result<()> {
        let reject = |field: &str| {
            Err(Error::invalid(
                field,
                format!("field {field} is not allowed in agent mode"),
            ))
        };
        if !self.alerting.is_empty() {
            return reject("alerting");
        }
        if !self.rule_files.is_empty() {
            return reject("rule_files");
        }
        if !self.remote_read.is_empty() {
            return reject("remote_read");
        }
        Ok(())
    }
}
