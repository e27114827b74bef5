//! The `thanos` section Thanos adds to a block's `meta.json` (Thanos'
//! `pkg/block/metadata.Thanos`), and the marker files Thanos puts beside blocks in the
//! bucket.
//!
//! The TSDB's [`BlockMeta`] keeps unknown fields in `extra`, so the section lives there
//! as JSON; [`thanos_section`] and [`set_thanos_section`] convert. Fields of the section
//! we do not model (`rewrites`, `extensions`, future ones) are kept in
//! [`ThanosSection::extra`] and written back unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use strata_tsdb::meta::BlockMeta;

use crate::error::{Error, Result};

/// Version of the `thanos` section we write.
pub const THANOS_META_VERSION_1: i64 = 1;
/// Key of the section in `meta.json`.
pub const THANOS_KEY: &str = "thanos";

/// Upload sources (Thanos' `metadata.SourceType`).
pub mod source {
    pub const SIDECAR: &str = "sidecar";
    pub const RECEIVE: &str = "receive";
    pub const COMPACTOR: &str = "compactor";
    pub const COMPACTOR_REPAIR: &str = "compactor.repair";
    pub const RULER: &str = "ruler";
    pub const BUCKET_REPAIR: &str = "bucket.repair";
    pub const BUCKET_REWRITE: &str = "bucket.rewrite";
    pub const BUCKET_UPLOAD: &str = "bucket.upload";
    pub const TEST: &str = "test";
}

fn is_zero(x: &i64) -> bool {
    *x == 0
}

/// `null` (what Go writes for a nil map or slice) reads as the default.
fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `thanos.downsample`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Downsample {
    /// Resolution in milliseconds; 0 for raw data.
    #[serde(default)]
    pub resolution: i64,
}

/// A hash of a block file (`thanos.files[].hash`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectHash {
    #[serde(rename = "hashFunc")]
    pub func: String,
    pub value: String,
}

/// One file of the block (`thanos.files[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockFile {
    /// Path relative to the block directory, `/`-separated.
    pub rel_path: String,
    /// Size in bytes; left out for `meta.json`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub size_bytes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<ObjectHash>,
}

/// `thanos.index_stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexStats {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub series_max_size: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub chunk_max_size: i64,
}

/// The `thanos` section of `meta.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThanosSection {
    /// 0 (absent) or 1.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: i64,
    /// External labels of the producer (and the tenant).
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub downsample: Downsample,
    /// Who uploaded the block ([`source`]).
    #[serde(default)]
    pub source: String,
    /// Chunk segment file names, sorted (deprecated in Thanos, still written by its
    /// shipper).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub segment_files: Vec<String>,
    /// Files of the block, sorted by `rel_path`.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub files: Vec<BlockFile>,
    #[serde(default)]
    pub index_stats: IndexStats,
    /// RFC 3339 time of the upload of `meta.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_time: Option<String>,
    /// Fields we do not model (`rewrites`, `extensions`, …), kept for the round trip.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The `thanos` section of `meta`, if it has one. A section with a version other than
/// 0 or 1 is an error, as in Thanos.
pub fn thanos_section(meta: &BlockMeta) -> Result<Option<ThanosSection>> {
    let Some(v) = meta.extra.get(THANOS_KEY) else {
        return Ok(None);
    };
    let t: ThanosSection = serde_json::from_value(v.clone()).map_err(|e| Error::Json {
        what: format!("thanos section of block {}", meta.ulid),
        reason: e.to_string(),
    })?;
    if t.version != 0 && t.version != THANOS_META_VERSION_1 {
        return Err(Error::Json {
            what: format!("thanos section of block {}", meta.ulid),
            reason: format!("unexpected meta file Thanos section version {}", t.version),
        });
    }
    Ok(Some(t))
}

/// Replaces the `thanos` section of `meta`.
pub fn set_thanos_section(meta: &mut BlockMeta, t: &ThanosSection) -> Result<()> {
    let v = serde_json::to_value(t).map_err(|e| Error::Json {
        what: format!("thanos section of block {}", meta.ulid),
        reason: e.to_string(),
    })?;
    meta.extra.insert(THANOS_KEY.to_owned(), v);
    Ok(())
}

/// File name of the deletion mark beside a block in the bucket.
pub const DELETION_MARK_FILENAME: &str = "deletion-mark.json";
/// File name of the no-compaction mark.
pub const NO_COMPACT_MARK_FILENAME: &str = "no-compact-mark.json";
/// Version of both marks.
pub const MARK_VERSION_1: i64 = 1;

/// `<ulid>/deletion-mark.json`: the block is to be deleted after a delay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionMark {
    pub id: String,
    pub version: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
    /// Unix seconds.
    pub deletion_time: i64,
}

