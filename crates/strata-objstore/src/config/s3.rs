//! `type: S3` (Thanos' `providers/s3`), for AWS S3, MinIO and other S3-compatible stores.
//!
//! - `endpoint` is `host[:port]` (a `http://` or `https://` URL is accepted too);
//!   `insecure: true` means plain HTTP.
//! - Addressing: `bucket_lookup_type` `path`, `virtual-hosted`, or `auto` (the default:
//!   virtual-hosted for `*.amazonaws.com` endpoints and bucket names without dots, path
//!   style otherwise, which is what MinIO needs).
//! - Credentials, in Thanos' order: `access_key`/`secret_key`/`session_token` from the
//!   config; otherwise (also with `aws_sdk_auth`) `AWS_ACCESS_KEY_ID` (or
//!   `AWS_ACCESS_KEY`) + `AWS_SECRET_ACCESS_KEY` (or `AWS_SECRET_KEY`) +
//!   `AWS_SESSION_TOKEN`; then the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`
//!   or `~/.aws/credentials`, profile `AWS_PROFILE` or `default`); then IAM (web
//!   identity from `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`, ECS task role, or the
//!   instance metadata service).
//! - `sse_config`: `SSE-S3`, `SSE-KMS` (without `kms_encryption_context`), `SSE-C`.
//! - Rejected when set: `signature_version2` (object_store signs with SigV4 only),
//!   `list_objects_version: v1`.
//! - Accepted and ignored: `disable_dualstack`, `put_user_metadata`, `trace`,
//!   `send_content_md5`.

use std::collections::BTreeMap;

use base64::Engine;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use serde::Deserialize;
use tracing::warn;

use super::{HttpConfig, retry_config};
use crate::bucket::{Bucket, DEFAULT_PART_SIZE};
use crate::error::{Error, Result};

/// How bucket names are put into request URLs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum BucketLookupType {
    #[default]
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "virtual-hosted")]
    VirtualHosted,
    #[serde(rename = "path")]
    Path,
}

/// `sse_config`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SseConfig {
    #[serde(rename = "type")]
    pub kind: String,
    pub kms_key_id: String,
    pub kms_encryption_context: BTreeMap<String, String>,
    /// Path of a file holding the 32-byte SSE-C key.
    pub encryption_key: String,
}

/// `trace`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TraceConfig {
    pub enable: bool,
}

/// The `config` section of `type: S3`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    pub bucket: String,
    pub endpoint: String,
    pub region: String,
    pub disable_dualstack: bool,
    pub aws_sdk_auth: bool,
    pub access_key: String,
    pub insecure: bool,
    pub signature_version2: bool,
    pub secret_key: String,
    pub session_token: String,
    pub put_user_metadata: BTreeMap<String, String>,
    pub http_config: HttpConfig,
    pub trace: TraceConfig,
    pub list_objects_version: String,
    pub bucket_lookup_type: BucketLookupType,
    pub send_content_md5: bool,
    pub disable_multipart: bool,
    pub part_size: u64,
    pub sse_config: SseConfig,
    pub sts_endpoint: String,
    pub max_retries: i64,
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            bucket: String::new(),
            endpoint: String::new(),
            region: String::new(),
            disable_dualstack: false,
            aws_sdk_auth: false,
            access_key: String::new(),
            insecure: false,
            signature_version2: false,
            secret_key: String::new(),
            session_token: String::new(),
            put_user_metadata: BTreeMap::new(),
            http_config: HttpConfig::default(),
            trace: TraceConfig::default(),
            list_objects_version: String::new(),
            bucket_lookup_type: BucketLookupType::Auto,
            send_content_md5: true,
            disable_multipart: false,
            part_size: DEFAULT_PART_SIZE as u64,
            sse_config: SseConfig::default(),
            sts_endpoint: String::new(),
            max_retries: 0,
        }
    }
}

/// Static credentials found in the config, the environment or the credentials file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StaticCredentials {
    pub key: String,
    pub secret: String,
    pub token: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.is_empty())
}

