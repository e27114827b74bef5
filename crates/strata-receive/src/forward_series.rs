//! An owned, validated series of a write request, as it is placed on the hashring,
//! forwarded to peers and written locally.

use strata_model::Labels;
use strata_model::histogram::{FloatHistogram, Histogram};

/// A native histogram sample with integer or float counts.
#[derive(Debug, Clone, PartialEq)]
pub enum HistogramSample {
    Int(i64, Histogram),
    Float(i64, FloatHistogram),
}

impl HistogramSample {
    pub fn timestamp(&self) -> i64 {
        match self {
            HistogramSample::Int(t, _) | HistogramSample::Float(t, _) => *t,
        }
    }
}

/// An exemplar attached to a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    pub labels: Labels,
    pub value: f64,
    pub timestamp: i64,
}

/// One series with its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardSeries {
    pub labels: Labels,
    pub samples: Vec<(i64, f64)>,
    pub histograms: Vec<HistogramSample>,
    pub exemplars: Vec<Exemplar>,
}

impl ForwardSeries {
    /// Validates a decoded wire series (labels, histograms) into an owned one.
    pub fn from_wire(ts: &strata_remote::TimeSeriesRef<'_>) -> crate::error::Result<Self> {
        let mut pairs = ts.labels.clone();
        let labels = crate::local_write::series_labels(&mut pairs)?;
        let mut histograms = Vec::with_capacity(ts.histograms.len());
        for h in &ts.histograms {
            h.value.validate().map_err(|e| {
                crate::error::Error::InvalidRequest(format!(
                    "series {labels}: invalid histogram at {}: {e}",
                    h.timestamp
                ))
            })?;
            histograms.push(match &h.value {
                strata_remote::HistogramValue::Int(x) => {
                    HistogramSample::Int(h.timestamp, x.clone())
                }
                strata_remote::HistogramValue::Float(x) => {
                    HistogramSample::Float(h.timestamp, x.clone())
                }
            });
        }
        Ok(ForwardSeries {
            labels,
            samples: ts.samples.clone(),
            histograms,
            exemplars: Vec::new(),
        })
    }

    pub fn new(labels: Labels, samples: Vec<(i64, f64)>) -> Self {
        ForwardSeries {
            labels,
            samples,
            histograms: Vec::new(),
            exemplars: Vec::new(),
        }
    }
}
