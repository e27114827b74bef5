//! The WAL watcher of a queue (Prometheus' `tsdb/wlog/watcher.go`): tails the segments
//! from the queue's acknowledged position as they are written, follows rotation, skips
//! segments deleted by truncation, and hands the samples to the shards.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use strata_model::Labels;
use strata_relabel::{RelabelBuilder, process_builder};
use strata_tsdb::wal::record::decode_samples;
use strata_tsdb::wal::segment::list_segments;
use strata_tsdb::wal::{RecordType, RefSample, record_type};

use super::progress::WalPosition;
use super::queue::QueueCore;
use super::shards::Item;
use super::tail::{Next, SegmentTail};
use crate::storage::now_ms;
use crate::storage::series::IntMap;

/// How long to wait for a write notification before looking at the WAL anyway.
const POLL: Duration = Duration::from_millis(500);

enum Resolved {
    Keep(Labels),
    Relabeled,
    Unknown,
}

struct State {
    core: Arc<QueueCore>,
    samples: Vec<RefSample>,
    items: Vec<Item>,
    parts: Vec<Vec<Item>>,
    /// Write relabeling results by series ref (only with `write_relabel_configs`).
    cache: IntMap<Option<Labels>>,
    builder: RelabelBuilder,
    unknown_logged: u64,
}

pub(crate) fn run(core: Arc<QueueCore>, start: WalPosition) {
    let mut st = State {
        core: core.clone(),
        samples: Vec::new(),
        items: Vec::new(),
        parts: Vec::new(),
        cache: IntMap::default(),
        builder: RelabelBuilder::new(),
        unknown_logged: 0,
    };
    let storage = core.storage.clone();
    let dir = storage.wal_dir().to_path_buf();
    let mut pos = start;
    let mut tail: Option<SegmentTail> = None;
    let mut drained_once = false;
    while !core.stop.load(Ordering::Relaxed) {
        let first = storage.first_segment();
        if pos.segment < first {
            tracing::warn!(
                queue = %core.name,
                from = pos.segment,
                to = first,
                "WAL segments were truncated before this queue read them; skipping ahead"
            );
            pos = jump(&core, first);
            tail = None;
        }
        if tail.is_none() {
            match SegmentTail::open(&dir, pos.segment, pos.offset) {
                Ok(t) => {
                    core.metrics.watcher_segment.set(f64::from(pos.segment));
                    st.evict_cache();
                    tail = Some(t);
                }
                Err(e) => {
                    let missing = matches!(&e, crate::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound);
                    match next_existing(&dir, pos.segment) {
                        // Deleted by truncation: go on with what is left.
                        Some(next) if missing => pos = jump(&core, next),
                        _ => {
                            tracing::warn!(queue = %core.name, segment = pos.segment, error = %e, "cannot open WAL segment; retrying");
                            storage.notify().wait(storage.notify().generation(), POLL);
                        }
                    }
                    continue;
                }
            }
        }
        let Some(t) = tail.as_mut() else { continue };
        let generation = storage.notify().generation();
        match t.next() {
            Ok(Next::Record(rec, offset)) => {
                drained_once = false;
                let end = WalPosition {
                    segment: pos.segment,
                    offset,
                };
                if st.process(rec, end) {
                    pos = end;
                }
            }
            Ok(Next::Pending) => {
                let finished = match storage.current_segment() {
                    Ok(cur) => cur > pos.segment,
                    Err(_) => next_existing(&dir, pos.segment).is_some(),
                };
                if !finished {
                    storage.notify().wait(generation, POLL);
                    continue;
                }
                // The writer has moved on, so this segment is complete: read it to the
                // end once more, then continue with the next one.
                if !drained_once {
                    drained_once = true;
                    continue;
                }
                drained_once = false;
                if t.has_trailing_data() {
                    tracing::warn!(
                        queue = %core.name,
                        segment = pos.segment,
                        offset = t.position(),
                        "WAL segment ends in an incomplete record; skipping it"
                    );
                }
                if let Some(next) = next_existing(&dir, pos.segment) {
                    pos = jump(&core, next);
                    tail = None;
                }
            }
            Err(e) => {
                tracing::error!(queue = %core.name, error = %e, "error reading the WAL");
                match next_existing(&dir, pos.segment) {
                    Some(next) if storage.current_segment().is_ok_and(|c| c > pos.segment) => {
                        tracing::warn!(queue = %core.name, segment = pos.segment, "skipping the rest of a corrupt WAL segment");
                        pos = jump(&core, next);
                        tail = None;
                    }
                    _ => std::thread::sleep(Duration::from_secs(1)),
                }
            }
        }
    }
}

