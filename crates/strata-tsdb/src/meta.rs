//! The `meta.json` file of a block.
//!
//! Field names and omission rules follow Prometheus' `BlockMeta`: zero statistics and
//! empty compaction lists are left out, the `stats` object is always written. Fields we
//! do not know (such as the `thanos` section Thanos adds) are kept in `extra` and written
//! back unchanged. Files are written like Prometheus writes them: tab-indented JSON.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// File name of the block metadata.
pub const META_FILENAME: &str = "meta.json";
/// The only meta.json version.
pub const META_VERSION_1: u32 = 1;

fn is_zero(x: &u64) -> bool {
    *x == 0
}
fn is_false(x: &bool) -> bool {
    !*x
}

/// Statistics of a block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_samples: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_float_samples: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_histogram_samples: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_series: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_chunks: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub num_tombstones: u64,
}

/// A block that was compacted into this one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockDesc {
    pub ulid: String,
    pub min_time: i64,
    pub max_time: i64,
}

/// Compaction history of a block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Compaction {
    /// 1 for blocks cut from the head, parents' maximum + 1 for compacted blocks.
    #[serde(default)]
    pub level: i64,
    /// ULIDs of all level-1 blocks this block was made of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub deletable: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<BlockDesc>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub failed: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
    /// Fields we do not know, kept for the round trip.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The contents of `meta.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    /// The block's ULID: 26 characters of Crockford base32.
    pub ulid: String,
    pub min_time: i64,
    /// Exclusive upper bound of the block's time range.
    pub max_time: i64,
    #[serde(default)]
    pub stats: BlockStats,
    #[serde(default)]
    pub compaction: Compaction,
    pub version: u32,
    /// Fields we do not know (for example Thanos' `thanos` section), kept for the round
    /// trip.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl BlockMeta {
    /// A level-1 meta of a new block whose only source is itself.
    pub fn new(ulid: String, min_time: i64, max_time: i64) -> Self {
        BlockMeta {
            compaction: Compaction {
                level: 1,
                sources: vec![ulid.clone()],
                ..Compaction::default()
            },
            ulid,
            min_time,
            max_time,
            stats: BlockStats::default(),
            version: META_VERSION_1,
            extra: serde_json::Map::new(),
        }
    }

    /// Encodes the meta as Prometheus does: JSON indented with tabs.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        self.serialize(&mut ser)
            .map_err(|e| Error::Decode(format!("encode meta.json: {e}")))?;
        Ok(out)
    }

    /// Checks the ULIDs, the version and the time range.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if self.version != META_VERSION_1 {
            return Err(format!("unexpected meta file version {}", self.version));
        }
        check_ulid("ulid", &self.ulid)?;
        for s in &self.compaction.sources {
            check_ulid("compaction source", s)?;
        }
        for p in &self.compaction.parents {
            check_ulid("compaction parent", &p.ulid)?;
        }
        if self.min_time > self.max_time {
            return Err(format!(
                "minTime {} is after maxTime {}",
                self.min_time, self.max_time
            ));
        }
        Ok(())
    }
}

/// True for a 26-character Crockford base32 ULID (case-insensitive) whose first
/// character is at most `7`, so it fits 128 bits.
pub fn is_valid_ulid(s: &str) -> bool {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    s.len() == 26
        && s.bytes()
            .all(|c| ALPHABET.contains(&c.to_ascii_uppercase()))
        && s.as_bytes().first().is_some_and(|c| *c <= b'7')
}

fn check_ulid(what: &str, s: &str) -> std::result::Result<(), String> {
    if is_valid_ulid(s) {
        Ok(())
    } else {
        Err(format!("invalid {what} {s:?}: not a 26-character ULID"))
    }
}

/// Writes `dir/meta.json` atomically (temporary file, fsync, rename, directory fsync).
pub fn write_meta(dir: &Path, meta: &BlockMeta) -> Result<()> {
    meta.validate().map_err(|reason| Error::InvalidBlock {
        dir: dir.to_path_buf(),
        reason,
    })?;
    let bytes = meta.to_json()?;
    crate::fsutil::write_atomically(dir, META_FILENAME, &bytes)
}

/// Reads and validates `dir/meta.json`.
pub fn read_meta(dir: &Path) -> Result<BlockMeta> {
    let path = dir.join(META_FILENAME);
    let b = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
    parse_meta(dir, &b)
}

