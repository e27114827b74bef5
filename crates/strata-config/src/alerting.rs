//! The `alerting` section (parsed and validated; Prometheus' agent mode rejects it).

use serde::{Deserialize, Deserializer};
use strata_relabel::RelabelConfig;

use crate::discovery::{ServiceDiscovery, with_sd_fields};
use crate::http::{HttpClientConfig, HttpDefaults};
use crate::remote::SigV4Config;
use crate::values::Duration;
use crate::yaml::null_default;

/// `alerting`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertingConfig {
    #[serde(deserialize_with = "null_default")]
    pub alert_relabel_configs: Vec<RelabelConfig>,
    #[serde(deserialize_with = "null_default")]
    pub alertmanagers: Vec<AlertmanagerConfig>,
}

impl AlertingConfig {
    /// True when the section configures anything.
    pub fn is_empty(&self) -> bool {
        self.alert_relabel_configs.is_empty() && self.alertmanagers.is_empty()
    }
}

/// Alertmanager API version; only `v2` is supported by Prometheus 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertmanagerApiVersion {
    #[default]
    V2,
}

impl<'de> Deserialize<'de> for AlertmanagerApiVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == "v2" {
            Ok(AlertmanagerApiVersion::V2)
        } else {
            Err(serde::de::Error::custom(format!(
                "expected Alertmanager api version to be one of [v2] but got {s}"
            )))
        }
    }
}

/// One entry of `alertmanagers`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawAlertmanagerConfig")]
pub struct AlertmanagerConfig {
    pub service_discovery: ServiceDiscovery,
    pub http_client: HttpClientConfig,
    pub sigv4: Option<SigV4Config>,
    /// Default `http`.
    pub scheme: String,
    pub path_prefix: String,
    /// Default 10s.
    pub timeout: Duration,
    pub api_version: AlertmanagerApiVersion,
    pub relabel_configs: Vec<RelabelConfig>,
    pub alert_relabel_configs: Vec<RelabelConfig>,
}

with_sd_fields! {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawAlertmanagerConfig {
        #[serde(default)]
        sigv4: Option<SigV4Config>,
        #[serde(default)]
        scheme: Option<String>,
        #[serde(default)]
        path_prefix: Option<String>,
        #[serde(default)]
        timeout: Option<Duration>,
        #[serde(default)]
        api_version: Option<AlertmanagerApiVersion>,
        #[serde(default, deserialize_with = "null_default")]
        relabel_configs: Vec<RelabelConfig>,
        #[serde(default, deserialize_with = "null_default")]
        alert_relabel_configs: Vec<RelabelConfig>,
    }
}

impl TryFrom<RawAlertmanagerConfig> for AlertmanagerConfig {
    type Error = String;

    fn try_from(mut r: RawAlertmanagerConfig) -> Result<Self, String> {
        let http_client = r.take_http_client(HttpDefaults::STANDARD)?;
        let auth = http_client.basic_auth.is_some()
            || http_client.authorization.is_some()
            || http_client.oauth2.is_some();
        if auth && r.sigv4.is_some() {
            return Err(
                "at most one of basic_auth, authorization, oauth2, & sigv4 must be configured"
                    .into(),
            );
        }
        let service_discovery = r.take_service_discovery();
        if r.relabel_configs.is_empty() {
            service_discovery.check_static_targets()?;
        }
        Ok(AlertmanagerConfig {
            service_discovery,
            http_client,
            sigv4: r.sigv4,
            scheme: r.scheme.unwrap_or_else(|| "http".into()),
            path_prefix: r.path_prefix.unwrap_or_default(),
            timeout: r.timeout.unwrap_or(Duration::from_secs(10)),
            api_version: r.api_version.unwrap_or_default(),
            relabel_configs: r.relabel_configs,
            alert_relabel_configs: r.alert_relabel_configs,
        })
    }
}