/// Moves to the start of `segment`, recording the jump as acknowledged progress.
fn jump(core: &QueueCore, segment: u32) -> WalPosition {
    let pos = WalPosition { segment, offset: 0 };
    let seq = core.tracker.next_seq();
    core.tracker.record_done(seq, pos);
    core.progress_notify.notify_one();
    pos
}

/// The lowest segment after `after` on disk.
fn next_existing(dir: &std::path::Path, after: u32) -> Option<u32> {
    list_segments(dir).ok()?.into_iter().find(|&s| s > after)
}

impl State {
    /// Handles one record; false if stopped before it was fully handed over.
    fn process(&mut self, rec: &[u8], end: WalPosition) -> bool {
        let core = self.core.clone();
        let seq = core.tracker.next_seq();
        match record_type(rec) {
            RecordType::Series => core.metrics.records_series.inc(),
            RecordType::Samples => {
                core.metrics.records_samples.inc();
                self.samples.clear();
                if let Err(e) = decode_samples(rec, &mut self.samples) {
                    core.metrics.record_decode_failures.inc();
                    tracing::error!(queue = %core.name, segment = end.segment, offset = end.offset, error = %e, "undecodable Samples record skipped");
                } else {
                    self.enqueue(seq);
                    if core.stop.load(Ordering::Relaxed) {
                        return false;
                    }
                }
            }
            _ => core.metrics.records_other.inc(),
        }
        core.tracker.record_done(seq, end);
        true
    }

    fn enqueue(&mut self, seq: u64) {
        let core = self.core.clone();
        let m = &core.metrics;
        let age_limit = core.settings.sample_age_limit;
        let oldest_ok = if age_limit.is_zero() {
            i64::MIN
        } else {
            now_ms().saturating_sub(i64::try_from(age_limit.as_millis()).unwrap_or(i64::MAX))
        };
        let samples = std::mem::take(&mut self.samples);
        let mut highest = i64::MIN;
        for s in &samples {
            if s.t < oldest_ok {
                m.dropped_too_old.inc();
                continue;
            }
            match self.resolve(s.series_ref) {
                Resolved::Keep(labels) => {
                    highest = highest.max(s.t);
                    self.items.push(Item {
                        series_ref: s.series_ref,
                        labels,
                        t: s.t,
                        v: s.v,
                        seq,
                    });
                }
                Resolved::Relabeled => {
                    m.dropped_series.inc();
                    core.data_dropped.incr(1);
                }
                Resolved::Unknown => {
                    m.dropped_unknown.inc();
                    core.data_dropped.incr(1);
                    self.unknown_logged += 1;
                    if self.unknown_logged.is_power_of_two() {
                        tracing::info!(queue = %core.name, series_ref = s.series_ref, total = self.unknown_logged, "Dropped sample for series that was not explicitly dropped via relabelling");
                    }
                }
            }
        }
        self.samples = samples;
        if highest > i64::MIN {
            m.highest_enqueued.set_max(highest.div_euclid(1000) as f64);
        }
        let n = core
            .shards
            .enqueue(&mut self.items, &mut self.parts, &core.stop, || {
                m.enqueue_retries.inc()
            });
        m.pending.add(n as i64);
    }

    fn resolve(&mut self, r: u64) -> Resolved {
        let core = &self.core;
        if core.relabel.is_empty() {
            return match core.storage.series_labels(r) {
                Some(l) => Resolved::Keep(l),
                None => Resolved::Unknown,
            };
        }
        if let Some(c) = self.cache.get(&r) {
            return match c {
                Some(l) => Resolved::Keep(l.clone()),
                None => Resolved::Relabeled,
            };
        }
        let Some(base) = core.storage.series_labels(r) else {
            return Resolved::Unknown;
        };
        // Prometheus adds the external labels before write relabeling.
        let b = &mut self.builder;
        b.reset(&base);
        for (n, v) in &core.external {
            if b.get(n).is_none() {
                b.set(n, v);
            }
        }
        let kept = process_builder(b, &core.relabel).then(|| b.labels());
        self.cache.insert(r, kept.clone());
        match kept {
            Some(l) => Resolved::Keep(l),
            None => Resolved::Relabeled,
        }
    }

    /// Forgets relabeling results of series the storage no longer has.
    fn evict_cache(&mut self) {
        if self.cache.len() > self.core.storage.num_series() + 1024 {
            let storage = &self.core.storage;
            self.cache
                .retain(|r, _| storage.series_labels(*r).is_some());
        }
    }
}
