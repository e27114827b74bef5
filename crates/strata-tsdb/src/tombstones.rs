//! The `tombstones` file of a block: deleted time ranges per series.
//!
//! Layout: magic `0x0130BA30` (BE32), format version byte 1, then one entry per
//! interval — `series ref <uvarint64> | mint <varint64> | maxt <varint64>` (the ref is
//! repeated for every interval of a series) — and finally a CRC32C (BE32) over the
//! entries (the version byte is not covered).

use std::collections::BTreeMap;
use std::path::Path;

use crate::encoding::{DecBuf, EncBuf, crc32c};
use crate::error::{Error, Result};

/// Magic number of the tombstones file.
pub const MAGIC_TOMBSTONES: u32 = 0x0130_BA30;
/// The tombstones format version.
pub const TOMBSTONES_FORMAT_V1: u8 = 1;
/// File name of the tombstones file in a block directory.
pub const TOMBSTONES_FILENAME: &str = "tombstones";

/// A closed time range `[mint, maxt]` of deleted samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    pub mint: i64,
    pub maxt: i64,
}

impl Interval {
    pub fn new(mint: i64, maxt: i64) -> Self {
        Interval { mint, maxt }
    }
    /// True when `t` lies in the interval.
    pub fn contains(&self, t: i64) -> bool {
        self.mint <= t && t <= self.maxt
    }
}

/// Deleted intervals per series reference; each series' intervals are sorted and
/// merged (overlapping or adjacent intervals become one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tombstones {
    map: BTreeMap<u64, Vec<Interval>>,
}

impl Tombstones {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a deleted interval for `series_ref`, merging it with the existing ones.
    pub fn add(&mut self, series_ref: u64, iv: Interval) {
        let ivs = self.map.entry(series_ref).or_default();
        add_interval(ivs, iv);
    }

    /// The sorted, merged intervals of `series_ref`.
    pub fn get(&self, series_ref: u64) -> Option<&[Interval]> {
        self.map.get(&series_ref).map(|v| v.as_slice())
    }

    /// True when no series has a tombstone.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The number of series with tombstones.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The total number of intervals over all series.
    pub fn num_intervals(&self) -> usize {
        self.map.values().map(Vec::len).sum()
    }

    /// Series references in ascending order with their intervals.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[Interval])> + '_ {
        self.map.iter().map(|(r, v)| (*r, v.as_slice()))
    }
}

/// Inserts `iv` into sorted, merged `ivs`. Intervals that overlap or touch
/// (`a.maxt + 1 == b.mint`) are merged. Intervals with `mint > maxt` are kept as given.
fn add_interval(ivs: &mut Vec<Interval>, iv: Interval) {
    let mut merged = iv;
    let mut out = Vec::with_capacity(ivs.len() + 1);
    let mut placed = false;
    for &cur in ivs.iter() {
        if cur.maxt.saturating_add(1) < merged.mint {
            out.push(cur);
        } else if merged.maxt.saturating_add(1) < cur.mint {
            if !placed {
                out.push(merged);
                placed = true;
            }
            out.push(cur);
        } else {
            merged = Interval::new(merged.mint.min(cur.mint), merged.maxt.max(cur.maxt));
        }
    }
    if !placed {
        out.push(merged);
    }
    *ivs = out;
}

/// Encodes the tombstones into the file format.
pub fn encode_tombstones(t: &Tombstones) -> Vec<u8> {
    let mut b = EncBuf::with_capacity(9 + 16 * t.num_intervals());
    b.put_be32(MAGIC_TOMBSTONES);
    b.put_byte(TOMBSTONES_FORMAT_V1);
    let start = b.len();
    for (r, ivs) in t.iter() {
        for iv in ivs {
            b.put_uvarint(r);
            b.put_varint(iv.mint);
            b.put_varint(iv.maxt);
        }
    }
    b.put_crc32_of(start);
    b.buf
}

/// Decodes a tombstones file; `what` names it in errors.
pub fn decode_tombstones(b: &[u8], what: &str) -> Result<Tombstones> {
    let corrupt = |off: u64, reason: String| Error::corruption(what, off, reason);
    if b.len() < 9 {
        return Err(corrupt(
            0,
            format!(
                "file of {} bytes is shorter than header and checksum",
                b.len()
            ),
        ));
    }
    let magic = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if magic != MAGIC_TOMBSTONES {
        return Err(corrupt(0, format!("invalid magic number {magic:#010x}")));
    }
    if b[4] != TOMBSTONES_FORMAT_V1 {
        return Err(corrupt(
            4,
            format!("invalid tombstones format version {}", b[4]),
        ));
    }
    let (body, crc) = b.split_at(b.len() - 4);
    let entries = body.get(5..).unwrap_or_default();
    let stored = u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]);
    let computed = crc32c(entries);
    if stored != computed {
        return Err(corrupt(
            body.len() as u64,
            format!("checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"),
        ));
    }
    let mut d = DecBuf::new(entries, "tombstones", 5);
    let mut t = Tombstones::new();
    let rename = |e: Error| match e {
        Error::Corruption { offset, reason, .. } => corrupt(offset, reason),
        e => e,
    };
    while !d.is_empty() {
        let r = d.uvarint().map_err(rename)?;
        let mint = d.varint().map_err(rename)?;
        let maxt = d.varint().map_err(rename)?;
        t.add(r, Interval::new(mint, maxt));
    }
    Ok(t)
}

