//! Truncation: delete the WAL segments every remote-write queue has sent (and those
//! whose samples are all older than the max retention time, counting what that loses),
//! keeping the Series records of live series in a checkpoint; drop series that have had
//! no samples for a while from memory.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use strata_tsdb::wal::{Wal, checkpoint, last_checkpoint};

use super::{AgentStorage, now_ms};
use crate::error::Result;

/// The readers of the WAL that truncation must wait for: the remote-write queues.
pub trait WalConsumers: Send + Sync {
    /// Per reader: its name and the lowest segment it still needs (every record in the
    /// segments before it has been acknowledged).
    fn needed_segments(&self) -> Vec<(String, u32)>;

    /// Truncation deleted `samples` samples reader `name` had not acknowledged, because
    /// they were older than the max retention time.
    fn dropped_for_age(&self, name: &str, samples: u64);
}

/// No readers: every segment but the current one may go.
impl WalConsumers for () {
    fn needed_segments(&self) -> Vec<(String, u32)> {
        Vec::new()
    }

    fn dropped_for_age(&self, _: &str, _: u64) {}
}

/// What one truncation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TruncateReport {
    /// Segments below this index were deleted (or were already gone).
    pub first_kept_segment: u32,
    pub segments_deleted: u32,
    /// The checkpoint written, if any.
    pub checkpoint: Option<u32>,
    /// Series dropped from memory.
    pub series_removed: usize,
    /// Per reader, unacknowledged samples deleted for age (approximate: whole segments
    /// from the one the reader is in).
    pub dropped_for_age: Vec<(String, u64)>,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl AgentStorage {
    /// Truncates the WAL now (see the module docs of [`crate::storage`]).
    pub fn truncate(&self, consumers: &dyn WalConsumers) -> Result<TruncateReport> {
        self.truncate_at(consumers, now_ms())
    }

    /// [`AgentStorage::truncate`] with `now` (ms) given.
    pub fn truncate_at(&self, consumers: &dyn WalConsumers, now: i64) -> Result<TruncateReport> {
        let inner = &self.inner;
        let _serial = inner.truncating.lock();
        let started = Instant::now();
        let mut report = TruncateReport::default();
        let (current, stats) = {
            let st = inner.wal.lock();
            let Some(wal) = st.wal.as_ref() else {
                return Ok(report);
            };
            (wal.current_segment(), st.segments.clone())
        };
        let Some((first, _)) = Wal::segment_range(&inner.wal_dir)? else {
            return Ok(report);
        };
        let needed = consumers.needed_segments();
        let mut boundary = needed
            .iter()
            .map(|(_, s)| *s)
            .min()
            .unwrap_or(current)
            .max(first)
            .min(current);

        // Segments whose samples are all too old go, sent or not.
        let cutoff = now.saturating_sub(ms(inner.opts.max_wal_time));
        let mut expired = first;
        while expired < current && stats.get(&expired).is_none_or(|s| s.max_t < cutoff) {
            expired += 1;
        }
        if expired > boundary {
            for (name, seg) in needed.iter().filter(|(_, s)| *s < expired) {
                let lost: u64 = stats.range(*seg..expired).map(|(_, s)| s.samples).sum();
                if lost > 0 {
                    tracing::warn!(
                        queue = %name,
                        samples = lost,
                        from_segment = seg,
                        to_segment = expired - 1,
                        max_age_ms = ms(inner.opts.max_wal_time),
                        "deleting WAL segments older than the max retention time that remote write has not sent"
                    );
                    consumers.dropped_for_age(name, lost);
                    inner.metrics.dropped_for_age.add(lost);
                    report.dropped_for_age.push((name.clone(), lost));
                }
            }
            boundary = expired;
        }
        report.first_kept_segment = boundary;

        // A series none of whose samples is left in the kept segments, and without
        // samples for the minimum WAL time, is dropped.
        let retained_min = stats
            .range(boundary..)
            .map(|(_, s)| s.min_t)
            .min()
            .unwrap_or(i64::MAX);
        let gc_mint = retained_min.min(now.saturating_sub(ms(inner.opts.min_wal_time)));
        report.series_removed = inner.series.gc(gc_mint);
        inner.metrics.gc_series.add(report.series_removed as u64);

        if boundary > first {
            let to = boundary - 1;
            let prev = last_checkpoint(&inner.wal_dir)?.map(|(_, i)| i);
            if prev.is_none_or(|p| p < to) {
                inner.metrics.checkpoints.inc();
                let series = &inner.series;
                let keep = |r: u64| series.contains(r);
                // Every sample before the boundary has been sent or is too old: the
                // checkpoint keeps only the Series records of live series.
                if let Err(e) = checkpoint(&inner.wal_dir, first, to, &keep, i64::MAX) {
                    inner.metrics.checkpoint_failures.inc();
                    return Err(e.into());
                }
                report.checkpoint = Some(to);
            }
            let mut st = inner.wal.lock();
            if let Some(wal) = st.wal.as_mut() {
                wal.truncate(boundary)?;
            }
            st.segments.retain(|&k, _| k >= boundary);
            inner.first_segment.store(boundary, Ordering::SeqCst);
            report.segments_deleted = boundary - first;
        }
        inner.metrics.truncations.inc();
        let took = started.elapsed();
        let total = inner.metrics.truncate_seconds.get() + took.as_secs_f64();
        inner.metrics.truncate_seconds.set(total);
        tracing::info!(
            first_kept_segment = boundary,
            segments_deleted = report.segments_deleted,
            series_removed = report.series_removed,
            duration_ms = took.as_millis() as u64,
            "agent WAL truncated"
        );
        Ok(report)
    }

    /// Runs [`AgentStorage::truncate`] every `truncate_frequency` on a thread until the
    /// returned task is stopped or dropped.
    pub fn spawn_truncation(&self, consumers: Arc<dyn WalConsumers>) -> TruncationTask {
        let every = self.inner.opts.truncate_frequency;
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let db = self.clone();
        let s = stop.clone();
        let handle = std::thread::Builder::new()
            .name("agent-truncate".into())
            .spawn(move || {
                loop {
                    {
                        let mut stopped = s.0.lock();
                        if !*stopped {
                            let _ = s.1.wait_for(&mut stopped, every);
                        }
                        if *stopped {
                            return;
                        }
                    }
                    if let Err(e) = db.truncate(consumers.as_ref()) {
                        tracing::warn!(error = %e, "agent WAL truncation failed");
                    }
                }
            })
            .ok();
        TruncationTask { stop, handle }
    }
}

