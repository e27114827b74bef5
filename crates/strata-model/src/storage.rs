//! The storage trait every query path reads through: the local TSDB (head and blocks),
//! the store gateway over a bucket and the fan-out over remote stores all implement it,
//! and the PromQL engine knows nothing else.

use std::sync::{Arc, Mutex, PoisonError};

use crate::error::Result;
use crate::histogram::FloatHistogram;
use crate::labels::Labels;
use crate::matcher::Matcher;

/// Hints a querier may use to read less; it must still return correct results. The
/// default selects everything: `start = i64::MIN`, `end = i64::MAX`.
#[derive(Debug, Clone)]
pub struct SelectHints {
    /// Inclusive start, in milliseconds.
    pub start: i64,
    /// Inclusive end, in milliseconds.
    pub end: i64,
    /// Return series sorted by labels (Prometheus `labels.Compare` order).
    pub sorted: bool,
    /// Only labels are needed (e.g. `/api/v1/series`); samples may be left empty.
    pub labels_only: bool,
}

impl Default for SelectHints {
    fn default() -> Self {
        SelectHints {
            start: i64::MIN,
            end: i64::MAX,
            sorted: false,
            labels_only: false,
        }
    }
}

/// An iterator over one series' float samples in timestamp order.
pub trait SampleIterator: Send {
    /// The next sample, `Ok(None)` at the end; an error names what could not be decoded.
    fn next_sample(&mut self) -> Result<Option<(i64, f64)>>;

    /// Appends every remaining sample to `out`.
    fn drain_into(&mut self, out: &mut Vec<(i64, f64)>) -> Result<()> {
        while let Some(s) = self.next_sample()? {
            out.push(s);
        }
        Ok(())
    }

    /// Advances to the first sample at or after `t`.
    fn seek(&mut self, t: i64) -> Result<Option<(i64, f64)>> {
        while let Some((ts, v)) = self.next_sample()? {
            if ts >= t {
                return Ok(Some((ts, v)));
            }
        }
        Ok(None)
    }

    /// Appends the series' native histogram samples within the selected range, in
    /// timestamp order, to `out`. The float samples above never include them, and
    /// reading either kind does not consume the other. Iterators over storage without
    /// native histograms (the default) have none.
    fn drain_histograms_into(&mut self, out: &mut Vec<(i64, FloatHistogram)>) -> Result<()> {
        let _ = out;
        Ok(())
    }
}

/// A sample iterator over an in-memory list.
pub struct VecSamples {
    samples: Vec<(i64, f64)>,
    pos: usize,
}

impl VecSamples {
    pub fn new(samples: Vec<(i64, f64)>) -> Self {
        VecSamples { samples, pos: 0 }
    }
}

impl SampleIterator for VecSamples {
    fn next_sample(&mut self) -> Result<Option<(i64, f64)>> {
        let s = self.samples.get(self.pos).copied();
        self.pos += usize::from(s.is_some());
        Ok(s)
    }
}

/// One selected series: its labels and its samples within the selected range.
pub struct Series {
    pub labels: Labels,
    pub samples: Box<dyn SampleIterator>,
}

impl Series {
    /// Reads every sample (convenience for tools and tests).
    pub fn collect_samples(mut self) -> Result<(Labels, Vec<(i64, f64)>)> {
        let mut v = Vec::new();
        self.samples.drain_into(&mut v)?;
        Ok((self.labels, v))
    }
}

/// A stream of selected series.
pub type SeriesSet = Box<dyn Iterator<Item = Result<Series>> + Send>;

/// Read access to series within one time range.
pub trait Querier: Send + Sync {
    /// Series matching every matcher, with samples in `[hints.start, hints.end]`.
    fn select(&self, matchers: &[Matcher], hints: &SelectHints) -> Result<SeriesSet>;

    /// Sorted, unique label names of the series matching `matchers` (all when empty).
    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>>;

