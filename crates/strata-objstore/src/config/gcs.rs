//! `type: GCS` (Thanos' `providers/gcs`).
//!
//! Credentials: `service_account` (the JSON key itself, as in Thanos), else the file
//! named by `GOOGLE_APPLICATION_CREDENTIALS`, else object_store's default (gcloud's
//! application-default credentials, then the metadata server). `use_grpc: true` is
//! rejected; `grpc_conn_pool_size` and `chunk_size_bytes` are accepted and ignored.

use object_store::gcp::GoogleCloudStorageBuilder;
use serde::Deserialize;

use super::{HttpConfig, retry_config};
use crate::bucket::Bucket;
use crate::error::{Error, Result};

/// The `config` section of `type: GCS`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GcsConfig {
    pub bucket: String,
    pub service_account: String,
    pub use_grpc: bool,
    pub grpc_conn_pool_size: i64,
    pub http_config: HttpConfig,
    pub chunk_size_bytes: i64,
    pub max_retries: i64,
}

impl GcsConfig {
    /// Builds the bucket (no request is sent).
    pub fn build(&self) -> Result<Bucket> {
        if self.bucket.is_empty() {
            return Err(Error::Config(
                "GCS: missing Google Cloud Storage bucket name for stored blocks".into(),
            ));
        }
        if self.use_grpc {
            return Err(Error::Config(
                "GCS: use_grpc is not supported: the JSON API is used".into(),
            ));
        }
        let mut b = GoogleCloudStorageBuilder::new()
            .with_bucket_name(&self.bucket)
            .with_client_options(self.http_config.client_options("GCS")?);
        if !self.service_account.is_empty() {
            b = b.with_service_account_key(&self.service_account);
        } else if let Some(path) = std::env::var("GOOGLE_APPLICATION_CREDENTIALS")
            .ok()
            .filter(|p| !p.is_empty())
        {
            b = b.with_application_credentials(path);
        }
        if let Some(r) = retry_config(self.max_retries) {
            b = b.with_retry(r);
        }
        let store = b
            .build()
            .map_err(|e| Error::Config(format!("GCS: create client: {e}")))?;
        Ok(Bucket::new(
            std::sync::Arc::new(store),
            format!("gs://{}", self.bucket),
        ))
    }
}
