//! The checks of a commit, with Prometheus' rules, over floats and native histograms in
//! the order they were staged: a sample older than the series' newest is out of order
//! (floats may be admitted by the out-of-order window, histograms are not); the same
//! timestamp with an identical value (float bits, or an equal histogram) is ignored,
//! anything else there is a duplicate; samples before the head's `max - chunk_range/2`
//! or before the newest block are out of bounds.

use std::collections::HashMap;

use std::sync::Arc;

use super::append::{CommitOutcome, StagedHist};
use super::refmap::RefMap;
use super::series::MemSeries;
use super::series::{HAS_HISTOGRAMS, LAST_IS_HISTOGRAM};
use super::{Head, SeriesCell};
use crate::error::Error;
use crate::wal::record::{RefSample, RefSeries};

/// The time bounds of a commit.
pub(crate) struct Bounds {
    /// Before this, samples belong to persisted blocks.
    pub hard_min: i64,
    /// Before this, in-order samples are out of bounds (unless in the window).
    pub soft_min: i64,
    /// Start of the out-of-order window (head max - window).
    pub ooo_min: Option<i64>,
    pub window: i64,
}

/// What passed the checks, in staging order.
#[derive(Default)]
pub(crate) struct Checked {
    pub floats: Vec<RefSample>,
    /// Per accepted float: its index among the staged floats.
    pub staged_idx: Vec<usize>,
    /// Per accepted float: whether it goes to the out-of-order buffer.
    pub ooo_flags: Vec<bool>,
    /// Accepted histograms: (index into the staged histograms, number of accepted floats
    /// before it).
    pub hists: Vec<(usize, usize)>,
    /// Series whose record must be logged first.
    pub new_series: Vec<RefSeries>,
}

/// The newest sample of a series as the commit goes along; with `LAST_STAGED`, `v` is
/// the index of a histogram staged by this commit.
#[derive(Clone, Copy)]
struct Last {
    t: i64,
    v: u64,
    has: bool,
    flags: u8,
}

const LAST_STAGED: u8 = 4;

struct Checker<'a> {
    head: &'a Head,
    hists: &'a [StagedHist],
    b: &'a Bounds,
    out: &'a mut CommitOutcome,
    last: RefMap<Last>,
    checked: Checked,
    /// Value bits of the floats accepted so far in this commit, by (ref, t), for the
    /// duplicate check of out-of-order samples (memory is only updated at the end).
    staged_at: HashMap<(u64, i64), u64>,
}

/// Checks every staged sample; rejections and ignored duplicates go to `out`.
pub(crate) fn check(
    head: &Head,
    staged: &[(u64, i64, f64)],
    cells: &[Arc<SeriesCell>],
    hists: &[StagedHist],
    b: &Bounds,
    out: &mut CommitOutcome,
) -> Checked {
    let n = staged.len();
    let mut c = Checker {
        head,
        hists,
        b,
        out,
        last: RefMap::with_capacity_and_hasher(n + hists.len(), Default::default()),
        checked: Checked {
            floats: Vec::with_capacity(n),
            staged_idx: Vec::with_capacity(n),
            ooo_flags: Vec::with_capacity(n),
            ..Checked::default()
        },
        staged_at: HashMap::new(),
    };
    let mut next_hist = 0usize;
    for (i, &(r, t, v)) in staged.iter().enumerate() {
        while hists.get(next_hist).is_some_and(|h| h.before == i) {
            c.histogram(next_hist);
            next_hist += 1;
        }
        c.float(i, cells.get(i), r, t, v);
    }
    for k in next_hist..hists.len() {
        c.histogram(k);
    }
    c.checked
}

