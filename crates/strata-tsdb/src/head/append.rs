//! Staging and committing samples (floats and native histograms): validation with
//! Prometheus' rules (`append_check`), WAL first (`append_wal`), then memory.

use strata_model::Labels;
use strata_model::histogram::{FloatHistogram, Histogram};

use std::sync::Arc;

use super::append_check::{Bounds, check};
use super::append_wal::encode_records;
use super::hist_equals::{float_equals, int_equals};
use super::hist_series::HistRef;
use super::{Head, SeriesCell};
use crate::error::{Error, Result};

/// What a commit did.
#[derive(Debug, Default)]
pub struct CommitOutcome {
    /// Float samples written (WAL and memory).
    pub appended: usize,
    /// Native histogram samples (integer and float) written.
    pub histograms_appended: usize,
    /// Float samples identical to a stored one (same timestamp, same value bits):
    /// ignored, as Prometheus ignores them.
    pub duplicates_ignored: usize,
    /// Histogram samples equal to a stored one: ignored.
    pub histogram_duplicates_ignored: usize,
    /// Samples rejected, each with an error naming the series and timestamps.
    pub rejected: Vec<Error>,
    /// Series created by this commit.
    pub series_created: usize,
}

/// A staged native histogram value.
#[derive(Debug, Clone)]
pub(crate) enum HistValue {
    Int(Histogram),
    Float(FloatHistogram),
}

impl HistValue {
    pub fn as_ref(&self) -> HistRef<'_> {
        match self {
            HistValue::Int(h) => HistRef::Int(h),
            HistValue::Float(h) => HistRef::Float(h),
        }
    }

    /// Prometheus' `Equals`; histograms of different kinds never are.
    pub fn equals(&self, other: &HistValue) -> bool {
        match (self, other) {
            (HistValue::Int(a), HistValue::Int(b)) => int_equals(a, b),
            (HistValue::Float(a), HistValue::Float(b)) => float_equals(a, b),
            _ => false,
        }
    }
}

/// A staged histogram sample; `before` is the number of floats staged before it, which
/// keeps the order of a commit that mixes both.
#[derive(Debug)]
pub(crate) struct StagedHist {
    pub r: u64,
    pub t: i64,
    pub h: HistValue,
    pub before: usize,
}

/// Stages samples for one atomic commit.
pub struct Appender<'a> {
    head: &'a Head,
    staged: Vec<(u64, i64, f64)>,
    /// The series of each staged float (same index as `staged`).
    cells: Vec<Arc<SeriesCell>>,
    hists: Vec<StagedHist>,
    created: usize,
}

fn empty_labels() -> Error {
    Error::InvalidLabels(strata_model::Error::InvalidLabels {
        labels: "{}".into(),
        reason: "empty label set".into(),
    })
}

impl<'a> Appender<'a> {
    pub(crate) fn new(head: &'a Head) -> Self {
        Appender {
            head,
            staged: Vec::new(),
            cells: Vec::new(),
            hists: Vec::new(),
            created: 0,
        }
    }

    /// Stages a sample for the series with these labels, creating the series if needed.
    /// Returns the series ref, which later appends may use with [`Appender::append_ref`].
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<u64> {
        if labels.is_empty() {
            return Err(empty_labels());
        }
        let (cell, created) = self.head.get_or_create_cell(labels);
        self.created += usize::from(created);
        Ok(self.stage_float(cell, t, v))
    }

    fn stage_float(&mut self, cell: Arc<SeriesCell>, t: i64, v: f64) -> u64 {
        let r = cell.r;
        self.staged.push((r, t, v));
        self.cells.push(cell);
        r
    }

    /// [`Appender::append`] for the series with these label pairs: sorted by name,
    /// unique and valid names (as [`Labels::check_sorted_pairs`] accepts them), empty
    /// values skipped. The labels are only built when the series is new.
    pub fn append_sorted(&mut self, pairs: &[(&str, &str)], t: i64, v: f64) -> Result<u64> {
        if pairs.iter().all(|(_, v)| v.is_empty()) {
            return Err(empty_labels());
        }
        let (cell, created) = self.head.get_or_create_sorted(pairs);
        self.created += usize::from(created);
        Ok(self.stage_float(cell, t, v))
    }

    /// Stages a sample for an existing series ref.
    pub fn append_ref(&mut self, r: u64, t: i64, v: f64) -> Result<()> {
        let cell = match self.cells.last() {
            Some(c) if c.r == r && !c.m.lock().removed => c.clone(),
            _ => self
                .head
                .cell(r)
                .ok_or_else(|| Error::Decode(format!("unknown series ref {r}")))?,
        };
        self.stage_float(cell, t, v);
        Ok(())
    }

    /// Stages an integer native histogram for the series with these labels (created if
    /// needed) and returns its ref. A histogram Prometheus would refuse
    /// (`strata_model::histogram_validate`: bucket counts not matching the spans or the
    /// count, negative counts, bad schema or custom bounds) is refused here with
    /// [`Error::InvalidHistogram`].
    pub fn append_histogram(&mut self, labels: &Labels, t: i64, h: &Histogram) -> Result<u64> {
        h.validate()
            .map_err(|e| invalid(labels, t, e.to_string()))?;
        self.stage_new(labels, t, HistValue::Int(h.clone()))
    }

    /// Stages a float native histogram for the series with these labels.
    pub fn append_float_histogram(
        &mut self,
        labels: &Labels,
        t: i64,
        h: &FloatHistogram,
    ) -> Result<u64> {
        h.validate()
            .map_err(|e| invalid(labels, t, e.to_string()))?;
        self.stage_new(labels, t, HistValue::Float(h.clone()))
    }

