//! Thanos' objstore configuration (`--objstore.config`):
//!
//! ```yaml
//! type: S3            # S3 | GCS | AZURE | FILESYSTEM (case-insensitive); MEMORY for tests
//! config:
//!   bucket: thanos
//!   endpoint: minio:9000
//!   insecure: true
//! prefix: tenant-a    # optional: every object name is relative to it
//! ```
//!
//! Field names and defaults follow `thanos-io/objstore` (`client/factory.go` and each
//! provider's `Config`). As in Thanos (`yaml.UnmarshalStrict`), unknown fields are errors
//! naming the field and its line. Fields that the object_store client cannot honour are
//! either rejected when set (`signature_version2`, `use_grpc`, client certificates) or
//! accepted and ignored with a log line (tuning knobs such as `trace` or
//! `send_content_md5`); each provider module says which.

mod azure;
mod gcs;
mod http;
mod s3;

use std::path::PathBuf;

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

pub use azure::AzureConfig;
pub use gcs::GcsConfig;
pub use http::{HttpConfig, TlsConfig};
pub use s3::{BucketLookupType, S3Config, SseConfig};

use crate::bucket::Bucket;
use crate::error::{Error, Result};

/// A parsed bucket configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct BucketConfig {
    pub provider: Provider,
    /// Prefix of every object name ("" for none).
    pub prefix: String,
}

/// The provider and its `config` section.
#[derive(Debug, Clone, PartialEq)]
pub enum Provider {
    S3(S3Config),
    Gcs(GcsConfig),
    Azure(AzureConfig),
    Filesystem(FilesystemConfig),
    /// Not in Thanos: an empty in-memory bucket (tests, `strata up` demos).
    Memory,
}

/// `type: FILESYSTEM`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesystemConfig {
    pub directory: String,
}

/// First pass: the provider type only.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    #[allow(dead_code)]
    config: Option<IgnoredAny>,
    #[serde(default)]
    #[allow(dead_code)]
    prefix: Option<IgnoredAny>,
}

/// Second pass: the document with the provider's typed `config`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Typed<C> {
    #[serde(rename = "type")]
    #[allow(dead_code)]
    kind: String,
    #[serde(default = "Option::default")]
    config: Option<C>,
    #[serde(default)]
    prefix: String,
}

/// Provider types Thanos knows but we do not implement.
const THANOS_ONLY: &[&str] = &["SWIFT", "COS", "ALIYUNOSS", "BOS", "OCI", "OBS"];

fn yaml_err(e: serde_saphyr::Error) -> Error {
    Error::Config(e.to_string())
}

/// Parses without quoting the input in errors: the configuration may hold secrets.
fn parse<T: DeserializeOwned>(yaml: &str) -> Result<T> {
    let mut opts = serde_saphyr::Options::default();
    opts.with_snippet = false;
    serde_saphyr::from_str_with_options(yaml, opts).map_err(yaml_err)
}

fn typed<C: DeserializeOwned + Default>(yaml: &str) -> Result<(C, String)> {
    let t: Typed<C> = parse(yaml)?;
    Ok((t.config.unwrap_or_default(), t.prefix))
}

impl BucketConfig {
    /// Parses the YAML. Unknown fields, at the top or in `config`, are errors.
    pub fn from_yaml(yaml: &str) -> Result<BucketConfig> {
        let head: Head = parse(yaml)?;
        let kind = head.kind.trim().to_ascii_uppercase();
        let (provider, prefix) = match kind.as_str() {
            "S3" => typed::<S3Config>(yaml).map(|(c, p)| (Provider::S3(c), p))?,
            "GCS" => typed::<GcsConfig>(yaml).map(|(c, p)| (Provider::Gcs(c), p))?,
            "AZURE" => typed::<AzureConfig>(yaml).map(|(c, p)| (Provider::Azure(c), p))?,
            "FILESYSTEM" => {
                typed::<FilesystemConfig>(yaml).map(|(c, p)| (Provider::Filesystem(c), p))?
            }
            "MEMORY" | "IN-MEMORY" => {
                typed::<EmptyConfig>(yaml).map(|(_, p)| (Provider::Memory, p))?
            }
            k if THANOS_ONLY.contains(&k) => {
                return Err(Error::Config(format!(
                    "bucket type {} is not supported (supported: S3, GCS, AZURE, FILESYSTEM, MEMORY)",
                    head.kind
                )));
            }
            _ => {
                return Err(Error::Config(format!(
                    "bucket with type {:?} is not supported (supported: S3, GCS, AZURE, FILESYSTEM, MEMORY)",
                    head.kind
                )));
            }
        };
        Ok(BucketConfig { provider, prefix })
    }

    /// Builds the bucket. No request is sent: a wrong endpoint or credential shows on
    /// first use.
    pub fn build(&self) -> Result<Bucket> {
        let bucket = match &self.provider {
            Provider::S3(c) => c.build()?,
            Provider::Gcs(c) => c.build()?,
            Provider::Azure(c) => c.build()?,
            Provider::Filesystem(c) => {
                if c.directory.is_empty() {
                    return Err(Error::Config(
                        "FILESYSTEM: missing directory for filesystem bucket".into(),
                    ));
                }
                Bucket::filesystem(&PathBuf::from(&c.directory))?
            }
            Provider::Memory => Bucket::in_memory(),
        };
        bucket.with_prefix(&self.prefix)
    }
}

/// `config` of a provider without fields.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyConfig {}

/// A Prometheus duration in YAML (`90s`, `2m`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YamlDuration(pub std::time::Duration);

impl<'de> Deserialize<'de> for YamlDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ms = strata_model::duration::parse_duration_ms(&s).map_err(serde::de::Error::custom)?;
        let ms = u64::try_from(ms)
            .map_err(|_| serde::de::Error::custom(format!("negative duration {s:?}")))?;
        Ok(YamlDuration(std::time::Duration::from_millis(ms)))
    }
}

/// Retry settings from a Thanos `max_retries` (0 keeps the client's default).
pub(crate) fn retry_config(max_retries: i64) -> Option<object_store::RetryConfig> {
    (max_retries > 0).then(|| object_store::RetryConfig {
        max_retries: usize::try_from(max_retries).unwrap_or(usize::MAX),
        ..object_store::RetryConfig::default()
    })
}

#[cfg(test)]
mod tests;