/// The background truncation thread; stops when dropped.
pub struct TruncationTask {
    stop: Arc<(Mutex<bool>, Condvar)>,
    handle: Option<JoinHandle<()>>,
}

impl TruncationTask {
    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        *self.stop.0.lock() = true;
        self.stop.1.notify_all();
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for TruncationTask {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::storage::AgentOptions;
    use strata_model::Labels;

    struct Fixed(Vec<(String, u32)>, Mutex<Vec<(String, u64)>>);

    impl WalConsumers for Fixed {
        fn needed_segments(&self) -> Vec<(String, u32)> {
            self.0.clone()
        }
        fn dropped_for_age(&self, name: &str, samples: u64) {
            self.1.lock().push((name.to_string(), samples));
        }
    }

    fn opts() -> AgentOptions {
        AgentOptions {
            wal_segment_size: 32 * 1024,
            wal_compression: false,
            truncate_frequency: Duration::from_secs(60),
            min_wal_time: Duration::from_secs(60),
            max_wal_time: Duration::from_secs(3600),
        }
    }

    /// Writes `n` commits of 50 series at timestamps `t0 + i`.
    fn fill(db: &AgentStorage, t0: i64, n: i64, job: &str) {
        let mut app = db.appender();
        for i in 0..n {
            for s in 0..50 {
                let l = Labels::new(&[("__name__", format!("m{s}")), ("job", job.to_string())])
                    .unwrap();
                app.append(None, &l, t0 + i, i as f64).unwrap();
            }
            app.commit().unwrap();
        }
    }

    #[test]
    fn keeps_what_consumers_need_and_drops_by_age() {
        let tmp = tempfile::tempdir().unwrap();
        let db = AgentStorage::open(tmp.path(), opts()).unwrap();
        let hour = 3_600_000;
        let now = 10 * hour;
        // Old data (5h ago), then recent data.
        fill(&db, now - 5 * hour, 200, "old");
        let old_last = db.current_segment().unwrap();
        fill(&db, now - 1000, 200, "new");
        let current = db.current_segment().unwrap();
        assert!(
            old_last >= 2 && current > old_last + 1,
            "{old_last} {current}"
        );

        // A consumer at segment 1: nothing below 1 is sent, but segments older than
        // the max time go anyway; the loss is reported.
        let c = Fixed(vec![("q".into(), 1)], Mutex::new(Vec::new()));
        let rep = db.truncate_at(&c, now).unwrap();
        assert!(rep.first_kept_segment >= old_last, "{rep:?}");
        assert_eq!(rep.dropped_for_age.len(), 1);
        assert!(rep.dropped_for_age[0].1 > 0);
        assert_eq!(c.1.lock().len(), 1);
        // The old series still have samples in the kept, mixed segment.
        assert_eq!(rep.series_removed, 0);
        let (first, _) = Wal::segment_range(db.wal_dir()).unwrap().unwrap();
        assert_eq!(first, rep.first_kept_segment);

        // A consumer that is up to date lets everything but the current segment go.
        let cur = db.current_segment().unwrap();
        let c = Fixed(vec![("q".into(), cur)], Mutex::new(Vec::new()));
        let rep = db.truncate_at(&c, now).unwrap();
        assert_eq!(rep.first_kept_segment, cur);
        assert!(rep.dropped_for_age.is_empty());
        // Now the old series have no samples left: dropped from memory.
        assert_eq!(rep.series_removed, 50);
        assert_eq!(db.num_series(), 50);
        drop(db);

        // Reopening replays the checkpoint: the live series keep their refs.
        let db = AgentStorage::open(tmp.path(), opts()).unwrap();
        assert_eq!(db.num_series(), 50);
    }
}