    /// Sorted, unique values of `name` among the series matching `matchers`.
    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>>;
}

/// Anything that can open a querier over a time range.
pub trait Queryable: Send + Sync {
    /// A querier over `[mint, maxt]` (milliseconds, inclusive).
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>>;

    /// A querier for one request: storage with per-request options (the distributed
    /// querier: tenant, deduplication, partial response) reads them from `ctx` and adds
    /// its warnings to `ctx.warnings`. Local storage ignores `ctx` (the default).
    fn querier_with(&self, mint: i64, maxt: i64, ctx: &ReadContext) -> Result<Box<dyn Querier>> {
        let _ = ctx;
        self.querier(mint, maxt)
    }
}

/// One request's read options and the collector of its warnings. `None` fields mean
/// "the storage's default". Cheap to clone; clones share the warnings.
#[derive(Debug, Clone, Default)]
pub struct ReadContext {
    /// The request's tenant, when it named one.
    pub tenant: Option<String>,
    /// Deduplicate replicas (Thanos' `dedup` parameter).
    pub dedup: Option<bool>,
    /// Answer with the stores that responded, warning about the others (Thanos'
    /// `partial_response` parameter).
    pub partial_response: Option<bool>,
    /// Replica labels to deduplicate along (Thanos' `replicaLabels[]` parameter).
    pub replica_labels: Option<Vec<String>>,
    /// Warnings produced while reading, reported with the response.
    pub warnings: Warnings,
}

/// A shared, ordered collection of warning messages; duplicates are kept once.
#[derive(Debug, Clone, Default)]
pub struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
    /// Adds `w` unless an identical warning is already there.
    pub fn push(&self, w: impl Into<String>) {
        let w = w.into();
        let mut v = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !v.contains(&w) {
            v.push(w);
        }
    }

    /// The warnings so far, in the order they were added.
    pub fn snapshot(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A [`Queryable`] whose every querier is opened with one request's [`ReadContext`]:
/// what the HTTP API hands the engine.
pub struct WithReadContext<'a> {
    pub inner: &'a dyn Queryable,
    pub ctx: ReadContext,
}

impl Queryable for WithReadContext<'_> {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>> {
        self.inner.querier_with(mint, maxt, &self.ctx)
    }

    fn querier_with(&self, mint: i64, maxt: i64, ctx: &ReadContext) -> Result<Box<dyn Querier>> {
        self.inner.querier_with(mint, maxt, ctx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Records the context it was opened with.
    struct Recorder;
    impl Queryable for Recorder {
        fn querier(&self, _: i64, _: i64) -> Result<Box<dyn Querier>> {
            Err(crate::Error::Cancelled)
        }
        fn querier_with(&self, _: i64, _: i64, ctx: &ReadContext) -> Result<Box<dyn Querier>> {
            ctx.warnings.push(format!("tenant {:?}", ctx.tenant));
            ctx.warnings.push(format!("tenant {:?}", ctx.tenant));
            Err(crate::Error::Cancelled)
        }
    }

    #[test]
    fn with_read_context_passes_the_context_and_collects_warnings() {
        let ctx = ReadContext {
            tenant: Some("a".into()),
            ..ReadContext::default()
        };
        let w = ctx.warnings.clone();
        let q = WithReadContext {
            inner: &Recorder,
            ctx,
        };
        assert!(q.querier(0, 1).is_err());
        assert_eq!(w.snapshot(), vec![r#"tenant Some("a")"#.to_string()]);
    }

    #[test]
    fn default_querier_with_ignores_the_context() {
        struct Local;
        impl Queryable for Local {
            fn querier(&self, _: i64, _: i64) -> Result<Box<dyn Querier>> {
                Err(crate::Error::Cancelled)
            }
        }
        let ctx = ReadContext::default();
        assert!(Local.querier_with(0, 1, &ctx).is_err());
        assert!(ctx.warnings.snapshot().is_empty());
    }
}
