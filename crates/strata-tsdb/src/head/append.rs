//! Staging and committing samples: validation with Prometheus' rules, WAL first, then
//! memory.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use strata_model::Labels;

use super::Head;
use crate::error::{Error, Result};
use crate::wal::record::{RefSample, RefSeries, encode_samples, encode_series};

/// Hasher for u64 keys that are already well distributed (series refs).
#[derive(Default)]
struct RefHasher(u64);
impl Hasher for RefHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}
type RefMap<V> = HashMap<u64, V, BuildHasherDefault<RefHasher>>;

/// What a commit did.
#[derive(Debug, Default)]
pub struct CommitOutcome {
    /// Samples written (WAL and memory).
    pub appended: usize,
    /// Samples identical to a stored one (same timestamp, same value bits): ignored, as
    /// Prometheus ignores them.
    pub duplicates_ignored: usize,
    /// Samples rejected, each with an error naming the series and timestamps.
    pub rejected: Vec<Error>,
    /// Series created by this commit.
    pub series_created: usize,
}

/// Stages samples for one atomic commit.
pub struct Appender<'a> {
    head: &'a Head,
    staged: Vec<(u64, i64, f64)>,
    created: usize,
}

impl<'a> Appender<'a> {
    pub(crate) fn new(head: &'a Head) -> Self {
        Appender {
            head,
            staged: Vec::new(),
            created: 0,
        }
    }

    /// Stages a sample for the series with these labels, creating the series if needed.
    /// Returns the series ref, which later appends may use with [`Appender::append_ref`].
    pub fn append(&mut self, labels: &Labels, t: i64, v: f64) -> Result<u64> {
        if labels.is_empty() {
            return Err(Error::InvalidLabels(strata_model::Error::InvalidLabels {
                labels: "{}".into(),
                reason: "empty label set".into(),
            }));
        }
        let (r, created) = self.head.get_or_create(labels, None);
        self.created += usize::from(created);
        self.staged.push((r, t, v));
        Ok(r)
    }

    /// Stages a sample for an existing series ref.
    pub fn append_ref(&mut self, r: u64, t: i64, v: f64) -> Result<()> {
        if self.head.with_series(r, |_| ()).is_none() {
            return Err(Error::Decode(format!("unknown series ref {r}")));
        }
        self.staged.push((r, t, v));
        Ok(())
    }

    /// Number of staged samples.
    pub fn len(&self) -> usize {
        self.staged.len()
    }

    pub fn is_empty(&self) -> bool {
        self.staged.is_empty()
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
        if self.staged.is_empty() {
            return Ok(out);
        }
        let mut cs = head.commit.lock();
        let opts = head.options();
        let hard_min = head.min_valid_time();
        let head_max = head.max_time();
        let soft_min = match head_max {
            Some(m) => hard_min.max(m.saturating_sub(opts.chunk_range / 2)),
            None => hard_min,
        };
        let ooo_min = head_max.map(|m| m.saturating_sub(opts.out_of_order_window));

        // Newest (t, value bits) per series as this commit goes along.
        let mut last: RefMap<(i64, u64, bool)> =
            RefMap::with_capacity_and_hasher(self.staged.len(), Default::default());
        let mut accepted: Vec<RefSample> = Vec::with_capacity(self.staged.len());
        let mut ooo_flags: Vec<bool> = Vec::with_capacity(self.staged.len());
        let mut new_series: Vec<RefSeries> = Vec::new();
        // Value bits of the samples accepted so far in this commit, by (ref, t), for the
        // duplicate check of out-of-order samples (memory is only updated at the end).
        let mut staged_at: HashMap<(u64, i64), u64> = HashMap::new();
        for &(r, t, v) in &self.staged {
            let state = match last.get(&r) {
                Some(s) => Some(*s),
                None => head.with_series(r, |s| {
                    if !s.logged {
                        new_series.push(RefSeries {
                            series_ref: r,
                            labels: s.labels.clone(),
                        });
                        s.logged = true;
                    }
                    (s.last_t, s.last_v, s.has_samples())
                }),
            };
            let Some((lt, lv, has)) = state else { continue };
            let vb = v.to_bits();
            let series_name = || {
                head.series_labels(r)
                    .map(|l| l.to_string())
                    .unwrap_or_default()
            };
            if has && t == lt {
                if vb == lv {
                    out.duplicates_ignored += 1;
                } else {
                    out.rejected.push(Error::DuplicateSample {
                        series: series_name(),
                        t,
                        stored: f64::from_bits(lv),
                        new: v,
                    });
                }
                continue;
            }
            let in_window =
                opts.out_of_order_window > 0 && t >= hard_min && ooo_min.is_some_and(|m| t >= m);
            if has && t < lt {
                if in_window {
                    // Compare with what is stored at `t`, in order or out of order, or
                    // accepted earlier in this commit.
                    let stored = match staged_at.get(&(r, t)) {
                        Some(&bits) => Some(Some(f64::from_bits(bits))),
                        None => head.with_series(r, |s| s.value_at(t)),
                    };
                    match stored {
                        Some(Some(stored)) if stored.to_bits() == vb => out.duplicates_ignored += 1,
                        Some(Some(stored)) => out.rejected.push(Error::DuplicateSample {
                            series: series_name(),
                            t,
                            stored,
                            new: v,
                        }),
                        _ => {
                            accepted.push(RefSample {
                                series_ref: r,
                                t,
                                v,
                            });
                            ooo_flags.push(true);
                            staged_at.insert((r, t), vb);
                        }
                    }
                } else {
                    out.rejected.push(Error::OutOfOrder {
                        series: series_name(),
                        t,
                        latest: lt,
                    });
                }
                continue;
            }
            if t < soft_min && !in_window {
                out.rejected.push(Error::OutOfBounds {
                    series: series_name(),
                    t,
                    min_valid: soft_min,
                });
                continue;
            }
            accepted.push(RefSample {
                series_ref: r,
                t,
                v,
            });
            ooo_flags.push(false);
            last.insert(r, (t, vb, true));
            if opts.out_of_order_window > 0 {
                staged_at.insert((r, t), vb);
            }
        }

        // Write-ahead: series records for series never logged, then the samples.
        let mut buf = std::mem::take(&mut cs.buf);
        buf.clear();
        let mut records: Vec<std::ops::Range<usize>> = Vec::with_capacity(2);
        if !new_series.is_empty() {
            encode_series(&new_series, &mut buf);
            records.push(0..buf.len());
        }
        if !accepted.is_empty() {
            let start = buf.len();
            encode_samples(&accepted, &mut buf);
            records.push(start..buf.len());
        }
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
            for s in &new_series {
                head.with_series(s.series_ref, |m| m.logged = false);
            }
            return Err(e);
        }

        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        for (s, &ooo) in accepted.iter().zip(&ooo_flags) {
            head.with_series(s.series_ref, |m| {
                if ooo {
                    let _ = m.insert_ooo(s.t, s.v);
                } else {
                    m.append(s.t, s.v, opts.samples_per_chunk, opts.chunk_range);
                }
            });
            lo = lo.min(s.t);
            hi = hi.max(s.t);
        }
        if lo <= hi {
            head.observe_time(lo);
            head.observe_time(hi);
        }
        out.appended = accepted.len();
        Ok(out)
    }
}

impl Head {
    /// A new appender.
    pub fn appender(&self) -> Appender<'_> {
        Appender::new(self)
    }
}