impl Checker<'_> {
    /// The series' newest sample: from this commit, or from memory (logging the series
    /// record when it was never logged). `None` for an unknown series. `cell` is the
    /// series when the caller has it (floats), else it is looked up.
    #[inline]
    fn state(&mut self, r: u64, cell: Option<&Arc<SeriesCell>>) -> Option<Last> {
        if let Some(s) = self.last.get(&r) {
            return Some(*s);
        }
        let new_series = &mut self.checked.new_series;
        match cell {
            Some(c) => last_of(r, &mut c.m.lock(), new_series),
            None => self
                .head
                .with_series(r, |s| last_of(r, s, new_series))
                .flatten(),
        }
    }

    fn series_name(&self, r: u64) -> String {
        self.head
            .series_labels(r)
            .map(|l| l.to_string())
            .unwrap_or_default()
    }

    fn in_window(&self, t: i64) -> bool {
        self.b.window > 0 && t >= self.b.hard_min && self.b.ooo_min.is_some_and(|m| t >= m)
    }

    #[inline]
    fn float(&mut self, i: usize, cell: Option<&Arc<SeriesCell>>, r: u64, t: i64, v: f64) {
        let Some(st) = self.state(r, cell) else {
            return;
        };
        let vb = v.to_bits();
        if st.has && t == st.t {
            if st.flags & LAST_IS_HISTOGRAM != 0 {
                let series = self.series_name(r);
                self.out.rejected.push(Error::DuplicateHistogram {
                    series,
                    t,
                    detail: "a native histogram is stored there, the new sample is a float".into(),
                });
            } else if vb == st.v {
                self.out.duplicates_ignored += 1;
            } else {
                let series = self.series_name(r);
                self.out.rejected.push(Error::DuplicateSample {
                    series,
                    t,
                    stored: f64::from_bits(st.v),
                    new: v,
                });
            }
            return;
        }
        let in_window = self.in_window(t);
        if st.has && t < st.t {
            // Out-of-order floats are not mixed into a series holding histograms.
            if in_window && st.flags & HAS_HISTOGRAMS == 0 {
                self.float_out_of_order(i, r, t, v);
            } else {
                let series = self.series_name(r);
                self.out.rejected.push(Error::OutOfOrder {
                    series,
                    t,
                    latest: st.t,
                });
            }
            return;
        }
        if t < self.b.soft_min && !in_window {
            let series = self.series_name(r);
            self.out.rejected.push(Error::OutOfBounds {
                series,
                t,
                min_valid: self.b.soft_min,
            });
            return;
        }
        self.checked.floats.push(RefSample {
            series_ref: r,
            t,
            v,
        });
        self.checked.staged_idx.push(i);
        self.checked.ooo_flags.push(false);
        self.last.insert(
            r,
            Last {
                t,
                v: vb,
                has: true,
                flags: st.flags & HAS_HISTOGRAMS,
            },
        );
        if self.b.window > 0 {
            self.staged_at.insert((r, t), vb);
        }
    }

    /// A float older than the series' newest, within the window: compare with what is
    /// stored at `t`, in order or out of order, or accepted earlier in this commit.
    fn float_out_of_order(&mut self, i: usize, r: u64, t: i64, v: f64) {
        let vb = v.to_bits();
        let stored = match self.staged_at.get(&(r, t)) {
            Some(&bits) => Some(Some(f64::from_bits(bits))),
            None => self.head.with_series(r, |s| s.value_at(t)),
        };
        match stored {
            Some(Some(stored)) if stored.to_bits() == vb => self.out.duplicates_ignored += 1,
            Some(Some(stored)) => {
                let series = self.series_name(r);
                self.out.rejected.push(Error::DuplicateSample {
                    series,
                    t,
                    stored,
                    new: v,
                });
            }
            _ => {
                self.checked.floats.push(RefSample {
                    series_ref: r,
                    t,
                    v,
                });
                self.checked.staged_idx.push(i);
                self.checked.ooo_flags.push(true);
                self.staged_at.insert((r, t), vb);
            }
        }
    }

    fn histogram(&mut self, k: usize) {
        let Some(sh) = self.hists.get(k) else { return };
        let (r, t) = (sh.r, sh.t);
        let Some(st) = self.state(r, None) else {
            return;
        };
        if st.has && t == st.t {
            let equal = if st.flags & LAST_IS_HISTOGRAM == 0 {
                false
            } else if st.flags & LAST_STAGED != 0 {
                self.hists
                    .get(st.v as usize)
                    .is_some_and(|p| p.h.equals(&sh.h))
            } else {
                self.head
                    .with_series(r, |s| {
                        s.hist
                            .as_ref()
                            .and_then(|h| h.last.as_ref())
                            .is_some_and(|l| l.equals(sh.h.as_ref()))
                    })
                    .unwrap_or(false)
            };
            if equal {
                self.out.histogram_duplicates_ignored += 1;
            } else {
                let series = self.series_name(r);
                let detail = if st.flags & LAST_IS_HISTOGRAM == 0 {
                    "a float is stored there, the new sample is a native histogram"
                } else {
                    "a different native histogram is stored there"
                };
                self.out.rejected.push(Error::DuplicateHistogram {
                    series,
                    t,
                    detail: detail.into(),
                });
            }
            return;
        }
        if st.has && t < st.t {
            let series = self.series_name(r);
            self.out.rejected.push(Error::OutOfOrder {
                series,
                t,
                latest: st.t,
            });
            return;
        }
        if t < self.b.soft_min && !self.in_window(t) {
            let series = self.series_name(r);
            self.out.rejected.push(Error::OutOfBounds {
                series,
                t,
                min_valid: self.b.soft_min,
            });
            return;
        }
        self.checked.hists.push((k, self.checked.floats.len()));
        self.last.insert(
            r,
            Last {
                t,
                v: k as u64,
                has: true,
                flags: LAST_IS_HISTOGRAM | HAS_HISTOGRAMS | LAST_STAGED,
            },
        );
    }
}

/// The newest in-order sample of `s`, logging its series record first when it was
/// never logged; `None` once truncation dropped the series.
fn last_of(r: u64, s: &mut MemSeries, new_series: &mut Vec<RefSeries>) -> Option<Last> {
    if s.removed {
        return None;
    }
    if !s.logged {
        new_series.push(RefSeries {
            series_ref: r,
            labels: s.labels.clone(),
        });
        s.logged = true;
    }
    Some(Last {
        t: s.last_t,
        v: s.last_v,
        has: s.has_samples(),
        flags: s.hist_flags(),
    })
}