/// Thanos' credential chain up to (not including) IAM. `env` looks up environment
/// variables; `None` means "use IAM". `aws_sdk_auth` (the AWS SDK's chain: environment,
/// shared file, IAM) takes the same path, as the config then has no keys.
pub(crate) fn static_credentials(
    c: &S3Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<StaticCredentials>> {
    if !c.access_key.is_empty() {
        return Ok(Some(StaticCredentials {
            key: c.access_key.clone(),
            secret: c.secret_key.clone(),
            token: non_empty(Some(c.session_token.clone())),
        }));
    }
    let key = non_empty(env("AWS_ACCESS_KEY_ID")).or_else(|| non_empty(env("AWS_ACCESS_KEY")));
    let secret =
        non_empty(env("AWS_SECRET_ACCESS_KEY")).or_else(|| non_empty(env("AWS_SECRET_KEY")));
    if let (Some(key), Some(secret)) = (key, secret) {
        return Ok(Some(StaticCredentials {
            key,
            secret,
            token: non_empty(env("AWS_SESSION_TOKEN")),
        }));
    }
    let file = non_empty(env("AWS_SHARED_CREDENTIALS_FILE"))
        .or_else(|| non_empty(env("HOME")).map(|h| format!("{h}/.aws/credentials")));
    let Some(file) = file else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read AWS credentials file", &file, e)),
    };
    let profile = non_empty(env("AWS_PROFILE")).unwrap_or_else(|| "default".into());
    Ok(credentials_from_ini(&text, &profile))
}

/// The keys of `[profile]` in an AWS shared credentials file.
pub(crate) fn credentials_from_ini(text: &str, profile: &str) -> Option<StaticCredentials> {
    let mut in_profile = false;
    let (mut key, mut secret, mut token) = (None, None, None);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = section.trim() == profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim().to_owned();
        match k.trim() {
            "aws_access_key_id" => key = Some(v),
            "aws_secret_access_key" => secret = Some(v),
            "aws_session_token" => token = Some(v),
            _ => {}
        }
    }
    Some(StaticCredentials {
        key: non_empty(key)?,
        secret: non_empty(secret)?,
        token: non_empty(token),
    })
}

impl S3Config {
    fn validate(&self) -> Result<()> {
        let err = |m: &str| Err(Error::Config(format!("S3: {m}")));
        if self.bucket.is_empty() {
            return err("no bucket in config");
        }
        if self.endpoint.is_empty() {
            return err("no s3 endpoint in config file");
        }
        if self.aws_sdk_auth && !self.access_key.is_empty() {
            return err("aws_sdk_auth and access_key are mutually exclusive configurations");
        }
        if self.access_key.is_empty() && !self.secret_key.is_empty() {
            return err(
                "no s3 access_key specified while secret_key is present in config file; either both should be present in config or envvars/IAM should be used",
            );
        }
        if !self.access_key.is_empty() && self.secret_key.is_empty() {
            return err(
                "no s3 secret_key specified while access_key is present in config file; either both should be present in config or envvars/IAM should be used",
            );
        }
        if self.signature_version2 {
            return err("signature_version2 is not supported: requests are signed with SigV4");
        }
        match self.list_objects_version.as_str() {
            "" | "v2" => {}
            "v1" => return err("list_objects_version v1 is not supported: ListObjectsV2 is used"),
            v => {
                return err(&format!(
                    "unsupported list_objects_version {v:?}; supported values are v1, v2"
                ));
            }
        }
        Ok(())
    }

    /// The endpoint as a URL and whether it is plain HTTP.
    pub(crate) fn endpoint_url(&self) -> (String, bool) {
        let e = self.endpoint.trim_end_matches('/');
        if let Some(rest) = e.strip_prefix("http://") {
            (format!("http://{rest}"), true)
        } else if e.starts_with("https://") {
            (e.to_owned(), false)
        } else if self.insecure {
            (format!("http://{e}"), true)
        } else {
            (format!("https://{e}"), false)
        }
    }

    pub(crate) fn virtual_hosted(&self) -> bool {
        match self.bucket_lookup_type {
            BucketLookupType::Path => false,
            BucketLookupType::VirtualHosted => true,
            BucketLookupType::Auto => {
                let (url, _) = self.endpoint_url();
                let host = url.split("://").nth(1).unwrap_or_default();
                let host = host.split([':', '/']).next().unwrap_or_default();
                (host.ends_with(".amazonaws.com") || host == "amazonaws.com")
                    && !self.bucket.contains('.')
            }
        }
    }

    /// Builds the bucket (no request is sent).
    pub fn build(&self) -> Result<Bucket> {
        self.build_with_env(&|k| std::env::var(k).ok())
    }

