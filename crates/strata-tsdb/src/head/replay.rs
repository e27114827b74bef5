//! Rebuilding the head from the WAL: the last checkpoint, then every later segment.

use std::collections::HashMap;
use std::path::Path;

use tracing::{info, warn};

use super::Head;
use super::hist_series::HistRef;
use crate::error::Result;
use crate::wal::checkpoint::last_checkpoint;
use crate::wal::histogram_record::{
    RefFloatHistogramSample, RefHistogramSample, decode_float_histogram_samples,
    decode_histogram_samples,
};
use crate::wal::reader::{ReadFailure, WalReader};
use crate::wal::record::{
    RecordType, RefSample, RefSeries, RefTombstone, decode_samples, decode_series,
    decode_tombstones, record_type,
};

/// What a replay found.
#[derive(Debug, Default, Clone)]
pub struct ReplayStats {
    pub records: u64,
    pub series: u64,
    pub samples: u64,
    /// Native histogram samples (integer and float) replayed.
    pub histograms: u64,
    /// Samples dropped because they referenced an unknown series or broke ordering.
    pub samples_skipped: u64,
    /// Records of kinds the head does not replay (exemplars, metadata...).
    pub records_skipped: u64,
    pub tombstones: u64,
}

impl Head {
    /// Replays `wal_dir` (checkpoint, then segments after it) into this head. Samples go
    /// through the same ordering rules as appends, without the time-bound checks; a
    /// sample older than its series' latest was accepted out of order and is kept.
    pub fn replay(&self, wal_dir: &Path) -> Result<ReplayStats> {
        self.replay_inner(wal_dir, false)
    }

    /// Like [`Head::replay`], for a log that another process may be writing: a record
    /// cut short at the end of the last segment (a write in progress, or a torn tail
    /// not repaired yet) ends the replay instead of failing it. Nothing is written.
    pub fn replay_live(&self, wal_dir: &Path) -> Result<ReplayStats> {
        self.replay_inner(wal_dir, true)
    }

    fn replay_inner(&self, wal_dir: &Path, live: bool) -> Result<ReplayStats> {
        let mut stats = ReplayStats::default();
        // Series refs in the WAL that duplicate another ref with the same labels.
        let mut alias: HashMap<u64, u64> = HashMap::new();
        let mut from_segment = 0u32;
        if let Some((cp_dir, idx)) = last_checkpoint(wal_dir)? {
            self.replay_dir(&cp_dir, 0, false, &mut alias, &mut stats)?;
            from_segment = idx.saturating_add(1);
        }
        if crate::wal::Wal::segment_range(wal_dir)?.is_some() {
            self.replay_dir(wal_dir, from_segment, live, &mut alias, &mut stats)?;
        }
        if stats.records > 0 {
            info!(
                records = stats.records,
                series = stats.series,
                samples = stats.samples,
                histograms = stats.histograms,
                skipped = stats.samples_skipped,
                "replayed write-ahead log"
            );
        }
        Ok(stats)
    }

