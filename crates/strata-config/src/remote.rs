//! `remote_write` and `remote_read`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use strata_relabel::RelabelConfig;

use crate::http::{HttpClientConfig, HttpDefaults, with_http_client_fields};
use crate::values::{Duration, HttpUrl};
use crate::yaml::null_default;

/// The protobuf message a remote write endpoint receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProtobufMessage {
    /// Remote write 1.0 (`prometheus.WriteRequest`), the default.
    #[default]
    WriteV1,
    /// Remote write 2.0 (`io.prometheus.write.v2.Request`).
    WriteV2,
}

impl ProtobufMessage {
    pub fn as_str(self) -> &'static str {
        match self {
            ProtobufMessage::WriteV1 => "prometheus.WriteRequest",
            ProtobufMessage::WriteV2 => "io.prometheus.write.v2.Request",
        }
    }
}

impl<'de> Deserialize<'de> for ProtobufMessage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "prometheus.WriteRequest" => Ok(ProtobufMessage::WriteV1),
            "io.prometheus.write.v2.Request" => Ok(ProtobufMessage::WriteV2),
            _ => Err(serde::de::Error::custom(format!(
                "invalid protobuf_message value: unknown type for remote write protobuf message {s}, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request"
            ))),
        }
    }
}

/// `queue_config`, with Prometheus' defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// Samples buffered per shard (default 10000).
    pub capacity: i64,
    /// Default 50.
    pub max_shards: i64,
    /// Default 1.
    pub min_shards: i64,
    /// Default 2000.
    pub max_samples_per_send: i64,
    /// Default 5s.
    pub batch_send_deadline: Duration,
    /// Default 30ms.
    pub min_backoff: Duration,
    /// Default 5s.
    pub max_backoff: Duration,
    /// Default false, as in Prometheus 3.
    pub retry_on_http_429: bool,
    /// 0 (default) sends samples of any age.
    pub sample_age_limit: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            capacity: 10_000,
            max_shards: 50,
            min_shards: 1,
            max_samples_per_send: 2000,
            batch_send_deadline: Duration::from_secs(5),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            retry_on_http_429: false,
            sample_age_limit: Duration::ZERO,
        }
    }
}

impl QueueConfig {
    fn validate(&self) -> Result<(), String> {
        if self.max_shards <= 0 {
            return Err("remote write queue max_shards must be positive".into());
        }
        if self.min_shards <= 0 {
            return Err("remote write queue min_shards must be positive".into());
        }
        if self.min_shards > self.max_shards {
            return Err("remote write queue min_shards must not be greater than max_shards".into());
        }
        if self.max_samples_per_send <= 0 {
            return Err("remote write queue max_samples_per_send must be positive".into());
        }
        if self.capacity <= 0 {
            return Err("remote write queue capacity must be positive".into());
        }
        if self.max_backoff < self.min_backoff {
            return Err("remote write queue max_backoff must not be less than min_backoff".into());
        }
        Ok(())
    }
}

/// `metadata_config`, with Prometheus' defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataConfig {
    /// Default true.
    pub send: bool,
    /// Default 1m.
    pub send_interval: Duration,
    /// Default 2000.
    pub max_samples_per_send: i64,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            send: true,
            send_interval: Duration::from_secs(60),
            max_samples_per_send: 2000,
        }
    }
}

/// `sigv4` (parsed; not supported by the agent).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigV4Config {
    pub region: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<crate::values::Secret>,
    pub profile: Option<String>,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub use_fips_sts_endpoint: Option<bool>,
    pub service_name: Option<String>,
}

