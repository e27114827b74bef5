//! Checkpoints: the still-needed content of a prefix of the log, compacted.
//!
//! A checkpoint `checkpoint.NNNNNNNN` is a directory of segments holding what is left of
//! the previous checkpoint plus segments up to `NNNNNNNN` after dropping series the head
//! no longer has and samples and tombstones older than the head's minimum time. Replay
//! reads the last checkpoint, then the segments after it.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::wal::histogram_record::{
    RefFloatHistogramSample, RefHistogramSample, decode_float_histogram_samples,
    decode_histogram_samples, encode_float_histogram_samples, encode_histogram_samples,
};
use crate::wal::reader::WalReader;
use crate::wal::record::{
    RecordType, RefSample, RefSeries, RefTombstone, decode_samples, decode_series,
    decode_tombstones, encode_samples, encode_series, encode_tombstones, record_type,
};
use crate::wal::segment::{list_numbered, list_segments, sync_dir};
use crate::wal::{Wal, WalOptions};

const PREFIX: &str = "checkpoint.";
/// Encoded bytes gathered before they are logged into the checkpoint.
const BATCH_BYTES: usize = 1 << 20;

/// Parses `checkpoint.NNNNNNNN` (exactly 8 digits).
fn parse_checkpoint_name(name: &str) -> Option<u32> {
    let digits = name.strip_prefix(PREFIX)?;
    if digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()
    } else {
        None
    }
}

fn checkpoint_dir(dir: &Path, idx: u32) -> PathBuf {
    dir.join(format!("{PREFIX}{idx:08}"))
}

/// All checkpoint directories of `dir` with their index, sorted by index.
fn list_checkpoints(dir: &Path) -> Result<Vec<(PathBuf, u32)>> {
    list_numbered(dir, parse_checkpoint_name, true)
}

/// The checkpoint with the highest index in `dir`, if any.
pub fn last_checkpoint(dir: &Path) -> Result<Option<(PathBuf, u32)>> {
    Ok(list_checkpoints(dir)?.pop())
}

/// Deletes the checkpoints (and leftover temporary checkpoints) with an index below `idx`.
pub fn delete_checkpoints_before(dir: &Path, idx: u32) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("read dir", dir, e)),
    };
    let mut removed = false;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("read dir", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let base = name.strip_suffix(".tmp").unwrap_or(name);
        match parse_checkpoint_name(base) {
            Some(n) if n < idx => {}
            _ => continue,
        }
        let path = entry.path();
        fs::remove_dir_all(&path).map_err(|e| Error::io("remove checkpoint", &path, e))?;
        removed = true;
    }
    if removed {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Writes `checkpoint.{to:08}` from the previous checkpoint and segments `from..=to`:
/// Series records of the refs `keep` accepts, their samples (floats and native
/// histograms) at or after `mint` and their tombstones that end at or after `mint`.
/// Other record types are dropped. The
/// checkpoint is built in a `.tmp` directory, fsynced and renamed; older checkpoints are
/// deleted afterwards. The caller then truncates the segments up to `to`.
pub fn checkpoint(
    dir: &Path,
    from: u32,
    to: u32,
    keep: &dyn Fn(u64) -> bool,
    mint: i64,
) -> Result<PathBuf> {
    let prev = last_checkpoint(dir)?;
    let mut from = from;
    if let Some((path, pidx)) = &prev {
        if *pidx >= to {
            return Err(Error::Unsupported {
                what: "WAL checkpoint",
                detail: format!("{} already covers segment {to}", path.display()),
            });
        }
        if from > pidx + 1 {
            return Err(Error::Unsupported {
                what: "WAL checkpoint",
                detail: format!(
                    "gap between {} and requested first segment {from}",
                    path.display()
                ),
            });
        }
        from = pidx + 1;
    }
    let present = list_segments(dir)?;
    if let Some(missing) = (from..=to).find(|i| present.binary_search(i).is_err()) {
        return Err(Error::Unsupported {
            what: "WAL checkpoint",
            detail: format!("segment {missing} of {from}..={to} is missing"),
        });
    }

    let final_dir = checkpoint_dir(dir, to);
    let tmp = dir.join(format!("{PREFIX}{to:08}.tmp"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| Error::io("remove checkpoint", &tmp, e))?;
    }
    let mut out = Wal::open(&tmp, WalOptions::default())?;
    let mut filter = Filter {
        keep,
        mint,
        batch: Vec::new(),
        batch_bytes: 0,
    };
    if let Some((path, _)) = &prev {
        filter.copy(&mut WalReader::open(path, 0, None)?, &mut out)?;
    }
    filter.copy(&mut WalReader::open(dir, from, Some(to))?, &mut out)?;
    filter.flush(&mut out)?;
    out.close()?;
    sync_dir(&tmp)?;

    if final_dir.exists() {
        fs::remove_dir_all(&final_dir)
            .map_err(|e| Error::io("remove checkpoint", &final_dir, e))?;
    }
    fs::rename(&tmp, &final_dir).map_err(|e| Error::io("rename checkpoint", &tmp, e))?;
    sync_dir(dir)?;
    delete_checkpoints_before(dir, to)?;
    Ok(final_dir)
}

struct Filter<'a> {
    keep: &'a dyn Fn(u64) -> bool,
    mint: i64,
    batch: Vec<Vec<u8>>,
    batch_bytes: usize,
}

