//! Replay of the WAL at open: the last checkpoint, then every segment after it, restores
//! the series (with their refs) and their newest timestamps, and the per-segment sample
//! statistics that truncation by age needs.

use std::collections::BTreeMap;
use std::path::Path;

use strata_tsdb::wal::record::{decode_samples, decode_series};
use strata_tsdb::wal::{
    RecordType, RefSample, RefSeries, Wal, WalReader, last_checkpoint, record_type,
    repair_torn_tail,
};

use super::SegmentStats;
use super::series::{IntMap, SeriesMap};
use crate::error::Result;

pub(crate) struct Replayed {
    pub segments: BTreeMap<u32, SegmentStats>,
    pub dup_refs: IntMap<u64>,
    pub samples: u64,
    pub highest_ts: i64,
}

struct Replayer<'a> {
    series: &'a SeriesMap,
    out: Replayed,
    unknown_refs: u64,
    series_buf: Vec<RefSeries>,
    samples_buf: Vec<RefSample>,
}

pub(crate) fn replay(wal_dir: &Path, series: &SeriesMap) -> Result<Replayed> {
    if let Some((seg, off)) = repair_torn_tail(wal_dir)? {
        tracing::warn!(
            segment = seg,
            offset = off,
            "agent WAL ended in a torn record; truncated it there"
        );
    }
    let mut r = Replayer {
        series,
        out: Replayed {
            segments: BTreeMap::new(),
            dup_refs: IntMap::default(),
            samples: 0,
            highest_ts: i64::MIN,
        },
        unknown_refs: 0,
        series_buf: Vec::new(),
        samples_buf: Vec::new(),
    };
    let mut from = 0;
    if let Some((dir, idx)) = last_checkpoint(wal_dir)? {
        r.read(&mut WalReader::open(&dir, 0, None)?, None)?;
        from = idx.saturating_add(1);
    }
    if let Some((first, last)) = Wal::segment_range(wal_dir)? {
        for seg in first.max(from)..=last {
            r.read(&mut WalReader::open(wal_dir, seg, Some(seg))?, Some(seg))?;
        }
    }
    if r.unknown_refs > 0 {
        tracing::warn!(
            samples = r.unknown_refs,
            "agent WAL replay: samples of unknown series skipped"
        );
    }
    Ok(r.out)
}

impl Replayer<'_> {
    /// Reads every record; `segment` is `None` for the checkpoint, whose samples only
    /// raise the series' newest timestamps.
    fn read(&mut self, reader: &mut WalReader, segment: Option<u32>) -> Result<()> {
        while let Some(rec) = reader.next_record()? {
            match record_type(&rec) {
                RecordType::Series => {
                    self.series_buf.clear();
                    decode_series(&rec, &mut self.series_buf)?;
                    for s in self.series_buf.drain(..) {
                        let (r, _) = self.series.get_or_create(&s.labels, Some(s.series_ref));
                        self.series.note_ref(s.series_ref);
                        if r != s.series_ref {
                            self.out.dup_refs.insert(s.series_ref, r);
                        }
                    }
                }
                RecordType::Samples => {
                    self.samples_buf.clear();
                    decode_samples(&rec, &mut self.samples_buf)?;
                    let mut stats = SegmentStats::default();
                    for s in &self.samples_buf {
                        let r = self
                            .out
                            .dup_refs
                            .get(&s.series_ref)
                            .copied()
                            .unwrap_or(s.series_ref);
                        if !self.series.observe(r, s.t) {
                            self.unknown_refs += 1;
                            continue;
                        }
                        stats.add(1, s.t, s.t);
                    }
                    self.out.highest_ts = self.out.highest_ts.max(stats.max_t);
                    if let Some(seg) = segment
                        && stats.samples > 0
                    {
                        self.out.samples += stats.samples;
                        self.out.segments.entry(seg).or_default().add(
                            stats.samples,
                            stats.min_t,
                            stats.max_t,
                        );
                    }
                }
                // Histograms, exemplars, metadata, tombstones: not written by this
                // agent; a Prometheus agent's WAL may hold them. Skipped.
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use crate::storage::{AgentOptions, AgentStorage};
    use strata_model::Labels;

    #[test]
    fn reopen_restores_series_refs_and_timestamps() {
        let tmp = tempfile::tempdir().unwrap();
        let l = Labels::new(&[("__name__", "up"), ("job", "a")]).unwrap();
        let r = {
            let db = AgentStorage::open(tmp.path(), AgentOptions::default()).unwrap();
            let mut app = db.appender();
            let r = app.append(None, &l, 100, 1.0).unwrap();
            app.commit().unwrap();
            // Dropped without close, like a crash.
            r
        };
        let db = AgentStorage::open(tmp.path(), AgentOptions::default()).unwrap();
        assert_eq!(db.series_labels(r), Some(l.clone()));
        assert_eq!(db.highest_timestamp(), Some(100));
        let mut app = db.appender();
        assert!(
            app.append(Some(r), &l, 100, 1.0)
                .unwrap_err()
                .is_out_of_order()
        );
        assert_eq!(app.append(None, &l, 101, 1.0).unwrap(), r);
        let other = Labels::new(&[("__name__", "up"), ("job", "b")]).unwrap();
        assert!(app.append(None, &other, 1, 1.0).unwrap() > r);
        app.commit().unwrap();
    }
}