/// Reserved header names (lower case) that `headers` must not set.
const RESERVED: &[&str] = &[
    "host",
    "content-encoding",
    "content-length",
    "content-type",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "www-authenticate",
    "accept-encoding",
    "x-prometheus-remote-write-version",
    "x-prometheus-remote-read-version",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

fn validate_headers(headers: &BTreeMap<String, String>) -> Result<(), String> {
    for h in headers.keys() {
        let lower = h.to_lowercase();
        if lower == "authorization" {
            return Err("authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter".into());
        }
        if RESERVED.contains(&lower.as_str()) {
            return Err(format!("{h} is a reserved header. It must not be changed"));
        }
    }
    Ok(())
}

/// A `remote_write` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawRemoteWriteConfig")]
pub struct RemoteWriteConfig {
    pub url: HttpUrl,
    /// Default 30s.
    pub remote_timeout: Duration,
    pub headers: BTreeMap<String, String>,
    pub write_relabel_configs: Vec<RelabelConfig>,
    /// Empty when not set (Prometheus then names the queue by a hash of the config).
    pub name: String,
    pub send_exemplars: bool,
    pub send_native_histograms: bool,
    pub round_robin_dns: bool,
    pub protobuf_message: ProtobufMessage,
    pub failed_request_logging: bool,
    /// Defaults: follow redirects, no HTTP/2.
    pub http_client: HttpClientConfig,
    pub queue_config: QueueConfig,
    pub metadata_config: MetadataConfig,
    pub sigv4: Option<SigV4Config>,
    /// `azuread` was given (not supported; content not checked).
    pub azuread: bool,
    /// `google_iam` was given (not supported; content not checked).
    pub google_iam: bool,
}

with_http_client_fields! {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawRemoteWriteConfig {
        #[serde(default)]
        url: Option<HttpUrl>,
        #[serde(default)]
        remote_timeout: Option<Duration>,
        #[serde(default, deserialize_with = "null_default")]
        headers: BTreeMap<String, String>,
        #[serde(default, deserialize_with = "null_default")]
        write_relabel_configs: Vec<RelabelConfig>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        send_exemplars: Option<bool>,
        #[serde(default)]
        send_native_histograms: Option<bool>,
        #[serde(default)]
        round_robin_dns: Option<bool>,
        #[serde(default)]
        protobuf_message: Option<ProtobufMessage>,
        #[serde(default)]
        failed_request_logging: Option<bool>,
        #[serde(default, deserialize_with = "null_default")]
        queue_config: QueueConfig,
        #[serde(default, deserialize_with = "null_default")]
        metadata_config: MetadataConfig,
        #[serde(default)]
        sigv4: Option<SigV4Config>,
        #[serde(default)]
        azuread: Option<serde::de::IgnoredAny>,
        #[serde(default)]
        google_iam: Option<serde::de::IgnoredAny>,
    }
}

impl TryFrom<RawRemoteWriteConfig> for RemoteWriteConfig {
    type Error = String;

    fn try_from(mut r: RawRemoteWriteConfig) -> Result<Self, String> {
        let url = r.url.take().ok_or("url for remote_write is empty")?;
        validate_headers(&r.headers)?;
        let http_client = r.take_http_client(HttpDefaults::REMOTE_WRITE)?;
        r.queue_config.validate()?;
        let mut auth = Vec::new();
        if http_client.basic_auth.is_some() {
            auth.push("basic_auth");
        }
        if http_client.authorization.is_some() {
            auth.push("authorization");
        }
        if http_client.oauth2.is_some() {
            auth.push("oauth2");
        }
        if r.sigv4.is_some() {
            auth.push("sigv4");
        }
        if r.azuread.is_some() {
            auth.push("azuread");
        }
        if r.google_iam.is_some() {
            auth.push("google_iam");
        }
        if auth.len() > 1 {
            return Err(format!(
                "at most one of basic_auth, authorization, oauth2, sigv4, azuread or google_iam must be configured. Currently configured: [{}]",
                auth.join(" ")
            ));
        }
        Ok(RemoteWriteConfig {
            url,
            remote_timeout: r.remote_timeout.unwrap_or(Duration::from_secs(30)),
            headers: r.headers,
            write_relabel_configs: r.write_relabel_configs,
            name: r.name.unwrap_or_default(),
            send_exemplars: r.send_exemplars.unwrap_or(false),
            send_native_histograms: r.send_native_histograms.unwrap_or(false),
            round_robin_dns: r.round_robin_dns.unwrap_or(false),
            protobuf_message: r.protobuf_message.unwrap_or_default(),
            failed_request_logging: r.failed_request_logging.unwrap_or(false),
            http_client,
            queue_config: r.queue_config,
            metadata_config: r.metadata_config,
            sigv4: r.sigv4,
            azuread: r.azuread.is_some(),
            google_iam: r.google_iam.is_some(),
        })
    }
}

/// A `remote_read` entry (parsed; Prometheus' agent mode rejects it).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawRemoteReadConfig")]
pub struct RemoteReadConfig {
    pub url: HttpUrl,
    /// Default 1m.
    pub remote_timeout: Duration,
    /// Default 50e6.
    pub chunked_read_limit: u64,
    pub headers: BTreeMap<String, String>,
    pub read_recent: bool,
    pub name: String,
    pub http_client: HttpClientConfig,
    pub required_matchers: BTreeMap<String, String>,
    /// Default true.
    pub filter_external_labels: bool,
}

with_http_client_fields! {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawRemoteReadConfig {
        #[serde(default)]
        url: Option<HttpUrl>,
        #[serde(default)]
        remote_timeout: Option<Duration>,
        #[serde(default)]
        chunked_read_limit: Option<u64>,
        #[serde(default, deserialize_with = "null_default")]
        headers: BTreeMap<String, String>,
        #[serde(default)]
        read_recent: Option<bool>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default, deserialize_with = "null_default")]
        required_matchers: BTreeMap<String, String>,
        #[serde(default)]
        filter_external_labels: Option<bool>,
    }
}

impl TryFrom<RawRemoteReadConfig> for RemoteReadConfig {
    type Error = String;

    fn try_from(mut r: RawRemoteReadConfig) -> Result<Self, String> {
        let url = r.url.take().ok_or("url for remote_read is empty")?;
        validate_headers(&r.headers)?;
        let http_client = r.take_http_client(HttpDefaults::STANDARD)?;
        Ok(RemoteReadConfig {
            url,
            remote_timeout: r.remote_timeout.unwrap_or(Duration::from_secs(60)),
            chunked_read_limit: r
                .chunked_read_limit
                .filter(|n| *n != 0)
                .unwrap_or(50_000_000),
            headers: r.headers,
            read_recent: r.read_recent.unwrap_or(false),
            name: r.name.unwrap_or_default(),
            http_client,
            required_matchers: r.required_matchers,
            filter_external_labels: r.filter_external_labels.unwrap_or(true),
        })
    }
}
