//! The shipper's progress file `thanos.shipper.json` in the data directory (Thanos'
//! `shipper.Meta`): `{"version": 1, "uploaded": [ulid, …]}`, written atomically.

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};

/// File name of the state, in the data directory.
pub const SHIPPER_STATE_FILENAME: &str = "thanos.shipper.json";
/// The only version.
pub const SHIPPER_STATE_VERSION_1: i64 = 1;

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// Contents of `thanos.shipper.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipperState {
    pub version: i64,
    /// ULIDs of blocks known to be in the bucket (Go writes `null` for none).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub uploaded: Vec<String>,
}

impl Default for ShipperState {
    fn default() -> Self {
        ShipperState {
            version: SHIPPER_STATE_VERSION_1,
            uploaded: Vec::new(),
        }
    }
}

impl ShipperState {
    /// Reads `dir/thanos.shipper.json`; `Ok(None)` when it does not exist.
    pub fn read(dir: &Path) -> Result<Option<ShipperState>> {
        let path = dir.join(SHIPPER_STATE_FILENAME);
        let b = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", path, e)),
        };
        let s: ShipperState = serde_json::from_slice(&b).map_err(|e| Error::ShipperState {
            path: path.clone(),
            reason: format!("failed to parse as JSON: {e}"),
        })?;
        if s.version != SHIPPER_STATE_VERSION_1 {
            return Err(Error::ShipperState {
                path,
                reason: format!("unexpected meta file version {}", s.version),
            });
        }
        Ok(Some(s))
    }

    /// Writes `dir/thanos.shipper.json` atomically (temporary file, fsync, rename), as
    /// Thanos does: tab-indented JSON and a newline.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        self.serialize(&mut ser).map_err(|e| Error::ShipperState {
            path: dir.join(SHIPPER_STATE_FILENAME),
            reason: e.to_string(),
        })?;
        out.push(b'\n');
        strata_tsdb::fsutil::write_atomically(dir, SHIPPER_STATE_FILENAME, &out)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn round_trip_and_go_forms() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(ShipperState::read(dir.path()).unwrap(), None);
        let s = ShipperState {
            version: 1,
            uploaded: vec!["01BKGV7JBM69T2G1BGBGM6KB12".into()],
        };
        s.write(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join(SHIPPER_STATE_FILENAME)).unwrap();
        assert_eq!(
            text,
            "{\n\t\"version\": 1,\n\t\"uploaded\": [\n\t\t\"01BKGV7JBM69T2G1BGBGM6KB12\"\n\t]\n}\n"
        );
        assert_eq!(ShipperState::read(dir.path()).unwrap(), Some(s));
        assert!(!dir.path().join("thanos.shipper.json.tmp").exists());

        std::fs::write(
            dir.path().join(SHIPPER_STATE_FILENAME),
            r#"{"version":1,"uploaded":null}"#,
        )
        .unwrap();
        assert!(
            ShipperState::read(dir.path())
                .unwrap()
                .unwrap()
                .uploaded
                .is_empty()
        );
        std::fs::write(
            dir.path().join(SHIPPER_STATE_FILENAME),
            r#"{"version":2,"uploaded":[]}"#,
        )
        .unwrap();
        let e = ShipperState::read(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("version 2") && e.contains(SHIPPER_STATE_FILENAME),
            "{e}"
        );
        std::fs::write(dir.path().join(SHIPPER_STATE_FILENAME), "{").unwrap();
        assert!(ShipperState::read(dir.path()).is_err());
    }
}