    fn replay_dir(
        &self,
        dir: &Path,
        from: u32,
        live: bool,
        alias: &mut HashMap<u64, u64>,
        stats: &mut ReplayStats,
    ) -> Result<()> {
        let mut reader = WalReader::open(dir, from, None)?;
        let last_segment = crate::wal::Wal::segment_range(dir)?.map(|r| r.1);
        let mut series: Vec<RefSeries> = Vec::new();
        let mut samples: Vec<RefSample> = Vec::new();
        let mut stones: Vec<RefTombstone> = Vec::new();
        let mut ints: Vec<RefHistogramSample> = Vec::new();
        let mut floats: Vec<RefFloatHistogramSample> = Vec::new();
        let opts = self.options().clone();
        let min_valid = self.min_valid_time();
        loop {
            let rec = match reader.next_inner() {
                Ok(Some(rec)) => rec,
                Ok(None) => break,
                Err(ReadFailure::Bad {
                    segment,
                    offset,
                    truncated: true,
                    ..
                }) if live && Some(segment) == last_segment => {
                    warn!(
                        segment,
                        offset,
                        "WAL ends in a record cut short (still being written?); replayed up to it"
                    );
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            stats.records += 1;
            match record_type(&rec) {
                RecordType::Series => {
                    series.clear();
                    decode_series(&rec, &mut series)?;
                    for s in series.drain(..) {
                        let (r, created) = self.get_or_create(&s.labels, Some(s.series_ref));
                        if r != s.series_ref {
                            alias.insert(s.series_ref, r);
                        }
                        self.with_series(r, |m| m.logged = true);
                        stats.series += u64::from(created);
                    }
                }
                RecordType::Samples => {
                    samples.clear();
                    decode_samples(&rec, &mut samples)?;
                    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
                    for s in &samples {
                        if s.t < min_valid {
                            // Already persisted in a block.
                            stats.samples_skipped += 1;
                            continue;
                        }
                        let r = alias.get(&s.series_ref).copied().unwrap_or(s.series_ref);
                        let ok = self.with_series(r, |m| {
                            if !m.has_samples() || s.t > m.last_t {
                                m.append(s.t, s.v, opts.samples_per_chunk, opts.chunk_range);
                                true
                            } else if s.t < m.last_t {
                                // Accepted out of order when it was logged: keep it even if
                                // this head has no (or a smaller) out-of-order window.
                                m.insert_ooo(s.t, s.v).unwrap_or(false)
                            } else {
                                false
                            }
                        });
                        if ok == Some(true) {
                            stats.samples += 1;
                            lo = lo.min(s.t);
                            hi = hi.max(s.t);
                        } else {
                            stats.samples_skipped += 1;
                        }
                    }
                    if lo <= hi {
                        self.observe_time(lo);
                        self.observe_time(hi);
                    }
                }
                RecordType::HistogramSamples | RecordType::CustomBucketsHistogramSamples => {
                    ints.clear();
                    decode_histogram_samples(&rec, &mut ints)?;
                    let it = ints.iter().map(|s| (s.series_ref, s.t, HistRef::Int(&s.h)));
                    self.replay_histograms(it, alias, min_valid, opts.chunk_range, stats);
                }
                RecordType::FloatHistogramSamples
                | RecordType::CustomBucketsFloatHistogramSamples => {
                    floats.clear();
                    decode_float_histogram_samples(&rec, &mut floats)?;
                    let it = floats
                        .iter()
                        .map(|s| (s.series_ref, s.t, HistRef::Float(&s.h)));
                    self.replay_histograms(it, alias, min_valid, opts.chunk_range, stats);
                }
                RecordType::Tombstones => {
                    stones.clear();
                    decode_tombstones(&rec, &mut stones)?;
                    stats.tombstones += stones.len() as u64;
                }
                other => {
                    if stats.records_skipped == 0 {
                        warn!(record_type = ?other, "skipping WAL records the head does not replay");
                    }
                    stats.records_skipped += 1;
                }
            }
        }
        Ok(())
    }

    /// Applies histogram samples in order; older ones than their series' newest were
    /// never accepted (histograms are not taken out of order) and are skipped.
    fn replay_histograms<'a>(
        &self,
        samples: impl Iterator<Item = (u64, i64, HistRef<'a>)>,
        alias: &HashMap<u64, u64>,
        min_valid: i64,
        chunk_range: i64,
        stats: &mut ReplayStats,
    ) {
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for (r, t, h) in samples {
            if t < min_valid {
                stats.samples_skipped += 1;
                continue;
            }
            let r = alias.get(&r).copied().unwrap_or(r);
            let ok = self.with_series(r, |m| {
                if !m.has_samples() || t > m.last_t {
                    m.append_histogram(t, h, chunk_range);
                    true
                } else {
                    false
                }
            });
            if ok == Some(true) {
                stats.histograms += 1;
                lo = lo.min(t);
                hi = hi.max(t);
            } else {
                stats.samples_skipped += 1;
            }
        }
        if lo <= hi {
            self.observe_time(lo);
            self.observe_time(hi);
        }
    }
}
