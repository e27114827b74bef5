//! The `tracing` section (parsed; the agent exports no traces yet).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::http::TlsConfig;
use crate::values::Duration;
use crate::yaml::null_default;

/// `tracing`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TracingConfig {
    /// `grpc` (default) or `http`.
    pub client_type: Option<String>,
    pub endpoint: String,
    pub sampling_fraction: f64,
    #[serde(deserialize_with = "null_default")]
    pub insecure: bool,
    #[serde(deserialize_with = "null_default")]
    pub tls_config: TlsConfig,
    #[serde(deserialize_with = "null_default")]
    pub headers: BTreeMap<String, String>,
    /// Empty or `gzip`.
    pub compression: String,
    pub timeout: Duration,
}

impl TracingConfig {
    /// Prometheus validates the section only when it is present.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if let Some(t) = self.client_type.as_deref()
            && t != "grpc"
            && t != "http"
        {
            return Err(format!(
                "expected tracing client type to be to be http or grpc, but got {t}"
            ));
        }
        for h in self.headers.keys() {
            if h.eq_ignore_ascii_case("authorization") {
                return Err(
                    "custom authorization header configuration is not yet supported".into(),
                );
            }
        }
        if self.endpoint.is_empty() {
            return Err("tracing endpoint must be set".into());
        }
        if !self.compression.is_empty() && self.compression != "gzip" {
            return Err(format!(
                "invalid compression type {} provided, valid options: gzip",
                self.compression
            ));
        }
        self.tls_config.validate()
    }
}
