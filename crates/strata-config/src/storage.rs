//! The `storage` section (parsed; the agent keeps no local TSDB settings from it).

use serde::Deserialize;

use crate::values::{ByteSize, Duration};
use crate::yaml::null_default;

/// `storage`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    #[serde(deserialize_with = "null_default")]
    pub tsdb: TsdbConfig,
    #[serde(deserialize_with = "null_default")]
    pub exemplars: ExemplarsConfig,
}

/// `storage.tsdb`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TsdbConfig {
    pub out_of_order_time_window: Duration,
    pub stale_series_compaction_threshold: f64,
    #[serde(deserialize_with = "null_default")]
    pub chunk_encoding: ChunkEncodingConfig,
    #[serde(deserialize_with = "null_default")]
    pub retention: RetentionConfig,
}

/// `storage.tsdb.chunk_encoding`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChunkEncodingConfig {
    /// `xor`, `xor2` or empty.
    pub floats: String,
}

/// `storage.tsdb.retention`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    pub time: Duration,
    pub size: ByteSize,
    pub percentage: f64,
}

/// `storage.exemplars`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExemplarsConfig {
    /// Default 100000.
    pub max_exemplars: i64,
}

impl Default for ExemplarsConfig {
    fn default() -> Self {
        ExemplarsConfig {
            max_exemplars: 100_000,
        }
    }
}

impl StorageConfig {
    pub(crate) fn validate(&self) -> Result<(), (String, String)> {
        let f = self.tsdb.chunk_encoding.floats.as_str();
        if !matches!(f, "" | "xor" | "xor2") {
            return Err((
                "storage.tsdb.chunk_encoding.floats".into(),
                format!(
                    "'storage.tsdb.chunk_encoding.floats' must be 'xor' or 'xor2', or the field must be omitted entirely, got {f:?}"
                ),
            ));
        }
        let p = self.tsdb.retention.percentage;
        if !(0.0..=100.0).contains(&p) {
            return Err((
                "storage.tsdb.retention.percentage".into(),
                format!(
                    "'storage.tsdb.retention.percentage' must be in the range [0, 100], got {p}"
                ),
            ));
        }
        Ok(())
    }
}