    pub(crate) fn build_with_env(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Bucket> {
        self.validate()?;
        let (url, http) = self.endpoint_url();
        let virtual_hosted = self.virtual_hosted();
        let endpoint = if virtual_hosted {
            let (scheme, host) = url.split_once("://").unwrap_or(("https", &url));
            format!("{scheme}://{}.{host}", self.bucket)
        } else {
            url
        };
        let region = if self.region.is_empty() {
            "us-east-1"
        } else {
            &self.region
        };
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&self.bucket)
            .with_endpoint(endpoint)
            .with_region(region)
            .with_virtual_hosted_style_request(virtual_hosted)
            .with_client_options(self.http_config.client_options("S3")?.with_allow_http(http));
        if let Some(r) = retry_config(self.max_retries) {
            b = b.with_retry(r);
        }
        match static_credentials(self, env)? {
            Some(c) => {
                b = b.with_access_key_id(c.key).with_secret_access_key(c.secret);
                if let Some(t) = c.token {
                    b = b.with_token(t);
                }
            }
            None => {
                for (var, key) in [
                    (
                        "AWS_WEB_IDENTITY_TOKEN_FILE",
                        AmazonS3ConfigKey::WebIdentityTokenFile,
                    ),
                    ("AWS_ROLE_ARN", AmazonS3ConfigKey::RoleArn),
                    ("AWS_ROLE_SESSION_NAME", AmazonS3ConfigKey::RoleSessionName),
                    (
                        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                        AmazonS3ConfigKey::ContainerCredentialsRelativeUri,
                    ),
                ] {
                    if let Some(v) = non_empty(env(var)) {
                        b = b.with_config(key, v);
                    }
                }
                if !self.sts_endpoint.is_empty() {
                    b = b.with_config(AmazonS3ConfigKey::StsEndpoint, &self.sts_endpoint);
                }
            }
        }
        b = self.with_sse(b)?;
        self.warn_ignored();
        let store = b
            .build()
            .map_err(|e| Error::Config(format!("S3: create client: {e}")))?;
        let part_size = if self.part_size == 0 {
            DEFAULT_PART_SIZE
        } else {
            usize::try_from(self.part_size).unwrap_or(DEFAULT_PART_SIZE)
        };
        Ok(
            Bucket::new(std::sync::Arc::new(store), format!("s3://{}", self.bucket))
                .with_part_size(part_size)
                .with_multipart(!self.disable_multipart),
        )
    }

    fn with_sse(&self, b: AmazonS3Builder) -> Result<AmazonS3Builder> {
        let sse = &self.sse_config;
        let err = |m: String| Err(Error::Config(format!("S3: sse_config: {m}")));
        match sse.kind.as_str() {
            "" => Ok(b),
            "SSE-S3" => {
                let key: AmazonS3ConfigKey = "aws_server_side_encryption"
                    .parse()
                    .map_err(|e| Error::Config(format!("S3: sse_config: {e}")))?;
                Ok(b.with_config(key, "AES256"))
            }
            "SSE-KMS" => {
                if sse.kms_key_id.is_empty() {
                    return err(
                        "kms_key_id must be set if sse_config.type is set to 'SSE-KMS'".into(),
                    );
                }
                if !sse.kms_encryption_context.is_empty() {
                    return err("kms_encryption_context is not supported".into());
                }
                Ok(b.with_sse_kms_encryption(&sse.kms_key_id))
            }
            "SSE-C" => {
                if sse.encryption_key.is_empty() {
                    return err(
                        "encryption_key must be set if sse_config.type is set to 'SSE-C'".into(),
                    );
                }
                let key = std::fs::read(&sse.encryption_key).map_err(|e| {
                    Error::io("read sse_config.encryption_key", &sse.encryption_key, e)
                })?;
                if key.len() != 32 {
                    return err(format!(
                        "encryption_key {} holds {} bytes, want 32",
                        sse.encryption_key,
                        key.len()
                    ));
                }
                Ok(b.with_ssec_encryption(base64::engine::general_purpose::STANDARD.encode(key)))
            }
            t => err(format!(
                "unsupported type {t:?} was provided. Supported types are SSE-S3, SSE-KMS, SSE-C"
            )),
        }
    }

    fn warn_ignored(&self) {
        let mut ignored = Vec::new();
        if self.disable_dualstack {
            ignored.push("disable_dualstack");
        }
        if !self.put_user_metadata.is_empty() {
            ignored.push("put_user_metadata");
        }
        if self.trace.enable {
            ignored.push("trace");
        }
        if !self.send_content_md5 {
            ignored.push("send_content_md5");
        }
        if !ignored.is_empty() {
            warn!(bucket = %self.bucket, fields = ?ignored, "S3 bucket config fields are not supported and ignored");
        }
    }
}
