//! `http_config` (Thanos' `exthttp.HTTPConfig`), shared by S3, GCS and Azure, mapped onto
//! object_store's [`ClientOptions`].
//!
//! Honoured: `idle_conn_timeout` (pool idle timeout), `response_header_timeout` (the
//! client's per-request timeout), `max_idle_conns_per_host`, `insecure_skip_verify` (here
//! or in `tls_config`), `tls_config.ca_file`. Rejected when set: `tls_config.cert_file`,
//! `key_file`, `server_name` (no client certificates in object_store). Accepted and
//! ignored: `tls_handshake_timeout`, `expect_continue_timeout`, `max_idle_conns`,
//! `max_conns_per_host`, `disable_compression`.

use serde::Deserialize;

use object_store::{Certificate, ClientOptions};

use super::YamlDuration;
use crate::error::{Error, Result};

/// Thanos' `http_config`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub idle_conn_timeout: Option<YamlDuration>,
    pub response_header_timeout: Option<YamlDuration>,
    pub insecure_skip_verify: bool,
    pub tls_handshake_timeout: Option<YamlDuration>,
    pub expect_continue_timeout: Option<YamlDuration>,
    pub max_idle_conns: i64,
    pub max_idle_conns_per_host: i64,
    pub max_conns_per_host: i64,
    pub tls_config: TlsConfig,
    pub disable_compression: bool,
}

/// Thanos' `tls_config`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    pub ca_file: String,
    pub cert_file: String,
    pub key_file: String,
    pub server_name: String,
    pub insecure_skip_verify: bool,
}

/// Thanos' defaults (`exthttp.DefaultHTTPConfig`).
const DEFAULT_IDLE_CONN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(90);
const DEFAULT_RESPONSE_HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

impl HttpConfig {
    /// Client options for `provider` (used in errors).
    pub fn client_options(&self, provider: &str) -> Result<ClientOptions> {
        let unsupported = |field: &str| {
            Error::Config(format!(
                "{provider}: http_config.tls_config.{field} is not supported (object_store has no client certificates or SNI override)"
            ))
        };
        let tls = &self.tls_config;
        if !tls.cert_file.is_empty() {
            return Err(unsupported("cert_file"));
        }
        if !tls.key_file.is_empty() {
            return Err(unsupported("key_file"));
        }
        if !tls.server_name.is_empty() {
            return Err(unsupported("server_name"));
        }
        let mut o = ClientOptions::new()
            .with_pool_idle_timeout(
                self.idle_conn_timeout
                    .map_or(DEFAULT_IDLE_CONN_TIMEOUT, |d| d.0),
            )
            .with_timeout(
                self.response_header_timeout
                    .map_or(DEFAULT_RESPONSE_HEADER_TIMEOUT, |d| d.0),
            );
        if self.max_idle_conns_per_host > 0 {
            o = o.with_pool_max_idle_per_host(
                usize::try_from(self.max_idle_conns_per_host).unwrap_or(usize::MAX),
            );
        }
        if self.insecure_skip_verify || tls.insecure_skip_verify {
            o = o.with_allow_invalid_certificates(true);
        }
        if !tls.ca_file.is_empty() {
            let pem = std::fs::read(&tls.ca_file)
                .map_err(|e| Error::io("read http_config.tls_config.ca_file", &tls.ca_file, e))?;
            let certs = Certificate::from_pem_bundle(&pem).map_err(|e| {
                Error::Config(format!(
                    "{provider}: http_config.tls_config.ca_file {}: {e}",
                    tls.ca_file
                ))
            })?;
            for c in certs {
                o = o.with_root_certificate(c);
            }
        }
        Ok(o)
    }
}
