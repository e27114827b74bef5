//! Appending: samples are staged per appender and written to the WAL on commit, as one
//! Series record for new series and one Samples record.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use strata_model::Labels;
use strata_tsdb::wal::record::{encode_samples, encode_series};
use strata_tsdb::wal::{RefSample, RefSeries};

use super::Inner;
use super::series::Bump;
use crate::error::{Error, Result};

/// Reusable staging buffers of an appender (pooled by the storage).
#[derive(Default)]
pub(crate) struct Buffers {
    series: Vec<RefSeries>,
    samples: Vec<RefSample>,
    /// Newest timestamp of the series before each staged sample (for rollback).
    prev: Vec<i64>,
    rec_series: Vec<u8>,
    rec_samples: Vec<u8>,
}

impl Buffers {
    fn clear(&mut self) {
        self.series.clear();
        self.samples.clear();
        self.prev.clear();
        self.rec_series.clear();
        self.rec_samples.clear();
    }
}

/// Stages samples for one commit. Not shared between threads; take one per scraper.
/// Reusable after [`AgentAppender::commit`] or [`AgentAppender::rollback`]; dropping it
/// without either discards the staged samples like a rollback.
pub struct AgentAppender {
    db: Arc<Inner>,
    b: Buffers,
}

/// Pooled buffers larger than this are not kept.
const MAX_POOLED_SAMPLES: usize = 1 << 16;

impl AgentAppender {
    pub(crate) fn new(db: Arc<Inner>) -> Self {
        let b = db.buffers.lock().pop().unwrap_or_default();
        AgentAppender { db, b }
    }

    /// Stages sample `(t, v)` of the series `labels`. `series_ref` is a ref returned by an
    /// earlier call for the same labels: with it the labels are not looked at (unless the
    /// series has been dropped since; then empty labels are [`Error::UnknownRef`]).
    /// Returns the series ref to pass next time.
    ///
    /// As in Prometheus' agent, a sample not after the newest sample of its series is
    /// [`Error::OutOfOrder`].
    pub fn append(
        &mut self,
        series_ref: Option<u64>,
        labels: &Labels,
        t: i64,
        v: f64,
    ) -> Result<u64> {
        let series = &self.db.series;
        if let Some(r) = series_ref {
            match series.bump(r, t) {
                Bump::Ok(prev) => return Ok(self.stage(r, t, v, prev)),
                Bump::OutOfOrder(latest) => return Err(self.out_of_order(r, t, latest)),
                Bump::Missing if labels.is_empty() => return Err(Error::UnknownRef(r)),
                Bump::Missing => {}
            }
        }
        if labels.is_empty() {
            return Err(Error::EmptyLabels);
        }
        loop {
            let (r, created) = series.get_or_create(labels, None);
            if created {
                self.b.series.push(RefSeries {
                    series_ref: r,
                    labels: labels.clone(),
                });
            }
            match series.bump(r, t) {
                Bump::Ok(prev) => return Ok(self.stage(r, t, v, prev)),
                Bump::OutOfOrder(latest) => return Err(self.out_of_order(r, t, latest)),
                // Dropped by a concurrent truncation between the two calls: create it
                // again.
                Bump::Missing => {}
            }
        }
    }

    fn stage(&mut self, r: u64, t: i64, v: f64, prev: i64) -> u64 {
        self.b.samples.push(RefSample {
            series_ref: r,
            t,
            v,
        });
        self.b.prev.push(prev);
        r
    }

    fn out_of_order(&self, series_ref: u64, t: i64, latest: i64) -> Error {
        self.db.metrics.out_of_order.inc();
        Error::OutOfOrder {
            series_ref,
            t,
            latest,
        }
    }

    /// Number of staged samples.
    pub fn len(&self) -> usize {
        self.b.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.b.samples.is_empty() && self.b.series.is_empty()
    }

    /// Writes the staged series and samples to the WAL and wakes the remote-write
    /// readers. On error nothing is staged any more and the series' newest timestamps
    /// are put back.
    pub fn commit(&mut self) -> Result<()> {
        if self.is_empty() {
            return Ok(());
        }
        let res = self.write(true);
        if res.is_err() {
            self.restore_timestamps();
        }
        self.b.clear();
        res
    }

    /// Discards the staged samples. New series are still logged (so their refs stay
    /// valid, as Prometheus does).
    pub fn rollback(&mut self) -> Result<()> {
        self.restore_timestamps();
        self.b.samples.clear();
        self.b.prev.clear();
        let res = if self.b.series.is_empty() {
            Ok(())
        } else {
            self.write(false)
        };
        self.b.clear();
        res
    }

    fn restore_timestamps(&mut self) {
        let series = &self.db.series;
        for (s, &prev) in self.b.samples.iter().zip(&self.b.prev).rev() {
            series.restore(s.series_ref, s.t, prev);
        }
    }