impl Filter<'_> {
    fn copy(&mut self, r: &mut WalReader, out: &mut Wal) -> Result<()> {
        let mut series: Vec<RefSeries> = Vec::new();
        let mut samples: Vec<RefSample> = Vec::new();
        let mut stones: Vec<RefTombstone> = Vec::new();
        let mut ints: Vec<RefHistogramSample> = Vec::new();
        let mut floats: Vec<RefFloatHistogramSample> = Vec::new();
        while let Some(rec) = r.next_record()? {
            let mut enc = Vec::new();
            match record_type(&rec) {
                RecordType::Series => {
                    series.clear();
                    decode_series(&rec, &mut series)?;
                    series.retain(|s| (self.keep)(s.series_ref));
                    if !series.is_empty() {
                        encode_series(&series, &mut enc);
                    }
                }
                RecordType::Samples => {
                    samples.clear();
                    decode_samples(&rec, &mut samples)?;
                    samples.retain(|s| s.t >= self.mint && (self.keep)(s.series_ref));
                    if !samples.is_empty() {
                        encode_samples(&samples, &mut enc);
                    }
                }
                ty @ (RecordType::HistogramSamples | RecordType::CustomBucketsHistogramSamples) => {
                    ints.clear();
                    decode_histogram_samples(&rec, &mut ints)?;
                    let kept: Vec<(u64, i64, &strata_model::histogram::Histogram)> = ints
                        .iter()
                        .filter(|s| s.t >= self.mint && (self.keep)(s.series_ref))
                        .map(|s| (s.series_ref, s.t, &s.h))
                        .collect();
                    if !kept.is_empty() {
                        let custom = ty == RecordType::CustomBucketsHistogramSamples;
                        encode_histogram_samples(&kept, custom, &mut enc);
                    }
                }
                ty @ (RecordType::FloatHistogramSamples
                | RecordType::CustomBucketsFloatHistogramSamples) => {
                    floats.clear();
                    decode_float_histogram_samples(&rec, &mut floats)?;
                    let kept: Vec<(u64, i64, &strata_model::histogram::FloatHistogram)> = floats
                        .iter()
                        .filter(|s| s.t >= self.mint && (self.keep)(s.series_ref))
                        .map(|s| (s.series_ref, s.t, &s.h))
                        .collect();
                    if !kept.is_empty() {
                        let custom = ty == RecordType::CustomBucketsFloatHistogramSamples;
                        encode_float_histogram_samples(&kept, custom, &mut enc);
                    }
                }
                RecordType::Tombstones => {
                    stones.clear();
                    decode_tombstones(&rec, &mut stones)?;
                    stones.retain(|s| s.maxt >= self.mint && (self.keep)(s.series_ref));
                    if !stones.is_empty() {
                        encode_tombstones(&stones, &mut enc);
                    }
                }
                _ => {}
            }
            if !enc.is_empty() {
                self.batch_bytes += enc.len();
                self.batch.push(enc);
                if self.batch_bytes >= BATCH_BYTES {
                    self.flush(out)?;
                }
            }
        }
        Ok(())
    }

    fn flush(&mut self, out: &mut Wal) -> Result<()> {
        let recs: Vec<&[u8]> = self.batch.iter().map(Vec::as_slice).collect();
        out.log(&recs)?;
        self.batch.clear();
        self.batch_bytes = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wal::record::{RecordType, record_type};
    use strata_model::Labels;

    fn series(r: u64) -> RefSeries {
        RefSeries {
            series_ref: r,
            labels: Labels::new(&[("__name__", format!("m{r}"))]).unwrap(),
        }
    }

    fn read_decoded(dir: &Path) -> (Vec<RefSeries>, Vec<RefSample>, Vec<RefTombstone>) {
        let mut r = WalReader::open(dir, 0, None).unwrap();
        let (mut s, mut x, mut t) = (Vec::new(), Vec::new(), Vec::new());
        while let Some(rec) = r.next_record().unwrap() {
            match record_type(&rec) {
                RecordType::Series => decode_series(&rec, &mut s).unwrap(),
                RecordType::Samples => decode_samples(&rec, &mut x).unwrap(),
                RecordType::Tombstones => decode_tombstones(&rec, &mut t).unwrap(),
                other => panic!("unexpected {other:?}"),
            }
        }
        (s, x, t)
    }

    #[test]
    fn keeps_and_drops() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mut w = Wal::open(dir, WalOptions::default()).unwrap();
        let mut recs = Vec::new();
        let mut b = Vec::new();
        encode_series(&[series(1), series(2), series(3)], &mut b);
        recs.push(b);
        let mut b = Vec::new();
        let samples: Vec<RefSample> = (1..=3)
            .flat_map(|r| {
                [90, 100, 110].map(|t| RefSample {
                    series_ref: r,
                    t,
                    v: t as f64,
                })
            })
            .collect();
        encode_samples(&samples, &mut b);
        recs.push(b);
        let mut b = Vec::new();
        encode_tombstones(
            &[
                RefTombstone {
                    series_ref: 1,
                    mint: 0,
                    maxt: 50,
                },
                RefTombstone {
                    series_ref: 1,
                    mint: 60,
                    maxt: 120,
                },
                RefTombstone {
                    series_ref: 2,
                    mint: 0,
                    maxt: 200,
                },
            ],
            &mut b,
        );
        recs.push(b);
        recs.push(vec![6, 1, 2, 3]); // metadata: dropped
        let refs: Vec<&[u8]> = recs.iter().map(Vec::as_slice).collect();
        w.log(&refs).unwrap();
        assert_eq!(w.next_segment().unwrap(), 1);
        let mut b = Vec::new();
        encode_series(&[series(4)], &mut b);
        w.log(&[&b]).unwrap();
        w.next_segment().unwrap();

        let keep = |r: u64| r != 2;
        let cp = checkpoint(dir, 0, 1, &keep, 100).unwrap();
        assert_eq!(cp, dir.join("checkpoint.00000001"));
        assert_eq!(last_checkpoint(dir).unwrap(), Some((cp.clone(), 1)));
        let (s, x, t) = read_decoded(&cp);
        assert_eq!(
            s.iter().map(|s| s.series_ref).collect::<Vec<_>>(),
            vec![1, 3, 4]
        );
        assert_eq!(
            x.iter().map(|s| (s.series_ref, s.t)).collect::<Vec<_>>(),
            vec![(1, 100), (1, 110), (3, 100), (3, 110)]
        );
        assert_eq!(
            t,
            vec![RefTombstone {
                series_ref: 1,
                mint: 60,
                maxt: 120
            }]
        );
        w.truncate(2).unwrap();
        assert_eq!(Wal::segment_range(dir).unwrap(), Some((2, 2)));

        // A second checkpoint builds on the first and deletes it.
        let mut b = Vec::new();
        encode_samples(
            &[RefSample {
                series_ref: 4,
                t: 200,
                v: 1.0,
            }],
            &mut b,
        );
        w.log(&[&b]).unwrap();
        w.next_segment().unwrap();
        let keep = |r: u64| r == 4 || r == 1;
        let cp2 = checkpoint(dir, 2, 2, &keep, 150).unwrap();
        assert!(!cp.exists());
        let (s, x, t) = read_decoded(&cp2);
        assert_eq!(
            s.iter().map(|s| s.series_ref).collect::<Vec<_>>(),
            vec![1, 4]
        );
        assert_eq!(
            x,
            vec![RefSample {
                series_ref: 4,
                t: 200,
                v: 1.0
            }]
        );
        assert!(t.is_empty());
        // Covering the same range again is refused.
        assert!(checkpoint(dir, 2, 2, &keep, 150).is_err());
    }

    #[test]
    fn delete_before() {
        let tmp = tempfile::tempdir().unwrap();
        for n in [
            "checkpoint.00000001",
            "checkpoint.00000005",
            "checkpoint.00000003.tmp",
        ] {
            fs::create_dir(tmp.path().join(n)).unwrap();
        }
        delete_checkpoints_before(tmp.path(), 5).unwrap();
        let mut left: Vec<String> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, vec!["checkpoint.00000005"]);
        assert_eq!(last_checkpoint(tmp.path()).unwrap().map(|c| c.1), Some(5));
    }
}
