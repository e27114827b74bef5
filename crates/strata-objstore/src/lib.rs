//! Object storage for blocks, compatible with Thanos.
//!
//! - [`bucket`]: [`Bucket`], the operations Thanos components need (get, ranged get,
//!   put with multipart for large objects, exists, attributes, delete, iterate by
//!   directory, upload/download of directories) over any `object_store::ObjectStore`;
//! - [`config`]: Thanos' objstore YAML (`type: S3|GCS|AZURE|FILESYSTEM`, `config`,
//!   `prefix`) → [`Bucket`];
//! - [`thanos_meta`]: the `thanos` section of `meta.json` and the block marks;
//! - [`block`]: a block in the bucket: upload in Thanos' order (`meta.json` last),
//!   marks, deletion;
//! - [`shipper`]: uploads new local blocks once and records them in
//!   `thanos.shipper.json`.

pub mod block;
pub mod bucket;
pub mod config;
pub mod error;
pub mod shipper;
pub mod thanos_meta;

pub use bucket::{Bucket, ObjectAttributes};
pub use config::BucketConfig;
pub use error::{Error, Result};
pub use shipper::{ShipStats, Shipper};
pub use thanos_meta::ThanosSection;

/// Builds a bucket from Thanos' objstore YAML (see [`config`]).
pub fn from_yaml(yaml: &str) -> Result<Bucket> {
    Bucket::from_yaml(yaml)
}