/// `<ulid>/no-compact-mark.json`: the compactor must leave the block alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoCompactMark {
    pub id: String,
    pub version: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
    /// Unix seconds.
    pub no_compact_time: i64,
    /// `manual`, `index-size-exceeding`, `block-index-out-of-order-chunk`, …
    pub reason: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const ULID: &str = "01BKGV7JBM69T2G1BGBGM6KB12";

    /// A meta.json as Thanos writes it (field set of `metadata.Meta`).
    const THANOS_META: &str = r#"{
	"ulid": "01BKGV7JBM69T2G1BGBGM6KB12",
	"minTime": 1,
	"maxTime": 7200001,
	"stats": {"numSamples": 5, "numSeries": 1, "numChunks": 2},
	"compaction": {"level": 1, "sources": ["01BKGV7JBM69T2G1BGBGM6KB12"]},
	"version": 1,
	"thanos": {
		"labels": {"cluster": "eu-1", "tenant_id": "t1"},
		"downsample": {"resolution": 0},
		"source": "receive",
		"segment_files": ["000001"],
		"files": [
			{"rel_path": "chunks/000001", "size_bytes": 1234,
			 "hash": {"hashFunc": "SHA256", "value": "ab"}},
			{"rel_path": "index", "size_bytes": 99},
			{"rel_path": "meta.json"}
		],
		"index_stats": {},
		"rewrites": [{"sources": ["01BKGV7JBM69T2G1BGBGM6KB12"]}],
		"upload_time": "2024-01-02T03:04:05.123456789Z"
	}
}"#;

    #[test]
    fn thanos_meta_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = strata_tsdb::meta::parse_meta(dir.path(), THANOS_META.as_bytes()).unwrap();
        let t = thanos_section(&m).unwrap().unwrap();
        assert_eq!(t.labels["tenant_id"], "t1");
        assert_eq!(t.source, source::RECEIVE);
        assert_eq!(t.files[0].size_bytes, 1234);
        assert_eq!(t.files[0].hash.as_ref().unwrap().func, "SHA256");
        assert_eq!(t.files[2].size_bytes, 0);
        assert!(t.extra.contains_key("rewrites"));
        set_thanos_section(&mut m, &t).unwrap();
        let back: serde_json::Value = serde_json::from_slice(&m.to_json().unwrap()).unwrap();
        let orig: serde_json::Value = serde_json::from_str(THANOS_META).unwrap();
        assert_eq!(back, orig);
    }

    #[test]
    fn go_nulls_and_versions() {
        let mut m = BlockMeta::new(ULID.into(), 0, 1);
        assert!(thanos_section(&m).unwrap().is_none());
        m.extra.insert(
            THANOS_KEY.into(),
            serde_json::json!({"labels": null, "downsample": {"resolution": 300000},
                "source": "sidecar", "files": null, "index_stats": {}}),
        );
        let t = thanos_section(&m).unwrap().unwrap();
        assert!(t.labels.is_empty() && t.files.is_empty());
        assert_eq!(t.downsample.resolution, 300_000);
        m.extra
            .insert(THANOS_KEY.into(), serde_json::json!({"version": 2}));
        let e = thanos_section(&m).unwrap_err().to_string();
        assert!(e.contains("version 2"), "{e}");
        m.extra
            .insert(THANOS_KEY.into(), serde_json::json!({"labels": 3}));
        assert!(thanos_section(&m).is_err());
    }

    #[test]
    fn written_section_has_thanos_layout() {
        let mut m = BlockMeta::new(ULID.into(), 0, 1);
        let t = ThanosSection {
            version: 1,
            labels: [("a".to_owned(), "b".to_owned())].into(),
            source: source::RECEIVE.into(),
            files: vec![BlockFile {
                rel_path: "meta.json".into(),
                size_bytes: 0,
                hash: None,
            }],
            ..ThanosSection::default()
        };
        set_thanos_section(&mut m, &t).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&m.to_json().unwrap()).unwrap();
        assert_eq!(
            v["thanos"],
            serde_json::json!({"version": 1, "labels": {"a": "b"},
                "downsample": {"resolution": 0}, "source": "receive",
                "files": [{"rel_path": "meta.json"}], "index_stats": {}})
        );
    }

    proptest::proptest! {
        #[test]
        fn section_round_trips_through_meta(
            labels in proptest::collection::btree_map("[a-z_]{1,8}", "\\PC{0,12}", 0..5),
            files in proptest::collection::vec(("[a-z/0-9.]{1,16}", 0i64..1 << 40), 0..5),
            resolution in proptest::prop_oneof![proptest::strategy::Just(0i64), proptest::strategy::Just(300_000), proptest::strategy::Just(3_600_000)],
            source in "[a-z.]{0,10}",
        ) {
            let t = ThanosSection {
                version: 1,
                labels,
                downsample: Downsample { resolution },
                source,
                files: files
                    .into_iter()
                    .map(|(rel_path, size_bytes)| BlockFile { rel_path, size_bytes, hash: None })
                    .collect(),
                ..ThanosSection::default()
            };
            let mut m = BlockMeta::new(ULID.into(), 0, 1);
            set_thanos_section(&mut m, &t).unwrap();
            let dir = std::path::Path::new(ULID);
            let back = strata_tsdb::meta::parse_meta(dir, &m.to_json().unwrap()).unwrap();
            proptest::prop_assert_eq!(thanos_section(&back).unwrap(), Some(t));
        }
    }

    #[test]
    fn marks_use_thanos_field_names() {
        let d = DeletionMark {
            id: ULID.into(),
            version: MARK_VERSION_1,
            details: String::new(),
            deletion_time: 1_700_000_000,
        };
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"id":"01BKGV7JBM69T2G1BGBGM6KB12","version":1,"deletion_time":1700000000}"#
        );
        let n: NoCompactMark = serde_json::from_str(
            r#"{"id":"01BKGV7JBM69T2G1BGBGM6KB12","version":1,"details":"x","no_compact_time":5,"reason":"manual"}"#,
        )
        .unwrap();
        assert_eq!(n.reason, "manual");
    }
}