    fn write(&mut self, with_samples: bool) -> Result<()> {
        let b = &mut self.b;
        let mut min_t = i64::MAX;
        let mut max_t = i64::MIN;
        if !b.series.is_empty() {
            encode_series(&b.series, &mut b.rec_series);
        }
        let n = if with_samples { b.samples.len() } else { 0 };
        if n > 0 {
            for s in &b.samples {
                min_t = min_t.min(s.t);
                max_t = max_t.max(s.t);
            }
            encode_samples(&b.samples, &mut b.rec_samples);
        }
        {
            let mut st = self.db.wal.lock();
            let st = &mut *st;
            let wal = st.wal.as_mut().ok_or(Error::Closed)?;
            match (b.rec_series.is_empty(), b.rec_samples.is_empty()) {
                (false, false) => wal.log(&[&b.rec_series, &b.rec_samples])?,
                (false, true) => wal.log(&[&b.rec_series])?,
                (true, false) => wal.log(&[&b.rec_samples])?,
                (true, true) => {}
            }
            if n > 0 {
                // The Samples record is the last one logged, so it is in the current
                // segment.
                let seg = wal.current_segment();
                st.segments
                    .entry(seg)
                    .or_default()
                    .add(n as u64, min_t, max_t);
            }
        }
        if n > 0 {
            let m = &self.db.metrics;
            m.appended.add(n as u64);
            m.highest_ts.fetch_max(max_t, Ordering::Relaxed);
        }
        self.db.notify.notify();
        Ok(())
    }
}

impl Drop for AgentAppender {
    fn drop(&mut self) {
        if !self.is_empty() {
            let _ = self.rollback();
        }
        let mut b = std::mem::take(&mut self.b);
        if b.samples.capacity() <= MAX_POOLED_SAMPLES {
            b.clear();
            let mut pool = self.db.buffers.lock();
            if pool.len() < 64 {
                pool.push(b);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use crate::storage::{AgentOptions, AgentStorage};
    use std::cell::Cell;
    use strata_model::Labels;

    /// Counts allocations of the current thread.
    struct Counting;

    thread_local! {
        static ALLOCS: Cell<u64> = const { Cell::new(0) };
    }

    #[allow(unsafe_code)]
    unsafe impl std::alloc::GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
            ALLOCS.with(|c| c.set(c.get() + 1));
            // SAFETY: forwarded unchanged to the system allocator.
            unsafe { std::alloc::System.alloc(l) }
        }
        unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
            // SAFETY: forwarded unchanged to the system allocator.
            unsafe { std::alloc::System.dealloc(p, l) }
        }
        unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, n: usize) -> *mut u8 {
            ALLOCS.with(|c| c.set(c.get() + 1));
            // SAFETY: forwarded unchanged to the system allocator.
            unsafe { std::alloc::System.realloc(p, l, n) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    #[test]
    fn steady_appends_do_not_allocate_per_sample() {
        let tmp = tempfile::tempdir().unwrap();
        let db = AgentStorage::open(tmp.path(), AgentOptions::default()).unwrap();
        let ls: Vec<Labels> = (0..2000)
            .map(|i| Labels::new(&[("__name__", "m".to_string()), ("i", i.to_string())]).unwrap())
            .collect();
        let mut refs = vec![None; ls.len()];
        let mut round = |t: i64| {
            let mut app = db.appender();
            for (i, l) in ls.iter().enumerate() {
                refs[i] = Some(app.append(refs[i], l, t, 1.0).unwrap());
            }
            app.commit().unwrap();
        };
        // Warm up: series creation and buffer growth.
        round(1);
        round(2);
        let before = ALLOCS.with(Cell::get);
        for t in 3..13 {
            round(t);
        }
        let per_commit = (ALLOCS.with(Cell::get) - before) / 10;
        assert!(
            per_commit <= 4,
            "{per_commit} allocations per 2000-sample commit"
        );
    }

    fn l(v: &str) -> Labels {
        Labels::new(&[("__name__", "m"), ("i", v)]).unwrap()
    }

    #[test]
    fn append_commit_rollback_and_out_of_order() {
        let tmp = tempfile::tempdir().unwrap();
        let db = AgentStorage::open(tmp.path(), AgentOptions::default()).unwrap();
        let mut app = db.appender();
        let r = app.append(None, &l("a"), 10, 1.0).unwrap();
        assert_eq!(app.append(Some(r), &l("a"), 11, 2.0).unwrap(), r);
        assert!(
            app.append(Some(r), &l("a"), 11, 3.0)
                .unwrap_err()
                .is_out_of_order()
        );
        app.commit().unwrap();
        assert_eq!(db.samples_appended(), 2);
        assert_eq!(db.highest_timestamp(), Some(11));

        app.append(Some(r), &l("a"), 12, 1.0).unwrap();
        app.rollback().unwrap();
        // Rolled back: 12 is accepted again.
        app.append(Some(r), &l("a"), 12, 1.0).unwrap();
        app.commit().unwrap();
        // A stale ref falls back to the labels.
        assert_ne!(app.append(Some(9999), &l("b"), 1, 1.0).unwrap(), 9999);
        assert!(matches!(
            app.append(None, &Labels::empty(), 1, 1.0),
            Err(crate::Error::EmptyLabels)
        ));
        app.commit().unwrap();
        assert_eq!(db.num_series(), 2);
        db.close().unwrap();
        assert!(matches!(
            {
                let mut a = db.appender();
                a.append(None, &l("c"), 1, 1.0).unwrap();
                a.commit()
            },
            Err(crate::Error::Closed)
        ));
    }
}