    /// Stages an integer native histogram for an existing series ref.
    pub fn append_histogram_ref(&mut self, r: u64, t: i64, h: &Histogram) -> Result<()> {
        let labels = self.known(r)?;
        h.validate()
            .map_err(|e| invalid(&labels, t, e.to_string()))?;
        self.stage(r, t, HistValue::Int(h.clone()));
        Ok(())
    }

    /// Stages a float native histogram for an existing series ref.
    pub fn append_float_histogram_ref(&mut self, r: u64, t: i64, h: &FloatHistogram) -> Result<()> {
        let labels = self.known(r)?;
        h.validate()
            .map_err(|e| invalid(&labels, t, e.to_string()))?;
        self.stage(r, t, HistValue::Float(h.clone()));
        Ok(())
    }

    fn known(&self, r: u64) -> Result<Labels> {
        self.head
            .series_labels(r)
            .ok_or_else(|| Error::Decode(format!("unknown series ref {r}")))
    }

    fn stage_new(&mut self, labels: &Labels, t: i64, h: HistValue) -> Result<u64> {
        if labels.is_empty() {
            return Err(empty_labels());
        }
        let (r, created) = self.head.get_or_create(labels, None);
        self.created += usize::from(created);
        self.stage(r, t, h);
        Ok(r)
    }

    fn stage(&mut self, r: u64, t: i64, h: HistValue) {
        self.hists.push(StagedHist {
            r,
            t,
            h,
            before: self.staged.len(),
        });
    }

    /// Number of staged samples (floats and histograms).
    pub fn len(&self) -> usize {
        self.staged.len() + self.hists.len()
    }

    pub fn is_empty(&self) -> bool {
        self.staged.is_empty() && self.hists.is_empty()
    }

    /// Validates every staged sample, logs the accepted ones to the WAL and applies them.
    /// An error means nothing of this commit was acknowledged; per-sample rejections are
    /// reported in the outcome.
    pub fn commit(self) -> Result<CommitOutcome> {
        let head = self.head;
        let mut out = CommitOutcome {
            series_created: self.created,
            ..Default::default()
        };
        if self.is_empty() {
            return Ok(out);
        }
        let mut cs = head.commit.lock();
        let opts = head.options();
        let hard_min = head.min_valid_time();
        let head_max = head.max_time();
        let bounds = Bounds {
            hard_min,
            soft_min: match head_max {
                Some(m) => hard_min.max(m.saturating_sub(opts.chunk_range / 2)),
                None => hard_min,
            },
            ooo_min: head_max.map(|m| m.saturating_sub(opts.out_of_order_window)),
            window: opts.out_of_order_window,
        };
        let checked = check(
            head,
            &self.staged,
            &self.cells,
            &self.hists,
            &bounds,
            &mut out,
        );

        // Write-ahead: series records for series never logged, then the samples.
        let mut buf = std::mem::take(&mut cs.buf);
        buf.clear();
        let mut records: Vec<std::ops::Range<usize>> = Vec::with_capacity(2);
        encode_records(&mut buf, &mut records, &checked, &self.hists);
        let logged = match cs.wal.as_mut() {
            Some(wal) if !records.is_empty() => {
                let recs: Vec<&[u8]> = records.iter().map(|r| &buf[r.clone()]).collect();
                wal.log(&recs)
            }
            _ => Ok(()),
        };
        cs.buf = buf;
        if let Err(e) = logged {
            // The series stay unlogged so that a later commit logs them.
            for s in &checked.new_series {
                head.with_series(s.series_ref, |m| m.logged = false);
            }
            return Err(e);
        }

        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let mut next_hist = checked.hists.iter().peekable();
        let apply_hist = |k: usize| {
            let sh = self.hists.get(k)?;
            head.with_series(sh.r, |m| {
                m.append_histogram(sh.t, sh.h.as_ref(), opts.chunk_range)
            });
            Some(sh.t)
        };
        let float_cells = checked.staged_idx.iter().map(|&k| &self.cells[k]);
        for (i, ((s, &ooo), cell)) in checked
            .floats
            .iter()
            .zip(&checked.ooo_flags)
            .zip(float_cells)
            .enumerate()
        {
            while let Some(&&(k, _)) = next_hist.peek().filter(|h| h.1 == i) {
                if let Some(t) = apply_hist(k) {
                    lo = lo.min(t);
                    hi = hi.max(t);
                }
                next_hist.next();
            }
            let mut m = cell.m.lock();
            if m.removed {
                // Dropped by a truncation since it was checked, as if unknown.
            } else if ooo {
                let _ = m.insert_ooo(s.t, s.v);
            } else {
                m.append(s.t, s.v, opts.samples_per_chunk, opts.chunk_range);
            }
            drop(m);
            lo = lo.min(s.t);
            hi = hi.max(s.t);
        }
        for &(k, _) in next_hist {
            if let Some(t) = apply_hist(k) {
                lo = lo.min(t);
                hi = hi.max(t);
            }
        }
        if lo <= hi {
            head.observe_time(lo);
            head.observe_time(hi);
        }
        out.appended = checked.floats.len();
        out.histograms_appended = checked.hists.len();
        Ok(out)
    }
}

fn invalid(labels: &Labels, t: i64, reason: String) -> Error {
    Error::InvalidHistogram {
        series: labels.to_string(),
        t,
        reason,
    }
}

impl Head {
    /// A new appender.
    pub fn appender(&self) -> Appender<'_> {
        Appender::new(self)
    }
}
