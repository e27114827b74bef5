//! `tls_config` (Prometheus common `config.TLSConfig`).

use serde::{Deserialize, Deserializer};

use crate::values::Secret;

/// TLS protocol versions accepted by `min_version`/`max_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "TLS10" => Ok(TlsVersion::Tls10),
            "TLS11" => Ok(TlsVersion::Tls11),
            "TLS12" => Ok(TlsVersion::Tls12),
            "TLS13" => Ok(TlsVersion::Tls13),
            _ => Err(serde::de::Error::custom(format!(
                "unknown TLS version: {s}"
            ))),
        }
    }
}

/// TLS settings of an HTTP client. Paths are as written (relative to the config file's
/// directory; see [`crate::Config::base_dir`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// CA certificate text.
    pub ca: Option<String>,
    /// Client certificate text.
    pub cert: Option<String>,
    /// Client key text.
    pub key: Option<Secret>,
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    /// Secret-manager references (parsed, not resolved).
    pub ca_ref: Option<String>,
    pub cert_ref: Option<String>,
    pub key_ref: Option<String>,
    pub server_name: Option<String>,
    #[serde(deserialize_with = "crate::yaml::null_default")]
    pub insecure_skip_verify: bool,
    pub min_version: Option<TlsVersion>,
    pub max_version: Option<TlsVersion>,
}

fn set(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.is_empty())
}

fn count(flags: &[bool]) -> usize {
    flags.iter().filter(|f| **f).count()
}

impl TlsConfig {
    fn using_client_cert(&self) -> bool {
        set(&self.cert) || set(&self.cert_file) || set(&self.cert_ref)
    }

    fn using_client_key(&self) -> bool {
        self.key.as_ref().is_some_and(|k| !k.is_empty())
            || set(&self.key_file)
            || set(&self.key_ref)
    }

    /// Prometheus' checks: one source per item, and a client certificate needs its key.
    pub fn validate(&self) -> Result<(), String> {
        if count(&[set(&self.ca), set(&self.ca_file), set(&self.ca_ref)]) > 1 {
            return Err("at most one of ca, ca_file & ca_ref must be configured".into());
        }
        if count(&[set(&self.cert), set(&self.cert_file), set(&self.cert_ref)]) > 1 {
            return Err("at most one of cert, cert_file & cert_ref must be configured".into());
        }
        let key_inline = self.key.as_ref().is_some_and(|k| !k.is_empty());
        if count(&[key_inline, set(&self.key_file), set(&self.key_ref)]) > 1 {
            return Err("at most one of key and key_file must be configured".into());
        }
        if self.using_client_cert() && !self.using_client_key() {
            return Err(
                "exactly one of key or key_file must be configured when a client certificate is configured"
                    .into(),
            );
        }
        if self.using_client_key() && !self.using_client_cert() {
            return Err(
                "exactly one of cert or cert_file must be configured when a client key is configured"
                    .into(),
            );
        }
        Ok(())
    }
}