/// Writes `dir/tombstones` atomically (temporary file, fsync, rename, directory fsync).
/// Returns the file size.
pub fn write_tombstones(dir: &Path, t: &Tombstones) -> Result<u64> {
    let bytes = encode_tombstones(t);
    crate::fsutil::write_atomically(dir, TOMBSTONES_FILENAME, &bytes)?;
    Ok(bytes.len() as u64)
}

/// Reads `dir/tombstones`; a missing file means no tombstones.
pub fn read_tombstones(dir: &Path) -> Result<Tombstones> {
    let path = dir.join(TOMBSTONES_FILENAME);
    let b = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Tombstones::new()),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    decode_tombstones(&b, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn intervals_merge() {
        let mut t = Tombstones::new();
        t.add(1, Interval::new(10, 20));
        t.add(1, Interval::new(30, 40));
        t.add(1, Interval::new(0, 5));
        assert_eq!(
            t.get(1).unwrap(),
            &[
                Interval::new(0, 5),
                Interval::new(10, 20),
                Interval::new(30, 40)
            ]
        );
        t.add(1, Interval::new(21, 29)); // touches both neighbours
        assert_eq!(
            t.get(1).unwrap(),
            &[Interval::new(0, 5), Interval::new(10, 40)]
        );
        t.add(1, Interval::new(-100, 100));
        assert_eq!(t.get(1).unwrap(), &[Interval::new(-100, 100)]);
        t.add(1, Interval::new(i64::MIN, i64::MAX));
        assert_eq!(t.get(1).unwrap(), &[Interval::new(i64::MIN, i64::MAX)]);
        assert_eq!(t.len(), 1);
        assert!(t.get(2).is_none());
    }

    #[test]
    fn round_trip_and_exact_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(read_tombstones(tmp.path()).unwrap().is_empty());
        let mut t = Tombstones::new();
        t.add(5, Interval::new(1, 2));
        t.add(5, Interval::new(10, 20));
        t.add(300, Interval::new(-1, i64::MAX));
        let n = write_tombstones(tmp.path(), &t).unwrap();
        let raw = std::fs::read(tmp.path().join("tombstones")).unwrap();
        assert_eq!(n, raw.len() as u64);
        assert!(!tmp.path().join("tombstones.tmp").exists());
        // magic, version, then (5,1,2) (5,10,20) with the ref repeated.
        assert_eq!(&raw[..11], &[0x01, 0x30, 0xBA, 0x30, 1, 5, 2, 4, 5, 20, 40]);
        let crc = crc32c(&raw[5..raw.len() - 4]);
        assert_eq!(&raw[raw.len() - 4..], &crc.to_be_bytes());
        assert_eq!(read_tombstones(tmp.path()).unwrap(), t);
        // Empty tombstones: header + CRC of nothing.
        write_tombstones(tmp.path(), &Tombstones::new()).unwrap();
        let raw = std::fs::read(tmp.path().join("tombstones")).unwrap();
        assert_eq!(raw.len(), 9);
        assert!(read_tombstones(tmp.path()).unwrap().is_empty());
    }

    #[test]
    fn corruption_is_reported() {
        let mut t = Tombstones::new();
        t.add(7, Interval::new(100, 200));
        let good = encode_tombstones(&t);
        for n in 0..good.len() {
            assert!(decode_tombstones(&good[..n], "x").is_err(), "prefix {n}");
        }
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            let e = decode_tombstones(&bad, "blk/tombstones")
                .unwrap_err()
                .to_string();
            assert!(e.contains("blk/tombstones"), "{e}");
        }
        // Valid CRC over undecodable entries.
        let mut b = vec![0x01, 0x30, 0xBA, 0x30, 1, 0x80];
        let crc = crc32c(&b[5..]);
        b.extend_from_slice(&crc.to_be_bytes());
        let e = decode_tombstones(&b, "x").unwrap_err().to_string();
        assert!(e.contains("offset 5"), "{e}");
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(b: Vec<u8>) {
            let _ = decode_tombstones(&b, "fuzz");
            let mut with_header = vec![0x01, 0x30, 0xBA, 0x30, 1];
            with_header.extend_from_slice(&b);
            let crc = crc32c(&with_header[5..]);
            with_header.extend_from_slice(&crc.to_be_bytes());
            let _ = decode_tombstones(&with_header, "fuzz");
        }

        #[test]
        fn merged_intervals_stay_sorted(ivs in proptest::collection::vec((-50i64..50, 0i64..10), 0..20)) {
            let mut t = Tombstones::new();
            for (m, l) in &ivs {
                t.add(1, Interval::new(*m, m + l));
            }
            if let Some(got) = t.get(1) {
                for w in got.windows(2) {
                    prop_assert!(w[0].maxt + 1 < w[1].mint);
                }
                for (m, l) in &ivs {
                    prop_assert!(got.iter().any(|iv| iv.mint <= *m && m + l <= iv.maxt));
                }
                let back = decode_tombstones(&encode_tombstones(&t), "rt").unwrap();
                prop_assert_eq!(back, t.clone());
            }
        }
    }
}
