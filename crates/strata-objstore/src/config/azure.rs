//! `type: AZURE` (Thanos' `providers/azure`).
//!
//! The blob endpoint is `https://<storage_account>.<endpoint>` with `endpoint` defaulting
//! to `blob.core.windows.net`. Credentials: `storage_account_key`; or
//! `storage_connection_string` (its `AccountName`, `AccountKey`, `BlobEndpoint`,
//! `SharedAccessSignature`); or `az_tenant_id` + `client_id` + `client_secret`; or
//! `user_assigned_id` (managed identity); otherwise object_store's default chain
//! (workload identity, managed identity). `pipeline_config.max_tries` and `max_retries`
//! set retries. Accepted and ignored: `storage_create_container`, `reader_config`, the
//! rest of `pipeline_config`, `msi_resource`.

use object_store::azure::MicrosoftAzureBuilder;
use serde::Deserialize;
use tracing::warn;

use super::{HttpConfig, YamlDuration, retry_config};
use crate::bucket::Bucket;
use crate::error::{Error, Result};

/// `reader_config`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReaderConfig {
    pub max_retry_requests: i64,
}

/// `pipeline_config`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    pub max_tries: i64,
    pub try_timeout: Option<YamlDuration>,
    pub retry_delay: Option<YamlDuration>,
    pub max_retry_delay: Option<YamlDuration>,
}

/// The `config` section of `type: AZURE`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AzureConfig {
    pub az_tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub storage_account: String,
    pub storage_account_key: String,
    pub storage_connection_string: String,
    pub storage_create_container: bool,
    pub container: String,
    pub endpoint: String,
    pub user_assigned_id: String,
    pub max_retries: i64,
    pub reader_config: ReaderConfig,
    pub pipeline_config: PipelineConfig,
    pub http_config: HttpConfig,
    pub msi_resource: String,
}

/// The fields of an Azure storage connection string we use.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ConnectionString {
    pub account_name: Option<String>,
    pub account_key: Option<String>,
    pub blob_endpoint: Option<String>,
    pub sas: Option<String>,
}

pub(crate) fn parse_connection_string(s: &str) -> ConnectionString {
    let mut out = ConnectionString::default();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            continue;
        };
        let v = Some(v.to_owned());
        match k {
            "AccountName" => out.account_name = v,
            "AccountKey" => out.account_key = v,
            "BlobEndpoint" => out.blob_endpoint = v,
            "SharedAccessSignature" => out.sas = v,
            _ => {}
        }
    }
    out
}

impl AzureConfig {
    fn validate(&self) -> Result<()> {
        let mut errs = Vec::new();
        let set = |s: &str| !s.is_empty();
        if set(&self.user_assigned_id) && set(&self.storage_account_key) {
            errs.push(
                "user_assigned_id cannot be set when using storage_account_key authentication",
            );
        }
        if set(&self.user_assigned_id) && set(&self.storage_connection_string) {
            errs.push("user_assigned_id cannot be set when using storage_connection_string authentication");
        }
        if set(&self.user_assigned_id) && set(&self.client_id) {
            errs.push("user_assigned_id cannot be set when using client_id authentication");
        }
        let trio = [&self.az_tenant_id, &self.client_secret, &self.client_id];
        if trio.iter().any(|s| set(s)) && !trio.iter().all(|s| set(s)) {
            errs.push("az_tenant_id, client_id, and client_secret must be set together");
        }
        if set(&self.storage_account_key) && set(&self.storage_connection_string) {
            errs.push("storage_account_key and storage_connection_string cannot both be set");
        }
        if !set(&self.storage_account) && !set(&self.storage_connection_string) {
            errs.push("storage_account_name is required but not configured");
        }
        if !set(&self.container) {
            errs.push("no container specified");
        }
        if self.pipeline_config.max_tries < 0 {
            errs.push(
                "The value of max_tries must be greater than or equal to 0 in the config file",
            );
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(Error::Config(format!("AZURE: {}", errs.join(", "))))
        }
    }

    /// Builds the bucket (no request is sent).
    pub fn build(&self) -> Result<Bucket> {
        self.validate()?;
        let conn = parse_connection_string(&self.storage_connection_string);
        let account = if self.storage_account.is_empty() {
            conn.account_name.clone().unwrap_or_default()
        } else {
            self.storage_account.clone()
        };
        let suffix = if self.endpoint.is_empty() {
            "blob.core.windows.net"
        } else {
            self.endpoint.as_str()
        };
        let endpoint = conn
            .blob_endpoint
            .clone()
            .unwrap_or_else(|| format!("https://{account}.{suffix}"));
        let mut b = MicrosoftAzureBuilder::new()
            .with_account(&account)
            .with_container_name(&self.container)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_endpoint(endpoint)
            .with_client_options(self.http_config.client_options("AZURE")?);
        if !self.storage_account_key.is_empty() {
            b = b.with_access_key(&self.storage_account_key);
        } else if let Some(k) = conn.account_key {
            b = b.with_access_key(k);
        } else if let Some(sas) = conn.sas {
            let pairs: Vec<(String, String)> = sas
                .trim_start_matches('?')
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            b = b.with_sas_authorization(pairs);
        } else if !self.client_id.is_empty() {
            b = b.with_client_secret_authorization(
                &self.client_id,
                &self.client_secret,
                &self.az_tenant_id,
            );
        } else if !self.user_assigned_id.is_empty() {
            b = b.with_client_id(&self.user_assigned_id);
        }
        let retries = if self.max_retries > 0 {
            self.max_retries
        } else {
            self.pipeline_config.max_tries
        };
        if let Some(r) = retry_config(retries) {
            b = b.with_retry(r);
        }
        if self.storage_create_container {
            warn!(container = %self.container, "AZURE storage_create_container is not supported and ignored; create the container beforehand");
        }
        let store = b
            .build()
            .map_err(|e| Error::Config(format!("AZURE: create client: {e}")))?;
        Ok(Bucket::new(
            std::sync::Arc::new(store),
            format!("azure://{account}/{}", self.container),
        ))
    }
}
