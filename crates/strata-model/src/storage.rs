//! The storage trait every query path reads through: the local TSDB (head and blocks),
//! the store gateway over a bucket and the fan-out over remote stores all implement it,
//! and the PromQL engine knows nothing else.

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
}