/// Parses and validates the contents of a `meta.json` of the block in `dir`.
pub fn parse_meta(dir: &Path, b: &[u8]) -> Result<BlockMeta> {
    let invalid = |reason: String| Error::InvalidBlock {
        dir: dir.to_path_buf(),
        reason,
    };
    let meta: BlockMeta = serde_json::from_slice(b).map_err(|e| {
        invalid(format!(
            "{META_FILENAME}: line {} column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    meta.validate()
        .map_err(|r| invalid(format!("{META_FILENAME}: {r}")))?;
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
    const B: &str = "01BKGV7JBM69T2G1BGBGM6KB12";

    #[test]
    fn prometheus_layout() {
        let mut m = BlockMeta::new(A.into(), 1000, 2000);
        m.stats.num_samples = 10;
        m.stats.num_series = 2;
        m.stats.num_chunks = 3;
        let got = String::from_utf8(m.to_json().unwrap()).unwrap();
        let want = "{\n\t\"ulid\": \"01ARZ3NDEKTSV4RRFFQ69G5FAV\",\n\t\"minTime\": 1000,\n\t\
            \"maxTime\": 2000,\n\t\"stats\": {\n\t\t\"numSamples\": 10,\n\t\t\"numSeries\": 2,\n\t\t\
            \"numChunks\": 3\n\t},\n\t\"compaction\": {\n\t\t\"level\": 1,\n\t\t\"sources\": [\n\t\t\t\
            \"01ARZ3NDEKTSV4RRFFQ69G5FAV\"\n\t\t]\n\t},\n\t\"version\": 1\n}";
        assert_eq!(got, want);
        // Empty stats are still written, as Go does for structs.
        let m = BlockMeta::new(A.into(), 0, 1);
        assert!(
            String::from_utf8(m.to_json().unwrap())
                .unwrap()
                .contains("\"stats\": {}")
        );
    }

    #[test]
    fn thanos_meta_round_trips() {
        let src = r#"{
	"ulid": "01BKGV7JBM69T2G1BGBGM6KB12",
	"minTime": 1,
	"maxTime": 7200001,
	"stats": {"numSamples": 5, "numFloatSamples": 3, "numHistogramSamples": 2,
		"numSeries": 1, "numChunks": 2, "numTombstones": 1},
	"compaction": {"level": 2, "sources": ["01ARZ3NDEKTSV4RRFFQ69G5FAV", "01BKGV7JBM69T2G1BGBGM6KB12"],
		"parents": [{"ulid": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "minTime": 1, "maxTime": 3600001}],
		"deletable": true, "hints": ["from-out-of-order"]},
	"version": 1,
	"thanos": {
		"labels": {"cluster": "eu-1", "replica": "a"},
		"downsample": {"resolution": 300000},
		"source": "compactor",
		"segment_files": ["000001"],
		"files": [{"rel_path": "chunks/000001", "size_bytes": 1234}, {"rel_path": "meta.json"}],
		"index_stats": {}
	}
}"#;
        let tmp = tempfile::tempdir().unwrap();
        let m = parse_meta(tmp.path(), src.as_bytes()).unwrap();
        assert_eq!(m.ulid, B);
        assert_eq!(m.max_time, 7_200_001);
        assert_eq!(m.stats.num_histogram_samples, 2);
        assert_eq!(m.stats.num_tombstones, 1);
        assert_eq!(m.compaction.level, 2);
        assert_eq!(m.compaction.parents[0].max_time, 3_600_001);
        assert!(m.compaction.deletable && !m.compaction.failed);
        assert_eq!(m.compaction.hints, ["from-out-of-order"]);
        let thanos = &m.extra["thanos"];
        assert_eq!(thanos["downsample"]["resolution"], 300_000);
        assert_eq!(thanos["labels"]["cluster"], "eu-1");

        write_meta(tmp.path(), &m).unwrap();
        assert!(!tmp.path().join("meta.json.tmp").exists());
        let back = read_meta(tmp.path()).unwrap();
        assert_eq!(back, m);
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(tmp.path().join("meta.json")).unwrap()).unwrap();
        let orig: serde_json::Value = serde_json::from_str(src).unwrap();
        assert_eq!(written, orig);
    }

    #[test]
    fn errors_are_precise() {
        let tmp = tempfile::tempdir().unwrap();
        let e = read_meta(tmp.path()).unwrap_err().to_string();
        assert!(e.contains("meta.json"), "{e}");

        let p = |s: &str| {
            parse_meta(tmp.path(), s.as_bytes())
                .unwrap_err()
                .to_string()
        };
        let e = p(
            r#"{"ulid": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "minTime": 1, "maxTime": 2, "version": 2}"#,
        );
        assert!(e.contains("version 2"), "{e}");
        let e = p(r#"{"ulid": "nope", "minTime": 1, "maxTime": 2, "version": 1}"#);
        assert!(e.contains("\"nope\""), "{e}");
        let e = p("{\n\"ulid\": \"01ARZ3NDEKTSV4RRFFQ69G5FAV\",\n\"minTime\": \"x\"}");
        assert!(e.contains("line 3"), "{e}");
        let e = p(r#"{"ulid": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "maxTime": 2, "version": 1}"#);
        assert!(e.contains("minTime"), "{e}");
        let e = p(
            r#"{"ulid": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "minTime": 3, "maxTime": 2, "version": 1}"#,
        );
        assert!(e.contains("after"), "{e}");
        let e = p(
            r#"{"ulid": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "minTime": 1, "maxTime": 2, "version": 1,
            "compaction": {"level": 1, "sources": ["zz"]}}"#,
        );
        assert!(e.contains("compaction source"), "{e}");
        assert!(p("").contains("meta.json"));
        assert!(is_valid_ulid("01arz3ndektsv4rrffq69g5fav"));
        assert!(!is_valid_ulid("81ARZ3NDEKTSV4RRFFQ69G5FAV"));
        assert!(!is_valid_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAU"));
        let bad = BlockMeta::new("x".into(), 0, 1);
        assert!(write_meta(tmp.path(), &bad).is_err());
    }
}
